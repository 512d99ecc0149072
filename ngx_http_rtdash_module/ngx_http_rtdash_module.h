
/*
 * rtdash: shared declarations of the module's files.
 */


#ifndef _NGX_HTTP_RTDASH_MODULE_H_INCLUDED_
#define _NGX_HTTP_RTDASH_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_rtdash_parse.h"
#include "ngx_http_rtdash_sketch.h"


typedef struct ngx_http_rtdash_watch_s  ngx_http_rtdash_watch_t;

#include "ngx_http_rtdash_watch.h"


/*
 * 3: the 512-byte value histogram and the HyperLogLog of users; 4: the
 * watch area (notices, alert states and transitions, anomalies); 7: a
 * closed minute's histogram and users packed in one record
 */
#define NGX_HTTP_RTDASH_LAYOUT_VERSION  7

#define NGX_HTTP_RTDASH_SECONDS         300

#define NGX_HTTP_RTDASH_TYPES_MAX       64
#define NGX_HTTP_RTDASH_GAUGES_MAX      32
#define NGX_HTTP_RTDASH_EVENTS_MAX      100000
#define NGX_HTTP_RTDASH_RETENTION_MAX   (7 * 86400)

#define NGX_HTTP_RTDASH_NO_TYPE         0xff

#define NGX_HTTP_RTDASH_KEY_LEN         16      /* pseudonym key */
#define NGX_HTTP_RTDASH_PSEUDONYM_LEN   16      /* hex of a keyed hash */

/* users= and ids= of rtdash_zone: what is kept of an identifier */
#define NGX_HTTP_RTDASH_KEEP            0
#define NGX_HTTP_RTDASH_HASH            1
#define NGX_HTTP_RTDASH_COUNT           2       /* users: the count only */
#define NGX_HTTP_RTDASH_DROP            2       /* ids: nothing */

#define NGX_HTTP_RTDASH_EV_VALUE        0x01
#define NGX_HTTP_RTDASH_EV_FLAG         0x02

/* evict_age= of rtdash_zone by default: a tool written in the last minute */
#define NGX_HTTP_RTDASH_EVICT_AGE       60


/* evict= of rtdash_zone: what a new tool does when the zone is full */
typedef enum {
    NGX_HTTP_RTDASH_EVICT_OFF = 0,      /* it is refused, 507 */
    NGX_HTTP_RTDASH_EVICT_LRU           /* the least recently updated goes */
} ngx_http_rtdash_evict_e;


/* one raw event in a tool's ring */
typedef struct {
    uint64_t                    seq;
    double                      ts;
    double                      value;
    u_char                      type;
    u_char                      flags;
    u_char                      user_len;
    u_char                      id_len;
    u_char                      user[NGX_HTTP_RTDASH_USER_MAX];
    u_char                      id[NGX_HTTP_RTDASH_ID_MAX];
} ngx_http_rtdash_event_t;


/*
 * A named slot of a tool: a gauge (its last value) or a sum (its total
 * since start).  A tool's gauges and sums share its gauges= slots; a name
 * is of one kind for good.
 */
typedef struct {
    u_char                      name[NGX_HTTP_RTDASH_TOKEN_MAX];
    u_char                      len;
    u_char                      kind;         /* NGX_HTTP_RTDASH_GAUGE ... */
    u_char                      pad[6];
    double                      value;
} ngx_http_rtdash_gauge_t;

#define NGX_HTTP_RTDASH_GAUGE           0
#define NGX_HTTP_RTDASH_SUM             1
#define NGX_HTTP_RTDASH_NO_SUM          0xff    /* a reader's: no place */


/*
 * Per minute, of a slot: a gauge's min/max/last, or a sum's sum in the
 * place of min and max; set: the slot was written in the minute
 */
typedef struct {
    union {
        struct {
            float               min;
            float               max;
        }                       g;
        double                  sum;
    }                           u;
    float                       last;
    uint32_t                    set;
} ngx_http_rtdash_gstat_t;


/*
 * Per-second bucket: stamp, then count[types] and flagged[types].
 * Per-minute bucket: this header, then count[types], flagged[types],
 * gstat[gauges].
 */
typedef struct {
    uint32_t                    t;
    uint32_t                    pad;
    ngx_http_rtdash_vstat_t     value;
    ngx_http_rtdash_hll_t       users;
} ngx_http_rtdash_minute_t;


/*
 * Pools: fixed-size records carved from whole pages of the zone, each
 * kind with a free list.  A record is named by a ref, its offset from
 * the start of the zone in units of 8 bytes; 0 is none.
 */

#define NGX_HTTP_RTDASH_POOL_MINUTE     0       /* mrec_t and its arrays */
#define NGX_HTTP_RTDASH_POOL_VALUES     1       /* vstat_t */
#define NGX_HTTP_RTDASH_POOL_USERS      2       /* hll_t */
#define NGX_HTTP_RTDASH_POOL_SECOND     3       /* a second bucket */
#define NGX_HTTP_RTDASH_POOL_EVENTS     4       /* CHUNK ring events */
#define NGX_HTTP_RTDASH_POOL_FEW        5       /* a minute's few values */
#define NGX_HTTP_RTDASH_POOL_SUMS       6       /* a second's sums */
#define NGX_HTTP_RTDASH_POOL_PACKED     7       /* a closed minute's sketches */
#define NGX_HTTP_RTDASH_POOLS           8

#define NGX_HTTP_RTDASH_CHUNK           8       /* ring events a record */
#define NGX_HTTP_RTDASH_SMALL_VALUES    6       /* a minute's own values */
#define NGX_HTTP_RTDASH_SMALL_USERS     7       /* a minute's own users */
#define NGX_HTTP_RTDASH_FEW_SIZE        96      /* a FEW record */
#define NGX_HTTP_RTDASH_FEW_VALUES      (NGX_HTTP_RTDASH_FEW_SIZE / 8)
#define NGX_HTTP_RTDASH_FEW_USERS       (NGX_HTTP_RTDASH_FEW_SIZE / 4)

typedef uint32_t  ngx_http_rtdash_ref_t;


typedef struct {
    ngx_http_rtdash_ref_t       free;         /* first free record */
    uint32_t                    size;
    ngx_uint_t                  pages;        /* carved at once */
    uint64_t                    carved;       /* records made of pages */
    uint64_t                    nfree;
} ngx_http_rtdash_pool_t;


/*
 * A minute in the zone: a few values and users of its own; once it has
 * more, up to 12 values (24 users) in a record of the FEW pool; once it
 * has more still, a histogram and a users sketch of their own (records
 * of the VALUES and USERS pools).  Each of those is published by one
 * store of its ref after it is filled, and the larger one is read when
 * both are there.  nvalues (nusers) counts the values (users) held in
 * the minute or its FEW record.  Once the minute is closed, its
 * histogram and users sketch may be packed into one record of the PACKED
 * pool (ngx_http_rtdash_pack.c): published first, the two records freed
 * after; a write into the minute unpacks it first.  While a histogram
 * (sketch) record is there too it holds the same and is read.
 * count[types], flagged[types], gstat[gauges] follow.  Readers get it as
 * a ngx_http_rtdash_minute_t.
 */
typedef struct {
    uint32_t                    t;
    uint8_t                     nvalues;
    uint8_t                     nusers;
    uint8_t                     rvalues;      /* reserved by a record */
    uint8_t                     rusers;
    ngx_http_rtdash_ref_t       values_ref;
    ngx_http_rtdash_ref_t       users_ref;
    ngx_http_rtdash_ref_t       few_values_ref;   /* double [FEW_VALUES] */
    ngx_http_rtdash_ref_t       few_users_ref;    /* uint32_t [FEW_USERS] */
    ngx_http_rtdash_ref_t       packed_ref;       /* pack_t and its data */
    uint32_t                    keys[NGX_HTTP_RTDASH_SMALL_USERS];
    double                      values[NGX_HTTP_RTDASH_SMALL_VALUES];
} ngx_http_rtdash_mrec_t;


/*
 * Per-tool node, fixed size, allocated once when the tool is first seen.
 * The variable part follows the header at offsets of the zone's layout:
 * totals, flagged, gauges, then the refs of its seconds, minutes and
 * ring chunks, records taken from the pools as they are first written.
 */
typedef struct {
    ngx_rbtree_node_t           node;
    ngx_queue_t                 queue;
    uint64_t                    seq;          /* zone seq of last change */
    uint64_t                    nevents;      /* events written to ring */
    uint32_t                    pending;      /* ring slots a record holds */
    uint32_t                    slot;         /* in sh->slots */
    double                      updated;
    ngx_http_rtdash_vstat_t     value;        /* since start */
    uint32_t                    ngauges;
    u_short                     name_len;
    ngx_queue_t                 lru;          /* sh->lru, last written first */
    uint64_t                    touched;      /* sh->records naming it last */
    uint64_t                    born;         /* sh->records creating it */
    u_char                      name[NGX_HTTP_RTDASH_TOOL_MAX];
} ngx_http_rtdash_node_t;


/* offsets and sizes computed from the zone parameters */
typedef struct {
    size_t                      totals;       /* uint64_t [types] */
    size_t                      flagged;      /* uint64_t [types] */
    size_t                      gauges;       /* gauge_t [gauges] */
    size_t                      seconds;      /* ref [SECONDS] */
    size_t                      minutes;      /* ref [nminutes] */
    size_t                      ring;         /* ref [nchunks] */
    size_t                      sec_size;     /* a zone second */
    size_t                      sec_copy;     /* a reader's: + sums */
    size_t                      min_size;     /* a reader's minute_t */
    size_t                      rec_size;     /* a zone minute, mrec_t */
    size_t                      node_size;
    ngx_uint_t                  nchunks;
} ngx_http_rtdash_layout_t;


typedef struct {
    u_char                      name[NGX_HTTP_RTDASH_TOKEN_MAX];
    u_char                      len;
} ngx_http_rtdash_type_t;


/* the zone header */
typedef struct {
    ngx_rbtree_t                rbtree;
    ngx_rbtree_node_t           sentinel;
    ngx_queue_t                 tools;
    ngx_queue_t                 lru;          /* node->lru */
    uint64_t                    layout_key;
    volatile uint64_t           seq;
    uint64_t                    accepted;
    ngx_atomic_t                rejected;
    uint64_t                    refused;
    uint64_t                    evicted;
    ngx_uint_t                  ntools;
    ngx_uint_t                  max_tools;
    ngx_uint_t                  ntypes;
    time_t                      started;
    time_t                      dumped;       /* last dump written */
    uint64_t                    dumped_seq;
    ngx_http_rtdash_type_t      types[NGX_HTTP_RTDASH_TYPES_MAX];
    u_char                      key[NGX_HTTP_RTDASH_KEY_LEN];
    ngx_http_rtdash_pool_t      pools[NGX_HTTP_RTDASH_POOLS];
    ngx_http_rtdash_node_t     *sweep;        /* where reclaiming is at */
    ngx_http_rtdash_node_t    **slots;        /* the registry of tools */
    ngx_uint_t                  nslots;
    ngx_uint_t                  slot_hint;
    volatile ngx_pid_t          busy;         /* the lock's holder */
    ngx_uint_t                  sweep_slot;
    ngx_uint_t                  room;         /* tools that fit, no cap */
    uint64_t                    records;      /* the stamp of node->touched */
    uint64_t                    evicted_logged;   /* evicted at the last */
    time_t                      evict_logged;     /*   eviction message */
    ngx_http_rtdash_watch_t    *watch;
} ngx_http_rtdash_shctx_t;


/* per-process view of a zone */
typedef struct {
    ngx_http_rtdash_shctx_t    *sh;
    ngx_slab_pool_t            *shpool;
    ngx_str_t                   name;
    size_t                      size;
    time_t                      retention;
    ngx_uint_t                  nminutes;
    ngx_uint_t                  nevents;
    ngx_uint_t                  ntypes;
    ngx_uint_t                  ngauges;
    ngx_http_rtdash_layout_t    layout;
    ngx_str_t                   dump;         /* path, NUL-terminated */
    time_t                      dump_interval;
    ngx_cycle_t                *cycle;        /* configured in */
    ngx_uint_t                  users;        /* NGX_HTTP_RTDASH_KEEP ... */
    ngx_uint_t                  ids;
    ngx_http_rtdash_evict_e     evict;
    time_t                      evict_age;
    ngx_uint_t                  max_tools;    /* max_tools=, 0: what fits */
    ngx_http_rtdash_wsizes_t    wsizes;       /* notices=, alerts= */
    ngx_http_rtdash_rule_t    **rules;        /* the zone's rtdash_alert */
    ngx_uint_t                  nrules;
    ngx_http_rtdash_anomaly_conf_t  *anomaly; /* its rtdash_anomaly */
    time_t                      swept_at;     /* this worker's sweep: */
    ngx_uint_t                  sweep_budget; /*   slots left that second */
} ngx_http_rtdash_ctx_t;


/*
 * Layout accessors: where a tool's arrays, and the slot of a second, a
 * minute or a ring event, sit in its node.  Every site goes through them.
 */

static ngx_inline uint64_t *
ngx_http_rtdash_node_totals(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node)
{
    return (uint64_t *) ((u_char *) node + ctx->layout.totals);
}


static ngx_inline uint64_t *
ngx_http_rtdash_node_flagged(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node)
{
    return (uint64_t *) ((u_char *) node + ctx->layout.flagged);
}


static ngx_inline ngx_http_rtdash_gauge_t *
ngx_http_rtdash_node_gauges(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node)
{
    return (ngx_http_rtdash_gauge_t *) ((u_char *) node + ctx->layout.gauges);
}


/* a record of the zone by its ref */

static ngx_inline void *
ngx_http_rtdash_ref_ptr(ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_ref_t ref)
{
    return ref ? (u_char *) ctx->shpool + ((size_t) ref << 3) : NULL;
}


static ngx_inline ngx_http_rtdash_ref_t *
ngx_http_rtdash_node_seconds(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node)
{
    return (ngx_http_rtdash_ref_t *) ((u_char *) node + ctx->layout.seconds);
}


static ngx_inline ngx_http_rtdash_ref_t *
ngx_http_rtdash_node_minutes(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node)
{
    return (ngx_http_rtdash_ref_t *) ((u_char *) node + ctx->layout.minutes);
}


static ngx_inline ngx_http_rtdash_ref_t *
ngx_http_rtdash_node_chunks(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node)
{
    return (ngx_http_rtdash_ref_t *) ((u_char *) node + ctx->layout.ring);
}


/*
 * The per-second bucket time t maps to, NULL if the tool has none there:
 * its stamp says if it is t's
 */

static ngx_inline uint32_t *
ngx_http_rtdash_second_slot(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, time_t t)
{
    return ngx_http_rtdash_ref_ptr(ctx, ngx_http_rtdash_node_seconds(ctx, node)
                                        [t % NGX_HTTP_RTDASH_SECONDS]);
}


static ngx_inline ngx_http_rtdash_mrec_t *
ngx_http_rtdash_minute_slot(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, time_t t)
{
    return ngx_http_rtdash_ref_ptr(ctx, ngx_http_rtdash_node_minutes(ctx, node)
                                        [(t / 60) % ctx->nminutes]);
}


/* the n-th event ever written to a tool's ring; NULL: not written */

static ngx_inline ngx_http_rtdash_event_t *
ngx_http_rtdash_ring_slot(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, uint64_t n)
{
    ngx_uint_t                i;
    ngx_http_rtdash_event_t  *chunk;

    i = n % ctx->nevents;
    chunk = ngx_http_rtdash_ref_ptr(ctx, ngx_http_rtdash_node_chunks(ctx, node)
                                         [i / NGX_HTTP_RTDASH_CHUNK]);

    return chunk ? chunk + i % NGX_HTTP_RTDASH_CHUNK : NULL;
}


/* bucket i of an array of buckets of "size" bytes (copies, sums) */

static ngx_inline void *
ngx_http_rtdash_bucket(void *base, ngx_uint_t i, size_t size)
{
    return (u_char *) base + i * size;
}


/*
 * Inside a second bucket: stamp, count[types], flagged[types], the ref
 * of its sums (a record of the SUMS pool, double [gauges], taken when
 * the second first gets a sum).  A reader's copy of a second has the
 * sums themselves after that: double [gauges], 0 where none.
 */

static ngx_inline uint32_t *
ngx_http_rtdash_second_counts(uint32_t *sec)
{
    return sec + 1;
}


static ngx_inline uint32_t *
ngx_http_rtdash_second_flagged(ngx_http_rtdash_ctx_t *ctx, uint32_t *sec)
{
    return sec + 1 + ctx->ntypes;
}


static ngx_inline ngx_http_rtdash_ref_t *
ngx_http_rtdash_second_sums_ref(ngx_http_rtdash_ctx_t *ctx, uint32_t *sec)
{
    return (ngx_http_rtdash_ref_t *) (sec + 1 + 2 * ctx->ntypes);
}


/* in a reader's copy of a second */

static ngx_inline double *
ngx_http_rtdash_second_sums(ngx_http_rtdash_ctx_t *ctx, uint32_t *sec)
{
    return (double *) ((u_char *) sec + ctx->layout.sec_size);
}


/* the values (users) a zone minute has room for before its next record */
#define ngx_http_rtdash_mrec_values_room(m)                                  \
    ((m)->few_values_ref ? NGX_HTTP_RTDASH_FEW_VALUES                        \
                         : NGX_HTTP_RTDASH_SMALL_VALUES)
#define ngx_http_rtdash_mrec_users_room(m)                                   \
    ((m)->few_users_ref ? NGX_HTTP_RTDASH_FEW_USERS                          \
                        : NGX_HTTP_RTDASH_SMALL_USERS)


/*
 * A zone minute's few values (users) without a histogram (sketch): its
 * own or its FEW record's, and how many (never past the room there is)
 */

static ngx_inline double *
ngx_http_rtdash_mrec_values(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_mrec_t *m, ngx_uint_t *n)
{
    double  *few;

    few = ngx_http_rtdash_ref_ptr(ctx, m->few_values_ref);

    *n = ngx_min(m->nvalues, ngx_http_rtdash_mrec_values_room(m));

    return few ? few : m->values;
}


static ngx_inline uint32_t *
ngx_http_rtdash_mrec_keys(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_mrec_t *m, ngx_uint_t *n)
{
    uint32_t  *few;

    few = ngx_http_rtdash_ref_ptr(ctx, m->few_users_ref);

    *n = ngx_min(m->nusers, ngx_http_rtdash_mrec_users_room(m));

    return few ? few : m->keys;
}


/* inside a zone minute: header, count[types], flagged[types], gstat[] */

static ngx_inline uint32_t *
ngx_http_rtdash_mrec_counts(ngx_http_rtdash_mrec_t *m)
{
    return (uint32_t *) (m + 1);
}


static ngx_inline uint32_t *
ngx_http_rtdash_mrec_flagged(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_mrec_t *m)
{
    return (uint32_t *) (m + 1) + ctx->ntypes;
}


static ngx_inline ngx_http_rtdash_gstat_t *
ngx_http_rtdash_mrec_gstats(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_mrec_t *m)
{
    return (ngx_http_rtdash_gstat_t *) ((uint32_t *) (m + 1)
                                        + 2 * ctx->ntypes);
}


/* inside a reader's minute: header, count[types], flagged[types], gstat[] */

static ngx_inline uint32_t *
ngx_http_rtdash_minute_counts(ngx_http_rtdash_minute_t *m)
{
    return (uint32_t *) (m + 1);
}


static ngx_inline uint32_t *
ngx_http_rtdash_minute_flagged(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_minute_t *m)
{
    return (uint32_t *) (m + 1) + ctx->ntypes;
}


static ngx_inline ngx_http_rtdash_gstat_t *
ngx_http_rtdash_minute_gstats(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_minute_t *m)
{
    return (ngx_http_rtdash_gstat_t *) ((uint32_t *) (m + 1)
                                        + 2 * ctx->ntypes);
}


/*
 * What a producer hands to the write step: validated events, the gauges
 * they point into, the notices of the same body (applied with them or
 * not at all), and ngx_http_rtdash_record_scratch_size() bytes of
 * scratch; on NGX_DECLINED, what did not fit.
 */
typedef struct {
    ngx_http_rtdash_event_in_t  *events;
    ngx_uint_t                   nevents;
    ngx_http_rtdash_event_in_t  *notices;
    ngx_uint_t                   nnotices;
    ngx_http_rtdash_gauge_in_t  *gauges;
    ngx_uint_t                   ngauges;
    void                        *scratch;
    double                       now;
    const char                  *error;
    ngx_str_t                    arg;
    ngx_uint_t                   status;     /* of the error; 0: 507 */
} ngx_http_rtdash_record_t;


typedef enum {
    NGX_HTTP_RTDASH_NONE = 0,
    NGX_HTTP_RTDASH_INGEST,
    NGX_HTTP_RTDASH_STATS,
    NGX_HTTP_RTDASH_STREAM,
    NGX_HTTP_RTDASH_DASHBOARD,
    NGX_HTTP_RTDASH_PROMETHEUS
} ngx_http_rtdash_kind_e;


typedef struct ngx_http_rtdash_stream_s  ngx_http_rtdash_stream_t;
typedef struct ngx_http_rtdash_log_s     ngx_http_rtdash_log_t;
typedef struct ngx_http_rtdash_traffic_s ngx_http_rtdash_traffic_t;
typedef struct ngx_http_rtdash_system_s  ngx_http_rtdash_system_t;


/* a worker's memory for the arrays of one ingest request, reused */
typedef struct {
    u_char                     *data;
    size_t                      size;
} ngx_http_rtdash_arena_t;


typedef struct {
    ngx_array_t                 streams;      /* loc confs of rtdash_stream */
    ngx_array_t                 zones;        /* ctx of every rtdash_zone */
    ngx_array_t                 systems;      /* rtdash_system of a zone */
    ngx_array_t                 rules;        /* ngx_http_rtdash_rule_t */
    ngx_array_t                 anomalies;    /* ..._anomaly_conf_t */
    ngx_array_t                 places;       /* ngx_http_rtdash_place_t */
    ngx_http_rtdash_arena_t     arena;
} ngx_http_rtdash_main_conf_t;


typedef struct {
    ngx_shm_zone_t             *zone;
    ngx_uint_t                  kind;
    ngx_uint_t                  max_events;    /* ingest */
    off_t                       max_body;
    ngx_msec_t                  interval;      /* stream */
    ngx_msec_t                  heartbeat;
    ngx_uint_t                  max_clients;
    size_t                      max_message;   /* WebSocket */
    ngx_http_rtdash_stream_t   *stream;        /* per-process state */
    ngx_str_t                   stream_url;    /* dashboard */
    ngx_uint_t                  transport;     /* transports[] index */
    ngx_str_t                   stats_url;
    ngx_uint_t                  warn;
    ngx_uint_t                  crit;
    ngx_array_t                *logs;          /* rtdash_log entries */
    ngx_array_t                *traffic;       /* rtdash_traffic ones */
    ngx_array_t                *origins;       /* rtdash_allow_origin */
    unsigned                    stream_set:1;  /* stream= given */
    unsigned                    stats_set:1;   /* stats= given */
} ngx_http_rtdash_loc_conf_t;


/* a stats, stream or dashboard location, and its server (config.json) */
typedef struct {
    ngx_http_rtdash_loc_conf_t  *lcf;
    ngx_http_core_loc_conf_t    *clcf;
    ngx_http_core_srv_conf_t    *cscf;
} ngx_http_rtdash_place_t;


/* output: a chain of buffers growing in the request's pool */
typedef struct {
    ngx_pool_t                 *pool;
    ngx_chain_t                *first;
    ngx_chain_t               **last;
    ngx_buf_t                  *buf;
    size_t                      size;
    size_t                      chunk;
    ngx_uint_t                  failed;
} ngx_http_rtdash_out_t;


/*
 * What a tool got in the overview's window= (stats): counts and sums of
 * the last "seconds" seconds, the values of the window's minutes merged,
 * and each minute's count of all types.
 */
typedef struct {
    time_t                      from;         /* the first minute */
    ngx_uint_t                  seconds;
    ngx_uint_t                  nminutes;
    uint32_t                   *minutes;
    uint64_t                    counts[NGX_HTTP_RTDASH_TYPES_MAX];
    double                      sums[NGX_HTTP_RTDASH_GAUGES_MAX];
    uint64_t                    vcount;
    double                      vmin;
    double                      vmax;
    double                      vsum;
    double                      p[3];
} ngx_http_rtdash_recent_t;


/* a copy of a tool's summary, taken under the lock */
typedef struct {
    u_char                      name[NGX_HTTP_RTDASH_TOOL_MAX];
    size_t                      name_len;
    double                      updated;
    uint64_t                    seq;
    ngx_http_rtdash_vstat_t     value;
    ngx_uint_t                  ngauges;
    ngx_http_rtdash_gauge_t     gauges[NGX_HTTP_RTDASH_GAUGES_MAX];
    uint64_t                    totals[NGX_HTTP_RTDASH_TYPES_MAX];
    uint64_t                    flagged[NGX_HTTP_RTDASH_TYPES_MAX];
    uint64_t                    rate[NGX_HTTP_RTDASH_TYPES_MAX];
    ngx_http_rtdash_recent_t   *recent;       /* window=, else NULL */
} ngx_http_rtdash_summary_t;


/* a rendered stream frame, shared by the subscribers of a group */
typedef struct ngx_http_rtdash_frame_s  ngx_http_rtdash_frame_t;

struct ngx_http_rtdash_frame_s {
    ngx_pool_t                 *pool;
    u_char                     *data;
    size_t                      len;
    ngx_uint_t                  refs;
    ngx_http_rtdash_frame_t    *next;         /* a subscriber's replies */
};


typedef enum {
    NGX_HTTP_RTDASH_FRAME_UPDATE = 0,   /* what changed since a seq */
    NGX_HTTP_RTDASH_FRAME_SNAPSHOT,     /* the whole window */
    NGX_HTTP_RTDASH_FRAME_RESUME        /* what a reconnect missed */
} ngx_http_rtdash_frame_mode_e;


/* what a group of subscribers asked for */
typedef struct {
    ngx_uint_t                  ntools;       /* 0: every tool */
    ngx_str_t                  *tools;
    uint32_t                   *hashes;
    ngx_uint_t                  events;       /* raw events per frame */
    ngx_uint_t                  limit;        /* tools listed, at most */
} ngx_http_rtdash_filter_t;


/* a stream's limit= by default, and limit=all */
#define NGX_HTTP_RTDASH_STREAM_LIMIT    100
#define NGX_HTTP_RTDASH_LIMIT_ALL       NGX_MAX_UINT32_VALUE


/* how a transport wraps a frame's JSON (SSE: "id:", "event:", "data:") */
typedef struct {
    void                      (*open)(ngx_http_rtdash_out_t *o,
                                      ngx_http_rtdash_frame_mode_e mode,
                                      uint64_t id);
    void                      (*close)(ngx_http_rtdash_out_t *o);
    void                      (*finish)(ngx_http_rtdash_frame_t *frame);
    void                      (*message)(ngx_http_rtdash_out_t *o,
                                         const char *event, uint64_t id,
                                         ngx_http_rtdash_out_t *json);
} ngx_http_rtdash_framing_t;


typedef enum {
    NGX_HTTP_RTDASH_WS_NONE = 0,
    NGX_HTTP_RTDASH_WS_TEXT,
    NGX_HTTP_RTDASH_WS_BINARY,
    NGX_HTTP_RTDASH_WS_PING,
    NGX_HTTP_RTDASH_WS_PONG,
    NGX_HTTP_RTDASH_WS_CLOSE
} ngx_http_rtdash_ws_kind_e;


/* what the WebSocket reader found: a message or a control frame */
typedef struct {
    ngx_http_rtdash_ws_kind_e   kind;
    u_char                     *data;
    size_t                      len;
    ngx_uint_t                  code;         /* close */
} ngx_http_rtdash_ws_event_t;


/* the WebSocket reader's state: the frame and message being read */
typedef struct {
    u_char                      head[14];
    u_char                      nhead;
    u_char                      need;         /* header bytes */
    u_char                      opcode;
    u_char                      msg_opcode;   /* 0: no message under way */
    u_char                      mask[4];
    unsigned                    fin:1;
    unsigned                    control:1;
    uint64_t                    left;         /* payload still to come */
    uint64_t                    mpos;
    u_char                     *msg;          /* malloc'ed while needed */
    size_t                      msg_len;
    size_t                      max;
    size_t                      ctl_len;
    u_char                      ctl[125];
    ngx_uint_t                  close_code;
    const char                 *error;
} ngx_http_rtdash_ws_in_t;


/* a client command */
typedef struct {
    ngx_str_t                   type;
    ngx_array_t                 tools;
    ngx_uint_t                  window;
    ngx_uint_t                  events;
    ngx_uint_t                  limit;
    ngx_uint_t                  members;
    unsigned                    has_tool:1;
    unsigned                    has_window:1;
    unsigned                    has_events:1;
    unsigned                    has_limit:1;
    const char                 *error;
} ngx_http_rtdash_ws_cmd_t;


/* a worker's renderer for one stream location, kept from frame to frame */
typedef struct {
    ngx_http_rtdash_ctx_t      *ctx;
    ngx_log_t                  *log;
    ngx_http_rtdash_summary_t  *summaries;
    ngx_uint_t                  nsummaries;
    size_t                      hint[2];      /* sizes: update, snapshot */
} ngx_http_rtdash_frames_t;


/* zone-wide figures copied under the lock */
typedef struct {
    uint64_t                    seq;
    uint64_t                    accepted;
    uint64_t                    rejected;
    uint64_t                    refused;
    uint64_t                    evicted;
    ngx_uint_t                  ntools;
    ngx_uint_t                  max_tools;
    size_t                      used;
    size_t                      free;
    size_t                      tool_bytes;   /* nodes and their records */
    time_t                      started;
    uint64_t                    notices;      /* ever posted */
    uint64_t                    anomalies;    /* ever found */
    uint64_t                    transitions;  /* of alert states, ever */
    uint64_t                    entered[NGX_HTTP_RTDASH_STATES];
    ngx_uint_t                  firing;       /* (rule, tool)s now */
    ngx_uint_t                  pending;
    ngx_uint_t                  ntypes;
    ngx_http_rtdash_type_t      types[NGX_HTTP_RTDASH_TYPES_MAX];
} ngx_http_rtdash_zinfo_t;


extern ngx_module_t  ngx_http_rtdash_module;
extern ngx_str_t     ngx_http_rtdash_transports[];


/* zone: layout, init, the tool index, copies for readers, statistics */
ngx_int_t ngx_http_rtdash_init_zone(ngx_shm_zone_t *shm_zone, void *data);
void ngx_http_rtdash_layout(ngx_http_rtdash_ctx_t *ctx);
uint64_t ngx_http_rtdash_layout_key(ngx_http_rtdash_ctx_t *ctx);
void ngx_http_rtdash_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
ngx_http_rtdash_node_t *ngx_http_rtdash_lookup_locked(
    ngx_http_rtdash_ctx_t *ctx, uint32_t hash, u_char *name, size_t len);
ngx_http_rtdash_node_t *ngx_http_rtdash_tool_new_locked(
    ngx_http_rtdash_ctx_t *ctx, uint32_t hash, u_char *name, size_t len);
void ngx_http_rtdash_tool_insert_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node);
void ngx_http_rtdash_tool_free_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node);
void ngx_http_rtdash_tool_evict_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, uint32_t hash, u_char *name, size_t len);
void ngx_http_rtdash_lru_touch_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node);
void ngx_http_rtdash_zinfo_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_zinfo_t *zi);
void ngx_http_rtdash_summary_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, time_t now,
    ngx_http_rtdash_summary_t *s);
ngx_int_t ngx_http_rtdash_summaries(ngx_http_request_t *r,
    ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_zinfo_t **zip,
    ngx_http_rtdash_summary_t **sp, ngx_uint_t *np);
/* index: the zone's lock, the registry of tools, crash repair */
void ngx_http_rtdash_lock(ngx_http_rtdash_ctx_t *ctx);
void ngx_http_rtdash_unlock(ngx_http_rtdash_ctx_t *ctx);
ngx_int_t ngx_http_rtdash_index_init_locked(ngx_http_rtdash_ctx_t *ctx);
void ngx_http_rtdash_index_add_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node);
void ngx_http_rtdash_index_remove_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node);
void ngx_http_rtdash_lru_order_locked(ngx_http_rtdash_ctx_t *ctx);

#if (NGX_HTTP_RTDASH_CRASH_TEST)
void ngx_http_rtdash_crash_point(const char *where);
#define ngx_http_rtdash_crash(where)  ngx_http_rtdash_crash_point(where)
#else
#define ngx_http_rtdash_crash(where)
#endif

/* pool: the zone's records */
size_t ngx_http_rtdash_busy_tool_size(ngx_http_rtdash_ctx_t *ctx);
size_t ngx_http_rtdash_node_alloc_size(ngx_http_rtdash_ctx_t *ctx);
void ngx_http_rtdash_pool_init_locked(ngx_http_rtdash_ctx_t *ctx);
void *ngx_http_rtdash_pool_alloc_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_uint_t kind, ngx_http_rtdash_ref_t *ref);
void ngx_http_rtdash_pool_free_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_uint_t kind, ngx_http_rtdash_ref_t *ref);
void ngx_http_rtdash_pool_free_tool_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node);
void ngx_http_rtdash_pool_reset_minute_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_mrec_t *m, uint32_t t);
void ngx_http_rtdash_pool_sweep_locked(ngx_http_rtdash_ctx_t *ctx,
    time_t now);
size_t ngx_http_rtdash_pool_used(ngx_http_rtdash_ctx_t *ctx);
size_t ngx_http_rtdash_pool_idle(ngx_http_rtdash_ctx_t *ctx);
ngx_uint_t ngx_http_rtdash_minute_read_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, time_t t, ngx_http_rtdash_minute_t *dst);
void ngx_http_rtdash_minute_expand(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_mrec_t *m, ngx_http_rtdash_minute_t *dst);
ngx_int_t ngx_http_rtdash_minute_unpack_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_mrec_t *m);
ngx_int_t ngx_http_rtdash_minute_store_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_minute_t *src, ngx_http_rtdash_ref_t *ref);
void ngx_http_rtdash_pool_free_second_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_ref_t *ref);
void ngx_http_rtdash_second_copy(ngx_http_rtdash_ctx_t *ctx, uint32_t *sec,
    uint32_t *dst);
ngx_uint_t ngx_http_rtdash_second_read_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, time_t t, uint32_t *dst);
ngx_int_t ngx_http_rtdash_second_store_locked(ngx_http_rtdash_ctx_t *ctx,
    uint32_t *src, ngx_http_rtdash_ref_t *ref);

/* image: a tool with its records, flat (dumps, resized zones) */
size_t ngx_http_rtdash_image_max(ngx_http_rtdash_ctx_t *ctx);
size_t ngx_http_rtdash_image_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, u_char *buf);
size_t ngx_http_rtdash_image_size(ngx_http_rtdash_ctx_t *ctx,
    u_char *image);
ngx_int_t ngx_http_rtdash_image_adopt_locked(ngx_http_rtdash_ctx_t *ctx,
    u_char *image);

/* upgrade: layout 2 nodes (dump versions 1 and 2) */
size_t ngx_http_rtdash_v4_image_size(ngx_http_rtdash_ctx_t *ctx,
    u_char *image);
void ngx_http_rtdash_v4_upgrade(ngx_http_rtdash_ctx_t *ctx, u_char *old,
    u_char *image);
size_t ngx_http_rtdash_v2_node_size(ngx_http_rtdash_ctx_t *ctx);
void ngx_http_rtdash_v2_upgrade(ngx_http_rtdash_ctx_t *ctx, u_char *old,
    u_char *image);

/* p50, p95, p99: the percentiles every reader gives */
extern const double ngx_http_rtdash_quantiles[3];

void ngx_http_rtdash_zone_key(ngx_http_rtdash_ctx_t *ctx, ngx_log_t *log);
double ngx_http_rtdash_now(void);

/* record: the zone write step of every producer */
size_t ngx_http_rtdash_record_scratch_size(ngx_uint_t nevents,
    ngx_uint_t ngauges);
ngx_int_t ngx_http_rtdash_record(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_record_t *rec, ngx_log_t *log);

/* dump and restore */
void ngx_http_rtdash_migrate(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_ctx_t *octx, ngx_log_t *log);
ngx_int_t ngx_http_rtdash_dump_write(ngx_http_rtdash_ctx_t *ctx,
    ngx_log_t *log);
void ngx_http_rtdash_dump_restore(ngx_http_rtdash_ctx_t *ctx,
    ngx_log_t *log);
ngx_int_t ngx_http_rtdash_dump_init_process(ngx_cycle_t *cycle,
    ngx_http_rtdash_ctx_t *ctx);
ngx_shm_zone_t *ngx_http_rtdash_old_zone(ngx_cycle_t *old, ngx_str_t *name);

/* producers: ingest, rtdash_log */
ngx_int_t ngx_http_rtdash_ingest_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_rtdash_ingest_init(ngx_conf_t *cf);
ngx_int_t ngx_http_rtdash_log_init(ngx_conf_t *cf);
ngx_uint_t ngx_http_rtdash_log_true(ngx_str_t *v);
ngx_int_t ngx_http_rtdash_traffic_init(ngx_conf_t *cf);
char *ngx_http_rtdash_traffic_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_rtdash_log_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* watch.c: the zone's watch area */
const char *ngx_http_rtdash_level_name(ngx_uint_t level);
const char *ngx_http_rtdash_state_name(ngx_uint_t state);
ngx_int_t ngx_http_rtdash_level_parse(u_char *p, size_t len);
ngx_int_t ngx_http_rtdash_watch_param(ngx_conf_t *cf,
    ngx_http_rtdash_ctx_t *ctx, ngx_str_t *v);
ngx_int_t ngx_http_rtdash_watch_defaults(ngx_conf_t *cf,
    ngx_http_rtdash_ctx_t *ctx);
size_t ngx_http_rtdash_watch_size(ngx_http_rtdash_ctx_t *ctx);
ngx_int_t ngx_http_rtdash_watch_init(ngx_http_rtdash_ctx_t *ctx);
ngx_http_rtdash_witem_t *ngx_http_rtdash_watch_push_locked(
    ngx_http_rtdash_ctx_t *ctx, ngx_uint_t kind, double t);
void ngx_http_rtdash_watch_text(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_witem_t *it, u_char *text, size_t len);
void ngx_http_rtdash_watch_tool(ngx_http_rtdash_witem_t *it, u_char *tool,
    size_t len);
void ngx_http_rtdash_watch_notice_locked(ngx_http_rtdash_ctx_t *ctx,
    u_char *text, size_t len, ngx_uint_t level, u_char *tool,
    size_t tool_len, double t);
ngx_int_t ngx_http_rtdash_watch_copy(ngx_http_rtdash_ctx_t *ctx,
    ngx_uint_t kind, uint64_t since, ngx_uint_t max, ngx_pool_t *pool,
    ngx_http_rtdash_witems_t *out);
ngx_uint_t ngx_http_rtdash_watch_lost(ngx_http_rtdash_ctx_t *ctx,
    uint64_t since);
ngx_http_rtdash_astate_t *ngx_http_rtdash_state_find_locked(
    ngx_http_rtdash_ctx_t *ctx, uint32_t rule, ngx_http_rtdash_node_t *node);
ngx_http_rtdash_astate_t *ngx_http_rtdash_state_add_locked(
    ngx_http_rtdash_ctx_t *ctx, uint32_t rule, ngx_http_rtdash_node_t *node);
void ngx_http_rtdash_state_remove_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_astate_t *st);
ngx_int_t ngx_http_rtdash_watch_lease(ngx_http_rtdash_ctx_t *ctx,
    double now);
void ngx_http_rtdash_watch_release(ngx_http_rtdash_ctx_t *ctx);
size_t ngx_http_rtdash_watch_image_locked(ngx_http_rtdash_ctx_t *ctx,
    u_char *buf);
ngx_int_t ngx_http_rtdash_watch_adopt_locked(ngx_http_rtdash_ctx_t *ctx,
    u_char *buf, size_t len);
size_t ngx_http_rtdash_watch_image_max(ngx_http_rtdash_ctx_t *ctx);

/* frame.c: a tool of the filter (no tools: every tool) */
ngx_uint_t ngx_http_rtdash_filter_has(ngx_http_rtdash_filter_t *f,
    u_char *name, size_t len);

/* eval.c: the alert rules' evaluation */
ngx_int_t ngx_http_rtdash_eval_init(ngx_conf_t *cf);
ngx_int_t ngx_http_rtdash_eval_init_process(ngx_cycle_t *cycle,
    ngx_http_rtdash_ctx_t *ctx);
ngx_int_t ngx_http_rtdash_alerts_copy(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_filter_t *f, ngx_pool_t *pool, ngx_uint_t all,
    ngx_http_rtdash_acopy_t **out, ngx_uint_t *nout);
ngx_int_t ngx_http_rtdash_alerts_json(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_filter_t *f,
    ngx_pool_t *pool, ngx_uint_t all);

/* anomaly.c: rtdash_anomaly's scores */
uint32_t ngx_http_rtdash_anomaly_key(ngx_uint_t type, ngx_uint_t p95);
void ngx_http_rtdash_anomaly_tool_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, ngx_http_rtdash_minute_t *one,
    time_t *scored, double now);
double ngx_http_rtdash_anomaly_value_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_node_t *node, ngx_int_t type, ngx_uint_t p95,
    double now);

/* watch_json.c: the watch area as JSON and stream messages */
const char *ngx_http_rtdash_metric_name(ngx_uint_t metric);
const char *ngx_http_rtdash_op_name(ngx_uint_t op);
const char *ngx_http_rtdash_witem_event(ngx_http_rtdash_witem_t *it);
void ngx_http_rtdash_witem_json(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_witem_t *it);
void ngx_http_rtdash_witems_json(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_witems_t *w, ngx_http_rtdash_filter_t *f);
ngx_int_t ngx_http_rtdash_watch_messages(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_filter_t *f, const ngx_http_rtdash_framing_t *framing,
    uint64_t since, uint64_t upto, ngx_pool_t *pool,
    ngx_http_rtdash_out_t *o, ngx_uint_t *n);
ngx_int_t ngx_http_rtdash_watch_stats(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_ctx_t *ctx, ngx_str_t *tool, ngx_pool_t *pool);
void ngx_http_rtdash_watch_migrate_locked(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_ctx_t *octx, ngx_log_t *log);

/* producers: rtdash_system */
char *ngx_http_rtdash_system(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_rtdash_system_init(ngx_conf_t *cf);
ngx_int_t ngx_http_rtdash_system_init_process(ngx_cycle_t *cycle,
    ngx_http_rtdash_system_t *sys);
void ngx_http_rtdash_system_json(ngx_http_rtdash_out_t *o,
    ngx_http_request_t *r, ngx_shm_zone_t *zone);

/* watchers: rtdash_alert, rtdash_anomaly */
char *ngx_http_rtdash_alert(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_rtdash_anomaly(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_rtdash_alert_init(ngx_conf_t *cf);

/* readers: stats, prometheus, dashboard */
ngx_int_t ngx_http_rtdash_stats_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_rtdash_prometheus_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_rtdash_dashboard_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_rtdash_dashboard_init(ngx_conf_t *cf);

/* origins: cross-site refusal, CORS */
char *ngx_http_rtdash_allow_origin(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_rtdash_origin_check(ngx_http_request_t *r,
    const char **why);
ngx_int_t ngx_http_rtdash_cors(ngx_http_request_t *r);

/* HTTP helpers and the worker's arena */
ngx_int_t ngx_http_rtdash_check_get(ngx_http_request_t *r);
ngx_int_t ngx_http_rtdash_arg(ngx_http_request_t *r, const char *name,
    ngx_array_t *values);
ngx_int_t ngx_http_rtdash_arg_uint(ngx_http_request_t *r, const char *name,
    ngx_uint_t def, ngx_uint_t max, ngx_uint_t *out);
void *ngx_http_rtdash_arena(ngx_http_request_t *r, size_t size);
ngx_int_t ngx_http_rtdash_add_header(ngx_http_request_t *r,
    const char *key, const char *value, ngx_table_elt_t **out);
ngx_table_elt_t *ngx_http_rtdash_header_in(ngx_http_request_t *r,
    const char *name);
ngx_int_t ngx_http_rtdash_send_out(ngx_http_request_t *r, ngx_uint_t status,
    ngx_http_rtdash_out_t *o, const char *type);
ngx_int_t ngx_http_rtdash_send_json(ngx_http_request_t *r,
    ngx_uint_t status, ngx_http_rtdash_out_t *o);
ngx_int_t ngx_http_rtdash_send_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *msg, ngx_str_t *arg, ssize_t line,
    ssize_t offset);

/* JSON writer */
void ngx_http_rtdash_out_init(ngx_http_rtdash_out_t *o, ngx_pool_t *pool,
    size_t chunk);
u_char *ngx_http_rtdash_out_reserve(ngx_http_rtdash_out_t *o, size_t n);
void ngx_http_rtdash_out_raw(ngx_http_rtdash_out_t *o, const u_char *s,
    size_t len);
void ngx_http_rtdash_out_str(ngx_http_rtdash_out_t *o, const u_char *s,
    size_t len);
void ngx_http_rtdash_out_append(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_out_t *src);
u_char *ngx_http_rtdash_out_copy(ngx_http_rtdash_out_t *o, u_char *dst);
void ngx_http_rtdash_out_num(ngx_http_rtdash_out_t *o, double v);
void ngx_http_rtdash_out_num_g(ngx_http_rtdash_out_t *o, double v,
    int digits);
void ngx_http_rtdash_out_uint(ngx_http_rtdash_out_t *o, uint64_t v);
u_char *ngx_http_rtdash_fmt_uint(u_char *p, uint64_t v);
#define NGX_HTTP_RTDASH_NUM_LEN  32
u_char *ngx_http_rtdash_fmt_num_g(u_char *p, double v, int digits);
#define ngx_http_rtdash_out_lit(o, s)                                        \
    ngx_http_rtdash_out_raw(o, (const u_char *) s, sizeof(s) - 1)

/* JSON of the zone, shared by stats and the stream */
void ngx_http_rtdash_json_zone(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_zinfo_t *zi);
void ngx_http_rtdash_json_types(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_zinfo_t *zi);
void ngx_http_rtdash_json_overview(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_zinfo_t *zi,
    ngx_http_rtdash_summary_t **s, ngx_uint_t n, ngx_int_t matched,
    ngx_http_rtdash_out_t *extra);
void ngx_http_rtdash_json_tool(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_zinfo_t *zi, ngx_http_rtdash_summary_t *s);
void ngx_http_rtdash_json_vwide(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_vwide_t *w);
void ngx_http_rtdash_json_span(ngx_http_rtdash_out_t *o, time_t from,
    time_t to, ngx_http_rtdash_hwide_t *users,
    ngx_http_rtdash_vwide_t *values);
void ngx_http_rtdash_json_vstat(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_vstat_t *vs);
void ngx_http_rtdash_json_counts(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_zinfo_t *zi, uint32_t *c);
void ngx_http_rtdash_json_minute(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_zinfo_t *zi,
    ngx_http_rtdash_gauge_t *names, ngx_uint_t ngauges,
    ngx_http_rtdash_minute_t *m, time_t t);
void ngx_http_rtdash_json_second(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_ctx_t *ctx, ngx_http_rtdash_zinfo_t *zi,
    ngx_http_rtdash_gauge_t *names, ngx_uint_t n, uint32_t *sec, time_t t);
void ngx_http_rtdash_json_event(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_zinfo_t *zi, ngx_http_rtdash_event_t *ev,
    u_char *tool, size_t tool_len);

/* forecasts */
void ngx_http_rtdash_forecast_json(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_zinfo_t *zi, double *x, ngx_uint_t ntypes, ngx_uint_t n,
    time_t from, ngx_uint_t steps);

/* stream frames */
ngx_http_rtdash_frame_t *ngx_http_rtdash_frame_render(
    ngx_http_rtdash_frames_t *fr, ngx_http_rtdash_filter_t *filter,
    const ngx_http_rtdash_framing_t *framing,
    ngx_http_rtdash_frame_mode_e mode, uint64_t since, ngx_uint_t window,
    ngx_uint_t *active);
ngx_http_rtdash_frame_t *ngx_http_rtdash_frame_text(ngx_log_t *log,
    const char *text, size_t len);
void ngx_http_rtdash_frame_release(ngx_http_rtdash_frame_t *frame);

/* WebSocket protocol */
extern const ngx_http_rtdash_framing_t  ngx_http_rtdash_ws_framing;
ngx_int_t ngx_http_rtdash_ws_handshake(ngx_http_request_t *r,
    ngx_int_t *rc);
ngx_http_rtdash_frame_t *ngx_http_rtdash_ws_frame(ngx_log_t *log,
    const char *event, uint64_t id, u_char *data, size_t len,
    ngx_uint_t opcode, u_char *payload, size_t plen);
ngx_http_rtdash_frame_t *ngx_http_rtdash_ws_close_frame(ngx_log_t *log,
    ngx_uint_t code);
ngx_int_t ngx_http_rtdash_ws_read(ngx_http_rtdash_ws_in_t *in, u_char **pos,
    u_char *end, ngx_http_rtdash_ws_event_t *ev);
void ngx_http_rtdash_ws_done(ngx_http_rtdash_ws_in_t *in);
void ngx_http_rtdash_ws_free(ngx_http_rtdash_ws_in_t *in);
ngx_int_t ngx_http_rtdash_ws_command(ngx_pool_t *pool, u_char *p,
    size_t len, ngx_http_rtdash_ws_cmd_t *cmd);

/* stream: subscribers, groups, the tick, the SSE transport */
ngx_int_t ngx_http_rtdash_stream_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_rtdash_stream_init_process(ngx_cycle_t *cycle,
    ngx_http_rtdash_loc_conf_t *lcf);


#endif /* _NGX_HTTP_RTDASH_MODULE_H_INCLUDED_ */
