
/*
 * rtdash: the Prometheus handler, text exposition format 0.0.4.  The same
 * summaries as the stats overview, rendered one metric family at a time,
 * every sample labelled with its zone.  The values come twice: as a
 * summary (quantiles of one node) and as a histogram with power-of-two
 * buckets (which add up across a fleet).
 *
 * Many tools do not hold the worker up: the tools are copied a slice at
 * a time (one tool per lock, as every reader), the exposition is written
 * a chunk at a time, each chunk sent before the next is written, and
 * between slices and chunks the request waits for the next turn of the
 * event loop (or for the client to take what was sent), so that other
 * requests are served in between.  A zone whose exposition fits in one
 * chunk is answered at once, with its length, as a whole.
 */


#include "ngx_http_rtdash_module.h"

#include <math.h>


/*
 * The histogram's bucket bounds: every octave from 2^-3 to 2^17, where
 * the zone's log-scale bins start, so that each bucket is exact.
 */
#define NGX_HTTP_RTDASH_PROM_LE_MIN     -3
#define NGX_HTTP_RTDASH_PROM_LE_MAX     17

#define NGX_HTTP_RTDASH_PROM_SLICE      512     /* tools copied a turn */
#define NGX_HTTP_RTDASH_PROM_CHUNK      65536   /* bytes written a turn */

/* " value\n" at most */
#define NGX_HTTP_RTDASH_PROM_VALUE_LEN  (NGX_HTTP_RTDASH_NUM_LEN + 2)

#define NGX_HTTP_RTDASH_PROM_TYPE                                            \
    "text/plain; version=0.0.4; charset=utf-8"


/*
 * What the exposition shows of a tool, copied out of its summary, its
 * name escaped once for all its samples; its totals[ntypes],
 * flagged[ntypes] and gauges[the zone's gauges] follow.
 */
typedef struct {
    u_char                      name[2 * NGX_HTTP_RTDASH_TOOL_MAX];
    size_t                      name_len;     /* escaped for a label */
    double                      updated;
    ngx_uint_t                  ngauges;
    ngx_http_rtdash_vstat_t     value;
} ngx_http_rtdash_prom_tool_t;


/* a scrape under way */
typedef struct {
    ngx_http_rtdash_out_t      *o;
    ngx_http_rtdash_ctx_t      *ctx;
    ngx_http_rtdash_zinfo_t     zi;
    u_char                     *tools;        /* n records of "stride" */
    size_t                      stride;
    ngx_uint_t                  n;            /* copied */
    ngx_uint_t                  max;          /* the tools at the start */
    ngx_queue_t                *q;            /* the copy's next node */
    uint64_t                    start;        /* sh->records then */
    time_t                      now;
    ngx_uint_t                  family;       /* being written */
    ngx_uint_t                  i;            /* its next tool */
    ngx_pool_t                 *tmp;          /* the chunk's buffers */
    ngx_chain_t                *sent;         /* the chunk being sent */
    ngx_http_rtdash_summary_t   s;            /* a tool, being copied */
    ngx_str_t                   zone_label;   /* {zone="z",tool=" */
    ngx_str_t                  *type_labels;  /* ,type="t"} of each type */
    unsigned                    copying:1;
    unsigned                    header_sent:1;
} ngx_http_rtdash_prom_t;


typedef void (*ngx_http_rtdash_prom_tool_pt)(ngx_http_rtdash_prom_t *pm,
    ngx_http_rtdash_prom_tool_t *t);


/* a family of per-tool samples; the zone's own come first, apart */
typedef struct {
    const char                     *name;
    const char                     *type;
    const char                     *help;
    ngx_http_rtdash_prom_tool_pt    tool;
} ngx_http_rtdash_prom_family_t;


static ngx_http_rtdash_prom_t *ngx_http_rtdash_prom_start(
    ngx_http_request_t *r, ngx_http_rtdash_ctx_t *ctx);
static void ngx_http_rtdash_prom_cleanup(void *data);
static void ngx_http_rtdash_prom_copy(ngx_http_rtdash_prom_t *pm);
static void ngx_http_rtdash_prom_keep(ngx_http_rtdash_prom_t *pm,
    ngx_http_rtdash_summary_t *s);
static ngx_int_t ngx_http_rtdash_prom_step(ngx_http_request_t *r,
    ngx_http_rtdash_prom_t *pm);
static ngx_int_t ngx_http_rtdash_prom_header(ngx_http_request_t *r);
static ngx_uint_t ngx_http_rtdash_prom_taken(ngx_http_rtdash_prom_t *pm);
static ngx_int_t ngx_http_rtdash_prom_wait(ngx_http_request_t *r);
static void ngx_http_rtdash_prom_write(ngx_http_request_t *r);
static ngx_uint_t ngx_http_rtdash_prom_render(ngx_http_rtdash_prom_t *pm);
static void ngx_http_rtdash_prom_family(ngx_http_rtdash_prom_t *pm,
    const char *name, const char *type, const char *help);
static void ngx_http_rtdash_prom_labels(ngx_http_rtdash_prom_t *pm,
    const char *metric);
static void ngx_http_rtdash_prom_label(ngx_http_rtdash_out_t *o,
    const char *name, const u_char *value, size_t len);
static u_char *ngx_http_rtdash_prom_escape(u_char *p, const u_char *value,
    size_t len);
static void ngx_http_rtdash_prom_zone(ngx_http_rtdash_prom_t *pm);
static void ngx_http_rtdash_prom_watch(ngx_http_rtdash_prom_t *pm);
static void ngx_http_rtdash_prom_counts(ngx_http_rtdash_prom_t *pm,
    ngx_http_rtdash_prom_tool_t *t, ngx_uint_t flagged);
static void ngx_http_rtdash_prom_totals(ngx_http_rtdash_prom_t *pm,
    ngx_http_rtdash_prom_tool_t *t);
static void ngx_http_rtdash_prom_flagged(ngx_http_rtdash_prom_t *pm,
    ngx_http_rtdash_prom_tool_t *t);
static void ngx_http_rtdash_prom_levels(ngx_http_rtdash_prom_t *pm,
    ngx_http_rtdash_prom_tool_t *t);
static void ngx_http_rtdash_prom_sums(ngx_http_rtdash_prom_t *pm,
    ngx_http_rtdash_prom_tool_t *t);
static void ngx_http_rtdash_prom_slots(ngx_http_rtdash_prom_t *pm,
    ngx_http_rtdash_prom_tool_t *t, ngx_str_t *name, ngx_uint_t kind);
static void ngx_http_rtdash_prom_last(ngx_http_rtdash_prom_t *pm,
    ngx_http_rtdash_prom_tool_t *t);
static void ngx_http_rtdash_prom_values(ngx_http_rtdash_prom_t *pm,
    ngx_http_rtdash_prom_tool_t *t);
static void ngx_http_rtdash_prom_histogram(ngx_http_rtdash_prom_t *pm,
    ngx_http_rtdash_prom_tool_t *t);
static void ngx_http_rtdash_prom_sum_count(ngx_http_rtdash_prom_t *pm,
    ngx_http_rtdash_prom_tool_t *t, ngx_str_t *names);
static u_char *ngx_http_rtdash_prom_sample(ngx_http_rtdash_prom_t *pm,
    ngx_str_t *metric, ngx_http_rtdash_prom_tool_t *t, const u_char *extra,
    size_t len);
static void ngx_http_rtdash_prom_sample_end(ngx_http_rtdash_prom_t *pm,
    u_char *p);
static u_char *ngx_http_rtdash_prom_uint(u_char *p, uint64_t n);
static u_char *ngx_http_rtdash_prom_fmt_value(u_char *p, double v,
    int digits);


/* in the order of the exposition, after the zone's families */
static const ngx_http_rtdash_prom_family_t  ngx_http_rtdash_prom_families[] = {
    { "rtdash_events_total", "counter",
      "Events recorded, by tool and type.",
      ngx_http_rtdash_prom_totals },
    { "rtdash_events_flagged_total", "counter",
      "Events recorded with flag true, by tool and type.",
      ngx_http_rtdash_prom_flagged },
    { "rtdash_tool_level", "gauge",
      "Last value written to a tool's gauge.",
      ngx_http_rtdash_prom_levels },
    { "rtdash_tool_sum_total", "counter",
      "What was added to a tool's sum since the zone's start.",
      ngx_http_rtdash_prom_sums },
    { "rtdash_tool_last_event_time_seconds", "gauge",
      "When a tool last recorded an event, in epoch seconds.",
      ngx_http_rtdash_prom_last },
    { "rtdash_value", "summary",
      "The \"value\" of a tool's events; quantiles from a log-scale "
      "histogram.",
      ngx_http_rtdash_prom_values },
    { "rtdash_value_hist", "histogram",
      "The \"value\" of a tool's events; a bucket counts the values below "
      "its bound.",
      ngx_http_rtdash_prom_histogram }
};

#define NGX_HTTP_RTDASH_PROM_FAMILIES                                        \
    (sizeof(ngx_http_rtdash_prom_families)                                   \
     / sizeof(ngx_http_rtdash_prom_families[0]))


/* the i-th tool copied, and the arrays after it */
#define ngx_http_rtdash_prom_tool(pm, i)                                     \
    ((ngx_http_rtdash_prom_tool_t *) ((pm)->tools + (i) * (pm)->stride))
#define ngx_http_rtdash_prom_tool_totals(t)                                  \
    ((uint64_t *) ((ngx_http_rtdash_prom_tool_t *) (t) + 1))
#define ngx_http_rtdash_prom_tool_flagged(pm, t)                             \
    (ngx_http_rtdash_prom_tool_totals(t) + (pm)->zi.ntypes)
#define ngx_http_rtdash_prom_tool_gauges(pm, t)                              \
    ((ngx_http_rtdash_gauge_t *)                                             \
     (ngx_http_rtdash_prom_tool_totals(t) + 2 * (pm)->zi.ntypes))


ngx_int_t
ngx_http_rtdash_prometheus_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_http_rtdash_prom_t      *pm;
    ngx_http_rtdash_loc_conf_t  *lcf;

    rc = ngx_http_rtdash_check_get(r);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_rtdash_module);

    pm = ngx_http_rtdash_prom_start(r, lcf->zone->data);
    if (pm == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_rtdash_prom_step(r, pm);

    if (rc != NGX_DONE) {
        /* a zone of a chunk, answered whole */
        return rc;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "rtdash prometheus: %ui tools, in slices and chunks",
                   pm->max);

    ngx_http_set_ctx(r, pm, ngx_http_rtdash_module);

    r->main->count++;
    r->write_event_handler = ngx_http_rtdash_prom_write;
    r->read_event_handler = ngx_http_test_reading;

    return NGX_DONE;
}


/*
 * The zone's figures, and room for every tool there now: tools made
 * later are left out (node->born), an eviction reuses a node in place,
 * and nodes never leave the queue, so the walk may go on across turns.
 */

static ngx_http_rtdash_prom_t *
ngx_http_rtdash_prom_start(ngx_http_request_t *r, ngx_http_rtdash_ctx_t *ctx)
{
    u_char                  *p;
    ngx_uint_t               i;
    ngx_pool_cleanup_t      *cln;
    ngx_http_rtdash_prom_t  *pm;

    pm = ngx_pcalloc(r->pool, sizeof(ngx_http_rtdash_prom_t));
    if (pm == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    pm->tmp = ngx_create_pool(4096, r->connection->log);
    if (pm->tmp == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_rtdash_prom_cleanup;
    cln->data = pm;

    pm->ctx = ctx;
    pm->now = ngx_time();
    pm->copying = 1;

    ngx_http_rtdash_lock(ctx);

    ngx_http_rtdash_zinfo_locked(ctx, &pm->zi);
    pm->max = ctx->sh->ntools;
    pm->start = ctx->sh->records;
    pm->q = ngx_queue_head(&ctx->sh->tools);

    ngx_http_rtdash_unlock(ctx);

    pm->stride = sizeof(ngx_http_rtdash_prom_tool_t)
                 + 2 * sizeof(uint64_t) * pm->zi.ntypes
                 + sizeof(ngx_http_rtdash_gauge_t) * ctx->ngauges;
    pm->stride = ngx_align(pm->stride, 8);

    /* a large allocation of the request's pool, freed with it */

    pm->tools = ngx_palloc(r->pool, pm->stride * (pm->max + 1));
    if (pm->tools == NULL) {
        return NULL;
    }

    /* what every sample of a tool starts with, escaped once */

    p = ngx_palloc(r->pool, sizeof("{zone=\"\",tool=\"")
                            + 2 * ctx->name.len);
    if (p == NULL) {
        return NULL;
    }

    pm->zone_label.data = p;
    p = ngx_cpymem(p, "{zone=\"", sizeof("{zone=\"") - 1);
    p = ngx_http_rtdash_prom_escape(p, ctx->name.data, ctx->name.len);
    p = ngx_cpymem(p, "\",tool=\"", sizeof("\",tool=\"") - 1);
    pm->zone_label.len = p - pm->zone_label.data;

    /* the type labels, escaped once */

    pm->type_labels = ngx_palloc(r->pool,
                                 (pm->zi.ntypes + 1) * sizeof(ngx_str_t));
    if (pm->type_labels == NULL) {
        return NULL;
    }

    for (i = 0; i < pm->zi.ntypes; i++) {
        p = ngx_palloc(r->pool, sizeof(",type=\"\"}")
                                + 2 * pm->zi.types[i].len);
        if (p == NULL) {
            return NULL;
        }

        pm->type_labels[i].data = p;
        p = ngx_cpymem(p, ",type=\"", sizeof(",type=\"") - 1);
        p = ngx_http_rtdash_prom_escape(p, pm->zi.types[i].name,
                                        pm->zi.types[i].len);
        *p++ = '"';
        *p++ = '}';
        pm->type_labels[i].len = p - pm->type_labels[i].data;
    }

    return pm;
}


static void
ngx_http_rtdash_prom_cleanup(void *data)
{
    ngx_http_rtdash_prom_t  *pm = data;

    ngx_destroy_pool(pm->tmp);
}


/* a slice of the tools, one tool per lock */

static void
ngx_http_rtdash_prom_copy(ngx_http_rtdash_prom_t *pm)
{
    ngx_uint_t               k;
    ngx_queue_t             *sentinel;
    ngx_http_rtdash_ctx_t   *ctx;
    ngx_http_rtdash_node_t  *node;

    ctx = pm->ctx;
    sentinel = ngx_queue_sentinel(&ctx->sh->tools);

    for (k = 0;
         k < NGX_HTTP_RTDASH_PROM_SLICE && pm->q != sentinel
         && pm->n < pm->max;
         k++)
    {
        ngx_http_rtdash_lock(ctx);

        node = ngx_queue_data(pm->q, ngx_http_rtdash_node_t, queue);

        if (node->born <= pm->start) {
            ngx_http_rtdash_summary_locked(ctx, node, pm->now, &pm->s);
            ngx_http_rtdash_unlock(ctx);

            ngx_http_rtdash_prom_keep(pm, &pm->s);

            ngx_http_rtdash_lock(ctx);
        }

        pm->q = ngx_queue_next(pm->q);

        ngx_http_rtdash_unlock(ctx);
    }

    if (pm->q == sentinel || pm->n == pm->max) {
        pm->copying = 0;
    }
}


static void
ngx_http_rtdash_prom_keep(ngx_http_rtdash_prom_t *pm,
    ngx_http_rtdash_summary_t *s)
{
    ngx_http_rtdash_prom_tool_t  *t;

    t = ngx_http_rtdash_prom_tool(pm, pm->n++);

    t->name_len = ngx_http_rtdash_prom_escape(t->name, s->name,
                                              ngx_min(s->name_len,
                                                  NGX_HTTP_RTDASH_TOOL_MAX))
                  - t->name;
    t->updated = s->updated;
    t->value = s->value;
    t->ngauges = ngx_min(s->ngauges, pm->ctx->ngauges);

    ngx_memcpy(ngx_http_rtdash_prom_tool_totals(t), s->totals,
               sizeof(uint64_t) * pm->zi.ntypes);
    ngx_memcpy(ngx_http_rtdash_prom_tool_flagged(pm, t), s->flagged,
               sizeof(uint64_t) * pm->zi.ntypes);
    ngx_memcpy(ngx_http_rtdash_prom_tool_gauges(pm, t), s->gauges,
               sizeof(ngx_http_rtdash_gauge_t) * t->ngauges);
}


/*
 * A slice of the copy, or a chunk of the exposition, sent.  NGX_DONE: to
 * be continued, at the next turn of the event loop or once the client
 * has taken the chunk; else what finalizes the request.
 */

static ngx_int_t
ngx_http_rtdash_prom_step(ngx_http_request_t *r, ngx_http_rtdash_prom_t *pm)
{
    ngx_int_t               rc;
    ngx_uint_t              last;
    ngx_chain_t            *cl;
    ngx_http_rtdash_out_t   o;

    if (pm->copying) {
        ngx_http_rtdash_prom_copy(pm);

        if (pm->copying) {
            ngx_post_event(r->connection->write, &ngx_posted_next_events);
            return NGX_DONE;
        }
    }

    /* the last chunk is all sent: its memory is free again */

    ngx_reset_pool(pm->tmp);
    ngx_http_rtdash_out_init(&o, pm->tmp, NGX_HTTP_RTDASH_PROM_CHUNK
                                          + NGX_HTTP_RTDASH_PROM_CHUNK / 4);
    pm->o = &o;

    last = ngx_http_rtdash_prom_render(pm);

    pm->o = NULL;

    if (o.failed) {
        return pm->header_sent ? NGX_ERROR : NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!pm->header_sent) {
        if (last) {
            return ngx_http_rtdash_send_out(r, NGX_HTTP_OK, &o,
                                            NGX_HTTP_RTDASH_PROM_TYPE);
        }

        pm->header_sent = 1;

        rc = ngx_http_rtdash_prom_header(r);

        if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
            return rc;
        }
    }

    if (o.first == NULL) {
        /* the last chunk ended where the exposition does */
        return ngx_http_send_special(r, NGX_HTTP_LAST);
    }

    if (last) {
        for (cl = o.first; cl->next; cl = cl->next) { /* void */ }

        cl->buf->last_buf = (r == r->main) ? 1 : 0;
        cl->buf->last_in_chain = 1;
    }

    rc = ngx_http_output_filter(r, o.first);

    if (rc == NGX_ERROR || last) {
        return rc;
    }

    pm->sent = o.first;

    if (ngx_http_rtdash_prom_taken(pm)) {
        ngx_post_event(r->connection->write, &ngx_posted_next_events);
        return NGX_DONE;
    }

    return ngx_http_rtdash_prom_wait(r);
}


/* the length is not known: chunked over HTTP/1.1 */

static ngx_int_t
ngx_http_rtdash_prom_header(ngx_http_request_t *r)
{
    if (ngx_http_rtdash_add_header(r, "X-Content-Type-Options", "nosniff",
                                   NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = -1;
    ngx_str_set(&r->headers_out.content_type, NGX_HTTP_RTDASH_PROM_TYPE);
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    return ngx_http_send_header(r);
}


/* every buffer of the chunk sent, or taken by a filter */

static ngx_uint_t
ngx_http_rtdash_prom_taken(ngx_http_rtdash_prom_t *pm)
{
    ngx_chain_t  *cl;

    for (cl = pm->sent; cl; cl = cl->next) {
        if (cl->buf->pos != cl->buf->last) {
            return 0;
        }
    }

    return 1;
}


/* until the client takes more, at most send_timeout */

static ngx_int_t
ngx_http_rtdash_prom_wait(ngx_http_request_t *r)
{
    ngx_event_t               *wev;
    ngx_http_core_loc_conf_t  *clcf;

    wev = r->connection->write;
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (!wev->delayed && !wev->timer_set) {
        ngx_add_timer(wev, clcf->send_timeout);
    }

    if (ngx_handle_write_event(wev, clcf->send_lowat) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_DONE;
}


static void
ngx_http_rtdash_prom_write(ngx_http_request_t *r)
{
    ngx_int_t                rc;
    ngx_event_t             *wev;
    ngx_connection_t        *c;
    ngx_http_rtdash_prom_t  *pm;

    c = r->connection;
    wev = c->write;
    pm = ngx_http_get_module_ctx(r, ngx_http_rtdash_module);

    if (wev->timedout) {
        ngx_log_error(NGX_LOG_INFO, c->log, NGX_ETIMEDOUT,
                      "rtdash: prometheus client timed out");
        c->timedout = 1;
        ngx_http_finalize_request(r, NGX_HTTP_REQUEST_TIME_OUT);
        return;
    }

    if (wev->delayed) {
        /* limit_rate: the write filter's timer brings us back */
        rc = ngx_http_rtdash_prom_wait(r);

    } else if (pm->sent && !ngx_http_rtdash_prom_taken(pm)) {
        rc = ngx_http_output_filter(r, NULL);

        if (rc != NGX_ERROR) {
            rc = ngx_http_rtdash_prom_taken(pm)
                 ? ngx_http_rtdash_prom_step(r, pm)
                 : ngx_http_rtdash_prom_wait(r);
        }

    } else {
        rc = ngx_http_rtdash_prom_step(r, pm);
    }

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


/* the families from where the last chunk stopped, about a chunk of them */

static ngx_uint_t
ngx_http_rtdash_prom_render(ngx_http_rtdash_prom_t *pm)
{
    const ngx_http_rtdash_prom_family_t  *f;

    if (pm->family == 0) {
        ngx_http_rtdash_prom_zone(pm);
        pm->family = 1;
    }

    while (pm->family <= NGX_HTTP_RTDASH_PROM_FAMILIES) {
        f = &ngx_http_rtdash_prom_families[pm->family - 1];

        if (pm->i == 0) {
            ngx_http_rtdash_prom_family(pm, f->name, f->type, f->help);
        }

        while (pm->i < pm->n) {
            f->tool(pm, ngx_http_rtdash_prom_tool(pm, pm->i));
            pm->i++;

            if (pm->o->size >= NGX_HTTP_RTDASH_PROM_CHUNK) {
                return 0;
            }
        }

        pm->family++;
        pm->i = 0;
    }

    return 1;
}


static void
ngx_http_rtdash_prom_family(ngx_http_rtdash_prom_t *pm, const char *name,
    const char *type, const char *help)
{
    ngx_http_rtdash_out_lit(pm->o, "# HELP ");
    ngx_http_rtdash_out_raw(pm->o, (u_char *) name, ngx_strlen(name));
    ngx_http_rtdash_out_lit(pm->o, " ");
    ngx_http_rtdash_out_raw(pm->o, (u_char *) help, ngx_strlen(help));
    ngx_http_rtdash_out_lit(pm->o, "\n# TYPE ");
    ngx_http_rtdash_out_raw(pm->o, (u_char *) name, ngx_strlen(name));
    ngx_http_rtdash_out_lit(pm->o, " ");
    ngx_http_rtdash_out_raw(pm->o, (u_char *) type, ngx_strlen(type));
    ngx_http_rtdash_out_lit(pm->o, "\n");
}


/* "metric{zone="..."": the caller adds labels and "} value" */

static void
ngx_http_rtdash_prom_labels(ngx_http_rtdash_prom_t *pm, const char *metric)
{
    ngx_http_rtdash_out_raw(pm->o, (u_char *) metric, ngx_strlen(metric));
    ngx_http_rtdash_out_lit(pm->o, "{");
    ngx_http_rtdash_prom_label(pm->o, "zone", pm->ctx->name.data,
                               pm->ctx->name.len);
}


/* name="value" */

static void
ngx_http_rtdash_prom_label(ngx_http_rtdash_out_t *o, const char *name,
    const u_char *value, size_t len)
{
    u_char  *p, *start;

    ngx_http_rtdash_out_raw(o, (u_char *) name, ngx_strlen(name));
    ngx_http_rtdash_out_lit(o, "=\"");

    /* the worst case: every byte escaped, and the closing quote */

    start = ngx_http_rtdash_out_reserve(o, len * 2 + 1);
    if (start == NULL) {
        return;
    }

    p = ngx_http_rtdash_prom_escape(start, value, len);
    *p++ = '"';

    o->buf->last = p;
    o->size += p - start;
}


/* a label value escapes backslash, double quote and line feed */

static u_char *
ngx_http_rtdash_prom_escape(u_char *p, const u_char *value, size_t len)
{
    u_char        c;
    const u_char  *end, *run;

    end = value + len;

    while (value < end) {

        /* the bytes that stay as they are, copied at once */

        for (run = value; value < end; value++) {
            c = *value;

            if (c == '\\' || c == '"' || c == '\n') {
                break;
            }
        }

        p = ngx_cpymem(p, run, value - run);

        if (value == end) {
            break;
        }

        *p++ = '\\';
        *p++ = (*value == '\n') ? 'n' : *value;
        value++;
    }

    return p;
}


static void
ngx_http_rtdash_prom_zone(ngx_http_rtdash_prom_t *pm)
{
    uint64_t                  values[9];
    ngx_uint_t                i;
    ngx_http_rtdash_zinfo_t  *zi;

    static const struct {
        const char  *name;
        const char  *type;
        const char  *help;
    } families[] = {
        { "rtdash_zone_size_bytes", "gauge",
          "Size of the shared memory zone." },
        { "rtdash_zone_used_bytes", "gauge",
          "Bytes of the zone in use." },
        { "rtdash_zone_tools", "gauge",
          "Tools in the zone." },
        { "rtdash_zone_max_tools", "gauge",
          "Tools the zone has room for." },
        { "rtdash_zone_events_accepted_total", "counter",
          "Events recorded." },
        { "rtdash_zone_requests_rejected_total", "counter",
          "Ingest requests refused with 400 or 413." },
        { "rtdash_zone_requests_refused_total", "counter",
          "Ingest requests refused with 507, the zone being full." },
        { "rtdash_zone_tools_evicted_total", "counter",
          "Tools evicted to make room for new ones (evict=lru)." },
        { "rtdash_zone_start_time_seconds", "gauge",
          "When the zone's data started, in epoch seconds." }
    };

    zi = &pm->zi;

    values[0] = pm->ctx->size;
    values[1] = zi->used;
    values[2] = zi->ntools;
    values[3] = zi->max_tools;
    values[4] = zi->accepted;
    values[5] = zi->rejected;
    values[6] = zi->refused;
    values[7] = zi->evicted;
    values[8] = zi->started;

    for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
        ngx_http_rtdash_prom_family(pm, families[i].name, families[i].type,
                                    families[i].help);
        ngx_http_rtdash_prom_labels(pm, families[i].name);
        ngx_http_rtdash_out_lit(pm->o, "} ");
        ngx_http_rtdash_out_uint(pm->o, values[i]);
        ngx_http_rtdash_out_lit(pm->o, "\n");
    }

    ngx_http_rtdash_prom_watch(pm);
}


/*
 * Notices posted, alert transitions by the state entered, and the state
 * of every (rule, tool) that is not inactive: 1 pending, 2 firing,
 * 3 resolved
 */

static void
ngx_http_rtdash_prom_watch(ngx_http_rtdash_prom_t *pm)
{
    ngx_uint_t                n, k;
    const char               *s;
    ngx_http_rtdash_acopy_t  *copy, *a;

    ngx_http_rtdash_prom_family(pm, "rtdash_notices_total", "counter",
                                "Notices posted.");
    ngx_http_rtdash_prom_labels(pm, "rtdash_notices_total");
    ngx_http_rtdash_out_lit(pm->o, "} ");
    ngx_http_rtdash_out_uint(pm->o, pm->zi.notices);
    ngx_http_rtdash_out_lit(pm->o, "\n");

    if (pm->ctx->nrules == 0) {
        return;
    }

    ngx_http_rtdash_prom_family(pm, "rtdash_alert_transitions_total",
                                "counter",
                                "Alert states entered (rtdash_alert), by "
                                "state.");

    for (k = NGX_HTTP_RTDASH_INACTIVE; k < NGX_HTTP_RTDASH_STATES; k++) {
        s = ngx_http_rtdash_state_name(k);
        ngx_http_rtdash_prom_labels(pm, "rtdash_alert_transitions_total");
        ngx_http_rtdash_out_lit(pm->o, ",");
        ngx_http_rtdash_prom_label(pm->o, "state", (u_char *) s,
                                   ngx_strlen(s));
        ngx_http_rtdash_out_lit(pm->o, "} ");
        ngx_http_rtdash_out_uint(pm->o, pm->zi.entered[k]);
        ngx_http_rtdash_out_lit(pm->o, "\n");
    }

    ngx_http_rtdash_prom_family(pm, "rtdash_alert_state", "gauge",
                                "State of an alert rule for a tool: 1 "
                                "pending, 2 firing, 3 resolved (inactive "
                                "ones are not listed).");

    if (ngx_http_rtdash_alerts_copy(pm->ctx, NULL, pm->o->pool, 1, &copy, &n)
        != NGX_OK)
    {
        pm->o->failed = 1;
        return;
    }

    for (k = 0; k < n; k++) {
        a = &copy[k];

        ngx_http_rtdash_prom_labels(pm, "rtdash_alert_state");
        ngx_http_rtdash_out_lit(pm->o, ",");
        ngx_http_rtdash_prom_label(pm->o, "rule", a->rule->name.data,
                                   a->rule->name.len);
        ngx_http_rtdash_out_lit(pm->o, ",");
        ngx_http_rtdash_prom_label(pm->o, "tool", a->tool, a->tool_len);
        ngx_http_rtdash_out_lit(pm->o, ",");
        ngx_http_rtdash_prom_label(pm->o, "severity", (u_char *)
                                   ngx_http_rtdash_level_name(
                                                         a->rule->severity),
                                   4);
        ngx_http_rtdash_out_lit(pm->o, "} ");
        ngx_http_rtdash_out_uint(pm->o, a->state);
        ngx_http_rtdash_out_lit(pm->o, "\n");
    }
}


/* per tool and type: every event, or the flagged ones */

static void
ngx_http_rtdash_prom_counts(ngx_http_rtdash_prom_t *pm,
    ngx_http_rtdash_prom_tool_t *t, ngx_uint_t flagged)
{
    u_char      *p;
    uint64_t    *v, *totals;
    ngx_uint_t   k;
    ngx_str_t   *name;

    static ngx_str_t  total = ngx_string("rtdash_events_total");
    static ngx_str_t  flags = ngx_string("rtdash_events_flagged_total");

    name = flagged ? &flags : &total;
    totals = ngx_http_rtdash_prom_tool_totals(t);
    v = flagged ? ngx_http_rtdash_prom_tool_flagged(pm, t) : totals;

    for (k = 0; k < pm->zi.ntypes; k++) {
        if (totals[k] == 0) {
            continue;
        }

        p = ngx_http_rtdash_prom_sample(pm, name, t, pm->type_labels[k].data,
                                        pm->type_labels[k].len);
        if (p == NULL) {
            return;
        }

        ngx_http_rtdash_prom_sample_end(pm, ngx_http_rtdash_prom_uint(p, v[k]));
    }
}


static void
ngx_http_rtdash_prom_totals(ngx_http_rtdash_prom_t *pm,
    ngx_http_rtdash_prom_tool_t *t)
{
    ngx_http_rtdash_prom_counts(pm, t, 0);
}


static void
ngx_http_rtdash_prom_flagged(ngx_http_rtdash_prom_t *pm,
    ngx_http_rtdash_prom_tool_t *t)
{
    ngx_http_rtdash_prom_counts(pm, t, 1);
}


static void
ngx_http_rtdash_prom_levels(ngx_http_rtdash_prom_t *pm,
    ngx_http_rtdash_prom_tool_t *t)
{
    static ngx_str_t  name = ngx_string("rtdash_tool_level");

    ngx_http_rtdash_prom_slots(pm, t, &name, NGX_HTTP_RTDASH_GAUGE);
}


static void
ngx_http_rtdash_prom_sums(ngx_http_rtdash_prom_t *pm,
    ngx_http_rtdash_prom_tool_t *t)
{
    static ngx_str_t  name = ngx_string("rtdash_tool_sum_total");

    ngx_http_rtdash_prom_slots(pm, t, &name, NGX_HTTP_RTDASH_SUM);
}


/* a tool's gauges, or its sums: one sample each, labelled by name */

static void
ngx_http_rtdash_prom_slots(ngx_http_rtdash_prom_t *pm,
    ngx_http_rtdash_prom_tool_t *t, ngx_str_t *name, ngx_uint_t kind)
{
    u_char                   *p, *e;
    ngx_uint_t                k;
    ngx_http_rtdash_gauge_t  *g;
    u_char                    label[sizeof(",name=\"\"}")
                                    + 2 * NGX_HTTP_RTDASH_TOKEN_MAX];

    g = ngx_http_rtdash_prom_tool_gauges(pm, t);

    for (k = 0; k < t->ngauges; k++) {
        if (g[k].kind != kind) {
            continue;
        }

        e = ngx_cpymem(label, ",name=\"", sizeof(",name=\"") - 1);
        e = ngx_http_rtdash_prom_escape(e, g[k].name, g[k].len);
        *e++ = '"';
        *e++ = '}';

        p = ngx_http_rtdash_prom_sample(pm, name, t, label, e - label);
        if (p == NULL) {
            return;
        }

        ngx_http_rtdash_prom_sample_end(pm,
                          ngx_http_rtdash_prom_fmt_value(p, g[k].value, 15));
    }
}


static void
ngx_http_rtdash_prom_last(ngx_http_rtdash_prom_t *pm,
    ngx_http_rtdash_prom_tool_t *t)
{
    u_char    *p;
    uint64_t   ms;

    static ngx_str_t  name = ngx_string("rtdash_tool_last_event_time_seconds");

    p = ngx_http_rtdash_prom_sample(pm, &name, t, (u_char *) "}", 1);
    if (p == NULL) {
        return;
    }

    if (!(t->updated >= 0 && t->updated < 1e10)) {
        ngx_http_rtdash_prom_sample_end(pm,
                            ngx_http_rtdash_prom_fmt_value(p, t->updated, 13));
        return;
    }

    /* epoch seconds to the millisecond, the zeros after the point left out */

    ms = (uint64_t) (t->updated * 1000 + 0.5);

    *p++ = ' ';
    p = ngx_http_rtdash_fmt_uint(p, ms / 1000);

    if (ms % 1000) {
        *p++ = '.';
        *p++ = (u_char) ('0' + ms % 1000 / 100);

        if (ms % 100) {
            *p++ = (u_char) ('0' + ms % 100 / 10);

            if (ms % 10) {
                *p++ = (u_char) ('0' + ms % 10);
            }
        }
    }

    *p++ = '\n';

    ngx_http_rtdash_prom_sample_end(pm, p);
}


/* the values of a tool's events as a summary: quantiles since the start */

static void
ngx_http_rtdash_prom_values(ngx_http_rtdash_prom_t *pm,
    ngx_http_rtdash_prom_tool_t *t)
{
    u_char                   *p;
    double                    v[3];
    ngx_uint_t                q;
    ngx_http_rtdash_vstat_t  *vs;

    static ngx_str_t          name = ngx_string("rtdash_value");
    static ngx_str_t          sum_count[] = {
        ngx_string("rtdash_value_sum"), ngx_string("rtdash_value_count")
    };

    /* the order of ngx_http_rtdash_quantiles[] */
    static ngx_str_t          quantiles[] = {
        ngx_string(",quantile=\"0.5\"}"),
        ngx_string(",quantile=\"0.95\"}"),
        ngx_string(",quantile=\"0.99\"}")
    };

    vs = &t->value;

    ngx_http_rtdash_vstat_quantiles(vs, ngx_http_rtdash_quantiles, v, 3);

    for (q = 0; q < sizeof(quantiles) / sizeof(quantiles[0]); q++) {
        p = ngx_http_rtdash_prom_sample(pm, &name, t, quantiles[q].data,
                                        quantiles[q].len);
        if (p == NULL) {
            return;
        }

        /* 4 digits, as stats: the histogram is not finer */
        ngx_http_rtdash_prom_sample_end(pm,
                      ngx_http_rtdash_prom_fmt_value(p, vs->count ? v[q] : NAN,
                                                     4));
    }

    ngx_http_rtdash_prom_sum_count(pm, t, sum_count);
}


/*
 * The same values as a cumulative histogram, which, unlike the summary's
 * quantiles, adds up across nodes: sum by (le) the buckets of a fleet and
 * histogram_quantile() gives the fleet's quantiles.  A bucket counts the
 * values below its bound (the zone's bins are [2^k, 2^(k+1))), the +Inf
 * bucket all of them.
 */

static void
ngx_http_rtdash_prom_histogram(ngx_http_rtdash_prom_t *pm,
    ngx_http_rtdash_prom_tool_t *t)
{
    u_char                   *p;
    ngx_uint_t                k;
    ngx_http_rtdash_vstat_t  *vs;
    uint64_t                  below[NGX_HTTP_RTDASH_PROM_LE_MAX
                                    - NGX_HTTP_RTDASH_PROM_LE_MIN + 2];

    static ngx_str_t          name = ngx_string("rtdash_value_hist_bucket");
    static ngx_str_t          sum_count[] = {
        ngx_string("rtdash_value_hist_sum"),
        ngx_string("rtdash_value_hist_count")
    };

    /* the bounds as the exposition writes them, 2^-3 up, then +Inf */
#define ngx_http_rtdash_prom_le(s)  ngx_string(",le=\"" s "\"}")
    static ngx_str_t          le[] = {
        ngx_http_rtdash_prom_le("0.125"), ngx_http_rtdash_prom_le("0.25"),
        ngx_http_rtdash_prom_le("0.5"), ngx_http_rtdash_prom_le("1"),
        ngx_http_rtdash_prom_le("2"), ngx_http_rtdash_prom_le("4"),
        ngx_http_rtdash_prom_le("8"), ngx_http_rtdash_prom_le("16"),
        ngx_http_rtdash_prom_le("32"), ngx_http_rtdash_prom_le("64"),
        ngx_http_rtdash_prom_le("128"), ngx_http_rtdash_prom_le("256"),
        ngx_http_rtdash_prom_le("512"), ngx_http_rtdash_prom_le("1024"),
        ngx_http_rtdash_prom_le("2048"), ngx_http_rtdash_prom_le("4096"),
        ngx_http_rtdash_prom_le("8192"), ngx_http_rtdash_prom_le("16384"),
        ngx_http_rtdash_prom_le("32768"), ngx_http_rtdash_prom_le("65536"),
        ngx_http_rtdash_prom_le("131072"), ngx_http_rtdash_prom_le("+Inf")
    };
#undef ngx_http_rtdash_prom_le

    vs = &t->value;

    ngx_http_rtdash_vstat_below_octaves(vs, NGX_HTTP_RTDASH_PROM_LE_MIN,
                                        NGX_HTTP_RTDASH_PROM_LE_MAX, below);
    below[NGX_HTTP_RTDASH_PROM_LE_MAX - NGX_HTTP_RTDASH_PROM_LE_MIN + 1] =
        vs->count;

    for (k = 0; k < sizeof(below) / sizeof(below[0]); k++) {
        p = ngx_http_rtdash_prom_sample(pm, &name, t, le[k].data, le[k].len);
        if (p == NULL) {
            return;
        }

        ngx_http_rtdash_prom_sample_end(pm,
                                        ngx_http_rtdash_prom_uint(p, below[k]));
    }

    ngx_http_rtdash_prom_sum_count(pm, t, sum_count);
}


/* the _sum and _count samples of a tool's values: names[0], names[1] */

static void
ngx_http_rtdash_prom_sum_count(ngx_http_rtdash_prom_t *pm,
    ngx_http_rtdash_prom_tool_t *t, ngx_str_t *names)
{
    u_char  *p;

    p = ngx_http_rtdash_prom_sample(pm, &names[0], t, (u_char *) "}", 1);
    if (p == NULL) {
        return;
    }

    ngx_http_rtdash_prom_sample_end(pm,
                          ngx_http_rtdash_prom_fmt_value(p, t->value.sum, 15));

    p = ngx_http_rtdash_prom_sample(pm, &names[1], t, (u_char *) "}", 1);
    if (p == NULL) {
        return;
    }

    ngx_http_rtdash_prom_sample_end(pm,
                                ngx_http_rtdash_prom_uint(p, t->value.count));
}


/*
 * A sample of a tool, "metric{zone="z",tool="t"" and "extra" (its other
 * labels and the "}"), written with room for its value after it: the
 * caller writes the value (ngx_http_rtdash_prom_uint or _fmt_value) at
 * the pointer returned and ends the sample.  NULL: out of memory.
 */

static u_char *
ngx_http_rtdash_prom_sample(ngx_http_rtdash_prom_t *pm, ngx_str_t *metric,
    ngx_http_rtdash_prom_tool_t *t, const u_char *extra, size_t len)
{
    u_char  *p;

    p = ngx_http_rtdash_out_reserve(pm->o, metric->len + pm->zone_label.len
                                           + t->name_len + 1 + len
                                           + NGX_HTTP_RTDASH_PROM_VALUE_LEN);
    if (p == NULL) {
        return NULL;
    }

    p = ngx_cpymem(p, metric->data, metric->len);
    p = ngx_cpymem(p, pm->zone_label.data, pm->zone_label.len);
    p = ngx_cpymem(p, t->name, t->name_len);
    *p++ = '"';

    return ngx_cpymem(p, extra, len);
}


static void
ngx_http_rtdash_prom_sample_end(ngx_http_rtdash_prom_t *pm, u_char *p)
{
    pm->o->size += p - pm->o->buf->last;
    pm->o->buf->last = p;
}


/* " n\n" */

static u_char *
ngx_http_rtdash_prom_uint(u_char *p, uint64_t n)
{
    *p++ = ' ';
    p = ngx_http_rtdash_fmt_uint(p, n);
    *p++ = '\n';

    return p;
}


/*
 * " v\n": NaN and the infinities as the format spells them, else as JSON
 * numbers
 */

static u_char *
ngx_http_rtdash_prom_fmt_value(u_char *p, double v, int digits)
{
    *p++ = ' ';

    if (isnan(v)) {
        p = ngx_cpymem(p, "NaN", 3);

    } else if (isinf(v)) {
        p = ngx_cpymem(p, v > 0 ? "+Inf" : "-Inf", 4);

    } else {
        p = ngx_http_rtdash_fmt_num_g(p, v, digits);
    }

    *p++ = '\n';

    return p;
}
