# Accuracy of what the zone reports about values and users, held to the
# bounds of issue 16 against exact references computed here from what
# each block sends (no timing is asserted, only bounds):
#
# - p50/p95/p99 (nearest rank: the value of rank ceil(q * count), at least
#   1) within 5 % of the exact percentile, each, for any distribution of
#   values from 1e-3 to 3.6e6 (1 us to 1 h in ms); over the estimates whose
#   exact value lies strictly between min and max (where the histogram's
#   resolution shows), a mean error of at most 2 %; count, min and max
#   exact, avg to its printed digits.  Values <= 0 have no bin: a rank that
#   falls among them reports min.
# - the same for a minute, the tool since start, a window of minutes merged
#   (span in the JSON, the "window" row of the CSV) and two tools merged
#   (span of a stream frame with two tool= arguments).
# - distinct users, from 1 to 1,000,000 in one minute: exact below 64,
#   a typical error (root mean square over many sketches) of at most 5 %,
#   each estimate within 15 % (see users_tol); the window's figure is the
#   union of its minutes (a user seen in several minutes counts once).
#
# Every event is backdated (ts) to the middle of a complete minute, so a
# block that crosses a minute's end puts nothing in a minute it did not
# mean to; the windows asked for list minutes enough for a block that
# runs a few minutes late.  The references cover exactly the minutes a
# response lists.
use Test::Nginx::Socket 'no_plan';
use JSON::PP ();
use POSIX ();
use List::Util ();

no_shuffle();
no_long_string();

our $PctMax = 0.05;     # each percentile
our $PctMean = 0.02;    # the mean over the interior estimates

# Distinct users: exact below 64 (the sketch keeps exact hashes there).
# Above, a sketch of 508 registers has a standard error of about
# 1.04 / sqrt(508) = 4.6 % (3.2 % at 100, where it counts empty
# registers): one estimate is off by more than 5 % about one time in
# four, so one estimate is held to 15 % (3.3 standard errors), and the
# typical error, the root mean square over hundreds of independent
# sketches (minutes and tools of their own users), to 5 %.
sub users_tol { my ($n) = @_; return $n < 64 ? 0 : 0.15 }
our $UsersTypical = 0.05;

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config",
                      "rtdash_zone rt:64m retention=1h events=1;");
    $block->set_value("config", <<'CONF');
    location = /ingest {
        rtdash_ingest rt;
        client_max_body_size 16m;
        client_body_buffer_size 16m;
    }
    location = /stats { rtdash_stats rt; }
    location = /stream { rtdash_stream rt; }
CONF
    $block->set_value("timeout", 60) unless defined $block->timeout;
});


# ---------------------------------------------------------------------
# exact references

# the nearest-rank percentile of a sorted list
sub exact_pct {
    my ($sorted, $q) = @_;
    my $rank = POSIX::ceil($q * @$sorted - 1e-9);
    $rank = 1 if $rank < 1;
    return $sorted->[$rank - 1];
}

# the number of distinct users in a list of [prefix, lo, hi) ranges
sub exact_users {
    my (%by, $n);
    push @{ $by{ $_->[0] } }, [ $_->[1], $_->[2] ] for @_;
    for my $r (values %by) {
        my ($end) = (-1);
        for my $i (sort { $a->[0] <=> $b->[0] } @$r) {
            my ($lo, $hi) = @$i;
            $lo = $end if $lo < $end;
            next if $hi <= $lo;
            $n += $hi - $lo;
            $end = $hi;
        }
    }
    return $n // 0;
}

# the helpers against hand-made answers: a wrong reference stops the suite
{
    my @s = (3, 5, 7, 11, 100);         # ranks 1..5
    my @want = (7, 100, 100);           # ceil(2.5) = 3, ceil(4.75) = 5, 5
    my @got = map { exact_pct(\@s, $_) } 0.5, 0.95, 0.99;
    my @s20 = (1 .. 20);                # ceil(10) = 10, ceil(19) = 19,
    push @got, map { exact_pct(\@s20, $_) } 0.5, 0.95, 0.99;  # ceil(19.8)
    push @want, 10, 19, 20;
    push @got, exact_pct([42], 0.5), exact_pct([1, 2], 0.5);
    push @want, 42, 1;
    push @got, exact_users(["a", 0, 10], ["a", 5, 15], ["b", 0, 10],
                           ["a", 20, 21], ["a", 0, 3]);
    push @want, 15 + 10 + 1;
    die "t/120: the reference helpers are wrong: got @got, want @want\n"
        if "@got" ne "@want";
}


# ---------------------------------------------------------------------
# what the blocks send

our %Sent;    # $Sent{tool}{minute} = { v => [values], u => [ranges], n }
our %Plan;    # $Plan{case} = { reqs, codes, checks, base, lines, batch }
our @Errors;  # relative errors of the interior estimates, for the mean
our %Seen;    # the sets of (tool, minute) an estimate was recorded for
our %Rms;     # $Rms{group} = [relative errors of distinct counts]

# a value as the events carry it: six significant digits, no exponent
sub fmt {
    my ($v) = @_;
    return "0" if $v == 0;
    my $d = 5 - POSIX::floor(log(abs $v) / log(10));
    return sprintf "%.*f", $d < 0 ? 0 : $d, $v;
}

sub normal {
    my $u = 1 - rand;
    return sqrt(-2 * log $u) * cos(6.283185307179586 * rand);
}

sub lognormal {
    my ($median, $sigma) = @_;
    return exp(log($median) + $sigma * normal());
}

sub loguniform {
    my ($lo, $hi) = @_;
    return exp(log($lo) + rand() * (log($hi) - log($lo)));
}

sub shuffle_seeded {    # List::Util::shuffle does not follow srand everywhere
    my @a = @_;
    for (my $i = $#a; $i > 0; $i--) {
        my $j = int rand($i + 1);
        @a[$i, $j] = @a[$j, $i];
    }
    return @a;
}

# the value sets, each from its own seed
our %Values = (
    uniform => sub { map { 0.5 + rand(999.5) } 1 .. 20000 },
    lognormal => sub { map { lognormal(20, 1) } 1 .. 20000 },
    bimodal => sub {
        shuffle_seeded((map { lognormal(4, 0.15) } 1 .. 14000),
                       (map { lognormal(250, 0.2) } 1 .. 6000));
    },
    constant => sub { (42.5) x 20000 },
    pareto => sub {            # x_m 1 ms, alpha 1.16 (80/20), at most 1 h
        map {
            my $v;
            do { $v = (1 - rand) ** (-1 / 1.16) } while $v > 3.6e6;
            $v;
        } 1 .. 20000;
    },
    ends => sub { shuffle_seeded((1e-3) x 12000, (3.6e6) x 8000) },
    low => sub { 1e-3, map { loguniform(1e-3, 1e-2) } 2 .. 20000 },
    high => sub { 3.6e6, map { loguniform(3.6e5, 3.6e6) } 2 .. 20000 },
    lowest => sub { (1e-3) x 1000 },
    highest => sub { (3.6e6) x 1000 },
    zeros => sub {
        shuffle_seeded((0) x 12000, map { lognormal(20, 1) } 1 .. 8000);
    },
    tiny => sub { 11, 3, 100, 7, 5 },
);

sub seed { my $s = 0; $s = ($s * 31 + ord) % 1000003 for split //, shift; $s }

sub values_of {
    my ($name) = @_;
    srand(seed($name));
    return map { fmt($_) } $Values{$name}->();
}

sub new_plan {
    my ($case, $batch) = @_;
    my $now = time;
    return $Plan{$case} = { reqs => [], codes => [], checks => [],
                            lines => [], batch => $batch,
                            base => $now - $now % 60 };
}

# n events of a tool in the minute $off minutes before the plan's: the
# values given (numbers as strings), users prefix.lo .. prefix.(hi - 1)
# in turn, each event one of both (n is the larger of the two)
sub send_events {
    my ($p, $tool, $off, $vals, $users, $n) = @_;
    my $t = $p->{base} - 60 * $off;
    my $ts = $t + 30;
    my $m = $Sent{$tool}{$t} //= { v => [], u => [], n => 0 };
    my ($pre, $lo, $hi) = $users ? @$users : ();
    $n //= $vals ? @$vals : $hi - $lo;
    push @{ $m->{u} }, [$pre, $lo, $hi] if $users;
    for my $i (0 .. $n - 1) {
        my $e = qq({"tool":"$tool","type":"a","ts":$ts);
        if ($vals && $i < @$vals) {
            $e .= qq(,"value":$vals->[$i]);
            push @{ $m->{v} }, 0 + $vals->[$i];
        }
        $e .= qq(,"user":"$pre) . ($lo + $i % ($hi - $lo)) . '"' if $users;
        push @{ $p->{lines} }, "$e}";
    }
    $m->{n} += $n;
}

# the events sent so far, as POSTs of $p->{batch} events
sub flush {
    my ($p) = @_;
    my $l = $p->{lines};
    while (@$l) {
        my @b = splice @$l, 0, $p->{batch};
        push @{ $p->{reqs} }, "POST /ingest\n" . CORE::join("\n", @b);
        push @{ $p->{codes} }, 202;
        push @{ $p->{checks} }, { kind => "post", n => scalar @b };
    }
}

sub get {
    my ($p, $req, $check) = @_;
    flush($p);
    push @{ $p->{reqs} }, $req;
    push @{ $p->{codes} }, 200;
    push @{ $p->{checks} }, $check;
}

sub stats {
    my ($p, $tool, $window, %opt) = @_;
    get($p, "GET /stats?tool=$tool&window=$window&events=0",
        { kind => "stats", tool => $tool, %opt });
}

sub csv {
    my ($p, $tool, $window) = @_;
    get($p, "GET /stats?tool=$tool&window=$window&events=0&format=csv",
        { kind => "csv", tool => $tool });
}

# one distribution in the minute before the block's
sub plan_values {
    my ($case) = @_;
    my $p = new_plan($case, 5000);
    send_events($p, $case, 1, [values_of($case)]);
    stats($p, $case, 600);
    csv($p, $case, 600);
    return $p;
}

# 30 minutes of 2,000 values each, the median rising from 5 to 50 ms;
# 200 users a minute, each minute half new (3,100 in the window)
sub plan_window {
    my ($case) = @_;
    my $p = new_plan($case, 2000);
    srand(seed($case));
    for my $i (0 .. 29) {
        my $median = 5 * 10 ** ($i / 29);
        send_events($p, "W", 30 - $i,
                    [map { fmt(lognormal($median, 0.5)) } 1 .. 2000],
                    ["w", $i * 100, $i * 100 + 200]);
    }
    stats($p, "W", 2400, minute_users => "W", rms_check => [[W => 30]]);
    csv($p, "W", 2400);
    return $p;
}

# two tools, their values and users apart, merged by a stream's frame
sub plan_two {
    my ($case) = @_;
    my $p = new_plan($case, 5000);
    srand(seed($case));
    send_events($p, "TA", 1, [map { fmt(lognormal(20, 0.8)) } 1 .. 10000],
                ["a", 0, 5000]);
    send_events($p, "TB", 1, [map { fmt(100 + rand 300) } 1 .. 10000],
                ["b", 0, 3000]);
    get($p, "GET /stream?tool=TA&tool=TB&window=600&events=0&frames=1",
        { kind => "stream", tools => ["TA", "TB"] });
    return $p;
}

# 1 to 1,000,000 distinct users in one minute, a tool each; below 10,000
# each user comes 3 times, at 10,000 twice
sub plan_users {
    my ($case) = @_;
    my $p = new_plan($case, 50000);
    for my $n (1, 10, 100, 1000, 10000, 100000, 1000000) {
        my $rep = $n < 10000 ? 3 : $n == 10000 ? 2 : 1;
        send_events($p, "U$n", 1, undef, ["c", 0, $n], $n * $rep);
        flush($p) if $n >= 10000;
    }
    stats($p, "U$_", 600) for 1, 10, 100, 1000, 10000, 100000, 1000000;
    return $p;
}

# overlapping minutes: 0..9999, 5000..14999, 0..9999 again (15,000 in
# all); below 64: 0..39 and 20..59 (60, exact)
sub plan_overlap {
    my ($case) = @_;
    my $p = new_plan($case, 10000);
    send_events($p, "OV", 3, undef, ["o", 0, 10000]);
    send_events($p, "OV", 2, undef, ["o", 5000, 15000]);
    send_events($p, "OV", 1, undef, ["o", 0, 10000]);
    send_events($p, "OX", 2, undef, ["x", 0, 40]);
    send_events($p, "OX", 1, undef, ["x", 20, 60]);
    stats($p, "OV", 600);
    csv($p, "OV", 600);
    stats($p, "OX", 600);
    csv($p, "OX", 600);
    return $p;
}

# the typical error: 50 tools x 10 minutes of 2,000 users, 10 tools x 10
# minutes of 100, each minute's users its own; the span of a tool (the
# union of its 10 minutes, 20,000 or 1,000) is one more sketch
sub plan_typical {
    my ($case) = @_;
    my $p = new_plan($case, 50000);
    my @tools = ((map { ["T$_", 2000] } 0 .. 49),
                 (map { ["S$_", 100] } 0 .. 9));
    for my $tn (@tools) {
        my ($tool, $n) = @$tn;
        send_events($p, $tool, $_, undef, ["$tool.$_.", 0, $n]) for 1 .. 10;
    }
    for my $i (0 .. $#tools) {
        my $g = substr $tools[$i][0], 0, 1;
        stats($p, $tools[$i][0], 900, minute_users => $g, span_users => $g,
              $i == $#tools ? (rms_check => [[T => 550], [S => 110]]) : ());
    }
    return $p;
}

sub plan_of {
    my ($case) = @_;
    return $Plan{$case} if $Plan{$case};
    return $case eq "window" ? plan_window($case)
         : $case eq "two" ? plan_two($case)
         : $case eq "users" ? plan_users($case)
         : $case eq "overlap" ? plan_overlap($case)
         : $case eq "typical" ? plan_typical($case)
         : plan_values($case);
}

sub requests { plan_of($_[0])->{reqs} }
sub codes { plan_of($_[0])->{codes} }


# ---------------------------------------------------------------------
# checks

sub rel {
    my ($got, $want) = @_;
    return 0 if $got == $want;
    return 9**9**9 if $want == 0;
    return abs($got - $want) / abs($want);
}

sub pcts { sprintf "%.2f %%", 100 * $_[0] }

# one reported value object against the exact values it covers; $key
# names the (tool, minute) set, so one estimate enters the mean once
sub check_value {
    my ($name, $what, $got, $vals, $key) = @_;
    my @s = sort { $a <=> $b } @$vals;
    my $n = @s;

    if (ref $got ne "HASH") {
        Test::More::fail("$name - $what: a value object");
        return;
    }

    Test::More::is($got->{count}, $n, "$name - $what: count exact");
    return if !$n;

    my $sum = List::Util::sum(@s);
    Test::More::ok(defined $got->{min} && rel($got->{min}, $s[0]) < 1e-9,
                   "$name - $what: min exact")
        or Test::More::diag("min $got->{min}, exact $s[0]");
    Test::More::ok(defined $got->{max} && rel($got->{max}, $s[-1]) < 1e-9,
                   "$name - $what: max exact")
        or Test::More::diag("max $got->{max}, exact $s[-1]");
    Test::More::ok(defined $got->{avg}
                   && abs($got->{avg} - $sum / $n)
                      <= 1e-5 * abs($sum / $n) + 1e-12,
                   "$name - $what: avg exact to its digits")
        or Test::More::diag("avg $got->{avg}, exact " . $sum / $n);

    for my $q ([p50 => 0.5], [p95 => 0.95], [p99 => 0.99]) {
        my ($f, $qv) = @$q;
        my $want = exact_pct(\@s, $qv);
        my $g = $got->{$f};
        my $e = defined $g ? rel($g, $want) : 9**9**9;
        Test::More::ok($e <= $PctMax,
                       "$name - $what: $f within 5 % of the exact value")
            or Test::More::diag("$what $f: got " . ($g // "null")
                                . ", exact $want, error " . pcts($e));
        if ($want > $s[0] && $want < $s[-1] && !$Seen{"$key $f"}++) {
            push @Errors, $e;
        }
    }
}

sub check_users {
    my ($name, $what, $got, $want) = @_;
    my $tol = users_tol($want);
    my $e = defined $got ? rel($got, $want) : 9**9**9;
    Test::More::ok($e <= $tol, "$name - $what: "
                   . ($tol ? "within " . 100 * $tol . " % of" : "exactly")
                   . " $want distinct users")
        or Test::More::diag("$what: got " . ($got // "null")
                            . ", exact $want, error " . pcts($e));
}

# what was sent to @$tools in the minutes [from, to)
sub sent_in {
    my ($tools, $from, $to) = @_;
    my (@v, @u, $n, @keys);
    for my $tool (@$tools) {
        for my $t (sort keys %{ $Sent{$tool} }) {
            next if $t < $from || $t >= $to;
            my $m = $Sent{$tool}{$t};
            push @v, @{ $m->{v} };
            push @u, @{ $m->{u} };
            $n += $m->{n};
            push @keys, "$tool:$t";
        }
    }
    return (\@v, \@u, $n // 0, CORE::join(",", @keys));
}

sub sent_total {
    my ($tools) = @_;
    my (undef, undef, $n) = sent_in($tools, 0, 9**9**9);
    return $n;
}

# the span of a stats or stream response: over exactly its minutes
sub check_span {
    my ($name, $r, $tools, $group) = @_;
    my $span = $r->{span};
    my @m = @{ $r->{minutes} || [] };

    if (!Test::More::ok(ref $span eq "HASH" && @m, "$name - has a span")) {
        return;
    }

    my ($from, $to) = ($m[0]{t}, $m[-1]{t} + 60);
    Test::More::ok(defined $span->{from} && $span->{from} == $from
                   && defined $span->{to} && $span->{to} == $to,
                   "$name - span from the first minute to the last one's end")
        or Test::More::diag("span from " . ($span->{from} // "null")
                            . " to " . ($span->{to} // "null")
                            . ", minutes $from to $to");

    my ($v, $u, $n, $key) = sent_in($tools, $from, $to);
    Test::More::is($n, sent_total($tools),
                   "$name - the window holds every minute sent");
    check_value($name, "span", $span->{value}, $v, $key);
    if ($group) {
        push @{ $Rms{$group} }, rel($span->{users} // 0, exact_users(@$u));
    } else {
        check_users($name, "span users", $span->{users}, exact_users(@$u));
    }
}

sub check_rms {
    my ($name, $group, $n) = @_;
    my $e = $Rms{$group} || [];
    my $rms = @$e ? sqrt(List::Util::sum(map { $_ * $_ } @$e) / @$e) : 9**9**9;
    Test::More::ok(@$e == $n && $rms <= $UsersTypical, "$name - users of $n"
                   . " sketches ($group): root mean square error at most 5 %")
        or Test::More::diag(scalar(@$e) . " sketches, rms " . pcts($rms));
}

sub check_stats {
    my ($name, $body, $c) = @_;
    my $r = eval { JSON::PP::decode_json($body) };
    return Test::More::fail("$name - stats of $c->{tool}: JSON") if !$r;

    my $tool = $c->{tool};
    my ($all, undef, undef, $allkey) = sent_in([$tool], 0, 9**9**9);
    check_value($name, "$tool since start", $r->{tool}{value}, $all, $allkey);

    my $empty = 1;
    for my $m (@{ $r->{minutes} }) {
        my $s = $Sent{$tool}{ $m->{t} };
        if (!$s) {
            $empty &&= !$m->{value}{count} && !$m->{users};
            next;
        }
        my $what = "$tool minute "
                   . ($m->{t} - $Plan{ $c->{case} }{base}) / 60;
        my $want = exact_users(@{ $s->{u} });
        check_value($name, $what, $m->{value}, $s->{v}, "$tool:$m->{t}");
        if (!$c->{minute_users}) {
            check_users($name, "$what users", $m->{users}, $want);
        } else {
            push @{ $Rms{ $c->{minute_users} } }, rel($m->{users} // 0, $want);
        }
    }
    Test::More::ok($empty, "$name - $tool: minutes without events are empty");

    check_span("$name - $tool", $r, [$tool], $c->{span_users});
    check_rms($name, @$_) for @{ $c->{rms_check} || [] };
}

sub check_csv {
    my ($name, $body, $c) = @_;
    my $tool = $c->{tool};
    my @rows = map { [split /,/, $_, -1] } split /\r\n/, $body;
    my $head = shift @rows;
    my %col;
    @col{@$head} = 0 .. $#$head;

    my $last = $rows[-1];
    if (!Test::More::ok($last && $last->[0] eq "window",
                        "$name - $tool CSV: a last row \"window\""))
    {
        return;
    }
    pop @rows;

    my $bad = "";
    for my $k (grep { $_ ne "minute" && !/^(users|value_(avg|p\d\d))$/ }
               @$head)
    {
        my $sum = List::Util::sum(0, map { $_->[$col{$k}] || 0 } @rows);
        $bad .= " $k: $last->[$col{$k}] != $sum"
            if $last->[$col{$k}] ne $sum;
    }
    Test::More::ok($bad eq "", "$name - $tool CSV: the window row sums the"
                               . " minutes' counts")
        or Test::More::diag($bad);

    my ($from, $to) = ($rows[0][0], $rows[-1][0] + 60);
    my ($v, $u, $n, $key) = sent_in([$tool], $from, $to);
    Test::More::is($n, sent_total([$tool]),
                   "$name - $tool CSV: the window holds every minute sent");
    Test::More::is($last->[$col{value_count}], scalar @$v,
                   "$name - $tool CSV window: value_count exact");
    check_users($name, "$tool CSV window users", $last->[$col{users}],
                exact_users(@$u));

    return if !@$v;
    my @s = sort { $a <=> $b } @$v;
    my $avg = List::Util::sum(@s) / @s;
    Test::More::ok(abs($last->[$col{value_avg}] - $avg) <= 1e-5 * abs $avg,
                   "$name - $tool CSV window: value_avg exact to its digits")
        or Test::More::diag("value_avg $last->[$col{value_avg}], exact $avg");
    for my $q ([p50 => 0.5], [p95 => 0.95], [p99 => 0.99]) {
        my $want = exact_pct(\@s, $q->[1]);
        my $g = $last->[$col{"value_$q->[0]"}];
        my $e = $g ne "" ? rel($g, $want) : 9**9**9;
        Test::More::ok($e <= $PctMax, "$name - $tool CSV window: value_"
                       . "$q->[0] within 5 % of the exact value")
            or Test::More::diag("got $g, exact $want, error " . pcts($e));
    }
}

sub check_stream {
    my ($name, $body, $c) = @_;
    my ($data) = $body =~ /^event: snapshot\ndata: ([^\n]+)\n/m;
    my $r = $data && eval { JSON::PP::decode_json($data) };
    return Test::More::fail("$name - a snapshot frame") if !$r;
    check_span("$name - stream of " . CORE::join(" and ", @{ $c->{tools} }),
               $r, $c->{tools});
}

sub check_mean {
    my ($name) = @_;
    my $n = @Errors;
    my $mean = $n ? List::Util::sum(@Errors) / $n : 9**9**9;
    Test::More::ok($n >= 50 && $mean <= $PctMean,
                   "$name - mean error of the interior estimates at most 2 %")
        or Test::More::diag("$n estimates, mean " . pcts($mean));
    Test::More::diag("$n estimates, mean error " . pcts($mean)
                     . ", largest " . pcts(List::Util::max(@Errors, 0)))
        if $ENV{TEST_VERBOSE};
}

add_response_body_check(sub {
    my ($block, $body, $req_idx, $repeated_req_idx, $dry_run) = @_;
    return if $dry_run || !defined $body;
    my ($case) = $block->name =~ /\(case (\w+)\)/ or return;
    return check_mean($block->name) if $case eq "mean";
    my $p = $Plan{$case} or return;
    my $c = $p->{checks}[$req_idx] or return;
    my $name = $block->name;
    $c->{case} = $case;

    if ($c->{kind} eq "post") {
        Test::More::is($body, qq({"accepted":$c->{n}}\n),
                       "$name - POST of $c->{n} events accepted");
    } elsif ($c->{kind} eq "stats") {
        check_stats($name, $body, $c);
    } elsif ($c->{kind} eq "csv") {
        check_csv($name, $body, $c);
    } elsif ($c->{kind} eq "stream") {
        check_stream($name, $body, $c);
    }
});

run_tests();

__DATA__

=== TEST 1: uniform, 0.5 to 1000 ms (case uniform)
--- request eval
main::requests("uniform")
--- error_code eval
main::codes("uniform")
--- no_error_log
[error]



=== TEST 2: lognormal, median 20 ms (case lognormal)
--- request eval
main::requests("lognormal")
--- error_code eval
main::codes("lognormal")
--- no_error_log
[error]



=== TEST 3: bimodal, 70 % near 4 ms and 30 % near 250 ms (case bimodal)
--- request eval
main::requests("bimodal")
--- error_code eval
main::codes("bimodal")
--- no_error_log
[error]



=== TEST 4: constant 42.5 ms (case constant)
--- request eval
main::requests("constant")
--- error_code eval
main::codes("constant")
--- no_error_log
[error]



=== TEST 5: Pareto, 1 ms and up, alpha 1.16: a heavy tail (case pareto)
--- request eval
main::requests("pareto")
--- error_code eval
main::codes("pareto")
--- no_error_log
[error]



=== TEST 6: both ends of the range in one minute, 1e-3 and 3.6e6 (case ends)
--- request eval
main::requests("ends")
--- error_code eval
main::codes("ends")
--- no_error_log
[error]



=== TEST 7: the low end alone, 1e-3 to 1e-2 (case low)
--- request eval
main::requests("low")
--- error_code eval
main::codes("low")
--- no_error_log
[error]



=== TEST 8: the high end alone, 3.6e5 to 3.6e6 (case high)
--- request eval
main::requests("high")
--- error_code eval
main::codes("high")
--- no_error_log
[error]



=== TEST 9: only 1e-3 (case lowest)
--- request eval
main::requests("lowest")
--- error_code eval
main::codes("lowest")
--- no_error_log
[error]



=== TEST 10: only 3.6e6 (case highest)
--- request eval
main::requests("highest")
--- error_code eval
main::codes("highest")
--- no_error_log
[error]



=== TEST 11: 60 % zeros: p50 is min, p95 and p99 lognormal (case zeros)
--- request eval
main::requests("zeros")
--- error_code eval
main::codes("zeros")
--- no_error_log
[error]



=== TEST 12: five values (case tiny)
--- request eval
main::requests("tiny")
--- error_code eval
main::codes("tiny")
--- no_error_log
[error]



=== TEST 13: a window of 30 minutes merged, in JSON and CSV (case window)
--- request eval
main::requests("window")
--- error_code eval
main::codes("window")
--- no_error_log
[error]



=== TEST 14: two tools merged by a stream frame (case two)
--- request eval
main::requests("two")
--- error_code eval
main::codes("two")
--- no_error_log
[error]



=== TEST 15: 1 to 1,000,000 distinct users in one minute (case users)
--- request eval
main::requests("users")
--- error_code eval
main::codes("users")
--- no_error_log
[error]



=== TEST 16: overlapping minutes' users count once in the window (case overlap)
--- request eval
main::requests("overlap")
--- error_code eval
main::codes("overlap")
--- no_error_log
[error]



=== TEST 17: distinct counts' typical error, 660 sketches (case typical)
--- request eval
main::requests("typical")
--- error_code eval
main::codes("typical")
--- no_error_log
[error]



=== TEST 18: the mean error of the percentiles above (case mean)
--- request
GET /stats
--- no_error_log
[error]
