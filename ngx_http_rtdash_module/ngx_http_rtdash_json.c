
/*
 * rtdash: the JSON writer (a growing chain of buffers, correct string
 * escaping) and the JSON shapes shared by stats and the stream.
 */


#include "ngx_http_rtdash_module.h"

#include <math.h>
#include <stdio.h>


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
    u_char  *p, *e;

    p = ngx_http_rtdash_out_reserve(o, NGX_INT64_LEN);
    if (p == NULL) {
        return;
    }

    e = ngx_sprintf(p, "%uL", v);

    o->buf->last = e;
    o->size += e - p;
}


void
ngx_http_rtdash_out_num_g(ngx_http_rtdash_out_t *o, double v, int digits)
{
    int      n;
    u_char  *p;

    if (!isfinite(v)) {
        ngx_http_rtdash_out_lit(o, "null");
        return;
    }

    p = ngx_http_rtdash_out_reserve(o, 32);
    if (p == NULL) {
        return;
    }

    if (v == floor(v) && fabs(v) < 1e15) {
        n = ngx_sprintf(p, "%L", (int64_t) v) - p;

    } else {
        n = snprintf((char *) p, 32, "%.*g", digits, v);
        if (n < 0 || n >= 32) {
            n = 0;
        }
    }

    o->buf->last = p + n;
    o->size += n;
}


void
ngx_http_rtdash_out_num(ngx_http_rtdash_out_t *o, double v)
{
    ngx_http_rtdash_out_num_g(o, v, 15);
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
    ngx_http_rtdash_out_uint(o, ctx->layout.node_size);
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
    ngx_http_rtdash_out_lit(o, ",\"started\":");
    ngx_http_rtdash_out_uint(o, zi->started);
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


void
ngx_http_rtdash_json_vstat(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_vstat_t *vs)
{
    ngx_http_rtdash_out_lit(o, "{\"count\":");
    ngx_http_rtdash_out_uint(o, vs->count);

    if (vs->count == 0) {
        ngx_http_rtdash_out_lit(o, ",\"min\":null,\"max\":null,\"avg\":null,"
                                "\"p50\":null,\"p95\":null,\"p99\":null}");
        return;
    }

    ngx_http_rtdash_out_lit(o, ",\"min\":");
    ngx_http_rtdash_out_num(o, vs->min);
    ngx_http_rtdash_out_lit(o, ",\"max\":");
    ngx_http_rtdash_out_num(o, vs->max);
    ngx_http_rtdash_out_lit(o, ",\"avg\":");
    ngx_http_rtdash_out_num_g(o, vs->sum / vs->count, 6);
    ngx_http_rtdash_out_lit(o, ",\"p50\":");
    ngx_http_rtdash_out_num_g(o, ngx_http_rtdash_percentile(vs, 0.50), 4);
    ngx_http_rtdash_out_lit(o, ",\"p95\":");
    ngx_http_rtdash_out_num_g(o, ngx_http_rtdash_percentile(vs, 0.95), 4);
    ngx_http_rtdash_out_lit(o, ",\"p99\":");
    ngx_http_rtdash_out_num_g(o, ngx_http_rtdash_percentile(vs, 0.99), 4);
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

    for (k = 0; k < s->ngauges; k++) {
        if (k) {
            ngx_http_rtdash_out_lit(o, ",");
        }

        ngx_http_rtdash_out_str(o, s->gauges[k].name, s->gauges[k].len);
        ngx_http_rtdash_out_lit(o, ":");
        ngx_http_rtdash_out_num(o, s->gauges[k].value);
    }

    ngx_http_rtdash_out_lit(o, "},\"value\":");
    ngx_http_rtdash_json_vstat(o, &s->value);
    ngx_http_rtdash_out_lit(o, "}");
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
