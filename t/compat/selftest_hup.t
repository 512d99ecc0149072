# Self-test: TEST_NGINX_USE_HUP mode; shared memory survives the reload.
# The env var must be set before Test::Nginx::Socket is loaded.
BEGIN { $ENV{TEST_NGINX_USE_HUP} = 1 }

use Test::Nginx::Socket;

if (($Test::Nginx::Socket::VERSION || '') !~ /compat/) {
    plan skip_all => 'self-test of the compat runner only';
}

no_shuffle();

plan tests => 3 * blocks();

run_tests();

__DATA__

=== TEST 1: first request passes the 1r/m limit and fills the zone
--- http_config
    limit_req_zone $server_name zone=one:1m rate=1r/m;
--- config
    location = /index.html {
        limit_req zone=one nodelay;
        root html;
    }
--- request
GET /index.html
--- response_body_like: It works!
--- no_error_log
[error]



=== TEST 2: after a HUP reload the zone still remembers the request
--- http_config
    limit_req_zone $server_name zone=one:1m rate=1r/m;
--- config
    location = /index.html {
        limit_req zone=one nodelay;
        root html;
    }
--- request
GET /index.html
--- error_code: 503
--- error_log
reconfiguring
limiting requests
