# The embedded dashboard: types, ETag and 304, gzip, headers, 404.
use Test::Nginx::Socket 'no_plan';

no_long_string();

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", "rtdash_zone rt:4m;")
        unless defined $block->http_config;

    $block->set_value("config", <<'CONF') unless defined $block->config;
    location /dash/ { rtdash_dashboard rt stream=/s warn=20 crit=40; }
CONF
});

run_tests();

__DATA__

=== TEST 1: the page, with its security headers
--- request
GET /dash/
--- error_code: 200
--- response_headers
Content-Type: text/html; charset=utf-8
X-Content-Type-Options: nosniff
Cache-Control: no-cache
Referrer-Policy: no-referrer
--- response_headers_like
ETag: "[0-9a-f]{16}"
Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; .*frame-ancestors 'none'
--- response_body_like: <script src="app\.js"
--- no_error_log
[error]



=== TEST 2: scripts, styles and Chart.js have their types
--- request eval
["GET /dash/app.js", "GET /dash/style.css", "GET /dash/chart.umd.js",
 "GET /dash/traffic.js", "GET /dash/system.js"]
--- response_headers eval
["Content-Type: application/javascript; charset=utf-8",
 "Content-Type: text/css; charset=utf-8",
 "Content-Type: application/javascript; charset=utf-8",
 "Content-Type: application/javascript; charset=utf-8",
 "Content-Type: application/javascript; charset=utf-8"]
--- error_code eval
[200, 200, 200, 200, 200]



=== TEST 3: If-None-Match with the ETag gets a 304
--- request eval
["GET /dash/style.css", "GET /dash/style.css"]
--- more_headers eval
["If-None-Match: \"0000000000000000\"",
 do { my $css = do { local $/; open my $f, '<', 'static/style.css' or die $!; <$f> };
      require Digest::SHA;
      'If-None-Match: "' . substr(Digest::SHA::sha256_hex($css), 0, 16) . '"' }]
--- error_code eval
[200, 304]



=== TEST 4: gzip when accepted, with its own ETag
--- request
GET /dash/app.js
--- more_headers
Accept-Encoding: gzip, deflate
--- response_headers
Content-Encoding: gzip
Vary: Accept-Encoding
--- response_headers_like
ETag: "[0-9a-f]{16}-gz"
--- error_code: 200



=== TEST 5: gzip;q=0 refuses gzip
--- request
GET /dash/app.js
--- more_headers
Accept-Encoding: gzip;q=0
--- response_headers
!Content-Encoding
--- error_code: 200



=== TEST 6: config.json tells the page its stream, stats and thresholds
--- request
GET /dash/config.json
--- response_body
{"stream":"/s","stats":"stats","transport":"auto","warn":20,"crit":40,"zone":"rt","system":null,"title":"rtdash"}



=== TEST 7: unknown paths and traversal are 404 with a JSON error
--- request eval
["GET /dash/nope.js", "GET /dash/..%2fapp.js", "GET /dash/sub/app.js"]
--- error_code eval
[404, 404, 404]
--- response_body_like eval
['^\{"error":"no such dashboard file \\\\"nope.js\\\\""\}$',
 '404',
 '^\{"error":"no such dashboard file \\\\"sub/app.js\\\\""\}$']



=== TEST 9: transport= tells the page which transport to try first
--- config
    location /dash/ { rtdash_dashboard rt transport=ws; }
    location /sse/ { rtdash_dashboard rt transport=sse; }
--- request eval
["GET /dash/config.json", "GET /sse/config.json"]
--- response_body_like eval
['^\{"stream":"stream","stats":"stats","transport":"ws",',
 '^\{"stream":"stream","stats":"stats","transport":"sse",']
--- no_error_log
[error]



=== TEST 10: any other transport is refused by nginx -t
--- config
    location /bad/ { rtdash_dashboard rt transport=carrier-pigeon; }
--- must_die
