# Sums: named counters an event adds to, per second, per minute and
# since start; beside the gauges in a tool's slots, in every reader.
use Test::Nginx::Socket 'no_plan';

no_long_string();

# With TEST_NGINX_USE_HUP=1 the zone keeps its data between blocks: each
# block writes tools of its own, and the stream block filters by tool.
add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config",
                      "rtdash_zone rt:8m retention=1h gauges=3;")
        unless defined $block->http_config;

    my ($zone) = $block->http_config =~ /rtdash_zone (\w+):/;

    $block->set_value("config", <<"CONF") unless defined $block->config;
    location = /ingest { rtdash_ingest $zone; }
    location = /stats { rtdash_stats $zone; }
    location = /stream { rtdash_stream $zone; }
    location = /metrics { rtdash_prometheus $zone; }
CONF
});

# a GET whose last bytes come $s seconds after the first ones: the rules
# are evaluated once a second
sub later {
    my ($req, $s) = @_;
    return [{value => substr($req, 0, -2)},
            {value => substr($req, -2), delay_before => $s}];
}

run_tests();

__DATA__

=== TEST 1: sums add up in the tool's totals, its minute and its second; one batch lands in one second
--- request eval
["POST /ingest\n" . '[{"tool":"web","type":"2xx","value":12,"sums":{"bytes_out":5120,"bytes_in":300}},{"tool":"web","type":"2xx","sums":{"bytes_out":1000}},{"tool":"web","sums":{"bytes_in":1.5}}]',
 "GET /stats?tool=web&window=60"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":3\}$',
 '"tool":\{"name":"web",[^{]*"totals":\{"2xx":2\},"flagged":\{\},"rate_per_min":\{"2xx":2\},"gauges":\{\},"sums":\{"bytes_out":6120,"bytes_in":301\.5\},.*"minutes":\[\{"t":\d+,"counts":\{"2xx":2\},[^\]]*"gauges":\{\},"sums":\{"bytes_out":6120,"bytes_in":301\.5\}\}\],"seconds":\[(\{"t":\d+,"counts":\{\},"flagged":\{\}\},)*\{"t":\d+,"counts":\{"2xx":2\},"flagged":\{\},"sums":\{"bytes_out":6120,"bytes_in":301\.5\}\}(,\{"t":\d+,"counts":\{\},"flagged":\{\}\})*\]']
--- no_error_log
[error]



=== TEST 2: form syntax sum.NAME, in a body and in a query string; totals keep adding
--- request eval
["POST /ingest\ntool=form&type=4xx&sum.bytes_out=24&gauge.conns=2",
 "POST /ingest?tool=form&sum.bytes_out=0.5",
 "GET /stats?tool=form&window=60"]
--- more_headers eval
["Content-Type: application/x-www-form-urlencoded", "", ""]
--- error_code eval
[202, 202, 200]
--- response_body_like eval
['^\{"accepted":1\}$', '^\{"accepted":1\}$',
 '"tool":\{"name":"form",[^{]*"totals":\{"4xx":1\},[^{]*\{[^}]*\},[^{]*\{[^}]*\},"gauges":\{"conns":2\},"sums":\{"bytes_out":24\.5\},']



=== TEST 3: a bad sum is refused with what and where, and nothing of the body is applied
--- request eval
["POST /ingest\n" . '[{"tool":"bad","sums":{"n":1}},{"tool":"bad","sums":{"n":-1}}]',
 "POST /ingest\n" . '{"tool":"bad","sums":[1]}',
 "POST /ingest\n" . '{"tool":"bad","sums":{"N":1}}',
 "POST /ingest\n" . '{"tool":"bad","sums":{"n":"1"}}',
 "POST /ingest\ntool=bad&sum.n=-0.5",
 "POST /ingest\n" . '{"notice":"hi","sums":{"n":1}}',
 "GET /stats?tool=bad"]
--- more_headers eval
["", "", "", "", "Content-Type: application/x-www-form-urlencoded", "", ""]
--- error_code eval
[400, 400, 400, 400, 400, 400, 404]
--- response_body eval
['{"error":"sum value must be a finite number, not negative","line":1,"offset":57}' . "\n",
 '{"error":"\"sums\" must be an object of names to numbers","line":1,"offset":21}' . "\n",
 '{"error":"sum name must be a token [a-z0-9_.-]{1,32}","line":1,"offset":22}' . "\n",
 '{"error":"sum value must be a finite number, not negative","line":1,"offset":26}' . "\n",
 '{"error":"sum value must be a finite number, not negative","line":1,"offset":15}' . "\n",
 '{"error":"a notice takes only \"notice\", \"level\", \"tool\" and \"ts\"","line":1,"offset":0}' . "\n",
 '{"error":"unknown tool \"bad\""}' . "\n"]



=== TEST 4: a name is a gauge or a sum of a tool, never both: 409, and the batch is not applied
--- request eval
["POST /ingest\n" . '{"tool":"kind","type":"x","gauges":{"conns":3},"sums":{"bytes":10}}',
 "POST /ingest\n" . '[{"tool":"kind","type":"x","sums":{"bytes":5}},{"tool":"kind","gauges":{"bytes":1}}]',
 "POST /ingest\n" . '{"tool":"kind","sums":{"conns":1}}',
 "POST /ingest\n" . '{"tool":"kind","sums":{"a":1,"a":2}}',
 "GET /stats?tool=kind"]
--- error_code eval
[202, 409, 409, 202, 200]
--- response_body_like eval
['^\{"accepted":1\}$',
 '^\{"error":"the tool has a sum, not a gauge, named \\\\"bytes\\\\""\}$',
 '^\{"error":"the tool has a gauge, not a sum, named \\\\"conns\\\\""\}$',
 '^\{"accepted":1\}$',
 '"totals":\{"x":1\},.*"gauges":\{"conns":3\},"sums":\{"bytes":10,"a":3\},']
--- no_error_log
[error]



=== TEST 5: one body that names a new tool's name as a sum, then as a gauge: 409, logged at info
--- log_level: info
--- request
POST /ingest
[{"tool":"kind2","type":"x","sums":{"n":1}},{"tool":"kind2","gauges":{"n":2}}]
--- error_code: 409
--- response_body
{"error":"the tool has a sum, not a gauge, named \"n\""}
--- error_log
the tool has a sum, not a gauge, named "n", request refused
--- no_error_log
[error]



=== TEST 6: gauges and sums share the tool's gauges= slots: past them, 507
--- http_config
rtdash_zone slots:8m gauges=2;
--- request eval
["POST /ingest\n" . '{"tool":"s","gauges":{"g":1},"sums":{"a":1}}',
 "POST /ingest\n" . '{"tool":"s","sums":{"b":1}}',
 "POST /ingest\n" . '{"tool":"t","gauges":{"g":1},"sums":{"a":1,"b":2}}',
 "GET /stats?tool=s"]
--- error_code eval
[202, 507, 400, 200]
--- response_body_like eval
['^\{"accepted":1\}$',
 '^\{"error":"gauge table of the tool is full, no room for sum \\\\"b\\\\""\}$',
 '^\{"error":"too many gauges and sums in one event","line":1,"offset":\d+\}$',
 '"gauges":\{"g":1\},"sums":\{"a":1\},']



=== TEST 7: the stream sums the selected tools' sums by name, per minute and per second
--- request eval
["POST /ingest\n" . '[{"tool":"sa","type":"x","sums":{"bytes_out":100,"hits":1}},{"tool":"sb","type":"x","sums":{"bytes_out":23}},{"tool":"sb","type":"x","gauges":{"hits":4}}]',
 "GET /stream?frames=1&events=0&window=60&tool=sa&tool=sb"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":3\}$',
 '"tools":\[\{"name":"sa",[^\]]*"gauges":\{\},"sums":\{"bytes_out":100,"hits":1\},[^\]]*\{"name":"sb",[^\]]*"gauges":\{"hits":4\},"sums":\{"bytes_out":23\},.*"minutes":\[\{"t":\d+,"counts":\{"x":3\},[^\]]*"gauges":\{\},"sums":\{"bytes_out":123,"hits":1\}\}\],"seconds":\[[^\]]*\{"t":\d+,"counts":\{"x":3\},"flagged":\{\},"sums":\{"bytes_out":123,"hits":1\}\}']



=== TEST 8: the history as CSV has a sum_NAME column per sum; the window line adds them up
--- http_config
rtdash_zone csv:8m;
--- request eval
["POST /ingest\n" . '[{"tool":"csv","type":"x","sums":{"bytes":7}},{"tool":"csv","gauges":{"g":1},"sums":{"bytes":0.25,"n":2}}]',
 "GET /stats?tool=csv&window=60&format=csv"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":2\}$',
 '^minute,x,x_flagged,users,value_count,value_avg,value_p50,value_p95,value_p99,sum_bytes,sum_n\r\n\d+,1,0,0,0,,,,,7\.25,2\r\nwindow,1,0,0,0,,,,,7\.25,2\r\n$']



=== TEST 9: Prometheus: rtdash_tool_sum_total, a counter per tool and name; gauges stay rtdash_tool_level
--- http_config
rtdash_zone prom:8m;
--- request eval
["POST /ingest\n" . '{"tool":"p","gauges":{"conns":2},"sums":{"bytes_out":5120.5}}',
 "GET /metrics"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":1\}$',
 '# TYPE rtdash_tool_level gauge\nrtdash_tool_level\{zone="prom",tool="p",name="conns"\} 2\n# HELP rtdash_tool_sum_total What was added to a tool\'s sum since the zone\'s start\.\n# TYPE rtdash_tool_sum_total counter\nrtdash_tool_sum_total\{zone="prom",tool="p",name="bytes_out"\} 5120\.5\n']



=== TEST 10: a gauge: rule reads the gauge of that name, never a sum of that name
--- http_config
rtdash_zone rules:8m;
rtdash_alert rules big gauge:bytes > 0;
--- request eval
["POST /ingest\n" . '[{"tool":"r","sums":{"bytes":50}},{"tool":"q","gauges":{"bytes":5}}]',
 main::later("GET /stats", 1.5)]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":2\}$',
 '"alerts_firing":1,"alerts_pending":0\},"alerts":\{"states":\[\{"rule":"big","tool":"q","state":"firing",[^\]]*\],"transitions":\[\{[^\]]*"tool":"q"[^\]]*\]\},']
