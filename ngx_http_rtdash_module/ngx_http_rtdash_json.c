
/*
 * rtdash: the JSON writer (a growing chain of buffers, correct string
 * escaping) and the JSON shapes shared by stats and the stream: the
 * zone, the overview, a tool, a minute, a second, an event.
 */


#include "ngx_http_rtdash_module.h"

#include <math.h>
#include <stdio.h>


static void ngx_http_rtdash_json_recent(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_zinfo_t *zi, ngx_http_rtdash_summary_t *s);
static void ngx_http_rtdash_json_slots(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_gauge_t *gs, ngx_uint_t n, ngx_uint_t kind,
    double *values);
static ngx_uint_t ngx_http_rtdash_json_type_open(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_zinfo_t *zi, ngx_uint_t k, ngx_uint_t first);


void
ngx_http_rtdash_out_init(ngx_http_rtdash_out_t *o, ngx_pool_t *pool,
    size_t chunk)
{
    o->pool = pool;
    o->first = NULL;
    o->last = &o->first;
    o->buf = NULL;
    o->size = 0;
    o->chunk = chunk;
    o->failed = 0;
}


u_char *
ngx_http_rtdash_out_reserve(ngx_http_rtdash_out_t *o, size_t n)
{
    size_t        size;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (o->buf && (size_t) (o->buf->end - o->buf->last) >= n) {
        return o->buf->last;
    }

    if (o->failed) {
        return NULL;
    }

    size = ngx_max(o->chunk, n);

    b = ngx_create_temp_buf(o->pool, size);
    if (b == NULL) {
        o->failed = 1;
        return NULL;
    }

    cl = ngx_alloc_chain_link(o->pool);
    if (cl == NULL) {
        o->failed = 1;
        return NULL;
    }

    cl->buf = b;
    cl->next = NULL;
    *o->last = cl;
    o->last = &cl->next;
    o->buf = b;

    return b->last;
}


void
ngx_http_rtdash_out_raw(ngx_http_rtdash_out_t *o, const u_char *s,
    size_t len)
{
    u_char  *p;

    p = ngx_http_rtdash_out_reserve(o, len);
    if (p == NULL) {
        return;
    }

    o->buf->last = ngx_cpymem(p, s, len);
    o->size += len;
}


void
ngx_http_rtdash_out_str(ngx_http_rtdash_out_t *o, const u_char *s,
    size_t len)
{
    u_char         *p, *start, c;
    const u_char   *end;

    static u_char   hex[] = "0123456789abcdef";

    /* the worst case: every byte becomes \u00XX */

    p = ngx_http_rtdash_out_reserve(o, len * 6 + 2);
    if (p == NULL) {
        return;
    }

    start = p;
    end = s + len;

    *p++ = '"';

    while (s < end) {
        c = *s++;

        if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>'
            && c != '&' && c != 0x7f)
        {
            *p++ = c;
            continue;
        }

        *p++ = '\\';

        switch (c) {
        case '"':
            *p++ = '"';
            break;
        case '\\':
            *p++ = '\\';
            break;
        case '\n':
            *p++ = 'n';
            break;
        case '\r':
            *p++ = 'r';
            break;
        case '\t':
            *p++ = 't';
            break;
        default:
            /* controls, and <>& so no output is ever read as markup */
            *p++ = 'u';
            *p++ = '0';
            *p++ = '0';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 0xf];
        }
    }

    *p++ = '"';

    o->buf->last = p;
    o->size += p - start;
}


void
ngx_http_rtdash_out_uint(ngx_http_rtdash_out_t *o, uint64_t v)
{
    u_char  *p;

    p = ngx_http_rtdash_out_reserve(o, NGX_INT64_LEN);
    if (p == NULL) {
        return;
    }

    p = ngx_http_rtdash_fmt_uint(p, v);

    o->size += p - o->buf->last;
    o->buf->last = p;
}


/* the digits of v at p (NGX_INT64_LEN bytes at most), without a format */

u_char *
ngx_http_rtdash_fmt_uint(u_char *p, uint64_t v)
{
    u_char  *d;
    u_char   digits[NGX_INT64_LEN];

    d = digits + NGX_INT64_LEN;

    do {
        *--d = (u_char) ('0' + v % 10);
        v /= 10;
    } while (v);

    return ngx_cpymem(p, d, digits + NGX_INT64_LEN - d);
}


void
ngx_http_rtdash_out_num_g(ngx_http_rtdash_out_t *o, double v, int digits)
{
    u_char  *p;

    if (!isfinite(v)) {
        ngx_http_rtdash_out_lit(o, "null");
        return;
    }

    p = ngx_http_rtdash_out_reserve(o, NGX_HTTP_RTDASH_NUM_LEN);
    if (p == NULL) {
        return;
    }

    p = ngx_http_rtdash_fmt_num_g(p, v, digits);

    o->size += p - o->buf->last;
    o->buf->last = p;
}


/*
 * A finite number at p (NGX_HTTP_RTDASH_NUM_LEN bytes at most): whole
 * numbers as integers, the others with "digits" significant digits
 */

u_char *
ngx_http_rtdash_fmt_num_g(u_char *p, double v, int digits)
{
    int  n;

    if (v == floor(v) && fabs(v) < 1e15) {
        if (v < 0) {
            *p++ = '-';
            v = -v;
        }

        return ngx_http_rtdash_fmt_uint(p, (uint64_t) v);
    }

    n = snprintf((char *) p, NGX_HTTP_RTDASH_NUM_LEN, "%.*g", digits, v);

    return (n > 0 && n < NGX_HTTP_RTDASH_NUM_LEN) ? p + n : p;
}


/* what an output holds, copied to dst (o->size bytes); the end */

u_char *
ngx_http_rtdash_out_copy(ngx_http_rtdash_out_t *o, u_char *dst)
{
    ngx_chain_t  *cl;

    for (cl = o->first; cl; cl = cl->next) {
        dst = ngx_cpymem(dst, cl->buf->pos, cl->buf->last - cl->buf->pos);
    }

    return dst;
}


/* what another output holds, copied at the end of this one */

void
ngx_http_rtdash_out_append(ngx_http_rtdash_out_t *o, ngx_http_rtdash_out_t *src)
{
    ngx_chain_t  *cl;

    if (src->failed) {
        o->failed = 1;
        return;
    }

    for (cl = src->first; cl; cl = cl->next) {
        ngx_http_rtdash_out_raw(o, cl->buf->pos, cl->buf->last - cl->buf->pos);
    }
}


void
ngx_http_rtdash_out_num(ngx_http_rtdash_out_t *o, double v)
{
    ngx_http_rtdash_out_num_g(o, v, 15);
}


void
ngx_http_rtdash_json_zone(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_zinfo_t *zi)
{
    ngx_http_rtdash_out_lit(o, "{\"name\":");
    ngx_http_rtdash_out_str(o, ctx->name.data, ctx->name.len);
    ngx_http_rtdash_out_lit(o, ",\"size\":");
    ngx_http_rtdash_out_uint(o, ctx->size);
    ngx_http_rtdash_out_lit(o, ",\"used\":");
    ngx_http_rtdash_out_uint(o, zi->used);
    ngx_http_rtdash_out_lit(o, ",\"free\":");
    ngx_http_rtdash_out_uint(o, zi->free);
    ngx_http_rtdash_out_lit(o, ",\"tools\":");
    ngx_http_rtdash_out_uint(o, zi->ntools);
    ngx_http_rtdash_out_lit(o, ",\"max_tools\":");
    ngx_http_rtdash_out_uint(o, zi->max_tools);
    ngx_http_rtdash_out_lit(o, ",\"bytes_per_tool\":");
    ngx_http_rtdash_out_uint(o, zi->ntools ? zi->tool_bytes / zi->ntools : 0);
    ngx_http_rtdash_out_lit(o, ",\"bytes_busy_tool\":");
    ngx_http_rtdash_out_uint(o, ngx_http_rtdash_busy_tool_size(ctx));
    ngx_http_rtdash_out_lit(o, ",\"retention\":");
    ngx_http_rtdash_out_uint(o, ctx->retention);
    ngx_http_rtdash_out_lit(o, ",\"events\":");
    ngx_http_rtdash_out_uint(o, ctx->nevents);
    ngx_http_rtdash_out_lit(o, ",\"max_types\":");
    ngx_http_rtdash_out_uint(o, ctx->ntypes);
    ngx_http_rtdash_out_lit(o, ",\"max_gauges\":");
    ngx_http_rtdash_out_uint(o, ctx->ngauges);
    ngx_http_rtdash_out_lit(o, ",\"seq\":");
    ngx_http_rtdash_out_uint(o, zi->seq);
    ngx_http_rtdash_out_lit(o, ",\"accepted\":");
    ngx_http_rtdash_out_uint(o, zi->accepted);
    ngx_http_rtdash_out_lit(o, ",\"rejected\":");
    ngx_http_rtdash_out_uint(o, zi->rejected);
    ngx_http_rtdash_out_lit(o, ",\"refused\":");
    ngx_http_rtdash_out_uint(o, zi->refused);
    ngx_http_rtdash_out_lit(o, ",\"evicted\":");
    ngx_http_rtdash_out_uint(o, zi->evicted);
    ngx_http_rtdash_out_lit(o, ",\"started\":");
    ngx_http_rtdash_out_uint(o, zi->started);
    ngx_http_rtdash_out_lit(o, ",\"notices\":");
    ngx_http_rtdash_out_uint(o, zi->notices);
    ngx_http_rtdash_out_lit(o, ",\"anomalies\":");
    ngx_http_rtdash_out_uint(o, zi->anomalies);
    ngx_http_rtdash_out_lit(o, ",\"alert_transitions\":");
    ngx_http_rtdash_out_uint(o, zi->transitions);
    ngx_http_rtdash_out_lit(o, ",\"alerts_firing\":");
    ngx_http_rtdash_out_uint(o, zi->firing);
    ngx_http_rtdash_out_lit(o, ",\"alerts_pending\":");
    ngx_http_rtdash_out_uint(o, zi->pending);
    ngx_http_rtdash_out_lit(o, "}");
}


void
ngx_http_rtdash_json_types(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_zinfo_t *zi)
{
    ngx_uint_t  k;

    ngx_http_rtdash_out_lit(o, "[");

    for (k = 0; k < zi->ntypes; k++) {
        if (k) {
            ngx_http_rtdash_out_lit(o, ",");
        }

        ngx_http_rtdash_out_str(o, zi->types[k].name, zi->types[k].len);
    }

    ngx_http_rtdash_out_lit(o, "]");
}


static ngx_uint_t
ngx_http_rtdash_json_type_open(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_zinfo_t *zi, ngx_uint_t k, ngx_uint_t first)
{
    if (!first) {
        ngx_http_rtdash_out_lit(o, ",");
    }

    ngx_http_rtdash_out_str(o, zi->types[k].name, zi->types[k].len);
    ngx_http_rtdash_out_lit(o, ":");

    return 0;
}


void
ngx_http_rtdash_json_counts(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_zinfo_t *zi, uint32_t *c)
{
    ngx_uint_t  k, first;

    first = 1;

    ngx_http_rtdash_out_lit(o, "{");

    for (k = 0; k < zi->ntypes; k++) {
        if (c[k]) {
            first = ngx_http_rtdash_json_type_open(o, zi, k, first);
            ngx_http_rtdash_out_uint(o, c[k]);
        }
    }

    ngx_http_rtdash_out_lit(o, "}");
}


/* count, min, max, avg, and the percentiles given to 4 digits */

static void
ngx_http_rtdash_json_values(ngx_http_rtdash_out_t *o, uint64_t count,
    double min, double max, double sum, double *p)
{
    ngx_http_rtdash_out_lit(o, "{\"count\":");
    ngx_http_rtdash_out_uint(o, count);

    if (count == 0) {
        ngx_http_rtdash_out_lit(o, ",\"min\":null,\"max\":null,\"avg\":null,"
                                "\"p50\":null,\"p95\":null,\"p99\":null}");
        return;
    }

    ngx_http_rtdash_out_lit(o, ",\"min\":");
    ngx_http_rtdash_out_num(o, min);
    ngx_http_rtdash_out_lit(o, ",\"max\":");
    ngx_http_rtdash_out_num(o, max);
    ngx_http_rtdash_out_lit(o, ",\"avg\":");
    ngx_http_rtdash_out_num_g(o, sum / count, 6);
    ngx_http_rtdash_out_lit(o, ",\"p50\":");
    ngx_http_rtdash_out_num_g(o, p[0], 4);
    ngx_http_rtdash_out_lit(o, ",\"p95\":");
    ngx_http_rtdash_out_num_g(o, p[1], 4);
    ngx_http_rtdash_out_lit(o, ",\"p99\":");
    ngx_http_rtdash_out_num_g(o, p[2], 4);
    ngx_http_rtdash_out_lit(o, "}");
}


void
ngx_http_rtdash_json_vstat(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_vstat_t *vs)
{
    double  p[3];

    ngx_http_rtdash_vstat_quantiles(vs, ngx_http_rtdash_quantiles, p, 3);
    ngx_http_rtdash_json_values(o, vs->count, vs->min, vs->max, vs->sum, p);
}


void
ngx_http_rtdash_json_vwide(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_vwide_t *w)
{
    double  p[3];

    ngx_http_rtdash_vwide_quantiles(w, ngx_http_rtdash_quantiles, p, 3);
    ngx_http_rtdash_json_values(o, w->count, w->min, w->max, w->sum, p);
}


/*
 * "span": the distinct users (a union) and the values (merged) of the
 * minutes from "from" to "to" (its end).
 */

void
ngx_http_rtdash_json_span(ngx_http_rtdash_out_t *o, time_t from, time_t to,
    ngx_http_rtdash_hwide_t *users, ngx_http_rtdash_vwide_t *values)
{
    ngx_http_rtdash_out_lit(o, "\"span\":{\"from\":");
    ngx_http_rtdash_out_uint(o, from);
    ngx_http_rtdash_out_lit(o, ",\"to\":");
    ngx_http_rtdash_out_uint(o, to);
    ngx_http_rtdash_out_lit(o, ",\"users\":");
    ngx_http_rtdash_out_uint(o, ngx_http_rtdash_hwide_estimate(users));
    ngx_http_rtdash_out_lit(o, ",\"value\":");
    ngx_http_rtdash_json_vwide(o, values);
    ngx_http_rtdash_out_lit(o, "}");
}


void
ngx_http_rtdash_json_tool(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_zinfo_t *zi, ngx_http_rtdash_summary_t *s)
{
    ngx_uint_t  k, first;

    ngx_http_rtdash_out_lit(o, "{\"name\":");
    ngx_http_rtdash_out_str(o, s->name, s->name_len);
    ngx_http_rtdash_out_lit(o, ",\"updated\":");
    ngx_http_rtdash_out_num(o, s->updated);
    ngx_http_rtdash_out_lit(o, ",\"seq\":");
    ngx_http_rtdash_out_uint(o, s->seq);

    ngx_http_rtdash_out_lit(o, ",\"totals\":{");

    for (k = 0, first = 1; k < zi->ntypes; k++) {
        if (s->totals[k]) {
            first = ngx_http_rtdash_json_type_open(o, zi, k, first);
            ngx_http_rtdash_out_uint(o, s->totals[k]);
        }
    }

    ngx_http_rtdash_out_lit(o, "},\"flagged\":{");

    for (k = 0, first = 1; k < zi->ntypes; k++) {
        if (s->flagged[k]) {
            first = ngx_http_rtdash_json_type_open(o, zi, k, first);
            ngx_http_rtdash_out_uint(o, s->flagged[k]);
        }
    }

    ngx_http_rtdash_out_lit(o, "},\"rate_per_min\":{");

    for (k = 0, first = 1; k < zi->ntypes; k++) {
        if (s->totals[k]) {
            first = ngx_http_rtdash_json_type_open(o, zi, k, first);
            ngx_http_rtdash_out_uint(o, s->rate[k]);
        }
    }

    ngx_http_rtdash_out_lit(o, "},\"gauges\":{");
    ngx_http_rtdash_json_slots(o, s->gauges, s->ngauges,
                               NGX_HTTP_RTDASH_GAUGE, NULL);
    ngx_http_rtdash_out_lit(o, "},\"sums\":{");
    ngx_http_rtdash_json_slots(o, s->gauges, s->ngauges,
                               NGX_HTTP_RTDASH_SUM, NULL);
    ngx_http_rtdash_out_lit(o, "},\"value\":");
    ngx_http_rtdash_json_vstat(o, &s->value);

    if (s->recent) {
        ngx_http_rtdash_json_recent(o, zi, s);
    }

    ngx_http_rtdash_out_lit(o, "}");
}


/* ,"window":{...}: what the tool got in the overview's window= */

static void
ngx_http_rtdash_json_recent(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_zinfo_t *zi, ngx_http_rtdash_summary_t *s)
{
    ngx_uint_t                 k, first;
    ngx_http_rtdash_recent_t  *w;

    w = s->recent;

    ngx_http_rtdash_out_lit(o, ",\"window\":{\"from\":");
    ngx_http_rtdash_out_uint(o, w->from);
    ngx_http_rtdash_out_lit(o, ",\"seconds\":");
    ngx_http_rtdash_out_uint(o, w->seconds);
    ngx_http_rtdash_out_lit(o, ",\"counts\":{");

    for (k = 0, first = 1; k < zi->ntypes; k++) {
        if (w->counts[k]) {
            first = ngx_http_rtdash_json_type_open(o, zi, k, first);
            ngx_http_rtdash_out_uint(o, w->counts[k]);
        }
    }

    ngx_http_rtdash_out_lit(o, "},\"sums\":{");
    ngx_http_rtdash_json_slots(o, s->gauges, s->ngauges,
                               NGX_HTTP_RTDASH_SUM, w->sums);
    ngx_http_rtdash_out_lit(o, "},\"value\":");
    ngx_http_rtdash_json_values(o, w->vcount, w->vmin, w->vmax, w->vsum,
                                w->p);
    ngx_http_rtdash_out_lit(o, ",\"minutes\":[");

    for (k = 0; k < w->nminutes; k++) {
        if (k) {
            ngx_http_rtdash_out_lit(o, ",");
        }

        ngx_http_rtdash_out_uint(o, w->minutes[k]);
    }

    ngx_http_rtdash_out_lit(o, "]}");
}


/*
 * A tool's gauges or sums, by their kind: "name":value,... with the
 * slots' own values, or those of values[] (by slot) when given.
 */

static void
ngx_http_rtdash_json_slots(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_gauge_t *gs, ngx_uint_t n, ngx_uint_t kind,
    double *values)
{
    ngx_uint_t  k, first;

    for (k = 0, first = 1; k < n; k++) {
        if (gs[k].kind != kind) {
            continue;
        }

        if (!first) {
            ngx_http_rtdash_out_lit(o, ",");
        }

        first = 0;

        ngx_http_rtdash_out_str(o, gs[k].name, gs[k].len);
        ngx_http_rtdash_out_lit(o, ":");
        ngx_http_rtdash_out_num(o, values ? values[k] : gs[k].value);
    }
}


void
ngx_http_rtdash_json_event(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_zinfo_t *zi, ngx_http_rtdash_event_t *ev,
    u_char *tool, size_t tool_len)
{
    ngx_http_rtdash_out_lit(o, "{\"seq\":");
    ngx_http_rtdash_out_uint(o, ev->seq);

    if (tool) {
        ngx_http_rtdash_out_lit(o, ",\"tool\":");
        ngx_http_rtdash_out_str(o, tool, tool_len);
    }

    ngx_http_rtdash_out_lit(o, ",\"t\":");
    ngx_http_rtdash_out_num_g(o, ev->ts, 13);
    ngx_http_rtdash_out_lit(o, ",\"type\":");

    if (ev->type < zi->ntypes) {
        ngx_http_rtdash_out_str(o, zi->types[ev->type].name,
                                zi->types[ev->type].len);

    } else {
        ngx_http_rtdash_out_lit(o, "null");
    }

    ngx_http_rtdash_out_lit(o, ",\"user\":");

    if (ev->user_len) {
        ngx_http_rtdash_out_str(o, ev->user, ev->user_len);

    } else {
        ngx_http_rtdash_out_lit(o, "null");
    }

    if (ev->flags & NGX_HTTP_RTDASH_EV_FLAG) {
        ngx_http_rtdash_out_lit(o, ",\"flag\":true,\"value\":");

    } else {
        ngx_http_rtdash_out_lit(o, ",\"flag\":false,\"value\":");
    }

    if (ev->flags & NGX_HTTP_RTDASH_EV_VALUE) {
        ngx_http_rtdash_out_num(o, ev->value);

    } else {
        ngx_http_rtdash_out_lit(o, "null");
    }

    ngx_http_rtdash_out_lit(o, ",\"id\":");

    if (ev->id_len) {
        ngx_http_rtdash_out_str(o, ev->id, ev->id_len);

    } else {
        ngx_http_rtdash_out_lit(o, "null");
    }

    ngx_http_rtdash_out_lit(o, "}");
}


void
ngx_http_rtdash_json_minute(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_zinfo_t *zi,
    ngx_http_rtdash_gauge_t *names, ngx_uint_t ngauges,
    ngx_http_rtdash_minute_t *m, time_t t)
{
    ngx_uint_t                 g, first;
    ngx_http_rtdash_gstat_t   *gs;

    ngx_http_rtdash_out_lit(o, "{\"t\":");
    ngx_http_rtdash_out_uint(o, t);

    if (m == NULL) {
        ngx_http_rtdash_out_lit(o, ",\"counts\":{},\"flagged\":{},"
                                "\"users\":0,\"value\":");
        ngx_http_rtdash_json_values(o, 0, 0, 0, 0, NULL);
        ngx_http_rtdash_out_lit(o, ",\"gauges\":{},\"sums\":{}}");
        return;
    }

    ngx_http_rtdash_out_lit(o, ",\"counts\":");
    ngx_http_rtdash_json_counts(o, zi, ngx_http_rtdash_minute_counts(m));
    ngx_http_rtdash_out_lit(o, ",\"flagged\":");
    ngx_http_rtdash_json_counts(o, zi,
                                ngx_http_rtdash_minute_flagged(ctx, m));
    ngx_http_rtdash_out_lit(o, ",\"users\":");
    ngx_http_rtdash_out_uint(o, ngx_http_rtdash_hll_estimate(&m->users));
    ngx_http_rtdash_out_lit(o, ",\"value\":");
    ngx_http_rtdash_json_vstat(o, &m->value);
    ngx_http_rtdash_out_lit(o, ",\"gauges\":{");

    gs = ngx_http_rtdash_minute_gstats(ctx, m);

    for (g = 0, first = 1; g < ngauges; g++) {
        if (!gs[g].set || names[g].kind != NGX_HTTP_RTDASH_GAUGE) {
            continue;
        }

        if (!first) {
            ngx_http_rtdash_out_lit(o, ",");
        }

        first = 0;

        ngx_http_rtdash_out_str(o, names[g].name, names[g].len);
        ngx_http_rtdash_out_lit(o, ":{\"min\":");
        ngx_http_rtdash_out_num_g(o, gs[g].u.g.min, 7);
        ngx_http_rtdash_out_lit(o, ",\"max\":");
        ngx_http_rtdash_out_num_g(o, gs[g].u.g.max, 7);
        ngx_http_rtdash_out_lit(o, ",\"last\":");
        ngx_http_rtdash_out_num_g(o, gs[g].last, 7);
        ngx_http_rtdash_out_lit(o, "}");
    }

    ngx_http_rtdash_out_lit(o, "},\"sums\":{");

    for (g = 0, first = 1; g < ngauges; g++) {
        if (!gs[g].set || names[g].kind != NGX_HTTP_RTDASH_SUM) {
            continue;
        }

        if (!first) {
            ngx_http_rtdash_out_lit(o, ",");
        }

        first = 0;

        ngx_http_rtdash_out_str(o, names[g].name, names[g].len);
        ngx_http_rtdash_out_lit(o, ":");
        ngx_http_rtdash_out_num(o, gs[g].u.sum);
    }

    ngx_http_rtdash_out_lit(o, "}}");
}


/* a reader's second; its sums by names[] (sums only), when it has any */

void
ngx_http_rtdash_json_second(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_zinfo_t *zi,
    ngx_http_rtdash_gauge_t *names, ngx_uint_t n, uint32_t *sec, time_t t)
{
    double      *sums;
    ngx_uint_t   k, first;

    ngx_http_rtdash_out_lit(o, "{\"t\":");
    ngx_http_rtdash_out_uint(o, t);

    if (sec == NULL) {
        ngx_http_rtdash_out_lit(o, ",\"counts\":{},\"flagged\":{}}");
        return;
    }

    ngx_http_rtdash_out_lit(o, ",\"counts\":");
    ngx_http_rtdash_json_counts(o, zi, ngx_http_rtdash_second_counts(sec));
    ngx_http_rtdash_out_lit(o, ",\"flagged\":");
    ngx_http_rtdash_json_counts(o, zi,
                                ngx_http_rtdash_second_flagged(ctx, sec));

    sums = ngx_http_rtdash_second_sums(ctx, sec);

    for (k = 0, first = 1; k < n; k++) {
        if (names[k].kind != NGX_HTTP_RTDASH_SUM || sums[k] == 0) {
            continue;
        }

        if (first) {
            ngx_http_rtdash_out_lit(o, ",\"sums\":{");

        } else {
            ngx_http_rtdash_out_lit(o, ",");
        }

        first = 0;

        ngx_http_rtdash_out_str(o, names[k].name, names[k].len);
        ngx_http_rtdash_out_lit(o, ":");
        ngx_http_rtdash_out_num(o, sums[k]);
    }

    if (!first) {
        ngx_http_rtdash_out_lit(o, "}");
    }

    ngx_http_rtdash_out_lit(o, "}");
}


/*
 * The overview: the time, the zone, how many tools matched a filter (when
 * matched >= 0), the types and the tools' summaries in the order given,
 * as members of an object the caller opened (stats, stream frames).
 */

void
ngx_http_rtdash_json_overview(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_zinfo_t *zi,
    ngx_http_rtdash_summary_t **s, ngx_uint_t n, ngx_int_t matched,
    ngx_http_rtdash_out_t *extra)
{
    ngx_uint_t  i;

    ngx_http_rtdash_out_lit(o, "\"now\":");
    ngx_http_rtdash_out_num_g(o, ngx_http_rtdash_now(), 13);
    ngx_http_rtdash_out_lit(o, ",\"zone\":");
    ngx_http_rtdash_json_zone(o, ctx, zi);

    if (extra) {
        ngx_http_rtdash_out_append(o, extra);
    }

    if (matched >= 0) {
        ngx_http_rtdash_out_lit(o, ",\"matched\":");
        ngx_http_rtdash_out_uint(o, matched);
    }

    ngx_http_rtdash_out_lit(o, ",\"types\":");
    ngx_http_rtdash_json_types(o, zi);
    ngx_http_rtdash_out_lit(o, ",\"tools\":[");

    for (i = 0; i < n; i++) {
        if (i) {
            ngx_http_rtdash_out_lit(o, ",");
        }

        ngx_http_rtdash_json_tool(o, zi, s[i]);
    }

    ngx_http_rtdash_out_lit(o, "]");
}
