
/*
 * rtdash: what watches the data, shared by its files.  The zone keeps,
 * beside the tools, a watch area: three rings of items (notices, alert
 * transitions, anomalies), the table of (rule, tool) alert states that
 * are not inactive, and the evaluator's lease.
 */


#ifndef _NGX_HTTP_RTDASH_WATCH_H_INCLUDED_
#define _NGX_HTTP_RTDASH_WATCH_H_INCLUDED_


/* the rings */
#define NGX_HTTP_RTDASH_WATCH_NOTICE    0
#define NGX_HTTP_RTDASH_WATCH_ALERT     1
#define NGX_HTTP_RTDASH_WATCH_ANOMALY   2
#define NGX_HTTP_RTDASH_WATCH_RINGS     3

#define NGX_HTTP_RTDASH_RULE_MAX        32      /* bytes of a rule's name */
#define NGX_HTTP_RTDASH_RULES_MAX       64      /* rules of a zone */

/* levels of notices, severities of rules */
#define NGX_HTTP_RTDASH_INFO            0
#define NGX_HTTP_RTDASH_WARN            1
#define NGX_HTTP_RTDASH_CRIT            2

/* states of a (rule, tool) */
#define NGX_HTTP_RTDASH_INACTIVE        0
#define NGX_HTTP_RTDASH_PENDING         1
#define NGX_HTTP_RTDASH_FIRING          2
#define NGX_HTTP_RTDASH_RESOLVED        3
#define NGX_HTTP_RTDASH_STATES          4

/* a resolved state is forgotten this long after it resolved */
#define NGX_HTTP_RTDASH_RESOLVED_KEEP   300

/* state table keys of anomalies have it, rule ids never */
#define NGX_HTTP_RTDASH_ANOMALY_KEY     0x80000000

/* the evaluator's lease, seconds */
#define NGX_HTTP_RTDASH_LEASE           3


/* the metrics of a rule */
typedef enum {
    NGX_HTTP_RTDASH_M_RATE = 0,         /* events a minute */
    NGX_HTTP_RTDASH_M_COUNT,
    NGX_HTTP_RTDASH_M_FLAGGED,          /* flagged share of the type */
    NGX_HTTP_RTDASH_M_SHARE,            /* the type's share of events */
    NGX_HTTP_RTDASH_M_USERS,
    NGX_HTTP_RTDASH_M_AVG,
    NGX_HTTP_RTDASH_M_P50,
    NGX_HTTP_RTDASH_M_P95,
    NGX_HTTP_RTDASH_M_P99,
    NGX_HTTP_RTDASH_M_MAX,
    NGX_HTTP_RTDASH_M_GAUGE,
    NGX_HTTP_RTDASH_M_RATIO,            /* gauge / gauge */
    NGX_HTTP_RTDASH_M_ABSENT,           /* no event in the window */
    NGX_HTTP_RTDASH_M_ANOMALY_RATE,     /* z-score of the last minute */
    NGX_HTTP_RTDASH_M_ANOMALY_P95,
    NGX_HTTP_RTDASH_M_METRICS
} ngx_http_rtdash_metric_e;


typedef enum {
    NGX_HTTP_RTDASH_GT = 0,
    NGX_HTTP_RTDASH_GE,
    NGX_HTTP_RTDASH_LT,
    NGX_HTTP_RTDASH_LE,
    NGX_HTTP_RTDASH_EQ,
    NGX_HTTP_RTDASH_NE,
    NGX_HTTP_RTDASH_OPS
} ngx_http_rtdash_op_e;


/*
 * An item of a ring: a notice, an alert's transition or an anomaly.  The
 * text (a notice, or the rule's name) follows, as long as its ring's
 * items allow.
 */
typedef struct {
    uint64_t                    seq;
    double                      t;
    double                      value;        /* NaN: no value */
    double                      threshold;    /* anomaly: the mean */
    double                      since;        /* anomaly: the deviation */
    double                      z;            /* anomaly */
    uint32_t                    minute;       /* anomaly */
    uint32_t                    window;       /* alert */
    uint32_t                    hold;         /* alert: for= */
    u_char                      kind;
    u_char                      level;        /* or severity */
    u_char                      state;
    u_char                      from;
    u_char                      type;         /* or NO_TYPE */
    u_char                      metric;
    u_char                      op;
    u_char                      type_len;
    u_short                     tool_len;     /* 0: zone-wide */
    u_short                     text_len;
    u_char                      type_name[NGX_HTTP_RTDASH_TOKEN_MAX];
    u_char                      tool[NGX_HTTP_RTDASH_TOOL_MAX];
    u_char                      text[8];      /* at least */
} ngx_http_rtdash_witem_t;


typedef struct {
    ngx_http_rtdash_witem_t    *items;
    uint32_t                    size;         /* items */
    uint32_t                    item_size;
    uint64_t                    written;
    uint64_t                    lost_seq;     /* newest overwritten */
} ngx_http_rtdash_wring_t;


/* a (rule, tool) that is not inactive */
typedef struct {
    uint32_t                    rule;         /* id of the rule, 0: free */
    uint32_t                    slot;         /* the tool's */
    uint64_t                    born;         /* the tool's, to know it */
    double                      since;
    double                      value;
    u_char                      state;
    u_char                      pad[7];
} ngx_http_rtdash_astate_t;


struct ngx_http_rtdash_watch_s {
    ngx_http_rtdash_wring_t     rings[NGX_HTTP_RTDASH_WATCH_RINGS];
    ngx_http_rtdash_astate_t   *states;
    uint32_t                    nstates;      /* slots, a power of 2 */
    uint32_t                    used;
    uint64_t                    dropped;      /* states the table refused */
    uint64_t                    entered[NGX_HTTP_RTDASH_STATES];
    uint64_t                    notices;
    uint64_t                    anomalies;
    volatile uint64_t           last_seq;     /* of the newest item */
    volatile ngx_pid_t          eval_pid;     /* the lease */
    double                      eval_until;
    double                      eval_last;
    uint64_t                    evaluations;
    uint32_t                    scored;       /* anomalies: last minute */
    uint32_t                    firing;       /* states now firing */
    uint32_t                    pending;      /* states now pending */
    uint32_t                    pad;
};


/* the sizes of a zone's watch area, from rtdash_zone's parameters */
typedef struct {
    ngx_uint_t                  notices;
    ngx_uint_t                  transitions;
    ngx_uint_t                  anomalies;
    ngx_uint_t                  states;
} ngx_http_rtdash_wsizes_t;


/* an alert rule of nginx.conf (rtdash_alert) */
typedef struct {
    ngx_shm_zone_t             *zone;
    ngx_str_t                   name;
    uint32_t                    id;           /* from the name, never 0 */
    ngx_str_t                   tool;         /* a prefix's without "*" */
    ngx_uint_t                  prefix;       /* tool=X* or tool=* */
    ngx_str_t                   type;         /* empty: every type */
    ngx_http_rtdash_metric_e    metric;
    ngx_str_t                   gauge;        /* gauge:, ratio: */
    ngx_str_t                   gauge2;       /* ratio's divisor */
    ngx_http_rtdash_op_e        op;
    double                      threshold;
    ngx_uint_t                  window;       /* seconds */
    ngx_uint_t                  hold;         /* for=, seconds */
    ngx_uint_t                  severity;     /* NGX_HTTP_RTDASH_INFO ... */
    u_char                     *file;         /* where it was given */
    ngx_uint_t                  line;
} ngx_http_rtdash_rule_t;


/* rtdash_anomaly of a zone */
typedef struct {
    ngx_shm_zone_t             *zone;
    double                      z;            /* z=, default 3 */
    ngx_uint_t                  after;        /* after=, minutes, def. 30 */
    double                      alpha;        /* alpha=, default 0.1 */
    u_char                     *file;
    ngx_uint_t                  line;
} ngx_http_rtdash_anomaly_conf_t;


/* an alert state copied for a reader */
typedef struct {
    ngx_http_rtdash_rule_t     *rule;
    ngx_uint_t                  state;
    double                      since;
    double                      value;
    u_char                      tool[NGX_HTTP_RTDASH_TOOL_MAX];
    size_t                      tool_len;
} ngx_http_rtdash_acopy_t;


/* a copy of a ring's items for a reader */
typedef struct {
    ngx_http_rtdash_witem_t    *items;
    ngx_uint_t                  n;
    size_t                      item_size;
} ngx_http_rtdash_witems_t;


#endif /* _NGX_HTTP_RTDASH_WATCH_H_INCLUDED_ */
