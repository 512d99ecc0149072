package Test::Nginx::Util;

# Compatible re-implementation of the nginx-management part of the CPAN
# module Test::Nginx (openresty/test-nginx), used by "make test" when the
# real module is not installed.  It implements the subset of features the
# rtdash test suites use, with the same semantics (config layout, env
# expansion, restart / HUP-reload logic, error-log slicing, defaults).
#
# Written from scratch for rtdash; see t/compat/README for deviations.

use strict;
use warnings;

our $VERSION = '0.29_compat';

use base 'Exporter';

use POSIX qw( SIGQUIT SIGKILL SIGTERM SIGHUP SIGUSR1 WNOHANG );
use File::Spec ();
use File::Path qw( make_path remove_tree );
use File::Find ();
use File::Temp ();
use Time::HiRes qw( sleep time );
use List::Util ();
use Scalar::Util qw( looks_like_number );
use IO::Socket::INET ();
use IO::Select ();
use Carp qw( croak );
use Config ();
use Test::More ();

our @EXPORT = qw(
    env_to_nginx is_str is_string check_accum_error_log is_running
    $NoLongString no_long_string $ServerAddr server_addr $ServerName
    server_name parse_time verbose sleep_time bail_out add_cleanup_handler
    access_log_data error_log_data setup_server_root write_config_file
    get_canon_version get_nginx_version trim show_all_chars parse_headers
    run_tests run_test get_pid_from_pidfile $ServerPortForClient $ServerPort
    $NginxVersion $PidFile $ServRoot $ConfFile $RunTestHelper
    $CheckErrorLog $CheckShutdownErrorLog $FilterHttpConfig $NoNginxManager
    $RepeatEach $CheckLeak $Benchmark $BenchmarkWarmup
    add_block_preprocessor timeout worker_connections workers master_on
    master_off config_preamble repeat_each master_process_enabled log_level
    no_shuffle no_root_location html_dir server_root server_port
    server_port_for_client no_nginx_manager use_hup
);

sub bail_out (@);
sub gen_rand_port (;$$);
sub timeout (@);

# ---------------------------------------------------------------------
# settings (same env vars and defaults as the real module)

our $Verbose         = $ENV{TEST_NGINX_VERBOSE};
our $UseHup          = $ENV{TEST_NGINX_USE_HUP};
our $LoadModules     = $ENV{TEST_NGINX_LOAD_MODULES};
our $NoShuffle       = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our $EventType       = $ENV{TEST_NGINX_EVENT_TYPE};
our $PostponeOutput  = $ENV{TEST_NGINX_POSTPONE_OUTPUT};
our $Timeout         = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $CheckAccumErrLog = $ENV{TEST_NGINX_CHECK_ACCUM_ERR_LOG};
our $NoNginxManager  = $ENV{TEST_NGINX_NO_NGINX_MANAGER} || 0;
our $Randomize       = $ENV{TEST_NGINX_RANDOMIZE};
our $NginxBinary     = $ENV{TEST_NGINX_BINARY} || 'nginx';
our $LogLevel        = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $MasterProcessEnabled = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $DaemonEnabled   = 'on';
our $TestNginxSleep  = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $ForceRestartOnTest = defined $ENV{TEST_NGINX_FORCE_RESTART_ON_TEST}
                          ? $ENV{TEST_NGINX_FORCE_RESTART_ON_TEST} : 1;
our $WorkerUser      = $ENV{TEST_NGINX_WORKER_USER};

# modes this compat runner does not implement; kept as (false) variables
# so that code peeking at them keeps working
our $CheckLeak = 0;
our $Benchmark = 0;
our $BenchmarkWarmup = 0;
our $UseStap;
our $UseValgrind;

if ($ENV{TEST_NGINX_CHECK_LEAK} || $ENV{TEST_NGINX_BENCHMARK}
    || $ENV{TEST_NGINX_USE_VALGRIND} || $ENV{TEST_NGINX_USE_STAP}
    || $ENV{TEST_NGINX_USE_HTTP2} || $ENV{TEST_NGINX_USE_HTTP3})
{
    warn "WARNING: Test::Nginx compat runner: TEST_NGINX_CHECK_LEAK, "
         . "_BENCHMARK, _USE_VALGRIND, _USE_STAP, _USE_HTTP2 and _USE_HTTP3 "
         . "are not supported and are ignored\n";
}

if (defined $WorkerUser && $WorkerUser !~ /^\w+(?:\s+\w+)?$/) {
    die "Bad value in the env TEST_NGINX_WORKER_USER: $WorkerUser\n";
}

our $ServerAddr = '127.0.0.1';
our $ServerName = 'localhost';
our $Workers = 1;
our $WorkerConnections = 64;
our $NoRootLocation = 0;
our $NoLongString;
our $RepeatEach = 1;
our $ConfigPreamble = '';
our $FilterHttpConfig;
our $ConfigVersion;
our @EnvToNginx;
our @BlockPreprocessors;
our @CleanupHandlers;
our ($RunTestHelper, $CheckErrorLog, $CheckShutdownErrorLog);
our ($NginxVersion, $NginxRawVersion, $OpenSSLVersion);
our $PrevConfig;
our $PrevBlock;
our $FirstTime = 1;
our $ErrLogFilePos = 0;
our $InSubprocess;
our $ChildPid;

our $ServerPort = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT}
                  || 1984;
our $ServerPortForClient = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort
                           || 1984;

srand $$;

if ($Randomize) {
    $ServerPort = gen_rand_port(1000);
    if (!defined $ServerPort) {
        bail_out("Cannot find an available listening port number "
                 . "after 1000 attempts.\n");
    }
    $ServerPortForClient = $ServerPort;
}

our $ServRoot;
if ($Randomize) {
    $ServRoot = File::Spec->rel2abs("t/servroot_" . $ServerPort);
} else {
    $ServRoot = $ENV{TEST_NGINX_SERVROOT}
                || File::Spec->rel2abs('t/servroot');
}
$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;

our $LogDir     = File::Spec->catfile($ServRoot, 'logs');
our $ErrLogFile = File::Spec->catfile($LogDir, 'error.log');
our $AccLogFile = File::Spec->catfile($LogDir, 'access.log');
our $HtmlDir    = File::Spec->catfile($ServRoot, 'html');
our $ConfDir    = File::Spec->catfile($ServRoot, 'conf');
our $ConfFile   = File::Spec->catfile($ConfDir, 'nginx.conf');
our $PidFile    = File::Spec->catfile($LogDir, 'nginx.pid');

# make sure END {} (and hence the nginx shutdown) also runs on ^C / TERM
for my $sig (qw(INT TERM)) {
    if (!defined $SIG{$sig} || $SIG{$sig} eq '' || $SIG{$sig} eq 'DEFAULT') {
        $SIG{$sig} = sub { warn "caught SIG$sig, cleaning up\n"; exit 130 };
    }
}

# ---------------------------------------------------------------------
# small exported setters / getters

sub no_long_string () { $NoLongString = 1 }
sub no_shuffle ()     { $NoShuffle = 1 }
sub no_nginx_manager () { $NoNginxManager = 1 }
sub use_hup ()        { $UseHup = 1 }
sub no_root_location () { $NoRootLocation = 1 }
sub check_accum_error_log () { $CheckAccumErrLog = 1 }
sub master_on ()      { $MasterProcessEnabled = 'on' }
sub master_off ()     { $MasterProcessEnabled = 'off' }
sub config_preamble ($) { $ConfigPreamble = shift }
sub add_block_preprocessor (&) { unshift @BlockPreprocessors, shift }
sub add_cleanup_handler ($) { unshift @CleanupHandlers, shift }
sub html_dir ()       { $HtmlDir }
sub server_root ()    { $ServRoot }
sub sleep_time        { $TestNginxSleep }
sub verbose           { $Verbose }

sub _getset {
    my ($ref, @args) = @_;
    if (@args) { $$ref = $args[0]; return; }
    return $$ref;
}

sub server_addr (@)   { _getset(\$ServerAddr, @_) }
sub server_name (@)   { _getset(\$ServerName, @_) }
sub timeout (@)       { _getset(\$Timeout, @_) }
sub server_port (@)   { _getset(\$ServerPort, @_) }
sub server_port_for_client (@) { _getset(\$ServerPortForClient, @_) }
sub worker_connections (@) { _getset(\$WorkerConnections, @_) }
sub workers (@)       { _getset(\$Workers, @_) }
sub log_level (@)     { _getset(\$LogLevel, @_) }

sub repeat_each (@) {
    $RepeatEach = shift if @_;
    return $RepeatEach;
}

sub master_process_enabled (@) {
    if (@_) {
        $MasterProcessEnabled = $_[0] ? 'on' : 'off';
        return;
    }
    return $MasterProcessEnabled;
}

sub env_to_nginx (@) {
    croak "env_to_nginx: no arguments specified" if !@_;
    for my $v (@_) {
        if ($v !~ /^[A-Za-z_]/ || $v =~ /\n/) {
            croak "env_to_nginx: bad argument value: $v\n";
        }
        push @EnvToNginx, $v;
    }
}

sub parse_time ($) {
    my $tm = shift;
    return $tm if !defined $tm;
    if ($tm =~ s/([^_a-zA-Z])ms$/$1/) {
        $tm = $tm / 1000;
    } else {
        $tm =~ s/([^_a-zA-Z])s$/$1/;
    }
    return $tm;
}

sub trim ($) {
    my $s = shift;
    return undef if !defined $s;
    $s =~ s/^\s+|\s+$//g;
    $s =~ s/\n/ /g;
    $s =~ s/\s{2,}/ /g;
    return $s;
}

sub show_all_chars ($) {
    my $s = shift;
    $s =~ s/\n/\\n/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\t/\\t/g;
    return $s;
}

# "Name: value" lines -> { name => value }; "!Name" -> { Name => undef }
sub parse_headers ($) {
    my $text = shift;
    my %h;
    for my $line (split /\n/, $text) {
        $line =~ s/^\s+|\s+$//g;
        next if $line eq '';
        if ($line =~ s/^!\s*//) {
            $h{$line} = undef;
            next;
        }
        my ($k, $v) = split /\s*:\s*/, $line, 2;
        $h{$k} = $v;
    }
    return \%h;
}

# ---------------------------------------------------------------------
# string comparison helpers (Test::LongString is not available here)

sub _quote_for_diag {
    my $s = shift;
    return 'undef' if !defined $s;
    my $q = $s;
    $q =~ s/\\/\\\\/g;
    $q =~ s/\r/\\r/g;
    $q =~ s/\t/\\t/g;
    $q =~ s/([\x00-\x08\x0b-\x1f\x7f])/sprintf('\\x%02x', ord $1)/ge;
    $q =~ s/\n/\\n\n/g;
    return $q;
}

sub is_string ($$;$) {
    my ($got, $expected, $desc) = @_;
    my $ok = (defined $got && defined $expected && $got eq $expected)
             || (!defined $got && !defined $expected);
    my $tb = Test::More->builder;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    $tb->ok($ok, $desc);
    if (!$ok) {
        my $msg = '';
        if (defined $got && defined $expected) {
            my $i = 0;
            my $n = length($got) < length($expected) ? length($got)
                                                     : length($expected);
            $i++ while $i < $n
                       && substr($got, $i, 1) eq substr($expected, $i, 1);
            my $line = 1 + (() = substr($got, 0, $i) =~ /\n/g);
            $msg .= "strings begin to differ at char " . ($i + 1)
                    . " (line $line)\n"
                    . "  got length: " . length($got)
                    . ", expected length: " . length($expected) . "\n";
            my $diff = eval {
                require Text::Diff;
                Text::Diff::diff(\$expected, \$got,
                                 { STYLE => 'Unified',
                                   FILENAME_A => 'expected',
                                   FILENAME_B => 'got' });
            };
            $msg .= $diff if $diff;
        }
        $msg .= "         got: " . _quote_for_diag($got) . "\n"
              . "    expected: " . _quote_for_diag($expected) . "\n";
        $tb->diag($msg);
    }
    return $ok;
}

sub is_str (@) {
    my ($got, $expected, $desc) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    if (ref $expected && ref $expected eq 'Regexp') {
        return Test::More::like($got, $expected, $desc);
    }
    return Test::More::is($got, $expected, $desc) if $NoLongString;
    return is_string($got, $expected, $desc);
}

# ---------------------------------------------------------------------
# processes

sub is_running ($) {
    my $pid = shift;
    return 0 if !defined $pid || $pid !~ /^\d+$/ || $pid <= 1;
    return 0 if !kill(0, $pid);
    # a daemonized nginx is re-parented to pid 1, which may not reap it:
    # treat zombies as gone
    if (open my $fh, '<', "/proc/$pid/stat") {
        my $stat = <$fh>;
        close $fh;
        if (defined $stat && $stat =~ /\)\s+([A-Za-z])\s/) {
            return 0 if $1 eq 'Z' || $1 eq 'X';
        }
    }
    return 1;
}

sub _wait_gone {
    my ($pid, $secs) = @_;
    my $deadline = time + $secs;
    while (is_running($pid)) {
        waitpid($pid, WNOHANG);
        return 0 if time >= $deadline;
        sleep 0.02;
    }
    return 1;
}

sub _kill_hard {
    my $pid = shift;
    my $pgrp = eval { getpgrp($pid) };
    if (defined $pgrp && $pgrp == $pid) {
        kill SIGKILL, -$pid;    # master + its workers
    }
    kill SIGKILL, $pid;
}

sub kill_process ($$$) {
    my ($pid, $wait, $name) = @_;
    return if !is_running($pid);

    if ($wait) {
        warn "sending QUIT signal to $pid\n" if $Verbose;
        kill SIGQUIT, $pid;
        return if _wait_gone($pid, timeout());
        warn "$name - timeout when waiting for the process $pid to exit\n";
        _kill_hard($pid);
        return if _wait_gone($pid, 1);
    }

    kill SIGTERM, $pid;
    return if _wait_gone($pid, 2);
    warn "$name - WARNING: killing the child process $pid with force...\n";
    _kill_hard($pid);
    _wait_gone($pid, 2);
}

sub get_pid_from_pidfile ($) {
    my ($name) = @_;
    open my $in, '<', $PidFile
        or bail_out("$name - Failed to open the pid file $PidFile "
                    . "for reading: $!");
    my $pid = do { local $/; <$in> };
    close $in;
    $pid = '' if !defined $pid;
    $pid =~ s/\s+//g;
    return $pid;
}

sub _pid_if_running {
    return undef if !-f $PidFile;
    open my $in, '<', $PidFile or return undef;
    my $pid = do { local $/; <$in> };
    close $in;
    return undef if !defined $pid;
    $pid =~ s/\s+//g;
    return undef if $pid !~ /^\d+$/;
    return is_running($pid) ? $pid : undef;
}

sub cleanup () {
    warn "cleaning up everything\n" if $Verbose;
    for my $hdl (@CleanupHandlers) {
        $hdl->();
    }
    if (defined $ChildPid) {
        kill_process($ChildPid, 1, "cleanup");
        undef $ChildPid;
    }
}

sub bail_out (@) {
    cleanup();
    Test::More::BAIL_OUT(join '', @_);
}

sub gen_rand_port (;$$) {
    my ($tries, $used) = @_;
    $tries ||= 1000;
    $used ||= {};
    for (1 .. $tries) {
        my $port = int(rand 63550) + 1985;
        next if $used->{$port};
        my $sock = IO::Socket::INET->new(
            LocalAddr => $ServerAddr,
            LocalPort => $port,
            Proto     => 'tcp',
            Timeout   => 0.1,
        );
        if ($sock) {
            close $sock;
            return $port;
        }
    }
    return undef;
}

sub can_run {
    my ($cmd) = @_;
    if ($cmd =~ m{[/\\]}) {
        return (-f $cmd && -x $cmd) ? $cmd : undef;
    }
    for my $dir ((split /$Config::Config{path_sep}/, ($ENV{PATH} || '')),
                 '.')
    {
        next if $dir eq '';
        my $abs = File::Spec->catfile($dir, $cmd);
        return $abs if -f $abs && -x $abs;
    }
    return undef;
}

sub get_canon_version (@) {
    sprintf "%d.%03d%03d", $_[0], $_[1], $_[2];
}

sub get_nginx_version () {
    my $out = `$NginxBinary -V 2>&1`;
    if (!defined $out || $? != 0) {
        $out = '' if !defined $out;
        bail_out("Failed to get the version of the Nginx in PATH: $out");
    }
    if ($out =~ m{built with OpenSSL (\d+)\.(\d+)\.(\d+)([a-z])?}s) {
        $OpenSSLVersion = get_canon_version($1, $2, $3);
    }
    if ($out =~ m{(?:nginx|openresty)[^/]*/(\d+)\.(\d+)\.(\d+)}s
        || $out =~ m{\w+/(\d+)\.(\d+)\.(\d+)}s)
    {
        $NginxRawVersion = "$1.$2.$3";
        return get_canon_version($1, $2, $3);
    }
    bail_out("Failed to parse the output of \"nginx -V\": $out\n");
}

# ---------------------------------------------------------------------
# error / access log slices

sub error_log_data () {
    # give nginx time to write log-phase messages after closing the
    # connection
    sleep $TestNginxSleep * 3;
    open my $in, '<', $ErrLogFile or return undef;
    if (!$CheckAccumErrLog && $ErrLogFilePos > 0) {
        seek $in, $ErrLogFilePos, 0;
    }
    my @lines = <$in>;
    if (!$CheckAccumErrLog) {
        $ErrLogFilePos = tell($in);
    }
    close $in;
    return \@lines;
}

sub access_log_data () {
    sleep $TestNginxSleep * 3;
    open my $in, '<', $AccLogFile or do {
        die "open $AccLogFile failed: $!" if $AccLogFile ne 'off';
        return undef;
    };
    my @lines = <$in>;
    close $in;
    return \@lines;
}

# ---------------------------------------------------------------------
# server root, user files, nginx.conf

sub setup_server_root ($) {
    my $first_time = shift;

    if (-d $ServRoot) {
        remove_tree($ConfDir, glob("$ServRoot/*_cache"),
                    glob("$ServRoot/*_temp"));
        if ($UseHup) {
            # keep the running master's pid file (and sockets, certs)
            my @files;
            File::Find::find({ no_chdir => 1, wanted => sub {
                return if -d $_;
                if (/(?:\bnginx\.pid|\.sock|\.crt|\.key)$/) {
                    return if !$first_time;
                }
                push @files, $_;
            } }, $ServRoot);
            for my $f (@files) {
                unlink $f or warn "Failed to remove $f\n";
            }
        } else {
            remove_tree($HtmlDir, $LogDir);
            rmdir $ServRoot
                or bail_out("Can't remove $ServRoot (not empty?): $!");
        }
    }

    for my $d ($ServRoot, $LogDir, $HtmlDir) {
        next if -d $d;
        mkdir $d or bail_out("Failed to do mkdir $d\n");
    }

    my $index = "$HtmlDir/index.html";
    open my $out, '>', $index
        or bail_out("Can't open $index for writing: $!\n");
    print $out '<html><head><title>It works!</title></head>'
             . '<body>It works!</body></html>';
    close $out;

    mkdir $ConfDir or bail_out("Failed to do mkdir $ConfDir\n");
}

sub expand_env_in_text ($$$) {
    my ($text, $name, $rand_ports) = @_;
    return undef if !defined $text;

    my %used = ($ServerPort => 1, map { $_ => 1 } values %$rand_ports);

    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        my $var = $1;
        my $val;
        if ($var =~ /^TEST_NGINX_RAND_PORT_[0-9]+$/) {
            if (!defined $rand_ports->{$var}) {
                my $p = gen_rand_port(1000, \%used);
                if (!defined $p) {
                    bail_out("$name - Cannot find an available listening "
                             . "port number for $var.\n");
                }
                $rand_ports->{$var} = $p;
                $used{$p} = 1;
            }
            $val = $rand_ports->{$var};
        } else {
            if (!defined $ENV{$var}) {
                bail_out("$name - No environment $var defined.\n");
            }
            $val = $ENV{$var};
        }
        $val;
    }ge;

    return $text;
}

sub write_user_files ($$) {
    my ($block, $rand_ports) = @_;
    my $name = $block->name;
    my $files = $block->user_files;
    return if !$files;

    if (!ref $files) {
        my @list;
        my ($fname, $body, $date);
        for my $line (split /^/, $files) {
            if ($line =~ />>> (\S+)(?:\s+(.+))?/) {
                push @list, [$fname, $body, $date] if $fname;
                ($fname, $date, $body) = ($1, $2, undef);
            } else {
                $body .= $line;
            }
        }
        push @list, [$fname, $body, $date] if $fname;
        $files = \@list;
    } elsif (ref $files ne 'ARRAY') {
        bail_out("$name - wrong value type: ", ref $files,
                 ", only scalar or ARRAY are accepted");
    }

    for my $file (@$files) {
        my ($fname, $body, $date) = @$file;
        $body = '' if !defined $body;
        my $path = $fname =~ m{^/} ? $fname : "$HtmlDir/$fname";
        if ($path =~ m{(.*)/}) {
            my $dir = $1;
            if (!-d $dir) {
                make_path($dir)
                    or bail_out("$name - Cannot create directory ", $dir);
            }
        }
        $body = expand_env_in_text($body, $name, $rand_ports);
        open my $out, '>', $path
            or bail_out("$name - Cannot open $path for writing: $!\n");
        binmode $out;
        print $out $body;
        close $out;
        if ($date) {
            my $cmd = "TZ=GMT touch -t '$date' $HtmlDir/$fname";
            system($cmd) == 0
                or bail_out("Failed to run shell command: $cmd\n");
        }
    }
}

sub write_config_file ($$$) {
    my ($block, $config, $rand_ports) = @_;

    my $name = $block->name;
    my $http_config = $block->http_config;
    my $main_config = $block->main_config;
    my $post_main_config = $block->post_main_config;
    my $err_log_file = $block->error_log_file;
    my $server_name = $block->server_name;

    if ($UseHup) {
        master_on();    # nginx cannot reload reliably without a master
    }

    $http_config = expand_env_in_text($http_config, $name, $rand_ports);
    $config = '' if !defined $config;
    $http_config = '' if !defined $http_config;
    $http_config = $FilterHttpConfig->($http_config) if $FilterHttpConfig;

    my $postpone = $PostponeOutput;
    undef $postpone if $http_config =~ /\bpostpone_output\b/;
    my $extra_http_config = '';
    if (defined $postpone) {
        if ($postpone !~ /^\d+$/) {
            bail_out("Bad TEST_NGINX_POSTPONE_OUTPUT value: $postpone\n");
        }
        $extra_http_config = "\n    postpone_output $postpone;\n";
    }

    $main_config = '' if !defined $main_config;
    if ($LoadModules) {
        my @mods = map { "load_module $_;" } grep { $_ } split /\s+/,
                   $LoadModules;
        $main_config .= join ' ', @mods if @mods;
    }
    $main_config = expand_env_in_text($main_config, $name, $rand_ports);

    $post_main_config = '' if !defined $post_main_config;
    $post_main_config = expand_env_in_text($post_main_config, $name,
                                           $rand_ports);

    $err_log_file ||= $ErrLogFile;
    $server_name = $ServerName if !defined $server_name;

    my $c = '';
    $c .= "worker_processes  $Workers;\n"
        . "daemon $DaemonEnabled;\n"
        . "master_process $MasterProcessEnabled;\n"
        . "error_log $err_log_file $LogLevel;\n"
        . "pid       $PidFile;\n";
    $c .= "env $_;\n" for qw(MOCKEAGAIN_VERBOSE MOCKEAGAIN
                             MOCKEAGAIN_WRITE_TIMEOUT_PATTERN LD_PRELOAD
                             LD_LIBRARY_PATH DYLD_INSERT_LIBRARIES
                             DYLD_FORCE_FLAT_NAMESPACE);
    for my $v (@EnvToNginx) {
        my $e = $v =~ /\s/ ? "'$v'" : $v;
        $c .= "env $e;\n";
    }

    $c .= "#env LUA_PATH;\n#env LUA_CPATH;\n\n$main_config\n\n"
        . "http {\n"
        . "    access_log $AccLogFile;\n"
        . "    #access_log off;\n\n"
        . "    default_type text/plain;\n"
        . "    keepalive_timeout  68;\n\n"
        . "$http_config\n\n"
        . "    server {\n"
        . "        listen          $ServerPort;\n"
        . "        server_name     '$server_name';\n\n"
        . "        client_max_body_size 30M;\n"
        . "        #client_body_buffer_size 4k;\n\n"
        . "        # Begin preamble config...\n"
        . "$ConfigPreamble\n"
        . "        # End preamble config...\n\n"
        . "        # Begin test case config...\n"
        . "$config\n"
        . "        # End test case config.\n\n";

    if (!$NoRootLocation) {
        $c .= "        location / {\n"
            . "            root $HtmlDir;\n"
            . "            index index.html index.htm;\n"
            . "        }\n";
    }
    $c .= "    }\n";

    if ($UseHup) {
        $c .= "    server {\n"
            . "        listen          $ServerPort;\n"
            . "        server_name     'Test-Nginx';\n\n"
            . "        location = /ver {\n"
            . "            return 200 '$ConfigVersion';\n"
            . "        }\n"
            . "    }\n\n"
            . "$extra_http_config\n";
    }

    $c .= "}\n\n$post_main_config\n\n#timer_resolution 100ms;\n\n"
        . "events {\n"
        . "    accept_mutex off;\n\n"
        . "    worker_connections  $WorkerConnections;\n";
    $c .= "    use $EventType;\n" if $EventType;
    $c .= "}\n";
    $c .= "env ASAN_OPTIONS;\nenv MOCKNOEAGAIN_VERBOSE;\nenv MOCKNOEAGAIN;\n";

    if (defined $WorkerUser) {
        $c .= "user $WorkerUser;\n";
    } elsif ($> == 0) {
        $c .= "user root;\n";
    }

    open my $out, '>', $ConfFile
        or bail_out("Can't open $ConfFile for writing: $!\n");
    print $out $c;
    close $out;
}

# ---------------------------------------------------------------------
# HUP mode: wait until the workers serve the new configuration

sub _get_config_version {
    my $sock = IO::Socket::INET->new(
        PeerAddr => $ServerAddr,
        PeerPort => $ServerPort,
        Proto    => 'tcp',
        Timeout  => 2,
    ) or return undef;
    my $req = "GET /ver HTTP/1.0\r\nHost: Test-Nginx\r\n\r\n";
    syswrite($sock, $req) or return undef;
    my $resp = '';
    my $sel = IO::Select->new($sock);
    my $deadline = time + 2;
    while (time < $deadline) {
        last if !$sel->can_read($deadline - time);
        my $buf;
        my $n = sysread($sock, $buf, 4096);
        last if !$n;
        $resp .= $buf;
    }
    close $sock;
    return undef if $resp !~ m{^HTTP/\S+\s+200\b.*?\r\n\r\n(.*)\z}s;
    return $1;
}

sub test_config_version ($$) {
    my ($name, $block) = @_;
    my $total = 200;
    my $nsucc = 0;
    # the real module may poll for minutes; bound the total wait
    my $deadline = time + ($Timeout * 5 > 15 ? $Timeout * 5 : 15);

    for (my $tries = 1; $tries <= $total && time < $deadline; $tries++) {
        my $ver = _get_config_version();
        if (defined $ver && $ver eq $ConfigVersion) {
            $nsucc++;
            sleep $TestNginxSleep if $nsucc == 5;
            return if $nsucc >= 20;
            next;
        }
        $nsucc = 0;
        my $wait = ($TestNginxSleep + $TestNginxSleep * $tries) * $tries / 2;
        $wait = 1 if $wait > 1;
        if ($wait > 0.5) {
            warn "$name - waiting $wait sec for nginx to reload the "
                 . "configuration\n";
        }
        sleep $wait;
    }

    Test::More->builder->no_ending(1);
    Test::More::fail("$name - failed to reload configuration after "
                     . "$total failed test requests");
    my $tail = _error_log_tail(20);
    Test::More::diag("tail of $ErrLogFile:\n$tail") if $tail ne '';
}

# The master waits 100 ms after it started the new workers before it tells
# the old ones to quit (ngx_master_process_cycle), and the old ones keep
# accepting until they act on it.  The real module's 20 version checks,
# each a curl run, last longer than that; the raw requests here can be
# done before it.  So the workers the master had before the HUP are also
# waited for, until each has gone or says it is shutting down: nginx sets
# that title just before it closes the worker's listening sockets.

# setup_server_root removed error.log; the master creates it again when it
# acts on USR1.  HUP goes only after that: a master that finds both signals
# pending reconfigures first (ngx_master_process_cycle), and what the new
# cycle logs while it starts (a zone that changes size, say) then goes to
# the unlinked file and is lost to the block's error_log checks.

sub _wait_reopened ($) {
    my $name = shift;
    my $deadline = time + 5;

    until (-e $ErrLogFile) {
        if (time >= $deadline) {
            warn "$name - the master did not reopen $ErrLogFile after USR1\n";
            return;
        }
        sleep 0.005;
    }
}

sub _child_pids ($) {
    my $ppid = shift;
    my @pids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next;
        my $s = <$fh>;
        close $fh;
        push @pids, $1
            if defined $s && $s =~ /^(\d+) \(.*\) \S+ (\d+) / && $2 == $ppid;
    }
    return @pids;
}

sub _still_accepting ($) {
    my $pid = shift;
    return 0 if !is_running($pid);
    open my $fh, '<', "/proc/$pid/cmdline" or return 0;
    my $cmd = do { local $/; <$fh> };
    close $fh;
    return 0 if !defined $cmd;
    return $cmd =~ /worker process/ && $cmd !~ /shutting down/;
}

sub _wait_old_workers ($$) {
    my ($name, $old) = @_;
    my $deadline = time + ($Timeout * 5 > 15 ? $Timeout * 5 : 15);
    my @left = @$old;

    while (@left = grep { _still_accepting($_) } @left) {
        if (time >= $deadline) {
            warn "$name - workers @left of the previous configuration "
                 . "still accept connections\n";
            return;
        }
        sleep 0.01;
    }
}

sub _error_log_tail {
    my $n = shift;
    open my $in, '<', $ErrLogFile or return '';
    my @lines = <$in>;
    close $in;
    @lines = @lines[-$n .. -1] if @lines > $n;
    return join '', @lines;
}

# ---------------------------------------------------------------------
# shutdown error log of the previous block

sub check_prev_block_shutdown_error_log () {
    my $block = $PrevBlock;
    return if !defined $block;
    return if !defined $block->shutdown_error_log
              && !defined $block->no_shutdown_error_log;
    my $dry_run;
    $dry_run = 1 if $UseHup || $ENV{TEST_NGINX_NO_CLEAN};
    $CheckShutdownErrorLog->($block, $dry_run) if $CheckShutdownErrorLog;
}

# ---------------------------------------------------------------------
# main loop

sub run_tests () {
    $NginxVersion = get_nginx_version();

    if (!defined $ENV{TEST_NGINX_SERVER_PORT}) {
        $ENV{TEST_NGINX_SERVER_PORT} = $ServerPort;
    }

    my @blocks = Test::Base::blocks();
    @blocks = List::Util::shuffle(@blocks) if !$NoShuffle;

    for my $block (@blocks) {
        for my $hdl (@BlockPreprocessors) {
            $hdl->($block);
        }
        $block->set_value("name", $0 . " " . $block->name);
        run_test($block);
        $PrevBlock = $block;
    }

    cleanup();
}

sub _parse_skip_version_spec {
    my ($spec) = @_;
    # "<n>: <op> <x.y.z> [: reason]"
    if ($spec =~ m{^\s*(\d+)\s*:\s*([<>]=?)\s*(\d+)\.(\d+)\.(\d+)
                   (?:\s*:\s*(.*))?\s*$}x)
    {
        return ($1, $2, get_canon_version($3, $4, $5), $6,
                "$3.$4.$5");
    }
    return;
}

sub _version_cmp_true {
    my ($have, $op, $want) = @_;
    return 0 if !defined $have;
    return $have < $want  if $op eq '<';
    return $have <= $want if $op eq '<=';
    return $have > $want  if $op eq '>';
    return $have >= $want if $op eq '>=';
    return 0;
}

sub _start_nginx ($$) {
    my ($name, $cmd) = @_;
    my $waited = 0;
    my $i = 0;
    while (1) {
        my $errfile = File::Temp->new(TEMPLATE => 'ngx_stderr_XXXXXX',
                                      TMPDIR => 1);
        system("$cmd 2>" . $errfile->filename);
        my $status = $?;
        my $stderr = do {
            local $/;
            open my $in, '<', $errfile->filename;
            $in ? scalar(<$in>) : '';
        };
        $stderr = '' if !defined $stderr;
        print STDERR $stderr if $stderr ne '' && $Verbose;
        return (0, $stderr) if $status == 0;

        if ($ENV{TEST_NGINX_IGNORE_MISSING_DIRECTIVES}) {
            if (my $d = check_if_missing_directives()) {
                return ("the lack of directive $d", $stderr);
            }
        }

        # a previous nginx may still be releasing the port: retry that
        # case for a while (the real module retries every failure for 30s)
        if ($stderr =~ /Address already in use|could not be bound/i
            && $waited < 10)
        {
            $i++;
            my $delay = 0.1 * $i;
            $delay = 1 if $delay > 1;
            sleep $delay;
            $waited += $delay;
            next;
        }

        my $tail = _error_log_tail(30);
        my $msg = "$name - Cannot start nginx using command \"$cmd\" "
                  . "(status code $status).\n";
        $msg .= "nginx stderr:\n$stderr" if $stderr ne '';
        $msg .= "tail of $ErrLogFile:\n$tail" if $tail ne '';
        Test::More::diag($msg);
        bail_out("$name - Cannot start nginx using command \"$cmd\" "
                 . "(status code $status).");
    }
}

sub check_if_missing_directives () {
    open my $in, '<', $ErrLogFile or return 0;
    while (<$in>) {
        if (/\[emerg\] \S+?: unknown directive "([^"]+)"/) {
            close $in;
            return $1;
        }
    }
    close $in;
    return 0;
}

sub run_test ($) {
    my $block = shift;

    return if defined $block->SKIP;

    my $name = $block->name;

    my $first_time;
    if ($FirstTime) {
        $first_time = 1;
        undef $FirstTime;
    }

    my $rand_ports = {};
    my $config = expand_env_in_text($block->config, $name, $rand_ports);

    my $dry_run = 0;
    my $should_restart = 1;
    my $should_reconfig = 1;

    local $LogLevel = $LogLevel;
    $LogLevel = $block->log_level if $block->log_level;

    local $UseHup = $UseHup;

    my $must_die;
    if (defined $block->must_die) {
        $must_die = $block->must_die;
        undef $UseHup;
    }

    if (!defined $config) {
        if (!$NoNginxManager && !defined $PrevConfig) {
            bail_out("$name - No '--- config' section specified and could "
                     . "not get previous one. Use TEST_NGINX_NO_NGINX_MANAGER ?");
        }
        # no config: keep the running server as it is
        $should_restart = 0;
        $should_reconfig = 0;
    } elsif ($NoNginxManager) {
        Test::More::diag("NO_NGINX_MANAGER activated: config for $name "
                         . "ignored");
        $should_restart = 0;
        $should_reconfig = 0;
    } else {
        $should_reconfig = (!defined $PrevConfig || $config ne $PrevConfig)
                           ? 1 : 0;
        $should_restart = ($should_reconfig || $ForceRestartOnTest) ? 1 : 0;
    }

    # skip / todo specs
    my ($tests_to_skip, $should_skip, $skip_reason);
    if (defined(my $skip_eval = $block->skip_eval)) {
        if ($skip_eval =~ /^\s*(\d+)\s*:\s*(.*)/s) {
            $tests_to_skip = $1;
            $skip_reason = "skip_eval";
            my $code = $2;
            $should_skip = eval $code;
            if ($@) {
                bail_out("$name - skip_eval - failed to eval the Perl code "
                         . "\"$code\": $@");
            }
        }
    }
    if (defined(my $spec = $block->skip_nginx)) {
        my ($n, $op, $ver, $reason, $raw) = _parse_skip_version_spec($spec);
        bail_out("$name - Invalid --- skip_nginx spec: $spec") if !defined $n;
        $tests_to_skip = $n;
        $skip_reason = $reason || "nginx version $op $raw";
        if ((!defined $NginxVersion && $op =~ /^</)
            || _version_cmp_true($NginxVersion, $op, $ver))
        {
            $should_skip = 1;
        }
    } elsif (defined(my $spec2 = $block->skip_nginx2)) {
        if ($spec2 =~ m{^\s*(\d+)\s*:\s*([<>]=?)\s*(\d+)\.(\d+)\.(\d+)
                        \s*(or|and)\s*([<>]=?)\s*(\d+)\.(\d+)\.(\d+)
                        (?:\s*:\s*(.*))?\s*$}x)
        {
            $tests_to_skip = $1;
            my $a = _version_cmp_true($NginxVersion, $2,
                                      get_canon_version($3, $4, $5));
            my $b = _version_cmp_true($NginxVersion, $7,
                                      get_canon_version($8, $9, $10));
            $skip_reason = $11;
            if (!defined $NginxVersion || ($6 eq 'or' ? ($a || $b)
                                                      : ($a && $b)))
            {
                $should_skip = 1;
            }
        } else {
            bail_out("$name - Invalid --- skip_nginx2 spec: $spec2");
        }
    }
    $skip_reason = "various reasons" if !defined $skip_reason;

    my ($should_todo, $todo_reason);
    if (defined(my $todo = $block->todo)) {
        if ($todo =~ /^\s*(\d+)\s*:\s*(.*)/s) {
            $should_todo = 1;
            $tests_to_skip = $1;
            $todo_reason = $2;
        } else {
            bail_out("$name - Invalid --- todo spec: $todo");
        }
    }
    $todo_reason = "various reasons" if !defined $todo_reason;

    if (!$NoNginxManager && !$should_skip && $should_restart) {
        $ConfigVersion = _rand_str(10) if $UseHup;
        $PrevConfig = $config if $should_reconfig;

        my $running_pid = _pid_if_running();
        if (!defined $running_pid && -f $PidFile) {
            unlink $PidFile;
        }

        my $reloaded;
        if (defined $running_pid) {
            if ($UseHup && !$first_time) {
                setup_server_root($first_time);
                write_user_files($block, $rand_ports);
                write_config_file($block, $config, $rand_ports);

                warn "sending USR1 and HUP to $running_pid\n" if $Verbose;
                my @old_workers = _child_pids($running_pid);
                if (kill(SIGUSR1, $running_pid)) {
                    sleep $TestNginxSleep;
                    _wait_reopened($name);
                    if (kill(SIGHUP, $running_pid)) {
                        sleep $TestNginxSleep * 3;
                        if (defined $block->reload_fails) {
                            sleep 0.3;
                        } else {
                            test_config_version($name, $block);
                            _wait_old_workers($name, \@old_workers);
                        }
                        $reloaded = 1;
                    } else {
                        warn "$name - Failed to send HUP signal\n";
                    }
                } else {
                    warn "$name - Failed to send USR1 signal\n";
                }
            }
            if (!$reloaded) {
                kill_process($running_pid, 1, $name);
            }
        }

        check_prev_block_shutdown_error_log();

        if (!$reloaded) {
            setup_server_root($first_time);
            write_user_files($block, $rand_ports);
            write_config_file($block, $config, $rand_ports);

            if (!can_run($NginxBinary)) {
                bail_out("$name - Cannot find the nginx executable in the "
                         . "PATH environment");
            }

            my $cmd = "$NginxBinary -p $ServRoot/ -c $ConfFile > /dev/null";
            $ErrLogFilePos = 0;

            if (defined $must_die) {
                _run_must_die($block, $cmd, $must_die);
                return;
            }

            my ($dr) = _start_nginx($name, $cmd);
            $dry_run = $dr if $dr;
            sleep $TestNginxSleep;
        }
    }

    if (defined(my $init = $block->init)) {
        eval $init;
        bail_out("$name - init failed: $@") if $@;
    }

    my $i = 0;
    $ErrLogFilePos = 0;
    while ($i++ < $RepeatEach) {
        warn "Run the test block ", $block->name, " ...\n" if $Verbose;

        write_user_files($block, $rand_ports) if $i > 1;

        if ($should_skip && defined $tests_to_skip) {
            SKIP: {
                Test::More::skip("$name - $skip_reason", $tests_to_skip);
            }
        } elsif ($should_todo) {
            TODO: {
                Test::More::todo_skip("$name - $todo_reason",
                                      $tests_to_skip);
            }
        } else {
            $RunTestHelper->($block, $dry_run, $i - 1);
        }
    }

    if (my $total_errlog = $ENV{TEST_NGINX_ERROR_LOG}) {
        if (-s $ErrLogFile) {
            open my $out, '>>', $total_errlog
                or bail_out("Failed to append test case title to "
                            . "$total_errlog: $!\n");
            print $out "\n=== $0 $name\n";
            if (open my $in, '<', $ErrLogFile) {
                local $/;
                my $data = <$in>;
                print $out $data if defined $data;
                close $in;
            }
            close $out;
        }
    }
}

sub _run_must_die {
    my ($block, $cmd, $must_die) = @_;
    my $name = $block->name;
    for my $i (0 .. $RepeatEach - 1) {
        my $errfile = File::Temp->new(TEMPLATE => 'ngx_stderr_XXXXXX',
                                      TMPDIR => 1);
        system("$cmd 2>" . $errfile->filename);
        my $status = $?;
        my ($exec_failed, $coredump, $exit_code);
        if ($status == -1) {
            $exec_failed = 1;
        } else {
            $exit_code = $status >> 8;
            $coredump = $status & 128;
        }
        if ($exec_failed) {
            Test::More::fail("$name - failed to execute the nginx command "
                             . "line");
        } elsif ($coredump) {
            Test::More::fail("$name - nginx core dumped");
        } elsif (looks_like_number($must_die)) {
            Test::More::is($must_die, $exit_code,
                           "$name - die with the expected exit code");
        } else {
            Test::More::isnt($status, 0, "$name - die as expected");
        }

        $CheckErrorLog->($block, undef, 0, $i, 0);

        if ($status == 0) {
            warn "WARNING: $name - nginx must die but it does not; "
                 . "killing it (req $i)\n";
            for (1 .. 15) {
                last if -f $PidFile;
                sleep $TestNginxSleep;
            }
            my $pid = _pid_if_running();
            kill_process($pid, 1, $name) if defined $pid;
        }
    }
}

my @RandStrAlphabet = ('A' .. 'Z', 'a' .. 'z', '0' .. '9');

sub _rand_str {
    my $len = shift;
    return join '', map { $RandStrAlphabet[int rand @RandStrAlphabet] }
                    1 .. $len;
}

END {
    return if $InSubprocess;

    cleanup();

    if (!$ENV{TEST_NGINX_NO_CLEAN}) {
        local $?;    # do not disturb Test::Builder's exit code
        my $pid = _pid_if_running();
        if (defined $pid) {
            kill_process($pid, 1, "END");
        } elsif (defined $PidFile && -f $PidFile) {
            unlink $PidFile;
        }
    }

    {
        local $?;
        check_prev_block_shutdown_error_log();
    }

    if ($Randomize && defined $ServRoot && -d $ServRoot
        && $ServRoot =~ m{/t/servroot_\d+$})
    {
        local $?;
        remove_tree($ServRoot);
    }
}

1;
