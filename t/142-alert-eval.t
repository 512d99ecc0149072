# Alert rules at work: every metric and comparison, for= (pending, then
# firing), resolve, absence, the stream's alert events and snapshot,
# Prometheus, and the states kept by the dump.  The evaluation runs once
# a second: a block waits 1.5 s (delay_before, see later()) where it needs one.
use Test::Nginx::Socket 'no_plan';
use File::Temp ();

our $Dir = File::Temp::tempdir("rtdash-t142-XXXXXX", TMPDIR => 1,
                               CLEANUP => 1);
our $Dump = "$Dir/alerts.dump";

no_shuffle();
no_long_string();

# With TEST_NGINX_USE_HUP=1 nginx is reloaded between blocks and a zone
# keeps its data: every block names a zone of its own.
add_block_preprocessor(sub {
    my $block = shift;

    my ($zone) = $block->http_config =~ /rtdash_zone (\w+):/;

    $block->set_value("config", <<"CONF") unless defined $block->config;
    location = /ingest { rtdash_ingest $zone; }
    location = /stats { rtdash_stats $zone; }
    location = /metrics { rtdash_prometheus $zone; }
    location = /stream {
        rtdash_stream $zone;
        rtdash_stream_interval 100ms;
    }
CONF
});

# a GET whose last bytes come $s seconds after the first ones (the delay
# of a request's first packet is not waited for)
sub later {
    my ($req, $s) = @_;
    return [{value => substr($req, 0, -2)},
            {value => substr($req, -2), delay_before => $s}];
}

run_tests();

__DATA__

=== TEST 1: every metric and comparison: what holds fires, what does not stays inactive
--- http_config
    rtdash_zone m:8m retention=1h;
    rtdash_alert m rate rate >= 4 type=borrow tool=T;
    rtdash_alert m count_unseen count < 1 type=return tool=T;
    rtdash_alert m count_not count > 4 type=borrow tool=T;
    rtdash_alert m flagged flagged == 25% type=borrow tool=T;
    rtdash_alert m share share > 15% type=failure tool=T;
    rtdash_alert m share_not share > 30% type=failure tool=T;
    rtdash_alert m users users >= 3 tool=T window=2m;
    rtdash_alert m avg avg == 400 tool=T window=2m;
    rtdash_alert m avg_ne avg != 1 tool=T window=2m;
    rtdash_alert m p50 p50 <= 400 tool=T window=2m;
    rtdash_alert m p95 p95 > 500 tool=T window=2m;
    rtdash_alert m p99_not p99 < 100 tool=T window=2m;
    rtdash_alert m max max >= 1000 tool=T window=2m;
    rtdash_alert m gauge gauge:in_use > 4 tool=T;
    rtdash_alert m gauge_not gauge:in_use <= 4 tool=T;
    rtdash_alert m ratio ratio:in_use/total >= 1 tool=T severity=crit;
    rtdash_alert m other rate > 0 tool=U;
--- request eval
["POST /ingest\n" . '[{"tool":"T","type":"borrow","user":"a","value":100,"flag":true},{"tool":"T","type":"borrow","user":"b","value":200},{"tool":"T","type":"borrow","user":"c","value":300},{"tool":"T","type":"borrow","user":"a","value":400},{"tool":"T","type":"failure","value":1000,"gauges":{"in_use":5,"total":5}}]',
 main::later("GET /metrics", 1.5)]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":5\}$',
 '(?s)^(?=.*\nrtdash_alert_state\{zone="m",rule="rate",tool="T",severity="warn"\} 2\n)(?=.*\nrtdash_alert_state\{zone="m",rule="count_unseen",tool="T",severity="warn"\} 2\n)(?=.*\nrtdash_alert_state\{zone="m",rule="flagged",tool="T",severity="warn"\} 2\n)(?=.*\nrtdash_alert_state\{zone="m",rule="share",tool="T",severity="warn"\} 2\n)(?=.*\nrtdash_alert_state\{zone="m",rule="users",tool="T",severity="warn"\} 2\n)(?=.*\nrtdash_alert_state\{zone="m",rule="avg",tool="T",severity="warn"\} 2\n)(?=.*\nrtdash_alert_state\{zone="m",rule="avg_ne",tool="T",severity="warn"\} 2\n)(?=.*\nrtdash_alert_state\{zone="m",rule="p50",tool="T",severity="warn"\} 2\n)(?=.*\nrtdash_alert_state\{zone="m",rule="p95",tool="T",severity="warn"\} 2\n)(?=.*\nrtdash_alert_state\{zone="m",rule="max",tool="T",severity="warn"\} 2\n)(?=.*\nrtdash_alert_state\{zone="m",rule="gauge",tool="T",severity="warn"\} 2\n)(?=.*\nrtdash_alert_state\{zone="m",rule="ratio",tool="T",severity="crit"\} 2\n)(?=.*\nrtdash_alert_transitions_total\{zone="m",state="firing"\} 12\n)(?!.*rule="(count_not|share_not|p99_not|gauge_not|other)")']
--- no_error_log
[error]



=== TEST 2: the values that decided, in stats: a state per (rule, tool) and its transition
--- http_config
    rtdash_zone v:8m retention=1h;
    rtdash_alert v failures share > 15% type=failure severity=crit;
--- request eval
["POST /ingest\n" . '[{"tool":"A","type":"ok"},{"tool":"A","type":"failure"},{"tool":"B","type":"ok"}]',
 main::later("GET /stats", 1.5)]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":3\}$',
 '"alerts_firing":1,"alerts_pending":0\},"alerts":\{"states":\[\{"rule":"failures","tool":"A","state":"firing","severity":"crit","metric":"share","value":0.5,"since":[0-9.]+,"t":[0-9.]+\}\],"transitions":\[\{"seq":4,"t":[0-9.]+,"tool":"A","rule":"failures","state":"firing","from":"inactive","severity":"crit","metric":"share","type":"failure","op":">","threshold":0.15,"value":0.5,"since":[0-9.]+,"window":60,"for":0\}\]\},"notices":\[\],"anomalies":\[\],"matched"']
--- no_error_log
[error]



=== TEST 3: for=: pending first, firing once it held that long
--- http_config
    rtdash_zone hold:8m retention=1h;
    rtdash_alert hold busy count >= 1 window=1h for=2s;
--- request eval
["POST /ingest\n{\"tool\":\"A\",\"type\":\"a\"}",
 main::later("GET /stats", 1.2),
 main::later("GET /stats", 2.5)]
--- error_code eval
[202, 200, 200]
--- response_body_like eval
['^\{"accepted":1\}$',
 '"alerts":\{"states":\[\{"rule":"busy","tool":"A","state":"pending",[^\]]*\],"transitions":\[\{[^}]*"state":"pending","from":"inactive",[^}]*"for":2\}\]\}',
 '"alerts":\{"states":\[\{"rule":"busy","tool":"A","state":"firing",[^\]]*\],"transitions":\[\{[^}]*"state":"pending","from":"inactive",[^}]*\},\{[^}]*"state":"firing","from":"pending",[^}]*\}\]\}']
--- no_error_log
[error]



=== TEST 4: resolve: firing while the window (3 s) holds the events, resolved once it does not
--- http_config
    rtdash_zone res:8m retention=1h;
    rtdash_alert res burst count >= 2 window=3s;
--- request eval
["POST /ingest\n[{\"tool\":\"A\",\"type\":\"a\"},{\"tool\":\"A\",\"type\":\"a\"}]",
 main::later("GET /stats", 1.2),
 main::later("GET /metrics", 4)]
--- error_code eval
[202, 200, 200]
--- response_body_like eval
['^\{"accepted":2\}$',
 '"states":\[\{"rule":"burst","tool":"A","state":"firing",',
 '(?s)\nrtdash_alert_transitions_total\{zone="res",state="firing"\} 1\nrtdash_alert_transitions_total\{zone="res",state="resolved"\} 1\n.*\nrtdash_alert_state\{zone="res",rule="burst",tool="A",severity="warn"\} 3\n']
--- no_error_log
[error]



=== TEST 5: absence: no borrow at all fires, a borrow resolves it
--- http_config
    rtdash_zone dead:8m retention=1h;
    rtdash_alert dead no_borrow absent type=borrow tool=MATLAB window=1h severity=crit;
--- request eval
["POST /ingest\n{\"tool\":\"MATLAB\",\"type\":\"return\"}",
 main::later("GET /stats", 1.5),
 "POST /ingest\n{\"tool\":\"MATLAB\",\"type\":\"borrow\"}",
 main::later("GET /stats", 1.5)]
--- error_code eval
[202, 200, 202, 200]
--- response_body_like eval
['^\{"accepted":1\}$',
 '"states":\[\{"rule":"no_borrow","tool":"MATLAB","state":"firing","severity":"crit","metric":"absent","value":0,',
 '^\{"accepted":1\}$',
 '"states":\[\{"rule":"no_borrow","tool":"MATLAB","state":"resolved",[^\]]*"value":1,[^\]]*\],"transitions":\[\{[^}]*"state":"firing"[^}]*\},\{[^}]*"state":"resolved","from":"firing",[^}]*\}\]']
--- no_error_log
[error]



=== TEST 6: the stream: each transition an event of its own with the zone's seq as id; a snapshot carries what fires
--- http_config
    rtdash_zone sse:8m retention=1h;
    rtdash_alert sse hot count >= 1 window=1h;
--- request eval
["POST /ingest\n{\"tool\":\"A <b>\",\"type\":\"a\"}",
 main::later("GET /stream?frames=1&last_event_id=1", 1.5),
 "GET /stream?frames=1&window=60"]
--- error_code eval
[202, 200, 200]
--- response_body_like eval
['^\{"accepted":1\}$',
 '^id: 2\nevent: alert\ndata: \{"seq":2,"t":[0-9.]+,"tool":"A \\\\u003cb\\\\u003e","rule":"hot","state":"firing","from":"inactive","severity":"warn","metric":"count","op":">=","threshold":1,"value":1,"since":[0-9.]+,"window":3600,"for":0\}\n\nid: 2\nevent: update\n',
 '^retry: 2000\nid: 2\nevent: snapshot\ndata: [^\n]*"alerts":\[\{"rule":"hot","tool":"A \\\\u003cb\\\\u003e","state":"firing","severity":"warn","metric":"count","value":1,"since":[0-9.]+,"t":[0-9.]+\}\],"notices":\[\]']
--- no_error_log
[error]



=== TEST 7: tool= of a rule: an exact name, a prefix; a stream's tool= gets its tools' alerts only
--- http_config
    rtdash_zone names:8m retention=1h;
    rtdash_alert names exact count >= 1 tool=api window=1h;
    rtdash_alert names prefix count >= 1 tool=api* window=1h;
--- request eval
["POST /ingest\n[{\"tool\":\"api\",\"type\":\"a\"},{\"tool\":\"api-2\",\"type\":\"a\"},{\"tool\":\"web\",\"type\":\"a\"}]",
 main::later("GET /metrics", 1.5),
 "GET /stream?frames=1&last_event_id=3&tool=api-2"]
--- error_code eval
[202, 200, 200]
--- response_body_like eval
['^\{"accepted":3\}$',
 '(?s)^(?=.*\nrtdash_alert_state\{zone="names",rule="exact",tool="api",severity="warn"\} 2\n)(?=.*\nrtdash_alert_state\{zone="names",rule="prefix",tool="api",severity="warn"\} 2\n)(?=.*\nrtdash_alert_state\{zone="names",rule="prefix",tool="api-2",severity="warn"\} 2\n)(?!.*rtdash_alert_state\{[^}]*tool="web")(?!.*rule="exact",tool="api-2")',
 '^id: \d+\nevent: alert\ndata: [^\n]*"tool":"api-2","rule":"prefix"[^\n]*\n\nid: \d+\nevent: update\n']
--- no_error_log
[error]



=== TEST 8: alert states go into the dump at exit
--- skip_eval: 4: $ENV{TEST_NGINX_USE_HUP}
--- http_config eval
"rtdash_zone kept:8m retention=1h dump=$::Dump;
 rtdash_alert kept hot count >= 1 window=1h;"
--- request eval
["POST /ingest\n{\"tool\":\"A\",\"type\":\"a\"}",
 main::later("GET /stats", 1.5)]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":1\}$',
 '"states":\[\{"rule":"hot","tool":"A","state":"firing",[^\]]*\],"transitions":\[\{"seq":2,[^\]]*\]']



=== TEST 9: a new nginx restores them: the same state and transition, none again
--- skip_eval: 2: $ENV{TEST_NGINX_USE_HUP}
--- http_config eval
"rtdash_zone kept:8m retention=1h dump=$::Dump;
 rtdash_alert kept hot count >= 1 window=1h;"
--- request eval
[main::later("GET /stats", 1.5)]
--- error_code eval
[200]
--- response_body_like eval
['"seq":2,.*"alert_transitions":1,"alerts_firing":1,"alerts_pending":0\},"alerts":\{"states":\[\{"rule":"hot","tool":"A","state":"firing",[^\]]*\],"transitions":\[\{"seq":2,"t":[0-9.]+,"tool":"A","rule":"hot","state":"firing","from":"inactive",[^\]]*\}\]\}']



=== TEST 10: rules of the same window share its counts, rules of another window or type get their own
--- http_config
    rtdash_zone win:8m retention=1h;
    rtdash_alert win a1 count >= 1 type=a window=1m;
    rtdash_alert win a5 count >= 1 type=a window=5m;
    rtdash_alert win b5 count >= 1 type=b window=5m;
    rtdash_alert win all5 count >= 1 window=5m;
    rtdash_alert win share5 share >= 0 type=b window=5m;
    rtdash_alert win never5 count >= 1 type=c window=5m;
--- request eval
my $old = time - 180;
["POST /ingest\n" . '[{"tool":"T","type":"a"},{"tool":"T","type":"a"},'
 . CORE::join(",", ((qq({"tool":"T","type":"a","ts":$old})) x 3), ((qq({"tool":"T","type":"b","ts":$old})) x 4)) . ']',
 main::later("GET /stats?limit=0", 1.5)]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":9\}$',
 '^(?=.*\{"rule":"a1","tool":"T","state":"firing","severity":"warn","metric":"count","value":2,)(?=.*\{"rule":"a5","tool":"T","state":"firing","severity":"warn","metric":"count","value":5,)(?=.*\{"rule":"b5","tool":"T","state":"firing","severity":"warn","metric":"count","value":4,)(?=.*\{"rule":"all5","tool":"T","state":"firing","severity":"warn","metric":"count","value":9,)(?=.*\{"rule":"share5","tool":"T","state":"firing","severity":"warn","metric":"share","value":0.4444)(?!.*"rule":"never5")']
--- no_error_log
[error]
