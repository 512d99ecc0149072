
/*
 * rtdash: the ingest parser.
 *
 * Turns a request body (JSON object, JSON array of objects, NDJSON or any
 * whitespace-separated sequence of those; or a form-urlencoded body / query
 * string) into validated events.  An object with a "notice" is a notice
 * (text, level, optional tool and ts) and goes in the events array too,
 * in body order, with is_notice set.  It depends on the C library only, so the
 * unit tests and the fuzz target build it without nginx.
 *
 * The parser never allocates: decoded strings are written to a caller
 * supplied scratch buffer at least as large as the input, events and
 * gauges go to caller supplied arrays.  Nothing is applied anywhere: the
 * caller applies the events only when the whole body parsed.
 */


#ifndef _NGX_HTTP_RTDASH_PARSE_H_INCLUDED_
#define _NGX_HTTP_RTDASH_PARSE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define NGX_HTTP_RTDASH_TOOL_MAX      128
#define NGX_HTTP_RTDASH_TOKEN_MAX     32
#define NGX_HTTP_RTDASH_USER_MAX      64
#define NGX_HTTP_RTDASH_ID_MAX        64
#define NGX_HTTP_RTDASH_DEPTH_MAX     32
#define NGX_HTTP_RTDASH_TS_AHEAD      60
#define NGX_HTTP_RTDASH_NOTICE_MAX    256


/* a gauge, or a sum (sum set: "sums", a finite value >= 0) */
typedef struct {
    const unsigned char  *name;       /* token [a-z0-9_.-]{1,32} */
    size_t                name_len;
    double                value;      /* finite */
    unsigned              sum:1;
} ngx_http_rtdash_gauge_in_t;


typedef struct {
    const unsigned char  *tool;       /* 1..128 bytes UTF-8, no controls */
    size_t                tool_len;
    const unsigned char  *type;       /* token, or NULL when absent */
    size_t                type_len;
    const unsigned char  *user;       /* <= 64 bytes UTF-8, or NULL */
    size_t                user_len;
    const unsigned char  *id;         /* <= 64 bytes UTF-8, or NULL */
    size_t                id_len;
    double                value;      /* valid when has_value */
    double                ts;         /* epoch seconds; now when absent */
    size_t                gauge_first; /* index into the gauges array */
    size_t                ngauges;    /* its gauges and sums */
    size_t                nsums;      /*   of which sums */
    const unsigned char  *notice;     /* 1..256 bytes UTF-8, or NULL */
    size_t                notice_len;
    unsigned              level:2;    /* 0 info, 1 warn, 2 crit */
    unsigned              has_level:1;
    unsigned              is_notice:1;
    unsigned              has_value:1;
    unsigned              flag:1;
    unsigned              has_ts:1;
} ngx_http_rtdash_event_in_t;


typedef struct {
    /* input */
    const unsigned char          *body;
    size_t                        len;
    unsigned                      form;        /* 1: urlencoded */
    double                        now;         /* epoch seconds */
    double                        retention;   /* seconds back allowed */

    unsigned char                *scratch;     /* >= len bytes */

    ngx_http_rtdash_event_in_t   *events;
    size_t                        max_events;
    ngx_http_rtdash_gauge_in_t   *gauges;
    size_t                        max_gauges;  /* all events together */
    size_t                        max_gauges_per_event;  /* and sums */

    /* output */
    size_t                        nevents;     /* notices among them */
    size_t                        ngauges;
    size_t                        nnotices;

    /* on error: static message, 1-based line, 0-based byte offset */
    const char                   *error;
    size_t                        line;
    size_t                        offset;
} ngx_http_rtdash_parse_t;


#define NGX_HTTP_RTDASH_PARSE_OK        0
#define NGX_HTTP_RTDASH_PARSE_INVALID  -1   /* 400: error/line/offset set */
#define NGX_HTTP_RTDASH_PARSE_TOO_MANY -2   /* 413: max_events/gauges hit */


int ngx_http_rtdash_parse(ngx_http_rtdash_parse_t *p);

/* helpers shared with the module (query args, stats filters) */
int ngx_http_rtdash_valid_token(const unsigned char *s, size_t len);
int ngx_http_rtdash_valid_text(const unsigned char *s, size_t len,
    size_t max);


#endif /* _NGX_HTTP_RTDASH_PARSE_H_INCLUDED_ */
