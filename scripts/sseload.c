/*
 * sseload: a Server-Sent-Events load client for rtdash (and any SSE
 * server that puts event ids in its frames).
 *
 *   cc -O2 -Wall -Wextra -Werror -o build/sseload scripts/sseload.c -lm
 *
 *   build/sseload --stream http://127.0.0.1:8080/rtdash/stream \
 *                 --ingest http://127.0.0.1:8080/ingest \
 *                 --subs 2000 --rate 5 --duration 10 [--json]
 *
 * One process, one thread, epoll, non-blocking sockets.  It opens N
 * subscribers to the stream URL (paced by --connect-rate), waits until
 * every one of them has received its first frame (the snapshot), then
 * posts marked events to the ingest URL at --rate events/s for
 * --duration seconds.  Each event carries a unique "id":"m<N>"; the send
 * time is taken with CLOCK_MONOTONIC right before write().  Every
 * subscriber's byte stream is de-chunked and parsed as SSE; marker ids
 * found in data lines give one delivery latency per (event, subscriber),
 * timed with the kernel's receive timestamp (SO_TIMESTAMPNS via
 * recvmsg), or the clock read right after epoll_wait() returned when the
 * kernel gives none.  After a drain period it reports subscribers,
 * frames, bytes, latency percentiles and missing deliveries, as text or
 * JSON (--json).  Every phase is bounded in time.
 *
 * With --ws the subscribers speak WebSocket (RFC 6455) instead: the GET
 * carries the upgrade headers, the 101 and its Sec-WebSocket-Accept are
 * checked, and the server's frames (unmasked, 2/4/10-byte headers) are
 * parsed; each text message {"event":..,"id":N,"data":{..}} is one frame,
 * its "event" and "id" play the part of SSE's event: and id: lines, and
 * the marker ids are found in it as in SSE data lines, with the same
 * timestamps.  Server pings get a masked pong with the same payload
 * (--no-pong: none, to see the server close), a close frame gets a
 * masked close with the same code, then the server's end of the
 * connection is awaited.
 *
 * Only 127.0.0.1 / localhost URLs are accepted: this is a benchmark
 * tool, not a load generator for other people's servers.
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>


#define RBUF_SIZE       (256 * 1024)
#define HEADROOM        128
#define CARRY_MAX       96
#define HDR_MAX         4096
#define LAT_RES_US      10                      /* histogram resolution */
#define LAT_BUCKETS     (10 * 1000 * 1000 / LAT_RES_US)  /* 10 s */
#define MAX_PIDS        16
#define ING_CONNS_MAX   8

#define TAG_SUB         0
#define TAG_ING         1

#define WS_KEY          "dGhlIHNhbXBsZSBub25jZQ=="      /* RFC 6455, 1.3 */
#define WS_ACCEPT       "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define WS_MHEAD        64      /* message start kept for event and id */
#define WS_TAIL         40      /* message tail kept for a split marker */
#define WS_CODES        8

enum { S_CONNECTING, S_SENDING, S_HEADERS, S_BODY, S_CLOSED };
enum { C_SIZE, C_EXT, C_DATA, C_DATA_CR, C_DATA_LF, C_END };
enum { L_NEW, L_DATA, L_ID, L_EVENT, L_COMMENT, L_OTHER };


typedef struct {
    int             fd;
    int             idx;
    uint8_t         state;
    uint8_t         chunked;
    uint8_t         cstate;
    uint8_t         lkind;          /* kind of the line being parsed */
    uint8_t         probe;          /* counts towards "missing" */
    uint8_t         ready;          /* first frame received */
    uint8_t         frame_data;     /* current frame has data lines */
    uint8_t         frame_kind;     /* 0 other, 1 snapshot, 2 update */
    uint16_t        carry_len;
    uint16_t        wpos;           /* request bytes written */
    uint64_t        csize;          /* chunk bytes left */
    uint64_t        cur_id;
    double          t_ready;        /* monotonic s */
    double          t_closed;
    uint64_t        frames;
    uint64_t        bytes;
    char           *hdr;            /* response headers while reading */
    uint16_t        hdr_len;
    uint8_t        *seen;           /* bitset of markers delivered */
    char            carry[CARRY_MAX];

    /* WebSocket (--ws) */
    uint8_t         wh[14];         /* the frame header being read */
    uint8_t         wh_len, wh_need;
    uint8_t         wop;            /* opcode of the frame being read */
    uint8_t         wfin;
    uint8_t         wmsg;           /* a text message is in progress */
    uint8_t         wparsed;        /* its event and id are known */
    uint8_t         wclosing;       /* close frame received */
    uint8_t         ctl_len;
    uint8_t         mhead_len;
    uint64_t        wleft;          /* payload bytes left in the frame */
    uint8_t        *wout;           /* pong or close not yet written */
    uint16_t        wout_len, wout_pos;
    uint8_t         ctl[125];
    char            mhead[WS_MHEAD];
} sub_t;


typedef struct {
    int             fd;
    int             busy;
    int             connected;
    char           *out;
    size_t          out_len, out_pos;
    char            in[8192];
    size_t          in_len;
    uint64_t        first, count;   /* markers in flight */
} ing_t;


typedef struct {
    char            host[64];
    int             port;
    char            path[2048];
} url_t;


/* options */

static url_t        o_stream, o_probe_stream, o_ingest;
static int          o_have_ingest, o_have_probe;
static long         o_subs = 100, o_probes = 0;
static double       o_rate = 0, o_duration = 10, o_connect_rate = 5000;
static double       o_connect_timeout = 60, o_settle = 1, o_drain = -1;
static double       o_interval = 1;
static long         o_batch = 0;
static long         o_ing_conns = 1;
static int          o_json, o_quiet, o_ws, o_no_pong;
static char         o_tool[129] = "sseload";
static char         o_type[33] = "mark";
static char        *o_ready_file;
static pid_t        o_pids[MAX_PIDS];
static int          o_npids;


/* state */

static int          ep;
static sub_t       *subs;
static ing_t        ings[ING_CONNS_MAX];
static char        *req_stream, *req_probe;
static size_t       req_stream_len, req_probe_len;
static uint8_t     *rbuf;
static double       rt_off;         /* realtime - monotonic */
static uint64_t     id_base;
static uint64_t     max_events;
static double      *send_time;      /* per marker, monotonic s */
static uint32_t    *lat_hist, *skew_hist;
static uint64_t     lat_n, lat_over, skew_n, skew_over;
static double       lat_sum, lat_max, skew_max;
static uint64_t     seq_ring_id[256];
static double       seq_ring_t[256];
static uint64_t     n_frames, n_snapshots, n_updates, n_pings, n_bytes;
static uint64_t     n_connect_err, n_http_err, n_closed, n_resets;
static uint64_t     n_kts, n_uts;
static uint64_t     n_sent, n_accepted, n_ing_err, n_posts;
static long         n_connected, n_ready, n_started;
static uint64_t     n_pongs, n_ws_closes, n_ws_proto, n_ws_partial;
static uint64_t     n_ever_ready;
static unsigned     ws_code[WS_CODES];
static uint64_t     ws_code_n[WS_CODES];
static uint32_t     mask_state = 0x9e3779b9;
static volatile sig_atomic_t  stop_flag;
static double       now_mono;       /* after epoll_wait */


static double
mono(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static double
realt(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static void
die(const char *fmt, ...)
{
    va_list  ap;

    fprintf(stderr, "sseload: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    exit(1);
}


static void
usage(int code)
{
    fprintf(code ? stderr : stdout,
"usage: sseload --stream URL [options]\n"
"  --stream URL          SSE URL (http://127.0.0.1:PORT/...)\n"
"  --ws                  subscribe over WebSocket instead of SSE\n"
"  --no-pong             with --ws: do not answer the server's pings\n"
"  --ingest URL          ingest URL; with --rate, post marked events\n"
"  --subs N              subscribers (default 100)\n"
"  --probe-stream URL    a second stream URL for --probes of the N\n"
"  --probes P            subscribers (evenly spread); when given, only\n"
"                        probes count towards latency and \"missing\"\n"
"  --rate R              marked events per second (default 0)\n"
"  --duration S          seconds of posting (default 10)\n"
"  --batch N             at most N events per POST (default: rate/100+1)\n"
"  --ingest-conns N      keep-alive ingest connections (default 1)\n"
"  --tool NAME           tool of the marked events (default sseload)\n"
"  --type NAME           type of the marked events (default mark)\n"
"  --connect-rate C      new connections per second (default 5000)\n"
"  --connect-timeout S   give up waiting for subscribers (default 60)\n"
"  --settle S            wait after all are ready (default 1)\n"
"  --interval S          the server's frame interval, for the drain\n"
"                        default (default 1)\n"
"  --drain S             wait after the last post (default 2*interval+1)\n"
"  --pids P1,P2          server pids: report their RSS and CPU time\n"
"  --ready-file PATH     create PATH once all subscribers are ready\n"
"  --json                JSON report on stdout\n"
"  --quiet               no progress on stderr\n");
    exit(code);
}


static void
parse_url(const char *s, url_t *u)
{
    const char  *p, *h, *slash, *colon;
    size_t       hl;

    if (strncmp(s, "http://", 7) != 0) {
        die("only http:// URLs: %s", s);
    }

    h = s + 7;
    slash = strchr(h, '/');
    if (slash == NULL) {
        slash = h + strlen(h);
    }

    colon = memchr(h, ':', slash - h);
    hl = (colon ? colon : slash) - h;

    if (hl == 0 || hl >= sizeof(u->host)) {
        die("bad host in %s", s);
    }

    memcpy(u->host, h, hl);
    u->host[hl] = '\0';

    if (strcmp(u->host, "127.0.0.1") != 0
        && strcmp(u->host, "localhost") != 0)
    {
        die("only 127.0.0.1 or localhost: %s", s);
    }

    u->port = 80;

    if (colon) {
        u->port = atoi(colon + 1);
        for (p = colon + 1; p < slash; p++) {
            if (!isdigit((unsigned char) *p)) {
                die("bad port in %s", s);
            }
        }
    }

    if (u->port <= 0 || u->port > 65535) {
        die("bad port in %s", s);
    }

    if (*slash == '\0') {
        strcpy(u->path, "/");

    } else {
        if (strlen(slash) >= sizeof(u->path)) {
            die("URL too long");
        }
        strcpy(u->path, slash);
    }
}


static void
parse_pids(const char *s)
{
    char  *end;
    long   v;

    while (*s && o_npids < MAX_PIDS) {
        v = strtol(s, &end, 10);
        if (end == s || v <= 0) {
            die("bad --pids");
        }
        o_pids[o_npids++] = (pid_t) v;
        s = end;
        if (*s == ',') {
            s++;
        }
    }
}


/* server processes: RSS (kB) and CPU (utime+stime, s) */

static long
proc_rss_kb(pid_t pid)
{
    char   path[64], line[256];
    FILE  *f;
    long   kb = -1;

    snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }

    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    }

    fclose(f);
    return kb;
}


static double
proc_cpu(pid_t pid)
{
    char    path[64], buf[1024], *p;
    FILE   *f;
    size_t  n;
    int     i;
    unsigned long long  ut, st;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }

    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';

    p = strrchr(buf, ')');
    if (p == NULL) {
        return -1;
    }

    /* fields after ")": 3 state ... 14 utime 15 stime */
    p += 2;
    for (i = 3; i < 14 && p; i++) {
        p = strchr(p, ' ');
        if (p) {
            p++;
        }
    }

    if (p == NULL || sscanf(p, "%llu %llu", &ut, &st) != 2) {
        return -1;
    }

    return (double) (ut + st) / sysconf(_SC_CLK_TCK);
}


typedef struct {
    long    rss_kb;
    double  cpu;
} psnap_t;


static void
proc_snap(psnap_t *ps)
{
    int  i;

    for (i = 0; i < o_npids; i++) {
        ps[i].rss_kb = proc_rss_kb(o_pids[i]);
        ps[i].cpu = proc_cpu(o_pids[i]);
    }
}


static void
on_signal(int sig)
{
    (void) sig;
    stop_flag = 1;
}


static int
tcp_socket(const url_t *u, int timestamps)
{
    int                 fd, one = 1;
    struct sockaddr_in  sa;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    if (timestamps) {
        setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
    }

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(u->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0
        && errno != EINPROGRESS)
    {
        close(fd);
        return -1;
    }

    return fd;
}


static void
ep_add(int fd, uint32_t events, uint64_t data)
{
    struct epoll_event  ee;

    ee.events = events;
    ee.data.u64 = data;

    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ee) < 0) {
        die("epoll_ctl: %s", strerror(errno));
    }
}


static void
ep_mod(int fd, uint32_t events, uint64_t data)
{
    struct epoll_event  ee;

    ee.events = events;
    ee.data.u64 = data;
    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ee);
}


static uint64_t
tag(int kind, int idx)
{
    return ((uint64_t) kind << 32) | (uint32_t) idx;
}


/* ---- subscribers ---- */

static void
sub_close(sub_t *s, int error)
{
    if (s->state == S_CLOSED) {
        return;
    }

    if (s->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
        close(s->fd);
        s->fd = -1;
    }

    if (s->state >= S_HEADERS && s->state != S_CLOSED) {
        if (s->state == S_BODY) {
            n_connected--;
            if (s->ready) {
                n_ready--;
            }
        }
        if (error) {
            n_closed++;
        }
    }

    free(s->hdr);
    s->hdr = NULL;
    free(s->wout);
    s->wout = NULL;
    s->state = S_CLOSED;
    s->t_closed = now_mono;
}


static void
sub_start(int i)
{
    sub_t  *s = &subs[i];
    url_t  *u = s->probe && o_have_probe ? &o_probe_stream : &o_stream;

    s->fd = tcp_socket(u, 1);
    if (s->fd < 0) {
        n_connect_err++;
        s->state = S_CLOSED;
        return;
    }

    s->state = S_CONNECTING;
    ep_add(s->fd, EPOLLOUT, tag(TAG_SUB, i));
    n_started++;
}


static void
record_latency(double lat)
{
    long  b;

    if (lat < 0) {
        lat = 0;
    }

    lat_n++;
    lat_sum += lat;
    if (lat > lat_max) {
        lat_max = lat;
    }

    b = (long) (lat * 1e6 / LAT_RES_US);
    if (b >= LAT_BUCKETS) {
        lat_over++;
    } else {
        lat_hist[b]++;
    }
}


static void
record_skew(double d)
{
    long  b;

    if (d < 0) {
        d = 0;
    }

    skew_n++;
    if (d > skew_max) {
        skew_max = d;
    }

    b = (long) (d * 1e6 / LAT_RES_US);
    if (b >= LAT_BUCKETS) {
        skew_over++;
    } else {
        skew_hist[b]++;
    }
}


static void
marker(sub_t *s, uint64_t n, double t)
{
    uint64_t  k;

    if (n < id_base) {
        return;
    }

    k = n - id_base;

    if (k >= max_events || send_time[k] == 0) {
        return;
    }

    if (o_have_probe && !s->probe) {
        return;
    }

    if (s->seen == NULL) {
        s->seen = calloc((max_events + 7) / 8, 1);
        if (s->seen == NULL) {
            die("out of memory");
        }
    }

    if (s->seen[k >> 3] & (1 << (k & 7))) {
        return;
    }

    s->seen[k >> 3] |= 1 << (k & 7);
    record_latency(t - send_time[k]);
}


/* find "id":"m<digits>" in a data line segment */

static void
scan_markers(sub_t *s, const uint8_t *p, const uint8_t *end, double t)
{
    static const char  pat[] = "\"id\":\"m";
    const uint8_t     *q;
    uint64_t           n;

    while (p < end) {
        q = memmem(p, end - p, pat, sizeof(pat) - 1);
        if (q == NULL) {
            return;
        }

        q += sizeof(pat) - 1;
        n = 0;
        p = q;

        while (q < end && *q >= '0' && *q <= '9' && q - p < 19) {
            n = n * 10 + (*q - '0');
            q++;
        }

        if (q < end && *q == '"' && q > p) {
            marker(s, n, t);
        }

        p = q;
    }
}


static void
frame_end(sub_t *s, double t)
{
    unsigned  h;
    double    first;

    if (!s->frame_data) {
        return;
    }

    s->frames++;
    n_frames++;

    if (s->frame_kind == 1) {
        n_snapshots++;

    } else if (s->frame_kind == 2) {
        n_updates++;

        /* fan-out skew: arrival of this frame id vs its first arrival */
        h = s->cur_id & 255;
        if (seq_ring_id[h] != s->cur_id + 1
            || t - seq_ring_t[h] > o_interval / 2)
        {
            seq_ring_id[h] = s->cur_id + 1;
            seq_ring_t[h] = t;
            first = t;
        } else {
            first = seq_ring_t[h];
        }
        record_skew(t - first);
    }

    if (!s->ready) {
        s->ready = 1;
        s->t_ready = t;
        n_ready++;
        n_ever_ready++;
    }

    s->frame_data = 0;
    s->frame_kind = 0;
}


/* one complete or partial line [p, e); complete when nl */

static void
line(sub_t *s, const uint8_t *p, const uint8_t *e, int nl, double t)
{
    size_t    len = e - p;
    uint64_t  v;

    if (s->lkind == L_NEW) {
        if (len == 0 && nl) {
            frame_end(s, t);
            return;
        }

        if (len >= 5 && memcmp(p, "data:", 5) == 0) {
            s->lkind = L_DATA;
            s->frame_data = 1;
        } else if (len >= 3 && memcmp(p, "id:", 3) == 0) {
            s->lkind = L_ID;
        } else if (len >= 6 && memcmp(p, "event:", 6) == 0) {
            s->lkind = L_EVENT;
        } else if (len >= 1 && p[0] == ':') {
            s->lkind = L_COMMENT;
            n_pings++;
        } else if (len >= 6 || nl) {
            s->lkind = L_OTHER;
        } else {
            return;     /* not decided yet: carried */
        }
    }

    switch (s->lkind) {

    case L_DATA:
        scan_markers(s, p, e, t);
        break;

    case L_ID:
        if (nl) {
            p += 3;
            while (p < e && *p == ' ') {
                p++;
            }
            v = 0;
            while (p < e && *p >= '0' && *p <= '9') {
                v = v * 10 + (*p++ - '0');
            }
            s->cur_id = v;
        }
        break;

    case L_EVENT:
        if (nl) {
            p += 6;
            while (p < e && *p == ' ') {
                p++;
            }
            if (e - p == 8 && memcmp(p, "snapshot", 8) == 0) {
                s->frame_kind = 1;
            } else if (e - p == 6 && memcmp(p, "update", 6) == 0) {
                s->frame_kind = 2;
            } else {
                s->frame_kind = 0;
            }
        }
        break;

    default:
        break;
    }

    if (nl) {
        s->lkind = L_NEW;
    }
}


/*
 * SSE bytes [p, e) of one read; the start of an unfinished line of the
 * previous read has been put in front of them (carry) by the caller,
 * so a line or a marker split across reads is seen whole.
 */

static void
sse(sub_t *s, const uint8_t *p, const uint8_t *e, double t)
{
    const uint8_t  *nl, *ls;
    size_t          keep;

    while (p < e) {
        nl = memchr(p, '\n', e - p);

        if (nl) {
            ls = nl;
            if (ls > p && ls[-1] == '\r') {
                ls--;
            }
            line(s, p, ls, 1, t);
            p = nl + 1;
            continue;
        }

        /* unfinished line: parse what is there, carry its tail */
        line(s, p, e, 0, t);

        keep = e - p;
        if (s->lkind == L_DATA || s->lkind == L_COMMENT
            || s->lkind == L_OTHER)
        {
            if (keep > 40) {
                keep = 40;      /* enough for a split marker */
            }
        } else if (keep > CARRY_MAX) {
            keep = CARRY_MAX;
        }

        memcpy(s->carry, e - keep, keep);
        s->carry_len = keep;
        return;
    }

    s->carry_len = 0;
}


/*
 * The carried bytes are parsed again in front of the next read: an
 * undecided line (L_NEW) and id/event lines are carried whole, a data
 * line keeps its kind and only its tail is carried, long enough for a
 * marker split across reads (a marker seen twice counts once).
 */

static size_t
dechunk(sub_t *s, uint8_t *p, size_t n)
{
    uint8_t  *in = p, *end = p + n, *out = p;
    size_t    k;
    int       c;

    while (in < end) {
        switch (s->cstate) {

        case C_SIZE:
            c = *in++;
            if (isxdigit(c)) {
                s->csize = s->csize * 16
                           + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
            } else if (c == '\n') {
                s->cstate = s->csize ? C_DATA : C_END;
            } else {
                s->cstate = C_EXT;
            }
            break;

        case C_EXT:
            if (*in++ == '\n') {
                s->cstate = s->csize ? C_DATA : C_END;
            }
            break;

        case C_DATA:
            k = end - in;
            if (k > s->csize) {
                k = s->csize;
            }
            memmove(out, in, k);
            out += k;
            in += k;
            s->csize -= k;
            if (s->csize == 0) {
                s->cstate = C_DATA_CR;
            }
            break;

        case C_DATA_CR:
            c = *in++;
            s->cstate = c == '\r' ? C_DATA_LF : C_SIZE;
            s->csize = 0;
            break;

        case C_DATA_LF:
            in++;
            s->cstate = C_SIZE;
            s->csize = 0;
            break;

        case C_END:
            in = end;
            break;
        }
    }

    return out - p;
}


/* ---- WebSocket (--ws) ---- */

static void
ws_flush(sub_t *s)
{
    ssize_t  n;

    while (s->wout && s->wout_pos < s->wout_len) {
        n = write(s->fd, s->wout + s->wout_pos, s->wout_len - s->wout_pos);
        if (n < 0) {
            if (errno == EAGAIN) {
                ep_mod(s->fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP,
                       tag(TAG_SUB, s->idx));
                return;
            }
            n_resets++;
            sub_close(s, 1);
            return;
        }
        s->wout_pos += n;
    }

    free(s->wout);
    s->wout = NULL;
    s->wout_len = s->wout_pos = 0;
    ep_mod(s->fd, EPOLLIN | EPOLLRDHUP, tag(TAG_SUB, s->idx));
}


/* a masked control frame (pong, close), written at once if it can be */

static void
ws_send(sub_t *s, int opcode, const uint8_t *payload, size_t len)
{
    uint8_t   f[6 + 125], *m;
    size_t    i, fl;
    ssize_t   n = 0;
    uint8_t  *w;

    if (len > 125) {
        len = 125;
    }

    /* xorshift32: masks need not be secret here, only present */
    mask_state ^= mask_state << 13;
    mask_state ^= mask_state >> 17;
    mask_state ^= mask_state << 5;

    f[0] = 0x80 | opcode;
    f[1] = 0x80 | (uint8_t) len;
    m = f + 2;
    memcpy(m, &mask_state, 4);

    for (i = 0; i < len; i++) {
        f[6 + i] = payload[i] ^ m[i & 3];
    }

    fl = 6 + len;

    if (s->wout == NULL) {
        n = write(s->fd, f, fl);
        if (n < 0) {
            if (errno != EAGAIN) {
                n_resets++;
                sub_close(s, 1);
                return;
            }
            n = 0;
        }
        if ((size_t) n == fl) {
            return;
        }
    }

    /* the rest waits for EPOLLOUT */
    n_ws_partial++;
    w = realloc(s->wout, s->wout_len + fl - n);
    if (w == NULL) {
        die("out of memory");
    }
    memcpy(w + s->wout_len, f + n, fl - n);
    s->wout = w;
    s->wout_len += fl - n;
    ep_mod(s->fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP, tag(TAG_SUB, s->idx));
}


/* the start of a message: {"event":"NAME","id":N,"data": */

static void
ws_parse_head(sub_t *s)
{
    static const char  ev[] = "{\"event\":\"", id[] = "\"id\":";
    const char        *p, *e = s->mhead + s->mhead_len, *q;
    uint64_t           v;
    size_t             l;

    s->wparsed = 1;
    s->frame_kind = 0;
    s->frame_data = 1;      /* every message is a frame, as SSE data is */

    if (s->mhead_len < sizeof(ev) - 1
        || memcmp(s->mhead, ev, sizeof(ev) - 1) != 0)
    {
        return;
    }

    p = s->mhead + sizeof(ev) - 1;
    q = memchr(p, '"', e - p);
    if (q == NULL) {
        return;
    }

    l = q - p;
    if (l == 8 && memcmp(p, "snapshot", 8) == 0) {
        s->frame_kind = 1;
    } else if (l == 6 && memcmp(p, "update", 6) == 0) {
        s->frame_kind = 2;
    }

    p = memmem(q, e - q, id, sizeof(id) - 1);
    if (p == NULL) {
        return;
    }

    p += sizeof(id) - 1;
    v = 0;
    while (p < e && *p >= '0' && *p <= '9') {
        v = v * 10 + (*p++ - '0');
    }
    s->cur_id = v;
}


/* text payload [p, p + n) of the message in progress */

static void
ws_text(sub_t *s, const uint8_t *p, size_t n, double t)
{
    uint8_t  j[2 * WS_TAIL];
    size_t   k, jl;

    if (!s->wparsed) {
        k = WS_MHEAD - s->mhead_len;
        if (k > n) {
            k = n;
        }
        memcpy(s->mhead + s->mhead_len, p, k);
        s->mhead_len += k;

        if (s->mhead_len == WS_MHEAD
            || memmem(s->mhead, s->mhead_len, ",\"data\":", 8) != NULL)
        {
            ws_parse_head(s);
        }
    }

    /* a marker across the previous segment's end: scan the junction
     * (a marker seen twice counts once) */
    if (s->carry_len) {
        k = n < WS_TAIL ? n : WS_TAIL;
        memcpy(j, s->carry, s->carry_len);
        memcpy(j + s->carry_len, p, k);
        jl = s->carry_len + k;
        scan_markers(s, j, j + jl, t);
    } else {
        jl = 0;
    }

    scan_markers(s, p, p + n, t);

    if (n >= WS_TAIL) {
        memcpy(s->carry, p + n - WS_TAIL, WS_TAIL);
        s->carry_len = WS_TAIL;

    } else if (jl) {
        k = jl < WS_TAIL ? jl : WS_TAIL;
        memmove(s->carry, j + jl - k, k);
        s->carry_len = k;

    } else {
        memcpy(s->carry, p, n);
        s->carry_len = n;
    }
}


static void
ws_close_code(unsigned code)
{
    int  i;

    for (i = 0; i < WS_CODES; i++) {
        if (ws_code_n[i] == 0 || ws_code[i] == code) {
            ws_code[i] = code;
            ws_code_n[i]++;
            return;
        }
    }
}


static void
ws_frame_end(sub_t *s, double t)
{
    unsigned  code;

    s->wh_len = 0;
    s->wh_need = 2;

    switch (s->wop) {

    case 0x0:
    case 0x1:
        if (!s->wfin) {
            return;
        }
        if (!s->wparsed) {
            ws_parse_head(s);
        }
        if (!s->wclosing) {
            frame_end(s, t);
        }
        s->wmsg = 0;
        s->carry_len = 0;
        return;

    case 0x9:
        n_pings++;
        if (!o_no_pong && !s->wclosing) {
            n_pongs++;
            ws_send(s, 0xa, s->ctl, s->ctl_len);
        }
        return;

    case 0x8:
        n_ws_closes++;
        code = s->ctl_len >= 2 ? (unsigned) s->ctl[0] << 8 | s->ctl[1]
                               : 1005;
        ws_close_code(code);
        if (!s->wclosing) {
            s->wclosing = 1;
            /* the same code back; then wait for the server's FIN */
            ws_send(s, 0x8, s->ctl, s->ctl_len >= 2 ? 2 : 0);
        }
        return;

    default:        /* an unsolicited pong */
        return;
    }
}


static void
ws_proto(sub_t *s)
{
    n_ws_proto++;
    sub_close(s, 1);
}


/* WebSocket bytes [p, p + n) of one read */

static void
ws_body(sub_t *s, const uint8_t *p, size_t n, double t)
{
    const uint8_t  *e = p + n;
    uint8_t        *h = s->wh;
    uint64_t        len;
    size_t          k;
    int             i, op;

    while (p < e && s->state == S_BODY) {

        if (s->wh_len < s->wh_need) {
            h[s->wh_len++] = *p++;

            if (s->wh_len == 2) {
                if (h[1] & 0x80) {          /* a masked server frame */
                    ws_proto(s);
                    return;
                }
                k = h[1] & 0x7f;
                s->wh_need = 2 + (k == 126 ? 2 : k == 127 ? 8 : 0);
            }

            if (s->wh_len < s->wh_need) {
                continue;
            }

            op = h[0] & 0x0f;
            len = h[1] & 0x7f;
            if (len == 126) {
                len = (uint64_t) h[2] << 8 | h[3];
            } else if (len == 127) {
                len = 0;
                for (i = 2; i < 10; i++) {
                    len = len << 8 | h[i];
                }
            }

            if ((h[0] & 0x70)                               /* RSV */
                || (op >= 0x3 && op <= 0x7) || op > 0xa     /* unknown */
                || op == 0x2                                /* binary */
                || (op >= 0x8 && (!(h[0] & 0x80) || len > 125))
                || (op == 0x0 && !s->wmsg)
                || (op == 0x1 && s->wmsg))
            {
                ws_proto(s);
                return;
            }

            s->wop = op;
            s->wfin = (h[0] & 0x80) != 0;
            s->wleft = len;

            if (op == 0x1) {
                s->wmsg = 1;
                s->wparsed = 0;
                s->mhead_len = 0;
                s->carry_len = 0;
                s->frame_kind = 0;
                s->frame_data = 0;
            } else if (op >= 0x8) {
                s->ctl_len = 0;
            }

            if (s->wleft == 0) {
                ws_frame_end(s, t);
            }
            continue;
        }

        k = e - p;
        if (k > s->wleft) {
            k = s->wleft;
        }

        if (s->wop >= 0x8) {
            memcpy(s->ctl + s->ctl_len, p, k);
            s->ctl_len += k;
        } else {
            ws_text(s, p, k, t);
        }

        p += k;
        s->wleft -= k;

        if (s->wleft == 0) {
            ws_frame_end(s, t);
        }
    }
}


static void
sub_body(sub_t *s, uint8_t *p, size_t n, double t)
{
    uint8_t  *start;

    if (o_ws) {
        ws_body(s, p, n, t);
        return;
    }

    if (s->chunked) {
        n = dechunk(s, p, n);
    }

    if (n == 0) {
        return;
    }

    start = p;

    if (s->carry_len) {
        start = p - s->carry_len;
        memcpy(start, s->carry, s->carry_len);
    }

    sse(s, start, p + n, t);
}


static void
sub_headers(sub_t *s, uint8_t *p, size_t n, double t)
{
    char    *e, *h;
    size_t   take, hl;
    int      status, accept;

    if (s->hdr == NULL) {
        s->hdr = malloc(HDR_MAX + 1);
        if (s->hdr == NULL) {
            die("out of memory");
        }
        s->hdr_len = 0;
    }

    take = n;
    if (take > (size_t) (HDR_MAX - s->hdr_len)) {
        take = HDR_MAX - s->hdr_len;
    }

    memcpy(s->hdr + s->hdr_len, p, take);
    s->hdr_len += take;
    s->hdr[s->hdr_len] = '\0';

    e = strstr(s->hdr, "\r\n\r\n");
    if (e == NULL) {
        if (s->hdr_len >= HDR_MAX) {
            n_http_err++;
            sub_close(s, 1);
        }
        return;
    }

    hl = e + 4 - s->hdr;

    if (sscanf(s->hdr, "HTTP/1.%*d %d", &status) != 1
        || status != (o_ws ? 101 : 200))
    {
        n_http_err++;
        sub_close(s, 1);
        return;
    }

    accept = 0;

    for (h = s->hdr; (h = strchr(h, '\n')) != NULL; ) {
        h++;
        if (o_ws) {
            if (strncasecmp(h, "sec-websocket-accept:", 21) == 0) {
                h += 21;
                while (*h == ' ') {
                    h++;
                }
                accept = strncmp(h, WS_ACCEPT "\r\n",
                                 sizeof(WS_ACCEPT) + 1) == 0;
            }
            continue;
        }
        if (strncasecmp(h, "transfer-encoding:", 18) == 0) {
            h += 18;
            while (*h == ' ') {
                h++;
            }
            if (strncasecmp(h, "chunked", 7) == 0) {
                s->chunked = 1;
            }
        }
    }

    if (o_ws && !accept) {
        n_http_err++;
        sub_close(s, 1);
        return;
    }

    free(s->hdr);
    s->hdr = NULL;

    s->state = S_BODY;
    s->wh_need = 2;
    n_connected++;

    /* the rest of this read is body: hl bytes of it were headers */
    take = hl - (s->hdr_len - take);
    s->hdr_len = 0;

    if (take < n) {
        sub_body(s, p + take, n - take, t);
    }
}


static void
sub_read(sub_t *s)
{
    uint8_t          *p = rbuf + HEADROOM;
    ssize_t           n;
    double            t, kt;
    struct msghdr     mh;
    struct iovec      iov;
    struct cmsghdr   *cm;
    char              cbuf[CMSG_SPACE(sizeof(struct timespec)) * 2];
    struct timespec  *ts;

    iov.iov_base = p;
    iov.iov_len = RBUF_SIZE;

    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof(cbuf);

    n = recvmsg(s->fd, &mh, 0);

    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) {
            return;
        }
        n_resets++;
        sub_close(s, 1);
        return;
    }

    if (n == 0) {
        sub_close(s, 1);
        return;
    }

    t = now_mono;

    for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
            ts = (struct timespec *) CMSG_DATA(cm);
            kt = ts->tv_sec + ts->tv_nsec / 1e9 - rt_off;

            /* sane: not after we woke up, not long before */
            if (kt <= t + 0.001 && kt > t - 5) {
                t = kt;
                n_kts++;
                goto stamped;
            }
        }
    }

    n_uts++;

stamped:

    s->bytes += n;
    n_bytes += n;

    if (s->state == S_HEADERS) {
        sub_headers(s, p, n, t);
    } else {
        sub_body(s, p, n, t);
    }
}


static void
sub_event(int i, uint32_t ev)
{
    sub_t      *s = &subs[i];
    const char *req;
    size_t      len;
    ssize_t     n;
    int         err = 0;
    socklen_t   el = sizeof(err);

    if (s->state == S_CONNECTING) {
        if (ev & (EPOLLERR | EPOLLHUP)) {
            n_connect_err++;
            sub_close(s, 0);
            return;
        }

        getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) {
            n_connect_err++;
            sub_close(s, 0);
            return;
        }

        s->state = S_SENDING;
    }

    if (s->state == S_SENDING) {
        req = s->probe && o_have_probe ? req_probe : req_stream;
        len = s->probe && o_have_probe ? req_probe_len : req_stream_len;

        n = write(s->fd, req + s->wpos, len - s->wpos);
        if (n < 0) {
            if (errno == EAGAIN) {
                return;
            }
            n_connect_err++;
            sub_close(s, 0);
            return;
        }

        s->wpos += n;
        if (s->wpos < len) {
            return;
        }

        s->state = S_HEADERS;
        ep_mod(s->fd, EPOLLIN | EPOLLRDHUP, tag(TAG_SUB, i));
        return;
    }

    if (s->wout && (ev & EPOLLOUT)) {
        ws_flush(s);
        if (s->state == S_CLOSED) {
            return;
        }
    }

    if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
        sub_read(s);
    }
}


/* ---- ingest ---- */

static void
ing_close(ing_t *c)
{
    if (c->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->busy = 0;
    c->connected = 0;
    c->in_len = 0;
}


static int
ing_open(int i)
{
    ing_t  *c = &ings[i];

    c->fd = tcp_socket(&o_ingest, 0);
    if (c->fd < 0) {
        return -1;
    }

    c->connected = 0;
    c->busy = 0;
    c->in_len = 0;
    ep_add(c->fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP, tag(TAG_ING, i));
    return 0;
}


static void
ing_flush(int i)
{
    ing_t    *c = &ings[i];
    ssize_t   n;
    uint64_t  k;
    double    t;

    if (c->out_pos == 0) {
        /* the send time, right before the first write of the request */
        t = mono();
        for (k = 0; k < c->count; k++) {
            send_time[c->first + k] = t;
        }
    }

    while (c->out_pos < c->out_len) {
        n = write(c->fd, c->out + c->out_pos, c->out_len - c->out_pos);
        if (n < 0) {
            if (errno == EAGAIN) {
                ep_mod(c->fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP,
                       tag(TAG_ING, i));
                return;
            }
            n_ing_err++;
            ing_close(c);
            return;
        }
        c->out_pos += n;
    }

    ep_mod(c->fd, EPOLLIN | EPOLLRDHUP, tag(TAG_ING, i));
}


static char    *ing_body;
static size_t   ing_body_cap;


static int
ing_post(int i, uint64_t first, uint64_t count)
{
    ing_t   *c = &ings[i];
    size_t   need, bl, hl;
    uint64_t k;
    char    *b;
    char     hdr[512];

    need = count * (strlen(o_tool) + strlen(o_type) + 64) + 1;
    if (need > ing_body_cap) {
        free(ing_body);
        ing_body_cap = need * 2;
        ing_body = malloc(ing_body_cap);
        if (ing_body == NULL) {
            die("out of memory");
        }
    }

    b = ing_body;
    for (k = 0; k < count; k++) {
        b += sprintf(b, "{\"tool\":\"%s\",\"type\":\"%s\",\"id\":\"m%" PRIu64
                     "\"}\n", o_tool, o_type, id_base + first + k);
    }
    bl = b - ing_body;

    hl = snprintf(hdr, sizeof(hdr),
                  "POST %s HTTP/1.1\r\nHost: %s:%d\r\n"
                  "Content-Type: application/x-ndjson\r\n"
                  "Content-Length: %zu\r\n\r\n",
                  o_ingest.path, o_ingest.host, o_ingest.port, bl);

    free(c->out);
    c->out = malloc(hl + bl);
    if (c->out == NULL) {
        die("out of memory");
    }
    memcpy(c->out, hdr, hl);
    memcpy(c->out + hl, ing_body, bl);
    c->out_len = hl + bl;
    c->out_pos = 0;
    c->first = first;
    c->count = count;
    c->busy = 1;
    n_sent += count;
    n_posts++;

    ing_flush(i);
    return 0;
}


static void
ing_event(int i, uint32_t ev)
{
    ing_t    *c = &ings[i];
    ssize_t   n;
    char     *e, *p;
    long      cl;
    int       status;
    size_t    hl, total;

    if (c->fd < 0) {
        return;
    }

    if (!c->connected && (ev & EPOLLOUT)) {
        int        err = 0;
        socklen_t  el = sizeof(err);

        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) {
            n_ing_err++;
            ing_close(c);
            return;
        }
        c->connected = 1;
        if (!c->busy) {
            ep_mod(c->fd, EPOLLIN | EPOLLRDHUP, tag(TAG_ING, i));
        }
    }

    if ((ev & EPOLLOUT) && c->busy && c->out_pos < c->out_len) {
        ing_flush(i);
    }

    if (!(ev & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))) {
        return;
    }

    n = read(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len);
    if (n <= 0) {
        if (n < 0 && errno == EAGAIN) {
            return;
        }
        if (c->busy) {
            n_ing_err++;
        }
        ing_close(c);
        return;
    }

    c->in_len += n;
    c->in[c->in_len] = '\0';

    e = strstr(c->in, "\r\n\r\n");
    if (e == NULL) {
        return;
    }

    hl = e + 4 - c->in;
    cl = 0;

    for (p = c->in; (p = strchr(p, '\n')) != NULL; ) {
        p++;
        if (strncasecmp(p, "content-length:", 15) == 0) {
            cl = strtol(p + 15, NULL, 10);
        }
    }

    total = hl + cl;
    if (c->in_len < total) {
        return;
    }

    if (sscanf(c->in, "HTTP/1.%*d %d", &status) == 1 && status == 202) {
        p = strstr(e, "\"accepted\":");
        if (p) {
            n_accepted += strtoull(p + 11, NULL, 10);
        }
    } else {
        n_ing_err++;
        if (!o_quiet) {
            fprintf(stderr, "sseload: ingest: %.*s\n", (int) c->in_len,
                    c->in);
        }
    }

    memmove(c->in, c->in + total, c->in_len - total);
    c->in_len -= total;
    c->busy = 0;
}


/* ---- report ---- */

static double
hist_pct(uint32_t *h, uint64_t n, uint64_t over, double maxv, double pct)
{
    uint64_t  want, acc = 0;
    long      i;

    if (n == 0) {
        return NAN;
    }

    want = (uint64_t) ceil(n * pct / 100.0);
    if (want == 0) {
        want = 1;
    }

    for (i = 0; i < LAT_BUCKETS; i++) {
        acc += h[i];
        if (acc >= want) {
            return (i + 1) * LAT_RES_US / 1000.0;   /* upper edge, ms */
        }
    }

    (void) over;
    return maxv * 1000;
}


static void
jnum(const char *k, double v, int last)
{
    if (isnan(v)) {
        printf("\"%s\":null%s", k, last ? "" : ",");
    } else {
        printf("\"%s\":%.3f%s", k, v, last ? "" : ",");
    }
}


int
main(int argc, char **argv)
{
    int                  i, n, timeout, have_stream = 0;
    const char          *hdrs;
    long                 next_sub = 0;
    double               t0, t_conn_done = 0, t_post0 = 0, t_post_end = 0;
    double               t_end = 0, d, dmin, a, b, c, phase_end;
    double               last_progress = 0;
    uint64_t             due, missing = 0, expected = 0, k, n_cl = 0;
    double               cl_min = NAN, cl_max = NAN;
    struct rlimit        rl;
    struct epoll_event   evs[512];
    psnap_t              ps0[MAX_PIDS], ps1[MAX_PIDS], ps2[MAX_PIDS],
                         ps3[MAX_PIDS];
    enum { P_CONNECT, P_SETTLE, P_POST, P_DRAIN, P_DONE }  phase;

    for (i = 1; i < argc; i++) {
        const char  *a1 = argv[i];
        const char  *v = i + 1 < argc ? argv[i + 1] : NULL;

#define NEEDV  do { if (v == NULL) usage(2); i++; } while (0)

        if (!strcmp(a1, "--stream")) { NEEDV; parse_url(v, &o_stream);
                                       have_stream = 1; }
        else if (!strcmp(a1, "--probe-stream")) { NEEDV;
                               parse_url(v, &o_probe_stream);
                               o_have_probe = 1; }
        else if (!strcmp(a1, "--ingest")) { NEEDV; parse_url(v, &o_ingest);
                                            o_have_ingest = 1; }
        else if (!strcmp(a1, "--subs")) { NEEDV; o_subs = atol(v); }
        else if (!strcmp(a1, "--probes")) { NEEDV; o_probes = atol(v); }
        else if (!strcmp(a1, "--rate")) { NEEDV; o_rate = atof(v); }
        else if (!strcmp(a1, "--duration")) { NEEDV; o_duration = atof(v); }
        else if (!strcmp(a1, "--batch")) { NEEDV; o_batch = atol(v); }
        else if (!strcmp(a1, "--ingest-conns")) { NEEDV;
                                                  o_ing_conns = atol(v); }
        else if (!strcmp(a1, "--tool")) { NEEDV;
                               snprintf(o_tool, sizeof(o_tool), "%s", v); }
        else if (!strcmp(a1, "--type")) { NEEDV;
                               snprintf(o_type, sizeof(o_type), "%s", v); }
        else if (!strcmp(a1, "--connect-rate")) { NEEDV;
                                                  o_connect_rate = atof(v); }
        else if (!strcmp(a1, "--connect-timeout")) { NEEDV;
                                             o_connect_timeout = atof(v); }
        else if (!strcmp(a1, "--settle")) { NEEDV; o_settle = atof(v); }
        else if (!strcmp(a1, "--interval")) { NEEDV; o_interval = atof(v); }
        else if (!strcmp(a1, "--drain")) { NEEDV; o_drain = atof(v); }
        else if (!strcmp(a1, "--pids")) { NEEDV; parse_pids(v); }
        else if (!strcmp(a1, "--ready-file")) { NEEDV;
                                                o_ready_file = argv[i]; }
        else if (!strcmp(a1, "--json")) { o_json = 1; }
        else if (!strcmp(a1, "--ws")) { o_ws = 1; }
        else if (!strcmp(a1, "--no-pong")) { o_no_pong = 1; }
        else if (!strcmp(a1, "--quiet")) { o_quiet = 1; }
        else if (!strcmp(a1, "-h") || !strcmp(a1, "--help")) { usage(0); }
        else { fprintf(stderr, "sseload: unknown option %s\n", a1);
               usage(2); }
    }

    if (!have_stream || o_subs < 0 || o_subs > 1000000 || o_rate < 0
        || o_rate > 1e6 || o_duration < 0 || o_duration > 3600
        || o_connect_rate <= 0 || o_probes < 0 || o_probes > o_subs
        || o_ing_conns < 1 || o_ing_conns > ING_CONNS_MAX
        || (o_rate > 0 && !o_have_ingest) || (o_have_probe && !o_probes)
        || (o_no_pong && !o_ws))
    {
        usage(2);
    }

    for (i = 0; o_tool[i]; i++) {
        if (o_tool[i] == '"' || o_tool[i] == '\\'
            || (unsigned char) o_tool[i] < 0x20)
        {
            die("--tool: no quotes, backslashes or control characters");
        }
    }

    if (o_drain < 0) {
        o_drain = 2 * o_interval + 1;
    }

    if (o_batch <= 0) {
        o_batch = (long) (o_rate / 100) + 1;
    }

    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    /* descriptors for every subscriber */

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0
        && rl.rlim_cur < (rlim_t) o_subs + 64)
    {
        rl.rlim_cur = o_subs + 64;
        if (rl.rlim_max < rl.rlim_cur) {
            rl.rlim_max = rl.rlim_cur;
        }
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
            die("cannot raise RLIMIT_NOFILE to %ld: %s", o_subs + 64,
                strerror(errno));
        }
    }

    /* realtime - monotonic, the smallest of a few readings */

    dmin = 1e18;
    for (i = 0; i < 5; i++) {
        a = mono();
        b = realt();
        c = mono();
        if (c - a < dmin) {
            dmin = c - a;
            rt_off = b - (a + c) / 2;
        }
    }

    id_base = (uint64_t) (realt() * 1000) % 100000000ULL * 100000ULL;
    max_events = (uint64_t) (o_rate * o_duration) + o_batch + 16;

    send_time = calloc(max_events, sizeof(double));
    lat_hist = calloc(LAT_BUCKETS, sizeof(uint32_t));
    skew_hist = calloc(LAT_BUCKETS, sizeof(uint32_t));
    subs = calloc(o_subs ? o_subs : 1, sizeof(sub_t));
    rbuf = malloc(RBUF_SIZE + HEADROOM);

    if (!send_time || !lat_hist || !skew_hist || !subs || !rbuf) {
        die("out of memory");
    }

    for (i = 0; i < o_subs; i++) {
        subs[i].fd = -1;
        subs[i].idx = i;
        subs[i].probe = o_probes
                        && (i * o_probes / o_subs
                            != (i + 1) * o_probes / o_subs);
    }

    hdrs = o_ws ? "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Version: 13\r\n"
                  "Sec-WebSocket-Key: " WS_KEY "\r\n"
                : "Accept: text/event-stream\r\n";

    if (asprintf(&req_stream, "GET %s HTTP/1.1\r\nHost: %s:%d\r\n%s\r\n",
                 o_stream.path, o_stream.host, o_stream.port, hdrs) < 0
        || (o_have_probe
            && asprintf(&req_probe, "GET %s HTTP/1.1\r\nHost: %s:%d\r\n"
                        "%s\r\n", o_probe_stream.path, o_probe_stream.host,
                        o_probe_stream.port, hdrs) < 0))
    {
        die("out of memory");
    }

    req_stream_len = strlen(req_stream);
    req_probe_len = req_probe ? strlen(req_probe) : 0;

    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        die("epoll_create1: %s", strerror(errno));
    }

    for (i = 0; i < ING_CONNS_MAX; i++) {
        ings[i].fd = -1;
    }

    proc_snap(ps0);

    t0 = mono();
    now_mono = t0;
    phase = P_CONNECT;
    phase_end = t0 + o_connect_timeout;

    while (phase != P_DONE) {

        now_mono = mono();

        if (stop_flag) {
            if (!o_quiet) {
                fprintf(stderr, "sseload: interrupted\n");
            }
            if (phase == P_POST) {
                t_post_end = now_mono;
            }
            break;
        }

        /* start connections at the connect rate */

        if (phase == P_CONNECT) {
            long  want = (long) ((now_mono - t0) * o_connect_rate) + 1;

            while (next_sub < o_subs && next_sub < want
                   && n_started - n_ready - n_closed - n_connect_err < 2048)
            {
                sub_start(next_sub++);
            }

            if (next_sub == o_subs
                && n_ready + (long) n_connect_err + (long) n_http_err
                   + (long) n_closed >= o_subs)
            {
                t_conn_done = now_mono;
                proc_snap(ps1);
                if (o_ready_file) {
                    FILE  *f = fopen(o_ready_file, "w");
                    if (f) {
                        fprintf(f, "%ld\n", n_ready);
                        fclose(f);
                    }
                }
                if (!o_quiet) {
                    fprintf(stderr, "sseload: %ld/%ld subscribers ready "
                            "in %.2fs\n", n_ready, o_subs,
                            now_mono - t0);
                }
                phase = P_SETTLE;
                phase_end = now_mono + o_settle;

            } else if (now_mono >= phase_end) {
                t_conn_done = now_mono;
                proc_snap(ps1);
                if (!o_quiet) {
                    fprintf(stderr, "sseload: connect timeout: %ld/%ld "
                            "ready\n", n_ready, o_subs);
                }
                phase = P_SETTLE;
                phase_end = now_mono + o_settle;
            }
        }

        if (phase == P_SETTLE && now_mono >= phase_end) {
            if (o_rate > 0 && o_duration > 0) {
                for (i = 0; i < o_ing_conns; i++) {
                    if (ing_open(i) < 0) {
                        die("cannot connect to the ingest URL");
                    }
                }
                phase = P_POST;
                t_post0 = now_mono;
                phase_end = now_mono + o_duration;
                proc_snap(ps2);
            } else {
                phase = P_DRAIN;
                t_post0 = t_post_end = now_mono;
                proc_snap(ps2);
                phase_end = now_mono + (o_duration > 0 ? o_duration : 0);
            }
        }

        if (phase == P_POST) {
            if (now_mono >= phase_end) {
                t_post_end = now_mono;
                phase = P_DRAIN;
                phase_end = now_mono + o_drain;

            } else {
                due = (uint64_t) ((now_mono - t_post0) * o_rate) + 1;
                if (due > max_events - o_batch) {
                    due = max_events - o_batch;
                }

                for (i = 0; i < o_ing_conns && n_sent < due; i++) {
                    ing_t  *ic = &ings[i];

                    if (ic->fd < 0) {
                        if (ing_open(i) < 0) {
                            n_ing_err++;
                            continue;
                        }
                    }

                    if (!ic->connected || ic->busy) {
                        continue;
                    }

                    k = due - n_sent;
                    if (k > (uint64_t) o_batch) {
                        k = o_batch;
                    }

                    ing_post(i, n_sent, k);
                }
            }
        }

        if (phase == P_DRAIN && now_mono >= phase_end) {
            phase = P_DONE;
            t_end = now_mono;
            break;
        }

        /* how long epoll may sleep */

        d = phase_end - now_mono;

        if (phase == P_CONNECT && next_sub < o_subs) {
            d = 0.001;
        } else if (phase == P_POST) {
            double  next = t_post0 + (n_sent + 0.0) / o_rate;

            d = next - now_mono;
            if (d > 0.001) {
                d = 0.001;
            }
        }

        timeout = d <= 0 ? 0 : (int) ceil(d * 1000);
        if (timeout > 100) {
            timeout = 100;
        }

        n = epoll_wait(ep, evs, 512, timeout);
        now_mono = mono();

        for (i = 0; i < n; i++) {
            uint64_t  u = evs[i].data.u64;
            int       idx = (int) (uint32_t) u;

            if ((u >> 32) == TAG_SUB) {
                sub_event(idx, evs[i].events);
            } else {
                ing_event(idx, evs[i].events);
            }
        }

        if (!o_quiet && now_mono - last_progress >= 2) {
            last_progress = now_mono;
            fprintf(stderr, "sseload: %.0fs connected %ld ready %ld frames "
                    "%" PRIu64 " sent %" PRIu64 " deliveries %" PRIu64 "\n",
                    now_mono - t0, n_connected, n_ready, n_frames, n_sent,
                    lat_n);
        }
    }

    if (t_end == 0) {
        t_end = now_mono;
    }
    if (t_post_end == 0) {
        t_post_end = t_end;
    }
    if (t_conn_done == 0) {
        t_conn_done = t_end;
        proc_snap(ps1);
    }
    if (t_post0 == 0) {
        t_post0 = t_end;
        proc_snap(ps2);
    }

    proc_snap(ps3);

    /* missing: events sent after a subscriber was ready and still open */

    for (i = 0; i < o_subs; i++) {
        sub_t  *s = &subs[i];

        if (s->ready && s->state == S_CLOSED) {
            d = s->t_closed - s->t_ready;       /* closed after ready */
            if (n_cl == 0 || d < cl_min) {
                cl_min = d;
            }
            if (n_cl == 0 || d > cl_max) {
                cl_max = d;
            }
            n_cl++;
        }

        if (!s->ready || s->state == S_CLOSED) {
            continue;
        }
        if (o_have_probe && !s->probe) {
            continue;
        }

        for (k = 0; k < n_sent; k++) {
            if (send_time[k] == 0 || send_time[k] < s->t_ready) {
                continue;
            }
            expected++;
            if (s->seen == NULL || !(s->seen[k >> 3] & (1 << (k & 7)))) {
                missing++;
            }
        }
    }

    {
        double   p50 = hist_pct(lat_hist, lat_n, lat_over, lat_max, 50);
        double   p90 = hist_pct(lat_hist, lat_n, lat_over, lat_max, 90);
        double   p99 = hist_pct(lat_hist, lat_n, lat_over, lat_max, 99);
        double   s50 = hist_pct(skew_hist, skew_n, skew_over, skew_max, 50);
        double   s99 = hist_pct(skew_hist, skew_n, skew_over, skew_max, 99);
        double   mean = lat_n ? lat_sum / lat_n * 1000 : NAN;
        double   kfrac = n_kts + n_uts ? (double) n_kts / (n_kts + n_uts)
                                       : 0;
        double   post_s = t_post_end - t_post0;
        long     rss0 = 0, rss1 = 0, rss2 = 0, rss3 = 0;
        double   cpu_post = 0, cpu_conn = 0;

        for (i = 0; i < o_npids; i++) {
            rss0 += ps0[i].rss_kb;
            rss1 += ps1[i].rss_kb;
            rss2 += ps2[i].rss_kb;
            rss3 += ps3[i].rss_kb;
            cpu_conn += ps1[i].cpu - ps0[i].cpu;
            cpu_post += ps3[i].cpu - ps2[i].cpu;
        }

        if (o_json) {
            printf("{\"subs\":%ld,\"probes\":%ld,\"connected\":%ld,"
                   "\"ready\":%ld,\"connect_errors\":%" PRIu64 ","
                   "\"http_errors\":%" PRIu64 ",\"closed_early\":%" PRIu64
                   ",\"frames\":%" PRIu64 ",\"snapshots\":%" PRIu64
                   ",\"updates\":%" PRIu64 ",\"pings\":%" PRIu64
                   ",\"bytes\":%" PRIu64 ",\"events_sent\":%" PRIu64
                   ",\"events_accepted\":%" PRIu64 ",\"posts\":%" PRIu64
                   ",\"ingest_errors\":%" PRIu64 ",\"deliveries\":%" PRIu64
                   ",\"expected\":%" PRIu64 ",\"missing\":%" PRIu64 ",",
                   o_subs, o_probes, n_connected, n_ready, n_connect_err,
                   n_http_err, n_closed, n_frames, n_snapshots, n_updates,
                   n_pings, n_bytes, n_sent, n_accepted, n_posts,
                   n_ing_err, lat_n, expected, missing);
            printf("\"latency_ms\":{");
            jnum("p50", p50, 0);
            jnum("p90", p90, 0);
            jnum("p99", p99, 0);
            jnum("max", lat_n ? lat_max * 1000 : NAN, 0);
            jnum("mean", mean, 1);
            printf("},\"fanout_skew_ms\":{");
            jnum("p50", s50, 0);
            jnum("p99", s99, 0);
            jnum("max", skew_n ? skew_max * 1000 : NAN, 1);
            printf("},");
            jnum("kernel_timestamps", kfrac, 0);
            jnum("connect_s", t_conn_done - t0, 0);
            jnum("post_s", post_s, 0);
            jnum("total_s", t_end - t0, 0);
            printf("\"server\":{\"pids\":%d,\"rss_kb_before\":%ld,"
                   "\"rss_kb_connected\":%ld,\"rss_kb_settled\":%ld,"
                   "\"rss_kb_end\":%ld,",
                   o_npids, rss0, rss1, rss2, rss3);
            jnum("cpu_s_connect", cpu_conn, 0);
            jnum("cpu_s_post", cpu_post, 1);
            printf("},\"mode\":\"%s\",\"ever_ready\":%" PRIu64
                   ",\"closed_after_ready\":%" PRIu64 ",",
                   o_ws ? "ws" : "sse", n_ever_ready, n_cl);
            jnum("closed_after_s_min", cl_min, 0);
            jnum("closed_after_s_max", cl_max, 1);
            if (o_ws) {
                printf(",\"ws\":{\"pongs\":%" PRIu64 ",\"close_frames\":%"
                       PRIu64 ",\"protocol_errors\":%" PRIu64
                       ",\"delayed_writes\":%" PRIu64 ",\"close_codes\":{",
                       n_pongs, n_ws_closes, n_ws_proto, n_ws_partial);
                for (i = 0; i < WS_CODES && ws_code_n[i]; i++) {
                    printf("%s\"%u\":%" PRIu64, i ? "," : "", ws_code[i],
                           ws_code_n[i]);
                }
                printf("}}");
            }
            printf("}\n");

        } else {
            printf("subscribers:   %ld requested, %ld connected, %ld ready"
                   " (%" PRIu64 " connect errors, %" PRIu64 " http errors,"
                   " %" PRIu64 " closed early)\n",
                   o_subs, n_connected, n_ready, n_connect_err, n_http_err,
                   n_closed);
            printf("received:      %" PRIu64 " frames (%" PRIu64
                   " snapshots, %" PRIu64 " updates), %" PRIu64 " pings, %"
                   PRIu64 " bytes\n", n_frames, n_snapshots, n_updates,
                   n_pings, n_bytes);
            printf("posted:        %" PRIu64 " events in %" PRIu64
                   " POSTs over %.2fs, %" PRIu64 " accepted, %" PRIu64
                   " errors\n", n_sent, n_posts, post_s, n_accepted,
                   n_ing_err);
            printf("deliveries:    %" PRIu64 " (expected %" PRIu64
                   ", missing %" PRIu64 ")\n", lat_n, expected, missing);
            printf("latency ms:    p50 %.2f  p90 %.2f  p99 %.2f  max %.2f"
                   "  mean %.2f\n", p50, p90, p99,
                   lat_n ? lat_max * 1000 : NAN, mean);
            printf("fan-out skew:  p50 %.2f  p99 %.2f  max %.2f ms\n",
                   s50, s99, skew_n ? skew_max * 1000 : NAN);
            printf("timestamps:    %.0f%% from the kernel (SO_TIMESTAMPNS)\n",
                   kfrac * 100);
            if (o_ws) {
                printf("websocket:     %" PRIu64 " pings, %" PRIu64
                       " pongs sent, %" PRIu64 " close frames (",
                       n_pings, n_pongs, n_ws_closes);
                for (i = 0; i < WS_CODES && ws_code_n[i]; i++) {
                    printf("%s%u: %" PRIu64, i ? ", " : "", ws_code[i],
                           ws_code_n[i]);
                }
                printf("), %" PRIu64 " protocol errors\n", n_ws_proto);
            }
            if (o_npids) {
                printf("server:        RSS %ld kB -> %ld kB connected -> "
                       "%ld kB settled -> %ld kB end; CPU %.2fs connecting,"
                       " %.2fs posting\n",
                       rss0, rss1, rss2, rss3, cpu_conn, cpu_post);
            }
        }
    }

    return (n_ready == 0 && o_subs > 0) || n_ing_err ? 1 : 0;
}
