
/*
 * rtdash: the zone's watch area.  Three rings of items (notices, alert
 * transitions, anomalies), each item stamped with the zone's sequence
 * number so that streams send it and a resume finds it; the table of
 * (rule, tool) states that are not inactive; the lease of the worker
 * that evaluates the rules.  Copies for readers, images for dumps and
 * resized zones.
 */


#include <math.h>

#include "ngx_http_rtdash_module.h"


/* a state's slot: open addressing on (rule, slot), linear probing */
#define ngx_http_rtdash_state_hash(rule, slot)                               \
    ((uint32_t) ((rule) * 2654435761u) ^ (uint32_t) ((slot) * 40503u))


/* the image of the watch area (dumps, resized zones) */
typedef struct {
    uint32_t                    magic;
    uint32_t                    nitems[NGX_HTTP_RTDASH_WATCH_RINGS];
    uint32_t                    nstates;
    uint32_t                    pad;
    uint64_t                    entered[NGX_HTTP_RTDASH_STATES];
    uint64_t                    notices;
    uint64_t                    anomalies;
    uint32_t                    scored;
    uint32_t                    pad2;
} ngx_http_rtdash_wimage_t;


/* a state in an image: the tool by name */
typedef struct {
    uint32_t                    rule;
    u_char                      state;
    u_char                      pad;
    u_short                     tool_len;
    double                      since;
    double                      value;
    u_char                      tool[NGX_HTTP_RTDASH_TOOL_MAX];
} ngx_http_rtdash_wstate_t;


#define NGX_HTTP_RTDASH_WIMAGE_MAGIC  0x57746368     /* "Wtch" */


static size_t ngx_http_rtdash_watch_item_size(ngx_uint_t kind);
static void ngx_http_rtdash_watch_carve(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_watch_t *w);
static ngx_int_t ngx_http_rtdash_watch_alive(ngx_pid_t pid);


static const char  *ngx_http_rtdash_levels[] = { "info", "warn", "crit" };

static const char  *ngx_http_rtdash_state_names[] = {
    "inactive", "pending", "firing", "resolved"
};


const char *
ngx_http_rtdash_level_name(ngx_uint_t level)
{
    return ngx_http_rtdash_levels[level < 3 ? level : 0];
}


const char *
ngx_http_rtdash_state_name(ngx_uint_t state)
{
    return ngx_http_rtdash_state_names[state < NGX_HTTP_RTDASH_STATES
                                       ? state : 0];
}


ngx_int_t
ngx_http_rtdash_level_parse(u_char *p, size_t len)
{
    ngx_uint_t  i;

    for (i = 0; i < 3; i++) {
        if (len == ngx_strlen(ngx_http_rtdash_levels[i])
            && ngx_strncmp(p, ngx_http_rtdash_levels[i], len) == 0)
        {
            return i;
        }
    }

    return NGX_ERROR;
}


/*
 * notices=N and alerts=N of rtdash_zone; NGX_DECLINED: neither.  Unset
 * ones are NGX_CONF_UNSET_UINT until ngx_http_rtdash_watch_defaults().
 */

ngx_int_t
ngx_http_rtdash_watch_param(ngx_conf_t *cf, ngx_http_rtdash_ctx_t *ctx,
    ngx_str_t *v)
{
    ngx_int_t    n;
    ngx_uint_t  *dst, max;

    if (v->len > 8 && ngx_strncmp(v->data, "notices=", 8) == 0) {
        dst = &ctx->wsizes.notices;
        n = ngx_atoi(v->data + 8, v->len - 8);
        max = 100000;

    } else if (v->len > 7 && ngx_strncmp(v->data, "alerts=", 7) == 0) {
        dst = &ctx->wsizes.states;
        n = ngx_atoi(v->data + 7, v->len - 7);
        max = 1000000;

    } else {
        return NGX_DECLINED;
    }

    if (n == NGX_ERROR || (ngx_uint_t) n > max) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"%V\", expected a number from 0 to %ui",
                           v, max);
        return NGX_ERROR;
    }

    *dst = n;

    return NGX_OK;
}


/*
 * What is not given: 64 notices, 1024 states, 128 transitions and 64
 * anomalies, fewer in a zone under 8 MB (the area takes at most about a
 * 64th of the zone then).  Checked: the area fits in a quarter of it.
 */

ngx_int_t
ngx_http_rtdash_watch_defaults(ngx_conf_t *cf, ngx_http_rtdash_ctx_t *ctx)
{
    size_t                     budget, size;
    ngx_http_rtdash_wsizes_t  *ws;

    ws = &ctx->wsizes;
    budget = ctx->size / 64;

    if (ws->notices == NGX_CONF_UNSET_UINT) {
        ws->notices = ngx_min(64, budget / 4
                      / ngx_http_rtdash_watch_item_size(
                                                NGX_HTTP_RTDASH_WATCH_NOTICE));
    }

    if (ws->states == NGX_CONF_UNSET_UINT) {
        ws->states = ngx_min(1024,
                             budget / 4 / sizeof(ngx_http_rtdash_astate_t));
    }

    size = ngx_http_rtdash_watch_item_size(NGX_HTTP_RTDASH_WATCH_ALERT);
    ws->transitions = ngx_max(4, ngx_min(128, budget / 4 / size));
    ws->anomalies = ngx_max(4, ngx_min(64, budget / 4 / size));

    if (ngx_http_rtdash_watch_size(ctx) > ctx->size / 4) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small for notices=%ui and "
                           "alerts=%ui (%uz bytes)", &ctx->name,
                           ws->notices, ws->states,
                           ngx_http_rtdash_watch_size(ctx));
        return NGX_ERROR;
    }

    return NGX_OK;
}


static size_t
ngx_http_rtdash_watch_item_size(ngx_uint_t kind)
{
    size_t  text;

    text = (kind == NGX_HTTP_RTDASH_WATCH_NOTICE) ? NGX_HTTP_RTDASH_NOTICE_MAX
                                                  : NGX_HTTP_RTDASH_RULE_MAX;

    return ngx_align(offsetof(ngx_http_rtdash_witem_t, text) + text, 8);
}


static ngx_uint_t
ngx_http_rtdash_watch_ring_size(ngx_http_rtdash_ctx_t *ctx, ngx_uint_t kind)
{
    switch (kind) {
    case NGX_HTTP_RTDASH_WATCH_NOTICE:
        return ctx->wsizes.notices;
    case NGX_HTTP_RTDASH_WATCH_ALERT:
        return ctx->wsizes.transitions;
    default:
        return ctx->wsizes.anomalies;
    }
}


/* slots of the state table: a power of 2, a third more than states= */

static ngx_uint_t
ngx_http_rtdash_watch_nstates(ngx_http_rtdash_ctx_t *ctx)
{
    ngx_uint_t  n;

    if (ctx->wsizes.states == 0) {
        return 0;
    }

    for (n = 8; n < ctx->wsizes.states + ctx->wsizes.states / 3; n <<= 1) {
        /* void */
    }

    return n;
}


size_t
ngx_http_rtdash_watch_size(ngx_http_rtdash_ctx_t *ctx)
{
    size_t      size;
    ngx_uint_t  k;

    size = ngx_align(sizeof(ngx_http_rtdash_watch_t), 8);

    for (k = 0; k < NGX_HTTP_RTDASH_WATCH_RINGS; k++) {
        size += ngx_http_rtdash_watch_ring_size(ctx, k)
                * ngx_http_rtdash_watch_item_size(k);
    }

    size += ngx_http_rtdash_watch_nstates(ctx)
            * sizeof(ngx_http_rtdash_astate_t);

    return size;
}


/* a fresh zone's watch area, one allocation */

ngx_int_t
ngx_http_rtdash_watch_init(ngx_http_rtdash_ctx_t *ctx)
{
    size_t                    size;
    ngx_http_rtdash_watch_t  *w;

    size = ngx_http_rtdash_watch_size(ctx);

    w = ngx_slab_alloc(ctx->shpool, size);
    if (w == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(w, size);
    ngx_http_rtdash_watch_carve(ctx, w);

    ctx->sh->watch = w;

    return NGX_OK;
}


static void
ngx_http_rtdash_watch_carve(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_watch_t *w)
{
    u_char                   *p;
    ngx_uint_t                k;
    ngx_http_rtdash_wring_t  *r;

    p = (u_char *) w + ngx_align(sizeof(ngx_http_rtdash_watch_t), 8);

    for (k = 0; k < NGX_HTTP_RTDASH_WATCH_RINGS; k++) {
        r = &w->rings[k];
        r->items = (ngx_http_rtdash_witem_t *) p;
        r->size = ngx_http_rtdash_watch_ring_size(ctx, k);
        r->item_size = ngx_http_rtdash_watch_item_size(k);
        p += (size_t) r->size * r->item_size;
    }

    w->states = (ngx_http_rtdash_astate_t *) p;
    w->nstates = ngx_http_rtdash_watch_nstates(ctx);
}


static ngx_inline ngx_http_rtdash_witem_t *
ngx_http_rtdash_ring_item(ngx_http_rtdash_wring_t *r, uint64_t n)
{
    return (ngx_http_rtdash_witem_t *) ((u_char *) r->items
                                        + (n % r->size) * r->item_size);
}


/*
 * The next item of a ring, cleared, with the zone's next sequence
 * number; NULL if the ring has no room at all (notices=0)
 */

ngx_http_rtdash_witem_t *
ngx_http_rtdash_watch_push_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_uint_t kind, double t)
{
    ngx_http_rtdash_wring_t  *r;
    ngx_http_rtdash_witem_t  *it;

    r = &ctx->sh->watch->rings[kind];

    if (r->size == 0) {
        return NULL;
    }

    it = ngx_http_rtdash_ring_item(r, r->written);

    if (r->written >= r->size) {
        r->lost_seq = it->seq;
    }

    ngx_memzero(it, offsetof(ngx_http_rtdash_witem_t, text));

    it->seq = ++ctx->sh->seq;
    ctx->sh->watch->last_seq = it->seq;
    it->t = t;
    it->kind = (u_char) kind;
    it->type = NGX_HTTP_RTDASH_NO_TYPE;
    it->value = NAN;

    r->written++;

    return it;
}


/* the text of an item, cut to what its ring keeps */

void
ngx_http_rtdash_watch_text(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_witem_t *it, u_char *text, size_t len)
{
    size_t  cap;

    cap = ctx->sh->watch->rings[it->kind].item_size
          - offsetof(ngx_http_rtdash_witem_t, text);

    len = ngx_min(len, cap);

    if (len) {
        ngx_memcpy(it->text, text, len);
    }

    it->text_len = (u_short) len;
}


void
ngx_http_rtdash_watch_tool(ngx_http_rtdash_witem_t *it, u_char *tool,
    size_t len)
{
    len = ngx_min(len, NGX_HTTP_RTDASH_TOOL_MAX);

    if (len) {
        ngx_memcpy(it->tool, tool, len);
    }

    it->tool_len = (u_short) len;
}


/* a notice of an ingest body; its text and tool were validated */

void
ngx_http_rtdash_watch_notice_locked(ngx_http_rtdash_ctx_t *ctx,
    u_char *text, size_t len, ngx_uint_t level, u_char *tool,
    size_t tool_len, double t)
{
    ngx_http_rtdash_witem_t  *it;

    ctx->sh->watch->notices++;

    it = ngx_http_rtdash_watch_push_locked(ctx, NGX_HTTP_RTDASH_WATCH_NOTICE,
                                           t);
    if (it == NULL) {
        return;
    }

    it->level = (u_char) level;
    ngx_http_rtdash_watch_text(ctx, it, text, len);
    ngx_http_rtdash_watch_tool(it, tool, tool_len);
}


/*
 * A copy of the items of a ring with a seq above "since", the last "max"
 * of them at most, oldest first, in memory of the pool sized for them
 * (taken under the lock, once they are counted)
 */

ngx_int_t
ngx_http_rtdash_watch_copy(ngx_http_rtdash_ctx_t *ctx, ngx_uint_t kind,
    uint64_t since, ngx_uint_t max, ngx_pool_t *pool,
    ngx_http_rtdash_witems_t *out)
{
    u_char                   *p;
    uint64_t                  first, n;
    ngx_uint_t                count;
    ngx_http_rtdash_wring_t  *r;
    ngx_http_rtdash_witem_t  *it;

    out->n = 0;
    out->items = NULL;
    out->item_size = ctx->sh->watch->rings[kind].item_size;

    r = &ctx->sh->watch->rings[kind];

    if (r->size == 0 || max == 0) {
        return NGX_OK;
    }

    ngx_http_rtdash_lock(ctx);

    first = (r->written > r->size) ? r->written - r->size : 0;
    count = 0;

    /* the newest first, back to "since" or "max" */

    for (n = r->written; n > first && count < max; n--) {
        it = ngx_http_rtdash_ring_item(r, n - 1);

        if (it->seq <= since) {
            break;
        }

        count++;
    }

    if (count == 0) {
        ngx_http_rtdash_unlock(ctx);
        return NGX_OK;
    }

    /* memory for what is there to copy, not for the whole ring */

    p = ngx_palloc(pool, (size_t) count * r->item_size);
    if (p == NULL) {
        ngx_http_rtdash_unlock(ctx);
        return NGX_ERROR;
    }

    out->items = (ngx_http_rtdash_witem_t *) p;

    for ( /* void */ ; n < r->written && out->n < count; n++) {
        it = ngx_http_rtdash_ring_item(r, n);
        ngx_memcpy(p, it, r->item_size);
        p += r->item_size;
        out->n++;
    }

    ngx_http_rtdash_unlock(ctx);

    return NGX_OK;
}


/* were items with a seq above "since" overwritten in any ring? */

ngx_uint_t
ngx_http_rtdash_watch_lost(ngx_http_rtdash_ctx_t *ctx, uint64_t since)
{
    ngx_uint_t                k, lost;
    ngx_http_rtdash_watch_t  *w;

    w = ctx->sh->watch;
    lost = 0;

    ngx_http_rtdash_lock(ctx);

    for (k = 0; k < NGX_HTTP_RTDASH_WATCH_RINGS; k++) {
        if (w->rings[k].lost_seq > since) {
            lost = 1;
        }
    }

    ngx_http_rtdash_unlock(ctx);

    return lost;
}


/* the state of (rule, tool); NULL: inactive */

ngx_http_rtdash_astate_t *
ngx_http_rtdash_state_find_locked(ngx_http_rtdash_ctx_t *ctx, uint32_t rule,
    ngx_http_rtdash_node_t *node)
{
    uint32_t                   i, mask;
    ngx_http_rtdash_watch_t   *w;
    ngx_http_rtdash_astate_t  *st;

    w = ctx->sh->watch;

    if (w->nstates == 0) {
        return NULL;
    }

    mask = w->nstates - 1;

    for (i = ngx_http_rtdash_state_hash(rule, node->slot) & mask;
         /* void */ ;
         i = (i + 1) & mask)
    {
        st = &w->states[i];

        if (st->rule == 0) {
            return NULL;
        }

        if (st->rule == rule && st->slot == node->slot
            && st->born == node->born)
        {
            return st;
        }
    }
}


/* a new state of (rule, tool); NULL: the table is full */

ngx_http_rtdash_astate_t *
ngx_http_rtdash_state_add_locked(ngx_http_rtdash_ctx_t *ctx, uint32_t rule,
    ngx_http_rtdash_node_t *node)
{
    uint32_t                   i, mask;
    ngx_http_rtdash_watch_t   *w;
    ngx_http_rtdash_astate_t  *st;

    w = ctx->sh->watch;

    if (w->used >= ctx->wsizes.states || w->used + 1 >= w->nstates) {
        w->dropped++;
        return NULL;
    }

    mask = w->nstates - 1;

    for (i = ngx_http_rtdash_state_hash(rule, node->slot) & mask;
         w->states[i].rule != 0;
         i = (i + 1) & mask)
    {
        /* void */
    }

    st = &w->states[i];
    ngx_memzero(st, sizeof(ngx_http_rtdash_astate_t));
    st->rule = rule;
    st->slot = node->slot;
    st->born = node->born;
    w->used++;

    return st;
}


/* back to inactive: the slot is freed, the probe chain closed up */

void
ngx_http_rtdash_state_remove_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_astate_t *st)
{
    uint32_t                   i, j, k, mask;
    ngx_http_rtdash_watch_t   *w;

    w = ctx->sh->watch;
    mask = w->nstates - 1;
    i = st - w->states;

    w->states[i].rule = 0;
    w->used--;

    for (j = (i + 1) & mask; w->states[j].rule != 0; j = (j + 1) & mask) {
        k = ngx_http_rtdash_state_hash(w->states[j].rule,
                                       w->states[j].slot) & mask;

        /* j's entry may move to i when its home k is not in (i, j] */

        if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
            w->states[i] = w->states[j];
            w->states[j].rule = 0;
            i = j;
        }
    }
}


/*
 * The lease: this worker evaluates now if it holds it, or the holder let
 * it run out or is gone.  Held for NGX_HTTP_RTDASH_LEASE seconds.
 */

ngx_int_t
ngx_http_rtdash_watch_lease(ngx_http_rtdash_ctx_t *ctx, double now)
{
    ngx_pid_t                 pid;
    ngx_int_t                 rc;
    ngx_http_rtdash_watch_t  *w;

    w = ctx->sh->watch;
    rc = NGX_DECLINED;

    ngx_http_rtdash_lock(ctx);

    pid = w->eval_pid;

    if (pid == ngx_pid || pid == 0 || now >= w->eval_until
        || !ngx_http_rtdash_watch_alive(pid))
    {
        if (pid != ngx_pid) {
            ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                          "rtdash zone \"%V\": worker %P evaluates the "
                          "alert rules%s", &ctx->name, ngx_pid,
                          pid ? ", taking over" : "");
        }

        w->eval_pid = ngx_pid;
        w->eval_until = now + NGX_HTTP_RTDASH_LEASE;
        rc = NGX_OK;
    }

    ngx_http_rtdash_unlock(ctx);

    return rc;
}


/* a worker that exits gives its lease back */

void
ngx_http_rtdash_watch_release(ngx_http_rtdash_ctx_t *ctx)
{
    ngx_http_rtdash_watch_t  *w;

    if (ctx->sh == NULL || ctx->sh->watch == NULL) {
        return;
    }

    w = ctx->sh->watch;

    ngx_http_rtdash_lock(ctx);

    if (w->eval_pid == ngx_pid) {
        w->eval_pid = 0;
        w->eval_until = 0;
    }

    ngx_http_rtdash_unlock(ctx);
}


static ngx_int_t
ngx_http_rtdash_watch_alive(ngx_pid_t pid)
{
    if (kill(pid, 0) == -1 && ngx_errno == NGX_ESRCH) {
        return 0;
    }

    return 1;
}


/*
 * The image of the watch area: the items of each ring, oldest first,
 * then the states with their tools by name.  NULL buf: the size only.
 */

size_t
ngx_http_rtdash_watch_image_locked(ngx_http_rtdash_ctx_t *ctx, u_char *buf)
{
    u_char                    *p;
    uint64_t                   n, first;
    ngx_uint_t                 k, i;
    ngx_http_rtdash_node_t    *node;
    ngx_http_rtdash_watch_t   *w;
    ngx_http_rtdash_wring_t   *r;
    ngx_http_rtdash_wimage_t   h;
    ngx_http_rtdash_wstate_t   ws;
    ngx_http_rtdash_astate_t  *st;

    w = ctx->sh->watch;
    ngx_memzero(&h, sizeof(h));
    p = buf ? buf + sizeof(h) : NULL;
    n = sizeof(h);

    h.magic = NGX_HTTP_RTDASH_WIMAGE_MAGIC;

    for (k = 0; k < NGX_HTTP_RTDASH_WATCH_RINGS; k++) {
        r = &w->rings[k];
        first = (r->written > r->size) ? r->written - r->size : 0;
        h.nitems[k] = (uint32_t) (r->written - first);

        for ( /* void */ ; first < r->written; first++) {
            if (p) {
                p = ngx_cpymem(p, ngx_http_rtdash_ring_item(r, first),
                               r->item_size);
            }

            n += r->item_size;
        }
    }

    for (i = 0; i < w->nstates; i++) {
        st = &w->states[i];

        if (st->rule == 0 || st->slot >= ctx->sh->nslots) {
            continue;
        }

        node = ctx->sh->slots[st->slot];

        if (node == NULL || node->born != st->born) {
            continue;
        }

        h.nstates++;
        n += sizeof(ws);

        if (p) {
            ngx_memzero(&ws, sizeof(ws));
            ws.rule = st->rule;
            ws.state = st->state;
            ws.since = st->since;
            ws.value = st->value;
            ws.tool_len = node->name_len;
            ngx_memcpy(ws.tool, node->name, node->name_len);
            p = ngx_cpymem(p, &ws, sizeof(ws));
        }
    }

    if (buf) {
        ngx_memcpy(h.entered, w->entered, sizeof(h.entered));
        h.notices = w->notices;
        h.anomalies = w->anomalies;
        h.scored = w->scored;
        ngx_memcpy(buf, &h, sizeof(h));
    }

    return (size_t) n;
}


/* the items of an image's ring, into a ring of any size (the last fit) */

static u_char *
ngx_http_rtdash_watch_adopt_ring(ngx_http_rtdash_ctx_t *ctx, ngx_uint_t k,
    u_char *p, uint32_t nitems, size_t item_size)
{
    uint32_t                  i;
    ngx_http_rtdash_wring_t  *r;
    ngx_http_rtdash_witem_t  *it, *src;

    r = &ctx->sh->watch->rings[k];

    for (i = 0; i < nitems; i++, p += item_size) {
        if (r->size == 0 || i + r->size < nitems) {
            continue;
        }

        src = (ngx_http_rtdash_witem_t *) p;
        it = ngx_http_rtdash_ring_item(r, r->written);
        ngx_memcpy(it, src, offsetof(ngx_http_rtdash_witem_t, text));
        it->text_len = ngx_min(src->text_len,
                               r->item_size
                               - offsetof(ngx_http_rtdash_witem_t, text));
        it->tool_len = ngx_min(src->tool_len, NGX_HTTP_RTDASH_TOOL_MAX);
        it->type_len = ngx_min(src->type_len, NGX_HTTP_RTDASH_TOKEN_MAX);
        ngx_memcpy(it->text, src->text, it->text_len);
        r->written++;

        if (it->seq > ctx->sh->seq) {
            ctx->sh->seq = it->seq;
        }
    }

    return p;
}


/*
 * An image into this zone (its tools already in); NGX_ERROR: it is not
 * one, nothing taken.  Item sizes are the kinds' own in both.
 */

ngx_int_t
ngx_http_rtdash_watch_adopt_locked(ngx_http_rtdash_ctx_t *ctx, u_char *buf,
    size_t len)
{
    u_char                    *p;
    size_t                     need;
    uint32_t                   i, hash;
    ngx_uint_t                 k;
    ngx_http_rtdash_node_t    *node;
    ngx_http_rtdash_watch_t   *w;
    ngx_http_rtdash_wimage_t   h;
    ngx_http_rtdash_wstate_t   ws;
    ngx_http_rtdash_astate_t  *st;

    if (len < sizeof(h)) {
        return NGX_ERROR;
    }

    ngx_memcpy(&h, buf, sizeof(h));

    if (h.magic != NGX_HTTP_RTDASH_WIMAGE_MAGIC) {
        return NGX_ERROR;
    }

    need = sizeof(h) + (size_t) h.nstates * sizeof(ws);

    for (k = 0; k < NGX_HTTP_RTDASH_WATCH_RINGS; k++) {
        need += (size_t) h.nitems[k] * ngx_http_rtdash_watch_item_size(k);
    }

    if (need != len) {
        return NGX_ERROR;
    }

    w = ctx->sh->watch;
    p = buf + sizeof(h);

    for (k = 0; k < NGX_HTTP_RTDASH_WATCH_RINGS; k++) {
        p = ngx_http_rtdash_watch_adopt_ring(ctx, k, p, h.nitems[k],
                                         ngx_http_rtdash_watch_item_size(k));
    }

    for (i = 0; i < h.nstates; i++, p += sizeof(ws)) {
        ngx_memcpy(&ws, p, sizeof(ws));

        if (ws.rule == 0 || ws.tool_len == 0
            || ws.tool_len > NGX_HTTP_RTDASH_TOOL_MAX
            || ws.state >= NGX_HTTP_RTDASH_STATES)
        {
            continue;
        }

        hash = ngx_crc32_short(ws.tool, ws.tool_len);
        node = ngx_http_rtdash_lookup_locked(ctx, hash, ws.tool, ws.tool_len);

        if (node == NULL
            || ngx_http_rtdash_state_find_locked(ctx, ws.rule, node))
        {
            continue;
        }

        st = ngx_http_rtdash_state_add_locked(ctx, ws.rule, node);
        if (st == NULL) {
            break;
        }

        st->state = ws.state;
        st->since = ws.since;
        st->value = ws.value;
    }

    for (k = 0; k < NGX_HTTP_RTDASH_STATES; k++) {
        w->entered[k] += h.entered[k];
    }

    w->notices += h.notices;
    w->anomalies += h.anomalies;
    w->scored = ngx_max(w->scored, h.scored);

    return NGX_OK;
}


/* the largest image of this zone's watch area */

size_t
ngx_http_rtdash_watch_image_max(ngx_http_rtdash_ctx_t *ctx)
{
    size_t      size;
    ngx_uint_t  k;

    size = sizeof(ngx_http_rtdash_wimage_t)
           + ctx->wsizes.states * sizeof(ngx_http_rtdash_wstate_t);

    for (k = 0; k < NGX_HTTP_RTDASH_WATCH_RINGS; k++) {
        size += ngx_http_rtdash_watch_ring_size(ctx, k)
                * ngx_http_rtdash_watch_item_size(k);
    }

    return size;
}


/*
 * A fresh zone takes over the watch area of the zone it replaces (its
 * tools already in), if this version of rtdash laid that one out
 */

void
ngx_http_rtdash_watch_migrate_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_ctx_t *octx, ngx_log_t *log)
{
    u_char  *buf;
    size_t   len;

    if (octx->sh->layout_key != ngx_http_rtdash_layout_key(octx)
        || octx->sh->watch == NULL)
    {
        return;
    }

    buf = ngx_alloc(ngx_http_rtdash_watch_image_max(octx), log);
    if (buf == NULL) {
        return;
    }

    len = ngx_http_rtdash_watch_image_locked(octx, buf);

    if (ngx_http_rtdash_watch_adopt_locked(ctx, buf, len) != NGX_OK) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "rtdash zone \"%V\": alert states and notices not "
                      "carried over", &ctx->name);
    }

    ngx_free(buf);
}
