
/*
 * rtdash: what the watch area shows, as JSON.  An item of a ring (a
 * notice, an alert's transition, an anomaly) is one object; a stream
 * sends each as a message of its own (SSE "event: notice", or a
 * WebSocket text message) before the update of the same tick; stats and
 * snapshots carry them in arrays.
 */


#include "ngx_http_rtdash_module.h"


static const char  *ngx_http_rtdash_metric_names[] = {
    "rate", "count", "flagged", "share", "users", "avg", "p50", "p95",
    "p99", "max", "gauge", "ratio", "absent", "anomaly:rate", "anomaly:p95"
};

static const char  *ngx_http_rtdash_op_names[] = {
    ">", ">=", "<", "<=", "==", "!="
};

static const char  *ngx_http_rtdash_kind_names[] = {
    "notice", "alert", "anomaly"
};

/* what stats shows after the states, in this order */
static const ngx_uint_t  ngx_http_rtdash_stats_rings[] = {
    NGX_HTTP_RTDASH_WATCH_ALERT, NGX_HTTP_RTDASH_WATCH_NOTICE,
    NGX_HTTP_RTDASH_WATCH_ANOMALY
};

static const char  *ngx_http_rtdash_stats_keys[] = {
    ",\"transitions\":", "},\"notices\":", ",\"anomalies\":"
};


static void ngx_http_rtdash_witem_notice(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_witem_t *it);
static void ngx_http_rtdash_witem_alert(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_witem_t *it);
static void ngx_http_rtdash_witem_anomaly(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_witem_t *it);
static void ngx_http_rtdash_out_maybe(ngx_http_rtdash_out_t *o, double v);


const char *
ngx_http_rtdash_metric_name(ngx_uint_t metric)
{
    return ngx_http_rtdash_metric_names[metric < NGX_HTTP_RTDASH_M_METRICS
                                        ? metric : 0];
}


const char *
ngx_http_rtdash_op_name(ngx_uint_t op)
{
    return ngx_http_rtdash_op_names[op < NGX_HTTP_RTDASH_OPS ? op : 0];
}


const char *
ngx_http_rtdash_witem_event(ngx_http_rtdash_witem_t *it)
{
    return ngx_http_rtdash_kind_names[it->kind < NGX_HTTP_RTDASH_WATCH_RINGS
                                      ? it->kind : 0];
}


void
ngx_http_rtdash_witem_json(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_witem_t *it)
{
    ngx_http_rtdash_out_lit(o, "{\"seq\":");
    ngx_http_rtdash_out_uint(o, it->seq);
    ngx_http_rtdash_out_lit(o, ",\"t\":");
    ngx_http_rtdash_out_num(o, it->t);
    ngx_http_rtdash_out_lit(o, ",\"tool\":");

    if (it->tool_len) {
        ngx_http_rtdash_out_str(o, it->tool, it->tool_len);

    } else {
        ngx_http_rtdash_out_lit(o, "null");
    }

    switch (it->kind) {

    case NGX_HTTP_RTDASH_WATCH_NOTICE:
        ngx_http_rtdash_witem_notice(o, it);
        break;

    case NGX_HTTP_RTDASH_WATCH_ALERT:
        ngx_http_rtdash_witem_alert(o, it);
        break;

    default:
        ngx_http_rtdash_witem_anomaly(o, it);
        break;
    }

    ngx_http_rtdash_out_lit(o, "}");
}


static void
ngx_http_rtdash_witem_notice(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_witem_t *it)
{
    ngx_http_rtdash_out_lit(o, ",\"notice\":");
    ngx_http_rtdash_out_str(o, it->text, it->text_len);
    ngx_http_rtdash_out_lit(o, ",\"level\":\"");
    ngx_http_rtdash_out_raw(o, (u_char *) ngx_http_rtdash_level_name(
                                                                  it->level),
                            4);
    ngx_http_rtdash_out_lit(o, "\"");
}


static void
ngx_http_rtdash_witem_alert(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_witem_t *it)
{
    const char  *s;

    ngx_http_rtdash_out_lit(o, ",\"rule\":");
    ngx_http_rtdash_out_str(o, it->text, it->text_len);

    s = ngx_http_rtdash_state_name(it->state);
    ngx_http_rtdash_out_lit(o, ",\"state\":\"");
    ngx_http_rtdash_out_raw(o, (u_char *) s, ngx_strlen(s));
    s = ngx_http_rtdash_state_name(it->from);
    ngx_http_rtdash_out_lit(o, "\",\"from\":\"");
    ngx_http_rtdash_out_raw(o, (u_char *) s, ngx_strlen(s));
    ngx_http_rtdash_out_lit(o, "\",\"severity\":\"");
    ngx_http_rtdash_out_raw(o, (u_char *) ngx_http_rtdash_level_name(
                                                                  it->level),
                            4);
    s = ngx_http_rtdash_metric_name(it->metric);
    ngx_http_rtdash_out_lit(o, "\",\"metric\":\"");
    ngx_http_rtdash_out_raw(o, (u_char *) s, ngx_strlen(s));
    ngx_http_rtdash_out_lit(o, "\"");

    if (it->type_len) {
        ngx_http_rtdash_out_lit(o, ",\"type\":");
        ngx_http_rtdash_out_str(o, it->type_name, it->type_len);
    }

    if (it->metric != NGX_HTTP_RTDASH_M_ABSENT) {
        s = ngx_http_rtdash_op_name(it->op);
        ngx_http_rtdash_out_lit(o, ",\"op\":\"");
        ngx_http_rtdash_out_raw(o, (u_char *) s, ngx_strlen(s));
        ngx_http_rtdash_out_lit(o, "\",\"threshold\":");
        ngx_http_rtdash_out_maybe(o, it->threshold);
    }

    ngx_http_rtdash_out_lit(o, ",\"value\":");
    ngx_http_rtdash_out_maybe(o, it->value);
    ngx_http_rtdash_out_lit(o, ",\"since\":");
    ngx_http_rtdash_out_num(o, it->since);
    ngx_http_rtdash_out_lit(o, ",\"window\":");
    ngx_http_rtdash_out_uint(o, it->window);
    ngx_http_rtdash_out_lit(o, ",\"for\":");
    ngx_http_rtdash_out_uint(o, it->hold);
}


static void
ngx_http_rtdash_witem_anomaly(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_witem_t *it)
{
    const char  *s;

    ngx_http_rtdash_out_lit(o, ",\"type\":");

    if (it->type_len) {
        ngx_http_rtdash_out_str(o, it->type_name, it->type_len);

    } else {
        ngx_http_rtdash_out_lit(o, "null");
    }

    s = ngx_http_rtdash_metric_name(it->metric);
    ngx_http_rtdash_out_lit(o, ",\"metric\":\"");
    ngx_http_rtdash_out_raw(o, (u_char *) s, ngx_strlen(s));
    ngx_http_rtdash_out_lit(o, "\",\"minute\":");
    ngx_http_rtdash_out_uint(o, it->minute);
    ngx_http_rtdash_out_lit(o, ",\"value\":");
    ngx_http_rtdash_out_maybe(o, it->value);
    ngx_http_rtdash_out_lit(o, ",\"mean\":");
    ngx_http_rtdash_out_maybe(o, it->threshold);
    ngx_http_rtdash_out_lit(o, ",\"sd\":");
    ngx_http_rtdash_out_maybe(o, it->since);
    ngx_http_rtdash_out_lit(o, ",\"score\":");
    ngx_http_rtdash_out_maybe(o, it->z);
}


/* a number, or null for none (NaN) */

static void
ngx_http_rtdash_out_maybe(ngx_http_rtdash_out_t *o, double v)
{
    if (v != v) {
        ngx_http_rtdash_out_lit(o, "null");
        return;
    }

    ngx_http_rtdash_out_num_g(o, v, 6);
}


/* the items of one ring since a seq as a JSON array */

void
ngx_http_rtdash_witems_json(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_witems_t *w, ngx_http_rtdash_filter_t *f)
{
    ngx_uint_t                i, n;
    ngx_http_rtdash_witem_t  *it;

    ngx_http_rtdash_out_lit(o, "[");

    for (i = 0, n = 0; i < w->n; i++) {
        it = (ngx_http_rtdash_witem_t *) ((u_char *) w->items
                                          + i * w->item_size);

        if (it->tool_len
            && !ngx_http_rtdash_filter_has(f, it->tool, it->tool_len))
        {
            continue;
        }

        if (n++) {
            ngx_http_rtdash_out_lit(o, ",");
        }

        ngx_http_rtdash_witem_json(o, it);
    }

    ngx_http_rtdash_out_lit(o, "]");
}


/* the alert states for a reader (ngx_http_rtdash_alerts_copy()) */

ngx_int_t
ngx_http_rtdash_alerts_json(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_filter_t *f,
    ngx_pool_t *pool, ngx_uint_t all)
{
    ngx_uint_t                n, k;
    const char               *s;
    ngx_http_rtdash_acopy_t  *copy, *a;

    if (ngx_http_rtdash_alerts_copy(ctx, f, pool, all, &copy, &n) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_rtdash_out_lit(o, "[");

    for (k = 0; k < n; k++) {
        a = &copy[k];

        if (k) {
            ngx_http_rtdash_out_lit(o, ",");
        }

        ngx_http_rtdash_out_lit(o, "{\"rule\":");
        ngx_http_rtdash_out_str(o, a->rule->name.data, a->rule->name.len);
        ngx_http_rtdash_out_lit(o, ",\"tool\":");
        ngx_http_rtdash_out_str(o, a->tool, a->tool_len);
        s = ngx_http_rtdash_state_name(a->state);
        ngx_http_rtdash_out_lit(o, ",\"state\":\"");
        ngx_http_rtdash_out_raw(o, (u_char *) s, ngx_strlen(s));
        ngx_http_rtdash_out_lit(o, "\",\"severity\":\"");
        ngx_http_rtdash_out_raw(o, (u_char *) ngx_http_rtdash_level_name(
                                                      a->rule->severity), 4);
        s = ngx_http_rtdash_metric_name(a->rule->metric);
        ngx_http_rtdash_out_lit(o, "\",\"metric\":\"");
        ngx_http_rtdash_out_raw(o, (u_char *) s, ngx_strlen(s));
        ngx_http_rtdash_out_lit(o, "\",\"value\":");
        ngx_http_rtdash_out_maybe(o, a->value);

        ngx_http_rtdash_out_lit(o, ",\"since\":");
        ngx_http_rtdash_out_num(o, a->since);
        ngx_http_rtdash_out_lit(o, ",\"t\":");
        ngx_http_rtdash_out_num(o, a->since);
        ngx_http_rtdash_out_lit(o, "}");
    }

    ngx_http_rtdash_out_lit(o, "]");

    return NGX_OK;
}


/*
 * The watch items with a seq in (since, upto] that the filter includes,
 * oldest first, each framed as a message of its own, appended to o.
 * *n: how many.
 */

ngx_int_t
ngx_http_rtdash_watch_messages(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_filter_t *f, const ngx_http_rtdash_framing_t *framing,
    uint64_t since, uint64_t upto, ngx_pool_t *pool,
    ngx_http_rtdash_out_t *o, ngx_uint_t *n)
{
    uint64_t                  next;
    ngx_uint_t                k, i[NGX_HTTP_RTDASH_WATCH_RINGS], best;
    ngx_http_rtdash_out_t     one;
    ngx_http_rtdash_witem_t  *it, *pick;
    ngx_http_rtdash_witems_t  w[NGX_HTTP_RTDASH_WATCH_RINGS];

    *n = 0;

    /* the common case, read without the lock: nothing new */

    if (ctx->sh->watch->last_seq <= since) {
        return NGX_OK;
    }

    for (k = 0; k < NGX_HTTP_RTDASH_WATCH_RINGS; k++) {
        if (ngx_http_rtdash_watch_copy(ctx, k, since,
                                       ctx->sh->watch->rings[k].size, pool,
                                       &w[k])
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        i[k] = 0;
    }

    /* the three rings merged by seq */

    for ( ;; ) {
        pick = NULL;
        best = 0;
        next = (uint64_t) -1;

        for (k = 0; k < NGX_HTTP_RTDASH_WATCH_RINGS; k++) {
            if (i[k] == w[k].n) {
                continue;
            }

            it = (ngx_http_rtdash_witem_t *) ((u_char *) w[k].items
                                              + i[k] * w[k].item_size);

            if (it->seq < next) {
                next = it->seq;
                pick = it;
                best = k;
            }
        }

        if (pick == NULL || pick->seq > upto) {
            return NGX_OK;
        }

        i[best]++;

        if (pick->tool_len
            && !ngx_http_rtdash_filter_has(f, pick->tool, pick->tool_len))
        {
            continue;
        }

        ngx_http_rtdash_out_init(&one, pool, 1024);
        ngx_http_rtdash_witem_json(&one, pick);

        if (one.failed) {
            return NGX_ERROR;
        }

        framing->message(o, ngx_http_rtdash_witem_event(pick), pick->seq,
                         &one);
        (*n)++;
    }
}


/*
 * What stats shows of the watch area, for every tool (NULL) or one:
 * ,"alerts":{"states":[...],"transitions":[...]},"notices":[...],
 * "anomalies":[...]
 */

ngx_int_t
ngx_http_rtdash_watch_stats(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_ctx_t *ctx, ngx_str_t *tool, ngx_pool_t *pool)
{
    ngx_uint_t                k, i;
    ngx_http_rtdash_filter_t  f, *fp;
    ngx_http_rtdash_witems_t  w;

    fp = NULL;

    if (tool) {
        ngx_memzero(&f, sizeof(ngx_http_rtdash_filter_t));
        f.ntools = 1;
        f.tools = tool;
        fp = &f;
    }

    ngx_http_rtdash_out_lit(o, ",\"alerts\":{\"states\":");

    if (ngx_http_rtdash_alerts_json(o, ctx, fp, pool, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    for (k = 0; k < NGX_HTTP_RTDASH_WATCH_RINGS; k++) {
        i = ngx_http_rtdash_stats_rings[k];

        if (ngx_http_rtdash_watch_copy(ctx, i, 0,
                                       ctx->sh->watch->rings[i].size, pool,
                                       &w)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_http_rtdash_out_raw(o, (u_char *) ngx_http_rtdash_stats_keys[k],
                                ngx_strlen(ngx_http_rtdash_stats_keys[k]));
        ngx_http_rtdash_witems_json(o, &w, fp);
    }

    return NGX_OK;
}
