# Notices: posted beside events in every body format, validated with the
# events of the same body (all or nothing), kept in the zone's ring of
# notices= items, shown by stats, by the stream (event: notice, the
# zone's seq as the id, also on a resume) and in a snapshot.
use Test::Nginx::Socket 'no_plan';

no_long_string();

# With TEST_NGINX_USE_HUP=1 nginx is reloaded between blocks and a zone
# keeps its data: every block names a zone of its own.
add_block_preprocessor(sub {
    my $block = shift;

    my ($zone) = $block->http_config =~ /rtdash_zone (\w+):/;

    $block->set_value("config", <<"CONF") unless defined $block->config;
    location = /ingest { rtdash_ingest $zone; }
    location = /stats { rtdash_stats $zone; }
    location = /stream {
        rtdash_stream $zone;
        rtdash_stream_interval 100ms;
    }
CONF
});

run_tests();

__DATA__

=== TEST 1: a notice in each body format: object, array, NDJSON, form body, query string
--- http_config
    rtdash_zone formats:8m retention=1h;
--- request eval
["POST /ingest\n{\"notice\":\"deploy 1.4.2\",\"level\":\"info\",\"tool\":\"MATLAB\"}",
 "POST /ingest\n[{\"tool\":\"MATLAB\",\"type\":\"borrow\"},{\"notice\":\"license server slow\",\"level\":\"warn\"}]",
 "POST /ingest\n{\"tool\":\"MATLAB\",\"type\":\"return\"}\n{\"notice\":\"disk full\",\"level\":\"crit\",\"tool\":\"ANSYS\"}\n",
 "POST /ingest\nnotice=form+body&level=warn&tool=MATLAB",
 "POST /ingest?notice=query%20string",
 "GET /stats"]
--- more_headers eval
["Content-Type: application/json",
 "Content-Type: application/json",
 "Content-Type: application/x-ndjson",
 "Content-Type: application/x-www-form-urlencoded",
 "",
 ""]
--- error_code eval
[202, 202, 202, 202, 202, 200]
--- response_body_like eval
['^\{"accepted":0,"notices":1\}$',
 '^\{"accepted":1,"notices":1\}$',
 '^\{"accepted":1,"notices":1\}$',
 '^\{"accepted":0,"notices":1\}$',
 '^\{"accepted":0,"notices":1\}$',
 '"notices":5,.*"notices":\[\{"seq":1,"t":[0-9.]+,"tool":"MATLAB","notice":"deploy 1.4.2","level":"info"\},\{"seq":3,"t":[0-9.]+,"tool":null,"notice":"license server slow","level":"warn"\},\{"seq":5,"t":[0-9.]+,"tool":"ANSYS","notice":"disk full","level":"crit"\},\{"seq":6,"t":[0-9.]+,"tool":"MATLAB","notice":"form body","level":"warn"\},\{"seq":7,"t":[0-9.]+,"tool":null,"notice":"query string","level":"info"\}\],"anomalies":\[\],"matched"']
--- no_error_log
[error]



=== TEST 2: a bad event in the same body: 400, and neither the notice nor the events are kept
--- http_config
    rtdash_zone atomic:8m retention=1h;
--- request eval
["POST /ingest\n[{\"notice\":\"before\"},{\"tool\":\"A\",\"type\":\"a\"},{\"tool\":\"A\"}]",
 "POST /ingest\n{\"tool\":\"A\",\"type\":\"a\"}\n{\"notice\":\"\"}\n",
 "GET /stats"]
--- error_code eval
[400, 400, 200]
--- response_body_like eval
['^\{"error":"event needs \\\\"type\\\\", \\\\"gauges\\\\" or \\\\"sums\\\\"","line":1,"offset":\d+\}$',
 '^\{"error":"\\\\"notice\\\\" must be a string of 1 to 256 bytes","line":2,"offset":\d+\}$',
 '"accepted":0,.*"notices":0,[^}]*\},"alerts":\{"states":\[\],"transitions":\[\]\},"notices":\[\],"anomalies":\[\],"matched":0,"types":\[\],"tools":\[\]\}$']



=== TEST 3: what a notice may carry, each refusal saying what is wrong
--- http_config
    rtdash_zone bad:8m retention=1h;
--- request eval
["POST /ingest\n{\"notice\":\"x\",\"level\":\"fatal\"}",
 "POST /ingest\n{\"level\":\"warn\",\"tool\":\"A\",\"type\":\"a\"}",
 "POST /ingest\n{\"notice\":\"x\",\"type\":\"a\"}",
 "POST /ingest\n{\"notice\":\"x\",\"value\":1}",
 "POST /ingest\n{\"notice\":\"x\",\"gauges\":{\"a\":1}}",
 "POST /ingest\n{\"notice\":\"two\\nlines\"}",
 "POST /ingest\n{\"notice\":7}",
 "POST /ingest\n{\"notice\":\"" . ("n" x 257) . "\"}",
 "POST /ingest?notice=x&user=al",
 "GET /stats"]
--- error_code eval
[400, 400, 400, 400, 400, 400, 400, 400, 400, 200]
--- response_body_like eval
['^\{"error":"\\\\"level\\\\" must be info, warn or crit","line":1,"offset":22\}$',
 '^\{"error":"\\\\"level\\\\" needs \\\\"notice\\\\"","line":1,"offset":0\}$',
 '^\{"error":"a notice takes only \\\\"notice\\\\", \\\\"level\\\\", \\\\"tool\\\\" and \\\\"ts\\\\"","line":1,"offset":0\}$',
 '^\{"error":"a notice takes only ',
 '^\{"error":"a notice takes only ',
 '^\{"error":"\\\\"notice\\\\" must not contain control characters","line":1,"offset":10\}$',
 '^\{"error":"\\\\"notice\\\\" must be a string of 1 to 256 bytes","line":1,"offset":10\}$',
 '^\{"error":"\\\\"notice\\\\" must be a string of 1 to 256 bytes","line":1,"offset":10\}$',
 '^\{"error":"a notice takes only ',
 '"rejected":9,.*"notices":0,']



=== TEST 4: the ring keeps the last notices= of them; the zone counts them all
--- http_config
    rtdash_zone ring:8m retention=1h notices=2;
--- request eval
["POST /ingest\n{\"notice\":\"one\"}\n{\"notice\":\"two\"}\n{\"notice\":\"three\"}",
 "GET /stats"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":0,"notices":3\}$',
 '"notices":3,.*"notices":\[\{"seq":2,[^}]*"notice":"two",[^}]*\},\{"seq":3,[^}]*"notice":"three",[^}]*\}\],"anomalies":\[\],"matched"']



=== TEST 5: notices=0 keeps none, counts them, and says so nowhere else
--- http_config
    rtdash_zone none:8m retention=1h notices=0;
--- request eval
["POST /ingest\n{\"notice\":\"gone\"}", "GET /stats"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":0,"notices":1\}$',
 '"notices":1,.*"notices":\[\],"anomalies":\[\],"matched"']



=== TEST 6: a resume sends each notice since Last-Event-ID as an event of its own, before the update
--- http_config
    rtdash_zone resume:8m retention=1h;
--- request eval
["POST /ingest\n[{\"tool\":\"A\",\"type\":\"a\"},{\"notice\":\"deploy <b>2</b>\",\"level\":\"warn\",\"tool\":\"A\"},{\"tool\":\"A\",\"type\":\"a\"}]",
 "GET /stream?frames=1"]
--- more_headers eval
["", "Last-Event-ID: 1"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":2,"notices":1\}$',
 '^id: 3\nevent: notice\ndata: \{"seq":3,"t":[0-9.]+,"tool":"A","notice":"deploy \\\\u003cb\\\\u003e2\\\\u003c/b\\\\u003e","level":"warn"\}\n\nid: 3\nevent: update\ndata: \{"seq":3,[^\n]*"events":\[\{"seq":2,"tool":"A",[^\n]*\]\}\n\n$']



=== TEST 7: a stream's tool= takes the notices of its tools and those of no tool
--- http_config
    rtdash_zone filter:8m retention=1h;
--- request eval
["POST /ingest\n{\"tool\":\"B\",\"type\":\"a\"}\n{\"notice\":\"for A\",\"tool\":\"A\"}\n{\"notice\":\"for all\"}\n{\"notice\":\"for B\",\"tool\":\"B\"}\n",
 "GET /stream?frames=1&tool=B"]
--- more_headers eval
["", "Last-Event-ID: 1"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":1,"notices":3\}$',
 '^id: 3\nevent: notice\ndata: [^\n]*"notice":"for all"[^\n]*\n\nid: 4\nevent: notice\ndata: [^\n]*"tool":"B","notice":"for B"[^\n]*\n\nid: 4\nevent: update\n']



=== TEST 8: a snapshot carries the recent notices; stats?tool= those of the tool and of none
--- http_config
    rtdash_zone snap:8m retention=1h;
--- request eval
["POST /ingest\n{\"tool\":\"A\",\"type\":\"a\"}\n{\"notice\":\"for A\",\"tool\":\"A\"}\n{\"notice\":\"for C\",\"tool\":\"C\"}\n",
 "GET /stream?frames=1&window=60",
 "GET /stats?tool=A"]
--- error_code eval
[202, 200, 200]
--- response_body_like eval
['^\{"accepted":1,"notices":2\}$',
 '^retry: 2000\nid: 3\nevent: snapshot\ndata: [^\n]*"alerts":\[\],"notices":\[\{"seq":2,[^}]*"notice":"for A",[^}]*\},\{"seq":3,[^}]*"notice":"for C",[^}]*\}\],"minutes"',
 '"window":3600,"alerts":\{"states":\[\],"transitions":\[\]\},"notices":\[\{"seq":2,[^}]*"notice":"for A",[^}]*\}\],"anomalies":\[\],"types"']



=== TEST 9: a notice's ts is its time, checked as an event's
--- http_config
    rtdash_zone ts:8m retention=1h;
--- request eval
["POST /ingest\n{\"notice\":\"old\",\"ts\":1000}",
 "POST /ingest\n{\"notice\":\"then\",\"ts\":" . (time() - 120) . "}",
 "GET /stats"]
--- error_code eval
[400, 202, 200]
--- response_body_like eval
['^\{"error":"\\\\"ts\\\\" outside the retention window"',
 '^\{"accepted":0,"notices":1\}$',
 '"notices":\[\{"seq":1,"t":' . (time() - 120) . ',"tool":null,"notice":"then","level":"info"\}\],"anomalies":\[\],"matched"']



=== TEST 10: notices= takes a number, and a zone too small for it is refused
--- http_config
    rtdash_zone big:64k notices=100000;
--- must_die



=== TEST 11: notices= that is not a number is refused
--- http_config
    rtdash_zone nan:8m notices=many;
--- must_die
