
/*
 * rtdash: directives, configuration and the module's hooks.
 */


#include "ngx_http_rtdash_module.h"


static ngx_int_t ngx_http_rtdash_init(ngx_conf_t *cf);
static void *ngx_http_rtdash_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_rtdash_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_rtdash_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_http_rtdash_main_conf_t *ngx_http_rtdash_cycle_conf(
    ngx_cycle_t *cycle);
static ngx_int_t ngx_http_rtdash_init_process(ngx_cycle_t *cycle);
static void ngx_http_rtdash_exit_process(ngx_cycle_t *cycle);
static void ngx_http_rtdash_exit_master(ngx_cycle_t *cycle);
static char *ngx_http_rtdash_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_rtdash_dashboard_param(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_http_rtdash_loc_conf_t *lcf, ngx_str_t *v);
static char *ngx_http_rtdash_location(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_rtdash_place(ngx_conf_t *cf,
    ngx_http_rtdash_loc_conf_t *lcf);
static ngx_int_t ngx_http_rtdash_zone_params(ngx_conf_t *cf,
    ngx_http_rtdash_ctx_t *ctx);
static ngx_int_t ngx_http_rtdash_zone_evict(ngx_conf_t *cf,
    ngx_http_rtdash_ctx_t *ctx, ngx_str_t *v);
static ngx_int_t ngx_http_rtdash_zone_privacy(ngx_conf_t *cf,
    ngx_http_rtdash_ctx_t *ctx, ngx_str_t *v);
static ngx_int_t ngx_http_rtdash_zone_param(ngx_conf_t *cf, ngx_str_t *v,
    const char *name, ngx_uint_t max, ngx_uint_t *out);
static void ngx_http_rtdash_check_old_zone(ngx_conf_t *cf,
    ngx_shm_zone_t *shm_zone, ngx_http_rtdash_ctx_t *ctx);


/* rtdash_dashboard transport=: the page's first choice, by index */
ngx_str_t  ngx_http_rtdash_transports[] = {
    ngx_string("auto"),
    ngx_string("sse"),
    ngx_string("ws"),
    ngx_null_string
};


static ngx_command_t  ngx_http_rtdash_commands[] = {

    { ngx_string("rtdash_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_rtdash_zone,
      0,
      0,
      NULL },

    { ngx_string("rtdash_system"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_rtdash_system,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rtdash_alert"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_rtdash_alert,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rtdash_anomaly"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_rtdash_anomaly,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rtdash_ingest"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_rtdash_location,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_RTDASH_INGEST,
      NULL },

    { ngx_string("rtdash_stats"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_rtdash_location,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_RTDASH_STATS,
      NULL },

    { ngx_string("rtdash_prometheus"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_rtdash_location,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_RTDASH_PROMETHEUS,
      NULL },

    { ngx_string("rtdash_stream"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_rtdash_location,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_RTDASH_STREAM,
      NULL },

    { ngx_string("rtdash_dashboard"),
      NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_rtdash_location,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_RTDASH_DASHBOARD,
      NULL },

    { ngx_string("rtdash_log"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_rtdash_log_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rtdash_traffic"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_rtdash_traffic_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rtdash_stream_interval"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_rtdash_loc_conf_t, interval),
      NULL },

    { ngx_string("rtdash_stream_heartbeat"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_rtdash_loc_conf_t, heartbeat),
      NULL },

    { ngx_string("rtdash_stream_max_message"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_rtdash_loc_conf_t, max_message),
      NULL },

    { ngx_string("rtdash_allow_origin"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_rtdash_allow_origin,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rtdash_stream_max_clients"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_rtdash_loc_conf_t, max_clients),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_rtdash_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_rtdash_init,                  /* postconfiguration */

    ngx_http_rtdash_create_main_conf,      /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_rtdash_create_loc_conf,       /* create location configuration */
    ngx_http_rtdash_merge_loc_conf         /* merge location configuration */
};


ngx_module_t  ngx_http_rtdash_module = {
    NGX_MODULE_V1,
    &ngx_http_rtdash_module_ctx,           /* module context */
    ngx_http_rtdash_commands,              /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_rtdash_init_process,          /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_rtdash_exit_process,          /* exit process */
    ngx_http_rtdash_exit_master,           /* exit master */
    NGX_MODULE_V1_PADDING
};


/*
 * The ingest body filter, the log-phase handler of rtdash_log, the zones
 * of rtdash_system, the rules of rtdash_alert and rtdash_anomaly, the
 * dashboards' stream and stats.
 */

static ngx_int_t
ngx_http_rtdash_init(ngx_conf_t *cf)
{
    if (ngx_http_rtdash_ingest_init(cf) != NGX_OK
        || ngx_http_rtdash_system_init(cf) != NGX_OK
        || ngx_http_rtdash_alert_init(cf) != NGX_OK
        || ngx_http_rtdash_eval_init(cf) != NGX_OK
        || ngx_http_rtdash_dashboard_init(cf) != NGX_OK
        || ngx_http_rtdash_traffic_init(cf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_rtdash_log_init(cf);
}


static void *
ngx_http_rtdash_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_rtdash_main_conf_t  *rmcf;

    rmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_rtdash_main_conf_t));
    if (rmcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&rmcf->streams, cf->pool, 4,
                       sizeof(ngx_http_rtdash_loc_conf_t *))
        != NGX_OK
        || ngx_array_init(&rmcf->zones, cf->pool, 2,
                          sizeof(ngx_http_rtdash_ctx_t *))
           != NGX_OK
        || ngx_array_init(&rmcf->systems, cf->pool, 1,
                          sizeof(ngx_http_rtdash_system_t *))
           != NGX_OK
        || ngx_array_init(&rmcf->places, cf->pool, 4,
                          sizeof(ngx_http_rtdash_place_t))
           != NGX_OK
        || ngx_array_init(&rmcf->rules, cf->pool, 4,
                          sizeof(ngx_http_rtdash_rule_t))
           != NGX_OK
        || ngx_array_init(&rmcf->anomalies, cf->pool, 1,
                          sizeof(ngx_http_rtdash_anomaly_conf_t))
           != NGX_OK)
    {
        return NULL;
    }

    return rmcf;
}


static void *
ngx_http_rtdash_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_rtdash_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_rtdash_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->zone = NULL;
     *     conf->kind = NGX_HTTP_RTDASH_NONE;
     *     conf->stream = NULL;
     *     conf->stream_url = { 0, NULL };
     *     conf->stats_url = { 0, NULL };
     *     conf->stream_set = 0;
     *     conf->stats_set = 0;
     */

    conf->max_events = NGX_CONF_UNSET_UINT;
    conf->interval = NGX_CONF_UNSET_MSEC;
    conf->heartbeat = NGX_CONF_UNSET_MSEC;
    conf->max_clients = NGX_CONF_UNSET_UINT;
    conf->max_message = NGX_CONF_UNSET_SIZE;
    conf->warn = NGX_CONF_UNSET_UINT;
    conf->crit = NGX_CONF_UNSET_UINT;
    conf->logs = NGX_CONF_UNSET_PTR;
    conf->traffic = NGX_CONF_UNSET_PTR;
    conf->origins = NGX_CONF_UNSET_PTR;

    return conf;
}


static char *
ngx_http_rtdash_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_rtdash_loc_conf_t  *prev = parent;
    ngx_http_rtdash_loc_conf_t  *conf = child;

    ngx_http_core_loc_conf_t  *clcf;

    ngx_conf_merge_uint_value(conf->max_events, prev->max_events,
                              NGX_HTTP_RTDASH_EVENTS_MAX);
    ngx_conf_merge_msec_value(conf->interval, prev->interval, 1000);
    ngx_conf_merge_msec_value(conf->heartbeat, prev->heartbeat, 15000);
    ngx_conf_merge_uint_value(conf->max_clients, prev->max_clients, 4096);
    ngx_conf_merge_size_value(conf->max_message, prev->max_message, 4096);
    ngx_conf_merge_uint_value(conf->warn, prev->warn, 15);
    ngx_conf_merge_uint_value(conf->crit, prev->crit, 30);
    ngx_conf_merge_str_value(conf->stream_url, prev->stream_url, "stream");
    ngx_conf_merge_str_value(conf->stats_url, prev->stats_url, "stats");
    ngx_conf_merge_ptr_value(conf->logs, prev->logs, NULL);
    ngx_conf_merge_ptr_value(conf->traffic, prev->traffic, NULL);
    ngx_conf_merge_ptr_value(conf->origins, prev->origins, NULL);

    /*
     * An ingest location enforces client_max_body_size itself, so that
     * a body too large gets a JSON error like every other refusal: the
     * core's check before the handler (an HTML page) is turned off here,
     * after the core module has merged its values.
     */

    if (conf->kind == NGX_HTTP_RTDASH_INGEST) {
        clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

        conf->max_body = clcf->client_max_body_size;
        clcf->client_max_body_size = 0;
    }

    if (conf->interval < 10) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtdash_stream_interval must be at least 10ms");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_http_rtdash_main_conf_t *
ngx_http_rtdash_cycle_conf(ngx_cycle_t *cycle)
{
    if (cycle->conf_ctx == NULL
        || cycle->conf_ctx[ngx_http_module.index] == NULL)
    {
        return NULL;
    }

    return ngx_http_cycle_get_module_main_conf(cycle, ngx_http_rtdash_module);
}


static ngx_int_t
ngx_http_rtdash_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                     i;
    ngx_http_rtdash_ctx_t        **ctxp;
    ngx_http_rtdash_system_t     **sysp;
    ngx_http_rtdash_loc_conf_t   **lcfp;
    ngx_http_rtdash_main_conf_t   *rmcf;

    rmcf = ngx_http_rtdash_cycle_conf(cycle);
    if (rmcf == NULL) {
        return NGX_OK;
    }

    lcfp = rmcf->streams.elts;

    for (i = 0; i < rmcf->streams.nelts; i++) {
        if (ngx_http_rtdash_stream_init_process(cycle, lcfp[i]) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    ctxp = rmcf->zones.elts;

    for (i = 0; i < rmcf->zones.nelts; i++) {
        if ((ctxp[i]->dump.len
             && ngx_http_rtdash_dump_init_process(cycle, ctxp[i]) != NGX_OK)
            || ngx_http_rtdash_eval_init_process(cycle, ctxp[i]) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    sysp = rmcf->systems.elts;

    for (i = 0; i < rmcf->systems.nelts; i++) {
        if (ngx_http_rtdash_system_init_process(cycle, sysp[i]) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* a worker that exits gives its evaluator's leases back */

static void
ngx_http_rtdash_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                     i;
    ngx_http_rtdash_ctx_t        **ctxp;
    ngx_http_rtdash_main_conf_t   *rmcf;

    rmcf = ngx_http_rtdash_cycle_conf(cycle);
    if (rmcf == NULL) {
        return;
    }

    ctxp = rmcf->zones.elts;

    for (i = 0; i < rmcf->zones.nelts; i++) {
        if (ctxp[i]->nrules || ctxp[i]->anomaly) {
            ngx_http_rtdash_watch_release(ctxp[i]);
        }
    }
}


/* the master outlives every worker: the final dump is its */

static void
ngx_http_rtdash_exit_master(ngx_cycle_t *cycle)
{
    ngx_uint_t                     i;
    ngx_http_rtdash_ctx_t        **ctxp;
    ngx_http_rtdash_main_conf_t   *rmcf;

    rmcf = ngx_http_rtdash_cycle_conf(cycle);
    if (rmcf == NULL) {
        return;
    }

    ctxp = rmcf->zones.elts;

    for (i = 0; i < rmcf->zones.nelts; i++) {
        if (ctxp[i]->dump.len && ctxp[i]->sh) {
            (void) ngx_http_rtdash_dump_write(ctxp[i], cycle->log);
        }
    }
}


static char *
ngx_http_rtdash_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    u_char                       *p;
    ssize_t                       size;
    ngx_str_t                    *value, name, s;
    ngx_shm_zone_t               *shm_zone;
    ngx_http_rtdash_ctx_t        *ctx, **ctxp;
    ngx_http_rtdash_main_conf_t  *rmcf;

    value = cf->args->elts;

    p = (u_char *) ngx_strchr(value[1].data, ':');

    if (p == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone \"%V\", expected name:size",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data;
    name.len = p - value[1].data;

    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    size = ngx_parse_size(&s);

    if (name.len == 0 || size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small", &value[1]);
        return NGX_CONF_ERROR;
    }

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_http_rtdash_ctx_t));
    if (ctx == NULL) {
        return NGX_CONF_ERROR;
    }

    ctx->name = name;
    ctx->size = size;
    ctx->cycle = cf->cycle;
    ctx->retention = 6 * 3600;
    ctx->nevents = 100;
    ctx->ntypes = 8;
    ctx->ngauges = 8;
    ctx->dump_interval = 60;
    ctx->evict_age = NGX_CONF_UNSET;
    ctx->wsizes.notices = NGX_CONF_UNSET_UINT;
    ctx->wsizes.states = NGX_CONF_UNSET_UINT;

    if (ngx_http_rtdash_zone_params(cf, ctx) != NGX_OK
        || ngx_http_rtdash_watch_defaults(cf, ctx) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (ctx->evict_age == NGX_CONF_UNSET) {
        ctx->evict_age = NGX_HTTP_RTDASH_EVICT_AGE;

    } else if (ctx->evict != NGX_HTTP_RTDASH_EVICT_LRU) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"evict_age=\" needs \"evict=lru\"");
        return NGX_CONF_ERROR;
    }

    ctx->nminutes = (ctx->retention + 59) / 60 + 1;

    ngx_http_rtdash_layout(ctx);

    if (ctx->layout.node_size > (size_t) size / 2) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small for one tool of "
                           "%uz bytes", &value[1], ctx->layout.node_size);
        return NGX_CONF_ERROR;
    }

    shm_zone = ngx_shared_memory_add(cf, &name, size,
                                     &ngx_http_rtdash_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate zone \"%V\"", &name);
        return NGX_CONF_ERROR;
    }

    shm_zone->init = ngx_http_rtdash_init_zone;
    shm_zone->data = ctx;

    ngx_http_rtdash_check_old_zone(cf, shm_zone, ctx);

    rmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_rtdash_module);

    ctxp = ngx_array_push(&rmcf->zones);
    if (ctxp == NULL) {
        return NGX_CONF_ERROR;
    }

    *ctxp = ctx;

    return NGX_CONF_OK;
}


/* the parameters of rtdash_zone after name:size */

static ngx_int_t
ngx_http_rtdash_zone_params(ngx_conf_t *cf, ngx_http_rtdash_ctx_t *ctx)
{
    ngx_int_t    rc;
    ngx_str_t   *value, s;
    ngx_uint_t   i, n;

    value = cf->args->elts;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "retention=", 10) == 0) {
            s.data = value[i].data + 10;
            s.len = value[i].len - 10;

            ctx->retention = ngx_parse_time(&s, 1);

            if (ctx->retention == (time_t) NGX_ERROR
                || ctx->retention < 60
                || ctx->retention > NGX_HTTP_RTDASH_RETENTION_MAX)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid retention \"%V\", expected "
                                   "1m to 7d", &value[i]);
                return NGX_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "dump=", 5) == 0
            && value[i].len > 5)
        {
            ctx->dump.data = value[i].data + 5;
            ctx->dump.len = value[i].len - 5;

            if (ngx_conf_full_name(cf->cycle, &ctx->dump, 0) != NGX_OK) {
                return NGX_ERROR;
            }

            continue;
        }

        rc = ngx_http_rtdash_zone_evict(cf, ctx, &value[i]);

        if (rc == NGX_DECLINED) {
            rc = ngx_http_rtdash_watch_param(cf, ctx, &value[i]);
        }

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_OK) {
            continue;
        }

        if (ngx_strncmp(value[i].data, "users=", 6) == 0
            || ngx_strncmp(value[i].data, "ids=", 4) == 0)
        {
            if (ngx_http_rtdash_zone_privacy(cf, ctx, &value[i]) != NGX_OK) {
                return NGX_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "dump_interval=", 14) == 0) {
            s.data = value[i].data + 14;
            s.len = value[i].len - 14;

            ctx->dump_interval = ngx_parse_time(&s, 1);

            if (ctx->dump_interval == (time_t) NGX_ERROR
                || ctx->dump_interval < 1)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\"", &value[i]);
                return NGX_ERROR;
            }

            continue;
        }

        rc = ngx_http_rtdash_zone_param(cf, &value[i], "events=",
                                        NGX_HTTP_RTDASH_EVENTS_MAX, &n);
        if (rc == NGX_OK) {
            ctx->nevents = n;
            continue;
        }

        if (rc == NGX_DECLINED) {
            rc = ngx_http_rtdash_zone_param(cf, &value[i], "types=",
                                            NGX_HTTP_RTDASH_TYPES_MAX, &n);
            if (rc == NGX_OK) {
                ctx->ntypes = n;
                continue;
            }
        }

        if (rc == NGX_DECLINED) {
            rc = ngx_http_rtdash_zone_param(cf, &value[i], "gauges=",
                                            NGX_HTTP_RTDASH_GAUGES_MAX, &n);
            if (rc == NGX_OK) {
                ctx->ngauges = n;
                continue;
            }
        }

        if (rc == NGX_DECLINED) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[i]);
        }

        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * evict=lru|off, evict_age=time, max_tools=N; NGX_DECLINED: none of
 * them
 */

static ngx_int_t
ngx_http_rtdash_zone_evict(ngx_conf_t *cf, ngx_http_rtdash_ctx_t *ctx,
    ngx_str_t *v)
{
    ngx_int_t  n;
    ngx_str_t  s;

    if (ngx_strncmp(v->data, "evict=", 6) == 0) {
        if (v->len == 9 && ngx_strncmp(v->data + 6, "lru", 3) == 0) {
            ctx->evict = NGX_HTTP_RTDASH_EVICT_LRU;

        } else if (v->len == 9 && ngx_strncmp(v->data + 6, "off", 3) == 0) {
            ctx->evict = NGX_HTTP_RTDASH_EVICT_OFF;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"%V\", expected evict=lru or off",
                               v);
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (ngx_strncmp(v->data, "evict_age=", 10) == 0) {
        s.data = v->data + 10;
        s.len = v->len - 10;

        ctx->evict_age = ngx_parse_time(&s, 1);

        if (ctx->evict_age == (time_t) NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"%V\", expected a time in seconds "
                               "or more (30s, 5m, 1h), or 0 for any age", v);
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (ngx_strncmp(v->data, "max_tools=", 10) == 0) {
        n = ngx_atoi(v->data + 10, v->len - 10);

        if (n == NGX_ERROR || n < 1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"%V\", expected a number of tools, "
                               "1 or more", v);
            return NGX_ERROR;
        }

        ctx->max_tools = n;

        return NGX_OK;
    }

    return NGX_DECLINED;
}


/* users=keep|hash|count, ids=keep|hash|drop */

static ngx_int_t
ngx_http_rtdash_zone_privacy(ngx_conf_t *cf, ngx_http_rtdash_ctx_t *ctx,
    ngx_str_t *v)
{
    u_char      *p;
    size_t       len;
    ngx_uint_t   users, mode;

    users = (v->data[0] == 'u');
    p = v->data + (users ? 6 : 4);
    len = v->data + v->len - p;

    if (len == 4 && ngx_strncmp(p, "keep", 4) == 0) {
        mode = NGX_HTTP_RTDASH_KEEP;

    } else if (len == 4 && ngx_strncmp(p, "hash", 4) == 0) {
        mode = NGX_HTTP_RTDASH_HASH;

    } else if (users && len == 5 && ngx_strncmp(p, "count", 5) == 0) {
        mode = NGX_HTTP_RTDASH_COUNT;

    } else if (!users && len == 4 && ngx_strncmp(p, "drop", 4) == 0) {
        mode = NGX_HTTP_RTDASH_DROP;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"%V\", expected %s", v,
                           users ? "users=keep, hash or count"
                                 : "ids=keep, hash or drop");
        return NGX_ERROR;
    }

    if (users) {
        ctx->users = mode;

    } else {
        ctx->ids = mode;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_rtdash_zone_param(ngx_conf_t *cf, ngx_str_t *v, const char *name,
    ngx_uint_t max, ngx_uint_t *out)
{
    size_t     len;
    ngx_int_t  n;

    len = ngx_strlen(name);

    if (v->len < len || ngx_strncmp(v->data, name, len) != 0) {
        return NGX_DECLINED;
    }

    n = ngx_atoi(v->data + len, v->len - len);

    if (n == NGX_ERROR || n < 1 || (ngx_uint_t) n > max) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"%V\", expected 1 to %ui", v, max);
        return NGX_ERROR;
    }

    *out = n;

    return NGX_OK;
}


/*
 * A zone whose size or parameters changed across a reload starts fresh:
 * nginx does it by itself for a new size, "noreuse" does it for the rest
 * (on both zones, see below), so old workers finishing their requests
 * never see a foreign layout.
 */

static void
ngx_http_rtdash_check_old_zone(ngx_conf_t *cf, ngx_shm_zone_t *shm_zone,
    ngx_http_rtdash_ctx_t *ctx)
{
    ngx_shm_zone_t         *oz;
    ngx_http_rtdash_ctx_t  *octx;

    oz = ngx_http_rtdash_old_zone(cf->cycle->old_cycle, &ctx->name);
    if (oz == NULL) {
        return;
    }

    octx = oz->data;

    if (oz->shm.size != shm_zone->shm.size) {
        ngx_conf_log_error(NGX_LOG_NOTICE, cf, 0,
                           "rtdash zone \"%V\" changes size from %uz "
                           "to %uz: a new zone takes over its tools",
                           &ctx->name, oz->shm.size, shm_zone->shm.size);
        return;
    }

    if (octx == NULL
        || octx->retention != ctx->retention
        || octx->nevents != ctx->nevents
        || octx->ntypes != ctx->ntypes
        || octx->ngauges != ctx->ngauges)
    {
        ngx_conf_log_error(NGX_LOG_NOTICE, cf, 0,
                           "rtdash zone \"%V\" changes parameters: "
                           "it starts fresh", &ctx->name);
        shm_zone->noreuse = 1;
        oz->noreuse = 1;
        return;
    }

    /* notices= or alerts= change the watch area: a new zone takes over */

    if (octx->wsizes.notices != ctx->wsizes.notices
        || octx->wsizes.states != ctx->wsizes.states)
    {
        ngx_conf_log_error(NGX_LOG_NOTICE, cf, 0,
                           "rtdash zone \"%V\" changes notices= or alerts=: "
                           "a new zone takes over its tools, alert states "
                           "and notices", &ctx->name);
        shm_zone->noreuse = 1;
        oz->noreuse = 1;
        return;
    }

    /*
     * Another version of the module laid the zone out: a new zone takes
     * over its tools (their records have not changed), as on a resize.
     */

    if (octx->sh && octx->sh->layout_key != ngx_http_rtdash_layout_key(ctx))
    {
        ngx_conf_log_error(NGX_LOG_NOTICE, cf, 0,
                           "rtdash zone \"%V\" was laid out by another "
                           "version of rtdash: a new zone takes over its "
                           "tools", &ctx->name);
        shm_zone->noreuse = 1;
    }

    /*
     * nginx reuses the old mapping by the new zone's flag and frees it by
     * the old zone's: they must agree, or a reload that keeps the zone
     * after one that did not frees the mapping the new cycle uses, and one
     * that does not keep it never frees the old one
     */

    oz->noreuse = shm_zone->noreuse;
}


/* stream=, stats=, transport=, warn=, crit= of rtdash_dashboard */

static ngx_int_t
ngx_http_rtdash_dashboard_param(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_http_rtdash_loc_conf_t *lcf, ngx_str_t *v)
{
    ngx_int_t  n;
    ngx_str_t  s;

    if (ngx_strncmp(v->data, "stream=", 7) == 0 && v->len > 7) {
        lcf->stream_url.data = v->data + 7;
        lcf->stream_url.len = v->len - 7;
        lcf->stream_set = 1;
        return NGX_OK;
    }

    if (ngx_strncmp(v->data, "stats=", 6) == 0 && v->len > 6) {
        lcf->stats_url.data = v->data + 6;
        lcf->stats_url.len = v->len - 6;
        lcf->stats_set = 1;
        return NGX_OK;
    }

    if (ngx_strncmp(v->data, "transport=", 10) == 0) {
        s.data = v->data + 10;
        s.len = v->len - 10;

        for (n = 0; ngx_http_rtdash_transports[n].len; n++) {
            if (ngx_http_rtdash_transports[n].len == s.len
                && ngx_strncmp(ngx_http_rtdash_transports[n].data,
                               s.data, s.len) == 0)
            {
                break;
            }
        }

        if (ngx_http_rtdash_transports[n].len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"%V\" in \"%V\", expected "
                               "transport=auto, sse or ws", v,
                               &cmd->name);
            return NGX_ERROR;
        }

        lcf->transport = n;
        return NGX_OK;
    }

    if (ngx_strncmp(v->data, "warn=", 5) == 0) {
        n = ngx_atoi(v->data + 5, v->len - 5);
        if (n == NGX_ERROR || n > 100) {
            return NGX_DECLINED;
        }

        lcf->warn = n;
        return NGX_OK;
    }

    if (ngx_strncmp(v->data, "crit=", 5) == 0) {
        n = ngx_atoi(v->data + 5, v->len - 5);
        if (n == NGX_ERROR || n > 100) {
            return NGX_DECLINED;
        }

        lcf->crit = n;
        return NGX_OK;
    }

    return NGX_DECLINED;
}


static char *
ngx_http_rtdash_location(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_rtdash_loc_conf_t *lcf = conf;

    ngx_int_t                     n;
    ngx_str_t                    *value;
    ngx_uint_t                    i;
    ngx_http_core_loc_conf_t     *clcf;
    ngx_http_rtdash_loc_conf_t  **lcfp;
    ngx_http_rtdash_main_conf_t  *rmcf;

    if (lcf->kind != NGX_HTTP_RTDASH_NONE) {
        return "is duplicate";
    }

    value = cf->args->elts;

    lcf->kind = cmd->offset;

    lcf->zone = ngx_shared_memory_add(cf, &value[1], 0,
                                      &ngx_http_rtdash_module);
    if (lcf->zone == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (lcf->kind == NGX_HTTP_RTDASH_INGEST
            && ngx_strncmp(value[i].data, "max_events=", 11) == 0)
        {
            n = ngx_atoi(value[i].data + 11, value[i].len - 11);
            if (n == NGX_ERROR || n == 0) {
                goto invalid;
            }

            lcf->max_events = n;
            continue;
        }

        if (lcf->kind != NGX_HTTP_RTDASH_DASHBOARD) {
            goto invalid;
        }

        switch (ngx_http_rtdash_dashboard_param(cf, cmd, lcf, &value[i])) {

        case NGX_OK:
            continue;

        case NGX_DECLINED:
            goto invalid;

        default:
            return NGX_CONF_ERROR;
        }
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if ((lcf->kind == NGX_HTTP_RTDASH_STATS
         || lcf->kind == NGX_HTTP_RTDASH_STREAM
         || lcf->kind == NGX_HTTP_RTDASH_DASHBOARD)
        && ngx_http_rtdash_place(cf, lcf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    switch (lcf->kind) {

    case NGX_HTTP_RTDASH_INGEST:
        clcf->handler = ngx_http_rtdash_ingest_handler;
        break;

    case NGX_HTTP_RTDASH_STATS:
        clcf->handler = ngx_http_rtdash_stats_handler;
        break;

    case NGX_HTTP_RTDASH_PROMETHEUS:
        clcf->handler = ngx_http_rtdash_prometheus_handler;
        break;

    case NGX_HTTP_RTDASH_STREAM:
        clcf->handler = ngx_http_rtdash_stream_handler;

        rmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_rtdash_module);

        lcfp = ngx_array_push(&rmcf->streams);
        if (lcfp == NULL) {
            return NGX_CONF_ERROR;
        }

        *lcfp = lcf;
        break;

    default: /* NGX_HTTP_RTDASH_DASHBOARD */
        clcf->handler = ngx_http_rtdash_dashboard_handler;
        break;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}


/* where a stats, stream or dashboard location is, for config.json */

static ngx_int_t
ngx_http_rtdash_place(ngx_conf_t *cf, ngx_http_rtdash_loc_conf_t *lcf)
{
    ngx_http_rtdash_place_t      *pl;
    ngx_http_rtdash_main_conf_t  *rmcf;

    rmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_rtdash_module);

    pl = ngx_array_push(&rmcf->places);
    if (pl == NULL) {
        return NGX_ERROR;
    }

    pl->lcf = lcf;
    pl->clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    pl->cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_core_module);

    return NGX_OK;
}
