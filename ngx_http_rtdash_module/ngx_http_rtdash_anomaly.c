
/*
 * rtdash: anomalies (rtdash_anomaly).  Once a minute has ended, the
 * evaluator scores it for every tool: per type, the minute's count
 * against the EWMA of mean and variance of the counts of the after=
 * minutes before it (a minute without events counts 0), and the
 * minute's value p95 against those of the minutes before it that had
 * values.  A score |z| of at least z= is an anomaly: an item in the
 * zone's ring of anomalies (the stream sends it as "event: anomaly") and
 * a state of the tool in the state table under a key of its own, which
 * dedupes it between workers and gives anomaly:rate and anomaly:p95 of
 * the alert rules their value.
 *
 * A tool is scored once per minute, by whichever worker evaluates then,
 * at the first evaluation after the minute ended or after the tool
 * appeared; a tool must hold after= minutes of history before the one
 * scored.
 */


#include "ngx_http_rtdash_module.h"

#include <math.h>


#define NGX_HTTP_RTDASH_SCORE_VALUES  5     /* minutes with values, least */


typedef struct {
    double                      mean;
    double                      var;
    ngx_uint_t                  n;
} ngx_http_rtdash_ewma_t;


static void ngx_http_rtdash_ewma_add(ngx_http_rtdash_ewma_t *e, double x,
    double alpha);
static ngx_int_t ngx_http_rtdash_anomaly_history_locked(
    ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_node_t *node, time_t m);
static void ngx_http_rtdash_anomaly_rates_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, time_t m, double now);
static void ngx_http_rtdash_anomaly_p95_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, ngx_http_rtdash_minute_t *one, time_t m,
    double now);
static void ngx_http_rtdash_anomaly_score_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, ngx_uint_t type, ngx_uint_t metric,
    double x, ngx_http_rtdash_ewma_t *e, double floor, time_t m, double now);


/* the state table's key of a tool's anomaly of a type (or p95) */

uint32_t
ngx_http_rtdash_anomaly_key(ngx_uint_t type, ngx_uint_t p95)
{
    return NGX_HTTP_RTDASH_ANOMALY_KEY | (uint32_t) (type << 1)
           | (p95 ? 1 : 0);
}


/*
 * Score the tool's last complete minute if this worker did not yet;
 * *scored is the worker's memory of it (the minute's start)
 */

void
ngx_http_rtdash_anomaly_tool_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, ngx_http_rtdash_minute_t *one,
    time_t *scored, double now)
{
    time_t  m;

    m = (time_t) now - (time_t) now % 60 - 60;

    if (*scored == m) {
        return;
    }

    *scored = m;

    if (ngx_http_rtdash_anomaly_history_locked(ctx, node, m) != NGX_OK) {
        return;
    }

    ngx_http_rtdash_anomaly_rates_locked(ctx, node, m, now);
    ngx_http_rtdash_anomaly_p95_locked(ctx, node, one, m, now);
}


/* the tool has a minute at least after= minutes before m */

static ngx_int_t
ngx_http_rtdash_anomaly_history_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, time_t m)
{
    time_t                   t, oldest;
    ngx_http_rtdash_mrec_t  *r;

    oldest = m - (time_t) (ctx->nminutes - 2) * 60;

    for (t = oldest; t <= m - (time_t) ctx->anomaly->after * 60; t += 60) {
        r = ngx_http_rtdash_minute_slot(ctx, node, t);

        if (r && r->t == (uint32_t) t) {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


static void
ngx_http_rtdash_ewma_add(ngx_http_rtdash_ewma_t *e, double x, double alpha)
{
    double  diff, incr;

    if (e->n++ == 0) {
        e->mean = x;
        e->var = 0;
        return;
    }

    diff = x - e->mean;
    incr = alpha * diff;
    e->mean += incr;
    e->var = (1 - alpha) * (e->var + diff * incr);
}


static void
ngx_http_rtdash_anomaly_rates_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, time_t m, double now)
{
    time_t                   t;
    uint32_t                *cnt;
    ngx_uint_t               k, seen;
    ngx_http_rtdash_mrec_t  *r;
    ngx_http_rtdash_ewma_t   e[NGX_HTTP_RTDASH_TYPES_MAX];
    uint32_t                 last[NGX_HTTP_RTDASH_TYPES_MAX];

    ngx_memzero(e, sizeof(ngx_http_rtdash_ewma_t) * ctx->ntypes);
    ngx_memzero(last, sizeof(uint32_t) * ctx->ntypes);

    seen = 0;

    for (t = m - (time_t) ctx->anomaly->after * 60; t <= m; t += 60) {
        r = ngx_http_rtdash_minute_slot(ctx, node, t);
        cnt = (r && r->t == (uint32_t) t) ? ngx_http_rtdash_mrec_counts(r)
                                           : NULL;

        for (k = 0; k < ctx->ntypes; k++) {
            if (t == m) {
                last[k] = cnt ? cnt[k] : 0;
                continue;
            }

            if (cnt && cnt[k]) {
                seen |= (ngx_uint_t) 1 << k;
            }

            ngx_http_rtdash_ewma_add(&e[k], cnt ? (double) cnt[k] : 0,
                                     ctx->anomaly->alpha);
        }
    }

    for (k = 0; k < ctx->ntypes; k++) {
        if ((seen & ((ngx_uint_t) 1 << k)) || last[k]) {
            ngx_http_rtdash_anomaly_score_locked(ctx, node, k, 0,
                                                 (double) last[k], &e[k],
                                                 1.0, m, now);
        }
    }
}


static void
ngx_http_rtdash_anomaly_p95_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, ngx_http_rtdash_minute_t *one, time_t m,
    double now)
{
    double                  q, v, x;
    time_t                  t;
    ngx_http_rtdash_ewma_t  e;

    q = 0.95;
    x = NAN;
    ngx_memzero(&e, sizeof(ngx_http_rtdash_ewma_t));

    for (t = m - (time_t) ctx->anomaly->after * 60; t <= m; t += 60) {
        if (!ngx_http_rtdash_minute_read_locked(ctx, node, t, one)
            || one->value.count == 0)
        {
            continue;
        }

        ngx_http_rtdash_vstat_quantiles(&one->value, &q, &v, 1);

        if (t == m) {
            x = v;

        } else {
            ngx_http_rtdash_ewma_add(&e, v, ctx->anomaly->alpha);
        }
    }

    if (x == x && e.n >= NGX_HTTP_RTDASH_SCORE_VALUES) {
        ngx_http_rtdash_anomaly_score_locked(ctx, node,
                                             NGX_HTTP_RTDASH_NO_TYPE, 1, x,
                                             &e, 0.01 * fabs(e.mean) + 1e-9,
                                             m, now);
    }
}


/*
 * The minute's score against the baseline; an anomaly once per (tool,
 * type, minute), in the ring and the state table
 */

static void
ngx_http_rtdash_anomaly_score_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, ngx_uint_t type, ngx_uint_t metric,
    double x, ngx_http_rtdash_ewma_t *e, double floor, time_t m, double now)
{
    double                     sd, z;
    uint32_t                   key;
    ngx_http_rtdash_type_t    *tp;
    ngx_http_rtdash_witem_t   *it;
    ngx_http_rtdash_astate_t  *st;

    sd = ngx_max(sqrt(e->var), floor);
    z = (x - e->mean) / sd;

    key = ngx_http_rtdash_anomaly_key(type & 0x7f, metric);
    st = ngx_http_rtdash_state_find_locked(ctx, key, node);

    if (fabs(z) < ctx->anomaly->z) {
        if (st) {
            ngx_http_rtdash_state_remove_locked(ctx, st);
        }

        return;
    }

    if (st == NULL) {
        /* NULL: the table is full (alerts=): the anomaly is still told */
        st = ngx_http_rtdash_state_add_locked(ctx, key, node);

    } else if (st->since == (double) m) {
        /* another worker found it already */
        return;
    }

    if (st) {
        st->state = NGX_HTTP_RTDASH_FIRING;
        st->since = (double) m;
        st->value = z;
    }

    ctx->sh->watch->anomalies++;

    it = ngx_http_rtdash_watch_push_locked(ctx, NGX_HTTP_RTDASH_WATCH_ANOMALY,
                                           now);
    if (it == NULL) {
        return;
    }

    it->metric = metric ? NGX_HTTP_RTDASH_M_P95 : NGX_HTTP_RTDASH_M_RATE;
    it->value = x;
    it->threshold = e->mean;
    it->since = sd;
    it->z = z;
    it->minute = (uint32_t) m;

    if (type < ctx->sh->ntypes) {
        tp = &ctx->sh->types[type];
        it->type_len = tp->len;
        ngx_memcpy(it->type_name, tp->name, tp->len);
    }

    ngx_http_rtdash_watch_tool(it, node->name, node->name_len);
}


/*
 * The value of anomaly:rate (of a type) or anomaly:p95 for a rule: the
 * score of the last complete minute if it was an anomaly, else 0
 */

double
ngx_http_rtdash_anomaly_value_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, ngx_int_t type, ngx_uint_t p95, double now)
{
    double                     v;
    time_t                     m;
    ngx_uint_t                 k;
    ngx_http_rtdash_astate_t  *st;

    m = (time_t) now - (time_t) now % 60 - 60;

    if (!p95 && type < 0) {
        /* no type=: the type of the largest score */

        v = 0;

        for (k = 0; k < ctx->sh->ntypes; k++) {
            st = ngx_http_rtdash_state_find_locked(ctx,
                                     ngx_http_rtdash_anomaly_key(k, 0), node);

            if (st && st->since == (double) m && fabs(st->value) > fabs(v)) {
                v = st->value;
            }
        }

        return v;
    }

    st = ngx_http_rtdash_state_find_locked(ctx,
                                 ngx_http_rtdash_anomaly_key(p95 ? 0x7f : type,
                                                             p95),
                                 node);

    return (st && st->since == (double) m) ? st->value : 0;
}
