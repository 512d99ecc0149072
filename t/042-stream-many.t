# The stream with many tools: limit= caps the tools a frame lists (100
# by default, the most recently written), "matched" counts every tool the
# frame covers, and the minutes, seconds and events still cover them all.
use Test::Nginx::Socket 'no_plan';
use JSON::PP ();

no_long_string();

add_block_preprocessor(sub {
    my $block = shift;

    # each block a zone of its own, also under TEST_NGINX_USE_HUP=1 (a
    # reload keeps a zone whose name, size and parameters stay the same;
    # events= is one the frames here do not show)
    my ($n) = $block->name =~ /TEST (\d+):/;

    $block->set_value("http_config",
                      "rtdash_zone rt:32m retention=1h events=" . (100 + $n)
                      . ";")
        unless defined $block->http_config;

    $block->set_value("config", <<'CONF') unless defined $block->config;
    location = /ingest { rtdash_ingest rt; }
    location = /stream { rtdash_stream rt; }
CONF
});

# N tools t1 .. tN, one event of type x each, in this order
sub tools {
    my ($from, $to) = @_;
    return "POST /ingest\n["
           . CORE::join(",", map { qq({"tool":"t$_","type":"x"}) }
                                 $from .. $to)
           . "]";
}

# "t3 t4 t5 t9" as "t3-t5 t9"
sub runs {
    my (@out, $a, $b);
    for my $n (map { /^t(\d+)$/ ? $1 : die "tool $_" } @_) {
        if (defined $b && $n == $b + 1) {
            $b = $n;
            next;
        }
        push @out, defined $a ? ($a == $b ? "t$a" : "t$a-t$b") : ();
        ($a, $b) = ($n, $n);
    }
    push @out, $a == $b ? "t$a" : "t$a-t$b" if defined $a;
    return CORE::join(" ", @out);
}

# each data frame of a stream, in a line: what it lists and what it sums
sub frames {
    my $body = shift;
    return $body if $body !~ /^(retry|id):/;
    my $out = "";
    while ($body =~ /^event: (\w+)\ndata: ([^\n]+)$/mg) {
        my ($event, $d) = ($1, JSON::PP::decode_json($2));
        my ($m, $s) = (0, 0);
        $m += $_->{counts}{x} // 0 for @{$d->{minutes}};
        $s += $_->{counts}{x} // 0 for @{$d->{seconds}};
        # an update's buckets are the current minute and the last 2 s
        $out .= "$event matched=" . ($d->{matched} // "none")
                . " tools=" . runs(map { $_->{name} } @{$d->{tools}})
                . ($event eq "snapshot" ? " minutes=$m seconds=$s" : "")
                . " events=" . CORE::join(",", map { $_->{tool} }
                                              @{$d->{events}})
                . "\n";
    }
    return $out;
}

run_tests();

__DATA__

=== TEST 1: 150 tools, no limit=: the 100 most recently written are listed, in the zone's order; the sums and "matched" cover all 150
--- request eval
[main::tools(1, 150), "GET /stream?frames=1&window=120&events=0"]
--- error_code eval
[202, 200]
--- response_body_filters eval
\&main::frames
--- response_body eval
['{"accepted":150}
', 'snapshot matched=150 tools=t51-t150 minutes=150 seconds=150 events=
']
--- no_error_log
[error]
[alert]



=== TEST 2: limit=3 lists the 3 most recent; the events are the newest of every tool, listed or not
--- request eval
[main::tools(1, 150), "GET /stream?frames=1&window=120&events=5&limit=3"]
--- error_code eval
[202, 200]
--- response_body_filters eval
\&main::frames
--- response_body eval
['{"accepted":150}
', 'snapshot matched=150 tools=t148-t150 minutes=150 seconds=150 events=t150,t149,t148,t147,t146
']
--- no_error_log
[error]
[alert]



=== TEST 3: most recently written, not first seen: a tool written again comes back into the list, which stays in the zone's order
--- request eval
[main::tools(1, 150), main::tools(7, 7), "GET /stream?frames=1&window=120&events=0&limit=2"]
--- error_code eval
[202, 202, 200]
--- response_body_filters eval
\&main::frames
--- response_body eval
['{"accepted":150}
', '{"accepted":1}
', 'snapshot matched=150 tools=t7 t150 minutes=151 seconds=151 events=
']
--- no_error_log
[error]
[alert]



=== TEST 4: limit=all lists every tool, limit=0 none
--- request eval
[main::tools(1, 150), "GET /stream?frames=1&window=120&events=0&limit=all",
 "GET /stream?frames=1&window=120&events=1&limit=0"]
--- error_code eval
[202, 200, 200]
--- response_body_filters eval
\&main::frames
--- response_body eval
['{"accepted":150}
', 'snapshot matched=150 tools=t1-t150 minutes=150 seconds=150 events=
', 'snapshot matched=150 tools= minutes=150 seconds=150 events=t150
']
--- no_error_log
[error]
[alert]



=== TEST 5: updates keep to the limit: the rate refresh of 150 active tools lists the 2 most recent, and matched counts the 150
--- request eval
[main::tools(1, 150), "GET /stream?frames=2&window=120&events=0&limit=2"]
--- error_code eval
[202, 200]
--- response_body_filters eval
\&main::frames
--- response_body eval
['{"accepted":150}
', 'snapshot matched=150 tools=t149-t150 minutes=150 seconds=150 events=
update matched=150 tools=t149-t150 events=
']
--- no_error_log
[error]
[alert]



=== TEST 6: with tool=, the limit picks among the tools asked for, listed in the order asked
--- request eval
[main::tools(1, 10), main::tools(3, 3),
 "GET /stream?frames=1&window=120&events=0&limit=2&tool=t9&tool=t3&tool=t5&tool=none",
 "GET /stream?frames=1&window=120&events=0&tool=t9&tool=t3&tool=t5"]
--- error_code eval
[202, 202, 200, 200]
--- response_body_filters eval
\&main::frames
--- response_body eval
['{"accepted":10}
', '{"accepted":1}
', 'snapshot matched=3 tools=t9 t3 minutes=4 seconds=4 events=
', 'snapshot matched=3 tools=t9 t3 t5 minutes=4 seconds=4 events=
']
--- no_error_log
[error]
[alert]



=== TEST 7: a resume keeps to the limit too
--- request eval
[main::tools(1, 5), "GET /stream?frames=1&events=10&limit=1"]
--- more_headers eval
["", "Last-Event-ID: 2"]
--- error_code eval
[202, 200]
--- response_body_filters eval
\&main::frames
--- response_body eval
['{"accepted":5}
', 'update matched=5 tools=t5 events=t5,t4,t3
']
--- no_error_log
[error]
[alert]



=== TEST 8: a limit that is neither a number nor all gets 400
--- request eval
["GET /stream?limit=x", "GET /stream?limit=-1", "GET /stream?limit="]
--- error_code eval
[400, 400, 400]
--- response_body eval
["{\"error\":\"\\\"limit\\\" takes a number or all\"}\n",
 "{\"error\":\"\\\"limit\\\" takes a number or all\"}\n",
 "{\"error\":\"\\\"limit\\\" takes a number or all\"}\n"]
--- no_error_log
[error]
[alert]
