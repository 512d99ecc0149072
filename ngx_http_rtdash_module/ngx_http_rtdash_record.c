
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
 */


#include "ngx_http_rtdash_module.h"

#include <ngx_sha1.h>


/* what is computed of an event before the lock, and its tool */
typedef struct {
    ngx_http_rtdash_node_t      *node;
    uint32_t                     hash;
    uint32_t                     ukey;       /* the user's sketch key */
    uint32_t                     coin;       /* random bits for a value */
    int16_t                      vidx;       /* the value's bin */
    u_char                       has_user;   /* ukey counts */
    u_char                       type;
} ngx_http_rtdash_prep_t;


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
    ngx_http_rtdash_undo_t      *undo;       /* [ngauges] */
    u_char                      *gslot;      /* [ngauges] */
    u_char                      *names;      /* [nevents] pseudonyms */
    ngx_uint_t                   ncreated;
    ngx_uint_t                   nundo;
    ngx_uint_t                   ntypes;     /* before this record */
} ngx_http_rtdash_batch_t;


/* where an event goes: the buckets of its tool and second */
typedef struct {
    ngx_http_rtdash_node_t      *node;
    time_t                       t;
    ngx_http_rtdash_minute_t    *minute;     /* NULL: older than the slot */
    uint32_t                    *second;     /* NULL: out of the seconds */
} ngx_http_rtdash_slots_t;


static void ngx_http_rtdash_prepare(ngx_http_rtdash_batch_t *b);
static void ngx_http_rtdash_private(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_event_in_t *ev, u_char *names);
static void ngx_http_rtdash_pseudonym(ngx_http_rtdash_ctx_t *ctx,
    const u_char **s, size_t *len, u_char *dst);
static ngx_int_t ngx_http_rtdash_resolve_locked(ngx_http_rtdash_batch_t *b);
static ngx_http_rtdash_node_t *ngx_http_rtdash_tool_locked(
    ngx_http_rtdash_batch_t *b, ngx_http_rtdash_event_in_t *ev,
    uint32_t hash);
static ngx_int_t ngx_http_rtdash_type_locked(ngx_http_rtdash_batch_t *b,
    const u_char *name, size_t len);
static ngx_int_t ngx_http_rtdash_gauge_locked(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_node_t *node, ngx_http_rtdash_gauge_in_t *g);
static void ngx_http_rtdash_undo_locked(ngx_http_rtdash_batch_t *b);
static void ngx_http_rtdash_apply_locked(ngx_http_rtdash_batch_t *b);
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
                      + 2 * NGX_HTTP_RTDASH_PSEUDONYM_LEN)
           + ngauges * (sizeof(ngx_http_rtdash_undo_t) + 1);
}


/*
 * NGX_OK: every event applied; NGX_DECLINED: a tool, type or gauge did
 * not fit (rec->error, rec->arg), nothing was applied.
 */

ngx_int_t
ngx_http_rtdash_record(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_record_t *rec, ngx_log_t *log)
{
    ngx_int_t                rc;
    ngx_http_rtdash_batch_t  b;

    b.ctx = ctx;
    b.rec = rec;
    b.prep = rec->scratch;
    b.created = (ngx_http_rtdash_node_t **) (b.prep + rec->nevents);
    b.undo = (ngx_http_rtdash_undo_t *) (b.created + rec->nevents);
    b.gslot = (u_char *) (b.undo + rec->ngauges);
    b.names = b.gslot + rec->ngauges;
    b.ncreated = 0;
    b.nundo = 0;

    rec->error = NULL;
    rec->arg.len = 0;
    rec->arg.data = NULL;

    ngx_http_rtdash_prepare(&b);

    ngx_shmtx_lock(&ctx->shpool->mutex);

    rc = ngx_http_rtdash_resolve_locked(&b);

    if (rc != NGX_OK) {
        ngx_http_rtdash_undo_locked(&b);
        ctx->sh->refused++;
        ngx_shmtx_unlock(&ctx->shpool->mutex);

        ngx_log_debug4(NGX_LOG_DEBUG_HTTP, log, 0,
                       "rtdash zone \"%V\": record of %ui events refused: "
                       "%s \"%V\"", &ctx->name, rec->nevents, rec->error,
                       &rec->arg);

        return NGX_DECLINED;
    }

    ngx_http_rtdash_apply_locked(&b);

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, log, 0,
                   "rtdash zone \"%V\": recorded %ui events, %ui new tools, "
                   "%ui new gauges", &ctx->name, rec->nevents, b.ncreated,
                   b.nundo);

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
            pr->hash = ngx_crc32_short((u_char *) ev->tool, ev->tool_len);
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
    ngx_http_rtdash_node_t      *node, *last;
    ngx_http_rtdash_prep_t      *pr;
    ngx_http_rtdash_event_in_t  *ev, *prev;

    b->ntypes = b->ctx->sh->ntypes;

    last = NULL;
    prev = NULL;
    k = NGX_HTTP_RTDASH_NO_TYPE;

    for (i = 0; i < b->rec->nevents; i++) {
        ev = &b->rec->events[i];
        pr = &b->prep[i];

        if (last && last->name_len == ev->tool_len
            && ngx_memcmp(last->name, ev->tool, ev->tool_len) == 0)
        {
            node = last;

        } else {
            node = ngx_http_rtdash_tool_locked(b, ev, pr->hash);
            if (node == NULL) {
                return NGX_DECLINED;
            }
        }

        last = node;
        pr->node = node;

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
            s = ngx_http_rtdash_gauge_locked(b, node, &b->rec->gauges[j]);
            if (s < 0) {
                return s;
            }

            b->gslot[j] = (u_char) s;
        }
    }

    return NGX_OK;
}


/* the tool of an event, created when it is new; NULL: no room */

static ngx_http_rtdash_node_t *
ngx_http_rtdash_tool_locked(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_event_in_t *ev, uint32_t hash)
{
    ngx_http_rtdash_node_t  *node;

    node = ngx_http_rtdash_lookup_locked(b->ctx, hash, (u_char *) ev->tool,
                                         ev->tool_len);
    if (node) {
        return node;
    }

    node = ngx_http_rtdash_tool_new_locked(b->ctx, hash, (u_char *) ev->tool,
                                           ev->tool_len);
    if (node == NULL) {
        b->rec->error = "zone is full, no room for tool";
        b->rec->arg.data = (u_char *) ev->tool;
        b->rec->arg.len = ev->tool_len;
        return NULL;
    }

    b->created[b->ncreated++] = node;

    return node;
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
            return s;
        }
    }

    if (node->ngauges >= b->ctx->ngauges) {
        b->rec->error = "gauge table of the tool is full, no room for gauge";
        b->rec->arg.data = (u_char *) g->name;
        b->rec->arg.len = g->name_len;
        return NGX_DECLINED;
    }

    /* a new name per gauge at most: undo has room for every gauge */

    u = &b->undo[b->nundo++];
    u->node = node;
    u->ngauges = node->ngauges;

    ngx_memcpy(gs[s].name, g->name, g->name_len);
    gs[s].len = (u_char) g->name_len;
    gs[s].value = 0;

    return node->ngauges++;
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

        /* the next event of the same tool and second reuses the slots */

        if (pr->node != sl.node || (time_t) ev->ts != sl.t) {
            ngx_http_rtdash_slots_locked(ctx, &sl, pr->node, (time_t) ev->ts,
                                         (time_t) b->rec->now);
        }

        ngx_http_rtdash_gauges_locked(b, &sl, ev);

        if (pr->type == NGX_HTTP_RTDASH_NO_TYPE) {
            continue;
        }

        ngx_http_rtdash_count_locked(ctx, &sl, ev, pr);
        ngx_http_rtdash_ring_locked(ctx, pr->node, ev, pr->type, seq);
    }

    ctx->sh->accepted += b->rec->nevents;
    ctx->sh->seq = seq;
}


/* the minute and second buckets of time t, reset when stale */

static void
ngx_http_rtdash_slots_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_slots_t *sl, ngx_http_rtdash_node_t *node, time_t t,
    time_t now)
{
    uint32_t                   start, *sec;
    ngx_http_rtdash_minute_t  *m;

    sl->node = node;
    sl->t = t;

    start = (uint32_t) (t - t % 60);
    m = ngx_http_rtdash_minute_slot(ctx, node, t);

    if (m->t < start) {
        ngx_memzero(m, ctx->layout.min_size);
        m->t = start;

    } else if (m->t > start) {
        m = NULL;
    }

    sl->minute = m;
    sl->second = NULL;

    if (t <= now - NGX_HTTP_RTDASH_SECONDS) {
        return;
    }

    sec = ngx_http_rtdash_second_slot(ctx, node, t);

    if (sec[0] < (uint32_t) t) {
        ngx_memzero(sec, ctx->layout.sec_size);
        sec[0] = (uint32_t) t;

    } else if (sec[0] > (uint32_t) t) {
        return;
    }

    sl->second = sec;
}


/* last values, and the minute's min/max/last of each */

static void
ngx_http_rtdash_gauges_locked(ngx_http_rtdash_batch_t *b,
    ngx_http_rtdash_slots_t *sl, ngx_http_rtdash_event_in_t *ev)
{
    size_t                    j;
    double                    v;
    ngx_http_rtdash_gauge_t  *gs;
    ngx_http_rtdash_gstat_t  *gst;

    if (ev->ngauges == 0) {
        return;
    }

    gs = ngx_http_rtdash_node_gauges(b->ctx, sl->node);
    gst = sl->minute ? ngx_http_rtdash_minute_gstats(b->ctx, sl->minute)
                     : NULL;

    for (j = ev->gauge_first; j < ev->gauge_first + ev->ngauges; j++) {
        v = b->rec->gauges[j].value;
        gs[b->gslot[j]].value = v;

        if (gst == NULL) {
            continue;
        }

        if (!gst[b->gslot[j]].set || v < gst[b->gslot[j]].min) {
            gst[b->gslot[j]].min = (float) v;
        }

        if (!gst[b->gslot[j]].set || v > gst[b->gslot[j]].max) {
            gst[b->gslot[j]].max = (float) v;
        }

        gst[b->gslot[j]].last = (float) v;
        gst[b->gslot[j]].set = 1;
    }
}


/* totals, the second's and the minute's counts, values and users */

static void
ngx_http_rtdash_count_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_slots_t *sl, ngx_http_rtdash_event_in_t *ev,
    ngx_http_rtdash_prep_t *pr)
{
    ngx_uint_t                 k;
    ngx_http_rtdash_minute_t  *m;

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

    ngx_http_rtdash_minute_counts(m)[k]++;

    if (ev->flag) {
        ngx_http_rtdash_minute_flagged(ctx, m)[k]++;
    }

    if (ev->has_value) {
        ngx_http_rtdash_vstat_add(&m->value, ev->value, pr->vidx, pr->coin);
    }

    if (pr->has_user) {
        ngx_http_rtdash_hll_add(&m->users, pr->ukey);
    }
}


static void
ngx_http_rtdash_ring_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, ngx_http_rtdash_event_in_t *ev,
    ngx_uint_t type, uint64_t seq)
{
    ngx_http_rtdash_event_t  *re;

    re = ngx_http_rtdash_ring_slot(ctx, node, node->nevents);
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
