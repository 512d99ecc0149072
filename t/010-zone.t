# The zone: limits refuse whole requests with 507, tools already there
# keep counting, usage is visible in stats.
use Test::Nginx::Socket 'no_plan';

no_long_string();
run_tests();

__DATA__

=== TEST 1: a full zone refuses a batch of new tools as a whole
--- http_config
    rtdash_zone rt:64k retention=1m events=1 types=2 gauges=1;
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request eval
my $batch = CORE::join "\n", map { qq({"tool":"t$_","type":"a"}) } 1 .. 40;
["POST /ingest\n$batch",
 "GET /stats",
 "POST /ingest\n{\"tool\":\"one\",\"type\":\"a\"}",
 "GET /stats"]
--- error_code eval
[507, 200, 202, 200]
--- response_body_like eval
['^\{"error":"zone is full, no room for tool \\\\"t\d+\\\\""\}$',
 '"tools":0,.*"seq":0,"accepted":0,"rejected":0,"refused":1,.*"tools":\[\]\}$',
 '^\{"accepted":1\}$',
 '"tools":1,.*"seq":1,"accepted":1,.*"tools":\[\{"name":"one"']
--- no_error_log
[alert]



=== TEST 2: the type table is full: the request is refused, nothing kept
--- http_config
    rtdash_zone rt:1m retention=1m events=1 types=2;
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request eval
["POST /ingest\n[{\"tool\":\"A\",\"type\":\"a\"},{\"tool\":\"B\",\"type\":\"b\"},{\"tool\":\"C\",\"type\":\"c\"}]",
 "GET /stats",
 "POST /ingest\n[{\"tool\":\"A\",\"type\":\"a\"},{\"tool\":\"A\",\"type\":\"b\"}]",
 "GET /stats"]
--- error_code eval
[507, 200, 202, 200]
--- response_body_like eval
['^\{"error":"type table is full, no room for type \\\\"c\\\\""\}$',
 '"types":\[\],"tools":\[\]\}$',
 '^\{"accepted":2\}$',
 '"types":\["a","b"\],"tools":\[\{"name":"A",.*"totals":\{"a":1,"b":1\}']
--- no_error_log
[alert]



=== TEST 3: a tool's gauge table is full: refused, earlier gauges kept
--- http_config
    rtdash_zone rt:1m retention=1m gauges=2;
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request eval
["POST /ingest\n{\"tool\":\"A\",\"gauges\":{\"in_use\":1,\"total\":5}}",
 "POST /ingest\n{\"tool\":\"A\",\"gauges\":{\"in_use\":2}}\n{\"tool\":\"A\",\"gauges\":{\"commit\":3}}",
 "GET /stats?tool=A"]
--- error_code eval
[202, 507, 200]
--- response_body_like eval
['^\{"accepted":1\}$',
 '^\{"error":"gauge table of the tool is full, no room for gauge \\\\"commit\\\\""\}$',
 '"gauges":\{"in_use":1,"total":5\}']
--- no_error_log
[alert]



=== TEST 4: a refused request is logged at "error"
--- http_config
    rtdash_zone rt:1m retention=1m types=1;
--- config
    location = /ingest { rtdash_ingest rt; }
--- request
POST /ingest
[{"tool":"A","type":"a"},{"tool":"A","type":"b"}]
--- error_code: 507
--- error_log
rtdash zone "rt": type table is full, no room for type "b", request refused



=== TEST 5: zone usage and sizing are in stats
--- http_config
    rtdash_zone rt:8m retention=1h events=50 types=4 gauges=4;
--- config
    location = /stats { rtdash_stats rt; }
--- request
GET /stats
--- response_body_like: "zone":\{"name":"rt","size":8388608,"used":\d+,"free":\d+,"tools":0,"max_tools":\d+,"bytes_per_tool":\d+,"bytes_busy_tool":\d+,"retention":3600,"events":50,"max_types":4,"max_gauges":4,
--- no_error_log
[error]
