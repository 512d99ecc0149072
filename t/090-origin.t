# Cross-site writes: a browser's request that another site's page made
# (a form post, fetch with mode no-cors) is refused with 403 and records
# nothing; requests without Origin or Sec-Fetch-Site (programs) and from
# the same origin work; rtdash_allow_origin lists other origins, and only
# those get CORS headers, on GET only.
use Test::Nginx::Socket 'no_plan';

no_long_string();

# With TEST_NGINX_USE_HUP=1 nginx is reloaded between blocks, and a zone
# whose name, size and parameters stay the same keeps its data: a block
# that counts what the zone recorded has a zone of its own name, which the
# reload creates empty.
add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", "rtdash_zone rt:4m retention=1h;")
        unless defined $block->http_config;
});

run_tests();

__DATA__

=== TEST 1: no Origin, no Sec-Fetch-Site (curl, an application): recorded, no CORS headers
--- http_config
    rtdash_zone program:4m retention=1h;
--- config
    location = /ingest { rtdash_ingest program; }
    location = /stats { rtdash_stats program; }
--- request eval
["POST /ingest\n{\"tool\":\"A\",\"type\":\"borrow\"}",
 "GET /stats"]
--- error_code eval
[202, 200]
--- response_headers eval
["!Access-Control-Allow-Origin", "!Access-Control-Allow-Origin"]
--- response_body_like eval
['^\{"accepted":1\}$',
 '"accepted":1,.*"tools":\[\{"name":"A"']
--- no_error_log
[error]



=== TEST 2: the same origin, by Origin or by Sec-Fetch-Site, is recorded
--- http_config
    rtdash_zone same:4m retention=1h;
--- config
    location = /ingest { rtdash_ingest same; }
    location = /stats { rtdash_stats same; }
--- request eval
["POST /ingest\n{\"tool\":\"A\",\"type\":\"borrow\"}",
 "POST /ingest\n{\"tool\":\"A\",\"type\":\"borrow\"}",
 "POST /ingest\n{\"tool\":\"A\",\"type\":\"borrow\"}",
 "GET /stats"]
--- more_headers eval
["Origin: http://localhost\nSec-Fetch-Site: same-origin",
 "Origin: https://LOCALHOST",
 "Origin: https://dash.example\nSec-Fetch-Site: same-origin",
 ""]
--- error_code eval
[202, 202, 202, 200]
--- response_body_like eval
['^\{"accepted":1\}$', '^\{"accepted":1\}$', '^\{"accepted":1\}$',
 '"accepted":3,.*"totals":\{"borrow":3\}']
--- no_error_log
[error]



=== TEST 3: a form from a foreign page: 403 with a JSON error, nothing recorded
--- http_config
    rtdash_zone foreign:4m retention=1h;
--- config
    location = /ingest { rtdash_ingest foreign; }
    location = /stats { rtdash_stats foreign; }
--- request eval
["POST /ingest\ntool=A&type=borrow",
 "POST /ingest\n{\"tool\":\"A\",\"type\":\"borrow\"}",
 "GET /stats"]
--- more_headers eval
["Content-Type: application/x-www-form-urlencoded\nOrigin: http://evil.example\nSec-Fetch-Site: cross-site",
 "Content-Type: text/plain\nOrigin: http://evil.example",
 ""]
--- error_code eval
[403, 403, 200]
--- response_headers eval
["Content-Type: application/json", "Content-Type: application/json", ""]
--- response_body_like eval
['^\{"error":"cross-origin request refused, origin not allowed: \\\\"http://evil.example\\\\""\}$',
 '^\{"error":"cross-origin request refused, origin not allowed: \\\\"http://evil.example\\\\""\}$',
 '"tools":0,.*"seq":0,"accepted":0,.*"tools":\[\]\}$']
--- no_error_log
[error]



=== TEST 4: a refusal is logged at info with the origin
--- config
    location = /ingest { rtdash_ingest rt; }
--- more_headers
Origin: http://evil.example
--- request
POST /ingest
{"tool":"A","type":"borrow"}
--- error_code: 403
--- error_log
rtdash: cross-origin request refused, origin not allowed: "http://evil.example"
--- no_error_log
[error]



=== TEST 5: Sec-Fetch-Site cross-site without Origin is refused; same-site and none are not
--- config
    location = /ingest { rtdash_ingest rt; }
--- request eval
["POST /ingest\n{\"tool\":\"A\",\"type\":\"borrow\"}",
 "POST /ingest\n{\"tool\":\"A\",\"type\":\"borrow\"}",
 "POST /ingest\n{\"tool\":\"A\",\"type\":\"borrow\"}"]
--- more_headers eval
["Sec-Fetch-Site: cross-site", "Sec-Fetch-Site: same-site",
 "Sec-Fetch-Site: none"]
--- error_code eval
[403, 202, 202]
--- response_body_like eval
['^\{"error":"cross-site request refused"\}$', '^\{"accepted":1\}$',
 '^\{"accepted":1\}$']
--- no_error_log
[error]



=== TEST 6: Origin null (a sandboxed frame, a file) is refused, with "*" too, unless "null" is listed
--- config
    location = /ingest { rtdash_ingest rt; rtdash_allow_origin *; }
    location = /ingest-null { rtdash_ingest rt; rtdash_allow_origin null; }
--- request eval
["POST /ingest\n{\"tool\":\"A\",\"type\":\"borrow\"}",
 "POST /ingest-null\n{\"tool\":\"A\",\"type\":\"borrow\"}"]
--- more_headers eval
["Origin: null", "Origin: null"]
--- error_code eval
[403, 202]
--- response_body_like eval
['^\{"error":"cross-origin request refused, origin not allowed: \\\\"null\\\\""\}$',
 '^\{"accepted":1\}$']
--- no_error_log
[error]



=== TEST 7: rtdash_allow_origin lets the listed origins write, from the server level down; "*" any
--- config
    rtdash_allow_origin https://app.example http://localhost:8080;
    location = /ingest { rtdash_ingest rt; }
    location = /any { rtdash_ingest rt; rtdash_allow_origin *; }
--- request eval
["POST /ingest\n{\"tool\":\"A\",\"type\":\"borrow\"}",
 "POST /ingest\n{\"tool\":\"A\",\"type\":\"borrow\"}",
 "POST /ingest\n{\"tool\":\"A\",\"type\":\"borrow\"}",
 "POST /any\n{\"tool\":\"A\",\"type\":\"borrow\"}"]
--- more_headers eval
["Origin: https://app.example\nSec-Fetch-Site: cross-site",
 "Origin: http://localhost:8080",
 "Origin: https://app.example.evil",
 "Origin: https://anyone.example\nSec-Fetch-Site: cross-site"]
--- error_code eval
[202, 202, 403, 202]
--- response_headers eval
["!Access-Control-Allow-Origin", "!Access-Control-Allow-Origin",
 "!Access-Control-Allow-Origin", "!Access-Control-Allow-Origin"]
--- no_error_log
[error]



=== TEST 8: GET gets CORS headers for an allowed origin only, never for its own
--- config
    rtdash_allow_origin https://app.example;
    location = /stats { rtdash_stats rt; }
    location = /metrics { rtdash_prometheus rt; }
--- request eval
["GET /stats", "GET /metrics", "GET /stats", "GET /stats"]
--- more_headers eval
["Origin: https://app.example", "Origin: https://app.example",
 "Origin: https://other.example", "Origin: http://localhost"]
--- error_code eval
[200, 200, 200, 200]
--- response_headers eval
["Access-Control-Allow-Origin: https://app.example\nVary: Origin",
 "Access-Control-Allow-Origin: https://app.example\nVary: Origin",
 "!Access-Control-Allow-Origin\n!Vary",
 "!Access-Control-Allow-Origin\n!Vary"]
--- no_error_log
[error]



=== TEST 9: a stream from an allowed origin gets CORS, the dashboard from a foreign one does not
--- config
    rtdash_allow_origin https://app.example;
    location = /stream { rtdash_stream rt; }
    location /dash/ { rtdash_dashboard rt; }
--- request eval
["GET /stream?frames=1", "GET /dash/"]
--- more_headers eval
["Origin: https://app.example", "Origin: https://other.example"]
--- error_code eval
[200, 200]
--- response_headers eval
["Access-Control-Allow-Origin: https://app.example",
 "!Access-Control-Allow-Origin"]
--- no_error_log
[error]



=== TEST 10: an origin with a path is refused by nginx -t, with the directive named
--- config
    rtdash_allow_origin https://app.example/path;
    location = /ingest { rtdash_ingest rt; }
--- must_die
