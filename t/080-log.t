# rtdash_log: events from nginx's own traffic, recorded in the log phase.
use Test::Nginx::Socket 'no_plan';

no_long_string();
no_shuffle();

# With TEST_NGINX_USE_HUP=1 nginx is reloaded between blocks, and a zone
# whose name, size and parameters stay the same keeps its data.  Events
# carry the zone's sequence numbers and the overview lists every tool: a
# block that checks them after the first has a zone of its own name, which
# the reload creates empty.
add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", "rtdash_zone rt:8m retention=1h;")
        unless defined $block->http_config;
});

run_tests();

__DATA__

=== TEST 1: each request of a location is an event: tool, type, value, user
--- config
    location /app/ {
        rtdash_log rt tool=app type=$status value=$arg_ms user=$arg_u;
        return 200 "ok\n";
    }
    location /missing/ {
        rtdash_log rt tool=app type=$status value=$arg_ms;
        return 404;
    }
    location = /stats { rtdash_stats rt; }
--- request eval
["GET /app/a?ms=10&u=alice", "GET /app/b?ms=30&u=bob", "GET /missing/x?ms=5",
 "GET /stats?tool=app&events=3"]
--- error_code eval
[200, 200, 404, 200]
--- response_body_like eval
["ok", "ok", "",
 '"tool":\{"name":"app",.*"totals":\{"200":2,"404":1\},.*"value":\{"count":3,"min":5,"max":30,.*"events":\[\{"seq":3,"t":[0-9.]+,"type":"404","user":null,"flag":false,"value":5,"id":null\},\{"seq":2,"t":[0-9.]+,"type":"200","user":"bob","flag":false,"value":30,"id":null\},\{"seq":1,[^}]*"user":"alice",[^}]*"value":10,']
--- no_error_log
[error]



=== TEST 2: if= filters, flag= flags, scale= scales, types are lowercased
--- http_config
    rtdash_zone api:8m retention=1h;
--- config
    location /api/ {
        rtdash_log api tool=$host type=$request_method value=$arg_s scale=1000
                   flag=$arg_slow if=$arg_log;
        return 204;
    }
    location = /stats { rtdash_stats api; }
--- request eval
["GET /api/?log=1&s=0.25", "POST /api/?log=1&slow=1&s=0.5", "GET /api/?s=9",
 "GET /api/?log=0&s=9", "GET /stats?tool=localhost&events=2"]
--- error_code eval
[204, 204, 204, 204, 200]
--- response_body_like eval
["", "", "", "",
 '"totals":\{"get":1,"post":1\},"flagged":\{"post":1\},.*"value":\{"count":2,"min":250,"max":500,.*"events":\[\{"seq":2,[^}]*"type":"post",[^}]*"flag":true,"value":500,[^}]*\},\{"seq":1,[^}]*"type":"get",[^}]*"flag":false,"value":250,']



=== TEST 3: what does not validate is skipped, the request is not touched
--- http_config
    rtdash_zone skip:8m retention=1h;
--- config
    location /t/ {
        rtdash_log skip tool=$arg_tool type=$arg_type value=$arg_v user=$arg_u;
        return 200 "fine\n";
    }
    location = /stats { rtdash_stats skip; }
--- request eval
["GET /t/?type=a", "GET /t/?tool=T&type=a%20b", "GET /t/?tool=T&type=a&v=-&u=",
 "GET /t/?tool=T&type=a&v=1,2", "GET /t/?tool=T&type=a&v=inf", "GET /stats?tool=T&events=5"]
--- error_code eval
[200, 200, 200, 200, 200, 200]
--- response_body_like eval
["fine", "fine", "fine", "fine", "fine",
 '"totals":\{"a":3\},.*"value":\{"count":1,"min":1,"max":1,.*"events":\[\{"seq":3,[^}]*"value":null[^}]*\},\{"seq":2,[^}]*"value":1,[^}]*\},\{"seq":1,[^}]*"user":null,"flag":false,"value":null,']
--- no_error_log
[error]



=== TEST 4: inherited from the server, turned off in a location
--- http_config
    rtdash_zone site:8m retention=1h;
--- config
    rtdash_log site tool=site type=hit;
    location = /a { return 200 "a\n"; }
    location = /quiet { rtdash_log off; return 200 "q\n"; }
    location = /stats { rtdash_log off; rtdash_stats site; }
--- request eval
["GET /a", "GET /a", "GET /quiet", "GET /stats"]
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
["a", "a", "q", '"tools":\[\{"name":"site",[^]]*"totals":\{"hit":2\},']



=== TEST 5: two rtdash_log in one location record two events
--- http_config
    rtdash_zone twice:8m retention=1h;
--- config
    location = /b {
        rtdash_log twice tool=by-host type=req;
        rtdash_log twice tool=by-uri type=req;
        return 200 "b\n";
    }
    location = /stats { rtdash_stats twice; }
--- request eval
["GET /b", "GET /stats"]
--- response_body_like eval
["b", '"zone":\{[^}]*"accepted":2,.*"name":"by-host",.*"name":"by-uri",']



=== TEST 6: a full zone drops the events, logged once a second, the request is served
--- http_config
    rtdash_zone rt:1m retention=1h;
--- config eval
"location = /f {\n"
. CORE::join("", map { "    rtdash_log rt tool=tool$_ type=a;\n" } 1 .. 300)
. "    return 200 \"served\\n\";\n}\n"
--- request
GET /f
--- error_code: 200
--- response_body
served
--- wait: 0.1
--- grep_error_log eval
qr/no room for tool "tool\d+", rtdash_log event dropped/
--- grep_error_log_out eval
qr/\Ano room for tool "tool\d+", rtdash_log event dropped\n\z/



=== TEST 7: per upstream: the address as the tool, the status, the response time in ms
--- http_config
    rtdash_zone upstream:8m retention=1h;
--- config
    location = /backend { return 200 "from backend\n"; }
    location = /api {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
        rtdash_log upstream tool=$upstream_addr type=$upstream_status
                   value=$upstream_response_time scale=1000;
    }
    location = /stats { rtdash_stats upstream; }
--- request eval
["GET /api", "GET /api", "GET /stats"]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
["from backend", "from backend",
 '"tools":\[\{"name":"127\.0\.0\.1:\d+",[^]]*"totals":\{"200":2\},[^]]*"value":\{"count":2,"min":[0-9.]+,']
--- no_error_log
[error]
