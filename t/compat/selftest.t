# Self-test of the Test::Nginx::Socket compat runner against plain nginx.
# Run: prove -I t/compat/lib t/compat/selftest*.t   (from the repo root)
use Test::Nginx::Socket;

if (($Test::Nginx::Socket::VERSION || '') !~ /compat/) {
    plan skip_all => 'self-test of the compat runner only';
}

repeat_each(2);
no_shuffle();

# 3 subtests per block (status, body, log check) plus 17 more from the
# blocks with extra checks and multiple requests; times repeat_each
plan tests => repeat_each() * (3 * blocks() + 17);

run_tests();

__DATA__

=== TEST 1: plain return, Content-Type header, no error
--- config
    location = /hello {
        return 200 "hello\n";
    }
--- request
GET /hello
--- response_headers
Content-Type: text/plain
!X-Absent
--- response_body
hello
--- no_error_log
[error]



=== TEST 2: 404 for a missing file logs open() at [error]
--- config
    location /missing {
        root html;
    }
--- request
GET /missing/nothing.html
--- error_code: 404
--- response_body_like: 404 Not Found
--- error_log
open()
No such file or directory
--- no_error_log
[crit]



=== TEST 3: more_headers echoed back, env expansion in config, $ServerPort in body
--- config
    location = /echo {
        return 200 "foo=$http_x_foo port=$TEST_NGINX_SERVER_PORT\n";
    }
--- more_headers
X-Foo: bar baz
--- request
    GET /echo
--- response_body
foo=bar baz port=$ServerPort
--- no_error_log
[error]



=== TEST 4: chunked response is decoded (ssi drops Content-Length)
--- config
    location = /c {
        ssi on;
        ssi_types text/plain;
        return 200 "chunk me\n";
    }
--- request
GET /c
--- response_headers
Transfer-Encoding: chunked
--- raw_response_headers_like: ^HTTP/1\.1 200 OK\r\n
--- response_body
chunk me
--- no_error_log
[error]



=== TEST 5: request eval array, one connection each, body Content-Length computed
--- config
    location = /len {
        return 200 "method=$request_method len=$http_content_length conn=$http_connection\n";
    }
--- request eval
["GET /len", "POST /len\n  hello world  \n", "PUT /len HTTP/1.0\nabc"]
--- error_code eval
[200, 200, 200]
--- response_body eval
["method=GET len= conn=close\n",
 "method=POST len=11 conn=close\n",
 "method=PUT len=3 conn=close\n"]
--- no_error_log
[error]



=== TEST 6: timeout + abort checks the truncated response as is
--- config
    location = /ka {
        keepalive_timeout 10s;
        return 200 "kept alive\n";
    }
--- more_headers
Connection: keep-alive
--- request
GET /ka
--- timeout: 300ms
--- abort
--- response_body
kept alive
--- no_error_log
[error]



=== TEST 7: user_files served from html/, response_body_like with eval regex
--- user_files
>>> static/a.txt
static file content
--- config
    location /static/ {
        root html;
    }
--- request
GET /static/a.txt
--- response_body_like eval
qr/^static file content\n\z/
--- no_error_log
[error]



=== TEST 8: pipelined requests over one keep-alive connection
--- config
    location = /p1 { return 200 "one\n"; }
    location = /p2 { return 201 "two\n"; }
--- pipelined_requests eval
["GET /p1", "GET /p2"]
--- error_code eval
[200, 201]
--- response_body eval
["one\n", "two\n"]
--- no_error_log
[error]



=== TEST 9: grep_error_log, error_log eval array with a regex (rewrite_log)
--- config
    location = /log {
        rewrite_log on;
        rewrite ^/log$ /logged last;
    }
    location = /logged {
        return 404;
    }
--- request
GET /log
--- error_code: 404
--- grep_error_log eval
qr/rewritten data: "[^"]*"/
--- grep_error_log_out
rewritten data: "/logged"
--- error_log eval
[qr/"\^\/log\$" matches "\/log", client: 127\.0\.0\.1/, "host: \"localhost\""]
--- response_body_like: 404
