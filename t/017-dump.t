# dump= writes the zone to a file at exit and restores it at start.
use Test::Nginx::Socket 'no_plan';
use File::Copy ();
use File::Temp ();
use IO::Socket::INET ();
use JSON::PP ();
use Time::HiRes ();

# a directory of this run's own (the server root is remade for each block)
our $Dir = File::Temp::tempdir("rtdash-t017-XXXXXX", TMPDIR => 1,
                               CLEANUP => 1);
our $Dump = "$Dir/zone.dump";
our $Bad = "$Dir/bad.dump";
our $Mode = "$Dir/mode.dump";
our $Foreign = "$Dir/foreign.dump";
our $Link = "$Dir/link.dump";
our $Subdir = "$Dir/dir.dump";
our $V2 = "$Dir/v2.dump";
our $Few = "$Dir/few.dump";

# written by the module of layout 2 (dump version 2) with the zone below:
# tools V2 (three events with values 8, 42.5 and 11) and W (a gauge)
our $V2Data = "t/data/dump-v2.bin";
our $V2Zone = "rt:1m retention=1m events=2 types=2 gauges=1";

# written by the module of layout 5 (dump version 4, before sums) with the
# zone below: tool V4 (borrow 8 flagged, borrow 42.5, return 11 with gauge
# in_use 3, users ann, bob, cy) and W (gauges a 1.5 and b -2)
our $V4Data = "t/data/dump-v4.bin";
our $V4Zone = "rt:1m retention=1m events=4 types=2 gauges=2";
our $V4 = "$Dir/v4.dump";
our $Sums = "$Dir/sums.dump";
our $Packed = "$Dir/packed.dump";

# TEST 15-16: ten closed minutes of 33 values and 33 users, which the
# sweep packs before the dump is written
our $Now = time;
our $Minute = $Now - $Now % 60;
our $Heavy = CORE::join "\n", map {
    my $m = $_;
    map { qq({"tool":"H","type":"a","ts":) . ($Minute - 60 * $m + 1)
          . qq(,"value":) . ($_ % 11 * 2 + $m) . qq(,"user":"h$m-$_"}) }
        0 .. 32 } 2 .. 11;
our $PackedBefore;

no_shuffle();
no_long_string();

# With TEST_NGINX_USE_HUP=1 nginx is reloaded, never stopped or started,
# between blocks: no dump is written at exit, and the zone, kept by the
# reload, restores none.  The blocks about that are skipped in that mode.

add_block_preprocessor(sub {
    my $block = shift;
    my $path = $Dump;
    my $zone = "rt";

    # the first block starts from nothing
    unlink $Dump if $block->name =~ /TEST 1:/;

    # the third one finds garbage where the dump was
    if ($block->name =~ /TEST 3:/) {
        open my $f, ">", $Bad or die $!;
        print $f "x" x 4096;
        close $f;
        $path = $Bad;
    }

    # a worker writes this one, under umask 022 (a default mode: 0644);
    # a zone of its own, so that a reload too creates it empty
    if ($block->name =~ /TEST 4:/) {
        unlink $Mode;
        umask 022;
        $path = "$Mode dump_interval=1s";
        $zone = "mode";
    }

    # the good dump of TEST 1 and 2, but owned by a uid nginx never runs
    # as here (not nobody's 65534: TEST_NGINX_WORKER_USER may name it)
    if ($block->name =~ /TEST 5:/ && !$ENV{TEST_NGINX_USE_HUP}) {
        File::Copy::copy($Dump, $Foreign) or die $!;
        chown 65533, 65533, $Foreign if $> == 0;
        $path = $Foreign;
    }

    # a symlink to the good dump
    if ($block->name =~ /TEST 6:/) {
        unlink $Link;
        symlink $Dump, $Link or die $!;
        $path = $Link;
    }

    if ($block->name =~ /TEST 7:/) {
        mkdir $Subdir;
        $path = $Subdir;
    }

    # a dump of its own, from nothing
    if ($block->name =~ /TEST 1[01]:/) {
        unlink $Few if $block->name =~ /TEST 10:/;
        $path = $Few;
    }

    if ($block->name =~ /TEST 12:/) {
        File::Copy::copy($V4Data, $V4) or die $!;
        chmod 0600, $V4;
        $block->set_value("http_config", "rtdash_zone $V4Zone dump=$V4;");
        return;
    }

    if ($block->name =~ /TEST 1[34]:/) {
        unlink $Sums if $block->name =~ /TEST 13:/;
        $path = $Sums;
    }

    if ($block->name =~ /TEST 1[56]:/) {
        unlink $Packed if $block->name =~ /TEST 15:/;
        $path = $Packed;
    }

    if ($block->name =~ /TEST [89]:/) {
        File::Copy::copy($V2Data, $V2) or die $!;
        chmod 0600, $V2;
        $block->set_value("http_config", "rtdash_zone $V2Zone dump=$V2;");
        return;
    }

    $block->set_value("http_config",
                      "rtdash_zone $zone:8m retention=1h dump=$path;");
});

# the mode of the dump TEST 4's worker writes (dump_interval=1s): waited
# for, 30 s at most (it appears at once: a temp file renamed)
sub http {
    my ($method, $path, $body) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => server_port(),
                                  Timeout => 5) or return '';
    $body //= '';
    print $s "$method $path HTTP/1.0\r\nHost: localhost\r\n"
             . "Content-Length: " . length($body) . "\r\n\r\n$body";
    my $res = do { local $/; <$s> } // '';
    return $res =~ /\r\n\r\n(.*)\z/s ? $1 : '';
}

# tool H's closed minutes with events, as JSON, by start
sub closed_minutes {
    my $r = JSON::PP::decode_json(shift);
    my $json = JSON::PP->new->canonical;
    return { map { ($_->{t} => $json->encode($_)) }
             grep { $_->{t} <= $Minute - 120 && ($_->{counts}{a} // 0) }
             @{ $r->{minutes} } };
}

# TEST 15: H's minutes as they read, then written (counts only, now)
# until the sweep has packed them, 20 s at most; TEST 16: they read the
# same from the dump
add_response_body_check(sub {
    my ($block, $body, $req_idx) = @_;
    my $name = $block->name;

    if ($name =~ /TEST 15:/ && $req_idx == 1) {
        $PackedBefore = closed_minutes($body);
        my $z = JSON::PP::decode_json(http("GET", "/stats?limit=0"))->{zone};
        my ($bytes, $after) = ($z->{bytes_per_tool}) x 2;
        my $end = Time::HiRes::time() + 20;
        while (Time::HiRes::time() < $end && $bytes - $after < 10 * 400) {
            http("POST", "/ingest", qq({"tool":"H","type":"a"}));
            $z = JSON::PP::decode_json(http("GET", "/stats?limit=0"))->{zone};
            $after = $z->{bytes_per_tool};
            Time::HiRes::sleep(0.3);
        }
        ok($bytes - $after >= 10 * 400,
           "$name - packed: bytes_per_tool $bytes, then $after");
    }

    if ($name =~ /TEST 16:/ && $req_idx == 0) {
        my $restored = closed_minutes($body);
        is(scalar(keys %$restored), 10, "$name - ten closed minutes");
        is(scalar(grep { ($restored->{$_} // '') ne $PackedBefore->{$_} }
                  keys %$PackedBefore), 0,
           "$name - each as it was before it was packed");
    }
});

add_response_body_check(sub {
    my ($block, $body, $req_idx) = @_;

    return if $block->name !~ /TEST 4:/ || $req_idx != 1;

    my $end = time + 30;
    select(undef, undef, undef, 0.05) while !-e $Mode && time < $end;
    my @st = stat $Mode;
    is(@st ? sprintf("%04o", $st[2] & 07777) : "missing", "0600",
       $block->name . " - the dump's mode");
});

run_tests();

__DATA__

=== TEST 1: events go in; nginx stops and writes the dump
--- config
    location = /ingest { rtdash_ingest rt; }
--- request
POST /ingest
[{"tool":"D","type":"a","user":"x","value":5,"id":"i1"},{"tool":"E","type":"b","gauges":{"g":2}},{"notice":"kept <i>too</i>","level":"warn","tool":"D"}]
--- error_code: 202
--- response_body
{"accepted":2,"notices":1}
--- error_log eval
qr{no dump "\Q$::Dump\E"}



=== TEST 2: a new nginx restores everything from the dump, notices too
--- skip_eval: 3: $ENV{TEST_NGINX_USE_HUP}
--- config
    location = /stats { rtdash_stats rt; }
--- request
GET /stats?tool=D&events=1
--- error_code: 200
--- response_body_like: "window":\d+,"alerts":\{"states":\[\],"transitions":\[\]\},"notices":\[\{"seq":3,"t":[0-9.]+,"tool":"D","notice":"kept \\u003ci\\u003etoo\\u003c/i\\u003e","level":"warn"\}\],"anomalies":\[\],"types".*"tool":\{"name":"D",.*"seq":1,"totals":\{"a":1\},.*"value":\{"count":1,"min":5,"max":5,.*"events":\[\{"seq":1,"t":[0-9.]+,"type":"a","user":"x","flag":false,"value":5,"id":"i1"\}\]\}$
--- error_log eval
qr{restored 2 tools from "\Q$::Dump\E"}



=== TEST 3: a corrupt dump is refused with a reason, the zone starts empty
--- skip_eval: 4: $ENV{TEST_NGINX_USE_HUP}
--- config
    location = /stats { rtdash_stats rt; }
--- request
GET /stats
--- response_body_like: "tools":0,
--- error_log
not restored: not an rtdash dump; starting empty
--- no_error_log
[alert]



=== TEST 4: the dump a worker writes is readable by its owner only: 0600
--- config
    location = /ingest { rtdash_ingest mode; }
    location = /stats { rtdash_stats mode; }
--- request eval
["POST /ingest\n{\"tool\":\"M\",\"type\":\"a\"}", "GET /stats"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":1\}$', '"tools":1,']
--- no_error_log
[error]



=== TEST 5: a dump owned by another user is refused, the zone starts empty
--- skip_eval: 5: $> != 0 || $ENV{TEST_NGINX_USE_HUP}
--- config
    location = /stats { rtdash_stats rt; }
--- request
GET /stats
--- error_code: 200
--- response_body_like: "tools":0,
--- error_log eval
qr{dump "\Q$::Foreign\E" not restored: it is owned by uid 65533, neither root nor the nginx user; starting empty}
--- no_error_log
[error]
[alert]



=== TEST 6: a symlink to a good dump is refused, the zone starts empty
--- skip_eval: 5: $ENV{TEST_NGINX_USE_HUP}
--- config
    location = /stats { rtdash_stats rt; }
--- request
GET /stats
--- error_code: 200
--- response_body_like: "tools":0,
--- error_log eval
qr{dump "\Q$::Link\E" not restored: it is a symbolic link; starting empty}
--- no_error_log
[error]
[alert]



=== TEST 7: a directory in the dump's place is refused: not a regular file
--- skip_eval: 5: $ENV{TEST_NGINX_USE_HUP}
--- config
    location = /stats { rtdash_stats rt; }
--- request
GET /stats
--- error_code: 200
--- response_body_like: "tools":0,
--- error_log eval
qr{dump "\Q$::Subdir\E" not restored: it is not a regular file; starting empty}
--- no_error_log
[error]
[alert]



=== TEST 8: a dump of layout 2 (version 2) is upgraded: counts, values and events kept
--- config
    location = /stats { rtdash_stats rt; }
--- request
GET /stats?tool=V2&events=2
--- error_code: 200
--- response_body_like: "tool":\{"name":"V2",.*"seq":3,"totals":\{"borrow":2,"return":1\},"flagged":\{"borrow":1\},.*"value":\{"count":3,"min":8,"max":42\.5,"avg":20\.5,"p50":1[01]\.\d+,"p95":42\.5,"p99":42\.5\}\}.*"events":\[\{"seq":3,"t":[0-9.]+,"type":"return","user":"cy","flag":false,"value":11,"id":null\},\{"seq":2,[^\]]*"user":"bob","flag":false,"value":42\.5,"id":null\}\]\}$
--- error_log eval
qr{restored 2 tools from "\Q$::V2\E"}
--- no_error_log
[alert]



=== TEST 9: the upgraded tools' gauges are kept too
--- config
    location = /stats { rtdash_stats rt; }
--- request
GET /stats?tool=W&events=0
--- error_code: 200
--- response_body_like: "tool":\{"name":"W",.*"gauges":\{"in_use":3\}



=== TEST 10: a minute of 20 users and 10 values (a FEW record each) goes into the dump
--- skip_eval: 2: $ENV{TEST_NGINX_USE_HUP}
--- config
    location = /ingest { rtdash_ingest rt; }
--- request eval
"POST /ingest\n" . CORE::join("\n", map { qq({"tool":"F","type":"a","user":"u$_") . ($_ <= 10 ? qq(,"value":$_}) : "}") } 1 .. 20)
--- more_headers
Content-Type: application/x-ndjson
--- error_code: 202
--- response_body_like: ^\{"accepted":20\}$



=== TEST 11: restored as they were; 20 more users make the restored FEW record a users sketch
--- skip_eval: 8: $ENV{TEST_NGINX_USE_HUP}
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request eval
["GET /stats?tool=F",
 "POST /ingest\n" . CORE::join("\n", map { qq({"tool":"F","type":"a","user":"v$_"}) } 1 .. 20),
 "GET /stats?tool=F",
 "GET /stats?tool=F&window=60"]
--- more_headers
Content-Type: application/x-ndjson
--- error_code eval
[200, 202, 200, 200]
--- response_body_like eval
['"tool":\{"name":"F",.*"users":20,.*"value":\{"count":10,"min":1,"max":10,',
 '^\{"accepted":20\}$',
 '"tool":\{"name":"F",.*"users":40,.*"value":\{"count":10,"min":1,"max":10,',
 '"tool":\{"name":"F",.*"users":40,']



=== TEST 12: a dump of version 4 (before sums) is upgraded: counts, values, users, events and gauges kept; a sum takes a free slot
--- skip_eval: 10: $ENV{TEST_NGINX_USE_HUP}
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request eval
["GET /stats?tool=V4&events=3",
 "GET /stats?tool=W&events=0",
 "POST /ingest\n" . '{"tool":"V4","sums":{"bytes":5}}',
 "POST /ingest\n" . '{"tool":"V4","sums":{"in_use":1}}',
 "GET /stats?tool=V4&events=0"]
--- error_code eval
[200, 200, 202, 409, 200]
--- response_body_like eval
['"tool":\{"name":"V4",[^{]*"seq":3,"totals":\{"borrow":2,"return":1\},"flagged":\{"borrow":1\},[^{]*\{[^}]*\},"gauges":\{"in_use":3\},"sums":\{\},"value":\{"count":3,"min":8,"max":42\.5,"avg":20\.5,[^}]*\}\}.*"events":\[\{"seq":3,"t":[0-9.]+,"type":"return","user":"cy","flag":false,"value":11,"id":null\},\{"seq":2,[^\]]*"user":"bob",[^\]]*\{"seq":1,[^\]]*"user":"ann","flag":true,"value":8,"id":null\}\]\}$',
 '"tool":\{"name":"W",[^{]*"seq":4,.*"gauges":\{"a":1\.5,"b":-2\},"sums":\{\},',
 '^\{"accepted":1\}$',
 '^\{"error":"the tool has a gauge, not a sum, named \\\\"in_use\\\\""\}$',
 '"tool":\{"name":"V4",.*"gauges":\{"in_use":3\},"sums":\{"bytes":5\},']
--- no_error_log
[alert]



=== TEST 13: sums go into the dump: totals, the minute's and the second's
--- skip_eval: 2: $ENV{TEST_NGINX_USE_HUP}
--- config
    location = /ingest { rtdash_ingest rt; }
--- request
POST /ingest
[{"tool":"S","type":"a","sums":{"bytes_out":5120,"rows":3}},{"tool":"S","gauges":{"g":1},"sums":{"bytes_out":0.5}}]
--- error_code: 202
--- response_body_like: ^\{"accepted":2\}$



=== TEST 14: restored as they were, and they keep adding up
--- skip_eval: 6: $ENV{TEST_NGINX_USE_HUP}
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request eval
["GET /stats?tool=S&window=120",
 "POST /ingest\n" . '{"tool":"S","sums":{"rows":1}}',
 "GET /stats?tool=S&window=60"]
--- error_code eval
[200, 202, 200]
--- response_body_like eval
['"tool":\{"name":"S",.*"gauges":\{"g":1\},"sums":\{"bytes_out":5120\.5,"rows":3\},.*"sums":\{"bytes_out":5120\.5,"rows":3\}\}[,\]].*"seconds":\[[^\]]*"counts":\{"a":1\},"flagged":\{\},"sums":\{"bytes_out":5120\.5,"rows":3\}\}',
 '^\{"accepted":1\}$',
 '"sums":\{"bytes_out":5120\.5,"rows":4\},']



=== TEST 15: a heavy tool's closed minutes, packed by the sweep, go into the dump
--- skip_eval: 5: $ENV{TEST_NGINX_USE_HUP}
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request eval
["POST /ingest\n$main::Heavy", "GET /stats?tool=H&window=3600"]
--- more_headers
Content-Type: application/x-ndjson
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":330\}$', '"minutes":']
--- timeout: 30



=== TEST 16: restored, each minute reads as it did before it was packed
--- skip_eval: 4: $ENV{TEST_NGINX_USE_HUP}
--- config
    location = /stats { rtdash_stats rt; }
--- request
GET /stats?tool=H&window=3600
--- error_code: 200
--- response_body_like: "tool":\{"name":"H",
