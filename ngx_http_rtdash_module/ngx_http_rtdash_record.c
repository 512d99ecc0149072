
/*
 * rtdash: the zone write step, shared by every producer (ingest,
 * rtdash_log, and whatever records into the zone next).
 *
 * A producer hands over validated events (and their gauges) with a
 * scratch area of ngx_http_rtdash_record_scratch_size() bytes.  What
 * needs no lock is computed first (hashes, histogram bins, user bits);
 * then, under one lock, tools, types and gauge slots are resolved, and
 * undone if any of them does not fit; only then is anything applied.
 * So a record is all or nothing, and the lock is taken once per batch.
 *
 * With evict=lru, a new tool that finds the zone full waits ("pending",
 * its gauge names counted in the scratch) until everything else of the
 * record is known to fit; then the least recently updated tools that
 * this record does not name, and that were not written in the last
 * evict_age, give their nodes to the pending tools, one each, or, if
 * there are not enough of them, nothing is evicted and the record is
 * refused.  An eviction cannot be undone, so it only happens when the
 * record is certain to be applied.
 */


#include "ngx_http_rtdash_module.h"

#include <ngx_sha1.h>


#define NGX_HTTP_RTDASH_NIL          0xffffffff
#define NGX_HTTP_RTDASH_BUCKETS      64      /* of the pending tools */


/* what is computed of an event before the lock, and its tool */
typedef struct {
    ngx_http_rtdash_node_t      *node;       /* NULL: pending[pending] */
    ngx_http_rtdash_mrec_t      *minute;     /* reserved: reservations */
    uint32_t                     hash;
    uint32_t                     ukey;       /* the user's sketch key */
    uint32_t                     coin;       /* random bits for a value */
    int16_t                      vidx;       /* the value's bin */
    u_char                       has_user;   /* ukey counts */
    u_char                       type;
    uint32_t                     pending;
} ngx_http_rtdash_prep_t;


/* a new tool that found the zone full, and the node it will take over */
typedef struct {
    ngx_http_rtdash_node_t      *node;
    ngx_http_rtdash_event_in_t  *ev;         /* the first naming it */
    uint32_t                     hash;
    uint32_t                     next;       /* in its hash bucket */
    uint32_t                     gfirst;     /* its gauge names, linked */
    uint32_t                     glast;      /*   by gnext, in slot order */
    uint32_t                     ngauges;
} ngx_http_rtdash_pending_t;


/* a tool's gauge count before this record added names to it */
typedef struct {
    ngx_http_rtdash_node_t      *node;
    uint32_t                     ngauges;
} ngx_http_rtdash_undo_t;


/* the scratch area, cut into its arrays */
typedef struct {
    ngx_http_rtdash_ctx_t       *ctx;
    ngx_http_rtdash_record_t    *rec;
    ngx_http_rtdash_prep_t      *prep;       /* [nevents] */
    ngx_http_rtdash_node_t     **created;    /* [nevents] */
    ngx_http_rtdash_pending_t   *pending;    /* [nevents] */
    ngx_http_rtdash_undo_t      *undo;       /* [ngauges] */
    uint32_t                    *gnext;      /* [ngauges] */
    u_char                      *gslot;      /* [ngauges] */
    u_char                      *names;      /* [nevents] pseudonyms */
    ngx_uint_t                   ncreated;
    ngx_uint_t                   nundo;
    ngx_uint_t                   npending;
    ngx_uint_t                   ntypes;     /* before this record */
    uint64_t                     stamp;      /* node->touched: named here */
    uint32_t                     buckets[NGX_HTTP_RTDASH_BUCKETS];
} ngx_http_rtdash_batch_t;


/* what the eviction message says, copied under the lock */
typedef struct {
    u_char                       name[NGX_HTTP_RTDASH_TOOL_MAX];
    size_t                       len;
    ngx_str_t                    tool;       /* the new tool */
    time_t                       age;        /* since the evicted one's */
    uint64_t                     count;      /*   last write */
} ngx_http_rtdash_evicted_t;


/* where an event goes: the buckets of its tool and second */
typedef struct {
    ngx_http_rtdash_node_t      *node;
    time_t                       t;
    ngx_http_rtdash_mrec_t      *minute;     /* NULL: older than the slot */
    uint32_t                    *second;     /* NULL: out of the seconds */
} ngx_http_rtdash_slots_t;


static void ngx_http_rtdash_prepare(ngx_http_rtdash_batch_t *b);
static void ngx_http_rtdash_private(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_event_in_t *ev, u_char *names);
static void ngx_http_rtdash_pseudonym(ngx_http_rtdash_ctx_t *ctx,
    const u_char **s, size_t *len, u_char *dst);
static ngx_int_t ngx_http_rtdash_resolve_locked(ngx_http_rtdash_batch_t *b);
static ngx_int_t ngx_http_rtdash_tool_locked(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_event_in_t *ev, ngx_http_rtdash_prep_t *pr);
static ngx_int_t ngx_http_rtdash_pending_locked(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_event_in_t *ev, ngx_http_rtdash_prep_t *pr);
static ngx_int_t ngx_http_rtdash_pending_gauge(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_pending_t *pe, uint32_t j);
static ngx_int_t ngx_http_rtdash_evict_locked(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_evicted_t *ed);
static void ngx_http_rtdash_evict_log(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_evicted_t *ed, ngx_http_rtdash_node_t *victim);
static ngx_int_t ngx_http_rtdash_type_locked(ngx_http_rtdash_batch_t *b,
    const u_char *name, size_t len);
static ngx_int_t ngx_http_rtdash_gauge_locked(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_node_t *node, ngx_http_rtdash_gauge_in_t *g);
static ngx_int_t ngx_http_rtdash_slots_full(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_gauge_in_t *g);
static ngx_int_t ngx_http_rtdash_kind_conflict(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_gauge_in_t *g);
static ngx_int_t ngx_http_rtdash_reserve_all_locked(
    ngx_http_rtdash_batch_t *b);
static ngx_int_t ngx_http_rtdash_reserve_locked(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_event_in_t *ev, ngx_http_rtdash_prep_t *pr);
static ngx_http_rtdash_mrec_t *ngx_http_rtdash_minute_locked(
    ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_node_t *node, time_t t,
    ngx_int_t *rc);
static ngx_int_t ngx_http_rtdash_promote_values_locked(
    ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_mrec_t *m);
static ngx_int_t ngx_http_rtdash_promote_users_locked(
    ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_mrec_t *m);
static void ngx_http_rtdash_unreserve_locked(ngx_http_rtdash_batch_t *b,
    ngx_uint_t n);
static void ngx_http_rtdash_undo_locked(ngx_http_rtdash_batch_t *b);
static void ngx_http_rtdash_apply_locked(ngx_http_rtdash_batch_t *b);
static void ngx_http_rtdash_notices_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_record_t *rec);
static void ngx_http_rtdash_slots_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_slots_t *sl, ngx_http_rtdash_node_t *node, time_t t,
    time_t now);
static void ngx_http_rtdash_gauges_locked(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_slots_t *sl, ngx_http_rtdash_event_in_t *ev);
static void ngx_http_rtdash_count_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_slots_t *sl, ngx_http_rtdash_event_in_t *ev,
    ngx_http_rtdash_prep_t *pr);
static void ngx_http_rtdash_ring_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, ngx_http_rtdash_event_in_t *ev,
    ngx_uint_t type, uint64_t seq);


size_t
ngx_http_rtdash_record_scratch_size(ngx_uint_t nevents, ngx_uint_t ngauges)
{
    return nevents * (sizeof(ngx_http_rtdash_prep_t)
                      + sizeof(ngx_http_rtdash_node_t *)
                      + sizeof(ngx_http_rtdash_pending_t)
                      + 2 * NGX_HTTP_RTDASH_PSEUDONYM_LEN)
           + ngauges * (sizeof(ngx_http_rtdash_undo_t) + sizeof(uint32_t)
                        + 1);
}


/*
 * NGX_OK: every event applied (and, with evict=lru, the tools evicted
 * for it gone); NGX_DECLINED: a tool, type or gauge did not fit
 * (rec->error, rec->arg), nothing was applied and nothing evicted.
 */

ngx_int_t
ngx_http_rtdash_record(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_record_t *rec, ngx_log_t *log)
{
    ngx_int_t                  rc;
    ngx_http_rtdash_batch_t    b;
    ngx_http_rtdash_evicted_t  ed;

    b.ctx = ctx;
    b.rec = rec;
    b.prep = rec->scratch;
    b.created = (ngx_http_rtdash_node_t **) (b.prep + rec->nevents);
    b.pending = (ngx_http_rtdash_pending_t *) (b.created + rec->nevents);
    b.undo = (ngx_http_rtdash_undo_t *) (b.pending + rec->nevents);
    b.gnext = (uint32_t *) (b.undo + rec->ngauges);
    b.gslot = (u_char *) (b.gnext + rec->ngauges);
    b.names = b.gslot + rec->ngauges;
    b.ncreated = 0;
    b.nundo = 0;
    b.npending = 0;
    ed.count = 0;

    rec->error = NULL;
    rec->status = 0;
    rec->arg.len = 0;
    rec->arg.data = NULL;

    ngx_http_rtdash_prepare(&b);

    ngx_http_rtdash_lock(ctx);

    rc = ngx_http_rtdash_resolve_locked(&b);

    if (rc == NGX_OK && b.npending) {
        rc = ngx_http_rtdash_evict_locked(&b, &ed);
    }

    if (rc == NGX_OK) {
        rc = ngx_http_rtdash_reserve_all_locked(&b);
    }

    if (rc != NGX_OK) {
        ngx_http_rtdash_undo_locked(&b);
        ctx->sh->refused++;
        ngx_http_rtdash_unlock(ctx);

        ngx_log_debug4(NGX_LOG_DEBUG_HTTP, log, 0,
                       "rtdash zone \"%V\": record of %ui events refused: "
                       "%s \"%V\"", &ctx->name, rec->nevents, rec->error,
                       &rec->arg);

        return NGX_DECLINED;
    }

    ngx_http_rtdash_apply_locked(&b);
    ngx_http_rtdash_notices_locked(ctx, rec);

    ngx_http_rtdash_unlock(ctx);

    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, log, 0,
                   "rtdash zone \"%V\": recorded %ui events, %ui new tools, "
                   "%ui of them evicting, %ui new gauges", &ctx->name,
                   rec->nevents, b.ncreated + b.npending, b.npending,
                   b.nundo);

    if (ed.count) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "rtdash zone \"%V\": evicted tool \"%*s\", updated "
                      "%T s ago, for new tool \"%V\"; %uL evicted since "
                      "the last such message", &ctx->name, ed.len, ed.name,
                      ed.age, &ed.tool, ed.count);
    }

    return NGX_OK;
}


static void
ngx_http_rtdash_prepare(ngx_http_rtdash_batch_t *b)
{
    ngx_uint_t                   i;
    ngx_http_rtdash_prep_t      *pr;
    ngx_http_rtdash_event_in_t  *ev;

    for (i = 0; i < b->rec->nevents; i++) {
        ev = &b->rec->events[i];
        pr = &b->prep[i];

        /* a batch is mostly one tool: hash a name only when it changes */

        if (i > 0 && ev->tool_len == ev[-1].tool_len
            && ngx_memcmp(ev->tool, ev[-1].tool, ev->tool_len) == 0)
        {
            pr->hash = pr[-1].hash;

        } else {
            /* the same CRC-32 as ngx_crc32_short(), a byte a step */
            pr->hash = ngx_crc32_long((u_char *) ev->tool, ev->tool_len);
        }

        if (ev->has_value) {
            pr->vidx = (int16_t) ngx_http_rtdash_value_index(ev->value);
            pr->coin = (uint32_t) ngx_random() ^ (uint32_t) i << 16;
        }

        pr->ukey = ev->user_len
                   ? ngx_http_rtdash_user_key(ev->user, ev->user_len)
                   : 0;
        pr->has_user = (ev->user_len != 0);
        pr->node = NULL;
        pr->minute = NULL;

        if (b->ctx->users != NGX_HTTP_RTDASH_KEEP
            || b->ctx->ids != NGX_HTTP_RTDASH_KEEP)
        {
            ngx_http_rtdash_private(b, ev, b->names
                                    + i * 2 * NGX_HTTP_RTDASH_PSEUDONYM_LEN);
        }
    }
}


/*
 * users= and ids=: what of an identifier reaches the zone.  The distinct
 * count was taken from the user as sent, so it is the same in any mode.
 */

static void
ngx_http_rtdash_private(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_event_in_t *ev, u_char *names)
{
    if (ev->user_len) {
        if (b->ctx->users == NGX_HTTP_RTDASH_HASH) {
            ngx_http_rtdash_pseudonym(b->ctx, &ev->user, &ev->user_len,
                                      names);

        } else if (b->ctx->users == NGX_HTTP_RTDASH_COUNT) {
            ev->user = NULL;
            ev->user_len = 0;
        }
    }

    if (ev->id_len) {
        if (b->ctx->ids == NGX_HTTP_RTDASH_HASH) {
            ngx_http_rtdash_pseudonym(b->ctx, &ev->id, &ev->id_len,
                                      names + NGX_HTTP_RTDASH_PSEUDONYM_LEN);

        } else if (b->ctx->ids == NGX_HTTP_RTDASH_DROP) {
            ev->id = NULL;
            ev->id_len = 0;
        }
    }
}


/* 16 hex digits of SHA-1(key, name): stable per zone, not reversible */

static void
ngx_http_rtdash_pseudonym(ngx_http_rtdash_ctx_t *ctx, const u_char **s,
    size_t *len, u_char *dst)
{
    u_char      digest[20];
    ngx_sha1_t  sha1;

    ngx_sha1_init(&sha1);
    ngx_sha1_update(&sha1, ctx->sh->key, NGX_HTTP_RTDASH_KEY_LEN);
    ngx_sha1_update(&sha1, *s, *len);
    ngx_sha1_final(digest, &sha1);

    ngx_hex_dump(dst, digest, NGX_HTTP_RTDASH_PSEUDONYM_LEN / 2);

    *s = dst;
    *len = NGX_HTTP_RTDASH_PSEUDONYM_LEN;
}


static ngx_int_t
ngx_http_rtdash_resolve_locked(ngx_http_rtdash_batch_t *b)
{
    size_t                       j;
    ngx_int_t                    k, s;
    ngx_uint_t                   i;
    ngx_http_rtdash_node_t      *node;
    ngx_http_rtdash_prep_t      *pr;
    ngx_http_rtdash_event_in_t  *ev, *prev;

    b->ntypes = b->ctx->sh->ntypes;
    b->stamp = ++b->ctx->sh->records;

    ngx_http_rtdash_pool_sweep_locked(b->ctx, (time_t) b->rec->now);

    prev = NULL;
    k = NGX_HTTP_RTDASH_NO_TYPE;

    for (i = 0; i < b->rec->nevents; i++) {
        ev = &b->rec->events[i];
        pr = &b->prep[i];

        if (i > 0 && ev->tool_len == ev[-1].tool_len
            && ngx_memcmp(ev->tool, ev[-1].tool, ev->tool_len) == 0)
        {
            pr->node = pr[-1].node;
            pr->pending = pr[-1].pending;

        } else if (ngx_http_rtdash_tool_locked(b, ev, pr) != NGX_OK) {
            return NGX_DECLINED;
        }

        node = pr->node;

        if (ev->type == NULL) {
            pr->type = NGX_HTTP_RTDASH_NO_TYPE;

        } else {
            if (prev == NULL || prev->type == NULL
                || prev->type_len != ev->type_len
                || ngx_memcmp(prev->type, ev->type, ev->type_len) != 0)
            {
                k = ngx_http_rtdash_type_locked(b, ev->type, ev->type_len);
                if (k < 0) {
                    return k;
                }
            }

            pr->type = (u_char) k;
            prev = ev;
        }

        for (j = ev->gauge_first; j < ev->gauge_first + ev->ngauges; j++) {
            s = node ? ngx_http_rtdash_gauge_locked(b, node,
                                                    &b->rec->gauges[j])
                     : ngx_http_rtdash_pending_gauge(b,
                                                 &b->pending[pr->pending],
                                                 (uint32_t) j);
            if (s < 0) {
                return s;
            }

            b->gslot[j] = (u_char) s;
        }
    }

    return NGX_OK;
}


/* once every event has its tool: the records they write, reserved */

static ngx_int_t
ngx_http_rtdash_reserve_all_locked(ngx_http_rtdash_batch_t *b)
{
    ngx_uint_t  i;

    for (i = 0; i < b->rec->nevents; i++) {
        if (ngx_http_rtdash_reserve_locked(b, &b->rec->events[i],
                                           &b->prep[i])
            != NGX_OK)
        {
            ngx_http_rtdash_unreserve_locked(b, i + 1);
            return NGX_DECLINED;
        }
    }

    ngx_http_rtdash_unreserve_locked(b, b->rec->nevents);

    return NGX_OK;
}


/*
 * The records an event will write, taken from the pools now, while a
 * refusal can still undo the record: its minute (and the minute's own
 * histogram or users sketch, when its own few values or users will not
 * hold the batch's), its second, its place in the ring.  A record taken
 * for a refused batch stays with its tool, empty or as it was.
 */

static ngx_int_t
ngx_http_rtdash_reserve_locked(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_event_in_t *ev, ngx_http_rtdash_prep_t *pr)
{
    time_t                   t, now;
    uint32_t                *sec;
    ngx_int_t                rc;
    ngx_uint_t               i, room;
    ngx_http_rtdash_ref_t   *ref;
    ngx_http_rtdash_ctx_t   *ctx;
    ngx_http_rtdash_mrec_t  *m;
    ngx_http_rtdash_node_t  *node;

    ctx = b->ctx;
    node = pr->node;
    t = (time_t) ev->ts;
    now = (time_t) b->rec->now;

    m = ngx_http_rtdash_minute_locked(ctx, node, t, &rc);
    pr->minute = m;

    if (rc != NGX_OK) {
        goto full;
    }

    if (m && pr->type != NGX_HTTP_RTDASH_NO_TYPE) {
        if (m->packed_ref && (ev->has_value || pr->has_user)
            && ngx_http_rtdash_minute_unpack_locked(ctx, m) != NGX_OK)
        {
            goto full;
        }

        if (ev->has_value && m->values_ref == 0) {
            room = ngx_http_rtdash_mrec_values_room(m);

            if (m->nvalues + m->rvalues < room) {
                m->rvalues++;

            } else if (ngx_http_rtdash_promote_values_locked(ctx, m)
                       != NGX_OK)
            {
                goto full;

            } else if (m->values_ref == 0) {
                /* into a FEW record, with room for this one */
                m->rvalues++;
            }
        }

        if (pr->has_user && m->users_ref == 0) {
            room = ngx_http_rtdash_mrec_users_room(m);

            if (m->nusers + m->rusers < room) {
                m->rusers++;

            } else if (ngx_http_rtdash_promote_users_locked(ctx, m)
                       != NGX_OK)
            {
                goto full;

            } else if (m->users_ref == 0) {
                m->rusers++;
            }
        }
    }

    if (t > now - NGX_HTTP_RTDASH_SECONDS) {
        ref = &ngx_http_rtdash_node_seconds(ctx, node)
                                             [t % NGX_HTTP_RTDASH_SECONDS];
        sec = ngx_http_rtdash_ref_ptr(ctx, *ref);

        if (sec == NULL) {
            sec = ngx_http_rtdash_pool_alloc_locked(ctx,
                                          NGX_HTTP_RTDASH_POOL_SECOND, ref);
            if (sec == NULL) {
                goto full;
            }
        }

        ref = ngx_http_rtdash_second_sums_ref(ctx, sec);

        if (ev->nsums && *ref == 0
            && ngx_http_rtdash_pool_alloc_locked(ctx,
                                       NGX_HTTP_RTDASH_POOL_SUMS, ref)
               == NULL)
        {
            goto full;
        }
    }

    if (pr->type != NGX_HTTP_RTDASH_NO_TYPE) {
        i = (node->nevents + node->pending) % ctx->nevents;
        ref = &ngx_http_rtdash_node_chunks(ctx, node)
                                             [i / NGX_HTTP_RTDASH_CHUNK];

        if (*ref == 0
            && ngx_http_rtdash_pool_alloc_locked(ctx,
                                       NGX_HTTP_RTDASH_POOL_EVENTS, ref)
               == NULL)
        {
            goto full;
        }

        node->pending++;
    }

    return NGX_OK;

full:

    b->rec->error = "zone is full, no room for the buckets of tool";
    b->rec->arg.data = (u_char *) ev->tool;
    b->rec->arg.len = ev->tool_len;

    return NGX_DECLINED;
}


/*
 * The zone minute of the slot of time t, made to hold t's minute when
 * it held an older one; NULL (and NGX_OK) when it holds a newer one.
 */

static ngx_http_rtdash_mrec_t *
ngx_http_rtdash_minute_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, time_t t, ngx_int_t *rc)
{
    uint32_t                 start;
    ngx_http_rtdash_ref_t   *ref;
    ngx_http_rtdash_mrec_t  *m;

    *rc = NGX_OK;
    start = (uint32_t) (t - t % 60);

    ref = &ngx_http_rtdash_node_minutes(ctx, node)[(t / 60) % ctx->nminutes];
    m = ngx_http_rtdash_ref_ptr(ctx, *ref);

    if (m == NULL) {
        m = ngx_http_rtdash_pool_alloc_locked(ctx, NGX_HTTP_RTDASH_POOL_MINUTE,
                                              ref);
        if (m == NULL) {
            *rc = NGX_DECLINED;
            return NULL;
        }

        m->t = start;
        return m;
    }

    if (m->t < start) {
        ngx_http_rtdash_pool_reset_minute_locked(ctx, m, start);

    } else if (m->t > start) {
        return NULL;
    }

    return m;
}


/*
 * A minute's values (or users) move to where there is more room: its own
 * into a FEW record, a FEW record's into a histogram (a users sketch).
 * The new record is filled before its ref is stored, so a worker killed
 * in between leaves the minute as it was.
 */

static ngx_int_t
ngx_http_rtdash_promote_values_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_mrec_t *m)
{
    double                   *values, *few;
    ngx_uint_t                i, n;
    ngx_http_rtdash_ref_t     ref;
    ngx_http_rtdash_vstat_t  *vs;

    values = ngx_http_rtdash_mrec_values(ctx, m, &n);

    if (m->few_values_ref == 0) {
        few = ngx_http_rtdash_pool_alloc_locked(ctx, NGX_HTTP_RTDASH_POOL_FEW,
                                                &ref);
        if (few == NULL) {
            return NGX_DECLINED;
        }

        ngx_memcpy(few, values, n * sizeof(double));
        m->few_values_ref = ref;

        return NGX_OK;
    }

    vs = ngx_http_rtdash_pool_alloc_locked(ctx, NGX_HTTP_RTDASH_POOL_VALUES,
                                           &ref);
    if (vs == NULL) {
        return NGX_DECLINED;
    }

    for (i = 0; i < n; i++) {
        ngx_http_rtdash_vstat_add(vs, values[i],
                                  ngx_http_rtdash_value_index(values[i]), 0);
    }

    m->values_ref = ref;
    m->nvalues = 0;
    m->rvalues = 0;

    ngx_http_rtdash_pool_free_locked(ctx, NGX_HTTP_RTDASH_POOL_FEW,
                                     &m->few_values_ref);

    return NGX_OK;
}


/* the same for a minute's users: a FEW record, then a users sketch */

static ngx_int_t
ngx_http_rtdash_promote_users_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_mrec_t *m)
{
    uint32_t                 *keys, *few;
    ngx_uint_t                i, n;
    ngx_http_rtdash_ref_t     ref;
    ngx_http_rtdash_hll_t    *h;

    keys = ngx_http_rtdash_mrec_keys(ctx, m, &n);

    if (m->few_users_ref == 0) {
        few = ngx_http_rtdash_pool_alloc_locked(ctx, NGX_HTTP_RTDASH_POOL_FEW,
                                                &ref);
        if (few == NULL) {
            return NGX_DECLINED;
        }

        ngx_memcpy(few, keys, n * sizeof(uint32_t));
        m->few_users_ref = ref;

        return NGX_OK;
    }

    h = ngx_http_rtdash_pool_alloc_locked(ctx, NGX_HTTP_RTDASH_POOL_USERS,
                                          &ref);
    if (h == NULL) {
        return NGX_DECLINED;
    }

    for (i = 0; i < n; i++) {
        ngx_http_rtdash_hll_add(h, keys[i]);
    }

    m->users_ref = ref;
    m->nusers = 0;
    m->rusers = 0;

    ngx_http_rtdash_pool_free_locked(ctx, NGX_HTTP_RTDASH_POOL_FEW,
                                     &m->few_users_ref);

    return NGX_OK;
}


/* the reservations of the first n events are done with */

static void
ngx_http_rtdash_unreserve_locked(ngx_http_rtdash_batch_t *b, ngx_uint_t n)
{
    ngx_uint_t               i;
    ngx_http_rtdash_prep_t  *pr;

    for (i = 0; i < n; i++) {
        pr = &b->prep[i];

        if (pr->node) {
            pr->node->pending = 0;
        }

        if (pr->minute) {
            pr->minute->rvalues = 0;
            pr->minute->rusers = 0;
        }
    }
}


/*
 * The tool of an event (pr->node), created when it is new; when the
 * zone is full, with evict=lru, a pending tool (pr->pending) instead.
 * NGX_DECLINED: no room.
 */

static ngx_int_t
ngx_http_rtdash_tool_locked(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_event_in_t *ev, ngx_http_rtdash_prep_t *pr)
{
    ngx_http_rtdash_node_t  *node;

    node = ngx_http_rtdash_lookup_locked(b->ctx, pr->hash,
                                         (u_char *) ev->tool, ev->tool_len);

    /* once the zone was found full, every new tool waits for room */

    if (node == NULL && b->npending == 0) {
        node = ngx_http_rtdash_tool_new_locked(b->ctx, pr->hash,
                                               (u_char *) ev->tool,
                                               ev->tool_len);
        if (node) {
            node->born = b->stamp;
            b->created[b->ncreated++] = node;
        }
    }

    if (node) {
        node->touched = b->stamp;
        pr->node = node;
        return NGX_OK;
    }

    if (b->ctx->evict == NGX_HTTP_RTDASH_EVICT_LRU) {
        return ngx_http_rtdash_pending_locked(b, ev, pr);
    }

    b->rec->error = "zone is full, no room for tool";
    b->rec->arg.data = (u_char *) ev->tool;
    b->rec->arg.len = ev->tool_len;

    return NGX_DECLINED;
}


/* a new tool, or one named again, waiting for an eviction */

static ngx_int_t
ngx_http_rtdash_pending_locked(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_event_in_t *ev, ngx_http_rtdash_prep_t *pr)
{
    uint32_t                    p, *bucket;
    ngx_uint_t                  i;
    ngx_http_rtdash_pending_t  *pe;

    if (b->npending == 0) {
        for (i = 0; i < NGX_HTTP_RTDASH_BUCKETS; i++) {
            b->buckets[i] = NGX_HTTP_RTDASH_NIL;
        }
    }

    bucket = &b->buckets[pr->hash % NGX_HTTP_RTDASH_BUCKETS];

    for (p = *bucket; p != NGX_HTTP_RTDASH_NIL; p = b->pending[p].next) {
        pe = &b->pending[p];

        if (pe->hash == pr->hash && pe->ev->tool_len == ev->tool_len
            && ngx_memcmp(pe->ev->tool, ev->tool, ev->tool_len) == 0)
        {
            pr->node = NULL;
            pr->pending = p;
            return NGX_OK;
        }
    }

    /* each takes the node of another tool: there are no more than these */

    if (b->npending >= b->ctx->sh->ntools) {
        b->rec->error = "zone is full, no room for tool";
        b->rec->arg.data = (u_char *) ev->tool;
        b->rec->arg.len = ev->tool_len;
        return NGX_DECLINED;
    }

    p = (uint32_t) b->npending++;
    pe = &b->pending[p];

    pe->node = NULL;
    pe->ev = ev;
    pe->hash = pr->hash;
    pe->next = *bucket;
    pe->gfirst = NGX_HTTP_RTDASH_NIL;
    pe->glast = NGX_HTTP_RTDASH_NIL;
    pe->ngauges = 0;

    *bucket = p;

    pr->node = NULL;
    pr->pending = p;

    return NGX_OK;
}


/* the slot of gauge j in a pending tool: its names are those before */

static ngx_int_t
ngx_http_rtdash_pending_gauge(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_pending_t *pe, uint32_t j)
{
    uint32_t                     k;
    ngx_http_rtdash_gauge_in_t  *g, *h;

    g = &b->rec->gauges[j];

    for (k = pe->gfirst; k != NGX_HTTP_RTDASH_NIL; k = b->gnext[k]) {
        h = &b->rec->gauges[k];

        if (h->name_len == g->name_len
            && ngx_memcmp(h->name, g->name, g->name_len) == 0)
        {
            if (h->sum != g->sum) {
                return ngx_http_rtdash_kind_conflict(b, g);
            }

            return b->gslot[k];
        }
    }

    if (pe->ngauges >= b->ctx->ngauges) {
        return ngx_http_rtdash_slots_full(b, g);
    }

    b->gnext[j] = NGX_HTTP_RTDASH_NIL;

    if (pe->glast == NGX_HTTP_RTDASH_NIL) {
        pe->gfirst = j;

    } else {
        b->gnext[pe->glast] = j;
    }

    pe->glast = j;

    return pe->ngauges++;
}


/*
 * Everything else of the record fits: the pending tools take the nodes
 * of the least recently updated tools, if there are enough of them that
 * this record does not name and that were not written in the last
 * evict_age; otherwise nothing is evicted, NGX_DECLINED.
 */

static ngx_int_t
ngx_http_rtdash_evict_locked(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_evicted_t *ed)
{
    double                      limit;
    uint32_t                    k, s;
    ngx_uint_t                  i;
    ngx_queue_t                *q;
    ngx_http_rtdash_ctx_t      *ctx;
    ngx_http_rtdash_node_t     *node;
    ngx_http_rtdash_gauge_t    *gs;
    ngx_http_rtdash_pending_t  *pe;

    ctx = b->ctx;
    limit = b->rec->now - (double) ctx->evict_age;

    /* from the tail: the least recently updated first */

    q = ngx_queue_last(&ctx->sh->lru);

    for (i = 0; i < b->npending && q != ngx_queue_sentinel(&ctx->sh->lru);
         q = ngx_queue_prev(q))
    {
        node = ngx_queue_data(q, ngx_http_rtdash_node_t, lru);

        if (node->touched == b->stamp) {
            continue;
        }

        if (ctx->evict_age && node->updated > limit) {
            break;
        }

        b->pending[i++].node = node;
    }

    if (i < b->npending) {
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "rtdash zone \"%V\": %ui new tools, %ui tools may "
                       "be evicted", &ctx->name, b->npending, i);

        b->rec->error = "zone is full, no room for tool";
        b->rec->arg.data = (u_char *) b->pending[i].ev->tool;
        b->rec->arg.len = b->pending[i].ev->tool_len;
        return NGX_DECLINED;
    }

    ngx_http_rtdash_evict_log(b, ed, b->pending[0].node);

    for (i = 0; i < b->npending; i++) {
        pe = &b->pending[i];
        node = pe->node;

        ngx_http_rtdash_tool_evict_locked(ctx, node, pe->hash,
                                          (u_char *) pe->ev->tool,
                                          pe->ev->tool_len);
        node->touched = b->stamp;
        node->born = b->stamp;

        gs = ngx_http_rtdash_node_gauges(ctx, node);
        s = 0;

        for (k = pe->gfirst; k != NGX_HTTP_RTDASH_NIL; k = b->gnext[k]) {
            ngx_memcpy(gs[s].name, b->rec->gauges[k].name,
                       b->rec->gauges[k].name_len);
            gs[s].len = (u_char) b->rec->gauges[k].name_len;
            gs[s].kind = b->rec->gauges[k].sum ? NGX_HTTP_RTDASH_SUM
                                               : NGX_HTTP_RTDASH_GAUGE;
            gs[s].value = 0;
            s++;
        }

        node->ngauges = pe->ngauges;
    }

    for (i = 0; i < b->rec->nevents; i++) {
        if (b->prep[i].node == NULL) {
            b->prep[i].node = b->pending[b->prep[i].pending].node;
        }
    }

    return NGX_OK;
}


/*
 * The notice of an eviction, at most once a second a zone: the first
 * tool this record evicts, and how many went since the last notice.
 */

static void
ngx_http_rtdash_evict_log(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_evicted_t *ed, ngx_http_rtdash_node_t *victim)
{
    time_t                    now;
    ngx_http_rtdash_shctx_t  *sh;

    sh = b->ctx->sh;
    now = ngx_time();

    if (sh->evict_logged == now) {
        return;
    }

    sh->evict_logged = now;

    ed->len = victim->name_len;
    ngx_memcpy(ed->name, victim->name, victim->name_len);
    ed->tool.data = (u_char *) b->pending[0].ev->tool;
    ed->tool.len = b->pending[0].ev->tool_len;
    ed->age = (time_t) (b->rec->now - victim->updated);

    /* this record's evictions come next */

    ed->count = sh->evicted + b->npending - sh->evicted_logged;
    sh->evicted_logged = sh->evicted + b->npending;
}


static ngx_int_t
ngx_http_rtdash_type_locked(ngx_http_rtdash_batch_t *b, const u_char *name,
    size_t len)
{
    ngx_uint_t                k;
    ngx_http_rtdash_type_t   *t;
    ngx_http_rtdash_shctx_t  *sh;

    sh = b->ctx->sh;

    for (k = 0; k < sh->ntypes; k++) {
        t = &sh->types[k];

        if (t->len == len && ngx_memcmp(t->name, name, len) == 0) {
            return k;
        }
    }

    if (sh->ntypes >= b->ctx->ntypes) {
        b->rec->error = "type table is full, no room for type";
        b->rec->arg.data = (u_char *) name;
        b->rec->arg.len = len;
        return NGX_DECLINED;
    }

    t = &sh->types[sh->ntypes];
    ngx_memcpy(t->name, name, len);
    t->len = (u_char) len;

    return sh->ntypes++;
}


static ngx_int_t
ngx_http_rtdash_gauge_locked(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_node_t *node, ngx_http_rtdash_gauge_in_t *g)
{
    ngx_uint_t                s;
    ngx_http_rtdash_undo_t   *u;
    ngx_http_rtdash_gauge_t  *gs;

    gs = ngx_http_rtdash_node_gauges(b->ctx, node);

    for (s = 0; s < node->ngauges; s++) {
        if (gs[s].len == g->name_len
            && ngx_memcmp(gs[s].name, g->name, g->name_len) == 0)
        {
            if ((gs[s].kind == NGX_HTTP_RTDASH_SUM) != g->sum) {
                return ngx_http_rtdash_kind_conflict(b, g);
            }

            return s;
        }
    }

    if (node->ngauges >= b->ctx->ngauges) {
        return ngx_http_rtdash_slots_full(b, g);
    }

    /* a new name per gauge at most: undo has room for every gauge */

    u = &b->undo[b->nundo++];
    u->node = node;
    u->ngauges = node->ngauges;

    ngx_memcpy(gs[s].name, g->name, g->name_len);
    gs[s].len = (u_char) g->name_len;
    gs[s].kind = g->sum ? NGX_HTTP_RTDASH_SUM : NGX_HTTP_RTDASH_GAUGE;
    gs[s].value = 0;

    return node->ngauges++;
}


/* a tool's slots are all taken: g gets none */

static ngx_int_t
ngx_http_rtdash_slots_full(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_gauge_in_t *g)
{
    b->rec->error = g->sum
                    ? "gauge table of the tool is full, no room for sum"
                    : "gauge table of the tool is full, no room for gauge";
    b->rec->arg.data = (u_char *) g->name;
    b->rec->arg.len = g->name_len;

    return NGX_DECLINED;
}


/* g names a slot of the other kind: 409, a client's mistake */

static ngx_int_t
ngx_http_rtdash_kind_conflict(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_gauge_in_t *g)
{
    b->rec->error = g->sum ? "the tool has a gauge, not a sum, named"
                           : "the tool has a sum, not a gauge, named";
    b->rec->arg.data = (u_char *) g->name;
    b->rec->arg.len = g->name_len;
    b->rec->status = NGX_HTTP_CONFLICT;

    return NGX_DECLINED;
}


static void
ngx_http_rtdash_undo_locked(ngx_http_rtdash_batch_t *b)
{
    ngx_uint_t  i;

    for (i = b->nundo; i > 0; i--) {
        b->undo[i - 1].node->ngauges = b->undo[i - 1].ngauges;
    }

    for (i = 0; i < b->ncreated; i++) {
        ngx_http_rtdash_tool_free_locked(b->ctx, b->created[i]);
    }

    b->ctx->sh->ntypes = b->ntypes;
}


static void
ngx_http_rtdash_apply_locked(ngx_http_rtdash_batch_t *b)
{
    uint64_t                     seq;
    ngx_uint_t                   i;
    ngx_http_rtdash_ctx_t       *ctx;
    ngx_http_rtdash_prep_t      *pr;
    ngx_http_rtdash_slots_t      sl;
    ngx_http_rtdash_event_in_t  *ev;

    ctx = b->ctx;
    seq = ctx->sh->seq;

    sl.node = NULL;
    sl.t = 0;
    sl.minute = NULL;
    sl.second = NULL;

    for (i = 0; i < b->rec->nevents; i++) {
        ev = &b->rec->events[i];
        pr = &b->prep[i];

        pr->node->seq = ++seq;
        pr->node->updated = b->rec->now;
        ngx_http_rtdash_lru_touch_locked(ctx, pr->node);

        /* the next event of the same tool and second reuses the slots */

        if (pr->node != sl.node || (time_t) ev->ts != sl.t) {
            ngx_http_rtdash_slots_locked(ctx, &sl, pr->node, (time_t) ev->ts,
                                         (time_t) b->rec->now);
        }

        ngx_http_rtdash_gauges_locked(b, &sl, ev);

        if (pr->type == NGX_HTTP_RTDASH_NO_TYPE) {
            continue;
        }

        ngx_http_rtdash_crash("record apply");
        ngx_http_rtdash_count_locked(ctx, &sl, ev, pr);
        ngx_http_rtdash_ring_locked(ctx, pr->node, ev, pr->type, seq);
    }

    ctx->sh->accepted += b->rec->nevents;
    ctx->sh->seq = seq;
}


/* the notices of the record, after its events (they took their seqs) */

static void
ngx_http_rtdash_notices_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_record_t *rec)
{
    ngx_uint_t                   i;
    ngx_http_rtdash_event_in_t  *ev;

    for (i = 0; i < rec->nnotices; i++) {
        ev = &rec->notices[i];

        ngx_http_rtdash_watch_notice_locked(ctx, (u_char *) ev->notice,
                                            ev->notice_len, ev->level,
                                            (u_char *) ev->tool,
                                            ev->tool ? ev->tool_len : 0,
                                            ev->ts);
    }
}


/* the minute and second buckets of time t, reset when stale */

static void
ngx_http_rtdash_slots_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_slots_t *sl, ngx_http_rtdash_node_t *node, time_t t,
    time_t now)
{
    double                  *sums;
    uint32_t                 start, *sec;
    ngx_http_rtdash_mrec_t  *m;

    sl->node = node;
    sl->t = t;

    start = (uint32_t) (t - t % 60);
    m = ngx_http_rtdash_minute_slot(ctx, node, t);

    /* the records were reserved: a minute of t, or one newer */

    sl->minute = (m && m->t == start) ? m : NULL;
    sl->second = NULL;

    if (t <= now - NGX_HTTP_RTDASH_SECONDS) {
        return;
    }

    sec = ngx_http_rtdash_second_slot(ctx, node, t);

    if (sec == NULL || sec[0] > (uint32_t) t) {
        return;
    }

    if (sec[0] < (uint32_t) t) {
        sums = ngx_http_rtdash_ref_ptr(ctx,
                                   *ngx_http_rtdash_second_sums_ref(ctx, sec));

        /* the second keeps its sums record, emptied */

        ngx_memzero(sec, ctx->layout.sec_size - sizeof(ngx_http_rtdash_ref_t));
        sec[0] = (uint32_t) t;

        if (sums) {
            ngx_memzero(sums, sizeof(double) * ctx->ngauges);
        }
    }

    sl->second = sec;
}


/*
 * Gauges: last values, and the minute's min/max/last of each.  Sums:
 * added to the total, the minute's and the second's.
 */

static void
ngx_http_rtdash_gauges_locked(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_slots_t *sl, ngx_http_rtdash_event_in_t *ev)
{
    size_t                    j;
    double                    v, *sums;
    ngx_uint_t                k;
    ngx_http_rtdash_gauge_t  *gs;
    ngx_http_rtdash_gstat_t  *gst, *st;

    if (ev->ngauges == 0) {
        return;
    }

    gs = ngx_http_rtdash_node_gauges(b->ctx, sl->node);
    gst = sl->minute ? ngx_http_rtdash_mrec_gstats(b->ctx, sl->minute)
                     : NULL;
    sums = sl->second
           ? ngx_http_rtdash_ref_ptr(b->ctx,
                    *ngx_http_rtdash_second_sums_ref(b->ctx, sl->second))
           : NULL;

    for (j = ev->gauge_first; j < ev->gauge_first + ev->ngauges; j++) {
        v = b->rec->gauges[j].value;
        k = b->gslot[j];
        st = gst ? &gst[k] : NULL;

        if (b->rec->gauges[j].sum) {
            gs[k].value += v;

            if (sums) {
                sums[k] += v;
            }

            if (st) {
                st->u.sum += v;
                st->set = 1;
            }

            continue;
        }

        gs[k].value = v;

        if (st == NULL) {
            continue;
        }

        if (!st->set || v < st->u.g.min) {
            st->u.g.min = (float) v;
        }

        if (!st->set || v > st->u.g.max) {
            st->u.g.max = (float) v;
        }

        st->last = (float) v;
        st->set = 1;
    }
}


/* totals, the second's and the minute's counts, values and users */

static void
ngx_http_rtdash_count_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_slots_t *sl, ngx_http_rtdash_event_in_t *ev,
    ngx_http_rtdash_prep_t *pr)
{
    double                   *values;
    uint32_t                 *keys;
    ngx_uint_t                k, i, n, room;
    ngx_http_rtdash_hll_t    *h;
    ngx_http_rtdash_mrec_t   *m;
    ngx_http_rtdash_vstat_t  *vs;

    k = pr->type;

    ngx_http_rtdash_node_totals(ctx, sl->node)[k]++;

    if (ev->flag) {
        ngx_http_rtdash_node_flagged(ctx, sl->node)[k]++;
    }

    if (ev->has_value) {
        ngx_http_rtdash_vstat_add(&sl->node->value, ev->value, pr->vidx,
                                  pr->coin);
    }

    if (sl->second) {
        ngx_http_rtdash_second_counts(sl->second)[k]++;

        if (ev->flag) {
            ngx_http_rtdash_second_flagged(ctx, sl->second)[k]++;
        }
    }

    m = sl->minute;

    if (m == NULL) {
        return;
    }

    ngx_http_rtdash_mrec_counts(m)[k]++;

    if (ev->flag) {
        ngx_http_rtdash_mrec_flagged(ctx, m)[k]++;
    }

    if (ev->has_value) {
        vs = ngx_http_rtdash_ref_ptr(ctx, m->values_ref);

        if (vs) {
            ngx_http_rtdash_vstat_add(vs, ev->value, pr->vidx, pr->coin);

        } else {
            values = ngx_http_rtdash_mrec_values(ctx, m, &n);
            room = ngx_http_rtdash_mrec_values_room(m);

            /* reserved, as a rule: not after a repair cut a record short */
            if (n < room) {
                values[n] = ev->value;
                m->nvalues = n + 1;
            }
        }
    }

    if (pr->has_user) {
        h = ngx_http_rtdash_ref_ptr(ctx, m->users_ref);

        if (h) {
            ngx_http_rtdash_hll_add(h, pr->ukey);
            return;
        }

        keys = ngx_http_rtdash_mrec_keys(ctx, m, &n);
        room = ngx_http_rtdash_mrec_users_room(m);

        for (i = 0; i < n; i++) {
            if (keys[i] == pr->ukey) {
                return;
            }
        }

        if (n < room) {
            keys[n] = pr->ukey;
            m->nusers = n + 1;
        }
    }
}


static void
ngx_http_rtdash_ring_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, ngx_http_rtdash_event_in_t *ev,
    ngx_uint_t type, uint64_t seq)
{
    ngx_http_rtdash_event_t  *re;

    re = ngx_http_rtdash_ring_slot(ctx, node, node->nevents);

    if (re == NULL) {
        /* reserved, as a rule: not after a repair cut a record short */
        return;
    }

    node->nevents++;

    re->seq = seq;
    re->ts = ev->ts;
    re->value = ev->has_value ? ev->value : 0;
    re->type = (u_char) type;
    re->flags = (ev->has_value ? NGX_HTTP_RTDASH_EV_VALUE : 0)
                | (ev->flag ? NGX_HTTP_RTDASH_EV_FLAG : 0);
    re->user_len = (u_char) ev->user_len;
    re->id_len = (u_char) ev->id_len;

    if (ev->user_len) {
        ngx_memcpy(re->user, ev->user, ev->user_len);
    }

    if (ev->id_len) {
        ngx_memcpy(re->id, ev->id, ev->id_len);
    }
}
