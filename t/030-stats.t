# Stats: the overview, one tool's history, raw events, CSV, escaping.
use Test::Nginx::Socket 'no_plan';

no_long_string();

# With TEST_NGINX_USE_HUP=1 nginx is reloaded between blocks, and a zone
# whose name, size and parameters stay the same keeps its data: a block
# that looks at the whole zone (the overview, the type list) names a zone
# of its own in --- http_config, which the reload creates empty (the
# default locations use the block's zone).
add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", "rtdash_zone rt:8m retention=1h events=5;")
        unless defined $block->http_config;

    my ($zone) = $block->http_config =~ /rtdash_zone (\w+):/;

    $block->set_value("config", <<"CONF") unless defined $block->config;
    location = /ingest { rtdash_ingest $zone; }
    location = /stats { rtdash_stats $zone; }
CONF
});

run_tests();

__DATA__

=== TEST 1: totals, flagged, rate, gauges and value percentiles
--- http_config
    rtdash_zone totals:8m retention=1h events=5;
--- request eval
["POST /ingest\n" . CORE::join("\n",
    (map { qq({"tool":"M","type":"borrow","value":$_,"flag":) . ($_ % 4 ? "false" : "true") . "}" } 1 .. 100),
    '{"tool":"M","gauges":{"in_use":7,"total":10,"commit":6}}'),
 "GET /stats"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":101\}$',
 '"tools":\[\{"name":"M","updated":[0-9.]+,"seq":101,"totals":\{"borrow":100\},"flagged":\{"borrow":25\},"rate_per_min":\{"borrow":100\},"gauges":\{"in_use":7,"total":10,"commit":6\},"sums":\{\},"value":\{"count":100,"min":1,"max":100,"avg":50.5,"p50":(4[4-9]|5[0-9]|6[0-3])(\.\d+)?,"p95":(8[4-9]|9\d|100)(\.\d+)?,"p99":(8[8-9]|9\d|100)(\.\d+)?\}\}\]\}$']
--- no_error_log
[error]



=== TEST 2: one tool: minutes, seconds and the newest events first (the events' minute is the current one or, when the GET comes just after a minute's end, the one before)
--- http_config
    rtdash_zone history:8m retention=1h events=5;
--- request eval
["POST /ingest\n" . CORE::join("\n", map { qq({"tool":"M","type":"borrow","user":"u$_","id":"b-$_"}) } 1 .. 7),
 "GET /stats?tool=M&window=120&events=3"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":7\}$',
 '^\{"now":[0-9.]+,"window":120,"alerts":\{"states":\[\],"transitions":\[\]\},"notices":\[\],"anomalies":\[\],"types":\["borrow"\],"tool":\{"name":"M",.*"minutes":\[(\{"t":\d+,[^\]]*\},)?\{"t":\d+,"counts":\{"borrow":7\},"flagged":\{\},"users":7,.*"seconds":\[(\{"t":\d+,"counts":\{[^}]*\},"flagged":\{[^}]*\}\},?){120}\],"events":\[\{"seq":7,"t":[0-9.]+,"type":"borrow","user":"u7","flag":false,"value":null,"id":"b-7"\},\{"seq":6,[^}]*"id":"b-6"\},\{"seq":5,[^}]*"id":"b-5"\}\]\}$']



=== TEST 3: an unknown tool is a 404 with a JSON error
--- request
GET /stats?tool=nope%20here
--- error_code: 404
--- response_body
{"error":"unknown tool \"nope here\""}



=== TEST 4: hostile names are escaped in JSON
--- request eval
["POST /ingest\n{\"tool\":\"<script>alert(1)</script>\",\"type\":\"a\",\"user\":\"\\\"&\\\\<i>\"}",
 "GET /stats?tool=%3Cscript%3Ealert(1)%3C%2Fscript%3E&events=1"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":1\}$',
 '"name":"\\\\u003cscript\\\\u003ealert\(1\)\\\\u003c/script\\\\u003e".*"user":"\\\\"\\\\u0026\\\\\\\\\\\\u003ci\\\\u003e"']



=== TEST 5: CSV of the overview and of a tool
--- http_config
    rtdash_zone csv:8m retention=1h events=5;
--- request eval
["POST /ingest\n[{\"tool\":\"=cmd\\\"x\",\"type\":\"a\",\"flag\":true},{\"tool\":\"=cmd\\\"x\",\"type\":\"b\"}]",
 "GET /stats?format=csv",
 "GET /stats?tool=%3Dcmd%22x&window=60&format=csv"]
--- error_code eval
[202, 200, 200]
--- response_body_like eval
['^\{"accepted":2\}$',
 '^tool,type,total,flagged,rate_per_min\r\n"\x27=cmd""x",a,1,1,1\r\n"\x27=cmd""x",b,1,0,1\r\n$',
 '^minute,a,a_flagged,b,b_flagged,users,value_count,value_avg,value_p50,value_p95,value_p99\r\n\d+,1,1,1,0,0,0,,,,\r\nwindow,1,1,1,0,0,0,,,,\r\n$']



=== TEST 6: bad arguments and methods
--- request eval
["GET /stats?format=xml", "GET /stats?tool=M&window=abc", "POST /stats\nx"]
--- error_code eval
[400, 400, 405]
--- response_body eval
["{\"error\":\"invalid \\\"format\\\", expected json or csv, got \\\"xml\\\"\"}\n",
 "{\"error\":\"\\\"window\\\" and \\\"events\\\" take a number of seconds and of events\"}\n",
 "{\"error\":\"method not allowed, use GET\"}\n"]



=== TEST 7: the overview filtered by q= (any case, a substring), sorted, limited, with the number that matched
--- http_config
    rtdash_zone overview:8m retention=1h events=5;
--- request eval
["POST /ingest\n" . CORE::join("\n",
    '{"tool":"web-1","type":"hit"}',
    (map { '{"tool":"Web-2","type":"hit","flag":true}' } 1 .. 3),
    (map { '{"tool":"db","type":"hit"}' } 1 .. 5),
    '{"tool":"web-3","type":"hit"}', '{"tool":"web-3","type":"hit","flag":true}'),
 "GET /stats?q=WEB",
 "GET /stats?q=web&sort=rate&limit=2",
 "GET /stats?sort=name",
 "GET /stats?sort=flagged&limit=1",
 [{value => "POST /ingest\n{\"tool\":\"db\",\"type\":\"hit\"}", delay_before => 0.05}],
 "GET /stats?sort=last&limit=1",
 "GET /stats?q=nothing",
 "GET /stats?q=web&sort=rate&limit=2&format=csv"]
--- error_code eval
[202, 200, 200, 200, 200, 202, 200, 200, 200]
--- response_body_like eval
['^\{"accepted":11\}$',
 '"matched":3,"types":\["hit"\],"tools":\[\{"name":"web-1",[^\]]*\{"name":"Web-2",[^\]]*\{"name":"web-3",[^\]]*\]\}$',
 '"matched":3,"types":\["hit"\],"tools":\[\{"name":"Web-2",[^\]]*\{"name":"web-3",[^\]]*\]\}$',
 '"matched":4,"types":\["hit"\],"tools":\[\{"name":"Web-2",.*\{"name":"db",.*\{"name":"web-1",.*\{"name":"web-3",[^\]]*\]\}$',
 '"matched":4,"types":\["hit"\],"tools":\[\{"name":"Web-2",[^\]]*\]\}$',
 '^\{"accepted":1\}$',
 '"matched":4,"types":\["hit"\],"tools":\[\{"name":"db",[^\]]*\]\}$',
 '"matched":0,"types":\["hit"\],"tools":\[\]\}$',
 '^tool,type,total,flagged,rate_per_min\r\n"Web-2",hit,3,3,3\r\n"web-3",hit,2,1,2\r\n$']
--- no_error_log
[error]



=== TEST 8: a bad sort= or limit= gets 400
--- request eval
["GET /stats?sort=size", "GET /stats?limit=x"]
--- error_code eval
[400, 400]
--- response_body eval
["{\"error\":\"\\\"sort\\\" takes rate, name, last or flagged, \\\"limit\\\" a number\"}\n",
 "{\"error\":\"\\\"sort\\\" takes rate, name, last or flagged, \\\"limit\\\" a number\"}\n"]
--- no_error_log
[error]
