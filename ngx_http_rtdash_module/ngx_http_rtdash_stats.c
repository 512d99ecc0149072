
/*
 * rtdash: the stats handler: the overview of every tool, or the history
 * of one tool (minutes, seconds, raw events), as JSON or CSV.  Figures
 * are copied out of the zone under the lock and rendered after it.
 */


#include "ngx_http_rtdash_module.h"


/* what the history of one tool shows, copied out of the zone */
typedef struct {
    ngx_http_rtdash_zinfo_t      zi;
    ngx_http_rtdash_summary_t    s;
    time_t                       now;
    time_t                       first;       /* the window's first minute */
    ngx_uint_t                   nminutes;
    ngx_uint_t                   nseconds;
    ngx_uint_t                   nevents;
    ngx_http_rtdash_minute_t    *minutes;     /* t == 0: empty */
    uint32_t                    *seconds;     /* stamp 0: empty */
    ngx_http_rtdash_event_t     *events;      /* newest first */
    ngx_http_rtdash_hwide_t      users;       /* the span: all minutes */
    ngx_http_rtdash_vwide_t      values;
} ngx_http_rtdash_history_t;


/* a tool in the overview's order, and the key it is sorted by */
typedef struct {
    double                       key;
    ngx_uint_t                   i;           /* the zone's order */
    ngx_http_rtdash_summary_t   *s;
} ngx_http_rtdash_rank_t;


#define NGX_HTTP_RTDASH_SORT_NONE     0
#define NGX_HTTP_RTDASH_SORT_RATE     1
#define NGX_HTTP_RTDASH_SORT_NAME     2
#define NGX_HTTP_RTDASH_SORT_LAST     3
#define NGX_HTTP_RTDASH_SORT_FLAGGED  4

/* the most tools the overview's window= copies the minutes of */
#define NGX_HTTP_RTDASH_RECENT_MAX    1000


static ngx_int_t ngx_http_rtdash_stats_overview(ngx_http_request_t *r,
    ngx_http_rtdash_ctx_t *ctx, ngx_uint_t csv);
static ngx_int_t ngx_http_rtdash_select(ngx_http_request_t *r,
    ngx_http_rtdash_zinfo_t *zi, ngx_http_rtdash_summary_t *s, ngx_uint_t n,
    ngx_uint_t traffic, ngx_http_rtdash_summary_t **order, ngx_uint_t *np,
    ngx_uint_t *matched);
static ngx_uint_t ngx_http_rtdash_is_status(ngx_http_rtdash_type_t *type);
static ngx_int_t ngx_http_rtdash_overview_recent(ngx_http_request_t *r,
    ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_zinfo_t *zi,
    ngx_http_rtdash_summary_t **order, ngx_uint_t n, ngx_uint_t window);
static double ngx_http_rtdash_rank_key(ngx_http_rtdash_zinfo_t *zi,
    ngx_http_rtdash_summary_t *s, ngx_uint_t by);
static int ngx_cdecl ngx_http_rtdash_rank_cmp(const void *a, const void *b);
static ngx_int_t ngx_http_rtdash_stats_tool(ngx_http_request_t *r,
    ngx_http_rtdash_ctx_t *ctx, ngx_str_t *tool, ngx_uint_t csv);
static ngx_uint_t ngx_http_rtdash_window_minutes(time_t now,
    ngx_uint_t window, time_t *first);
static ngx_int_t ngx_http_rtdash_history(ngx_http_request_t *r,
    ngx_http_rtdash_ctx_t *ctx, ngx_str_t *tool, ngx_uint_t window,
    ngx_uint_t nev, ngx_http_rtdash_history_t **hp);
static void ngx_http_rtdash_history_copy_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, ngx_http_rtdash_history_t *h,
    ngx_uint_t nev);
static void ngx_http_rtdash_history_csv(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_history_t *h);
static void ngx_http_rtdash_history_json(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_history_t *h,
    ngx_uint_t window, ngx_http_rtdash_out_t *watch);
static ngx_int_t ngx_http_rtdash_history_forecast(ngx_http_request_t *r,
    ngx_http_rtdash_out_t *o, ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_history_t *h, ngx_uint_t steps);
static void ngx_http_rtdash_csv_values(ngx_http_rtdash_out_t *o,
    uint64_t count, double sum, double *p);
static void ngx_http_rtdash_history_span(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_history_t *h);
static void ngx_http_rtdash_csv_field(ngx_http_rtdash_out_t *o, u_char *s,
    size_t len);


/* sort= of the overview, by NGX_HTTP_RTDASH_SORT_* */
static ngx_str_t  ngx_http_rtdash_sorts[] = {
    ngx_string(""),
    ngx_string("rate"),
    ngx_string("name"),
    ngx_string("last"),
    ngx_string("flagged"),
    ngx_null_string
};


ngx_int_t
ngx_http_rtdash_stats_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_str_t                   *v;
    ngx_uint_t                   csv;
    ngx_array_t                  tools, format;
    ngx_http_rtdash_loc_conf_t  *lcf;

    rc = ngx_http_rtdash_check_get(r);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_rtdash_module);

    if (ngx_http_rtdash_arg(r, "format", &format) != NGX_OK
        || ngx_http_rtdash_arg(r, "tool", &tools) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    csv = 0;

    if (format.nelts) {
        v = format.elts;

        if (v[0].len == 3 && ngx_strncmp(v[0].data, "csv", 3) == 0) {
            csv = 1;

        } else if (v[0].len != 4 || ngx_strncmp(v[0].data, "json", 4) != 0)
        {
            return ngx_http_rtdash_send_error(r, NGX_HTTP_BAD_REQUEST,
                                     "invalid \"format\", expected json or "
                                     "csv, got", &v[0], -1, -1);
        }
    }

    if (tools.nelts == 0) {
        return ngx_http_rtdash_stats_overview(r, lcf->zone->data, csv);
    }

    v = tools.elts;

    if (tools.nelts > 1) {
        return ngx_http_rtdash_send_error(r, NGX_HTTP_BAD_REQUEST,
                                          "stats takes one \"tool\"",
                                          NULL, -1, -1);
    }

    return ngx_http_rtdash_stats_tool(r, lcf->zone->data, &v[0], csv);
}


/*
 * The overview: every tool, or those whose name holds q= (ASCII case
 * insensitive), in the zone's order or by sort=, at most limit= of them.
 */

static ngx_int_t
ngx_http_rtdash_stats_overview(ngx_http_request_t *r,
    ngx_http_rtdash_ctx_t *ctx, ngx_uint_t csv)
{
    ngx_int_t                    rc;
    ngx_uint_t                   i, n, k, shown, matched, traffic, window;
    ngx_http_rtdash_out_t        o, wo;
    ngx_http_rtdash_zinfo_t     *zi;
    ngx_http_rtdash_summary_t   *s, **order;

    /* traffic= past 1 is kept as 2: refused */

    rc = ngx_http_rtdash_arg_uint(r, "traffic", 0, 2, &traffic);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED || traffic > 1) {
        return ngx_http_rtdash_send_error(r, NGX_HTTP_BAD_REQUEST,
                                          "\"traffic\" takes 0 or 1",
                                          NULL, -1, -1);
    }

    /* window= absent: NGX_CONF_UNSET_UINT, past the retention's cap */

    rc = ngx_http_rtdash_arg_uint(r, "window", NGX_CONF_UNSET_UINT,
                                  ctx->retention, &window);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_rtdash_send_error(r, NGX_HTTP_BAD_REQUEST,
                                          "\"window\" takes a number "
                                          "of seconds", NULL, -1, -1);
    }

    if (window == NGX_CONF_UNSET_UINT) {
        window = 0;

    } else if (csv) {
        return ngx_http_rtdash_send_error(r, NGX_HTTP_BAD_REQUEST,
                                          "\"window\" on the overview "
                                          "is for JSON, not CSV",
                                          NULL, -1, -1);

    } else if (window == 0) {
        window = 60;
    }

    if (ngx_http_rtdash_summaries(r, ctx, &zi, &s, &n) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    order = ngx_palloc(r->pool, (n + 1) * sizeof(ngx_http_rtdash_summary_t *));
    if (order == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    switch (ngx_http_rtdash_select(r, zi, s, n, traffic, order, &shown,
                                   &matched))
    {

    case NGX_OK:
        break;

    case NGX_DECLINED:
        return ngx_http_rtdash_send_error(r, NGX_HTTP_BAD_REQUEST,
                                          "\"sort\" takes rate, name, last "
                                          "or flagged, \"limit\" a number",
                                          NULL, -1, -1);

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_rtdash_out_init(&o, r->pool, 16384);

    if (csv) {
        ngx_http_rtdash_out_lit(&o, "tool,type,total,flagged,"
                                "rate_per_min\r\n");

        for (i = 0; i < shown; i++) {
            for (k = 0; k < zi->ntypes; k++) {
                if (order[i]->totals[k] == 0) {
                    continue;
                }

                ngx_http_rtdash_csv_field(&o, order[i]->name,
                                          order[i]->name_len);
                ngx_http_rtdash_out_lit(&o, ",");
                ngx_http_rtdash_out_raw(&o, zi->types[k].name,
                                        zi->types[k].len);
                ngx_http_rtdash_out_lit(&o, ",");
                ngx_http_rtdash_out_uint(&o, order[i]->totals[k]);
                ngx_http_rtdash_out_lit(&o, ",");
                ngx_http_rtdash_out_uint(&o, order[i]->flagged[k]);
                ngx_http_rtdash_out_lit(&o, ",");
                ngx_http_rtdash_out_uint(&o, order[i]->rate[k]);
                ngx_http_rtdash_out_lit(&o, "\r\n");
            }
        }

        return ngx_http_rtdash_send_out(r, NGX_HTTP_OK, &o,
                                        "text/csv; charset=utf-8");
    }

    if (window) {
        if (shown > NGX_HTTP_RTDASH_RECENT_MAX) {
            return ngx_http_rtdash_send_error(r, NGX_HTTP_BAD_REQUEST,
                                              "\"window\" on the overview "
                                              "lists at most 1000 tools: "
                                              "give \"limit\"",
                                              NULL, -1, -1);
        }

        if (ngx_http_rtdash_overview_recent(r, ctx, zi, order, shown, window)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    ngx_http_rtdash_out_init(&wo, r->pool, 4096);

    if (ngx_http_rtdash_watch_stats(&wo, ctx, NULL, r->pool) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_rtdash_out_lit(&o, "{");
    ngx_http_rtdash_json_overview(&o, ctx, zi, order, shown, matched, &wo);
    ngx_http_rtdash_out_lit(&o, "}");

    return ngx_http_rtdash_send_json(r, NGX_HTTP_OK, &o);
}


/*
 * order[] gets the tools that match q= (and, with traffic, have a count
 * of an HTTP status type), sorted by sort=, cut at limit=: *np of them;
 * *matched is how many matched before the limit.  NGX_DECLINED: a bad
 * sort= or limit=.
 */

static ngx_int_t
ngx_http_rtdash_select(ngx_http_request_t *r, ngx_http_rtdash_zinfo_t *zi,
    ngx_http_rtdash_summary_t *s, ngx_uint_t n, ngx_uint_t traffic,
    ngx_http_rtdash_summary_t **order, ngx_uint_t *np, ngx_uint_t *matched)
{
    u_char                      status[NGX_HTTP_RTDASH_TYPES_MAX];
    ngx_str_t                  *v;
    ngx_uint_t                  i, k, m, limit, by;
    ngx_array_t                 q, sort;
    ngx_http_rtdash_rank_t     *rank;

    if (ngx_http_rtdash_arg(r, "q", &q) != NGX_OK
        || ngx_http_rtdash_arg(r, "sort", &sort) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_rtdash_arg_uint(r, "limit", NGX_MAX_UINT32_VALUE,
                                 NGX_MAX_UINT32_VALUE, &limit)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    by = NGX_HTTP_RTDASH_SORT_NONE;

    if (sort.nelts) {
        v = sort.elts;

        for (by = 1; ngx_http_rtdash_sorts[by].len; by++) {
            if (ngx_http_rtdash_sorts[by].len == v[0].len
                && ngx_strncmp(ngx_http_rtdash_sorts[by].data, v[0].data,
                               v[0].len) == 0)
            {
                break;
            }
        }

        if (ngx_http_rtdash_sorts[by].len == 0) {
            return NGX_DECLINED;
        }
    }

    rank = ngx_palloc(r->pool, (n + 1) * sizeof(ngx_http_rtdash_rank_t));
    if (rank == NULL) {
        return NGX_ERROR;
    }

    v = q.nelts ? q.elts : NULL;

    if (v) {
        /* ngx_strlcasestrn() wants the needle lowercase */
        ngx_strlow(v[0].data, v[0].data, v[0].len);
    }

    for (k = 0; traffic && k < zi->ntypes; k++) {
        status[k] = (u_char) ngx_http_rtdash_is_status(&zi->types[k]);
    }

    for (i = 0, m = 0; i < n; i++) {
        if (v && v[0].len
            && ngx_strlcasestrn(s[i].name, s[i].name + s[i].name_len,
                                v[0].data, v[0].len - 1)
               == NULL)
        {
            continue;
        }

        if (traffic) {
            for (k = 0; k < zi->ntypes; k++) {
                if (status[k] && s[i].totals[k]) {
                    break;
                }
            }

            if (k == zi->ntypes) {
                continue;
            }
        }

        rank[m].s = &s[i];
        rank[m].key = ngx_http_rtdash_rank_key(zi, &s[i], by);
        rank[m].i = m;
        m++;
    }

    if (by != NGX_HTTP_RTDASH_SORT_NONE) {
        ngx_qsort(rank, m, sizeof(ngx_http_rtdash_rank_t),
                  ngx_http_rtdash_rank_cmp);
    }

    for (i = 0; i < m && i < limit; i++) {
        order[i] = rank[i].s;
    }

    *np = i;
    *matched = m;

    return NGX_OK;
}


/* an HTTP status type, as rtdash_traffic names them: 0xx-5xx, 100-599 */

static ngx_uint_t
ngx_http_rtdash_is_status(ngx_http_rtdash_type_t *type)
{
    u_char  *p;

    p = type->name;

    if (type->len != 3 || p[0] < '0' || p[0] > '5') {
        return 0;
    }

    if (p[1] == 'x' && p[2] == 'x') {
        return 1;
    }

    return p[0] != '0' && p[1] >= '0' && p[1] <= '9'
           && p[2] >= '0' && p[2] <= '9';
}


/*
 * The overview's window=: each listed tool's minutes and seconds, copied
 * one tool per lock into one buffer of the request, reduced to what the
 * tool got (ngx_http_rtdash_recent_t).  Counts and sums are of the last
 * "window" seconds from the per-second buckets when the window is within
 * them, else of the window's minutes; values always of the minutes.
 */

static ngx_int_t
ngx_http_rtdash_overview_recent(ngx_http_request_t *r,
    ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_zinfo_t *zi,
    ngx_http_rtdash_summary_t **order, ngx_uint_t n, ngx_uint_t window)
{
    double                     *sums;
    uint32_t                    hash, *cnt, *sec;
    ngx_uint_t                  i, j, k, secs;
    ngx_http_rtdash_node_t     *node;
    ngx_http_rtdash_gstat_t    *gs;
    ngx_http_rtdash_vwide_t    *w;
    ngx_http_rtdash_layout_t   *l;
    ngx_http_rtdash_recent_t   *rc;
    ngx_http_rtdash_history_t   h;
    ngx_http_rtdash_minute_t   *m;
    ngx_http_rtdash_summary_t  *s;

    l = &ctx->layout;
    secs = (window <= NGX_HTTP_RTDASH_SECONDS);

    h.now = ngx_time();
    h.nminutes = ngx_http_rtdash_window_minutes(h.now, window, &h.first);
    h.nseconds = secs ? window : 0;
    h.nevents = 0;
    h.events = NULL;

    h.minutes = ngx_palloc(r->pool, h.nminutes * l->min_size
                                    + h.nseconds * l->sec_copy);
    rc = ngx_pcalloc(r->pool, n * (sizeof(ngx_http_rtdash_recent_t)
                                   + h.nminutes * sizeof(uint32_t)));
    w = ngx_palloc(r->pool, sizeof(ngx_http_rtdash_vwide_t));

    if (h.minutes == NULL || rc == NULL || w == NULL) {
        return NGX_ERROR;
    }

    h.seconds = ngx_http_rtdash_bucket(h.minutes, h.nminutes, l->min_size);

    for (i = 0; i < n; i++) {
        s = order[i];
        s->recent = &rc[i];
        rc[i].from = h.first;
        rc[i].seconds = secs ? window : (ngx_uint_t) (h.now - h.first + 1);
        rc[i].nminutes = h.nminutes;
        rc[i].minutes = (uint32_t *) (rc + n) + i * h.nminutes;

        hash = ngx_crc32_short(s->name, s->name_len);

        ngx_http_rtdash_lock(ctx);

        node = ngx_http_rtdash_lookup_locked(ctx, hash, s->name, s->name_len);

        if (node) {
            ngx_http_rtdash_history_copy_locked(ctx, node, &h, 0);
        }

        ngx_http_rtdash_unlock(ctx);

        if (node == NULL) {
            continue;
        }

        ngx_http_rtdash_vwide_init(w);

        for (j = 0; j < h.nminutes; j++) {
            m = ngx_http_rtdash_bucket(h.minutes, j, l->min_size);

            if (m->t == 0) {
                continue;
            }

            cnt = ngx_http_rtdash_minute_counts(m);
            gs = ngx_http_rtdash_minute_gstats(ctx, m);

            for (k = 0; k < zi->ntypes; k++) {
                rc[i].minutes[j] += cnt[k];

                if (!secs) {
                    rc[i].counts[k] += cnt[k];
                }
            }

            for (k = 0; !secs && k < s->ngauges; k++) {
                if (s->gauges[k].kind == NGX_HTTP_RTDASH_SUM && gs[k].set) {
                    rc[i].sums[k] += gs[k].u.sum;
                }
            }

            ngx_http_rtdash_vwide_add(w, &m->value);
        }

        for (j = 0; j < h.nseconds; j++) {
            sec = ngx_http_rtdash_bucket(h.seconds, j, l->sec_copy);

            if (sec[0] == 0) {
                continue;
            }

            cnt = ngx_http_rtdash_second_counts(sec);
            sums = ngx_http_rtdash_second_sums(ctx, sec);

            for (k = 0; k < zi->ntypes; k++) {
                rc[i].counts[k] += cnt[k];
            }

            for (k = 0; k < s->ngauges; k++) {
                if (s->gauges[k].kind == NGX_HTTP_RTDASH_SUM) {
                    rc[i].sums[k] += sums[k];
                }
            }
        }

        rc[i].vcount = w->count;
        rc[i].vmin = w->min;
        rc[i].vmax = w->max;
        rc[i].vsum = w->sum;
        ngx_http_rtdash_vwide_quantiles(w, ngx_http_rtdash_quantiles,
                                        rc[i].p, 3);
    }

    return NGX_OK;
}


/*
 * Larger keys first: rate (events in the last minute, all types), last
 * event, flagged share; by name all keys are 0.  Ties: by name, then by
 * the zone's order, so that the order is stable.
 */

static double
ngx_http_rtdash_rank_key(ngx_http_rtdash_zinfo_t *zi,
    ngx_http_rtdash_summary_t *s, ngx_uint_t by)
{
    uint64_t    total, flagged, rate;
    ngx_uint_t  k;

    total = 0;
    flagged = 0;
    rate = 0;

    for (k = 0; k < zi->ntypes; k++) {
        total += s->totals[k];
        flagged += s->flagged[k];
        rate += s->rate[k];
    }

    switch (by) {

    case NGX_HTTP_RTDASH_SORT_RATE:
        return (double) rate;

    case NGX_HTTP_RTDASH_SORT_LAST:
        return s->updated;

    case NGX_HTTP_RTDASH_SORT_FLAGGED:
        return total ? (double) flagged / total : 0;

    default:
        return 0;
    }
}


static int ngx_cdecl
ngx_http_rtdash_rank_cmp(const void *a, const void *b)
{
    ngx_int_t                rc;
    ngx_http_rtdash_rank_t  *x, *y;

    x = (ngx_http_rtdash_rank_t *) a;
    y = (ngx_http_rtdash_rank_t *) b;

    if (x->key != y->key) {
        return (x->key > y->key) ? -1 : 1;
    }

    rc = ngx_memn2cmp(x->s->name, y->s->name, x->s->name_len,
                      y->s->name_len);
    if (rc) {
        return (int) rc;
    }

    return (x->i < y->i) ? -1 : (x->i > y->i);
}


static ngx_int_t
ngx_http_rtdash_stats_tool(ngx_http_request_t *r, ngx_http_rtdash_ctx_t *ctx,
    ngx_str_t *tool, ngx_uint_t csv)
{
    ngx_int_t                   rc;
    ngx_uint_t                  window, nev, forecast;
    ngx_http_rtdash_out_t       o, wo;
    ngx_http_rtdash_history_t  *h;

    rc = ngx_http_rtdash_arg_uint(r, "window", 3600, ctx->retention,
                                  &window);
    if (rc == NGX_OK) {
        rc = ngx_http_rtdash_arg_uint(r, "events", 20, ctx->nevents, &nev);
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_rtdash_send_error(r, NGX_HTTP_BAD_REQUEST,
                                          "\"window\" and \"events\" take "
                                          "a number of seconds and of "
                                          "events", NULL, -1, -1);
    }

    if (rc == NGX_OK) {
        rc = ngx_http_rtdash_arg_uint(r, "forecast", 0, 61, &forecast);
    }

    if (rc == NGX_DECLINED || forecast > 60) {
        return ngx_http_rtdash_send_error(r, NGX_HTTP_BAD_REQUEST,
                                          "\"forecast\" takes a number of "
                                          "minutes, 0 to 60", NULL, -1, -1);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (window == 0) {
        window = 60;
    }

    rc = ngx_http_rtdash_history(r, ctx, tool, window, nev, &h);

    if (rc == NGX_DECLINED) {
        return ngx_http_rtdash_send_error(r, NGX_HTTP_NOT_FOUND,
                                          "unknown tool", tool, -1, -1);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_rtdash_out_init(&o, r->pool, 65536);

    if (csv) {
        ngx_http_rtdash_history_csv(&o, ctx, h);

        return ngx_http_rtdash_send_out(r, NGX_HTTP_OK, &o,
                                        "text/csv; charset=utf-8");
    }

    ngx_http_rtdash_out_init(&wo, r->pool, 4096);

    if (ngx_http_rtdash_watch_stats(&wo, ctx, tool, r->pool) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_rtdash_history_json(&o, ctx, h, window, &wo);

    if (forecast
        && ngx_http_rtdash_history_forecast(r, &o, ctx, h, forecast)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_rtdash_out_lit(&o, "}");

    return ngx_http_rtdash_send_json(r, NGX_HTTP_OK, &o);
}


/*
 * The minutes of a window of "window" seconds, as a tool's history lists
 * them: from the first minute boundary after now - window (*first) to the
 * current minute.  How many.
 */

static ngx_uint_t
ngx_http_rtdash_window_minutes(time_t now, ngx_uint_t window, time_t *first)
{
    time_t  from;

    from = now - (time_t) window;
    *first = from - from % 60 + 60;

    return (now - *first) / 60 + 1;
}


/*
 * Under the lock, a copy of what the history of a tool shows and no
 * more: its summary, the minutes and seconds of the window, the newest
 * events.  In the worker's arena.  NGX_DECLINED: no such tool.
 */

static ngx_int_t
ngx_http_rtdash_history(ngx_http_request_t *r, ngx_http_rtdash_ctx_t *ctx,
    ngx_str_t *tool, ngx_uint_t window, ngx_uint_t nev,
    ngx_http_rtdash_history_t **hp)
{
    time_t                      now, first;
    u_char                     *p;
    uint32_t                    hash;
    ngx_uint_t                  nminutes, nseconds;
    ngx_http_rtdash_node_t     *node;
    ngx_http_rtdash_layout_t   *l;
    ngx_http_rtdash_history_t  *h;

    l = &ctx->layout;
    now = ngx_time();
    nminutes = ngx_http_rtdash_window_minutes(now, window, &first);
    nseconds = ngx_min(window, NGX_HTTP_RTDASH_SECONDS);

    p = ngx_http_rtdash_arena(r, sizeof(ngx_http_rtdash_history_t)
                                 + nminutes * l->min_size
                                 + nseconds * l->sec_copy
                                 + nev * sizeof(ngx_http_rtdash_event_t));
    if (p == NULL) {
        return NGX_ERROR;
    }

    h = (ngx_http_rtdash_history_t *) p;
    h->now = now;
    h->first = first;
    h->nminutes = nminutes;
    h->nseconds = nseconds;
    h->minutes = (ngx_http_rtdash_minute_t *) (h + 1);
    h->seconds = ngx_http_rtdash_bucket(h->minutes, h->nminutes, l->min_size);
    h->events = ngx_http_rtdash_bucket(h->seconds, h->nseconds, l->sec_copy);

    hash = ngx_crc32_short(tool->data, tool->len);

    ngx_http_rtdash_lock(ctx);

    node = ngx_http_rtdash_lookup_locked(ctx, hash, tool->data, tool->len);

    if (node == NULL) {
        ngx_http_rtdash_unlock(ctx);
        return NGX_DECLINED;
    }

    ngx_http_rtdash_zinfo_locked(ctx, &h->zi);
    ngx_http_rtdash_summary_locked(ctx, node, now, &h->s);
    ngx_http_rtdash_history_copy_locked(ctx, node, h, nev);

    ngx_http_rtdash_unlock(ctx);

    ngx_http_rtdash_history_span(ctx, h);

    *hp = h;

    return NGX_OK;
}


/* buckets not of their time get a zero stamp: empty */

static void
ngx_http_rtdash_history_copy_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, ngx_http_rtdash_history_t *h,
    ngx_uint_t nev)
{
    time_t                     t;
    uint32_t                  *dst;
    ngx_uint_t                 i;
    ngx_http_rtdash_minute_t  *mc;

    for (i = 0; i < h->nminutes; i++) {
        t = h->first + (time_t) i * 60;
        mc = ngx_http_rtdash_bucket(h->minutes, i, ctx->layout.min_size);

        if (!ngx_http_rtdash_minute_read_locked(ctx, node, t, mc)) {
            mc->t = 0;
        }
    }

    for (i = 0; i < h->nseconds; i++) {
        t = h->now - (time_t) (h->nseconds - 1 - i);
        dst = ngx_http_rtdash_bucket(h->seconds, i, ctx->layout.sec_copy);

        if (!ngx_http_rtdash_second_read_locked(ctx, node, t, dst)) {
            dst[0] = 0;
        }
    }

    h->nevents = ngx_min(nev, ngx_min(node->nevents, ctx->nevents));

    for (i = 0; i < h->nevents; i++) {
        h->events[i] = *ngx_http_rtdash_ring_slot(ctx, node,
                                                  node->nevents - 1 - i);
    }
}


static void
ngx_http_rtdash_history_csv(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_history_t *h)
{
    double                     p[3], total[NGX_HTTP_RTDASH_GAUGES_MAX];
    uint32_t                  *cnt, *flg;
    uint64_t                   sum[2 * NGX_HTTP_RTDASH_TYPES_MAX];
    ngx_uint_t                 i, k, g;
    ngx_http_rtdash_gauge_t   *names;
    ngx_http_rtdash_gstat_t   *gs;
    ngx_http_rtdash_zinfo_t   *zi;
    ngx_http_rtdash_minute_t  *m;

    zi = &h->zi;

    ngx_http_rtdash_out_lit(o, "minute");

    for (k = 0; k < zi->ntypes; k++) {
        ngx_http_rtdash_out_lit(o, ",");
        ngx_http_rtdash_out_raw(o, zi->types[k].name, zi->types[k].len);
        ngx_http_rtdash_out_lit(o, ",");
        ngx_http_rtdash_out_raw(o, zi->types[k].name, zi->types[k].len);
        ngx_http_rtdash_out_lit(o, "_flagged");
    }

    ngx_http_rtdash_out_lit(o, ",users,value_count,value_avg,"
                            "value_p50,value_p95,value_p99");

    names = h->s.gauges;

    for (g = 0; g < h->s.ngauges; g++) {
        if (names[g].kind == NGX_HTTP_RTDASH_SUM) {
            ngx_http_rtdash_out_lit(o, ",sum_");
            ngx_http_rtdash_out_raw(o, names[g].name, names[g].len);
        }

        total[g] = 0;
    }

    ngx_http_rtdash_out_lit(o, "\r\n");

    ngx_memzero(sum, sizeof(uint64_t) * 2 * zi->ntypes);

    for (i = 0; i < h->nminutes; i++) {
        m = ngx_http_rtdash_bucket(h->minutes, i, ctx->layout.min_size);
        cnt = ngx_http_rtdash_minute_counts(m);
        flg = ngx_http_rtdash_minute_flagged(ctx, m);

        ngx_http_rtdash_out_uint(o, h->first + (time_t) i * 60);

        for (k = 0; k < zi->ntypes; k++) {
            ngx_http_rtdash_out_lit(o, ",");
            ngx_http_rtdash_out_uint(o, m->t ? cnt[k] : 0);
            ngx_http_rtdash_out_lit(o, ",");
            ngx_http_rtdash_out_uint(o, m->t ? flg[k] : 0);

            if (m->t) {
                sum[2 * k] += cnt[k];
                sum[2 * k + 1] += flg[k];
            }
        }

        ngx_http_rtdash_out_lit(o, ",");
        ngx_http_rtdash_out_uint(o, m->t
                                 ? ngx_http_rtdash_hll_estimate(&m->users)
                                 : 0);

        if (m->t && m->value.count) {
            ngx_http_rtdash_vstat_quantiles(&m->value,
                                            ngx_http_rtdash_quantiles, p, 3);
            ngx_http_rtdash_csv_values(o, m->value.count, m->value.sum, p);

        } else {
            ngx_http_rtdash_csv_values(o, 0, 0, NULL);
        }

        gs = ngx_http_rtdash_minute_gstats(ctx, m);

        for (g = 0; g < h->s.ngauges; g++) {
            if (names[g].kind != NGX_HTTP_RTDASH_SUM) {
                continue;
            }

            ngx_http_rtdash_out_lit(o, ",");

            if (m->t && gs[g].set) {
                ngx_http_rtdash_out_num(o, gs[g].u.sum);
                total[g] += gs[g].u.sum;

            } else {
                ngx_http_rtdash_out_lit(o, "0");
            }
        }

        ngx_http_rtdash_out_lit(o, "\r\n");
    }

    /* the window: counts summed, users a union, values merged */

    ngx_http_rtdash_out_lit(o, "window");

    for (k = 0; k < 2 * zi->ntypes; k++) {
        ngx_http_rtdash_out_lit(o, ",");
        ngx_http_rtdash_out_uint(o, sum[k]);
    }

    ngx_http_rtdash_out_lit(o, ",");
    ngx_http_rtdash_out_uint(o, ngx_http_rtdash_hwide_estimate(&h->users));
    ngx_http_rtdash_vwide_quantiles(&h->values, ngx_http_rtdash_quantiles,
                                    p, 3);
    ngx_http_rtdash_csv_values(o, h->values.count, h->values.sum, p);

    for (g = 0; g < h->s.ngauges; g++) {
        if (names[g].kind == NGX_HTTP_RTDASH_SUM) {
            ngx_http_rtdash_out_lit(o, ",");
            ngx_http_rtdash_out_num(o, total[g]);
        }
    }

    ngx_http_rtdash_out_lit(o, "\r\n");
}


/* ",count,avg,p50,p95,p99" */

static void
ngx_http_rtdash_csv_values(ngx_http_rtdash_out_t *o, uint64_t count,
    double sum, double *p)
{
    ngx_uint_t  i;

    ngx_http_rtdash_out_lit(o, ",");
    ngx_http_rtdash_out_uint(o, count);

    if (count == 0) {
        ngx_http_rtdash_out_lit(o, ",,,,");
        return;
    }

    ngx_http_rtdash_out_lit(o, ",");
    ngx_http_rtdash_out_num_g(o, sum / count, 6);

    for (i = 0; i < 3; i++) {
        ngx_http_rtdash_out_lit(o, ",");
        ngx_http_rtdash_out_num_g(o, p[i], 4);
    }
}


/* the union of the users and the merge of the values of the minutes */

static void
ngx_http_rtdash_history_span(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_history_t *h)
{
    ngx_uint_t                 i;
    ngx_http_rtdash_minute_t  *m;

    ngx_http_rtdash_hwide_init(&h->users);
    ngx_http_rtdash_vwide_init(&h->values);

    for (i = 0; i < h->nminutes; i++) {
        m = ngx_http_rtdash_bucket(h->minutes, i, ctx->layout.min_size);

        if (m->t) {
            ngx_http_rtdash_hwide_add(&h->users, &m->users);
            ngx_http_rtdash_vwide_add(&h->values, &m->value);
        }
    }
}


static void
ngx_http_rtdash_history_json(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_history_t *h,
    ngx_uint_t window, ngx_http_rtdash_out_t *watch)
{
    uint32_t                  *sec;
    ngx_uint_t                 i;
    ngx_http_rtdash_minute_t  *m;

    ngx_http_rtdash_out_lit(o, "{\"now\":");
    ngx_http_rtdash_out_num_g(o, ngx_http_rtdash_now(), 13);
    ngx_http_rtdash_out_lit(o, ",\"window\":");
    ngx_http_rtdash_out_uint(o, window);
    ngx_http_rtdash_out_append(o, watch);
    ngx_http_rtdash_out_lit(o, ",\"types\":");
    ngx_http_rtdash_json_types(o, &h->zi);
    ngx_http_rtdash_out_lit(o, ",\"tool\":");
    ngx_http_rtdash_json_tool(o, &h->zi, &h->s);
    ngx_http_rtdash_out_lit(o, ",");
    ngx_http_rtdash_json_span(o, h->first,
                              h->first + (time_t) h->nminutes * 60,
                              &h->users, &h->values);

    ngx_http_rtdash_out_lit(o, ",\"minutes\":[");

    for (i = 0; i < h->nminutes; i++) {
        if (i) {
            ngx_http_rtdash_out_lit(o, ",");
        }

        m = ngx_http_rtdash_bucket(h->minutes, i, ctx->layout.min_size);

        ngx_http_rtdash_json_minute(o, ctx, &h->zi, h->s.gauges,
                                    h->s.ngauges, m->t ? m : NULL,
                                    h->first + (time_t) i * 60);
    }

    ngx_http_rtdash_out_lit(o, "],\"seconds\":[");

    for (i = 0; i < h->nseconds; i++) {
        if (i) {
            ngx_http_rtdash_out_lit(o, ",");
        }

        sec = ngx_http_rtdash_bucket(h->seconds, i, ctx->layout.sec_copy);

        ngx_http_rtdash_json_second(o, ctx, &h->zi, h->s.gauges,
                                    h->s.ngauges, sec[0] ? sec : NULL,
                                    h->now - (time_t) (h->nseconds - 1 - i));
    }

    ngx_http_rtdash_out_lit(o, "],\"events\":[");

    for (i = 0; i < h->nevents; i++) {
        if (i) {
            ngx_http_rtdash_out_lit(o, ",");
        }

        ngx_http_rtdash_json_event(o, &h->zi, &h->events[i], NULL, 0);
    }

    ngx_http_rtdash_out_lit(o, "]");
}


/* the counts of the window's complete minutes, per type, then Holt */

static ngx_int_t
ngx_http_rtdash_history_forecast(ngx_http_request_t *r,
    ngx_http_rtdash_out_t *o, ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_history_t *h, ngx_uint_t steps)
{
    double                    *x;
    uint32_t                  *cnt;
    ngx_uint_t                 i, k, n;
    ngx_http_rtdash_minute_t  *m;

    n = h->nminutes - 1;

    x = ngx_palloc(r->pool, sizeof(double) * ngx_max(n, 1) * ctx->ntypes);
    if (x == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        m = ngx_http_rtdash_bucket(h->minutes, i, ctx->layout.min_size);
        cnt = ngx_http_rtdash_minute_counts(m);

        for (k = 0; k < ctx->ntypes; k++) {
            x[k * n + i] = m->t ? cnt[k] : 0;
        }
    }

    ngx_http_rtdash_out_lit(o, ",\"forecast\":");
    ngx_http_rtdash_forecast_json(o, &h->zi, x, ctx->ntypes, n,
                                  h->first + (time_t) n * 60, steps);

    return NGX_OK;
}


static void
ngx_http_rtdash_csv_field(ngx_http_rtdash_out_t *o, u_char *s, size_t len)
{
    u_char  *p, *e;

    p = ngx_http_rtdash_out_reserve(o, len * 2 + 3);
    if (p == NULL) {
        return;
    }

    e = p;
    *e++ = '"';

    /* a leading =+-@ would be read as a formula by spreadsheets */

    if (len && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@')) {
        *e++ = '\'';
    }

    while (len--) {
        if (*s == '"') {
            *e++ = '"';
        }

        *e++ = *s++;
    }

    *e++ = '"';

    o->buf->last = e;
    o->size += e - p;
}
