# A reload (SIGHUP) keeps the zone and its data.
BEGIN { $ENV{TEST_NGINX_USE_HUP} = 1 }

use Test::Nginx::Socket 'no_plan';

no_shuffle();
no_long_string();

run_tests();

__DATA__

=== TEST 1: events go in
--- http_config
    rtdash_zone rt:8m retention=1h;
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request
POST /ingest
[{"tool":"R","type":"a","user":"x"},{"tool":"R","type":"b","gauges":{"in_use":4}}]
--- error_code: 202
--- response_body
{"accepted":2}



=== TEST 2: after the reload they are still there
--- http_config
    rtdash_zone rt:8m retention=1h;
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request
GET /stats?tool=R
--- error_code: 200
--- response_body_like: "totals":\{"a":1,"b":1\},.*"gauges":\{"in_use":4\}
--- error_log
reconfiguring
--- no_error_log
[alert]



=== TEST 3: a reload that resizes the zone carries the tools over
--- http_config
    rtdash_zone rt:12m retention=1h;
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request
GET /stats
--- error_code: 200
--- response_body_like: "size":12582912,.*"name":"R",.*"totals":\{"a":1,"b":1\},.*"gauges":\{"in_use":4\}
--- error_log
1 of 1 tools carried over to the resized zone
--- no_error_log
[alert]



=== TEST 4: a reload that changes the parameters starts the zone fresh
--- http_config
    rtdash_zone rt:12m retention=2h;
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request
POST /ingest
{"tool":"P","type":"a"}
--- error_code: 202
--- response_body
{"accepted":1}
--- error_log
changes parameters: it starts fresh
--- no_error_log
[alert]



=== TEST 5: and a reload after it that keeps the zone keeps serving it (nginx frees the old mapping by the old zone's flag)
--- http_config
    rtdash_zone rt:12m retention=2h;
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request
GET /stats
--- error_code: 200
--- response_body_like: "tools":1,.*"name":"P",
--- no_error_log
[alert]
exited on signal
