
/*
 * rtdash: rtdash_traffic, every request of a scope as an event of its
 * key (by default the server's name): its status class (or code) as the
 * type, its time in ms as the value, the time its upstreams took as the
 * gauge upstream_ms, and the bytes it received and sent as the sums
 * bytes_in and bytes_out.  A long-lived request (a WebSocket, an event
 * stream, or one longer than long=) is counted without its time.  It runs
 * in the log phase, as rtdash_log does, and cannot fail the request.
 */


#include "ngx_http_rtdash_module.h"


struct ngx_http_rtdash_traffic_s {
    ngx_shm_zone_t              *zone;
    ngx_http_complex_value_t    *key;         /* NULL: the server's name */
    ngx_http_complex_value_t    *filter;      /* if=, or NULL */
    ngx_msec_t                   long_ms;     /* long=, 0: none */
    ngx_uint_t                   exact;       /* status=exact */
};


static ngx_int_t ngx_http_rtdash_traffic_handler(ngx_http_request_t *r);
static void ngx_http_rtdash_traffic_one(ngx_http_request_t *r,
    ngx_http_rtdash_traffic_t *tr, double now);
static ngx_uint_t ngx_http_rtdash_traffic_long(ngx_http_request_t *r,
    ngx_http_rtdash_traffic_t *tr, ngx_msec_int_t ms);
static ngx_int_t ngx_http_rtdash_traffic_upstream(ngx_http_request_t *r,
    double *ms);


ngx_int_t
ngx_http_rtdash_traffic_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_rtdash_traffic_handler;

    return NGX_OK;
}


/*
 * rtdash_traffic zone [key=V] [status=class|exact] [long=time] [if=V];
 * rtdash_traffic off;
 */

char *
ngx_http_rtdash_traffic_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_rtdash_loc_conf_t *lcf = conf;

    ngx_str_t                          *value, v;
    ngx_uint_t                          i;
    ngx_http_rtdash_traffic_t          *tr;
    ngx_http_complex_value_t          **cv;
    ngx_http_compile_complex_value_t    ccv;

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts != 2 || lcf->traffic != NGX_CONF_UNSET_PTR) {
            return "is duplicate, or \"off\" with other parameters";
        }

        lcf->traffic = NULL;
        return NGX_CONF_OK;
    }

    if (lcf->traffic == NULL) {
        return "is duplicate: \"rtdash_traffic off\" is set here";
    }

    if (lcf->traffic == NGX_CONF_UNSET_PTR) {
        lcf->traffic = ngx_array_create(cf->pool, 1,
                                        sizeof(ngx_http_rtdash_traffic_t));
        if (lcf->traffic == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    tr = ngx_array_push(lcf->traffic);
    if (tr == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(tr, sizeof(ngx_http_rtdash_traffic_t));

    tr->zone = ngx_shared_memory_add(cf, &value[1], 0,
                                     &ngx_http_rtdash_module);
    if (tr->zone == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strcmp(value[i].data, "status=exact") == 0) {
            tr->exact = 1;
            continue;
        }

        if (ngx_strcmp(value[i].data, "status=class") == 0) {
            tr->exact = 0;
            continue;
        }

        if (ngx_strncmp(value[i].data, "long=", 5) == 0) {
            v.data = value[i].data + 5;
            v.len = value[i].len - 5;

            tr->long_ms = ngx_parse_time(&v, 0);

            if (tr->long_ms == (ngx_msec_t) NGX_ERROR || tr->long_ms == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "key=", 4) == 0) {
            cv = &tr->key;
            v.data = value[i].data + 4;
            v.len = value[i].len - 4;

        } else if (ngx_strncmp(value[i].data, "if=", 3) == 0) {
            cv = &tr->filter;
            v.data = value[i].data + 3;
            v.len = value[i].len - 3;

        } else {
            goto invalid;
        }

        if (*cv != NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate parameter \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

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

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}


static ngx_int_t
ngx_http_rtdash_traffic_handler(ngx_http_request_t *r)
{
    double                       now;
    ngx_uint_t                   i;
    ngx_http_rtdash_traffic_t   *tr;
    ngx_http_rtdash_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_rtdash_module);

    if (lcf->traffic == NULL || lcf->traffic == NGX_CONF_UNSET_PTR) {
        return NGX_OK;
    }

    now = ngx_http_rtdash_now();
    tr = lcf->traffic->elts;

    for (i = 0; i < lcf->traffic->nelts; i++) {
        ngx_http_rtdash_traffic_one(r, &tr[i], now);
    }

    return NGX_OK;
}


static void
ngx_http_rtdash_traffic_one(ngx_http_request_t *r,
    ngx_http_rtdash_traffic_t *tr, double now)
{
    u_char                      *type;
    double                       ms;
    ngx_int_t                    rc;
    ngx_str_t                    v;
    ngx_uint_t                   status;
    ngx_time_t                  *tp;
    ngx_msec_int_t               took;
    ngx_http_rtdash_record_t     rec;
    ngx_http_rtdash_gauge_in_t   g[3];
    ngx_http_rtdash_event_in_t   ev;
    ngx_http_core_srv_conf_t    *cscf;
    u_char                       scratch[256];

    static time_t                logged;

    if (tr->filter) {
        if (ngx_http_complex_value(r, tr->filter, &v) != NGX_OK) {
            return;
        }

        if (!ngx_http_rtdash_log_true(&v)) {
            return;
        }
    }

    if (tr->key) {
        if (ngx_http_complex_value(r, tr->key, &v) != NGX_OK) {
            return;
        }

    } else {
        cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);
        v = cscf->server_name;
    }

    /* no name: nginx's own word for the catch-all */

    if (v.len == 0) {
        ngx_str_set(&v, "_");
    }

    if (!ngx_http_rtdash_valid_text(v.data, v.len, NGX_HTTP_RTDASH_TOOL_MAX))
    {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "rtdash_traffic: skipped, invalid key \"%V\"", &v);
        return;
    }

    ngx_memzero(&ev, sizeof(ngx_http_rtdash_event_in_t));

    ev.tool = v.data;
    ev.tool_len = v.len;
    ev.ts = now;

    /* the status as $status has it: 0 when no response was sent */

    status = r->err_status ? r->err_status : r->headers_out.status;
    status = ngx_min(status, 999);

    type = ngx_pnalloc(r->pool, 3);
    if (type == NULL) {
        return;
    }

    if (tr->exact) {
        ngx_sprintf(type, "%03ui", status);

    } else {
        ngx_sprintf(type, "%uixx", status / 100);
    }

    ev.type = type;
    ev.type_len = 3;

    tp = ngx_timeofday();
    took = (ngx_msec_int_t) ((tp->sec - r->start_sec) * 1000
                             + (tp->msec - r->start_msec));
    took = ngx_max(took, 0);

    if (!ngx_http_rtdash_traffic_long(r, tr, took)) {
        ev.value = (double) took;
        ev.has_value = 1;
    }

    ev.gauge_first = 0;

    g[0].name = (u_char *) "bytes_in";
    g[0].name_len = sizeof("bytes_in") - 1;
    g[0].value = (double) r->request_length;
    g[0].sum = 1;

    g[1].name = (u_char *) "bytes_out";
    g[1].name_len = sizeof("bytes_out") - 1;
    g[1].value = (double) r->connection->sent;
    g[1].sum = 1;

    ev.ngauges = 2;
    ev.nsums = 2;

    if (ngx_http_rtdash_traffic_upstream(r, &ms) == NGX_OK) {
        g[2].name = (u_char *) "upstream_ms";
        g[2].name_len = sizeof("upstream_ms") - 1;
        g[2].value = ms;
        g[2].sum = 0;
        ev.ngauges = 3;
    }

    ngx_memzero(&rec, sizeof(ngx_http_rtdash_record_t));

    rec.events = &ev;
    rec.nevents = 1;
    rec.gauges = g;
    rec.ngauges = ev.ngauges;
    rec.now = now;

    if (ngx_http_rtdash_record_scratch_size(1, 3) <= sizeof(scratch)) {
        rec.scratch = scratch;

    } else {
        rec.scratch = ngx_palloc(r->pool,
                                 ngx_http_rtdash_record_scratch_size(1, 3));
        if (rec.scratch == NULL) {
            return;
        }
    }

    rc = ngx_http_rtdash_record(tr->zone->data, &rec, r->connection->log);

    /* a full zone would say so at every request: once a second at most */

    if (rc == NGX_DECLINED && logged != ngx_time()) {
        logged = ngx_time();

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "rtdash zone \"%V\": %s \"%V\", rtdash_traffic "
                      "request not counted", &tr->zone->shm.name, rec.error,
                      &rec.arg);
    }
}


/*
 * A WebSocket (101, or an upgraded upstream), an event stream, or a
 * request longer than long=: counted, its time left out of the values
 */

static ngx_uint_t
ngx_http_rtdash_traffic_long(ngx_http_request_t *r,
    ngx_http_rtdash_traffic_t *tr, ngx_msec_int_t ms)
{
    ngx_str_t  *ct;

    if (r->headers_out.status == NGX_HTTP_SWITCHING_PROTOCOLS
        || (r->upstream && r->upstream->upgrade))
    {
        return 1;
    }

    ct = &r->headers_out.content_type;

    if (ct->len >= sizeof("text/event-stream") - 1
        && ngx_strncasecmp(ct->data, (u_char *) "text/event-stream",
                           sizeof("text/event-stream") - 1) == 0)
    {
        return 1;
    }

    return tr->long_ms && (ngx_msec_t) ms >= tr->long_ms;
}


/* what the request's upstreams took, every try added; none: declined */

static ngx_int_t
ngx_http_rtdash_traffic_upstream(ngx_http_request_t *r, double *ms)
{
    ngx_uint_t                  i, n;
    ngx_http_upstream_state_t  *state;

    if (r->upstream_states == NULL || r->upstream_states->nelts == 0) {
        return NGX_DECLINED;
    }

    state = r->upstream_states->elts;
    *ms = 0;
    n = 0;

    for (i = 0; i < r->upstream_states->nelts; i++) {
        if (state[i].status && state[i].response_time != (ngx_msec_t) -1) {
            *ms += (double) state[i].response_time;
            n++;
        }
    }

    return n ? NGX_OK : NGX_DECLINED;
}
