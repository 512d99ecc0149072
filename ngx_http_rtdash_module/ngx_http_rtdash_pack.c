
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
 * vs (NULL: none), h (NULL: none) into dst, at most size bytes.  What it
 * took, 0: it does not fit, or there is nothing to pack.
 */

size_t
ngx_http_rtdash_pack(void *dst, size_t size,
    const ngx_http_rtdash_vstat_t *vs, const ngx_http_rtdash_hll_t *h)
{
    uint8_t                  *p;
    unsigned                  i, j, first, last, top, bits, nout, nz, off;
    size_t                    need, ubytes;
    ngx_http_rtdash_pack_t   *pk;

    if ((vs == NULL && h == NULL) || (h && !h->dense && h->n == 0)) {
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

    /* users: their keys, or a bitmap of the registers above the base
       and 4 bits for each of those */

    nz = 0;
    ubytes = 0;

    if (h && h->dense) {
        nz = NGX_HTTP_RTDASH_HLL_M - h->zero;
        ubytes = NGX_HTTP_RTDASH_HLL_M / 8 + (nz + 1) / 2;

    } else if (h) {
        ubytes = h->n * sizeof(uint32_t);
    }

    need = sizeof(ngx_http_rtdash_pack_t)
           + nout * sizeof(ngx_http_rtdash_vout_t)
           + ((last - first) * bits + 7) / 8 + ubytes;

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

        p += ((last - first) * bits + 7) / 8;
    }

    if (h == NULL) {
        return need;
    }

    if (!h->dense) {
        pk->users = h->n;
        memcpy(p, h->u.keys, h->n * sizeof(uint32_t));
        return need;
    }

    pk->users = NGX_HTTP_RTDASH_PACK_REGS | h->n;

    for (i = 0, j = 0; i < NGX_HTTP_RTDASH_HLL_M; i++) {
        off = (h->u.regs[i / 2] >> (i % 2 * 4)) & 0x0f;

        if (off) {
            p[i / 8] |= (uint8_t) (1 << (i % 8));
            p[NGX_HTTP_RTDASH_HLL_M / 8 + j / 2] |= (uint8_t)
                                                    (off << (j % 2 * 4));
            j++;
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
    p += pk->nout * sizeof(ngx_http_rtdash_vout_t);

    for (i = 0; i < pk->nbins; i++) {
        vs->bins[pk->first + i] = (uint16_t)
                                  ngx_http_rtdash_pack_bin(p, pk->bits, i);
    }
}


/* the users of a packed record that has them (users != 0) */

void
ngx_http_rtdash_unpack_users(const void *src, ngx_http_rtdash_hll_t *h)
{
    unsigned                       i, j, off;
    const uint8_t                 *p, *nibbles;
    const ngx_http_rtdash_pack_t  *pk;

    pk = src;
    p = (const uint8_t *) (pk + 1) + pk->nout * sizeof(ngx_http_rtdash_vout_t)
        + (pk->nbins * pk->bits + 7) / 8;

    memset(h, 0, sizeof(ngx_http_rtdash_hll_t));

    if (!(pk->users & NGX_HTTP_RTDASH_PACK_REGS)) {
        h->n = pk->users;
        memcpy(h->u.keys, p, pk->users * sizeof(uint32_t));
        return;
    }

    h->dense = 1;
    h->n = pk->users & ~NGX_HTTP_RTDASH_PACK_REGS;
    h->zero = NGX_HTTP_RTDASH_HLL_M;
    nibbles = p + NGX_HTTP_RTDASH_HLL_M / 8;

    for (i = 0, j = 0; i < NGX_HTTP_RTDASH_HLL_M; i++) {
        if (p[i / 8] & (1 << (i % 8))) {
            off = (nibbles[j / 2] >> (j % 2 * 4)) & 0x0f;
            h->u.regs[i / 2] |= (uint8_t) (off << (i % 2 * 4));
            h->zero--;
            j++;
        }
    }
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
