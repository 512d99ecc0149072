
/*
 * rtdash: stream frames.  A frame is rendered once for a filter (the
 * tools and event count a group of subscribers asked for) and shared by
 * every subscriber of the group: a refcounted buffer in a pool of its
 * own.  Rendering copies what the frame shows out of the zone, one tool
 * per lock (collect), adds buckets up across tools, merges raw events
 * newest first, and writes the JSON inside the transport's framing.
 *
 * The buckets and events cover every tool of the filter; the list of
 * tools holds at most the filter's limit of them, the most recently
 * written (by their seq), kept in a heap as the walk goes, so a frame of
 * a zone of 10,000 tools holds summaries for the limit only.
 */


#include "ngx_http_rtdash_module.h"


#define NGX_HTTP_RTDASH_ACTIVE      61      /* s a tool's rates move */
#define NGX_HTTP_RTDASH_SNAPSHOT_NOTICES  20


/* a raw event and the name of its tool */
typedef struct {
    u_char                      *tool;
    size_t                       tool_len;
    ngx_http_rtdash_event_t      ev;
} ngx_http_rtdash_sev_t;


/* a tool kept for the frame's list, and its place in the walk */
typedef struct {
    ngx_http_rtdash_summary_t   *s;
    ngx_uint_t                   i;
} ngx_http_rtdash_kept_t;


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
    ngx_http_rtdash_summary_t   *tools;       /* cap + 1 slots */
    ngx_http_rtdash_summary_t   *spare;       /* the slot to copy into */
    ngx_http_rtdash_kept_t      *kept;        /* a heap, oldest seq first */
    ngx_uint_t                   nkept;
    ngx_uint_t                   cap;
    ngx_uint_t                   matched;     /* tools the frame covers */
    ngx_uint_t                   active;
    ngx_http_rtdash_summary_t  **order;       /* kept, in the walk's order */
    ngx_http_rtdash_sev_t       *events;      /* newest first */
    ngx_uint_t                   nevents;
    ngx_uint_t                   fresh;       /* a tool's, in events */
    ngx_uint_t                   missed;      /* events beyond the cap */
    ngx_uint_t                   lost;        /* not in the rings */
    uint32_t                    *seconds;     /* sec bucket sums */
    ngx_http_rtdash_minute_t    *minutes;     /* minute bucket sums */
    ngx_uint_t                   nseconds;
    ngx_uint_t                   nminutes;
    ngx_http_rtdash_minute_t    *one;         /* a tool's minute, read */
    ngx_http_rtdash_gauge_t     *sums;        /* the buckets' sum names */
    ngx_uint_t                   nsums;       /*   (gauges= at most) */
    ngx_http_rtdash_hwide_t     *users;       /* snapshot: the span */
    ngx_http_rtdash_vwide_t     *values;
    time_t                       now;
} ngx_http_rtdash_render_t;


static ngx_http_rtdash_frame_t *ngx_http_rtdash_frame_join(ngx_log_t *log,
    ngx_http_rtdash_out_t *o, ngx_http_rtdash_frame_t *frame);
static ngx_int_t ngx_http_rtdash_render_init(ngx_http_rtdash_render_t *rd);
static void ngx_http_rtdash_render_watch(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_out_t *o);
static ngx_int_t ngx_http_rtdash_render_collect(
    ngx_http_rtdash_render_t *rd);
static ngx_http_rtdash_summary_t *ngx_http_rtdash_collect_locked(
    ngx_http_rtdash_render_t *rd, ngx_http_rtdash_node_t *node);
static ngx_int_t ngx_http_rtdash_collect_done(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_summary_t *s);
static void ngx_http_rtdash_keep(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_summary_t *s);
static void ngx_http_rtdash_kept_sift(ngx_http_rtdash_render_t *rd,
    ngx_uint_t i);
static int ngx_cdecl ngx_http_rtdash_kept_cmp(const void *a, const void *b);
static void ngx_http_rtdash_collect_buckets_locked(
    ngx_http_rtdash_render_t *rd, ngx_http_rtdash_node_t *node);
static void ngx_http_rtdash_collect_events_locked(
    ngx_http_rtdash_render_t *rd, ngx_http_rtdash_node_t *node,
    ngx_http_rtdash_summary_t *s);
static void ngx_http_rtdash_merge_events(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_sev_t *evs, ngx_uint_t n);
static void ngx_http_rtdash_add_minute(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_minute_t *dst, ngx_http_rtdash_minute_t *src,
    u_char *map);
static void ngx_http_rtdash_sums_map(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_node_t *node, u_char *map);
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


ngx_uint_t
ngx_http_rtdash_filter_has(ngx_http_rtdash_filter_t *f, u_char *name,
    size_t len)
{
    ngx_uint_t  i;

    if (f == NULL || f->ntools == 0) {
        return 1;
    }

    for (i = 0; i < f->ntools; i++) {
        if (f->tools[i].len == len
            && ngx_memcmp(f->tools[i].data, name, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * The messages of o, then the frame (if any) in one buffer: a frame of
 * its own; NULL on failure (the frame is released)
 */

static ngx_http_rtdash_frame_t *
ngx_http_rtdash_frame_join(ngx_log_t *log, ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_frame_t *frame)
{
    u_char  *p, *data;

    if (frame == NULL) {
        frame = ngx_http_rtdash_frame_text(log, "", 0);
        if (frame == NULL) {
            return NULL;
        }
    }

    data = ngx_pnalloc(frame->pool, o->size + frame->len);
    if (data == NULL) {
        ngx_http_rtdash_frame_release(frame);
        return NULL;
    }

    p = ngx_http_rtdash_out_copy(o, data);

    if (frame->len) {
        ngx_memcpy(p, frame->data, frame->len);
    }

    frame->data = data;
    frame->len += o->size;

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
    ngx_uint_t                 i, nw;
    ngx_http_rtdash_out_t      wo;
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

    *active = rd.active;

    if (mode == NGX_HTTP_RTDASH_FRAME_RESUME
        && (rd.lost || rd.missed || ngx_http_rtdash_watch_lost(rd.ctx, since)))
    {
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, fr->log, 0,
                       "rtdash frame: no resume from %uL, %ui events lost, "
                       "%ui missed", since, rd.lost, rd.missed);
        goto done;
    }

    /* notices, alerts and anomalies since: messages before the update */

    nw = 0;

    if (mode != NGX_HTTP_RTDASH_FRAME_SNAPSHOT) {
        ngx_http_rtdash_out_init(&wo, rd.tmp, 4096);

        if (ngx_http_rtdash_watch_messages(rd.ctx, filter, framing, since,
                                           rd.zi.seq, rd.tmp, &wo, &nw)
            != NGX_OK
            || wo.failed)
        {
            goto done;
        }
    }

    if (mode == NGX_HTTP_RTDASH_FRAME_UPDATE && rd.matched == 0) {
        if (nw) {
            frame = ngx_http_rtdash_frame_join(fr->log, &wo, NULL);
        }

        goto done;
    }

    /* the tools kept, listed in the order of the zone (or the filter) */

    rd.order = ngx_palloc(rd.tmp, (rd.nkept + 1)
                                  * sizeof(ngx_http_rtdash_summary_t *));
    if (rd.order == NULL) {
        goto done;
    }

    ngx_qsort(rd.kept, rd.nkept, sizeof(ngx_http_rtdash_kept_t),
              ngx_http_rtdash_kept_cmp);

    for (i = 0; i < rd.nkept; i++) {
        rd.order[i] = rd.kept[i].s;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, fr->log, 0,
                   "rtdash frame: %ui of %ui tools listed, limit %ui",
                   rd.nkept, rd.matched, rd.filter->limit);

    frame = ngx_http_rtdash_render_write(&rd);

    if (frame && nw) {
        frame = ngx_http_rtdash_frame_join(fr->log, &wo, frame);
    }

done:

    ngx_destroy_pool(rd.tmp);

    return frame;
}


static ngx_int_t
ngx_http_rtdash_render_init(ngx_http_rtdash_render_t *rd)
{
    ngx_uint_t                 snapshot, max_tools;
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

    ngx_http_rtdash_lock(ctx);
    ngx_http_rtdash_zinfo_locked(ctx, &rd->zi);
    ngx_http_rtdash_unlock(ctx);

    /*
     * Summaries go to memory kept from render to render: one for each
     * tool listed, and the one being copied.  A few tools may be made
     * while the walk goes on: past the cap, the oldest are left out.
     */

    max_tools = (rd->filter->ntools ? rd->filter->ntools
                                    : rd->zi.ntools) + 16;
    rd->cap = ngx_min(rd->filter->limit, max_tools);

    if (fr->nsummaries < rd->cap + 1) {
        if (fr->summaries) {
            ngx_free(fr->summaries);
        }

        fr->nsummaries = rd->cap + 1 + rd->cap / 2;
        fr->summaries = ngx_alloc(fr->nsummaries
                                  * sizeof(ngx_http_rtdash_summary_t),
                                  fr->log);
        if (fr->summaries == NULL) {
            fr->nsummaries = 0;
            goto failed;
        }
    }

    rd->tools = fr->summaries;
    rd->spare = &rd->tools[0];

    rd->kept = ngx_palloc(rd->tmp, (rd->cap + 1)
                                   * sizeof(ngx_http_rtdash_kept_t));

    rd->seconds = ngx_pcalloc(rd->tmp, ctx->layout.sec_copy * rd->nseconds);
    rd->minutes = ngx_pcalloc(rd->tmp, ctx->layout.min_size * rd->nminutes);
    rd->one = ngx_palloc(rd->tmp, ctx->layout.min_size);
    rd->sums = ngx_palloc(rd->tmp,
                          sizeof(ngx_http_rtdash_gauge_t) * ctx->ngauges);
    rd->nsums = 0;

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

    if (rd->seconds == NULL || rd->minutes == NULL || rd->one == NULL
        || rd->events == NULL || rd->kept == NULL || rd->sums == NULL)
    {
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
    uint64_t                    start;
    ngx_int_t                   rc;
    ngx_uint_t                  i;
    ngx_queue_t                *q;
    ngx_http_rtdash_ctx_t      *ctx;
    ngx_http_rtdash_node_t     *node;
    ngx_http_rtdash_filter_t   *f;
    ngx_http_rtdash_summary_t  *s;

    ctx = rd->ctx;
    f = rd->filter;
    rc = NGX_OK;

    if (f->ntools) {
        for (i = 0; i < f->ntools && rc == NGX_OK; i++) {
            ngx_http_rtdash_lock(ctx);

            node = ngx_http_rtdash_lookup_locked(ctx, f->hashes[i],
                                                 f->tools[i].data,
                                                 f->tools[i].len);
            s = node ? ngx_http_rtdash_collect_locked(rd, node) : NULL;

            ngx_http_rtdash_unlock(ctx);

            if (s) {
                rc = ngx_http_rtdash_collect_done(rd, s);
            }
        }

        return rc;
    }

    /*
     * Nodes never leave the queue once there (an eviction reuses one in
     * place); a tool made after the walk began waits for the next frame.
     */

    ngx_http_rtdash_lock(ctx);
    q = ngx_queue_head(&ctx->sh->tools);
    start = ctx->sh->records;

    while (q != ngx_queue_sentinel(&ctx->sh->tools) && rc == NGX_OK) {
        node = ngx_queue_data(q, ngx_http_rtdash_node_t, queue);

        s = (node->born <= start) ? ngx_http_rtdash_collect_locked(rd, node)
                                  : NULL;

        q = ngx_queue_next(q);

        /* let writers in between tools */
        ngx_http_rtdash_unlock(ctx);

        if (s) {
            rc = ngx_http_rtdash_collect_done(rd, s);
        }

        ngx_http_rtdash_lock(ctx);
    }

    ngx_http_rtdash_unlock(ctx);

    return rc;
}


/*
 * Under the lock: copy what a frame needs of one tool into the spare
 * summary, add up buckets, merge events.  NULL: the tool has nothing for
 * an update.
 */

static ngx_http_rtdash_summary_t *
ngx_http_rtdash_collect_locked(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_node_t *node)
{
    ngx_http_rtdash_summary_t  *s;

    if (rd->mode != NGX_HTTP_RTDASH_FRAME_SNAPSHOT && node->seq <= rd->since
        && node->updated < (double) (rd->now - NGX_HTTP_RTDASH_ACTIVE))
    {
        return NULL;
    }

    s = rd->spare;

    if (rd->nkept < rd->cap || (rd->cap && node->seq > rd->kept[0].s->seq)) {
        ngx_http_rtdash_summary_locked(rd->ctx, node, rd->now, s);

    } else {
        /* not listed: what its events and the count need, no more */
        ngx_memcpy(s->name, node->name, node->name_len);
        s->name_len = node->name_len;
        s->updated = node->updated;
        s->seq = node->seq;
    }

    ngx_http_rtdash_collect_buckets_locked(rd, node);

    if (rd->filter->events) {
        ngx_http_rtdash_collect_events_locked(rd, node, s);
    }

    return s;
}


/*
 * After the lock: the tool's events that made the frame's list get a
 * copy of its name (its summary may go to another tool), the tool is
 * counted and kept if it is among the most recently written.
 */

static ngx_int_t
ngx_http_rtdash_collect_done(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_summary_t *s)
{
    u_char      *name;
    ngx_uint_t   i;

    if (rd->fresh) {
        rd->fresh = 0;

        name = ngx_pnalloc(rd->tmp, s->name_len);
        if (name == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(name, s->name, s->name_len);

        for (i = 0; i < rd->nevents; i++) {
            if (rd->events[i].tool == s->name) {
                rd->events[i].tool = name;
            }
        }
    }

    rd->matched++;

    if (s->updated >= (double) (rd->now - NGX_HTTP_RTDASH_ACTIVE)) {
        rd->active = 1;
    }

    ngx_http_rtdash_keep(rd, s);

    return NGX_OK;
}


/*
 * The heap of the kept tools has the oldest (lowest seq) on top: a tool
 * newer than it takes its place, and the top's summary is the spare.
 */

static void
ngx_http_rtdash_keep(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_summary_t *s)
{
    ngx_uint_t                  i, parent;
    ngx_http_rtdash_kept_t      k;
    ngx_http_rtdash_summary_t  *old;

    if (rd->nkept < rd->cap) {
        i = rd->nkept++;
        k.s = s;
        k.i = rd->matched;

        while (i > 0) {
            parent = (i - 1) / 2;

            if (rd->kept[parent].s->seq <= s->seq) {
                break;
            }

            rd->kept[i] = rd->kept[parent];
            i = parent;
        }

        rd->kept[i] = k;
        rd->spare = &rd->tools[rd->nkept];

        return;
    }

    if (rd->cap == 0 || s->seq <= rd->kept[0].s->seq) {
        /* not kept: the spare is copied over by the next tool */
        return;
    }

    old = rd->kept[0].s;
    rd->kept[0].s = s;
    rd->kept[0].i = rd->matched;
    ngx_http_rtdash_kept_sift(rd, 0);
    rd->spare = old;
}


static void
ngx_http_rtdash_kept_sift(ngx_http_rtdash_render_t *rd, ngx_uint_t i)
{
    ngx_uint_t              c;
    ngx_http_rtdash_kept_t  k;

    k = rd->kept[i];

    for ( ;; ) {
        c = 2 * i + 1;

        if (c >= rd->nkept) {
            break;
        }

        if (c + 1 < rd->nkept && rd->kept[c + 1].s->seq < rd->kept[c].s->seq)
        {
            c++;
        }

        if (k.s->seq <= rd->kept[c].s->seq) {
            break;
        }

        rd->kept[i] = rd->kept[c];
        i = c;
    }

    rd->kept[i] = k;
}


static int ngx_cdecl
ngx_http_rtdash_kept_cmp(const void *a, const void *b)
{
    ngx_http_rtdash_kept_t  *x, *y;

    x = (ngx_http_rtdash_kept_t *) a;
    y = (ngx_http_rtdash_kept_t *) b;

    return (x->i < y->i) ? -1 : (x->i > y->i);
}


static void
ngx_http_rtdash_collect_buckets_locked(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_node_t *node)
{
    double                    *from, *to;
    time_t                     t, first;
    uint32_t                  *src, *dst;
    ngx_uint_t                 i, k;
    ngx_http_rtdash_ctx_t     *ctx;
    ngx_http_rtdash_minute_t  *m;
    u_char                     map[NGX_HTTP_RTDASH_GAUGES_MAX];

    ctx = rd->ctx;

    ngx_http_rtdash_sums_map(rd, node, map);

    for (i = 0; i < rd->nseconds; i++) {
        t = rd->now - (rd->nseconds - 1 - i);
        src = ngx_http_rtdash_second_slot(ctx, node, t);

        if (src == NULL || src[0] != (uint32_t) t) {
            continue;
        }

        dst = ngx_http_rtdash_bucket(rd->seconds, i, ctx->layout.sec_copy);
        dst[0] = (uint32_t) t;

        for (k = 1; k <= 2 * ctx->ntypes; k++) {
            dst[k] += src[k];
        }

        from = ngx_http_rtdash_ref_ptr(ctx,
                                   *ngx_http_rtdash_second_sums_ref(ctx, src));

        if (from == NULL) {
            continue;
        }

        to = ngx_http_rtdash_second_sums(ctx, dst);

        for (k = 0; k < node->ngauges; k++) {
            if (map[k] != NGX_HTTP_RTDASH_NO_SUM) {
                to[map[k]] += from[k];
            }
        }
    }

    first = rd->now - rd->now % 60 - (rd->nminutes - 1) * 60;

    for (i = 0; i < rd->nminutes; i++) {
        t = first + i * 60;
        m = rd->one;

        if (!ngx_http_rtdash_minute_read_locked(ctx, node, t, m)) {
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
                                   m, map);
    }
}


/*
 * Where each sum of a tool goes in the frame's buckets: by its name, in
 * the frame's names (the first gauges= names met); NO_SUM: a gauge, or
 * a name past those
 */

static void
ngx_http_rtdash_sums_map(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_node_t *node, u_char *map)
{
    ngx_uint_t                k, j;
    ngx_http_rtdash_gauge_t  *gs;

    gs = ngx_http_rtdash_node_gauges(rd->ctx, node);

    ngx_memset(map, NGX_HTTP_RTDASH_NO_SUM, NGX_HTTP_RTDASH_GAUGES_MAX);

    for (k = 0; k < node->ngauges; k++) {
        if (gs[k].kind != NGX_HTTP_RTDASH_SUM) {
            continue;
        }

        for (j = 0; j < rd->nsums; j++) {
            if (rd->sums[j].len == gs[k].len
                && ngx_memcmp(rd->sums[j].name, gs[k].name, gs[k].len) == 0)
            {
                break;
            }
        }

        if (j == rd->nsums) {
            if (rd->nsums == rd->ctx->ngauges) {
                continue;
            }

            rd->sums[j] = gs[k];
            rd->nsums++;
        }

        map[k] = (u_char) j;
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

        evs[n].tool = s->name;
        evs[n].tool_len = s->name_len;
        evs[n].ev = *e;
    }

    if (!snapshot && n == avail && node->nevents > avail
        && ngx_http_rtdash_ring_slot(ctx, node, node->nevents)
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

    /* this tool's events in the list: named after the lock */
    rd->fresh = j;

    ngx_memcpy(rd->events, out, k * sizeof(ngx_http_rtdash_sev_t));
    rd->nevents = k;
}


static void
ngx_http_rtdash_add_minute(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_minute_t *dst, ngx_http_rtdash_minute_t *src,
    u_char *map)
{
    uint32_t                 *a, *b;
    ngx_uint_t                i, n;
    ngx_http_rtdash_gstat_t  *to, *from;

    dst->t = src->t;

    ngx_http_rtdash_hll_merge(&dst->users, &src->users);
    ngx_http_rtdash_vstat_merge(&dst->value, &src->value);

    a = ngx_http_rtdash_minute_counts(dst);
    b = ngx_http_rtdash_minute_counts(src);
    n = 2 * rd->ctx->ntypes;

    for (i = 0; i < n; i++) {
        a[i] += b[i];
    }

    to = ngx_http_rtdash_minute_gstats(rd->ctx, dst);
    from = ngx_http_rtdash_minute_gstats(rd->ctx, src);

    for (i = 0; i < rd->ctx->ngauges; i++) {
        if (map[i] != NGX_HTTP_RTDASH_NO_SUM && from[i].set) {
            to[map[i]].u.sum += from[i].u.sum;
            to[map[i]].set = 1;
        }
    }
}


/*
 * The frame is written into a pool of its own, in one buffer sized
 * after the last frame of its kind, so it needs no copy as a rule.
 */

static ngx_http_rtdash_frame_t *
ngx_http_rtdash_render_write(ngx_http_rtdash_render_t *rd)
{
    size_t                   *hint;
    ngx_pool_t               *pool;
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

        (void) ngx_http_rtdash_out_copy(&o, frame->data);
    }

    if (rd->framing->finish) {
        rd->framing->finish(frame);
    }

    return frame;

failed:

    ngx_destroy_pool(pool);

    return NULL;
}


/* a snapshot's watch part: the firing alerts, the recent notices */

static void
ngx_http_rtdash_render_watch(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_out_t *o)
{
    ngx_http_rtdash_witems_t  w;

    ngx_http_rtdash_out_lit(o, ",\"alerts\":");

    if (ngx_http_rtdash_alerts_json(o, rd->ctx, rd->filter, rd->tmp, 0)
        != NGX_OK)
    {
        o->failed = 1;
        return;
    }

    if (ngx_http_rtdash_watch_copy(rd->ctx, NGX_HTTP_RTDASH_WATCH_NOTICE, 0,
                                   NGX_HTTP_RTDASH_SNAPSHOT_NOTICES, rd->tmp,
                                   &w)
        != NGX_OK)
    {
        o->failed = 1;
        return;
    }

    ngx_http_rtdash_out_lit(o, ",\"notices\":");
    ngx_http_rtdash_witems_json(o, &w, rd->filter);
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
                                  rd->nkept, rd->matched, NULL);

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
        ngx_http_rtdash_render_watch(rd, o);
    }

    ngx_http_rtdash_render_buckets(rd, o);

    ngx_http_rtdash_out_lit(o, ",\"events\":[");

    for (i = 0; i < rd->nevents; i++) {
        if (i) {
            ngx_http_rtdash_out_lit(o, ",");
        }

        ngx_http_rtdash_json_event(o, &rd->zi, &rd->events[i].ev,
                                   rd->events[i].tool,
                                   rd->events[i].tool_len);
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

        ngx_http_rtdash_json_minute(o, ctx, &rd->zi, rd->sums, rd->nsums,
                                    m->t ? m : NULL, t);
    }

    ngx_http_rtdash_out_lit(o, "],\"seconds\":[");

    for (i = 0; i < rd->nseconds; i++) {
        if (i) {
            ngx_http_rtdash_out_lit(o, ",");
        }

        sec = ngx_http_rtdash_bucket(rd->seconds, i, ctx->layout.sec_copy);

        ngx_http_rtdash_json_second(o, ctx, &rd->zi, rd->sums, rd->nsums,
                                    sec[0] ? sec : NULL,
                                    rd->now - (rd->nseconds - 1 - i));
    }

    ngx_http_rtdash_out_lit(o, "]");
}
