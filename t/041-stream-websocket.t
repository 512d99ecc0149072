# The stream over WebSocket (RFC 6455): the handshake and its refusals.
# The protocol itself (frames, commands, close codes, malformed input) is
# driven by t/live/websocket.test.js with a WebSocket client library.
use Test::Nginx::Socket 'no_plan';

no_long_string();

# With TEST_NGINX_USE_HUP=1 nginx is reloaded between blocks, and a zone
# whose name, size and parameters stay the same keeps its data.  A pong's
# id is the zone's sequence number: the block that checks it has a zone
# of its own name, which the reload creates empty.

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", "rtdash_zone rt:8m retention=1h;")
        unless defined $block->http_config;

    $block->set_value("config", <<'CONF') unless defined $block->config;
    location = /ingest { rtdash_ingest rt; }
    location = /stream { rtdash_stream rt; }
CONF
});

run_tests();

__DATA__

=== TEST 1: a handshake gets 101 with the accept of RFC 6455's own example, then one text message and close 1000
--- request eval
["POST /ingest\n{\"tool\":\"A\",\"type\":\"borrow\"}",
 "GET /stream?frames=1"]
--- more_headers eval
["", "Upgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13"]
--- error_code eval
[202, 101]
--- response_headers eval
["", "Upgrade: websocket\nConnection: upgrade\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\n!Content-Type\n!Transfer-Encoding"]
--- response_body_like eval
['^\{"accepted":1\}$',
 '^\x81\x7e..\{"event":"snapshot","id":1,"data":\{"seq":1,"now":[0-9.]+,"zone":\{"name":"rt",.*"tools":\[\{"name":"A",.*\}\}\x88\x02\x03\xe8$']
--- no_error_log
[error]
[alert]



=== TEST 2: a version other than 13: 426 with Sec-WebSocket-Version: 13 and a JSON error
--- request
GET /stream
--- more_headers
Upgrade: websocket
Connection: Upgrade
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
Sec-WebSocket-Version: 8
--- error_code: 426
--- response_headers
Sec-WebSocket-Version: 13
Content-Type: application/json
--- response_body
{"error":"unsupported WebSocket version, use 13"}
--- no_error_log
[error]
[alert]



=== TEST 3: a missing, short or non-base64 Sec-WebSocket-Key: 400
--- request eval
["GET /stream", "GET /stream", "GET /stream"]
--- more_headers eval
["Upgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Version: 13",
 "Upgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Version: 13\nSec-WebSocket-Key: c2hvcnQ=",
 "Upgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Version: 13\nSec-WebSocket-Key: ########################"]
--- error_code eval
[400, 400, 400]
--- response_body eval
["{\"error\":\"missing or invalid Sec-WebSocket-Key\"}\n",
 "{\"error\":\"missing or invalid Sec-WebSocket-Key\"}\n",
 "{\"error\":\"missing or invalid Sec-WebSocket-Key\"}\n"]
--- no_error_log
[error]
[alert]



=== TEST 4: Upgrade without Connection: Upgrade, or not GET: 400
--- request eval
["GET /stream", "POST /stream\nx"]
--- more_headers eval
["Upgrade: websocket\nSec-WebSocket-Version: 13\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
 "Upgrade: websocket\nConnection: Upgrade, close\nSec-WebSocket-Version: 13\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]
--- error_code eval
[400, 405]
--- response_body eval
["{\"error\":\"a WebSocket handshake needs GET over HTTP/1.1 with \\\"Connection: Upgrade\\\"\"}\n",
 "{\"error\":\"method not allowed, use GET\"}\n"]
--- no_error_log
[error]
[alert]



=== TEST 5: cross-site WebSocket hijacking: a foreign Origin gets 403, the same or a listed one 101
--- config
    location = /stream { rtdash_stream rt; rtdash_allow_origin https://app.example; }
--- request eval
["GET /stream?frames=1", "GET /stream?frames=1", "GET /stream?frames=1"]
--- more_headers eval
["Upgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Version: 13\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nOrigin: http://evil.example",
 "Upgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Version: 13\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nOrigin: http://localhost",
 "Upgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Version: 13\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nOrigin: https://app.example"]
--- error_code eval
[403, 101, 101]
--- response_body_like eval
['^\{"error":"cross-origin request refused, origin not allowed: \\\\"http://evil.example\\\\""\}$',
 '^\x81.*"event":"snapshot"', '^\x81.*"event":"snapshot"']
--- no_error_log
[error]
[alert]



=== TEST 6: bad query arguments are refused before the handshake, as for SSE
--- request
GET /stream?window=x
--- more_headers
Upgrade: websocket
Connection: Upgrade, close
Sec-WebSocket-Version: 13
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
--- error_code: 400
--- response_headers
!Sec-WebSocket-Accept
!Upgrade
--- response_body
{"error":"\"window\", \"events\" and \"frames\" take numbers"}
--- no_error_log
[error]
[alert]



=== TEST 7: frames sent with the handshake, before the 101, are read; a request limit_conn keeps (not detached) closes cleanly from inside its reader
--- http_config
    rtdash_zone pong:8m retention=1h;
    limit_conn_zone $binary_remote_addr zone=perip:1m;
--- config
    location = /stream {
        limit_conn perip 10;
        rtdash_stream pong;
    }
    location = /plain { rtdash_stream pong; }
--- raw_request eval
["GET /stream HTTP/1.1\r
Host: localhost\r
Upgrade: websocket\r
Connection: Upgrade\r
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
Sec-WebSocket-Version: 13\r
\r
" . "\x81\x8f\x00\x00\x00\x00" . '{"type":"ping"}' . "\x88\x82\x00\x00\x00\x00\x03\xe8",
"GET /plain HTTP/1.1\r
Host: localhost\r
Upgrade: websocket\r
Connection: Upgrade\r
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
Sec-WebSocket-Version: 13\r
\r
" . "\x81\x8f\x00\x00\x00\x00" . '{"type":"ping"}' . "\x88\x82\x00\x00\x00\x00\x03\xe8"]
--- error_code eval
[101, 101]
--- response_body_like eval
['^\x81\x7e..\{"event":"snapshot",.*\}\}\x81\x21\{"event":"pong","id":0,"data":\{\}\}\x88\x02\x03\xe8$',
 '^\x81\x7e..\{"event":"snapshot",.*\}\}\x81\x21\{"event":"pong","id":0,"data":\{\}\}\x88\x02\x03\xe8$']
--- timeout: 3
--- no_error_log
[error]
[alert]
