# The module loads, a zone is created, an event goes in and comes out.
#
# With TEST_NGINX_USE_HUP=1 nginx is reloaded between blocks, and a zone
# whose name, size and parameters stay the same keeps its data: the block
# that needs an empty zone has a zone of its own name, which the reload
# creates empty.
use Test::Nginx::Socket 'no_plan';

no_long_string();
run_tests();

__DATA__

=== TEST 1: an empty zone: stats has no tools
--- http_config
    rtdash_zone empty:4m;
--- config
    location = /stats { rtdash_stats empty; }
--- request
GET /stats
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body_like: ^\{"now":[0-9.]+,"zone":\{"name":"empty","size":4194304,.*"tools":0,.*"retention":21600,"events":100,"max_types":8,"max_gauges":8,"seq":0,.*"types":\[\],"tools":\[\]\}$
--- no_error_log
[error]
[alert]



=== TEST 2: one event in, the same event out
--- http_config
    rtdash_zone rt:4m;
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request eval
["POST /ingest\n{\"tool\":\"MATLAB\",\"type\":\"borrow\",\"user\":\"alice\"}",
 "GET /stats"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":1\}$',
 '"tools":\[\{"name":"MATLAB","updated":[0-9.]+,"seq":1,"totals":\{"borrow":1\},"flagged":\{\},"rate_per_min":\{"borrow":1\},"gauges":\{\},']
--- no_error_log
[error]
[alert]
