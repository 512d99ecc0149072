
/*
 * rtdash: a tool's image: its node and the records it holds, flat, for
 * a dump and for a zone that a reload resized.  The node comes first,
 * its refs made 1 where a record follows and 0 where none; then the
 * seconds (as readers see them, with their sums), the minutes (as
 * readers see them: ngx_http_rtdash_minute_t) and the ring chunks that
 * are there, each in slot order.
 */


#include "ngx_http_rtdash_module.h"

#include <float.h>


#define NGX_HTTP_RTDASH_CHUNK_SIZE                                           \
    (sizeof(ngx_http_rtdash_event_t) * NGX_HTTP_RTDASH_CHUNK)


static ngx_int_t ngx_http_rtdash_image_records_locked(
    ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_node_t *node, u_char *p);


size_t
ngx_http_rtdash_image_max(ngx_http_rtdash_ctx_t *ctx)
{
    ngx_http_rtdash_layout_t  *l;

    l = &ctx->layout;

    return l->node_size + NGX_HTTP_RTDASH_SECONDS * l->sec_copy
           + ctx->nminutes * l->min_size
           + l->nchunks * NGX_HTTP_RTDASH_CHUNK_SIZE;
}


/* under the lock: the image of a tool into buf (image_max bytes) */

size_t
ngx_http_rtdash_image_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, u_char *buf)
{
    u_char                  *p, *rec;
    ngx_uint_t               i;
    ngx_http_rtdash_ref_t   *refs;
    ngx_http_rtdash_node_t  *copy;

    ngx_memcpy(buf, node, ctx->layout.node_size);

    copy = (ngx_http_rtdash_node_t *) buf;
    ngx_memzero(&copy->node, sizeof(ngx_rbtree_node_t));
    ngx_memzero(&copy->queue, sizeof(ngx_queue_t));
    ngx_memzero(&copy->lru, sizeof(ngx_queue_t));
    copy->pending = 0;
    copy->touched = 0;
    copy->born = 0;

    p = buf + ctx->layout.node_size;

    refs = ngx_http_rtdash_node_seconds(ctx, copy);

    for (i = 0; i < NGX_HTTP_RTDASH_SECONDS; i++) {
        rec = ngx_http_rtdash_ref_ptr(ctx, refs[i]);
        refs[i] = (rec != NULL);

        if (rec) {
            ngx_http_rtdash_second_copy(ctx, (uint32_t *) rec, (uint32_t *) p);
            p += ctx->layout.sec_copy;
        }
    }

    refs = ngx_http_rtdash_node_minutes(ctx, copy);

    for (i = 0; i < ctx->nminutes; i++) {
        rec = ngx_http_rtdash_ref_ptr(ctx, refs[i]);
        refs[i] = (rec != NULL);

        if (rec) {
            ngx_http_rtdash_minute_expand(ctx, (ngx_http_rtdash_mrec_t *) rec,
                                          (ngx_http_rtdash_minute_t *) p);
            p += ctx->layout.min_size;
        }
    }

    refs = ngx_http_rtdash_node_chunks(ctx, copy);

    for (i = 0; i < ctx->layout.nchunks; i++) {
        rec = ngx_http_rtdash_ref_ptr(ctx, refs[i]);
        refs[i] = (rec != NULL);

        if (rec) {
            p = ngx_cpymem(p, rec, NGX_HTTP_RTDASH_CHUNK_SIZE);
        }
    }

    return p - buf;
}


/* how long an image is, by its node; 0: its node is not an image's */

size_t
ngx_http_rtdash_image_size(ngx_http_rtdash_ctx_t *ctx, u_char *image)
{
    size_t                   n;
    ngx_uint_t               i;
    ngx_http_rtdash_ref_t   *refs;
    ngx_http_rtdash_node_t  *node;

    node = (ngx_http_rtdash_node_t *) image;
    n = ctx->layout.node_size;

    refs = ngx_http_rtdash_node_seconds(ctx, node);

    for (i = 0; i < NGX_HTTP_RTDASH_SECONDS; i++) {
        if (refs[i] > 1) {
            return 0;
        }

        n += refs[i] * ctx->layout.sec_copy;
    }

    refs = ngx_http_rtdash_node_minutes(ctx, node);

    for (i = 0; i < ctx->nminutes; i++) {
        if (refs[i] > 1) {
            return 0;
        }

        n += refs[i] * ctx->layout.min_size;
    }

    refs = ngx_http_rtdash_node_chunks(ctx, node);

    for (i = 0; i < ctx->layout.nchunks; i++) {
        if (refs[i] > 1) {
            return 0;
        }

        n += refs[i] * NGX_HTTP_RTDASH_CHUNK_SIZE;
    }

    return n;
}


/*
 * Under the lock: an image (image_size checked) becomes a tool of this
 * zone, all of it or nothing.  NGX_DECLINED: not valid, or no room.
 */

ngx_int_t
ngx_http_rtdash_image_adopt_locked(ngx_http_rtdash_ctx_t *ctx,
    u_char *image)
{
    ngx_uint_t                k;
    ngx_http_rtdash_node_t   *node, *src;
    ngx_http_rtdash_gauge_t  *gs;

    src = (ngx_http_rtdash_node_t *) image;
    gs = ngx_http_rtdash_node_gauges(ctx, src);

    for (k = 0; k < ctx->ngauges; k++) {
        if (gs[k].kind > NGX_HTTP_RTDASH_SUM
            || gs[k].len > NGX_HTTP_RTDASH_TOKEN_MAX)
        {
            return NGX_DECLINED;
        }
    }

    if (src->name_len == 0 || src->name_len > NGX_HTTP_RTDASH_TOOL_MAX
        || src->ngauges > ctx->ngauges
        || !ngx_http_rtdash_vstat_valid(&src->value)
        || ctx->sh->ntools >= ctx->sh->max_tools)
    {
        return NGX_DECLINED;
    }

    node = ngx_slab_alloc_locked(ctx->shpool, ctx->layout.node_size);
    if (node == NULL) {
        return NGX_DECLINED;
    }

    ngx_memcpy(node, image, ctx->layout.node_size);

    ngx_memzero(&node->node, sizeof(ngx_rbtree_node_t));
    node->node.key = ngx_crc32_short(node->name, node->name_len);
    node->touched = 0;
    node->born = 0;

    if (ngx_http_rtdash_image_records_locked(ctx, node,
                                             image + ctx->layout.node_size)
        != NGX_OK)
    {
        ngx_http_rtdash_pool_free_tool_locked(ctx, node);
        ngx_slab_free_locked(ctx->shpool, node);
        return NGX_DECLINED;
    }

    /* into the LRU queue at the front: init_zone sorts it afterwards */

    ngx_http_rtdash_tool_insert_locked(ctx, node);

    if (node->seq > ctx->sh->seq) {
        ctx->sh->seq = node->seq;
    }

    return NGX_OK;
}


/* the records of an image, at p, for the node's refs that are 1 */

static ngx_int_t
ngx_http_rtdash_image_records_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, u_char *p)
{
    u_char                    *rec;
    double                     v;
    uint32_t                  *sec;
    ngx_uint_t                 i, k, kind;
    ngx_http_rtdash_ref_t     *refs;
    ngx_http_rtdash_minute_t  *m;

    refs = ngx_http_rtdash_node_seconds(ctx, node);

    for (i = 0; i < NGX_HTTP_RTDASH_SECONDS; i++) {
        if (refs[i] == 0) {
            continue;
        }

        sec = (uint32_t *) p;
        p += ctx->layout.sec_copy;

        /* a sum is finite and not negative (NaN fails both) */

        for (k = 0; k < ctx->ngauges; k++) {
            v = ngx_http_rtdash_second_sums(ctx, sec)[k];

            if (!(v >= 0 && v <= DBL_MAX)) {
                break;
            }
        }

        if (k < ctx->ngauges) {
            refs[i] = 0;
        }

        if (k < ctx->ngauges
            || ngx_http_rtdash_second_store_locked(ctx, sec, &refs[i])
               != NGX_OK)
        {
            ngx_memzero(&refs[i + 1], (NGX_HTTP_RTDASH_SECONDS - i - 1)
                                      * sizeof(ngx_http_rtdash_ref_t));
            goto failed;
        }
    }

    refs = ngx_http_rtdash_node_minutes(ctx, node);

    for (i = 0; i < ctx->nminutes; i++) {
        if (refs[i] == 0) {
            continue;
        }

        m = (ngx_http_rtdash_minute_t *) p;
        p += ctx->layout.min_size;

        if (!ngx_http_rtdash_vstat_valid(&m->value)
            || !ngx_http_rtdash_hll_valid(&m->users)
            || ngx_http_rtdash_minute_store_locked(ctx, m, &refs[i])
               != NGX_OK)
        {
            ngx_memzero(&refs[i + 1], (ctx->nminutes - i - 1)
                                      * sizeof(ngx_http_rtdash_ref_t));
            goto failed;
        }
    }

    refs = ngx_http_rtdash_node_chunks(ctx, node);
    kind = NGX_HTTP_RTDASH_POOL_EVENTS;

    for (i = 0; i < ctx->layout.nchunks; i++) {
        if (refs[i] == 0) {
            continue;
        }

        rec = ngx_http_rtdash_pool_alloc_locked(ctx, kind, &refs[i]);
        if (rec == NULL) {
            ngx_memzero(&refs[i], (ctx->layout.nchunks - i)
                                  * sizeof(ngx_http_rtdash_ref_t));
            return NGX_DECLINED;
        }

        ngx_memcpy(rec, p, NGX_HTTP_RTDASH_CHUNK_SIZE);
        p += NGX_HTTP_RTDASH_CHUNK_SIZE;
    }

    return NGX_OK;

failed:

    /* what is not taken yet must not look taken to the free that follows */

    if (refs != ngx_http_rtdash_node_chunks(ctx, node)) {
        ngx_memzero(ngx_http_rtdash_node_chunks(ctx, node),
                    ctx->layout.nchunks * sizeof(ngx_http_rtdash_ref_t));
    }

    if (refs == ngx_http_rtdash_node_seconds(ctx, node)) {
        ngx_memzero(ngx_http_rtdash_node_minutes(ctx, node),
                    ctx->nminutes * sizeof(ngx_http_rtdash_ref_t));
    }

    return NGX_DECLINED;
}
