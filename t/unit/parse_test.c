
/*
 * rtdash: unit tests of the ingest parser (ngx_http_rtdash_parse.c).
 *
 * Plain C, no nginx.  Every body is copied into a buffer of exactly its
 * size, so a read past the end shows up under AddressSanitizer or
 * valgrind.  The last line printed is "N passed, N failed"; the exit
 * status is non-zero when anything failed.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_rtdash_parse.h"


#define NGX_HTTP_RTDASH_TEST_EVENTS   64
#define NGX_HTTP_RTDASH_TEST_GAUGES   256
#define NGX_HTTP_RTDASH_TEST_NOW      1700000000.0
#define NGX_HTTP_RTDASH_TEST_RET      21600.0
#define NGX_HTTP_RTDASH_TEST_ANY      ((size_t) -1)

#define NGX_HTTP_RTDASH_OK       NGX_HTTP_RTDASH_PARSE_OK
#define NGX_HTTP_RTDASH_INVALID  NGX_HTTP_RTDASH_PARSE_INVALID
#define NGX_HTTP_RTDASH_TOO_MANY NGX_HTTP_RTDASH_PARSE_TOO_MANY

/* string literal bodies (may contain NUL bytes) */

#define ngx_http_rtdash_ok(t, b, n)                                           \
    ngx_http_rtdash_test_ok(t, __LINE__, b, sizeof(b) - 1, 0, n)

#define ngx_http_rtdash_ok_form(t, b, n)                                      \
    ngx_http_rtdash_test_ok(t, __LINE__, b, sizeof(b) - 1, 1, n)

#define ngx_http_rtdash_bad(t, b, msg, line, off)                             \
    ngx_http_rtdash_test_err(t, __LINE__, b, sizeof(b) - 1, 0,                \
                             NGX_HTTP_RTDASH_INVALID, msg, line, off)

#define ngx_http_rtdash_bad_form(t, b, msg, line, off)                        \
    ngx_http_rtdash_test_err(t, __LINE__, b, sizeof(b) - 1, 1,                \
                             NGX_HTTP_RTDASH_INVALID, msg, line, off)

#define ngx_http_rtdash_many(t, b, form, msg, line, off)                    \
    ngx_http_rtdash_test_err(t, __LINE__, b, sizeof(b) - 1, form,             \
                             NGX_HTTP_RTDASH_TOO_MANY, msg, line, off)

#define ngx_http_rtdash_check(cond)                                           \
    ngx_http_rtdash_test_check(__LINE__, (cond), #cond)

#define ngx_http_rtdash_streq(s, len, lit)                                    \
    ((len) == sizeof(lit) - 1 && memcmp(s, lit, len) == 0)


typedef struct {
    ngx_http_rtdash_parse_t      p;
    ngx_http_rtdash_event_in_t   events[NGX_HTTP_RTDASH_TEST_EVENTS];
    ngx_http_rtdash_gauge_in_t   gauges[NGX_HTTP_RTDASH_TEST_GAUGES];
    unsigned char               *body;
    unsigned char               *scratch;
    size_t                       max_events;
    size_t                       max_gauges;
    size_t                       max_gauges_per_event;
    size_t                       passed;
    size_t                       failed;
    int                          rc;
} ngx_http_rtdash_test_t;


static int ngx_http_rtdash_test_run(ngx_http_rtdash_test_t *t,
    const char *body, size_t len, unsigned form);
static int ngx_http_rtdash_test_ok(ngx_http_rtdash_test_t *t, int line,
    const char *body, size_t len, unsigned form, size_t nevents);
static int ngx_http_rtdash_test_err(ngx_http_rtdash_test_t *t, int line,
    const char *body, size_t len, unsigned form, int rc, const char *msg,
    size_t eline, size_t offset);
static int ngx_http_rtdash_test_check(int line, int cond,
    const char *what);
static void ngx_http_rtdash_test_count(ngx_http_rtdash_test_t *t, int ok);
static int ngx_http_rtdash_test_in(ngx_http_rtdash_test_t *t,
    const unsigned char *s, size_t len);
static void ngx_http_rtdash_test_valid(ngx_http_rtdash_test_t *t);
static void ngx_http_rtdash_test_fields(ngx_http_rtdash_test_t *t);
static void ngx_http_rtdash_test_strings(ngx_http_rtdash_test_t *t);
static void ngx_http_rtdash_test_syntax(ngx_http_rtdash_test_t *t);
static void ngx_http_rtdash_test_numbers(ngx_http_rtdash_test_t *t);
static void ngx_http_rtdash_test_depth(ngx_http_rtdash_test_t *t);
static void ngx_http_rtdash_test_limits(ngx_http_rtdash_test_t *t);
static void ngx_http_rtdash_test_form(ngx_http_rtdash_test_t *t);
static void ngx_http_rtdash_test_positions(ngx_http_rtdash_test_t *t);
static void ngx_http_rtdash_test_truncation(ngx_http_rtdash_test_t *t);
static void ngx_http_rtdash_test_helpers(ngx_http_rtdash_test_t *t);


static int
ngx_http_rtdash_test_run(ngx_http_rtdash_test_t *t, const char *body,
    size_t len, unsigned form)
{
    ngx_http_rtdash_parse_t  *p;

    free(t->body);
    free(t->scratch);

    /* exactly len bytes: any overread is caught by the sanitizers */

    t->body = malloc(len ? len : 1);
    t->scratch = malloc(len ? len : 1);

    if (t->body == NULL || t->scratch == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }

    memcpy(t->body, body, len);
    memset(t->events, 0xa5, sizeof(t->events));

    p = &t->p;
    memset(p, 0, sizeof(ngx_http_rtdash_parse_t));

    p->body = t->body;
    p->len = len;
    p->form = form;
    p->now = NGX_HTTP_RTDASH_TEST_NOW;
    p->retention = NGX_HTTP_RTDASH_TEST_RET;
    p->scratch = t->scratch;
    p->events = t->events;
    p->max_events = t->max_events;
    p->gauges = t->gauges;
    p->max_gauges = t->max_gauges;
    p->max_gauges_per_event = t->max_gauges_per_event;

    t->rc = ngx_http_rtdash_parse(p);

    return t->rc;
}


static void
ngx_http_rtdash_test_count(ngx_http_rtdash_test_t *t, int ok)
{
    if (ok) {
        t->passed++;

    } else {
        t->failed++;
    }
}


static int
ngx_http_rtdash_test_check(int line, int cond, const char *what)
{
    if (!cond) {
        printf("FAIL line %d: %s\n", line, what);
    }

    return cond;
}


static int
ngx_http_rtdash_test_ok(ngx_http_rtdash_test_t *t, int line,
    const char *body, size_t len, unsigned form, size_t nevents)
{
    int  ok;

    ngx_http_rtdash_test_run(t, body, len, form);

    ok = (t->rc == NGX_HTTP_RTDASH_OK && t->p.nevents == nevents);

    if (!ok) {
        printf("FAIL line %d: rc %d nevents %zu (want %zu) error \"%s\" "
               "line %zu offset %zu\n", line, t->rc, t->p.nevents, nevents,
               t->p.error ? t->p.error : "", t->p.line, t->p.offset);
    }

    ngx_http_rtdash_test_count(t, ok);

    return ok;
}


static int
ngx_http_rtdash_test_err(ngx_http_rtdash_test_t *t, int line,
    const char *body, size_t len, unsigned form, int rc, const char *msg,
    size_t eline, size_t offset)
{
    int  ok;

    ngx_http_rtdash_test_run(t, body, len, form);

    ok = (t->rc == rc && t->p.error != NULL
          && (msg == NULL || strcmp(t->p.error, msg) == 0)
          && (eline == NGX_HTTP_RTDASH_TEST_ANY || t->p.line == eline)
          && (offset == NGX_HTTP_RTDASH_TEST_ANY || t->p.offset == offset)
          && t->p.offset <= len);

    if (!ok) {
        printf("FAIL line %d: rc %d error \"%s\" line %zu offset %zu; "
               "want rc %d \"%s\" line %ld offset %ld\n", line, t->rc,
               t->p.error ? t->p.error : "(null)", t->p.line, t->p.offset,
               rc, msg ? msg : "*", (long) eline, (long) offset);
    }

    ngx_http_rtdash_test_count(t, ok);

    return ok;
}


/* 1 if [s, s + len) lies inside the body or the scratch buffer */

static int
ngx_http_rtdash_test_in(ngx_http_rtdash_test_t *t, const unsigned char *s,
    size_t len)
{
    if (s >= t->body && s + len <= t->body + t->p.len) {
        return 1;
    }

    if (s >= t->scratch && s + len <= t->scratch + t->p.len) {
        return 2;
    }

    return 0;
}


static void
ngx_http_rtdash_test_valid(ngx_http_rtdash_test_t *t)
{
    ngx_http_rtdash_event_in_t  *ev;
    ngx_http_rtdash_gauge_in_t  *g;

    /* one object, every field */

    if (ngx_http_rtdash_ok(t, "{\"tool\":\"lic-a\",\"type\":\"borrow\","
                           "\"user\":\"alice\",\"id\":\"b-17\","
                           "\"value\":12.5,\"flag\":true,"
                           "\"ts\":1699999990.25,"
                           "\"gauges\":{\"in_use\":3,\"total\":10}}", 1))
    {
        ev = &t->events[0];
        ngx_http_rtdash_test_count(t,
            ngx_http_rtdash_check(ngx_http_rtdash_streq(ev->tool,
                                                    ev->tool_len, "lic-a"))
            && ngx_http_rtdash_check(ngx_http_rtdash_streq(ev->type,
                                                  ev->type_len, "borrow"))
            && ngx_http_rtdash_check(ngx_http_rtdash_streq(ev->user,
                                                   ev->user_len, "alice"))
            && ngx_http_rtdash_check(ngx_http_rtdash_streq(ev->id,
                                                      ev->id_len, "b-17"))
            && ngx_http_rtdash_check(ev->has_value && ev->value == 12.5)
            && ngx_http_rtdash_check(ev->flag == 1)
            && ngx_http_rtdash_check(ev->has_ts
                                     && ev->ts == 1699999990.25)
            && ngx_http_rtdash_check(ev->gauge_first == 0
                                     && ev->ngauges == 2
                                     && t->p.ngauges == 2)
            && ngx_http_rtdash_check(ngx_http_rtdash_streq(
                   t->gauges[0].name, t->gauges[0].name_len, "in_use")
                   && t->gauges[0].value == 3)
            && ngx_http_rtdash_check(ngx_http_rtdash_streq(
                   t->gauges[1].name, t->gauges[1].name_len, "total")
                   && t->gauges[1].value == 10)
            /* unescaped strings point into the body */
            && ngx_http_rtdash_check(ngx_http_rtdash_test_in(t, ev->tool,
                                                      ev->tool_len) == 1));
    }

    /* minimal object: defaults */

    if (ngx_http_rtdash_ok(t, "{\"tool\":\"x\",\"type\":\"t\"}", 1)) {
        ev = &t->events[0];
        ngx_http_rtdash_test_count(t,
            ngx_http_rtdash_check(ev->user == NULL && ev->id == NULL)
            && ngx_http_rtdash_check(!ev->has_value && !ev->flag)
            && ngx_http_rtdash_check(!ev->has_ts
                                   && ev->ts == NGX_HTTP_RTDASH_TEST_NOW)
            && ngx_http_rtdash_check(ev->ngauges == 0));
    }

    /* array */

    if (ngx_http_rtdash_ok(t, "[{\"tool\":\"a\",\"type\":\"x\"},"
                           " {\"tool\":\"b\",\"type\":\"y\"} ,\n"
                           "{\"tool\":\"c\",\"type\":\"z\"}]", 3))
    {
        ngx_http_rtdash_test_count(t,
            ngx_http_rtdash_check(t->events[2].tool[0] == 'c'
                                  && t->events[1].type[0] == 'y'));
    }

    /* NDJSON with LF, CRLF, blank lines and trailing newline */

    ngx_http_rtdash_ok(t, "{\"tool\":\"a\",\"type\":\"x\"}\n"
                       "{\"tool\":\"b\",\"type\":\"x\"}\r\n\r\n"
                       "{\"tool\":\"c\",\"type\":\"x\"}\n", 3);

    /* concatenations: no separator, object then array, spaces/tabs */

    ngx_http_rtdash_ok(t, "{\"tool\":\"a\",\"type\":\"x\"}"
                       "{\"tool\":\"b\",\"type\":\"x\"}", 2);
    ngx_http_rtdash_ok(t, " \t{\"tool\":\"a\",\"type\":\"x\"}\n"
                       "[{\"tool\":\"b\",\"type\":\"x\"},"
                       "{\"tool\":\"c\",\"type\":\"x\"}] \r\n", 3);

    /* empty arrays are fine (zero events) */

    ngx_http_rtdash_ok(t, "[]", 0);
    ngx_http_rtdash_ok(t, "[ ]\n[{\"tool\":\"a\",\"type\":\"x\"}]", 1);

    /* whitespace everywhere */

    ngx_http_rtdash_ok(t, " { \"tool\" : \"a\" , \"type\"\t:\r\n\"x\" } ", 1);

    /* unknown fields with nested values are skipped */

    if (ngx_http_rtdash_ok(t, "{\"x\":{\"y\":[1,2,{\"z\":null}],\"w\":"
                           "\"s\\u00e9\\n\"},\"tool\":\"a\",\"n\":-1.5e10,"
                           "\"b\":[true,false,[],{}],\"type\":\"x\","
                           "\"e\":\"\",\"big\":1e999,\"z\":\"\\u0000\"}", 1))
    {
        ngx_http_rtdash_test_count(t,
            ngx_http_rtdash_check(ngx_http_rtdash_streq(t->events[0].tool,
                                                t->events[0].tool_len, "a")));
    }

    /* duplicate keys: last wins */

    if (ngx_http_rtdash_ok(t, "{\"tool\":\"a\",\"type\":\"x\",\"tool\":\"b\","
                           "\"type\":\"y\",\"value\":1,\"value\":null,"
                           "\"user\":\"u\",\"user\":null,\"flag\":true,"
                           "\"flag\":false,\"ts\":1700000000,\"ts\":null}",
                           1))
    {
        ev = &t->events[0];
        ngx_http_rtdash_test_count(t,
            ngx_http_rtdash_check(ev->tool[0] == 'b' && ev->type[0] == 'y')
            && ngx_http_rtdash_check(!ev->has_value && ev->user == NULL)
            && ngx_http_rtdash_check(!ev->flag && !ev->has_ts));
    }

    /* gauges only, and gauge indices across events */

    if (ngx_http_rtdash_ok(t, "{\"tool\":\"a\",\"gauges\":{\"g1\":1}}\n"
                           "{\"tool\":\"b\",\"type\":\"x\"}\n"
                           "{\"tool\":\"c\",\"gauges\":{\"g2\":-2.5,"
                           "\"g3\":3e2}}", 3))
    {
        g = t->gauges;
        ngx_http_rtdash_test_count(t,
            ngx_http_rtdash_check(t->p.ngauges == 3)
            && ngx_http_rtdash_check(t->events[0].gauge_first == 0
                                     && t->events[0].ngauges == 1)
            && ngx_http_rtdash_check(t->events[1].ngauges == 0)
            && ngx_http_rtdash_check(t->events[2].gauge_first == 1
                                     && t->events[2].ngauges == 2)
            && ngx_http_rtdash_check(g[1].value == -2.5
                                     && g[2].value == 300)
            && ngx_http_rtdash_check(t->events[0].type == NULL));
    }

    /* a repeated "gauges" replaces the first; null clears */

    if (ngx_http_rtdash_ok(t, "{\"tool\":\"a\",\"gauges\":{\"g1\":1,\"g2\":2},"
                           "\"gauges\":{\"g3\":3}}", 1))
    {
        ngx_http_rtdash_test_count(t,
            ngx_http_rtdash_check(t->p.ngauges == 1
                                  && t->events[0].ngauges == 1
                                  && t->gauges[0].value == 3));
    }

    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"gauges\":{\"g1\":1},"
                        "\"gauges\":null}",
                        "event needs \"type\", \"gauges\" or \"sums\"", 1, 0);

    /* escaped keys are matched after decoding */

    if (ngx_http_rtdash_ok(t, "{\"\\u0074ool\":\"a\",\"typ\\u0065\":\"x\"}",
                           1))
    {
        ngx_http_rtdash_test_count(t,
            ngx_http_rtdash_check(t->events[0].tool[0] == 'a'
                                  && t->events[0].type[0] == 'x'));
    }

    /* flag as 0/1; null fields; empty user and id are absent */

    if (ngx_http_rtdash_ok(t, "[{\"tool\":\"a\",\"type\":\"x\",\"flag\":1},"
                           "{\"tool\":\"a\",\"type\":\"x\",\"flag\":0},"
                           "{\"tool\":\"a\",\"type\":\"x\",\"flag\":1.0},"
                           "{\"tool\":\"a\",\"type\":\"x\",\"user\":null,"
                           "\"id\":null,\"value\":null,\"flag\":null,"
                           "\"ts\":null,\"gauges\":null},"
                           "{\"tool\":\"a\",\"type\":\"x\",\"user\":\"\","
                           "\"id\":\"\"}]", 5))
    {
        ngx_http_rtdash_test_count(t,
            ngx_http_rtdash_check(t->events[0].flag && !t->events[1].flag
                                  && t->events[2].flag)
            && ngx_http_rtdash_check(t->events[4].user == NULL
                                     && t->events[4].id == NULL));
    }

    /* type null with gauges is fine */

    ngx_http_rtdash_ok(t, "{\"tool\":\"a\",\"type\":null,"
                       "\"gauges\":{\"g\":1}}", 1);

    /* sums: beside the gauges in one array, each marked */

    if (ngx_http_rtdash_ok(t, "{\"tool\":\"a\",\"sums\":{\"s1\":5120,"
                           "\"s2\":0.5},\"gauges\":{\"g\":-1}}\n"
                           "{\"tool\":\"b\",\"sums\":{\"s1\":0}}", 2))
    {
        g = t->gauges;
        ngx_http_rtdash_test_count(t,
            ngx_http_rtdash_check(t->p.ngauges == 4)
            && ngx_http_rtdash_check(t->events[0].ngauges == 3
                                     && t->events[0].nsums == 2
                                     && t->events[0].type == NULL)
            && ngx_http_rtdash_check(g[0].sum && g[0].value == 5120
                                     && g[1].sum && g[1].value == 0.5)
            && ngx_http_rtdash_check(!g[2].sum && g[2].value == -1)
            && ngx_http_rtdash_check(t->events[1].gauge_first == 3
                                     && t->events[1].nsums == 1
                                     && g[3].sum && g[3].value == 0));
    }

    /* a repeated "sums" replaces only the sums; "gauges" only gauges */

    if (ngx_http_rtdash_ok(t, "{\"tool\":\"a\",\"sums\":{\"s1\":1},"
                           "\"gauges\":{\"g\":2},\"sums\":{\"s2\":3},"
                           "\"gauges\":{\"h\":4}}", 1))
    {
        g = t->gauges;
        ngx_http_rtdash_test_count(t,
            ngx_http_rtdash_check(t->p.ngauges == 2
                                  && t->events[0].ngauges == 2
                                  && t->events[0].nsums == 1)
            && ngx_http_rtdash_check(g[0].sum && g[0].value == 3
                                     && g[0].name[1] == '2')
            && ngx_http_rtdash_check(!g[1].sum && g[1].value == 4));
    }

    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"sums\":{\"s\":1},"
                        "\"sums\":null}",
                        "event needs \"type\", \"gauges\" or \"sums\"", 1, 0);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"sums\":{\"s\":-1}}",
                        "sum value must be a finite number, not negative", 1, 24);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"sums\":{\"s\":\"1\"}}",
                        "sum value must be a finite number, not negative", 1, 24);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"sums\":{\"S\":1}}",
                        "sum name must be a token [a-z0-9_.-]{1,32}", 1, 20);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"sums\":[1]}",
                        "\"sums\" must be an object of names to numbers",
                        1, 19);
    ngx_http_rtdash_bad(t, "{\"notice\":\"n\",\"sums\":{\"s\":1}}",
                        "a notice takes only \"notice\", \"level\", \"tool\" "
                        "and \"ts\"", 1, 0);
}


static void
ngx_http_rtdash_test_fields(ngx_http_rtdash_test_t *t)
{
    char  buf[512];
    int   n;

    /* tool */

    ngx_http_rtdash_bad(t, "{\"type\":\"x\"}", "\"tool\" is required", 1, 0);
    ngx_http_rtdash_bad(t, "{}", "\"tool\" is required", 1, 0);
    ngx_http_rtdash_bad(t, "{\"tool\":\"\",\"type\":\"x\"}",
                        "\"tool\" must be a string of 1 to 128 bytes", 1, 8);
    ngx_http_rtdash_bad(t, "{\"tool\":5,\"type\":\"x\"}",
                        "\"tool\" must be a string of 1 to 128 bytes", 1, 8);
    ngx_http_rtdash_bad(t, "{\"tool\":null,\"type\":\"x\"}",
                        "\"tool\" must be a string of 1 to 128 bytes", 1, 8);
    ngx_http_rtdash_bad(t, "{\"tool\":[\"a\"],\"type\":\"x\"}",
                        "\"tool\" must be a string of 1 to 128 bytes", 1, 8);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\\tb\",\"type\":\"x\"}",
                        "\"tool\" must not contain control characters",
                        1, 8);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\x7f\",\"type\":\"x\"}",
                        "\"tool\" must not contain control characters",
                        1, 8);
    ngx_http_rtdash_bad(t, "{\"tool\":\"\\u0000\",\"type\":\"x\"}",
                        "\"tool\" must not contain control characters",
                        1, 8);
    /* C1 controls: U+0085 raw and escaped */
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\xc2\x85\",\"type\":\"x\"}",
                        "\"tool\" must not contain control characters",
                        1, 8);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\\u009f\",\"type\":\"x\"}",
                        "\"tool\" must not contain control characters",
                        1, 8);

    n = snprintf(buf, sizeof(buf), "{\"tool\":\"%0128d\",\"type\":\"x\"}", 0);
    ngx_http_rtdash_test_ok(t, __LINE__, buf, n, 0, 1);
    n = snprintf(buf, sizeof(buf), "{\"tool\":\"%0129d\",\"type\":\"x\"}", 0);
    ngx_http_rtdash_test_err(t, __LINE__, buf, n, 0, NGX_HTTP_RTDASH_INVALID,
                             "\"tool\" must be a string of 1 to 128 bytes",
                             1, 8);

    /* 43 x 3-byte euro signs = 129 bytes: too long after decoding */

    n = sprintf(buf, "{\"type\":\"x\",\"tool\":\"");
    while (n < 19 + 43 * 6) {
        n += sprintf(buf + n, "\\u20ac");
    }
    n += sprintf(buf + n, "\"}");
    ngx_http_rtdash_test_err(t, __LINE__, buf, n, 0, NGX_HTTP_RTDASH_INVALID,
                             "\"tool\" must be a string of 1 to 128 bytes",
                             1, 19);

    /* 42 euro signs + 2 bytes = 128 */

    n = sprintf(buf, "{\"type\":\"x\",\"tool\":\"ab");
    while (n < 21 + 42 * 6) {
        n += sprintf(buf + n, "\\u20ac");
    }
    n += sprintf(buf + n, "\"}");
    if (ngx_http_rtdash_test_ok(t, __LINE__, buf, n, 0, 1)) {
        ngx_http_rtdash_test_count(t,
            ngx_http_rtdash_check(t->events[0].tool_len == 128
                && ngx_http_rtdash_test_in(t, t->events[0].tool, 128) == 2));
    }

    /* type */

    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"Borrow\"}",
                        "\"type\" must be a token [a-z0-9_.-]{1,32}", 1, 19);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"\"}",
                        "\"type\" must be a token [a-z0-9_.-]{1,32}", 1, 19);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"a b\"}",
                        "\"type\" must be a token [a-z0-9_.-]{1,32}", 1, 19);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":7}",
                        "\"type\" must be a token [a-z0-9_.-]{1,32}", 1, 19);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":"
                        "\"abcdefghijklmnopqrstuvwxyz0123456\"}",
                        "\"type\" must be a token [a-z0-9_.-]{1,32}", 1, 19);
    ngx_http_rtdash_ok(t, "{\"tool\":\"a\",\"type\":"
                       "\"abcdefghijklmnopqrstuvwxyz_.-012\"}", 1);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\"}",
                        "event needs \"type\", \"gauges\" or \"sums\"", 1, 0);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"gauges\":{}}",
                        "event needs \"type\", \"gauges\" or \"sums\"", 1, 0);

    /* user, id */

    n = snprintf(buf, sizeof(buf),
                 "{\"tool\":\"a\",\"type\":\"x\",\"user\":\"%064d\"}", 0);
    ngx_http_rtdash_test_ok(t, __LINE__, buf, n, 0, 1);
    n = snprintf(buf, sizeof(buf),
                 "{\"tool\":\"a\",\"type\":\"x\",\"user\":\"%065d\"}", 0);
    ngx_http_rtdash_test_err(t, __LINE__, buf, n, 0, NGX_HTTP_RTDASH_INVALID,
                             "\"user\" must be a string of at most 64 bytes",
                             1, 30);
    n = snprintf(buf, sizeof(buf),
                 "{\"tool\":\"a\",\"type\":\"x\",\"id\":\"%064d\"}", 0);
    ngx_http_rtdash_test_ok(t, __LINE__, buf, n, 0, 1);
    n = snprintf(buf, sizeof(buf),
                 "{\"tool\":\"a\",\"type\":\"x\",\"id\":\"%065d\"}", 0);
    ngx_http_rtdash_test_err(t, __LINE__, buf, n, 0, NGX_HTTP_RTDASH_INVALID,
                             "\"id\" must be a string of at most 64 bytes",
                             1, 28);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"user\":\"a\\nb\"}",
                        "\"user\" must not contain control characters",
                        1, 30);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"user\":3}",
                        "\"user\" must be a string of at most 64 bytes",
                        1, 30);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"id\":\"\\u001f\"}",
                        "\"id\" must not contain control characters", 1, 28);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"id\":17}",
                        "\"id\" must be a string of at most 64 bytes", 1, 28);

    /* value */

    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"value\":\"12\"}",
                        "\"value\" must be a finite number", 1, 31);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"value\":true}",
                        "\"value\" must be a finite number", 1, 31);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"value\":1e999}",
                        "number out of range", 1, 31);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"value\":-1e309}",
                        "number out of range", 1, 31);

    /* flag */

    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"flag\":2}",
                        "\"flag\" must be true, false, 0 or 1", 1, 30);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"flag\":0.5}",
                        "\"flag\" must be true, false, 0 or 1", 1, 30);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"flag\":\"true\"}",
                        "\"flag\" must be true, false, 0 or 1", 1, 30);

    /* ts */

    ngx_http_rtdash_ok(t, "{\"tool\":\"a\",\"type\":\"x\",\"ts\":1699978400}",
                       1);
    ngx_http_rtdash_ok(t, "{\"tool\":\"a\",\"type\":\"x\",\"ts\":1700000060}",
                       1);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\","
                        "\"ts\":1699978399.9}",
                        "\"ts\" outside the retention window", 1, 28);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\","
                        "\"ts\":1700000060.5}",
                        "\"ts\" too far in the future", 1, 28);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"ts\":0}",
                        "\"ts\" outside the retention window", 1, 28);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"ts\":\"now\"}",
                        "\"ts\" must be a number of epoch seconds", 1, 28);

    /* gauges */

    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"gauges\":[1]}",
                        "\"gauges\" must be an object of names to numbers",
                        1, 21);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"gauges\":{\"In_Use\":1}}",
                        "gauge name must be a token [a-z0-9_.-]{1,32}",
                        1, 22);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"gauges\":{\"\":1}}",
                        "gauge name must be a token [a-z0-9_.-]{1,32}",
                        1, 22);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"gauges\":{\"g\":\"1\"}}",
                        "gauge value must be a finite number", 1, 26);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"gauges\":{\"g\":null}}",
                        "gauge value must be a finite number", 1, 26);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"gauges\":{\"g\":1e400}}",
                        "number out of range", 1, 26);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"gauges\":{\"g\":1,}}",
                        "expected a string key", 1, 28);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"gauges\":{\"g\" 1}}",
                        "expected ':'", 1, 26);
}


static void
ngx_http_rtdash_test_strings(ngx_http_rtdash_test_t *t)
{
    ngx_http_rtdash_event_in_t  *ev;

    /* simple escapes decode into scratch */

    if (ngx_http_rtdash_ok(t, "{\"type\":\"x\",\"tool\":"
                           "\"a\\\"b\\\\c\\/d\"}", 1))
    {
        ev = &t->events[0];
        ngx_http_rtdash_test_count(t,
            ngx_http_rtdash_check(ngx_http_rtdash_streq(ev->tool,
                                              ev->tool_len, "a\"b\\c/d"))
            && ngx_http_rtdash_check(ngx_http_rtdash_test_in(t, ev->tool,
                                                      ev->tool_len) == 2));
    }

    if (ngx_http_rtdash_ok(t, "{\"type\":\"x\",\"tool\":\"t\","
                           "\"x\":\"\\b\\f\\n\\r\\t\"}", 1))
    {
        ngx_http_rtdash_test_count(t, 1);
    }

    /* \u escapes: 1, 2, 3 byte forms and a surrogate pair */

    if (ngx_http_rtdash_ok(t, "{\"type\":\"x\",\"tool\":"
                           "\"\\u0041\\u00e9\\u20AC\\ud83d\\uDE00z\"}", 1))
    {
        ev = &t->events[0];
        ngx_http_rtdash_test_count(t,
            ngx_http_rtdash_check(ngx_http_rtdash_streq(ev->tool,
                ev->tool_len, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z")));
    }

    /* U+10FFFF via \udbff\udfff, U+10000 via \ud800\udc00 */

    if (ngx_http_rtdash_ok(t, "{\"type\":\"x\",\"tool\":"
                           "\"\\udbff\\udfff\\ud800\\udc00\"}", 1))
    {
        ev = &t->events[0];
        ngx_http_rtdash_test_count(t,
            ngx_http_rtdash_check(ngx_http_rtdash_streq(ev->tool,
                ev->tool_len, "\xf4\x8f\xbf\xbf\xf0\x90\x80\x80")));
    }

    /* raw valid UTF-8, with an escape after it (copied correctly) */

    if (ngx_http_rtdash_ok(t, "{\"type\":\"x\",\"tool\":"
                           "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\\/!\","
                           "\"user\":\"\xc3\xa9\"}", 1))
    {
        ev = &t->events[0];
        ngx_http_rtdash_test_count(t,
            ngx_http_rtdash_check(ngx_http_rtdash_streq(ev->tool,
                ev->tool_len, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80/!"))
            && ngx_http_rtdash_check(ev->user_len == 2
                                  && ev->user[0] == (unsigned char) 0xc3));
    }

    ngx_http_rtdash_bad(t, "{\"type\":\"x\",\"tool\":"
                        "\"\xc3\xa9\xe2\x82\xac\\n!\"}",
                        "\"tool\" must not contain control characters",
                        1, 19);

    /* bad escapes */

    ngx_http_rtdash_bad(t, "{\"tool\":\"a\\x\"}", "invalid escape in string",
                        1, 10);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\\'\"}", "invalid escape in string",
                        1, 10);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\\u12\"}",
                        "invalid \\u escape in string", 1, 10);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\\u12G4\"}",
                        "invalid \\u escape in string", 1, 10);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\\U0041\"}",
                        "invalid escape in string", 1, 10);

    /* lone surrogates */

    ngx_http_rtdash_bad(t, "{\"tool\":\"\\ud800\"}",
                        "lone surrogate in string", 1, 9);
    ngx_http_rtdash_bad(t, "{\"tool\":\"\\ud800x\"}",
                        "lone surrogate in string", 1, 9);
    ngx_http_rtdash_bad(t, "{\"tool\":\"\\udbff\\u0041\"}",
                        "lone surrogate in string", 1, 9);
    ngx_http_rtdash_bad(t, "{\"tool\":\"\\ud800\\ud800\"}",
                        "lone surrogate in string", 1, 9);
    ngx_http_rtdash_bad(t, "{\"tool\":\"\\ud800\\n\"}",
                        "lone surrogate in string", 1, 9);
    ngx_http_rtdash_bad(t, "{\"tool\":\"\\udc00\"}",
                        "lone surrogate in string", 1, 9);
    ngx_http_rtdash_bad(t, "{\"tool\":\"x\\uDFFF\\ud800\"}",
                        "lone surrogate in string", 1, 10);
    ngx_http_rtdash_bad(t, "{\"z\":\"\\ud800\",\"tool\":\"a\",\"type\":\"x\"}",
                        "lone surrogate in string", 1, 6);

    /* invalid UTF-8 */

    ngx_http_rtdash_bad(t, "{\"tool\":\"\xc0\x80\"}",
                        "invalid UTF-8 in string", 1, 9);
    ngx_http_rtdash_bad(t, "{\"tool\":\"\xc1\xbf\"}",
                        "invalid UTF-8 in string", 1, 9);
    ngx_http_rtdash_bad(t, "{\"tool\":\"\xe0\x80\x80\"}",
                        "invalid UTF-8 in string", 1, 9);
    ngx_http_rtdash_bad(t, "{\"tool\":\"\xe0\x9f\xbf\"}",
                        "invalid UTF-8 in string", 1, 9);
    ngx_http_rtdash_bad(t, "{\"tool\":\"\xf0\x80\x80\x80\"}",
                        "invalid UTF-8 in string", 1, 9);
    ngx_http_rtdash_bad(t, "{\"tool\":\"\xf0\x8f\xbf\xbf\"}",
                        "invalid UTF-8 in string", 1, 9);
    ngx_http_rtdash_bad(t, "{\"tool\":\"ab\xed\xa0\x80\"}",
                        "invalid UTF-8 in string", 1, 11);
    ngx_http_rtdash_bad(t, "{\"tool\":\"\xed\xbf\xbf\"}",
                        "invalid UTF-8 in string", 1, 9);
    ngx_http_rtdash_bad(t, "{\"tool\":\"\xf4\x90\x80\x80\"}",
                        "invalid UTF-8 in string", 1, 9);
    ngx_http_rtdash_bad(t, "{\"tool\":\"\xf5\x80\x80\x80\"}",
                        "invalid UTF-8 in string", 1, 9);
    ngx_http_rtdash_bad(t, "{\"tool\":\"\xff\"}",
                        "invalid UTF-8 in string", 1, 9);
    ngx_http_rtdash_bad(t, "{\"tool\":\"\x80\"}",
                        "invalid UTF-8 in string", 1, 9);
    ngx_http_rtdash_bad(t, "{\"tool\":\"\xc3\x28\"}",
                        "invalid UTF-8 in string", 1, 9);
    ngx_http_rtdash_bad(t, "{\"tool\":\"\xe2\x82\"}",
                        "invalid UTF-8 in string", 1, 9);
    ngx_http_rtdash_bad(t, "{\"tool\":\"\xe2\x82\x28\"}",
                        "invalid UTF-8 in string", 1, 9);
    ngx_http_rtdash_bad(t, "{\"tool\":\"\xf0\x9f\x98\"}",
                        "invalid UTF-8 in string", 1, 9);
    ngx_http_rtdash_bad(t, "{\"tool\":\"\xf0\x9f\x98",
                        "invalid UTF-8 in string", 1, 9);
    ngx_http_rtdash_bad(t, "{\"tool\":\"\xe2",
                        "invalid UTF-8 in string", 1, 9);
    ngx_http_rtdash_ok(t, "{\"tool\":\"\xef\xbf\xbf\xf4\x8f\xbf\xbf"
                       "\xee\x80\x80\xed\x9f\xbf\",\"type\":\"x\"}", 1);

    /* raw control characters, NUL, tab, newline inside strings */

    ngx_http_rtdash_bad(t, "{\"tool\":\"a\x01\"}",
                        "control character in string", 1, 10);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\tb\"}",
                        "control character in string", 1, 10);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\nb\"}",
                        "control character in string", 1, 10);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\0b\"}",
                        "control character in string", 1, 10);
    ngx_http_rtdash_bad(t, "{\"x\":\"\x1f\"}",
                        "control character in string", 1, 6);

    /* unterminated */

    ngx_http_rtdash_bad(t, "{\"tool\":\"abc", "unterminated string", 1, 8);
    ngx_http_rtdash_bad(t, "{\"tool\":\"abc\\", "unterminated string", 1, 8);
    ngx_http_rtdash_bad(t, "{\"tool\":\"abc\\\"}", "unterminated string",
                        1, 8);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\\u00", "invalid \\u escape in string",
                        1, 10);
    ngx_http_rtdash_bad(t, "{\"tool\":\"\\ud83d\\ude0",
                        "lone surrogate in string", 1, 9);
    ngx_http_rtdash_bad(t, "{\"to", "unterminated string", 1, 1);
}


static void
ngx_http_rtdash_test_syntax(ngx_http_rtdash_test_t *t)
{
    /* empty, top-level junk */

    ngx_http_rtdash_test_err(t, __LINE__, "", 0, 0, NGX_HTTP_RTDASH_INVALID,
                             "empty body", 1, 0);
    ngx_http_rtdash_bad(t, " \n\t\r\n ", "empty body", 1, 0);
    ngx_http_rtdash_bad(t, "1", "expected a JSON object or array", 1, 0);
    ngx_http_rtdash_bad(t, "\"x\"", "expected a JSON object or array", 1, 0);
    ngx_http_rtdash_bad(t, "null", "expected a JSON object or array", 1, 0);
    ngx_http_rtdash_bad(t, "[[{\"tool\":\"a\",\"type\":\"x\"}]]",
                        "expected an event object", 1, 1);
    ngx_http_rtdash_bad(t, "[1]", "expected an event object", 1, 1);
    ngx_http_rtdash_bad(t, "[\"a\"]", "expected an event object", 1, 1);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\"} 5",
                        "expected a JSON object or array", 1, 24);
    ngx_http_rtdash_bad(t, "\xef\xbb\xbf{\"tool\":\"a\",\"type\":\"x\"}",
                        "byte order mark not allowed", 1, 0);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\"}\f",
                        "expected a JSON object or array", 1, 23);
    ngx_http_rtdash_bad(t, "\xc2\xa0{\"tool\":\"a\",\"type\":\"x\"}",
                        "expected a JSON object or array", 1, 0);

    /* NUL bytes outside strings */

    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\"}\0",
                        "expected a JSON object or array", 1, 23);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\0\"type\":\"x\"}",
                        "expected a string key", 1, 12);
    ngx_http_rtdash_bad(t, "\0", "expected a JSON object or array", 1, 0);

    /* trailing commas */

    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",}",
                        "expected a string key", 1, 23);
    ngx_http_rtdash_bad(t, "[{\"tool\":\"a\",\"type\":\"x\"},]",
                        "expected an event object", 1, 25);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"u\":[1,]}",
                        "expected a JSON value", 1, 30);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"u\":{\"a\":1,}}",
                        "expected a string key", 1, 34);
    ngx_http_rtdash_bad(t, "[,{\"tool\":\"a\",\"type\":\"x\"}]",
                        "expected an event object", 1, 1);
    ngx_http_rtdash_bad(t, "{,\"tool\":\"a\"}", "expected a string key", 1, 1);

    /* missing colon, comma, bad keys */

    ngx_http_rtdash_bad(t, "{\"tool\" \"a\"}", "expected ':'", 1, 8);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\" \"type\":\"x\"}",
                        "expected ',' or '}'", 1, 12);
    ngx_http_rtdash_bad(t, "[{\"tool\":\"a\",\"type\":\"x\"} {}]",
                        "expected ',' or ']'", 1, 25);
    ngx_http_rtdash_bad(t, "{tool:\"a\"}", "expected a string key", 1, 1);
    ngx_http_rtdash_bad(t, "{'tool':'a'}", "expected a string key", 1, 1);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"u\":[1 2]}",
                        "expected ',' or ']'", 1, 30);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"u\":{\"a\" 1}}",
                        "expected ':'", 1, 32);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"u\":{1:1}}",
                        "expected a string key", 1, 28);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"u\":{\"a\":1]}",
                        "expected ',' or '}'", 1, 33);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"u\":}",
                        "expected a JSON value", 1, 27);

    /* unterminated structures */

    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\"",
                        "unexpected end of body", 1, 22);
    ngx_http_rtdash_bad(t, "[{\"tool\":\"a\",\"type\":\"x\"}",
                        "unexpected end of body", 1, 24);
    ngx_http_rtdash_bad(t, "[", "unexpected end of body", 1, 1);
    ngx_http_rtdash_bad(t, "{", "unexpected end of body", 1, 1);
    ngx_http_rtdash_bad(t, "{\"tool\":", "unexpected end of body", 1, 8);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"u\":[[",
                        "unexpected end of body", 1, 29);

    /* literals */

    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"flag\":tru}",
                        "invalid literal", 1, 30);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"flag\":True}",
                        "\"flag\" must be true, false, 0 or 1", 1, 30);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"u\":nul",
                        "invalid literal", 1, 27);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"u\":nullx}",
                        "expected ',' or '}'", 1, 31);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"u\":NaN}",
                        "expected a JSON value", 1, 27);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"value\":NaN}",
                        "\"value\" must be a finite number", 1, 31);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\","
                        "\"value\":Infinity}",
                        "\"value\" must be a finite number", 1, 31);
}


static void
ngx_http_rtdash_test_numbers(ngx_http_rtdash_test_t *t)
{
    int           n, i;
    char          buf[256];
    double        want;
    const char   *nums[] = {
        "0", "-0", "1", "-1", "12.5", "0.1", "0.3", "1e2", "1E-5",
        "1.5e+3", "123456789012345", "1234567890123456789",
        "9007199254740993", "1e22", "1e23", "1.7976931348623157e308",
        "5e-324", "2.2250738585072014e-308", "1e-400", "0.000001",
        "1700000000.123", "-123.456e-7", "4.9406564584124654e-324",
        "0e999", "1234567.891234", "99999999999999999999999999", NULL
    };

    /* the fast path agrees bit for bit with strtod() */

    for (i = 0; nums[i] != NULL; i++) {
        n = snprintf(buf, sizeof(buf),
                     "{\"tool\":\"a\",\"type\":\"x\",\"value\":%s}", nums[i]);
        want = strtod(nums[i], NULL);

        if (ngx_http_rtdash_test_ok(t, __LINE__, buf, n, 0, 1)) {
            if (!ngx_http_rtdash_check(t->events[0].has_value
                    && memcmp(&t->events[0].value, &want,
                              sizeof(double)) == 0))
            {
                printf("  number %s: got %.17g want %.17g\n", nums[i],
                       t->events[0].value, want);
                ngx_http_rtdash_test_count(t, 0);

            } else {
                ngx_http_rtdash_test_count(t, 1);
            }
        }
    }

    /* grammar */

    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"value\":01}",
                        "invalid number", 1, 31);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"value\":-01}",
                        "invalid number", 1, 31);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"value\":00}",
                        "invalid number", 1, 31);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"value\":-}",
                        "invalid number", 1, 31);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"value\":1.}",
                        "invalid number", 1, 31);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"value\":.5}",
                        "\"value\" must be a finite number", 1, 31);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"value\":+1}",
                        "\"value\" must be a finite number", 1, 31);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"value\":1e}",
                        "invalid number", 1, 31);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"value\":1e+}",
                        "invalid number", 1, 31);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"value\":1.e5}",
                        "invalid number", 1, 31);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"value\":1.5.2}",
                        "invalid number", 1, 31);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"value\":0x10}",
                        "invalid number", 1, 31);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"value\":1e5e5}",
                        "invalid number", 1, 31);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"value\":- 1}",
                        "invalid number", 1, 31);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"u\":01}",
                        "invalid number", 1, 27);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"u\":[-]}",
                        "invalid number", 1, 28);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"value\":1",
                        "unexpected end of body", 1, 32);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"value\":-",
                        "invalid number", 1, 31);

    /* length: 64 characters fine, 65 too long (known fields only) */

    n = snprintf(buf, sizeof(buf),
                 "{\"tool\":\"a\",\"type\":\"x\",\"value\":1%063d}", 0);
    ngx_http_rtdash_test_ok(t, __LINE__, buf, n, 0, 1);
    n = snprintf(buf, sizeof(buf),
                 "{\"tool\":\"a\",\"type\":\"x\",\"value\":1%064d}", 0);
    ngx_http_rtdash_test_err(t, __LINE__, buf, n, 0, NGX_HTTP_RTDASH_INVALID,
                             "number too long", 1, 31);
    n = snprintf(buf, sizeof(buf),
                 "{\"tool\":\"a\",\"type\":\"x\",\"value\":0.%0100d1}", 0);
    ngx_http_rtdash_test_err(t, __LINE__, buf, n, 0, NGX_HTTP_RTDASH_INVALID,
                             "number too long", 1, 31);
    n = snprintf(buf, sizeof(buf),
                 "{\"tool\":\"a\",\"type\":\"x\",\"u\":1%0200de99999}", 0);
    ngx_http_rtdash_test_ok(t, __LINE__, buf, n, 0, 1);

    /* exponent overflow, underflow to zero is fine */

    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"value\":"
                        "1e99999999999999999999}",
                        "number out of range", 1, 31);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\",\"value\":"
                        "1.8e308}", "number out of range", 1, 31);
    ngx_http_rtdash_ok(t, "{\"tool\":\"a\",\"type\":\"x\",\"value\":"
                       "1e-99999999999999999999}", 1);
    ngx_http_rtdash_ok(t, "{\"tool\":\"a\",\"type\":\"x\",\"value\":"
                       "0e99999999999999999999}", 1);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"gauges\":{\"g\":-1e999}}",
                        "number out of range", 1, 26);
}


static void
ngx_http_rtdash_test_depth(ngx_http_rtdash_test_t *t)
{
    int     i, n;
    size_t  depth;
    char    buf[256];

    /*
     * the event object is depth 1; an unknown field holding k arrays
     * reaches depth 1 + k
     */

    for (depth = 30; depth <= 34; depth++) {
        n = sprintf(buf, "{\"tool\":\"a\",\"type\":\"x\",\"u\":");

        for (i = 0; i < (int) depth - 1; i++) {
            buf[n++] = '[';
        }

        for (i = 0; i < (int) depth - 1; i++) {
            buf[n++] = ']';
        }

        buf[n++] = '}';

        if (depth <= NGX_HTTP_RTDASH_DEPTH_MAX) {
            ngx_http_rtdash_test_ok(t, __LINE__, buf, n, 0, 1);

        } else {
            ngx_http_rtdash_test_err(t, __LINE__, buf, n, 0,
                                     NGX_HTTP_RTDASH_INVALID,
                                     "nesting too deep", 1,
                                     27 + NGX_HTTP_RTDASH_DEPTH_MAX - 1);
        }
    }

    /* inside a top-level array the event is depth 2; objects count too */

    n = sprintf(buf, "[{\"tool\":\"a\",\"type\":\"x\",\"u\":");
    for (i = 0; i < NGX_HTTP_RTDASH_DEPTH_MAX - 2; i++) {
        n += sprintf(buf + n, "{\"k\":");
    }
    n += sprintf(buf + n, "1");
    for (i = 0; i < NGX_HTTP_RTDASH_DEPTH_MAX - 2; i++) {
        buf[n++] = '}';
    }
    n += sprintf(buf + n, "}]");
    ngx_http_rtdash_test_ok(t, __LINE__, buf, n, 0, 1);

    n = sprintf(buf, "[{\"tool\":\"a\",\"type\":\"x\",\"u\":");
    for (i = 0; i < NGX_HTTP_RTDASH_DEPTH_MAX - 1; i++) {
        n += sprintf(buf + n, "{\"k\":");
    }
    n += sprintf(buf + n, "1");
    for (i = 0; i < NGX_HTTP_RTDASH_DEPTH_MAX - 1; i++) {
        buf[n++] = '}';
    }
    n += sprintf(buf + n, "}]");
    ngx_http_rtdash_test_err(t, __LINE__, buf, n, 0,
                             NGX_HTTP_RTDASH_INVALID, "nesting too deep",
                             1, NGX_HTTP_RTDASH_TEST_ANY);

    /* very deep input fails cleanly (no recursion) */

    n = sprintf(buf, "{\"tool\":\"a\",\"type\":\"x\",\"u\":");
    memset(buf + n, '[', sizeof(buf) - n);
    ngx_http_rtdash_test_err(t, __LINE__, buf, sizeof(buf), 0,
                             NGX_HTTP_RTDASH_INVALID, "nesting too deep",
                             1, NGX_HTTP_RTDASH_TEST_ANY);
    memset(buf, '[', sizeof(buf));
    ngx_http_rtdash_test_err(t, __LINE__, buf, sizeof(buf), 0,
                             NGX_HTTP_RTDASH_INVALID,
                             "expected an event object", 1, 1);
}


static void
ngx_http_rtdash_test_limits(ngx_http_rtdash_test_t *t)
{
    /* events */

    t->max_events = 2;

    ngx_http_rtdash_ok(t, "{\"tool\":\"a\",\"type\":\"x\"}\n"
                       "{\"tool\":\"a\",\"type\":\"x\"}\n", 2);
    ngx_http_rtdash_many(t, "{\"tool\":\"a\",\"type\":\"x\"}\n"
                         "{\"tool\":\"a\",\"type\":\"x\"}\n"
                         "{\"tool\":\"a\",\"type\":\"x\"}\n", 0,
                         "too many events in one request", 3, 48);
    ngx_http_rtdash_many(t, "[{\"tool\":\"a\",\"type\":\"x\"},"
                         "{\"tool\":\"a\",\"type\":\"x\"},{}]", 0,
                         "too many events in one request", 1, 49);

    t->max_events = 0;
    ngx_http_rtdash_many(t, "tool=a&type=x", 1,
                         "too many events in one request", 1, 0);
    t->max_events = NGX_HTTP_RTDASH_TEST_EVENTS;

    /* gauges per event */

    t->max_gauges_per_event = 2;
    ngx_http_rtdash_ok(t, "{\"tool\":\"a\",\"gauges\":{\"a\":1,\"b\":2}}", 1);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"gauges\":{\"a\":1,\"b\":2,"
                        "\"c\":3}}", "too many gauges in one event", 1, 34);
    ngx_http_rtdash_bad_form(t, "tool=a&gauge.a=1&gauge.b=2&gauge.c=3",
                             "too many gauges in one event", 1, 27);

    /* gauges per request */

    t->max_gauges_per_event = 16;
    t->max_gauges = 3;
    ngx_http_rtdash_ok(t, "{\"tool\":\"a\",\"gauges\":{\"a\":1,\"b\":2}}\n"
                       "{\"tool\":\"b\",\"gauges\":{\"a\":1}}", 2);
    ngx_http_rtdash_many(t, "{\"tool\":\"a\",\"gauges\":{\"a\":1,\"b\":2}}\n"
                         "{\"tool\":\"b\",\"gauges\":{\"a\":1,\"b\":2}}", 0,
                         "too many gauges in one request", 2, 64);

    /* a replaced "gauges" gives its slots back */

    ngx_http_rtdash_ok(t, "{\"tool\":\"a\",\"gauges\":{\"a\":1,\"b\":2},"
                       "\"gauges\":{\"c\":1,\"d\":2,\"e\":3}}", 1);

    t->max_gauges = NGX_HTTP_RTDASH_TEST_GAUGES;
}


static void
ngx_http_rtdash_test_form(ngx_http_rtdash_test_t *t)
{
    ngx_http_rtdash_event_in_t  *ev;

    if (ngx_http_rtdash_ok_form(t, "tool=lic-a&type=borrow&user=bob&"
                                "value=12.5&flag=on&ts=1699999999.5&"
                                "gauge.in_use=3&id=b1&gauge.total=1e1", 1))
    {
        ev = &t->events[0];
        ngx_http_rtdash_test_count(t,
            ngx_http_rtdash_check(ngx_http_rtdash_streq(ev->tool,
                                                    ev->tool_len, "lic-a"))
            && ngx_http_rtdash_check(ngx_http_rtdash_streq(ev->type,
                                                  ev->type_len, "borrow"))
            && ngx_http_rtdash_check(ngx_http_rtdash_streq(ev->user,
                                                     ev->user_len, "bob"))
            && ngx_http_rtdash_check(ngx_http_rtdash_streq(ev->id,
                                                        ev->id_len, "b1"))
            && ngx_http_rtdash_check(ev->has_value && ev->value == 12.5)
            && ngx_http_rtdash_check(ev->flag && ev->has_ts
                                     && ev->ts == 1699999999.5)
            && ngx_http_rtdash_check(ev->ngauges == 2
                                     && t->gauges[1].value == 10
                                     && ngx_http_rtdash_streq(
                                            t->gauges[0].name,
                                            t->gauges[0].name_len,
                                            "in_use"))
            && ngx_http_rtdash_check(ngx_http_rtdash_test_in(t, ev->tool,
                                                      ev->tool_len) == 2));
    }

    /* decoding: '+', %XX (both cases), UTF-8 */

    if (ngx_http_rtdash_ok_form(t, "tool=my+tool%2Fx%c3%A9&type=x", 1)) {
        ev = &t->events[0];
        ngx_http_rtdash_test_count(t,
            ngx_http_rtdash_check(ngx_http_rtdash_streq(ev->tool,
                                       ev->tool_len, "my tool/x\xc3\xa9")));
    }

    /* query-like: unknown keys, empty pairs, key without '=' */

    if (ngx_http_rtdash_ok_form(t, "&tool=a&&type=x&foo=bar&_=123&novalue&"
                                "gauges=7&", 1))
    {
        ngx_http_rtdash_test_count(t,
            ngx_http_rtdash_check(t->events[0].ngauges == 0));
    }

    /* encoded keys, duplicate keys last wins, trailing newline */

    if (ngx_http_rtdash_ok_form(t, "t%6Fol=a&type=x&type=y&flag=1&flag=off"
                                "\r\n", 1))
    {
        ev = &t->events[0];
        ngx_http_rtdash_test_count(t,
            ngx_http_rtdash_check(ev->type[0] == 'y' && !ev->flag));
    }

    /* empty user/id are absent; gauges alone make an event */

    if (ngx_http_rtdash_ok_form(t, "tool=a&user=&id=&gauge.q=-1", 1)) {
        ev = &t->events[0];
        ngx_http_rtdash_test_count(t,
            ngx_http_rtdash_check(ev->user == NULL && ev->id == NULL
                                  && ev->type == NULL && ev->ngauges == 1
                                  && t->gauges[0].value == -1));
    }

    if (ngx_http_rtdash_ok_form(t, "tool=a&sum.bytes_out=24&gauge.g=-1"
                                "&sum.n=0", 1))
    {
        ngx_http_rtdash_test_count(t,
            ngx_http_rtdash_check(t->events[0].ngauges == 3
                                  && t->events[0].nsums == 2
                                  && t->gauges[0].sum
                                  && t->gauges[0].value == 24
                                  && !t->gauges[1].sum
                                  && t->gauges[2].sum));
    }

    ngx_http_rtdash_bad_form(t, "tool=a&sum.s=-2",
                             "sum value must be a finite number, not negative", 1, 13);
    ngx_http_rtdash_bad_form(t, "tool=a&sum.=2",
                             "sum name must be a token [a-z0-9_.-]{1,32}",
                             1, 7);

    ngx_http_rtdash_ok_form(t, "tool=a&type=x&flag=true", 1);
    ngx_http_rtdash_ok_form(t, "tool=a&type=x&flag=false", 1);
    ngx_http_rtdash_ok_form(t, "tool=a&type=x&flag=0", 1);

    /* errors */

    ngx_http_rtdash_bad_form(t, "", "empty body", 1, 0);
    ngx_http_rtdash_bad_form(t, "\r\n", "empty body", 1, 0);
    ngx_http_rtdash_bad_form(t, "type=x", "\"tool\" is required", 1, 0);
    ngx_http_rtdash_bad_form(t, "tool=a", "event needs \"type\", \"gauges\" or \"sums\"",
                             1, 0);
    ngx_http_rtdash_bad_form(t, "tool=&type=x",
                             "\"tool\" must be a string of 1 to 128 bytes",
                             1, 5);
    ngx_http_rtdash_bad_form(t, "type=x&tool=a%00",
                             "\"tool\" must not contain control characters",
                             1, 12);
    ngx_http_rtdash_bad_form(t, "type=x&tool=a%ff",
                             "\"tool\" must be valid UTF-8", 1, 12);
    ngx_http_rtdash_bad_form(t, "type=x&tool=%C0%80",
                             "\"tool\" must be valid UTF-8", 1, 12);
    ngx_http_rtdash_bad_form(t, "type=x&tool=a&user=%ed%a0%80",
                             "\"user\" must be valid UTF-8", 1, 19);
    ngx_http_rtdash_bad_form(t, "type=x&tool=a&id=%0a",
                             "\"id\" must not contain control characters",
                             1, 17);
    ngx_http_rtdash_bad_form(t, "tool=a&type=", "\"type\" must be a token "
                             "[a-z0-9_.-]{1,32}", 1, 12);
    ngx_http_rtdash_bad_form(t, "tool=a&type=X", "\"type\" must be a token "
                             "[a-z0-9_.-]{1,32}", 1, 12);
    ngx_http_rtdash_bad_form(t, "tool=a&type=x&flag=",
                             "\"flag\" must be true, false, 0 or 1", 1, 19);
    ngx_http_rtdash_bad_form(t, "tool=a&type=x&flag=yes",
                             "\"flag\" must be true, false, 0 or 1", 1, 19);
    ngx_http_rtdash_bad_form(t, "tool=a&type=x&value=",
                             "\"value\" must be a finite number", 1, 20);
    ngx_http_rtdash_bad_form(t, "tool=a&type=x&value=abc",
                             "\"value\" must be a finite number", 1, 20);
    ngx_http_rtdash_bad_form(t, "tool=a&type=x&value=1.",
                             "\"value\" must be a finite number", 1, 20);
    ngx_http_rtdash_bad_form(t, "tool=a&type=x&value=%2B1",
                             "\"value\" must be a finite number", 1, 20);
    ngx_http_rtdash_bad_form(t, "tool=a&type=x&value=1+",
                             "\"value\" must be a finite number", 1, 20);
    ngx_http_rtdash_bad_form(t, "tool=a&type=x&value=1e999",
                             "number out of range", 1, 20);
    ngx_http_rtdash_bad_form(t, "tool=a&type=x&ts=1",
                             "\"ts\" outside the retention window", 1, 17);
    ngx_http_rtdash_bad_form(t, "tool=a&type=x&ts=1700000061",
                             "\"ts\" too far in the future", 1, 17);
    ngx_http_rtdash_bad_form(t, "tool=a&type=x&ts=now",
                             "\"ts\" must be a number of epoch seconds",
                             1, 17);
    ngx_http_rtdash_bad_form(t, "tool=a&gauge.=1",
                             "gauge name must be a token [a-z0-9_.-]{1,32}",
                             1, 7);
    ngx_http_rtdash_bad_form(t, "tool=a&gauge.X=1",
                             "gauge name must be a token [a-z0-9_.-]{1,32}",
                             1, 7);
    ngx_http_rtdash_bad_form(t, "tool=a&gauge.x=",
                             "gauge value must be a finite number", 1, 15);
    ngx_http_rtdash_bad_form(t, "tool=a&gauge.x=1x",
                             "gauge value must be a finite number", 1, 15);

    /* bad percent escapes, in keys and values, known or not */

    ngx_http_rtdash_bad_form(t, "tool=a%&type=x", "invalid percent escape",
                             1, 6);
    ngx_http_rtdash_bad_form(t, "tool=a%4&type=x", "invalid percent escape",
                             1, 6);
    ngx_http_rtdash_bad_form(t, "tool=a%zz&type=x", "invalid percent escape",
                             1, 6);
    ngx_http_rtdash_bad_form(t, "tool=a&type=x&foo=%4g",
                             "invalid percent escape", 1, 18);
    ngx_http_rtdash_bad_form(t, "tool=a&type=x&f%o=1",
                             "invalid percent escape", 1, 15);
    ngx_http_rtdash_bad_form(t, "tool=a&type=x&x=%", "invalid percent escape",
                             1, 16);
}


static void
ngx_http_rtdash_test_positions(ngx_http_rtdash_test_t *t)
{
    /* NDJSON: the error's line and byte offset */

    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\"}\n"
                        "{\"tool\":\"a\",\"type\":\"x\"}\n"
                        "{\"tool\":\"a\",\"type\":\"X\"}\n",
                        "\"type\" must be a token [a-z0-9_.-]{1,32}",
                        3, 67);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\n\"type\":\"B\"}",
                        "\"type\" must be a token [a-z0-9_.-]{1,32}", 2, 20);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\"}\r\n"
                        "{\"tool\":\"a\",\"type\":\"x\"}\r\n"
                        "{\"type\":\"x\"}\r\n",
                        "\"tool\" is required", 3, 50);
    ngx_http_rtdash_bad(t, "[\n {\"tool\":\"a\",\"type\":\"x\"},\n"
                        " {\"tool\":\"a\",\"type\":\"x\",\"value\":1.}\n]",
                        "invalid number", 3, 60);
    ngx_http_rtdash_bad(t, "\n\n\n{", "unexpected end of body", 4, 4);
    ngx_http_rtdash_bad(t, "{\"tool\":\"a\",\"type\":\"x\"}\n"
                        "{\"tool\":\"a\nb\",\"type\":\"x\"}",
                        "control character in string", 2, 34);
}


/* every prefix of a valid document fails cleanly, or is itself complete */

static void
ngx_http_rtdash_test_truncation(ngx_http_rtdash_test_t *t)
{
    int          rc, ok, complete;
    size_t       i, n, lines, len, ends[3];
    const char  *doc;

    doc = "{\"tool\":\"l\\u00e9c\\ud83d\\ude00 \xc3\xa9\xe2\x82\xac\","
          "\"type\":\"borrow\",\"user\":\"a\\\"b\",\"value\":-12.5e-3,"
          "\"flag\":true,\"ts\":1699999999.25,\"id\":null,"
          "\"x\":[{\"y\":[1,2.5,true,false,null,\"s\"]},{}],"
          "\"gauges\":{\"in_use\":3,\"total\":1E2}}";

    len = strlen(doc);
    ok = 1;

    ngx_http_rtdash_test_ok(t, __LINE__, doc, len, 0, 1);

    for (i = 0; i < len; i++) {
        rc = ngx_http_rtdash_test_run(t, doc, i, 0);

        if (rc != NGX_HTTP_RTDASH_INVALID || t->p.error == NULL
            || t->p.offset > i)
        {
            printf("FAIL truncation at %zu: rc %d\n", i, rc);
            ok = 0;
        }
    }

    ngx_http_rtdash_test_count(t, ok);

    /*
     * NDJSON: a prefix succeeds exactly when it holds k > 0 complete
     * lines' values followed by whitespace only, and then has k events
     */

    doc = "{\"tool\":\"a\",\"type\":\"x\",\"value\":1}\n"
          "[{\"tool\":\"b\",\"gauges\":{\"g\":2}}]\r\n"
          "{\"tool\":\"c\\u00e9\",\"type\":\"x\"} \n";

    len = strlen(doc);
    ok = 1;

    /* where each line's value ends */

    lines = 0;
    for (n = 0; n < len && lines < 3; n++) {
        if ((doc[n] == '}' || doc[n] == ']')
            && (doc[n + 1] == '\n' || doc[n + 1] == '\r'
                || doc[n + 1] == ' '))
        {
            ends[lines++] = n + 1;
        }
    }

    ok = ngx_http_rtdash_check(lines == 3);

    for (i = 0; i <= len; i++) {
        rc = ngx_http_rtdash_test_run(t, doc, i, 0);

        for (lines = 0; lines < 3 && ends[lines] <= i; lines++) {
            /* void */
        }

        complete = (lines > 0);

        for (n = lines ? ends[lines - 1] : 0; complete && n < i; n++) {
            if (doc[n] != ' ' && doc[n] != '\n' && doc[n] != '\r') {
                complete = 0;
            }
        }

        if (complete) {
            if (rc != NGX_HTTP_RTDASH_OK || t->p.nevents != lines) {
                printf("FAIL ndjson prefix %zu: rc %d nevents %zu want %zu"
                       "\n", i, rc, t->p.nevents, lines);
                ok = 0;
            }

        } else if (rc != NGX_HTTP_RTDASH_INVALID || t->p.offset > i) {
            printf("FAIL ndjson prefix %zu: rc %d\n", i, rc);
            ok = 0;
        }
    }

    ngx_http_rtdash_test_count(t, ok);

    /* form: every prefix is either valid or fails cleanly */

    doc = "tool=a%20b&type=x&value=1.5&gauge.g=2&user=%C3%A9";
    len = strlen(doc);
    ok = 1;

    for (i = 0; i <= len; i++) {
        rc = ngx_http_rtdash_test_run(t, doc, i, 1);

        if (rc == NGX_HTTP_RTDASH_OK ? t->p.nevents != 1
            : (rc != NGX_HTTP_RTDASH_INVALID || t->p.offset > i))
        {
            printf("FAIL form prefix %zu: rc %d\n", i, rc);
            ok = 0;
        }
    }

    ngx_http_rtdash_test_count(t, ok);
}


static void
ngx_http_rtdash_test_helpers(ngx_http_rtdash_test_t *t)
{
    const unsigned char  *s;

    s = (const unsigned char *) "abc_.-09";

    ngx_http_rtdash_test_count(t,
        ngx_http_rtdash_check(ngx_http_rtdash_valid_token(s, 8))
        && ngx_http_rtdash_check(!ngx_http_rtdash_valid_token(s, 0))
        && ngx_http_rtdash_check(!ngx_http_rtdash_valid_token(
               (const unsigned char *) "aB", 2))
        && ngx_http_rtdash_check(!ngx_http_rtdash_valid_token(
               (const unsigned char *) "a b", 3))
        && ngx_http_rtdash_check(ngx_http_rtdash_valid_token(
               (const unsigned char *)
               "abcdefghijklmnopqrstuvwxyz012345", 32))
        && ngx_http_rtdash_check(!ngx_http_rtdash_valid_token(
               (const unsigned char *)
               "abcdefghijklmnopqrstuvwxyz0123456", 33)));

    ngx_http_rtdash_test_count(t,
        ngx_http_rtdash_check(ngx_http_rtdash_valid_text(
               (const unsigned char *) "h\xc3\xa9llo", 6, 6))
        && ngx_http_rtdash_check(!ngx_http_rtdash_valid_text(
               (const unsigned char *) "h\xc3\xa9llo", 6, 5))
        && ngx_http_rtdash_check(!ngx_http_rtdash_valid_text(s, 0, 5))
        && ngx_http_rtdash_check(!ngx_http_rtdash_valid_text(
               (const unsigned char *) "a\x7f", 2, 5))
        && ngx_http_rtdash_check(!ngx_http_rtdash_valid_text(
               (const unsigned char *) "a\n", 2, 5))
        && ngx_http_rtdash_check(!ngx_http_rtdash_valid_text(
               (const unsigned char *) "a\xc3", 2, 5))
        && ngx_http_rtdash_check(!ngx_http_rtdash_valid_text(
               (const unsigned char *) "\xed\xa0\x80", 3, 5))
        && ngx_http_rtdash_check(ngx_http_rtdash_valid_text(
               (const unsigned char *) "\xf4\x8f\xbf\xbf", 4, 5)));
}


int
main(void)
{
    size_t                   failed;
    ngx_http_rtdash_test_t  *t;

    t = calloc(1, sizeof(ngx_http_rtdash_test_t));
    if (t == NULL) {
        return 2;
    }

    t->max_events = NGX_HTTP_RTDASH_TEST_EVENTS;
    t->max_gauges = NGX_HTTP_RTDASH_TEST_GAUGES;
    t->max_gauges_per_event = 16;

    ngx_http_rtdash_test_valid(t);
    ngx_http_rtdash_test_fields(t);
    ngx_http_rtdash_test_strings(t);
    ngx_http_rtdash_test_syntax(t);
    ngx_http_rtdash_test_numbers(t);
    ngx_http_rtdash_test_depth(t);
    ngx_http_rtdash_test_limits(t);
    ngx_http_rtdash_test_form(t);
    ngx_http_rtdash_test_positions(t);
    ngx_http_rtdash_test_truncation(t);
    ngx_http_rtdash_test_helpers(t);

    free(t->body);
    free(t->scratch);

    failed = t->failed;

    printf("%zu passed, %zu failed\n", t->passed, t->failed);

    free(t);

    return failed ? 1 : 0;
}
