# Hostile input: every request below is refused with a 4xx and a JSON
# error, and records nothing (the zone's "accepted" stays 0).  The last
# blocks check what must still be accepted (multi-megabyte bodies, slow
# bodies, limits exactly at the bound) and that hostile names come back
# escaped from stats and stream.
#
# Blocks that accept events come last and look only at their own tool,
# so the file also passes with TEST_NGINX_USE_HUP (the zone then lives
# across blocks).
use Test::Nginx::Socket 'no_plan';

no_long_string();
no_shuffle();

our $Nothing = '"seq":0,"accepted":0,.*"tools":\[\]\}$';

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", "rtdash_zone rt:8m retention=1h events=20;")
        unless defined $block->http_config;

    $block->set_value("config", <<'CONF') unless defined $block->config;
    location = /ingest { client_max_body_size 10m; rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
    location = /stream { rtdash_stream rt; }
CONF

    $block->set_value("no_error_log", "[alert]\n[crit]\n[emerg]\n")
        unless defined $block->no_error_log;
});

# --- response_body_lacks: per request, a pattern the body must not match
# (undef: none, e.g. where the response_body_like pattern anchors the
# whole body, so that no absence check could ever fail).  Test::Nginx
# ignores response_body_unlike in a block that also has
# response_body_like, so the absence is checked here.
add_response_body_check(sub {
    my ($block, $body, $req_idx, $rep_idx, $dry_run) = @_;

    my $pats = $block->response_body_lacks;
    return if !defined $pats || $dry_run;
    my $pat = ref $pats eq 'ARRAY' ? $pats->[$req_idx] : $pats;
    return if !defined $pat;

    Test::More::unlike(defined $body ? $body : '', qr/$pat/s,
                       $block->name . " - response_body_lacks /$pat/ "
                       . "(req $req_idx)");
});

run_tests();

__DATA__

=== TEST 1: deep nesting: 10k '[' at the top, in an unknown field, 10k nested objects
--- request eval
["POST /ingest\n" . ("[" x 10000),
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"x\":" . ("[" x 10000) . ("]" x 10000) . "}",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"x\":" . ("{\"a\":" x 10000) . "1" . ("}" x 10000) . "}",
 "POST /ingest\n[{\"tool\":\"T\",\"gauges\":{\"g\":" . ("[" x 10000) . "}}]",
 "GET /stats"]
--- error_code eval
[400, 400, 400, 400, 200]
--- response_body_like eval
['^\{"error":"expected an event object","line":1,"offset":1\}$',
 '^\{"error":"nesting too deep","line":1,"offset":\d+\}$',
 '^\{"error":"nesting too deep","line":1,"offset":\d+\}$',
 '^\{"error":"[^"]+","line":1,"offset":\d+\}$',
 $::Nothing]



=== TEST 2: huge numbers in every numeric field
--- request eval
["POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"value\":1e400}",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"value\":-1e400}",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"value\":" . ("9" x 400) . "}",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"value\":0." . ("0" x 400) . "1}",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"ts\":" . ("1" x 400) . "}",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"flag\":1e400}",
 "POST /ingest\n{\"tool\":\"T\",\"gauges\":{\"g\":1e400}}",
 "POST /ingest\n{\"tool\":\"T\",\"gauges\":{\"g\":-" . ("9" x 400) . "}}",
 "POST /ingest?tool=T&type=a&value=1e400",
 "GET /stats"]
--- error_code eval
[400, 400, 400, 400, 400, 400, 400, 400, 400, 200]
--- response_body_like eval
['^\{"error":"number out of range","line":1,"offset":31\}$',
 '^\{"error":"number out of range","line":1,"offset":31\}$',
 '^\{"error":"number too long","line":1,"offset":31\}$',
 '^\{"error":"number too long","line":1,"offset":31\}$',
 '^\{"error":"number too long","line":1,"offset":28\}$',
 '^\{"error":"number out of range","line":1,"offset":30\}$',
 '^\{"error":"number out of range","line":1,"offset":\d+\}$',
 '^\{"error":"number too long","line":1,"offset":\d+\}$',
 '^\{"error":"number out of range","line":1,"offset":\d+\}$',
 $::Nothing]



=== TEST 3: malformed numbers
--- request eval
[(map {; "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"value\":$_}" }
     qw(- 1. .5 1e 1e+ +1 0x10 NaN Infinity -Infinity 1..2 --1 -0.e1 1e2e3 0-1),
     '"1"', 'true', '[1]', '{}'),
 "GET /stats"]
--- error_code eval
[(400) x 19, 200]
--- response_body_like eval
[('^\{"error":"(?:invalid number|\\\\"value\\\\" must be a finite number|expected \',\' or \'\}\')","line":1,"offset":\d+\}$') x 19,
 $::Nothing]



=== TEST 4: invalid UTF-8 in strings, keys, between tokens and in form values
--- request eval
["POST /ingest\n{\"tool\":\"T\xff\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"\xfe\":1}",
 "POST /ingest\n{\"tool\":\"T\",\xff\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"T\xc0\xaf\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"T\xe0\x80\xaf\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"T\xed\xa0\x80\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"T\xf4\x90\x80\x80\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"T\xe2\x82\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"user\":\"\x80\"}",
 "POST /ingest\ntool=T%ff&type=a",
 "POST /ingest\ntool=T&type=a&user=%ed%a0%80",
 "GET /stats"]
--- more_headers eval
[("Content-Type: application/json") x 9,
 ("Content-Type: application/x-www-form-urlencoded") x 2,
 ""]
--- error_code eval
[(400) x 11, 200]
--- response_body_like eval
['^\{"error":"invalid UTF-8 in string","line":1,"offset":10\}$',
 '^\{"error":"invalid UTF-8 in string","line":1,"offset":24\}$',
 '^\{"error":"expected a string key","line":1,"offset":12\}$',
 ('^\{"error":"invalid UTF-8 in string","line":1,"offset":10\}$') x 5,
 '^\{"error":"invalid UTF-8 in string","line":1,"offset":31\}$',
 '^\{"error":"\\\\"tool\\\\" must be valid UTF-8","line":1,"offset":5\}$',
 '^\{"error":"\\\\"user\\\\" must be valid UTF-8","line":1,"offset":\d+\}$',
 $::Nothing]



=== TEST 5: lone surrogates as \u escapes
--- request eval
[(map {; "POST /ingest\n{\"tool\":\"T$_\",\"type\":\"a\"}" }
     '\ud800', '\udc00', '\udfff', '\ud800x', '\ud800\ud800', '\udc00\ud800',
     '\ud800\u0041', '\ud800\\\\'),
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"user\":\"\\udbff\"}",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"id\":\"x\\ude00\"}",
 "GET /stats"]
--- error_code eval
[(400) x 10, 200]
--- response_body_like eval
[('^\{"error":"lone surrogate in string","line":1,"offset":10\}$') x 8,
 '^\{"error":"lone surrogate in string","line":1,"offset":31\}$',
 '^\{"error":"lone surrogate in string","line":1,"offset":30\}$',
 $::Nothing]



=== TEST 6: NUL and control bytes in strings, in keys and between tokens
--- request eval
["POST /ingest\n{\"tool\":\"T\x00\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"T\x01\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"T\t\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"user\":\"u\x1fv\"}",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"\x00\":1}",
 "POST /ingest\n{\"tool\":\"T\\u0000\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"user\":\"\\u001b[31m\"}",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"id\":\"\\u0007\"}",
 "POST /ingest\n{\"tool\":\"T\x7f\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"T\",\x00\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"T\"\x00,\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"T\",\x0b\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"T\",\x0c\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\"}\x00",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\"}\n\x00\n{\"tool\":\"T\",\"type\":\"a\"}",
 "POST /ingest\ntool=T%00&type=a",
 "POST /ingest\ntool=T&type=a&user=%1b",
 "GET /stats"]
--- more_headers eval
[("Content-Type: application/json") x 15,
 ("Content-Type: application/x-www-form-urlencoded") x 2,
 ""]
--- error_code eval
[(400) x 17, 200]
--- response_body_like eval
[('^\{"error":"control character in string","line":1,"offset":10\}$') x 3,
 '^\{"error":"control character in string","line":1,"offset":32\}$',
 '^\{"error":"control character in string","line":1,"offset":24\}$',
 '^\{"error":"\\\\"tool\\\\" must not contain control characters","line":1,"offset":8\}$',
 '^\{"error":"\\\\"user\\\\" must not contain control characters","line":1,"offset":30\}$',
 '^\{"error":"\\\\"id\\\\" must not contain control characters","line":1,"offset":28\}$',
 '^\{"error":"\\\\"tool\\\\" must not contain control characters","line":1,"offset":8\}$',
 '^\{"error":"expected a string key","line":1,"offset":12\}$',
 '^\{"error":"expected \',\' or \'\}\'","line":1,"offset":11\}$',
 ('^\{"error":"expected a string key","line":1,"offset":12\}$') x 2,
 '^\{"error":"expected a JSON object or array","line":1,"offset":23\}$',
 '^\{"error":"expected a JSON object or array","line":2,"offset":24\}$',
 '^\{"error":"\\\\"tool\\\\" must not contain control characters","line":1,"offset":5\}$',
 '^\{"error":"\\\\"user\\\\" must not contain control characters","line":1,"offset":\d+\}$',
 $::Nothing]



=== TEST 7: overlong strings: tool of 129 bytes (ASCII, UTF-8, escapes, form), user and id of 65, type and gauge name of 33
--- request eval
["POST /ingest\n{\"tool\":\"" . ("t" x 129) . "\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"" . ("\xe2\x82\xac" x 43) . "\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"" . ('\u0041' x 129) . "\",\"type\":\"a\"}",
 "POST /ingest\ntool=" . ("%41" x 129) . "&type=a",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"user\":\"" . ("u" x 65) . "\"}",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"user\":\"" . ("\xc3\xa9" x 32) . "x\"}",
 "POST /ingest?tool=T&type=a&user=" . ("u" x 65),
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"id\":\"" . ("i" x 65) . "\"}",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"" . ("a" x 33) . "\"}",
 "POST /ingest\n{\"tool\":\"T\",\"gauges\":{\"" . ("g" x 33) . "\":1}}",
 "POST /ingest\n{\"tool\":\"\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"T\",\"tool\":\"" . ("t" x 200) . "\",\"type\":\"a\"}",
 "GET /stats"]
--- more_headers eval
[("Content-Type: application/json") x 3,
 "Content-Type: application/x-www-form-urlencoded",
 ("Content-Type: application/json") x 8,
 ""]
--- error_code eval
[(400) x 12, 200]
--- response_body_like eval
[('^\{"error":"\\\\"tool\\\\" must be a string of 1 to 128 bytes","line":1,"offset":8\}$') x 3,
 '^\{"error":"\\\\"tool\\\\" must be a string of 1 to 128 bytes","line":1,"offset":5\}$',
 ('^\{"error":"\\\\"user\\\\" must be a string of at most 64 bytes","line":1,"offset":30\}$') x 2,
 '^\{"error":"\\\\"user\\\\" must be a string of at most 64 bytes","line":1,"offset":\d+\}$',
 '^\{"error":"\\\\"id\\\\" must be a string of at most 64 bytes","line":1,"offset":28\}$',
 '^\{"error":"\\\\"type\\\\" must be a token \[a-z0-9_.-\]\{1,32\}","line":1,"offset":19\}$',
 '^\{"error":"gauge name must be a token \[a-z0-9_.-\]\{1,32\}","line":1,"offset":22\}$',
 '^\{"error":"\\\\"tool\\\\" must be a string of 1 to 128 bytes","line":1,"offset":8\}$',
 '^\{"error":"\\\\"tool\\\\" must be a string of 1 to 128 bytes","line":1,"offset":19\}$',
 $::Nothing]



=== TEST 8: wrong field types
--- request eval
[(map {; "POST /ingest\n$_" }
     '{"tool":42,"type":"a"}',
     '{"tool":null,"type":"a"}',
     '{"tool":["T"],"type":"a"}',
     '{"tool":{"n":"T"},"type":"a"}',
     '{"tool":true,"type":"a"}',
     '{"tool":"T","type":1}',
     '{"tool":"T","type":["a"]}',
     '{"tool":"T","type":"a","flag":"true"}',
     '{"tool":"T","type":"a","flag":2}',
     '{"tool":"T","type":"a","flag":[true]}',
     '{"tool":"T","type":"a","value":"1"}',
     '{"tool":"T","type":"a","value":true}',
     '{"tool":"T","type":"a","user":7}',
     '{"tool":"T","type":"a","user":{}}',
     '{"tool":"T","type":"a","id":5}',
     '{"tool":"T","type":"a","ts":"now"}',
     '{"tool":"T","gauges":[1,2]}',
     '{"tool":"T","gauges":"x"}',
     '{"tool":"T","gauges":5}',
     '{"tool":"T","gauges":{"g":"1"}}',
     '{"tool":"T","gauges":{"g":null}}',
     '{"tool":"T","gauges":{"g":{}}}',
     '42', '"event"', 'null', '[1]', '[[{"tool":"T","type":"a"}]]'),
 "POST /ingest\ntool=T&type=a&flag=maybe",
 "GET /stats"]
--- more_headers eval
[("Content-Type: application/json") x 27,
 "Content-Type: application/x-www-form-urlencoded",
 ""]
--- error_code eval
[(400) x 28, 200]
--- response_body_like eval
[('^\{"error":"\\\\"tool\\\\" must be a string of 1 to 128 bytes","line":1,"offset":8\}$') x 5,
 ('^\{"error":"\\\\"type\\\\" must be a token \[a-z0-9_.-\]\{1,32\}","line":1,"offset":19\}$') x 2,
 ('^\{"error":"\\\\"flag\\\\" must be true, false, 0 or 1","line":1,"offset":30\}$') x 3,
 ('^\{"error":"\\\\"value\\\\" must be a finite number","line":1,"offset":31\}$') x 2,
 ('^\{"error":"\\\\"user\\\\" must be a string of at most 64 bytes","line":1,"offset":30\}$') x 2,
 '^\{"error":"\\\\"id\\\\" must be a string of at most 64 bytes","line":1,"offset":28\}$',
 '^\{"error":"\\\\"ts\\\\" must be a number of epoch seconds","line":1,"offset":28\}$',
 ('^\{"error":"\\\\"gauges\\\\" must be an object of names to numbers","line":1,"offset":21\}$') x 3,
 ('^\{"error":"gauge value must be a finite number","line":1,"offset":26\}$') x 3,
 ('^\{"error":"expected a JSON object or array","line":1,"offset":0\}$') x 3,
 ('^\{"error":"expected an event object","line":1,"offset":1\}$') x 2,
 '^\{"error":"\\\\"flag\\\\" must be true, false, 0 or 1","line":1,"offset":\d+\}$',
 $::Nothing]



=== TEST 9: ts outside the window, in JSON, in a form and in the query string
--- request eval
["POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"ts\":0}",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"ts\":-1}",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"ts\":-1e300}",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"ts\":" . (time() - 3700) . ".5}",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"ts\":" . (time() + 90) . "}",
 "POST /ingest\n{\"tool\":\"T\",\"type\":\"a\",\"ts\":1e300}",
 "POST /ingest\n[{\"tool\":\"T\",\"type\":\"a\"},{\"tool\":\"T\",\"type\":\"a\",\"ts\":1}]",
 "POST /ingest\ntool=T&type=a&ts=0",
 "POST /ingest?tool=T&type=a&ts=" . (time() + 3600),
 "GET /stats"]
--- more_headers eval
[("Content-Type: application/json") x 7,
 "Content-Type: application/x-www-form-urlencoded",
 "", ""]
--- error_code eval
[(400) x 9, 200]
--- response_body_like eval
[('^\{"error":"\\\\"ts\\\\" outside the retention window","line":1,"offset":28\}$') x 4,
 ('^\{"error":"\\\\"ts\\\\" too far in the future","line":1,"offset":28\}$') x 2,
 '^\{"error":"\\\\"ts\\\\" outside the retention window","line":1,"offset":\d+\}$',
 '^\{"error":"\\\\"ts\\\\" outside the retention window","line":1,"offset":\d+\}$',
 '^\{"error":"\\\\"ts\\\\" too far in the future","line":1,"offset":\d+\}$',
 $::Nothing]



=== TEST 10: 3 MB of garbage, 3 MB of '[', 3 MB of events with a bad last line
--- request eval
["POST /ingest\n" . ("\xff\x00\x89PNG" x 600000),
 "POST /ingest\n" . ("[" x 3000000),
 "POST /ingest\n" . CORE::join("\n", (map {; qq({"tool":"big","type":"job_done","value":$_,"user":"user) . ($_ % 1000) . '"}' } 1 .. 50000), '{"tool":"big","type":"job_done",}'),
 "GET /stats"]
--- more_headers
Content-Type: application/json
--- error_code eval
[400, 400, 400, 200]
--- response_body_like eval
['^\{"error":"expected a JSON object or array","line":1,"offset":0\}$',
 '^\{"error":"expected an event object","line":1,"offset":1\}$',
 '^\{"error":"expected a string key","line":50001,"offset":\d+\}$',
 $::Nothing]
--- timeout: 20



=== TEST 11: 2.4 MB past a client_max_body_size of 1m gets a JSON 413
--- config
    location = /ingest { client_max_body_size 1m; rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request eval
["POST /ingest\n" . ('{"tool":"T","type":"a"}' . "\n") x 100000,
 "GET /stats"]
--- error_code eval
[413, 200]
--- response_body_like eval
['^\{"error":"request body larger than client_max_body_size"\}$',
 $::Nothing]
--- timeout: 20



=== TEST 12: a stalled body is dropped after client_body_timeout, other requests go on
--- config
    client_body_timeout 1s;
    location = /ingest { rtdash_ingest rt; }
--- raw_request eval
"POST /ingest HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 100\r\n\r\n{\"tool\":\"T\",\"type\":"
--- ignore_response
--- timeout: 5
--- access_log
"POST /ingest HTTP/1.1" 408



=== TEST 13: a body sent in slow pieces still counts
--- request eval
[["POST /ingest\n{\"tool\":\"slow\",",
  {value => "\"type\":\"a\",\"va", delay_before => 0.3},
  {value => "lue\":7}\n{\"tool\":\"slow\",\"type\":\"a\"}", delay_before => 0.3}],
 "GET /stats?tool=slow"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":2\}$',
 '"name":"slow",.*"totals":\{"a":2\},']



=== TEST 14: 3 MB of valid NDJSON is accepted in full
--- request eval
["POST /ingest\n" . CORE::join("\n", (map {; qq({"tool":"big","type":"job_done","value":$_,"user":"user) . ($_ % 1000) . '"}' } 1 .. 50000)),
 "GET /stats?tool=big&window=60"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":50000\}$',
 '"totals":\{"job_done":50000\},.*"value":\{"count":50000,"min":1,"max":50000,"avg":25000.5,']
--- timeout: 20



=== TEST 15: lengths exactly at the bound are accepted
--- request eval
["POST /ingest\n[{\"tool\":\"" . ("t" x 128) . "\",\"type\":\"" . ("a" x 32) . "\",\"user\":\"" . ("u" x 64) . "\",\"id\":\"" . ("i" x 64) . "\"},"
 . "{\"tool\":\"" . ("\xe2\x82\xac" x 42) . "xy\",\"type\":\"a\",\"user\":\"" . ("\xc3\xa9" x 32) . "\"},"
 . "{\"tool\":\"" . ('\u0041' x 128) . "\",\"gauges\":{\"" . ("g" x 32) . "\":1e308}}]",
 "GET /stats?tool=" . ("t" x 128) . "&events=1",
 "GET /stats?tool=" . ("A" x 128)]
--- error_code eval
[202, 200, 200]
--- response_body_like eval
['^\{"accepted":3\}$',
 '"user":"u{64}","flag":false,"value":null,"id":"i{64}"\}\]\}$',
 '"gauges":\{"g{32}":1e\+?308\}']



=== TEST 16: hostile tool, user and id names come back escaped in stats and stream
--- request eval
["POST /ingest\n{\"tool\":\"q\\\"b\\\\s\\/</script><!--&'\\u2028\\u2029\",\"type\":\"a\",\"user\":\"<img src=x onerror=alert(1)>\",\"id\":\"\\\"}]}\\\\\"}",
 "GET /stats",
 "GET /stats?tool=q%22b%5Cs%2F%3C%2Fscript%3E%3C!--%26'%E2%80%A8%E2%80%A9&events=1",
 "GET /stream?tool=q%22b%5Cs%2F%3C%2Fscript%3E%3C!--%26'%E2%80%A8%E2%80%A9&events=1&frames=1"]
--- error_code eval
[202, 200, 200, 200]
--- response_body_like eval
['^\{"accepted":1\}$',
 '"name":"q\\\\"b\\\\\\\\s/\\\\u003c/script\\\\u003e\\\\u003c!--\\\\u0026\x27(?:\xe2\x80\xa8|\\\\u2028)(?:\xe2\x80\xa9|\\\\u2029)"',
 '"user":"\\\\u003cimg src=x onerror=alert\(1\)\\\\u003e","flag":false,"value":null,"id":"\\\\"\}\]\}\\\\\\\\"\}\]\}$',
 'event: snapshot\ndata: \{[^\n]*"name":"q\\\\"b\\\\\\\\s/\\\\u003c/script\\\\u003e\\\\u003c!--\\\\u0026\x27(?:\xe2\x80\xa8|\\\\u2028)(?:\xe2\x80\xa9|\\\\u2029)"[^\n]*"user":"\\\\u003cimg src=x onerror=alert\(1\)\\\\u003e"']
--- response_body_lacks eval
[undef, '<', '<', '<']
