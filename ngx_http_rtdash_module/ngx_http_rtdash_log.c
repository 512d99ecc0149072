
/*
 * rtdash: rtdash_log, events from nginx's own traffic.  In the log phase
 * every rtdash_log of the request's location makes one event of nginx
 * variables (tool, type, value, user, flag) and records it, one lock per
 * event, as an ingest request of one event would.  Nothing here can fail
 * the request: an event that does not validate is skipped.
 */


#include "ngx_http_rtdash_module.h"

#include <math.h>


struct ngx_http_rtdash_log_s {
    ngx_shm_zone_t              *zone;
    ngx_http_complex_value_t    *tool;
    ngx_http_complex_value_t    *type;
    ngx_http_complex_value_t    *value;       /* or NULL */
    ngx_http_complex_value_t    *user;        /* or NULL */
    ngx_http_complex_value_t    *flag;        /* or NULL */
    ngx_http_complex_value_t    *filter;      /* if=, or NULL */
    double                       scale;
};


static ngx_int_t ngx_http_rtdash_log_handler(ngx_http_request_t *r);
static void ngx_http_rtdash_log_one(ngx_http_request_t *r,
    ngx_http_rtdash_log_t *log, double now);
static void ngx_http_rtdash_log_skip(ngx_http_request_t *r, const char *what,
    ngx_str_t *v);
static ngx_int_t ngx_http_rtdash_log_number(ngx_str_t *v, double *out);


ngx_int_t
ngx_http_rtdash_log_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_rtdash_log_handler;

    return NGX_OK;
}


/*
 * rtdash_log zone tool=V type=V [value=V] [scale=N] [user=V] [flag=V]
 *            [if=V];
 * rtdash_log off;
 */

char *
ngx_http_rtdash_log_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_rtdash_loc_conf_t *lcf = conf;

    double                              scale;
    u_char                             *end;
    ngx_str_t                          *value, v;
    ngx_uint_t                          i, k;
    ngx_http_rtdash_log_t              *log;
    ngx_http_complex_value_t          **cv;
    ngx_http_compile_complex_value_t    ccv;

    static const struct {
        const char  *name;
        size_t       len;
        size_t       offset;
    } params[] = {
        { "tool=", 5, offsetof(ngx_http_rtdash_log_t, tool) },
        { "type=", 5, offsetof(ngx_http_rtdash_log_t, type) },
        { "value=", 6, offsetof(ngx_http_rtdash_log_t, value) },
        { "user=", 5, offsetof(ngx_http_rtdash_log_t, user) },
        { "flag=", 5, offsetof(ngx_http_rtdash_log_t, flag) },
        { "if=", 3, offsetof(ngx_http_rtdash_log_t, filter) }
    };

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts != 2 || lcf->logs != NGX_CONF_UNSET_PTR) {
            return "is duplicate, or \"off\" with other parameters";
        }

        lcf->logs = NULL;
        return NGX_CONF_OK;
    }

    if (lcf->logs == NULL) {
        return "is duplicate: \"rtdash_log off\" is set here";
    }

    if (lcf->logs == NGX_CONF_UNSET_PTR) {
        lcf->logs = ngx_array_create(cf->pool, 1,
                                     sizeof(ngx_http_rtdash_log_t));
        if (lcf->logs == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    log = ngx_array_push(lcf->logs);
    if (log == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(log, sizeof(ngx_http_rtdash_log_t));
    log->scale = 1.0;

    log->zone = ngx_shared_memory_add(cf, &value[1], 0,
                                      &ngx_http_rtdash_module);
    if (log->zone == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "scale=", 6) == 0) {
            scale = strtod((char *) value[i].data + 6, (char **) &end);

            if (value[i].len == 6 || end != value[i].data + value[i].len
                || !(scale > 0) || !isfinite(scale))
            {
                goto invalid;
            }

            log->scale = scale;
            continue;
        }

        for (k = 0; k < sizeof(params) / sizeof(params[0]); k++) {
            if (ngx_strncmp(value[i].data, params[k].name, params[k].len)
                == 0)
            {
                break;
            }
        }

        if (k == sizeof(params) / sizeof(params[0])) {
            goto invalid;
        }

        cv = (ngx_http_complex_value_t **) ((u_char *) log
                                            + params[k].offset);

        if (*cv != NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate parameter \"%s\"", params[k].name);
            return NGX_CONF_ERROR;
        }

        v.data = value[i].data + params[k].len;
        v.len = value[i].len - params[k].len;

        if (v.len == 0) {
            goto invalid;
        }

        *cv = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
        if (*cv == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &v;
        ccv.complex_value = *cv;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (log->tool == NULL || log->type == NULL) {
        return "needs \"tool=\" and \"type=\"";
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}


static ngx_int_t
ngx_http_rtdash_log_handler(ngx_http_request_t *r)
{
    double                       now;
    ngx_uint_t                   i;
    ngx_http_rtdash_log_t       *log;
    ngx_http_rtdash_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_rtdash_module);

    if (lcf->logs == NULL || lcf->logs == NGX_CONF_UNSET_PTR) {
        return NGX_OK;
    }

    now = ngx_http_rtdash_now();
    log = lcf->logs->elts;

    for (i = 0; i < lcf->logs->nelts; i++) {
        ngx_http_rtdash_log_one(r, &log[i], now);
    }

    return NGX_OK;
}


static void
ngx_http_rtdash_log_one(ngx_http_request_t *r, ngx_http_rtdash_log_t *log,
    double now)
{
    u_char                      *p;
    ngx_int_t                    rc;
    ngx_str_t                    v;
    ngx_http_rtdash_record_t     rec;
    ngx_http_rtdash_event_in_t   ev;

    static time_t                logged;

    if (log->filter) {
        if (ngx_http_complex_value(r, log->filter, &v) != NGX_OK) {
            return;
        }

        if (!ngx_http_rtdash_log_true(&v)) {
            return;
        }
    }

    ngx_memzero(&ev, sizeof(ngx_http_rtdash_event_in_t));

    ev.ts = now;

    if (ngx_http_complex_value(r, log->tool, &v) != NGX_OK) {
        return;
    }

    if (!ngx_http_rtdash_valid_text(v.data, v.len, NGX_HTTP_RTDASH_TOOL_MAX))
    {
        ngx_http_rtdash_log_skip(r, "tool", &v);
        return;
    }

    ev.tool = v.data;
    ev.tool_len = v.len;

    if (ngx_http_complex_value(r, log->type, &v) != NGX_OK) {
        return;
    }

    /* "GET" is a type too: types are lowercase tokens */

    for (p = v.data; p < v.data + v.len; p++) {
        if (*p >= 'A' && *p <= 'Z') {
            break;
        }
    }

    if (p < v.data + v.len) {
        p = ngx_pnalloc(r->pool, v.len);
        if (p == NULL) {
            return;
        }

        ngx_strlow(p, v.data, v.len);
        v.data = p;
    }

    if (!ngx_http_rtdash_valid_token(v.data, v.len)) {
        ngx_http_rtdash_log_skip(r, "type", &v);
        return;
    }

    ev.type = v.data;
    ev.type_len = v.len;

    if (log->value) {
        if (ngx_http_complex_value(r, log->value, &v) != NGX_OK) {
            return;
        }

        if (ngx_http_rtdash_log_number(&v, &ev.value) == NGX_OK) {
            ev.value *= log->scale;
            ev.has_value = isfinite(ev.value) ? 1 : 0;
        }
    }

    if (log->user) {
        if (ngx_http_complex_value(r, log->user, &v) != NGX_OK) {
            return;
        }

        /* a user that does not validate is left out, the event counts */

        if (v.len && ngx_http_rtdash_valid_text(v.data, v.len,
                                                NGX_HTTP_RTDASH_USER_MAX))
        {
            ev.user = v.data;
            ev.user_len = v.len;
        }
    }

    if (log->flag) {
        if (ngx_http_complex_value(r, log->flag, &v) != NGX_OK) {
            return;
        }

        ev.flag = ngx_http_rtdash_log_true(&v);
    }

    ngx_memzero(&rec, sizeof(ngx_http_rtdash_record_t));

    rec.events = &ev;
    rec.nevents = 1;
    rec.now = now;
    rec.scratch = ngx_palloc(r->pool,
                             ngx_http_rtdash_record_scratch_size(1, 0));
    if (rec.scratch == NULL) {
        return;
    }

    rc = ngx_http_rtdash_record(log->zone->data, &rec, r->connection->log);

    /* a full zone would say so at every request: once a second at most */

    if (rc == NGX_DECLINED && logged != ngx_time()) {
        logged = ngx_time();

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "rtdash zone \"%V\": %s \"%V\", rtdash_log event "
                      "dropped", &log->zone->shm.name, rec.error, &rec.arg);
    }
}


/* an event whose tool or type is not valid is skipped, the request is not */

static void
ngx_http_rtdash_log_skip(ngx_http_request_t *r, const char *what,
    ngx_str_t *v)
{
    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "rtdash_log: skipped, invalid %s \"%V\"", what, v);
}


/* if= and flag=: false when empty or "0", as access_log's if= */

ngx_uint_t
ngx_http_rtdash_log_true(ngx_str_t *v)
{
    return !(v->len == 0 || (v->len == 1 && v->data[0] == '0'));
}


/*
 * The first number of a variable: "0.012" of $request_time, "0.004" of
 * "0.004, 0.010" ($upstream_response_time after a retry); none in "" or
 * "-".
 */

static ngx_int_t
ngx_http_rtdash_log_number(ngx_str_t *v, double *out)
{
    u_char   buf[64], *end;
    size_t   n;
    double   d;

    for (n = 0; n < v->len && n < sizeof(buf) - 1; n++) {
        if (v->data[n] == ',' || v->data[n] == ' ' || v->data[n] == ':') {
            break;
        }

        buf[n] = v->data[n];
    }

    if (n == 0 || n == sizeof(buf) - 1) {
        return NGX_DECLINED;
    }

    buf[n] = '\0';

    /* digits, sign, point and exponent only: no "inf", "nan" or hex */

    for (end = buf; *end; end++) {
        if (!((*end >= '0' && *end <= '9') || *end == '.' || *end == '-'
              || *end == '+' || *end == 'e' || *end == 'E'))
        {
            return NGX_DECLINED;
        }
    }

    d = strtod((char *) buf, (char **) &end);

    if (end != buf + n || !isfinite(d)) {
        return NGX_DECLINED;
    }

    *out = d;

    return NGX_OK;
}
