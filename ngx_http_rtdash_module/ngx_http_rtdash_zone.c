
/*
 * rtdash: the shared-memory zone: layout, init and reuse across reloads,
 * tool lookup, and copies of a tool's figures for the readers.
 */


#include "ngx_http_rtdash_module.h"

#include <math.h>


const double  ngx_http_rtdash_quantiles[3] = { 0.50, 0.95, 0.99 };


static void ngx_http_rtdash_max_tools(ngx_http_rtdash_ctx_t *ctx,
    ngx_log_t *log);
static int ngx_libc_cdecl ngx_http_rtdash_lru_cmp(const void *one,
    const void *two);


void
ngx_http_rtdash_layout(ngx_http_rtdash_ctx_t *ctx)
{
    size_t                     off, types;
    ngx_http_rtdash_layout_t  *l;

    l = &ctx->layout;
    types = ctx->ntypes;

    l->sec_size = ngx_align(sizeof(uint32_t) * (1 + 2 * types)
                            + sizeof(ngx_http_rtdash_ref_t), 8);
    l->sec_copy = l->sec_size + sizeof(double) * ctx->ngauges;
    l->min_size = ngx_align(sizeof(ngx_http_rtdash_minute_t)
                            + sizeof(uint32_t) * 2 * types
                            + sizeof(ngx_http_rtdash_gstat_t) * ctx->ngauges,
                            8);
    l->rec_size = ngx_align(sizeof(ngx_http_rtdash_mrec_t)
                            + sizeof(uint32_t) * 2 * types
                            + sizeof(ngx_http_rtdash_gstat_t) * ctx->ngauges,
                            8);
    l->nchunks = (ctx->nevents + NGX_HTTP_RTDASH_CHUNK - 1)
                 / NGX_HTTP_RTDASH_CHUNK;

    off = ngx_align(sizeof(ngx_http_rtdash_node_t), 8);

    l->totals = off;
    off += sizeof(uint64_t) * types;
    l->flagged = off;
    off += sizeof(uint64_t) * types;
    l->gauges = off;
    off += sizeof(ngx_http_rtdash_gauge_t) * ctx->ngauges;
    l->seconds = off;
    off += sizeof(ngx_http_rtdash_ref_t) * NGX_HTTP_RTDASH_SECONDS;
    l->minutes = off;
    off += sizeof(ngx_http_rtdash_ref_t) * ctx->nminutes;
    l->ring = off;
    off += sizeof(ngx_http_rtdash_ref_t) * l->nchunks;

    l->node_size = ngx_align(off, 8);
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
    key = key * 1000003 + ctx->wsizes.notices;
    key = key * 1000003 + ctx->wsizes.states;
    key = key * 1000003 + ngx_http_rtdash_watch_size(ctx);

    return key;
}


ngx_int_t
ngx_http_rtdash_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_rtdash_ctx_t  *octx = data;

    size_t                   len, per;
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

        /* max_tools= may change on reload: the zone keeps its tools */

        ngx_http_rtdash_lock(ctx);
        ngx_http_rtdash_max_tools(ctx, shm_zone->shm.log);
        ngx_http_rtdash_unlock(ctx);

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
    ngx_queue_init(&ctx->sh->lru);

    ctx->sh->layout_key = ngx_http_rtdash_layout_key(ctx);
    ctx->sh->started = ngx_time();

    ngx_http_rtdash_zone_key(ctx, shm_zone->shm.log);

    ngx_http_rtdash_pool_init_locked(ctx);

    len = sizeof(" in rtdash zone \"\"") + shm_zone->shm.name.len;

    ctx->shpool->log_ctx = ngx_slab_alloc(ctx->shpool, len);
    if (ctx->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(ctx->shpool->log_ctx, " in rtdash zone \"%V\"%Z",
                &shm_zone->shm.name);

    ctx->shpool->log_nomem = 0;

    /*
     * A tool takes its node and the records of what it writes: the zone
     * has room for as many tools as could each have a node and one record
     * of each kind but the sketches, of what is left once the header and
     * log_ctx (a page of small chunks) are in.  What fits in fact depends
     * on how busy they are: beyond, writes are refused for want of
     * buckets.
     */

    per = ngx_http_rtdash_node_alloc_size(ctx) + ctx->layout.rec_size
          + ctx->layout.sec_size
          + sizeof(ngx_http_rtdash_event_t) * NGX_HTTP_RTDASH_CHUNK;
    ctx->sh->room = ctx->shpool->pfree * ngx_pagesize / per;
    ngx_http_rtdash_max_tools(ctx, shm_zone->shm.log);

    if (ngx_http_rtdash_index_init_locked(ctx) != NGX_OK
        || ngx_http_rtdash_watch_init(ctx) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_log_error(NGX_LOG_NOTICE, shm_zone->shm.log, 0,
                  "rtdash zone \"%V\": fresh zone of %uz bytes, "
                  "%uz bytes per busy tool, up to %ui tools",
                  &shm_zone->shm.name, shm_zone->shm.size,
                  ngx_http_rtdash_busy_tool_size(ctx), ctx->sh->max_tools);

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

    ngx_http_rtdash_lock(ctx);
    ngx_http_rtdash_lru_order_locked(ctx);
    ngx_http_rtdash_unlock(ctx);

    return NGX_OK;
}


/* max_tools= or what fits, whichever is less */

static void
ngx_http_rtdash_max_tools(ngx_http_rtdash_ctx_t *ctx, ngx_log_t *log)
{
    ngx_uint_t  n;

    n = ctx->sh->room;

    if (ctx->max_tools > n) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "rtdash zone \"%V\": max_tools=%ui is more than the "
                      "%ui tools that fit", &ctx->name, ctx->max_tools, n);

    } else if (ctx->max_tools) {
        n = ctx->max_tools;
    }

    if (ctx->sh->max_tools && ctx->sh->max_tools != n) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "rtdash zone \"%V\": max_tools changes from %ui to "
                      "%ui, %ui tools in the zone", &ctx->name,
                      ctx->sh->max_tools, n, ctx->sh->ntools);
    }

    ctx->sh->max_tools = n;
}


/*
 * Restored or carried-over tools join the LRU queue in the order they
 * come; it is put in the order of their last write once, here.
 */

void
ngx_http_rtdash_lru_order_locked(ngx_http_rtdash_ctx_t *ctx)
{
    ngx_uint_t                i, n;
    ngx_queue_t              *q;
    ngx_http_rtdash_node_t  **nodes;

    n = ctx->sh->ntools;

    if (n < 2) {
        return;
    }

    nodes = ngx_alloc(n * sizeof(ngx_http_rtdash_node_t *), ngx_cycle->log);
    if (nodes == NULL) {
        return;
    }

    i = 0;

    for (q = ngx_queue_head(&ctx->sh->lru);
         q != ngx_queue_sentinel(&ctx->sh->lru) && i < n;
         q = ngx_queue_next(q))
    {
        nodes[i++] = ngx_queue_data(q, ngx_http_rtdash_node_t, lru);
    }

    ngx_qsort(nodes, i, sizeof(ngx_http_rtdash_node_t *),
              ngx_http_rtdash_lru_cmp);

    ngx_queue_init(&ctx->sh->lru);

    for (n = 0; n < i; n++) {
        ngx_queue_insert_tail(&ctx->sh->lru, &nodes[n]->lru);
    }

    ngx_free(nodes);
}


/* the most recently updated first */

static int ngx_libc_cdecl
ngx_http_rtdash_lru_cmp(const void *one, const void *two)
{
    ngx_http_rtdash_node_t  *a, *b;

    a = *(ngx_http_rtdash_node_t **) one;
    b = *(ngx_http_rtdash_node_t **) two;

    return (a->updated < b->updated) - (a->updated > b->updated);
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
    ngx_http_rtdash_crash("tool insert: in the rbtree only");
    ngx_queue_insert_tail(&ctx->sh->tools, &node->queue);
    ngx_http_rtdash_crash("tool insert: not in the LRU list");
    ngx_queue_insert_head(&ctx->sh->lru, &node->lru);
    ctx->sh->ntools++;

    ngx_http_rtdash_crash("tool insert");
    ngx_http_rtdash_index_add_locked(ctx, node);
}


/* only for a tool that no reader has seen: the undo of a refused record */

void
ngx_http_rtdash_tool_free_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node)
{
    ngx_http_rtdash_index_remove_locked(ctx, node);
    ngx_http_rtdash_pool_free_tool_locked(ctx, node);
    ngx_rbtree_delete(&ctx->sh->rbtree, &node->node);
    ngx_queue_remove(&node->queue);
    ngx_queue_remove(&node->lru);
    ngx_slab_free_locked(ctx->shpool, node);
    ctx->sh->ntools--;
}


/*
 * Eviction: the tool leaves the index and its node, emptied, becomes the
 * new tool "name" in place.  The node keeps its place in the tool list,
 * so a reader walking the list lock by lock (which holds on to the next
 * node across an unlock) always stands on a live node: nodes are never
 * freed once readers may have seen them.  Everything the old tool had
 * (counts, buckets, gauges, the ring with its users and ids) is zeroed.
 */

void
ngx_http_rtdash_tool_evict_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, uint32_t hash, u_char *name, size_t len)
{
    uint32_t     slot;
    ngx_queue_t  queue;

    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "rtdash zone \"%V\": tool \"%*s\" evicted for \"%*s\"",
                   &ctx->name, (size_t) node->name_len, node->name, len,
                   name);

    ngx_http_rtdash_pool_free_tool_locked(ctx, node);
    ngx_rbtree_delete(&ctx->sh->rbtree, &node->node);
    ngx_queue_remove(&node->lru);

    queue = node->queue;
    slot = node->slot;
    ngx_memzero(node, ctx->layout.node_size);
    ngx_http_rtdash_crash("tool evict");
    node->queue = queue;
    node->slot = slot;

    node->node.key = hash;
    node->name_len = len;
    ngx_memcpy(node->name, name, len);

    ctx->sh->rbtree.insert = ngx_http_rtdash_rbtree_insert_value;
    ngx_rbtree_insert(&ctx->sh->rbtree, &node->node);
    ngx_queue_insert_head(&ctx->sh->lru, &node->lru);

    ctx->sh->evicted++;
}


/* a write: the tool goes to the front of the LRU queue */

void
ngx_http_rtdash_lru_touch_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node)
{
    if (ngx_queue_head(&ctx->sh->lru) != &node->lru) {
        ngx_queue_remove(&node->lru);
        ngx_queue_insert_head(&ctx->sh->lru, &node->lru);
    }
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
    zi->evicted = sh->evicted;
    zi->ntools = sh->ntools;
    zi->max_tools = sh->max_tools;
    zi->started = sh->started;
    zi->free = ctx->shpool->pfree * ngx_pagesize
               + ngx_http_rtdash_pool_idle(ctx);
    zi->used = ctx->size - zi->free;
    zi->tool_bytes = sh->ntools * ngx_http_rtdash_node_alloc_size(ctx)
                     + ngx_http_rtdash_pool_used(ctx);
    zi->notices = sh->watch->notices;
    zi->anomalies = sh->watch->anomalies;
    zi->transitions = sh->watch->rings[NGX_HTTP_RTDASH_WATCH_ALERT].written;
    ngx_memcpy(zi->entered, sh->watch->entered, sizeof(zi->entered));
    zi->firing = sh->watch->firing;
    zi->pending = sh->watch->pending;
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
    s->recent = NULL;

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

        if (sec == NULL || (time_t) sec[0] != t) {
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
    uint64_t                    start;
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

    /*
     * The tool count can only grow (an eviction reuses the node), up to
     * max_tools, or stays above it when a reload lowered max_tools.
     */

    ngx_http_rtdash_lock(ctx);
    n = ctx->sh->ntools;
    ngx_http_rtdash_unlock(ctx);

    n = ngx_min(n + 16, ngx_max(n, ctx->sh->max_tools));

    s = ngx_http_rtdash_arena(r, (n + 1) * sizeof(ngx_http_rtdash_summary_t));
    if (s == NULL) {
        return NGX_ERROR;
    }

    ngx_http_rtdash_lock(ctx);

    ngx_http_rtdash_zinfo_locked(ctx, zi);

    i = 0;
    start = ctx->sh->records;

    /*
     * Nodes are never freed once in the queue: the walk goes on.  A tool
     * made after it began (maybe in the node of one evicted, under a name
     * already seen) is left out.
     */

    for (q = ngx_queue_head(&ctx->sh->tools);
         q != ngx_queue_sentinel(&ctx->sh->tools) && i < n;
         /* void */)
    {
        node = ngx_queue_data(q, ngx_http_rtdash_node_t, queue);

        if (node->born <= start) {
            ngx_http_rtdash_summary_locked(ctx, node, now, &s[i++]);
        }

        q = ngx_queue_next(q);

        ngx_http_rtdash_unlock(ctx);
        ngx_http_rtdash_lock(ctx);
    }

    ngx_http_rtdash_unlock(ctx);

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
