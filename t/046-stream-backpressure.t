# Backpressure of rtdash_stream.  Test::Nginx cannot hold a response
# unread, so this suite drives its own nginx (a 4k socket send buffer and
# send_timeout 3s make clients stall quickly) with plain sockets whose
# receive buffer is 4k too:
#  - a client that stops reading skips frames and, once it drains, gets a
#    new snapshot;
#  - a client that never reads again is closed after send_timeout;
#  - limit_conn still counts a stream for as long as it is open (a
#    request another module holds something for is not detached).
# It needs TEST_NGINX_LOAD_MODULES (the .so) like the other suites.
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
sleep 0.2;

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

# read what is there for up to $seconds; returns (data, closed)
sub drain {
    my ($s, $seconds) = @_;
    my ($data, $closed) = ('', 0);
    my $end = time + $seconds;
    my $rin = '';
    vec($rin, fileno($s), 1) = 1;
    while (time < $end) {
        my $n = select(my $rout = $rin, undef, undef, 0.2);
        next unless $n;
        my $got = sysread($s, my $buf, 65536);
        if (!$got) {
            $closed = 1;
            last;
        }
        $data .= $buf;
    }
    return ($data, $closed);
}

# 1. slow, then drains
{
    my $s = client();
    my ($start) = drain($s, 0.3);
    load(2);                          # frames pile up, the socket fills
    my ($data) = drain($s, 1.5);
    $data = $start . $data;
    my $snapshots = () = $data =~ /^event: snapshot$/mg;
    my $updates = () = $data =~ /^event: update$/mg;
    diag("slow client: " . length($data) . " bytes, $snapshots snapshots, $updates updates");
    ok($snapshots >= 2, "a stalled client gets a new snapshot once it drains");
    close $s;
}

# 2. stalls for good
{
    my $s = client();
    drain($s, 0.3);
    load(2);
    sleep 4.5;                        # send_timeout 3s, and some
    my ($data, $closed) = drain($s, 3);
    ok($closed, "a client that reads nothing is closed after send_timeout");
    close $s;
}

# 3. limit_conn counts an open stream until it ends
{
    my $a = client('/limited');
    my ($first) = drain($a, 0.5);
    like($first, qr{^HTTP/1\.1 200 .*event: snapshot}s, "the first stream is open");

    my $b = client('/limited');
    my ($second, $closed) = drain($b, 1);
    like($second, qr{^HTTP/1\.1 503 }, "limit_conn refuses a second one while it is");
    close $b;

    close $a;
    sleep 0.3;

    my $c = client('/limited?frames=1');
    my ($third) = drain($c, 1);
    like($third, qr{^HTTP/1\.1 200 .*event: snapshot}s, "and admits one once it has ended");
    close $c;
}

open my $log, '<', "$prefix/logs/error.log" or die $!;
my $text = do { local $/; <$log> };
like($text, qr/rtdash: stream client timed out/, "the timeout is logged");
unlike($text, qr/\[(alert|emerg|crit)\]/, "no alerts");

done_testing();
