
/*
 * rtdash: the embedded dashboard: index.html, app.js, style.css and
 * Chart.js served from memory (ETag, 304, precompressed gzip, CSP), and
 * config.json telling the page where its stream and stats are.
 */


#include "ngx_http_rtdash_module.h"


typedef struct {
    ngx_str_t                   path;
    ngx_str_t                   type;
    const u_char               *data;
    size_t                      len;
    const u_char               *gz;
    size_t                      gz_len;
    ngx_str_t                   etag;
} ngx_http_rtdash_asset_t;


#include "ngx_http_rtdash_assets_data.h"


#define NGX_HTTP_RTDASH_CSP                                                  \
    "default-src 'self'; script-src 'self'; style-src 'self'; "              \
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; "          \
    "base-uri 'none'; frame-ancestors 'none'; form-action 'none'"


static void ngx_http_rtdash_dashboard_find(ngx_conf_t *cf,
    ngx_http_rtdash_place_t *dash, ngx_uint_t kind, ngx_str_t *url);
static ngx_int_t ngx_http_rtdash_dashboard_config(ngx_http_request_t *r,
    ngx_http_rtdash_loc_conf_t *lcf);
static ngx_uint_t ngx_http_rtdash_accepts_gzip(ngx_http_request_t *r);


/*
 * postconfiguration: a dashboard without stream= (stats=) points to the
 * rtdash_stream (rtdash_stats) location of its zone in its server when
 * there is exactly one, by its absolute URI; else to the relative
 * default "stream" ("stats").
 */

ngx_int_t
ngx_http_rtdash_dashboard_init(ngx_conf_t *cf)
{
    ngx_uint_t                    i;
    ngx_http_rtdash_place_t      *pl;
    ngx_http_rtdash_main_conf_t  *rmcf;

    rmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_rtdash_module);
    pl = rmcf->places.elts;

    for (i = 0; i < rmcf->places.nelts; i++) {
        if (pl[i].lcf->kind != NGX_HTTP_RTDASH_DASHBOARD) {
            continue;
        }

        if (!pl[i].lcf->stream_set) {
            ngx_http_rtdash_dashboard_find(cf, &pl[i],
                                           NGX_HTTP_RTDASH_STREAM,
                                           &pl[i].lcf->stream_url);
        }

        if (!pl[i].lcf->stats_set) {
            ngx_http_rtdash_dashboard_find(cf, &pl[i], NGX_HTTP_RTDASH_STATS,
                                           &pl[i].lcf->stats_url);
        }
    }

    return NGX_OK;
}


static void
ngx_http_rtdash_dashboard_find(ngx_conf_t *cf, ngx_http_rtdash_place_t *dash,
    ngx_uint_t kind, ngx_str_t *url)
{
    ngx_uint_t                    i, n;
    ngx_http_rtdash_place_t      *pl, *found;
    ngx_http_rtdash_main_conf_t  *rmcf;

    rmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_rtdash_module);
    pl = rmcf->places.elts;

    n = 0;
    found = NULL;

    for (i = 0; i < rmcf->places.nelts; i++) {
        if (pl[i].lcf->kind != kind || pl[i].cscf != dash->cscf
            || pl[i].lcf->zone != dash->lcf->zone)
        {
            continue;
        }

        n++;
        found = &pl[i];
    }

    /* a regex or a named location has no URI to give */

    if (n != 1 || found->clcf->named
#if (NGX_PCRE)
        || found->clcf->regex
#endif
       )
    {
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, cf->log, 0,
                       "rtdash dashboard \"%V\": %ui locations of kind %ui, "
                       "the relative default is kept", &dash->clcf->name, n,
                       kind);
        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, cf->log, 0,
                   "rtdash dashboard \"%V\": points to \"%V\"",
                   &dash->clcf->name, &found->clcf->name);

    *url = found->clcf->name;
}


ngx_int_t
ngx_http_rtdash_dashboard_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_str_t                    name;
    ngx_buf_t                   *b;
    ngx_chain_t                  out;
    ngx_table_elt_t             *etag;
    ngx_http_core_loc_conf_t    *clcf;
    ngx_http_rtdash_asset_t     *a;
    ngx_http_rtdash_loc_conf_t  *lcf;

    rc = ngx_http_rtdash_check_get(r);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_rtdash_module);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    /* the name after the location's prefix, or after the last slash */

    if (!clcf->exact_match
#if (NGX_PCRE)
        && clcf->regex == NULL
#endif
        && r->uri.len >= clcf->name.len
        && ngx_strncmp(r->uri.data, clcf->name.data, clcf->name.len) == 0)
    {
        name.data = r->uri.data + clcf->name.len;
        name.len = r->uri.len - clcf->name.len;

    } else {
        name.data = r->uri.data + r->uri.len;
        while (name.data > r->uri.data && name.data[-1] != '/') {
            name.data--;
        }

        name.len = r->uri.data + r->uri.len - name.data;
    }

    if (name.len && name.data[0] == '/') {
        name.data++;
        name.len--;
    }

    if (name.len == 0) {
        ngx_str_set(&name, "index.html");
    }

    if (name.len == 11 && ngx_strncmp(name.data, "config.json", 11) == 0) {
        return ngx_http_rtdash_dashboard_config(r, lcf);
    }

    for (a = ngx_http_rtdash_assets; a->path.len; a++) {
        if (a->path.len == name.len
            && ngx_strncmp(a->path.data, name.data, name.len) == 0)
        {
            break;
        }
    }

    if (a->path.len == 0) {
        return ngx_http_rtdash_send_error(r, NGX_HTTP_NOT_FOUND,
                                          "no such dashboard file", &name,
                                          -1, -1);
    }

    if (ngx_http_rtdash_add_header(r, "ETag", (char *) a->etag.data, &etag)
        != NGX_OK
        || ngx_http_rtdash_add_header(r, "Cache-Control", "no-cache", NULL)
           != NGX_OK
        || ngx_http_rtdash_add_header(r, "Content-Security-Policy",
                                      NGX_HTTP_RTDASH_CSP, NULL)
           != NGX_OK
        || ngx_http_rtdash_add_header(r, "X-Content-Type-Options",
                                      "nosniff", NULL)
           != NGX_OK
        || ngx_http_rtdash_add_header(r, "Referrer-Policy", "no-referrer",
                                      NULL)
           != NGX_OK
        || ngx_http_rtdash_add_header(r, "Vary", "Accept-Encoding", NULL)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.etag = etag;
    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_type = a->type;
    r->headers_out.content_type_len = a->type.len;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (a->gz_len && ngx_http_rtdash_accepts_gzip(r)) {
        if (ngx_http_rtdash_add_header(r, "Content-Encoding", "gzip",
                                       &r->headers_out.content_encoding)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        b->pos = (u_char *) a->gz;
        b->last = (u_char *) a->gz + a->gz_len;

        /* the gzip body is another representation: another ETag */

        etag->value.data = ngx_pnalloc(r->pool, a->etag.len + 3);
        if (etag->value.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        etag->value.len = ngx_sprintf(etag->value.data, "%*s-gz\"",
                                      a->etag.len - 1, a->etag.data)
                          - etag->value.data;

    } else {
        b->pos = (u_char *) a->data;
        b->last = (u_char *) a->data + a->len;
    }

    r->headers_out.content_length_n = b->last - b->pos;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static ngx_int_t
ngx_http_rtdash_dashboard_config(ngx_http_request_t *r,
    ngx_http_rtdash_loc_conf_t *lcf)
{
    ngx_http_rtdash_ctx_t  *ctx;
    ngx_http_rtdash_out_t   o;

    ctx = lcf->zone->data;

    if (ngx_http_rtdash_add_header(r, "Cache-Control", "no-cache", NULL)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_rtdash_out_init(&o, r->pool, 512);

    ngx_http_rtdash_out_lit(&o, "{\"stream\":");
    ngx_http_rtdash_out_str(&o, lcf->stream_url.data, lcf->stream_url.len);
    ngx_http_rtdash_out_lit(&o, ",\"stats\":");
    ngx_http_rtdash_out_str(&o, lcf->stats_url.data, lcf->stats_url.len);
    ngx_http_rtdash_out_lit(&o, ",\"transport\":");
    ngx_http_rtdash_out_str(&o,
                            ngx_http_rtdash_transports[lcf->transport].data,
                            ngx_http_rtdash_transports[lcf->transport].len);
    ngx_http_rtdash_out_lit(&o, ",\"warn\":");
    ngx_http_rtdash_out_uint(&o, lcf->warn);
    ngx_http_rtdash_out_lit(&o, ",\"crit\":");
    ngx_http_rtdash_out_uint(&o, lcf->crit);
    ngx_http_rtdash_out_lit(&o, ",\"zone\":");
    ngx_http_rtdash_out_str(&o, ctx->name.data, ctx->name.len);
    ngx_http_rtdash_out_lit(&o, ",\"system\":");
    ngx_http_rtdash_system_json(&o, r, lcf->zone);
    ngx_http_rtdash_out_lit(&o, ",\"title\":\"rtdash\"}");

    return ngx_http_rtdash_send_json(r, NGX_HTTP_OK, &o);
}


static ngx_uint_t
ngx_http_rtdash_accepts_gzip(ngx_http_request_t *r)
{
    u_char           *p, *end;
    ngx_table_elt_t  *ae;

    ae = r->headers_in.accept_encoding;

    if (ae == NULL) {
        return 0;
    }

    p = ngx_strlcasestrn(ae->value.data, ae->value.data + ae->value.len,
                         (u_char *) "gzip", 4 - 1);
    if (p == NULL) {
        return 0;
    }

    /* "gzip;q=0" (or q=0.0...) refuses it */

    end = ae->value.data + ae->value.len;
    p += 4;

    while (p < end && *p == ' ') {
        p++;
    }

    if (end - p < 4 || ngx_strncmp(p, ";q=", 3) != 0) {
        return 1;
    }

    for (p += 3; p < end && *p != ','; p++) {
        if (*p != '0' && *p != '.' && *p != ' ') {
            return 1;
        }
    }

    return 0;
}

