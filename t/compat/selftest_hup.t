# Self-test: TEST_NGINX_USE_HUP mode; shared memory survives the reload.
# The env var must be set before Test::Nginx::Socket is loaded.
BEGIN { $ENV{TEST_NGINX_USE_HUP} = 1 }

use Test::Nginx::Socket;
use POSIX ();

if (($Test::Nginx::Socket::VERSION || '') !~ /compat/) {
    plan skip_all => 'self-test of the compat runner only';
}

no_shuffle();

plan tests => 3 * blocks();

# the master's workers that still accept connections (not shutting down)
sub accepting {
    open my $p, '<', server_root() . '/logs/nginx.pid' or return ();
    chomp(my $master = <$p>);
    my @pids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $f, '<', $stat or next;
        my $s = <$f>;
        next if !defined $s || $s !~ /^(\d+) \(.*\) \S+ (\d+) / || $2 != $master;
        my $pid = $1;
        open my $c, '<', "/proc/$pid/cmdline" or next;
        my $cmd = do { local $/; <$c> } // '';
        push @pids, $pid if $cmd =~ /worker process/ && $cmd !~ /shutting down/;
    }
    return @pids;
}

# Before TEST 3's reload its old worker is stopped, and a helper resumes it
# 1 s later: all the new config's checks go to the new worker, and the old
# one has not yet acted on the master's order to quit.  The runner waits
# until it does, so that it cannot take the block's request.
add_block_preprocessor(sub {
    my $block = shift;
    return if $block->name !~ /TEST 3:/;

    my @old = accepting();
    kill 'STOP', @old;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    return if $pid;
    sleep 1;
    kill 'CONT', @old;
    POSIX::_exit(0);
});

# TEST 3's init, right after the reload
our $Accepting;

sub count_accepting { $Accepting = () = accepting(); }

add_response_body_check(sub {
    my ($block) = @_;
    return if $block->name !~ /TEST 3:/;
    Test::More::is($Accepting, 1, $block->name
                   . " - only the new configuration's worker accepts");
});

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



=== TEST 3: once the new config is served, the old workers no longer accept
--- config
    location = /gen { return 200 "third\n"; }
--- init
main::count_accepting();
--- request
GET /gen
--- response_body
third
