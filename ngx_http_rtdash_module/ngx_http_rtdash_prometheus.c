
/*
 * rtdash: the Prometheus handler, text exposition format 0.0.4.  The same
 * summaries as the stats overview (copied one tool per lock), rendered
 * one metric family at a time, every sample labelled with its zone.  The
 * values come twice: as a summary (quantiles of one node) and as a
 * histogram with power-of-two buckets (which add up across a fleet).
 */


#include "ngx_http_rtdash_module.h"

#include <math.h>


/*
 * The histogram's bucket bounds: every octave from 2^-3 to 2^17, where
 * the zone's log-scale bins start, so that each bucket is exact.
 */
#define NGX_HTTP_RTDASH_PROM_LE_MIN     -3
#define NGX_HTTP_RTDASH_PROM_LE_MAX     17


typedef struct {
    ngx_http_rtdash_out_t      *o;
    ngx_http_rtdash_ctx_t      *ctx;
    ngx_http_rtdash_zinfo_t    *zi;
    ngx_http_rtdash_summary_t  *s;
    ngx_uint_t                  n;
} ngx_http_rtdash_prom_t;


static void ngx_http_rtdash_prom_family(ngx_http_rtdash_prom_t *pm,
    const char *name, const char *type, const char *help);
static void ngx_http_rtdash_prom_labels(ngx_http_rtdash_prom_t *pm,
    const char *metric, ngx_http_rtdash_summary_t *s);
static void ngx_http_rtdash_prom_label(ngx_http_rtdash_out_t *o,
    const char *name, const u_char *value, size_t len);
static void ngx_http_rtdash_prom_value(ngx_http_rtdash_out_t *o, double v,
    int digits);
static void ngx_http_rtdash_prom_zone(ngx_http_rtdash_prom_t *pm);
static void ngx_http_rtdash_prom_counts(ngx_http_rtdash_prom_t *pm,
    ngx_uint_t flagged);
static void ngx_http_rtdash_prom_gauges(ngx_http_rtdash_prom_t *pm);
static void ngx_http_rtdash_prom_values(ngx_http_rtdash_prom_t *pm);
static void ngx_http_rtdash_prom_histogram(ngx_http_rtdash_prom_t *pm);
static void ngx_http_rtdash_prom_bucket(ngx_http_rtdash_prom_t *pm,
    ngx_http_rtdash_summary_t *s, double le, uint64_t n);


ngx_int_t
ngx_http_rtdash_prometheus_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_http_rtdash_out_t        o;
    ngx_http_rtdash_prom_t       pm;
    ngx_http_rtdash_loc_conf_t  *lcf;

    rc = ngx_http_rtdash_check_get(r);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_rtdash_module);

    pm.ctx = lcf->zone->data;

    rc = ngx_http_rtdash_summaries(r, pm.ctx, &pm.zi, &pm.s, &pm.n);
    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_rtdash_out_init(&o, r->pool, 16384);
    pm.o = &o;

    ngx_http_rtdash_prom_zone(&pm);
    ngx_http_rtdash_prom_counts(&pm, 0);
    ngx_http_rtdash_prom_counts(&pm, 1);
    ngx_http_rtdash_prom_gauges(&pm);
    ngx_http_rtdash_prom_values(&pm);
    ngx_http_rtdash_prom_histogram(&pm);

    return ngx_http_rtdash_send_out(r, NGX_HTTP_OK, &o,
                                    "text/plain; version=0.0.4; "
                                    "charset=utf-8");
}


static void
ngx_http_rtdash_prom_family(ngx_http_rtdash_prom_t *pm, const char *name,
    const char *type, const char *help)
{
    ngx_http_rtdash_out_lit(pm->o, "# HELP ");
    ngx_http_rtdash_out_raw(pm->o, (u_char *) name, ngx_strlen(name));
    ngx_http_rtdash_out_lit(pm->o, " ");
    ngx_http_rtdash_out_raw(pm->o, (u_char *) help, ngx_strlen(help));
    ngx_http_rtdash_out_lit(pm->o, "\n# TYPE ");
    ngx_http_rtdash_out_raw(pm->o, (u_char *) name, ngx_strlen(name));
    ngx_http_rtdash_out_lit(pm->o, " ");
    ngx_http_rtdash_out_raw(pm->o, (u_char *) type, ngx_strlen(type));
    ngx_http_rtdash_out_lit(pm->o, "\n");
}


/* "metric{zone="..."[,tool="..."]": the caller adds labels and "} value" */

static void
ngx_http_rtdash_prom_labels(ngx_http_rtdash_prom_t *pm, const char *metric,
    ngx_http_rtdash_summary_t *s)
{
    ngx_http_rtdash_out_raw(pm->o, (u_char *) metric, ngx_strlen(metric));
    ngx_http_rtdash_out_lit(pm->o, "{");
    ngx_http_rtdash_prom_label(pm->o, "zone", pm->ctx->name.data,
                               pm->ctx->name.len);

    if (s) {
        ngx_http_rtdash_out_lit(pm->o, ",");
        ngx_http_rtdash_prom_label(pm->o, "tool", s->name, s->name_len);
    }
}


/* a label value escapes backslash, double quote and line feed */

static void
ngx_http_rtdash_prom_label(ngx_http_rtdash_out_t *o, const char *name,
    const u_char *value, size_t len)
{
    u_char  *p, *start;
    size_t   i;

    ngx_http_rtdash_out_raw(o, (u_char *) name, ngx_strlen(name));
    ngx_http_rtdash_out_lit(o, "=\"");

    /* the worst case: every byte escaped, and the closing quote */

    start = ngx_http_rtdash_out_reserve(o, len * 2 + 1);
    if (start == NULL) {
        return;
    }

    p = start;

    for (i = 0; i < len; i++) {
        switch (value[i]) {

        case '\\':
        case '"':
            *p++ = '\\';
            *p++ = value[i];
            break;

        case '\n':
            *p++ = '\\';
            *p++ = 'n';
            break;

        default:
            *p++ = value[i];
        }
    }

    *p++ = '"';

    o->buf->last = p;
    o->size += p - start;
}


/* a sample's value: NaN as the format spells it, else as JSON numbers */

static void
ngx_http_rtdash_prom_value(ngx_http_rtdash_out_t *o, double v, int digits)
{
    ngx_http_rtdash_out_lit(o, " ");

    if (isnan(v)) {
        ngx_http_rtdash_out_lit(o, "NaN\n");
        return;
    }

    ngx_http_rtdash_out_num_g(o, v, digits);
    ngx_http_rtdash_out_lit(o, "\n");
}


static void
ngx_http_rtdash_prom_zone(ngx_http_rtdash_prom_t *pm)
{
    uint64_t                  values[8];
    ngx_uint_t                i;
    ngx_http_rtdash_zinfo_t  *zi;

    static const struct {
        const char  *name;
        const char  *type;
        const char  *help;
    } families[] = {
        { "rtdash_zone_size_bytes", "gauge",
          "Size of the shared memory zone." },
        { "rtdash_zone_used_bytes", "gauge",
          "Bytes of the zone in use." },
        { "rtdash_zone_tools", "gauge",
          "Tools in the zone." },
        { "rtdash_zone_max_tools", "gauge",
          "Tools the zone has room for." },
        { "rtdash_zone_events_accepted_total", "counter",
          "Events recorded." },
        { "rtdash_zone_requests_rejected_total", "counter",
          "Ingest requests refused with 400 or 413." },
        { "rtdash_zone_requests_refused_total", "counter",
          "Ingest requests refused with 507, the zone being full." },
        { "rtdash_zone_start_time_seconds", "gauge",
          "When the zone's data started, in epoch seconds." }
    };

    zi = pm->zi;

    values[0] = pm->ctx->size;
    values[1] = zi->used;
    values[2] = zi->ntools;
    values[3] = zi->max_tools;
    values[4] = zi->accepted;
    values[5] = zi->rejected;
    values[6] = zi->refused;
    values[7] = zi->started;

    for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
        ngx_http_rtdash_prom_family(pm, families[i].name, families[i].type,
                                    families[i].help);
        ngx_http_rtdash_prom_labels(pm, families[i].name, NULL);
        ngx_http_rtdash_out_lit(pm->o, "} ");
        ngx_http_rtdash_out_uint(pm->o, values[i]);
        ngx_http_rtdash_out_lit(pm->o, "\n");
    }
}


/* per tool and type: every event, or the flagged ones */

static void
ngx_http_rtdash_prom_counts(ngx_http_rtdash_prom_t *pm, ngx_uint_t flagged)
{
    uint64_t                   *v;
    ngx_uint_t                  i, k;
    const char                 *name;
    ngx_http_rtdash_type_t     *type;
    ngx_http_rtdash_summary_t  *s;

    name = flagged ? "rtdash_events_flagged_total" : "rtdash_events_total";

    ngx_http_rtdash_prom_family(pm, name, "counter",
                                flagged ? "Events recorded with flag true, "
                                          "by tool and type."
                                        : "Events recorded, by tool and "
                                          "type.");

    for (i = 0; i < pm->n; i++) {
        s = &pm->s[i];
        v = flagged ? s->flagged : s->totals;

        for (k = 0; k < pm->zi->ntypes; k++) {
            if (s->totals[k] == 0) {
                continue;
            }

            type = &pm->zi->types[k];

            ngx_http_rtdash_prom_labels(pm, name, s);
            ngx_http_rtdash_out_lit(pm->o, ",");
            ngx_http_rtdash_prom_label(pm->o, "type", type->name, type->len);
            ngx_http_rtdash_out_lit(pm->o, "} ");
            ngx_http_rtdash_out_uint(pm->o, v[k]);
            ngx_http_rtdash_out_lit(pm->o, "\n");
        }
    }
}


static void
ngx_http_rtdash_prom_gauges(ngx_http_rtdash_prom_t *pm)
{
    ngx_uint_t                  i, k;
    ngx_http_rtdash_gauge_t    *g;
    ngx_http_rtdash_summary_t  *s;

    ngx_http_rtdash_prom_family(pm, "rtdash_tool_level", "gauge",
                                "Last value written to a tool's gauge.");

    for (i = 0; i < pm->n; i++) {
        s = &pm->s[i];

        for (k = 0; k < s->ngauges; k++) {
            g = &s->gauges[k];

            ngx_http_rtdash_prom_labels(pm, "rtdash_tool_level", s);
            ngx_http_rtdash_out_lit(pm->o, ",");
            ngx_http_rtdash_prom_label(pm->o, "name", g->name, g->len);
            ngx_http_rtdash_out_lit(pm->o, "}");
            ngx_http_rtdash_prom_value(pm->o, g->value, 15);
        }
    }

    ngx_http_rtdash_prom_family(pm, "rtdash_tool_last_event_time_seconds",
                                "gauge",
                                "When a tool last recorded an event, in "
                                "epoch seconds.");

    for (i = 0; i < pm->n; i++) {
        ngx_http_rtdash_prom_labels(pm, "rtdash_tool_last_event_time_seconds",
                                    &pm->s[i]);
        ngx_http_rtdash_out_lit(pm->o, "}");
        ngx_http_rtdash_prom_value(pm->o, pm->s[i].updated, 13);
    }
}


/* the values of a tool's events as a summary: quantiles since the start */

static void
ngx_http_rtdash_prom_values(ngx_http_rtdash_prom_t *pm)
{
    double                      v[3];
    ngx_uint_t                  i, q;
    ngx_http_rtdash_vstat_t    *vs;
    ngx_http_rtdash_summary_t  *s;

    /* the order of ngx_http_rtdash_quantiles[] */
    static const char          *quantiles[] = { "0.5", "0.95", "0.99" };

    ngx_http_rtdash_prom_family(pm, "rtdash_value", "summary",
                                "The \"value\" of a tool's events; quantiles "
                                "from a log-scale histogram.");

    for (i = 0; i < pm->n; i++) {
        s = &pm->s[i];
        vs = &s->value;

        ngx_http_rtdash_vstat_quantiles(vs, ngx_http_rtdash_quantiles, v, 3);

        for (q = 0; q < sizeof(quantiles) / sizeof(quantiles[0]); q++) {
            ngx_http_rtdash_prom_labels(pm, "rtdash_value", s);
            ngx_http_rtdash_out_lit(pm->o, ",quantile=\"");
            ngx_http_rtdash_out_raw(pm->o, (u_char *) quantiles[q],
                                    ngx_strlen(quantiles[q]));
            ngx_http_rtdash_out_lit(pm->o, "\"}");
            /* 4 digits, as stats: the histogram is not finer */

            ngx_http_rtdash_prom_value(pm->o, vs->count ? v[q] : NAN, 4);
        }

        ngx_http_rtdash_prom_labels(pm, "rtdash_value_sum", s);
        ngx_http_rtdash_out_lit(pm->o, "}");
        ngx_http_rtdash_prom_value(pm->o, vs->sum, 15);

        ngx_http_rtdash_prom_labels(pm, "rtdash_value_count", s);
        ngx_http_rtdash_out_lit(pm->o, "} ");
        ngx_http_rtdash_out_uint(pm->o, vs->count);
        ngx_http_rtdash_out_lit(pm->o, "\n");
    }
}


/*
 * The same values as a cumulative histogram, which, unlike the summary's
 * quantiles, adds up across nodes: sum by (le) the buckets of a fleet and
 * histogram_quantile() gives the fleet's quantiles.  A bucket counts the
 * values below its bound (the zone's bins are [2^k, 2^(k+1))), the +Inf
 * bucket all of them.
 */

static void
ngx_http_rtdash_prom_histogram(ngx_http_rtdash_prom_t *pm)
{
    double                      le;
    ngx_int_t                   k;
    ngx_uint_t                  i;
    ngx_http_rtdash_vstat_t    *vs;
    ngx_http_rtdash_summary_t  *s;

    ngx_http_rtdash_prom_family(pm, "rtdash_value_hist", "histogram",
                                "The \"value\" of a tool's events; a bucket "
                                "counts the values below its bound.");

    for (i = 0; i < pm->n; i++) {
        s = &pm->s[i];
        vs = &s->value;

        for (k = NGX_HTTP_RTDASH_PROM_LE_MIN;
             k <= NGX_HTTP_RTDASH_PROM_LE_MAX;
             k++)
        {
            le = ldexp(1.0, k);
            ngx_http_rtdash_prom_bucket(pm, s, le,
                                        ngx_http_rtdash_vstat_below(vs, le));
        }

        ngx_http_rtdash_prom_bucket(pm, s, INFINITY, vs->count);

        ngx_http_rtdash_prom_labels(pm, "rtdash_value_hist_sum", s);
        ngx_http_rtdash_out_lit(pm->o, "}");
        ngx_http_rtdash_prom_value(pm->o, vs->sum, 15);

        ngx_http_rtdash_prom_labels(pm, "rtdash_value_hist_count", s);
        ngx_http_rtdash_out_lit(pm->o, "} ");
        ngx_http_rtdash_out_uint(pm->o, vs->count);
        ngx_http_rtdash_out_lit(pm->o, "\n");
    }
}


static void
ngx_http_rtdash_prom_bucket(ngx_http_rtdash_prom_t *pm,
    ngx_http_rtdash_summary_t *s, double le, uint64_t n)
{
    ngx_http_rtdash_prom_labels(pm, "rtdash_value_hist_bucket", s);

    if (isinf(le)) {
        ngx_http_rtdash_out_lit(pm->o, ",le=\"+Inf\"} ");

    } else {
        ngx_http_rtdash_out_lit(pm->o, ",le=\"");
        ngx_http_rtdash_out_num_g(pm->o, le, 15);
        ngx_http_rtdash_out_lit(pm->o, "\"} ");
    }

    ngx_http_rtdash_out_uint(pm->o, n);
    ngx_http_rtdash_out_lit(pm->o, "\n");
}
