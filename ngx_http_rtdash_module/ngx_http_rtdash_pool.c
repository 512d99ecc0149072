
/*
 * rtdash: the zone's pools.  A tool pays for the buckets it uses: its
 * seconds, minutes (and their histograms and users sketches) and ring
 * chunks are fixed-size records taken from a pool of their kind when
 * first written, and given back when their time has passed.  A pool
 * carves whole pages of the zone into records and keeps a free list, so
 * the write path allocates nothing once a tool's buckets exist, and the
 * zone does not fragment.  Pages, once carved, stay with their pool.
 */


#include "ngx_http_rtdash_module.h"


/*
 * Slots looked at by each write step, to reclaim: at most 64, and in a
 * second no more than a worker needs to look at every slot of the zone
 * once a minute (at least 64): a few tools written thousands of times a
 * second are not swept over and over, many tools as fast as before.
 */
#define NGX_HTTP_RTDASH_SWEEP       64
#define NGX_HTTP_RTDASH_SWEEP_TIME  60

/* a minute is packed once it has been closed this long (seconds) */
#define NGX_HTTP_RTDASH_PACK_AFTER  60

/* the most pages a pool carves at once */
#define NGX_HTTP_RTDASH_POOL_PAGES  32


static ngx_uint_t ngx_http_rtdash_pool_block(size_t size);
static void ngx_http_rtdash_minute_pack_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_mrec_t *m);


void
ngx_http_rtdash_pool_init_locked(ngx_http_rtdash_ctx_t *ctx)
{
    ngx_uint_t               k;
    ngx_http_rtdash_pool_t  *p;

    p = ctx->sh->pools;

    p[NGX_HTTP_RTDASH_POOL_MINUTE].size = ctx->layout.rec_size;
    p[NGX_HTTP_RTDASH_POOL_VALUES].size =
                              ngx_align(sizeof(ngx_http_rtdash_vstat_t), 8);
    p[NGX_HTTP_RTDASH_POOL_USERS].size =
                              ngx_align(sizeof(ngx_http_rtdash_hll_t), 8);
    p[NGX_HTTP_RTDASH_POOL_SECOND].size = ctx->layout.sec_size;
    p[NGX_HTTP_RTDASH_POOL_EVENTS].size = sizeof(ngx_http_rtdash_event_t)
                                          * NGX_HTTP_RTDASH_CHUNK;
    p[NGX_HTTP_RTDASH_POOL_FEW].size = NGX_HTTP_RTDASH_FEW_SIZE;
    p[NGX_HTTP_RTDASH_POOL_SUMS].size = sizeof(double) * ctx->ngauges;
    p[NGX_HTTP_RTDASH_POOL_PACKED].size = NGX_HTTP_RTDASH_PACK_SIZE;

    for (k = 0; k < NGX_HTTP_RTDASH_POOLS; k++) {
        p[k].pages = ngx_http_rtdash_pool_block(p[k].size);
    }
}


/*
 * Pages carved at once: the fewest (up to 32) with the least left over,
 * so that a 544-byte record takes 544 bytes of the zone, not 585.
 */

static ngx_uint_t
ngx_http_rtdash_pool_block(size_t size)
{
    ngx_uint_t  k, best;
    size_t      waste, least;

    best = 1;
    least = ngx_pagesize % size;

    for (k = 2; k <= NGX_HTTP_RTDASH_POOL_PAGES && least; k++) {
        waste = k * ngx_pagesize % size;

        /* per page, compared without fractions */
        if (waste * best < least * k) {
            least = waste;
            best = k;
        }
    }

    return best;
}


/* a zeroed record and its ref; NULL: the zone has no page left */

void *
ngx_http_rtdash_pool_alloc_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_uint_t kind, ngx_http_rtdash_ref_t *ref)
{
    u_char                  *page, *rec;
    ngx_uint_t               i, n;
    ngx_http_rtdash_ref_t    r;
    ngx_http_rtdash_pool_t  *p;

    p = &ctx->sh->pools[kind];

    if (p->free == 0) {
        n = p->pages;
        page = ngx_slab_alloc_locked(ctx->shpool, n * ngx_pagesize);

        if (page == NULL && n > 1) {
            /* no run of pages that long: one page will do */
            n = 1;
            page = ngx_slab_alloc_locked(ctx->shpool, ngx_pagesize);
        }

        if (page == NULL) {
            return NULL;
        }

        n = n * ngx_pagesize / p->size;

        /* the page's records join the free list, the first one on top */

        for (i = n; i > 0; i--) {
            rec = page + (i - 1) * p->size;
            *(ngx_http_rtdash_ref_t *) rec = p->free;
            p->free = (ngx_http_rtdash_ref_t) ((rec - (u_char *) ctx->shpool)
                                               >> 3);
        }

        p->carved += n;
        p->nfree += n;
    }

    /*
     * off the free list first, then to its owner: a worker killed between
     * the two loses the record, it never hands it out twice
     */

    r = p->free;
    rec = ngx_http_rtdash_ref_ptr(ctx, r);

    p->free = *(ngx_http_rtdash_ref_t *) rec;
    p->nfree--;

    ngx_http_rtdash_crash("pool alloc");

    ngx_memzero(rec, p->size);
    *ref = r;

    return rec;
}


/* the record *ref names goes back to its pool; *ref becomes 0 */

void
ngx_http_rtdash_pool_free_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_uint_t kind, ngx_http_rtdash_ref_t *ref)
{
    u_char                  *rec;
    ngx_http_rtdash_ref_t    r;
    ngx_http_rtdash_pool_t  *p;

    if (*ref == 0) {
        return;
    }

    /* from its owner first, then onto the free list (as above) */

    p = &ctx->sh->pools[kind];
    r = *ref;
    rec = ngx_http_rtdash_ref_ptr(ctx, r);
    *ref = 0;

    ngx_http_rtdash_crash("pool free");

    *(ngx_http_rtdash_ref_t *) rec = p->free;
    p->free = r;
    p->nfree++;
}


/* a minute's values and users records */

static void
ngx_http_rtdash_pool_free_sketches_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_mrec_t *m)
{
    ngx_http_rtdash_pool_free_locked(ctx, NGX_HTTP_RTDASH_POOL_VALUES,
                                     &m->values_ref);
    ngx_http_rtdash_pool_free_locked(ctx, NGX_HTTP_RTDASH_POOL_USERS,
                                     &m->users_ref);
    ngx_http_rtdash_pool_free_locked(ctx, NGX_HTTP_RTDASH_POOL_FEW,
                                     &m->few_values_ref);
    ngx_http_rtdash_pool_free_locked(ctx, NGX_HTTP_RTDASH_POOL_FEW,
                                     &m->few_users_ref);
    ngx_http_rtdash_pool_free_locked(ctx, NGX_HTTP_RTDASH_POOL_PACKED,
                                     &m->packed_ref);
}


static void
ngx_http_rtdash_pool_free_minute_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_ref_t *ref)
{
    ngx_http_rtdash_mrec_t  *m;

    m = ngx_http_rtdash_ref_ptr(ctx, *ref);

    if (m == NULL) {
        return;
    }

    ngx_http_rtdash_pool_free_sketches_locked(ctx, m);
    ngx_http_rtdash_pool_free_locked(ctx, NGX_HTTP_RTDASH_POOL_MINUTE, ref);
}


/* a second and its sums */

void
ngx_http_rtdash_pool_free_second_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_ref_t *ref)
{
    uint32_t  *sec;

    sec = ngx_http_rtdash_ref_ptr(ctx, *ref);

    if (sec == NULL) {
        return;
    }

    ngx_http_rtdash_pool_free_locked(ctx, NGX_HTTP_RTDASH_POOL_SUMS,
                                  ngx_http_rtdash_second_sums_ref(ctx, sec));
    ngx_http_rtdash_pool_free_locked(ctx, NGX_HTTP_RTDASH_POOL_SECOND, ref);
}


/* every record of a tool that goes */

void
ngx_http_rtdash_pool_free_tool_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node)
{
    ngx_uint_t              i;
    ngx_http_rtdash_ref_t  *refs;

    refs = ngx_http_rtdash_node_seconds(ctx, node);

    for (i = 0; i < NGX_HTTP_RTDASH_SECONDS; i++) {
        ngx_http_rtdash_pool_free_second_locked(ctx, &refs[i]);
    }

    refs = ngx_http_rtdash_node_minutes(ctx, node);

    for (i = 0; i < ctx->nminutes; i++) {
        ngx_http_rtdash_pool_free_minute_locked(ctx, &refs[i]);
    }

    refs = ngx_http_rtdash_node_chunks(ctx, node);

    for (i = 0; i < ctx->layout.nchunks; i++) {
        ngx_http_rtdash_pool_free_locked(ctx, NGX_HTTP_RTDASH_POOL_EVENTS,
                                         &refs[i]);
    }

    if (ctx->sh->sweep == node) {
        ctx->sh->sweep = NULL;
        ctx->sh->sweep_slot = 0;
    }
}


/* a zone minute that is to hold minute t: empty, its sketches returned */

void
ngx_http_rtdash_pool_reset_minute_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_mrec_t *m, uint32_t t)
{
    ngx_http_rtdash_pool_free_sketches_locked(ctx, m);

    ngx_memzero(m, ctx->layout.rec_size);
    m->t = t;
}


/*
 * Reclaim, a few slots per write step: the records of seconds and
 * minutes older than any reader shows go back to their pools.  A cursor
 * walks every tool in turn, so idle tools give back theirs too.
 */

void
ngx_http_rtdash_pool_sweep_locked(ngx_http_rtdash_ctx_t *ctx, time_t now)
{
    uint32_t                 *sec, oldest;
    ngx_uint_t                n, slot, steps;
    ngx_queue_t              *q;
    ngx_http_rtdash_ref_t    *refs;
    ngx_http_rtdash_mrec_t   *m;
    ngx_http_rtdash_node_t   *node;
    ngx_http_rtdash_shctx_t  *sh;

    sh = ctx->sh;

    if (ngx_queue_empty(&sh->tools)) {
        return;
    }

    if (sh->sweep == NULL) {
        sh->sweep = ngx_queue_data(ngx_queue_head(&sh->tools),
                                   ngx_http_rtdash_node_t, queue);
        sh->sweep_slot = 0;
    }

    /* this worker's budget for this second */

    if (now != ctx->swept_at) {
        ctx->swept_at = now;
        ctx->sweep_budget = sh->ntools
                            * (NGX_HTTP_RTDASH_SECONDS + ctx->nminutes + 1)
                            / NGX_HTTP_RTDASH_SWEEP_TIME;
        ctx->sweep_budget = ngx_max(ctx->sweep_budget, NGX_HTTP_RTDASH_SWEEP);
    }

    if (ctx->sweep_budget == 0) {
        return;
    }

    steps = ngx_min(ctx->sweep_budget, NGX_HTTP_RTDASH_SWEEP);
    ctx->sweep_budget -= steps;

    node = sh->sweep;
    slot = sh->sweep_slot;
    oldest = (uint32_t) (now - now % 60 - (time_t) (ctx->nminutes - 1) * 60);

    for (n = 0; n < steps; n++, slot++) {

        if (slot < NGX_HTTP_RTDASH_SECONDS) {
            refs = ngx_http_rtdash_node_seconds(ctx, node);
            sec = ngx_http_rtdash_ref_ptr(ctx, refs[slot]);

            if (sec && (time_t) sec[0] <= now - NGX_HTTP_RTDASH_SECONDS) {
                ngx_http_rtdash_pool_free_second_locked(ctx, &refs[slot]);
            }

            continue;
        }

        if (slot < NGX_HTTP_RTDASH_SECONDS + ctx->nminutes) {
            refs = ngx_http_rtdash_node_minutes(ctx, node);
            m = ngx_http_rtdash_ref_ptr(ctx,
                                        refs[slot - NGX_HTTP_RTDASH_SECONDS]);

            if (m == NULL) {
                continue;
            }

            if (m->t < oldest) {
                ngx_http_rtdash_pool_free_minute_locked(ctx,
                                        &refs[slot - NGX_HTTP_RTDASH_SECONDS]);

            } else if ((time_t) m->t + 60 + NGX_HTTP_RTDASH_PACK_AFTER <= now
                       && (m->values_ref || m->users_ref))
            {
                ngx_http_rtdash_minute_pack_locked(ctx, m);
            }

            continue;
        }

        /* this tool is done: the next one */

        q = ngx_queue_next(&node->queue);

        if (q == ngx_queue_sentinel(&sh->tools)) {
            q = ngx_queue_head(&sh->tools);
        }

        node = ngx_queue_data(q, ngx_http_rtdash_node_t, queue);
        slot = (ngx_uint_t) -1;
    }

    sh->sweep = node;
    sh->sweep_slot = slot;
}


/*
 * What a tool written every second and every minute, with values and
 * users, and a full ring takes: its node and all its records (as carved
 * from pages)
 */

size_t
ngx_http_rtdash_busy_tool_size(ngx_http_rtdash_ctx_t *ctx)
{
    size_t                   n;
    ngx_http_rtdash_pool_t  *p;

    p = ctx->sh->pools;

#define ngx_http_rtdash_carved(k)                                            \
    ((double) p[k].pages * ngx_pagesize                                      \
     / (p[k].pages * ngx_pagesize / p[k].size))

    n = ngx_http_rtdash_node_alloc_size(ctx);
    n += NGX_HTTP_RTDASH_SECONDS
         * ngx_http_rtdash_carved(NGX_HTTP_RTDASH_POOL_SECOND);
    n += ctx->nminutes
         * (ngx_http_rtdash_carved(NGX_HTTP_RTDASH_POOL_MINUTE)
            + ngx_http_rtdash_carved(NGX_HTTP_RTDASH_POOL_VALUES)
            + ngx_http_rtdash_carved(NGX_HTTP_RTDASH_POOL_USERS));
    n += ctx->layout.nchunks
         * ngx_http_rtdash_carved(NGX_HTTP_RTDASH_POOL_EVENTS);

#undef ngx_http_rtdash_carved

    return n;
}


/* what the slab allocator takes for a node: pages, or a power of two */

size_t
ngx_http_rtdash_node_alloc_size(ngx_http_rtdash_ctx_t *ctx)
{
    size_t  n;

    if (ctx->layout.node_size > ngx_pagesize / 2) {
        return ngx_align(ctx->layout.node_size, ngx_pagesize);
    }

    for (n = 8; n < ctx->layout.node_size; n <<= 1) {
        /* void */
    }

    return n;
}


/* bytes of records in use, and of records carved but free */

size_t
ngx_http_rtdash_pool_used(ngx_http_rtdash_ctx_t *ctx)
{
    size_t                   n;
    ngx_uint_t               k;
    ngx_http_rtdash_pool_t  *p;

    n = 0;

    for (k = 0; k < NGX_HTTP_RTDASH_POOLS; k++) {
        p = &ctx->sh->pools[k];
        n += (size_t) (p->carved - p->nfree) * p->size;
    }

    return n;
}


size_t
ngx_http_rtdash_pool_idle(ngx_http_rtdash_ctx_t *ctx)
{
    size_t                   n;
    ngx_uint_t               k;
    ngx_http_rtdash_pool_t  *p;

    n = 0;

    for (k = 0; k < NGX_HTTP_RTDASH_POOLS; k++) {
        p = &ctx->sh->pools[k];
        n += (size_t) p->nfree * p->size;
    }

    return n;
}


/*
 * A reader's copy of a tool's minute t: the zone minute with its own
 * values and users made into a histogram and a sketch.  0: the tool has
 * nothing for minute t.
 */

ngx_uint_t
ngx_http_rtdash_minute_read_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, time_t t, ngx_http_rtdash_minute_t *dst)
{
    ngx_http_rtdash_mrec_t  *m;

    m = ngx_http_rtdash_minute_slot(ctx, node, t);

    if (m == NULL || m->t != (uint32_t) (t - t % 60)) {
        return 0;
    }

    ngx_http_rtdash_minute_expand(ctx, m, dst);

    return 1;
}


void
ngx_http_rtdash_minute_expand(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_mrec_t *m, ngx_http_rtdash_minute_t *dst)
{
    void                     *src;
    double                   *values;
    uint32_t                 *keys;
    ngx_uint_t                i, n;
    ngx_http_rtdash_pack_t   *pk;
    ngx_http_rtdash_vstat_t  *vs;

    ngx_memzero(dst, sizeof(ngx_http_rtdash_minute_t));
    dst->t = m->t;

    vs = ngx_http_rtdash_ref_ptr(ctx, m->values_ref);
    pk = ngx_http_rtdash_ref_ptr(ctx, m->packed_ref);

    if (vs) {
        dst->value = *vs;

    } else if (pk && pk->bits) {
        ngx_http_rtdash_unpack_values(pk, &dst->value);

    } else {
        values = ngx_http_rtdash_mrec_values(ctx, m, &n);

        for (i = 0; i < n; i++) {
            ngx_http_rtdash_vstat_add(&dst->value, values[i],
                                  ngx_http_rtdash_value_index(values[i]), 0);
        }
    }

    src = ngx_http_rtdash_ref_ptr(ctx, m->users_ref);

    if (src) {
        ngx_memcpy(&dst->users, src, sizeof(ngx_http_rtdash_hll_t));

    } else if (pk && pk->users) {
        ngx_http_rtdash_unpack_users(pk, &dst->users);

    } else {
        keys = ngx_http_rtdash_mrec_keys(ctx, m, &n);

        for (i = 0; i < n; i++) {
            ngx_http_rtdash_hll_add(&dst->users, keys[i]);
        }
    }

    ngx_memcpy(ngx_http_rtdash_minute_counts(dst),
               ngx_http_rtdash_mrec_counts(m),
               ctx->layout.rec_size - sizeof(ngx_http_rtdash_mrec_t));
}


/*
 * A closed minute's histogram and users sketch into one PACKED record,
 * when what they hold fits (ngx_http_rtdash_pack.c): both, else the
 * histogram alone, else the users alone.  The record is filled, published by
 * one store of its ref, and only then are the records it holds freed: a
 * worker killed in between leaves both, holding the same, and the next
 * pass frees what the packed record holds.
 */

static void
ngx_http_rtdash_minute_pack_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_mrec_t *m)
{
    size_t                    n;
    u_char                    buf[NGX_HTTP_RTDASH_PACK_SIZE];
    ngx_http_rtdash_ref_t     ref;
    ngx_http_rtdash_hll_t    *h;
    ngx_http_rtdash_pack_t   *pk;
    ngx_http_rtdash_vstat_t  *vs;

    pk = ngx_http_rtdash_ref_ptr(ctx, m->packed_ref);

    if (pk) {
        vs = pk->bits ? ngx_http_rtdash_ref_ptr(ctx, m->values_ref) : NULL;
        h = pk->users ? ngx_http_rtdash_ref_ptr(ctx, m->users_ref) : NULL;
        goto packed;
    }

    vs = ngx_http_rtdash_ref_ptr(ctx, m->values_ref);
    h = ngx_http_rtdash_ref_ptr(ctx, m->users_ref);

    if (h && !h->dense && h->n == 0) {
        h = NULL;
    }

    if (vs == NULL && h == NULL) {
        return;
    }

    n = ngx_http_rtdash_pack(buf, sizeof(buf), vs, h);

    if (n == 0 && vs && h) {
        n = ngx_http_rtdash_pack(buf, sizeof(buf), vs, NULL);

        if (n) {
            h = NULL;

        } else {
            vs = NULL;
            n = ngx_http_rtdash_pack(buf, sizeof(buf), NULL, h);
        }
    }

    if (n == 0) {
        return;
    }

    pk = ngx_http_rtdash_pool_alloc_locked(ctx, NGX_HTTP_RTDASH_POOL_PACKED,
                                           &ref);
    if (pk == NULL) {
        /* no room: the minute stays as it is */
        return;
    }

    ngx_memcpy(pk, buf, n);
    m->packed_ref = ref;

    ngx_http_rtdash_crash("minute pack: published");

packed:

    if (vs) {
        ngx_http_rtdash_pool_free_locked(ctx, NGX_HTTP_RTDASH_POOL_VALUES,
                                         &m->values_ref);
    }

    if (h) {
        ngx_http_rtdash_pool_free_locked(ctx, NGX_HTTP_RTDASH_POOL_USERS,
                                         &m->users_ref);
    }
}


/*
 * A packed minute about to be written: its histogram and users back into
 * records of their own, each filled and then published, and only then the
 * packed record freed.  NGX_DECLINED: no room (what is done stays done:
 * the minute reads as it did).
 */

ngx_int_t
ngx_http_rtdash_minute_unpack_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_mrec_t *m)
{
    ngx_http_rtdash_ref_t     ref;
    ngx_http_rtdash_hll_t    *h;
    ngx_http_rtdash_pack_t   *pk;
    ngx_http_rtdash_vstat_t  *vs;

    pk = ngx_http_rtdash_ref_ptr(ctx, m->packed_ref);

    if (pk == NULL) {
        return NGX_OK;
    }

    if (pk->bits && m->values_ref == 0) {
        vs = ngx_http_rtdash_pool_alloc_locked(ctx,
                                               NGX_HTTP_RTDASH_POOL_VALUES,
                                               &ref);
        if (vs == NULL) {
            return NGX_DECLINED;
        }

        ngx_http_rtdash_unpack_values(pk, vs);
        m->values_ref = ref;

        ngx_http_rtdash_crash("minute unpack: values back");
    }

    if (pk->users && m->users_ref == 0) {
        h = ngx_http_rtdash_pool_alloc_locked(ctx, NGX_HTTP_RTDASH_POOL_USERS,
                                              &ref);
        if (h == NULL) {
            return NGX_DECLINED;
        }

        ngx_http_rtdash_unpack_users(pk, h);
        m->users_ref = ref;
    }

    ngx_http_rtdash_pool_free_locked(ctx, NGX_HTTP_RTDASH_POOL_PACKED,
                                     &m->packed_ref);

    return NGX_OK;
}


/*
 * A reader's minute back into the zone (a dump restored, a zone resized):
 * its values and users get records of their own unless it has none, or
 * users few enough to keep in the minute.
 */

ngx_int_t
ngx_http_rtdash_minute_store_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_minute_t *src, ngx_http_rtdash_ref_t *ref)
{
    uint32_t                 *keys;
    ngx_uint_t                i;
    ngx_http_rtdash_hll_t    *h;
    ngx_http_rtdash_mrec_t   *m;
    ngx_http_rtdash_vstat_t  *vs;

    *ref = 0;

    m = ngx_http_rtdash_pool_alloc_locked(ctx, NGX_HTTP_RTDASH_POOL_MINUTE,
                                          ref);
    if (m == NULL) {
        return NGX_DECLINED;
    }

    m->t = src->t;

    ngx_memcpy(ngx_http_rtdash_mrec_counts(m),
               ngx_http_rtdash_minute_counts(src),
               ctx->layout.rec_size - sizeof(ngx_http_rtdash_mrec_t));

    if (src->value.count) {
        vs = ngx_http_rtdash_pool_alloc_locked(ctx,
                                               NGX_HTTP_RTDASH_POOL_VALUES,
                                               &m->values_ref);
        if (vs == NULL) {
            return NGX_DECLINED;
        }

        *vs = src->value;
    }

    if (!src->users.dense && src->users.n <= NGX_HTTP_RTDASH_SMALL_USERS) {
        for (i = 0; i < src->users.n; i++) {
            m->keys[i] = src->users.u.keys[i];
        }

        m->nusers = src->users.n;
        return NGX_OK;
    }

    if (!src->users.dense && src->users.n <= NGX_HTTP_RTDASH_FEW_USERS) {
        keys = ngx_http_rtdash_pool_alloc_locked(ctx, NGX_HTTP_RTDASH_POOL_FEW,
                                                 &m->few_users_ref);
        if (keys == NULL) {
            return NGX_DECLINED;
        }

        for (i = 0; i < src->users.n; i++) {
            keys[i] = src->users.u.keys[i];
        }

        m->nusers = src->users.n;
        return NGX_OK;
    }

    h = ngx_http_rtdash_pool_alloc_locked(ctx, NGX_HTTP_RTDASH_POOL_USERS,
                                          &m->users_ref);
    if (h == NULL) {
        return NGX_DECLINED;
    }

    *h = src->users;

    return NGX_OK;
}


/*
 * A reader's copy of a zone second (layout.sec_copy bytes): its counts,
 * then its sums, 0 where it has none
 */

void
ngx_http_rtdash_second_copy(ngx_http_rtdash_ctx_t *ctx, uint32_t *sec,
    uint32_t *dst)
{
    double  *sums;

    ngx_memcpy(dst, sec, ctx->layout.sec_size);
    *ngx_http_rtdash_second_sums_ref(ctx, dst) = 0;

    sums = ngx_http_rtdash_ref_ptr(ctx,
                                   *ngx_http_rtdash_second_sums_ref(ctx, sec));

    if (sums) {
        ngx_memcpy(ngx_http_rtdash_second_sums(ctx, dst), sums,
                   sizeof(double) * ctx->ngauges);

    } else {
        ngx_memzero(ngx_http_rtdash_second_sums(ctx, dst),
                    sizeof(double) * ctx->ngauges);
    }
}


/* a tool's second t, copied; 0: the tool has nothing for second t */

ngx_uint_t
ngx_http_rtdash_second_read_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, time_t t, uint32_t *dst)
{
    uint32_t  *sec;

    sec = ngx_http_rtdash_second_slot(ctx, node, t);

    if (sec == NULL || sec[0] != (uint32_t) t) {
        return 0;
    }

    ngx_http_rtdash_second_copy(ctx, sec, dst);

    return 1;
}


/*
 * A reader's second back into the zone (a dump restored, a zone
 * resized): its sums get a record of their own unless they are all 0
 */

ngx_int_t
ngx_http_rtdash_second_store_locked(ngx_http_rtdash_ctx_t *ctx,
    uint32_t *src, ngx_http_rtdash_ref_t *ref)
{
    double      *sums, *from;
    uint32_t    *sec;
    ngx_uint_t   i;

    *ref = 0;

    sec = ngx_http_rtdash_pool_alloc_locked(ctx, NGX_HTTP_RTDASH_POOL_SECOND,
                                            ref);
    if (sec == NULL) {
        return NGX_DECLINED;
    }

    ngx_memcpy(sec, src, ctx->layout.sec_size);
    *ngx_http_rtdash_second_sums_ref(ctx, sec) = 0;

    from = ngx_http_rtdash_second_sums(ctx, src);

    for (i = 0; i < ctx->ngauges; i++) {
        if (from[i] != 0) {
            break;
        }
    }

    if (i == ctx->ngauges) {
        return NGX_OK;
    }

    sums = ngx_http_rtdash_pool_alloc_locked(ctx, NGX_HTTP_RTDASH_POOL_SUMS,
                                   ngx_http_rtdash_second_sums_ref(ctx, sec));
    if (sums == NULL) {
        return NGX_DECLINED;
    }

    ngx_memcpy(sums, from, sizeof(double) * ctx->ngauges);

    return NGX_OK;
}
