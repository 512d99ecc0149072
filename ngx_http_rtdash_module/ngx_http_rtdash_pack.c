
/*
 * rtdash: a closed minute's histogram and exact users packed into one
 * small record, and unpacked again.  A minute with more than 12 values
 * and 24 users holds a 544-byte histogram and a 256-byte users sketch
 * while it is written; once it is closed the zone keeps what they hold in
 * a record of NGX_HTTP_RTDASH_PACK_SIZE bytes when it fits (see
 * ngx_http_rtdash_pool.c).
 *
 * Plain C with no nginx types, so that t/unit/sketch_test.c tests it.
 */


#include <string.h>

#include "ngx_http_rtdash_sketch.h"


static unsigned ngx_http_rtdash_pack_bin(const uint8_t *p, unsigned bits,
    unsigned i);


/*
 * vs (NULL: none), h (NULL: none; it must hold its keys, not registers)
 * into dst, at most size bytes.  What it took, 0: it does not fit, or
 * there is nothing to pack.
 */

size_t
ngx_http_rtdash_pack(void *dst, size_t size,
    const ngx_http_rtdash_vstat_t *vs, const ngx_http_rtdash_hll_t *h)
{
    uint8_t                  *p;
    unsigned                  i, first, last, top, bits, nout, nkeys;
    size_t                    need;
    ngx_http_rtdash_pack_t   *pk;

    if ((vs == NULL && h == NULL) || (h && (h->dense || h->n == 0))) {
        return 0;
    }

    first = 0;
    last = 0;
    top = 0;
    nout = 0;
    bits = 0;

    if (vs) {
        for (first = 0; first < NGX_HTTP_RTDASH_VBINS; first++) {
            if (vs->bins[first]) {
                break;
            }
        }

        for (last = NGX_HTTP_RTDASH_VBINS; last > first; last--) {
            if (vs->bins[last - 1]) {
                break;
            }
        }

        for (i = first; i < last; i++) {
            top = vs->bins[i] > top ? vs->bins[i] : top;
        }

        if (first == last) {
            first = 0;
            last = 0;
        }

        bits = top < 16 ? 4 : top < 256 ? 8 : 16;
        nout = vs->nout;
    }

    nkeys = h ? h->n : 0;

    need = sizeof(ngx_http_rtdash_pack_t)
           + nout * sizeof(ngx_http_rtdash_vout_t)
           + nkeys * sizeof(uint32_t)
           + ((last - first) * bits + 7) / 8;

    if (need > size) {
        return 0;
    }

    memset(dst, 0, need);
    pk = dst;
    p = (uint8_t *) (pk + 1);

    if (vs) {
        pk->count = vs->count;
        pk->low = vs->low;
        pk->min = vs->min;
        pk->max = vs->max;
        pk->sum = vs->sum;
        pk->base = vs->base;
        pk->shift = vs->shift;
        pk->nout = (uint8_t) nout;
        pk->first = (uint8_t) first;
        pk->nbins = (uint8_t) (last - first);
        pk->bits = (uint8_t) bits;

        memcpy(p, vs->out, nout * sizeof(ngx_http_rtdash_vout_t));
        p += nout * sizeof(ngx_http_rtdash_vout_t);
    }

    if (h) {
        pk->nkeys = (uint8_t) nkeys;
        memcpy(p, h->u.keys, nkeys * sizeof(uint32_t));
        p += nkeys * sizeof(uint32_t);
    }

    for (i = 0; i < last - first; i++) {
        switch (bits) {

        case 4:
            p[i / 2] |= (uint8_t) (vs->bins[first + i] << (i % 2 * 4));
            break;

        case 8:
            p[i] = (uint8_t) vs->bins[first + i];
            break;

        default:
            p[2 * i] = (uint8_t) vs->bins[first + i];
            p[2 * i + 1] = (uint8_t) (vs->bins[first + i] >> 8);
        }
    }

    return need;
}


/* the histogram of a packed record that has one (bits != 0) */

void
ngx_http_rtdash_unpack_values(const void *src, ngx_http_rtdash_vstat_t *vs)
{
    unsigned                       i;
    const uint8_t                 *p;
    const ngx_http_rtdash_pack_t  *pk;

    pk = src;
    p = (const uint8_t *) (pk + 1);

    memset(vs, 0, sizeof(ngx_http_rtdash_vstat_t));

    vs->count = pk->count;
    vs->low = pk->low;
    vs->min = pk->min;
    vs->max = pk->max;
    vs->sum = pk->sum;
    vs->base = pk->base;
    vs->shift = pk->shift;
    vs->nout = pk->nout;

    memcpy(vs->out, p, pk->nout * sizeof(ngx_http_rtdash_vout_t));
    p += pk->nout * sizeof(ngx_http_rtdash_vout_t)
         + pk->nkeys * sizeof(uint32_t);

    for (i = 0; i < pk->nbins; i++) {
        vs->bins[pk->first + i] = (uint16_t)
                                  ngx_http_rtdash_pack_bin(p, pk->bits, i);
    }
}


/* the users of a packed record that has them (nkeys != 0) */

void
ngx_http_rtdash_unpack_users(const void *src, ngx_http_rtdash_hll_t *h)
{
    const uint8_t                 *p;
    const ngx_http_rtdash_pack_t  *pk;

    pk = src;
    p = (const uint8_t *) (pk + 1);

    p += pk->nout * sizeof(ngx_http_rtdash_vout_t);

    memset(h, 0, sizeof(ngx_http_rtdash_hll_t));

    h->n = pk->nkeys;
    memcpy(h->u.keys, p, pk->nkeys * sizeof(uint32_t));
}


static unsigned
ngx_http_rtdash_pack_bin(const uint8_t *p, unsigned bits, unsigned i)
{
    switch (bits) {

    case 4:
        return (p[i / 2] >> (i % 2 * 4)) & 0x0f;

    case 8:
        return p[i];

    default:
        return p[2 * i] | (unsigned) p[2 * i + 1] << 8;
    }
}
