
/*
 * rtdash: a tool of an older dump as an image of this layout
 * (ngx_http_rtdash_image.c).
 *
 * Dump versions 3 and 4 wrote images whose seconds had no sums: each
 * second gains its sums, 0, and every slot of the tool is a gauge.
 *
 * Dump versions 1 and 2 wrote nodes of layout 2.  Layout 2 had a 64-bin value
 * histogram (three bins an octave) and a 256-bit map of users per minute,
 * and every bucket in its node; the buckets themselves have the same
 * shape.  A bin's count goes to the new bin of its middle, so a restored
 * histogram keeps the old one's precision (about 12 %); a map's distinct
 * count becomes as many stand-in users of that minute.
 */


#include "ngx_http_rtdash_module.h"

#include <math.h>


#define NGX_HTTP_RTDASH_V2_HIST       64
#define NGX_HTTP_RTDASH_V2_USER_BITS  256


typedef struct {
    uint32_t                    count;
    uint32_t                    pad;
    double                      min;
    double                      max;
    double                      sum;
    uint32_t                    hist[NGX_HTTP_RTDASH_V2_HIST];
} ngx_http_rtdash_v2_vstat_t;


typedef struct {
    uint32_t                    t;
    uint32_t                    users[NGX_HTTP_RTDASH_V2_USER_BITS / 32];
    uint32_t                    pad;
    ngx_http_rtdash_v2_vstat_t  value;
} ngx_http_rtdash_v2_minute_t;


typedef struct {
    ngx_rbtree_node_t           node;
    ngx_queue_t                 queue;
    uint64_t                    seq;
    uint64_t                    nevents;
    double                      updated;
    ngx_http_rtdash_v2_vstat_t  value;
    uint32_t                    ngauges;
    u_short                     name_len;
    u_char                      name[NGX_HTTP_RTDASH_TOOL_MAX];
} ngx_http_rtdash_v2_node_t;


static u_char *ngx_http_rtdash_v4_second(ngx_http_rtdash_ctx_t *ctx,
    uint32_t *sec, u_char *p);
static void ngx_http_rtdash_v4_gauges(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node);
static void ngx_http_rtdash_v2_layout(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_layout_t *l);
static void ngx_http_rtdash_v2_values(ngx_http_rtdash_vstat_t *vs,
    ngx_http_rtdash_v2_vstat_t *old);
static void ngx_http_rtdash_v2_users(ngx_http_rtdash_hll_t *h,
    uint32_t *bits, uint32_t t);


/* how long an image of dump version 3 or 4 is; 0: not an image */

size_t
ngx_http_rtdash_v4_image_size(ngx_http_rtdash_ctx_t *ctx, u_char *image)
{
    size_t                  n;
    ngx_uint_t              i, nsec;
    ngx_http_rtdash_ref_t  *refs;

    n = ngx_http_rtdash_image_size(ctx, image);

    if (n == 0) {
        return 0;
    }

    refs = ngx_http_rtdash_node_seconds(ctx, (ngx_http_rtdash_node_t *) image);
    nsec = 0;

    for (i = 0; i < NGX_HTTP_RTDASH_SECONDS; i++) {
        nsec += refs[i];
    }

    return n - nsec * (ctx->layout.sec_copy - ctx->layout.sec_size);
}


/* an image of dump version 3 or 4 (v4_image_size checked) into "image" */

void
ngx_http_rtdash_v4_upgrade(ngx_http_rtdash_ctx_t *ctx, u_char *old,
    u_char *image)
{
    u_char                 *p, *q;
    size_t                  rest;
    ngx_uint_t              i;
    ngx_http_rtdash_ref_t  *refs;

    ngx_memcpy(image, old, ctx->layout.node_size);
    ngx_http_rtdash_v4_gauges(ctx, (ngx_http_rtdash_node_t *) image);

    refs = ngx_http_rtdash_node_seconds(ctx, (ngx_http_rtdash_node_t *) image);
    q = old + ctx->layout.node_size;
    p = image + ctx->layout.node_size;

    for (i = 0; i < NGX_HTTP_RTDASH_SECONDS; i++) {
        if (refs[i]) {
            p = ngx_http_rtdash_v4_second(ctx, (uint32_t *) q, p);
            q += ctx->layout.sec_size;
        }
    }

    /* the minutes and the ring's chunks keep their shape */

    rest = ngx_http_rtdash_v4_image_size(ctx, old)
           - (q - old);

    ngx_memcpy(p, q, rest);
}


/* an old second at p, as readers see one now; what follows it */

static u_char *
ngx_http_rtdash_v4_second(ngx_http_rtdash_ctx_t *ctx, uint32_t *sec,
    u_char *p)
{
    ngx_memcpy(p, sec, ctx->layout.sec_size);
    *ngx_http_rtdash_second_sums_ref(ctx, (uint32_t *) p) = 0;
    ngx_memzero(p + ctx->layout.sec_size,
                ctx->layout.sec_copy - ctx->layout.sec_size);

    return p + ctx->layout.sec_copy;
}


/* before sums, every slot was a gauge */

static void
ngx_http_rtdash_v4_gauges(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node)
{
    ngx_uint_t                i;
    ngx_http_rtdash_gauge_t  *gs;

    gs = ngx_http_rtdash_node_gauges(ctx, node);

    for (i = 0; i < ctx->ngauges; i++) {
        gs[i].kind = NGX_HTTP_RTDASH_GAUGE;
        ngx_memzero(gs[i].pad, sizeof(gs[i].pad));
    }
}


static void
ngx_http_rtdash_v2_layout(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_layout_t *l)
{
    size_t  off, types;

    types = ctx->ntypes;

    l->sec_size = ctx->layout.sec_size;
    l->min_size = ngx_align(sizeof(ngx_http_rtdash_v2_minute_t)
                            + sizeof(uint32_t) * 2 * types
                            + sizeof(ngx_http_rtdash_gstat_t) * ctx->ngauges,
                            8);

    off = ngx_align(sizeof(ngx_http_rtdash_v2_node_t), 8);

    l->totals = off;
    off += sizeof(uint64_t) * types;
    l->flagged = off;
    off += sizeof(uint64_t) * types;
    l->gauges = off;
    off += sizeof(ngx_http_rtdash_gauge_t) * ctx->ngauges;
    l->seconds = off;
    off += l->sec_size * NGX_HTTP_RTDASH_SECONDS;
    l->minutes = off;
    off += l->min_size * ctx->nminutes;
    l->ring = off;
    off += sizeof(ngx_http_rtdash_event_t) * ctx->nevents;

    l->node_size = off;
}


size_t
ngx_http_rtdash_v2_node_size(ngx_http_rtdash_ctx_t *ctx)
{
    ngx_http_rtdash_layout_t  l;

    ngx_http_rtdash_v2_layout(ctx, &l);

    return l.node_size;
}


/* "old", a layout 2 node of this zone's parameters, into an image */

void
ngx_http_rtdash_v2_upgrade(ngx_http_rtdash_ctx_t *ctx, u_char *old,
    u_char *image)
{
    u_char                       *p, *om;
    uint32_t                     *sec;
    ngx_uint_t                    i, n, written;
    ngx_http_rtdash_node_t       *node;
    ngx_http_rtdash_layout_t      ol, *l;
    ngx_http_rtdash_minute_t     *nm;
    ngx_http_rtdash_v2_node_t    *o;
    ngx_http_rtdash_v2_minute_t  *m;

    ngx_http_rtdash_v2_layout(ctx, &ol);
    l = &ctx->layout;

    o = (ngx_http_rtdash_v2_node_t *) old;
    node = (ngx_http_rtdash_node_t *) image;

    ngx_memzero(image, l->node_size);

    node->seq = o->seq;
    node->nevents = o->nevents;
    node->updated = o->updated;
    node->ngauges = o->ngauges;
    node->name_len = ngx_min(o->name_len, NGX_HTTP_RTDASH_TOOL_MAX);
    ngx_memcpy(node->name, o->name, node->name_len);

    ngx_http_rtdash_v2_values(&node->value, &o->value);

    /* totals, flagged and gauges keep their shape */

    ngx_memcpy(image + l->totals, old + ol.totals, ol.seconds - ol.totals);
    ngx_http_rtdash_v4_gauges(ctx, node);

    p = image + l->node_size;

    for (i = 0; i < NGX_HTTP_RTDASH_SECONDS; i++) {
        sec = (uint32_t *) (old + ol.seconds + i * ol.sec_size);

        if (sec[0]) {
            ngx_http_rtdash_node_seconds(ctx, node)[i] = 1;
            p = ngx_http_rtdash_v4_second(ctx, sec, p);
        }
    }

    for (i = 0; i < ctx->nminutes; i++) {
        om = old + ol.minutes + i * ol.min_size;
        m = (ngx_http_rtdash_v2_minute_t *) om;

        if (m->t == 0) {
            continue;
        }

        ngx_http_rtdash_node_minutes(ctx, node)[i] = 1;

        nm = (ngx_http_rtdash_minute_t *) p;
        ngx_memzero(nm, l->min_size);
        nm->t = m->t;

        ngx_http_rtdash_v2_values(&nm->value, &m->value);
        ngx_http_rtdash_v2_users(&nm->users, m->users, m->t);

        /* counts, flagged and gauge stats follow the header in both */
        ngx_memcpy(ngx_http_rtdash_minute_counts(nm),
                   om + sizeof(ngx_http_rtdash_v2_minute_t),
                   l->min_size - sizeof(ngx_http_rtdash_minute_t));

        p += l->min_size;
    }

    /* the ring's chunks that hold events */

    written = ngx_min(o->nevents, ctx->nevents);

    for (i = 0; i * NGX_HTTP_RTDASH_CHUNK < written; i++) {
        ngx_http_rtdash_node_chunks(ctx, node)[i] = 1;

        n = ngx_min(NGX_HTTP_RTDASH_CHUNK,
                    ctx->nevents - i * NGX_HTTP_RTDASH_CHUNK);

        ngx_memzero(p, sizeof(ngx_http_rtdash_event_t)
                       * NGX_HTTP_RTDASH_CHUNK);
        ngx_memcpy(p, old + ol.ring
                      + i * NGX_HTTP_RTDASH_CHUNK
                        * sizeof(ngx_http_rtdash_event_t),
                   n * sizeof(ngx_http_rtdash_event_t));

        p += sizeof(ngx_http_rtdash_event_t) * NGX_HTTP_RTDASH_CHUNK;
    }
}


/*
 * Old bin 0 held the values below 2^-3, bin 63 those from 2^18, bin k the
 * others, [2^((k-1)/3 - 3), 2^(k/3 - 3)): each count goes to the new bin
 * of the old bin's middle (of min and max at the two ends).
 */

static void
ngx_http_rtdash_v2_values(ngx_http_rtdash_vstat_t *vs,
    ngx_http_rtdash_v2_vstat_t *old)
{
    int         idx;
    double      v;
    ngx_uint_t  k;

    if (old->count == 0) {
        return;
    }

    for (k = 0; k < NGX_HTTP_RTDASH_V2_HIST; k++) {
        if (old->hist[k] == 0) {
            continue;
        }

        if (k == 0) {
            v = old->min;

        } else if (k == NGX_HTTP_RTDASH_V2_HIST - 1) {
            v = old->max;

        } else {
            v = exp2(((double) k - 0.5) / 3.0 - 3.0);
            v = ngx_max(v, old->min);
            v = ngx_min(v, old->max);
        }

        idx = ngx_http_rtdash_value_index(v);

        ngx_http_rtdash_vstat_add_count(vs, idx, old->hist[k]);
    }

    /* the exact figures as they were */

    vs->count = old->count;
    vs->min = old->min;
    vs->max = old->max;
    vs->sum = old->sum;
}


/* linear counting over the old map, then that many users of minute t */

static void
ngx_http_rtdash_v2_users(ngx_http_rtdash_hll_t *h, uint32_t *bits,
    uint32_t t)
{
    u_char      name[32], *p;
    ngx_uint_t  i, zero, n;

    zero = 0;

    for (i = 0; i < NGX_HTTP_RTDASH_V2_USER_BITS / 32; i++) {
        zero += 32 - __builtin_popcount(bits[i]);
    }

    if (zero == NGX_HTTP_RTDASH_V2_USER_BITS) {
        return;
    }

    n = (ngx_uint_t) (NGX_HTTP_RTDASH_V2_USER_BITS
                      * log((double) NGX_HTTP_RTDASH_V2_USER_BITS
                            / ngx_max(zero, 1))
                      + 0.5);

    for (i = 0; i < n; i++) {
        p = ngx_sprintf(name, "\x01restored %uD %ui", t, i);
        ngx_http_rtdash_hll_add(h, ngx_http_rtdash_user_key(name, p - name));
    }
}
