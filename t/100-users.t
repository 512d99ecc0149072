# users= and ids= of rtdash_zone: what is kept of a user or an id, in
# stats, the stream, CSV and the dump; distinct counts are the same in
# every mode.  Windows of two minutes: a block may cross a minute's end.
use Test::Nginx::Socket 'no_plan';
use File::Temp ();

our $Dir = File::Temp::tempdir("rtdash-t100-XXXXXX", TMPDIR => 1,
                               CLEANUP => 1);
our $Dump = "$Dir/users.dump";

no_shuffle();
no_long_string();

add_block_preprocessor(sub {
    my $block = shift;

    unlink $Dump if $block->name =~ /TEST 5:/;

    my $http = $block->http_config;
    $http =~ s/DUMP/$Dump/g if defined $http;
    $block->set_value("http_config", $http) if defined $http;

    # With TEST_NGINX_USE_HUP=1 nginx is reloaded between blocks, and a
    # zone whose name, size and parameters stay the same keeps its events
    # (a users= or ids= changed applies to new events only): TEST 2 to 4
    # name zones of their own, which the reload creates empty.  TEST 6
    # needs the restart that writes and reads the dump: skipped then.
    my ($zone) = $http =~ /rtdash_zone (\w+):/;

    $block->set_value("config", <<"CONF") unless defined $block->config;
    location = /ingest { rtdash_ingest $zone; }
    location = /stats { rtdash_stats $zone; }
    location = /stream { rtdash_stream $zone; }
CONF
});

# the dump of TEST 5 holds no user name and no id as sent
add_response_body_check(sub {
    my ($block, $body, $req_idx) = @_;

    return if $block->name !~ /TEST 6:/ || $req_idx != 0;

    open my $f, "<", $Dump or die "no dump $Dump: $!";
    binmode $f;
    local $/;
    my $data = <$f>;
    close $f;

    Test::More::ok(length($data) > 0 && index($data, "alice") < 0
                   && index($data, "secret-b1") < 0,
                   $block->name . " - the dump has neither the user nor the id");
});

# --- response_body_lacks: per request, a pattern the body must not match
# (undef: none, e.g. where the response_body_like pattern anchors the
# whole body, so that no absence check could ever fail).  Test::Nginx
# ignores response_body_unlike in a block that also has
# response_body_like, so the absence is checked here.
add_response_body_check(sub {
    my ($block, $body, $req_idx, $rep_idx, $dry_run) = @_;

    my $pats = $block->response_body_lacks;
    return if !defined $pats || $dry_run;
    my $pat = ref $pats eq 'ARRAY' ? $pats->[$req_idx] : $pats;
    return if !defined $pat;

    Test::More::unlike(defined $body ? $body : '', qr/$pat/s,
                       $block->name . " - response_body_lacks /$pat/ "
                       . "(req $req_idx)");
});

run_tests();

__DATA__

=== TEST 1: users=keep ids=keep (the default): both as sent
--- http_config
    rtdash_zone rt:8m retention=1h;
--- request eval
["POST /ingest\n[{\"tool\":\"A\",\"type\":\"borrow\",\"user\":\"alice\",\"id\":\"b-1\"},{\"tool\":\"A\",\"type\":\"borrow\",\"user\":\"bob\"}]",
 "GET /stats?tool=A&window=120&events=2"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":2\}$',
 '"users":2,.*"events":\[\{"seq":2,[^}]*"user":"bob",[^}]*"id":null\},\{"seq":1,[^}]*"user":"alice",[^}]*"id":"b-1"\}\]\}$']
--- no_error_log
[error]



=== TEST 2: users=hash ids=hash: stable 16-hex pseudonyms, the distinct count exact
--- http_config
    rtdash_zone hashed:8m retention=1h users=hash ids=hash;
--- request eval
["POST /ingest\n[{\"tool\":\"A\",\"type\":\"borrow\",\"user\":\"alice\",\"id\":\"b-1\"},{\"tool\":\"A\",\"type\":\"borrow\",\"user\":\"bob\"},{\"tool\":\"A\",\"type\":\"borrow\",\"user\":\"alice\"}]",
 "GET /stats?tool=A&window=120&events=3",
 "GET /stats?tool=A&window=120&events=3&format=csv"]
--- error_code eval
[202, 200, 200]
--- response_body_like eval
['^\{"accepted":3\}$',
 '"users":2,.*"events":\[\{"seq":3,[^}]*"user":"([0-9a-f]{16})",[^}]*"id":null\},\{"seq":2,[^}]*"user":"(?!\1)[0-9a-f]{16}",[^}]*\},\{"seq":1,[^}]*"user":"\1",[^}]*"id":"[0-9a-f]{16}"\}\]\}$',
 '^minute,borrow,borrow_flagged,users,value_count.*\r\n(\d+,0,0,0,0,,,,\r\n)*\d+,3,0,2,0,,,,\r\n(\d+,0,0,0,0,,,,\r\n)*window,3,0,2,0,,,,\r\n$']
--- response_body_lacks eval
[undef, "alice|bob|b-1", undef]
--- no_error_log
[error]



=== TEST 3: users=count ids=drop: neither is kept, the distinct count is
--- http_config
    rtdash_zone counted:8m retention=1h users=count ids=drop;
--- request eval
["POST /ingest\n[{\"tool\":\"A\",\"type\":\"borrow\",\"user\":\"alice\",\"id\":\"b-1\"},{\"tool\":\"A\",\"type\":\"borrow\",\"user\":\"bob\",\"id\":\"b-2\"}]",
 "GET /stats?tool=A&window=120&events=2",
 "GET /stream?tool=A&window=120&frames=1"]
--- error_code eval
[202, 200, 200]
--- response_body_like eval
['^\{"accepted":2\}$',
 '"users":2,.*"events":\[\{"seq":2,[^}]*"user":null,[^}]*"id":null\},\{"seq":1,[^}]*"user":null,[^}]*"id":null\}\]\}$',
 '"users":2,.*"events":\[\{"seq":2,"tool":"A",[^}]*"user":null,[^}]*"id":null\}']
--- response_body_lacks eval
[undef, "alice|bob|b-1|b-2", "alice|bob|b-1|b-2"]
--- no_error_log
[error]



=== TEST 4: rtdash_log with users=hash: $remote_addr becomes a pseudonym too
--- http_config
    rtdash_zone logged:8m retention=1h users=hash;
--- config
    location = /stats { rtdash_stats logged; }
    location = /hit {
        rtdash_log logged tool=site type=hit user=$remote_addr;
        return 204;
    }
--- request eval
["GET /hit", "GET /stats?tool=site&events=1"]
--- error_code eval
[204, 200]
--- response_body_like eval
['^$', '"events":\[\{"seq":1,[^}]*"user":"[0-9a-f]{16}"']
--- response_body_lacks eval
[undef, "127\\.0\\.0\\.1"]
--- no_error_log
[error]



=== TEST 5: a zone with users=hash and a dump: events recorded
--- http_config
    rtdash_zone rt:8m retention=1h users=hash ids=hash dump=DUMP;
--- request eval
["POST /ingest\n{\"tool\":\"A\",\"type\":\"borrow\",\"user\":\"alice\",\"id\":\"secret-b1\"}",
 "GET /stats?tool=A&events=1"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":1\}$', '"user":"[0-9a-f]{16}","flag":false,"value":null,"id":"[0-9a-f]{16}"']
--- no_error_log
[error]



=== TEST 6: after the restart, the dump restored: the same user gets the same pseudonym (the key was dumped)
--- skip_eval: 7: $ENV{TEST_NGINX_USE_HUP}
--- http_config
    rtdash_zone rt:8m retention=1h users=hash ids=hash dump=DUMP;
--- request eval
["POST /ingest\n{\"tool\":\"A\",\"type\":\"borrow\",\"user\":\"alice\"}",
 "GET /stats?tool=A&events=2"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^\{"accepted":1\}$',
 '"events":\[\{"seq":2,[^}]*"user":"([0-9a-f]{16})",[^}]*\},\{"seq":1,[^}]*"user":"\1",[^}]*"id":"[0-9a-f]{16}"\}\]\}$']
--- no_error_log
[error]



=== TEST 7: any other users= or ids= is refused by nginx -t
--- http_config
    rtdash_zone rt:8m users=forget;
--- must_die
