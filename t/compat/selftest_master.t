# Self-test: master_on() + workers(2) for the whole file.
use Test::Nginx::Socket;

if (($Test::Nginx::Socket::VERSION || '') !~ /compat/) {
    plan skip_all => 'self-test of the compat runner only';
}

master_on();
workers(2);
no_shuffle();

plan tests => 4 * blocks();

run_tests();

__DATA__

=== TEST 1: two workers are started by a master
--- config
    location = /t {
        return 200 "pid=$pid\n";
    }
--- request
GET /t
--- response_body_like: ^pid=\d+$
--- grep_error_log eval
qr/start worker process \d+/
--- grep_error_log_out eval
qr/\Astart worker process \d+\nstart worker process \d+\n\z/
--- no_error_log
[error]
