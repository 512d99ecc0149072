# Eviction under open streams (evict=lru, see t/130-evict.t): a subscriber
# that filters on a tool keeps its stream when the tool is evicted, and
# when a new tool of that name comes, it sees the new one (its counts
# start again), never the old one's; a subscriber of every tool sees the
# tool that took the evicted one's place.  Test::Nginx cannot hold two
# responses open at once, so this suite drives its own nginx with plain
# sockets, like t/046-stream-backpressure.t.  The waits below are upper
# bounds for what must arrive, never measured.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use Time::HiRes qw(sleep time);

my $module = $ENV{TEST_NGINX_LOAD_MODULES}
    or plan skip_all => 'TEST_NGINX_LOAD_MODULES is not set';
my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';

my $port = do {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0) or die $!;
    $s->sockport;
};

my $prefix = tempdir('rtdash-evict-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$prefix/$_" for qw(logs conf);
my $user = $> == 0 ? "user root;\n" : "";
my $load = join '', map { "load_module $_;\n" } split ' ', $module;

open my $conf, '>', "$prefix/conf/nginx.conf" or die $!;
print $conf <<"CONF";
${user}${load}worker_processes 1;
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path body;
    rtdash_zone rt:8m retention=1m evict=lru evict_age=0 max_tools=2;
    server {
        listen 127.0.0.1:$port;
        location = /ingest { rtdash_ingest rt; }
        location = /stream { rtdash_stream rt; rtdash_stream_interval 50ms; }
    }
}
CONF
close $conf;

system($nginx, '-p', "$prefix/", '-c', 'conf/nginx.conf') == 0
    or BAIL_OUT("nginx did not start");

END {
    system($nginx, '-p', "$prefix/", '-c', 'conf/nginx.conf', '-s', 'stop')
        if $prefix && -s "$prefix/logs/nginx.pid";
}

sub post {
    my ($body) = @_;
    my $s;
    for (1 .. 50) {
        $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                   PeerPort => $port) and last;
        sleep 0.1;
    }
    die "connect: $!" unless $s;
    print $s "POST /ingest HTTP/1.0\r\nContent-Length: " . length($body)
             . "\r\n\r\n$body";
    my $res = do { local $/; <$s> };
    return $res;
}

sub subscribe {
    my ($query) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port)
        or die $!;
    print $s "GET /stream$query HTTP/1.0\r\n\r\n";
    return { sock => $s, data => '', pos => 0 };
}

# the data frames that came after the ones already taken, until one of
# them matches $re (or $bound seconds pass): (that frame, all of them)
sub frames_until {
    my ($sub, $re, $bound) = @_;
    my $end = time + $bound;
    my $rin = '';
    vec($rin, fileno($sub->{sock}), 1) = 1;
    my @frames;

    while (1) {
        while ($sub->{data} =~ /\G(?:.*?\r\n\r\n)?((?:[^\n]+\n)+)\n/gcs) {
            my $frame = $1;
            $sub->{pos} = pos($sub->{data});
            next unless $frame =~ /^data: /m;
            push @frames, $frame;
            return ($frame, \@frames) if $frame =~ $re;
        }
        pos($sub->{data}) = $sub->{pos};

        last if time >= $end;
        next unless select(my $rout = $rin, undef, undef, 0.1);
        my $got = sysread($sub->{sock}, my $buf, 65536);
        last unless $got;
        $sub->{data} .= $buf;
        pos($sub->{data}) = $sub->{pos};
    }

    return (undef, \@frames);
}

like(post('[' . join(',', ('{"tool":"A","type":"a"}') x 3) . ']'),
     qr/^HTTP\/1\.1 202 .*\{"accepted":3\}$/s, "A, three events");
like(post('{"tool":"B","type":"a"}'), qr/\{"accepted":1\}$/, "B");

my $only_a = subscribe('?tool=A');
my $every = subscribe('');

my ($frame) = frames_until($only_a, qr/^event: snapshot$/m, 10);
like($frame // '', qr/"tools":\[\{"name":"A",[^\]]*"totals":\{"a":3\}/,
     "the filtered stream's snapshot has A");
($frame) = frames_until($every, qr/^event: snapshot$/m, 10);
like($frame // '', qr/"tools":\[\{"name":"A",.*\{"name":"B",/,
     "the other stream's snapshot has A and B");

# C takes the place of A, the least recently updated; then a new A (a
# type of its own) takes B's
like(post('{"tool":"C","type":"a"}'), qr/\{"accepted":1\}$/, "C evicts A");
like(post('{"tool":"A","type":"b"}'), qr/\{"accepted":1\}$/,
     "a new A evicts B");

my $frames;
($frame, $frames) = frames_until($only_a,
                                 qr/^event: update\ndata: .*"evicted":2,/m,
                                 10);
ok($frame, "the filtered stream goes on after A was evicted");
like($frame // '', qr/"tools":\[\{"name":"A",[^\]]*"totals":\{"b":1\},/,
     "it shows the new A, counted from zero");
unlike(join('', @$frames), qr/"name":"[BC]"/,
       "and no other tool");

($frame, $frames) = frames_until($every,
                                 qr/^event: update\ndata: .*"evicted":2,/m,
                                 10);
my $all = join '', @$frames;
like($all, qr/"tools":\[[^\]]*\{"name":"C",[^\]]*"totals":\{"a":1\}/,
     "the other stream shows C");
like($all, qr/"tools":\[[^\]]*\{"name":"A",[^\]]*"totals":\{"b":1\}/,
     "and the new A");
unlike($all, qr/"totals":\{"a":4\}/, "never the old A counted on");

# the filtered stream still follows A

like(post('{"tool":"A","type":"b"}'), qr/\{"accepted":1\}$/, "A again");
($frame) = frames_until($only_a,
                        qr/"tools":\[\{"name":"A",[^\]]*"totals":\{"b":2\}/,
                        10);
ok($frame, "the filtered stream counts the new A on");

close $only_a->{sock};
close $every->{sock};

open my $log, '<', "$prefix/logs/error.log" or die $!;
my $text = do { local $/; <$log> };
like($text, qr/\[notice\] .*rtdash zone "rt": evicted tool "A", updated \d+ s ago, for new tool "C"; 1 evicted since the last such message/,
     "the first eviction is logged");
unlike($text, qr/\[(alert|emerg|crit|error)\]/, "no errors, no alerts");

done_testing();
