# nginx -s quit with a stream open: the stream gets a final frame and
# finishes cleanly (a complete chunked response), and nginx exits.
use Test::Nginx::Socket 'no_plan';
use POSIX ();
use Time::HiRes ();

master_on();
workers(1);
no_long_string();

# The stream's request carries a token of this run, so that the logs of an
# earlier run are never taken for this one's.
our $Token = "rtdash_quit_me_${$}_" . time;

# When the block runs, a helper process waits for the stream request in the
# access log, then sends SIGQUIT to the master, as `nginx -s quit` does.
# Every build writes that line, and an HTTP/1.x stream writes it once its
# first frame has gone out (README, "Memory"), so the stream is open then.
# Bounded to 10 s.
add_block_preprocessor(sub {
    my $block = shift;

    my $root = $ENV{TEST_NGINX_SERVROOT} || "t/servroot";
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    return if $pid;

    my $deadline = Time::HiRes::time() + 10;
    while (Time::HiRes::time() < $deadline) {
        Time::HiRes::sleep(0.05);
        open my $log, '<', "$root/logs/access.log" or next;
        my $seen = grep { /\Q$Token\E/ } <$log>;
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
--- request eval
"GET /stream?$::Token=1"
--- timeout: 5
--- error_code: 200
--- response_body_like: ^retry: 2000\nid: 0\nevent: snapshot\ndata: [^\n]+\n\n(: ping\n\n)*event: close\ndata: \{"reason":"shutdown"\}\n\n$
--- no_error_log
[alert]
