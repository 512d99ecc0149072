/*
 * rtdash: the sketches against exact answers computed here.
 *
 * Values: p50/p95/p99 (nearest rank) of uniform, lognormal, bimodal,
 * constant and Pareto values, values at the ends of the range, a window of
 * 30 minutes merged, two histograms merged; relative error at most 5 % each
 * and 2 % on average.  Users: 1 to 1,000,000 distinct, unions across
 * minutes; exact below 64, within 5 % on average, 12 % at worst.
 * Packed: a closed minute's histogram and users (keys or registers)
 * packed and unpacked are the same, field for field, and a minute of 33
 * values and 33 users fits, or 133 users.
 * Prints the figures README quotes.
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_rtdash_sketch.h"

static int       failed;
static double    err_sum;
static unsigned  err_n;
static double    err_max;

static uint64_t  rng = 88172645463325252ULL;

static double
urand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return ((rng >> 11) + 0.5) / 9007199254740992.0;
}

static double
normal(void)
{
    return sqrt(-2 * log(urand())) * cos(2 * M_PI * urand());
}

static int
cmp(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static double
exact(double *v, size_t n, double q)
{
    size_t rank = (size_t) ceil(q * n);
    if (rank < 1) rank = 1;
    return v[rank - 1];
}

static void
check(const char *name, double *v, size_t n, const double *got)
{
    static const double  q[3] = { 0.50, 0.95, 0.99 };
    double               e, want, worst = 0;
    unsigned             i;

    qsort(v, n, sizeof(double), cmp);

    for (i = 0; i < 3; i++) {
        want = exact(v, n, q[i]);
        e = want == 0 ? fabs(got[i]) : fabs(got[i] - want) / fabs(want);
        err_sum += e;
        err_n++;
        if (e > worst) worst = e;
        if (e > err_max) err_max = e;
        if (e > 0.05) {
            printf("FAIL %s p%g: %g, exact %g (%.2f %%)\n", name,
                   q[i] * 100, got[i], want, e * 100);
            failed++;
        }
    }

    printf("ok   %-28s n=%-7zu p50 %-10.4g p95 %-10.4g p99 %-10.4g "
           "worst %.2f %%\n", name, n, got[0], got[1], got[2], worst * 100);
}

static uint32_t
coin(void)
{
    return (uint32_t) (urand() * 4294967296.0);
}

static void
add(ngx_http_rtdash_vstat_t *vs, double v)
{
    ngx_http_rtdash_vstat_add(vs, v, ngx_http_rtdash_value_index(v), coin());
}

/*
 * What the quantile walk and the merge skip: no bin counts anything
 * below the bin of min but the first (values below the window fold into
 * it), nor above the bin of max
 */
static void
span(const char *name, const ngx_http_rtdash_vstat_t *vs)
{
    int       lo, hi;
    unsigned  i;

    if (vs->count == vs->low) {
        return;
    }

    lo = ngx_http_rtdash_value_index(vs->min) - vs->base;
    hi = ngx_http_rtdash_value_index(vs->max) - vs->base;

    for (i = 0; i < NGX_HTTP_RTDASH_VBINS; i++) {
        if (vs->bins[i] && ((int) i > hi || (i > 0 && (int) i < lo))) {
            printf("FAIL %s: bin %u counts %u, outside the bins of min %g "
                   "and max %g (%d..%d)\n", name, i, vs->bins[i], vs->min,
                   vs->max, lo, hi);
            failed++;
            return;
        }
    }
}

/*
 * The cumulative buckets of Prometheus: exact while no count is scaled
 * and the values fit the window (none folded into an end bin)
 */
static void
octaves(const char *name, const ngx_http_rtdash_vstat_t *vs, double *v,
    size_t n)
{
    int       k, exact;
    size_t    i, want;
    uint64_t  got[21];

    ngx_http_rtdash_vstat_below_octaves(vs, -3, 17, got);

    exact = vs->shift == 0
            && ngx_http_rtdash_value_index(vs->max)
               - ngx_http_rtdash_value_index(vs->min < 0x1p-30 ? 0x1p-30
                                                               : vs->min)
               < NGX_HTTP_RTDASH_VBINS;

    for (k = -3; k <= 17; k++) {
        for (i = 0, want = 0; i < n; i++) {
            want += v[i] < ldexp(1.0, k);
        }

        if (exact ? got[k + 3] != want
            : fabs((double) got[k + 3] - want) > 0.05 * n)
        {
            printf("FAIL %s: %llu values below 2^%d, exact %zu\n", name,
                   (unsigned long long) got[k + 3], k, want);
            failed++;
            return;
        }
    }
}

static void
one(const char *name, double *v, size_t n, int merged)
{
    static const double       q[3] = { 0.50, 0.95, 0.99 };
    static ngx_http_rtdash_vwide_t  w;
    ngx_http_rtdash_vstat_t   vs, part[30], sum;
    double                    got[3], mn, mx;
    size_t                    i, k;

    memset(&vs, 0, sizeof(vs));
    for (i = 0; i < n; i++) {
        add(&vs, v[i]);
    }
    ngx_http_rtdash_vstat_quantiles(&vs, q, got, 3);
    span(name, &vs);
    octaves(name, &vs, v, n);

    mn = mx = v[0];
    for (i = 1; i < n; i++) {
        if (v[i] < mn) mn = v[i];
        if (v[i] > mx) mx = v[i];
    }
    if (vs.count != n || vs.min != mn || vs.max != mx) {
        printf("FAIL %s: count %u min %g max %g\n", name, vs.count, vs.min,
               vs.max);
        failed++;
    }

    if (merged) {
        /* 30 minutes, each its own histogram: merged wide and compact */
        memset(part, 0, sizeof(part));
        for (i = 0; i < n; i++) {
            k = i % 30;
            add(&part[k], v[i]);
        }
        ngx_http_rtdash_vwide_init(&w);
        memset(&sum, 0, sizeof(sum));
        for (k = 0; k < 30; k++) {
            ngx_http_rtdash_vwide_add(&w, &part[k]);
            ngx_http_rtdash_vstat_merge(&sum, &part[k]);
            span(name, &part[k]);
            span(name, &sum);
        }
        check(name, v, n, got);
        {
            char buf[64];
            double g2[3];
            ngx_http_rtdash_vwide_quantiles(&w, q, g2, 3);
            snprintf(buf, sizeof(buf), "%s, 30 min wide", name);
            check(buf, v, n, g2);
            ngx_http_rtdash_vstat_quantiles(&sum, q, g2, 3);
            snprintf(buf, sizeof(buf), "%s, 30 min merged", name);
            check(buf, v, n, g2);
        }
        return;
    }

    check(name, v, n, got);
}

static void
values(void)
{
    static double  v[1000000], a[40000];
    size_t         i, n = 20000;

    for (i = 0; i < n; i++) v[i] = 1 + urand() * 999;
    one("uniform 1..1000", v, n, 1);
    for (i = 0; i < n; i++) v[i] = 20 * exp(normal() * 1.0);
    one("lognormal median 20", v, n, 1);
    for (i = 0; i < n; i++)
        v[i] = urand() < 0.7 ? 5 * exp(normal() * 0.2)
                             : 800 * exp(normal() * 0.3);
    one("bimodal 5 / 800", v, n, 1);
    for (i = 0; i < n; i++) v[i] = 42.5;
    one("constant 42.5", v, n, 1);
    for (i = 0; i < n; i++) v[i] = 1 / pow(urand(), 1 / 1.16);
    one("pareto alpha 1.16", v, n, 1);
    for (i = 0; i < n; i++) v[i] = urand() < 0.5 ? 1e-3 : 3.6e6;
    one("ends 1e-3 and 3.6e6", v, n, 0);
    for (i = 0; i < n; i++) v[i] = 1e-3 * (1 + urand() * 0.01);
    one("near 1e-3", v, n, 0);
    for (i = 0; i < n; i++) v[i] = 3.6e6 * (1 - urand() * 0.01);
    one("near 3.6e6", v, n, 0);
    for (i = 0; i < n; i++) v[i] = exp(log(1e-3) + urand() * log(3.6e9));
    one("log-uniform 1e-3..3.6e6", v, n, 1);
    for (i = 0; i < n; i++) v[i] = urand() < 0.1 ? 0 : 10 + urand();
    one("zeros and 10..11", v, n, 0);
    n = 1000000;
    for (i = 0; i < n; i++) v[i] = 20 * exp(normal() * 0.7);
    one("lognormal 1M (shifted)", v, n, 0);

    /* two tools merged, each its own range */
    {
        static const double q[3] = { 0.50, 0.95, 0.99 };
        ngx_http_rtdash_vstat_t x, y;
        double got[3];
        memset(&x, 0, sizeof(x));
        memset(&y, 0, sizeof(y));
        for (i = 0; i < 20000; i++) {
            a[i] = 2 * exp(normal() * 0.5);
            add(&x, a[i]);
            a[20000 + i] = 2000 * exp(normal() * 0.5);
            add(&y, a[20000 + i]);
        }
        ngx_http_rtdash_vstat_merge(&x, &y);
        ngx_http_rtdash_vstat_quantiles(&x, q, got, 3);
        check("two tools merged", a, 40000, got);
    }
}

static void
name(char *buf, unsigned long i)
{
    sprintf(buf, "user-%lu", i);
}

static uint32_t
key(const char *buf)
{
    return ngx_http_rtdash_user_key((const unsigned char *) buf, strlen(buf));
}

static void
users(void)
{
    static const unsigned long  ns[] = { 1, 10, 63, 64, 100, 1000, 5000,
                                         10000, 100000, 1000000 };
    ngx_http_rtdash_hll_t       h, a, b;
    ngx_http_rtdash_hwide_t     w;
    unsigned long               i, k, n;
    uint64_t                    est;
    double                      e, sum = 0, worst = 0;
    unsigned                    cnt = 0;
    char                        buf[32];

    printf("hll sizeof %zu\n", sizeof(ngx_http_rtdash_hll_t));

    for (k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
        n = ns[k];
        memset(&h, 0, sizeof(h));
        for (i = 0; i < n; i++) {
            name(buf, i + 7 * n);
            ngx_http_rtdash_hll_add(&h, key(buf));
            ngx_http_rtdash_hll_add(&h, key(buf));
        }
        est = ngx_http_rtdash_hll_estimate(&h);
        e = fabs((double) est - n) / n;
        printf("%s users %-8lu estimate %-8llu %.2f %%\n",
               (n < 64 && est != n) || e > 0.12 ? "FAIL" : "ok  ",
               n, (unsigned long long) est, e * 100);
        if ((n < 64 && est != n) || e > 0.12) failed++;
        if (n >= 64) { sum += e; cnt++; if (e > worst) worst = e; }
    }

    /* many sets of each size: the typical error */
    for (k = 100; k <= 100000; k *= 10) {
        double s2 = 0;
        unsigned t;
        for (t = 0; t < 40; t++) {
            memset(&h, 0, sizeof(h));
            for (i = 0; i < k; i++) {
                sprintf(buf, "s%u-%lu", t, i);
                ngx_http_rtdash_hll_add(&h, key(buf));
            }
            e = ((double) ngx_http_rtdash_hll_estimate(&h) - k) / k;
            s2 += e * e;
        }
        printf("ok   users %-8lu rms error over 40 sets %.2f %%\n", k,
               sqrt(s2 / 40) * 100);
        if (sqrt(s2 / 40) > 0.05) { printf("FAIL rms\n"); failed++; }
    }

    /* overlapping sets: the union counts once, compact and wide */
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    for (i = 0; i < 10000; i++) {
        name(buf, i);
        ngx_http_rtdash_hll_add(&a, key(buf));
        name(buf, i + 5000);
        ngx_http_rtdash_hll_add(&b, key(buf));
    }
    ngx_http_rtdash_hwide_init(&w);
    ngx_http_rtdash_hwide_add(&w, &a);
    ngx_http_rtdash_hwide_add(&w, &b);
    est = ngx_http_rtdash_hwide_estimate(&w);
    e = fabs((double) est - 15000) / 15000;
    printf("%s union 10000+10000, 5000 shared: %llu (%.2f %%)\n",
           e > 0.08 ? "FAIL" : "ok  ", (unsigned long long) est, e * 100);
    if (e > 0.08) failed++;
    ngx_http_rtdash_hll_merge(&a, &b);
    est = ngx_http_rtdash_hll_estimate(&a);
    e = fabs((double) est - 15000) / 15000;
    printf("%s compact union: %llu (%.2f %%)\n",
           e > 0.08 ? "FAIL" : "ok  ", (unsigned long long) est, e * 100);
    if (e > 0.08) failed++;

    /* small sets across minutes stay exact */
    ngx_http_rtdash_hwide_init(&w);
    for (k = 0; k < 5; k++) {
        memset(&h, 0, sizeof(h));
        for (i = 0; i < 10; i++) {
            name(buf, i + k * 5);
            ngx_http_rtdash_hll_add(&h, key(buf));
        }
        ngx_http_rtdash_hwide_add(&w, &h);
    }
    est = ngx_http_rtdash_hwide_estimate(&w);
    printf("%s 5 minutes of 10 users, 30 distinct: %llu\n",
           est == 30 ? "ok  " : "FAIL", (unsigned long long) est);
    if (est != 30) failed++;

    printf("users: mean error %.2f %%, worst %.2f %% (64 and above)\n",
           sum / cnt * 100, worst * 100);
    if (sum / cnt > 0.05) { printf("FAIL mean\n"); failed++; }
}


/* packed and unpacked: the same histogram and users, field for field */

static int
pack_same(const ngx_http_rtdash_vstat_t *vs, const ngx_http_rtdash_hll_t *h,
    size_t *size)
{
    unsigned                 i;
    unsigned char            buf[NGX_HTTP_RTDASH_PACK_SIZE + 64];
    ngx_http_rtdash_vstat_t  v;
    ngx_http_rtdash_hll_t    u;

    memset(buf, 0xa5, sizeof(buf));
    *size = ngx_http_rtdash_pack(buf, NGX_HTTP_RTDASH_PACK_SIZE, vs, h);

    if (*size == 0) {
        return 1;
    }

    /* never past the record */
    for (i = NGX_HTTP_RTDASH_PACK_SIZE; i < sizeof(buf); i++) {
        if (buf[i] != 0xa5) return 0;
    }

    if (vs) {
        if (!((ngx_http_rtdash_pack_t *) buf)->bits) return 0;
        ngx_http_rtdash_unpack_values(buf, &v);
        if (v.count != vs->count || v.low != vs->low || v.min != vs->min
            || v.max != vs->max || v.sum != vs->sum || v.base != vs->base
            || v.shift != vs->shift || v.nout != vs->nout
            || memcmp(v.bins, vs->bins, sizeof(v.bins)) != 0
            || memcmp(v.out, vs->out, vs->nout * sizeof(v.out[0])) != 0)
        {
            return 0;
        }
    }

    if (h) {
        if (!((ngx_http_rtdash_pack_t *) buf)->users) return 0;
        ngx_http_rtdash_unpack_users(buf, &u);
        if (u.dense != h->dense || u.n != h->n
            || (h->dense && (u.zero != h->zero
                             || memcmp(u.u.regs, h->u.regs,
                                       sizeof(u.u.regs)) != 0))
            || (!h->dense && memcmp(u.u.keys, h->u.keys,
                                    h->n * sizeof(uint32_t)) != 0))
        {
            return 0;
        }
    }

    return 1;
}

static void
packs(void)
{
    char                     buf[32];
    size_t                   size;
    unsigned                 i, k, n, nu, fit, same, trials;
    double                   v, scale, spread;
    ngx_http_rtdash_vstat_t  vs;
    ngx_http_rtdash_hll_t    h;

    /* scripts/zone-memory's heavy minute: 33 values and 33 users */
    memset(&vs, 0, sizeof(vs));
    memset(&h, 0, sizeof(h));
    for (i = 0; i < 33; i++) {
        v = i + 0.5;
        ngx_http_rtdash_vstat_add(&vs, v, ngx_http_rtdash_value_index(v), 0);
        snprintf(buf, sizeof(buf), "b0-%u", i);
        ngx_http_rtdash_hll_add(&h, key(buf));
    }
    k = pack_same(&vs, &h, &size);
    printf("%s 33 values and 33 users packed in %zu of %d bytes\n",
           k && size ? "ok  " : "FAIL", size, NGX_HTTP_RTDASH_PACK_SIZE);
    if (!k || size == 0) failed++;

    /* with 100 users more, the sketch holds registers: packed as well */
    for (i = 0; i < 100; i++) {
        snprintf(buf, sizeof(buf), "d%u", i);
        ngx_http_rtdash_hll_add(&h, key(buf));
    }
    k = pack_same(&vs, &h, &size);
    printf("%s 33 values and 133 users (registers) packed in %zu bytes\n",
           k && size ? "ok  " : "FAIL", size);
    if (!k || size == 0) failed++;

    /* random minutes: narrow and wide, few and many values (counts in
       units of 2^shift), values below 2^-30, bins kept apart */
    trials = 3000;
    fit = 0;
    same = 0;
    for (k = 0; k < trials; k++) {
        memset(&vs, 0, sizeof(vs));
        memset(&h, 0, sizeof(h));
        n = 1 + (unsigned) (urand() * (k % 3 == 0 ? 300000 : 400));
        scale = exp(normal() * 5);
        spread = urand() * (k % 5 == 0 ? 12 : 1.5);
        for (i = 0; i < n; i++) {
            v = urand() < 0.01 ? 0 : scale * exp(normal() * spread);
            if (k % 7 == 0 && i % 50 == 0) v = i % 100 ? 1e-8 : 1e9;
            ngx_http_rtdash_vstat_add(&vs, v, ngx_http_rtdash_value_index(v),
                                      coin());
        }
        nu = (unsigned) (urand() * (k % 2 ? 64 : 400));
        for (i = 0; i < nu; i++) {
            snprintf(buf, sizeof(buf), "r%u-%u", k, i);
            ngx_http_rtdash_hll_add(&h, key(buf));
        }
        if (pack_same(&vs, nu ? &h : NULL, &size)) same++;
        if (size) fit++;
        if (pack_same(&vs, NULL, &size)) same++;
        if (!nu || pack_same(NULL, &h, &size)) same++;
    }
    printf("%s %u random minutes packed the same (%u with their users)\n",
           same == 3 * trials ? "ok  " : "FAIL", trials, fit);
    if (same != 3 * trials) failed++;
}

int
main(void)
{
    printf("vstat sizeof %zu (histogram %zu)\n",
           sizeof(ngx_http_rtdash_vstat_t),
           sizeof(ngx_http_rtdash_vstat_t)
           - offsetof(ngx_http_rtdash_vstat_t, base));
    values();
    printf("values: mean error %.2f %%, worst %.2f %%\n",
           err_sum / err_n * 100, err_max * 100);
    if (err_sum / err_n > 0.02) { printf("FAIL mean\n"); failed++; }
    users();
    packs();
    printf("%d failed\n", failed);
    return failed != 0;
}
