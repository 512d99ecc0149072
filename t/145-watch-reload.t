# A reload (SIGHUP) keeps the alert states, transitions and notices; a
# reload that resizes the zone, or changes notices=, carries them into the
# new zone.  Acknowledged notices are never lost by a reload.
BEGIN { $ENV{TEST_NGINX_USE_HUP} = 1 }

use Test::Nginx::Socket 'no_plan';

no_shuffle();
no_long_string();

add_block_preprocessor(sub {
    my $block = shift;

    my ($zone) = $block->http_config =~ /rtdash_zone (\w+):/;

    $block->set_value("config", <<"CONF");
    location = /ingest { rtdash_ingest $zone; }
    location = /stats { rtdash_stats $zone; }
CONF
});

run_tests();

__DATA__

=== TEST 1: a rule fires, a notice is posted
--- http_config
    rtdash_zone wr:8m retention=1h;
    rtdash_alert wr hot count >= 1 window=1h;
--- request eval
["POST /ingest\n[{\"tool\":\"A\",\"type\":\"a\"},{\"notice\":\"kept\",\"tool\":\"A\"}]",
 [{value => "GET /sta"}, {value => "ts", delay_before => 1.5}]]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":1,"notices":1\}$',
 '"alert_transitions":1,"alerts_firing":1,.*"transitions":\[\{"seq":3,[^}]*"state":"firing"[^]]*\]\},"notices":\[\{"seq":2,[^}]*"notice":"kept"']



=== TEST 2: after a reload: the same state, no second transition, the notice
--- http_config
    rtdash_zone wr:8m retention=1h;
    rtdash_alert wr hot count >= 1 window=1h;
--- request eval
[[{value => "GET /sta"}, {value => "ts", delay_before => 1.5}]]
--- error_code eval
[200]
--- response_body_like eval
['"alert_transitions":1,"alerts_firing":1,.*"states":\[\{"rule":"hot","tool":"A","state":"firing",[^]]*\],"transitions":\[\{"seq":3,[^}]*"state":"firing"[^]]*\]\},"notices":\[\{"seq":2,[^}]*"notice":"kept"']
--- error_log
reconfiguring



=== TEST 3: a reload that resizes the zone carries them over
--- http_config
    rtdash_zone wr:16m retention=1h;
    rtdash_alert wr hot count >= 1 window=1h;
--- request eval
[[{value => "GET /sta"}, {value => "ts", delay_before => 1.5}]]
--- error_code eval
[200]
--- response_body_like eval
['"alert_transitions":1,"alerts_firing":1,.*"states":\[\{"rule":"hot","tool":"A","state":"firing",[^]]*\],"transitions":\[\{"seq":3,[^}]*\}\]\},"notices":\[\{"seq":2,[^}]*"notice":"kept"']
--- error_log
changes size from 8388608 to 16777216



=== TEST 4: a reload that changes notices= carries them over too
--- http_config
    rtdash_zone wr:16m retention=1h notices=4;
    rtdash_alert wr hot count >= 1 window=1h;
--- request eval
[[{value => "GET /sta"}, {value => "ts", delay_before => 1.5}]]
--- error_code eval
[200]
--- response_body_like eval
['"alert_transitions":1,"alerts_firing":1,.*"states":\[\{"rule":"hot","tool":"A","state":"firing",[^]]*\],"transitions":\[\{"seq":3,[^}]*\}\]\},"notices":\[\{"seq":2,[^}]*"notice":"kept"']
--- error_log
changes notices= or alerts=
