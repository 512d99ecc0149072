# Pay for what is used: a tool's seconds, minutes (with their histogram
# and users sketch) and ring chunks come from the zone's pools as they are
# first written.  A sparse tool stays small, a busy one within what the
# zone says a busy tool takes, and a zone whose pools run dry refuses the
# whole request with 507.  A closed minute's histogram and users sketch
# are packed into one small record, and unpacked by a late write.
use Test::Nginx::Socket 'no_plan';
use IO::Socket::INET ();
use JSON::PP ();
use Time::HiRes ();

no_long_string();
no_shuffle();

our $Now = time;
our $Minute = $Now - $Now % 60;

sub ev {
    my ($tool, $ts, %more) = @_;
    my $extra = CORE::join "", map { qq(,"$_":$more{$_}) } sort keys %more;
    return qq({"tool":"$tool","type":"a","ts":$ts$extra});
}

# 36 minutes of the last six hours (one value, one user each), then 30
# seconds of the last 300 (a value and a user each)
sub sparse {
    my @l;
    push @l, ev("S", $Minute - 600 - 60 * $_ + 5, value => $_ + 1,
                user => qq("u$_")) for 0 .. 35;
    push @l, ev("S", $Now - $_, value => 2 * $_ + 1, user => qq("s$_"))
        for 0 .. 29;
    return CORE::join "\n", @l;
}

# every minute of the retention with $per values and users (33: past the
# 12 values and 24 users a FEW record holds, so a histogram and a users
# sketch each; 9: a FEW record each), every second with an event; with 33
# the tool a zone's "bytes_busy_tool" describes
sub busy {
    my ($m0, $per) = @_;
    $per //= 33;
    my @l;
    for my $m ($m0 .. $m0 + 89) {
        my $ts = $Minute - 60 * $m + 1;
        next if $ts < $Now - 6 * 3600 + 60;
        push @l, ev("B", $ts, value => $_ + 1, user => qq("b$m-$_"))
            for 0 .. $per - 1;
    }
    push @l, ev("B", $Now - $_) for ($m0 / 90 * 75) .. ($m0 / 90 * 75 + 74);
    return CORE::join "\n", @l;
}

# a day of minutes, one event each
sub day {
    my ($tool) = @_;
    return CORE::join "\n",
           map { ev($tool, $Minute - 60 * $_ + 1) } 0 .. 1438;
}

# a heavy minute (33 values, 33 users: the sketch keeps their keys; 90
# users more in the odd minutes: registers) for each of the minutes 2 to
# 40 back: closed for a minute at least, so packed once the sweep gets
# there
sub heavy {
    my @l;
    for my $m (2 .. 40) {
        push @l, ev("H", $Minute - 60 * $m + 1, value => ($_ % 11) * 3 + $m % 5
                                                          + 1,
                    user => qq("h$m-$_")) for 0 .. 32;
        next if $m % 2 == 0;
        push @l, ev("H", $Minute - 60 * $m + 2, user => qq("x$m-$_"))
            for 0 .. 89;
    }
    return CORE::join "\n", @l;
}

sub http {
    my ($method, $path, $body) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => server_port(),
                                  Timeout => 5) or return (0, '');
    $body //= '';
    print $s "$method $path HTTP/1.0\r\nHost: localhost\r\n"
             . "Content-Type: application/x-ndjson\r\n"
             . "Content-Length: " . length($body) . "\r\n\r\n$body";
    my $res = do { local $/; <$s> } // '';
    return $res =~ m{^HTTP/1\.\d (\d+).*?\r\n\r\n(.*)\z}s ? ($1, $2) : (0, '');
}

# the minutes closed before the block began, as JSON
sub closed_minutes {
    my ($body) = @_;
    my $r = JSON::PP::decode_json($body);
    my $json = JSON::PP->new->canonical;
    return { map { ($_->{t} => $json->encode($_)) }
             grep { $_->{t} <= $Minute - 120 && ($_->{counts}{a} // 0) }
             @{ $r->{minutes} } };
}

add_response_body_check(sub {
    my ($block, $body, $req_idx) = @_;
    my $name = $block->name;

    if ($name =~ /TEST 1:/ && $req_idx == 1) {
        my $z = JSON::PP::decode_json($body)->{zone};
        ok($z->{bytes_per_tool} > 0 && $z->{bytes_per_tool} <= 32768,
           "$name - bytes_per_tool $z->{bytes_per_tool} is at most 32 KB");
    }

    if ($name =~ /TEST 1:/ && $req_idx == 2) {
        my $r = JSON::PP::decode_json($body);
        my $min = grep { ($_->{counts}{a} // 0) > 0 } @{ $r->{minutes} };
        my $sec = grep { ($_->{counts}{a} // 0) > 0 } @{ $r->{seconds} };
        ok($min >= 37 && $min <= 38, "$name - $min minutes with events");
        is($sec, 30, "$name - seconds with events");
        # 66 users: past the 63 kept exactly, a HyperLogLog estimate
        ok(abs($r->{span}{users} - 66) <= 3,
           "$name - every user counted once: $r->{span}{users}");
        is($r->{span}{value}{count}, 66, "$name - every value");
    }

    if ($name =~ /TEST 2:/ && $req_idx == 4) {
        my $z = JSON::PP::decode_json($body)->{zone};
        ok($z->{bytes_per_tool} <= $z->{bytes_busy_tool},
           "$name - bytes_per_tool $z->{bytes_per_tool} is at most "
           . "bytes_busy_tool $z->{bytes_busy_tool}");
        ok($z->{bytes_per_tool} >= 0.9 * $z->{bytes_busy_tool},
           "$name - and close to it");
    }

    if ($name =~ /TEST 6:/ && $req_idx == 1) {
        my $before = closed_minutes($body);
        my (undef, $z) = http("GET", "/stats?limit=0");
        my $bytes = JSON::PP::decode_json($z)->{zone}{bytes_per_tool};

        # written every second (counts only: nothing to unpack) until the
        # sweep has packed its 39 minutes, 20 s at most
        my ($end, $now, $after) = (Time::HiRes::time() + 20, 0, $bytes);
        while (Time::HiRes::time() < $end) {
            http("POST", "/ingest", ev("H", time));
            (undef, $z) = http("GET", "/stats?limit=0");
            $after = JSON::PP::decode_json($z)->{zone}{bytes_per_tool};
            last if $bytes - $after >= 39 * 500;
            Time::HiRes::sleep(0.3);
        }
        ok($bytes - $after >= 39 * 500,
           "$name - packed: bytes_per_tool $bytes, then $after");

        my (undef, $b) = http("GET", "/stats?tool=H&window=3600");
        my $packed = closed_minutes($b);
        is(scalar(keys %$packed), 39, "$name - 39 closed minutes");
        my @differ = grep { ($packed->{$_} // '') ne $before->{$_} }
                     keys %$before;
        is(scalar(@differ), 0, "$name - each reads as it did before");

        # a late value and user into a packed minute: it is unpacked, and
        # has them besides its own
        my $t = $Minute - 60 * 10;
        my ($st) = http("POST", "/ingest",
                        ev("H", $t + 30, value => 1000, user => '"late"'));
        is($st, 202, "$name - a late event is taken");
        (undef, $b) = http("GET", "/stats?tool=H&window=3600");
        my ($m) = grep { $_->{t} == $t }
                  @{ JSON::PP::decode_json($b)->{minutes} };
        ok($m && $m->{users} == 34 && $m->{value}{count} == 34
           && $m->{value}{max} == 1000 && $m->{counts}{a} == 34,
           "$name - the late minute has 34 values, 34 users, max 1000");
        my $after_late = closed_minutes($b);
        @differ = grep { $_ != $t && $after_late->{$_} ne $before->{$_} }
                  keys %$before;
        is(scalar(@differ), 0, "$name - the other minutes as they were");
    }

    if ($name =~ /TEST 4:/ && $req_idx == 4) {
        my $z = JSON::PP::decode_json($body)->{zone};
        ok($z->{bytes_per_tool} <= 0.6 * $z->{bytes_busy_tool},
           "$name - bytes_per_tool $z->{bytes_per_tool} is at most 0.6 x "
           . "bytes_busy_tool $z->{bytes_busy_tool}");
    }

    if ($name =~ /TEST 4:/ && $req_idx == 5) {
        my $r = JSON::PP::decode_json($body);
        my @m = grep { ($_->{counts}{a} // 0) > 0 } @{ $r->{minutes} };
        my @bad = grep { $_->{users} != 9
                         || $_->{value}{count} != 9 || $_->{value}{min} != 1
                         || $_->{value}{max} != 9 } @m;
        ok(@m >= 300 && !@bad,
           "$name - " . scalar(@m) . " minutes, each with its 9 values "
           . "(1 to 9) and 9 users, exact: " . scalar(@bad) . " not");
    }
});

run_tests();

__DATA__

=== TEST 1: a tool seen in 36 minutes and 30 seconds, holding 10 events, takes at most 32 KB
--- http_config
    rtdash_zone rt:16m retention=6h events=10;
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request eval
["POST /ingest\n" . main::sparse(), "GET /stats", "GET /stats?tool=S&window=21600&events=0"]
--- more_headers
Content-Type: application/x-ndjson
--- error_code eval
[202, 200, 200]
--- response_body_like eval
[qr/^\{"accepted":66\}$/, qr/"tools":1,/, qr/"totals":\{"a":66\}/]



=== TEST 2: a tool busy every minute and second takes no more than bytes_busy_tool
--- http_config
    rtdash_zone rt:16m retention=6h;
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request eval
["POST /ingest\n" . main::busy(0), "POST /ingest\n" . main::busy(90),
 "POST /ingest\n" . main::busy(180), "POST /ingest\n" . main::busy(270),
 "GET /stats"]
--- more_headers
Content-Type: application/x-ndjson
--- error_code eval
[202, 202, 202, 202, 200]
--- response_body_like eval
[qr/^\{"accepted":\d+\}$/, qr/^\{"accepted":\d+\}$/,
 qr/^\{"accepted":\d+\}$/, qr/^\{"accepted":\d+\}$/, qr/"tools":1,/]



=== TEST 3: when the pools run dry the whole request is refused with 507, nothing of it kept
--- http_config
    rtdash_zone rt:1m retention=1d;
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request eval
["POST /ingest\n" . main::day("A"), "POST /ingest\n" . main::day("B"),
 "POST /ingest\n" . main::day("C"), "GET /stats?tool=C",
 "GET /stats"]
--- more_headers
Content-Type: application/x-ndjson
--- error_code eval
[202, 202, 507, 404, 200]
--- response_body_like eval
[qr/^\{"accepted":1439\}$/, qr/^\{"accepted":1439\}$/,
 qr/^\{"error":"zone is full, no room for the buckets of tool \\"C\\""\}$/,
 qr/unknown tool/, qr/"zone":\{[^}]*"accepted":2878,[^}]*"refused":1,/]



=== TEST 4: a tool with 9 values and 9 users a minute keeps them exact in FEW records, far below bytes_busy_tool
--- http_config
    rtdash_zone rt:16m retention=6h;
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request eval
["POST /ingest\n" . main::busy(0, 9), "POST /ingest\n" . main::busy(90, 9),
 "POST /ingest\n" . main::busy(180, 9), "POST /ingest\n" . main::busy(270, 9),
 "GET /stats", "GET /stats?tool=B&window=21600"]
--- more_headers
Content-Type: application/x-ndjson
--- error_code eval
[202, 202, 202, 202, 200, 200]
--- response_body_like eval
[qr/^\{"accepted":\d+\}$/, qr/^\{"accepted":\d+\}$/,
 qr/^\{"accepted":\d+\}$/, qr/^\{"accepted":\d+\}$/, qr/"tools":1,/,
 qr/"minutes":/]



=== TEST 5: a minute's 13th value takes it from its FEW record to a histogram with every value, its 25th user to a users sketch with every user
--- http_config
    rtdash_zone rt:16m retention=1h;
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request eval
["POST /ingest\n" . CORE::join("\n", map { main::ev("V", $main::Now, value => $_, user => qq("u$_")) } 1 .. 12),
 "GET /stats?tool=V&window=300",
 "POST /ingest\n" . CORE::join("\n", map { main::ev("V", $main::Now, value => $_, user => qq("u$_")) } 13 .. 30),
 "GET /stats?tool=V&window=300"]
--- more_headers
Content-Type: application/x-ndjson
--- error_code eval
[202, 200, 202, 200]
--- response_body_like eval
['^\{"accepted":12\}$',
 '"span":\{[^{]*"users":12,"value":\{"count":12,"min":1,"max":12,"avg":6\.5,',
 '^\{"accepted":18\}$',
 '"span":\{[^{]*"users":30,"value":\{"count":30,"min":1,"max":30,"avg":15\.5,']



=== TEST 6: a heavy tool's closed minutes are packed by the sweep: each reads the same at a fraction of the bytes, and a late value unpacks its minute
--- http_config
    rtdash_zone packed:16m retention=1h;
--- config
    location = /ingest { rtdash_ingest packed; }
    location = /stats { rtdash_stats packed; }
--- request eval
["POST /ingest\n" . main::heavy(), "GET /stats?tool=H&window=3600"]
--- more_headers
Content-Type: application/x-ndjson
--- error_code eval
[202, 200]
--- response_body_like eval
[qr/^\{"accepted":2997\}$/, qr/"minutes":/]
--- timeout: 30
