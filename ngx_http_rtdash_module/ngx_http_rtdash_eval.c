
/*
 * rtdash: the evaluation of the alert rules (rtdash_alert).
 *
 * Every worker arms a timer of one second per zone that has rules; the
 * worker that holds the zone's lease (ngx_http_rtdash_watch_lease)
 * evaluates, the others only look whether the lease ran out.  The
 * evaluator walks the tools one lock at a time, computes each matching
 * rule's metric from the buckets already in the zone (nothing is done on
 * the ingest path), and moves the (rule, tool) state: inactive, pending,
 * firing, resolved.  Every change is a transition in the zone's ring, with
 * the zone's next seq, so streams send it and a resume finds it.
 */


#include "ngx_http_rtdash_module.h"

#include <math.h>


#define NGX_HTTP_RTDASH_EVAL_INTERVAL  1000

/* users, avg, p50, p95, p99, max: kept per minute */
#define ngx_http_rtdash_value_metric(m)                                      \
    ((m) >= NGX_HTTP_RTDASH_M_USERS && (m) <= NGX_HTTP_RTDASH_M_MAX)

/* rate, count, flagged, share, absent: counted in the window */
#define ngx_http_rtdash_count_metric(m)                                      \
    ((m) == NGX_HTTP_RTDASH_M_RATE || (m) == NGX_HTTP_RTDASH_M_COUNT         \
     || (m) == NGX_HTTP_RTDASH_M_FLAGGED || (m) == NGX_HTTP_RTDASH_M_SHARE   \
     || (m) == NGX_HTTP_RTDASH_M_ABSENT)


/* a rule resolved for one evaluation: its type's index in the zone */
typedef struct {
    ngx_http_rtdash_rule_t     *rule;
    ngx_int_t                   type;         /* -1: every type or none */
    ngx_uint_t                  known;        /* the type is in the zone */
    ngx_int_t                   cached;       /* its column of the cache */
    ngx_int_t                   counts;       /* its window's counts, or -1 */
} ngx_http_rtdash_erule_t;


/*
 * The counts of every type in one window of a tool, summed once per
 * evaluation of the tool for all the rules of that window
 */
typedef struct {
    ngx_uint_t                  window;
    uint64_t                    gen;          /* the tool's evaluation */
    int64_t                     count[NGX_HTTP_RTDASH_TYPES_MAX];
    int64_t                     flagged[NGX_HTTP_RTDASH_TYPES_MAX];
} ngx_http_rtdash_cwin_t;


/*
 * A value metric of a tool (users, avg, p50 ... max: kept per minute)
 * changes only when the tool is written (its seq) or the minute turns:
 * the last one computed, per tool and rule
 */
typedef struct {
    uint64_t                    seq;
    time_t                      minute;
    double                      value;
} ngx_http_rtdash_vcache_t;


/* counts being summed over buckets, some of them taken away */
typedef struct {
    ngx_http_rtdash_ctx_t      *ctx;
    int64_t                    *count;        /* [ntypes] */
    int64_t                    *flagged;      /* [ntypes] */
} ngx_http_rtdash_sum_t;


/* a tool's last minute scored for anomalies by this worker */
typedef struct {
    uint64_t                    born;
    time_t                      minute;
} ngx_http_rtdash_scored_t;


/* a worker's evaluator of a zone */
typedef struct {
    ngx_http_rtdash_ctx_t      *ctx;
    ngx_event_t                 timer;
    ngx_http_rtdash_minute_t   *minute;       /* a minute read, min_size */
    ngx_http_rtdash_scored_t   *scored;       /* [nslots], anomalies */
    ngx_http_rtdash_vcache_t   *cache;        /* [nslots][ncached] */
    ngx_uint_t                  ncached;      /* value rules */
    ngx_http_rtdash_cwin_t     *cwin;         /* [ncwin], count windows */
    ngx_uint_t                  ncwin;
    /* the minutes of the tool read by its value rules, newest first */
    u_char                     *mins;         /* [nmins] of min_size */
    uint64_t                   *mgen;         /* [nmins]: read in gen */
    u_char                     *mhas;         /* [nmins]: it has the minute */
    ngx_uint_t                  nmins;
    uint64_t                    gen;          /* one a tool evaluated */
} ngx_http_rtdash_eval_t;




static void ngx_http_rtdash_eval_timer(ngx_event_t *ev);
static void ngx_http_rtdash_eval_zone(ngx_http_rtdash_eval_t *ev,
    double now);
static void ngx_http_rtdash_eval_tool_locked(ngx_http_rtdash_eval_t *ev,
    ngx_http_rtdash_erule_t *er, ngx_uint_t n, ngx_http_rtdash_node_t *node,
    double now);
static ngx_uint_t ngx_http_rtdash_rule_applies(ngx_http_rtdash_rule_t *rule,
    ngx_http_rtdash_node_t *node);
static double ngx_http_rtdash_metric_locked(ngx_http_rtdash_eval_t *ev,
    ngx_http_rtdash_erule_t *er, ngx_http_rtdash_node_t *node, time_t now);
static ngx_int_t ngx_http_rtdash_cwin_index(ngx_http_rtdash_eval_t *ev,
    ngx_uint_t window);
static void ngx_http_rtdash_counts_locked(ngx_http_rtdash_eval_t *ev,
    ngx_http_rtdash_erule_t *er, ngx_http_rtdash_node_t *node, time_t now,
    uint64_t *count, uint64_t *flagged, uint64_t *all);
static void ngx_http_rtdash_window_sum_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, time_t now, ngx_http_rtdash_cwin_t *cw);
static void ngx_http_rtdash_sum_seconds(ngx_http_rtdash_sum_t *sum,
    ngx_http_rtdash_node_t *node, time_t from, time_t to, ngx_int_t sign);
static void ngx_http_rtdash_sum_add(ngx_http_rtdash_sum_t *sum,
    uint32_t *cnt, uint32_t *flg, ngx_int_t sign);
static ngx_http_rtdash_minute_t *ngx_http_rtdash_eval_minute_locked(
    ngx_http_rtdash_eval_t *ev, ngx_http_rtdash_node_t *node, time_t t,
    time_t now);
static double ngx_http_rtdash_values_locked(ngx_http_rtdash_eval_t *ev,
    ngx_http_rtdash_node_t *node, ngx_http_rtdash_metric_e metric,
    time_t now, ngx_uint_t window);
static double ngx_http_rtdash_gauge_value(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, ngx_str_t *name);
static ngx_uint_t ngx_http_rtdash_compare(ngx_http_rtdash_op_e op, double v,
    double threshold);
static void ngx_http_rtdash_transition_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_rule_t *rule, ngx_http_rtdash_node_t *node,
    ngx_http_rtdash_astate_t *st, ngx_uint_t state, double now);
static void ngx_http_rtdash_states_sweep_locked(ngx_http_rtdash_ctx_t *ctx,
    double now);
static ngx_http_rtdash_rule_t *ngx_http_rtdash_rule_by_id(
    ngx_http_rtdash_ctx_t *ctx, uint32_t id);


/*
 * At postconfiguration, after the rules were checked: each zone gets the
 * list of its own rules
 */

ngx_int_t
ngx_http_rtdash_eval_init(ngx_conf_t *cf)
{
    ngx_uint_t                       i, j, n;
    ngx_http_rtdash_ctx_t          **ctxp, *ctx;
    ngx_http_rtdash_rule_t          *rules;
    ngx_http_rtdash_main_conf_t     *rmcf;
    ngx_http_rtdash_anomaly_conf_t  *an;

    rmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_rtdash_module);

    ctxp = rmcf->zones.elts;
    rules = rmcf->rules.elts;
    an = rmcf->anomalies.elts;

    for (i = 0; i < rmcf->zones.nelts; i++) {
        ctx = ctxp[i];
        n = 0;
        ctx->anomaly = NULL;

        for (j = 0; j < rmcf->anomalies.nelts; j++) {
            if (an[j].zone->data == ctx) {
                ctx->anomaly = &an[j];
            }
        }

        for (j = 0; j < rmcf->rules.nelts; j++) {
            if (rules[j].zone->data == ctx) {
                n++;
            }
        }

        ctx->nrules = 0;
        ctx->rules = NULL;

        if (n == 0) {
            continue;
        }

        ctx->rules = ngx_palloc(cf->pool, n * sizeof(ngx_http_rtdash_rule_t *));
        if (ctx->rules == NULL) {
            return NGX_ERROR;
        }

        for (j = 0; j < rmcf->rules.nelts; j++) {
            if (rules[j].zone->data == ctx) {
                ctx->rules[ctx->nrules++] = &rules[j];
            }
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_rtdash_eval_init_process(ngx_cycle_t *cycle,
    ngx_http_rtdash_ctx_t *ctx)
{
    ngx_uint_t               i, minutes;
    ngx_http_rtdash_rule_t  *rule;
    ngx_http_rtdash_eval_t  *ev;

    if (ctx->nrules == 0 && ctx->anomaly == NULL) {
        return NGX_OK;
    }

    ev = ngx_pcalloc(cycle->pool, sizeof(ngx_http_rtdash_eval_t));
    if (ev == NULL) {
        return NGX_ERROR;
    }

    ev->minute = ngx_palloc(cycle->pool, ctx->layout.min_size);
    if (ev->minute == NULL) {
        return NGX_ERROR;
    }

    if (ctx->anomaly) {
        ev->scored = ngx_pcalloc(cycle->pool,
                         ctx->sh->nslots * sizeof(ngx_http_rtdash_scored_t));
        if (ev->scored == NULL) {
            return NGX_ERROR;
        }
    }

    ev->cwin = ngx_palloc(cycle->pool,
                          ngx_max(ctx->nrules, 1)
                          * sizeof(ngx_http_rtdash_cwin_t));
    if (ev->cwin == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < ctx->nrules; i++) {
        rule = ctx->rules[i];

        if (ngx_http_rtdash_count_metric(rule->metric)
            && ngx_http_rtdash_cwin_index(ev, rule->window) < 0)
        {
            ev->cwin[ev->ncwin].window = rule->window;
            ev->cwin[ev->ncwin].gen = 0;
            ev->ncwin++;
        }

        if (ngx_http_rtdash_value_metric(rule->metric)) {
            ev->ncached++;
            minutes = ngx_max(rule->window / 60, 1);
            ev->nmins = ngx_max(ev->nmins, minutes);
        }
    }

    if (ev->nmins) {
        ev->mins = ngx_palloc(cycle->pool, ev->nmins * ctx->layout.min_size);
        ev->mgen = ngx_pcalloc(cycle->pool, ev->nmins * sizeof(uint64_t));
        ev->mhas = ngx_pcalloc(cycle->pool, ev->nmins);

        if (ev->mins == NULL || ev->mgen == NULL || ev->mhas == NULL) {
            return NGX_ERROR;
        }
    }

    /* gen 0 is no tool's */
    ev->gen = 1;

    if (ev->ncached) {
        ev->cache = ngx_pcalloc(cycle->pool, ctx->sh->nslots * ev->ncached
                                         * sizeof(ngx_http_rtdash_vcache_t));
        if (ev->cache == NULL) {
            return NGX_ERROR;
        }
    }

    ev->ctx = ctx;
    ev->timer.handler = ngx_http_rtdash_eval_timer;
    ev->timer.data = ev;
    ev->timer.log = cycle->log;
    ev->timer.cancelable = 1;

    ngx_add_timer(&ev->timer, 10 + ngx_random() % 100);

    return NGX_OK;
}


static void
ngx_http_rtdash_eval_timer(ngx_event_t *timer)
{
    ngx_http_rtdash_eval_t *ev = timer->data;

    double  now;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        ngx_http_rtdash_watch_release(ev->ctx);
        return;
    }

    now = ngx_http_rtdash_now();

    if (ngx_http_rtdash_watch_lease(ev->ctx, now) == NGX_OK) {
        ngx_http_rtdash_eval_zone(ev, now);
    }

    ngx_add_timer(timer, NGX_HTTP_RTDASH_EVAL_INTERVAL);
}


/* one evaluation: every tool, one lock each, then the states' sweep */

static void
ngx_http_rtdash_eval_zone(ngx_http_rtdash_eval_t *ev, double now)
{
    ngx_uint_t                i, k, c;
    ngx_queue_t              *q;
    ngx_http_rtdash_rule_t   *rule;
    ngx_http_rtdash_node_t   *node;
    ngx_http_rtdash_ctx_t    *ctx;
    ngx_http_rtdash_erule_t   er[NGX_HTTP_RTDASH_RULES_MAX];
    ngx_http_rtdash_shctx_t  *sh;

    ctx = ev->ctx;
    sh = ctx->sh;

    ngx_http_rtdash_lock(ctx);

    for (i = 0, c = 0; i < ctx->nrules && i < NGX_HTTP_RTDASH_RULES_MAX; i++) {
        rule = ctx->rules[i];
        er[i].rule = rule;
        er[i].type = -1;
        er[i].known = 0;
        er[i].cached = ngx_http_rtdash_value_metric(rule->metric)
                       ? (ngx_int_t) c++ : -1;
        er[i].counts = ngx_http_rtdash_count_metric(rule->metric)
                       ? ngx_http_rtdash_cwin_index(ev, rule->window) : -1;

        if (rule->type.len == 0) {
            continue;
        }

        for (k = 0; k < sh->ntypes; k++) {
            if (sh->types[k].len == rule->type.len
                && ngx_memcmp(sh->types[k].name, rule->type.data,
                              rule->type.len)
                   == 0)
            {
                er[i].type = k;
                er[i].known = 1;
                break;
            }
        }
    }

    q = ngx_queue_head(&sh->tools);

    ngx_http_rtdash_unlock(ctx);

    for ( ;; ) {
        ngx_http_rtdash_lock(ctx);

        if (q == ngx_queue_sentinel(&sh->tools)) {
            break;
        }

        node = ngx_queue_data(q, ngx_http_rtdash_node_t, queue);
        q = ngx_queue_next(q);

        ngx_http_rtdash_eval_tool_locked(ev, er, i, node, now);

        ngx_http_rtdash_unlock(ctx);
    }

    ngx_http_rtdash_states_sweep_locked(ctx, now);
    sh->watch->evaluations++;
    sh->watch->eval_last = now;

    ngx_http_rtdash_unlock(ctx);
}


static void
ngx_http_rtdash_eval_tool_locked(ngx_http_rtdash_eval_t *ev,
    ngx_http_rtdash_erule_t *er, ngx_uint_t n, ngx_http_rtdash_node_t *node,
    double now)
{
    double                     v;
    ngx_uint_t                 i, holds;
    ngx_http_rtdash_ctx_t     *ctx;
    ngx_http_rtdash_rule_t    *rule;
    ngx_http_rtdash_scored_t  *sc;
    ngx_http_rtdash_astate_t  *st;

    ctx = ev->ctx;

    /* what this tool's rules read is read anew */
    ev->gen++;

    if (ctx->anomaly && node->slot < ctx->sh->nslots) {
        sc = &ev->scored[node->slot];

        if (sc->born != node->born) {
            sc->born = node->born;
            sc->minute = 0;
        }

        ngx_http_rtdash_anomaly_tool_locked(ctx, node, ev->minute,
                                            &sc->minute, now);
    }

    for (i = 0; i < n; i++) {
        rule = er[i].rule;

        if (!ngx_http_rtdash_rule_applies(rule, node)) {
            continue;
        }

        v = ngx_http_rtdash_metric_locked(ev, &er[i], node, (time_t) now);

        if (rule->metric == NGX_HTTP_RTDASH_M_ABSENT) {
            holds = (v == 0);

        } else {
            holds = (v == v) && ngx_http_rtdash_compare(rule->op, v,
                                                        rule->threshold);
        }

        st = ngx_http_rtdash_state_find_locked(ctx, rule->id, node);

        if (st) {
            st->value = v;
        }

        if (holds) {
            if (st == NULL) {
                st = ngx_http_rtdash_state_add_locked(ctx, rule->id, node);
                if (st == NULL) {
                    continue;
                }

                st->state = NGX_HTTP_RTDASH_INACTIVE;
                st->value = v;
            }

            if (st->state == NGX_HTTP_RTDASH_INACTIVE
                || st->state == NGX_HTTP_RTDASH_RESOLVED)
            {
                ngx_http_rtdash_transition_locked(ctx, rule, node, st,
                                                  rule->hold
                                                  ? NGX_HTTP_RTDASH_PENDING
                                                  : NGX_HTTP_RTDASH_FIRING,
                                                  now);

            } else if (st->state == NGX_HTTP_RTDASH_PENDING
                       && now - st->since >= (double) rule->hold)
            {
                ngx_http_rtdash_transition_locked(ctx, rule, node, st,
                                                  NGX_HTTP_RTDASH_FIRING,
                                                  now);
            }

            continue;
        }

        if (st == NULL) {
            continue;
        }

        if (st->state == NGX_HTTP_RTDASH_PENDING) {
            ngx_http_rtdash_transition_locked(ctx, rule, node, st,
                                              NGX_HTTP_RTDASH_INACTIVE, now);
            ngx_http_rtdash_state_remove_locked(ctx, st);

        } else if (st->state == NGX_HTTP_RTDASH_FIRING) {
            ngx_http_rtdash_transition_locked(ctx, rule, node, st,
                                              NGX_HTTP_RTDASH_RESOLVED, now);
        }
    }
}


static ngx_uint_t
ngx_http_rtdash_rule_applies(ngx_http_rtdash_rule_t *rule,
    ngx_http_rtdash_node_t *node)
{
    if (rule->prefix && rule->tool.len == 0) {
        return 1;
    }

    if (rule->prefix) {
        return node->name_len >= rule->tool.len
               && ngx_memcmp(node->name, rule->tool.data, rule->tool.len)
                  == 0;
    }

    return node->name_len == rule->tool.len
           && ngx_memcmp(node->name, rule->tool.data, rule->tool.len) == 0;
}


/* the rule's metric for the tool now; NaN: none (no events, no gauge) */

static double
ngx_http_rtdash_metric_locked(ngx_http_rtdash_eval_t *ev,
    ngx_http_rtdash_erule_t *er, ngx_http_rtdash_node_t *node, time_t now)
{
    double                     a, b;
    uint64_t                   count, flagged, all;
    ngx_http_rtdash_ctx_t     *ctx;
    ngx_http_rtdash_rule_t    *rule;
    ngx_http_rtdash_vcache_t  *vc;

    ctx = ev->ctx;
    rule = er->rule;

    switch (rule->metric) {

    case NGX_HTTP_RTDASH_M_RATE:
    case NGX_HTTP_RTDASH_M_COUNT:
    case NGX_HTTP_RTDASH_M_FLAGGED:
    case NGX_HTTP_RTDASH_M_SHARE:
    case NGX_HTTP_RTDASH_M_ABSENT:

        ngx_http_rtdash_counts_locked(ev, er, node, now, &count, &flagged,
                                      &all);

        switch (rule->metric) {
        case NGX_HTTP_RTDASH_M_RATE:
            return (double) count * 60 / (double) rule->window;
        case NGX_HTTP_RTDASH_M_COUNT:
        case NGX_HTTP_RTDASH_M_ABSENT:
            return (double) count;
        case NGX_HTTP_RTDASH_M_FLAGGED:
            return count ? (double) flagged / (double) count : NAN;
        default:
            return all ? (double) count / (double) all : NAN;
        }

    case NGX_HTTP_RTDASH_M_GAUGE:
        return ngx_http_rtdash_gauge_value(ctx, node, &rule->gauge);

    case NGX_HTTP_RTDASH_M_RATIO:
        a = ngx_http_rtdash_gauge_value(ctx, node, &rule->gauge);
        b = ngx_http_rtdash_gauge_value(ctx, node, &rule->gauge2);
        return (b != 0 && a == a && b == b) ? a / b : NAN;

    case NGX_HTTP_RTDASH_M_ANOMALY_RATE:
        if (rule->type.len && !er->known) {
            return 0;
        }

        return ngx_http_rtdash_anomaly_value_locked(ctx, node, er->type, 0,
                                                    (double) now);

    case NGX_HTTP_RTDASH_M_ANOMALY_P95:
        return ngx_http_rtdash_anomaly_value_locked(ctx, node, -1, 1,
                                                    (double) now);

    default:
        if (er->cached < 0 || node->slot >= ctx->sh->nslots) {
            return ngx_http_rtdash_values_locked(ev, node, rule->metric, now,
                                                 rule->window);
        }

        vc = &ev->cache[node->slot * ev->ncached + er->cached];

        if (vc->seq != node->seq || vc->minute != now - now % 60) {
            vc->seq = node->seq;
            vc->minute = now - now % 60;
            vc->value = ngx_http_rtdash_values_locked(ev, node, rule->metric,
                                                      now, rule->window);
        }

        return vc->value;
    }
}


/*
 * The tool's last write is older than the window: an event's "ts" is at
 * most NGX_HTTP_RTDASH_TS_AHEAD seconds after the time it was written
 */

static ngx_inline ngx_uint_t
ngx_http_rtdash_quiet(ngx_http_rtdash_node_t *node, time_t now,
    ngx_uint_t window)
{
    return node->updated + NGX_HTTP_RTDASH_TS_AHEAD + 1
           < (double) now - (double) window;
}


static ngx_int_t
ngx_http_rtdash_cwin_index(ngx_http_rtdash_eval_t *ev, ngx_uint_t window)
{
    ngx_uint_t  i;

    for (i = 0; i < ev->ncwin; i++) {
        if (ev->cwin[i].window == window) {
            return i;
        }
    }

    return -1;
}


/*
 * The rule's events in its window: of its type (of every type without
 * one; none of a type the zone never saw), the flagged of them, and *all
 * of every type.  The window's counts of every type are summed once per
 * tool and evaluation, for every rule of that window.
 */

static void
ngx_http_rtdash_counts_locked(ngx_http_rtdash_eval_t *ev,
    ngx_http_rtdash_erule_t *er, ngx_http_rtdash_node_t *node, time_t now,
    uint64_t *count, uint64_t *flagged, uint64_t *all)
{
    int64_t                  c, f, a;
    ngx_uint_t               k, ntypes;
    ngx_http_rtdash_cwin_t  *cw;

    *count = 0;
    *flagged = 0;
    *all = 0;

    /* nothing written since before the window: none of it in the window */

    if (er->counts < 0
        || ngx_http_rtdash_quiet(node, now, er->rule->window))
    {
        return;
    }

    cw = &ev->cwin[er->counts];

    if (cw->gen != ev->gen) {
        cw->gen = ev->gen;
        ngx_http_rtdash_window_sum_locked(ev->ctx, node, now, cw);
    }

    ntypes = ev->ctx->ntypes;
    c = 0;
    f = 0;
    a = 0;

    for (k = 0; k < ntypes; k++) {
        a += ngx_max(cw->count[k], 0);
        f += ngx_max(cw->flagged[k], 0);
    }

    if (er->type >= 0) {
        c = ngx_max(cw->count[er->type], 0);
        f = ngx_max(cw->flagged[er->type], 0);

    } else if (er->rule->type.len == 0) {
        c = a;

    } else {
        /* a type the zone never saw */
        f = 0;
    }

    *count = (uint64_t) c;
    *flagged = (uint64_t) f;
    *all = (uint64_t) a;
}


/*
 * The events of every type in the window: up to 300 s the last "window"
 * seconds, else the current minute and the window's whole minutes before
 * it but one
 */

static void
ngx_http_rtdash_window_sum_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, time_t now, ngx_http_rtdash_cwin_t *cw)
{
    time_t                   t, from, m0, end;
    ngx_uint_t               window;
    ngx_http_rtdash_sum_t    sum;
    ngx_http_rtdash_mrec_t  *m;

    window = cw->window;

    if (window <= NGX_HTTP_RTDASH_SECONDS) {
        from = now - (time_t) window + 1;

    } else {
        from = now - now % 60 - (time_t) (window / 60 - 1) * 60;
    }

    ngx_memzero(cw->count, ctx->ntypes * sizeof(int64_t));
    ngx_memzero(cw->flagged, ctx->ntypes * sizeof(int64_t));

    sum.ctx = ctx;
    sum.count = cw->count;
    sum.flagged = cw->flagged;

    /*
     * The seconds up to the first whole minute, or, when they are more
     * than the seconds of their minute before the window, that minute
     * less those; then
     * whole minutes: the same counts from far fewer buckets
     */

    t = from;

    if (from % 60) {
        m0 = from - from % 60;
        end = ngx_min(m0 + 59, now);
        m = ngx_http_rtdash_minute_slot(ctx, node, m0);

        if (from % 60 < end - from + 1 && m && m->t == (uint32_t) m0) {
            ngx_http_rtdash_sum_add(&sum, ngx_http_rtdash_mrec_counts(m),
                                    ngx_http_rtdash_mrec_flagged(ctx, m), 1);
            ngx_http_rtdash_sum_seconds(&sum, node, m0, from - 1, -1);

        } else {
            ngx_http_rtdash_sum_seconds(&sum, node, from, end, 1);
        }

        t = m0 + 60;
    }

    for ( /* void */ ; t <= now; t += 60) {
        m = ngx_http_rtdash_minute_slot(ctx, node, t);

        if (m && m->t == (uint32_t) t) {
            ngx_http_rtdash_sum_add(&sum, ngx_http_rtdash_mrec_counts(m),
                                    ngx_http_rtdash_mrec_flagged(ctx, m), 1);
        }
    }
}


static void
ngx_http_rtdash_sum_seconds(ngx_http_rtdash_sum_t *sum,
    ngx_http_rtdash_node_t *node, time_t from, time_t to, ngx_int_t sign)
{
    time_t     t;
    uint32_t  *sec;

    for (t = from; t <= to; t++) {
        sec = ngx_http_rtdash_second_slot(sum->ctx, node, t);

        if (sec && (time_t) sec[0] == t) {
            ngx_http_rtdash_sum_add(sum, ngx_http_rtdash_second_counts(sec),
                               ngx_http_rtdash_second_flagged(sum->ctx, sec),
                               sign);
        }
    }
}


static void
ngx_http_rtdash_sum_add(ngx_http_rtdash_sum_t *sum, uint32_t *cnt,
    uint32_t *flg, ngx_int_t sign)
{
    ngx_uint_t  k;

    for (k = 0; k < sum->ctx->ntypes; k++) {
        sum->count[k] += sign * (int64_t) cnt[k];
        sum->flagged[k] += sign * (int64_t) flg[k];
    }
}


/*
 * A minute of the tool for its value rules, read once per evaluation of
 * the tool; NULL: the tool has no bucket of that minute
 */

static ngx_http_rtdash_minute_t *
ngx_http_rtdash_eval_minute_locked(ngx_http_rtdash_eval_t *ev,
    ngx_http_rtdash_node_t *node, time_t t, time_t now)
{
    ngx_uint_t                 k;
    ngx_http_rtdash_minute_t  *m;

    k = (ngx_uint_t) ((now - now % 60 - t) / 60);

    if (k >= ev->nmins) {
        /* not a window of the rules (cannot be): read it alone */
        m = ev->minute;
        return ngx_http_rtdash_minute_read_locked(ev->ctx, node, t, m)
               ? m : NULL;
    }

    m = (ngx_http_rtdash_minute_t *)
            (ev->mins + k * ev->ctx->layout.min_size);

    if (ev->mgen[k] != ev->gen) {
        ev->mgen[k] = ev->gen;
        ev->mhas[k] = (u_char) ngx_http_rtdash_minute_read_locked(ev->ctx,
                                                                  node, t, m);
    }

    return ev->mhas[k] ? m : NULL;
}


/* users, avg, p50, p95, p99, max of the window's minutes */

static double
ngx_http_rtdash_values_locked(ngx_http_rtdash_eval_t *ev,
    ngx_http_rtdash_node_t *node, ngx_http_rtdash_metric_e metric,
    time_t now, ngx_uint_t window)
{
    double                     q, v, sum, max;
    time_t                     t, from;
    uint64_t                   count;
    ngx_uint_t                 minutes;
    ngx_http_rtdash_minute_t  *one;
    ngx_http_rtdash_vstat_t    merged;
    ngx_http_rtdash_hwide_t    users;

    if (ngx_http_rtdash_quiet(node, now, window + 60)) {
        return (metric == NGX_HTTP_RTDASH_M_USERS) ? 0 : NAN;
    }

    from = now - now % 60 - (time_t) (window / 60 - 1) * 60;
    count = 0;
    sum = 0;
    max = -INFINITY;

    minutes = 0;

    if (metric == NGX_HTTP_RTDASH_M_USERS) {
        ngx_http_rtdash_hwide_init(&users);
    }

    for (t = from; t <= now; t += 60) {
        one = ngx_http_rtdash_eval_minute_locked(ev, node, t, now);
        if (one == NULL) {
            continue;
        }

        if (metric == NGX_HTTP_RTDASH_M_USERS) {
            ngx_http_rtdash_hwide_add(&users, &one->users);
            count++;
            continue;
        }

        if (one->value.count == 0) {
            continue;
        }

        count += one->value.count;
        sum += one->value.sum;
        max = ngx_max(max, one->value.max);

        if (metric < NGX_HTTP_RTDASH_M_P50 || metric > NGX_HTTP_RTDASH_M_P99) {
            continue;
        }

        /* the minutes' histograms merged into one of the same kind */

        if (minutes++ == 0) {
            merged = one->value;

        } else {
            ngx_http_rtdash_vstat_merge(&merged, &one->value);
        }
    }

    switch (metric) {

    case NGX_HTTP_RTDASH_M_USERS:
        return (double) ngx_http_rtdash_hwide_estimate(&users);

    case NGX_HTTP_RTDASH_M_AVG:
        return count ? sum / (double) count : NAN;

    case NGX_HTTP_RTDASH_M_MAX:
        return count ? max : NAN;

    default:
        if (count == 0) {
            return NAN;
        }

        q = (metric == NGX_HTTP_RTDASH_M_P50) ? 0.5
            : (metric == NGX_HTTP_RTDASH_M_P95) ? 0.95 : 0.99;

        ngx_http_rtdash_vstat_quantiles(&merged, &q, &v, 1);

        return v;
    }
}


static double
ngx_http_rtdash_gauge_value(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, ngx_str_t *name)
{
    ngx_uint_t                i;
    ngx_http_rtdash_gauge_t  *g;

    g = ngx_http_rtdash_node_gauges(ctx, node);

    /* a sum of that name is not a gauge: absent, as any other name */

    for (i = 0; i < node->ngauges; i++) {
        if (g[i].kind == NGX_HTTP_RTDASH_GAUGE
            && g[i].len == name->len
            && ngx_memcmp(g[i].name, name->data, name->len) == 0)
        {
            return g[i].value;
        }
    }

    return NAN;
}


static ngx_uint_t
ngx_http_rtdash_compare(ngx_http_rtdash_op_e op, double v, double threshold)
{
    switch (op) {
    case NGX_HTTP_RTDASH_GT:
        return v > threshold;
    case NGX_HTTP_RTDASH_GE:
        return v >= threshold;
    case NGX_HTTP_RTDASH_LT:
        return v < threshold;
    case NGX_HTTP_RTDASH_LE:
        return v <= threshold;
    case NGX_HTTP_RTDASH_EQ:
        return v == threshold;
    default:
        return v != threshold;
    }
}


/* a state moves: the transition goes to the ring with the zone's seq */

static void
ngx_http_rtdash_transition_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_rule_t *rule, ngx_http_rtdash_node_t *node,
    ngx_http_rtdash_astate_t *st, ngx_uint_t state, double now)
{
    ngx_http_rtdash_witem_t  *it;

    ctx->sh->watch->entered[state]++;

    it = ngx_http_rtdash_watch_push_locked(ctx, NGX_HTTP_RTDASH_WATCH_ALERT,
                                           now);
    if (it) {
        it->from = st->state;
        it->state = (u_char) state;
        it->level = (u_char) rule->severity;
        it->metric = (u_char) rule->metric;
        it->op = (u_char) rule->op;
        it->threshold = rule->threshold;
        it->value = st->value;
        it->since = now;
        it->window = (uint32_t) rule->window;
        it->hold = (uint32_t) rule->hold;
        it->type_len = (u_char) ngx_min(rule->type.len,
                                        NGX_HTTP_RTDASH_TOKEN_MAX);
        if (it->type_len) {
            ngx_memcpy(it->type_name, rule->type.data, it->type_len);
        }
        ngx_http_rtdash_watch_text(ctx, it, rule->name.data, rule->name.len);
        ngx_http_rtdash_watch_tool(it, node->name, node->name_len);
    }

    st->state = (u_char) state;
    st->since = now;
}


/*
 * After the walk: states of tools that are gone (evicted) and of rules no
 * longer in nginx.conf are dropped, those of rules that no longer cover
 * the tool too, with a transition to "inactive" (a reload narrowed tool=),
 * resolved ones forgotten after a while; the counts of firing and
 * pending taken again
 */

static void
ngx_http_rtdash_states_sweep_locked(ngx_http_rtdash_ctx_t *ctx, double now)
{
    uint32_t                   i;
    ngx_uint_t                 again, narrowed;
    ngx_http_rtdash_rule_t    *rule;
    ngx_http_rtdash_node_t    *node;
    ngx_http_rtdash_watch_t   *w;
    ngx_http_rtdash_astate_t  *st;

    w = ctx->sh->watch;

    do {
        again = 0;

        for (i = 0; i < w->nstates; i++) {
            st = &w->states[i];

            if (st->rule == 0) {
                continue;
            }

            node = (st->slot < ctx->sh->nslots) ? ctx->sh->slots[st->slot]
                                                 : NULL;
            if (node && node->born != st->born) {
                node = NULL;
            }

            if (st->rule & NGX_HTTP_RTDASH_ANOMALY_KEY) {

                /* an anomaly of a minute before the last complete one */

                if (node == NULL
                    || st->since < now - fmod(now, 60) - 60)
                {
                    ngx_http_rtdash_state_remove_locked(ctx, st);
                    again = 1;
                }

                continue;
            }

            rule = ngx_http_rtdash_rule_by_id(ctx, st->rule);

            /* a reload may have narrowed the rule's tool= */

            narrowed = (rule && node
                        && !ngx_http_rtdash_rule_applies(rule, node));

            if (node == NULL || rule == NULL || narrowed
                || (st->state == NGX_HTTP_RTDASH_RESOLVED
                    && now - st->since >= NGX_HTTP_RTDASH_RESOLVED_KEEP))
            {
                if (narrowed && st->state != NGX_HTTP_RTDASH_RESOLVED) {
                    ngx_http_rtdash_transition_locked(ctx, rule, node, st,
                                                      NGX_HTTP_RTDASH_INACTIVE,
                                                      now);
                }

                /* the removal may move a later state into this slot */

                ngx_http_rtdash_state_remove_locked(ctx, st);
                again = 1;
            }
        }

    } while (again);

    w->firing = 0;
    w->pending = 0;

    for (i = 0; i < w->nstates; i++) {
        st = &w->states[i];

        if (st->rule == 0 || (st->rule & NGX_HTTP_RTDASH_ANOMALY_KEY)) {
            continue;
        }

        if (st->state == NGX_HTTP_RTDASH_FIRING) {
            w->firing++;

        } else if (st->state == NGX_HTTP_RTDASH_PENDING) {
            w->pending++;
        }
    }
}


static ngx_http_rtdash_rule_t *
ngx_http_rtdash_rule_by_id(ngx_http_rtdash_ctx_t *ctx, uint32_t id)
{
    ngx_uint_t  i;

    for (i = 0; i < ctx->nrules; i++) {
        if (ctx->rules[i]->id == id) {
            return ctx->rules[i];
        }
    }

    return NULL;
}


/*
 * A copy of the alert states for a reader: the firing ones (all 0) or
 * every state not inactive, of the filter's tools (NULL: all)
 */

ngx_int_t
ngx_http_rtdash_alerts_copy(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_filter_t *f, ngx_pool_t *pool, ngx_uint_t all,
    ngx_http_rtdash_acopy_t **out, ngx_uint_t *nout)
{
    uint32_t                   i;
    ngx_uint_t                 n, max;
    ngx_http_rtdash_node_t    *node;
    ngx_http_rtdash_watch_t   *w;
    ngx_http_rtdash_acopy_t   *copy, *a;
    ngx_http_rtdash_astate_t  *st;

    w = ctx->sh->watch;
    n = 0;

    *out = NULL;
    *nout = 0;

    /*
     * Room for the states the table holds now, read without the lock (a
     * few may come meanwhile: they wait for the next reader)
     */

    max = w->used;

    if (ctx->nrules == 0 || max == 0) {
        return NGX_OK;
    }

    copy = ngx_palloc(pool, max * sizeof(ngx_http_rtdash_acopy_t));
    if (copy == NULL) {
        return NGX_ERROR;
    }

    ngx_http_rtdash_lock(ctx);

    for (i = 0; i < w->nstates && n < max; i++) {
        st = &w->states[i];

        if (st->rule == 0 || (st->rule & NGX_HTTP_RTDASH_ANOMALY_KEY)
            || (!all && st->state != NGX_HTTP_RTDASH_FIRING)
            || st->slot >= ctx->sh->nslots)
        {
            continue;
        }

        node = ctx->sh->slots[st->slot];

        if (node == NULL || node->born != st->born) {
            continue;
        }

        if (!ngx_http_rtdash_filter_has(f, node->name, node->name_len)) {
            continue;
        }

        a = &copy[n];
        a->rule = ngx_http_rtdash_rule_by_id(ctx, st->rule);

        if (a->rule == NULL) {
            continue;
        }

        a->state = st->state;
        a->since = st->since;
        a->value = st->value;
        a->tool_len = node->name_len;
        ngx_memcpy(a->tool, node->name, node->name_len);
        n++;
    }

    ngx_http_rtdash_unlock(ctx);

    *out = copy;
    *nout = n;

    return NGX_OK;
}
