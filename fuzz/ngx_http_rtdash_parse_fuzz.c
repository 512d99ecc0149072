
/*
 * rtdash: libFuzzer target for the ingest parser.
 *
 * The first input byte picks the mode and limits (bit 0: form; bits 1-2:
 * max events 1, 4, 64 or 1024; bit 3: at most 2 gauges per event), the
 * rest is the body, copied into a buffer of exactly its size.  Besides
 * crashes and sanitizer reports, it aborts when a successful parse breaks
 * the interface's promises.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -Ingx_http_rtdash_module \
 *       ngx_http_rtdash_module/ngx_http_rtdash_parse.c \
 *       fuzz/ngx_http_rtdash_parse_fuzz.c -o build/rtdash_parse_fuzz
 *   build/rtdash_parse_fuzz -max_total_time=60 fuzz/corpus
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_rtdash_parse.h"


#define NGX_HTTP_RTDASH_FUZZ_EVENTS  1024
#define NGX_HTTP_RTDASH_FUZZ_GAUGES  256


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static int ngx_http_rtdash_fuzz_in(const ngx_http_rtdash_parse_t *p,
    const unsigned char *s, size_t len);
static void ngx_http_rtdash_fuzz_verify(const ngx_http_rtdash_parse_t *p,
    int rc);


static int
ngx_http_rtdash_fuzz_in(const ngx_http_rtdash_parse_t *p,
    const unsigned char *s, size_t len)
{
    if (s >= p->body && s + len <= p->body + p->len) {
        return 1;
    }

    return s >= p->scratch && s + len <= p->scratch + p->len;
}


static void
ngx_http_rtdash_fuzz_verify(const ngx_http_rtdash_parse_t *p, int rc)
{
    size_t                             i, j, k, m, n;
    const ngx_http_rtdash_gauge_in_t  *g;
    const ngx_http_rtdash_event_in_t  *ev;

    if (rc != NGX_HTTP_RTDASH_PARSE_OK) {
        if ((rc != NGX_HTTP_RTDASH_PARSE_INVALID
             && rc != NGX_HTTP_RTDASH_PARSE_TOO_MANY)
            || p->error == NULL || p->offset > p->len || p->line == 0)
        {
            abort();
        }

        return;
    }

    if (p->nevents > p->max_events || p->ngauges > p->max_gauges
        || (p->form && p->nevents != 1))
    {
        abort();
    }

    j = 0;
    k = 0;

    for (i = 0; i < p->nevents; i++) {
        ev = &p->events[i];

        if (ev->is_notice) {
            /* a notice: its text, a level, a tool if any, nothing else */

            if (ev->notice == NULL
                || !ngx_http_rtdash_fuzz_in(p, ev->notice, ev->notice_len)
                || !ngx_http_rtdash_valid_text(ev->notice, ev->notice_len,
                                               NGX_HTTP_RTDASH_NOTICE_MAX)
                || ev->level > 2
                || (ev->tool != NULL
                    && (!ngx_http_rtdash_fuzz_in(p, ev->tool, ev->tool_len)
                        || !ngx_http_rtdash_valid_text(ev->tool,
                                                   ev->tool_len,
                                                   NGX_HTTP_RTDASH_TOOL_MAX)))
                || ev->type != NULL || ev->user != NULL || ev->id != NULL
                || ev->has_value || ev->flag || ev->ngauges
                || ev->gauge_first != j
                || ev->ts < p->now - p->retention
                || ev->ts > p->now + NGX_HTTP_RTDASH_TS_AHEAD)
            {
                abort();
            }

            k++;
            continue;
        }

        if (ev->notice != NULL || ev->has_level) {
            abort();
        }

        if (!ngx_http_rtdash_fuzz_in(p, ev->tool, ev->tool_len)
            || !ngx_http_rtdash_valid_text(ev->tool, ev->tool_len,
                                           NGX_HTTP_RTDASH_TOOL_MAX))
        {
            abort();
        }

        if (ev->type != NULL
            && (!ngx_http_rtdash_fuzz_in(p, ev->type, ev->type_len)
                || !ngx_http_rtdash_valid_token(ev->type, ev->type_len)))
        {
            abort();
        }

        if (ev->user != NULL
            && (!ngx_http_rtdash_fuzz_in(p, ev->user, ev->user_len)
                || !ngx_http_rtdash_valid_text(ev->user, ev->user_len,
                                               NGX_HTTP_RTDASH_USER_MAX)))
        {
            abort();
        }

        if (ev->id != NULL
            && (!ngx_http_rtdash_fuzz_in(p, ev->id, ev->id_len)
                || !ngx_http_rtdash_valid_text(ev->id, ev->id_len,
                                               NGX_HTTP_RTDASH_ID_MAX)))
        {
            abort();
        }

        if (ev->type == NULL && ev->ngauges == 0) {
            abort();
        }

        if (ev->has_value && (ev->value != ev->value
                              || ev->value - ev->value != 0))
        {
            abort();
        }

        if (ev->ts < p->now - p->retention
            || ev->ts > p->now + NGX_HTTP_RTDASH_TS_AHEAD)
        {
            abort();
        }

        if (ev->gauge_first != j
            || ev->ngauges > p->max_gauges_per_event
            || ev->nsums > ev->ngauges)
        {
            abort();
        }

        /* the event's sums are those of its entries marked sum */

        for (n = 0, m = j; m < j + ev->ngauges; m++) {
            n += p->gauges[m].sum;
        }

        if (n != ev->nsums) {
            abort();
        }

        j += ev->ngauges;
    }

    if (j != p->ngauges || k != p->nnotices) {
        abort();
    }

    for (i = 0; i < p->ngauges; i++) {
        g = &p->gauges[i];

        if (!ngx_http_rtdash_fuzz_in(p, g->name, g->name_len)
            || !ngx_http_rtdash_valid_token(g->name, g->name_len)
            || g->value - g->value != 0
            || (g->sum && g->value < 0))
        {
            abort();
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                          rc;
    unsigned                     mode;
    unsigned char               *body, *scratch;
    ngx_http_rtdash_parse_t      p;
    ngx_http_rtdash_event_in_t  *events;
    ngx_http_rtdash_gauge_in_t  *gauges;
    static const size_t          nevents[4] = { 1, 4, 64,
                                                NGX_HTTP_RTDASH_FUZZ_EVENTS };

    if (size == 0) {
        return 0;
    }

    mode = data[0];
    data++;
    size--;

    body = malloc(size ? size : 1);
    scratch = malloc(size ? size : 1);
    events = malloc(NGX_HTTP_RTDASH_FUZZ_EVENTS
                    * sizeof(ngx_http_rtdash_event_in_t));
    gauges = malloc(NGX_HTTP_RTDASH_FUZZ_GAUGES
                    * sizeof(ngx_http_rtdash_gauge_in_t));

    if (body == NULL || scratch == NULL || events == NULL || gauges == NULL)
    {
        abort();
    }

    if (size) {
        memcpy(body, data, size);
    }

    memset(&p, 0, sizeof(ngx_http_rtdash_parse_t));

    p.body = body;
    p.len = size;
    p.form = mode & 1;
    p.now = 1700000000.0;
    p.retention = 21600.0;
    p.scratch = scratch;
    p.events = events;
    p.max_events = nevents[(mode >> 1) & 3];
    p.gauges = gauges;
    p.max_gauges = NGX_HTTP_RTDASH_FUZZ_GAUGES;
    p.max_gauges_per_event = (mode & 8) ? 2 : 32;

    rc = ngx_http_rtdash_parse(&p);

    ngx_http_rtdash_fuzz_verify(&p, rc);

    free(gauges);
    free(events);
    free(scratch);
    free(body);

    return 0;
}
