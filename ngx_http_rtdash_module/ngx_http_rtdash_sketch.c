
/*
 * rtdash: the sketches: a compact log histogram per minute for value
 * percentiles, and a HyperLogLog for distinct users, with the readers'
 * wide forms that merge many of them without losing their bounds.
 */


#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_rtdash_sketch.h"


#define NGX_HTTP_RTDASH_VBASE_MAX                                            \
    (NGX_HTTP_RTDASH_VIDX_MAX - NGX_HTTP_RTDASH_VBINS + 1)


static int ngx_http_rtdash_vclamp_base(int base);
static void ngx_http_rtdash_vhalve(ngx_http_rtdash_vstat_t *vs);
static void ngx_http_rtdash_vbump(ngx_http_rtdash_vstat_t *vs, uint16_t *c,
    uint64_t u);
static void ngx_http_rtdash_vplace(ngx_http_rtdash_vstat_t *vs, int idx,
    uint64_t u);
static int ngx_http_rtdash_vslide(ngx_http_rtdash_vstat_t *vs, int idx);
static void ngx_http_rtdash_vrise(ngx_http_rtdash_vstat_t *vs, int idx);
static void ngx_http_rtdash_vfold(ngx_http_rtdash_vstat_t *vs);
static void ngx_http_rtdash_voutlier(ngx_http_rtdash_vstat_t *vs, int idx,
    uint64_t u);
static uint64_t ngx_http_rtdash_vunits(unsigned n, unsigned from,
    unsigned to);
static void ngx_http_rtdash_vminmax(double *dmin, double *dmax, double min,
    double max, int first);


int
ngx_http_rtdash_value_index(double v)
{
    double  l;

    if (!(v >= 0x1p-30)) {
        return NGX_HTTP_RTDASH_VIDX_LOW;
    }

    l = floor(log2(v) * NGX_HTTP_RTDASH_VRES);

    if (l > NGX_HTTP_RTDASH_VIDX_MAX) {
        return NGX_HTTP_RTDASH_VIDX_MAX;
    }

    return (int) l;
}


/* the geometric middle of bin idx */

double
ngx_http_rtdash_index_value(int idx)
{
    return exp2((idx + 0.5) / NGX_HTTP_RTDASH_VRES);
}


static int
ngx_http_rtdash_vclamp_base(int base)
{
    if (base < NGX_HTTP_RTDASH_VIDX_MIN) {
        return NGX_HTTP_RTDASH_VIDX_MIN;
    }

    if (base > NGX_HTTP_RTDASH_VBASE_MAX) {
        return NGX_HTTP_RTDASH_VBASE_MAX;
    }

    return base;
}


/*
 * Counts in units twice as large: an odd count rounds up and down in
 * turn, so the total stays within one unit of the truth.
 */

static void
ngx_http_rtdash_vhalve(ngx_http_rtdash_vstat_t *vs)
{
    unsigned  i, up;

    vs->shift++;
    up = 1;

    for (i = 0; i < NGX_HTTP_RTDASH_VBINS; i++) {
        if (vs->bins[i] & 1) {
            vs->bins[i] = (vs->bins[i] >> 1) + up;
            up ^= 1;

        } else {
            vs->bins[i] >>= 1;
        }
    }

    for (i = 0; i < vs->nout; i++) {
        if (vs->out[i].n & 1) {
            vs->out[i].n = (vs->out[i].n >> 1) + up;
            up ^= 1;

        } else {
            vs->out[i].n >>= 1;
        }
    }
}


/* add u units to a count, halving every count while it would overflow */

static void
ngx_http_rtdash_vbump(ngx_http_rtdash_vstat_t *vs, uint16_t *c, uint64_t u)
{
    while (*c + u > 0xffff) {
        ngx_http_rtdash_vhalve(vs);
        u = (u + 1) >> 1;
    }

    *c += (uint16_t) u;
}


/*
 * One value: exact count, sum, min and max, and its bin.  Once counts are
 * in units of 2^shift, a value adds a unit with a chance of 2^-shift,
 * decided by "coin" (any 32 random bits), so the counts stay unbiased.
 */

void
ngx_http_rtdash_vstat_add(ngx_http_rtdash_vstat_t *vs, double v, int idx,
    uint32_t coin)
{
    ngx_http_rtdash_vminmax(&vs->min, &vs->max, v, v, vs->count == 0);

    vs->sum += v;

    if (idx == NGX_HTTP_RTDASH_VIDX_LOW) {
        vs->count++;
        vs->low++;
        return;
    }

    if (vs->count == vs->low) {
        /* the first value with a bin: the window is centred on it */
        vs->base = (int16_t) ngx_http_rtdash_vclamp_base(
                                            idx - NGX_HTTP_RTDASH_VBINS / 2);
    }

    vs->count++;

    if (vs->shift && (coin & ((1u << vs->shift) - 1)) != 0) {
        return;
    }

    ngx_http_rtdash_vplace(vs, idx, 1);
}


/* n values of bin idx at once (min, max and sum are the caller's) */

void
ngx_http_rtdash_vstat_add_count(ngx_http_rtdash_vstat_t *vs, int idx,
    uint32_t n)
{
    if (idx == NGX_HTTP_RTDASH_VIDX_LOW) {
        vs->count += n;
        vs->low += n;
        return;
    }

    if (vs->count == vs->low) {
        vs->base = (int16_t) ngx_http_rtdash_vclamp_base(
                                            idx - NGX_HTTP_RTDASH_VBINS / 2);
    }

    vs->count += n;

    ngx_http_rtdash_vplace(vs, idx, ngx_http_rtdash_vunits(n, 0, vs->shift));
}


static void
ngx_http_rtdash_vminmax(double *dmin, double *dmax, double min, double max,
    int first)
{
    if (first || min < *dmin) {
        *dmin = min;
    }

    if (first || max > *dmax) {
        *dmax = max;
    }
}


static void
ngx_http_rtdash_vplace(ngx_http_rtdash_vstat_t *vs, int idx, uint64_t u)
{
    int  pos;

    if (u == 0) {
        return;
    }

    pos = idx - vs->base;

    if (pos < 0 || pos >= NGX_HTTP_RTDASH_VBINS) {
        if (!ngx_http_rtdash_vslide(vs, idx)) {
            ngx_http_rtdash_voutlier(vs, idx, u);
            return;
        }

        pos = idx - vs->base;
    }

    ngx_http_rtdash_vbump(vs, &vs->bins[pos], u);
}


/*
 * Move the window so that it holds idx and every counted bin, if they
 * span less than the window; the bins kept apart that it then covers
 * join it.
 */

static int
ngx_http_rtdash_vslide(ngx_http_rtdash_vstat_t *vs, int idx)
{
    int  lo, hi, nlo, nhi, base, delta, n;

    for (lo = 0; lo < NGX_HTTP_RTDASH_VBINS && vs->bins[lo] == 0; lo++) {
        /* void */
    }

    if (lo == NGX_HTTP_RTDASH_VBINS) {
        vs->base = (int16_t) ngx_http_rtdash_vclamp_base(
                                            idx - NGX_HTTP_RTDASH_VBINS / 2);
        ngx_http_rtdash_vfold(vs);
        return 1;
    }

    for (hi = NGX_HTTP_RTDASH_VBINS - 1; vs->bins[hi] == 0; hi--) {
        /* void */
    }

    nlo = vs->base + lo < idx ? vs->base + lo : idx;
    nhi = vs->base + hi > idx ? vs->base + hi : idx;

    if (nhi - nlo >= NGX_HTTP_RTDASH_VBINS) {
        if (idx < vs->base) {
            return 0;
        }

        ngx_http_rtdash_vrise(vs, idx);
        return 1;
    }

    base = ngx_http_rtdash_vclamp_base(idx < vs->base
                                       ? nlo
                                       : nhi - NGX_HTTP_RTDASH_VBINS + 1);
    delta = base - vs->base;

    if (delta > 0) {
        n = NGX_HTTP_RTDASH_VBINS - delta;
        memmove(vs->bins, vs->bins + delta, n * sizeof(uint16_t));
        memset(vs->bins + n, 0, delta * sizeof(uint16_t));

    } else {
        n = NGX_HTTP_RTDASH_VBINS + delta;
        memmove(vs->bins - delta, vs->bins, n * sizeof(uint16_t));
        memset(vs->bins, 0, -delta * sizeof(uint16_t));
    }

    vs->base = (int16_t) base;

    ngx_http_rtdash_vfold(vs);

    return 1;
}


/*
 * Above a window that cannot move without losing counted bins: the high
 * values are the ones percentiles are read of, so the window rises to
 * idx, and the bins it leaves below are kept apart, or, when the four are
 * taken, join its lowest bin.
 */

static void
ngx_http_rtdash_vrise(ngx_http_rtdash_vstat_t *vs, int idx)
{
    int       base, delta, i;
    uint16_t  lost[NGX_HTTP_RTDASH_VBINS];

    base = ngx_http_rtdash_vclamp_base(idx - NGX_HTTP_RTDASH_VBINS + 1);
    delta = base - vs->base;

    if (delta >= NGX_HTTP_RTDASH_VBINS) {
        delta = NGX_HTTP_RTDASH_VBINS;
    }

    memcpy(lost, vs->bins, delta * sizeof(uint16_t));
    memmove(vs->bins, vs->bins + delta,
            (NGX_HTTP_RTDASH_VBINS - delta) * sizeof(uint16_t));
    memset(vs->bins + NGX_HTTP_RTDASH_VBINS - delta, 0,
           delta * sizeof(uint16_t));

    i = vs->base;
    vs->base = (int16_t) base;

    ngx_http_rtdash_vfold(vs);

    for (delta--; delta >= 0; delta--) {
        /* the highest first: they are the likeliest to keep a place */
        if (lost[delta]) {
            ngx_http_rtdash_voutlier(vs, i + delta, lost[delta]);
        }
    }
}


static void
ngx_http_rtdash_vfold(ngx_http_rtdash_vstat_t *vs)
{
    int                     pos;
    unsigned                i;
    ngx_http_rtdash_vout_t  e;

    i = 0;

    while (i < vs->nout) {
        pos = vs->out[i].idx - vs->base;

        if (pos < 0 || pos >= NGX_HTTP_RTDASH_VBINS) {
            i++;
            continue;
        }

        e = vs->out[i];
        vs->out[i] = vs->out[--vs->nout];

        ngx_http_rtdash_vbump(vs, &vs->bins[pos], e.n);
    }
}


/*
 * A bin outside a window that cannot move: one of the four kept apart,
 * or, when all four are taken, the nearest of them or the window's edge.
 */

static void
ngx_http_rtdash_voutlier(ngx_http_rtdash_vstat_t *vs, int idx, uint64_t u)
{
    int       d, best, edge;
    unsigned  i, at;

    for (i = 0; i < vs->nout; i++) {
        if (vs->out[i].idx == idx) {
            ngx_http_rtdash_vbump(vs, &vs->out[i].n, u);
            return;
        }
    }

    if (vs->nout < NGX_HTTP_RTDASH_VOUT) {
        i = vs->nout++;
        vs->out[i].idx = (int16_t) idx;
        vs->out[i].n = 0;
        ngx_http_rtdash_vbump(vs, &vs->out[i].n, u);
        return;
    }

    edge = idx < vs->base ? vs->base : vs->base + NGX_HTTP_RTDASH_VBINS - 1;
    best = abs(idx - edge);
    at = NGX_HTTP_RTDASH_VOUT;

    for (i = 0; i < vs->nout; i++) {
        d = abs(idx - vs->out[i].idx);

        if (d < best) {
            best = d;
            at = i;
        }
    }

    if (at == NGX_HTTP_RTDASH_VOUT) {
        ngx_http_rtdash_vbump(vs, &vs->bins[edge - vs->base], u);

    } else {
        ngx_http_rtdash_vbump(vs, &vs->out[at].n, u);
    }
}


/* src's counts in dst's units */

static uint64_t
ngx_http_rtdash_vunits(unsigned n, unsigned from, unsigned to)
{
    if (from >= to) {
        return (uint64_t) n << (from - to);
    }

    return ((uint64_t) n + (1u << (to - from - 1))) >> (to - from);
}


/*
 * The bins that may count something: none below the bin of min but the
 * first (values below the window fold into it), none above the bin of
 * max.  [*lo, *hi)
 */

static void
ngx_http_rtdash_vspan(const ngx_http_rtdash_vstat_t *vs, unsigned *lo,
    unsigned *hi)
{
    int  a, b;

    a = ngx_http_rtdash_value_index(vs->min) - vs->base;
    b = ngx_http_rtdash_value_index(vs->max) - vs->base + 1;

    a = a < 0 ? 0 : (a > NGX_HTTP_RTDASH_VBINS ? NGX_HTTP_RTDASH_VBINS : a);
    b = b < 1 ? 1 : (b > NGX_HTTP_RTDASH_VBINS ? NGX_HTTP_RTDASH_VBINS : b);

    *lo = (unsigned) a;
    *hi = (unsigned) (b > a ? b : a);
}


void
ngx_http_rtdash_vstat_merge(ngx_http_rtdash_vstat_t *dst,
    const ngx_http_rtdash_vstat_t *src)
{
    unsigned  i, lo, hi;

    if (src->count == 0) {
        return;
    }

    ngx_http_rtdash_vminmax(&dst->min, &dst->max, src->min, src->max,
                            dst->count == 0);

    if (dst->count == dst->low) {
        /* nothing binned yet: src's histogram as it is */
        memcpy(&dst->base, &src->base,
               sizeof(ngx_http_rtdash_vstat_t)
               - offsetof(ngx_http_rtdash_vstat_t, base));

        dst->count += src->count;
        dst->low += src->low;
        dst->sum += src->sum;
        return;
    }

    dst->count += src->count;
    dst->low += src->low;
    dst->sum += src->sum;

    ngx_http_rtdash_vspan(src, &lo, &hi);

    for (i = lo; i < hi; i++) {
        if (src->bins[i]) {
            ngx_http_rtdash_vplace(dst, src->base + (int) i,
                                   ngx_http_rtdash_vunits(src->bins[i],
                                                          src->shift,
                                                          dst->shift));
        }
    }

    for (i = 0; i < src->nout; i++) {
        ngx_http_rtdash_vplace(dst, src->out[i].idx,
                               ngx_http_rtdash_vunits(src->out[i].n,
                                                      src->shift,
                                                      dst->shift));
    }
}


/*
 * Nearest-rank quantiles (the value of rank ceil(q * count)) from counts
 * walked in the order of their bins: a bin's value is its geometric
 * middle, clamped to the exact min and max.  q ascending.
 */

typedef struct {
    const double               *q;
    double                     *v;
    size_t                      n;
    size_t                      i;
    double                      total;
    double                      seen;
    double                      min;
    double                      max;
} ngx_http_rtdash_qwalk_t;


static void
ngx_http_rtdash_qwalk_init(ngx_http_rtdash_qwalk_t *w, const double *q,
    double *v, size_t n, double total, double min, double max)
{
    w->q = q;
    w->v = v;
    w->n = n;
    w->i = 0;
    w->total = total;
    w->seen = 0;
    w->min = min;
    w->max = max;
}


static void
ngx_http_rtdash_qwalk_step(ngx_http_rtdash_qwalk_t *w, int idx, double n)
{
    double  rank, v;

    if (n == 0) {
        return;
    }

    w->seen += n;

    while (w->i < w->n) {
        rank = ceil(w->q[w->i] * w->total);

        if (rank < 1) {
            rank = 1;
        }

        if (w->seen < rank) {
            return;
        }

        v = idx == NGX_HTTP_RTDASH_VIDX_LOW
            ? w->min : ngx_http_rtdash_index_value(idx);

        w->v[w->i++] = v < w->min ? w->min : (v > w->max ? w->max : v);
    }
}


static void
ngx_http_rtdash_qwalk_end(ngx_http_rtdash_qwalk_t *w)
{
    while (w->i < w->n) {
        w->v[w->i++] = w->max;
    }
}


void
ngx_http_rtdash_vstat_quantiles(const ngx_http_rtdash_vstat_t *vs,
    const double *q, double *v, size_t n)
{
    double                   total, unit;
    unsigned                 i, j, k, lo, hi;
    ngx_http_rtdash_vout_t   out[NGX_HTTP_RTDASH_VOUT], e;
    ngx_http_rtdash_qwalk_t  w;

    if (vs->count == 0) {
        for (i = 0; i < n; i++) {
            v[i] = 0;
        }

        return;
    }

    /* the bins kept apart, in order */

    for (i = 0; i < vs->nout; i++) {
        e = vs->out[i];

        for (j = i; j > 0 && out[j - 1].idx > e.idx; j--) {
            out[j] = out[j - 1];
        }

        out[j] = e;
    }

    unit = ldexp(1.0, vs->shift);

    ngx_http_rtdash_vspan(vs, &lo, &hi);

    if (vs->shift == 0) {
        /* every value in a bin of its own: the exact count is the total */
        total = vs->count;

    } else {
        total = vs->low;

        for (i = lo; i < hi; i++) {
            total += vs->bins[i] * unit;
        }

        for (i = 0; i < vs->nout; i++) {
            total += out[i].n * unit;
        }
    }

    ngx_http_rtdash_qwalk_init(&w, q, v, n, total, vs->min, vs->max);
    ngx_http_rtdash_qwalk_step(&w, NGX_HTTP_RTDASH_VIDX_LOW, vs->low);

    /* up to the bin of the last quantile asked for */

    for (i = lo, k = 0; i < hi && w.i < w.n; i++) {
        while (k < vs->nout && out[k].idx < vs->base + (int) i) {
            ngx_http_rtdash_qwalk_step(&w, out[k].idx, out[k].n * unit);
            k++;
        }

        ngx_http_rtdash_qwalk_step(&w, vs->base + (int) i,
                                   vs->bins[i] * unit);
    }

    for ( /* void */ ; k < vs->nout; k++) {
        ngx_http_rtdash_qwalk_step(&w, out[k].idx, out[k].n * unit);
    }

    ngx_http_rtdash_qwalk_end(&w);
}


/*
 * How many values are below each power of two from 2^kmin to 2^kmax,
 * into n[kmax - kmin + 1], in one walk of the bins: exact, as every power
 * of two is a bin edge.  What Prometheus's cumulative "_bucket" series
 * are made of.
 */

void
ngx_http_rtdash_vstat_below_octaves(const ngx_http_rtdash_vstat_t *vs,
    int kmin, int kmax, uint64_t *n)
{
    int       k, bin;
    double    le, acc, sum, unit;
    unsigned  i, j;

    unit = ldexp(1.0, vs->shift);
    acc = vs->low;
    i = 0;

    for (k = kmin; k <= kmax; k++) {
        le = ldexp(1.0, k);

        if (vs->count == 0 || le <= vs->min) {
            n[k - kmin] = 0;
            continue;
        }

        if (le > vs->max) {
            n[k - kmin] = vs->count;
            continue;
        }

        bin = ngx_http_rtdash_value_index(le);

        for ( /* void */ ;
             i < NGX_HTTP_RTDASH_VBINS && vs->base + (int) i < bin;
             i++)
        {
            acc += vs->bins[i] * unit;
        }

        sum = acc;

        for (j = 0; j < vs->nout; j++) {
            if (vs->out[j].idx < bin) {
                sum += vs->out[j].n * unit;
            }
        }

        sum = floor(sum + 0.5);

        n[k - kmin] = sum < vs->count ? (uint64_t) sum : vs->count;
    }
}


void
ngx_http_rtdash_vwide_init(ngx_http_rtdash_vwide_t *w)
{
    memset(w, 0, sizeof(ngx_http_rtdash_vwide_t));
}


void
ngx_http_rtdash_vwide_add(ngx_http_rtdash_vwide_t *w,
    const ngx_http_rtdash_vstat_t *vs)
{
    unsigned  i;

    if (vs->count == 0) {
        return;
    }

    ngx_http_rtdash_vminmax(&w->min, &w->max, vs->min, vs->max,
                            w->count == 0);

    w->count += vs->count;
    w->low += vs->low;
    w->sum += vs->sum;

    for (i = 0; i < NGX_HTTP_RTDASH_VBINS; i++) {
        w->bins[vs->base + (int) i - NGX_HTTP_RTDASH_VIDX_MIN]
            += (uint64_t) vs->bins[i] << vs->shift;
    }

    for (i = 0; i < vs->nout; i++) {
        w->bins[vs->out[i].idx - NGX_HTTP_RTDASH_VIDX_MIN]
            += (uint64_t) vs->out[i].n << vs->shift;
    }
}


void
ngx_http_rtdash_vwide_quantiles(const ngx_http_rtdash_vwide_t *w,
    const double *q, double *v, size_t n)
{
    double                   total;
    unsigned                 i;
    ngx_http_rtdash_qwalk_t  qw;

    if (w->count == 0) {
        for (i = 0; i < n; i++) {
            v[i] = 0;
        }

        return;
    }

    total = (double) w->low;

    for (i = 0; i < NGX_HTTP_RTDASH_VWIDE; i++) {
        total += (double) w->bins[i];
    }

    ngx_http_rtdash_qwalk_init(&qw, q, v, n, total, w->min, w->max);
    ngx_http_rtdash_qwalk_step(&qw, NGX_HTTP_RTDASH_VIDX_LOW,
                               (double) w->low);

    for (i = 0; i < NGX_HTTP_RTDASH_VWIDE && qw.i < n; i++) {
        ngx_http_rtdash_qwalk_step(&qw, (int) i + NGX_HTTP_RTDASH_VIDX_MIN,
                                   (double) w->bins[i]);
    }

    ngx_http_rtdash_qwalk_end(&qw);
}


/*
 * Distinct users.  A user's key: 9 bits of register (0..503), 5 bits of
 * rank (the leading zeros of 32 other bits, plus one, at most 31), and 18
 * bits more of the hash, so that the exact list tells users apart.
 */

#define NGX_HTTP_RTDASH_KEY_REG(k)    ((k) >> 23)
#define NGX_HTTP_RTDASH_KEY_RANK(k)   (((k) >> 18) & 0x1f)


uint32_t
ngx_http_rtdash_user_key(const unsigned char *p, size_t len)
{
    size_t    i;
    uint32_t  hi, lo, rank;
    uint64_t  h;

    h = 0xcbf29ce484222325ULL;

    for (i = 0; i < len; i++) {
        h = (h ^ p[i]) * 0x100000001b3ULL;
    }

    /* a 64-bit finalizer spreads FNV-1a's bits over the whole word */

    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;

    hi = (uint32_t) (h >> 32);
    lo = (uint32_t) h;

    rank = lo ? (uint32_t) __builtin_clz(lo) + 1 : 31;

    if (rank > 31) {
        rank = 31;
    }

    return (hi % NGX_HTTP_RTDASH_HLL_M) << 23 | rank << 18
           | ((hi / NGX_HTTP_RTDASH_HLL_M) & 0x3ffff);
}


static unsigned
ngx_http_rtdash_hll_get(const ngx_http_rtdash_hll_t *h, unsigned j)
{
    return (h->u.regs[j >> 1] >> ((j & 1) * 4)) & 0xf;
}


static void
ngx_http_rtdash_hll_put(ngx_http_rtdash_hll_t *h, unsigned j, unsigned off)
{
    unsigned  s;

    s = (j & 1) * 4;
    h->u.regs[j >> 1] = (uint8_t) ((h->u.regs[j >> 1] & ~(0xf << s))
                                   | off << s);
}


/*
 * A register takes the largest rank seen, kept as 4 bits above the base;
 * when no register is left at the base, the base moves up one.  Ranks
 * more than 15 above the base are cut there (all but never at the sizes
 * where 4 bits would not do).
 */

static void
ngx_http_rtdash_hll_set(ngx_http_rtdash_hll_t *h, unsigned j, unsigned rank)
{
    unsigned  off, cur, i;

    if (rank <= h->n) {
        return;
    }

    off = rank - h->n;

    if (off > 15) {
        off = 15;
    }

    cur = ngx_http_rtdash_hll_get(h, j);

    if (off <= cur) {
        return;
    }

    if (cur == 0) {
        h->zero--;
    }

    ngx_http_rtdash_hll_put(h, j, off);

    while (h->zero == 0) {
        h->n++;

        for (i = 0; i < NGX_HTTP_RTDASH_HLL_M; i++) {
            cur = ngx_http_rtdash_hll_get(h, i) - 1;
            ngx_http_rtdash_hll_put(h, i, cur);
            h->zero += (cur == 0);
        }
    }
}


static void
ngx_http_rtdash_hll_densify(ngx_http_rtdash_hll_t *h)
{
    unsigned  i, n;
    uint32_t  keys[NGX_HTTP_RTDASH_HLL_KEYS];

    n = h->n;
    memcpy(keys, h->u.keys, n * sizeof(uint32_t));
    memset(&h->u, 0, sizeof(h->u));

    h->dense = 1;
    h->n = 0;
    h->zero = NGX_HTTP_RTDASH_HLL_M;

    for (i = 0; i < n; i++) {
        ngx_http_rtdash_hll_set(h, NGX_HTTP_RTDASH_KEY_REG(keys[i]),
                                NGX_HTTP_RTDASH_KEY_RANK(keys[i]));
    }
}


void
ngx_http_rtdash_hll_add(ngx_http_rtdash_hll_t *h, uint32_t key)
{
    unsigned  i;

    if (!h->dense) {
        for (i = 0; i < h->n; i++) {
            if (h->u.keys[i] == key) {
                return;
            }
        }

        if (h->n < NGX_HTTP_RTDASH_HLL_KEYS) {
            h->u.keys[h->n++] = key;
            return;
        }

        ngx_http_rtdash_hll_densify(h);
    }

    ngx_http_rtdash_hll_set(h, NGX_HTTP_RTDASH_KEY_REG(key),
                            NGX_HTTP_RTDASH_KEY_RANK(key));
}


void
ngx_http_rtdash_hll_merge(ngx_http_rtdash_hll_t *dst,
    const ngx_http_rtdash_hll_t *src)
{
    unsigned  i, off;

    if (!src->dense) {
        for (i = 0; i < src->n; i++) {
            ngx_http_rtdash_hll_add(dst, src->u.keys[i]);
        }

        return;
    }

    if (!dst->dense) {
        ngx_http_rtdash_hll_densify(dst);
    }

    for (i = 0; i < NGX_HTTP_RTDASH_HLL_M; i++) {
        off = ngx_http_rtdash_hll_get(src, i);

        if (off || src->n) {
            ngx_http_rtdash_hll_set(dst, i, src->n + off);
        }
    }
}


/*
 * The HyperLogLog estimate (Flajolet et al.), with linear counting over
 * the empty registers while it is the better of the two (small ranges).
 */

static uint64_t
ngx_http_rtdash_hll_count(const uint8_t *regs)
{
    double    sum, e, m;
    unsigned  i, zero;

    m = NGX_HTTP_RTDASH_HLL_M;
    sum = 0;
    zero = 0;

    for (i = 0; i < NGX_HTTP_RTDASH_HLL_M; i++) {
        sum += ldexp(1.0, -(int) regs[i]);
        zero += (regs[i] == 0);
    }

    e = 0.7213 / (1 + 1.079 / m) * m * m / sum;

    if (e <= 2.5 * m && zero) {
        e = m * log(m / zero);
    }

    return (uint64_t) (e + 0.5);
}


uint64_t
ngx_http_rtdash_hll_estimate(const ngx_http_rtdash_hll_t *h)
{
    unsigned  i;
    uint8_t   regs[NGX_HTTP_RTDASH_HLL_M];

    if (!h->dense) {
        return h->n;
    }

    for (i = 0; i < NGX_HTTP_RTDASH_HLL_M; i++) {
        regs[i] = (uint8_t) (h->n + ngx_http_rtdash_hll_get(h, i));
    }

    return ngx_http_rtdash_hll_count(regs);
}


void
ngx_http_rtdash_hwide_init(ngx_http_rtdash_hwide_t *w)
{
    w->dense = 0;
    w->n = 0;
}


static void
ngx_http_rtdash_hwide_max(ngx_http_rtdash_hwide_t *w, uint32_t key)
{
    unsigned  j, rank;

    j = NGX_HTTP_RTDASH_KEY_REG(key);
    rank = NGX_HTTP_RTDASH_KEY_RANK(key);

    if (rank > w->regs[j]) {
        w->regs[j] = (uint8_t) rank;
    }
}


static void
ngx_http_rtdash_hwide_densify(ngx_http_rtdash_hwide_t *w)
{
    unsigned  i;

    w->dense = 1;
    memset(w->regs, 0, sizeof(w->regs));

    for (i = 0; i < w->n; i++) {
        ngx_http_rtdash_hwide_max(w, w->keys[i]);
    }
}


static void
ngx_http_rtdash_hwide_set(ngx_http_rtdash_hwide_t *w, uint32_t key)
{
    unsigned  i;

    if (!w->dense) {
        for (i = 0; i < w->n; i++) {
            if (w->keys[i] == key) {
                return;
            }
        }

        if (w->n < NGX_HTTP_RTDASH_HLL_KEYS) {
            w->keys[w->n++] = key;
            return;
        }

        ngx_http_rtdash_hwide_densify(w);
    }

    ngx_http_rtdash_hwide_max(w, key);
}


void
ngx_http_rtdash_hwide_add(ngx_http_rtdash_hwide_t *w,
    const ngx_http_rtdash_hll_t *h)
{
    unsigned  i, r;

    if (!h->dense) {
        for (i = 0; i < h->n; i++) {
            ngx_http_rtdash_hwide_set(w, h->u.keys[i]);
        }

        return;
    }

    if (!w->dense) {
        ngx_http_rtdash_hwide_densify(w);
    }

    for (i = 0; i < NGX_HTTP_RTDASH_HLL_M; i++) {
        r = h->n + ngx_http_rtdash_hll_get(h, i);

        if (r > w->regs[i]) {
            w->regs[i] = (uint8_t) r;
        }
    }
}


uint64_t
ngx_http_rtdash_hwide_estimate(const ngx_http_rtdash_hwide_t *w)
{
    return w->dense ? ngx_http_rtdash_hll_count(w->regs) : w->n;
}


/* a histogram and a sketch read from a file hold no index out of range */

int
ngx_http_rtdash_vstat_valid(const ngx_http_rtdash_vstat_t *vs)
{
    unsigned  i;

    if (vs->nout > NGX_HTTP_RTDASH_VOUT || vs->shift > 40
        || vs->low > vs->count
        || vs->base < NGX_HTTP_RTDASH_VIDX_MIN
        || vs->base > NGX_HTTP_RTDASH_VBASE_MAX)
    {
        return 0;
    }

    for (i = 0; i < vs->nout; i++) {
        if (vs->out[i].idx < NGX_HTTP_RTDASH_VIDX_MIN
            || vs->out[i].idx > NGX_HTTP_RTDASH_VIDX_MAX)
        {
            return 0;
        }
    }

    return 1;
}


int
ngx_http_rtdash_hll_valid(const ngx_http_rtdash_hll_t *h)
{
    unsigned  i;

    if (h->dense > 1) {
        return 0;
    }

    if (!h->dense) {
        if (h->n > NGX_HTTP_RTDASH_HLL_KEYS) {
            return 0;
        }

        for (i = 0; i < h->n; i++) {
            if ((h->u.keys[i] >> 23) >= NGX_HTTP_RTDASH_HLL_M) {
                return 0;
            }
        }

        return 1;
    }

    return h->n <= 32 && h->zero >= 1 && h->zero <= NGX_HTTP_RTDASH_HLL_M;
}
