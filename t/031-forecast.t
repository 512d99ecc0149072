# stats?tool=X&forecast=N: Holt's linear trend over the window's complete
# minutes, checked against a reference computed here from the minutes the
# same response carries.
use Test::Nginx::Socket 'no_plan';
use JSON::PP ();

no_long_string();

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", "rtdash_zone rt:8m retention=1h;");
    $block->set_value("config", <<'CONF');
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
CONF
});

# events of a tool backdated into the last ten complete minutes: shape(i)
# of them in the i-th.  Each block has a tool of its own: with
# TEST_NGINX_USE_HUP=1 the zone keeps the events of the blocks before.
sub body {
    my ($tool, $shape) = @_;
    my $now = time;
    my $base = $now - $now % 60;
    my @lines;
    for my $i (0 .. 9) {
        my $ts = $base - (10 - $i) * 60 + 30;
        push @lines, qq({"tool":"$tool","type":"a","ts":$ts})
            for 1 .. $shape->($i);
    }
    return CORE::join "\n", @lines;
}

sub holt {
    my ($x, $alpha, $beta) = @_;
    my ($level, $trend) = ($x->[0], $x->[1] - $x->[0]);
    my $sse = 0;
    for my $i (1 .. $#$x) {
        my $e = $x->[$i] - ($level + $trend);
        $sse += $e * $e;
        my $prev = $level;
        $level = $alpha * $x->[$i] + (1 - $alpha) * ($level + $trend);
        $trend = $beta * ($level - $prev) + (1 - $beta) * $trend;
    }
    return ($sse, $level, $trend, $#$x);
}

sub near { my ($a, $b) = @_; return abs($a - $b) <= 1e-4 * (1 + abs($b)); }

# the forecast against the reference, from the response's own minutes
add_response_body_check(sub {
    my ($block, $body, $req_idx) = @_;
    return if $req_idx != 1 || $block->name !~ /reference/;

    my $r = JSON::PP::decode_json($body);
    my @m = @{ $r->{minutes} };
    pop @m;                                   # the current minute
    my @x = map { $_->{counts}{a} // 0 } @m;
    shift @x while @x > 3 && $x[0] == 0;      # before the first count

    my ($best, $ba, $bb);
    for my $a (1 .. 9) {
        for my $b (1 .. 9) {
            my ($sse) = holt(\@x, $a / 10, $b / 10);
            ($best, $ba, $bb) = ($sse, $a / 10, $b / 10)
                if !defined $best || $sse < $best - 1e-9;
        }
    }

    my ($sse, $level, $trend, $n) = holt(\@x, $ba, $bb);
    my $sigma = $n ? sqrt($sse / $n) : 0;
    my $f = $r->{forecast}{types}{a};
    my $ok = $f && near($f->{alpha}, $ba) && near($f->{beta}, $bb)
             && near($f->{sigma}, $sigma)
             && @{ $f->{points} } == $r->{forecast}{steps};

    for my $h (1 .. @{ $f->{points} || [] }) {
        my $p = $f->{points}[$h - 1];
        my $var = 1;
        $var += ($ba * (1 + $_ * $bb)) ** 2 for 1 .. $h - 1;
        my $v = $level + $h * $trend;
        my $half = 1.96 * $sigma * sqrt($var);
        my $clamp = sub { $_[0] > 0 ? $_[0] : 0 };
        $ok &&= near($p->{value}, $clamp->($v))
                && near($p->{low}, $clamp->($v - $half))
                && near($p->{high}, $clamp->($v + $half))
                && $p->{t} == $r->{forecast}{from} + ($h - 1) * 60;
    }

    # the line 1..10 goes on as 11, 12, 13 (unless the request crossed a
    # minute's end and an empty minute now closes the series)
    if ($block->name =~ /straight line/ && $x[-1] == 10) {
        $ok &&= CORE::join(",", map { $_->{value} } @{ $f->{points} })
                eq "11,12,13";
    }

    Test::More::ok($ok, $block->name . " - matches the reference")
        or Test::More::diag($body);
});

run_tests();

__DATA__

=== TEST 1: a straight line goes on as one: 1..10 a minute, then 11, 12, 13 (reference)
--- request eval
["POST /ingest\n" . main::body("line", sub { $_[0] + 1 }),
 "GET /stats?tool=line&window=900&events=0&forecast=3"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":55\}$',
 '"forecast":\{"steps":3,"from":\d+,"types":\{"a":\{"alpha":[0-9.]+,"beta":[0-9.]+,"sigma":[0-9.e-]+,"points":\[\{"t":\d+,"value":[0-9.]+,"low":[0-9.]+,"high":[0-9.]+\},[^]]*\]\}\}\}\}$']
--- no_error_log
[error]



=== TEST 2: a noisy series (reference)
--- request eval
["POST /ingest\n" . main::body("noisy", sub { (3, 9, 4, 12, 6, 15, 8, 14, 11, 19)[$_[0]] }),
 "GET /stats?tool=noisy&window=900&events=0&forecast=5"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":101\}$', '"forecast":\{"steps":5,']
--- no_error_log
[error]



=== TEST 3: a falling series is clamped at zero (reference)
--- request eval
["POST /ingest\n" . main::body("falling", sub { 20 - 2 * $_[0] }),
 "GET /stats?tool=falling&window=900&events=0&forecast=12"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":110\}$', '"value":0,"low":0,"high":0\}\]\}\}\}\}$']
--- no_error_log
[error]



=== TEST 4: forecast=0 or none: no forecast; more than 60, or not a number: 400
--- request eval
["GET /stats?tool=F&forecast=0", "GET /stats?tool=F&forecast=61",
 "GET /stats?tool=F&forecast=x", "POST /ingest\n{\"tool\":\"F\",\"type\":\"a\"}",
 "GET /stats?tool=F&events=0"]
--- error_code eval
[404, 400, 400, 202, 200]
--- response_body_like eval
['unknown tool',
 '^\{"error":"\\\\"forecast\\\\" takes a number of minutes, 0 to 60"\}$',
 '^\{"error":"\\\\"forecast\\\\" takes a number of minutes, 0 to 60"\}$',
 'accepted', '"events":\[\]\}$']
--- no_error_log
[error]
