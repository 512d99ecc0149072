# Two workers share one zone: counts stay exact whichever worker takes
# a request.
use Test::Nginx::Socket 'no_plan';

master_on();
workers(2);
no_shuffle();
no_long_string();

run_tests();

__DATA__

=== TEST 1: 40 requests of mixed formats on new connections, counted exactly
--- http_config
    rtdash_zone rt:8m retention=1h;
--- config
    location = /ingest { rtdash_ingest rt; }
    location = /stats { rtdash_stats rt; }
--- request eval
my @r;
for my $i (1 .. 10) {
    push @r, "POST /ingest\n" . CORE::join("\n", map { qq({"tool":"W","type":"nd","value":$_}) } 1 .. 25);
    push @r, "POST /ingest\n[" . CORE::join(",", map { qq({"tool":"W","type":"arr"}) } 1 .. 25) . "]";
    push @r, "POST /ingest\n{\"tool\":\"W\",\"type\":\"one\",\"flag\":true}";
    push @r, "POST /ingest?tool=W&type=form&user=u$i";
}
push @r, "GET /stats?tool=W";
\@r
--- error_code eval
[(202) x 40, 200]
--- response_body_like eval
[(qr/^\{"accepted":\d+\}$/) x 40,
 qr/"totals":\{"nd":250,"arr":250,"one":10,"form":10\},"flagged":\{"one":10\}/]
--- no_error_log
[alert]
