
/*
 * rtdash: the ingest parser (interface in ngx_http_rtdash_parse.h).
 *
 * Plain C99 plus the C library: no nginx, no allocation, no mutable
 * globals, no recursion (nested values are skipped with a small bounded
 * stack), and no read past body + len (the body is not NUL-terminated).
 *
 * Where the strings of an event live:
 *
 *   - JSON: a string without backslash escapes points straight into the
 *     body; a string with escapes is decoded into p->scratch and points
 *     there.  So the body must stay alive while the events are used.
 *   - form: every key and value is decoded into p->scratch.
 *
 * The decoded form of a string is never longer than its source, and
 * every source byte is decoded at most once, so scratch never needs more
 * than len bytes.
 *
 * null is accepted as "absent" for every optional field ("type", "user",
 * "id", "value", "flag", "ts", "gauges", "sums"); an empty "user" or "id"
 * string is absent too.
 *
 * Numbers follow the RFC 8259 grammar.  Short ones (at most 15 digits and
 * a decimal exponent within +-22) are converted exactly with one
 * correctly rounded multiplication or division (Clinger's fast path, the
 * same result strtod() gives); others go through strtod() on a
 * NUL-terminated local copy.  Numbers of the known fields must be at most
 * 64 characters long and finite; numbers of unknown fields are only
 * checked against the grammar.
 *
 * strtod() assumes the "C" locale (nginx never calls setlocale()).
 *
 * Form bodies and query strings: trailing CR/LF are ignored, empty pairs
 * are skipped, a key without '=' has an empty value, a bad %XX escape is
 * an error in any pair (known or not), "flag" also takes on/off.
 *
 * Gauges and sums go to one array (a sum has g->sum set), an event's own
 * contiguous.  Limits: max_events and max_gauges (gauges and sums) give
 * NGX_HTTP_RTDASH_PARSE_TOO_MANY; max_gauges_per_event (0 means none at
 * all) is a validation error.
 *
 * p->line is computed only when an error happens, by counting the line
 * feeds before p->offset, so the fast path does not track lines.
 */


#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_rtdash_parse.h"


/* a gauge's or a sum's value that is not one (JSON and form bodies) */
#define NGX_HTTP_RTDASH_BAD_GAUGE  "gauge value must be a finite number"
#define NGX_HTTP_RTDASH_BAD_SUM                                              \
    "sum value must be a finite number, not negative"


#define NGX_HTTP_RTDASH_NUMBER_MAX     64

#define NGX_HTTP_RTDASH_NUM_OK         0
#define NGX_HTTP_RTDASH_NUM_INVALID    1
#define NGX_HTTP_RTDASH_NUM_LONG       2
#define NGX_HTTP_RTDASH_NUM_RANGE      3

#define NGX_HTTP_RTDASH_F_UNKNOWN      0
#define NGX_HTTP_RTDASH_F_TOOL         1
#define NGX_HTTP_RTDASH_F_TYPE         2
#define NGX_HTTP_RTDASH_F_USER         3
#define NGX_HTTP_RTDASH_F_ID           4
#define NGX_HTTP_RTDASH_F_VALUE        5
#define NGX_HTTP_RTDASH_F_FLAG         6
#define NGX_HTTP_RTDASH_F_TS           7
#define NGX_HTTP_RTDASH_F_GAUGES       8
#define NGX_HTTP_RTDASH_F_NOTICE       9
#define NGX_HTTP_RTDASH_F_LEVEL        10
#define NGX_HTTP_RTDASH_F_SUMS         11

#define ngx_http_rtdash_is_ws(ch)                                             \
    ((ch) == ' ' || (ch) == '\n' || (ch) == '\r' || (ch) == '\t')

#define ngx_http_rtdash_is_digit(ch)  ((ch) >= '0' && (ch) <= '9')

#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
#define NGX_HTTP_RTDASH_FAST_NUMBERS   1
#else
#define NGX_HTTP_RTDASH_FAST_NUMBERS   0
#endif


typedef struct {
    ngx_http_rtdash_parse_t  *p;
    const unsigned char      *pos;
    const unsigned char      *end;
    unsigned char            *sp;        /* next free byte of scratch */
} ngx_http_rtdash_ctx_t;


static int ngx_http_rtdash_error(ngx_http_rtdash_ctx_t *c,
    const unsigned char *at, const char *msg);
static void ngx_http_rtdash_skip_ws(ngx_http_rtdash_ctx_t *c);
static int ngx_http_rtdash_parse_json(ngx_http_rtdash_ctx_t *c);
static int ngx_http_rtdash_parse_event(ngx_http_rtdash_ctx_t *c,
    size_t depth);
static int ngx_http_rtdash_parse_field(ngx_http_rtdash_ctx_t *c,
    ngx_http_rtdash_event_in_t *ev, int field, size_t depth);
static int ngx_http_rtdash_parse_gauges(ngx_http_rtdash_ctx_t *c,
    ngx_http_rtdash_event_in_t *ev, size_t depth, unsigned sum);
static int ngx_http_rtdash_skip_value(ngx_http_rtdash_ctx_t *c,
    size_t depth);
static int ngx_http_rtdash_string(ngx_http_rtdash_ctx_t *c,
    const unsigned char **out, size_t *out_len);
static int ngx_http_rtdash_unicode_escape(ngx_http_rtdash_ctx_t *c,
    const unsigned char **pp, unsigned char **dp);
static int ngx_http_rtdash_literal(ngx_http_rtdash_ctx_t *c,
    const char *lit, size_t len);
static int ngx_http_rtdash_json_number(ngx_http_rtdash_ctx_t *c,
    double *v);
static int ngx_http_rtdash_number(const unsigned char *s,
    const unsigned char *end, const unsigned char **next, double *v);
static int ngx_http_rtdash_hex4(const unsigned char *s,
    const unsigned char *end);
static size_t ngx_http_rtdash_utf8_len(const unsigned char *s,
    const unsigned char *end);
static int ngx_http_rtdash_text_check(const unsigned char *s, size_t len);
static int ngx_http_rtdash_field(const unsigned char *k, size_t len);
static void ngx_http_rtdash_clear_field(ngx_http_rtdash_ctx_t *c,
    ngx_http_rtdash_event_in_t *ev, int field);
static int ngx_http_rtdash_set_string(ngx_http_rtdash_ctx_t *c,
    ngx_http_rtdash_event_in_t *ev, int field, const unsigned char *s,
    size_t len, const unsigned char *at);
static int ngx_http_rtdash_set_notice(ngx_http_rtdash_ctx_t *c,
    ngx_http_rtdash_event_in_t *ev, const unsigned char *s, size_t len,
    const unsigned char *at);
static int ngx_http_rtdash_finish_notice(ngx_http_rtdash_ctx_t *c,
    ngx_http_rtdash_event_in_t *ev, const unsigned char *at);
static int ngx_http_rtdash_set_number(ngx_http_rtdash_ctx_t *c,
    ngx_http_rtdash_event_in_t *ev, int field, double v,
    const unsigned char *at);
static int ngx_http_rtdash_add_gauge(ngx_http_rtdash_ctx_t *c,
    ngx_http_rtdash_event_in_t *ev, const unsigned char *name,
    size_t name_len, double v, unsigned sum, const unsigned char *at);
static void ngx_http_rtdash_clear_gauges(ngx_http_rtdash_ctx_t *c,
    ngx_http_rtdash_event_in_t *ev, unsigned sum);
static ngx_http_rtdash_event_in_t *ngx_http_rtdash_new_event(
    ngx_http_rtdash_ctx_t *c, const unsigned char *at);
static int ngx_http_rtdash_finish_event(ngx_http_rtdash_ctx_t *c,
    ngx_http_rtdash_event_in_t *ev, const unsigned char *at);
static int ngx_http_rtdash_parse_form(ngx_http_rtdash_ctx_t *c);
static int ngx_http_rtdash_form_decode(ngx_http_rtdash_ctx_t *c,
    const unsigned char *s, const unsigned char *e,
    const unsigned char **out, size_t *out_len);
static int ngx_http_rtdash_form_pair(ngx_http_rtdash_ctx_t *c,
    ngx_http_rtdash_event_in_t *ev, const unsigned char *s,
    const unsigned char *e);


/*
 * bytes that stop the fast scan of a JSON string: controls, '"', '\\'
 * and every non-ASCII byte (validated as UTF-8 on the slow path)
 */

static const unsigned char  ngx_http_rtdash_string_stop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,    /* 0x00 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,    /* 0x10 */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,    /* 0x20 '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,    /* 0x30 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,    /* 0x40 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,    /* 0x50 '\\' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,    /* 0x60 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,    /* 0x70 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,    /* 0x80 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
};


static const char  *const ngx_http_rtdash_number_errors[] = {
    NULL,
    "invalid number",
    "number too long",
    "number out of range"
};


/* exactly representable powers of ten for the fast number path */

static const double  ngx_http_rtdash_pow10[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};


int
ngx_http_rtdash_parse(ngx_http_rtdash_parse_t *p)
{
    int                     rc;
    const unsigned char    *q, *at;
    ngx_http_rtdash_ctx_t   ctx;

    p->nevents = 0;
    p->ngauges = 0;
    p->error = NULL;
    p->line = 0;
    p->offset = 0;

    if (p->len == 0) {
        p->error = "empty body";
        p->line = 1;
        return NGX_HTTP_RTDASH_PARSE_INVALID;
    }

    ctx.p = p;
    ctx.pos = p->body;
    ctx.end = p->body + p->len;
    ctx.sp = p->scratch;

    if (p->form) {
        rc = ngx_http_rtdash_parse_form(&ctx);

    } else {
        rc = ngx_http_rtdash_parse_json(&ctx);
    }

    if (rc == NGX_HTTP_RTDASH_PARSE_OK) {
        return rc;
    }

    /* the line of the offending byte: 1 + line feeds before it */

    p->line = 1;
    q = p->body;
    at = p->body + p->offset;

    while (q < at) {
        q = memchr(q, '\n', at - q);
        if (q == NULL) {
            break;
        }

        p->line++;
        q++;
    }

    return rc;
}


int
ngx_http_rtdash_valid_token(const unsigned char *s, size_t len)
{
    size_t         i;
    unsigned char  ch;

    if (len == 0 || len > NGX_HTTP_RTDASH_TOKEN_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        ch = s[i];

        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')
            || ch == '_' || ch == '.' || ch == '-')
        {
            continue;
        }

        return 0;
    }

    return 1;
}


int
ngx_http_rtdash_valid_text(const unsigned char *s, size_t len, size_t max)
{
    if (len == 0 || len > max) {
        return 0;
    }

    return ngx_http_rtdash_text_check(s, len) == 0;
}


static int
ngx_http_rtdash_error(ngx_http_rtdash_ctx_t *c, const unsigned char *at,
    const char *msg)
{
    c->p->error = msg;
    c->p->offset = at - c->p->body;

    return NGX_HTTP_RTDASH_PARSE_INVALID;
}


static void
ngx_http_rtdash_skip_ws(ngx_http_rtdash_ctx_t *c)
{
    const unsigned char  *pos, *end;

    pos = c->pos;
    end = c->end;

    while (pos < end && ngx_http_rtdash_is_ws(*pos)) {
        pos++;
    }

    c->pos = pos;
}


static int
ngx_http_rtdash_parse_json(ngx_http_rtdash_ctx_t *c)
{
    int       rc, any;
    unsigned  ch;

    if (c->end - c->pos >= 3
        && c->pos[0] == 0xef && c->pos[1] == 0xbb && c->pos[2] == 0xbf)
    {
        return ngx_http_rtdash_error(c, c->pos, "byte order mark not allowed");
    }

    any = 0;

    for ( ;; ) {
        ngx_http_rtdash_skip_ws(c);

        if (c->pos == c->end) {
            break;
        }

        any = 1;
        ch = *c->pos;

        if (ch == '{') {
            rc = ngx_http_rtdash_parse_event(c, 1);
            if (rc != NGX_HTTP_RTDASH_PARSE_OK) {
                return rc;
            }

            continue;
        }

        if (ch != '[') {
            return ngx_http_rtdash_error(c, c->pos,
                                   "expected a JSON object or array");
        }

        c->pos++;
        ngx_http_rtdash_skip_ws(c);

        if (c->pos < c->end && *c->pos == ']') {
            c->pos++;
            continue;
        }

        for ( ;; ) {
            if (c->pos == c->end) {
                return ngx_http_rtdash_error(c, c->pos,
                                             "unexpected end of body");
            }

            if (*c->pos != '{') {
                return ngx_http_rtdash_error(c, c->pos,
                                             "expected an event object");
            }

            rc = ngx_http_rtdash_parse_event(c, 2);
            if (rc != NGX_HTTP_RTDASH_PARSE_OK) {
                return rc;
            }

            ngx_http_rtdash_skip_ws(c);

            if (c->pos == c->end) {
                return ngx_http_rtdash_error(c, c->pos,
                                             "unexpected end of body");
            }

            if (*c->pos == ',') {
                c->pos++;
                ngx_http_rtdash_skip_ws(c);
                continue;
            }

            if (*c->pos == ']') {
                c->pos++;
                break;
            }

            return ngx_http_rtdash_error(c, c->pos, "expected ',' or ']'");
        }
    }

    if (!any) {
        return ngx_http_rtdash_error(c, c->p->body, "empty body");
    }

    return NGX_HTTP_RTDASH_PARSE_OK;
}


static int
ngx_http_rtdash_parse_event(ngx_http_rtdash_ctx_t *c, size_t depth)
{
    int                          rc, field;
    size_t                       klen;
    unsigned char               *mark;
    const unsigned char         *obj, *k;
    ngx_http_rtdash_event_in_t  *ev;

    obj = c->pos;

    if (depth > NGX_HTTP_RTDASH_DEPTH_MAX) {
        return ngx_http_rtdash_error(c, obj, "nesting too deep");
    }

    ev = ngx_http_rtdash_new_event(c, obj);
    if (ev == NULL) {
        return NGX_HTTP_RTDASH_PARSE_TOO_MANY;
    }

    c->pos++;
    ngx_http_rtdash_skip_ws(c);

    if (c->pos < c->end && *c->pos == '}') {
        c->pos++;
        return ngx_http_rtdash_finish_event(c, ev, obj);
    }

    for ( ;; ) {
        if (c->pos == c->end) {
            return ngx_http_rtdash_error(c, c->pos, "unexpected end of body");
        }

        if (*c->pos != '"') {
            return ngx_http_rtdash_error(c, c->pos, "expected a string key");
        }

        mark = c->sp;

        rc = ngx_http_rtdash_string(c, &k, &klen);
        if (rc != NGX_HTTP_RTDASH_PARSE_OK) {
            return rc;
        }

        field = ngx_http_rtdash_field(k, klen);
        c->sp = mark;

        ngx_http_rtdash_skip_ws(c);

        if (c->pos == c->end) {
            return ngx_http_rtdash_error(c, c->pos, "unexpected end of body");
        }

        if (*c->pos != ':') {
            return ngx_http_rtdash_error(c, c->pos, "expected ':'");
        }

        c->pos++;
        ngx_http_rtdash_skip_ws(c);

        if (c->pos == c->end) {
            return ngx_http_rtdash_error(c, c->pos, "unexpected end of body");
        }

        if (field == NGX_HTTP_RTDASH_F_UNKNOWN) {
            rc = ngx_http_rtdash_skip_value(c, depth);

        } else {
            rc = ngx_http_rtdash_parse_field(c, ev, field, depth);
        }

        if (rc != NGX_HTTP_RTDASH_PARSE_OK) {
            return rc;
        }

        ngx_http_rtdash_skip_ws(c);

        if (c->pos == c->end) {
            return ngx_http_rtdash_error(c, c->pos, "unexpected end of body");
        }

        if (*c->pos == ',') {
            c->pos++;
            ngx_http_rtdash_skip_ws(c);
            continue;
        }

        if (*c->pos == '}') {
            c->pos++;
            break;
        }

        return ngx_http_rtdash_error(c, c->pos, "expected ',' or '}'");
    }

    return ngx_http_rtdash_finish_event(c, ev, obj);
}


static int
ngx_http_rtdash_parse_field(ngx_http_rtdash_ctx_t *c,
    ngx_http_rtdash_event_in_t *ev, int field, size_t depth)
{
    int                   rc;
    double                v;
    size_t                len;
    unsigned              ch;
    const char           *msg;
    const unsigned char  *at, *s;

    at = c->pos;
    ch = *at;

    if (ch == 'n' && field != NGX_HTTP_RTDASH_F_TOOL) {
        rc = ngx_http_rtdash_literal(c, "null", 4);
        if (rc != NGX_HTTP_RTDASH_PARSE_OK) {
            return rc;
        }

        ngx_http_rtdash_clear_field(c, ev, field);
        return NGX_HTTP_RTDASH_PARSE_OK;
    }

    switch (field) {

    case NGX_HTTP_RTDASH_F_TOOL:
    case NGX_HTTP_RTDASH_F_TYPE:
    case NGX_HTTP_RTDASH_F_USER:
    case NGX_HTTP_RTDASH_F_ID:
    case NGX_HTTP_RTDASH_F_NOTICE:
    case NGX_HTTP_RTDASH_F_LEVEL:

        if (ch == '"') {
            rc = ngx_http_rtdash_string(c, &s, &len);
            if (rc != NGX_HTTP_RTDASH_PARSE_OK) {
                return rc;
            }

            return ngx_http_rtdash_set_string(c, ev, field, s, len, at);
        }

        /* not a string: let set_string() report the field's error */

        return ngx_http_rtdash_set_string(c, ev, field, NULL, (size_t) -1,
                                          at);

    case NGX_HTTP_RTDASH_F_FLAG:

        if (ch == 't') {
            rc = ngx_http_rtdash_literal(c, "true", 4);
            ev->flag = 1;
            return rc;
        }

        if (ch == 'f') {
            rc = ngx_http_rtdash_literal(c, "false", 5);
            ev->flag = 0;
            return rc;
        }

        /* fall through */

    case NGX_HTTP_RTDASH_F_VALUE:
    case NGX_HTTP_RTDASH_F_TS:

        if (ch == '-' || ngx_http_rtdash_is_digit(ch)) {
            rc = ngx_http_rtdash_json_number(c, &v);
            if (rc != NGX_HTTP_RTDASH_PARSE_OK) {
                return rc;
            }

            return ngx_http_rtdash_set_number(c, ev, field, v, at);
        }

        if (field == NGX_HTTP_RTDASH_F_FLAG) {
            msg = "\"flag\" must be true, false, 0 or 1";

        } else if (field == NGX_HTTP_RTDASH_F_TS) {
            msg = "\"ts\" must be a number of epoch seconds";

        } else {
            msg = "\"value\" must be a finite number";
        }

        return ngx_http_rtdash_error(c, at, msg);

    default: /* NGX_HTTP_RTDASH_F_GAUGES, NGX_HTTP_RTDASH_F_SUMS */

        if (ch == '{') {
            return ngx_http_rtdash_parse_gauges(c, ev, depth + 1,
                                            field == NGX_HTTP_RTDASH_F_SUMS);
        }

        return ngx_http_rtdash_error(c, at,
                   field == NGX_HTTP_RTDASH_F_SUMS
                   ? "\"sums\" must be an object of names to numbers"
                   : "\"gauges\" must be an object of names to numbers");
    }
}


static int
ngx_http_rtdash_parse_gauges(ngx_http_rtdash_ctx_t *c,
    ngx_http_rtdash_event_in_t *ev, size_t depth, unsigned sum)
{
    int                   rc;
    double                v;
    size_t                nlen;
    const unsigned char  *k, *name, *at;

    if (depth > NGX_HTTP_RTDASH_DEPTH_MAX) {
        return ngx_http_rtdash_error(c, c->pos, "nesting too deep");
    }

    /* a repeated "gauges" ("sums") key replaces the earlier one */

    ngx_http_rtdash_clear_gauges(c, ev, sum);

    c->pos++;
    ngx_http_rtdash_skip_ws(c);

    if (c->pos < c->end && *c->pos == '}') {
        c->pos++;
        return NGX_HTTP_RTDASH_PARSE_OK;
    }

    for ( ;; ) {
        if (c->pos == c->end) {
            return ngx_http_rtdash_error(c, c->pos, "unexpected end of body");
        }

        if (*c->pos != '"') {
            return ngx_http_rtdash_error(c, c->pos, "expected a string key");
        }

        k = c->pos;

        /* the name stays in scratch (when escaped): no rollback */

        rc = ngx_http_rtdash_string(c, &name, &nlen);
        if (rc != NGX_HTTP_RTDASH_PARSE_OK) {
            return rc;
        }

        if (!ngx_http_rtdash_valid_token(name, nlen)) {
            return ngx_http_rtdash_error(c, k, sum
                       ? "sum name must be a token [a-z0-9_.-]{1,32}"
                       : "gauge name must be a token [a-z0-9_.-]{1,32}");
        }

        ngx_http_rtdash_skip_ws(c);

        if (c->pos == c->end) {
            return ngx_http_rtdash_error(c, c->pos, "unexpected end of body");
        }

        if (*c->pos != ':') {
            return ngx_http_rtdash_error(c, c->pos, "expected ':'");
        }

        c->pos++;
        ngx_http_rtdash_skip_ws(c);

        if (c->pos == c->end) {
            return ngx_http_rtdash_error(c, c->pos, "unexpected end of body");
        }

        at = c->pos;

        if (*c->pos != '-' && !ngx_http_rtdash_is_digit(*c->pos)) {
            return ngx_http_rtdash_error(c, c->pos, sum
                                         ? NGX_HTTP_RTDASH_BAD_SUM
                                         : NGX_HTTP_RTDASH_BAD_GAUGE);
        }

        rc = ngx_http_rtdash_json_number(c, &v);
        if (rc != NGX_HTTP_RTDASH_PARSE_OK) {
            return rc;
        }

        if (sum && v < 0) {
            return ngx_http_rtdash_error(c, at, NGX_HTTP_RTDASH_BAD_SUM);
        }

        rc = ngx_http_rtdash_add_gauge(c, ev, name, nlen, v, sum, k);
        if (rc != NGX_HTTP_RTDASH_PARSE_OK) {
            return rc;
        }

        ngx_http_rtdash_skip_ws(c);

        if (c->pos == c->end) {
            return ngx_http_rtdash_error(c, c->pos, "unexpected end of body");
        }

        if (*c->pos == ',') {
            c->pos++;
            ngx_http_rtdash_skip_ws(c);
            continue;
        }

        if (*c->pos == '}') {
            c->pos++;
            return NGX_HTTP_RTDASH_PARSE_OK;
        }

        return ngx_http_rtdash_error(c, c->pos, "expected ',' or '}'");
    }
}


/*
 * validates and skips one JSON value of an unknown field; depth is the
 * nesting of the object holding it, containers are tracked in a bounded
 * stack instead of recursion
 */

static int
ngx_http_rtdash_skip_value(ngx_http_rtdash_ctx_t *c, size_t depth)
{
    int                   rc;
    size_t                top, n;
    unsigned char        *mark;
    const unsigned char  *s;
    unsigned char         stack[NGX_HTTP_RTDASH_DEPTH_MAX];

    top = 0;
    mark = c->sp;

value:

    ngx_http_rtdash_skip_ws(c);

    if (c->pos == c->end) {
        return ngx_http_rtdash_error(c, c->pos, "unexpected end of body");
    }

    switch (*c->pos) {

    case '{':
    case '[':
        if (depth + top + 1 > NGX_HTTP_RTDASH_DEPTH_MAX) {
            return ngx_http_rtdash_error(c, c->pos, "nesting too deep");
        }

        stack[top++] = *c->pos;
        c->pos++;
        ngx_http_rtdash_skip_ws(c);

        if (c->pos < c->end && *c->pos == stack[top - 1] + 2) {
            /* "{}" or "[]": '}' is '{' + 2, ']' is '[' + 2 */
            c->pos++;
            top--;
            goto next;
        }

        if (stack[top - 1] == '{') {
            goto key;
        }

        goto value;

    case '"':
        rc = ngx_http_rtdash_string(c, &s, &n);
        c->sp = mark;
        break;

    case 't':
        rc = ngx_http_rtdash_literal(c, "true", 4);
        break;

    case 'f':
        rc = ngx_http_rtdash_literal(c, "false", 5);
        break;

    case 'n':
        rc = ngx_http_rtdash_literal(c, "null", 4);
        break;

    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        rc = ngx_http_rtdash_json_number(c, NULL);
        break;

    default:
        return ngx_http_rtdash_error(c, c->pos, "expected a JSON value");
    }

    if (rc != NGX_HTTP_RTDASH_PARSE_OK) {
        return rc;
    }

next:

    if (top == 0) {
        return NGX_HTTP_RTDASH_PARSE_OK;
    }

    ngx_http_rtdash_skip_ws(c);

    if (c->pos == c->end) {
        return ngx_http_rtdash_error(c, c->pos, "unexpected end of body");
    }

    if (*c->pos == ',') {
        c->pos++;

        if (stack[top - 1] == '{') {
            ngx_http_rtdash_skip_ws(c);
            goto key;
        }

        goto value;
    }

    if (*c->pos == stack[top - 1] + 2) {
        c->pos++;
        top--;
        goto next;
    }

    return ngx_http_rtdash_error(c, c->pos, stack[top - 1] == '{'
                                            ? "expected ',' or '}'"
                                            : "expected ',' or ']'");

key:

    if (c->pos == c->end) {
        return ngx_http_rtdash_error(c, c->pos, "unexpected end of body");
    }

    if (*c->pos != '"') {
        return ngx_http_rtdash_error(c, c->pos, "expected a string key");
    }

    rc = ngx_http_rtdash_string(c, &s, &n);
    c->sp = mark;

    if (rc != NGX_HTTP_RTDASH_PARSE_OK) {
        return rc;
    }

    ngx_http_rtdash_skip_ws(c);

    if (c->pos == c->end) {
        return ngx_http_rtdash_error(c, c->pos, "unexpected end of body");
    }

    if (*c->pos != ':') {
        return ngx_http_rtdash_error(c, c->pos, "expected ':'");
    }

    c->pos++;

    goto value;
}


/*
 * c->pos is at the opening quote; on success *out points either into the
 * body (no escapes) or into scratch (decoded, c->sp advanced past it)
 */

static int
ngx_http_rtdash_string(ngx_http_rtdash_ctx_t *c, const unsigned char **out,
    size_t *out_len)
{
    size_t                n;
    unsigned              ch;
    unsigned char        *d;
    const unsigned char  *s, *p, *end, *run, *esc;

    s = c->pos;
    end = c->end;
    p = s + 1;

    /* fast path: plain printable ASCII up to the closing quote */

    while (p < end && ngx_http_rtdash_string_stop[*p] == 0) {
        p++;
    }

    if (p < end && *p == '"') {
        *out = s + 1;
        *out_len = p - (s + 1);
        c->pos = p + 1;
        return NGX_HTTP_RTDASH_PARSE_OK;
    }

    d = NULL;
    run = s + 1;

    for ( ;; ) {
        while (p < end && ngx_http_rtdash_string_stop[*p] == 0) {
            p++;
        }

        if (p == end) {
            return ngx_http_rtdash_error(c, s, "unterminated string");
        }

        ch = *p;

        if (ch == '"') {
            break;
        }

        if (ch >= 0x80) {
            n = ngx_http_rtdash_utf8_len(p, end);
            if (n == 0) {
                return ngx_http_rtdash_error(c, p, "invalid UTF-8 in string");
            }

            p += n;
            continue;
        }

        if (ch != '\\') {
            return ngx_http_rtdash_error(c, p,
                                         "control character in string");
        }

        /* an escape: from now on the string is decoded into scratch */

        if (d == NULL) {
            d = c->sp;
        }

        memcpy(d, run, p - run);
        d += p - run;

        esc = p;

        if (end - p < 2) {
            return ngx_http_rtdash_error(c, s, "unterminated string");
        }

        switch (p[1]) {

        case '"':
            *d++ = '"';
            break;

        case '\\':
            *d++ = '\\';
            break;

        case '/':
            *d++ = '/';
            break;

        case 'b':
            *d++ = '\b';
            break;

        case 'f':
            *d++ = '\f';
            break;

        case 'n':
            *d++ = '\n';
            break;

        case 'r':
            *d++ = '\r';
            break;

        case 't':
            *d++ = '\t';
            break;

        case 'u':
            if (ngx_http_rtdash_unicode_escape(c, &p, &d)
                != NGX_HTTP_RTDASH_PARSE_OK)
            {
                return NGX_HTTP_RTDASH_PARSE_INVALID;
            }

            break;

        default:
            return ngx_http_rtdash_error(c, esc, "invalid escape in string");
        }

        p += 2;
        run = p;
    }

    /* p is at the closing quote */

    if (d == NULL) {
        *out = s + 1;
        *out_len = p - (s + 1);

    } else {
        memcpy(d, run, p - run);
        d += p - run;

        *out = c->sp;
        *out_len = d - c->sp;
        c->sp = d;
    }

    c->pos = p + 1;

    return NGX_HTTP_RTDASH_PARSE_OK;
}


/*
 * A \uXXXX escape at *pp, or a surrogate pair of two, written to *dp as
 * UTF-8; *pp is left 2 bytes short of its end, as for the other escapes.
 */

static int
ngx_http_rtdash_unicode_escape(ngx_http_rtdash_ctx_t *c,
    const unsigned char **pp, unsigned char **dp)
{
    int                   cp, lo;
    unsigned char        *d;
    const unsigned char  *p, *end;

    p = *pp;
    end = c->end;

    cp = ngx_http_rtdash_hex4(p + 2, end);
    if (cp < 0) {
        return ngx_http_rtdash_error(c, *pp, "invalid \\u escape in string");
    }

    if (cp >= 0xdc00 && cp <= 0xdfff) {
        return ngx_http_rtdash_error(c, *pp, "lone surrogate in string");
    }

    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (end - p < 12 || p[6] != '\\' || p[7] != 'u') {
            return ngx_http_rtdash_error(c, *pp, "lone surrogate in string");
        }

        lo = ngx_http_rtdash_hex4(p + 8, end);
        if (lo < 0xdc00 || lo > 0xdfff) {
            return ngx_http_rtdash_error(c, *pp, "lone surrogate in string");
        }

        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        p += 6;
    }

    d = *dp;

    if (cp < 0x80) {
        *d++ = (unsigned char) cp;

    } else if (cp < 0x800) {
        *d++ = (unsigned char) (0xc0 | (cp >> 6));
        *d++ = (unsigned char) (0x80 | (cp & 0x3f));

    } else if (cp < 0x10000) {
        *d++ = (unsigned char) (0xe0 | (cp >> 12));
        *d++ = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
        *d++ = (unsigned char) (0x80 | (cp & 0x3f));

    } else {
        *d++ = (unsigned char) (0xf0 | (cp >> 18));
        *d++ = (unsigned char) (0x80 | ((cp >> 12) & 0x3f));
        *d++ = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
        *d++ = (unsigned char) (0x80 | (cp & 0x3f));
    }

    *dp = d;
    *pp = p + 4;

    return NGX_HTTP_RTDASH_PARSE_OK;
}


static int
ngx_http_rtdash_literal(ngx_http_rtdash_ctx_t *c, const char *lit,
    size_t len)
{
    if ((size_t) (c->end - c->pos) < len || memcmp(c->pos, lit, len) != 0) {
        return ngx_http_rtdash_error(c, c->pos, "invalid literal");
    }

    c->pos += len;

    return NGX_HTTP_RTDASH_PARSE_OK;
}


/* v == NULL: grammar only (unknown fields) */

static int
ngx_http_rtdash_json_number(ngx_http_rtdash_ctx_t *c, double *v)
{
    int                   rc;
    unsigned              ch;
    const unsigned char  *next;

    rc = ngx_http_rtdash_number(c->pos, c->end, &next, v);

    if (rc == NGX_HTTP_RTDASH_NUM_OK && next < c->end) {
        ch = *next;

        /* "01", "1.2.3", "1e5e5", "12abc": the number did not end here */

        if (ngx_http_rtdash_is_digit(ch) || ch == '.' || ch == '+'
            || ch == '-' || (ch >= 'a' && ch <= 'z')
            || (ch >= 'A' && ch <= 'Z'))
        {
            rc = NGX_HTTP_RTDASH_NUM_INVALID;
        }
    }

    if (rc != NGX_HTTP_RTDASH_NUM_OK) {
        return ngx_http_rtdash_error(c, c->pos,
                                     ngx_http_rtdash_number_errors[rc]);
    }

    c->pos = next;

    return NGX_HTTP_RTDASH_PARSE_OK;
}


/*
 * scans the longest RFC 8259 number at s; with v != NULL also converts it
 * (length and range checked); returns NGX_HTTP_RTDASH_NUM_*
 */

static int
ngx_http_rtdash_number(const unsigned char *s, const unsigned char *end,
    const unsigned char **next, double *v)
{
    int                   neg, eneg;
    long                  e10, ev;
    double                d;
    size_t                len, nd, nfrac;
    uint64_t              m;
    const unsigned char  *p;
    char                  buf[NGX_HTTP_RTDASH_NUMBER_MAX + 1];

    p = s;
    neg = 0;
    eneg = 0;
    m = 0;
    nd = 0;
    nfrac = 0;
    ev = 0;

    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }

    if (p == end || !ngx_http_rtdash_is_digit(*p)) {
        return NGX_HTTP_RTDASH_NUM_INVALID;
    }

    if (*p == '0') {
        p++;

    } else {
        while (p < end && ngx_http_rtdash_is_digit(*p)) {
            if (nd < 19) {
                m = m * 10 + (*p - '0');
            }

            nd++;
            p++;
        }
    }

    if (p < end && *p == '.') {
        p++;

        if (p == end || !ngx_http_rtdash_is_digit(*p)) {
            return NGX_HTTP_RTDASH_NUM_INVALID;
        }

        while (p < end && ngx_http_rtdash_is_digit(*p)) {
            if (nd < 19) {
                m = m * 10 + (*p - '0');
            }

            nd++;
            nfrac++;
            p++;
        }
    }

    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;

        if (p < end && (*p == '+' || *p == '-')) {
            eneg = (*p == '-');
            p++;
        }

        if (p == end || !ngx_http_rtdash_is_digit(*p)) {
            return NGX_HTTP_RTDASH_NUM_INVALID;
        }

        while (p < end && ngx_http_rtdash_is_digit(*p)) {
            if (ev < 100000) {
                ev = ev * 10 + (*p - '0');
            }

            p++;
        }
    }

    *next = p;

    if (v == NULL) {
        return NGX_HTTP_RTDASH_NUM_OK;
    }

    len = p - s;

    if (len > NGX_HTTP_RTDASH_NUMBER_MAX) {
        return NGX_HTTP_RTDASH_NUM_LONG;
    }

    e10 = (eneg ? -ev : ev) - (long) nfrac;

    if (NGX_HTTP_RTDASH_FAST_NUMBERS && nd <= 15 && e10 >= -22 && e10 <= 22)
    {
        d = (double) m;

        if (e10 < 0) {
            d /= ngx_http_rtdash_pow10[-e10];

        } else {
            d *= ngx_http_rtdash_pow10[e10];
        }

        *v = neg ? -d : d;
        return NGX_HTTP_RTDASH_NUM_OK;
    }

    memcpy(buf, s, len);
    buf[len] = '\0';

    d = strtod(buf, NULL);

    if (d > DBL_MAX || d < -DBL_MAX || d != d) {
        return NGX_HTTP_RTDASH_NUM_RANGE;
    }

    *v = d;

    return NGX_HTTP_RTDASH_NUM_OK;
}


static int
ngx_http_rtdash_hex4(const unsigned char *s, const unsigned char *end)
{
    int       i, v;
    unsigned  ch;

    if (end - s < 4) {
        return -1;
    }

    v = 0;

    for (i = 0; i < 4; i++) {
        ch = s[i];

        if (ch >= '0' && ch <= '9') {
            v = v * 16 + (ch - '0');

        } else if (ch >= 'a' && ch <= 'f') {
            v = v * 16 + (ch - 'a' + 10);

        } else if (ch >= 'A' && ch <= 'F') {
            v = v * 16 + (ch - 'A' + 10);

        } else {
            return -1;
        }
    }

    return v;
}


/*
 * the length of the well-formed UTF-8 sequence at s (RFC 3629: no
 * overlongs, no surrogates, nothing above U+10FFFF), or 0
 */

static size_t
ngx_http_rtdash_utf8_len(const unsigned char *s, const unsigned char *end)
{
    unsigned  c0, lo, hi;

    c0 = s[0];

    if (c0 < 0x80) {
        return 1;
    }

    if (c0 < 0xc2 || c0 > 0xf4) {
        return 0;
    }

    if (c0 < 0xe0) {
        if (end - s < 2 || (s[1] & 0xc0) != 0x80) {
            return 0;
        }

        return 2;
    }

    lo = 0x80;
    hi = 0xbf;

    if (c0 < 0xf0) {
        if (c0 == 0xe0) {
            lo = 0xa0;

        } else if (c0 == 0xed) {
            hi = 0x9f;
        }

        if (end - s < 3 || s[1] < lo || s[1] > hi
            || (s[2] & 0xc0) != 0x80)
        {
            return 0;
        }

        return 3;
    }

    if (c0 == 0xf0) {
        lo = 0x90;

    } else if (c0 == 0xf4) {
        hi = 0x8f;
    }

    if (end - s < 4 || s[1] < lo || s[1] > hi
        || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
    {
        return 0;
    }

    return 4;
}


/* 0: fine; 1: invalid UTF-8; 2: a control character */

static int
ngx_http_rtdash_text_check(const unsigned char *s, size_t len)
{
    size_t                n;
    unsigned              ch;
    const unsigned char  *end;

    end = s + len;

    while (s < end) {
        ch = *s;

        if (ch < 0x80) {
            if (ch < 0x20 || ch == 0x7f) {
                return 2;
            }

            s++;
            continue;
        }

        n = ngx_http_rtdash_utf8_len(s, end);
        if (n == 0) {
            return 1;
        }

        /* C1 controls, U+0080..U+009F, are 0xc2 0x80..0x9f */

        if (ch == 0xc2 && s[1] < 0xa0) {
            return 2;
        }

        s += n;
    }

    return 0;
}


static int
ngx_http_rtdash_field(const unsigned char *k, size_t len)
{
    switch (len) {

    case 2:
        if (k[0] == 'i' && k[1] == 'd') {
            return NGX_HTTP_RTDASH_F_ID;
        }

        if (k[0] == 't' && k[1] == 's') {
            return NGX_HTTP_RTDASH_F_TS;
        }

        break;

    case 4:
        if (memcmp(k, "tool", 4) == 0) {
            return NGX_HTTP_RTDASH_F_TOOL;
        }

        if (memcmp(k, "type", 4) == 0) {
            return NGX_HTTP_RTDASH_F_TYPE;
        }

        if (memcmp(k, "user", 4) == 0) {
            return NGX_HTTP_RTDASH_F_USER;
        }

        if (memcmp(k, "sums", 4) == 0) {
            return NGX_HTTP_RTDASH_F_SUMS;
        }

        if (memcmp(k, "flag", 4) == 0) {
            return NGX_HTTP_RTDASH_F_FLAG;
        }

        break;

    case 5:
        if (memcmp(k, "value", 5) == 0) {
            return NGX_HTTP_RTDASH_F_VALUE;
        }

        if (memcmp(k, "level", 5) == 0) {
            return NGX_HTTP_RTDASH_F_LEVEL;
        }

        break;

    case 6:
        if (memcmp(k, "gauges", 6) == 0) {
            return NGX_HTTP_RTDASH_F_GAUGES;
        }

        if (memcmp(k, "notice", 6) == 0) {
            return NGX_HTTP_RTDASH_F_NOTICE;
        }

        break;
    }

    return NGX_HTTP_RTDASH_F_UNKNOWN;
}


static void
ngx_http_rtdash_clear_field(ngx_http_rtdash_ctx_t *c,
    ngx_http_rtdash_event_in_t *ev, int field)
{
    switch (field) {

    case NGX_HTTP_RTDASH_F_TYPE:
        ev->type = NULL;
        ev->type_len = 0;
        break;

    case NGX_HTTP_RTDASH_F_USER:
        ev->user = NULL;
        ev->user_len = 0;
        break;

    case NGX_HTTP_RTDASH_F_ID:
        ev->id = NULL;
        ev->id_len = 0;
        break;

    case NGX_HTTP_RTDASH_F_VALUE:
        ev->has_value = 0;
        ev->value = 0;
        break;

    case NGX_HTTP_RTDASH_F_FLAG:
        ev->flag = 0;
        break;

    case NGX_HTTP_RTDASH_F_TS:
        ev->has_ts = 0;
        break;

    case NGX_HTTP_RTDASH_F_NOTICE:
        ev->notice = NULL;
        ev->notice_len = 0;
        break;

    case NGX_HTTP_RTDASH_F_LEVEL:
        ev->has_level = 0;
        ev->level = 0;
        break;

    case NGX_HTTP_RTDASH_F_GAUGES:
        ngx_http_rtdash_clear_gauges(c, ev, 0);
        break;

    case NGX_HTTP_RTDASH_F_SUMS:
        ngx_http_rtdash_clear_gauges(c, ev, 1);
        break;
    }
}


/*
 * An event's gauges (or sums) go: they are among the last ones appended,
 * the others of the event close up
 */

static void
ngx_http_rtdash_clear_gauges(ngx_http_rtdash_ctx_t *c,
    ngx_http_rtdash_event_in_t *ev, unsigned sum)
{
    size_t                       i, n;
    ngx_http_rtdash_gauge_in_t  *g;

    g = c->p->gauges;
    n = ev->gauge_first;

    for (i = ev->gauge_first; i < ev->gauge_first + ev->ngauges; i++) {
        if (g[i].sum != sum) {
            g[n++] = g[i];
        }
    }

    if (sum) {
        ev->nsums = 0;
    }

    ev->ngauges = n - ev->gauge_first;
    c->p->ngauges = n;
}


/* the text of a notice: 1 to 256 bytes of UTF-8 without controls */

static int
ngx_http_rtdash_set_notice(ngx_http_rtdash_ctx_t *c,
    ngx_http_rtdash_event_in_t *ev, const unsigned char *s, size_t len,
    const unsigned char *at)
{
    int  rc;

    if (len == 0 || len > NGX_HTTP_RTDASH_NOTICE_MAX) {
        return ngx_http_rtdash_error(c, at,
                   "\"notice\" must be a string of 1 to 256 bytes");
    }

    rc = ngx_http_rtdash_text_check(s, len);
    if (rc == 1) {
        return ngx_http_rtdash_error(c, at, "\"notice\" must be valid UTF-8");
    }

    if (rc == 2) {
        return ngx_http_rtdash_error(c, at,
                   "\"notice\" must not contain control characters");
    }

    ev->notice = s;
    ev->notice_len = len;

    return NGX_HTTP_RTDASH_PARSE_OK;
}


/* len == (size_t) -1: the value was not a string at all */

static int
ngx_http_rtdash_set_string(ngx_http_rtdash_ctx_t *c,
    ngx_http_rtdash_event_in_t *ev, int field, const unsigned char *s,
    size_t len, const unsigned char *at)
{
    int  rc;

    switch (field) {

    case NGX_HTTP_RTDASH_F_TOOL:
        if (len == 0 || len > NGX_HTTP_RTDASH_TOOL_MAX) {
            return ngx_http_rtdash_error(c, at,
                       "\"tool\" must be a string of 1 to 128 bytes");
        }

        rc = ngx_http_rtdash_text_check(s, len);
        if (rc == 1) {
            return ngx_http_rtdash_error(c, at,
                                         "\"tool\" must be valid UTF-8");
        }

        if (rc == 2) {
            return ngx_http_rtdash_error(c, at,
                       "\"tool\" must not contain control characters");
        }

        ev->tool = s;
        ev->tool_len = len;
        return NGX_HTTP_RTDASH_PARSE_OK;

    case NGX_HTTP_RTDASH_F_TYPE:
        if (len == (size_t) -1 || !ngx_http_rtdash_valid_token(s, len)) {
            return ngx_http_rtdash_error(c, at,
                       "\"type\" must be a token [a-z0-9_.-]{1,32}");
        }

        ev->type = s;
        ev->type_len = len;
        return NGX_HTTP_RTDASH_PARSE_OK;

    case NGX_HTTP_RTDASH_F_USER:
        if (len > NGX_HTTP_RTDASH_USER_MAX) {
            return ngx_http_rtdash_error(c, at,
                       "\"user\" must be a string of at most 64 bytes");
        }

        rc = ngx_http_rtdash_text_check(s, len);
        if (rc == 1) {
            return ngx_http_rtdash_error(c, at,
                                         "\"user\" must be valid UTF-8");
        }

        if (rc == 2) {
            return ngx_http_rtdash_error(c, at,
                       "\"user\" must not contain control characters");
        }

        ev->user = len ? s : NULL;
        ev->user_len = len;
        return NGX_HTTP_RTDASH_PARSE_OK;

    case NGX_HTTP_RTDASH_F_NOTICE:
        return ngx_http_rtdash_set_notice(c, ev, s, len, at);

    case NGX_HTTP_RTDASH_F_LEVEL:
        if (len == 4 && memcmp(s, "info", 4) == 0) {
            ev->level = 0;

        } else if (len == 4 && memcmp(s, "warn", 4) == 0) {
            ev->level = 1;

        } else if (len == 4 && memcmp(s, "crit", 4) == 0) {
            ev->level = 2;

        } else {
            return ngx_http_rtdash_error(c, at,
                       "\"level\" must be info, warn or crit");
        }

        ev->has_level = 1;
        return NGX_HTTP_RTDASH_PARSE_OK;

    default: /* NGX_HTTP_RTDASH_F_ID */
        if (len > NGX_HTTP_RTDASH_ID_MAX) {
            return ngx_http_rtdash_error(c, at,
                       "\"id\" must be a string of at most 64 bytes");
        }

        rc = ngx_http_rtdash_text_check(s, len);
        if (rc == 1) {
            return ngx_http_rtdash_error(c, at,
                                         "\"id\" must be valid UTF-8");
        }

        if (rc == 2) {
            return ngx_http_rtdash_error(c, at,
                       "\"id\" must not contain control characters");
        }

        ev->id = len ? s : NULL;
        ev->id_len = len;
        return NGX_HTTP_RTDASH_PARSE_OK;
    }
}


static int
ngx_http_rtdash_set_number(ngx_http_rtdash_ctx_t *c,
    ngx_http_rtdash_event_in_t *ev, int field, double v,
    const unsigned char *at)
{
    ngx_http_rtdash_parse_t  *p;

    p = c->p;

    switch (field) {

    case NGX_HTTP_RTDASH_F_VALUE:
        ev->value = v;
        ev->has_value = 1;
        break;

    case NGX_HTTP_RTDASH_F_FLAG:
        if (v != 0 && v != 1) {
            return ngx_http_rtdash_error(c, at,
                       "\"flag\" must be true, false, 0 or 1");
        }

        ev->flag = (v == 1);
        break;

    default: /* NGX_HTTP_RTDASH_F_TS */
        if (v < p->now - p->retention) {
            return ngx_http_rtdash_error(c, at,
                       "\"ts\" outside the retention window");
        }

        if (v > p->now + NGX_HTTP_RTDASH_TS_AHEAD) {
            return ngx_http_rtdash_error(c, at,
                                         "\"ts\" too far in the future");
        }

        ev->ts = v;
        ev->has_ts = 1;
        break;
    }

    return NGX_HTTP_RTDASH_PARSE_OK;
}


/* at: the gauge's key (JSON) or pair (form) */

static int
ngx_http_rtdash_add_gauge(ngx_http_rtdash_ctx_t *c,
    ngx_http_rtdash_event_in_t *ev, const unsigned char *name,
    size_t name_len, double v, unsigned sum, const unsigned char *at)
{
    ngx_http_rtdash_parse_t     *p;
    ngx_http_rtdash_gauge_in_t  *g;

    p = c->p;

    if (ev->ngauges >= p->max_gauges_per_event) {
        return ngx_http_rtdash_error(c, at, ev->nsums || sum
                                     ? "too many gauges and sums in one event"
                                     : "too many gauges in one event");
    }

    if (p->ngauges >= p->max_gauges) {
        (void) ngx_http_rtdash_error(c, at, "too many gauges in one request");
        return NGX_HTTP_RTDASH_PARSE_TOO_MANY;
    }

    g = &p->gauges[p->ngauges++];
    g->name = name;
    g->name_len = name_len;
    g->value = v;
    g->sum = sum;

    ev->ngauges++;
    ev->nsums += sum;

    return NGX_HTTP_RTDASH_PARSE_OK;
}


/* NULL: too many events, the error is set */

static ngx_http_rtdash_event_in_t *
ngx_http_rtdash_new_event(ngx_http_rtdash_ctx_t *c, const unsigned char *at)
{
    ngx_http_rtdash_parse_t     *p;
    ngx_http_rtdash_event_in_t  *ev;

    p = c->p;

    if (p->nevents >= p->max_events) {
        (void) ngx_http_rtdash_error(c, at, "too many events in one request");
        return NULL;
    }

    ev = &p->events[p->nevents];

    memset(ev, 0, sizeof(ngx_http_rtdash_event_in_t));
    ev->tool = NULL;
    ev->type = NULL;
    ev->user = NULL;
    ev->id = NULL;
    ev->value = 0;
    ev->ts = 0;
    ev->gauge_first = p->ngauges;

    return ev;
}


static int
ngx_http_rtdash_finish_event(ngx_http_rtdash_ctx_t *c,
    ngx_http_rtdash_event_in_t *ev, const unsigned char *at)
{
    if (ev->notice) {
        return ngx_http_rtdash_finish_notice(c, ev, at);
    }

    if (ev->has_level) {
        return ngx_http_rtdash_error(c, at, "\"level\" needs \"notice\"");
    }

    if (ev->tool == NULL) {
        return ngx_http_rtdash_error(c, at, "\"tool\" is required");
    }

    if (ev->type == NULL && ev->ngauges == 0) {
        return ngx_http_rtdash_error(c, at,
                           "event needs \"type\", \"gauges\" or \"sums\"");
    }

    if (!ev->has_ts) {
        ev->ts = c->p->now;
    }

    c->p->nevents++;

    return NGX_HTTP_RTDASH_PARSE_OK;
}


/*
 * A notice carries its text, a level (info by default), and a tool and a
 * time if it likes; the fields of events it does not take
 */

static int
ngx_http_rtdash_finish_notice(ngx_http_rtdash_ctx_t *c,
    ngx_http_rtdash_event_in_t *ev, const unsigned char *at)
{
    if (ev->type || ev->user || ev->id || ev->has_value || ev->flag
        || ev->ngauges)
    {
        return ngx_http_rtdash_error(c, at,
                   "a notice takes only \"notice\", \"level\", \"tool\" "
                   "and \"ts\"");
    }

    if (!ev->has_ts) {
        ev->ts = c->p->now;
    }

    ev->is_notice = 1;
    c->p->nevents++;
    c->p->nnotices++;

    return NGX_HTTP_RTDASH_PARSE_OK;
}


/*
 * application/x-www-form-urlencoded (or a query string): one event;
 * trailing CR and LF of the body are ignored, empty pairs are skipped
 */

static int
ngx_http_rtdash_parse_form(ngx_http_rtdash_ctx_t *c)
{
    int                          rc;
    const unsigned char         *s, *e, *amp, *body;
    ngx_http_rtdash_event_in_t  *ev;

    body = c->p->body;

    while (c->end > body && (c->end[-1] == '\n' || c->end[-1] == '\r')) {
        c->end--;
    }

    if (c->end == body) {
        return ngx_http_rtdash_error(c, body, "empty body");
    }

    ev = ngx_http_rtdash_new_event(c, body);
    if (ev == NULL) {
        return NGX_HTTP_RTDASH_PARSE_TOO_MANY;
    }

    s = body;

    for ( ;; ) {
        amp = memchr(s, '&', c->end - s);
        e = (amp != NULL) ? amp : c->end;

        if (e != s) {
            rc = ngx_http_rtdash_form_pair(c, ev, s, e);
            if (rc != NGX_HTTP_RTDASH_PARSE_OK) {
                return rc;
            }
        }

        if (amp == NULL) {
            break;
        }

        s = amp + 1;
    }

    return ngx_http_rtdash_finish_event(c, ev, body);
}


static int
ngx_http_rtdash_form_pair(ngx_http_rtdash_ctx_t *c,
    ngx_http_rtdash_event_in_t *ev, const unsigned char *s,
    const unsigned char *e)
{
    int                   rc, field;
    double                v;
    size_t                klen, len, n;
    unsigned              sum;
    unsigned char        *mark;
    const unsigned char  *eq, *ke, *vs, *k, *val, *next;

    eq = memchr(s, '=', e - s);
    ke = (eq != NULL) ? eq : e;
    vs = (eq != NULL) ? eq + 1 : e;

    mark = c->sp;

    rc = ngx_http_rtdash_form_decode(c, s, ke, &k, &klen);
    if (rc != NGX_HTTP_RTDASH_PARSE_OK) {
        return rc;
    }

    sum = (klen >= 4 && memcmp(k, "sum.", 4) == 0);

    if (sum || (klen >= 6 && memcmp(k, "gauge.", 6) == 0)) {

        /* the decoded key stays in scratch: it holds the name */

        n = sum ? 4 : 6;

        if (!ngx_http_rtdash_valid_token(k + n, klen - n)) {
            return ngx_http_rtdash_error(c, s, sum
                       ? "sum name must be a token [a-z0-9_.-]{1,32}"
                       : "gauge name must be a token [a-z0-9_.-]{1,32}");
        }

        rc = ngx_http_rtdash_form_decode(c, vs, e, &val, &len);
        if (rc != NGX_HTTP_RTDASH_PARSE_OK) {
            return rc;
        }

        rc = ngx_http_rtdash_number(val, val + len, &next, &v);

        if (rc == NGX_HTTP_RTDASH_NUM_INVALID
            || (rc == NGX_HTTP_RTDASH_NUM_OK && next != val + len)
            || (rc == NGX_HTTP_RTDASH_NUM_OK && sum && v < 0))
        {
            return ngx_http_rtdash_error(c, vs, sum
                                         ? NGX_HTTP_RTDASH_BAD_SUM
                                         : NGX_HTTP_RTDASH_BAD_GAUGE);
        }

        if (rc != NGX_HTTP_RTDASH_NUM_OK) {
            return ngx_http_rtdash_error(c, vs,
                                         ngx_http_rtdash_number_errors[rc]);
        }

        return ngx_http_rtdash_add_gauge(c, ev, k + n, klen - n, v, sum, s);
    }

    field = ngx_http_rtdash_field(k, klen);
    c->sp = mark;

    rc = ngx_http_rtdash_form_decode(c, vs, e, &val, &len);
    if (rc != NGX_HTTP_RTDASH_PARSE_OK) {
        return rc;
    }

    switch (field) {

    case NGX_HTTP_RTDASH_F_UNKNOWN:
    case NGX_HTTP_RTDASH_F_GAUGES:
    case NGX_HTTP_RTDASH_F_SUMS:
        c->sp = mark;
        return NGX_HTTP_RTDASH_PARSE_OK;

    case NGX_HTTP_RTDASH_F_TOOL:
    case NGX_HTTP_RTDASH_F_TYPE:
    case NGX_HTTP_RTDASH_F_USER:
    case NGX_HTTP_RTDASH_F_ID:
    case NGX_HTTP_RTDASH_F_NOTICE:
    case NGX_HTTP_RTDASH_F_LEVEL:
        return ngx_http_rtdash_set_string(c, ev, field, val, len, vs);

    case NGX_HTTP_RTDASH_F_FLAG:
        c->sp = mark;

        if ((len == 1 && val[0] == '1')
            || (len == 4 && memcmp(val, "true", 4) == 0)
            || (len == 2 && memcmp(val, "on", 2) == 0))
        {
            ev->flag = 1;
            return NGX_HTTP_RTDASH_PARSE_OK;
        }

        if ((len == 1 && val[0] == '0')
            || (len == 5 && memcmp(val, "false", 5) == 0)
            || (len == 3 && memcmp(val, "off", 3) == 0))
        {
            ev->flag = 0;
            return NGX_HTTP_RTDASH_PARSE_OK;
        }

        return ngx_http_rtdash_error(c, vs,
                   "\"flag\" must be true, false, 0 or 1");

    default: /* NGX_HTTP_RTDASH_F_VALUE, NGX_HTTP_RTDASH_F_TS */
        c->sp = mark;

        rc = ngx_http_rtdash_number(val, val + len, &next, &v);

        if (rc == NGX_HTTP_RTDASH_NUM_INVALID
            || (rc == NGX_HTTP_RTDASH_NUM_OK && next != val + len))
        {
            return ngx_http_rtdash_error(c, vs,
                       (field == NGX_HTTP_RTDASH_F_TS)
                       ? "\"ts\" must be a number of epoch seconds"
                       : "\"value\" must be a finite number");
        }

        if (rc != NGX_HTTP_RTDASH_NUM_OK) {
            return ngx_http_rtdash_error(c, vs,
                                         ngx_http_rtdash_number_errors[rc]);
        }

        return ngx_http_rtdash_set_number(c, ev, field, v, vs);
    }
}


/* '+' is a space, %XX a byte; decoded into scratch at c->sp */

static int
ngx_http_rtdash_form_decode(ngx_http_rtdash_ctx_t *c, const unsigned char *s,
    const unsigned char *e, const unsigned char **out, size_t *out_len)
{
    int                   hi, lo;
    unsigned              ch;
    unsigned char        *d;
    const unsigned char  *p;

    d = c->sp;

    for (p = s; p < e; p++) {
        ch = *p;

        if (ch == '+') {
            *d++ = ' ';
            continue;
        }

        if (ch != '%') {
            *d++ = (unsigned char) ch;
            continue;
        }

        if (e - p < 3) {
            return ngx_http_rtdash_error(c, p, "invalid percent escape");
        }

        hi = p[1];
        lo = p[2];

        hi = (hi >= '0' && hi <= '9') ? hi - '0'
             : (hi >= 'a' && hi <= 'f') ? hi - 'a' + 10
             : (hi >= 'A' && hi <= 'F') ? hi - 'A' + 10 : -1;

        lo = (lo >= '0' && lo <= '9') ? lo - '0'
             : (lo >= 'a' && lo <= 'f') ? lo - 'a' + 10
             : (lo >= 'A' && lo <= 'F') ? lo - 'A' + 10 : -1;

        if (hi < 0 || lo < 0) {
            return ngx_http_rtdash_error(c, p, "invalid percent escape");
        }

        *d++ = (unsigned char) (hi * 16 + lo);
        p += 2;
    }

    *out = c->sp;
    *out_len = d - c->sp;
    c->sp = d;

    return NGX_HTTP_RTDASH_PARSE_OK;
}
