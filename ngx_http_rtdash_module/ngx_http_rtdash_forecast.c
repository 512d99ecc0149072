
/*
 * rtdash: forecasts of a tool's per-minute counts, computed at read time
 * (stats?tool=X&forecast=N) from the minutes of the window: Holt's
 * linear trend (double exponential smoothing), with the smoothing
 * factors that fit the window best, and a 95 % band from the one-step
 * errors.  No seasonality: it follows a level and a trend, nothing that
 * repeats by the hour or the day.
 */


#include "ngx_http_rtdash_module.h"

#include <math.h>


/* the factors tried: 0.1 .. 0.9 for both */
#define NGX_HTTP_RTDASH_HOLT_STEPS  9


typedef struct {
    double                      alpha;
    double                      beta;
    double                      level;
    double                      trend;
    double                      sse;
    ngx_uint_t                  n;            /* one-step errors summed */
} ngx_http_rtdash_holt_t;


static void ngx_http_rtdash_holt(double *x, ngx_uint_t n, double alpha,
    double beta, ngx_http_rtdash_holt_t *h);
static void ngx_http_rtdash_holt_best(double *x, ngx_uint_t n,
    ngx_http_rtdash_holt_t *best);
static void ngx_http_rtdash_forecast_type(ngx_http_rtdash_out_t *o,
    double *x, ngx_uint_t n, time_t from, ngx_uint_t steps);


static void
ngx_http_rtdash_holt(double *x, ngx_uint_t n, double alpha, double beta,
    ngx_http_rtdash_holt_t *h)
{
    double      level, trend, prev, e;
    ngx_uint_t  i;

    level = x[0];
    trend = x[1] - x[0];

    h->alpha = alpha;
    h->beta = beta;
    h->sse = 0;
    h->n = 0;

    for (i = 1; i < n; i++) {
        e = x[i] - (level + trend);
        h->sse += e * e;
        h->n++;

        prev = level;
        level = alpha * x[i] + (1 - alpha) * (level + trend);
        trend = beta * (level - prev) + (1 - beta) * trend;
    }

    h->level = level;
    h->trend = trend;
}


/* the factors with the least squared one-step error; the first on ties */

static void
ngx_http_rtdash_holt_best(double *x, ngx_uint_t n,
    ngx_http_rtdash_holt_t *best)
{
    ngx_uint_t              a, b;
    ngx_http_rtdash_holt_t  h;

    ngx_http_rtdash_holt(x, n, 0.1, 0.1, best);

    for (a = 1; a <= NGX_HTTP_RTDASH_HOLT_STEPS; a++) {
        for (b = 1; b <= NGX_HTTP_RTDASH_HOLT_STEPS; b++) {
            ngx_http_rtdash_holt(x, n, a / 10.0, b / 10.0, &h);

            if (h.sse < best->sse - 1e-9) {
                *best = h;
            }
        }
    }
}


/*
 * "forecast":{"steps":N,"from":<minute>,"types":{"borrow":{"alpha","beta",
 * "sigma","points":[{"t","value","low","high"},...]}}}: x holds, per type,
 * the counts of the window's n complete minutes; the forecast starts at
 * the current minute, "from".  A type's series starts at its first
 * minute with a count (or three minutes back, if that is later).
 */

void
ngx_http_rtdash_forecast_json(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_zinfo_t *zi, double *x, ngx_uint_t ntypes, ngx_uint_t n,
    time_t from, ngx_uint_t steps)
{
    ngx_uint_t  k, first;

    ngx_http_rtdash_out_lit(o, "{\"steps\":");
    ngx_http_rtdash_out_uint(o, steps);
    ngx_http_rtdash_out_lit(o, ",\"from\":");
    ngx_http_rtdash_out_uint(o, from);
    ngx_http_rtdash_out_lit(o, ",\"types\":{");

    first = 1;

    for (k = 0; k < zi->ntypes && k < ntypes; k++) {

        /* three complete minutes at least: two to start, one to fit */

        if (n < 3) {
            break;
        }

        if (!first) {
            ngx_http_rtdash_out_lit(o, ",");
        }

        first = 0;

        ngx_http_rtdash_out_str(o, zi->types[k].name, zi->types[k].len);
        ngx_http_rtdash_out_lit(o, ":");
        ngx_http_rtdash_forecast_type(o, x + k * n, n, from, steps);
    }

    ngx_http_rtdash_out_lit(o, "}}");
}


static void
ngx_http_rtdash_forecast_type(ngx_http_rtdash_out_t *o, double *x,
    ngx_uint_t n, time_t from, ngx_uint_t steps)
{
    double                  v, sigma, var, c, half;
    ngx_uint_t              h, j, start;
    ngx_http_rtdash_holt_t  best;

    /* the minutes before the type's first count are not part of it */

    for (start = 0; start < n && x[start] == 0; start++) { /* void */ }

    if (n - start < 3) {
        start = n - 3;
    }

    ngx_http_rtdash_holt_best(x + start, n - start, &best);

    sigma = best.n ? sqrt(best.sse / best.n) : 0;

    ngx_http_rtdash_out_lit(o, "{\"alpha\":");
    ngx_http_rtdash_out_num_g(o, best.alpha, 3);
    ngx_http_rtdash_out_lit(o, ",\"beta\":");
    ngx_http_rtdash_out_num_g(o, best.beta, 3);
    ngx_http_rtdash_out_lit(o, ",\"sigma\":");
    ngx_http_rtdash_out_num_g(o, sigma, 6);
    ngx_http_rtdash_out_lit(o, ",\"points\":[");

    for (h = 1; h <= steps; h++) {

        /*
         * The variance of the h-step error of Holt's method:
         * sigma^2 (1 + sum_{j<h} (alpha (1 + j beta))^2)
         */

        var = 1;

        for (j = 1; j < h; j++) {
            c = best.alpha * (1 + j * best.beta);
            var += c * c;
        }

        v = best.level + h * best.trend;
        half = 1.96 * sigma * sqrt(var);

        if (h > 1) {
            ngx_http_rtdash_out_lit(o, ",");
        }

        ngx_http_rtdash_out_lit(o, "{\"t\":");
        ngx_http_rtdash_out_uint(o, from + (time_t) (h - 1) * 60);
        ngx_http_rtdash_out_lit(o, ",\"value\":");
        ngx_http_rtdash_out_num_g(o, v > 0 ? v : 0, 6);
        ngx_http_rtdash_out_lit(o, ",\"low\":");
        ngx_http_rtdash_out_num_g(o, v - half > 0 ? v - half : 0, 6);
        ngx_http_rtdash_out_lit(o, ",\"high\":");
        ngx_http_rtdash_out_num_g(o, v + half > 0 ? v + half : 0, 6);
        ngx_http_rtdash_out_lit(o, "}");
    }

    ngx_http_rtdash_out_lit(o, "]}");
}
