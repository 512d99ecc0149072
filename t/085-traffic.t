# rtdash_traffic: every request of a scope counted under its key, by
# status class (or code), with its time, its upstream's time and its bytes.
use Test::Nginx::Socket 'no_plan';
use JSON::PP ();

no_shuffle();
no_long_string();

# With TEST_NGINX_USE_HUP=1 a zone keeps its data across blocks: every
# block gets a zone of its own, "tr" in its config becoming trN.  The key
# by default is the server's first name: localhost, the test server's.
add_block_preprocessor(sub {
    my $block = shift;
    my ($n) = $block->name =~ /TEST (\d+):/;
    my $config = $block->config;

    $config =~ s/\btr\b/tr$n/g;
    $block->set_value("config", $config);
    $block->set_value("http_config", <<"HTTP");
    rtdash_zone tr$n:8m types=16;
    log_format rtdash_bytes '\$request_length \$bytes_sent';
    upstream backend { server 127.0.0.1:\$TEST_NGINX_SERVER_PORT; }
HTTP
});

# TEST 1: what rtdash_traffic recorded is what nginx's own access log
# says each request received and sent, to the byte
add_response_body_check(sub {
    my ($block, $body, $req_idx) = @_;

    return if $block->name !~ /TEST 1:/ || $req_idx != 8;

    my ($in, $out) = (0, 0);
    open my $f, "<", server_root() . "/logs/bytes.log" or die $!;
    while (<$f>) {
        my ($i, $o) = split;
        $in += $i;
        $out += $o;
    }
    close $f;

    my $tool = JSON::PP::decode_json($body)->{tool};
    is($tool->{sums}{bytes_in}, $in, $block->name . " - bytes_in as logged");
    is($tool->{sums}{bytes_out}, $out, $block->name . " - bytes_out as logged");
});

run_tests();

__DATA__

=== TEST 1: the server's requests by status class, their times as values, their bytes as sums
--- config
    rtdash_traffic tr;
    access_log logs/bytes.log rtdash_bytes;
    location = /ok { return 204; }
    location = /page { return 200 "a page of text\n"; }
    location = /gone { return 410; }
    location = /fail { return 503; }
    location = /moved { return 301 /page; }
    location = /stats { rtdash_traffic off; access_log off; rtdash_stats tr; }
--- request eval
["GET /ok", "GET /ok", "GET /page", "GET /missing", "GET /gone",
 "GET /fail", "GET /moved", "POST /page\n" . ("x" x 1000),
 "GET /stats?tool=localhost&events=0"]
--- error_code eval
[204, 204, 200, 404, 410, 503, 301, 200, 200]
--- response_body_like eval
["", "", "a page of text", "404", "410", "503", "301", "a page of text",
 '"tool":\{"name":"localhost",[^{]*"totals":\{"2xx":4,"4xx":2,"5xx":1,"3xx":1\},[^{]*\{[^}]*\},[^{]*\{[^}]*\},"gauges":\{\},"sums":\{"bytes_in":\d+,"bytes_out":\d+\},"value":\{"count":8,"min":0,']



=== TEST 2: inherited like access_log: a location with its own rtdash_traffic, or off, does not count in the server's
--- config
    rtdash_traffic tr;
    location = /a { return 204; }
    location = /b { rtdash_traffic tr key=b-only; return 204; }
    location = /c { rtdash_traffic off; return 204; }
    location = /stats { rtdash_traffic off; rtdash_stats tr; }
--- request eval
["GET /a", "GET /b", "GET /b", "GET /c", "GET /stats?limit=50&sort=name"]
--- error_code eval
[204, 204, 204, 204, 200]
--- response_body_like eval
["", "", "", "",
 '"matched":2,.*"tools":\[\{"name":"b-only",[^{]*"totals":\{"2xx":2\},.*\{"name":"localhost",[^{]*"totals":\{"2xx":1\},']



=== TEST 3: per upstream peer with key=$upstream_addr, exact codes with status=exact, the upstream's time as a gauge
--- config
    location = /backend/ok { return 200 "fine\n"; }
    location = /backend/no { return 502; }
    location /api/ {
        rtdash_traffic tr key=$upstream_addr status=exact;
        proxy_pass http://backend/backend/;
    }
    location = /stats { rtdash_stats tr; }
--- request eval
["GET /api/ok", "GET /api/ok", "GET /api/no",
 "GET /stats?q=127.0.0.1"]
--- error_code eval
[200, 200, 502, 200]
--- response_body_like eval
["fine", "fine", "502",
 '"matched":1,.*"tools":\[\{"name":"127\.0\.0\.1:\d+",[^{]*"totals":\{"200":2,"502":1\},.*"gauges":\{"upstream_ms":\d+\},"sums":\{"bytes_in":\d+,"bytes_out":\d+\},"value":\{"count":3,']



=== TEST 4: if= leaves requests out; an event stream is counted but its time is not a value
--- config
    rtdash_traffic tr if=$arg_count;
    location = /x { return 204; }
    location = /stream { rtdash_stream tr; }
    location = /stats { rtdash_traffic off; rtdash_stats tr; }
--- request eval
["GET /x?count=1", "GET /x", "GET /x?count=0",
 "GET /stream?frames=1&count=1",
 "GET /stats?tool=localhost&events=0"]
--- error_code eval
[204, 204, 204, 200, 200]
--- response_body_like eval
["", "", "", "event: snapshot",
 '"tool":\{"name":"localhost",[^{]*"totals":\{"2xx":2\},.*"value":\{"count":1,']



=== TEST 5: long= leaves slow requests out of the values, counted
--- config
    rtdash_traffic tr long=1s;
    location = /fast { return 204; }
    location = /slow { limit_rate 100; return 200 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; }
    location = /stats { rtdash_traffic off; rtdash_stats tr; }
--- request eval
["GET /fast", "GET /slow", "GET /stats?tool=localhost&events=0"]
--- error_code eval
[204, 200, 200]
--- response_body_like eval
["", "^x{150}\$", '"tool":\{"name":"localhost",[^{]*"totals":\{"2xx":2\},.*"value":\{"count":1,']
--- timeout: 10



=== TEST 6: bad parameters are refused at configuration
--- config
    location = /x { rtdash_traffic tr key=; return 204; }
--- must_die



=== TEST 7: rtdash_traffic off with other parameters is refused
--- config
    location = /x { rtdash_traffic off key=$host; return 204; }
--- must_die



=== TEST 8: a bad long= is refused
--- config
    location = /x { rtdash_traffic tr long=soon; return 204; }
--- must_die
