
/*
 * rtdash: the zone's lock and the tool index a crash cannot tear.
 *
 * nginx's master frees a lock whose holder died ("was locked by"); the
 * dead worker may have been in the middle of a change to the rbtree or
 * the tool lists.  So every holder marks the zone busy while it holds the
 * lock, and whoever takes the lock and finds it marked knows the last
 * holder died there: it rebuilds the index from the registry before
 * anything reads it.  The registry is an array of node pointers: a new
 * tool enters it with one aligned store once its node is fully written
 * and linked, and leaves it before it is unlinked.  Counts may then hold
 * part of the dead worker's request, which was never acknowledged.
 *
 * Built with -DNGX_HTTP_RTDASH_CRASH_TEST (make test-crash only), the
 * module kills its own worker at the crash points inside the lock while
 * the file $RTDASH_CRASH_FILE exists.
 */


#include "ngx_http_rtdash_module.h"


static void ngx_http_rtdash_repair_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_pid_t pid);
static int ngx_libc_cdecl ngx_http_rtdash_born_cmp(const void *one,
    const void *two);


void
ngx_http_rtdash_lock(ngx_http_rtdash_ctx_t *ctx)
{
    ngx_pid_t  pid;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    pid = ctx->sh->busy;

    if (pid) {
        ngx_http_rtdash_repair_locked(ctx, pid);
    }

    ctx->sh->busy = ngx_pid ? ngx_pid : 1;
}


void
ngx_http_rtdash_unlock(ngx_http_rtdash_ctx_t *ctx)
{
    ctx->sh->busy = 0;

    ngx_shmtx_unlock(&ctx->shpool->mutex);
}


/* the registry: room for every tool the zone may take */

ngx_int_t
ngx_http_rtdash_index_init_locked(ngx_http_rtdash_ctx_t *ctx)
{
    ngx_http_rtdash_shctx_t  *sh;

    sh = ctx->sh;

    sh->nslots = ngx_max(sh->room, 1);
    sh->slots = ngx_slab_calloc_locked(ctx->shpool, sh->nslots
                                       * sizeof(ngx_http_rtdash_node_t *));

    return sh->slots ? NGX_OK : NGX_ERROR;
}


/* a node fully written and linked becomes visible: one aligned store */

void
ngx_http_rtdash_index_add_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node)
{
    ngx_uint_t                i, n;
    ngx_http_rtdash_shctx_t  *sh;

    sh = ctx->sh;

    for (n = 0; n < sh->nslots; n++) {
        i = (sh->slot_hint + n) % sh->nslots;

        if (sh->slots[i] == NULL) {
            node->slot = (uint32_t) i;
            ngx_http_rtdash_crash("index add");
            sh->slots[i] = node;
            sh->slot_hint = i + 1;
            return;
        }
    }

    /* cannot happen: ntools <= max_tools <= room */

    node->slot = (uint32_t) -1;
}


/* a node leaves the registry before it is unlinked */

void
ngx_http_rtdash_index_remove_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node)
{
    if (node->slot < ctx->sh->nslots && ctx->sh->slots[node->slot] == node) {
        ctx->sh->slots[node->slot] = NULL;
        ctx->sh->slot_hint = node->slot;
    }
}


/*
 * The index from the registry: the rbtree, the tool list (in the order
 * the tools were first seen), the LRU list (last written first), the
 * count.  A node the dead holder left half made (no name: an eviction
 * cut short) goes, with its buckets.
 */

static void
ngx_http_rtdash_repair_locked(ngx_http_rtdash_ctx_t *ctx, ngx_pid_t pid)
{
    ngx_uint_t                i, n, dropped;
    ngx_http_rtdash_node_t   *node, **nodes;
    ngx_http_rtdash_shctx_t  *sh;

    sh = ctx->sh;

    ngx_rbtree_init(&sh->rbtree, &sh->sentinel,
                    ngx_http_rtdash_rbtree_insert_value);
    ngx_queue_init(&sh->tools);
    ngx_queue_init(&sh->lru);
    sh->ntools = 0;
    sh->sweep = NULL;
    sh->sweep_slot = 0;

    nodes = ngx_alloc(sh->nslots * sizeof(ngx_http_rtdash_node_t *),
                      ngx_cycle->log);

    n = 0;
    dropped = 0;

    for (i = 0; i < sh->nslots; i++) {
        node = sh->slots[i];

        if (node == NULL) {
            continue;
        }

        if (node->name_len == 0 || node->name_len > NGX_HTTP_RTDASH_TOOL_MAX
            || node->slot != i || nodes == NULL)
        {
            sh->slots[i] = NULL;
            dropped++;
            continue;
        }

        node->pending = 0;
        nodes[n++] = node;
    }

    if (nodes) {
        ngx_qsort(nodes, n, sizeof(ngx_http_rtdash_node_t *),
                  ngx_http_rtdash_born_cmp);
    }

    for (i = 0; i < n; i++) {
        node = nodes[i];
        node->node.key = ngx_crc32_short(node->name, node->name_len);

        if (ngx_http_rtdash_lookup_locked(ctx, node->node.key, node->name,
                                          node->name_len))
        {
            sh->slots[node->slot] = NULL;
            dropped++;
            continue;
        }

        ngx_rbtree_insert(&sh->rbtree, &node->node);
        ngx_queue_insert_tail(&sh->tools, &node->queue);
        ngx_queue_insert_tail(&sh->lru, &node->lru);
        sh->ntools++;
    }

    if (nodes) {
        ngx_free(nodes);
    }

    ngx_http_rtdash_lru_order_locked(ctx);

    ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                  "rtdash zone \"%V\": process %P died holding the zone's "
                  "lock: the tool index was rebuilt, %ui tools, %ui left out",
                  &ctx->name, pid, sh->ntools, dropped);
}


/* in the order first seen: by creation stamp, then by registry slot */

static int ngx_libc_cdecl
ngx_http_rtdash_born_cmp(const void *one, const void *two)
{
    ngx_http_rtdash_node_t  *a, *b;

    a = *(ngx_http_rtdash_node_t **) one;
    b = *(ngx_http_rtdash_node_t **) two;

    if (a->born != b->born) {
        return (a->born > b->born) - (a->born < b->born);
    }

    return (a->slot > b->slot) - (a->slot < b->slot);
}


#if (NGX_HTTP_RTDASH_CRASH_TEST)

#include <signal.h>

/*
 * The test build's crash points: while $RTDASH_CRASH_FILE exists, a
 * worker kills itself at one of them every so often (every 1 to 40
 * passes, at random), inside the lock.  With $RTDASH_CRASH_ONLY, only at
 * the points whose name begins with it, every 1 to 4 passes: the rarer
 * steps get their share of deaths.
 */

void
ngx_http_rtdash_crash_point(const char *where)
{
    static char       *file, *only;
    static ngx_uint_t  n, every;

    if (ngx_process != NGX_PROCESS_WORKER) {
        return;
    }

    if (file == NULL) {
        file = getenv("RTDASH_CRASH_FILE");
        only = getenv("RTDASH_CRASH_ONLY");

        if (file == NULL) {
            file = "";
        }

        if (only && *only == '\0') {
            only = NULL;
        }

        every = 1 + ngx_random() % (only ? 4 : 40);
    }

    if (only && ngx_strncmp(where, only, ngx_strlen(only)) != 0) {
        return;
    }

    if (*file == '\0' || access(file, F_OK) != 0) {
        return;
    }

    if (++n % every == 0) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "rtdash crash test: worker killed at \"%s\"", where);
        kill(ngx_pid, SIGKILL);
    }
}

#endif
