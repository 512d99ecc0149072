# Ingestion: every body format, validation with line and offset, atomic
# requests, methods and limits.
use Test::Nginx::Socket 'no_plan';

no_long_string();

# With TEST_NGINX_USE_HUP=1 nginx is reloaded between blocks, and a zone
# whose name, size and parameters stay the same keeps its data: a block
# looks at a tool of its own, or, when it counts the whole zone, names a
# zone of its own in --- http_config, which the reload creates empty (the
# default locations use the block's zone).
add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", "rtdash_zone rt:8m retention=1h events=20;")
        unless defined $block->http_config;

    my ($zone) = $block->http_config =~ /rtdash_zone (\w+):/;

    $block->set_value("config", <<"CONF") unless defined $block->config;
    location = /ingest { rtdash_ingest $zone; }
    location = /stats { rtdash_stats $zone; }
CONF
});

run_tests();

__DATA__

=== TEST 1: a JSON array, NDJSON, a form body and a query string all count
--- request eval
["POST /ingest\n[{\"tool\":\"formats\",\"type\":\"borrow\"},{\"tool\":\"formats\",\"type\":\"borrow\",\"flag\":true}]",
 "POST /ingest\n{\"tool\":\"formats\",\"type\":\"return\"}\n{\"tool\":\"formats\",\"type\":\"borrow\"}\n",
 "POST /ingest\ntool=formats&type=borrow&user=alice&flag=1",
 "POST /ingest?tool=formats&type=failure&value=2.5",
 "GET /stats?tool=formats"]
--- more_headers eval
["Content-Type: application/json",
 "Content-Type: application/x-ndjson",
 "Content-Type: application/x-www-form-urlencoded",
 "",
 ""]
--- error_code eval
[202, 202, 202, 202, 200]
--- response_body_like eval
['^\{"accepted":2\}$',
 '^\{"accepted":2\}$',
 '^\{"accepted":1\}$',
 '^\{"accepted":1\}$',
 '"totals":\{"borrow":4,"return":1,"failure":1\},"flagged":\{"borrow":2\}']
--- no_error_log
[error]



=== TEST 2: a JSON body sent with curl's form content type is JSON
--- request eval
["POST /ingest\n{\"tool\":\"curl\",\"type\":\"a\"}", "GET /stats?tool=curl"]
--- more_headers eval
["Content-Type: application/x-www-form-urlencoded", ""]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":1\}$', '"totals":\{"a":1\}']



=== TEST 3: one bad event rejects the whole batch, with its line and offset
--- http_config
    rtdash_zone batch:8m retention=1h events=20;
--- request eval
["POST /ingest\n{\"tool\":\"T\",\"type\":\"ok\"}\n{\"tool\":\"T\",\"type\":\"Bad Type\"}\n",
 "GET /stats"]
--- error_code eval
[400, 200]
--- response_body_like eval
['^\{"error":"\\\\"type\\\\" must be a token \[a-z0-9_.-\]\{1,32\}","line":2,"offset":44\}$',
 '"seq":0,"accepted":0,"rejected":1,.*"tools":\[\]\}$']
--- no_error_log
[alert]



=== TEST 4: malformed JSON
--- request eval
["POST /ingest\n[{\"tool\":\"T\",\"type\":\"a\"},]",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\"",
 "POST /ingest\n{\"tool\":\"T\\ud800\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"value\":01}",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"value\":1e999}",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"x\":" . ("[" x 40) . ("]" x 40) . "}",
 "POST /ingest\n{\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"T\"}"]
--- error_code eval
[400, 400, 400, 400, 400, 400, 400, 400]
--- response_body_like eval
['^\{"error":"expected an event object","line":1,"offset":25\}$',
 '^\{"error":"unexpected end of body","line":1,"offset":22\}$',
 '^\{"error":"[^"]*surrogate[^"]*","line":1,"offset":\d+\}$',
 '^\{"error":"[^"]+","line":1,"offset":\d+\}$',
 '^\{"error":"number out of range","line":1,"offset":\d+\}$',
 '^\{"error":"nesting too deep","line":1,"offset":\d+\}$',
 '^\{"error":"\\\\"tool\\\\" is required","line":1,"offset":0\}$',
 '^\{"error":"event needs \\\\"type\\\\", \\\\"gauges\\\\" or \\\\"sums\\\\"","line":1,"offset":0\}$']
--- no_error_log
[alert]



=== TEST 5: escapes and surrogate pairs decode; output is escaped
--- request eval
["POST /ingest\n{\"tool\":\"caf\\u00e9 \\ud83d\\ude00 <b>\",\"type\":\"a\",\"user\":\"q\\\"uote\"}",
 "GET /stats"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":1\}$',
 qr/"name":"caf\x{c3}\x{a9} \x{f0}\x{9f}\x{98}\x{80} \\u003cb\\u003e"/]



=== TEST 6: only POST
--- request
GET /ingest
--- error_code: 405
--- response_headers
Allow: POST
Content-Type: application/json
--- response_body
{"error":"method not allowed, use POST"}



=== TEST 7: an empty body
--- request
POST /ingest
--- more_headers
Content-Length: 0
--- error_code: 400
--- response_body
{"error":"empty body","line":1,"offset":0}



=== TEST 8: max_events bounds one request (413)
--- config
    location = /ingest { rtdash_ingest rt max_events=2; }
--- request
POST /ingest
[{"tool":"T","type":"a"},{"tool":"T","type":"a"},{"tool":"T","type":"a"}]
--- error_code: 413
--- response_body_like: ^\{"error":"too many events in one request","line":\d+,"offset":\d+\}$



=== TEST 9: a large batch buffered to a temp file counts in full
--- config
    client_body_buffer_size 1k;
    client_body_in_file_only clean;
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request eval
my $b = CORE::join "\n", map { qq({"tool":"big","type":"job_done","value":$_}) } 1 .. 2000;
["POST /ingest\n$b", "GET /stats?tool=big"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":2000\}$',
 '"totals":\{"job_done":2000\},.*"value":\{"count":2000,"min":1,"max":2000,"avg":1000.5,']
--- no_error_log
[error]



=== TEST 10: ts outside the retention window is refused
--- request eval
["POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"ts\":1000}",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"ts\":" . (time() + 3600) . "}"]
--- error_code eval
[400, 400]
--- response_body_like eval
['^\{"error":"\\\\"ts\\\\" outside the retention window","line":1,"offset":28\}$',
 '^\{"error":"\\\\"ts\\\\" too far in the future","line":1,"offset":28\}$']



=== TEST 11: a rejected body is logged at "info" with its position
--- request
POST /ingest
{"tool":"T","type":"Bad"}
--- error_code: 400
--- error_log
rtdash: rejected body: "type" must be a token [a-z0-9_.-]{1,32} at line 1 offset 19
--- no_error_log
[error]



=== TEST 12: a body past client_max_body_size
--- config
    location = /ingest { client_max_body_size 100; rtdash_ingest rt; }
--- request eval
"POST /ingest\n" . ('{"tool":"T","type":"a"}' x 10)
--- error_code: 413
--- response_body
{"error":"request body larger than client_max_body_size"}
--- error_log
rtdash: client intended to send too large body: 230 bytes
--- no_error_log
[alert]



=== TEST 13: a chunked body past client_max_body_size
--- config
    location = /ingest { client_max_body_size 100; rtdash_ingest rt; }
--- more_headers
Transfer-Encoding: chunked
--- request eval
"POST /ingest\n" . "e6\r\n" . ('{"tool":"T","type":"a"}' x 10) . "\r\n0\r\n\r\n"
--- error_code: 413
--- response_body
{"error":"request body larger than client_max_body_size"}
--- no_error_log
[alert]



=== TEST 14: a chunked body that crosses client_max_body_size later
--- config
    location = /ingest { client_max_body_size 100; rtdash_ingest rt; }
--- more_headers
Transfer-Encoding: chunked
--- request eval
[["POST /ingest\n" . "2e\r\n" . ('{"tool":"T","type":"a"}' x 2) . "\r\n",
  {value => "73\r\n" . ('{"tool":"T","type":"a"}' x 5) . "\r\n0\r\n\r\n",
   delay_before => 0.3}]]
--- error_code: 413
--- response_headers
Content-Type: application/json
--- response_body
{"error":"request body larger than client_max_body_size"}
--- error_log
rtdash: client intended to send too large a body
--- no_error_log
[alert]



=== TEST 15: "Prefer: return=minimal" gets a 204 without a body
--- request eval
["POST /ingest\n{\"tool\":\"minimal\",\"type\":\"a\"}", "GET /stats?tool=minimal"]
--- more_headers eval
["Prefer: return=minimal", ""]
--- error_code eval
[204, 200]
--- response_headers eval
["Preference-Applied: return=minimal", ""]
--- response_body_like eval
['^$', '"totals":\{"a":1\}']
--- no_error_log
[error]



=== TEST 16: the limit_req recipe: the excess of a burst gets 429 with JSON
--- http_config
    rtdash_zone burst:8m retention=1h events=20;
    limit_req_zone $binary_remote_addr zone=rtdash_ingest:1m rate=1r/m;
--- config
    location = /ingest {
        limit_req zone=rtdash_ingest burst=2 nodelay;
        limit_req_status 429;
        limit_req_log_level warn;
        error_page 429 = @rtdash_429;
        rtdash_ingest burst;
    }
    location @rtdash_429 {
        default_type application/json;
        add_header Retry-After 60 always;
        return 429 '{"error":"too many requests, slow down"}\n';
    }
    location = /stats { rtdash_stats burst; }
--- request eval
[("POST /ingest\n{\"tool\":\"T\",\"type\":\"a\"}") x 5, "GET /stats"]
--- error_code eval
[202, 202, 202, 429, 429, 200]
--- response_headers eval
[("!Retry-After") x 3,
 ("Content-Type: application/json\nRetry-After: 60") x 2,
 ""]
--- response_body_like eval
[('^\{"accepted":1\}\n$') x 3,
 ('^\{"error":"too many requests, slow down"\}\n$') x 2,
 '"seq":3,"accepted":3,"rejected":0,"refused":0,']
--- no_error_log
[error]
