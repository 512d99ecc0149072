# The alert rules' evaluator: with two workers one evaluates (the lease in
# the zone); killed, another takes over within the lease, the states it
# left stay as they were (no second "firing"), and new ones are found.
#
# A plain Test::More script (it kills a worker, which Test::Nginx blocks
# do not do): nginx and the module are found as run-tests passes them,
# TEST_NGINX_BINARY and TEST_NGINX_LOAD_MODULES; it listens on 127.0.0.1,
# port TEST_NGINX_PORT + 7, and stops nginx at the end.  Every wait is
# bounded (10 s).
use strict;
use warnings;
use Test::More;
use File::Temp ();
use FindBin ();
use IO::Socket::INET;
use Time::HiRes qw(sleep time);

my $top = "$FindBin::Bin/..";

my $nginx = $ENV{TEST_NGINX_BINARY} || $ENV{NGINX_BIN}
            || (grep { -x } map { "$_/nginx" } split(/:/, $ENV{PATH} || ''),
                '/usr/sbin')[0]
            || 'nginx';

my @modules = grep { length } split /\s+/,
              ($ENV{TEST_NGINX_LOAD_MODULES}
               || "$top/build/ngx_http_rtdash_module.so");

plan skip_all => "no module: run make first" unless grep { -f } @modules;

my $port = ($ENV{TEST_NGINX_PORT} || 1984) + 7;
my $dir = File::Temp::tempdir('rtdash-takeover-XXXXXX', TMPDIR => 1,
                              CLEANUP => 1);
mkdir "$dir/logs";

open my $cf, '>', "$dir/nginx.conf" or die $!;
print $cf join('', map { "load_module $_;\n" } @modules), <<"CONF";
worker_processes 2;
error_log $dir/logs/error.log info;
pid $dir/logs/nginx.pid;
@{[ $> == 0 ? "user root;" : "" ]}
events { worker_connections 64; }
http {
    access_log off;
    rtdash_zone tk:8m retention=1h;
    rtdash_alert tk hot count >= 1 window=1h;
    server {
        listen 127.0.0.1:$port;
        location = /ingest { rtdash_ingest tk; }
        location = /stats { rtdash_stats tk; }
    }
}
CONF
close $cf;

sub http {
    my ($method, $uri, $body) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 5) or return '';
    $body = '' unless defined $body;
    print $s "$method $uri HTTP/1.0\r\nHost: localhost\r\n"
             . "Content-Length: " . length($body) . "\r\n\r\n$body";
    local $/;
    my $r = <$s>;
    return defined $r ? $r : '';
}

sub log_text {
    open my $f, '<', "$dir/logs/error.log" or return '';
    local $/;
    my $t = <$f>;
    return defined $t ? $t : '';
}

# poll until $cond returns true, 10 s at most
sub wait_for {
    my ($cond) = @_;
    my $end = time + 10;
    while (time < $end) {
        my $v = $cond->();
        return $v if $v;
        sleep 0.1;
    }
    return $cond->();
}

sub evaluators { my @p = log_text() =~ /worker (\d+) evaluates the alert rules/g; @p }

system($nginx, '-p', "$dir/", '-c', "$dir/nginx.conf") == 0
    or BAIL_OUT("nginx does not start: see $dir/logs/error.log");

my $master;

END {
    if ($master) {
        kill 'TERM', $master;
        my $end = time + 10;
        sleep 0.1 while kill(0, $master) && time < $end;
        kill 'KILL', $master if kill 0, $master;
    }
}

$master = wait_for(sub {
    open my $f, '<', "$dir/logs/nginx.pid" or return 0;
    my $p = <$f>;
    return $p && $p =~ /(\d+)/ ? $1 : 0;
});

ok($master, "nginx runs");

ok(wait_for(sub { http('GET', '/stats') =~ /^HTTP\/1\.1 200/ }),
   "it answers");

like(http('POST', '/ingest', '{"tool":"A","type":"a"}'), qr/\{"accepted":1\}/,
     "an event of A");

ok(wait_for(sub {
       http('GET', '/stats') =~ /"rule":"hot","tool":"A","state":"firing"/
   }), "A's rule fires");

sleep 2.5;

my @ev = evaluators();
is(scalar(@ev), 1, "one worker evaluates, and only one (@ev)");

my $first = $ev[0] || 0;

my @workers = grep { $_ != $master }
              map { /^\s*(\d+)/ ? $1 : () } `ps -o pid= --ppid $master`;
is(scalar(@workers), 2, "two workers (@workers)");
ok((grep { $_ == $first } @workers), "the evaluator is one of them");

ok(kill('KILL', $first), "the evaluator $first is killed");

my $next = wait_for(sub {
    log_text() =~ /worker (\d+) evaluates the alert rules, taking over/
        ? $1 : 0;
});

ok($next && $next != $first, "worker $next takes over");

like(http('POST', '/ingest', '{"tool":"B","type":"a"}'), qr/\{"accepted":1\}/,
     "an event of B");

my $stats = wait_for(sub {
    my $s = http('GET', '/stats');
    return $s =~ /"rule":"hot","tool":"B","state":"firing"/ ? $s : '';
});

ok($stats, "the new evaluator finds B's rule firing");

my @a = $stats =~ /"tool":"A","rule":"hot","state":"firing"/g;
is(scalar(@a), 1, "A's state was kept: one transition to firing, not two");
like($stats, qr/"alerts_firing":2,/, "two firing");

sleep 2;
my @later = grep { $_ != $first && $_ != $next } evaluators();
is(scalar(@later), 0, "no third evaluator");

done_testing();
