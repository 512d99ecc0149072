# Backpressure of rtdash_stream.  Test::Nginx cannot hold a response
# unread, so this suite drives its own nginx (a 4k socket send buffer and
# send_timeout 3s make clients stall quickly) with plain sockets whose
# receive buffer is 4k too:
#  - a client that stops reading skips frames and, once it drains, gets a
#    new snapshot;
#  - a client that never reads again is closed after send_timeout;
#  - limit_conn still counts a stream for as long as it is open (a
#    request another module holds something for is not detached).
# It needs TEST_NGINX_LOAD_MODULES (the .so) like the other suites.  The
# waits for what must happen are upper bounds on a condition (a response
# seen, a line logged), never a time it is assumed to take.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use Socket qw(SOL_SOCKET SO_RCVBUF);
use Time::HiRes qw(sleep time);

my $module = $ENV{TEST_NGINX_LOAD_MODULES}
    or plan skip_all => 'TEST_NGINX_LOAD_MODULES is not set';
my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';

my $port = do {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0) or die $!;
    $s->sockport;
};

my $prefix = tempdir('rtdash-bp-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$prefix/$_" for qw(logs conf);
my $user = $> == 0 ? "user root;\n" : "";

open my $conf, '>', "$prefix/conf/nginx.conf" or die $!;
print $conf <<"CONF";
${user}load_module $module;
worker_processes 1;
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path body;
    rtdash_zone rt:16m retention=1h events=500;
    limit_conn_zone \$binary_remote_addr zone=perip:1m;
    server {
        listen 127.0.0.1:$port sndbuf=4k;
        send_timeout 3s;
        location = /ingest { rtdash_ingest rt; }
        location = /stream { rtdash_stream rt; rtdash_stream_interval 50ms; }
        location = /limited { limit_conn perip 1; rtdash_stream rt; }
    }
}
CONF
close $conf;

system($nginx, '-p', $prefix, '-c', 'conf/nginx.conf') == 0
    or BAIL_OUT("nginx did not start");

END {
    system($nginx, '-p', $prefix, '-c', 'conf/nginx.conf', '-s', 'stop')
        if $prefix && -s "$prefix/logs/nginx.pid";
}

sub post_batch {
    my ($n) = @_;
    my $body = join "\n", map {
        qq({"tool":"BP","type":"a","user":"u$_","id":"$n-$_-) . ('x' x 50) . '"}'
    } 1 .. 50;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port)
        or die $!;
    print $s "POST /ingest HTTP/1.0\r\nContent-Length: " . length($body)
             . "\r\n\r\n$body";
    my $res = do { local $/; <$s> };
    die "ingest: $res" unless $res =~ m{^HTTP/1\.1 202};
}

sub load {
    my ($seconds) = @_;
    my $end = time + $seconds;
    my $n = 0;
    while (time < $end) {
        post_batch($n++);
        sleep 0.04;
    }
}

sub client {
    my ($path) = @_;
    $path ||= '/stream?events=500';
    my $s = IO::Socket::INET->new(Proto => 'tcp') or die $!;
    setsockopt($s, SOL_SOCKET, SO_RCVBUF, 4096) or die $!;
    $s->connect(pack_sockaddr_in($port, inet_aton('127.0.0.1'))) or die $!;
    print $s "GET $path HTTP/1.1\r\nHost: t\r\n\r\n";
    return $s;
}

# read until the data matches $re, the peer closes or $bound seconds
# pass; returns (data, closed)
sub read_until {
    my ($s, $re, $bound) = @_;
    my ($data, $closed) = ('', 0);
    my $end = time + $bound;
    my $rin = '';
    vec($rin, fileno($s), 1) = 1;
    while ($data !~ $re && time < $end) {
        next unless select(my $rout = $rin, undef, undef, 0.1);
        my $got = sysread($s, my $buf, 65536);
        if (!$got) {
            $closed = 1;
            last;
        }
        $data .= $buf;
    }
    return ($data, $closed);
}

sub error_log {
    open my $log, '<', "$prefix/logs/error.log" or return '';
    local $/;
    return <$log>;
}

# 1. slow, then drains
{
    my $s = client();
    my ($start) = read_until($s, qr/^event: snapshot$/m, 10);
    load(2);                          # frames pile up, the socket fills
    my ($data) = read_until($s, qr/^event: snapshot$/m, 10);
    $data = $start . $data;
    my $snapshots = () = $data =~ /^event: snapshot$/mg;
    my $updates = () = $data =~ /^event: update$/mg;
    diag("slow client: " . length($data) . " bytes, $snapshots snapshots, $updates updates");
    ok($snapshots >= 2, "a stalled client gets a new snapshot once it drains");
    close $s;
}

# 2. stalls for good: nothing is read until nginx has logged the timeout
# (reading earlier would let it send again), within a bound of 30 s for
# the send_timeout of 3 s; then the connection is found closed
{
    my $timeouts = sub { scalar(() = error_log() =~ /stream client timed out/g) };
    my $before = $timeouts->();
    my $s = client();
    read_until($s, qr/^event: snapshot$/m, 10);
    load(2);
    my $end = time + 30;
    sleep 0.1 while $timeouts->() == $before && time < $end;
    my ($data, $closed) = read_until($s, qr/\A(?!)/, 10);
    ok($closed, "a client that reads nothing is closed after send_timeout");
    close $s;
}

# 3. limit_conn counts an open stream until it ends
{
    my $a = client('/limited');
    my ($first) = read_until($a, qr/^event: snapshot$/m, 10);
    like($first, qr{^HTTP/1\.1 200 .*event: snapshot}s, "the first stream is open");

    my $b = client('/limited');
    my ($second, $closed) = read_until($b, qr{\r\n\r\n}, 10);
    like($second, qr{^HTTP/1\.1 503 }, "limit_conn refuses a second one while it is");
    close $b;

    # nginx ends the first stream once it sees the close: until then a
    # new one may still be refused, so ask again for up to 10 s
    close $a;

    my ($third, $tries) = ('', 0);
    my $end = time + 10;
    while (time < $end) {
        $tries++;
        my $c = client('/limited?frames=1');
        ($third) = read_until($c, qr/^event: snapshot$/m, 10);
        close $c;
        last if $third !~ m{^HTTP/1\.1 503 };
        sleep 0.1;
    }
    like($third, qr{^HTTP/1\.1 200 .*event: snapshot}s, "and admits one once it has ended");
    diag("admitted at try $tries") if $tries > 1;
}

my $text = error_log();
like($text, qr/rtdash: stream client timed out/, "the timeout is logged");
unlike($text, qr/\[(alert|emerg|crit)\]/, "no alerts");

done_testing();
