# Eviction: rtdash_zone ... evict=lru [evict_age=time] [max_tools=N].  A
# new tool that finds the zone full takes the place of the least recently
# updated tool, unless that one was written in the last evict_age or the
# same request names it; evict=off (the default) refuses with 507.
# The blocks run in order: the last ones go on with the nginx (and the
# dump) of the one before.
use Test::Nginx::Socket 'no_plan';
use File::Temp ();
use JSON::PP ();

our $Dir = File::Temp::tempdir("rtdash-t130-XXXXXX", TMPDIR => 1,
                               CLEANUP => 1);
our $Dump = "$Dir/zone.dump";

no_shuffle();
no_long_string();

# TEST_NGINX_USE_HUP=1: a reload keeps a zone whose name, size and
# parameters stay the same, so each block that writes one gets an
# events= of its own (a zone the reload starts empty); the blocks about
# the dump written at exit and read back at start need a real restart.
add_block_preprocessor(sub {
    my $block = shift;

    return if !$ENV{TEST_NGINX_USE_HUP};

    my ($n) = $block->name =~ /TEST (\d+):/;

    if ($n >= 15 && $n <= 17) {
        $block->set_value("skip_eval", "99: 1");
        return;
    }

    my $http = $block->http_config;

    if (defined $http && $http =~ /rtdash_zone rt:/ && $http !~ /events=/) {
        $http =~ s/(rtdash_zone rt:\S+)/$1 events=${\ (50 + $n)}/;
        $block->set_value("http_config", $http);
    }
});

# nginx -t names the bad parameter.  (--- must_die sees the exit status
# only: nginx writes the message to stderr, before its error_log is open.)

my @modules = split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} || '');
my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';

for my $case (
    ['evict=fifo', qr/\[emerg\].*invalid "evict=fifo", expected evict=lru or off/],
    ['evict=', qr/\[emerg\].*invalid "evict=", expected evict=lru or off/],
    ['evict=lru evict_age=soon',
     qr/\[emerg\].*invalid "evict_age=soon", expected a time in seconds or more \(30s, 5m, 1h\), or 0 for any age/],
    ['evict=lru evict_age=',
     qr/\[emerg\].*invalid "evict_age=", expected a time in seconds/],
    ['evict=lru evict_age=500ms',
     qr/\[emerg\].*invalid "evict_age=500ms", expected a time in seconds/],
    ['evict_age=5m', qr/\[emerg\].*"evict_age=" needs "evict=lru"/],
    ['evict=off evict_age=5m', qr/\[emerg\].*"evict_age=" needs "evict=lru"/],
    ['max_tools=0', qr/\[emerg\].*invalid "max_tools=0", expected a number of tools, 1 or more/],
    ['max_tools=many', qr/\[emerg\].*invalid "max_tools=many", expected a number of tools, 1 or more/],
    ['evict=lru evict_age=0 max_tools=5', qr/syntax is ok/],
)
{
    my ($params, $expect) = @$case;
    my $prefix = File::Temp::tempdir("rtdash-t130-conf-XXXXXX", TMPDIR => 1,
                                     CLEANUP => 1);
    mkdir "$prefix/$_" for qw(conf logs);

    open my $f, '>', "$prefix/conf/nginx.conf" or die $!;
    print $f map({ "load_module $_;\n" } @modules),
             "error_log logs/error.log;\npid logs/nginx.pid;\nevents {}\n",
             "http {\n    rtdash_zone rt:1m retention=1m $params;\n}\n";
    close $f;

    my $out = `$nginx -t -p $prefix/ -c conf/nginx.conf 2>&1`;
    my $ok = ($? == 0);

    Test::More::is($ok ? 1 : 0, $params =~ /max_tools=5$/ ? 1 : 0,
                   "nginx -t with \"$params\": exit status");
    Test::More::like($out, $expect, "nginx -t with \"$params\": message");
}

# TEST 3: a full tiny zone, one new tool per request: the survivors are
# the newest, as many as fit, and every other one was evicted

add_response_body_check(sub {
    my ($block, $body, $req_idx) = @_;

    return if $block->name !~ /TEST 3:/ || $req_idx != 12;

    # what fits: at most max_tools, fewer when the zone runs out of
    # pages for the tools' buckets first (a tool pays for what it uses)
    my $d = JSON::PP::decode_json($body);
    my $fit = $d->{zone}{tools};
    my @names = sort map { $_->{name} } @{ $d->{tools} };
    my @newest = map { sprintf "t%02d", $_ } 13 - $fit .. 12;

    Test::More::ok($fit >= 2 && $fit < 12,
                   $block->name . " - the zone holds 2 to 11 tools ($fit)");
    Test::More::ok($fit <= $d->{zone}{max_tools},
                   $block->name . " - the zone is full, within max_tools");
    Test::More::is($d->{zone}{evicted}, 12 - $fit,
                   $block->name . " - evicted counts every eviction");
    Test::More::is("@names", "@newest",
                   $block->name . " - the newest tools are there");
});

run_tests();

__DATA__

=== TEST 1: evict=off is the default: a new tool in a full zone gets 507
--- http_config
    rtdash_zone rt:8m retention=1m max_tools=2;
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request eval
["POST /ingest\n{\"tool\":\"A\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"B\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"C\",\"type\":\"a\"}",
 "GET /stats"]
--- error_code eval
[202, 202, 507, 200]
--- response_body_like eval
['^\{"accepted":1\}$',
 '^\{"accepted":1\}$',
 '^\{"error":"zone is full, no room for tool \\\\"C\\\\""\}$',
 '"tools":2,"max_tools":2,.*"refused":1,"evicted":0,.*"tools":\[\{"name":"A",.*\{"name":"B",[^\]]*\]\}$']
--- no_error_log
[alert]
evicted



=== TEST 2: evict=off said so: the same 507, nothing evicted
--- http_config
    rtdash_zone rt:8m retention=1m max_tools=1 evict=off;
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request eval
["POST /ingest\n{\"tool\":\"A\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"B\",\"type\":\"a\"}",
 "GET /stats?tool=A"]
--- error_code eval
[202, 507, 200]
--- response_body_like eval
['^\{"accepted":1\}$',
 '^\{"error":"zone is full, no room for tool \\\\"B\\\\""\}$',
 '"tool":\{"name":"A",.*"totals":\{"a":1\}']
--- no_error_log
[alert]



=== TEST 3: a tiny zone filled one tool at a time keeps the newest tools
--- http_config
    rtdash_zone rt:64k retention=1m events=1 types=1 gauges=1 evict=lru evict_age=0;
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request eval
[(map { sprintf "POST /ingest\n{\"tool\":\"t%02d\",\"type\":\"a\"}", $_ } 1 .. 12),
 "GET /stats"]
--- error_code eval
[(202) x 12, 200]
--- response_body_like eval
[('^\{"accepted":1\}$') x 12, '"refused":0,']
--- no_error_log
[alert]
[error]



=== TEST 4: the least recently updated tool goes, by name; stats, history, Prometheus
--- http_config
    rtdash_zone rt:8m retention=1m evict=lru evict_age=0 max_tools=3;
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
    location = /metrics { rtdash_prometheus rt; }
--- request eval
["POST /ingest\n{\"tool\":\"A\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"B\",\"type\":\"a\",\"user\":\"bo\",\"id\":\"b-1\",\"gauges\":{\"g\":7}}",
 "POST /ingest\n{\"tool\":\"C\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"A\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"D\",\"type\":\"b\"}",
 "GET /stats",
 "GET /stats?tool=B",
 "GET /stats?tool=D&events=5",
 "GET /metrics"]
--- error_code eval
[202, 202, 202, 202, 202, 200, 404, 200, 200]
--- response_body_like eval
[('^\{"accepted":1\}$') x 5,
 '"tools":3,"max_tools":3,.*"accepted":5,"rejected":0,"refused":0,"evicted":1,"started":\d+,"notices":0,[^}]*\},.*"tools":\[\{"name":"A",[^\]]*"totals":\{"a":2\},.*\{"name":"D",[^\]]*"totals":\{"b":1\},[^\]]*"gauges":\{\},.*\{"name":"C",[^\]]*"totals":\{"a":1\},[^\]]*\]\}$',
 '^\{"error":"unknown tool \\\\"B\\\\""\}$',
 '"tool":\{"name":"D",[^\]]*"totals":\{"b":1\},"flagged":\{\},"rate_per_min":\{"b":1\},"gauges":\{\},.*"events":\[\{"seq":5,"t":[0-9.]+,"type":"b","user":null,"flag":false,"value":null,"id":null\}\]\}$',
 '\nrtdash_zone_requests_refused_total\{zone="rt"\} 0\n# HELP rtdash_zone_tools_evicted_total Tools evicted to make room for new ones \(evict=lru\)\.\n# TYPE rtdash_zone_tools_evicted_total counter\nrtdash_zone_tools_evicted_total\{zone="rt"\} 1\n(?!.*tool="B")']
--- no_error_log
[alert]
[error]



=== TEST 5: a tool written in the last evict_age (1m by default) stays: 507
--- http_config
    rtdash_zone rt:8m retention=1m evict=lru max_tools=2;
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request eval
["POST /ingest\n{\"tool\":\"A\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"B\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"C\",\"type\":\"a\"}",
 "GET /stats"]
--- error_code eval
[202, 202, 507, 200]
--- response_body_like eval
['^\{"accepted":1\}$',
 '^\{"accepted":1\}$',
 '^\{"error":"zone is full, no room for tool \\\\"C\\\\""\}$',
 '"tools":2,.*"refused":1,"evicted":0,.*"tools":\[\{"name":"A",.*\{"name":"B",[^\]]*\]\}$']
--- no_error_log
[alert]



=== TEST 6: evict_age=1s: tools older than that may go
--- http_config
    rtdash_zone rt:8m retention=1m evict=lru evict_age=1s max_tools=2;
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request eval
["POST /ingest\n{\"tool\":\"A\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"B\",\"type\":\"a\"}",
 ["POST /ingest\n", {value => "{\"tool\":\"C\",\"type\":\"a\"}", delay_before => 1.2}],
 "GET /stats"]
--- error_code eval
[202, 202, 202, 200]
--- response_body_like eval
['^\{"accepted":1\}$',
 '^\{"accepted":1\}$',
 '^\{"accepted":1\}$',
 '"tools":2,.*"refused":0,"evicted":1,.*"tools":\[\{"name":"C",.*\{"name":"B",[^\]]*\]\}$']
--- no_error_log
[alert]



=== TEST 7: a batch of new tools evicts as many, never a tool it names itself
--- http_config
    rtdash_zone rt:8m retention=1m evict=lru evict_age=0 max_tools=3;
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request eval
["POST /ingest\n{\"tool\":\"A\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"B\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"C\",\"type\":\"a\"}",
 "POST /ingest\n[{\"tool\":\"D\",\"type\":\"a\",\"gauges\":{\"x\":1}},{\"tool\":\"A\",\"type\":\"a\"},{\"tool\":\"E\",\"type\":\"a\"},{\"tool\":\"D\",\"type\":\"a\",\"gauges\":{\"y\":2,\"x\":3}}]",
 "GET /stats"]
--- error_code eval
[202, 202, 202, 202, 200]
--- response_body_like eval
[('^\{"accepted":1\}$') x 3,
 '^\{"accepted":4\}$',
 '"tools":3,.*"accepted":7,.*"refused":0,"evicted":2,.*"tools":\[\{"name":"A",[^\]]*"totals":\{"a":2\},.*\{"name":"D",[^\]]*"totals":\{"a":2\},[^\]]*"gauges":\{"x":3,"y":2\},.*\{"name":"E",[^\]]*"totals":\{"a":1\},[^\]]*\]\}$']
--- no_error_log
[alert]
[error]



=== TEST 8: a batch that needs more room than it may free is refused whole, nothing evicted
--- http_config
    rtdash_zone rt:8m retention=1m evict=lru evict_age=0 max_tools=3;
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request eval
["POST /ingest\n{\"tool\":\"A\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"B\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"C\",\"type\":\"a\"}",
 "POST /ingest\n[{\"tool\":\"A\",\"type\":\"a\"},{\"tool\":\"D\",\"type\":\"a\"},{\"tool\":\"B\",\"type\":\"a\"},{\"tool\":\"E\",\"type\":\"a\"}]",
 "GET /stats"]
--- error_code eval
[202, 202, 202, 507, 200]
--- response_body_like eval
[('^\{"accepted":1\}$') x 3,
 '^\{"error":"zone is full, no room for tool \\\\"E\\\\""\}$',
 '"tools":3,.*"accepted":3,.*"refused":1,"evicted":0,.*"tools":\[\{"name":"A",[^\]]*"totals":\{"a":1\},.*\{"name":"B",[^\]]*"totals":\{"a":1\},.*\{"name":"C",[^\]]*"totals":\{"a":1\},[^\]]*\]\}$']
--- no_error_log
[alert]



=== TEST 9: a batch refused for a type or a gauge after its new tools: nothing evicted
--- http_config
    rtdash_zone rt:8m retention=1m types=1 gauges=1 evict=lru evict_age=0 max_tools=2;
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request eval
["POST /ingest\n{\"tool\":\"A\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"B\",\"type\":\"a\"}",
 "POST /ingest\n[{\"tool\":\"C\",\"type\":\"a\"},{\"tool\":\"A\",\"type\":\"b\"}]",
 "POST /ingest\n[{\"tool\":\"C\",\"gauges\":{\"x\":1}},{\"tool\":\"C\",\"gauges\":{\"y\":2}}]",
 "GET /stats",
 "POST /ingest\n[{\"tool\":\"C\",\"gauges\":{\"x\":1}},{\"tool\":\"C\",\"type\":\"a\",\"gauges\":{\"x\":4}}]",
 "GET /stats"]
--- error_code eval
[202, 202, 507, 507, 200, 202, 200]
--- response_body_like eval
['^\{"accepted":1\}$',
 '^\{"accepted":1\}$',
 '^\{"error":"type table is full, no room for type \\\\"b\\\\""\}$',
 '^\{"error":"gauge table of the tool is full, no room for gauge \\\\"y\\\\""\}$',
 '"accepted":2,.*"refused":2,"evicted":0,.*"tools":\[\{"name":"A",[^\]]*"totals":\{"a":1\},.*\{"name":"B",[^\]]*\]\}$',
 '^\{"accepted":2\}$',
 '"refused":2,"evicted":1,.*"tools":\[\{"name":"C",[^\]]*"totals":\{"a":1\},[^\]]*"gauges":\{"x":4\},.*\{"name":"B",[^\]]*\]\}$']
--- no_error_log
[alert]



=== TEST 10: a batch whose first new tool fits and whose second evicts
--- http_config
    rtdash_zone rt:8m retention=1m evict=lru evict_age=0 max_tools=3;
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request eval
["POST /ingest\n{\"tool\":\"A\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"B\",\"type\":\"a\"}",
 "POST /ingest\n[{\"tool\":\"C\",\"type\":\"a\"},{\"tool\":\"D\",\"type\":\"a\"},{\"tool\":\"C\",\"type\":\"a\"}]",
 "GET /stats"]
--- error_code eval
[202, 202, 202, 200]
--- response_body_like eval
['^\{"accepted":1\}$',
 '^\{"accepted":1\}$',
 '^\{"accepted":3\}$',
 '"tools":3,.*"evicted":1,.*"tools":\[\{"name":"D",[^\]]*"totals":\{"a":1\},.*\{"name":"B",.*\{"name":"C",[^\]]*"totals":\{"a":2\},[^\]]*\]\}$']
--- no_error_log
[alert]



=== TEST 11: max_tools above what fits: a warning, the zone holds what fits
--- http_config
    rtdash_zone rt:64k retention=1m events=1 types=1 gauges=1 max_tools=1000;
--- config
    location = /stats { rtdash_stats rt; }
--- request
GET /stats
--- response_body_like: "tools":0,"max_tools":[2-9],
--- error_log eval
qr/\[warn\] .*rtdash zone "rt": max_tools=1000 is more than the [2-9] tools that fit/



=== TEST 12: the notice names the evicted tool, once a second at most
--- http_config
    rtdash_zone rt:8m retention=1m evict=lru evict_age=0 max_tools=2;
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
    location = /five {
        rtdash_log rt tool=A type=a;
        rtdash_log rt tool=B type=a;
        rtdash_log rt tool=C type=a;
        rtdash_log rt tool=D type=a;
        rtdash_log rt tool=E type=a;
        return 200 "five\n";
    }
--- request
GET /five
--- response_body
five
--- grep_error_log eval
qr/\[notice\] .*evicted tool .*? message/
--- grep_error_log_out eval
qr/\A\[notice\] .*rtdash zone "rt": evicted tool "A", updated 0 s ago, for new tool "C"; 1 evicted since the last such message\n\z/
--- no_error_log
[error]



=== TEST 13: (the same nginx) the next notice counts the evictions it did not log
--- request eval
[["POST /ingest\n", {value => "{\"tool\":\"F\",\"type\":\"a\"}", delay_before => 1.2}]]
--- error_code: 202
--- response_body
{"accepted":1}
--- grep_error_log eval
qr/\[notice\] .*evicted tool .*? message/
--- grep_error_log_out eval
qr/\A(?:[^\n]*for new tool "C"; 1 evicted since the last such message\n)?\[notice\] [^\n]*rtdash zone "rt": evicted tool "D", updated [1-9]\d* s ago, for new tool "F"; 3 evicted since the last such message\n\z/



=== TEST 14: (the same nginx) A, B, C and D went: E and F are left
--- request
GET /stats
--- response_body_like: "tools":2,.*"evicted":4,.*"tools":\[\{"name":"E",.*\{"name":"F",[^\]]*\]\}$



=== TEST 15: evicted tools are not in the dump written at exit
--- http_config eval
"rtdash_zone rt:8m retention=1m evict=lru evict_age=0 max_tools=2 dump=$::Dump;"
--- config
    location = /ingest { rtdash_ingest rt; }
--- request eval
["POST /ingest\n{\"tool\":\"A\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"B\",\"type\":\"a\"}",
 ["POST /ingest\n", {value => "{\"tool\":\"C\",\"type\":\"a\"}", delay_before => 0.1}]]
--- error_code eval
[202, 202, 202]
--- response_body_like eval
[('^\{"accepted":1\}$') x 3]
--- no_error_log
[alert]



=== TEST 16: the restored zone has C and B, not A, and the count of evictions
--- http_config eval
"rtdash_zone rt:8m retention=1m evict=lru evict_age=0 max_tools=2 dump=$::Dump;"
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request
GET /stats
--- response_body_like: "tools":2,.*"evicted":1,.*"tools":\[(?!.*"name":"A")\{"name":"C",.*\{"name":"B",[^\]]*\]\}$
--- error_log eval
qr{restored 2 tools from "\Q$::Dump\E"}



=== TEST 17: (the same nginx) the restored tools keep their LRU order: B, older, goes first
--- request eval
["POST /ingest\n{\"tool\":\"D\",\"type\":\"a\"}",
 "GET /stats"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":1\}$',
 '"tools":2,.*"evicted":2,.*"tools":\[\{"name":"C",.*\{"name":"D",[^\]]*\]\}$']



=== TEST 18: a stream that filters on an evicted tool finds it gone
--- http_config
    rtdash_zone rt:8m retention=1m evict=lru evict_age=0 max_tools=2;
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stream { rtdash_stream rt; rtdash_stream_interval 100ms; }
--- request eval
["POST /ingest\n{\"tool\":\"A\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"B\",\"type\":\"a\"}",
 "POST /ingest\n{\"tool\":\"C\",\"type\":\"a\"}",
 "GET /stream?frames=1&tool=A&tool=C",
 "POST /ingest\n{\"tool\":\"A\",\"type\":\"b\"}",
 "GET /stream?frames=1&tool=A&events=5"]
--- error_code eval
[202, 202, 202, 200, 202, 200]
--- response_body_like eval
[('^\{"accepted":1\}$') x 3,
 '^retry: 2000\nid: 3\nevent: snapshot\ndata: \{"seq":3,[^\n]*"evicted":1,[^\n]*"tools":\[\{"name":"C",[^\n]*\}\],"tool":\["A","C"\],[^\n]*"events":\[\{"seq":3,"tool":"C",[^\]]*\]\}\n\n$',
 '^\{"accepted":1\}$',
 '^retry: 2000\nid: 4\nevent: snapshot\ndata: \{"seq":4,[^\n]*"evicted":2,[^\n]*"types":\["a","b"\],"tools":\[\{"name":"A",[^\n]*"totals":\{"b":1\},[^\n]*"tool":\["A"\],[^\n]*"events":\[\{"seq":4,"tool":"A",[^\]]*\]\}\n\n$']
--- no_error_log
[alert]
[error]
