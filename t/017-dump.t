# dump= writes the zone to a file at exit and restores it at start.
use Test::Nginx::Socket 'no_plan';
use File::Temp ();

# a directory of this run's own (the server root is remade for each block)
our $Dir = File::Temp::tempdir("rtdash-t017-XXXXXX", TMPDIR => 1,
                               CLEANUP => 1);
our $Dump = "$Dir/zone.dump";
our $Bad = "$Dir/bad.dump";

no_shuffle();
no_long_string();

add_block_preprocessor(sub {
    my $block = shift;

    # the first block starts from nothing
    unlink $Dump if $block->name =~ /TEST 1:/;

    # the third one finds garbage where the dump was
    if ($block->name =~ /TEST 3:/) {
        open my $f, ">", $Bad or die $!;
        print $f "x" x 4096;
        close $f;
    }

    my $path = $block->name =~ /TEST 3:/ ? $Bad : $Dump;

    $block->set_value("http_config",
                      "rtdash_zone rt:8m retention=1h dump=$path;");
});

run_tests();

__DATA__

=== TEST 1: events go in; nginx stops and writes the dump
--- config
    location = /ingest { rtdash_ingest rt; }
--- request
POST /ingest
[{"tool":"D","type":"a","user":"x","value":5,"id":"i1"},{"tool":"E","type":"b","gauges":{"g":2}}]
--- error_code: 202
--- response_body
{"accepted":2}
--- error_log eval
qr{no dump "\Q$::Dump\E"}



=== TEST 2: a new nginx restores everything from the dump
--- config
    location = /stats { rtdash_stats rt; }
--- request
GET /stats?tool=D&events=1
--- error_code: 200
--- response_body_like: "tool":\{"name":"D",.*"seq":1,"totals":\{"a":1\},.*"value":\{"count":1,"min":5,"max":5,.*"events":\[\{"seq":1,"t":[0-9.]+,"type":"a","user":"x","flag":false,"value":5,"id":"i1"\}\]\}$
--- error_log eval
qr{restored 2 tools from "\Q$::Dump\E"}



=== TEST 3: a corrupt dump is refused with a reason, the zone starts empty
--- config
    location = /stats { rtdash_stats rt; }
--- request
GET /stats
--- response_body_like: "tools":0,
--- error_log
not restored: not an rtdash dump; starting empty
