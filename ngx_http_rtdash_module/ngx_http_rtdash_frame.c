
/*
 * rtdash: stream frames.  A frame is rendered once for a filter (the
 * tools and event count a group of subscribers asked for) and shared by
 * every subscriber of the group: a refcounted buffer in a pool of its
 * own.  Rendering copies what the frame shows out of the zone, one tool
 * per lock (collect), adds buckets up across tools, merges raw events
 * newest first, and writes the JSON inside the transport's framing.
 */


#include "ngx_http_rtdash_module.h"


#define NGX_HTTP_RTDASH_ACTIVE      61      /* s a tool's rates move */


/* a raw event and the summary of its tool */
typedef struct {
    ngx_http_rtdash_summary_t   *tool;
    ngx_http_rtdash_event_t      ev;
} ngx_http_rtdash_sev_t;


/* what a render takes from the zone */
typedef struct {
    ngx_http_rtdash_frames_t    *fr;
    ngx_http_rtdash_ctx_t       *ctx;
    ngx_http_rtdash_filter_t    *filter;
    const ngx_http_rtdash_framing_t  *framing;
    ngx_http_rtdash_frame_mode_e mode;
    uint64_t                     since;
    ngx_uint_t                   window;
    ngx_pool_t                  *tmp;
    ngx_http_rtdash_zinfo_t      zi;
    ngx_http_rtdash_summary_t   *tools;
    ngx_http_rtdash_summary_t  **order;       /* &tools[i] */
    ngx_uint_t                   ntools;
    ngx_uint_t                   max_tools;
    ngx_http_rtdash_sev_t       *events;      /* newest first */
    ngx_uint_t                   nevents;
    ngx_uint_t                   missed;      /* events beyond the cap */
    ngx_uint_t                   lost;        /* not in the rings */
    uint32_t                    *seconds;     /* sec bucket sums */
    ngx_http_rtdash_minute_t    *minutes;     /* minute bucket sums */
    ngx_uint_t                   nseconds;
    ngx_uint_t                   nminutes;
    ngx_http_rtdash_hwide_t     *users;       /* snapshot: the span */
    ngx_http_rtdash_vwide_t     *values;
    time_t                       now;
} ngx_http_rtdash_render_t;


static ngx_int_t ngx_http_rtdash_render_init(ngx_http_rtdash_render_t *rd);
static ngx_int_t ngx_http_rtdash_render_collect(
    ngx_http_rtdash_render_t *rd);
static ngx_int_t ngx_http_rtdash_collect_locked(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_node_t *node);
static void ngx_http_rtdash_collect_buckets_locked(
    ngx_http_rtdash_render_t *rd, ngx_http_rtdash_node_t *node);
static void ngx_http_rtdash_collect_events_locked(
    ngx_http_rtdash_render_t *rd, ngx_http_rtdash_node_t *node,
    ngx_http_rtdash_summary_t *s);
static void ngx_http_rtdash_merge_events(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_sev_t *evs, ngx_uint_t n);
static void ngx_http_rtdash_add_minute(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_minute_t *dst, ngx_http_rtdash_minute_t *src);
static ngx_http_rtdash_frame_t *ngx_http_rtdash_render_write(
    ngx_http_rtdash_render_t *rd);
static void ngx_http_rtdash_render_json(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_out_t *o);
static void ngx_http_rtdash_render_buckets(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_out_t *o);


void
ngx_http_rtdash_frame_release(ngx_http_rtdash_frame_t *frame)
{
    if (--frame->refs == 0) {
        ngx_destroy_pool(frame->pool);
    }
}


/* a frame of fixed text (a ping, the closing frame) */

ngx_http_rtdash_frame_t *
ngx_http_rtdash_frame_text(ngx_log_t *log, const char *text, size_t len)
{
    ngx_pool_t               *pool;
    ngx_http_rtdash_frame_t  *frame;

    pool = ngx_create_pool(256, log);
    if (pool == NULL) {
        return NULL;
    }

    frame = ngx_palloc(pool, sizeof(ngx_http_rtdash_frame_t));
    if (frame == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    frame->pool = pool;
    frame->data = (u_char *) text;
    frame->len = len;
    frame->refs = 1;
    frame->next = NULL;

    return frame;
}


/*
 * Render a frame for a filter: a snapshot of the window; an update of
 * what changed since "since" (NULL when no tool of the filter did); or a
 * resume update (NULL when what was missed is no longer in the rings).
 * *active: a tool of the filter saw events in the last minute, so its
 * rates move with time alone.
 */

ngx_http_rtdash_frame_t *
ngx_http_rtdash_frame_render(ngx_http_rtdash_frames_t *fr,
    ngx_http_rtdash_filter_t *filter,
    const ngx_http_rtdash_framing_t *framing,
    ngx_http_rtdash_frame_mode_e mode, uint64_t since, ngx_uint_t window,
    ngx_uint_t *active)
{
    ngx_uint_t                 i;
    ngx_http_rtdash_frame_t   *frame;
    ngx_http_rtdash_render_t   rd;

    *active = 0;

    ngx_memzero(&rd, sizeof(ngx_http_rtdash_render_t));

    rd.fr = fr;
    rd.ctx = fr->ctx;
    rd.filter = filter;
    rd.framing = framing;
    rd.mode = mode;
    rd.since = since;
    rd.window = window;

    if (ngx_http_rtdash_render_init(&rd) != NGX_OK) {
        return NULL;
    }

    frame = NULL;

    if (ngx_http_rtdash_render_collect(&rd) != NGX_OK) {
        goto done;
    }

    for (i = 0; i < rd.ntools; i++) {
        if (rd.tools[i].updated >= (double) (rd.now - NGX_HTTP_RTDASH_ACTIVE))
        {
            *active = 1;
        }
    }

    if (mode == NGX_HTTP_RTDASH_FRAME_RESUME && (rd.lost || rd.missed)) {
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, fr->log, 0,
                       "rtdash frame: no resume from %uL, %ui events lost, "
                       "%ui missed", since, rd.lost, rd.missed);
        goto done;
    }

    if (mode == NGX_HTTP_RTDASH_FRAME_UPDATE && rd.ntools == 0) {
        goto done;
    }

    rd.order = ngx_palloc(rd.tmp, (rd.ntools + 1)
                                  * sizeof(ngx_http_rtdash_summary_t *));
    if (rd.order == NULL) {
        goto done;
    }

    for (i = 0; i < rd.ntools; i++) {
        rd.order[i] = &rd.tools[i];
    }

    frame = ngx_http_rtdash_render_write(&rd);

done:

    ngx_destroy_pool(rd.tmp);

    return frame;
}


static ngx_int_t
ngx_http_rtdash_render_init(ngx_http_rtdash_render_t *rd)
{
    ngx_uint_t                 snapshot;
    ngx_http_rtdash_ctx_t     *ctx;
    ngx_http_rtdash_frames_t  *fr;

    fr = rd->fr;
    ctx = rd->ctx;
    snapshot = (rd->mode == NGX_HTTP_RTDASH_FRAME_SNAPSHOT);

    rd->now = ngx_time();
    rd->nseconds = snapshot ? 60 : 2;
    rd->nminutes = snapshot ? (rd->window + 59) / 60 : 1;

    rd->tmp = ngx_create_pool(16384, fr->log);
    if (rd->tmp == NULL) {
        return NGX_ERROR;
    }

    ngx_shmtx_lock(&ctx->shpool->mutex);
    ngx_http_rtdash_zinfo_locked(ctx, &rd->zi);
    ngx_shmtx_unlock(&ctx->shpool->mutex);

    /* summaries go to memory kept from render to render */

    rd->max_tools = (rd->filter->ntools ? rd->filter->ntools
                                        : rd->zi.ntools) + 16;

    if (fr->nsummaries < rd->max_tools) {
        if (fr->summaries) {
            ngx_free(fr->summaries);
        }

        fr->nsummaries = rd->max_tools + rd->max_tools / 2;
        fr->summaries = ngx_alloc(fr->nsummaries
                                  * sizeof(ngx_http_rtdash_summary_t),
                                  fr->log);
        if (fr->summaries == NULL) {
            fr->nsummaries = 0;
            goto failed;
        }
    }

    rd->tools = fr->summaries;

    rd->seconds = ngx_pcalloc(rd->tmp, ctx->layout.sec_size * rd->nseconds);
    rd->minutes = ngx_pcalloc(rd->tmp, ctx->layout.min_size * rd->nminutes);

    if (snapshot) {
        rd->users = ngx_palloc(rd->tmp, sizeof(ngx_http_rtdash_hwide_t));
        rd->values = ngx_palloc(rd->tmp, sizeof(ngx_http_rtdash_vwide_t));

        if (rd->users == NULL || rd->values == NULL) {
            goto failed;
        }

        ngx_http_rtdash_hwide_init(rd->users);
        ngx_http_rtdash_vwide_init(rd->values);

    } else {
        rd->users = NULL;
        rd->values = NULL;
    }

    /* the frame's list, a tool's list, the merge: cap + 1 each */

    rd->events = ngx_palloc(rd->tmp, (rd->filter->events + 1) * 3
                                     * sizeof(ngx_http_rtdash_sev_t));

    if (rd->seconds == NULL || rd->minutes == NULL || rd->events == NULL) {
        goto failed;
    }

    return NGX_OK;

failed:

    ngx_destroy_pool(rd->tmp);
    rd->tmp = NULL;

    return NGX_ERROR;
}


/* the tools of the filter, or every tool; one lock per tool */

static ngx_int_t
ngx_http_rtdash_render_collect(ngx_http_rtdash_render_t *rd)
{
    ngx_int_t                  rc;
    ngx_uint_t                 i;
    ngx_queue_t               *q;
    ngx_http_rtdash_ctx_t     *ctx;
    ngx_http_rtdash_node_t    *node;
    ngx_http_rtdash_filter_t  *f;

    ctx = rd->ctx;
    f = rd->filter;
    rc = NGX_OK;

    if (f->ntools) {
        for (i = 0; i < f->ntools && rc == NGX_OK; i++) {
            ngx_shmtx_lock(&ctx->shpool->mutex);

            node = ngx_http_rtdash_lookup_locked(ctx, f->hashes[i],
                                                 f->tools[i].data,
                                                 f->tools[i].len);
            if (node) {
                rc = ngx_http_rtdash_collect_locked(rd, node);
            }

            ngx_shmtx_unlock(&ctx->shpool->mutex);
        }

        return rc;
    }

    /* tools are never removed once seen: the queue only grows */

    ngx_shmtx_lock(&ctx->shpool->mutex);
    q = ngx_queue_head(&ctx->sh->tools);

    while (q != ngx_queue_sentinel(&ctx->sh->tools) && rc == NGX_OK) {
        node = ngx_queue_data(q, ngx_http_rtdash_node_t, queue);
        rc = ngx_http_rtdash_collect_locked(rd, node);
        q = ngx_queue_next(q);

        /* let writers in between tools */
        ngx_shmtx_unlock(&ctx->shpool->mutex);
        ngx_shmtx_lock(&ctx->shpool->mutex);
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


/* under the lock: copy what a frame needs of one tool, add up buckets */

static ngx_int_t
ngx_http_rtdash_collect_locked(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_node_t *node)
{
    ngx_http_rtdash_summary_t  *s;

    if (rd->mode != NGX_HTTP_RTDASH_FRAME_SNAPSHOT && node->seq <= rd->since
        && node->updated < (double) (rd->now - NGX_HTTP_RTDASH_ACTIVE))
    {
        return NGX_OK;
    }

    if (rd->ntools == rd->max_tools) {
        /* tools that came after the render started: the next frame */
        return NGX_OK;
    }

    s = &rd->tools[rd->ntools++];

    ngx_http_rtdash_summary_locked(rd->ctx, node, rd->now, s);
    ngx_http_rtdash_collect_buckets_locked(rd, node);

    if (rd->filter->events) {
        ngx_http_rtdash_collect_events_locked(rd, node, s);
    }

    return NGX_OK;
}


static void
ngx_http_rtdash_collect_buckets_locked(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_node_t *node)
{
    time_t                     t, first;
    uint32_t                  *src, *dst;
    ngx_uint_t                 i, k;
    ngx_http_rtdash_ctx_t     *ctx;
    ngx_http_rtdash_minute_t  *m;

    ctx = rd->ctx;

    for (i = 0; i < rd->nseconds; i++) {
        t = rd->now - (rd->nseconds - 1 - i);
        src = ngx_http_rtdash_second_slot(ctx, node, t);

        if (src[0] != (uint32_t) t) {
            continue;
        }

        dst = ngx_http_rtdash_bucket(rd->seconds, i, ctx->layout.sec_size);
        dst[0] = (uint32_t) t;

        for (k = 1; k <= 2 * ctx->ntypes; k++) {
            dst[k] += src[k];
        }
    }

    first = rd->now - rd->now % 60 - (rd->nminutes - 1) * 60;

    for (i = 0; i < rd->nminutes; i++) {
        t = first + i * 60;
        m = ngx_http_rtdash_minute_slot(ctx, node, t);

        if (m->t != (uint32_t) t) {
            continue;
        }

        if (rd->users) {
            /* across tools in the wide forms: no bound is lost */
            ngx_http_rtdash_hwide_add(rd->users, &m->users);
            ngx_http_rtdash_vwide_add(rd->values, &m->value);
        }

        ngx_http_rtdash_add_minute(rd,
                                   ngx_http_rtdash_bucket(rd->minutes, i,
                                                       ctx->layout.min_size),
                                   m);
    }
}


/* raw events: the newest of this tool, newer than "since" */

static void
ngx_http_rtdash_collect_events_locked(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_node_t *node, ngx_http_rtdash_summary_t *s)
{
    uint64_t                  avail;
    ngx_uint_t                n, snapshot;
    ngx_http_rtdash_ctx_t    *ctx;
    ngx_http_rtdash_sev_t    *evs;
    ngx_http_rtdash_event_t  *e;

    ctx = rd->ctx;
    snapshot = (rd->mode == NGX_HTTP_RTDASH_FRAME_SNAPSHOT);
    avail = ngx_min(node->nevents, ctx->nevents);
    evs = rd->events + rd->filter->events + 1;

    for (n = 0; n < avail; n++) {
        e = ngx_http_rtdash_ring_slot(ctx, node, node->nevents - 1 - n);

        if (!snapshot && e->seq <= rd->since) {
            break;
        }

        if (n == rd->filter->events) {
            rd->missed++;
            break;
        }

        evs[n].tool = s;
        evs[n].ev = *e;
    }

    if (!snapshot && n == avail && node->nevents > avail
        && ngx_http_rtdash_ring_slot(ctx, node, node->nevents)->seq
           > rd->since + 1)
    {
        /* the ring wrapped past what the client saw */
        rd->lost++;
    }

    ngx_http_rtdash_merge_events(rd, evs, n);
}


/* merge n events (newest first) into the frame's newest-first list */

static void
ngx_http_rtdash_merge_events(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_sev_t *evs, ngx_uint_t n)
{
    ngx_uint_t              i, j, k, cap;
    ngx_http_rtdash_sev_t  *out;

    if (n == 0) {
        return;
    }

    cap = rd->filter->events;

    out = evs + n;          /* room after the tool's events */

    i = 0;
    j = 0;
    k = 0;

    while (k < cap && (i < rd->nevents || j < n)) {
        if (j >= n
            || (i < rd->nevents && rd->events[i].ev.seq > evs[j].ev.seq))
        {
            out[k++] = rd->events[i++];

        } else {
            out[k++] = evs[j++];
        }
    }

    if (i < rd->nevents || j < n) {
        rd->missed++;
    }

    ngx_memcpy(rd->events, out, k * sizeof(ngx_http_rtdash_sev_t));
    rd->nevents = k;
}


static void
ngx_http_rtdash_add_minute(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_minute_t *dst, ngx_http_rtdash_minute_t *src)
{
    uint32_t    *a, *b;
    ngx_uint_t   i, n;

    dst->t = src->t;

    ngx_http_rtdash_hll_merge(&dst->users, &src->users);
    ngx_http_rtdash_vstat_merge(&dst->value, &src->value);

    a = ngx_http_rtdash_minute_counts(dst);
    b = ngx_http_rtdash_minute_counts(src);
    n = 2 * rd->ctx->ntypes;

    for (i = 0; i < n; i++) {
        a[i] += b[i];
    }
}


/*
 * The frame is written into a pool of its own, in one buffer sized
 * after the last frame of its kind, so it needs no copy as a rule.
 */

static ngx_http_rtdash_frame_t *
ngx_http_rtdash_render_write(ngx_http_rtdash_render_t *rd)
{
    u_char                   *p;
    size_t                   *hint;
    ngx_pool_t               *pool;
    ngx_chain_t              *cl;
    ngx_http_rtdash_out_t     o;
    ngx_http_rtdash_frame_t  *frame;

    hint = &rd->fr->hint[rd->mode == NGX_HTTP_RTDASH_FRAME_SNAPSHOT];

    pool = ngx_create_pool(NGX_MIN_POOL_SIZE, rd->fr->log);
    if (pool == NULL) {
        return NULL;
    }

    frame = ngx_palloc(pool, sizeof(ngx_http_rtdash_frame_t));
    if (frame == NULL) {
        goto failed;
    }

    ngx_http_rtdash_out_init(&o, pool, ngx_max(*hint, 16384));

    rd->framing->open(&o, rd->mode, rd->zi.seq);
    ngx_http_rtdash_render_json(rd, &o);
    rd->framing->close(&o);

    if (o.failed) {
        goto failed;
    }

    if (o.size + o.size / 4 > *hint) {
        *hint = o.size + o.size / 4;
    }

    frame->pool = pool;
    frame->len = o.size;
    frame->refs = 1;
    frame->next = NULL;

    if (o.first->next == NULL) {
        frame->data = o.first->buf->pos;

    } else {
        frame->data = ngx_pnalloc(pool, o.size);
        if (frame->data == NULL) {
            goto failed;
        }

        p = frame->data;

        for (cl = o.first; cl; cl = cl->next) {
            p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
        }
    }

    if (rd->framing->finish) {
        rd->framing->finish(frame);
    }

    return frame;

failed:

    ngx_destroy_pool(pool);

    return NULL;
}


static void
ngx_http_rtdash_render_json(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_out_t *o)
{
    ngx_uint_t                 i;
    ngx_http_rtdash_filter_t  *f;

    f = rd->filter;

    ngx_http_rtdash_out_lit(o, "{\"seq\":");
    ngx_http_rtdash_out_uint(o, rd->zi.seq);
    ngx_http_rtdash_out_lit(o, ",");
    ngx_http_rtdash_json_overview(o, rd->ctx, &rd->zi, rd->order,
                                  rd->ntools, -1);

    if (rd->mode == NGX_HTTP_RTDASH_FRAME_SNAPSHOT) {
        ngx_http_rtdash_out_lit(o, ",\"tool\":[");

        for (i = 0; i < f->ntools; i++) {
            if (i) {
                ngx_http_rtdash_out_lit(o, ",");
            }

            ngx_http_rtdash_out_str(o, f->tools[i].data, f->tools[i].len);
        }

        ngx_http_rtdash_out_lit(o, "],\"window\":");
        ngx_http_rtdash_out_uint(o, rd->window);
        ngx_http_rtdash_out_lit(o, ",");
        ngx_http_rtdash_json_span(o,
                                  rd->now - rd->now % 60
                                  - (time_t) (rd->nminutes - 1) * 60,
                                  rd->now - rd->now % 60 + 60,
                                  rd->users, rd->values);
    }

    ngx_http_rtdash_render_buckets(rd, o);

    ngx_http_rtdash_out_lit(o, ",\"events\":[");

    for (i = 0; i < rd->nevents; i++) {
        if (i) {
            ngx_http_rtdash_out_lit(o, ",");
        }

        ngx_http_rtdash_json_event(o, &rd->zi, &rd->events[i].ev,
                                   rd->events[i].tool->name,
                                   rd->events[i].tool->name_len);
    }

    ngx_http_rtdash_out_lit(o, "]}");
}


static void
ngx_http_rtdash_render_buckets(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_out_t *o)
{
    time_t                     t;
    uint32_t                  *sec;
    ngx_uint_t                 i;
    ngx_http_rtdash_ctx_t     *ctx;
    ngx_http_rtdash_minute_t  *m;

    ctx = rd->ctx;

    ngx_http_rtdash_out_lit(o, ",\"minutes\":[");

    for (i = 0; i < rd->nminutes; i++) {
        if (i) {
            ngx_http_rtdash_out_lit(o, ",");
        }

        t = rd->now - rd->now % 60 - (rd->nminutes - 1 - i) * 60;
        m = ngx_http_rtdash_bucket(rd->minutes, i, ctx->layout.min_size);

        ngx_http_rtdash_json_minute(o, ctx, &rd->zi, NULL, 0,
                                    m->t ? m : NULL, t);
    }

    ngx_http_rtdash_out_lit(o, "],\"seconds\":[");

    for (i = 0; i < rd->nseconds; i++) {
        if (i) {
            ngx_http_rtdash_out_lit(o, ",");
        }

        sec = ngx_http_rtdash_bucket(rd->seconds, i, ctx->layout.sec_size);

        ngx_http_rtdash_json_second(o, ctx, &rd->zi, sec[0] ? sec : NULL,
                                    rd->now - (rd->nseconds - 1 - i));
    }

    ngx_http_rtdash_out_lit(o, "]");
}
