
/*
 * rtdash: rtdash_system, the host's and nginx's own figures as gauges.
 *
 * Worker 0 of the current generation samples every interval= and
 * records one event per tool (no type, gauges only) with one
 * ngx_http_rtdash_record() call, so history, the minutes' min/max,
 * stats, the stream, Prometheus and alert rules see them as any other
 * gauges.  The tools are the reserved prefixes host= and nginx= with a
 * suffix each (host.cpu, host.load, host.mem, host.disk, host.net;
 * nginx, nginx.total, nginx.zone, nginx.worker.<n>): at most 8 gauges a
 * tool, so that they fit a zone's default gauges=8.
 *
 * Everything is read from /proc (Linux) into one buffer of the process,
 * allocated with the rest in init_process: a tick allocates nothing.  A
 * source that is missing or does not parse leaves its gauges out.  Rates
 * and percentages are differences between two samples of this process:
 * the first sample has none of them.
 */


#include "ngx_http_rtdash_module.h"

#include <sys/statvfs.h>


#define NGX_HTTP_RTDASH_SYSTEM_BUF        32768  /* a /proc file, at most */
#define NGX_HTTP_RTDASH_SYSTEM_CMDLINE    128
#define NGX_HTTP_RTDASH_SYSTEM_TOOLS      8      /* without the workers' */
#define NGX_HTTP_RTDASH_SYSTEM_GAUGES     32     /* of those 8 tools */
#define NGX_HTTP_RTDASH_SYSTEM_WGAUGES    3      /* of a worker's tool */
#define NGX_HTTP_RTDASH_SYSTEM_NEED       8      /* gauges= of the zone */
#define NGX_HTTP_RTDASH_SYSTEM_SUFFIX     24     /* ".worker.<n>" */

/*
 * nginx's stub_status counters are declared #if (NGX_STAT_STUB), from
 * the configure flags this module was built with.  A module built
 * without them may still be loaded by an nginx that has them (the
 * release tree configured --with-compat alone, say): weak references
 * find them there, and are NULL where they are not.
 */
#if !(NGX_STAT_STUB) && defined(__GNUC__)
#define NGX_HTTP_RTDASH_STUB_WEAK         1
#else
#define NGX_HTTP_RTDASH_STUB_WEAK         0
#endif

/* the sources, for a missing one to be logged once */
#define NGX_HTTP_RTDASH_SRC_STAT          0x01
#define NGX_HTTP_RTDASH_SRC_LOADAVG       0x02
#define NGX_HTTP_RTDASH_SRC_MEMINFO       0x04
#define NGX_HTTP_RTDASH_SRC_DISKSTATS     0x08
#define NGX_HTTP_RTDASH_SRC_STATVFS       0x10
#define NGX_HTTP_RTDASH_SRC_NETDEV        0x20


#if (NGX_HTTP_RTDASH_STUB_WEAK)
extern ngx_atomic_t  *ngx_stat_accepted __attribute__((weak));
extern ngx_atomic_t  *ngx_stat_handled __attribute__((weak));
extern ngx_atomic_t  *ngx_stat_requests __attribute__((weak));
extern ngx_atomic_t  *ngx_stat_active __attribute__((weak));
extern ngx_atomic_t  *ngx_stat_reading __attribute__((weak));
extern ngx_atomic_t  *ngx_stat_writing __attribute__((weak));
extern ngx_atomic_t  *ngx_stat_waiting __attribute__((weak));
#endif


/* the tools of a sampler, by index into its names */
typedef enum {
    NGX_HTTP_RTDASH_SYS_CPU = 0,
    NGX_HTTP_RTDASH_SYS_LOAD,
    NGX_HTTP_RTDASH_SYS_MEM,
    NGX_HTTP_RTDASH_SYS_DISK,
    NGX_HTTP_RTDASH_SYS_NET,
    NGX_HTTP_RTDASH_SYS_NGINX,
    NGX_HTTP_RTDASH_SYS_TOTAL,
    NGX_HTTP_RTDASH_SYS_ZONE
} ngx_http_rtdash_sys_tool_e;


/* rtdash_system zone [interval=] [host=] [nginx=], one per zone */
struct ngx_http_rtdash_system_s {
    ngx_shm_zone_t                *zone;
    ngx_msec_t                     interval;
    ngx_str_t                      host;
    ngx_str_t                      nginx;
};


/* cumulative counters of a sample: rates are differences of two */
typedef struct {
    ngx_msec_t                     msec;
    uint64_t                       cpu[5];      /* user system io steal all */
    uint64_t                       disk[2];     /* bytes read, written */
    uint64_t                       net[4];      /* rx tx rx_errs tx_errs */
    uint64_t                       served[3];   /* accepted handled reqs */
    unsigned                       has_cpu:1;
    unsigned                       has_disk:1;
    unsigned                       has_net:1;
    unsigned                       has_stub:1;
} ngx_http_rtdash_sys_prev_t;


/* a worker's CPU ticks at the previous sample */
typedef struct {
    ngx_pid_t                      pid;
    uint64_t                       ticks;
} ngx_http_rtdash_sys_worker_t;


/* a worker's figures in /proc/<pid>/stat */
typedef struct {
    ngx_pid_t                      ppid;
    uint64_t                       ticks;       /* utime + stime */
    uint64_t                       rss;         /* pages */
} ngx_http_rtdash_sys_pstat_t;


/* the sampler of one zone in worker 0: every buffer allocated once */
typedef struct {
    ngx_http_rtdash_system_t      *conf;
    ngx_http_rtdash_ctx_t         *ctx;
    ngx_event_t                    timer;
    u_char                        *buf;         /* a /proc file */
    u_char                        *prefix;      /* NUL-terminated */
    ngx_str_t                      tools[NGX_HTTP_RTDASH_SYSTEM_TOOLS];
    ngx_str_t                     *wtools;      /* [max_workers] */
    ngx_uint_t                     max_workers;
    ngx_http_rtdash_event_in_t    *events;
    ngx_http_rtdash_gauge_in_t    *gauges;
    ngx_http_rtdash_record_t       rec;
    ngx_http_rtdash_sys_prev_t     prev;
    ngx_http_rtdash_sys_worker_t  *workers;     /* the previous sample's */
    ngx_http_rtdash_sys_worker_t  *seen;        /* this sample's */
    ngx_uint_t                     nworkers;
    long                           hz;          /* clock ticks a second */
    ngx_uint_t                     missing;     /* sources logged */
    time_t                         refused;     /* last logged */
    unsigned                       sampled:1;
} ngx_http_rtdash_sampler_t;


static char *ngx_http_rtdash_system_param(ngx_conf_t *cf,
    ngx_http_rtdash_system_t *sys, ngx_str_t *v);
static ngx_int_t ngx_http_rtdash_system_names(ngx_cycle_t *cycle,
    ngx_http_rtdash_sampler_t *s);
static void ngx_http_rtdash_system_timer(ngx_event_t *ev);
static void ngx_http_rtdash_system_sample(ngx_http_rtdash_sampler_t *s);
static void ngx_http_rtdash_system_cpu(ngx_http_rtdash_sampler_t *s,
    ngx_http_rtdash_sys_prev_t *cur, double dt);
static void ngx_http_rtdash_system_load(ngx_http_rtdash_sampler_t *s);
static void ngx_http_rtdash_system_mem(ngx_http_rtdash_sampler_t *s);
static void ngx_http_rtdash_system_disk(ngx_http_rtdash_sampler_t *s,
    ngx_http_rtdash_sys_prev_t *cur, double dt);
static ngx_uint_t ngx_http_rtdash_system_whole_disk(u_char *name,
    size_t len);
static void ngx_http_rtdash_system_net(ngx_http_rtdash_sampler_t *s,
    ngx_http_rtdash_sys_prev_t *cur, double dt);
static void ngx_http_rtdash_system_nginx(ngx_http_rtdash_sampler_t *s,
    ngx_http_rtdash_sys_prev_t *cur, double dt, ngx_uint_t nworkers);
static ngx_int_t ngx_http_rtdash_system_stub(ngx_atomic_uint_t *v);
static void ngx_http_rtdash_system_zone(ngx_http_rtdash_sampler_t *s);
static ngx_uint_t ngx_http_rtdash_system_workers(
    ngx_http_rtdash_sampler_t *s, double dt);
static ngx_uint_t ngx_http_rtdash_system_worker(
    ngx_http_rtdash_sampler_t *s, ngx_pid_t pid, ngx_uint_t n, double dt);
static ngx_uint_t ngx_http_rtdash_system_current(ngx_pid_t pid);
static ngx_int_t ngx_http_rtdash_system_pstat(ngx_http_rtdash_sampler_t *s,
    ngx_pid_t pid, ngx_http_rtdash_sys_pstat_t *ps);
static void ngx_http_rtdash_system_begin(ngx_http_rtdash_sampler_t *s,
    ngx_str_t *tool);
static void ngx_http_rtdash_system_gauge(ngx_http_rtdash_sampler_t *s,
    const char *name, double v);
static void ngx_http_rtdash_system_end(ngx_http_rtdash_sampler_t *s);
static ngx_int_t ngx_http_rtdash_system_read(ngx_http_rtdash_sampler_t *s,
    const char *path, ngx_uint_t src, size_t *len);
static ngx_int_t ngx_http_rtdash_system_uint(u_char **p, u_char *end,
    uint64_t *v);
static u_char *ngx_http_rtdash_system_key(u_char *buf, u_char *end,
    const char *key);


/* rtdash_system zone [interval=1s] [host=host] [nginx=nginx]; */

char *
ngx_http_rtdash_system(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_rtdash_main_conf_t *rmcf = conf;

    char                       *rv;
    ngx_str_t                  *value;
    ngx_uint_t                  i;
    ngx_http_rtdash_system_t   *sys, **sysp;

    value = cf->args->elts;

    sys = ngx_pcalloc(cf->pool, sizeof(ngx_http_rtdash_system_t));
    if (sys == NULL) {
        return NGX_CONF_ERROR;
    }

    sys->interval = 1000;
    ngx_str_set(&sys->host, "host");
    ngx_str_set(&sys->nginx, "nginx");

    sys->zone = ngx_shared_memory_add(cf, &value[1], 0,
                                      &ngx_http_rtdash_module);
    if (sys->zone == NULL) {
        return NGX_CONF_ERROR;
    }

    sysp = rmcf->systems.elts;

    for (i = 0; i < rmcf->systems.nelts; i++) {
        if (sysp[i]->zone == sys->zone) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate \"%V\" for zone \"%V\"",
                               &cmd->name, &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    for (i = 2; i < cf->args->nelts; i++) {
        rv = ngx_http_rtdash_system_param(cf, sys, &value[i]);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    if (sys->host.len == sys->nginx.len
        && ngx_strncmp(sys->host.data, sys->nginx.data, sys->host.len) == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"host=\" and \"nginx=\" of \"%V\" are the "
                           "same name \"%V\"", &cmd->name, &sys->host);
        return NGX_CONF_ERROR;
    }

    sysp = ngx_array_push(&rmcf->systems);
    if (sysp == NULL) {
        return NGX_CONF_ERROR;
    }

    *sysp = sys;

    return NGX_CONF_OK;
}


static char *
ngx_http_rtdash_system_param(ngx_conf_t *cf, ngx_http_rtdash_system_t *sys,
    ngx_str_t *v)
{
    ngx_str_t   s, *name;
    ngx_msec_t  ms;

    if (ngx_strncmp(v->data, "interval=", 9) == 0) {
        s.data = v->data + 9;
        s.len = v->len - 9;

        ms = ngx_parse_time(&s, 0);

        if (ms == (ngx_msec_t) NGX_ERROR || ms < 100 || ms > 3600000) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"%V\", expected interval=100ms "
                               "to 1h", v);
            return NGX_CONF_ERROR;
        }

        sys->interval = ms;
        return NGX_CONF_OK;
    }

    if (ngx_strncmp(v->data, "host=", 5) == 0) {
        name = &sys->host;
        s.data = v->data + 5;
        s.len = v->len - 5;

    } else if (ngx_strncmp(v->data, "nginx=", 6) == 0) {
        name = &sys->nginx;
        s.data = v->data + 6;
        s.len = v->len - 6;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", v);
        return NGX_CONF_ERROR;
    }

    /* a prefix of tool names: room is left for the longest suffix */

    if (s.len == 0
        || s.len > NGX_HTTP_RTDASH_TOOL_MAX - NGX_HTTP_RTDASH_SYSTEM_SUFFIX
        || !ngx_http_rtdash_valid_text(s.data, s.len,
                                       NGX_HTTP_RTDASH_TOOL_MAX))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"%V\", expected a tool name of 1 to "
                           "%d bytes", v,
                           NGX_HTTP_RTDASH_TOOL_MAX
                           - NGX_HTTP_RTDASH_SYSTEM_SUFFIX);
        return NGX_CONF_ERROR;
    }

    *name = s;

    return NGX_CONF_OK;
}


/* postconfiguration: each rtdash_system names a zone that can hold it */

ngx_int_t
ngx_http_rtdash_system_init(ngx_conf_t *cf)
{
    ngx_uint_t                    i;
    ngx_http_rtdash_ctx_t        *ctx;
    ngx_http_rtdash_system_t    **sysp;
    ngx_http_rtdash_main_conf_t  *rmcf;

    rmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_rtdash_module);
    sysp = rmcf->systems.elts;

    for (i = 0; i < rmcf->systems.nelts; i++) {
        ctx = sysp[i]->zone->data;

        if (ctx == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "rtdash_system: unknown rtdash zone \"%V\"",
                               &sysp[i]->zone->shm.name);
            return NGX_ERROR;
        }

        if (ctx->ngauges < NGX_HTTP_RTDASH_SYSTEM_NEED) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "rtdash_system: zone \"%V\" has gauges=%ui, "
                               "at least %d are needed",
                               &ctx->name, ctx->ngauges,
                               NGX_HTTP_RTDASH_SYSTEM_NEED);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * init_process: worker 0 (or the single process) samples.  After a
 * reload the new generation's worker 0 starts its own timer, and the old
 * one stops re-arming as soon as it is exiting.
 */

ngx_int_t
ngx_http_rtdash_system_init_process(ngx_cycle_t *cycle,
    ngx_http_rtdash_system_t *sys)
{
    size_t                      n, ng;
    ngx_core_conf_t            *ccf;
    ngx_atomic_uint_t           v[7];
    ngx_http_rtdash_sampler_t  *s;

    if ((ngx_process != NGX_PROCESS_WORKER
         && ngx_process != NGX_PROCESS_SINGLE)
        || ngx_worker != 0)
    {
        return NGX_OK;
    }

    s = ngx_pcalloc(cycle->pool, sizeof(ngx_http_rtdash_sampler_t));
    if (s == NULL) {
        return NGX_ERROR;
    }

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    s->conf = sys;
    s->ctx = sys->zone->data;
    s->max_workers = (ngx_process == NGX_PROCESS_WORKER)
                     ? (ngx_uint_t) ccf->worker_processes : 1;
    s->hz = sysconf(_SC_CLK_TCK);

    n = NGX_HTTP_RTDASH_SYSTEM_TOOLS + s->max_workers;
    ng = NGX_HTTP_RTDASH_SYSTEM_GAUGES
         + NGX_HTTP_RTDASH_SYSTEM_WGAUGES * s->max_workers;

    s->buf = ngx_palloc(cycle->pool, NGX_HTTP_RTDASH_SYSTEM_BUF + 1);
    s->events = ngx_palloc(cycle->pool,
                           n * sizeof(ngx_http_rtdash_event_in_t));
    s->gauges = ngx_palloc(cycle->pool,
                           ng * sizeof(ngx_http_rtdash_gauge_in_t));
    s->rec.scratch = ngx_palloc(cycle->pool,
                                ngx_http_rtdash_record_scratch_size(n, ng));
    s->workers = ngx_pcalloc(cycle->pool,
                             2 * s->max_workers
                             * sizeof(ngx_http_rtdash_sys_worker_t));
    s->prefix = ngx_pnalloc(cycle->pool, cycle->prefix.len + 1);

    if (s->buf == NULL || s->events == NULL || s->gauges == NULL
        || s->rec.scratch == NULL || s->workers == NULL || s->prefix == NULL)
    {
        return NGX_ERROR;
    }

    s->seen = s->workers + s->max_workers;
    *ngx_cpymem(s->prefix, cycle->prefix.data, cycle->prefix.len) = '\0';

    if (ngx_http_rtdash_system_names(cycle, s) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_rtdash_system_stub(v) != NGX_OK) {
        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                      "rtdash_system: nginx is built without the "
                      "stub_status counters: the connection and request "
                      "gauges of \"%V\" are left out", &sys->nginx);
    }

    s->timer.handler = ngx_http_rtdash_system_timer;
    s->timer.data = s;
    s->timer.log = cycle->log;
    s->timer.cancelable = 1;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, cycle->log, 0,
                   "rtdash zone \"%V\": this process samples the system "
                   "every %M ms, %ui workers at most", &s->ctx->name,
                   sys->interval, s->max_workers);

    ngx_add_timer(&s->timer, sys->interval);

    return NGX_OK;
}


/* the tool names: "<host>.cpu" ..., "<nginx>.worker.<n>" */

static ngx_int_t
ngx_http_rtdash_system_names(ngx_cycle_t *cycle,
    ngx_http_rtdash_sampler_t *s)
{
    u_char      *p;
    ngx_str_t   *host, *nginx;
    ngx_uint_t   i;

    static const char  *suffix[] = {
        ".cpu", ".load", ".mem", ".disk", ".net", "", ".total", ".zone"
    };

    host = &s->conf->host;
    nginx = &s->conf->nginx;

    for (i = 0; i < NGX_HTTP_RTDASH_SYSTEM_TOOLS; i++) {
        p = ngx_pnalloc(cycle->pool, NGX_HTTP_RTDASH_TOOL_MAX);
        if (p == NULL) {
            return NGX_ERROR;
        }

        s->tools[i].data = p;
        s->tools[i].len = ngx_sprintf(p, "%V%s",
                                      i < NGX_HTTP_RTDASH_SYS_NGINX
                                      ? host : nginx, suffix[i])
                          - p;
    }

    s->wtools = ngx_palloc(cycle->pool, s->max_workers * sizeof(ngx_str_t));
    if (s->wtools == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < s->max_workers; i++) {
        p = ngx_pnalloc(cycle->pool, NGX_HTTP_RTDASH_TOOL_MAX);
        if (p == NULL) {
            return NGX_ERROR;
        }

        s->wtools[i].data = p;
        s->wtools[i].len = ngx_sprintf(p, "%V.worker.%ui", nginx, i) - p;
    }

    return NGX_OK;
}


static void
ngx_http_rtdash_system_timer(ngx_event_t *ev)
{
    ngx_http_rtdash_sampler_t *s = ev->data;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                       "rtdash zone \"%V\": exiting, system sampling stops",
                       &s->ctx->name);
        return;
    }

    ngx_http_rtdash_system_sample(s);

    ngx_add_timer(ev, s->conf->interval);
}


/* one sample: every tool's gauges, then one record */

static void
ngx_http_rtdash_system_sample(ngx_http_rtdash_sampler_t *s)
{
    double                       dt;
    ngx_int_t                    rc;
    ngx_uint_t                   nworkers;
    ngx_http_rtdash_sys_prev_t   cur;

    ngx_memzero(&cur, sizeof(ngx_http_rtdash_sys_prev_t));

    cur.msec = ngx_current_msec;

    /* dt 0: the first sample, no rates */

    dt = s->sampled ? (double) (cur.msec - s->prev.msec) / 1000.0 : 0;

    s->rec.events = s->events;
    s->rec.nevents = 0;
    s->rec.gauges = s->gauges;
    s->rec.ngauges = 0;
    s->rec.now = ngx_http_rtdash_now();

    ngx_http_rtdash_system_cpu(s, &cur, dt);
    ngx_http_rtdash_system_load(s);
    ngx_http_rtdash_system_mem(s);
    ngx_http_rtdash_system_disk(s, &cur, dt);
    ngx_http_rtdash_system_net(s, &cur, dt);

    nworkers = ngx_http_rtdash_system_workers(s, dt);

    ngx_http_rtdash_system_nginx(s, &cur, dt, nworkers);
    ngx_http_rtdash_system_zone(s);

    s->prev = cur;
    s->sampled = 1;

    if (s->rec.nevents == 0) {
        return;
    }

    rc = ngx_http_rtdash_record(s->ctx, &s->rec, s->timer.log);

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, s->timer.log, 0,
                   "rtdash zone \"%V\": system sample of %ui tools, "
                   "%ui gauges: %i", &s->ctx->name, s->rec.nevents,
                   s->rec.ngauges, rc);

    /* a full zone would say so at every tick: once a minute at most */

    if (rc == NGX_DECLINED && ngx_time() - s->refused >= 60) {
        s->refused = ngx_time();

        ngx_log_error(NGX_LOG_ERR, s->timer.log, 0,
                      "rtdash zone \"%V\": %s \"%V\", rtdash_system sample "
                      "dropped", &s->ctx->name, s->rec.error, &s->rec.arg);
    }
}


/*
 * /proc/stat "cpu  user nice system idle iowait irq softirq steal ...":
 * user is user + nice, system is system + irq + softirq, each in % of
 * all the CPUs' time between the two samples.
 */

static void
ngx_http_rtdash_system_cpu(ngx_http_rtdash_sampler_t *s,
    ngx_http_rtdash_sys_prev_t *cur, double dt)
{
    u_char      *p, *end;
    size_t       len;
    uint64_t     f[8], d[5];
    ngx_uint_t   i;

    if (ngx_http_rtdash_system_read(s, "/proc/stat",
                                    NGX_HTTP_RTDASH_SRC_STAT, &len)
        != NGX_OK)
    {
        return;
    }

    p = s->buf;
    end = s->buf + len;

    if (len < 4 || ngx_strncmp(p, "cpu ", 4) != 0) {
        return;
    }

    p += 4;

    for (i = 0; i < 8; i++) {
        if (ngx_http_rtdash_system_uint(&p, end, &f[i]) != NGX_OK) {
            return;
        }
    }

    cur->cpu[0] = f[0] + f[1];
    cur->cpu[1] = f[2] + f[5] + f[6];
    cur->cpu[2] = f[4];
    cur->cpu[3] = f[7];
    cur->cpu[4] = f[0] + f[1] + f[2] + f[3] + f[4] + f[5] + f[6] + f[7];
    cur->has_cpu = 1;

    if (dt == 0 || !s->prev.has_cpu || cur->cpu[4] <= s->prev.cpu[4]) {
        return;
    }

    for (i = 0; i < 5; i++) {
        d[i] = cur->cpu[i] >= s->prev.cpu[i] ? cur->cpu[i] - s->prev.cpu[i]
                                              : 0;
    }

    ngx_http_rtdash_system_begin(s, &s->tools[NGX_HTTP_RTDASH_SYS_CPU]);
    ngx_http_rtdash_system_gauge(s, "user", 100.0 * d[0] / d[4]);
    ngx_http_rtdash_system_gauge(s, "system", 100.0 * d[1] / d[4]);
    ngx_http_rtdash_system_gauge(s, "iowait", 100.0 * d[2] / d[4]);
    ngx_http_rtdash_system_gauge(s, "steal", 100.0 * d[3] / d[4]);
    ngx_http_rtdash_system_end(s);
}


/* /proc/loadavg "0.52 0.58 0.59 1/467 12345" */

static void
ngx_http_rtdash_system_load(ngx_http_rtdash_sampler_t *s)
{
    char        *p, *q;
    double       v[3];
    size_t       len;
    ngx_uint_t   i;

    if (ngx_http_rtdash_system_read(s, "/proc/loadavg",
                                    NGX_HTTP_RTDASH_SRC_LOADAVG, &len)
        != NGX_OK)
    {
        return;
    }

    p = (char *) s->buf;

    for (i = 0; i < 3; i++) {
        v[i] = strtod(p, &q);

        if (q == p || !(v[i] >= 0)) {
            return;
        }

        p = q;
    }

    ngx_http_rtdash_system_begin(s, &s->tools[NGX_HTTP_RTDASH_SYS_LOAD]);
    ngx_http_rtdash_system_gauge(s, "1m", v[0]);
    ngx_http_rtdash_system_gauge(s, "5m", v[1]);
    ngx_http_rtdash_system_gauge(s, "15m", v[2]);
    ngx_http_rtdash_system_end(s);
}


/* /proc/meminfo "MemTotal:  16318480 kB", in bytes */

static void
ngx_http_rtdash_system_mem(ngx_http_rtdash_sampler_t *s)
{
    u_char      *p, *end;
    size_t       len;
    uint64_t     v[4];
    ngx_uint_t   i, has;

    static const char  *keys[] = {
        "MemTotal:", "MemAvailable:", "SwapTotal:", "SwapFree:"
    };

    if (ngx_http_rtdash_system_read(s, "/proc/meminfo",
                                    NGX_HTTP_RTDASH_SRC_MEMINFO, &len)
        != NGX_OK)
    {
        return;
    }

    end = s->buf + len;
    has = 0;

    for (i = 0; i < 4; i++) {
        p = ngx_http_rtdash_system_key(s->buf, end, keys[i]);

        if (p && ngx_http_rtdash_system_uint(&p, end, &v[i]) == NGX_OK) {
            v[i] *= 1024;
            has |= 1 << i;
        }
    }

    ngx_http_rtdash_system_begin(s, &s->tools[NGX_HTTP_RTDASH_SYS_MEM]);

    if (has & 1) {
        ngx_http_rtdash_system_gauge(s, "total", (double) v[0]);
    }

    /* MemAvailable: Linux 3.14 and later */

    if ((has & 3) == 3) {
        ngx_http_rtdash_system_gauge(s, "available", (double) v[1]);
        ngx_http_rtdash_system_gauge(s, "used", v[0] > v[1]
                                                ? (double) (v[0] - v[1])
                                                : 0);
    }

    if ((has & 12) == 12) {
        ngx_http_rtdash_system_gauge(s, "swap_used", v[2] > v[3]
                                                     ? (double) (v[2] - v[3])
                                                     : 0);
    }

    ngx_http_rtdash_system_end(s);
}


/*
 * /proc/diskstats "   8  0 sda 1 2 <sectors read> 4 5 6 <written> ...":
 * the whole disks' bytes read and written a second; and the space free
 * for nginx's user on the filesystem of its prefix.
 */

static void
ngx_http_rtdash_system_disk(ngx_http_rtdash_sampler_t *s,
    ngx_http_rtdash_sys_prev_t *cur, double dt)
{
    u_char          *p, *line, *end, *name;
    size_t           len;
    uint64_t         f[7];
    ngx_uint_t       i, ok;
    struct statvfs   vfs;

    ok = 0;

    if (ngx_http_rtdash_system_read(s, "/proc/diskstats",
                                    NGX_HTTP_RTDASH_SRC_DISKSTATS, &len)
        == NGX_OK)
    {
        end = s->buf + len;
        ok = 1;

        for (line = s->buf; line < end; line = p + 1) {
            p = line;

            /* major, minor, name */

            if (ngx_http_rtdash_system_uint(&p, end, &f[0]) != NGX_OK
                || ngx_http_rtdash_system_uint(&p, end, &f[0]) != NGX_OK)
            {
                ok = 0;
                break;
            }

            while (p < end && *p == ' ') {
                p++;
            }

            name = p;

            while (p < end && *p != ' ' && *p != '\n') {
                p++;
            }

            for (i = 0; i < 7; i++) {
                if (ngx_http_rtdash_system_uint(&p, end, &f[i]) != NGX_OK) {
                    break;
                }
            }

            if (i == 7 && ngx_http_rtdash_system_whole_disk(name, p - name))
            {
                /* sectors of 512 bytes, whatever the device's */

                cur->disk[0] += f[2] * 512;
                cur->disk[1] += f[6] * 512;
            }

            p = ngx_strlchr(p, end, '\n');
            if (p == NULL) {
                break;
            }
        }
    }

    cur->has_disk = ok;

    ngx_http_rtdash_system_begin(s, &s->tools[NGX_HTTP_RTDASH_SYS_DISK]);

    if (ok && dt > 0 && s->prev.has_disk
        && cur->disk[0] >= s->prev.disk[0]
        && cur->disk[1] >= s->prev.disk[1])
    {
        ngx_http_rtdash_system_gauge(s, "read_bps",
                                     (cur->disk[0] - s->prev.disk[0]) / dt);
        ngx_http_rtdash_system_gauge(s, "write_bps",
                                     (cur->disk[1] - s->prev.disk[1]) / dt);
    }

    if (statvfs((char *) s->prefix, &vfs) == 0) {
        ngx_http_rtdash_system_gauge(s, "free", (double) vfs.f_bavail
                                                * vfs.f_frsize);

    } else if (!(s->missing & NGX_HTTP_RTDASH_SRC_STATVFS)) {
        s->missing |= NGX_HTTP_RTDASH_SRC_STATVFS;

        ngx_log_error(NGX_LOG_INFO, s->timer.log, ngx_errno,
                      "rtdash_system: statvfs(\"%s\") failed, no free space "
                      "gauge", s->prefix);
    }

    ngx_http_rtdash_system_end(s);
}


/*
 * A whole disk, not a partition (its bytes are the disk's too), nor a
 * loop, RAM or device-mapper device (theirs are another device's).
 */

static ngx_uint_t
ngx_http_rtdash_system_whole_disk(u_char *name, size_t len)
{
    u_char      *p;
    ngx_uint_t   i;

    static const char  *skip[] = {
        "loop", "ram", "zram", "dm-", "md", "sr", "fd", NULL
    };

    if (len == 0) {
        return 0;
    }

    for (i = 0; skip[i]; i++) {
        if (len >= ngx_strlen(skip[i])
            && ngx_strncmp(name, skip[i], ngx_strlen(skip[i])) == 0)
        {
            return 0;
        }
    }

    /* nvme0n1p2, mmcblk0p1: "p" and digits after a digit */

    if (ngx_strncmp(name, "nvme", 4) == 0
        || ngx_strncmp(name, "mmcblk", 6) == 0)
    {
        p = name + len;

        while (p > name && p[-1] >= '0' && p[-1] <= '9') {
            p--;
        }

        return !(p < name + len && p - name >= 2 && p[-1] == 'p'
                 && p[-2] >= '0' && p[-2] <= '9');
    }

    /* sda1, vdb2, xvda1, hda1 */

    if (ngx_strncmp(name, "sd", 2) == 0 || ngx_strncmp(name, "vd", 2) == 0
        || ngx_strncmp(name, "xvd", 3) == 0 || ngx_strncmp(name, "hd", 2) == 0)
    {
        return !(name[len - 1] >= '0' && name[len - 1] <= '9');
    }

    return 1;
}


/*
 * /proc/net/dev "  eth0: rx_bytes packets errs ... (8) tx_bytes packets
 * errs ...": every interface but the loopback, a second.
 */

static void
ngx_http_rtdash_system_net(ngx_http_rtdash_sampler_t *s,
    ngx_http_rtdash_sys_prev_t *cur, double dt)
{
    u_char      *p, *q, *line, *end;
    size_t       len;
    uint64_t     f[11];
    ngx_uint_t   i;

    static const char  *names[] = {
        "rx_bps", "tx_bps", "rx_errors", "tx_errors"
    };

    if (ngx_http_rtdash_system_read(s, "/proc/net/dev",
                                    NGX_HTTP_RTDASH_SRC_NETDEV, &len)
        != NGX_OK)
    {
        return;
    }

    end = s->buf + len;

    for (line = s->buf; line < end; line = p + 1) {
        p = ngx_strlchr(line, end, '\n');
        if (p == NULL) {
            p = end;
        }

        /* the two header lines have no ':' before their end */

        q = ngx_strlchr(line, p, ':');
        if (q == NULL) {
            continue;
        }

        while (line < q && *line == ' ') {
            line++;
        }

        if (q - line == 2 && ngx_strncmp(line, "lo", 2) == 0) {
            continue;
        }

        q++;

        for (i = 0; i < 11; i++) {
            if (ngx_http_rtdash_system_uint(&q, p, &f[i]) != NGX_OK) {
                break;
            }
        }

        if (i < 11) {
            continue;
        }

        cur->net[0] += f[0];
        cur->net[1] += f[8];
        cur->net[2] += f[2];
        cur->net[3] += f[10];
    }

    cur->has_net = 1;

    if (dt == 0 || !s->prev.has_net) {
        return;
    }

    for (i = 0; i < 4; i++) {
        if (cur->net[i] < s->prev.net[i]) {
            /* an interface went away: no rates this time */
            return;
        }
    }

    ngx_http_rtdash_system_begin(s, &s->tools[NGX_HTTP_RTDASH_SYS_NET]);

    for (i = 0; i < 4; i++) {
        ngx_http_rtdash_system_gauge(s, names[i],
                                     (cur->net[i] - s->prev.net[i]) / dt);
    }

    ngx_http_rtdash_system_end(s);
}


/*
 * nginx's stub_status counters, read as stub_status reads them, and the
 * number of workers found.  The sampler is a timer: it holds no
 * connection, so it counts in none of them.
 */

static void
ngx_http_rtdash_system_nginx(ngx_http_rtdash_sampler_t *s,
    ngx_http_rtdash_sys_prev_t *cur, double dt, ngx_uint_t nworkers)
{
    ngx_uint_t         i;
    ngx_atomic_uint_t  v[7];

    static const char  *rates[] = {
        "accepted_ps", "handled_ps", "requests_ps"
    };

    static const char  *totals[] = {
        "accepted", "handled", "requests"
    };

    cur->has_stub = (ngx_http_rtdash_system_stub(v) == NGX_OK);

    ngx_http_rtdash_system_begin(s, &s->tools[NGX_HTTP_RTDASH_SYS_NGINX]);

    if (cur->has_stub) {
        for (i = 0; i < 3; i++) {
            cur->served[i] = v[i];
        }

        ngx_http_rtdash_system_gauge(s, "active", v[3]);
        ngx_http_rtdash_system_gauge(s, "reading", v[4]);
        ngx_http_rtdash_system_gauge(s, "writing", v[5]);
        ngx_http_rtdash_system_gauge(s, "waiting", v[6]);
    }

    if (cur->has_stub && dt > 0 && s->prev.has_stub) {
        for (i = 0; i < 3; i++) {
            ngx_http_rtdash_system_gauge(s, rates[i],
                                         cur->served[i] >= s->prev.served[i]
                                         ? (cur->served[i] - s->prev.served[i])
                                           / dt
                                         : 0);
        }
    }

    ngx_http_rtdash_system_gauge(s, "workers", nworkers);
    ngx_http_rtdash_system_end(s);

    if (!cur->has_stub) {
        return;
    }

    ngx_http_rtdash_system_begin(s, &s->tools[NGX_HTTP_RTDASH_SYS_TOTAL]);

    for (i = 0; i < 3; i++) {
        ngx_http_rtdash_system_gauge(s, totals[i], (double) cur->served[i]);
    }

    ngx_http_rtdash_system_end(s);
}


/*
 * accepted, handled, requests, active, reading, writing, waiting; or
 * NGX_DECLINED when this nginx has no such counters.
 */

static ngx_int_t
ngx_http_rtdash_system_stub(ngx_atomic_uint_t *v)
{
#if (NGX_STAT_STUB || NGX_HTTP_RTDASH_STUB_WEAK)

#if (NGX_HTTP_RTDASH_STUB_WEAK)
    if (&ngx_stat_accepted == NULL || &ngx_stat_handled == NULL
        || &ngx_stat_requests == NULL || &ngx_stat_active == NULL
        || &ngx_stat_reading == NULL || &ngx_stat_writing == NULL
        || &ngx_stat_waiting == NULL)
    {
        return NGX_DECLINED;
    }
#endif

    if (ngx_stat_accepted == NULL || ngx_stat_handled == NULL
        || ngx_stat_requests == NULL || ngx_stat_active == NULL
        || ngx_stat_reading == NULL || ngx_stat_writing == NULL
        || ngx_stat_waiting == NULL)
    {
        return NGX_DECLINED;
    }

    v[0] = *ngx_stat_accepted;
    v[1] = *ngx_stat_handled;
    v[2] = *ngx_stat_requests;
    v[3] = *ngx_stat_active;
    v[4] = *ngx_stat_reading;
    v[5] = *ngx_stat_writing;
    v[6] = *ngx_stat_waiting;

    return NGX_OK;

#else

    return NGX_DECLINED;

#endif
}


/* the zone's own use: bytes used and free, tools */

static void
ngx_http_rtdash_system_zone(ngx_http_rtdash_sampler_t *s)
{
    size_t       nfree;
    ngx_uint_t   ntools;

    ngx_http_rtdash_lock(s->ctx);

    nfree = s->ctx->shpool->pfree * ngx_pagesize;
    ntools = s->ctx->sh->ntools;

    ngx_http_rtdash_unlock(s->ctx);

    ngx_http_rtdash_system_begin(s, &s->tools[NGX_HTTP_RTDASH_SYS_ZONE]);
    ngx_http_rtdash_system_gauge(s, "used", s->ctx->size - nfree);
    ngx_http_rtdash_system_gauge(s, "free", nfree);
    ngx_http_rtdash_system_gauge(s, "tools", ntools);
    ngx_http_rtdash_system_end(s);
}


/*
 * The workers of this generation, in the order of the master's process
 * table: their pid, RSS and CPU %.  A worker learns of the workers
 * started after it only from the master's NGX_CMD_OPEN_CHANNEL messages,
 * which set a slot's pid and channel but not ngx_last_process (its value
 * when this process was forked): so every slot is looked at.  A slot
 * whose channel was closed (NGX_CMD_CLOSE_CHANNEL) is a process gone.
 */

static ngx_uint_t
ngx_http_rtdash_system_workers(ngx_http_rtdash_sampler_t *s, double dt)
{
    ngx_int_t                      i;
    ngx_pid_t                      pid;
    ngx_uint_t                     n;
    ngx_http_rtdash_sys_worker_t  *w;

    n = 0;

    if (ngx_process == NGX_PROCESS_SINGLE) {
        n = ngx_http_rtdash_system_worker(s, ngx_pid, n, dt);
    }

    for (i = 0; ngx_process == NGX_PROCESS_WORKER && i < NGX_MAX_PROCESSES
                && n < s->max_workers; i++)
    {
        if (i == ngx_process_slot) {
            pid = ngx_pid;

        } else {
            pid = ngx_processes[i].pid;

            if (pid <= 0 || ngx_processes[i].channel[0] == -1) {
                continue;
            }
        }

        n = ngx_http_rtdash_system_worker(s, pid, n, dt);
    }

    w = s->workers;
    s->workers = s->seen;
    s->seen = w;
    s->nworkers = n;

    return n;
}


/* the n-th worker's tool: pid, RSS, CPU % since the previous sample */

static ngx_uint_t
ngx_http_rtdash_system_worker(ngx_http_rtdash_sampler_t *s, ngx_pid_t pid,
    ngx_uint_t n, double dt)
{
    ngx_uint_t                     k;
    ngx_http_rtdash_sys_pstat_t    ps;
    ngx_http_rtdash_sys_worker_t  *w;

    if (ngx_http_rtdash_system_pstat(s, pid, &ps) != NGX_OK) {
        return n;
    }

    if (pid != ngx_pid
        && (ps.ppid != ngx_parent
            || !ngx_http_rtdash_system_current(pid)))
    {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, s->timer.log, 0,
                       "rtdash_system: process %P is no current worker",
                       pid);
        return n;
    }

    s->seen[n].pid = pid;
    s->seen[n].ticks = ps.ticks;

    ngx_http_rtdash_system_begin(s, &s->wtools[n]);
    ngx_http_rtdash_system_gauge(s, "pid", pid);
    ngx_http_rtdash_system_gauge(s, "rss", (double) ps.rss * ngx_pagesize);

    for (k = 0; dt > 0 && s->hz > 0 && k < s->nworkers; k++) {
        w = &s->workers[k];

        if (w->pid == pid && ps.ticks >= w->ticks) {
            ngx_http_rtdash_system_gauge(s, "cpu", 100.0
                                                   * (ps.ticks - w->ticks)
                                                   / s->hz / dt);
            break;
        }
    }

    ngx_http_rtdash_system_end(s);

    return n + 1;
}


/*
 * Another process of our master is a worker of this generation unless
 * its title says otherwise: an old generation's worker is "shutting
 * down", a cache manager or loader is no worker.  A title nginx did not
 * set (no setproctitle) says nothing: it counts.
 */

static ngx_uint_t
ngx_http_rtdash_system_current(ngx_pid_t pid)
{
    u_char    path[64], buf[NGX_HTTP_RTDASH_SYSTEM_CMDLINE];
    ssize_t   n;
    ngx_fd_t  fd;

    ngx_sprintf(path, "/proc/%P/cmdline%Z", pid);

    fd = ngx_open_file(path, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        return 0;
    }

    n = ngx_read_fd(fd, buf, sizeof(buf) - 1);

    (void) ngx_close_file(fd);

    if (n <= 0) {
        return 0;
    }

    buf[n] = '\0';

    if (ngx_strncmp(buf, "nginx: ", 7) != 0) {
        return 1;
    }

    return ngx_strstr(buf, "worker process") != NULL
           && ngx_strstr(buf, "shutting down") == NULL;
}


/* /proc/<pid>/stat: "pid (comm) state ppid ... utime stime ... rss" */

static ngx_int_t
ngx_http_rtdash_system_pstat(ngx_http_rtdash_sampler_t *s, ngx_pid_t pid,
    ngx_http_rtdash_sys_pstat_t *ps)
{
    u_char      *p, *end, path[64];
    size_t       len;
    uint64_t     v, utime;
    ngx_uint_t   field;

    ngx_memzero(ps, sizeof(ngx_http_rtdash_sys_pstat_t));

    ngx_sprintf(path, "/proc/%P/stat%Z", pid);

    /* a process may be gone by now: not worth a log line */

    if (ngx_http_rtdash_system_read(s, (char *) path, 0, &len) != NGX_OK) {
        return NGX_DECLINED;
    }

    end = s->buf + len;

    /* comm may hold spaces and parentheses: the last ')' ends it */

    for (p = end; p > s->buf && p[-1] != ')'; p--) { /* void */ }

    if (p == s->buf || p + 2 > end) {
        return NGX_DECLINED;
    }

    p += 2;                                  /* " S", then ppid */
    utime = 0;

    for (field = 4; field <= 24; field++) {
        if (ngx_http_rtdash_system_uint(&p, end, &v) != NGX_OK) {
            /* a negative field (priority, nice) is no field we need */

            if (p < end && *p == '-') {
                p++;
            }

            if (ngx_http_rtdash_system_uint(&p, end, &v) != NGX_OK) {
                return NGX_DECLINED;
            }
        }

        switch (field) {
        case 4:
            ps->ppid = (ngx_pid_t) v;
            break;
        case 14:
            utime = v;
            break;
        case 15:
            ps->ticks = utime + v;
            break;
        case 24:
            ps->rss = v;
            break;
        }
    }

    return NGX_OK;
}


/* a tool's event: no type, gauges only; left out if none is added */

static void
ngx_http_rtdash_system_begin(ngx_http_rtdash_sampler_t *s, ngx_str_t *tool)
{
    ngx_http_rtdash_event_in_t  *ev;

    ev = &s->events[s->rec.nevents];

    ngx_memzero(ev, sizeof(ngx_http_rtdash_event_in_t));

    ev->tool = tool->data;
    ev->tool_len = tool->len;
    ev->ts = s->rec.now;
    ev->has_ts = 1;
    ev->gauge_first = s->rec.ngauges;
}


static void
ngx_http_rtdash_system_gauge(ngx_http_rtdash_sampler_t *s, const char *name,
    double v)
{
    ngx_http_rtdash_gauge_in_t  *g;

    g = &s->gauges[s->rec.ngauges++];

    g->name = (const u_char *) name;
    g->name_len = ngx_strlen(name);
    g->value = v;
    g->sum = 0;

    s->events[s->rec.nevents].ngauges++;
}


static void
ngx_http_rtdash_system_end(ngx_http_rtdash_sampler_t *s)
{
    if (s->events[s->rec.nevents].ngauges) {
        s->rec.nevents++;
    }
}


/*
 * A /proc file into the sampler's buffer, NUL-terminated.  One that does
 * not fit is cut after its last whole line.  A missing source is logged
 * once (src), then left out quietly.
 */

static ngx_int_t
ngx_http_rtdash_system_read(ngx_http_rtdash_sampler_t *s, const char *path,
    ngx_uint_t src, size_t *len)
{
    u_char    *p;
    size_t     size;
    ssize_t    n;
    ngx_fd_t   fd;
    ngx_err_t  err;

    fd = ngx_open_file(path, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        err = ngx_errno;
        goto missing;
    }

    size = 0;

    while (size < NGX_HTTP_RTDASH_SYSTEM_BUF) {
        n = ngx_read_fd(fd, s->buf + size,
                        NGX_HTTP_RTDASH_SYSTEM_BUF - size);

        if (n == -1) {
            err = ngx_errno;

            if (err == NGX_EINTR) {
                continue;
            }

            (void) ngx_close_file(fd);
            goto missing;
        }

        if (n == 0) {
            break;
        }

        size += n;
    }

    (void) ngx_close_file(fd);

    if (size == NGX_HTTP_RTDASH_SYSTEM_BUF) {
        p = s->buf + size;

        while (p > s->buf && p[-1] != '\n') {
            p--;
        }

        size = p - s->buf;
    }

    s->buf[size] = '\0';
    *len = size;

    return size ? NGX_OK : NGX_DECLINED;

missing:

    if (src && !(s->missing & src)) {
        s->missing |= src;

        ngx_log_error(NGX_LOG_INFO, s->timer.log, err,
                      "rtdash_system: \"%s\" is not readable, its gauges "
                      "are left out", path);
    }

    return NGX_DECLINED;
}


/* spaces, then a decimal number */

static ngx_int_t
ngx_http_rtdash_system_uint(u_char **p, u_char *end, uint64_t *v)
{
    u_char    *q;
    uint64_t   n;

    q = *p;

    while (q < end && (*q == ' ' || *q == '\t')) {
        q++;
    }

    if (q == end || *q < '0' || *q > '9') {
        *p = q;
        return NGX_DECLINED;
    }

    for (n = 0; q < end && *q >= '0' && *q <= '9'; q++) {
        n = n * 10 + (*q - '0');
    }

    *p = q;
    *v = n;

    return NGX_OK;
}


/* the value after "Key:" at the start of a line, or NULL */

static u_char *
ngx_http_rtdash_system_key(u_char *buf, u_char *end, const char *key)
{
    u_char  *p;
    size_t   len;

    len = ngx_strlen(key);

    for (p = buf; p && p + len <= end; p = ngx_strlchr(p, end, '\n')) {
        if (*p == '\n') {
            p++;
        }

        if (p + len <= end && ngx_strncmp(p, key, len) == 0) {
            return p + len;
        }
    }

    return NULL;
}


/*
 * config.json's "system": the tools' prefixes and the interval (seconds)
 * of the zone's rtdash_system, or null when it has none.
 */

void
ngx_http_rtdash_system_json(ngx_http_rtdash_out_t *o, ngx_http_request_t *r,
    ngx_shm_zone_t *zone)
{
    ngx_uint_t                     i;
    ngx_http_rtdash_system_t     **sysp;
    ngx_http_rtdash_main_conf_t   *rmcf;

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_rtdash_module);
    sysp = rmcf->systems.elts;

    for (i = 0; i < rmcf->systems.nelts; i++) {
        if (sysp[i]->zone != zone) {
            continue;
        }

        ngx_http_rtdash_out_lit(o, "{\"host\":");
        ngx_http_rtdash_out_str(o, sysp[i]->host.data, sysp[i]->host.len);
        ngx_http_rtdash_out_lit(o, ",\"nginx\":");
        ngx_http_rtdash_out_str(o, sysp[i]->nginx.data, sysp[i]->nginx.len);
        ngx_http_rtdash_out_lit(o, ",\"interval\":");
        ngx_http_rtdash_out_num(o, sysp[i]->interval / 1000.0);
        ngx_http_rtdash_out_lit(o, "}");
        return;
    }

    ngx_http_rtdash_out_lit(o, "null");
}
