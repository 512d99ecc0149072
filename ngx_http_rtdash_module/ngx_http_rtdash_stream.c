
/*
 * rtdash: the Server-Sent-Events stream.
 *
 * One timer per stream location and worker watches the zone's sequence
 * number every few milliseconds.  Subscribers with the same filter form
 * a group; a group's frame is rendered once a tick into a refcounted
 * buffer that every subscriber of the group sends.  A subscriber still
 * sending its previous frame skips frames and gets a snapshot once it
 * drains.
 *
 * Once its first frame has gone out, an HTTP/1.x subscriber leaves the
 * request behind: the request is logged and freed (its pool is most of
 * what a subscriber would hold), and the connection sends the frames
 * itself, chunked as the response began, until the stream ends.
 */


#include "ngx_http_rtdash_module.h"


#define NGX_HTTP_RTDASH_WATCH       2       /* ms between zone checks */
#define NGX_HTTP_RTDASH_ACTIVE      61      /* s a tool's rates move */
#define NGX_HTTP_RTDASH_RETRY       2000


typedef struct {
    ngx_pool_t                  *pool;
    u_char                      *data;
    size_t                       len;
    ngx_uint_t                   refs;
} ngx_http_rtdash_frame_t;


typedef struct {
    ngx_queue_t                  queue;       /* in the stream */
    ngx_queue_t                  subs;
    ngx_uint_t                   nsubs;
    ngx_uint_t                   events;      /* raw events per frame */
    ngx_uint_t                   ntools;      /* 0: every tool */
    ngx_str_t                   *tools;
    uint32_t                    *hashes;
    uint64_t                     seq;         /* last frame's zone seq */
    ngx_uint_t                   active;
} ngx_http_rtdash_group_t;


typedef struct {
    ngx_queue_t                  queue;       /* in the group */
    ngx_http_request_t          *request;     /* NULL once detached */
    ngx_connection_t            *connection;
    ngx_pool_cleanup_t          *cleanup;     /* in the request's pool */
    ngx_http_rtdash_stream_t    *stream;
    ngx_http_rtdash_group_t     *group;
    ngx_http_rtdash_frame_t     *frame;       /* being sent */
    ngx_buf_t                    buf;
    ngx_chain_t                  out;
    ngx_uint_t                   frames;
    ngx_uint_t                   max_frames;
    ngx_uint_t                   window;
    ngx_msec_t                   last_frame;
    ngx_msec_t                   send_timeout;
    uint64_t                     since;       /* resume point */

    /* detached: chunk-size line, frame, CRLF; what is left to send */
    ngx_chain_t                 *pending;
    ngx_chain_t                  chain[3];
    ngx_buf_t                    head;
    ngx_buf_t                    tail;
    u_char                       size[NGX_OFF_T_LEN + 2];

    unsigned                     connected:1;
    unsigned                     snapshot:1;
    unsigned                     finish:1;
    unsigned                     done:1;
    unsigned                     detached:1;
    unsigned                     kept:1;      /* not detached, for good */
    unsigned                     chunked:1;
    unsigned                     closing:1;
} ngx_http_rtdash_sub_t;


struct ngx_http_rtdash_stream_s {
    ngx_http_rtdash_loc_conf_t  *lcf;
    ngx_http_rtdash_ctx_t       *ctx;
    ngx_event_t                  watch;
    ngx_queue_t                  groups;
    ngx_uint_t                   nclients;
    uint64_t                     seq;         /* zone seq sent */
    uint64_t                     seen_seq;    /* zone seq seen */
    ngx_msec_t                   seen_at;
    ngx_uint_t                   burst;
    ngx_msec_t                   last_frame;  /* any update */
    ngx_msec_t                   last_change; /* an update with news */
    ngx_msec_t                   last_write;
    ngx_http_rtdash_summary_t   *summaries;   /* reused by every render */
    ngx_uint_t                   nsummaries;
    size_t                       hint[2];     /* frame sizes: update, */
    ngx_log_t                   *log;         /* snapshot */
};


/* what a render takes from the zone */
typedef struct {
    ngx_http_rtdash_summary_t   *tool;
    ngx_http_rtdash_event_t      ev;
} ngx_http_rtdash_sev_t;


typedef struct {
    ngx_http_rtdash_stream_t    *st;
    ngx_http_rtdash_group_t     *group;
    ngx_uint_t                   snapshot;
    uint64_t                     since;
    ngx_uint_t                   window;
    ngx_pool_t                  *tmp;
    ngx_http_rtdash_zinfo_t      zi;
    ngx_http_rtdash_summary_t   *tools;
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
    time_t                       now;
} ngx_http_rtdash_render_t;


static void ngx_http_rtdash_stream_watch(ngx_event_t *ev);
static void ngx_http_rtdash_stream_tick(ngx_http_rtdash_stream_t *st);
static void ngx_http_rtdash_stream_shutdown(ngx_http_rtdash_stream_t *st);
static ngx_http_rtdash_group_t *ngx_http_rtdash_group_get(
    ngx_http_rtdash_stream_t *st, ngx_array_t *tools, ngx_uint_t events);
static void ngx_http_rtdash_stream_cleanup(void *data);
static void ngx_http_rtdash_stream_write(ngx_http_request_t *r);
static void ngx_http_rtdash_stream_read(ngx_http_request_t *r);
static ngx_int_t ngx_http_rtdash_sub_send(ngx_http_rtdash_sub_t *sub,
    ngx_http_rtdash_frame_t *frame, ngx_uint_t data);
static void ngx_http_rtdash_sub_drained(ngx_http_rtdash_sub_t *sub);
static void ngx_http_rtdash_sub_finish(ngx_http_rtdash_sub_t *sub);
static void ngx_http_rtdash_sub_close(ngx_http_rtdash_sub_t *sub,
    ngx_int_t rc);
static void ngx_http_rtdash_sub_detach(ngx_http_rtdash_sub_t *sub);
static ngx_int_t ngx_http_rtdash_conn_flush(ngx_http_rtdash_sub_t *sub);
static void ngx_http_rtdash_conn_write(ngx_event_t *wev);
static void ngx_http_rtdash_conn_read(ngx_event_t *rev);
static void ngx_http_rtdash_sub_snapshot(ngx_http_rtdash_sub_t *sub,
    uint64_t since);
static void ngx_http_rtdash_frame_release(ngx_http_rtdash_frame_t *frame);
static ngx_http_rtdash_frame_t *ngx_http_rtdash_frame_text(ngx_log_t *log,
    const char *text, size_t len);
static ngx_http_rtdash_frame_t *ngx_http_rtdash_render(
    ngx_http_rtdash_stream_t *st, ngx_http_rtdash_group_t *group,
    ngx_uint_t snapshot, uint64_t since, ngx_uint_t window,
    ngx_uint_t *active);
static ngx_int_t ngx_http_rtdash_collect(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_node_t *node);
static void ngx_http_rtdash_merge_events(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_sev_t *evs, ngx_uint_t n);
static void ngx_http_rtdash_add_minute(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_minute_t *dst, ngx_http_rtdash_minute_t *src);


ngx_int_t
ngx_http_rtdash_stream_init_process(ngx_cycle_t *cycle,
    ngx_http_rtdash_loc_conf_t *lcf)
{
    ngx_http_rtdash_stream_t  *st;

    st = ngx_pcalloc(cycle->pool, sizeof(ngx_http_rtdash_stream_t));
    if (st == NULL) {
        return NGX_ERROR;
    }

    st->lcf = lcf;
    st->ctx = lcf->zone->data;
    st->log = cycle->log;
    ngx_queue_init(&st->groups);

    st->watch.handler = ngx_http_rtdash_stream_watch;
    st->watch.data = st;
    st->watch.log = cycle->log;

    /*
     * Armed only while there are subscribers, and not cancelable: a
     * worker told to quit keeps running until the next tick has sent
     * every stream its final frame and finished it.
     */
    st->watch.cancelable = 0;

    lcf->stream = st;

    return NGX_OK;
}


ngx_int_t
ngx_http_rtdash_stream_handler(ngx_http_request_t *r)
{
    u_char                      *p;
    uint64_t                     since;
    ngx_int_t                    rc;
    ngx_str_t                   *v, *lei;
    ngx_uint_t                   events, window, frames, i, resume;
    ngx_array_t                  tools, last;
    ngx_table_elt_t             *h;
    ngx_pool_cleanup_t          *cln;
    ngx_http_rtdash_sub_t       *sub;
    ngx_http_rtdash_stream_t    *st;
    ngx_http_rtdash_loc_conf_t  *lcf;

    rc = ngx_http_rtdash_check_get(r);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_rtdash_module);
    st = lcf->stream;

    if (st == NULL || r != r->main) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_exiting || ngx_terminate) {
        return ngx_http_rtdash_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          "nginx is shutting down", NULL,
                                          -1, -1);
    }

    if (st->nclients >= lcf->max_clients) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "rtdash: rtdash_stream_max_clients %ui reached",
                      lcf->max_clients);
        return ngx_http_rtdash_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          "too many stream clients", NULL,
                                          -1, -1);
    }

    if (ngx_http_rtdash_arg(r, "tool", &tools) != NGX_OK
        || ngx_http_rtdash_arg(r, "last_event_id", &last) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    v = tools.elts;

    for (i = 0; i < tools.nelts; i++) {
        if (!ngx_http_rtdash_valid_text(v[i].data, v[i].len,
                                        NGX_HTTP_RTDASH_TOOL_MAX))
        {
            return ngx_http_rtdash_send_error(r, NGX_HTTP_BAD_REQUEST,
                                              "invalid tool", &v[i], -1, -1);
        }
    }

    if (ngx_http_rtdash_arg_uint(r, "window", 3600, st->ctx->retention,
                                 &window) != NGX_OK
        || ngx_http_rtdash_arg_uint(r, "events", 50, st->ctx->nevents,
                                    &events) != NGX_OK
        || ngx_http_rtdash_arg_uint(r, "frames", 0, NGX_MAX_INT_T_VALUE,
                                    &frames) != NGX_OK)
    {
        return ngx_http_rtdash_send_error(r, NGX_HTTP_BAD_REQUEST,
                                          "\"window\", \"events\" and "
                                          "\"frames\" take numbers", NULL,
                                          -1, -1);
    }

    if (window < 60) {
        window = 60;
    }

    /* Last-Event-ID header, or last_event_id= for clients without it */

    lei = NULL;
    resume = 0;
    since = 0;

    if (last.nelts) {
        lei = last.elts;
    }

    h = ngx_http_rtdash_header_in(r, "Last-Event-ID");

    if (h) {
        lei = &h->value;
    }

    if (lei && lei->len) {
        for (p = lei->data; p < lei->data + lei->len; p++) {
            if (*p < '0' || *p > '9' || since > (uint64_t) 1 << 60) {
                break;
            }

            since = since * 10 + (*p - '0');
        }

        resume = (p == lei->data + lei->len);
    }

    /*
     * In the connection's pool, it outlives the request (see the top);
     * allocated once the request is known good, so that bad requests on
     * a keep-alive connection do not pile subscribers up there.
     */

    sub = ngx_pcalloc(r->connection->pool, sizeof(ngx_http_rtdash_sub_t));
    if (sub == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sub->window = window;
    sub->max_frames = frames;

    /* the cleanup first: once in a group, the subscriber must leave it */

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sub->group = ngx_http_rtdash_group_get(st, &tools, events);
    if (sub->group == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sub->request = r;
    sub->connection = r->connection;
    sub->cleanup = cln;
    sub->stream = st;
    sub->out.buf = &sub->buf;
    sub->out.next = NULL;

    ngx_queue_insert_tail(&sub->group->subs, &sub->queue);
    sub->group->nsubs++;
    st->nclients++;

    cln->handler = ngx_http_rtdash_stream_cleanup;
    cln->data = sub;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = -1;
    ngx_str_set(&r->headers_out.content_type, "text/event-stream");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    if (ngx_http_rtdash_add_header(r, "Cache-Control", "no-cache", NULL)
        != NGX_OK
        || ngx_http_rtdash_add_header(r, "X-Accel-Buffering", "no", NULL)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->keepalive = 0;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    ngx_http_set_ctx(r, sub, ngx_http_rtdash_module);

    r->read_event_handler = ngx_http_rtdash_stream_read;
    r->write_event_handler = ngx_http_rtdash_stream_write;
    r->main->count++;

    /* the snapshot goes from the write handler, right after this */

    sub->since = resume ? since : (uint64_t) -1;
    ngx_post_event(r->connection->write, &ngx_posted_events);

    st->last_write = ngx_current_msec;

    if (!st->watch.timer_set) {
        ngx_add_timer(&st->watch, NGX_HTTP_RTDASH_WATCH);
    }

    return NGX_DONE;
}


static void
ngx_http_rtdash_stream_read(ngx_http_request_t *r)
{
    /* a client that closes is noticed at once */
    ngx_http_test_reading(r);
}


static ngx_http_rtdash_group_t *
ngx_http_rtdash_group_get(ngx_http_rtdash_stream_t *st, ngx_array_t *tools,
    ngx_uint_t events)
{
    u_char                   *p;
    size_t                    size;
    ngx_str_t                *v;
    ngx_uint_t                i, j;
    ngx_queue_t              *q;
    ngx_http_rtdash_group_t  *g;

    v = tools->elts;

    for (q = ngx_queue_head(&st->groups);
         q != ngx_queue_sentinel(&st->groups);
         q = ngx_queue_next(q))
    {
        g = ngx_queue_data(q, ngx_http_rtdash_group_t, queue);

        if (g->events != events || g->ntools != tools->nelts) {
            continue;
        }

        for (i = 0; i < g->ntools; i++) {
            if (g->tools[i].len != v[i].len
                || ngx_memcmp(g->tools[i].data, v[i].data, v[i].len) != 0)
            {
                break;
            }
        }

        if (i == g->ntools) {
            return g;
        }
    }

    /* groups come and go with their filters: malloc, freed when empty */

    size = sizeof(ngx_http_rtdash_group_t)
           + tools->nelts * (sizeof(ngx_str_t) + sizeof(uint32_t));

    for (i = 0; i < tools->nelts; i++) {
        size += v[i].len;
    }

    g = ngx_alloc(size, st->log);
    if (g == NULL) {
        return NULL;
    }

    ngx_memzero(g, sizeof(ngx_http_rtdash_group_t));

    g->events = events;
    g->ntools = tools->nelts;
    g->tools = (ngx_str_t *) (g + 1);
    g->hashes = (uint32_t *) (g->tools + g->ntools);
    g->seq = st->ctx->sh->seq;
    ngx_queue_init(&g->subs);

    p = (u_char *) (g->hashes + g->ntools);

    for (j = 0; j < g->ntools; j++) {
        g->tools[j].data = p;
        g->tools[j].len = v[j].len;
        p = ngx_cpymem(p, v[j].data, v[j].len);
        g->hashes[j] = ngx_crc32_short(v[j].data, v[j].len);
    }

    ngx_queue_insert_tail(&st->groups, &g->queue);

    return g;
}


static void
ngx_http_rtdash_stream_cleanup(void *data)
{
    ngx_http_rtdash_sub_t *sub = data;

    ngx_http_rtdash_group_t   *g;
    ngx_http_rtdash_stream_t  *st;

    st = sub->stream;
    g = sub->group;

    ngx_queue_remove(&sub->queue);
    st->nclients--;

    if (sub->frame) {
        ngx_http_rtdash_frame_release(sub->frame);
        sub->frame = NULL;
    }

    if (--g->nsubs == 0) {
        ngx_queue_remove(&g->queue);
        ngx_free(g);
    }

    if (st->nclients == 0 && st->watch.timer_set) {
        ngx_del_timer(&st->watch);
    }
}


static void
ngx_http_rtdash_stream_watch(ngx_event_t *ev)
{
    ngx_http_rtdash_stream_t  *st = ev->data;

    if (ngx_exiting || ngx_terminate) {
        ngx_http_rtdash_stream_shutdown(st);
        return;
    }

    ngx_http_rtdash_stream_tick(st);

    if (st->nclients && !ngx_exiting && !ngx_terminate) {
        ngx_add_timer(&st->watch, NGX_HTTP_RTDASH_WATCH);
    }
}


/* a final frame, then every stream finishes: clients reconnect */

static void
ngx_http_rtdash_stream_shutdown(ngx_http_rtdash_stream_t *st)
{
    ngx_queue_t              *q, *sq, *next;
    ngx_http_rtdash_sub_t    *sub;
    ngx_http_rtdash_frame_t  *frame;
    ngx_http_rtdash_group_t  *g;

    static char  bye[] = "event: close\ndata: {\"reason\":\"shutdown\"}\n\n";

    frame = ngx_http_rtdash_frame_text(st->log, bye, sizeof(bye) - 1);

    /*
     * A finishing subscriber may free itself and its group: the next
     * elements are taken first, and a freed group's sentinel is only
     * compared by address.
     */

    for (q = ngx_queue_head(&st->groups);
         q != ngx_queue_sentinel(&st->groups);
         q = next)
    {
        next = ngx_queue_next(q);
        g = ngx_queue_data(q, ngx_http_rtdash_group_t, queue);

        for (sq = ngx_queue_head(&g->subs);
             sq != ngx_queue_sentinel(&g->subs);
             /* void */)
        {
            sub = ngx_queue_data(sq, ngx_http_rtdash_sub_t, queue);
            sq = ngx_queue_next(sq);

            if (sub->done || sub->finish) {
                continue;
            }

            sub->finish = 1;

            if (sub->frame) {
                continue;           /* finishes when it drains */
            }

            if (frame) {
                (void) ngx_http_rtdash_sub_send(sub, frame, 0);

            } else {
                ngx_http_rtdash_sub_finish(sub);
            }
        }
    }

    if (frame) {
        ngx_http_rtdash_frame_release(frame);
    }
}


static void
ngx_http_rtdash_stream_tick(ngx_http_rtdash_stream_t *st)
{
    uint64_t                  seq;
    ngx_msec_t                now;
    ngx_uint_t                due, changed, active, any;
    ngx_queue_t              *q, *sq, *next;
    ngx_http_rtdash_sub_t    *sub;
    ngx_http_rtdash_frame_t  *frame;
    ngx_http_rtdash_group_t  *g;

    now = ngx_current_msec;

    /*
     * News after a quiet spell (a tenth of the interval without any)
     * go out at once.  News that follow news more closely are a burst:
     * they wait until an interval after the last frame with news, so a
     * continuous load gets one frame per interval.  Refreshes of rates
     * alone go every interval.
     */

    seq = st->ctx->sh->seq;

    if (seq != st->seen_seq) {
        st->burst = (now - st->seen_at < st->lcf->interval / 10);
        st->seen_seq = seq;
        st->seen_at = now;
    }

    changed = (seq != st->seq);

    if (!(changed
          && (!st->burst || now - st->last_change >= st->lcf->interval)))
    {

        due = (now - st->last_frame >= st->lcf->interval);

        if (due) {
            /* rates move with time alone while a tool was active */

            any = 0;

            for (q = ngx_queue_head(&st->groups);
                 q != ngx_queue_sentinel(&st->groups);
                 q = ngx_queue_next(q))
            {
                g = ngx_queue_data(q, ngx_http_rtdash_group_t, queue);
                any |= g->active;
            }

            if (any) {
                goto frames;
            }
        }

        if (now - st->last_write >= st->lcf->heartbeat) {
            st->last_write = now;

            frame = ngx_http_rtdash_frame_text(st->log, ": ping\n\n", 8);
            if (frame == NULL) {
                return;
            }

            /* a subscriber that fails may free itself and its group */

            for (q = ngx_queue_head(&st->groups);
                 q != ngx_queue_sentinel(&st->groups);
                 q = next)
            {
                next = ngx_queue_next(q);
                g = ngx_queue_data(q, ngx_http_rtdash_group_t, queue);

                for (sq = ngx_queue_head(&g->subs);
                     sq != ngx_queue_sentinel(&g->subs);
                     /* void */)
                {
                    sub = ngx_queue_data(sq, ngx_http_rtdash_sub_t, queue);
                    sq = ngx_queue_next(sq);

                    if (sub->frame == NULL && !sub->done && sub->connected)
                    {
                        (void) ngx_http_rtdash_sub_send(sub, frame, 0);
                    }
                }
            }

            ngx_http_rtdash_frame_release(frame);
        }

        return;
    }

frames:

    if (changed) {
        st->seq = seq;
        st->last_change = now;
    }

    st->last_frame = now;
    st->last_write = now;

    for (q = ngx_queue_head(&st->groups);
         q != ngx_queue_sentinel(&st->groups);
         q = next)
    {
        next = ngx_queue_next(q);
        g = ngx_queue_data(q, ngx_http_rtdash_group_t, queue);

        frame = ngx_http_rtdash_render(st, g, 0, g->seq, 0, &active);

        g->active = active;

        if (frame == NULL) {
            continue;
        }

        changed = (g->seq != seq);
        g->seq = seq;

        /* a subscriber finishing may free the group: keep the next one */

        for (sq = ngx_queue_head(&g->subs);
             sq != ngx_queue_sentinel(&g->subs);
             /* void */)
        {
            sub = ngx_queue_data(sq, ngx_http_rtdash_sub_t, queue);
            sq = ngx_queue_next(sq);

            if (sub->done || !sub->connected) {
                continue;
            }

            /* a refresh of rates only: not sooner than its last frame */

            if (!changed && now - sub->last_frame < st->lcf->interval) {
                continue;
            }

            if (sub->frame) {
                sub->snapshot = 1;
                continue;
            }

            (void) ngx_http_rtdash_sub_send(sub, frame, 1);
        }

        ngx_http_rtdash_frame_release(frame);
    }
}


static void
ngx_http_rtdash_sub_snapshot(ngx_http_rtdash_sub_t *sub, uint64_t since)
{
    ngx_uint_t                active;
    ngx_http_rtdash_frame_t  *frame;

    frame = NULL;

    if (since != (uint64_t) -1) {
        /* a resume: an update with what was missed, if all of it is there */
        frame = ngx_http_rtdash_render(sub->stream, sub->group, 2, since,
                                       sub->window, &active);
    }

    if (frame == NULL) {
        frame = ngx_http_rtdash_render(sub->stream, sub->group, 1, 0,
                                       sub->window, &active);
    }

    if (frame == NULL) {
        ngx_http_rtdash_sub_close(sub, NGX_ERROR);
        return;
    }

    /* a tool of the filter is active: its rates are refreshed from now */

    if (active) {
        sub->group->active = 1;
    }

    sub->snapshot = 0;
    sub->connected = 1;

    (void) ngx_http_rtdash_sub_send(sub, frame, 1);

    ngx_http_rtdash_frame_release(frame);
}


/* the subscriber may be freed when this returns */

static ngx_int_t
ngx_http_rtdash_sub_send(ngx_http_rtdash_sub_t *sub,
    ngx_http_rtdash_frame_t *frame, ngx_uint_t data)
{
    ngx_int_t                  rc;
    ngx_buf_t                 *b;
    ngx_connection_t          *c;
    ngx_http_request_t        *r;
    ngx_http_core_loc_conf_t  *clcf;

    sub->frame = frame;
    frame->refs++;

    if (data) {
        sub->frames++;
        sub->last_frame = ngx_current_msec;
    }

    b = &sub->buf;
    ngx_memzero(b, sizeof(ngx_buf_t));
    b->start = frame->data;
    b->pos = frame->data;
    b->last = frame->data + frame->len;
    b->end = b->last;
    b->memory = 1;
    b->flush = 1;

    if (sub->detached) {
        sub->chain[1].buf = b;

        if (sub->chunked) {
            sub->head.pos = sub->size;
            sub->head.last = ngx_sprintf(sub->size, "%xz" CRLF, frame->len);
            sub->tail.pos = (u_char *) CRLF;
            sub->tail.last = sub->tail.pos + 2;
            sub->pending = &sub->chain[0];

        } else {
            sub->pending = &sub->chain[1];
            sub->chain[1].next = NULL;
        }

        return ngx_http_rtdash_conn_flush(sub);
    }

    r = sub->request;
    c = r->connection;

    sub->out.next = NULL;

    rc = ngx_http_output_filter(r, &sub->out);

    if (rc == NGX_ERROR || c->error) {
        ngx_http_rtdash_sub_close(sub, NGX_ERROR);
        return NGX_ERROR;
    }

    if (b->pos == b->last && r->out == NULL) {
        ngx_http_rtdash_sub_drained(sub);
        return NGX_OK;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (!c->write->timer_set) {
        ngx_add_timer(c->write, clcf->send_timeout);
    }

    if (ngx_handle_write_event(c->write, clcf->send_lowat) != NGX_OK) {
        ngx_http_rtdash_sub_close(sub, NGX_ERROR);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_rtdash_stream_write(ngx_http_request_t *r)
{
    ngx_int_t                   rc;
    ngx_event_t                *wev;
    ngx_connection_t           *c;
    ngx_http_rtdash_sub_t      *sub;
    ngx_http_core_loc_conf_t   *clcf;

    c = r->connection;
    wev = c->write;

    sub = ngx_http_get_module_ctx(r, ngx_http_rtdash_module);

    if (sub == NULL || sub->done) {
        return;
    }

    if (wev->timedout) {
        ngx_log_error(NGX_LOG_INFO, c->log, NGX_ETIMEDOUT,
                      "rtdash: stream client timed out");
        c->timedout = 1;
        ngx_http_rtdash_sub_close(sub, NGX_HTTP_REQUEST_TIME_OUT);
        return;
    }

    if (sub->frame == NULL) {
        if (!sub->connected) {
            ngx_http_rtdash_sub_snapshot(sub, sub->since);
        }

        return;
    }

    rc = ngx_http_output_filter(r, NULL);

    if (rc == NGX_ERROR || c->error) {
        ngx_http_rtdash_sub_close(sub, NGX_ERROR);
        return;
    }

    if (sub->buf.pos == sub->buf.last && r->out == NULL) {
        if (wev->timer_set) {
            ngx_del_timer(wev);
        }

        ngx_http_rtdash_sub_drained(sub);
        return;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (!wev->timer_set) {
        ngx_add_timer(wev, clcf->send_timeout);
    }

    if (ngx_handle_write_event(wev, clcf->send_lowat) != NGX_OK) {
        ngx_http_rtdash_sub_close(sub, NGX_ERROR);
    }
}


static void
ngx_http_rtdash_sub_drained(ngx_http_rtdash_sub_t *sub)
{
    ngx_http_rtdash_frame_release(sub->frame);
    sub->frame = NULL;

    if (sub->finish
        || (sub->max_frames && sub->frames >= sub->max_frames))
    {
        ngx_http_rtdash_sub_finish(sub);
        return;
    }

    if (!sub->detached && !sub->kept) {
        ngx_http_rtdash_sub_detach(sub);
    }

    if (sub->snapshot) {
        /* it skipped frames while it was slow: start it over */
        ngx_http_rtdash_sub_snapshot(sub, (uint64_t) -1);
    }
}


/* the end of the stream: the last chunk, and the connection closes */

static void
ngx_http_rtdash_sub_finish(ngx_http_rtdash_sub_t *sub)
{
    ngx_int_t            rc;
    ngx_http_request_t  *r;

    if (sub->done) {
        return;
    }

    if (sub->detached) {
        if (!sub->chunked) {
            ngx_http_rtdash_sub_close(sub, NGX_OK);
            return;
        }

        /* nothing is sent after the last chunk: done for the loops */

        sub->done = 1;
        sub->closing = 1;
        sub->tail.pos = (u_char *) "0" CRLF CRLF;
        sub->tail.last = sub->tail.pos + 5;
        sub->pending = &sub->chain[2];

        (void) ngx_http_rtdash_conn_flush(sub);
        return;
    }

    sub->done = 1;
    r = sub->request;

    rc = ngx_http_send_special(r, NGX_HTTP_LAST);

    r->write_event_handler = ngx_http_request_empty_handler;

    ngx_http_finalize_request(r, rc == NGX_ERROR ? NGX_ERROR : NGX_OK);
}


/* the request finalized, or the detached connection closed: sub is gone */

static void
ngx_http_rtdash_sub_close(ngx_http_rtdash_sub_t *sub, ngx_int_t rc)
{
    sub->done = 1;

    if (sub->detached) {
        ngx_http_close_connection(sub->connection);
        return;
    }

    ngx_http_finalize_request(sub->request, rc);
}


/*
 * The request is logged and freed; the connection, its pool and the
 * subscriber in it stay.  Only a plain HTTP/1.x response whose first
 * frame has gone out whole, with nothing held by a filter, is detached;
 * any other goes on through the filters, and is not looked at again.
 */

static void
ngx_http_rtdash_sub_detach(ngx_http_rtdash_sub_t *sub)
{
    ngx_buf_t                 *b;
    ngx_connection_t          *c;
    ngx_pool_cleanup_t        *cln;
    ngx_http_request_t        *r;
    ngx_http_log_ctx_t        *ctx;
    ngx_http_core_loc_conf_t  *clcf;

    r = sub->request;
    c = r->connection;

    sub->kept = 1;

    if (r->http_version >= NGX_HTTP_VERSION_20
        || r != r->main
        || r->out
        || r->buffered
        || r->postponed
        || c->buffered
        || r->limit_rate
        || r->headers_out.content_encoding
        || r->header_only
        || r->cleanup)
    {
        return;
    }

    /*
     * Another module's cleanup in the request's pool means it holds
     * something for as long as the request lives (limit_conn counts the
     * connection until then): such a request stays.
     */

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln != sub->cleanup && cln->handler) {
            return;
        }
    }

    cln = ngx_pool_cleanup_add(c->pool, 0);
    if (cln == NULL) {
        return;
    }

    sub->kept = 0;

    cln->handler = ngx_http_rtdash_stream_cleanup;
    cln->data = sub;
    sub->cleanup->handler = NULL;
    sub->cleanup = cln;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    sub->send_timeout = clcf->send_timeout;
    sub->chunked = r->chunked;
    sub->request = NULL;
    sub->detached = 1;

    sub->head.memory = 1;
    sub->tail.memory = 1;
    sub->tail.flush = 1;
    sub->chain[0].buf = &sub->head;
    sub->chain[0].next = &sub->chain[1];
    sub->chain[1].buf = &sub->buf;
    sub->chain[1].next = &sub->chain[2];
    sub->chain[2].buf = &sub->tail;
    sub->chain[2].next = NULL;

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    ngx_http_free_request(r, 0);

    /*
     * c->destroyed, set by ngx_http_free_request(), stays: nginx's
     * request handler on the stack must not look at c->data again.
     */

    c->data = sub;
    c->read->handler = ngx_http_rtdash_conn_read;
    c->write->handler = ngx_http_rtdash_conn_write;
    c->log->action = "sending events";

    ctx = c->log->data;
    ctx->current_request = NULL;

    /* the request's header buffer: nothing is read from it any more */

    b = c->buffer;

    if (b && b->start && ngx_pfree(c->pool, b->start) == NGX_OK) {
        b->start = NULL;
        b->pos = NULL;
        b->last = NULL;
        b->end = NULL;
    }

    if (c->read->ready) {
        ngx_post_event(c->read, &ngx_posted_events);
    }
}


/* a detached subscriber sends what is pending; it may be freed here */

static ngx_int_t
ngx_http_rtdash_conn_flush(ngx_http_rtdash_sub_t *sub)
{
    ngx_chain_t       *cl;
    ngx_connection_t  *c;

    c = sub->connection;

    cl = c->send_chain(c, sub->pending, 0);

    if (cl == NGX_CHAIN_ERROR) {
        c->error = 1;
        ngx_http_rtdash_sub_close(sub, NGX_ERROR);
        return NGX_ERROR;
    }

    sub->pending = cl;

    if (cl == NULL) {
        if (c->write->timer_set) {
            ngx_del_timer(c->write);
        }

        if (sub->closing) {
            ngx_http_rtdash_sub_close(sub, NGX_OK);
            return NGX_OK;
        }

        ngx_http_rtdash_sub_drained(sub);
        return NGX_OK;
    }

    if (!c->write->timer_set) {
        ngx_add_timer(c->write, sub->send_timeout);
    }

    if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
        ngx_http_rtdash_sub_close(sub, NGX_ERROR);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_rtdash_conn_write(ngx_event_t *wev)
{
    ngx_connection_t       *c;
    ngx_http_rtdash_sub_t  *sub;

    c = wev->data;
    sub = c->data;

    if (wev->timedout) {
        ngx_log_error(NGX_LOG_INFO, c->log, NGX_ETIMEDOUT,
                      "rtdash: stream client timed out");
        c->timedout = 1;
        ngx_http_rtdash_sub_close(sub, NGX_ERROR);
        return;
    }

    if (sub->pending) {
        (void) ngx_http_rtdash_conn_flush(sub);
    }
}


/* what a client sends now is read and dropped; its close ends the stream */

static void
ngx_http_rtdash_conn_read(ngx_event_t *rev)
{
    u_char                  buf[256];
    ssize_t                 n;
    ngx_connection_t       *c;
    ngx_http_rtdash_sub_t  *sub;

    c = rev->data;
    sub = c->data;

    if (c->close) {
        /* worker_shutdown_timeout, or a worker out of connections */
        ngx_http_rtdash_sub_close(sub, NGX_ERROR);
        return;
    }

    for ( ;; ) {
        n = c->recv(c, buf, sizeof(buf));

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0 || n == NGX_ERROR) {
            c->error = 1;
            ngx_http_rtdash_sub_close(sub, NGX_ERROR);
            return;
        }
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_http_rtdash_sub_close(sub, NGX_ERROR);
    }
}


static void
ngx_http_rtdash_frame_release(ngx_http_rtdash_frame_t *frame)
{
    if (--frame->refs == 0) {
        ngx_destroy_pool(frame->pool);
    }
}


static ngx_http_rtdash_frame_t *
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

    return frame;
}


/*
 * Render a frame for a group: snapshot == 1 a snapshot, 0 an update of
 * what changed since "since" (NULL when nothing did), 2 a resume update
 * (NULL when what was missed is no longer in the rings).
 */

static ngx_http_rtdash_frame_t *
ngx_http_rtdash_render(ngx_http_rtdash_stream_t *st,
    ngx_http_rtdash_group_t *g, ngx_uint_t snapshot, uint64_t since,
    ngx_uint_t window, ngx_uint_t *active)
{
    u_char                     *p;
    time_t                      t;
    ngx_uint_t                  i;
    ngx_queue_t                *q;
    ngx_chain_t                *cl;
    ngx_pool_t                 *pool;
    ngx_http_rtdash_out_t       o;
    ngx_http_rtdash_ctx_t      *ctx;
    ngx_http_rtdash_node_t     *node;
    size_t                     *hint;
    ngx_http_rtdash_frame_t    *frame;
    ngx_http_rtdash_render_t    rd;
    ngx_http_rtdash_summary_t  *s;
    ngx_http_rtdash_minute_t   *m;

    ctx = st->ctx;
    *active = 0;

    ngx_memzero(&rd, sizeof(ngx_http_rtdash_render_t));

    rd.st = st;
    rd.group = g;
    rd.snapshot = (snapshot == 1);
    rd.since = since;
    rd.now = ngx_time();
    rd.nseconds = (snapshot == 1) ? 60 : 2;
    rd.nminutes = (snapshot == 1) ? (window + 59) / 60 : 1;

    rd.tmp = ngx_create_pool(16384, st->log);
    if (rd.tmp == NULL) {
        return NULL;
    }

    ngx_shmtx_lock(&ctx->shpool->mutex);
    ngx_http_rtdash_zinfo_locked(ctx, &rd.zi);
    ngx_shmtx_unlock(&ctx->shpool->mutex);

    /* summaries go to memory kept from render to render */

    rd.max_tools = (g->ntools ? g->ntools : rd.zi.ntools) + 16;

    if (st->nsummaries < rd.max_tools) {
        if (st->summaries) {
            ngx_free(st->summaries);
        }

        st->nsummaries = rd.max_tools + rd.max_tools / 2;
        st->summaries = ngx_alloc(st->nsummaries
                                  * sizeof(ngx_http_rtdash_summary_t),
                                  st->log);
        if (st->summaries == NULL) {
            st->nsummaries = 0;
            goto failed;
        }
    }

    rd.tools = st->summaries;

    rd.seconds = ngx_pcalloc(rd.tmp, ctx->layout.sec_size * rd.nseconds);
    rd.minutes = ngx_pcalloc(rd.tmp, ctx->layout.min_size * rd.nminutes);
    /* the frame's list, a tool's list, the merge: cap + 1 each */

    rd.events = ngx_palloc(rd.tmp, (g->events + 1) * 3
                                   * sizeof(ngx_http_rtdash_sev_t));

    if (rd.seconds == NULL || rd.minutes == NULL || rd.events == NULL) {
        goto failed;
    }

    if (g->ntools) {
        for (i = 0; i < g->ntools; i++) {
            ngx_shmtx_lock(&ctx->shpool->mutex);
            node = ngx_http_rtdash_lookup_locked(ctx, g->hashes[i],
                                                 g->tools[i].data,
                                                 g->tools[i].len);
            if (node && ngx_http_rtdash_collect(&rd, node) != NGX_OK) {
                ngx_shmtx_unlock(&ctx->shpool->mutex);
                goto failed;
            }

            ngx_shmtx_unlock(&ctx->shpool->mutex);
        }

    } else {
        /* tools are never removed once seen: the queue only grows */

        ngx_shmtx_lock(&ctx->shpool->mutex);
        q = ngx_queue_head(&ctx->sh->tools);

        while (q != ngx_queue_sentinel(&ctx->sh->tools)) {
            node = ngx_queue_data(q, ngx_http_rtdash_node_t, queue);

            if (ngx_http_rtdash_collect(&rd, node) != NGX_OK) {
                ngx_shmtx_unlock(&ctx->shpool->mutex);
                goto failed;
            }

            q = ngx_queue_next(q);

            /* let writers in between tools */
            ngx_shmtx_unlock(&ctx->shpool->mutex);
            ngx_shmtx_lock(&ctx->shpool->mutex);
        }

        ngx_shmtx_unlock(&ctx->shpool->mutex);
    }

    s = rd.tools;

    for (i = 0; i < rd.ntools; i++) {
        if (s[i].updated >= (double) (rd.now - NGX_HTTP_RTDASH_ACTIVE)) {
            *active = 1;
        }
    }

    if (snapshot == 2 && (rd.lost || rd.missed)) {
        goto failed;
    }

    if (snapshot == 0 && rd.ntools == 0) {
        goto failed;
    }

    /*
     * The frame is written into a pool of its own, in one buffer sized
     * after the last frame of its kind, so it needs no copy as a rule.
     */

    hint = &st->hint[snapshot == 1];

    pool = ngx_create_pool(NGX_MIN_POOL_SIZE, st->log);
    if (pool == NULL) {
        goto failed;
    }

    frame = ngx_palloc(pool, sizeof(ngx_http_rtdash_frame_t));
    if (frame == NULL) {
        goto failed_frame;
    }

    ngx_http_rtdash_out_init(&o, pool, ngx_max(*hint, 16384));

    if (snapshot == 1) {
        ngx_http_rtdash_out_lit(&o, "retry: ");
        ngx_http_rtdash_out_uint(&o, NGX_HTTP_RTDASH_RETRY);
        ngx_http_rtdash_out_lit(&o, "\n");
    }

    ngx_http_rtdash_out_lit(&o, "id: ");
    ngx_http_rtdash_out_uint(&o, rd.zi.seq);

    if (snapshot == 1) {
        ngx_http_rtdash_out_lit(&o, "\nevent: snapshot\ndata: {\"seq\":");

    } else {
        ngx_http_rtdash_out_lit(&o, "\nevent: update\ndata: {\"seq\":");
    }

    ngx_http_rtdash_out_uint(&o, rd.zi.seq);
    ngx_http_rtdash_out_lit(&o, ",\"now\":");
    ngx_http_rtdash_out_num_g(&o, ngx_http_rtdash_now(), 13);
    ngx_http_rtdash_out_lit(&o, ",\"zone\":");
    ngx_http_rtdash_json_zone(&o, ctx, &rd.zi);
    ngx_http_rtdash_out_lit(&o, ",\"types\":");
    ngx_http_rtdash_json_types(&o, &rd.zi);
    ngx_http_rtdash_out_lit(&o, ",\"tools\":[");

    for (i = 0; i < rd.ntools; i++) {
        if (i) {
            ngx_http_rtdash_out_lit(&o, ",");
        }

        ngx_http_rtdash_json_tool(&o, &rd.zi, &s[i]);
    }

    ngx_http_rtdash_out_lit(&o, "]");

    if (snapshot == 1) {
        ngx_http_rtdash_out_lit(&o, ",\"tool\":[");

        for (i = 0; i < g->ntools; i++) {
            if (i) {
                ngx_http_rtdash_out_lit(&o, ",");
            }

            ngx_http_rtdash_out_str(&o, g->tools[i].data, g->tools[i].len);
        }

        ngx_http_rtdash_out_lit(&o, "],\"window\":");
        ngx_http_rtdash_out_uint(&o, window);
    }

    ngx_http_rtdash_out_lit(&o, ",\"minutes\":[");

    for (i = 0; i < rd.nminutes; i++) {
        if (i) {
            ngx_http_rtdash_out_lit(&o, ",");
        }

        t = rd.now - rd.now % 60 - (rd.nminutes - 1 - i) * 60;
        m = (ngx_http_rtdash_minute_t *) ((u_char *) rd.minutes
                                          + i * ctx->layout.min_size);

        ngx_http_rtdash_json_minute(&o, ctx, &rd.zi, NULL, 0,
                                    m->t ? m : NULL, t);
    }

    ngx_http_rtdash_out_lit(&o, "],\"seconds\":[");

    for (i = 0; i < rd.nseconds; i++) {
        if (i) {
            ngx_http_rtdash_out_lit(&o, ",");
        }

        p = (u_char *) rd.seconds + i * ctx->layout.sec_size;

        ngx_http_rtdash_json_second(&o, ctx, &rd.zi,
                                    ((uint32_t *) p)[0] ? (uint32_t *) p
                                                        : NULL,
                                    rd.now - (rd.nseconds - 1 - i));
    }

    ngx_http_rtdash_out_lit(&o, "],\"events\":[");

    for (i = 0; i < rd.nevents; i++) {
        if (i) {
            ngx_http_rtdash_out_lit(&o, ",");
        }

        ngx_http_rtdash_json_event(&o, &rd.zi, &rd.events[i].ev,
                                   rd.events[i].tool->name,
                                   rd.events[i].tool->name_len);
    }

    ngx_http_rtdash_out_lit(&o, "]}\n\n");

    if (o.failed) {
        goto failed_frame;
    }

    if (o.size + o.size / 4 > *hint) {
        *hint = o.size + o.size / 4;
    }

    frame->pool = pool;
    frame->len = o.size;
    frame->refs = 1;

    if (o.first->next == NULL) {
        frame->data = o.first->buf->pos;

    } else {
        frame->data = ngx_pnalloc(pool, o.size);
        if (frame->data == NULL) {
            goto failed_frame;
        }

        p = frame->data;

        for (cl = o.first; cl; cl = cl->next) {
            p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
        }
    }

    ngx_destroy_pool(rd.tmp);

    return frame;

failed_frame:

    ngx_destroy_pool(pool);

failed:

    ngx_destroy_pool(rd.tmp);

    return NULL;
}


/* under the lock: copy what a frame needs of one tool, add up buckets */

static ngx_int_t
ngx_http_rtdash_collect(ngx_http_rtdash_render_t *rd,
    ngx_http_rtdash_node_t *node)
{
    time_t                      t, first;
    uint32_t                   *src, *dst;
    uint64_t                    avail;
    ngx_uint_t                  i, k, n, types;
    ngx_http_rtdash_ctx_t      *ctx;
    ngx_http_rtdash_sev_t      *evs;
    ngx_http_rtdash_event_t    *ring, *e;
    ngx_http_rtdash_layout_t   *l;
    ngx_http_rtdash_summary_t  *s;
    ngx_http_rtdash_minute_t   *m;

    ctx = rd->st->ctx;
    l = &ctx->layout;
    types = ctx->ntypes;

    if (!rd->snapshot && node->seq <= rd->since
        && node->updated < (double) (rd->now - NGX_HTTP_RTDASH_ACTIVE))
    {
        return NGX_OK;
    }

    if (rd->ntools == rd->max_tools) {
        /* tools that came after the render started: the next frame */
        return NGX_OK;
    }

    s = &rd->tools[rd->ntools++];

    ngx_http_rtdash_summary_locked(ctx, node, rd->now, s);

    /* seconds */

    for (i = 0; i < rd->nseconds; i++) {
        t = rd->now - (rd->nseconds - 1 - i);
        src = ngx_http_rtdash_at(node, l->seconds
                                 + (t % NGX_HTTP_RTDASH_SECONDS) * l->sec_size,
                                 uint32_t);

        if (src[0] != (uint32_t) t) {
            continue;
        }

        dst = (uint32_t *) ((u_char *) rd->seconds + i * l->sec_size);
        dst[0] = (uint32_t) t;

        for (k = 1; k <= 2 * types; k++) {
            dst[k] += src[k];
        }
    }

    /* minutes */

    first = rd->now - rd->now % 60 - (rd->nminutes - 1) * 60;

    for (i = 0; i < rd->nminutes; i++) {
        t = first + i * 60;
        m = ngx_http_rtdash_at(node, l->minutes
                               + ((t / 60) % ctx->nminutes) * l->min_size,
                               ngx_http_rtdash_minute_t);

        if (m->t != (uint32_t) t) {
            continue;
        }

        ngx_http_rtdash_add_minute(rd,
                    (ngx_http_rtdash_minute_t *) ((u_char *) rd->minutes
                                                  + i * l->min_size),
                    m);
    }

    /* raw events: the newest of this tool, newer than "since" */

    if (rd->group->events == 0) {
        return NGX_OK;
    }

    ring = ngx_http_rtdash_at(node, l->ring, ngx_http_rtdash_event_t);
    avail = ngx_min(node->nevents, ctx->nevents);
    evs = rd->events + rd->group->events + 1;

    for (n = 0; n < avail; n++) {
        e = &ring[(node->nevents - 1 - n) % ctx->nevents];

        if (!rd->snapshot && e->seq <= rd->since) {
            break;
        }

        if (n == rd->group->events) {
            rd->missed++;
            break;
        }

        evs[n].tool = s;
        evs[n].ev = *e;
    }

    if (!rd->snapshot && n == avail && node->nevents > avail
        && ring[node->nevents % ctx->nevents].seq > rd->since + 1)
    {
        /* the ring wrapped past what the client saw */
        rd->lost++;
    }

    ngx_http_rtdash_merge_events(rd, evs, n);

    return NGX_OK;
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

    cap = rd->group->events;

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

    for (i = 0; i < NGX_HTTP_RTDASH_USER_BITS / 32; i++) {
        dst->users[i] |= src->users[i];
    }

    ngx_http_rtdash_vstat_merge(&dst->value, &src->value);

    a = (uint32_t *) (dst + 1);
    b = (uint32_t *) (src + 1);
    n = 2 * rd->st->ctx->ntypes;

    for (i = 0; i < n; i++) {
        a[i] += b[i];
    }
}
