
/*
 * rtdash: the sketches of a minute: value percentiles and distinct users.
 *
 * Plain C with no nginx types, so that t/unit/sketch_test.c tests it alone.
 */


#ifndef _NGX_HTTP_RTDASH_SKETCH_H_INCLUDED_
#define _NGX_HTTP_RTDASH_SKETCH_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/*
 * Values: bin k holds [2^(k/10), 2^((k+1)/10)), ten bins an octave, so a
 * value reported as its bin's geometric middle is within 3.5 % of the
 * truth.  Indexes run from 2^-30 to 2^34; values below 2^-30 (zero and
 * negatives too) are counted apart, values above go to the last bin.
 */

#define NGX_HTTP_RTDASH_VRES        10
#define NGX_HTTP_RTDASH_VIDX_MIN    (-30 * NGX_HTTP_RTDASH_VRES)
#define NGX_HTTP_RTDASH_VIDX_MAX    (34 * NGX_HTTP_RTDASH_VRES - 1)
#define NGX_HTTP_RTDASH_VIDX_LOW    (NGX_HTTP_RTDASH_VIDX_MIN - 1)
#define NGX_HTTP_RTDASH_VWIDE                                                \
    (NGX_HTTP_RTDASH_VIDX_MAX - NGX_HTTP_RTDASH_VIDX_MIN + 1)

/*
 * The compact histogram of a minute, 512 bytes: 246 16-bit counts from a
 * moving base (24.6 octaves: a factor of 25 million), four bins outside
 * that window kept apart at full resolution, and a shift: the counts are
 * in units of 2^shift values once a bin has passed 65535.
 */

#define NGX_HTTP_RTDASH_VBINS       246
#define NGX_HTTP_RTDASH_VOUT        4

typedef struct {
    int16_t                     idx;
    uint16_t                    n;
} ngx_http_rtdash_vout_t;


typedef struct {
    uint32_t                    count;        /* exact */
    uint32_t                    low;          /* values below 2^-30 */
    double                      min;
    double                      max;
    double                      sum;
    int16_t                     base;         /* index of bins[0] */
    uint8_t                     shift;
    uint8_t                     nout;
    uint16_t                    bins[NGX_HTTP_RTDASH_VBINS];
    ngx_http_rtdash_vout_t      out[NGX_HTTP_RTDASH_VOUT];
} ngx_http_rtdash_vstat_t;


/* a reader's merge of many: every index, 64-bit counts (5 KB) */

typedef struct {
    uint64_t                    count;
    uint64_t                    low;
    double                      min;
    double                      max;
    double                      sum;
    uint64_t                    bins[NGX_HTTP_RTDASH_VWIDE];
} ngx_http_rtdash_vwide_t;


/*
 * Distinct users: HyperLogLog of 504 registers of 4 bits above a common
 * base, after an exact list of up to 63 hashes (256 bytes in all).
 */

#define NGX_HTTP_RTDASH_HLL_M       504
#define NGX_HTTP_RTDASH_HLL_KEYS    63

typedef struct {
    uint8_t                     dense;
    uint8_t                     n;            /* keys, or the base */
    uint16_t                    zero;         /* dense: registers at base */
    union {
        uint32_t                keys[NGX_HTTP_RTDASH_HLL_KEYS];
        uint8_t                 regs[NGX_HTTP_RTDASH_HLL_M / 2];
    } u;
} ngx_http_rtdash_hll_t;


/* a reader's union of many: the exact keys, then full registers */

typedef struct {
    uint32_t                    dense;
    uint32_t                    n;
    uint32_t                    keys[NGX_HTTP_RTDASH_HLL_KEYS];
    uint8_t                     regs[NGX_HTTP_RTDASH_HLL_M];
} ngx_http_rtdash_hwide_t;


/*
 * A closed minute's histogram and users, packed into one record of at
 * most NGX_HTTP_RTDASH_PACK_SIZE bytes: this header, the histogram's bins
 * kept apart (vout_t [nout]), its bins from the first counted to the
 * last, 4, 8 or 16 bits each (as few as its largest count needs), then
 * the users: their keys (uint32_t [users]), or, once the sketch holds
 * registers, a bitmap of the registers above its base and 4 bits for each
 * of those.  What is packed unpacks to the same histogram (users), field
 * for field.
 */

#define NGX_HTTP_RTDASH_PACK_SIZE   208
#define NGX_HTTP_RTDASH_PACK_REGS   0x80      /* users: registers, | base */

typedef struct {
    uint32_t                    count;
    uint32_t                    low;
    double                      min;
    double                      max;
    double                      sum;
    int16_t                     base;
    uint8_t                     shift;
    uint8_t                     nout;
    uint8_t                     first;        /* of bins[] */
    uint8_t                     nbins;
    uint8_t                     bits;         /* 0: no histogram */
    uint8_t                     users;        /* 0: none; keys, or REGS */
} ngx_http_rtdash_pack_t;


int ngx_http_rtdash_value_index(double v);
double ngx_http_rtdash_index_value(int idx);

void ngx_http_rtdash_vstat_add(ngx_http_rtdash_vstat_t *vs, double v,
    int idx, uint32_t coin);
void ngx_http_rtdash_vstat_add_count(ngx_http_rtdash_vstat_t *vs, int idx,
    uint32_t n);
void ngx_http_rtdash_vstat_merge(ngx_http_rtdash_vstat_t *dst,
    const ngx_http_rtdash_vstat_t *src);
void ngx_http_rtdash_vstat_quantiles(const ngx_http_rtdash_vstat_t *vs,
    const double *q, double *v, size_t n);
void ngx_http_rtdash_vstat_below_octaves(const ngx_http_rtdash_vstat_t *vs,
    int kmin, int kmax, uint64_t *n);

int ngx_http_rtdash_vstat_valid(const ngx_http_rtdash_vstat_t *vs);
int ngx_http_rtdash_hll_valid(const ngx_http_rtdash_hll_t *h);

void ngx_http_rtdash_vwide_init(ngx_http_rtdash_vwide_t *w);
void ngx_http_rtdash_vwide_add(ngx_http_rtdash_vwide_t *w,
    const ngx_http_rtdash_vstat_t *vs);
void ngx_http_rtdash_vwide_quantiles(const ngx_http_rtdash_vwide_t *w,
    const double *q, double *v, size_t n);

size_t ngx_http_rtdash_pack(void *dst, size_t size,
    const ngx_http_rtdash_vstat_t *vs, const ngx_http_rtdash_hll_t *h);
void ngx_http_rtdash_unpack_values(const void *src,
    ngx_http_rtdash_vstat_t *vs);
void ngx_http_rtdash_unpack_users(const void *src, ngx_http_rtdash_hll_t *h);

uint32_t ngx_http_rtdash_user_key(const unsigned char *p, size_t len);
void ngx_http_rtdash_hll_add(ngx_http_rtdash_hll_t *h, uint32_t key);
void ngx_http_rtdash_hll_merge(ngx_http_rtdash_hll_t *dst,
    const ngx_http_rtdash_hll_t *src);
uint64_t ngx_http_rtdash_hll_estimate(const ngx_http_rtdash_hll_t *h);

void ngx_http_rtdash_hwide_init(ngx_http_rtdash_hwide_t *w);
void ngx_http_rtdash_hwide_add(ngx_http_rtdash_hwide_t *w,
    const ngx_http_rtdash_hll_t *h);
uint64_t ngx_http_rtdash_hwide_estimate(const ngx_http_rtdash_hwide_t *w);


#endif /* _NGX_HTTP_RTDASH_SKETCH_H_INCLUDED_ */
