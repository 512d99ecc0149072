
/*
 * rtdash: the ingest handler.  The body is read (with a JSON 413 when it
 * crosses client_max_body_size, chunked too), parsed and validated
 * whole, and handed to the write step (ngx_http_rtdash_record.c), which
 * applies all of it or nothing.
 */


#include "ngx_http_rtdash_module.h"


typedef struct {
    off_t                        received;
    unsigned                     async:1;
} ngx_http_rtdash_body_ctx_t;


static ngx_int_t ngx_http_rtdash_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_int_t ngx_http_rtdash_too_large(ngx_http_request_t *r);
static void ngx_http_rtdash_read_body(ngx_http_request_t *r);
static size_t ngx_http_rtdash_count(u_char *s, size_t len, const char *what,
    size_t n);
static ngx_uint_t ngx_http_rtdash_prefers_minimal(ngx_http_request_t *r);

static void ngx_http_rtdash_ingest_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_rtdash_ingest(ngx_http_request_t *r);
static ngx_int_t ngx_http_rtdash_ingest_notices(ngx_http_request_t *r,
    ngx_http_rtdash_record_t *rec, ngx_uint_t n);
static ngx_uint_t ngx_http_rtdash_is_form(ngx_http_request_t *r,
    u_char *body, size_t len);
static ngx_int_t ngx_http_rtdash_ingest_arrays(ngx_http_request_t *r,
    ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_parse_t *p,
    ngx_http_rtdash_record_t *rec, u_char *body, size_t len);
static u_char *ngx_http_rtdash_body(ngx_http_request_t *r, size_t *len);


static ngx_str_t  ngx_http_rtdash_no_origin = ngx_string("(no Origin)");

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
    const char                  *why;
    ngx_table_elt_t             *origin;
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

    if (ngx_http_rtdash_origin_check(r, &why) != NGX_OK) {
        origin = ngx_http_rtdash_header_in(r, "Origin");

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "rtdash: %s \"%V\"", why,
                      origin ? &origin->value : &ngx_http_rtdash_no_origin);

        rc = ngx_http_discard_request_body(r);

        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_rtdash_send_error(r, NGX_HTTP_FORBIDDEN, why,
                                          origin ? &origin->value : NULL,
                                          -1, -1);
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
    size_t                       len;
    u_char                      *body;
    ngx_int_t                    rc;
    ngx_uint_t                   level;
    ngx_http_rtdash_out_t        o;
    ngx_http_rtdash_ctx_t       *ctx;
    ngx_http_rtdash_parse_t     *p;
    ngx_http_rtdash_record_t     rec;
    ngx_http_rtdash_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_rtdash_module);
    ctx = lcf->zone->data;

    p = ngx_pcalloc(r->pool, sizeof(ngx_http_rtdash_parse_t));
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body = ngx_http_rtdash_body(r, &len);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (len == 0 && r->args.len) {
        body = r->args.data;
        len = r->args.len;
        p->form = 1;

    } else {
        p->form = ngx_http_rtdash_is_form(r, body, len);
    }

    ngx_memzero(&rec, sizeof(ngx_http_rtdash_record_t));
    rec.now = ngx_http_rtdash_now();

    if (ngx_http_rtdash_ingest_arrays(r, ctx, p, &rec, body, len) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (len == 0) {
        (void) ngx_atomic_fetch_add(&ctx->sh->rejected, 1);

        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "rtdash ingest: 400, empty body");

        return ngx_http_rtdash_send_error(r, NGX_HTTP_BAD_REQUEST,
                                          "empty body", NULL, 1, 0);
    }

    rc = ngx_http_rtdash_parse(p);

    if (rc != NGX_HTTP_RTDASH_PARSE_OK) {
        (void) ngx_atomic_fetch_add(&ctx->sh->rejected, 1);
    }

    if (rc == NGX_HTTP_RTDASH_PARSE_INVALID) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "rtdash: rejected body: %s at line %uz offset %uz",
                      p->error, p->line, p->offset);

        return ngx_http_rtdash_send_error(r, NGX_HTTP_BAD_REQUEST, p->error,
                                          NULL, p->line, p->offset);
    }

    if (rc != NGX_HTTP_RTDASH_PARSE_OK) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "rtdash ingest: 413, more than %uz events or %uz "
                       "gauges", p->max_events, p->max_gauges);

        return ngx_http_rtdash_send_error(r,
                          NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                          p->error ? p->error : "too many events",
                          NULL, p->line, p->offset);
    }

    rec.events = p->events;
    rec.nevents = p->nevents;
    rec.gauges = p->gauges;
    rec.ngauges = p->ngauges;

    if (p->nnotices
        && ngx_http_rtdash_ingest_notices(r, &rec, p->nnotices) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_rtdash_record(ctx, &rec, r->connection->log) != NGX_OK) {
        /* a zone without room is the operator's; a name's kind, not */

        level = rec.status ? NGX_LOG_INFO : NGX_LOG_ERR;

        ngx_log_error(level, r->connection->log, 0,
                      "rtdash zone \"%V\": %s \"%V\", request refused",
                      &ctx->name, rec.error, &rec.arg);

        return ngx_http_rtdash_send_error(r, rec.status ? rec.status
                                             : NGX_HTTP_INSUFFICIENT_STORAGE,
                                          rec.error, &rec.arg, -1, -1);
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
    ngx_http_rtdash_out_uint(&o, rec.nevents);

    if (rec.nnotices) {
        ngx_http_rtdash_out_lit(&o, ",\"notices\":");
        ngx_http_rtdash_out_uint(&o, rec.nnotices);
    }

    ngx_http_rtdash_out_lit(&o, "}");

    return ngx_http_rtdash_send_json(r, NGX_HTTP_ACCEPTED, &o);
}


/*
 * The notices of a body move to an array of their own, the events close
 * up in their order (notices have no gauges: the gauges' indexes hold)
 */

static ngx_int_t
ngx_http_rtdash_ingest_notices(ngx_http_request_t *r,
    ngx_http_rtdash_record_t *rec, ngx_uint_t n)
{
    ngx_uint_t                   i, k;
    ngx_http_rtdash_event_in_t  *ev;

    rec->notices = ngx_palloc(r->pool, n * sizeof(ngx_http_rtdash_event_in_t));
    if (rec->notices == NULL) {
        return NGX_ERROR;
    }

    ev = rec->events;
    k = 0;

    for (i = 0; i < rec->nevents; i++) {
        if (ev[i].is_notice) {
            rec->notices[rec->nnotices++] = ev[i];

        } else {
            ev[k++] = ev[i];
        }
    }

    rec->nevents = k;

    return NGX_OK;
}


/*
 * A form body, or JSON labelled a form: "curl -d" labels every body a
 * form, and one that opens with '{' or '[' can only be JSON.
 */

static ngx_uint_t
ngx_http_rtdash_is_form(ngx_http_request_t *r, u_char *body, size_t len)
{
    size_t            i;
    ngx_table_elt_t  *ct;

    ct = r->headers_in.content_type;

    if (ct == NULL || ct->value.len < 33
        || ngx_strncasecmp(ct->value.data,
                           (u_char *) "application/x-www-form-urlencoded", 33)
           != 0)
    {
        return 0;
    }

    for (i = 0; i < len && (body[i] == ' ' || body[i] == '\t'
                            || body[i] == '\r' || body[i] == '\n');
         i++)
    {
        /* void */
    }

    return (i == len || (body[i] != '{' && body[i] != '['));
}


/*
 * The parser's arrays and the write step's scratch, as large as the body
 * can need and no larger, in the worker's arena, not the request's pool:
 * big blocks malloc'ed and freed per request make glibc give the heap
 * back and fault it in again every time.  Every event has its '{'; every
 * gauge (sum) is a "gauges" ("sums") member or a "gauge." ("sum.") form
 * key.
 */

static ngx_int_t
ngx_http_rtdash_ingest_arrays(ngx_http_request_t *r,
    ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_parse_t *p,
    ngx_http_rtdash_record_t *rec, u_char *body, size_t len)
{
    size_t                       n, ng, size;
    ngx_http_rtdash_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_rtdash_module);

    if (p->form) {
        n = 1;
        ng = ngx_http_rtdash_count(body, len, "gauge.", 6)
             + ngx_http_rtdash_count(body, len, "sum.", 4);

    } else {
        n = ngx_http_rtdash_count(body, len, "{", 1);
        ng = (ngx_http_rtdash_count(body, len, "gauges", 6)
              + ngx_http_rtdash_count(body, len, "sums", 4)) * ctx->ngauges;
    }

    n = ngx_min(n, lcf->max_events) + 1;
    ng = ngx_min(ng, len / 6) + 1;

    p->body = body;
    p->len = len;
    p->now = rec->now;
    p->retention = (double) ctx->retention;
    p->max_events = ngx_min(lcf->max_events, n);
    p->max_gauges = ng;
    p->max_gauges_per_event = ctx->ngauges;

    size = n * sizeof(ngx_http_rtdash_event_in_t)
           + ng * sizeof(ngx_http_rtdash_gauge_in_t)
           + ngx_align(ngx_http_rtdash_record_scratch_size(n, ng), 8)
           + len + 1;

    p->events = ngx_http_rtdash_arena(r, size);
    if (p->events == NULL) {
        return NGX_ERROR;
    }

    p->gauges = (ngx_http_rtdash_gauge_in_t *) (p->events + n);
    rec->scratch = p->gauges + ng;
    p->scratch = (u_char *) rec->scratch
                 + ngx_align(ngx_http_rtdash_record_scratch_size(n, ng), 8);

    return NGX_OK;
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
