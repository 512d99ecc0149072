
/*
 * rtdash: which web origins may use a location.  A browser tells where
 * a request comes from (Origin, Sec-Fetch-Site; no page can forge
 * either), so a write that some other site's page makes a visitor's
 * browser send (a form post, fetch with mode no-cors: no preflight) is
 * refused, while requests from programs, which send neither header,
 * work as before.  rtdash_allow_origin lists the other origins that are
 * allowed; for GET, those get CORS headers, and nobody else does.
 */


#include "ngx_http_rtdash_module.h"


static ngx_uint_t ngx_http_rtdash_same_origin(ngx_http_request_t *r,
    ngx_str_t *origin);
static ngx_uint_t ngx_http_rtdash_origin_listed(ngx_array_t *allowed,
    ngx_str_t *origin);
static ngx_int_t ngx_http_rtdash_origin_valid(ngx_str_t *v);


/* rtdash_allow_origin https://app.example.com ... | * | null */

char *
ngx_http_rtdash_allow_origin(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_rtdash_loc_conf_t *lcf = conf;

    ngx_str_t   *value, *o;
    ngx_uint_t   i;

    if (lcf->origins != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    lcf->origins = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                    sizeof(ngx_str_t));
    if (lcf->origins == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (ngx_http_rtdash_origin_valid(&value[i]) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid origin \"%V\" in \"%V\", expected "
                               "http://host[:port], https://host[:port], "
                               "\"*\" or \"null\"",
                               &value[i], &cmd->name);
            return NGX_CONF_ERROR;
        }

        o = ngx_array_push(lcf->origins);
        if (o == NULL) {
            return NGX_CONF_ERROR;
        }

        *o = value[i];
        ngx_strlow(o->data, o->data, o->len);
    }

    return NGX_CONF_OK;
}


/* "*", "null", or http(s)://host[:port] without a path */

static ngx_int_t
ngx_http_rtdash_origin_valid(ngx_str_t *v)
{
    u_char  *p, *host;

    if ((v->len == 1 && v->data[0] == '*')
        || (v->len == 4 && ngx_strncasecmp(v->data, (u_char *) "null", 4)
                           == 0))
    {
        return NGX_OK;
    }

    if (v->len > 7 && ngx_strncasecmp(v->data, (u_char *) "http://", 7) == 0)
    {
        host = v->data + 7;

    } else if (v->len > 8
               && ngx_strncasecmp(v->data, (u_char *) "https://", 8) == 0)
    {
        host = v->data + 8;

    } else {
        return NGX_ERROR;
    }

    for (p = host; p < v->data + v->len; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'
              || *p == ':' || *p == '[' || *p == ']'))
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * NGX_OK: the request may go on (no browser origin, same origin, or an
 * allowed one); NGX_DECLINED: a cross-site request, refused (*why).
 */

ngx_int_t
ngx_http_rtdash_origin_check(ngx_http_request_t *r, const char **why)
{
    ngx_table_elt_t             *origin, *site;
    ngx_http_rtdash_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_rtdash_module);

    origin = ngx_http_rtdash_header_in(r, "Origin");
    site = ngx_http_rtdash_header_in(r, "Sec-Fetch-Site");

    if (origin == NULL) {
        if (site && site->value.len == 10
            && ngx_strncasecmp(site->value.data, (u_char *) "cross-site", 10)
               == 0
            && !ngx_http_rtdash_origin_listed(lcf->origins, NULL))
        {
            *why = "cross-site request refused";
            return NGX_DECLINED;
        }

        return NGX_OK;
    }

    if (site && site->value.len == 11
        && ngx_strncasecmp(site->value.data, (u_char *) "same-origin", 11)
           == 0)
    {
        return NGX_OK;
    }

    if (ngx_http_rtdash_same_origin(r, &origin->value)
        || ngx_http_rtdash_origin_listed(lcf->origins, &origin->value))
    {
        return NGX_OK;
    }

    *why = "cross-origin request refused, origin not allowed:";

    return NGX_DECLINED;
}


/*
 * The Origin's host[:port] is the request's Host.  The scheme is not
 * compared: behind a proxy that ends TLS, the page is https and nginx
 * sees http.
 */

static ngx_uint_t
ngx_http_rtdash_same_origin(ngx_http_request_t *r, ngx_str_t *origin)
{
    u_char     *p, *end;
    ngx_str_t  *host;

    if (r->headers_in.host == NULL) {
        return 0;
    }

    host = &r->headers_in.host->value;
    end = origin->data + origin->len;

    p = ngx_strlcasestrn(origin->data, end, (u_char *) "://", 3 - 1);
    if (p == NULL) {
        return 0;
    }

    p += 3;

    return (size_t) (end - p) == host->len
           && ngx_strncasecmp(p, host->data, host->len) == 0;
}


/* origin NULL: is "*" in the list */

static ngx_uint_t
ngx_http_rtdash_origin_listed(ngx_array_t *allowed, ngx_str_t *origin)
{
    ngx_str_t   *o;
    ngx_uint_t   i;

    if (allowed == NULL) {
        return 0;
    }

    o = allowed->elts;

    for (i = 0; i < allowed->nelts; i++) {
        if (o[i].len == 1 && o[i].data[0] == '*') {
            if (origin == NULL
                || origin->len != 4
                || ngx_strncasecmp(origin->data, (u_char *) "null", 4) != 0)
            {
                return 1;
            }

            continue;
        }

        if (origin && o[i].len == origin->len
            && ngx_strncasecmp(o[i].data, origin->data, origin->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * CORS for GET and HEAD: an allowed origin other than the request's own
 * gets Access-Control-Allow-Origin; nobody else gets any CORS header.
 */

ngx_int_t
ngx_http_rtdash_cors(ngx_http_request_t *r)
{
    u_char                      *value;
    ngx_table_elt_t             *origin;
    ngx_http_rtdash_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_rtdash_module);

    if (lcf->origins == NULL) {
        return NGX_OK;
    }

    origin = ngx_http_rtdash_header_in(r, "Origin");

    if (origin == NULL
        || ngx_http_rtdash_same_origin(r, &origin->value)
        || !ngx_http_rtdash_origin_listed(lcf->origins, &origin->value))
    {
        return NGX_OK;
    }

    value = ngx_pnalloc(r->pool, origin->value.len + 1);
    if (value == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(value, origin->value.data, origin->value.len);
    value[origin->value.len] = '\0';

    if (ngx_http_rtdash_add_header(r, "Vary", "Origin", NULL) != NGX_OK
        || ngx_http_rtdash_add_header(r, "Access-Control-Allow-Origin",
                                      (const char *) value, NULL)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
