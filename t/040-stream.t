# The SSE stream: snapshot, updates, heartbeat, frames=N, resume, filter,
# limits.  Every stream ends by itself (frames=N, or HTTP/1.0 + timeout).
use Test::Nginx::Socket 'no_plan';

no_long_string();

# With TEST_NGINX_USE_HUP=1 nginx is reloaded between blocks, and a zone
# whose name, size and parameters stay the same keeps its data.  A stream's
# ids are the zone's sequence numbers: a block that checks them names a
# zone of its own in --- http_config, which the reload creates empty (the
# default locations use the block's zone).
add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", "rtdash_zone rt:8m retention=1h events=20;")
        unless defined $block->http_config;

    my ($zone) = $block->http_config =~ /rtdash_zone (\w+):/;

    $block->set_value("config", <<"CONF") unless defined $block->config;
    location = /ingest { rtdash_ingest $zone; }
    location = /stream {
        rtdash_stream $zone;
        rtdash_stream_interval 100ms;
    }
CONF
});

run_tests();

__DATA__

=== TEST 1: a snapshot on connect, with retry, id and the state
--- http_config
    rtdash_zone snap:8m retention=1h events=20;
--- request eval
["POST /ingest\n{\"tool\":\"A\",\"type\":\"borrow\",\"user\":\"al\"}",
 "GET /stream?frames=1&window=60"]
--- error_code eval
[202, 200]
--- response_headers_like eval
["", "Content-Type: text/event-stream\nCache-Control: no-cache\nX-Accel-Buffering: no"]
--- response_body_like eval
['^\{"accepted":1\}$',
 '^retry: 2000\nid: 1\nevent: snapshot\ndata: \{"seq":1,"now":[0-9.]+,"zone":\{"name":"snap",[^}]*\},"matched":1,"types":\["borrow"\],"tools":\[\{"name":"A",[^\n]*"tool":\[\],"window":60,"span":\{"from":\d+,"to":\d+,"users":1,"value":\{"count":0,[^}]*\}\},"alerts":\[\],"notices":\[\],"minutes":\[\{"t":\d+,"counts":\{"borrow":1\},[^\n]*"events":\[\{"seq":1,"tool":"A","t":[0-9.]+,"type":"borrow","user":"al","flag":false,"value":null,"id":null\}\]\}\n\n$']
--- no_error_log
[error]
[alert]



=== TEST 2: an update follows while a tool is active, then the stream ends
--- http_config
    rtdash_zone update:8m retention=1h events=20;
--- request eval
["POST /ingest\n{\"tool\":\"A\",\"type\":\"borrow\"}",
 "GET /stream?frames=3"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":1\}$',
 '^retry: 2000\nid: 1\nevent: snapshot\ndata: [^\n]+\n\nid: 1\nevent: update\ndata: \{"seq":1,[^\n]*"tools":\[\{"name":"A",[^\n]*"rate_per_min":\{"borrow":1\}[^\n]*"seconds":\[\{"t":\d+,[^\n]*\},\{"t":\d+,[^\n]*\}\],"events":\[\]\}\n\nid: 1\nevent: update\ndata: [^\n]+\n\n$']
--- no_error_log
[error]



=== TEST 3: heartbeat pings go out between data frames
--- http_config
    rtdash_zone ping:8m retention=1h events=20;
--- config
    location = /ingest { rtdash_ingest ping; }
    location = /stream {
        rtdash_stream ping;
        rtdash_stream_heartbeat 100ms;
        rtdash_stream_interval 450ms;
    }
--- request eval
["POST /ingest\n{\"tool\":\"A\",\"type\":\"borrow\"}",
 "GET /stream?frames=2"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":1\}$',
 '^retry: 2000\nid: 1\nevent: snapshot\ndata: [^\n]+\n\n(: ping\n\n)+id: 1\nevent: update\ndata: [^\n]+\n\n$']
--- no_error_log
[error]



=== TEST 4: Last-Event-ID resumes with what was missed
--- http_config
    rtdash_zone resume:8m retention=1h events=20;
--- request eval
["POST /ingest\n[{\"tool\":\"A\",\"type\":\"a\",\"id\":\"e1\"},{\"tool\":\"A\",\"type\":\"a\",\"id\":\"e2\"},{\"tool\":\"A\",\"type\":\"a\",\"id\":\"e3\"}]",
 "GET /stream?frames=1"]
--- more_headers eval
["", "Last-Event-ID: 1"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":3\}$',
 '^id: 3\nevent: update\ndata: \{"seq":3,[^\n]*"events":\[\{"seq":3,"tool":"A",[^}]*"id":"e3"\},\{"seq":2,"tool":"A",[^}]*"id":"e2"\}\]\}\n\n$']



=== TEST 5: a resume from too far back gets a snapshot
--- http_config
    rtdash_zone far:8m retention=1h events=20;
--- request eval
["POST /ingest\n[{\"tool\":\"A\",\"type\":\"a\"},{\"tool\":\"A\",\"type\":\"a\"},{\"tool\":\"A\",\"type\":\"a\"}]",
 "GET /stream?frames=1&events=1&last_event_id=0"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":3\}$',
 '^retry: 2000\nid: 3\nevent: snapshot\ndata: [^\n]*"events":\[\{"seq":3,[^\]]*\]\}\n\n$']



=== TEST 6: tool= filters tools and events
--- http_config
    rtdash_zone filter:8m retention=1h events=20;
--- request eval
["POST /ingest\n[{\"tool\":\"A\",\"type\":\"a\"},{\"tool\":\"B c\",\"type\":\"a\"}]",
 "GET /stream?frames=1&tool=B+c"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":2\}$',
 '"tools":\[\{"name":"B c",[^\n]*"tool":\["B c"\],[^\n]*"events":\[\{"seq":2,"tool":"B c",[^\]]*\]\}\n\n$']



=== TEST 7: only GET
--- request
POST /stream
x
--- error_code: 405
--- response_headers
Allow: GET, HEAD
--- response_body
{"error":"method not allowed, use GET"}



=== TEST 8: rtdash_stream_max_clients refuses with 503
--- config
    location = /stream {
        rtdash_stream rt;
        rtdash_stream_max_clients 0;
    }
--- request
GET /stream
--- error_code: 503
--- response_body
{"error":"too many stream clients"}
--- error_log
rtdash: rtdash_stream_max_clients 0 reached



=== TEST 9: a client that goes away frees its place at once
--- config
    location = /stream {
        rtdash_stream rt;
        rtdash_stream_max_clients 1;
    }
--- request eval
["GET /stream HTTP/1.0",
 [{value => "GET /stream?frames=1", delay_before => 0.3}]]
--- abort
--- timeout: 1
--- error_code eval
[200, 200]
--- response_body_like eval
['^retry: 2000\nid: \d+\nevent: snapshot\ndata: [^\n]+\n\n$',
 '^retry: 2000\nid: \d+\nevent: snapshot\ndata: [^\n]+\n\n$']
--- no_error_log
[error]
[alert]



=== TEST 10: a client that joins after the news still gets the rate refreshes
--- http_config
    rtdash_zone late:8m retention=1h events=20;
--- request eval
["POST /ingest\n{\"tool\":\"A\",\"type\":\"borrow\"}",
 "GET /stream?frames=2",
 "GET /stream?frames=2"]
--- error_code eval
[202, 200, 200]
--- timeout: 3
--- response_body_like eval
['^\{"accepted":1\}$',
 '^retry: 2000\nid: 1\nevent: snapshot\ndata: [^\n]+\n\nid: 1\nevent: update\ndata: [^\n]+\n\n$',
 '^retry: 2000\nid: 1\nevent: snapshot\ndata: [^\n]+\n\nid: 1\nevent: update\ndata: \{"seq":1,[^\n]*"rate_per_min":\{"borrow":1\}[^\n]*\n\n$']
--- no_error_log
[error]



=== TEST 11: bad query arguments get 400 and a JSON error, and nothing else is sent
--- request eval
["GET /stream?window=x", "GET /stream?events=-1", "GET /stream?tool=",
 "GET /stream?frames=1e3"]
--- error_code eval
[400, 400, 400, 400]
--- response_headers eval
["Content-Type: application/json", "Content-Type: application/json",
 "Content-Type: application/json", "Content-Type: application/json"]
--- response_body eval
["{\"error\":\"\\\"window\\\", \\\"events\\\" and \\\"frames\\\" take numbers\"}\n",
 "{\"error\":\"\\\"window\\\", \\\"events\\\" and \\\"frames\\\" take numbers\"}\n",
 "{\"error\":\"invalid tool \\\"\\\"\"}\n",
 "{\"error\":\"\\\"window\\\", \\\"events\\\" and \\\"frames\\\" take numbers\"}\n"]
--- no_error_log
[error]
[alert]
