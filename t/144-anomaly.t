# Anomalies (rtdash_anomaly): the last complete minute of a tool against
# the EWMA of the after= minutes before it, fed with backdated "ts" so
# that no block waits minutes; the scores checked against a reference
# computed here; anomaly:rate and anomaly:p95 as alert metrics; the
# stream's "event: anomaly".
use Test::Nginx::Socket 'no_plan';
use POSIX ();
use Time::HiRes ();

no_shuffle();
no_long_string();

our $Alpha = 0.5;

# the EWMA of mean and variance as the module keeps it (the first value
# starts it), and the score of x against it, the deviation at least $floor
sub score {
    my ($floor, $x, @hist) = @_;
    my ($mean, $var, $n) = (0, 0, 0);
    for my $v (@hist) {
        if ($n++ == 0) { $mean = $v; $var = 0; next }
        my $diff = $v - $mean;
        my $incr = $Alpha * $diff;
        $mean += $incr;
        $var = (1 - $Alpha) * ($var + $diff * $incr);
    }
    my $sd = sqrt($var);
    $sd = $floor if $sd < $floor;
    return (map { 0 + sprintf("%.6g", $_) } $mean, $sd, ($x - $mean) / $sd);
}

# a body of events: for each count, that many in the minute that many
# minutes back (the last count is the last complete minute), each with a
# value; waits first if the current minute ends within 15 s (the body is
# built before nginx starts, the block waits 1.5 s, and the evaluation
# must find the last complete minute where the body put it)
sub history {
    my ($tool, $value, @counts) = @_;
    my $now = Time::HiRes::time();
    if (60 - $now % 60 < 15) {
        Time::HiRes::sleep(60 - $now + int($now / 60) * 60 + 0.2);
        $now = Time::HiRes::time();
    }
    my $m = int($now / 60) * 60;
    my @ev;
    my $back = @counts;
    for my $c (@counts) {
        my $t = $m - 60 * $back-- + 1;
        push @ev, map { qq({"tool":"$tool","type":"borrow","ts":)
                        . ($t + $_ * 0.5) . qq(,"value":) . $value->($back, $_)
                        . "}" } 0 .. $c - 1;
    }
    return "[" . join(",", @ev) . "]";
}

our @Counts = (2, 20, 5, 15, 8, 60);

add_block_preprocessor(sub {
    my $block = shift;

    my ($zone) = $block->http_config =~ /rtdash_zone (\w+):/;

    $block->set_value("config", <<"CONF");
    location = /ingest { rtdash_ingest $zone; }
    location = /stats { rtdash_stats $zone; }
    location = /stream {
        rtdash_stream $zone;
        rtdash_stream_interval 100ms;
    }
CONF
});

run_tests();

__DATA__

=== TEST 1: a minute of 60 after 2, 20, 5, 15, 8: the rate's score as computed here; the p95 of 900 after about 109
--- http_config
    rtdash_zone an:8m retention=1h;
    rtdash_anomaly an z=3 after=5m alpha=0.5;
--- request eval
["POST /ingest\n" . main::history("A", sub { my ($back, $i) = @_; $back == 0 ? 900 : 100 + $i % 10 }, @main::Counts),
 [{value => "GET /sta"}, {value => "ts", delay_before => 1.5}]]
--- error_code eval
[202, 200]
--- response_body_like eval
my ($mean, $sd, $z) = main::score(1, 60, 2, 20, 5, 15, 8);
['^\{"accepted":110\}$',
 '"anomalies":\[\{"seq":111,"t":[0-9.]+,"tool":"A","type":"borrow","metric":"rate","minute":\d+,"value":60,"mean":' . $mean . ',"sd":' . $sd . ',"score":' . $z . '\},\{"seq":112,"t":[0-9.]+,"tool":"A","type":null,"metric":"p95","minute":\d+,"value":900,"mean":[0-9.]+,"sd":[0-9.]+,"score":[0-9.]+\}\]']
--- no_error_log
[error]



=== TEST 2: anomaly:rate and anomaly:p95 as alert metrics; the stream sends each anomaly as an event
--- http_config
    rtdash_zone al:8m retention=1h;
    rtdash_anomaly al z=3 after=5m alpha=0.5;
    rtdash_alert al spike anomaly:rate > 3 type=borrow severity=crit;
    rtdash_alert al slow anomaly:p95 > 3;
    rtdash_alert al drop anomaly:rate < -3 type=borrow;
--- request eval
["POST /ingest\n" . main::history("A", sub { my ($back, $i) = @_; $back == 0 ? 900 : 100 + $i % 10 }, @main::Counts),
 [{value => "GET /sta"}, {value => "ts", delay_before => 1.5}],
 "GET /stream?frames=1&last_event_id=110"]
--- error_code eval
[202, 200, 200]
--- response_body_like eval
my ($mean, $sd, $z) = main::score(1, 60, 2, 20, 5, 15, 8);
['^\{"accepted":110\}$',
 '(?=.*"rule":"spike","tool":"A","state":"firing","severity":"crit","metric":"anomaly:rate","value":' . $z . ',)(?=.*"rule":"slow","tool":"A","state":"firing",)(?!.*"rule":"drop")',
 '^id: 111\nevent: anomaly\ndata: \{"seq":111,[^\n]*"metric":"rate"[^\n]*\}\n\nid: 112\nevent: anomaly\ndata: \{"seq":112,[^\n]*"metric":"p95"[^\n]*\}\n\n(id: \d+\nevent: alert\ndata: [^\n]*\n\n){2}id: \d+\nevent: update\n']
--- no_error_log
[error]



=== TEST 3: a usual minute is no anomaly, nor a tool with less history than after=
--- http_config
    rtdash_zone calm:8m retention=1h;
    rtdash_anomaly calm z=3 after=5m alpha=0.5;
--- request eval
["POST /ingest\n" . main::history("calm", sub { 100 }, 10, 10, 10, 10, 10, 11),
 "POST /ingest\n" . main::history("young", sub { 100 }, 10, 10, 40),
 [{value => "GET /sta"}, {value => "ts", delay_before => 1.5}]]
--- error_code eval
[202, 202, 200]
--- response_body_like eval
['^\{"accepted":61\}$', '^\{"accepted":60\}$',
 '"anomalies":0,.*"anomalies":\[\],"matched"']
--- no_error_log
[error]
