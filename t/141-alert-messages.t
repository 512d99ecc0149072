# rtdash_alert and rtdash_anomaly: each message nginx -t gives for a bad
# rule, with the file and line it names, and the manual's examples (and a
# few more good rules) passing nginx -t.
#
# A plain Test::More script, not Test::Nginx: the real Test::Nginx does
# not read nginx's stderr.  It runs under prove as it is and under
# scripts/run-tests, and finds nginx and the module as run-tests passes
# them: TEST_NGINX_BINARY (else NGINX_BIN, else nginx in PATH) and
# TEST_NGINX_LOAD_MODULES (else build/ngx_http_rtdash_module.so).
use strict;
use warnings;
use Test::More;
use File::Temp ();
use FindBin ();

my $top = "$FindBin::Bin/..";

my $nginx = $ENV{TEST_NGINX_BINARY} || $ENV{NGINX_BIN}
            || (grep { -x } map { "$_/nginx" } split(/:/, $ENV{PATH} || ''),
                '/usr/sbin')[0]
            || 'nginx';

my @modules = grep { length } split /\s+/,
              ($ENV{TEST_NGINX_LOAD_MODULES}
               || "$top/build/ngx_http_rtdash_module.so");

plan skip_all => "no module: run make first" unless grep { -f } @modules;

# nginx.conf: load_module, events, http {, access_log, then the case's
# lines: the case's line k is line k + HEAD of the file
my $HEAD = 4;

sub write_file {
    my ($path, $text) = @_;
    open my $f, '>', $path or die "$path: $!";
    print $f $text;
    close $f or die "$path: $!";
}

sub nginx_t {
    my ($lines, $files) = @_;

    my $dir = File::Temp::tempdir('rtdash-alert-XXXXXX', TMPDIR => 1,
                                  CLEANUP => 1);
    mkdir "$dir/logs";

    my $conf = join(' ', map { "load_module $_;" } @modules) . "\n"
             . "events {}" . ($> == 0 ? " user root;" : "") . "\n"
             . "http {\n"
             . "    access_log off;\n"
             . join('', map { "    $_\n" } @$lines)
             . "}\n";

    write_file("$dir/nginx.conf", $conf);
    write_file("$dir/$_", $files->{$_}) for keys %{ $files || {} };

    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        open STDOUT, '>', "$dir/stdout" or die;
        open STDERR, '>', "$dir/stderr" or die;
        exec $nginx, '-t', '-p', "$dir/", '-c', "$dir/nginx.conf",
             '-e', "$dir/error.log";
        die "exec $nginx: $!";
    }

    waitpid $pid, 0;
    my $status = $?;

    open my $f, '<', "$dir/stderr" or die;
    my $stderr = do { local $/; <$f> };

    return ($status, $stderr, $dir);
}

# a bad configuration: nginx -t fails, and says "[emerg] MSG in FILE:LINE"
sub refused {
    my ($name, $lines, $msg, %o) = @_;

    my ($status, $stderr, $dir) = nginx_t($lines, $o{files});
    my $line = $o{file} ? $o{line} : ($o{line} || @$lines) + $HEAD;
    my $want = "[emerg] $msg in $dir/" . ($o{file} || 'nginx.conf')
               . ":$line";

    subtest $name => sub {
        isnt $status, 0, 'nginx -t fails';
        ok index($stderr, $want) >= 0, "stderr says: $want"
            or diag "stderr:\n$stderr";
        for my $also (@{ $o{also} || [] }) {
            ok index($stderr, $also) >= 0, "stderr also says: $also"
                or diag "stderr:\n$stderr";
        }
    };
}

sub passes {
    my ($name, $lines, %o) = @_;

    my ($status, $stderr) = nginx_t($lines, $o{files});

    subtest $name => sub {
        is $status, 0, 'nginx -t passes';
        like $stderr, qr/test is successful/, 'test is successful';
        unlike $stderr, qr/\[(emerg|alert|crit|error|warn)\]/,
            'nothing logged' or diag "stderr:\n$stderr";
    };
}


my @examples = (
    'rtdash_zone rt:16m;',
    'rtdash_anomaly rt z=3 after=30m;',
    '# the seeds\' thresholds: warning at 15 %, critical at 30 %',
    'rtdash_alert rt overage_warn flagged >= 15% tool=MATLAB type=borrow '
        . 'window=1m for=1m severity=warn;',
    'rtdash_alert rt overage_crit flagged >= 30% tool=MATLAB type=borrow '
        . 'window=1m for=1m severity=crit;',
    'rtdash_alert rt failures share > 15% type=failure window=5m;',
    'rtdash_alert rt slow p95 > 500 tool=api* window=5m for=2m;',
    'rtdash_alert rt all_out ratio:in_use/total >= 1 tool=MATLAB '
        . 'severity=crit;',
    'rtdash_alert rt no_borrow absent tool=MATLAB type=borrow window=10m;',
    'rtdash_alert rt odd_rate anomaly:rate > 3 for=2m;',
);

my $zone = 'rtdash_zone rt:8m;';


# the good ones

passes 'the manual\'s examples', \@examples;

passes 'every metric, operator and parameter', [
    $zone,
    'rtdash_anomaly rt z=2.5 after=5m alpha=0.05;',
    'rtdash_alert rt a rate > 10 window=90s;',
    'rtdash_alert rt b count >= 1 type=borrow window=300s;',
    'rtdash_alert rt c flagged < 0.5 type=borrow;',
    'rtdash_alert rt d share <= 50% type=borrow tool=*;',
    'rtdash_alert rt e users == 0 window=2m;',
    'rtdash_alert rt f avg != -1.5e2 "tool=Tool A";',
    'rtdash_alert rt g p50 > +3 window=6m;',
    'rtdash_alert rt h p99 > .5 for=0 severity=info;',
    'rtdash_alert rt i max > 1E3 for=1d;',
    'rtdash_alert rt j gauge:in_use > 0 window=1s;',
    'rtdash_alert rt k:x.y-z_Z anomaly:p95 > 3;',
    'rtdash_alert rt l absent;',
    'rtdash_alert rt ' . ('n' x 31) . ' count > 0;',
];

passes 'window= is ignored by gauge:, ratio: and anomaly:', [
    'rtdash_zone rt:8m retention=1h;',
    'rtdash_anomaly rt;',
    'rtdash_alert rt a gauge:in_use > 0 window=2h;',
    'rtdash_alert rt b ratio:in_use/total > 1 window=61s;',
    'rtdash_alert rt c anomaly:rate > 3 window=3h;',
];

passes 'a rule may come before its zone and its rtdash_anomaly', [
    'rtdash_alert rt odd anomaly:rate > 3;',
    'rtdash_anomaly rt;',
    $zone,
];

passes 'one name in two zones, 64 rules in a zone', [
    $zone,
    'rtdash_zone other:8m;',
    'rtdash_alert rt slow p95 > 1;',
    'rtdash_alert other slow p95 > 1;',
    map { "rtdash_alert other r$_ count > $_;" } 2 .. 64,
];


# rtdash_alert, when it is read

refused 'a name with a space', [$zone, 'rtdash_alert rt "bad name" absent;'],
    'invalid name "bad name" of rtdash_alert, expected 1 to 31 bytes of '
    . '[A-Za-z0-9_.:-]';

refused 'a name of 32 bytes', [$zone, 'rtdash_alert rt ' . ('n' x 32)
                                      . ' absent;'],
    'invalid name "' . ('n' x 32) . '" of rtdash_alert, expected 1 to 31 '
    . 'bytes of [A-Za-z0-9_.:-]';

refused 'a parameter twice',
    [$zone, 'rtdash_alert rt slow p95 > 5 window=5m window=10m;'],
    'rtdash_alert "slow": duplicate "window=10m"';

refused 'no condition', [$zone, 'rtdash_alert rt slow window=5m;'],
    'rtdash_alert "slow": no condition, expected "absent" or METRIC OP '
    . 'THRESHOLD';

refused 'an unknown metric', [$zone, 'rtdash_alert rt slow p96 > 500;'],
    'rtdash_alert "slow": unknown metric "p96", expected rate, count, '
    . 'flagged, share, users, avg, p50, p95, p99, max, gauge:NAME, '
    . 'ratio:A/B, anomaly:rate, anomaly:p95 or absent';

refused 'a misspelt parameter after the condition',
    [$zone, 'rtdash_alert rt slow p95 > 500 windows=5m;'],
    'rtdash_alert "slow": unexpected "windows=5m" after the condition, '
    . 'expected tool=, type=, window=, for= or severity=';

refused 'an operator after absent',
    [$zone, 'rtdash_alert rt gone absent > 0;'],
    'rtdash_alert "gone": unexpected ">" after the condition, expected '
    . 'tool=, type=, window=, for= or severity=';

refused 'a metric alone', [$zone, 'rtdash_alert rt slow p95 window=5m;'],
    'rtdash_alert "slow": "p95" needs an operator and a threshold';

refused 'an unknown operator', [$zone, 'rtdash_alert rt slow p95 => 500;'],
    'rtdash_alert "slow": unknown operator "=>", expected >, >=, <, <=, == '
    . 'or !=';

refused 'no threshold', [$zone, 'rtdash_alert rt slow p95 > for=1m;'],
    'rtdash_alert "slow": "p95 >" needs a threshold';

for my $t ('500ms', 'inf', 'nan', '0x10', '1e999', '%', '5%%', '1.2.3', '') {
    refused "a threshold \"$t\"", [$zone, "rtdash_alert rt slow p95 > '$t';"],
        "invalid threshold \"$t\" of rtdash_alert \"slow\", expected a "
        . 'finite decimal number, or one ending in %';
}

refused 'a gauge name in capitals',
    [$zone, 'rtdash_alert rt full gauge:In_Use > 0;'],
    'invalid "gauge:In_Use" of rtdash_alert "full", expected gauge:NAME, '
    . 'NAME 1 to 32 bytes of [a-z0-9_.-]';

refused 'a gauge name of 33 bytes',
    [$zone, 'rtdash_alert rt full gauge:' . ('g' x 33) . ' > 0;'],
    'invalid "gauge:' . ('g' x 33) . '" of rtdash_alert "full", expected '
    . 'gauge:NAME, NAME 1 to 32 bytes of [a-z0-9_.-]';

for my $r ('ratio:in_use', 'ratio:in_use/', 'ratio:/total', 'ratio:a/b/c') {
    refused "a ratio \"$r\"", [$zone, "rtdash_alert rt full $r > 1;"],
        "invalid \"$r\" of rtdash_alert \"full\", expected ratio:A/B, A and "
        . 'B 1 to 32 bytes of [a-z0-9_.-]';
}

refused 'a type name in capitals',
    [$zone, 'rtdash_alert rt busy rate > 5 type=Borrow;'],
    'invalid "type=Borrow" of rtdash_alert "busy", expected a type name of '
    . '1 to 32 bytes of [a-z0-9_.-]';

for my $w ('window=0', 'window=', 'window=5 minutes') {
    refused "\"$w\"", [$zone, "rtdash_alert rt slow p95 > 500 '$w';"],
        "invalid \"$w\" of rtdash_alert \"slow\", expected a time from 1s to "
        . 'the zone\'s retention';
}

refused 'for= above 1d', [$zone, 'rtdash_alert rt slow p95 > 500 for=2d;'],
    'invalid "for=2d" of rtdash_alert "slow", expected a time from 0 to 1d';

refused 'an unknown severity',
    [$zone, 'rtdash_alert rt slow p95 > 500 severity=high;'],
    'invalid "severity=high" of rtdash_alert "slow", expected '
    . 'severity=info, warn or crit';

for my $t ('tool=', 'tool=' . ('t' x 129), "tool=a\tb") {
    (my $shown = $t) =~ s/\t/\\t/;
    refused "\"$shown\"", [$zone, "rtdash_alert rt slow p95 > 500 \"$t\";"],
        "invalid \"$t\" of rtdash_alert \"slow\", expected tool=NAME of 1 to "
        . '128 bytes (UTF-8, no control characters), tool=PREFIX* or tool=*';
}

for my $m ('flagged', 'share') {
    refused "$m without type=", [$zone, "rtdash_alert rt x $m > 15%;"],
        "rtdash_alert \"x\": \"$m\" needs \"type=\"";
}

for my $m (qw(users avg p50 p95 p99 max gauge:in_use ratio:in_use/total
              anomaly:p95)) {
    refused "$m with type=",
        [$zone, 'rtdash_anomaly rt;',
         "rtdash_alert rt x $m > 1 type=borrow;"],
        "rtdash_alert \"x\": \"$m\" takes no \"type=\": it is kept per "
        . 'tool, not per type';
}

refused 'a value metric over seconds',
    [$zone, 'rtdash_alert rt slow p95 > 500 window=90s;'],
    'invalid "window=90s" of rtdash_alert "slow", expected whole minutes: '
    . '"p95" is kept per minute';

refused 'a window over 5m of seconds',
    [$zone, 'rtdash_alert rt busy rate > 5 window=330s;'],
    'invalid "window=330s" of rtdash_alert "busy", expected whole minutes '
    . 'above 300s';

refused 'a name twice in a zone',
    [$zone, 'rtdash_alert rt slow p95 > 500;', 'rtdash_alert rt slow absent;'],
    'duplicate rtdash_alert "slow" in zone "rt"';

# crc32("x3we982bjvd6") == crc32("42zw0mnkmt20") == 0x8bf85f25 (the id: its low 31 bits, 0bf85f25)
refused 'two names of one id',
    [$zone, 'rtdash_alert rt x3we982bjvd6 absent;',
     'rtdash_alert rt 42zw0mnkmt20 absent;'],
    'rtdash_alert "42zw0mnkmt20" has the id 0bf85f25 of rtdash_alert '
    . '"x3we982bjvd6" in zone "rt", rename one';

refused 'a 65th rule in a zone',
    [$zone, map { "rtdash_alert rt r$_ count > $_;" } 1 .. 65],
    'too many rtdash_alert rules in zone "rt", at most 64';


# rtdash_alert, at the end of the http block: the rule's own line

refused 'an unknown zone',
    ['rtdash_alert nope slow p95 > 500;', $zone],
    'rtdash_alert "slow": unknown zone "nope"', line => 1;

refused 'a window longer than the retention',
    ['rtdash_zone rt:8m retention=1h;', 'rtdash_alert rt slow p95 > 500 '
     . 'window=2h;', 'rtdash_alert rt ok p95 > 500 window=1h;'],
    'rtdash_alert "slow": window=7200s is longer than retention=3600s of '
    . 'zone "rt"', line => 2;

refused 'anomaly: without rtdash_anomaly',
    [$zone, 'rtdash_zone other:8m;', 'rtdash_anomaly other;',
     'rtdash_alert rt odd anomaly:rate > 3;'],
    'rtdash_alert "odd": "anomaly:rate" needs "rtdash_anomaly rt"';

refused 'an included rule: its file and line',
    [$zone, 'include alerts.conf;'],
    'rtdash_alert "slow": window=25200s is longer than retention=21600s of '
    . 'zone "rt"',
    file => 'alerts.conf', line => 2,
    files => { 'alerts.conf' => "# slow\nrtdash_alert rt slow p95 > 1 "
                                . "window=7h;\n" };

refused 'every failing rule is told',
    [$zone, 'rtdash_alert nope a absent;', 'rtdash_alert rt b absent '
     . 'window=2d;'],
    'rtdash_alert "b": window=172800s is longer than retention=21600s of '
    . 'zone "rt"',
    line => 3, also => ['rtdash_alert "a": unknown zone "nope"'];


# rtdash_anomaly

refused 'rtdash_anomaly twice', [$zone, 'rtdash_anomaly rt;',
                                 'rtdash_anomaly rt z=4;'],
    'duplicate rtdash_anomaly "rt"';

refused 'an unknown parameter', [$zone, 'rtdash_anomaly rt zz=1;'],
    'invalid parameter "zz=1" of rtdash_anomaly "rt", expected z=, after= '
    . 'or alpha=';

refused 'a parameter twice', [$zone, 'rtdash_anomaly rt z=3 z=4;'],
    'rtdash_anomaly "rt": duplicate "z=4"';

for my $z ('z=0', 'z=101', 'z=', 'z=3%', 'z=inf') {
    refused "\"$z\"", [$zone, "rtdash_anomaly rt $z;"],
        "invalid \"$z\" of rtdash_anomaly \"rt\", expected a number from 1 "
        . 'to 100';
}

for my $a ('after=90s', 'after=4m', 'after=soon') {
    refused "\"$a\"", [$zone, "rtdash_anomaly rt $a;"],
        "invalid \"$a\" of rtdash_anomaly \"rt\", expected whole minutes "
        . 'from 5m to the zone\'s retention';
}

for my $a ('alpha=0', 'alpha=1', 'alpha=-0.1', 'alpha=x') {
    refused "\"$a\"", [$zone, "rtdash_anomaly rt $a;"],
        "invalid \"$a\" of rtdash_anomaly \"rt\", expected a number between "
        . '0 and 1, both excluded';
}

refused 'rtdash_anomaly of an unknown zone', ['rtdash_anomaly nope;', $zone],
    'rtdash_anomaly: unknown zone "nope"', line => 1;

refused 'after= longer than the retention',
    ['rtdash_zone rt:8m retention=1h;', 'rtdash_anomaly rt after=2h;'],
    'rtdash_anomaly "rt": after=7200s is longer than retention=3600s of '
    . 'zone "rt"';

done_testing();
