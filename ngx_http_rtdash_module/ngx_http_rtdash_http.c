
/*
 * rtdash: HTTP helpers shared by every handler: method checks, query
 * arguments, headers, sending a written body or a JSON error, and the
 * worker's arena for a handler's large temporary arrays.
 */


#include "ngx_http_rtdash_module.h"


ngx_int_t
ngx_http_rtdash_check_get(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_rtdash_send_error(r, NGX_HTTP_NOT_ALLOWED,
                                          "method not allowed, use GET",
                                          NULL, -1, -1);
    }

    if (ngx_http_rtdash_cors(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* go on */

    return NGX_DECLINED;
}


/* every value of a query argument, '+' and %XX decoded */

ngx_int_t
ngx_http_rtdash_arg(ngx_http_request_t *r, const char *name,
    ngx_array_t *values)
{
    u_char     *p, *end, *k, *v, *e, *dst, *src;
    size_t      len, vlen;
    ngx_str_t  *s;

    if (ngx_array_init(values, r->pool, 2, sizeof(ngx_str_t)) != NGX_OK) {
        return NGX_ERROR;
    }

    if (r->args.len == 0) {
        return NGX_OK;
    }

    len = ngx_strlen(name);
    p = r->args.data;
    end = p + r->args.len;

    while (p < end) {
        k = p;

        e = ngx_strlchr(p, end, '&');
        if (e == NULL) {
            e = end;
        }

        p = e + 1;

        v = ngx_strlchr(k, e, '=');

        if (v == NULL || (size_t) (v - k) != len
            || ngx_strncmp(k, name, len) != 0)
        {
            continue;
        }

        v++;

        s = ngx_array_push(values);
        if (s == NULL) {
            return NGX_ERROR;
        }

        s->data = ngx_pnalloc(r->pool, e - v + 1);
        if (s->data == NULL) {
            return NGX_ERROR;
        }

        for (src = v, dst = s->data; src < e; src++) {
            *dst++ = (*src == '+') ? ' ' : *src;
        }

        src = s->data;
        vlen = dst - s->data;
        dst = s->data;
        ngx_unescape_uri(&dst, &src, vlen, 0);
        s->len = dst - s->data;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_rtdash_arg_uint(ngx_http_request_t *r, const char *name,
    ngx_uint_t def, ngx_uint_t max, ngx_uint_t *out)
{
    ngx_int_t     n;
    ngx_str_t    *v;
    ngx_array_t   a;

    *out = def;

    if (ngx_http_rtdash_arg(r, name, &a) != NGX_OK) {
        return NGX_ERROR;
    }

    if (a.nelts == 0) {
        return NGX_OK;
    }

    v = a.elts;
    n = ngx_atoi(v[0].data, v[0].len);

    if (n == NGX_ERROR) {
        return NGX_DECLINED;
    }

    *out = ngx_min((ngx_uint_t) n, max);

    return NGX_OK;
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


ngx_int_t
ngx_http_rtdash_add_header(ngx_http_request_t *r, const char *key,
    const char *value, ngx_table_elt_t **out)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    h->key.data = (u_char *) key;
    h->key.len = ngx_strlen(key);
    h->value.data = (u_char *) value;
    h->value.len = ngx_strlen(value);

    if (out) {
        *out = h;
    }

    return NGX_OK;
}


/* a request header by name, or NULL */

ngx_table_elt_t *
ngx_http_rtdash_header_in(ngx_http_request_t *r, const char *name)
{
    size_t            len;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    len = ngx_strlen(name);
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }
}


/* send what was written to o, whole, with its length */

ngx_int_t
ngx_http_rtdash_send_out(ngx_http_request_t *r, ngx_uint_t status,
    ngx_http_rtdash_out_t *o, const char *type)
{
    ngx_int_t     rc;
    ngx_chain_t  *cl;

    if (o->failed || o->first == NULL
        || ngx_http_rtdash_add_header(r, "X-Content-Type-Options", "nosniff",
                                      NULL)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = o->size;
    r->headers_out.content_type.data = (u_char *) type;
    r->headers_out.content_type.len = ngx_strlen(type);
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    for (cl = o->first; cl->next; cl = cl->next) { /* void */ }

    cl->buf->last_buf = (r == r->main) ? 1 : 0;
    cl->buf->last_in_chain = 1;

    return ngx_http_output_filter(r, o->first);
}


ngx_int_t
ngx_http_rtdash_send_json(ngx_http_request_t *r, ngx_uint_t status,
    ngx_http_rtdash_out_t *o)
{
    ngx_http_rtdash_out_lit(o, "\n");

    return ngx_http_rtdash_send_out(r, status, o, "application/json");
}


ngx_int_t
ngx_http_rtdash_send_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *msg, ngx_str_t *arg, ssize_t line, ssize_t offset)
{
    u_char                      *p, *text;
    size_t                       len;
    ngx_http_rtdash_out_t        o;
    ngx_http_rtdash_loc_conf_t  *lcf;

    len = ngx_strlen(msg);

    text = ngx_pnalloc(r->pool, len + (arg ? arg->len + 3 : 0));
    if (text == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(text, msg, len);

    if (arg) {
        *p++ = ' ';
        *p++ = '"';
        p = ngx_cpymem(p, arg->data, arg->len);
        *p++ = '"';
    }

    ngx_http_rtdash_out_init(&o, r->pool, 256 + (p - text) * 6);

    ngx_http_rtdash_out_lit(&o, "{\"error\":");
    ngx_http_rtdash_out_str(&o, text, p - text);

    if (line >= 0) {
        ngx_http_rtdash_out_lit(&o, ",\"line\":");
        ngx_http_rtdash_out_uint(&o, line);
        ngx_http_rtdash_out_lit(&o, ",\"offset\":");
        ngx_http_rtdash_out_uint(&o, offset);
    }

    ngx_http_rtdash_out_lit(&o, "}");

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "rtdash: refused with %ui: %*s", status,
                   (size_t) (p - text), text);

    if (status == NGX_HTTP_NOT_ALLOWED) {
        lcf = ngx_http_get_module_loc_conf(r, ngx_http_rtdash_module);

        if (ngx_http_rtdash_add_header(r, "Allow",
                                       lcf->kind == NGX_HTTP_RTDASH_INGEST
                                       ? "POST" : "GET, HEAD", NULL)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_rtdash_send_json(r, status, &o);
}
