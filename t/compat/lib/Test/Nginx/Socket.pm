package Test::Nginx::Socket;

# Compatible re-implementation of the CPAN module Test::Nginx::Socket
# (openresty/test-nginx) for rtdash's "make test" fallback.  Block parsing
# is done by Test::Base exactly as in the real module; requests are sent
# over raw non-blocking sockets and the checks (and their test counts and
# names) follow the real module.  See t/compat/README for the supported
# subset and the known deviations.

use v5.10.1;
use Test::Base -base;    # lower-case -base: no Spiffy source filter

our $VERSION = '0.29_compat';

use POSIX qw( EAGAIN EWOULDBLOCK EINTR WNOHANG );
use Encode ();
use Time::HiRes qw( sleep time );
use List::Util qw( min );
use IO::Select ();
use IO::Socket::INET ();
use Digest::MD5 ();
use Digest::SHA ();

use Test::Nginx::Util;

our @EXPORT = qw( env_to_nginx is_str plan run_tests run_test
  repeat_each config_preamble worker_connections
  master_process_enabled
  no_long_string workers master_on master_off
  log_level no_shuffle no_root_location use_hup
  server_name
  server_addr server_root html_dir server_port server_port_for_client
  timeout no_nginx_manager check_accum_error_log
  add_block_preprocessor bail_out add_cleanup_handler
  add_response_body_check
);

sub value_contains ($$);
sub fmt_str ($);

our $TotalConnectingTimeouts = 0;
our @ResponseBodyChecks;

$RunTestHelper         = \&run_test_helper;
$CheckErrorLog         = \&check_error_log;
$CheckShutdownErrorLog = \&check_shutdown_error_log;

sub add_response_body_check ($) {
    push @ResponseBodyChecks, shift;
}

sub set_http_config_filter ($) {
    $FilterHttpConfig = shift;
}

# ---------------------------------------------------------------------
# building requests

# parse the first line "METHOD [URL [VERSION]]" of a --- request value
sub _parse_request_line ($$) {
    my ($name, $text) = @_;

    my ($first, $content);
    if ($text =~ /\A([^\n]*\n?)(.*)\z/s) {
        ($first, $content) = ($1, $2);
    }
    if (!defined $first || $first eq '') {
        bail_out("$name - Request line should be non-empty");
    }

    if ($first !~ /^(\s*)(\S+)( *)(?:(\S+)( *))?(?:(\S+)( *))?(\s*)$/) {
        bail_out("$name - Request line is not valid. Should be "
                 . "'meth [url [version]]' but got \"$first\".");
    }

    my %r = (
        before   => length($1),
        method   => $2,
        sp1      => length($3),
        url      => $4,
        sp2      => defined $5 ? length($5) : 0,
        ver      => $6,
        tail     => (defined $7 ? length($7) : 0) + length($8),
        content  => $content,
        line_len => length($first),
    );
    $r{url_len} = defined $r{url} ? length $r{url} : 0;
    $r{ver_len} = defined $r{ver} ? length $r{ver} : 0;
    $r{url} = '/' if !defined $r{url};
    $r{ver} = 'HTTP/1.1' if !defined $r{ver};
    return \%r;
}

# returns the list of packets (strings) of the complete HTTP request built
# from the packets of a --- request value, adding the request line version,
# Host, Connection, more_headers and Content-Length like the real module
sub build_request_from_packets ($$$$$) {
    my ($name, $more_headers, $is_chunked, $conn_header, $packets) = @_;

    my $whole = join '', map { defined $_ ? $_ : '' } @$packets;
    my $r = _parse_request_line($name, $whole);

    my $content = $r->{content};
    my $lead = 0;
    my $len_header = '';
    if (!$is_chunked && $content ne ''
        && $more_headers !~ /(?:^|\n)Content-Length:/)
    {
        if ($content =~ /\A(\s+)/) {
            $lead = length $1;
        }
        $content =~ s/^\s+|\s+$//gs;
        $len_header = "Content-Length: " . length($content) . "\r\n";
    }

    $more_headers =~ s/(?<!\r)\n/\r\n/g;

    my $headers = '';
    $headers .= "Host: $ServerName\r\n"
        if $more_headers !~ /(?:^|\n)Host:/msi;
    $headers .= "Connection: $conn_header\r\n"
        if $more_headers !~ /(?:^|\n)Connection/msi;
    $headers .= "$more_headers$len_header\r\n";

    my $head = "$r->{method} $r->{url} $r->{ver}\r\n$headers";
    my $new = $head . $content;

    return [$new] if @$packets <= 1;

    # map the original packet boundaries onto the new request
    my @segs = (    # [original length, new length]
        [$r->{before}, 0],
        [length $r->{method}, length $r->{method}],
        [$r->{sp1}, 1],
        [$r->{url_len}, length $r->{url}],
        [$r->{sp2}, 1],
        [$r->{ver_len}, length $r->{ver}],
        [$r->{tail}, 2 + length $headers],
    );

    my @cuts;
    my $pos = 0;
    for my $i (0 .. $#$packets - 1) {
        $pos += length(defined $packets->[$i] ? $packets->[$i] : '');
        my $b = $pos;
        my ($o, $n) = (0, 0);
        my $mapped;
        for my $s (@segs) {
            if ($b < $o + $s->[0]) {
                my $d = $b - $o;
                $mapped = $n + ($d < $s->[1] ? $d : $s->[1]);
                last;
            }
            $o += $s->[0];
            $n += $s->[1];
        }
        if (!defined $mapped) {    # inside the body
            my $c = $b - $r->{line_len} - $lead;
            $c = 0 if $c < 0;
            $c = length $content if $c > length $content;
            $mapped = length($head) + $c;
        }
        push @cuts, $mapped;
    }

    my @out;
    my $prev = 0;
    for my $cut (@cuts, length $new) {
        $cut = $prev if $cut < $prev;
        push @out, substr($new, $prev, $cut - $prev);
        $prev = $cut;
    }
    return \@out;
}

sub parse_more_headers ($) {
    my ($in) = @_;
    my $out = '';
    my $is_chunked;
    for my $line (split /\n+/, $in) {
        next if $line =~ /^\s*\#/;
        my ($key, $val) = split /:\s*/, $line, 2;
        $val = '' if !defined $val;
        if (lc($key) eq 'transfer-encoding' && $val eq 'chunked') {
            $is_chunked = 1;
        }
        $out .= "$key: $val\r\n";
    }
    return ($out, $is_chunked);
}

sub _headers_for_idx {
    my ($name, $more_headers, $i, $what) = @_;
    if (ref $more_headers eq 'ARRAY') {
        my $hdr = $more_headers->[$i];
        if (!defined $hdr) {
            bail_out("--- more_headers lacks data for the $what");
        }
        return parse_more_headers($hdr);
    }
    return parse_more_headers($more_headers);
}

# returns [ request, ... ] where a request is [ {value => ..., ...}, ... ]
sub get_req_from_block ($) {
    my ($block) = @_;
    my $name = $block->name;
    my @req_list;

    if (defined $block->raw_request) {
        my $raw = $block->raw_request;
        if (ref $raw && ref $raw eq 'ARRAY') {
            push @req_list, [ map { { value => $_ } } @$raw ];
        } else {
            push @req_list, [ { value => $raw } ];
        }
        return \@req_list;
    }

    my $request;
    if (defined $block->request_eval) {
        diag "$name - request_eval DEPRECATED. Use request eval instead.";
        $request = eval $block->request_eval;
        warn $@ if $@;
    } else {
        $request = $block->request;
        if (defined $request && !ref $request) {
            # strip leading white space and comment lines
            1 while $request =~ s/^\s*\#[^\n]+\s+|^\s+//gs;
        }
    }

    my $more_headers = $block->more_headers || '';

    if ($block->pipelined_requests) {
        my $reqs = $block->pipelined_requests;
        if (!ref $reqs || ref $reqs ne 'ARRAY') {
            bail_out("$name - invalid entries in --- pipelined_requests");
        }
        my $all = '';
        for my $i (0 .. $#$reqs) {
            my $conn = $i == $#$reqs ? 'close' : 'keep-alive';
            my ($hdr, $chunked) = _headers_for_idx($name, $more_headers, $i,
                                                   "$i pipelined request");
            $all .= build_request_from_packets($name, $hdr, $chunked, $conn,
                                               [$reqs->[$i]])->[0];
        }
        push @req_list, [ { value => $all } ];
        return \@req_list;
    }

    if (!ref $request) {
        my ($hdr, $chunked) = _headers_for_idx($name, $more_headers, 0,
                                               "request");
        my $r = build_request_from_packets($name, $hdr, $chunked, 'close',
                                           [$request]);
        push @req_list, [ { value => $r->[0] } ];

    } elsif (ref $request eq 'ARRAY') {
        my $i = 0;
        for my $one (@$request) {
            my ($hdr, $chunked) = _headers_for_idx($name, $more_headers, $i,
                                                   "${i}th request");
            if (!ref $one) {
                my $r = build_request_from_packets($name, $hdr, $chunked,
                                                   'close', [$one]);
                push @req_list, [ { value => $r->[0] } ];

            } elsif (ref $one eq 'ARRAY') {
                my @vals;
                for my $p (@$one) {
                    if (!ref $p) {
                        push @vals, $p;
                    } elsif (ref $p eq 'HASH') {
                        push @vals, $p->{value};
                    } else {
                        bail_out("$name - Invalid syntax. $p should be a "
                                 . "string or hash with value.");
                    }
                }
                my $new = build_request_from_packets($name, $hdr, $chunked,
                                                     'close', \@vals);
                my @pkts;
                for my $j (0 .. $#$new) {
                    my $orig = $one->[$j];
                    if (ref $orig) {
                        push @pkts, { %$orig, value => $new->[$j] };
                    } else {
                        push @pkts, { value => $new->[$j] };
                    }
                }
                push @req_list, \@pkts;

            } else {
                bail_out("$name - Invalid syntax. $one should be a string "
                         . "or an array of packets.");
            }
            $i++;
        }

    } else {
        bail_out("$name - invalid ---request : MUST be string or array of "
                 . "requests");
    }

    return \@req_list;
}

# ---------------------------------------------------------------------
# sending a request and reading the whole response (until the server
# closes the connection or the timeout expires between two I/O events)

sub _connect ($$$) {
    my ($block, $addr, $timeout) = @_;
    my $name = $block->name;
    my $max_tries = $TotalConnectingTimeouts ? 20 : 50;

    for (my $tries = 1; ; $tries++) {
        my $sock = IO::Socket::INET->new(
            PeerAddr => $addr,
            PeerPort => $ServerPortForClient,
            Proto    => 'tcp',
            Timeout  => $timeout,
        );
        return $sock if $sock;

        my $err = "$!";

        # deviation: give up early when nginx is not running any more
        # (e.g. it crashed); the real module keeps retrying for ~45s
        my $gone = $tries >= 3 && !$Test::Nginx::Util::NoNginxManager
                   && !defined Test::Nginx::Util::_pid_if_running();
        if ($gone) {
            $err .= " (nginx is not running)";
            my $tail = Test::Nginx::Util::_error_log_tail(20);
            diag("tail of error.log:\n$tail") if $tail ne '';
        }

        if ($tries >= $max_tries || $gone) {
            my $msg = "$name - Can't connect to $addr:$ServerPortForClient: "
                      . "$err (aborted)\n";
            if (++$TotalConnectingTimeouts < 3) {
                Test::More->builder->no_ending(1);
                fail($msg);
            } else {
                bail_out($msg);
            }
            return undef;
        }

        my $wait = (sleep_time() + sleep_time() * $tries) * $tries / 2;
        $wait = 1 if $wait >= 1;
        if ($wait >= 0.6) {
            warn "$name - Can't connect to $addr:$ServerPortForClient: "
                 . "$err\n\tRetry connecting after $wait sec\n";
        }
        sleep $wait;
    }
}

sub send_request ($$$$) {
    my ($req, $middle_delay, $timeout, $block) = @_;
    my $name = $block->name;

    my @bits = @$req;
    my $all = join '', map { defined $_->{value} ? $_->{value} : '' } @bits;
    my $head_req = $all =~ /^\s*HEAD\s+/ ? 1 : 0;

    my $addr = $block->server_addr_for_client;
    $addr = $ServerAddr if !defined $addr;

    my $sock = _connect($block, $addr, $timeout) or return (undef, $head_req);
    $sock->blocking(0);

    local $SIG{PIPE} = 'IGNORE';

    my $resp = '';
    my $first = shift @bits;
    my $wbuf = defined $first->{value} ? $first->{value} : '';
    my $woff = 0;
    my $writing = 1;
    my $reading = 1;

    # like the real module, $timeout limits the wait between two I/O
    # events; in addition (deviation) bound the whole exchange so that a
    # never-ending stream cannot hang the test run
    my $deadline = time + ($timeout * 20 > 60 ? $timeout * 20 : 60);

    while ($reading || $writing) {
        my $rsel = IO::Select->new;
        my $wsel = IO::Select->new;
        $rsel->add($sock) if $reading;
        $wsel->add($sock) if $writing;

        my $left = $deadline - time;
        my $wait = $left < $timeout ? ($left > 0 ? $left : 0) : $timeout;
        $! = 0;
        my ($r, $w) = IO::Select->select($rsel, $wsel, undef, $wait);
        if (!$r && !$w) {
            next if $! == EINTR && time < $deadline;
            # timed out
            close $sock;
            if (!defined $block->abort) {
                Test::More->builder->no_ending(1);
                fail("ERROR: client socket timed out - $name\n");
            } else {
                sleep 0.005;
            }
            return ($resp, $head_req);
        }

        if ($w && @$w) {
          WRITE:
            while (1) {
                my $rest = length($wbuf) - $woff;
                if ($rest > 0) {
                    my $n = syswrite($sock, $wbuf, $rest, $woff);
                    if (!defined $n) {
                        last WRITE if $! == EAGAIN || $! == EWOULDBLOCK
                                      || $! == EINTR;
                        my $err = "write failed: $!";
                        warn "$err\n";
                        $resp = $err if $resp eq '';
                        $writing = 0;
                        last WRITE;
                    }
                    $woff += $n;
                    next;
                }
                my $next = shift @bits;
                if (!defined $next) {
                    $writing = 0;
                    my $shutdown = $block->shutdown;
                    if (defined $shutdown) {
                        $shutdown = 1 if $shutdown =~ /^\s*$/s;
                        shutdown($sock, $shutdown);
                    }
                    last WRITE;
                }
                my $delay = defined $next->{delay_before}
                            ? $next->{delay_before} : $middle_delay;
                sleep $delay if $delay;
                $wbuf = defined $next->{value} ? $next->{value} : '';
                $woff = 0;
            }
        }

        if ($r && @$r) {
            while (1) {
                my $buf;
                my $n = sysread($sock, $buf, 4096);
                if (!defined $n) {
                    last if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
                    warn "WARNING: $name - HTTP response read failure: $!\n";
                    $reading = 0;
                    $writing = 0;
                    last;
                }
                if ($n == 0) {    # connection closed
                    $reading = 0;
                    $writing = 0;
                    last;
                }
                $resp .= $buf;
            }
        }
    }

    close $sock;
    return ($resp, $head_req);
}

# ---------------------------------------------------------------------
# response parsing

{
    package Test::Nginx::Socket::Response;

    # A minimal stand-in for HTTP::Response with the same parsing rules
    # as HTTP::Response->parse.

    sub parse {
        my ($class, $str) = @_;
        $str = '' if !defined $str;
        my $status_line;
        if ($str =~ s/^(.*)\n//) {
            $status_line = $1;
        } else {
            $status_line = $str;
            $str = '';
        }
        $status_line =~ s/\r\z//;

        my @hdr;
        while (1) {
            if ($str =~ s/^([^\s:]+)[ \t]*: ?(.*)\n?//) {
                push @hdr, [$1, $2];
                $hdr[-1][1] =~ s/\r\z//;
            } elsif (@hdr && $str =~ s/^([ \t].*)\n?//) {
                $hdr[-1][1] .= "\n$1";
                $hdr[-1][1] =~ s/\r\z//;
            } else {
                $str =~ s/^\r?\n//;
                last;
            }
        }

        my ($proto, $code, $msg);
        if ($status_line =~ /^\d{3} /) {
            ($code, $msg) = split ' ', $status_line, 2;
        } else {
            ($proto, $code, $msg) = split ' ', $status_line, 3;
        }

        return bless {
            protocol => $proto,
            code     => $code,
            message  => $msg,
            headers  => \@hdr,
            content  => $str,
        }, $class;
    }

    sub new {
        my ($class, $code, $msg, $hdrs, $content) = @_;
        return bless { code => $code, message => $msg, headers => [],
                       content => $content }, $class;
    }

    sub code {
        my $self = shift;
        $self->{code} = shift if @_;
        return $self->{code};
    }

    sub message  { $_[0]{message} }
    sub protocol { $_[0]{protocol} }

    sub content {
        my $self = shift;
        $self->{content} = shift if @_;
        return $self->{content};
    }

    sub _norm {
        my $n = lc shift;
        $n =~ tr/_/-/;
        return $n;
    }

    sub header {
        my ($self, $name) = @_;
        my $want = _norm($name);
        my @vals = map { $_->[1] } grep { _norm($_->[0]) eq $want }
                   @{ $self->{headers} };
        return wantarray ? @vals : undef if !@vals;
        return wantarray ? @vals : join(', ', @vals);
    }
}

sub parse_response ($$$) {
    my ($name, $raw_resp, $head_req) = @_;

    my $left;
    my $raw_headers = '';
    if ($raw_resp =~ /(.*?\r\n)\r\n/s) {
        $raw_headers = $1;
    }

    my $res = Test::Nginx::Socket::Response->parse($raw_resp);

    my $code = $res->code;
    my $enc = $res->header('Transfer-Encoding');
    my $len = $res->header('Content-Length');

    if ($code && $code !~ /^\d+$/) {
        undef $code;
        $res->code(undef);
    }

    if ($code && ($code == 304 || $code == 101)) {
        return ($res, $raw_headers);
    }

    if (defined $enc && $enc eq 'chunked') {
        my $raw = $res->content;
        $raw = '' if !defined $raw;
        my $decoded = '';
        my $p = 0;
        while (1) {
            pos($raw) = $p;
            if ($raw =~ /\G0[ \t]*\r\n\r\n/gc) {
                $p = pos($raw);
                $left = substr($raw, $p) if $p < length $raw;
                last;
            }
            pos($raw) = $p;
            if ($raw =~ /\G[ \t]*([A-Fa-f0-9]+)[ \t]*\r\n/gc) {
                my $size = hex $1;
                $p = pos($raw);
                if (length($raw) - $p < $size) {
                    Test::More->builder->no_ending(1);
                    fail("$name - invalid chunked data received "
                         . "(not enought octets for the data section)");
                    return;
                }
                $decoded .= substr($raw, $p, $size);
                $p += $size;
                if (substr($raw, $p, 2) ne "\r\n") {
                    Test::More->builder->no_ending(1);
                    fail("$name - invalid chunked data received "
                         . "(expected CRLF).");
                    return;
                }
                $p += 2;
            } elsif ($p < length $raw) {
                Test::More->builder->no_ending(1);
                fail("$name - invalid chunked body received: "
                     . substr($raw, $p));
                return;
            } else {
                Test::More->builder->no_ending(1);
                fail("$name - no last chunk found - $raw");
                return;
            }
        }
        $res->content($decoded);

    } elsif (defined $len && $len ne '' && $len =~ /^\d+$/) {
        my $raw = $res->content;
        if (length $raw < $len) {
            if (!$head_req) {
                warn "WARNING: $name - response body truncated: "
                     . "$len expected, but got " . length($raw) . "\n";
            }
        } elsif (length $raw > $len) {
            $left = substr $raw, $len;
            $res->content(substr $raw, 0, $len);
        }
    }

    return ($res, $raw_headers, $left);
}

# ---------------------------------------------------------------------
# checks

sub get_indexed_value ($$$$) {
    my ($name, $value, $req_idx, $need_array) = @_;
    if ($need_array) {
        if (ref $value && ref $value eq 'ARRAY') {
            return $value->[$req_idx];
        }
        bail_out("$name - You asked for many requests, the expected results "
                 . "should be arrays as well.");
    }
    if (ref $value && ref $value eq 'ARRAY') {
        return $value->[0];
    }
    return $value;
}

sub check_error_code ($$$$$) {
    my ($block, $res, $dry_run, $req_idx, $need_array) = @_;
    my $name = $block->name;
    my $got = ($res && $res->code) || '';
    SKIP: {
        skip "$name - tests skipped due to $dry_run", 1 if $dry_run;
        if (defined $block->error_code_like) {
            my $val = get_indexed_value($name, $block->error_code_like,
                                        $req_idx, $need_array);
            like($got, qr/$val/sm, "$name - status code ok");
        } elsif (defined $block->error_code) {
            is($got, get_indexed_value($name, $block->error_code, $req_idx,
                                       $need_array),
               "$name - status code ok");
        } else {
            is($got, 200, "$name - status code ok");
        }
    }
}

sub check_raw_response_headers ($$$$$) {
    my ($block, $raw_headers, $dry_run, $req_idx, $need_array) = @_;
    my $name = $block->name;
    if (defined $block->raw_response_headers_like) {
        SKIP: {
            skip "$name - raw_response_headers_like - tests skipped due to "
                 . "$dry_run", 1 if $dry_run;
            my $exp = get_indexed_value($name,
                                        $block->raw_response_headers_like,
                                        $req_idx, $need_array);
            like($raw_headers, qr/$exp/s, "$name - raw resp headers like");
        }
    }
    if (defined $block->raw_response_headers_unlike) {
        SKIP: {
            skip "$name - raw_response_headers_unlike - tests skipped due "
                 . "to $dry_run", 1 if $dry_run;
            my $exp = get_indexed_value($name,
                                        $block->raw_response_headers_unlike,
                                        $req_idx, $need_array);
            unlike($raw_headers, qr/$exp/s,
                   "$name - raw resp headers unlike");
        }
    }
}

sub check_response_headers ($$$$$$) {
    my ($block, $res, $raw_headers, $dry_run, $req_idx, $need_array) = @_;
    my $name = $block->name;

    if (defined $block->response_headers) {
        my $headers = parse_headers(get_indexed_value($name,
                            $block->response_headers, $req_idx,
                            $need_array));
        for my $key (sort keys %$headers) {
            my $val = $headers->{$key};
            if (!defined $val) {
                SKIP: {
                    skip "$name - response_headers - tests skipped due to "
                         . "$dry_run", 1 if $dry_run;
                    unlike($raw_headers, qr/^\s*\Q$key\E\s*:/ms,
                           "$name - header $key not present in the raw "
                           . "headers");
                }
                next;
            }
            $val =~ s/\$ServerPort\b/$ServerPort/g;
            $val =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
            my $actual = $res ? $res->header($key) : undef;
            $actual = '' if !defined $actual;
            SKIP: {
                skip "$name - response_headers - tests skipped due to "
                     . "$dry_run", 1 if $dry_run;
                is($actual, $val, "$name - header $key ok");
            }
        }

    } elsif (defined $block->response_headers_like) {
        my $headers = parse_headers(get_indexed_value($name,
                            $block->response_headers_like, $req_idx,
                            $need_array));
        for my $key (sort keys %$headers) {
            my $val = $headers->{$key};
            $val = '' if !defined $val;
            my $actual = $res ? $res->header($key) : undef;
            $actual = '' if !defined $actual;
            SKIP: {
                skip "$name - response_headers_like - tests skipped due to "
                     . "$dry_run", 1 if $dry_run;
                like($actual, qr/^$val$/, "$name - header $key like ok");
            }
        }
    }
}

sub _run_body_filter ($$$) {
    my ($block, $filter, $content) = @_;
    my $name = $block->name;
    if (ref $filter && ref $filter eq 'CODE') {
        return $filter->($content);
    }
    if (ref $filter) {
        bail_out("$name - the --- response_body_filters section only "
                 . "supports subroutine reference values and string values");
    }
    my %builtin = (
        md5_hex  => sub { Digest::MD5::md5_hex($_[0]) },
        sha1_hex => sub { Digest::SHA::sha1_hex($_[0]) },
        uc       => sub { uc $_[0] },
        lc       => sub { lc $_[0] },
        ucfirst  => sub { ucfirst $_[0] },
        lcfirst  => sub { lcfirst $_[0] },
        length   => sub { length $_[0] },
    );
    my $f = $builtin{$filter}
        or bail_out("$name - unknown filter, \"$filter\", specified in the "
                    . "--- response_body_filters section");
    return $f->($content);
}

sub transform_response_body ($$$) {
    my ($block, $res, $req_idx) = @_;
    return if !defined $res;
    my $content = $res->content;
    return if !defined $content;

    my $filters = $block->response_body_filters;
    return if !defined $filters;
    my $name = $block->name;

    if (!ref $filters) {
        $filters =~ s/^\s+|\s+$//gs;
        $filters = [split /\s+/, $filters];
    } elsif (ref $filters ne 'ARRAY') {
        $filters = [$filters];
    }

    my $f = $filters;
    if (ref $filters->[0] eq 'ARRAY') {
        for my $e (@$filters) {
            bail_out("$name - the --- response_body_filters two-dimensional "
                     . "array only be like [[uc], [lc]] not [[uc], lc]")
                if ref $e ne 'ARRAY';
        }
        $f = $filters->[$req_idx];
        bail_out("$name - the ---response_body_filters two-dimensional "
                 . "array unmatch the specified request($req_idx)")
            if !defined $f;
    }

    my $new = $content;
    for my $one (ref $f eq 'ARRAY' ? @$f : ($f)) {
        $new = _run_body_filter($block, $one, $new);
    }
    $res->content($new);
}

sub check_response_body ($$$$$$) {
    my ($block, $res, $dry_run, $req_idx, $repeated_req_idx, $need_array)
        = @_;
    my $name = $block->name;

    my $content = $res ? $res->content : undef;
    if (defined $content) {
        $content =~ s/^TE: deflate,gzip;q=0\.3\r\n//gm;
        $content =~ s/^Connection: TE, close\r\n//gm;
    }

    if (defined $block->response_body || defined $block->response_body_eval)
    {
        my $expected;
        if ($block->response_body_eval) {
            diag "$name - response_body_eval is DEPRECATED. Use "
                 . "response_body eval instead.";
            $expected = eval get_indexed_value($name,
                                               $block->response_body_eval,
                                               $req_idx, $need_array);
            warn $@ if $@;
        } else {
            $expected = get_indexed_value($name, $block->response_body,
                                          $req_idx, $need_array);
        }

        if ($block->charset) {
            Encode::from_to($expected, 'UTF-8', $block->charset);
        }

        if (defined $expected && !ref $expected) {
            $expected =~ s/\$ServerPort\b/$ServerPort/g;
            $expected =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
        }

        SKIP: {
            skip "$name - response_body - tests skipped due to $dry_run", 1
                if $dry_run;
            if (ref $expected) {
                like($content, $expected,
                     "$name - response_body - like (repeated req "
                     . "$repeated_req_idx, req $req_idx)");
            } elsif ($Test::Nginx::Util::NoLongString) {
                is($content, $expected,
                   "$name - response_body - response is expected (repeated "
                   . "req $repeated_req_idx, req $req_idx)");
            } else {
                is_string($content, $expected,
                          "$name - response_body - response is expected "
                          . "(repeated req $repeated_req_idx, req $req_idx)");
            }
        }

    } elsif (defined $block->response_body_like
             || defined $block->response_body_unlike)
    {
        my ($patterns, $type);
        if (defined $block->response_body_like
            && defined $block->response_body_unlike)
        {
            # Test::Nginx checks only response_body_like then: a check
            # that can never fail is refused here rather than ignored
            bail_out("$name - response_body_unlike is ignored when "
                     . "response_body_like is given: check the absence "
                     . "with add_response_body_check");
        }
        if (defined $block->response_body_like) {
            ($patterns, $type) = ($block->response_body_like, 'like');
        } else {
            ($patterns, $type) = ($block->response_body_unlike, 'unlike');
        }
        my $pat = get_indexed_value($name, $patterns, $req_idx, $need_array);
        $pat =~ s/\$ServerPort\b/$ServerPort/g;
        $pat =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
        my $summary = trim($content);
        $summary = '' if !defined $summary;

        SKIP: {
            skip "$name - response_body_$type - tests skipped due to "
                 . "$dry_run", 1 if $dry_run;
            my $desc = "$name - response_body_$type - response is expected "
                       . "($summary)";
            if ($type eq 'like') {
                like($content, qr/$pat/s, $desc);
            } else {
                unlike($content, qr/$pat/s, $desc);
            }
        }
    }

    for my $check (@ResponseBodyChecks) {
        $check->($block, $res ? $res->content : undef, $req_idx,
                 $repeated_req_idx, $dry_run);
    }
}

sub fmt_str ($) {
    my $s = shift;
    chomp $s;
    $s =~ s/"/\\"/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\n/\\n/g;
    return $s;
}

sub value_contains ($$) {
    my ($val, $pat) = @_;
    if (!ref $val || ref $val eq 'Regexp') {
        return $val =~ /\Q$pat\E/;
    }
    if (ref $val eq 'ARRAY') {
        for my $v (@$val) {
            return 1 if value_contains($v, $pat);
        }
    }
    return undef;
}

sub _pattern_list ($) {
    my $pats = shift;
    if (!ref $pats) {
        chomp $pats;
        return [split /\n+/, $pats];
    }
    return [$pats] if ref $pats eq 'Regexp';
    return [@$pats];
}

sub _line_matches ($$) {
    my ($line, $pat) = @_;
    return 1 if ref $pat && $line =~ /$pat/;
    return $line =~ /\Q$pat\E/;
}

# "must appear" checks: one passing test per pattern found in @$lines,
# one failing test per pattern not found
sub _check_present {
    my ($name, $label, $file, $pats, $lines, $dry_run, $suffix) = @_;
    $pats = _pattern_list($pats);
    for my $line (@{ $lines || [] }) {
        for my $pat (@$pats) {
            next if !defined $pat;
            if (_line_matches($line, $pat)) {
                SKIP: {
                    skip "$name - $label - tests skipped due to $dry_run", 1
                        if $dry_run;
                    pass("$name - pattern \"$pat\" matches a line in "
                         . "$file$suffix");
                }
                undef $pat;
            }
        }
    }
    for my $pat (@$pats) {
        next if !defined $pat;
        SKIP: {
            skip "$name - $label - tests skipped due to $dry_run", 1
                if $dry_run;
            fail("$name - pattern \"$pat\" should match a line in "
                 . "$file$suffix");
        }
    }
}

# "must not appear" checks: one failing test per matching line, one
# passing test per pattern never matched
sub _check_absent {
    my ($name, $label, $file, $pats, $lines, $dry_run, $suffix, $context)
        = @_;
    $pats = _pattern_list($pats);
    $lines ||= [];
    my %found;
    for my $i (0 .. $#$lines) {
        my $line = $lines->[$i];
        for my $pat (@$pats) {
            next if !defined $pat;
            next if !_line_matches($line, $pat);
            if ($found{$pat}) {
                Test::More->builder->no_ending(1);
            } else {
                $found{$pat} = 1;
            }
            SKIP: {
                skip "$name - $label - tests skipped due to $dry_run "
                     . "($line)", 1 if $dry_run;
                my $more = '';
                if ($context) {
                    for (my $j = $i + 1; $j < min($i + 10, @$lines - 1);
                         $j++)
                    {
                        $more .= $lines->[$j];
                    }
                }
                fail("$name - pattern \"" . fmt_str($pat) . "\" should not "
                     . "match any line in $file but matches line \""
                     . fmt_str($line) . "\"$suffix"
                     . ($context ? "\n$more" : ''));
            }
        }
    }
    for my $pat (@$pats) {
        next if !defined $pat || $found{$pat};
        SKIP: {
            skip "$name - $label - tests skipped due to $dry_run", 1
                if $dry_run;
            pass("$name - pattern \"" . fmt_str($pat) . "\" does not match "
                 . "a line in $file$suffix");
        }
    }
}

sub check_access_log ($$$) {
    my ($block, $dry_run, $repeated_req_idx) = @_;
    my $name = $block->name;
    my $lines;
    if (defined $block->access_log) {
        $lines ||= access_log_data();
        _check_present($name, 'access_log', 'access.log', $block->access_log,
                       $lines, $dry_run, " (req $repeated_req_idx)");
    }
    if (defined $block->no_access_log) {
        $lines ||= access_log_data();
        _check_absent($name, 'no_access_log', 'access.log',
                      $block->no_access_log, $lines, $dry_run,
                      " (req $repeated_req_idx)", 1);
    }
}

sub check_error_log ($$$$$) {
    my ($block, $res, $dry_run, $repeated_req_idx, $need_array) = @_;
    my $name = $block->name;
    my $lines;

    my %warn_on = (
        'writing a global lua variable' => qr/writing a global lua variable/,
        '[alert' => qr/\[alert\]/,
        '[crit'  => qr/\[crit\]/,
        '[emerg' => qr/\[emerg\]/,
    );

    my $grep_pats = $block->grep_error_log;
    my $grep_pat;
    if (defined $grep_pats) {
        $grep_pat = (ref $grep_pats && ref $grep_pats eq 'ARRAY')
                    ? $grep_pats->[$repeated_req_idx] : $grep_pats;
    } elsif (defined $block->grep_error_log_out) {
        bail_out("$name - No --- grep_error_log defined but "
                 . "--- grep_error_log_out is defined");
    }

    if (defined $grep_pat) {
        my $expected = $block->grep_error_log_out;
        if (!defined $expected) {
            bail_out("$name - No --- grep_error_log_out defined but "
                     . "--- grep_error_log is defined");
        }
        if (ref $expected && ref $expected eq 'ARRAY') {
            $expected = $expected->[$repeated_req_idx];
        }
        SKIP: {
            skip "$name - error_log - tests skipped due to $dry_run", 1
                if $dry_run;
            $lines ||= error_log_data();
            my $matched = '';
            for my $line (@{ $lines || [] }) {
                my $m;
                if (ref $grep_pat && $line =~ /$grep_pat/) {
                    $m = $&;
                } elsif ($line =~ /\Q$grep_pat\E/) {
                    $m = $&;
                }
                $matched .= "$m\n" if defined $m && $m !~ /\n/;
            }
            my $desc = "$name - grep_error_log_out (req $repeated_req_idx)";
            if (ref $expected eq 'Regexp') {
                like($matched, $expected, $desc);
            } elsif ($Test::Nginx::Util::NoLongString) {
                is($matched, $expected, $desc);
            } else {
                is_string($matched, $expected, $desc);
            }
        }
    }

    for my $sect (qw(error_log no_error_log)) {
        my $pats = $block->$sect;
        next if !defined $pats;
        for my $k (keys %warn_on) {
            delete $warn_on{$k} if value_contains($pats, $k);
        }
    }

    if (defined $block->error_log) {
        $lines ||= error_log_data();
        _check_present($name, 'error_log', 'error.log', $block->error_log,
                       $lines, $dry_run, " (req $repeated_req_idx)");
    }

    if (defined $block->no_error_log) {
        $lines ||= error_log_data();
        _check_absent($name, 'no_error_log', 'error.log',
                      $block->no_error_log, $lines, $dry_run,
                      " (req $repeated_req_idx)", 1);
    }

    if (!$dry_run && %warn_on) {
        $lines ||= error_log_data();
        for my $line (@{ $lines || [] }) {
            for my $k (sort keys %warn_on) {
                if ($line =~ $warn_on{$k}) {
                    warn "WARNING: $name - " . fmt_str($line) . "\n";
                    last;
                }
            }
        }
    }

    for my $line (@{ $lines || [] }) {
        if ($line =~ /\bAssertion .*?failed\b/) {
            Test::More->builder->no_ending(1);
            my $l = $line;
            chomp $l;
            fail("$name - $l\n");
        }
    }
}

sub check_shutdown_error_log ($$) {
    my ($block, $dry_run) = @_;
    my $name = $block->name;
    my $lines;

    if (defined $block->no_shutdown_error_log) {
        $lines ||= error_log_data();
        _check_absent($name, 'no_shutdown_error_log', 'error.log',
                      $block->no_shutdown_error_log, $lines,
                      $dry_run ? 'dry_run' : 0, '', 0);
    }

    if (defined $block->shutdown_error_log) {
        $lines ||= error_log_data();
        _check_present($name, 'shutdown_error_log', 'error.log',
                       $block->shutdown_error_log, $lines,
                       $dry_run ? 'dry_run' : 0, '');
    }

    for my $line (@{ $lines || [] }) {
        if ($line =~ /\bAssertion .*? failed\.$/) {
            Test::More->builder->no_ending(1);
            my $l = $line;
            chomp $l;
            fail("$name - $l");
        }
    }
}

# ---------------------------------------------------------------------
# one repetition of one block

sub run_test_helper ($$$) {
    my ($block, $dry_run, $repeated_req_idx) = @_;
    my $name = $block->name;

    my $reqs = get_req_from_block($block);
    bail_out("$name - request empty") if !@$reqs;

    my $timeout = parse_time($block->timeout);
    $timeout = timeout() if !defined $timeout;

    my $res;
    my $req_idx = 0;
    my ($n, $need_array);

    for my $one_req (@$reqs) {
        my ($raw_resp, $head_req);
        if ($dry_run) {
            $raw_resp = "200 OK HTTP/1.0\r\nContent-Length: 0\r\n\r\n";
        } else {
            ($raw_resp, $head_req) = send_request($one_req,
                                        $block->raw_request_middle_delay,
                                        $timeout, $block);
        }

        if ($block->pipelined_requests) {
            $n = @{ $block->pipelined_requests };
            $need_array = 1;
        } else {
            $need_array = @$reqs > 1;
        }

        while (1) {
            warn "!!! resp: [", (defined $raw_resp ? $raw_resp : ''), "]\n"
                if verbose();
            $raw_resp = '' if !defined $raw_resp;

            my ($raw_headers, $left);
            if (!defined $block->ignore_response) {
                if (defined $block->http09) {
                    $res = Test::Nginx::Socket::Response->new(200, 'OK', [],
                                                              $raw_resp);
                    $raw_headers = '';
                } else {
                    ($res, $raw_headers, $left) =
                        parse_response($name, $raw_resp, $head_req);
                }
            }

            if (!$n) {
                if (defined $left && $left ne '') {
                    (my $l = $left) =~ s/([\0-\037\200-\377])/
                                         sprintf('\x{%02x}', ord $1)/gex;
                    warn "WARNING: $name - unexpected extra bytes after "
                         . "last chunk in response: \"$l\"\n";
                }
            } else {
                $raw_resp = $left;
                $n--;
            }

            if (!defined $block->ignore_response) {
                check_error_code($block, $res, $dry_run, $req_idx,
                                 $need_array);
                check_raw_response_headers($block, $raw_headers, $dry_run,
                                           $req_idx, $need_array);
                check_response_headers($block, $res, $raw_headers, $dry_run,
                                       $req_idx, $need_array);
                transform_response_body($block, $res, $req_idx);
                check_response_body($block, $res, $dry_run, $req_idx,
                                    $repeated_req_idx, $need_array);
            }

            if ($n || $req_idx < @$reqs - 1) {
                sleep($block->wait) if $block->wait;
                check_error_log($block, $res, $dry_run, $repeated_req_idx,
                                $need_array);
                if (!defined $block->ignore_response) {
                    check_access_log($block, $dry_run, $repeated_req_idx);
                }
            }

            $req_idx++;
            last if !$n;
        }
    }

    sleep($block->wait) if $block->wait;

    check_error_log($block, $res, $dry_run, $repeated_req_idx, $need_array);
    if (!defined $block->ignore_response) {
        check_access_log($block, $dry_run, $repeated_req_idx);
    }
}

1;
__END__

=head1 NAME

Test::Nginx::Socket - rtdash's compatible subset of the CPAN Test::Nginx::Socket

=head1 DESCRIPTION

Used by C<make test> (via C<prove -I t/compat/lib>) only when the real
C<Test::Nginx::Socket> is not installed. See F<t/compat/README>.

=cut
