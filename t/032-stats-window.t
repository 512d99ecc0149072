# The overview's window= (what each listed tool got in the last seconds:
# counts, sums, values, per-minute counts) and traffic= (only the tools
# with HTTP status types), as the dashboard's Traffic view asks for them.
use Test::Nginx::Socket 'no_plan';

no_long_string();

# With TEST_NGINX_USE_HUP=1 the zone keeps its data between blocks: each
# block has a zone of its own.
add_block_preprocessor(sub {
    my $block = shift;

    my ($zone) = $block->http_config =~ /rtdash_zone (\w+):/;

    $block->set_value("config", <<"CONF") unless defined $block->config;
    location = /ingest { rtdash_ingest $zone; }
    location = /stats { rtdash_stats $zone; }
CONF
});

run_tests();

__DATA__

=== TEST 1: window=120: counts and sums of the last 120 s, the minutes' values merged, a count per minute
--- http_config
    rtdash_zone w1:8m retention=1h;
--- request eval
["POST /ingest\n" . '[{"tool":"web","type":"2xx","value":10,"sums":{"bytes_out":100,"bytes_in":7}},{"tool":"web","type":"2xx","value":20,"sums":{"bytes_out":100}},{"tool":"web","type":"2xx","value":30,"sums":{"bytes_out":100}},{"tool":"web","type":"4xx","value":40},{"tool":"web","type":"5xx","value":50,"sums":{"bytes_in":0.5}},{"tool":"app","type":"borrow"}]',
 "GET /stats?window=120"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":6\}$',
 '"tools":\[\{"name":"web",.*"value":\{"count":5,[^}]*\},"window":\{"from":\d+,"seconds":120,"counts":\{"2xx":3,"4xx":1,"5xx":1\},"sums":\{"bytes_out":300,"bytes_in":7\.5\},"value":\{"count":5,"min":10,"max":50,"avg":30,"p50":3\d(\.\d+)?,"p95":50,"p99":50\},"minutes":\[(5,0|0,5|5)\]\}\},\{"name":"app",.*"window":\{"from":\d+,"seconds":120,"counts":\{"borrow":1\},"sums":\{\},"value":\{"count":0,"min":null,"max":null,"avg":null,"p50":null,"p95":null,"p99":null\},"minutes":\[(1,0|0,1|1)\]\}\}\]\}$']
--- no_error_log
[error]



=== TEST 2: window=600 (past the 300 s of seconds): counts and sums of the window's minutes, the seconds they span
--- http_config
    rtdash_zone w2:8m retention=1h;
--- request eval
["POST /ingest\n" . '[{"tool":"web","type":"2xx","value":10,"sums":{"bytes_out":100}},{"tool":"web","type":"5xx","value":50,"sums":{"bytes_out":20}}]',
 "GET /stats?window=600"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":2\}$',
 '"window":\{"from":\d+,"seconds":(5[4-9]\d|60\d),"counts":\{"2xx":1,"5xx":1\},"sums":\{"bytes_out":120\},"value":\{"count":2,"min":10,"max":50,"avg":30,"p50":1\d(\.\d+)?,"p95":50,"p99":50\},"minutes":\[(0,){8,9}(2|2,0|0,2)\]\}']
--- no_error_log
[error]



=== TEST 3: traffic=1 lists the tools with a count of an HTTP status type (0xx-5xx or a code), with q=, sort= and limit=
--- http_config
    rtdash_zone w3:8m retention=1h types=16;
--- request eval
["POST /ingest\n" . '[{"tool":"a.example","type":"2xx"},{"tool":"a.example","type":"2xx"},{"tool":"b.example","type":"404"},{"tool":"b.example","type":"200"},{"tool":"b.example","type":"200"},{"tool":"b.example","type":"200"},{"tool":"c.example","type":"0xx"},{"tool":"lic","type":"borrow"},{"tool":"odd","type":"600"},{"tool":"odd","type":"2xxx"},{"tool":"odd","type":"6xx"},{"tool":"odd","type":"099"},{"tool":"odd","type":"x2x"},{"tool":"gauge","gauges":{"n":1}}]',
 "GET /stats?traffic=1&sort=rate",
 "GET /stats?traffic=1&q=B.EX",
 "GET /stats?traffic=1&limit=1&sort=name&window=60",
 "GET /stats?traffic=0&limit=0"]
--- error_code eval
[202, 200, 200, 200, 200]
--- response_body_like eval
['^\{"accepted":14\}$',
 '"matched":3,.*"tools":\[\{"name":"b\.example",.*\},\{"name":"a\.example",.*\},\{"name":"c\.example",[^\]]*\]\}$',
 '"matched":1,.*"tools":\[\{"name":"b\.example",[^\]]*\]\}$',
 '"matched":3,.*"tools":\[\{"name":"a\.example",.*"window":\{"from":\d+,"seconds":60,"counts":\{"2xx":2\},[^\]]*\]\}\}\]\}$',
 '"matched":6,.*"tools":\[\]\}$']
--- no_error_log
[error]



=== TEST 4: bad traffic= and window= get a 400 saying so
--- http_config
    rtdash_zone w4:8m retention=1h;
--- request eval
["GET /stats?traffic=2", "GET /stats?traffic=yes", "GET /stats?window=x",
 "GET /stats?window=60&format=csv", "GET /stats?window=-1"]
--- error_code eval
[400, 400, 400, 400, 400]
--- response_body eval
[qq({"error":"\\"traffic\\" takes 0 or 1"}\n),
 qq({"error":"\\"traffic\\" takes 0 or 1"}\n),
 qq({"error":"\\"window\\" takes a number of seconds"}\n),
 qq({"error":"\\"window\\" on the overview is for JSON, not CSV"}\n),
 qq({"error":"\\"window\\" takes a number of seconds"}\n)]
--- no_error_log
[error]



=== TEST 5: window= copies the minutes of at most 1000 tools: more needs limit=
--- http_config
    rtdash_zone w5:64m retention=5m events=1 types=2 gauges=1;
--- request eval
["POST /ingest\n" . join("\n", map { qq({"tool":"t$_","type":"2xx"}) } 1 .. 1001),
 "GET /stats?window=60",
 "GET /stats?window=60&limit=1000&sort=name"]
--- more_headers eval
["Content-Type: application/x-ndjson", "", ""]
--- error_code eval
[202, 400, 200]
--- response_body_like eval
['^\{"accepted":1001\}$',
 '^\{"error":"\\\\"window\\\\" on the overview lists at most 1000 tools: give \\\\"limit\\\\""\}$',
 '"matched":1001,.*\{"name":"t998",.*"window":\{"from":\d+,"seconds":60,"counts":\{"2xx":1\},"sums":\{\},[^\]]*\]\}\}\]\}$']
--- no_error_log
[error]
