# rtdash_system: the host's and nginx's figures as gauges of reserved
# tools, checked against /proc and stub_status read by the test; the
# directive's errors; config.json finding its stream and stats.
use Test::Nginx::Socket 'no_plan';
use JSON::PP ();
use IO::Socket::INET ();
use Time::HiRes ();

master_on();
workers(2);
no_long_string();

our %Stub;

# the tools of a stats overview: name => gauges
sub gauges_of {
    my $doc = eval { JSON::PP::decode_json($_[0]) } or return {};
    return { map { $_->{name} => $_->{gauges} } @{ $doc->{tools} } };
}

sub proc_file {
    open my $f, '<', $_[0] or return '';
    local $/;
    return <$f>;
}

sub nginx_pids {
    my $master = proc_file(server_root() . '/logs/nginx.pid');
    chomp $master;
    my @pids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        my $s = proc_file($stat);
        push @pids, $1 if $s =~ /^(\d+) \(.*\) \S+ (\d+) / && $2 == $master;
    }
    return @pids;
}

# stub_status "Active connections: 1\n ... 5 5 5\nReading: 0 Writing: 1
# Waiting: 0": kept for the next response of the block
sub stub_snapshot {
    my $body = shift;
    my @n = $body =~ /(\d+)/g;
    @Stub{qw(active accepted handled requests reading writing waiting)} = @n;
    return "stub_status\n";
}

# The sampler's figures after at least two idle ticks, against what
# stub_status said just before them on its own connection, closed since:
# the counters are the same, the connection itself is no longer active
# nor writing, and nothing happened between the ticks (rates 0).
# The sampler's last tick came either while nothing was open (after the
# /status connection closed, before /stats arrived), or while this /stats
# connection was open: then it is counted in accepted, handled and
# active, in whichever phase the tick found it (another process, worker
# 0, samples while a worker serves /stats: on a loaded machine it may
# take its sample between two steps of nginx's): accepted but not yet
# waiting for its request, waiting, reading it (requests one more), or
# served (writing).  Each state is compared exactly; the rates then only
# have to be there (the tick before may have come in the same
# connection's life, or not), a machine too busy to tick in between must
# not fail the comparison.
sub sampler_vs_stub {
    my $g = gauges_of(shift);
    my ($n, $t) = ($g->{nginx} || {}, $g->{'nginx.total'} || {});
    my %got = (%$n, %$t);
    my %idle = (
        accepted => $Stub{accepted}, handled => $Stub{handled},
        requests => $Stub{requests}, active => $Stub{active} - 1,
        reading => $Stub{reading}, writing => $Stub{writing} - 1,
        waiting => $Stub{waiting}, accepted_ps => 0, handled_ps => 0,
        requests_ps => 0, workers => 2,
    );
    my %open = (%idle,
        accepted => $idle{accepted} + 1, handled => $idle{handled} + 1,
        active => $idle{active} + 1,
    );
    my %phase = (
        accepted => {},
        waiting  => { waiting => $idle{waiting} + 1 },
        reading  => { requests => $idle{requests} + 1,
                      reading => $idle{reading} + 1 },
        served   => { requests => $idle{requests} + 1,
                      writing => $idle{writing} + 1 },
    );
    my $diff = sub {
        my ($want, $rates) = @_;
        return map { "$_: got " . ($got{$_} // 'none') . ", want $want->{$_}" }
               grep { $rates && /_ps$/
                      ? !defined $got{$_} || $got{$_} < 0
                      : !defined $got{$_} || $got{$_} != $want->{$_} }
               sort keys %$want;
    };
    my @idle = $diff->(\%idle, 0);
    return "equal\n" unless @idle;
    my @report = ("idle:", @idle);
    for my $p (qw(served reading waiting accepted)) {
        my @d = $diff->({ %open, %{ $phase{$p} } }, 1);
        return "equal\n" unless @d;
        push @report, "/stats $p:", @d;
    }
    return join("\n", @report) . "\n";
}

# host gauges: in range, and /proc/meminfo exactly
sub host_sane {
    my $g = gauges_of(shift);
    my @bad;
    my $check = sub { push @bad, $_[0] unless $_[1] };

    my $cpu = $g->{'host.cpu'} || {};
    my $sum = 0;
    for my $k (qw(user system iowait steal)) {
        my $v = $cpu->{$k};
        $check->("host.cpu $k", defined $v && $v >= 0 && $v <= 100);
        $sum += $v // 0;
    }
    $check->("host.cpu sum $sum", $sum <= 100.0001);

    my $load = $g->{'host.load'} || {};
    my @proc = split ' ', proc_file('/proc/loadavg');
    for my $i (0 .. 2) {
        my $k = (qw(1m 5m 15m))[$i];
        my $v = $load->{$k};
        # the kernel updates it every 5 s: a step at most since the tick
        $check->("host.load $k", defined $v && $v >= 0
                                 && abs($v - $proc[$i]) <= 1 + $proc[$i]);
    }

    my $mi = proc_file('/proc/meminfo');
    my ($total) = $mi =~ /^MemTotal:\s+(\d+) kB/m;
    my ($swap) = $mi =~ /^SwapTotal:\s+(\d+) kB/m;
    my $mem = $g->{'host.mem'} || {};
    $check->("host.mem total $mem->{total}", defined $mem->{total}
                                             && $mem->{total} == $total * 1024);
    $check->("host.mem available", defined $mem->{available}
                                   && $mem->{available} <= $mem->{total});
    $check->("host.mem used", defined $mem->{used}
                              && $mem->{used}
                                 == $mem->{total} - $mem->{available});
    $check->("host.mem swap_used", defined $mem->{swap_used}
                                   && $mem->{swap_used} >= 0
                                   && $mem->{swap_used} <= $swap * 1024);

    my $disk = $g->{'host.disk'} || {};
    $check->("host.disk free", defined $disk->{free} && $disk->{free} > 0);
    for my $k (qw(read_bps write_bps)) {
        $check->("host.disk $k", defined $disk->{$k} && $disk->{$k} >= 0);
    }

    my $net = $g->{'host.net'} || {};
    for my $k (qw(rx_bps tx_bps rx_errors tx_errors)) {
        $check->("host.net $k", defined $net->{$k} && $net->{$k} >= 0);
    }

    return @bad ? join("\n", @bad) . "\n" : "sane\n";
}

# the workers' tools: the pids of the master's workers, RSS near
# /proc/<pid>/status VmRSS, CPU % in range; and the zone's use
sub workers_sane {
    my $g = gauges_of(shift);
    my @bad;
    my %pids = map { $_ => 1 } nginx_pids();
    my $cpus = () = proc_file('/proc/stat') =~ /^cpu\d+ /mg;

    for my $i (0, 1) {
        my $w = $g->{"nginx.worker.$i"} || {};
        my $pid = $w->{pid} // 'none';
        push @bad, "worker $i pid $pid" unless $pids{$pid};
        delete $pids{$pid};
        my ($rss) = proc_file("/proc/$pid/status") =~ /^VmRSS:\s+(\d+) kB/m;
        push @bad, "worker $i rss" unless defined $w->{rss} && $rss
            && $w->{rss} > $rss * 1024 / 2 && $w->{rss} < $rss * 1024 * 2;
        push @bad, "worker $i cpu" unless defined $w->{cpu}
            && $w->{cpu} >= 0 && $w->{cpu} <= 100 * $cpus;
    }
    push @bad, "nginx.worker.2" if $g->{'nginx.worker.2'};
    push @bad, "workers left: " . join(' ', keys %pids) if %pids;

    my $zone = $g->{'nginx.zone'} || {};
    push @bad, "zone used + free"
        unless ($zone->{used} // 0) + ($zone->{free} // 0) == 8 * 1048576;
    push @bad, "zone tools $zone->{tools}"
        unless ($zone->{tools} // 0) == keys %$g;

    return @bad ? join("\n", @bad) . "\n" : "sane\n";
}

# GET $path over a socket of its own: the body, or '' on any failure
sub get_body {
    my ($path) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => server_port(),
                                  Timeout => 5) or return '';
    print $s "GET $path HTTP/1.0\r\nHost: localhost\r\n\r\n";
    my $res = do { local $/; <$s> } // '';
    return $res =~ /\r\n\r\n(.*)\z/s ? $1 : '';
}

# until $path's body matches $re, for $bound seconds at most: the blocks
# wait so for what the sampler must have done since nginx started (one,
# two samples, both workers known) rather than assume a time it takes
sub wait_for_body {
    my ($path, $re, $bound) = @_;
    my $end = Time::HiRes::time() + $bound;
    while (Time::HiRes::time() < $end) {
        return 1 if get_body($path) =~ $re;
        Time::HiRes::sleep(0.05);
    }
    return 0;
}

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", <<'CONF') unless defined $block->http_config;
    rtdash_zone rt:8m retention=1h;
    rtdash_system rt interval=100ms;
CONF

    # With TEST_NGINX_USE_HUP=1 nginx is reloaded between blocks, and a
    # zone whose name, size and parameters stay the same keeps its tools: a
    # block that needs tools missing has a zone of its own name, which the
    # reload creates empty (the default locations use the block's zone).
    # The other blocks that serve requests give rt the default's
    # parameters too: none is about a reload that changes them (and one
    # that changes them followed by one that does not brings nginx down:
    # the reused zone is unmapped, a module bug).
    my ($zone) = $block->http_config =~ /rtdash_zone (\w+):/;

    $block->set_value("config", <<"CONF") unless defined $block->config;
    location = /status { stub_status; }
    location = /stats { rtdash_stats $zone; }
CONF
});

run_tests();

__DATA__

=== TEST 1: nginx's connection gauges equal stub_status taken before two idle ticks
--- init
main::wait_for_body("/stats", qr/"name":"nginx",[^\n]*?"workers":2/, 30);
--- request eval
["GET /status", "GET /stats"]
--- wait: 0.5
--- response_body_filters eval
[[\&main::stub_snapshot], [\&main::sampler_vs_stub]]
--- response_body eval
["stub_status\n", "equal\n"]
--- no_error_log
[error]
[alert]



=== TEST 2: host gauges are in range, host.mem total is /proc/meminfo's MemTotal
--- init
main::wait_for_body("/stats", qr/"name":"host\.cpu"/, 30);
--- request eval
["GET /status", "GET /stats"]
--- wait: 0.5
--- response_body_filters eval
[[], [\&main::host_sane]]
--- response_body_like eval
["Active connections", "^sane\n\\z"]
--- no_error_log
[error]
[alert]



=== TEST 3: one tool per worker of this generation: pid, RSS and CPU %; the zone's use
--- init
main::wait_for_body("/stats", qr/"name":"nginx\.worker\.1",[^\n]*?"gauges":\{[^}]*"cpu":/, 30);
--- request eval
["GET /status", "GET /stats"]
--- wait: 0.5
--- response_body_filters eval
[[], [\&main::workers_sane]]
--- response_body_like eval
["Active connections", "^sane\n\\z"]
--- no_error_log
[error]
[alert]



=== TEST 4: the first sample has no rates nor percentages: host.cpu is not there yet
The first sample comes one interval after worker 0 started: the block
waits for it (host.mem there), for 30 s at most, and asks at once; the
second one is 5 s later.
--- http_config
    rtdash_zone first:8m retention=1h;
    rtdash_system first interval=5s;
--- init
main::wait_for_body("/stats", qr/"name":"host\.mem"/, 30);
--- request
GET /stats
--- response_body_like eval
qr/^(?!.*"host\.cpu")(?!.*"accepted_ps")(?!.*"rx_bps")(?!.*"cpu":).*"name":"host\.mem".*"name":"nginx\.worker\.0","updated":[0-9.]+,"seq":\d+,"totals":\{\},"flagged":\{\},"rate_per_min":\{\},"gauges":\{"pid":\d+,"rss":\d+\}/s
--- no_error_log
[error]
[alert]



=== TEST 5: host= and nginx= rename the reserved tools
--- http_config
    rtdash_zone renamed:8m retention=1h;
    rtdash_system renamed interval=100ms host=box nginx=web;
--- init
main::wait_for_body("/stats", qr/"name":"web",[^\n]*?"workers":2/, 30);
--- wait: 0.5
--- request eval
["GET /status", "GET /stats?tool=box.mem", "GET /stats?tool=web", "GET /stats?tool=host.mem"]
--- response_body_like eval
["Active connections",
 '"name":"box\.mem".*"gauges":\{"total":\d+,',
 '"name":"web".*"gauges":\{"active":\d+,"reading":\d+,"writing":\d+,"waiting":\d+,"workers":2,',
 '\{"error":"unknown tool \\\\"host.mem\\\\""\}']
--- error_code eval
[200, 200, 200, 404]
--- no_error_log
[error]
[alert]



=== TEST 6: the gauges reach the Prometheus exposition like any other
--- config
    location = /status { stub_status; }
    location = /metrics { rtdash_prometheus rt; }
--- init
main::wait_for_body("/metrics", qr/tool="host\.mem",name="total"/, 30);
--- wait: 0.5
--- request eval
["GET /status", "GET /metrics"]
--- response_body_like eval
["Active connections",
 'rtdash_tool_level\{[^}]*tool="host\.mem",name="total"\} \d+']
--- no_error_log
[error]
[alert]



=== TEST 7: an unknown zone is refused by nginx -t
--- http_config
    rtdash_zone rt:8m;
    rtdash_system nope;
--- must_die



=== TEST 8: a zone of fewer than 8 gauges a tool is refused
--- http_config
    rtdash_zone rt:8m gauges=4;
    rtdash_system rt;
--- must_die



=== TEST 9: an interval above 1h is refused
--- http_config
    rtdash_zone rt:8m;
    rtdash_system rt interval=2h;
--- must_die



=== TEST 10: an interval below 100ms, or not a time, is refused
--- http_config
    rtdash_zone rt:8m;
    rtdash_system rt interval=50ms;
    rtdash_system rt interval=soon;
--- must_die



=== TEST 11: an unknown parameter is refused
--- http_config
    rtdash_zone rt:8m;
    rtdash_system rt every=1s;
--- must_die



=== TEST 12: a second rtdash_system for the same zone is refused
--- http_config
    rtdash_zone rt:8m;
    rtdash_system rt;
    rtdash_system rt interval=5s;
--- must_die



=== TEST 13: host= and nginx= must differ
--- http_config
    rtdash_zone rt:8m;
    rtdash_system rt host=same nginx=same;
--- must_die



=== TEST 14: an empty or too long name is refused
--- http_config eval
"rtdash_zone rt:8m; rtdash_system rt host=" . ("h" x 105) . ";"
--- must_die



=== TEST 15: rtdash_system is an http-level directive
--- http_config
    rtdash_zone rt:8m;
--- config
    rtdash_system rt;
--- must_die



=== TEST 16: config.json points to the server's one stream and one stats location
--- http_config
    rtdash_zone rt:8m retention=1h;
--- config
    location /dash/ { rtdash_dashboard rt; }
    location /live/sse { rtdash_stream rt; }
    location = /api/stats { rtdash_stats rt; }
--- request
GET /dash/config.json
--- response_body_like chomp
^\{"stream":"/live/sse","stats":"/api/stats","transport":"auto",
--- no_error_log
[error]



=== TEST 17: two stream locations: the relative default stays; stats is still found
--- http_config
    rtdash_zone rt:8m retention=1h;
--- config
    location /dash/ { rtdash_dashboard rt; }
    location /s1 { rtdash_stream rt; }
    location /s2 { rtdash_stream rt; }
    location /st { rtdash_stats rt; }
--- request
GET /dash/config.json
--- response_body_like chomp
^\{"stream":"stream","stats":"/st","transport":"auto",
--- no_error_log
[error]



=== TEST 18: another zone's or another server's locations are not the dashboard's
--- http_config
    rtdash_zone rt:8m retention=1h;
    rtdash_zone other:8m;
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location /s { rtdash_stream rt; }
    }
--- config
    location /dash/ { rtdash_dashboard rt; }
    location /st { rtdash_stats other; }
--- request
GET /dash/config.json
--- response_body_like chomp
^\{"stream":"stream","stats":"stats","transport":"auto",
--- no_error_log
[error]



=== TEST 19: stream= and stats= given are kept, whatever the server holds
--- http_config
    rtdash_zone rt:8m retention=1h;
--- config
    location /dash/ { rtdash_dashboard rt stream=/mine stats=https://api.example/st; }
    location /s { rtdash_stream rt; }
    location /st { rtdash_stats rt; }
--- request
GET /dash/config.json
--- response_body_like chomp
^\{"stream":"/mine","stats":"https://api.example/st","transport":"auto",
--- no_error_log
[error]



=== TEST 20: a regex stream location has no URI to give
--- http_config
    rtdash_zone rt:8m retention=1h;
--- config
    location /dash/ { rtdash_dashboard rt; }
    location ~ ^/s$ { rtdash_stream rt; }
    location /st { rtdash_stats rt; }
--- request
GET /dash/config.json
--- response_body_like chomp
^\{"stream":"stream","stats":"/st","transport":"auto",
--- no_error_log
[error]



=== TEST 21: config.json tells the page the sampler's tool names and interval, and null for a zone without one
--- http_config
    rtdash_zone rt:8m retention=1h;
    rtdash_zone other:8m retention=1h;
    rtdash_system rt interval=500ms host=box nginx=web;
--- config
    location /dash/ { rtdash_dashboard rt; }
    location /other/ { rtdash_dashboard other; }
--- request eval
["GET /dash/config.json", "GET /other/config.json"]
--- response_body_like eval
['"zone":"rt","system":\{"host":"box","nginx":"web","interval":0\.5\},"title":"rtdash"\}$',
 '"zone":"other","system":null,"title":"rtdash"\}$']
--- no_error_log
[error]
