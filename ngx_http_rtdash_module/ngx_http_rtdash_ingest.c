
/*
 * rtdash: the ingest handler.  The body is parsed and validated first;
 * then, under one lock, tools, types and gauge slots are resolved (and
 * undone if any of them does not fit), and only then applied.
 */


#include "ngx_http_rtdash_module.h"


/* what is computed of an event before the lock */
typedef struct {
    uint32_t                     hash;
    u_char                       bin;
    u_char                       userbit;
    u_char                       type;
    ngx_http_rtdash_node_t      *node;
} ngx_http_rtdash_prep_t;


typedef struct {
    ngx_http_rtdash_node_t      *node;
    uint32_t                     ngauges;
} ngx_http_rtdash_undo_t;


typedef struct {
    ngx_http_rtdash_ctx_t       *ctx;
    ngx_http_rtdash_parse_t     *p;
    ngx_http_rtdash_prep_t      *prep;
    u_char                      *gslot;
    ngx_array_t                  created;    /* node pointers */
    ngx_array_t                  undo;       /* undo_t */
    ngx_uint_t                   ntypes;     /* before this request */
    const char                  *error;
    ngx_str_t                    arg;
} ngx_http_rtdash_batch_t;


typedef struct {
    off_t                        received;
    unsigned                     async:1;
} ngx_http_rtdash_body_ctx_t;


static ngx_int_t ngx_http_rtdash_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_int_t ngx_http_rtdash_too_large(ngx_http_request_t *r);
static void ngx_http_rtdash_read_body(ngx_http_request_t *r);
static ngx_uint_t ngx_http_rtdash_user_bit(const u_char *s, size_t len);
static size_t ngx_http_rtdash_count(u_char *s, size_t len, const char *what,
    size_t n);
static ngx_uint_t ngx_http_rtdash_prefers_minimal(ngx_http_request_t *r);

static void ngx_http_rtdash_ingest_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_rtdash_ingest(ngx_http_request_t *r);
static ngx_int_t ngx_http_rtdash_record(ngx_http_rtdash_batch_t *b,
    ngx_pool_t *pool, double now);
static u_char *ngx_http_rtdash_body(ngx_http_request_t *r, size_t *len);
static ngx_int_t ngx_http_rtdash_resolve_locked(ngx_http_rtdash_batch_t *b);
static ngx_int_t ngx_http_rtdash_type_locked(ngx_http_rtdash_batch_t *b,
    const u_char *name, size_t len);
static ngx_int_t ngx_http_rtdash_gauge_locked(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_node_t *node, ngx_http_rtdash_gauge_in_t *g);
static void ngx_http_rtdash_undo_locked(ngx_http_rtdash_batch_t *b);
static void ngx_http_rtdash_apply_locked(ngx_http_rtdash_batch_t *b,
    double now);


static ngx_http_request_body_filter_pt  ngx_http_next_request_body_filter;

/*
 * nginx's read handler of a body still arriving, and the request whose
 * body has just crossed client_max_body_size in it (see the body filter)
 */
static ngx_http_event_handler_pt        ngx_http_rtdash_nginx_read_body;
static ngx_http_request_t              *ngx_http_rtdash_overflow;


ngx_int_t
ngx_http_rtdash_ingest_init(ngx_conf_t *cf)
{
    ngx_http_next_request_body_filter = ngx_http_top_request_body_filter;
    ngx_http_top_request_body_filter = ngx_http_rtdash_body_filter;

    return NGX_OK;
}


/* client_max_body_size of an ingest location, for chunked bodies too */

static ngx_int_t
ngx_http_rtdash_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_chain_t                 *cl;
    ngx_http_rtdash_body_ctx_t  *ctx;
    ngx_http_rtdash_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_rtdash_module);

    if (lcf->kind != NGX_HTTP_RTDASH_INGEST || lcf->max_body == 0) {
        return ngx_http_next_request_body_filter(r, in);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_rtdash_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_rtdash_body_ctx_t));
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_rtdash_module);
    }

    for (cl = in; cl; cl = cl->next) {
        ctx->received += ngx_buf_size(cl->buf);
    }

    if (ctx->received > lcf->max_body) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "rtdash: client intended to send too large a body");

        if (!ctx->async) {
            /* the handler is on the stack and answers the 413 */
            return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        }

        /*
         * Later, nginx's read handler would finalize a 413 itself, as
         * HTML.  NGX_AGAIN makes it return with the request untouched,
         * and ngx_http_rtdash_read_body() answers in JSON.
         */
        ngx_http_rtdash_overflow = r;
        return NGX_AGAIN;
    }

    return ngx_http_next_request_body_filter(r, in);
}


/*
 * The read handler of an ingest body still arriving over HTTP/1.x: nginx's
 * own, and the JSON 413 when the body filter saw client_max_body_size
 * crossed.  Whatever else nginx's handler did (finalized, freed) is not
 * looked at: only a request the filter named is.
 */

static void
ngx_http_rtdash_read_body(ngx_http_request_t *r)
{
    ngx_http_rtdash_overflow = NULL;

    ngx_http_rtdash_nginx_read_body(r);

    if (ngx_http_rtdash_overflow != r) {
        return;
    }

    ngx_http_rtdash_overflow = NULL;

    /* what is left of the body is read and dropped by a lingering close */
    r->read_event_handler = ngx_http_block_reading;
    r->lingering_close = 1;

    ngx_http_finalize_request(r, ngx_http_rtdash_too_large(r));
}


/*
 * The worker's arena: grown to the largest request seen, kept for the
 * next one; one larger than 4 MB is given back when the next request
 * needs less.  A handler is done with it before it returns.
 */

void *
ngx_http_rtdash_arena(ngx_http_request_t *r, size_t size)
{
    ngx_http_rtdash_arena_t      *a;
    ngx_http_rtdash_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_rtdash_module);
    a = &rmcf->arena;

    if (a->size >= size && !(a->size > 4 * 1024 * 1024 && size < a->size / 4))
    {
        return a->data;
    }

    if (a->data) {
        ngx_free(a->data);
    }

    a->size = ngx_max(size, 64 * 1024);
    a->data = ngx_alloc(a->size, r->connection->log);

    if (a->data == NULL) {
        a->size = 0;
    }

    return a->data;
}


/* "Prefer: return=minimal" (RFC 7240): 204 instead of {"accepted":n} */

static ngx_uint_t
ngx_http_rtdash_prefers_minimal(ngx_http_request_t *r)
{
    ngx_table_elt_t  *h;

    h = ngx_http_rtdash_header_in(r, "Prefer");

    return h != NULL
           && ngx_strlcasestrn(h->value.data, h->value.data + h->value.len,
                               (u_char *) "return=minimal", 14 - 1)
              != NULL;
}


/* how often a string occurs in the body: an upper bound for arrays */

static size_t
ngx_http_rtdash_count(u_char *s, size_t len, const char *what, size_t n)
{
    u_char  *p, *end;
    size_t   count;

    count = 0;
    end = s + len;

    for (p = s; p < end; p += n) {
        p = (n == 1) ? memchr(p, what[0], end - p)
                     : memmem(p, end - p, what, n);
        if (p == NULL) {
            break;
        }

        count++;
    }

    return count;
}


/* a user's bit in the distinct-users map of a minute: FNV-1a */

static ngx_uint_t
ngx_http_rtdash_user_bit(const u_char *s, size_t len)
{
    uint32_t  h;

    h = 2166136261u;

    while (len--) {
        h = (h ^ *s++) * 16777619u;
    }

    return (h ^ (h >> 16)) & (NGX_HTTP_RTDASH_USER_BITS - 1);
}


static ngx_int_t
ngx_http_rtdash_too_large(ngx_http_request_t *r)
{
    r->keepalive = 0;

    return ngx_http_rtdash_send_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                      "request body larger than "
                                      "client_max_body_size", NULL, -1, -1);
}


ngx_int_t
ngx_http_rtdash_ingest_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_http_rtdash_body_ctx_t  *ctx;
    ngx_http_rtdash_loc_conf_t  *lcf;

    if (r->method != NGX_HTTP_POST) {
        rc = ngx_http_discard_request_body(r);

        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_rtdash_send_error(r, NGX_HTTP_NOT_ALLOWED,
                                          "method not allowed, use POST",
                                          NULL, -1, -1);
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_rtdash_module);

    if (lcf->max_body && r->headers_in.content_length_n > lcf->max_body) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "rtdash: client intended to send too large body: "
                      "%O bytes", r->headers_in.content_length_n);

        rc = ngx_http_discard_request_body(r);

        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_rtdash_too_large(r);
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_rtdash_ingest_body);

    if (rc == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
        return ngx_http_rtdash_too_large(r);
    }

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_rtdash_module);

    if (rc == NGX_AGAIN && ctx != NULL
        && r->http_version < NGX_HTTP_VERSION_20
        && r->read_event_handler != ngx_http_block_reading)
    {
        /* the rest of the body arrives later: see the body filter */
        ctx->async = 1;
        ngx_http_rtdash_nginx_read_body = r->read_event_handler;
        r->read_event_handler = ngx_http_rtdash_read_body;
    }

    return NGX_DONE;
}


static void
ngx_http_rtdash_ingest_body(ngx_http_request_t *r)
{
    ngx_http_finalize_request(r, ngx_http_rtdash_ingest(r));
}


static ngx_int_t
ngx_http_rtdash_ingest(ngx_http_request_t *r)
{
    size_t                       len, n, ng, size;
    double                       now;
    u_char                      *body;
    ngx_int_t                    rc;
    ngx_uint_t                   i;
    ngx_http_rtdash_out_t        o;
    ngx_http_rtdash_parse_t     *p;
    ngx_http_rtdash_batch_t      b;
    ngx_http_rtdash_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_rtdash_module);

    ngx_memzero(&b, sizeof(ngx_http_rtdash_batch_t));
    b.ctx = lcf->zone->data;

    p = ngx_pcalloc(r->pool, sizeof(ngx_http_rtdash_parse_t));
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b.p = p;

    body = ngx_http_rtdash_body(r, &len);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (len == 0 && r->args.len) {
        body = r->args.data;
        len = r->args.len;
        p->form = 1;

    } else if (r->headers_in.content_type
               && r->headers_in.content_type->value.len >= 33
               && ngx_strncasecmp(r->headers_in.content_type->value.data,
                                  (u_char *)
                                  "application/x-www-form-urlencoded", 33)
                  == 0)
    {
        /*
         * "curl -d" labels every body a form: one that opens with
         * '{' or '[' can only be JSON
         */

        for (i = 0; i < len && (body[i] == ' ' || body[i] == '\t'
                                || body[i] == '\r' || body[i] == '\n');
             i++)
        {
            /* void */
        }

        p->form = (i == len || (body[i] != '{' && body[i] != '['));
    }

    now = ngx_http_rtdash_now();

    /*
     * Arrays as large as the body can need, and no larger: a big
     * allocation per request would be mapped and unmapped each time.
     * Every event has its '{'; every gauge is a "gauges" member or a
     * "gauge." form key.
     */

    if (p->form) {
        n = 1;
        ng = ngx_http_rtdash_count(body, len, "gauge.", 6);

    } else {
        n = ngx_http_rtdash_count(body, len, "{", 1);
        ng = ngx_http_rtdash_count(body, len, "gauges", 6)
             * b.ctx->ngauges;
    }

    n = ngx_min(n, lcf->max_events) + 1;
    ng = ngx_min(ng, len / 6) + 1;

    p->body = body;
    p->len = len;
    p->now = now;
    p->retention = (double) b.ctx->retention;
    p->max_events = ngx_min(lcf->max_events, n);
    p->max_gauges = ng;
    p->max_gauges_per_event = b.ctx->ngauges;

    /*
     * The arrays live in the worker's arena, not the request's pool:
     * big blocks malloc'ed and freed per request make glibc give the
     * heap back and fault it in again every time.
     */

    size = n * (sizeof(ngx_http_rtdash_event_in_t)
                + sizeof(ngx_http_rtdash_prep_t))
           + ng * (sizeof(ngx_http_rtdash_gauge_in_t) + 1)
           + ngx_align(len + 1, 8);

    p->events = ngx_http_rtdash_arena(r, size);
    if (p->events == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p->gauges = (ngx_http_rtdash_gauge_in_t *) (p->events + n);
    b.prep = (ngx_http_rtdash_prep_t *) (p->gauges + ng);
    p->scratch = (u_char *) (b.prep + n);
    b.gslot = p->scratch + ngx_align(len + 1, 8);

    if (len == 0) {
        (void) ngx_atomic_fetch_add(&b.ctx->sh->rejected, 1);

        return ngx_http_rtdash_send_error(r, NGX_HTTP_BAD_REQUEST,
                                          "empty body", NULL, 1, 0);
    }

    rc = ngx_http_rtdash_parse(p);

    if (rc != NGX_HTTP_RTDASH_PARSE_OK) {
        (void) ngx_atomic_fetch_add(&b.ctx->sh->rejected, 1);
    }

    if (rc == NGX_HTTP_RTDASH_PARSE_INVALID) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "rtdash: rejected body: %s at line %uz offset %uz",
                      p->error, p->line, p->offset);

        return ngx_http_rtdash_send_error(r, NGX_HTTP_BAD_REQUEST, p->error,
                                          NULL, p->line, p->offset);
    }

    if (rc != NGX_HTTP_RTDASH_PARSE_OK) {
        return ngx_http_rtdash_send_error(r,
                          NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                          p->error ? p->error : "too many events",
                          NULL, p->line, p->offset);
    }

    rc = ngx_http_rtdash_record(&b, r->pool, now);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "rtdash zone \"%V\": %s \"%V\", request refused",
                      &b.ctx->name, b.error, &b.arg);

        return ngx_http_rtdash_send_error(r, NGX_HTTP_INSUFFICIENT_STORAGE,
                                          b.error, &b.arg, -1, -1);
    }

    if (ngx_http_rtdash_prefers_minimal(r)) {
        if (ngx_http_rtdash_add_header(r, "Preference-Applied",
                                       "return=minimal", NULL)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        r->headers_out.status = NGX_HTTP_NO_CONTENT;
        r->headers_out.content_length_n = 0;
        r->header_only = 1;

        return ngx_http_send_header(r);
    }

    ngx_http_rtdash_out_init(&o, r->pool, 64);
    ngx_http_rtdash_out_lit(&o, "{\"accepted\":");
    ngx_http_rtdash_out_uint(&o, p->nevents);
    ngx_http_rtdash_out_lit(&o, "}");

    return ngx_http_rtdash_send_json(r, NGX_HTTP_ACCEPTED, &o);
}


/*
 * Record the parsed events of a batch: what needs no lock first (hashes,
 * histogram bins, user bits), then one lock to resolve tools, types and
 * gauge slots and to apply.  NGX_DECLINED: something did not fit
 * (b->error, b->arg), nothing was applied.
 */

static ngx_int_t
ngx_http_rtdash_record(ngx_http_rtdash_batch_t *b, ngx_pool_t *pool,
    double now)
{
    ngx_int_t                    rc;
    ngx_uint_t                   i;
    ngx_http_rtdash_prep_t      *pr;
    ngx_http_rtdash_parse_t     *p;
    ngx_http_rtdash_event_in_t  *ev;

    p = b->p;

    for (i = 0; i < p->nevents; i++) {
        ev = &p->events[i];
        pr = &b->prep[i];

        /* a batch is mostly one tool: hash a name only when it changes */

        if (i > 0 && ev->tool_len == ev[-1].tool_len
            && ngx_memcmp(ev->tool, ev[-1].tool, ev->tool_len) == 0)
        {
            pr->hash = pr[-1].hash;

        } else {
            pr->hash = ngx_crc32_short((u_char *) ev->tool, ev->tool_len);
        }

        pr->bin = ev->has_value ? ngx_http_rtdash_hist_bin(ev->value) : 0;
        pr->userbit = ev->user_len
                      ? ngx_http_rtdash_user_bit(ev->user, ev->user_len)
                      : 0;
        pr->node = NULL;
    }

    if (ngx_array_init(&b->created, pool, 4, sizeof(void *)) != NGX_OK
        || ngx_array_init(&b->undo, pool, 4, sizeof(ngx_http_rtdash_undo_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_shmtx_lock(&b->ctx->shpool->mutex);

    rc = ngx_http_rtdash_resolve_locked(b);

    if (rc != NGX_OK) {
        ngx_http_rtdash_undo_locked(b);
        b->ctx->sh->refused++;
        ngx_shmtx_unlock(&b->ctx->shpool->mutex);

        return (rc == NGX_ERROR) ? NGX_ERROR : NGX_DECLINED;
    }

    ngx_http_rtdash_apply_locked(b, now);

    ngx_shmtx_unlock(&b->ctx->shpool->mutex);

    return NGX_OK;
}


/* one event of nginx's own traffic (rtdash_log), recorded alone */

ngx_int_t
ngx_http_rtdash_record_event(ngx_http_request_t *r,
    ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_event_in_t *ev, double now,
    const char **error, ngx_str_t *arg)
{
    u_char                   gslot[1];
    ngx_int_t                rc;
    ngx_http_rtdash_prep_t   prep;
    ngx_http_rtdash_parse_t  p;
    ngx_http_rtdash_batch_t  b;

    ngx_memzero(&p, sizeof(ngx_http_rtdash_parse_t));
    ngx_memzero(&b, sizeof(ngx_http_rtdash_batch_t));

    p.events = ev;
    p.nevents = 1;
    p.now = now;

    b.ctx = ctx;
    b.p = &p;
    b.prep = &prep;
    b.gslot = gslot;

    rc = ngx_http_rtdash_record(&b, r->pool, now);

    if (rc == NGX_DECLINED) {
        *error = b.error;
        *arg = b.arg;
    }

    return rc;
}


/* the body as one piece of memory: in place when it is, else a copy */

static u_char *
ngx_http_rtdash_body(ngx_http_request_t *r, size_t *len)
{
    u_char       *body, *p;
    size_t        size;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    *len = 0;

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return (u_char *) "";
    }

    cl = r->request_body->bufs;

    if (cl->next == NULL && !cl->buf->in_file) {
        *len = cl->buf->last - cl->buf->pos;
        return *len ? cl->buf->pos : (u_char *) "";
    }

    size = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        size += b->in_file ? (size_t) (b->file_last - b->file_pos)
                           : (size_t) (b->last - b->pos);
    }

    body = ngx_pnalloc(r->pool, size + 1);
    if (body == NULL) {
        return NULL;
    }

    p = body;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (!b->in_file) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
            continue;
        }

        n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                          b->file_pos);

        if (n != b->file_last - b->file_pos) {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "rtdash: short read of the request body file");
            return NULL;
        }

        p += n;
    }

    *len = p - body;

    return body;
}


static ngx_int_t
ngx_http_rtdash_resolve_locked(ngx_http_rtdash_batch_t *b)
{
    size_t                       j;
    ngx_int_t                    k, s;
    ngx_uint_t                   i;
    ngx_http_rtdash_ctx_t       *ctx;
    ngx_http_rtdash_node_t      *node, *last, **np;
    ngx_http_rtdash_prep_t      *pr;
    ngx_http_rtdash_event_in_t  *ev, *prev;

    ctx = b->ctx;
    b->ntypes = ctx->sh->ntypes;

    last = NULL;
    prev = NULL;
    k = NGX_HTTP_RTDASH_NO_TYPE;

    for (i = 0; i < b->p->nevents; i++) {
        ev = &b->p->events[i];
        pr = &b->prep[i];

        if (last && last->name_len == ev->tool_len
            && ngx_memcmp(last->name, ev->tool, ev->tool_len) == 0)
        {
            node = last;

        } else {
            node = ngx_http_rtdash_lookup_locked(ctx, pr->hash,
                                                 (u_char *) ev->tool,
                                                 ev->tool_len);
        }

        if (node == NULL) {
            if (ctx->sh->ntools >= ctx->sh->max_tools) {
                node = NULL;

            } else {
                node = ngx_slab_calloc_locked(ctx->shpool,
                                              ctx->layout.node_size);
            }

            if (node == NULL) {
                b->error = "zone is full, no room for tool";
                b->arg.data = (u_char *) ev->tool;
                b->arg.len = ev->tool_len;
                return NGX_DECLINED;
            }

            node->node.key = pr->hash;
            node->name_len = ev->tool_len;
            ngx_memcpy(node->name, ev->tool, ev->tool_len);

            /*
             * a function pointer in shared memory is only valid in the
             * process that set it: a reload may map the module elsewhere
             */
            ctx->sh->rbtree.insert = ngx_http_rtdash_rbtree_insert_value;
            ngx_rbtree_insert(&ctx->sh->rbtree, &node->node);
            ngx_queue_insert_tail(&ctx->sh->tools, &node->queue);
            ctx->sh->ntools++;

            np = ngx_array_push(&b->created);
            if (np == NULL) {
                return NGX_ERROR;
            }

            *np = node;
        }

        last = node;
        pr->node = node;

        if (ev->type == NULL) {
            pr->type = NGX_HTTP_RTDASH_NO_TYPE;

        } else {
            if (prev == NULL || prev->type == NULL
                || prev->type_len != ev->type_len
                || ngx_memcmp(prev->type, ev->type, ev->type_len) != 0)
            {
                k = ngx_http_rtdash_type_locked(b, ev->type, ev->type_len);
                if (k < 0) {
                    return k;
                }
            }

            pr->type = (u_char) k;
            prev = ev;
        }

        for (j = ev->gauge_first; j < ev->gauge_first + ev->ngauges; j++) {
            s = ngx_http_rtdash_gauge_locked(b, node, &b->p->gauges[j]);
            if (s < 0) {
                return s;
            }

            b->gslot[j] = (u_char) s;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_rtdash_type_locked(ngx_http_rtdash_batch_t *b, const u_char *name,
    size_t len)
{
    ngx_uint_t                k;
    ngx_http_rtdash_type_t   *t;
    ngx_http_rtdash_shctx_t  *sh;

    sh = b->ctx->sh;

    for (k = 0; k < sh->ntypes; k++) {
        t = &sh->types[k];

        if (t->len == len && ngx_memcmp(t->name, name, len) == 0) {
            return k;
        }
    }

    if (sh->ntypes >= b->ctx->ntypes) {
        b->error = "type table is full, no room for type";
        b->arg.data = (u_char *) name;
        b->arg.len = len;
        return NGX_DECLINED;
    }

    t = &sh->types[sh->ntypes];
    ngx_memcpy(t->name, name, len);
    t->len = (u_char) len;

    return sh->ntypes++;
}


static ngx_int_t
ngx_http_rtdash_gauge_locked(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_node_t *node, ngx_http_rtdash_gauge_in_t *g)
{
    ngx_uint_t                s;
    ngx_http_rtdash_undo_t   *u;
    ngx_http_rtdash_gauge_t  *gs;

    gs = ngx_http_rtdash_at(node, b->ctx->layout.gauges,
                            ngx_http_rtdash_gauge_t);

    for (s = 0; s < node->ngauges; s++) {
        if (gs[s].len == g->name_len
            && ngx_memcmp(gs[s].name, g->name, g->name_len) == 0)
        {
            return s;
        }
    }

    if (node->ngauges >= b->ctx->ngauges) {
        b->error = "gauge table of the tool is full, no room for gauge";
        b->arg.data = (u_char *) g->name;
        b->arg.len = g->name_len;
        return NGX_DECLINED;
    }

    u = ngx_array_push(&b->undo);
    if (u == NULL) {
        return NGX_ERROR;
    }

    u->node = node;
    u->ngauges = node->ngauges;

    ngx_memcpy(gs[s].name, g->name, g->name_len);
    gs[s].len = (u_char) g->name_len;
    gs[s].value = 0;

    return node->ngauges++;
}


static void
ngx_http_rtdash_undo_locked(ngx_http_rtdash_batch_t *b)
{
    ngx_uint_t                i;
    ngx_http_rtdash_node_t  **np;
    ngx_http_rtdash_undo_t   *u;

    u = b->undo.elts;

    for (i = b->undo.nelts; i > 0; i--) {
        u[i - 1].node->ngauges = u[i - 1].ngauges;
    }

    np = b->created.elts;

    for (i = 0; i < b->created.nelts; i++) {
        ngx_rbtree_delete(&b->ctx->sh->rbtree, &np[i]->node);
        ngx_queue_remove(&np[i]->queue);
        ngx_slab_free_locked(b->ctx->shpool, np[i]);
        b->ctx->sh->ntools--;
    }

    b->ctx->sh->ntypes = b->ntypes;
}


static void
ngx_http_rtdash_apply_locked(ngx_http_rtdash_batch_t *b, double now)
{
    size_t                       j;
    time_t                       t, now_sec;
    uint32_t                    *sec, *cnt;
    uint64_t                     seq;
    ngx_uint_t                   i, k, types;
    ngx_http_rtdash_ctx_t       *ctx;
    time_t                       last_t;
    ngx_http_rtdash_node_t      *node, *last;
    ngx_http_rtdash_prep_t      *pr;
    ngx_http_rtdash_event_t     *re;
    ngx_http_rtdash_gauge_t     *gs;
    ngx_http_rtdash_gstat_t     *gst;
    ngx_http_rtdash_layout_t    *l;
    ngx_http_rtdash_minute_t    *m;
    ngx_http_rtdash_event_in_t  *ev;

    ctx = b->ctx;
    l = &ctx->layout;
    types = ctx->ntypes;
    now_sec = (time_t) now;
    seq = ctx->sh->seq;

    last = NULL;
    last_t = 0;
    m = NULL;
    sec = NULL;

    for (i = 0; i < b->p->nevents; i++) {
        ev = &b->p->events[i];
        pr = &b->prep[i];
        node = pr->node;
        k = pr->type;

        t = (time_t) ev->ts;

        node->seq = ++seq;
        node->updated = now;

        /*
         * the minute and second buckets of the event, reset when stale;
         * the next event of the same tool and second reuses them
         */

        if (node != last || t != last_t) {
            last = node;
            last_t = t;

            m = ngx_http_rtdash_at(node, l->minutes
                                   + ((t / 60) % ctx->nminutes)
                                     * l->min_size,
                                   ngx_http_rtdash_minute_t);

            if (m->t < (uint32_t) (t - t % 60)) {
                ngx_memzero(m, l->min_size);
                m->t = (uint32_t) (t - t % 60);

            } else if (m->t > (uint32_t) (t - t % 60)) {
                m = NULL;
            }

            sec = NULL;

            if (t > now_sec - NGX_HTTP_RTDASH_SECONDS) {
                sec = ngx_http_rtdash_at(node, l->seconds
                                         + (t % NGX_HTTP_RTDASH_SECONDS)
                                           * l->sec_size,
                                         uint32_t);

                if (sec[0] < (uint32_t) t) {
                    ngx_memzero(sec, l->sec_size);
                    sec[0] = (uint32_t) t;

                } else if (sec[0] > (uint32_t) t) {
                    sec = NULL;
                }
            }
        }

        gs = ngx_http_rtdash_at(node, l->gauges, ngx_http_rtdash_gauge_t);

        for (j = ev->gauge_first; j < ev->gauge_first + ev->ngauges; j++) {
            gs[b->gslot[j]].value = b->p->gauges[j].value;

            if (m == NULL) {
                continue;
            }

            gst = (ngx_http_rtdash_gstat_t *) ((u_char *) (m + 1)
                                   + sizeof(uint32_t) * 2 * types)
                  + b->gslot[j];

            if (!gst->set || b->p->gauges[j].value < gst->min) {
                gst->min = (float) b->p->gauges[j].value;
            }

            if (!gst->set || b->p->gauges[j].value > gst->max) {
                gst->max = (float) b->p->gauges[j].value;
            }

            gst->last = (float) b->p->gauges[j].value;
            gst->set = 1;
        }

        if (k == NGX_HTTP_RTDASH_NO_TYPE) {
            continue;
        }

        ngx_http_rtdash_at(node, l->totals, uint64_t)[k]++;

        if (ev->flag) {
            ngx_http_rtdash_at(node, l->flagged, uint64_t)[k]++;
        }

        if (ev->has_value) {
            ngx_http_rtdash_vstat_add(&node->value, ev->value, pr->bin);
        }

        if (sec) {
            sec[1 + k]++;

            if (ev->flag) {
                sec[1 + types + k]++;
            }
        }

        if (m) {
            cnt = (uint32_t *) (m + 1);
            cnt[k]++;

            if (ev->flag) {
                cnt[types + k]++;
            }

            if (ev->has_value) {
                ngx_http_rtdash_vstat_add(&m->value, ev->value, pr->bin);
            }

            if (ev->user_len) {
                m->users[pr->userbit >> 5] |= 1u << (pr->userbit & 31);
            }
        }

        re = ngx_http_rtdash_at(node, l->ring
                                + (node->nevents % ctx->nevents)
                                  * sizeof(ngx_http_rtdash_event_t),
                                ngx_http_rtdash_event_t);
        node->nevents++;

        re->seq = seq;
        re->ts = ev->ts;
        re->value = ev->has_value ? ev->value : 0;
        re->type = (u_char) k;
        re->flags = (ev->has_value ? NGX_HTTP_RTDASH_EV_VALUE : 0)
                    | (ev->flag ? NGX_HTTP_RTDASH_EV_FLAG : 0);
        re->user_len = (u_char) ev->user_len;
        re->id_len = (u_char) ev->id_len;

        if (ev->user_len) {
            ngx_memcpy(re->user, ev->user, ev->user_len);
        }

        if (ev->id_len) {
            ngx_memcpy(re->id, ev->id, ev->id_len);
        }
    }

    ctx->sh->accepted += b->p->nevents;
    ctx->sh->seq = seq;
}
