# nginx -s quit with a stream open: the stream gets a final frame and
# finishes cleanly (a complete chunked response), and nginx exits.
use Test::Nginx::Socket 'no_plan';
use POSIX ();
use Time::HiRes ();

master_on();
workers(1);
no_long_string();

# When the block runs, a helper process waits for the stream request to
# show in the error log (the debug log has the request line), then sends
# SIGQUIT to the master, as `nginx -s quit` does.  Bounded to 10 s.
add_block_preprocessor(sub {
    my $block = shift;

    my $root = $ENV{TEST_NGINX_SERVROOT} || "t/servroot";
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    return if $pid;

    my $deadline = Time::HiRes::time() + 10;
    while (Time::HiRes::time() < $deadline) {
        Time::HiRes::sleep(0.05);
        open my $log, '<', "$root/logs/error.log" or next;
        my $seen = grep { /rtdash_quit_me/ } <$log>;
        close $log;
        next unless $seen;
        Time::HiRes::sleep(0.2);
        open my $p, '<', "$root/logs/nginx.pid" or last;
        my $master = <$p>;
        chomp $master;
        kill 'QUIT', $master if $master;
        last;
    }
    POSIX::_exit(0);
});

run_tests();

__DATA__

=== TEST 1: a graceful shutdown sends "event: close" and ends the stream
--- http_config
    rtdash_zone rt:4m retention=1h;
--- config
    location = /stream {
        rtdash_stream rt;
        rtdash_stream_heartbeat 100ms;
    }
--- request
GET /stream?rtdash_quit_me=1
--- timeout: 5
--- error_code: 200
--- response_body_like: ^retry: 2000\nid: 0\nevent: snapshot\ndata: [^\n]+\n\n(: ping\n\n)*event: close\ndata: \{"reason":"shutdown"\}\n\n$
--- no_error_log
[alert]
