
/*
 * rtdash: the shared-memory zone: layout, init and reuse across reloads,
 * tool lookup, and copies of a tool's figures for the readers.
 */


#include "ngx_http_rtdash_module.h"

#include <math.h>


const double  ngx_http_rtdash_quantiles[3] = { 0.50, 0.95, 0.99 };


void
ngx_http_rtdash_layout(ngx_http_rtdash_ctx_t *ctx)
{
    size_t                     off, types;
    ngx_http_rtdash_layout_t  *l;

    l = &ctx->layout;
    types = ctx->ntypes;

    l->sec_size = ngx_align(sizeof(uint32_t) * (1 + 2 * types), 8);
    l->min_size = ngx_align(sizeof(ngx_http_rtdash_minute_t)
                            + sizeof(uint32_t) * 2 * types
                            + sizeof(ngx_http_rtdash_gstat_t) * ctx->ngauges,
                            8);

    off = ngx_align(sizeof(ngx_http_rtdash_node_t), 8);

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


uint64_t
ngx_http_rtdash_layout_key(ngx_http_rtdash_ctx_t *ctx)
{
    uint64_t  key;

    key = NGX_HTTP_RTDASH_LAYOUT_VERSION;
    key = key * 1000003 + ctx->size;
    key = key * 1000003 + (uint64_t) ctx->retention;
    key = key * 1000003 + ctx->nminutes;
    key = key * 1000003 + ctx->nevents;
    key = key * 1000003 + ctx->ntypes;
    key = key * 1000003 + ctx->ngauges;
    key = key * 1000003 + ctx->layout.node_size;
    key = key * 1000003 + sizeof(ngx_http_rtdash_shctx_t);

    return key;
}


ngx_int_t
ngx_http_rtdash_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_rtdash_ctx_t  *octx = data;

    size_t                   len, pages;
    ngx_shm_zone_t          *oz;
    ngx_http_rtdash_ctx_t   *ctx;

    ctx = shm_zone->data;

    if (octx) {
        if (octx->sh->layout_key != ngx_http_rtdash_layout_key(ctx)) {
            ngx_log_error(NGX_LOG_ALERT, shm_zone->shm.log, 0,
                          "rtdash zone \"%V\" has an incompatible layout",
                          &shm_zone->shm.name);
            return NGX_ERROR;
        }

        ctx->sh = octx->sh;
        ctx->shpool = octx->shpool;

        return NGX_OK;
    }

    ctx->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        ctx->sh = ctx->shpool->data;
        return NGX_OK;
    }

    ctx->sh = ngx_slab_alloc(ctx->shpool, sizeof(ngx_http_rtdash_shctx_t));
    if (ctx->sh == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(ctx->sh, sizeof(ngx_http_rtdash_shctx_t));

    ctx->shpool->data = ctx->sh;

    ngx_rbtree_init(&ctx->sh->rbtree, &ctx->sh->sentinel,
                    ngx_http_rtdash_rbtree_insert_value);
    ngx_queue_init(&ctx->sh->tools);

    ctx->sh->layout_key = ngx_http_rtdash_layout_key(ctx);
    ctx->sh->started = ngx_time();

    ngx_http_rtdash_zone_key(ctx, shm_zone->shm.log);

    /* nodes are larger than half a page: each takes whole pages */
    pages = (ctx->layout.node_size + ngx_pagesize - 1) / ngx_pagesize;
    ctx->sh->max_tools = ctx->shpool->pfree / pages;

    len = sizeof(" in rtdash zone \"\"") + shm_zone->shm.name.len;

    ctx->shpool->log_ctx = ngx_slab_alloc(ctx->shpool, len);
    if (ctx->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(ctx->shpool->log_ctx, " in rtdash zone \"%V\"%Z",
                &shm_zone->shm.name);

    ctx->shpool->log_nomem = 0;

    ngx_log_error(NGX_LOG_NOTICE, shm_zone->shm.log, 0,
                  "rtdash zone \"%V\": fresh zone of %uz bytes, "
                  "%uz bytes per tool, room for %ui tools",
                  &shm_zone->shm.name, shm_zone->shm.size,
                  ctx->layout.node_size, ctx->sh->max_tools);

    /*
     * A reload that resized the zone: the old zone is still mapped here,
     * its tools move over.  Otherwise the dump, if there is one.
     */

    oz = ngx_http_rtdash_old_zone((ngx_cycle_t *) ngx_cycle,
                                  &shm_zone->shm.name);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, shm_zone->shm.log, 0,
                   "rtdash zone \"%V\": %s", &shm_zone->shm.name,
                   oz ? "resized: the old zone's tools move over"
                      : (ctx->dump.len ? "restoring the dump" : "no dump"));

    if (oz && oz->data && ((ngx_http_rtdash_ctx_t *) oz->data)->sh) {
        ngx_http_rtdash_migrate(ctx, oz->data, shm_zone->shm.log);

    } else if (ctx->dump.len) {
        ngx_http_rtdash_dump_restore(ctx, shm_zone->shm.log);
    }

    return NGX_OK;
}


ngx_shm_zone_t *
ngx_http_rtdash_old_zone(ngx_cycle_t *old, ngx_str_t *name)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_shm_zone_t   *oz;

    if (old == NULL || old->shared_memory.part.elts == NULL) {
        return NULL;
    }

    part = &old->shared_memory.part;
    oz = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            oz = part->elts;
            i = 0;
        }

        if (oz[i].tag == &ngx_http_rtdash_module
            && oz[i].shm.name.len == name->len
            && ngx_strncmp(oz[i].shm.name.data, name->data, name->len) == 0)
        {
            return &oz[i];
        }
    }
}


void
ngx_http_rtdash_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t       **p;
    ngx_http_rtdash_node_t   *n, *t;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            n = (ngx_http_rtdash_node_t *) node;
            t = (ngx_http_rtdash_node_t *) temp;

            p = (ngx_memn2cmp(n->name, t->name, n->name_len, t->name_len)
                 < 0) ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


ngx_http_rtdash_node_t *
ngx_http_rtdash_lookup_locked(ngx_http_rtdash_ctx_t *ctx, uint32_t hash,
    u_char *name, size_t len)
{
    ngx_int_t                rc;
    ngx_rbtree_node_t       *node, *sentinel;
    ngx_http_rtdash_node_t  *n;

    node = ctx->sh->rbtree.root;
    sentinel = ctx->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        n = (ngx_http_rtdash_node_t *) node;

        rc = ngx_memn2cmp(name, n->name, len, n->name_len);

        if (rc == 0) {
            return n;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/* a new tool, empty, in the index; NULL when the zone has no room */

ngx_http_rtdash_node_t *
ngx_http_rtdash_tool_new_locked(ngx_http_rtdash_ctx_t *ctx, uint32_t hash,
    u_char *name, size_t len)
{
    ngx_http_rtdash_node_t  *node;

    if (ctx->sh->ntools >= ctx->sh->max_tools) {
        return NULL;
    }

    node = ngx_slab_calloc_locked(ctx->shpool, ctx->layout.node_size);
    if (node == NULL) {
        return NULL;
    }

    node->node.key = hash;
    node->name_len = len;
    ngx_memcpy(node->name, name, len);

    ngx_http_rtdash_tool_insert_locked(ctx, node);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "rtdash zone \"%V\": new tool \"%*s\"",
                   &ctx->name, len, name);

    return node;
}


/* a node whose key and name are set joins the index and the tool list */

void
ngx_http_rtdash_tool_insert_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node)
{
    /*
     * a function pointer in shared memory is only valid in the process
     * that set it: a reload may map the module elsewhere
     */
    ctx->sh->rbtree.insert = ngx_http_rtdash_rbtree_insert_value;
    ngx_rbtree_insert(&ctx->sh->rbtree, &node->node);
    ngx_queue_insert_tail(&ctx->sh->tools, &node->queue);
    ctx->sh->ntools++;
}


/* only for a tool that no reader has seen: the undo of a refused record */

void
ngx_http_rtdash_tool_free_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node)
{
    ngx_rbtree_delete(&ctx->sh->rbtree, &node->node);
    ngx_queue_remove(&node->queue);
    ngx_slab_free_locked(ctx->shpool, node);
    ctx->sh->ntools--;
}


void
ngx_http_rtdash_zinfo_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_zinfo_t *zi)
{
    ngx_http_rtdash_shctx_t  *sh;

    sh = ctx->sh;

    zi->seq = sh->seq;
    zi->accepted = sh->accepted;
    zi->rejected = sh->rejected;
    zi->refused = sh->refused;
    zi->ntools = sh->ntools;
    zi->max_tools = sh->max_tools;
    zi->started = sh->started;
    zi->free = ctx->shpool->pfree * ngx_pagesize;
    zi->used = ctx->size - zi->free;
    zi->ntypes = sh->ntypes;
    ngx_memcpy(zi->types, sh->types,
               sizeof(ngx_http_rtdash_type_t) * sh->ntypes);
}


void
ngx_http_rtdash_summary_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, time_t now, ngx_http_rtdash_summary_t *s)
{
    time_t      t;
    uint32_t   *sec, *cnt;
    ngx_uint_t  k, types;

    types = ctx->ntypes;

    ngx_memcpy(s->name, node->name, node->name_len);
    s->name_len = node->name_len;
    s->updated = node->updated;
    s->seq = node->seq;
    s->value = node->value;
    s->ngauges = node->ngauges;

    ngx_memcpy(s->gauges, ngx_http_rtdash_node_gauges(ctx, node),
               sizeof(ngx_http_rtdash_gauge_t) * node->ngauges);
    ngx_memcpy(s->totals, ngx_http_rtdash_node_totals(ctx, node),
               sizeof(uint64_t) * types);
    ngx_memcpy(s->flagged, ngx_http_rtdash_node_flagged(ctx, node),
               sizeof(uint64_t) * types);

    ngx_memzero(s->rate, sizeof(uint64_t) * types);

    /* the count over the last 60 s: seconds (now - 59) .. now */

    for (t = now - 59; t <= now; t++) {
        sec = ngx_http_rtdash_second_slot(ctx, node, t);

        if ((time_t) sec[0] != t) {
            continue;
        }

        cnt = ngx_http_rtdash_second_counts(sec);

        for (k = 0; k < types; k++) {
            s->rate[k] += cnt[k];
        }
    }
}


/*
 * The zone's figures and every tool's summary, copied one tool per lock
 * (writers get in between) into the worker's arena: the summaries are
 * valid until the handler returns.
 */

ngx_int_t
ngx_http_rtdash_summaries(ngx_http_request_t *r, ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_zinfo_t **zip, ngx_http_rtdash_summary_t **sp,
    ngx_uint_t *np)
{
    time_t                      now;
    ngx_uint_t                  i, n;
    ngx_queue_t                *q;
    ngx_http_rtdash_node_t     *node;
    ngx_http_rtdash_zinfo_t    *zi;
    ngx_http_rtdash_summary_t  *s;

    zi = ngx_palloc(r->pool, sizeof(ngx_http_rtdash_zinfo_t));
    if (zi == NULL) {
        return NGX_ERROR;
    }

    now = ngx_time();

    /* the tool count can only grow: allocate for max_tools at most */

    ngx_shmtx_lock(&ctx->shpool->mutex);
    n = ctx->sh->ntools;
    ngx_shmtx_unlock(&ctx->shpool->mutex);

    n = ngx_min(n + 16, ctx->sh->max_tools);

    s = ngx_http_rtdash_arena(r, (n + 1) * sizeof(ngx_http_rtdash_summary_t));
    if (s == NULL) {
        return NGX_ERROR;
    }

    ngx_shmtx_lock(&ctx->shpool->mutex);

    ngx_http_rtdash_zinfo_locked(ctx, zi);

    i = 0;

    /* tools are never freed once in the queue: the walk goes on */

    for (q = ngx_queue_head(&ctx->sh->tools);
         q != ngx_queue_sentinel(&ctx->sh->tools) && i < n;
         /* void */)
    {
        node = ngx_queue_data(q, ngx_http_rtdash_node_t, queue);
        ngx_http_rtdash_summary_locked(ctx, node, now, &s[i++]);
        q = ngx_queue_next(q);

        ngx_shmtx_unlock(&ctx->shpool->mutex);
        ngx_shmtx_lock(&ctx->shpool->mutex);
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    *zip = zi;
    *sp = s;
    *np = i;

    return NGX_OK;
}


/*
 * The zone's own random key for pseudonyms (users=hash, ids=hash): kept
 * across reloads in the zone and across restarts in the dump, so the
 * same user keeps the same pseudonym.
 */

void
ngx_http_rtdash_zone_key(ngx_http_rtdash_ctx_t *ctx, ngx_log_t *log)
{
    ssize_t     n;
    ngx_fd_t    fd;
    ngx_uint_t  i;

    n = -1;
    fd = ngx_open_file("/dev/urandom", NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd != NGX_INVALID_FILE) {
        n = read(fd, ctx->sh->key, NGX_HTTP_RTDASH_KEY_LEN);
        (void) ngx_close_file(fd);
    }

    if (n != NGX_HTTP_RTDASH_KEY_LEN) {
        ngx_log_error(NGX_LOG_WARN, log, ngx_errno,
                      "rtdash zone \"%V\": no /dev/urandom, the pseudonym "
                      "key comes from random()", &ctx->name);

        for (i = 0; i < NGX_HTTP_RTDASH_KEY_LEN; i++) {
            ctx->sh->key[i] = (u_char) (ngx_random() >> 7);
        }
    }
}


double
ngx_http_rtdash_now(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (double) tp->sec + (double) tp->msec / 1000.0;
}
