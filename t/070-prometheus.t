# rtdash_prometheus: the text exposition format 0.0.4 of the zone.
use Test::Nginx::Socket 'no_plan';

no_long_string();

# With TEST_NGINX_USE_HUP=1 nginx is reloaded between blocks, and a zone
# whose name, size and parameters stay the same keeps its data.  Every
# sample names the zone, so the blocks keep the name rt, each with an
# events= of its own (the exposition does not show it): the reload, which
# changes a parameter, starts the zone empty for every block.
add_block_preprocessor(sub {
    my $block = shift;
    my ($n) = $block->name =~ /TEST (\d+):/;

    $block->set_value("http_config", "rtdash_zone rt:8m retention=1h"
                                     . " events=" . (100 + $n) . ";")
        unless defined $block->http_config;

    $block->set_value("config", <<'CONF') unless defined $block->config;
    location = /ingest { rtdash_ingest rt; }
    location = /metrics { rtdash_prometheus rt; }
CONF
});

run_tests();

__DATA__

=== TEST 1: an empty zone: the zone's families, every sample labelled
--- request
GET /metrics
--- error_code: 200
--- response_headers
Content-Type: text/plain; version=0.0.4; charset=utf-8
X-Content-Type-Options: nosniff
--- response_body_like eval
qr{\A# HELP rtdash_zone_size_bytes Size of the shared memory zone\.
# TYPE rtdash_zone_size_bytes gauge
rtdash_zone_size_bytes\{zone="rt"\} 8388608
# HELP rtdash_zone_used_bytes Bytes of the zone in use\.
# TYPE rtdash_zone_used_bytes gauge
rtdash_zone_used_bytes\{zone="rt"\} \d+
# HELP rtdash_zone_tools Tools in the zone\.
# TYPE rtdash_zone_tools gauge
rtdash_zone_tools\{zone="rt"\} 0
# HELP rtdash_zone_max_tools Tools the zone has room for\.
# TYPE rtdash_zone_max_tools gauge
rtdash_zone_max_tools\{zone="rt"\} [1-9]\d*
# HELP rtdash_zone_events_accepted_total Events recorded\.
# TYPE rtdash_zone_events_accepted_total counter
rtdash_zone_events_accepted_total\{zone="rt"\} 0
# HELP rtdash_zone_requests_rejected_total Ingest requests refused with 400 or 413\.
# TYPE rtdash_zone_requests_rejected_total counter
rtdash_zone_requests_rejected_total\{zone="rt"\} 0
# HELP rtdash_zone_requests_refused_total Ingest requests refused with 507, the zone being full\.
# TYPE rtdash_zone_requests_refused_total counter
rtdash_zone_requests_refused_total\{zone="rt"\} 0
# HELP rtdash_zone_tools_evicted_total Tools evicted to make room for new ones \(evict=lru\)\.
# TYPE rtdash_zone_tools_evicted_total counter
rtdash_zone_tools_evicted_total\{zone="rt"\} 0
# HELP rtdash_zone_start_time_seconds When the zone's data started, in epoch seconds\.
# TYPE rtdash_zone_start_time_seconds gauge
rtdash_zone_start_time_seconds\{zone="rt"\} \d{10}
# HELP rtdash_notices_total Notices posted\.
# TYPE rtdash_notices_total counter
rtdash_notices_total\{zone="rt"\} 0
# HELP rtdash_events_total Events recorded, by tool and type\.
# TYPE rtdash_events_total counter
# HELP rtdash_events_flagged_total Events recorded with flag true, by tool and type\.
# TYPE rtdash_events_flagged_total counter
# HELP rtdash_tool_level Last value written to a tool's gauge\.
# TYPE rtdash_tool_level gauge
# HELP rtdash_tool_sum_total What was added to a tool's sum since the zone's start\.
# TYPE rtdash_tool_sum_total counter
# HELP rtdash_tool_last_event_time_seconds When a tool last recorded an event, in epoch seconds\.
# TYPE rtdash_tool_last_event_time_seconds gauge
# HELP rtdash_value The "value" of a tool's events; quantiles from a log-scale histogram\.
# TYPE rtdash_value summary
# HELP rtdash_value_hist The "value" of a tool's events; a bucket counts the values below its bound\.
# TYPE rtdash_value_hist histogram
\z}
--- no_error_log
[error]



=== TEST 2: counts, flags, gauges and values of each tool; a rejected request counts
--- request eval
["POST /ingest\n" . '[{"tool":"M","type":"borrow","user":"a","value":10,"flag":true},{"tool":"M","type":"borrow","value":30},{"tool":"M","type":"return"},{"tool":"N","type":"failure","gauges":{"in_use":3,"total":10.5}}]',
 "POST /ingest\n{\"tool\":1}",
 "GET /metrics"]
--- error_code eval
[202, 400, 200]
--- response_body_like eval
['^\{"accepted":4\}$',
 'must be a string',
 qr{
rtdash_zone_tools\{zone="rt"\} 2
.*
rtdash_zone_events_accepted_total\{zone="rt"\} 4
.*
rtdash_zone_requests_rejected_total\{zone="rt"\} 1
.*
# TYPE rtdash_events_total counter
rtdash_events_total\{zone="rt",tool="M",type="borrow"\} 2
rtdash_events_total\{zone="rt",tool="M",type="return"\} 1
rtdash_events_total\{zone="rt",tool="N",type="failure"\} 1
# HELP rtdash_events_flagged_total [^\n]+
# TYPE rtdash_events_flagged_total counter
rtdash_events_flagged_total\{zone="rt",tool="M",type="borrow"\} 1
rtdash_events_flagged_total\{zone="rt",tool="M",type="return"\} 0
rtdash_events_flagged_total\{zone="rt",tool="N",type="failure"\} 0
# HELP rtdash_tool_level [^\n]+
# TYPE rtdash_tool_level gauge
rtdash_tool_level\{zone="rt",tool="N",name="in_use"\} 3
rtdash_tool_level\{zone="rt",tool="N",name="total"\} 10\.5
# HELP rtdash_tool_sum_total [^\n]+
# TYPE rtdash_tool_sum_total counter
# HELP rtdash_tool_last_event_time_seconds [^\n]+
# TYPE rtdash_tool_last_event_time_seconds gauge
rtdash_tool_last_event_time_seconds\{zone="rt",tool="M"\} \d{10}(\.\d+)?
rtdash_tool_last_event_time_seconds\{zone="rt",tool="N"\} \d{10}(\.\d+)?
# HELP rtdash_value [^\n]+
# TYPE rtdash_value summary
rtdash_value\{zone="rt",tool="M",quantile="0\.5"\} (9|1\d|2\d|3[0-2])(\.\d+)?
rtdash_value\{zone="rt",tool="M",quantile="0\.95"\} (2[89]|3[0-2])(\.\d+)?
rtdash_value\{zone="rt",tool="M",quantile="0\.99"\} (2[89]|3[0-2])(\.\d+)?
rtdash_value_sum\{zone="rt",tool="M"\} 40
rtdash_value_count\{zone="rt",tool="M"\} 2
rtdash_value\{zone="rt",tool="N",quantile="0\.5"\} NaN
rtdash_value\{zone="rt",tool="N",quantile="0\.95"\} NaN
rtdash_value\{zone="rt",tool="N",quantile="0\.99"\} NaN
rtdash_value_sum\{zone="rt",tool="N"\} 0
rtdash_value_count\{zone="rt",tool="N"\} 0
# HELP rtdash_value_hist [^\n]+
# TYPE rtdash_value_hist histogram
rtdash_value_hist_bucket\{zone="rt",tool="M",le="0\.125"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="M",le="0\.25"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="M",le="0\.5"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="M",le="1"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="M",le="2"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="M",le="4"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="M",le="8"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="M",le="16"\} 1
rtdash_value_hist_bucket\{zone="rt",tool="M",le="32"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="M",le="64"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="M",le="128"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="M",le="256"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="M",le="512"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="M",le="1024"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="M",le="2048"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="M",le="4096"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="M",le="8192"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="M",le="16384"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="M",le="32768"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="M",le="65536"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="M",le="131072"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="M",le="\+Inf"\} 2
rtdash_value_hist_sum\{zone="rt",tool="M"\} 40
rtdash_value_hist_count\{zone="rt",tool="M"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="N",le="0\.125"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="N",le="0\.25"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="N",le="0\.5"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="N",le="1"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="N",le="2"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="N",le="4"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="N",le="8"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="N",le="16"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="N",le="32"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="N",le="64"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="N",le="128"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="N",le="256"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="N",le="512"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="N",le="1024"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="N",le="2048"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="N",le="4096"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="N",le="8192"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="N",le="16384"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="N",le="32768"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="N",le="65536"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="N",le="131072"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="N",le="\+Inf"\} 0
rtdash_value_hist_sum\{zone="rt",tool="N"\} 0
rtdash_value_hist_count\{zone="rt",tool="N"\} 0
\z}s]
--- no_error_log
[error]



=== TEST 3: label values escape backslash and double quote; UTF-8 passes as is
--- request eval
["POST /ingest\n" . '{"tool":"a\\\\b \"q\" </script> caf\u00e9","type":"x"}',
 "GET /metrics"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":1\}$',
 qr{\nrtdash_events_total\{zone="rt",tool="a\\\\b \\"q\\" </script> caf\x{c3}\x{a9}",type="x"\} 1\n}]



=== TEST 4: HEAD gets the headers only
--- request
HEAD /metrics
--- error_code: 200
--- response_headers
Content-Type: text/plain; version=0.0.4; charset=utf-8
--- response_body



=== TEST 5: only GET and HEAD
--- request
POST /metrics
x
--- error_code: 405
--- response_headers
Allow: GET, HEAD
--- response_body
{"error":"method not allowed, use GET"}



=== TEST 6: histogram buckets are exact at their power-of-two bounds: a value counts in the buckets above it, not in the one it equals
--- request eval
["POST /ingest\n" . '[{"tool":"H","type":"x","value":-5},{"tool":"H","type":"x","value":0.1},{"tool":"H","type":"x","value":0.125},{"tool":"H","type":"x","value":3.99},{"tool":"H","type":"x","value":4},{"tool":"H","type":"x","value":1000},{"tool":"H","type":"x","value":131071},{"tool":"H","type":"x","value":131072},{"tool":"H","type":"x","value":1e6}]',
 "GET /metrics"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\\{"accepted":9\\}$',
 qr{
# TYPE rtdash_value_hist histogram
rtdash_value_hist_bucket\{zone="rt",tool="H",le="0\.125"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="H",le="0\.25"\} 3
rtdash_value_hist_bucket\{zone="rt",tool="H",le="0\.5"\} 3
rtdash_value_hist_bucket\{zone="rt",tool="H",le="1"\} 3
rtdash_value_hist_bucket\{zone="rt",tool="H",le="2"\} 3
rtdash_value_hist_bucket\{zone="rt",tool="H",le="4"\} 4
rtdash_value_hist_bucket\{zone="rt",tool="H",le="8"\} 5
rtdash_value_hist_bucket\{zone="rt",tool="H",le="16"\} 5
rtdash_value_hist_bucket\{zone="rt",tool="H",le="32"\} 5
rtdash_value_hist_bucket\{zone="rt",tool="H",le="64"\} 5
rtdash_value_hist_bucket\{zone="rt",tool="H",le="128"\} 5
rtdash_value_hist_bucket\{zone="rt",tool="H",le="256"\} 5
rtdash_value_hist_bucket\{zone="rt",tool="H",le="512"\} 5
rtdash_value_hist_bucket\{zone="rt",tool="H",le="1024"\} 6
rtdash_value_hist_bucket\{zone="rt",tool="H",le="2048"\} 6
rtdash_value_hist_bucket\{zone="rt",tool="H",le="4096"\} 6
rtdash_value_hist_bucket\{zone="rt",tool="H",le="8192"\} 6
rtdash_value_hist_bucket\{zone="rt",tool="H",le="16384"\} 6
rtdash_value_hist_bucket\{zone="rt",tool="H",le="32768"\} 6
rtdash_value_hist_bucket\{zone="rt",tool="H",le="65536"\} 6
rtdash_value_hist_bucket\{zone="rt",tool="H",le="131072"\} 7
rtdash_value_hist_bucket\{zone="rt",tool="H",le="\+Inf"\} 9
rtdash_value_hist_sum\{zone="rt",tool="H"\} 1263146\.215
rtdash_value_hist_count\{zone="rt",tool="H"\} 9
\z}]
--- no_error_log
[error]



=== TEST 7: the buckets of every tool, each ending with +Inf, _sum and _count
--- request eval
["POST /ingest\n" . '[{"tool":"A","type":"x","value":0.5},{"tool":"B","type":"x","value":3},{"tool":"B","type":"x","value":3}]',
 "GET /metrics"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\\{"accepted":3\\}$',
 qr{
# TYPE rtdash_value_hist histogram
rtdash_value_hist_bucket\{zone="rt",tool="A",le="0\.125"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="A",le="0\.25"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="A",le="0\.5"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="A",le="1"\} 1
rtdash_value_hist_bucket\{zone="rt",tool="A",le="2"\} 1
rtdash_value_hist_bucket\{zone="rt",tool="A",le="4"\} 1
rtdash_value_hist_bucket\{zone="rt",tool="A",le="8"\} 1
rtdash_value_hist_bucket\{zone="rt",tool="A",le="16"\} 1
rtdash_value_hist_bucket\{zone="rt",tool="A",le="32"\} 1
rtdash_value_hist_bucket\{zone="rt",tool="A",le="64"\} 1
rtdash_value_hist_bucket\{zone="rt",tool="A",le="128"\} 1
rtdash_value_hist_bucket\{zone="rt",tool="A",le="256"\} 1
rtdash_value_hist_bucket\{zone="rt",tool="A",le="512"\} 1
rtdash_value_hist_bucket\{zone="rt",tool="A",le="1024"\} 1
rtdash_value_hist_bucket\{zone="rt",tool="A",le="2048"\} 1
rtdash_value_hist_bucket\{zone="rt",tool="A",le="4096"\} 1
rtdash_value_hist_bucket\{zone="rt",tool="A",le="8192"\} 1
rtdash_value_hist_bucket\{zone="rt",tool="A",le="16384"\} 1
rtdash_value_hist_bucket\{zone="rt",tool="A",le="32768"\} 1
rtdash_value_hist_bucket\{zone="rt",tool="A",le="65536"\} 1
rtdash_value_hist_bucket\{zone="rt",tool="A",le="131072"\} 1
rtdash_value_hist_bucket\{zone="rt",tool="A",le="\+Inf"\} 1
rtdash_value_hist_sum\{zone="rt",tool="A"\} 0\.5
rtdash_value_hist_count\{zone="rt",tool="A"\} 1
rtdash_value_hist_bucket\{zone="rt",tool="B",le="0\.125"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="B",le="0\.25"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="B",le="0\.5"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="B",le="1"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="B",le="2"\} 0
rtdash_value_hist_bucket\{zone="rt",tool="B",le="4"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="B",le="8"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="B",le="16"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="B",le="32"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="B",le="64"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="B",le="128"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="B",le="256"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="B",le="512"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="B",le="1024"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="B",le="2048"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="B",le="4096"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="B",le="8192"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="B",le="16384"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="B",le="32768"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="B",le="65536"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="B",le="131072"\} 2
rtdash_value_hist_bucket\{zone="rt",tool="B",le="\+Inf"\} 2
rtdash_value_hist_sum\{zone="rt",tool="B"\} 6
rtdash_value_hist_count\{zone="rt",tool="B"\} 2
\z}]
--- no_error_log
[error]



=== TEST 8: 600 tools: copied in slices and written in chunks, the exposition is whole, in order, and chunked
--- http_config
rtdash_zone rt:32m retention=1h;
--- request eval
["POST /ingest\n" . "[" . CORE::join(",", map { qq({"tool":"t$_","type":"x","value":$_)
    . ($_ % 10 ? "" : qq(,"gauges":{"g":$_})) . "}" } 1 .. 600) . "]",
 "GET /metrics"]
--- error_code eval
[202, 200]
--- raw_response_headers_like eval
['Content-Length: \d+\r\n', 'Transfer-Encoding: chunked\r\n']
--- response_body_filters eval
sub {
    my $b = shift;
    return $b if $b =~ /^\{/;
    my (%n, @order);
    for (split /\n/, $b) {
        next if /^#/;
        my ($m) = /^(\w+)\{/;
        push @order, $m unless $n{$m}++;
    }
    my @t = $b =~ /^rtdash_value_hist_count\{zone="rt",tool="(t\d+)"\} 1$/mg;
    my @e = $b =~ /^rtdash_events_total\{zone="rt",tool="(t\d+)",type="x"\} 1$/mg;
    my $want = CORE::join " ", map { "t$_" } 1 .. 600;
    return CORE::join("", map { "$_ $n{$_}\n" } @order)
        . "every tool in order: " . ((CORE::join(" ", @t) eq $want
                                      && CORE::join(" ", @e) eq $want) ? "yes" : "no")
        . "\nends with a line: " . ($b =~ /\n\z/ ? "yes" : "no") . "\n";
}
--- response_body eval
['{"accepted":600}
', 'rtdash_zone_size_bytes 1
rtdash_zone_used_bytes 1
rtdash_zone_tools 1
rtdash_zone_max_tools 1
rtdash_zone_events_accepted_total 1
rtdash_zone_requests_rejected_total 1
rtdash_zone_requests_refused_total 1
rtdash_zone_tools_evicted_total 1
rtdash_zone_start_time_seconds 1
rtdash_notices_total 1
rtdash_events_total 600
rtdash_events_flagged_total 600
rtdash_tool_level 60
rtdash_tool_last_event_time_seconds 600
rtdash_value 1800
rtdash_value_sum 600
rtdash_value_count 600
rtdash_value_hist_bucket 13200
rtdash_value_hist_sum 600
rtdash_value_hist_count 600
every tool in order: yes
ends with a line: yes
']
--- no_error_log
[error]
[alert]



=== TEST 9: HEAD of 600 tools: the headers only, without a length
--- http_config
rtdash_zone rt:32m retention=1h;
--- request eval
["POST /ingest\n" . "[" . CORE::join(",", map { qq({"tool":"t$_","type":"x"}) } 1 .. 600) . "]",
 "HEAD /metrics"]
--- error_code eval
[202, 200]
--- response_headers eval
["", "Content-Type: text/plain; version=0.0.4; charset=utf-8\n!Content-Length"]
--- response_body eval
['{"accepted":600}
', '']
--- no_error_log
[error]
[alert]



=== TEST 10: a sum past the largest double is +Inf or -Inf as the format spells them, never null; times to the millisecond
--- request eval
["POST /ingest\n" . '[{"tool":"Big","type":"x","value":1.7e308},{"tool":"Big","type":"x","value":1.7e308},{"tool":"Neg","type":"x","value":-1.7e308},{"tool":"Neg","type":"x","value":-1.7e308}]',
 "GET /metrics"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\\{"accepted":4\\}$',
 qr{\A(?!.*null)(?=.*\nrtdash_value_sum\{zone="rt",tool="Big"\} \+Inf\n)(?=.*\nrtdash_value_sum\{zone="rt",tool="Neg"\} -Inf\n)(?=.*\nrtdash_value_hist_sum\{zone="rt",tool="Big"\} \+Inf\n)(?=.*\nrtdash_value_count\{zone="rt",tool="Neg"\} 2\n)(?=.*\nrtdash_tool_last_event_time_seconds\{zone="rt",tool="Big"\} [1-9][0-9]{9}(\.[0-9]{0,2}[1-9])?\n)}s]
--- no_error_log
[error]
