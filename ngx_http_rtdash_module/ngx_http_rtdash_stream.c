
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
#define NGX_HTTP_RTDASH_RETRY       2000
#define NGX_HTTP_RTDASH_WS_REPLIES  16      /* answers waiting, at most */


typedef struct {
    ngx_queue_t                  queue;       /* in the stream */
    ngx_queue_t                  subs;
    ngx_uint_t                   nsubs;
    ngx_http_rtdash_filter_t     filter;
    uint64_t                     seq;         /* last frame's zone seq */
    ngx_uint_t                   active;
    const ngx_http_rtdash_framing_t  *framing; /* SSE or WebSocket */
    ngx_uint_t                   websocket;
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

    /* WebSocket: the reader, replies waiting for the frame being sent */
    ngx_http_rtdash_ws_in_t     *ws;
    u_char                      *early;       /* frames behind the headers */
    size_t                       nearly;
    ngx_http_rtdash_frame_t     *replies;
    ngx_uint_t                   nreplies;
    ngx_msec_t                   ping_sent;   /* 0: none unanswered */
    ngx_uint_t                   close_code;
    ngx_int_t                    close_rc;

    unsigned                     connected:1;
    unsigned                     snapshot:1;
    unsigned                     finish:1;
    unsigned                     done:1;
    unsigned                     detached:1;
    unsigned                     kept:1;      /* not detached, for good */
    unsigned                     chunked:1;
    unsigned                     closing:1;
    unsigned                     websocket:1;
    unsigned                     close_sent:1;
    unsigned                     reading:1;   /* in its read handler */
    unsigned                     close_later:1;
    unsigned                     lingering:1;
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
    ngx_msec_t                   last_ping;   /* WebSocket */
    ngx_uint_t                   nws;         /* WebSocket subscribers */
    ngx_http_rtdash_frames_t     frames;      /* the renderer */
    ngx_log_t                   *log;
};


/* what a group's update is, for each of its subscribers */
typedef struct {
    ngx_http_rtdash_frame_t     *frame;
    ngx_msec_t                   now;
    ngx_msec_t                   interval;
    ngx_uint_t                   changed;
} ngx_http_rtdash_update_t;


typedef void (*ngx_http_rtdash_sub_pt)(ngx_http_rtdash_sub_t *sub,
    void *data);


/* what a stream request asked for */
typedef struct {
    ngx_array_t                  tools;
    ngx_uint_t                   window;
    ngx_uint_t                   events;
    ngx_uint_t                   limit;
    ngx_uint_t                   frames;
    uint64_t                     since;       /* -1: no resume */
} ngx_http_rtdash_stream_args_t;


static ngx_http_rtdash_sub_t *ngx_http_rtdash_sub_join(ngx_http_request_t *r,
    ngx_http_rtdash_stream_t *st, ngx_http_rtdash_stream_args_t *args,
    ngx_uint_t websocket);
static ngx_int_t ngx_http_rtdash_stream_args(ngx_http_request_t *r,
    ngx_http_rtdash_stream_t *st, ngx_http_rtdash_stream_args_t *args,
    ngx_int_t *rc);
static ngx_int_t ngx_http_rtdash_stream_header(ngx_http_request_t *r);
static void ngx_http_rtdash_stream_watch(ngx_event_t *ev);
static void ngx_http_rtdash_stream_tick(ngx_http_rtdash_stream_t *st);
static void ngx_http_rtdash_stream_frames(ngx_http_rtdash_stream_t *st,
    uint64_t seq, ngx_msec_t now);
static void ngx_http_rtdash_stream_shutdown(ngx_http_rtdash_stream_t *st);
static void ngx_http_rtdash_group_each(ngx_http_rtdash_group_t *g,
    ngx_http_rtdash_sub_pt handler, void *data);
static void ngx_http_rtdash_stream_each(ngx_http_rtdash_stream_t *st,
    ngx_http_rtdash_sub_pt handler, void *data);
static void ngx_http_rtdash_sub_bye(ngx_http_rtdash_sub_t *sub, void *data);
static void ngx_http_rtdash_sub_ping(ngx_http_rtdash_sub_t *sub, void *data);
static void ngx_http_rtdash_sub_update(ngx_http_rtdash_sub_t *sub,
    void *data);
static ngx_int_t ngx_http_rtdash_stream_limit(ngx_http_request_t *r,
    ngx_uint_t *limit);
static ngx_http_rtdash_group_t *ngx_http_rtdash_group_get(
    ngx_http_rtdash_stream_t *st, ngx_array_t *tools, ngx_uint_t events,
    ngx_uint_t limit, ngx_uint_t websocket);
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
static void ngx_http_rtdash_ws_request_read(ngx_http_request_t *r);
static void ngx_http_rtdash_ws_input(ngx_http_rtdash_sub_t *sub);
static void ngx_http_rtdash_ws_feed(ngx_http_rtdash_sub_t *sub, u_char *buf,
    size_t n);
static void ngx_http_rtdash_ws_event(ngx_http_rtdash_sub_t *sub,
    ngx_http_rtdash_ws_event_t *ev);
static void ngx_http_rtdash_ws_end(ngx_http_rtdash_sub_t *sub,
    ngx_uint_t code);
static void ngx_http_rtdash_ws_linger(ngx_http_rtdash_sub_t *sub);
static void ngx_http_rtdash_ws_drain(ngx_http_rtdash_sub_t *sub);
static void ngx_http_rtdash_conn_drop(ngx_http_rtdash_sub_t *sub,
    ngx_int_t rc);
static void ngx_http_rtdash_sub_reply(ngx_http_rtdash_sub_t *sub,
    ngx_http_rtdash_frame_t *frame);
static void ngx_http_rtdash_sub_replies_free(ngx_http_rtdash_sub_t *sub);
static void ngx_http_rtdash_ws_command_run(ngx_http_rtdash_sub_t *sub,
    u_char *text, size_t len);
static const char *ngx_http_rtdash_ws_subscribe(ngx_http_rtdash_sub_t *sub,
    ngx_http_rtdash_ws_cmd_t *cmd);
static void ngx_http_rtdash_ws_resnapshot(ngx_http_rtdash_sub_t *sub);
static void ngx_http_rtdash_ws_message(ngx_http_rtdash_sub_t *sub,
    const char *event, u_char *data, size_t len);
static void ngx_http_rtdash_ws_error(ngx_http_rtdash_sub_t *sub,
    ngx_pool_t *pool, const char *error, ngx_str_t *type);
static void ngx_http_rtdash_sub_ws_ping(ngx_http_rtdash_sub_t *sub,
    void *data);
static void ngx_http_rtdash_sse_open(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_frame_mode_e mode, uint64_t id);
static void ngx_http_rtdash_sse_close(ngx_http_rtdash_out_t *o);
static void ngx_http_rtdash_sse_message(ngx_http_rtdash_out_t *o,
    const char *event, uint64_t id, ngx_http_rtdash_out_t *json);


/* SSE: "retry:" before a snapshot, "id:", "event:", one "data:" line */
static const ngx_http_rtdash_framing_t  ngx_http_rtdash_sse_framing = {
    ngx_http_rtdash_sse_open,
    ngx_http_rtdash_sse_close,
    NULL,
    ngx_http_rtdash_sse_message
};


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
    st->frames.ctx = st->ctx;
    st->frames.log = cycle->log;
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
    ngx_int_t                       rc;
    ngx_uint_t                      websocket;
    ngx_http_rtdash_sub_t          *sub;
    ngx_http_rtdash_stream_t       *st;
    ngx_http_rtdash_loc_conf_t     *lcf;
    ngx_http_rtdash_stream_args_t   args;

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

    if (ngx_http_rtdash_stream_args(r, st, &args, &rc) != NGX_OK) {
        /* refused: rc is what sending the error returned */
        return rc;
    }

    /* a WebSocket handshake, checked whole before anything is kept */

    switch (ngx_http_rtdash_ws_handshake(r, &rc)) {

    case NGX_OK:
        websocket = 1;
        break;

    case NGX_DECLINED:
        websocket = 0;
        break;

    default:
        /* refused, the JSON error went out */
        return (rc == NGX_DONE) ? NGX_OK : rc;
    }

    sub = ngx_http_rtdash_sub_join(r, st, &args, websocket);
    if (sub == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "rtdash stream: %s subscriber joins, %ui in its group, "
                   "%ui here, resume from %uL",
                   websocket ? "WebSocket" : "SSE", sub->group->nsubs,
                   st->nclients, args.since);

    rc = websocket ? ngx_http_send_header(r)
                   : ngx_http_rtdash_stream_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    ngx_http_set_ctx(r, sub, ngx_http_rtdash_module);

    r->read_event_handler = websocket ? ngx_http_rtdash_ws_request_read
                                      : ngx_http_rtdash_stream_read;
    r->write_event_handler = ngx_http_rtdash_stream_write;
    r->main->count++;

    /* the snapshot goes from the write handler, right after this */

    sub->since = args.since;
    ngx_post_event(r->connection->write, &ngx_posted_events);

    st->last_write = ngx_current_msec;

    if (!st->watch.timer_set) {
        /*
         * The first subscriber: what the zone holds now is in its
         * snapshot, not news, and no burst is under way.
         */
        st->seq = st->ctx->sh->seq;
        st->seen_seq = st->seq;
        st->seen_at = ngx_current_msec - st->lcf->interval;

        ngx_add_timer(&st->watch, NGX_HTTP_RTDASH_WATCH);
    }

    return NGX_DONE;
}


/*
 * A new subscriber in the group of its filter.  In the connection's pool,
 * it outlives the request (see the top); made once the request is known
 * good, so that bad requests on a keep-alive connection do not pile
 * subscribers up there.
 */

static ngx_http_rtdash_sub_t *
ngx_http_rtdash_sub_join(ngx_http_request_t *r, ngx_http_rtdash_stream_t *st,
    ngx_http_rtdash_stream_args_t *args, ngx_uint_t websocket)
{
    ngx_pool_cleanup_t          *cln;
    ngx_http_rtdash_sub_t       *sub;
    ngx_http_core_loc_conf_t    *clcf;
    ngx_http_rtdash_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_rtdash_module);

    sub = ngx_pcalloc(r->connection->pool, sizeof(ngx_http_rtdash_sub_t));
    if (sub == NULL) {
        return NULL;
    }

    sub->window = args->window;
    sub->max_frames = args->frames;

    if (websocket) {
        sub->websocket = 1;
        sub->ws = ngx_pcalloc(r->connection->pool,
                              sizeof(ngx_http_rtdash_ws_in_t));
        if (sub->ws == NULL) {
            return NULL;
        }

        sub->ws->need = 2;
        sub->ws->max = lcf->max_message;

        /* a client that did not wait for the 101: its first frames */

        if (r->header_in && r->header_in->last > r->header_in->pos) {
            sub->nearly = r->header_in->last - r->header_in->pos;
            sub->early = ngx_pnalloc(r->connection->pool, sub->nearly);
            if (sub->early == NULL) {
                return NULL;
            }

            ngx_memcpy(sub->early, r->header_in->pos, sub->nearly);
            r->header_in->pos = r->header_in->last;
        }
    }

    /* the cleanup first: once in a group, the subscriber must leave it */

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    sub->group = ngx_http_rtdash_group_get(st, &args->tools, args->events,
                                           args->limit, websocket);
    if (sub->group == NULL) {
        return NULL;
    }

    sub->request = r;
    sub->connection = r->connection;
    sub->cleanup = cln;
    sub->stream = st;
    sub->out.buf = &sub->buf;
    sub->out.next = NULL;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);
    sub->send_timeout = clcf->send_timeout;

    ngx_queue_insert_tail(&sub->group->subs, &sub->queue);
    sub->group->nsubs++;
    st->nclients++;
    st->nws += websocket;

    cln->handler = ngx_http_rtdash_stream_cleanup;
    cln->data = sub;

    return sub;
}


/* the query: tool=, window=, events=, limit=, frames=, where to resume */

/* NGX_OK, or NGX_ERROR with *rc the handler's answer (an error sent) */

static ngx_int_t
ngx_http_rtdash_stream_args(ngx_http_request_t *r,
    ngx_http_rtdash_stream_t *st, ngx_http_rtdash_stream_args_t *args,
    ngx_int_t *rc)
{
    u_char           *p;
    uint64_t          since;
    ngx_str_t        *v, *lei;
    ngx_uint_t        i;
    ngx_array_t       last;
    ngx_table_elt_t  *h;

    if (ngx_http_rtdash_arg(r, "tool", &args->tools) != NGX_OK
        || ngx_http_rtdash_arg(r, "last_event_id", &last) != NGX_OK)
    {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_ERROR;
    }

    v = args->tools.elts;

    for (i = 0; i < args->tools.nelts; i++) {
        if (!ngx_http_rtdash_valid_text(v[i].data, v[i].len,
                                        NGX_HTTP_RTDASH_TOOL_MAX))
        {
            *rc = ngx_http_rtdash_send_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid tool", &v[i], -1, -1);
            return NGX_ERROR;
        }
    }

    if (ngx_http_rtdash_arg_uint(r, "window", 3600, st->ctx->retention,
                                 &args->window) != NGX_OK
        || ngx_http_rtdash_arg_uint(r, "events", 50, st->ctx->nevents,
                                    &args->events) != NGX_OK
        || ngx_http_rtdash_arg_uint(r, "frames", 0, NGX_MAX_INT_T_VALUE,
                                    &args->frames) != NGX_OK)
    {
        *rc = ngx_http_rtdash_send_error(r, NGX_HTTP_BAD_REQUEST,
                                         "\"window\", \"events\" and "
                                         "\"frames\" take numbers", NULL,
                                         -1, -1);
        return NGX_ERROR;
    }

    switch (ngx_http_rtdash_stream_limit(r, &args->limit)) {

    case NGX_OK:
        break;

    case NGX_DECLINED:
        *rc = ngx_http_rtdash_send_error(r, NGX_HTTP_BAD_REQUEST,
                                         "\"limit\" takes a number or all",
                                         NULL, -1, -1);
        return NGX_ERROR;

    default:
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_ERROR;
    }

    if (args->window < 60) {
        args->window = 60;
    }

    /* Last-Event-ID header, or last_event_id= for clients without it */

    lei = (last.nelts) ? last.elts : NULL;

    h = ngx_http_rtdash_header_in(r, "Last-Event-ID");

    if (h) {
        lei = &h->value;
    }

    args->since = (uint64_t) -1;

    if (lei == NULL || lei->len == 0) {
        return NGX_OK;
    }

    since = 0;

    for (p = lei->data; p < lei->data + lei->len; p++) {
        if (*p < '0' || *p > '9' || since > (uint64_t) 1 << 60) {
            return NGX_OK;
        }

        since = since * 10 + (*p - '0');
    }

    args->since = since;

    return NGX_OK;
}


/* limit=N (tools listed, at most), limit=all; NGX_DECLINED: neither */

static ngx_int_t
ngx_http_rtdash_stream_limit(ngx_http_request_t *r, ngx_uint_t *limit)
{
    ngx_str_t    *v;
    ngx_array_t   a;

    *limit = NGX_HTTP_RTDASH_STREAM_LIMIT;

    if (ngx_http_rtdash_arg(r, "limit", &a) != NGX_OK) {
        return NGX_ERROR;
    }

    if (a.nelts == 0) {
        return NGX_OK;
    }

    v = a.elts;

    if (v[0].len == 3 && ngx_strncmp(v[0].data, "all", 3) == 0) {
        *limit = NGX_HTTP_RTDASH_LIMIT_ALL;
        return NGX_OK;
    }

    return ngx_http_rtdash_arg_uint(r, "limit", NGX_HTTP_RTDASH_STREAM_LIMIT,
                                    NGX_HTTP_RTDASH_LIMIT_ALL, limit);
}


static ngx_int_t
ngx_http_rtdash_stream_header(ngx_http_request_t *r)
{
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

    return ngx_http_send_header(r);
}


static void
ngx_http_rtdash_stream_read(ngx_http_request_t *r)
{
    /* a client that closes is noticed at once */
    ngx_http_test_reading(r);
}


static ngx_http_rtdash_group_t *
ngx_http_rtdash_group_get(ngx_http_rtdash_stream_t *st, ngx_array_t *tools,
    ngx_uint_t events, ngx_uint_t limit, ngx_uint_t websocket)
{
    u_char                   *p;
    size_t                    size;
    ngx_str_t                *v;
    ngx_uint_t                 i, j;
    ngx_queue_t               *q;
    ngx_http_rtdash_group_t   *g;
    ngx_http_rtdash_filter_t  *f;

    v = tools->elts;

    for (q = ngx_queue_head(&st->groups);
         q != ngx_queue_sentinel(&st->groups);
         q = ngx_queue_next(q))
    {
        g = ngx_queue_data(q, ngx_http_rtdash_group_t, queue);
        f = &g->filter;

        if (f->events != events || f->ntools != tools->nelts
            || f->limit != limit || g->websocket != websocket)
        {
            continue;
        }

        for (i = 0; i < f->ntools; i++) {
            if (f->tools[i].len != v[i].len
                || ngx_memcmp(f->tools[i].data, v[i].data, v[i].len) != 0)
            {
                break;
            }
        }

        if (i == f->ntools) {
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

    g->filter.events = events;
    g->filter.limit = limit;
    g->filter.ntools = tools->nelts;
    g->filter.tools = (ngx_str_t *) (g + 1);
    g->filter.hashes = (uint32_t *) (g->filter.tools + g->filter.ntools);
    g->seq = st->ctx->sh->seq;
    g->websocket = websocket;
    g->framing = websocket ? &ngx_http_rtdash_ws_framing
                           : &ngx_http_rtdash_sse_framing;
    ngx_queue_init(&g->subs);

    p = (u_char *) (g->filter.hashes + g->filter.ntools);

    for (j = 0; j < g->filter.ntools; j++) {
        g->filter.tools[j].data = p;
        g->filter.tools[j].len = v[j].len;
        p = ngx_cpymem(p, v[j].data, v[j].len);
        g->filter.hashes[j] = ngx_crc32_short(v[j].data, v[j].len);
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
    st->nws -= sub->websocket;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, st->log, 0,
                   "rtdash stream: subscriber leaves, %ui left in its "
                   "group, %ui here", g->nsubs - 1, st->nclients);

    if (sub->frame) {
        ngx_http_rtdash_frame_release(sub->frame);
        sub->frame = NULL;
    }

    ngx_http_rtdash_sub_replies_free(sub);

    if (sub->ws) {
        ngx_http_rtdash_ws_free(sub->ws);
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


/*
 * Every subscriber of a group, or of every group: a subscriber may free
 * itself, and its group with the last one, so the next elements are
 * taken first and a freed group's sentinel is only compared by address.
 */

static void
ngx_http_rtdash_group_each(ngx_http_rtdash_group_t *g,
    ngx_http_rtdash_sub_pt handler, void *data)
{
    ngx_queue_t            *sq, *sentinel;
    ngx_http_rtdash_sub_t  *sub;

    sentinel = ngx_queue_sentinel(&g->subs);

    for (sq = ngx_queue_head(&g->subs); sq != sentinel; /* void */) {
        sub = ngx_queue_data(sq, ngx_http_rtdash_sub_t, queue);
        sq = ngx_queue_next(sq);

        handler(sub, data);
    }
}


static void
ngx_http_rtdash_stream_each(ngx_http_rtdash_stream_t *st,
    ngx_http_rtdash_sub_pt handler, void *data)
{
    ngx_queue_t              *q, *next;
    ngx_http_rtdash_group_t  *g;

    for (q = ngx_queue_head(&st->groups);
         q != ngx_queue_sentinel(&st->groups);
         q = next)
    {
        next = ngx_queue_next(q);
        g = ngx_queue_data(q, ngx_http_rtdash_group_t, queue);

        ngx_http_rtdash_group_each(g, handler, data);
    }
}


/* a final frame, then every stream finishes: clients reconnect */

static void
ngx_http_rtdash_stream_shutdown(ngx_http_rtdash_stream_t *st)
{
    ngx_http_rtdash_frame_t  *bye[2];

    static char  sse[] = "event: close\ndata: {\"reason\":\"shutdown\"}\n\n";
    static char  ws[] = "{\"reason\":\"shutdown\"}";
    static u_char  away[2] = { 1001 >> 8, 1001 & 0xff };

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, st->log, 0,
                   "rtdash stream: shutdown, %ui subscribers finish",
                   st->nclients);

    /* SSE: an event; WebSocket: a "close" message, then close 1001 */

    bye[0] = ngx_http_rtdash_frame_text(st->log, sse, sizeof(sse) - 1);
    bye[1] = ngx_http_rtdash_ws_frame(st->log, "close", st->ctx->sh->seq,
                                      (u_char *) ws, sizeof(ws) - 1, 0x8,
                                      away, 2);

    ngx_http_rtdash_stream_each(st, ngx_http_rtdash_sub_bye, bye);

    if (bye[0]) {
        ngx_http_rtdash_frame_release(bye[0]);
    }

    if (bye[1]) {
        ngx_http_rtdash_frame_release(bye[1]);
    }
}


static void
ngx_http_rtdash_sub_bye(ngx_http_rtdash_sub_t *sub, void *data)
{
    ngx_http_rtdash_frame_t  **bye = data;

    ngx_http_rtdash_frame_t  *frame;

    if (sub->done || sub->finish) {
        return;
    }

    sub->finish = 1;
    sub->close_code = 1001;

    if (sub->frame) {
        return;             /* finishes when it drains */
    }

    frame = bye[sub->websocket];

    if (frame == NULL) {
        ngx_http_rtdash_sub_finish(sub);
        return;
    }

    if (sub->websocket) {
        sub->close_sent = 1;
    }

    (void) ngx_http_rtdash_sub_send(sub, frame, 0);
}


/* SSE subscribers idle for a heartbeat: a comment */

static void
ngx_http_rtdash_sub_ping(ngx_http_rtdash_sub_t *sub, void *data)
{
    if (sub->frame == NULL && !sub->done && sub->connected
        && !sub->websocket)
    {
        (void) ngx_http_rtdash_sub_send(sub, data, 0);
    }
}


/*
 * WebSocket subscribers: a ping every heartbeat; one that has not
 * answered the last one within send_timeout is closed.
 */

static void
ngx_http_rtdash_sub_ws_ping(ngx_http_rtdash_sub_t *sub, void *data)
{
    if (!sub->websocket || sub->done || !sub->connected) {
        return;
    }

    if (sub->ping_sent
        && ngx_current_msec - sub->ping_sent >= sub->send_timeout)
    {
        ngx_log_error(NGX_LOG_INFO, sub->connection->log, NGX_ETIMEDOUT,
                      "rtdash: WebSocket client did not answer a ping");
        ngx_http_rtdash_sub_close(sub, NGX_ERROR);
        return;
    }

    if (sub->frame) {
        return;
    }

    if (sub->ping_sent == 0) {
        sub->ping_sent = ngx_current_msec ? ngx_current_msec : 1;
    }

    (void) ngx_http_rtdash_sub_send(sub, data, 0);
}


/*
 * News after a quiet spell (a tenth of the interval without any) go out
 * at once.  News that follow news more closely are a burst: they wait
 * until an interval after the last frame with news, so a continuous load
 * gets one frame per interval.  Refreshes of rates alone go every
 * interval while a tool was active; else a ping every heartbeat.
 */

static void
ngx_http_rtdash_stream_tick(ngx_http_rtdash_stream_t *st)
{
    uint64_t                  seq;
    ngx_msec_t                now;
    ngx_uint_t                changed;
    ngx_queue_t              *q;
    ngx_http_rtdash_frame_t  *frame;
    ngx_http_rtdash_group_t  *g;

    now = ngx_current_msec;
    seq = st->ctx->sh->seq;

    if (now - st->last_ping >= st->lcf->heartbeat && st->nws) {
        st->last_ping = now;

        frame = ngx_http_rtdash_ws_frame(st->log, NULL, 0, NULL, 0, 0x9,
                                         NULL, 0);
        if (frame) {
            ngx_http_rtdash_stream_each(st, ngx_http_rtdash_sub_ws_ping,
                                        frame);
            ngx_http_rtdash_frame_release(frame);
        }
    }

    if (seq != st->seen_seq) {
        st->burst = (now - st->seen_at < st->lcf->interval / 10);
        st->seen_seq = seq;
        st->seen_at = now;
    }

    changed = (seq != st->seq);

    if (changed
        && (!st->burst || now - st->last_change >= st->lcf->interval))
    {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, st->log, 0,
                       "rtdash stream: news up to %uL%s", seq,
                       st->burst ? " after a burst" : "");

        st->seq = seq;
        st->last_change = now;
        ngx_http_rtdash_stream_frames(st, seq, now);
        return;
    }

    if (now - st->last_frame >= st->lcf->interval) {

        /* rates move with time alone while a tool was active */

        for (q = ngx_queue_head(&st->groups);
             q != ngx_queue_sentinel(&st->groups);
             q = ngx_queue_next(q))
        {
            g = ngx_queue_data(q, ngx_http_rtdash_group_t, queue);

            if (g->active) {
                ngx_log_debug0(NGX_LOG_DEBUG_HTTP, st->log, 0,
                               "rtdash stream: refresh of rates");

                if (changed) {
                    /* news of a burst go with the refresh */
                    st->seq = seq;
                    st->last_change = now;
                }

                ngx_http_rtdash_stream_frames(st, seq, now);
                return;
            }
        }
    }

    if (now - st->last_write < st->lcf->heartbeat) {
        return;
    }

    st->last_write = now;

    frame = ngx_http_rtdash_frame_text(st->log, ": ping\n\n", 8);
    if (frame == NULL) {
        return;
    }

    ngx_http_rtdash_stream_each(st, ngx_http_rtdash_sub_ping, frame);

    ngx_http_rtdash_frame_release(frame);
}


/* one update per group, sent to each of its subscribers that can take it */

static void
ngx_http_rtdash_stream_frames(ngx_http_rtdash_stream_t *st, uint64_t seq,
    ngx_msec_t now)
{
    ngx_uint_t                active;
    ngx_queue_t              *q, *next;
    ngx_http_rtdash_group_t  *g;
    ngx_http_rtdash_update_t  u;

    st->last_frame = now;
    st->last_write = now;

    u.now = now;
    u.interval = st->lcf->interval;

    for (q = ngx_queue_head(&st->groups);
         q != ngx_queue_sentinel(&st->groups);
         q = next)
    {
        next = ngx_queue_next(q);
        g = ngx_queue_data(q, ngx_http_rtdash_group_t, queue);

        u.frame = ngx_http_rtdash_frame_render(&st->frames, &g->filter,
                                               g->framing,
                                               NGX_HTTP_RTDASH_FRAME_UPDATE,
                                               g->seq, 0, &active);
        g->active = active;

        if (u.frame == NULL) {
            continue;
        }

        u.changed = (g->seq != seq);
        g->seq = seq;

        /* a subscriber finishing may free the group: u.frame stays ours */

        ngx_http_rtdash_group_each(g, ngx_http_rtdash_sub_update, &u);

        ngx_http_rtdash_frame_release(u.frame);
    }
}


static void
ngx_http_rtdash_sub_update(ngx_http_rtdash_sub_t *sub, void *data)
{
    ngx_http_rtdash_update_t  *u = data;

    if (sub->done || !sub->connected) {
        return;
    }

    /* a refresh of rates only: not sooner than its last frame */

    if (!u->changed && u->now - sub->last_frame < u->interval) {
        return;
    }

    if (sub->frame) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, sub->connection->log, 0,
                       "rtdash stream: subscriber busy, skips a frame");
        sub->snapshot = 1;
        return;
    }

    (void) ngx_http_rtdash_sub_send(sub, u->frame, 1);
}


static void
ngx_http_rtdash_sub_snapshot(ngx_http_rtdash_sub_t *sub, uint64_t since)
{
    ngx_uint_t                 active;
    ngx_http_rtdash_frame_t   *frame;
    ngx_http_rtdash_frames_t  *fr;
    ngx_http_rtdash_filter_t  *f;

    fr = &sub->stream->frames;
    f = &sub->group->filter;
    frame = NULL;

    if (since != (uint64_t) -1) {
        /* a resume: an update with what was missed, if all of it is there */
        frame = ngx_http_rtdash_frame_render(fr, f, sub->group->framing,
                                             NGX_HTTP_RTDASH_FRAME_RESUME,
                                             since, sub->window, &active);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, sub->connection->log, 0,
                   "rtdash stream: subscriber gets %s from %uL",
                   frame ? "a resume" : "a snapshot", since);

    if (frame == NULL) {
        frame = ngx_http_rtdash_frame_render(fr, f, sub->group->framing,
                                             NGX_HTTP_RTDASH_FRAME_SNAPSHOT,
                                             0, sub->window, &active);
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

    if (sub->early) {
        /* no read event will tell of what was read with the headers */
        ngx_post_event(sub->connection->read, &ngx_posted_events);
    }

    (void) ngx_http_rtdash_sub_send(sub, frame, 1);

    ngx_http_rtdash_frame_release(frame);
}


static void
ngx_http_rtdash_sse_open(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_frame_mode_e mode, uint64_t id)
{
    if (mode == NGX_HTTP_RTDASH_FRAME_SNAPSHOT) {
        ngx_http_rtdash_out_lit(o, "retry: ");
        ngx_http_rtdash_out_uint(o, NGX_HTTP_RTDASH_RETRY);
        ngx_http_rtdash_out_lit(o, "\n");
    }

    ngx_http_rtdash_out_lit(o, "id: ");
    ngx_http_rtdash_out_uint(o, id);

    if (mode == NGX_HTTP_RTDASH_FRAME_SNAPSHOT) {
        ngx_http_rtdash_out_lit(o, "\nevent: snapshot\ndata: ");

    } else {
        ngx_http_rtdash_out_lit(o, "\nevent: update\ndata: ");
    }
}


static void
ngx_http_rtdash_sse_close(ngx_http_rtdash_out_t *o)
{
    ngx_http_rtdash_out_lit(o, "\n\n");
}


/* a watch item: an event of its own, its seq as the id */

static void
ngx_http_rtdash_sse_message(ngx_http_rtdash_out_t *o, const char *event,
    uint64_t id, ngx_http_rtdash_out_t *json)
{
    ngx_http_rtdash_out_lit(o, "id: ");
    ngx_http_rtdash_out_uint(o, id);
    ngx_http_rtdash_out_lit(o, "\nevent: ");
    ngx_http_rtdash_out_raw(o, (u_char *) event, ngx_strlen(event));
    ngx_http_rtdash_out_lit(o, "\ndata: ");
    ngx_http_rtdash_out_append(o, json);
    ngx_http_rtdash_out_lit(o, "\n\n");
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
    ngx_http_rtdash_frame_t  *frame;

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

    if (sub->replies) {
        /* a WebSocket reply that waited for the frame: the next one */
        frame = sub->replies;
        sub->replies = frame->next;
        sub->nreplies--;

        (void) ngx_http_rtdash_sub_send(sub, frame, 0);
        ngx_http_rtdash_frame_release(frame);
        return;
    }

    if (sub->snapshot) {
        /* it skipped frames while it was slow: start it over */
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, sub->connection->log, 0,
                       "rtdash stream: subscriber drained after skipping, "
                       "snapshot");
        ngx_http_rtdash_sub_snapshot(sub, (uint64_t) -1);
    }
}


/* the end of the stream: the last chunk, and the connection closes */

static void
ngx_http_rtdash_sub_finish(ngx_http_rtdash_sub_t *sub)
{
    ngx_int_t                 rc;
    ngx_http_request_t       *r;
    ngx_http_rtdash_frame_t  *frame;

    if (sub->done) {
        return;
    }

    if (sub->websocket && !sub->close_sent) {
        /* our close frame goes first; once it is out, the connection */

        sub->close_sent = 1;
        sub->finish = 1;

        frame = ngx_http_rtdash_ws_close_frame(sub->connection->log,
                                               sub->close_code
                                               ? sub->close_code : 1000);
        if (frame) {
            (void) ngx_http_rtdash_sub_send(sub, frame, 0);
            ngx_http_rtdash_frame_release(frame);
            return;
        }
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, sub->connection->log, 0,
                   "rtdash stream: subscriber finishes after %ui frames%s",
                   sub->frames, sub->finish ? ", shutting down" : "");

    if (sub->detached) {
        if (sub->websocket && !ngx_exiting && !ngx_terminate) {
            ngx_http_rtdash_ws_linger(sub);
            return;
        }

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

    if (sub->reading) {
        /* the finalization may free the connection: its reader does it */
        sub->close_later = 1;
        sub->close_rc = (rc == NGX_ERROR) ? NGX_ERROR : NGX_OK;
        return;
    }

    ngx_http_finalize_request(r, rc == NGX_ERROR ? NGX_ERROR : NGX_OK);
}


/* the request finalized, or the detached connection closed: sub is gone */

static void
ngx_http_rtdash_sub_close(ngx_http_rtdash_sub_t *sub, ngx_int_t rc)
{
    if (sub->reading) {
        /* its read handler is on the stack: it closes it on the way out */
        sub->done = 1;
        sub->close_later = 1;
        sub->close_rc = rc;
        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, sub->connection->log, 0,
                   "rtdash stream: subscriber closes, rc:%i, %ui frames",
                   rc, sub->frames);

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
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0,
                       "rtdash stream: subscriber kept on its request "
                       "(HTTP/2, a filter or its buffers)");
        return;
    }

    /*
     * Another module's cleanup in the request's pool means it holds
     * something for as long as the request lives (limit_conn counts the
     * connection until then): such a request stays.
     */

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln != sub->cleanup && cln->handler) {
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0,
                           "rtdash stream: subscriber kept on its request "
                           "(another module's cleanup)");
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

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "rtdash stream: subscriber detached, request freed");

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
    ngx_connection_t       *c;
    ngx_http_rtdash_sub_t  *sub;

    c = rev->data;
    sub = c->data;

    if (c->close) {
        /* worker_shutdown_timeout, or a worker out of connections */
        ngx_http_rtdash_sub_close(sub, NGX_ERROR);
        return;
    }

    if (sub->lingering) {
        ngx_http_rtdash_ws_drain(sub);
        return;
    }

    if (sub->websocket) {
        ngx_http_rtdash_ws_input(sub);
        return;
    }

    ngx_http_rtdash_conn_drop(sub, NGX_ERROR);
}


/*
 * What the client sends is read and dropped; at its end the subscriber
 * is closed with rc (NGX_ERROR: the connection counts as failed).
 */

static void
ngx_http_rtdash_conn_drop(ngx_http_rtdash_sub_t *sub, ngx_int_t rc)
{
    u_char             buf[256];
    ssize_t            n;
    ngx_connection_t  *c;

    c = sub->connection;

    for ( ;; ) {
        n = c->recv(c, buf, sizeof(buf));

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0 || n == NGX_ERROR) {
            c->error = (rc == NGX_ERROR);
            ngx_http_rtdash_sub_close(sub, rc);
            return;
        }
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_http_rtdash_sub_close(sub, NGX_ERROR);
    }
}


/*
 * WebSocket input, from the request's read handler or, once detached,
 * the connection's: client frames are read and answered.  A subscriber
 * that something here closes is closed on the way out, not under the
 * reader's feet.
 */

static void
ngx_http_rtdash_ws_request_read(ngx_http_request_t *r)
{
    ngx_http_rtdash_sub_t  *sub;

    sub = ngx_http_get_module_ctx(r, ngx_http_rtdash_module);

    if (sub == NULL || sub->done) {
        return;
    }

    ngx_http_rtdash_ws_input(sub);
}


static void
ngx_http_rtdash_ws_input(ngx_http_rtdash_sub_t *sub)
{
    u_char            *p, buf[4096];
    ssize_t            n;
    ngx_connection_t  *c;

    c = sub->connection;
    sub->reading = 1;

    if (sub->early) {
        /* frames that came with the handshake, read with its headers */
        p = sub->early;
        sub->early = NULL;
        ngx_http_rtdash_ws_feed(sub, p, sub->nearly);
    }

    while (!sub->done) {
        n = c->recv(c, buf, sizeof(buf));

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0 || n == NGX_ERROR) {
            c->error = 1;
            ngx_http_rtdash_sub_close(sub, NGX_ERROR);
            break;
        }

        ngx_http_rtdash_ws_feed(sub, buf, n);
    }

    sub->reading = 0;

    if (sub->close_later) {
        sub->close_later = 0;
        sub->done = 0;
        ngx_http_rtdash_sub_close(sub, sub->close_rc);
        return;
    }

    if (!sub->done && ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_http_rtdash_sub_close(sub, NGX_ERROR);
    }
}


/* the frames in n bytes, one event at a time, until the subscriber ends */

static void
ngx_http_rtdash_ws_feed(ngx_http_rtdash_sub_t *sub, u_char *buf, size_t n)
{
    u_char                      *p;
    ngx_int_t                    rc;
    ngx_http_rtdash_ws_event_t   ev;

    p = buf;

    while (p < buf + n && !sub->done) {
        rc = ngx_http_rtdash_ws_read(sub->ws, &p, buf + n, &ev);

        if (rc == NGX_AGAIN) {
            return;
        }

        if (rc == NGX_ERROR) {
            ngx_log_error(NGX_LOG_INFO, sub->connection->log, 0,
                          "rtdash: WebSocket client broke the protocol: "
                          "%s, closing with %ui", sub->ws->error,
                          sub->ws->close_code);
            ngx_http_rtdash_ws_end(sub, sub->ws->close_code);
            return;
        }

        ngx_http_rtdash_ws_event(sub, &ev);
        ngx_http_rtdash_ws_done(sub->ws);
    }
}


static void
ngx_http_rtdash_ws_event(ngx_http_rtdash_sub_t *sub,
    ngx_http_rtdash_ws_event_t *ev)
{
    ngx_http_rtdash_frame_t  *frame;

    switch (ev->kind) {

    case NGX_HTTP_RTDASH_WS_TEXT:
        ngx_http_rtdash_ws_command_run(sub, ev->data, ev->len);
        return;

    case NGX_HTTP_RTDASH_WS_BINARY:
        ngx_http_rtdash_ws_end(sub, 1003);
        return;

    case NGX_HTTP_RTDASH_WS_PING:
        frame = ngx_http_rtdash_ws_frame(sub->connection->log, NULL, 0,
                                         NULL, 0, 0xa, ev->data, ev->len);
        if (frame) {
            ngx_http_rtdash_sub_reply(sub, frame);
        }

        return;

    case NGX_HTTP_RTDASH_WS_PONG:
        sub->ping_sent = 0;
        return;

    case NGX_HTTP_RTDASH_WS_CLOSE:
        /* the client's close: the same code back, then the connection */
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, sub->connection->log, 0,
                       "rtdash stream: WebSocket client closes with %ui",
                       ev->code);
        ngx_http_rtdash_ws_end(sub, ev->code);
        return;

    default:
        return;
    }
}


/* close with a code: at once, or once the frame being sent is out */

static void
ngx_http_rtdash_ws_end(ngx_http_rtdash_sub_t *sub, ngx_uint_t code)
{
    sub->close_code = code;
    sub->finish = 1;

    if (sub->frame == NULL) {
        ngx_http_rtdash_sub_finish(sub);
    }
}


/* a frame for this subscriber alone: now, or after the one being sent */

static void
ngx_http_rtdash_sub_reply(ngx_http_rtdash_sub_t *sub,
    ngx_http_rtdash_frame_t *frame)
{
    ngx_http_rtdash_frame_t  **fp;

    if (sub->frame == NULL) {
        (void) ngx_http_rtdash_sub_send(sub, frame, 0);
        ngx_http_rtdash_frame_release(frame);
        return;
    }

    if (sub->nreplies >= NGX_HTTP_RTDASH_WS_REPLIES) {
        ngx_http_rtdash_frame_release(frame);
        ngx_log_error(NGX_LOG_INFO, sub->connection->log, 0,
                      "rtdash: WebSocket client sends commands faster than "
                      "it reads the answers, closing");
        ngx_http_rtdash_ws_end(sub, 1008);
        return;
    }

    for (fp = &sub->replies; *fp; fp = &(*fp)->next) { /* void */ }

    *fp = frame;
    sub->nreplies++;
}


static void
ngx_http_rtdash_sub_replies_free(ngx_http_rtdash_sub_t *sub)
{
    ngx_http_rtdash_frame_t  *frame;

    while (sub->replies) {
        frame = sub->replies;
        sub->replies = frame->next;
        ngx_http_rtdash_frame_release(frame);
    }

    sub->nreplies = 0;
}


/* "ping", "snapshot" (or "request_metrics"), "subscribe" */

static void
ngx_http_rtdash_ws_command_run(ngx_http_rtdash_sub_t *sub, u_char *text,
    size_t len)
{
    const char                *error;
    ngx_pool_t                *pool;
    ngx_http_rtdash_ws_cmd_t   cmd;

    pool = ngx_create_pool(1024, sub->connection->log);
    if (pool == NULL) {
        ngx_http_rtdash_ws_end(sub, 1011);
        return;
    }

    error = NULL;

    if (ngx_http_rtdash_ws_command(pool, text, len, &cmd) != NGX_OK) {
        error = cmd.error;

    } else if (cmd.type.len == 4 && ngx_strncmp(cmd.type.data, "ping", 4)
                                    == 0)
    {
        ngx_http_rtdash_ws_message(sub, "pong", (u_char *) "{}", 2);

    } else if ((cmd.type.len == 8
                && ngx_strncmp(cmd.type.data, "snapshot", 8) == 0)
               || (cmd.type.len == 15
                   && ngx_strncmp(cmd.type.data, "request_metrics", 15)
                      == 0))
    {
        ngx_http_rtdash_ws_resnapshot(sub);

    } else if (cmd.type.len == 9
               && ngx_strncmp(cmd.type.data, "subscribe", 9) == 0)
    {
        error = ngx_http_rtdash_ws_subscribe(sub, &cmd);

    } else {
        error = "unknown command";
    }

    if (error) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, sub->connection->log, 0,
                       "rtdash stream: WebSocket command refused: %s",
                       error);
        ngx_http_rtdash_ws_error(sub, pool, error, &cmd.type);
    }

    ngx_destroy_pool(pool);
}


/* move to the group of the new filter; a snapshot of it follows */

static const char *
ngx_http_rtdash_ws_subscribe(ngx_http_rtdash_sub_t *sub,
    ngx_http_rtdash_ws_cmd_t *cmd)
{
    ngx_str_t                  *v;
    ngx_uint_t                  i, events, limit;
    ngx_http_rtdash_ctx_t      *ctx;
    ngx_http_rtdash_group_t    *g, *old;
    ngx_http_rtdash_filter_t   *f;
    ngx_http_rtdash_stream_t   *st;

    st = sub->stream;
    ctx = st->ctx;
    old = sub->group;
    f = &old->filter;

    v = cmd->tools.elts;

    for (i = 0; i < cmd->tools.nelts; i++) {
        if (!ngx_http_rtdash_valid_text(v[i].data, v[i].len,
                                        NGX_HTTP_RTDASH_TOOL_MAX))
        {
            return "invalid tool";
        }
    }

    if (cmd->has_window) {
        sub->window = ngx_max(ngx_min(cmd->window, (ngx_uint_t)
                                      ctx->retention), 60);
    }

    events = cmd->has_events ? ngx_min(cmd->events, ctx->nevents)
                             : f->events;
    limit = cmd->has_limit ? cmd->limit : f->limit;

    if (!cmd->has_tool) {
        /* the same tools as now */
        if (ngx_array_init(&cmd->tools, cmd->tools.pool, f->ntools + 1,
                           sizeof(ngx_str_t))
            != NGX_OK)
        {
            return "out of memory";
        }

        for (i = 0; i < f->ntools; i++) {
            v = ngx_array_push(&cmd->tools);
            *v = f->tools[i];
        }
    }

    g = ngx_http_rtdash_group_get(st, &cmd->tools, events, limit, 1);
    if (g == NULL) {
        return "out of memory";
    }

    if (g != old) {
        ngx_queue_remove(&sub->queue);
        ngx_queue_insert_tail(&g->subs, &sub->queue);
        g->nsubs++;
        sub->group = g;

        if (--old->nsubs == 0) {
            ngx_queue_remove(&old->queue);
            ngx_free(old);
        }
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, sub->connection->log, 0,
                   "rtdash stream: WebSocket subscriber now follows %ui "
                   "tools, window %ui, limit %ui", g->filter.ntools,
                   sub->window, g->filter.limit);

    ngx_http_rtdash_ws_resnapshot(sub);

    return NULL;
}


/* a fresh snapshot: now, or when the frame being sent is out */

static void
ngx_http_rtdash_ws_resnapshot(ngx_http_rtdash_sub_t *sub)
{
    if (sub->frame) {
        sub->snapshot = 1;
        return;
    }

    ngx_http_rtdash_sub_snapshot(sub, (uint64_t) -1);
}


static void
ngx_http_rtdash_ws_message(ngx_http_rtdash_sub_t *sub, const char *event,
    u_char *data, size_t len)
{
    ngx_http_rtdash_frame_t  *frame;

    frame = ngx_http_rtdash_ws_frame(sub->connection->log, event,
                                     sub->stream->ctx->sh->seq, data, len,
                                     0, NULL, 0);
    if (frame) {
        ngx_http_rtdash_sub_reply(sub, frame);
    }
}


/* {"event":"error","id":N,"data":{"error":"...","type":"..."}} */

static void
ngx_http_rtdash_ws_error(ngx_http_rtdash_sub_t *sub, ngx_pool_t *pool,
    const char *error, ngx_str_t *type)
{
    u_char                 *p, *d;
    ngx_chain_t            *cl;
    ngx_http_rtdash_out_t   o;

    ngx_http_rtdash_out_init(&o, pool, 256);
    ngx_http_rtdash_out_lit(&o, "{\"error\":");
    ngx_http_rtdash_out_str(&o, (u_char *) error, ngx_strlen(error));

    if (type->len) {
        ngx_http_rtdash_out_lit(&o, ",\"type\":");
        ngx_http_rtdash_out_str(&o, type->data, type->len);
    }

    ngx_http_rtdash_out_lit(&o, "}");

    if (o.failed) {
        return;
    }

    d = ngx_pnalloc(pool, o.size);
    if (d == NULL) {
        return;
    }

    p = d;

    for (cl = o.first; cl; cl = cl->next) {
        p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
    }

    ngx_http_rtdash_ws_message(sub, "error", d, p - d);
}


/*
 * After our close frame the sending side is shut, and what the client
 * still sends is read and dropped: closing with unread input would reset
 * the connection, and the reset can destroy the close frame before the
 * client reads it.  The connection goes at the client's end, or after a
 * second.  A worker that is shutting down does not wait for this.
 */

static void
ngx_http_rtdash_ws_linger(ngx_http_rtdash_sub_t *sub)
{
    ngx_connection_t  *c;

    c = sub->connection;

    sub->done = 1;
    sub->lingering = 1;

    if (ngx_shutdown_socket(c->fd, NGX_WRITE_SHUTDOWN) == -1) {
        ngx_http_rtdash_sub_close(sub, NGX_OK);
        return;
    }

    c->read->cancelable = 1;
    ngx_add_timer(c->read, 1000);

    if (c->read->ready) {
        ngx_post_event(c->read, &ngx_posted_events);
    }
}


static void
ngx_http_rtdash_ws_drain(ngx_http_rtdash_sub_t *sub)
{
    if (sub->connection->read->timedout) {
        ngx_http_rtdash_sub_close(sub, NGX_OK);
        return;
    }

    ngx_http_rtdash_conn_drop(sub, NGX_OK);
}
