
/*
 * rtdash: the stats handler: the overview of every tool, or the history
 * of one tool (minutes, seconds, raw events), as JSON or CSV.  Figures
 * are copied out of the zone under the lock and rendered after it.
 */


#include "ngx_http_rtdash_module.h"


static ngx_int_t ngx_http_rtdash_stats_overview(ngx_http_request_t *r,
    ngx_http_rtdash_ctx_t *ctx, ngx_uint_t csv);
static ngx_int_t ngx_http_rtdash_stats_tool(ngx_http_request_t *r,
    ngx_http_rtdash_ctx_t *ctx, ngx_str_t *tool, ngx_uint_t csv);
static void ngx_http_rtdash_csv_field(ngx_http_rtdash_out_t *o, u_char *s,
    size_t len);


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


ngx_int_t
ngx_http_rtdash_check_get(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_rtdash_send_error(r, NGX_HTTP_NOT_ALLOWED,
                                          "method not allowed, use GET",
                                          NULL, -1, -1);
    }

    /* go on */

    return NGX_DECLINED;
}


/* every value of a query argument, '+' and %XX decoded */

ngx_int_t
ngx_http_rtdash_arg(ngx_http_request_t *r, const char *name,
    ngx_array_t *values)
{
    u_char     *p, *end, *k, *v, *e, *dst, *src;
    size_t      len, vlen;
    ngx_str_t  *s;

    if (ngx_array_init(values, r->pool, 2, sizeof(ngx_str_t)) != NGX_OK) {
        return NGX_ERROR;
    }

    if (r->args.len == 0) {
        return NGX_OK;
    }

    len = ngx_strlen(name);
    p = r->args.data;
    end = p + r->args.len;

    while (p < end) {
        k = p;

        e = ngx_strlchr(p, end, '&');
        if (e == NULL) {
            e = end;
        }

        p = e + 1;

        v = ngx_strlchr(k, e, '=');

        if (v == NULL || (size_t) (v - k) != len
            || ngx_strncmp(k, name, len) != 0)
        {
            continue;
        }

        v++;

        s = ngx_array_push(values);
        if (s == NULL) {
            return NGX_ERROR;
        }

        s->data = ngx_pnalloc(r->pool, e - v + 1);
        if (s->data == NULL) {
            return NGX_ERROR;
        }

        for (src = v, dst = s->data; src < e; src++) {
            *dst++ = (*src == '+') ? ' ' : *src;
        }

        src = s->data;
        vlen = dst - s->data;
        dst = s->data;
        ngx_unescape_uri(&dst, &src, vlen, 0);
        s->len = dst - s->data;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_rtdash_arg_uint(ngx_http_request_t *r, const char *name,
    ngx_uint_t def, ngx_uint_t max, ngx_uint_t *out)
{
    ngx_int_t     n;
    ngx_str_t    *v;
    ngx_array_t   a;

    *out = def;

    if (ngx_http_rtdash_arg(r, name, &a) != NGX_OK) {
        return NGX_ERROR;
    }

    if (a.nelts == 0) {
        return NGX_OK;
    }

    v = a.elts;
    n = ngx_atoi(v[0].data, v[0].len);

    if (n == NGX_ERROR) {
        return NGX_DECLINED;
    }

    *out = ngx_min((ngx_uint_t) n, max);

    return NGX_OK;
}


/*
 * The zone's figures and every tool's summary, copied one tool per lock
 * (writers get in between) into the worker's arena: the summaries are
 * valid until the handler returns.
 */

ngx_int_t
ngx_http_rtdash_summaries(ngx_http_request_t *r, ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_zinfo_t **zip, ngx_http_rtdash_summary_t **sp,
    ngx_uint_t *np)
{
    time_t                      now;
    ngx_uint_t                  i, n;
    ngx_queue_t                *q;
    ngx_http_rtdash_node_t     *node;
    ngx_http_rtdash_zinfo_t    *zi;
    ngx_http_rtdash_summary_t  *s;

    zi = ngx_palloc(r->pool, sizeof(ngx_http_rtdash_zinfo_t));
    if (zi == NULL) {
        return NGX_ERROR;
    }

    now = ngx_time();

    /* the tool count can only grow: allocate for max_tools at most */

    ngx_shmtx_lock(&ctx->shpool->mutex);
    n = ctx->sh->ntools;
    ngx_shmtx_unlock(&ctx->shpool->mutex);

    n = ngx_min(n + 16, ctx->sh->max_tools);

    s = ngx_http_rtdash_arena(r, (n + 1) * sizeof(ngx_http_rtdash_summary_t));
    if (s == NULL) {
        return NGX_ERROR;
    }

    ngx_shmtx_lock(&ctx->shpool->mutex);

    ngx_http_rtdash_zinfo_locked(ctx, zi);

    i = 0;

    /* tools are never freed once in the queue: the walk goes on */

    for (q = ngx_queue_head(&ctx->sh->tools);
         q != ngx_queue_sentinel(&ctx->sh->tools) && i < n;
         /* void */)
    {
        node = ngx_queue_data(q, ngx_http_rtdash_node_t, queue);
        ngx_http_rtdash_summary_locked(ctx, node, now, &s[i++]);
        q = ngx_queue_next(q);

        ngx_shmtx_unlock(&ctx->shpool->mutex);
        ngx_shmtx_lock(&ctx->shpool->mutex);
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    *zip = zi;
    *sp = s;
    *np = i;

    return NGX_OK;
}


static ngx_int_t
ngx_http_rtdash_stats_overview(ngx_http_request_t *r,
    ngx_http_rtdash_ctx_t *ctx, ngx_uint_t csv)
{
    ngx_uint_t                  i, n, k;
    ngx_http_rtdash_out_t       o;
    ngx_http_rtdash_zinfo_t    *zi;
    ngx_http_rtdash_summary_t  *s;

    if (ngx_http_rtdash_summaries(r, ctx, &zi, &s, &n) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_rtdash_out_init(&o, r->pool, 16384);

    if (csv) {
        ngx_http_rtdash_out_lit(&o, "tool,type,total,flagged,"
                                "rate_per_min\r\n");

        for (i = 0; i < n; i++) {
            for (k = 0; k < zi->ntypes; k++) {
                if (s[i].totals[k] == 0) {
                    continue;
                }

                ngx_http_rtdash_csv_field(&o, s[i].name, s[i].name_len);
                ngx_http_rtdash_out_lit(&o, ",");
                ngx_http_rtdash_out_raw(&o, zi->types[k].name,
                                        zi->types[k].len);
                ngx_http_rtdash_out_lit(&o, ",");
                ngx_http_rtdash_out_uint(&o, s[i].totals[k]);
                ngx_http_rtdash_out_lit(&o, ",");
                ngx_http_rtdash_out_uint(&o, s[i].flagged[k]);
                ngx_http_rtdash_out_lit(&o, ",");
                ngx_http_rtdash_out_uint(&o, s[i].rate[k]);
                ngx_http_rtdash_out_lit(&o, "\r\n");
            }
        }

        return ngx_http_rtdash_send_out(r, NGX_HTTP_OK, &o,
                                            "text/csv; charset=utf-8");
    }

    ngx_http_rtdash_out_lit(&o, "{\"zone\":");
    ngx_http_rtdash_json_zone(&o, ctx, zi);
    ngx_http_rtdash_out_lit(&o, ",\"now\":");
    ngx_http_rtdash_out_num_g(&o, ngx_http_rtdash_now(), 13);
    ngx_http_rtdash_out_lit(&o, ",\"types\":");
    ngx_http_rtdash_json_types(&o, zi);
    ngx_http_rtdash_out_lit(&o, ",\"tools\":[");

    for (i = 0; i < n; i++) {
        if (i) {
            ngx_http_rtdash_out_lit(&o, ",");
        }

        ngx_http_rtdash_json_tool(&o, zi, &s[i]);
    }

    ngx_http_rtdash_out_lit(&o, "]}");

    return ngx_http_rtdash_send_json(r, NGX_HTTP_OK, &o);
}


static ngx_int_t
ngx_http_rtdash_stats_tool(ngx_http_request_t *r, ngx_http_rtdash_ctx_t *ctx,
    ngx_str_t *tool, ngx_uint_t csv)
{
    time_t                      now, t, first;
    u_char                     *copy;
    uint32_t                    hash, *cnt;
    ngx_int_t                   rc;
    ngx_uint_t                  window, nev, i, k, have, seconds;
    ngx_http_rtdash_out_t       o;
    ngx_http_rtdash_node_t     *node;
    ngx_http_rtdash_zinfo_t    *zi;
    ngx_http_rtdash_minute_t   *m;
    ngx_http_rtdash_summary_t  *s;
    ngx_http_rtdash_layout_t   *l;
    ngx_http_rtdash_event_t    *ring;

    l = &ctx->layout;

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

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (window == 0) {
        window = 60;
    }

    copy = ngx_http_rtdash_arena(r, l->node_size
                                    + sizeof(ngx_http_rtdash_summary_t)
                                    + sizeof(ngx_http_rtdash_zinfo_t));
    if (copy == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    s = (ngx_http_rtdash_summary_t *) (copy + ngx_align(l->node_size, 8));
    zi = (ngx_http_rtdash_zinfo_t *) (s + 1);

    hash = ngx_crc32_short(tool->data, tool->len);
    now = ngx_time();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    node = ngx_http_rtdash_lookup_locked(ctx, hash, tool->data, tool->len);

    if (node) {
        ngx_http_rtdash_zinfo_locked(ctx, zi);
        ngx_http_rtdash_summary_locked(ctx, node, now, s);
        ngx_memcpy(copy, node, l->node_size);
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    if (node == NULL) {
        return ngx_http_rtdash_send_error(r, NGX_HTTP_NOT_FOUND,
                                          "unknown tool", tool, -1, -1);
    }

    node = (ngx_http_rtdash_node_t *) copy;

    ngx_http_rtdash_out_init(&o, r->pool, 65536);

    first = (now - window) - (now - window) % 60 + 60;

    if (csv) {
        ngx_http_rtdash_out_lit(&o, "minute");

        for (k = 0; k < zi->ntypes; k++) {
            ngx_http_rtdash_out_lit(&o, ",");
            ngx_http_rtdash_out_raw(&o, zi->types[k].name, zi->types[k].len);
            ngx_http_rtdash_out_lit(&o, ",");
            ngx_http_rtdash_out_raw(&o, zi->types[k].name, zi->types[k].len);
            ngx_http_rtdash_out_lit(&o, "_flagged");
        }

        ngx_http_rtdash_out_lit(&o, ",users,value_count,value_avg,"
                                "value_p50,value_p95,value_p99\r\n");

        for (t = first; t <= now; t += 60) {
            m = ngx_http_rtdash_at(node, l->minutes
                                   + ((t / 60) % ctx->nminutes) * l->min_size,
                                   ngx_http_rtdash_minute_t);
            have = (m->t == (uint32_t) t);
            cnt = (uint32_t *) (m + 1);

            ngx_http_rtdash_out_uint(&o, t);

            for (k = 0; k < zi->ntypes; k++) {
                ngx_http_rtdash_out_lit(&o, ",");
                ngx_http_rtdash_out_uint(&o, have ? cnt[k] : 0);
                ngx_http_rtdash_out_lit(&o, ",");
                ngx_http_rtdash_out_uint(&o, have ? cnt[ctx->ntypes + k] : 0);
            }

            ngx_http_rtdash_out_lit(&o, ",");
            ngx_http_rtdash_out_uint(&o, have
                               ? ngx_http_rtdash_users_estimate(m->users) : 0);
            ngx_http_rtdash_out_lit(&o, ",");
            ngx_http_rtdash_out_uint(&o, have ? m->value.count : 0);

            if (have && m->value.count) {
                ngx_http_rtdash_out_lit(&o, ",");
                ngx_http_rtdash_out_num_g(&o, m->value.sum / m->value.count,
                                          6);
                ngx_http_rtdash_out_lit(&o, ",");
                ngx_http_rtdash_out_num_g(&o,
                            ngx_http_rtdash_percentile(&m->value, 0.5), 4);
                ngx_http_rtdash_out_lit(&o, ",");
                ngx_http_rtdash_out_num_g(&o,
                            ngx_http_rtdash_percentile(&m->value, 0.95), 4);
                ngx_http_rtdash_out_lit(&o, ",");
                ngx_http_rtdash_out_num_g(&o,
                            ngx_http_rtdash_percentile(&m->value, 0.99), 4);

            } else {
                ngx_http_rtdash_out_lit(&o, ",,,,");
            }

            ngx_http_rtdash_out_lit(&o, "\r\n");
        }

        return ngx_http_rtdash_send_out(r, NGX_HTTP_OK, &o,
                                            "text/csv; charset=utf-8");
    }

    ngx_http_rtdash_out_lit(&o, "{\"now\":");
    ngx_http_rtdash_out_num_g(&o, ngx_http_rtdash_now(), 13);
    ngx_http_rtdash_out_lit(&o, ",\"window\":");
    ngx_http_rtdash_out_uint(&o, window);
    ngx_http_rtdash_out_lit(&o, ",\"types\":");
    ngx_http_rtdash_json_types(&o, zi);
    ngx_http_rtdash_out_lit(&o, ",\"tool\":");
    ngx_http_rtdash_json_tool(&o, zi, s);

    ngx_http_rtdash_out_lit(&o, ",\"minutes\":[");

    for (t = first; t <= now; t += 60) {
        if (t != first) {
            ngx_http_rtdash_out_lit(&o, ",");
        }

        m = ngx_http_rtdash_at(node, l->minutes
                               + ((t / 60) % ctx->nminutes) * l->min_size,
                               ngx_http_rtdash_minute_t);

        ngx_http_rtdash_json_minute(&o, ctx, zi, s->gauges, s->ngauges,
                                    m->t == (uint32_t) t ? m : NULL, t);
    }

    ngx_http_rtdash_out_lit(&o, "],\"seconds\":[");

    seconds = ngx_min(window, NGX_HTTP_RTDASH_SECONDS);

    for (t = now - seconds + 1; t <= now; t++) {
        if (t != now - (time_t) seconds + 1) {
            ngx_http_rtdash_out_lit(&o, ",");
        }

        cnt = ngx_http_rtdash_at(node, l->seconds
                                 + (t % NGX_HTTP_RTDASH_SECONDS) * l->sec_size,
                                 uint32_t);

        ngx_http_rtdash_json_second(&o, ctx, zi,
                                    cnt[0] == (uint32_t) t ? cnt : NULL, t);
    }

    ngx_http_rtdash_out_lit(&o, "],\"events\":[");

    ring = ngx_http_rtdash_at(node, l->ring, ngx_http_rtdash_event_t);
    nev = ngx_min(nev, ngx_min(node->nevents, ctx->nevents));

    for (i = 0; i < nev; i++) {
        if (i) {
            ngx_http_rtdash_out_lit(&o, ",");
        }

        ngx_http_rtdash_json_event(&o, zi,
                                   &ring[(node->nevents - 1 - i)
                                         % ctx->nevents],
                                   NULL, 0);
    }

    ngx_http_rtdash_out_lit(&o, "]}");

    return ngx_http_rtdash_send_json(r, NGX_HTTP_OK, &o);
}


void
ngx_http_rtdash_json_minute(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_zinfo_t *zi,
    ngx_http_rtdash_gauge_t *names, ngx_uint_t ngauges,
    ngx_http_rtdash_minute_t *m, time_t t)
{
    uint32_t                  *cnt;
    ngx_uint_t                 g, first;
    ngx_http_rtdash_vstat_t    empty;
    ngx_http_rtdash_gstat_t   *gs;

    ngx_http_rtdash_out_lit(o, "{\"t\":");
    ngx_http_rtdash_out_uint(o, t);

    if (m == NULL) {
        ngx_http_rtdash_out_lit(o, ",\"counts\":{},\"flagged\":{},"
                                "\"users\":0,\"value\":");
        empty.count = 0;
        ngx_http_rtdash_json_vstat(o, &empty);
        ngx_http_rtdash_out_lit(o, ",\"gauges\":{}}");
        return;
    }

    cnt = (uint32_t *) (m + 1);

    ngx_http_rtdash_out_lit(o, ",\"counts\":");
    ngx_http_rtdash_json_counts(o, zi, cnt);
    ngx_http_rtdash_out_lit(o, ",\"flagged\":");
    ngx_http_rtdash_json_counts(o, zi, cnt + ctx->ntypes);
    ngx_http_rtdash_out_lit(o, ",\"users\":");
    ngx_http_rtdash_out_uint(o, ngx_http_rtdash_users_estimate(m->users));
    ngx_http_rtdash_out_lit(o, ",\"value\":");
    ngx_http_rtdash_json_vstat(o, &m->value);
    ngx_http_rtdash_out_lit(o, ",\"gauges\":{");

    gs = (ngx_http_rtdash_gstat_t *) (cnt + 2 * ctx->ntypes);

    for (g = 0, first = 1; g < ngauges; g++) {
        if (!gs[g].set) {
            continue;
        }

        if (!first) {
            ngx_http_rtdash_out_lit(o, ",");
        }

        first = 0;

        ngx_http_rtdash_out_str(o, names[g].name, names[g].len);
        ngx_http_rtdash_out_lit(o, ":{\"min\":");
        ngx_http_rtdash_out_num_g(o, gs[g].min, 7);
        ngx_http_rtdash_out_lit(o, ",\"max\":");
        ngx_http_rtdash_out_num_g(o, gs[g].max, 7);
        ngx_http_rtdash_out_lit(o, ",\"last\":");
        ngx_http_rtdash_out_num_g(o, gs[g].last, 7);
        ngx_http_rtdash_out_lit(o, "}");
    }

    ngx_http_rtdash_out_lit(o, "}}");
}


void
ngx_http_rtdash_json_second(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_zinfo_t *zi, uint32_t *sec,
    time_t t)
{
    ngx_http_rtdash_out_lit(o, "{\"t\":");
    ngx_http_rtdash_out_uint(o, t);

    if (sec == NULL) {
        ngx_http_rtdash_out_lit(o, ",\"counts\":{},\"flagged\":{}}");
        return;
    }

    ngx_http_rtdash_out_lit(o, ",\"counts\":");
    ngx_http_rtdash_json_counts(o, zi, sec + 1);
    ngx_http_rtdash_out_lit(o, ",\"flagged\":");
    ngx_http_rtdash_json_counts(o, zi, sec + 1 + ctx->ntypes);
    ngx_http_rtdash_out_lit(o, "}");
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
