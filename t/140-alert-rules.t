# rtdash_alert and rtdash_anomaly: the manual's rules load and nginx
# serves with them; bad ones stop nginx from starting.  What each refusal
# says, and on which line, is t/141-alert-messages.t's (Test::Nginx does
# not read nginx's stderr).
use Test::Nginx::Socket 'no_plan';

# a block that must die has a location all the same: nginx is started
# only for a block with a --- config
add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("config", "    location = /stats { rtdash_stats rt; }")
        unless defined $block->config;
});

no_long_string();
run_tests();

__DATA__

=== TEST 1: the manual's examples load, and nginx answers
--- http_config
    rtdash_zone rt:16m;
    rtdash_anomaly rt z=3 after=30m;
    # the seeds' thresholds: warning at 15 %, critical at 30 %
    rtdash_alert rt overage_warn flagged >= 15% tool=MATLAB type=borrow window=1m for=1m severity=warn;
    rtdash_alert rt overage_crit flagged >= 30% tool=MATLAB type=borrow window=1m for=1m severity=crit;
    rtdash_alert rt failures share > 15% type=failure window=5m;
    rtdash_alert rt slow p95 > 500 tool=api* window=5m for=2m;
    rtdash_alert rt all_out ratio:in_use/total >= 1 tool=MATLAB severity=crit;
    rtdash_alert rt no_borrow absent tool=MATLAB type=borrow window=10m;
    rtdash_alert rt odd_rate anomaly:rate > 3 for=2m;
--- config
    location = /stats { rtdash_stats rt; }
--- request
GET /stats
--- error_code: 200
--- response_body_like: ^\{"now":[0-9.]+,"zone":\{"name":"rt","size":16777216,
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 2: a rule may come before its zone and its rtdash_anomaly
--- http_config
    rtdash_alert early odd anomaly:p95 > 4 tool=* severity=info;
    rtdash_alert early gone absent "tool=Tool A" window=90s;
    rtdash_anomaly early alpha=0.2;
    rtdash_zone early:8m retention=1h;
--- config
    location = /stats { rtdash_stats early; }
--- request
GET /stats
--- error_code: 200
--- response_body_like: ^\{"now":[0-9.]+,"zone":\{"name":"early",
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 3: an unknown metric is refused
--- http_config
    rtdash_zone rt:8m;
    rtdash_alert rt slow p96 > 500;
--- must_die



=== TEST 4: flagged without type= is refused
--- http_config
    rtdash_zone rt:8m;
    rtdash_alert rt overage flagged >= 15% tool=MATLAB;
--- must_die



=== TEST 5: a threshold that is not a finite number is refused
--- http_config
    rtdash_zone rt:8m;
    rtdash_alert rt slow p95 > inf;
--- must_die



=== TEST 6: a value metric over a window of seconds is refused
--- http_config
    rtdash_zone rt:8m;
    rtdash_alert rt slow p95 > 500 window=90s;
--- must_die



=== TEST 7: a rule of an unknown zone is refused
--- http_config
    rtdash_zone rt:8m;
    rtdash_alert nope slow p95 > 500;
--- must_die



=== TEST 8: a window longer than the zone's retention is refused
--- http_config
    rtdash_zone rt:8m retention=1h;
    rtdash_alert rt slow p95 > 500 window=2h;
--- must_die



=== TEST 9: an anomaly: rule without rtdash_anomaly is refused
--- http_config
    rtdash_zone rt:8m;
    rtdash_alert rt odd_rate anomaly:rate > 3;
--- must_die



=== TEST 10: a name twice in a zone is refused
--- http_config
    rtdash_zone rt:8m;
    rtdash_alert rt slow p95 > 500;
    rtdash_alert rt slow p99 > 900;
--- must_die



=== TEST 11: rtdash_anomaly twice, or with z=0, is refused
--- http_config
    rtdash_zone rt:8m;
    rtdash_anomaly rt;
    rtdash_anomaly rt z=0;
--- must_die
