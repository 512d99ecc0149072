
/*
 * rtdash: rtdash_alert and rtdash_anomaly, parsed and checked.
 *
 * A rule is parsed whole when its directive is read and lands as one
 * ngx_http_rtdash_rule_t in the main conf's rules, in config order.  The
 * zone it names may be defined further down, so what needs the zone (that
 * it is an rtdash_zone, its retention, its rtdash_anomaly) is checked at
 * postconfiguration, and those messages name the rule's own file and
 * line, not the end of the http block.  What a rule computes at run time
 * is the evaluator's.
 */


#include <math.h>
#include <stdlib.h>

#include "ngx_http_rtdash_module.h"


#define NGX_HTTP_RTDASH_NUMBER_LEN      64      /* bytes of a number */
#define NGX_HTTP_RTDASH_HOLD_MAX        86400   /* for=1d */
#define NGX_HTTP_RTDASH_Z_MAX           100
#define NGX_HTTP_RTDASH_AFTER_MIN       5       /* after=5m */


/* the parameters of rtdash_alert, by index into their keys */
typedef enum {
    NGX_HTTP_RTDASH_P_TOOL = 0,
    NGX_HTTP_RTDASH_P_TYPE,
    NGX_HTTP_RTDASH_P_WINDOW,
    NGX_HTTP_RTDASH_P_FOR,
    NGX_HTTP_RTDASH_P_SEVERITY,
    NGX_HTTP_RTDASH_P_PARAMS
} ngx_http_rtdash_alert_param_e;


/* the parameters of rtdash_anomaly */
typedef enum {
    NGX_HTTP_RTDASH_A_Z = 0,
    NGX_HTTP_RTDASH_A_AFTER,
    NGX_HTTP_RTDASH_A_ALPHA,
    NGX_HTTP_RTDASH_A_PARAMS
} ngx_http_rtdash_anomaly_param_e;


/* what a metric makes of type= */
typedef enum {
    NGX_HTTP_RTDASH_TYPE_ANY = 0,       /* a type's events, or all events */
    NGX_HTTP_RTDASH_TYPE_NEEDED,        /* a share of a type */
    NGX_HTTP_RTDASH_TYPE_NONE           /* kept per tool, not per type */
} ngx_http_rtdash_type_use_e;


/* what a metric makes of window= */
typedef enum {
    NGX_HTTP_RTDASH_WINDOW_SECONDS = 0, /* any up to 5m, then minutes */
    NGX_HTTP_RTDASH_WINDOW_MINUTES,     /* kept per minute */
    NGX_HTTP_RTDASH_WINDOW_IGNORED      /* a last value, a score */
} ngx_http_rtdash_window_use_e;


typedef struct {
    ngx_str_t                      name;       /* ending in ':': a prefix */
    ngx_http_rtdash_type_use_e     type;
    ngx_http_rtdash_window_use_e   window;
} ngx_http_rtdash_metric_t;


/* the arguments of a rule after its name, sorted out */
typedef struct {
    ngx_str_t                     *param[NGX_HTTP_RTDASH_P_PARAMS];
    ngx_str_t                     *cond[4];    /* the first four words */
    ngx_uint_t                     ncond;      /* all of them */
} ngx_http_rtdash_alert_args_t;


static ngx_int_t ngx_http_rtdash_alert_name(ngx_str_t *name);
static ngx_int_t ngx_http_rtdash_alert_args(ngx_conf_t *cf,
    ngx_http_rtdash_rule_t *rule, ngx_http_rtdash_alert_args_t *args);
static ngx_int_t ngx_http_rtdash_alert_condition(ngx_conf_t *cf,
    ngx_http_rtdash_rule_t *rule, ngx_http_rtdash_alert_args_t *args);
static ngx_int_t ngx_http_rtdash_alert_metric(ngx_conf_t *cf,
    ngx_http_rtdash_rule_t *rule, ngx_str_t *v);
static ngx_int_t ngx_http_rtdash_alert_gauges(ngx_conf_t *cf,
    ngx_http_rtdash_rule_t *rule, ngx_str_t *v, ngx_str_t *arg);
static ngx_int_t ngx_http_rtdash_alert_op(ngx_conf_t *cf,
    ngx_http_rtdash_rule_t *rule, ngx_str_t *v);
static ngx_int_t ngx_http_rtdash_alert_params(ngx_conf_t *cf,
    ngx_http_rtdash_rule_t *rule, ngx_http_rtdash_alert_args_t *args);
static ngx_int_t ngx_http_rtdash_alert_tool(ngx_conf_t *cf,
    ngx_http_rtdash_rule_t *rule, ngx_str_t *v);
static ngx_int_t ngx_http_rtdash_alert_check(ngx_conf_t *cf,
    ngx_http_rtdash_rule_t *rule, ngx_http_rtdash_alert_args_t *args);
static ngx_int_t ngx_http_rtdash_alert_unique(ngx_conf_t *cf,
    ngx_http_rtdash_main_conf_t *rmcf, ngx_http_rtdash_rule_t *rule);
static ngx_int_t ngx_http_rtdash_anomaly_param(ngx_conf_t *cf,
    ngx_http_rtdash_anomaly_conf_t *an, ngx_str_t *v, ngx_str_t **seen);
static ngx_int_t ngx_http_rtdash_alert_rule_init(ngx_conf_t *cf,
    ngx_http_rtdash_main_conf_t *rmcf, ngx_http_rtdash_rule_t *rule);
static ngx_int_t ngx_http_rtdash_alert_number(ngx_str_t *v,
    ngx_uint_t percent, double *out);
static void ngx_http_rtdash_alert_value(ngx_str_t *v, ngx_str_t *key,
    ngx_str_t *s);


static ngx_str_t  ngx_http_rtdash_alert_keys[NGX_HTTP_RTDASH_P_PARAMS] = {
    ngx_string("tool="),
    ngx_string("type="),
    ngx_string("window="),
    ngx_string("for="),
    ngx_string("severity=")
};


static ngx_str_t  ngx_http_rtdash_anomaly_keys[NGX_HTTP_RTDASH_A_PARAMS] = {
    ngx_string("z="),
    ngx_string("after="),
    ngx_string("alpha=")
};


/* one for each ngx_http_rtdash_metric_e, in its order */
static ngx_http_rtdash_metric_t  ngx_http_rtdash_metrics[] = {
    { ngx_string("rate"), NGX_HTTP_RTDASH_TYPE_ANY,
      NGX_HTTP_RTDASH_WINDOW_SECONDS },
    { ngx_string("count"), NGX_HTTP_RTDASH_TYPE_ANY,
      NGX_HTTP_RTDASH_WINDOW_SECONDS },
    { ngx_string("flagged"), NGX_HTTP_RTDASH_TYPE_NEEDED,
      NGX_HTTP_RTDASH_WINDOW_SECONDS },
    { ngx_string("share"), NGX_HTTP_RTDASH_TYPE_NEEDED,
      NGX_HTTP_RTDASH_WINDOW_SECONDS },
    { ngx_string("users"), NGX_HTTP_RTDASH_TYPE_NONE,
      NGX_HTTP_RTDASH_WINDOW_MINUTES },
    { ngx_string("avg"), NGX_HTTP_RTDASH_TYPE_NONE,
      NGX_HTTP_RTDASH_WINDOW_MINUTES },
    { ngx_string("p50"), NGX_HTTP_RTDASH_TYPE_NONE,
      NGX_HTTP_RTDASH_WINDOW_MINUTES },
    { ngx_string("p95"), NGX_HTTP_RTDASH_TYPE_NONE,
      NGX_HTTP_RTDASH_WINDOW_MINUTES },
    { ngx_string("p99"), NGX_HTTP_RTDASH_TYPE_NONE,
      NGX_HTTP_RTDASH_WINDOW_MINUTES },
    { ngx_string("max"), NGX_HTTP_RTDASH_TYPE_NONE,
      NGX_HTTP_RTDASH_WINDOW_MINUTES },
    { ngx_string("gauge:"), NGX_HTTP_RTDASH_TYPE_NONE,
      NGX_HTTP_RTDASH_WINDOW_IGNORED },
    { ngx_string("ratio:"), NGX_HTTP_RTDASH_TYPE_NONE,
      NGX_HTTP_RTDASH_WINDOW_IGNORED },
    { ngx_string("absent"), NGX_HTTP_RTDASH_TYPE_ANY,
      NGX_HTTP_RTDASH_WINDOW_SECONDS },
    { ngx_string("anomaly:rate"), NGX_HTTP_RTDASH_TYPE_ANY,
      NGX_HTTP_RTDASH_WINDOW_IGNORED },
    { ngx_string("anomaly:p95"), NGX_HTTP_RTDASH_TYPE_NONE,
      NGX_HTTP_RTDASH_WINDOW_IGNORED }
};


/* by ngx_http_rtdash_op_e */
static ngx_str_t  ngx_http_rtdash_ops[NGX_HTTP_RTDASH_OPS] = {
    ngx_string(">"),
    ngx_string(">="),
    ngx_string("<"),
    ngx_string("<="),
    ngx_string("=="),
    ngx_string("!=")
};


/*
 * rtdash_alert zone name condition [tool=] [type=] [window=] [for=]
 *     [severity=];
 */

char *
ngx_http_rtdash_alert(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_rtdash_main_conf_t *rmcf = conf;

    ngx_str_t                     *value;
    ngx_http_rtdash_rule_t        *rule, r;
    ngx_http_rtdash_alert_args_t   args;

    value = cf->args->elts;

    ngx_memzero(&r, sizeof(ngx_http_rtdash_rule_t));

    r.name = value[2];

    if (ngx_http_rtdash_alert_name(&r.name) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid name \"%V\" of rtdash_alert, expected "
                           "1 to %d bytes of [A-Za-z0-9_.:-]",
                           &value[2], NGX_HTTP_RTDASH_RULE_MAX - 1);
        return NGX_CONF_ERROR;
    }

    r.zone = ngx_shared_memory_add(cf, &value[1], 0,
                                   &ngx_http_rtdash_module);
    if (r.zone == NULL) {
        return NGX_CONF_ERROR;
    }

    /* the high bit is the anomalies' (ngx_http_rtdash_anomaly_key()) */
    r.id = ngx_crc32_short(r.name.data, r.name.len) & 0x7fffffff;

    if (r.id == 0) {
        r.id = 1;
    }

    r.file = cf->conf_file->file.name.data;
    r.line = cf->conf_file->line;

    if (ngx_http_rtdash_alert_args(cf, &r, &args) != NGX_OK
        || ngx_http_rtdash_alert_condition(cf, &r, &args) != NGX_OK
        || ngx_http_rtdash_alert_params(cf, &r, &args) != NGX_OK
        || ngx_http_rtdash_alert_check(cf, &r, &args) != NGX_OK
        || ngx_http_rtdash_alert_unique(cf, rmcf, &r) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_log_debug8(NGX_LOG_DEBUG_HTTP, cf->log, 0,
                   "rtdash_alert \"%V\" zone \"%V\" id:%08xD metric:%d "
                   "op:%d threshold:%.6f window:%ui for:%ui",
                   &r.name, &r.zone->shm.name, r.id, (int) r.metric,
                   (int) r.op, r.threshold, r.window, r.hold);

    ngx_log_debug7(NGX_LOG_DEBUG_HTTP, cf->log, 0,
                   "rtdash_alert \"%V\" tool:\"%V\" prefix:%ui "
                   "type:\"%V\" gauge:\"%V\" gauge2:\"%V\" severity:%ui",
                   &r.name, &r.tool, r.prefix, &r.type, &r.gauge, &r.gauge2,
                   r.severity);

    rule = ngx_array_push(&rmcf->rules);
    if (rule == NULL) {
        return NGX_CONF_ERROR;
    }

    *rule = r;

    return NGX_CONF_OK;
}


/* 1 to 31 bytes of [A-Za-z0-9_.:-] */

static ngx_int_t
ngx_http_rtdash_alert_name(ngx_str_t *name)
{
    u_char      ch;
    ngx_uint_t  i;

    if (name->len == 0 || name->len >= NGX_HTTP_RTDASH_RULE_MAX) {
        return NGX_ERROR;
    }

    for (i = 0; i < name->len; i++) {
        ch = name->data[i];

        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
            || (ch >= '0' && ch <= '9')
            || ch == '_' || ch == '.' || ch == ':' || ch == '-')
        {
            continue;
        }

        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The arguments after the name: those that start with a parameter's key
 * are parameters, each at most once; the others are the condition.
 */

static ngx_int_t
ngx_http_rtdash_alert_args(ngx_conf_t *cf, ngx_http_rtdash_rule_t *rule,
    ngx_http_rtdash_alert_args_t *args)
{
    ngx_str_t   *value, *key;
    ngx_uint_t   i, k;

    ngx_memzero(args, sizeof(ngx_http_rtdash_alert_args_t));

    value = cf->args->elts;

    for (i = 3; i < cf->args->nelts; i++) {

        for (k = 0; k < NGX_HTTP_RTDASH_P_PARAMS; k++) {
            key = &ngx_http_rtdash_alert_keys[k];

            if (value[i].len >= key->len
                && ngx_strncmp(value[i].data, key->data, key->len) == 0)
            {
                break;
            }
        }

        if (k == NGX_HTTP_RTDASH_P_PARAMS) {
            if (args->ncond < 4) {
                args->cond[args->ncond] = &value[i];
            }

            args->ncond++;
            continue;
        }

        if (args->param[k] != NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "rtdash_alert \"%V\": duplicate \"%V\"",
                               &rule->name, &value[i]);
            return NGX_ERROR;
        }

        args->param[k] = &value[i];
    }

    return NGX_OK;
}


/* "absent", or METRIC OP THRESHOLD */

static ngx_int_t
ngx_http_rtdash_alert_condition(ngx_conf_t *cf, ngx_http_rtdash_rule_t *rule,
    ngx_http_rtdash_alert_args_t *args)
{
    ngx_uint_t  need;

    if (args->ncond == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtdash_alert \"%V\": no condition, expected "
                           "\"absent\" or METRIC OP THRESHOLD",
                           &rule->name);
        return NGX_ERROR;
    }

    if (ngx_http_rtdash_alert_metric(cf, rule, args->cond[0]) != NGX_OK) {
        return NGX_ERROR;
    }

    need = (rule->metric == NGX_HTTP_RTDASH_M_ABSENT) ? 1 : 3;

    if (args->ncond > need) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtdash_alert \"%V\": unexpected \"%V\" after "
                           "the condition, expected tool=, type=, window=, "
                           "for= or severity=",
                           &rule->name, args->cond[need]);
        return NGX_ERROR;
    }

    if (need == 1) {
        return NGX_OK;
    }

    if (args->ncond == 1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtdash_alert \"%V\": \"%V\" needs an operator "
                           "and a threshold", &rule->name, args->cond[0]);
        return NGX_ERROR;
    }

    if (ngx_http_rtdash_alert_op(cf, rule, args->cond[1]) != NGX_OK) {
        return NGX_ERROR;
    }

    if (args->ncond == 2) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtdash_alert \"%V\": \"%V %V\" needs a "
                           "threshold", &rule->name, args->cond[0],
                           args->cond[1]);
        return NGX_ERROR;
    }

    if (ngx_http_rtdash_alert_number(args->cond[2], 1, &rule->threshold)
        != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid threshold \"%V\" of rtdash_alert \"%V\", "
                           "expected a finite decimal number, or one ending "
                           "in %%", args->cond[2], &rule->name);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_rtdash_alert_metric(ngx_conf_t *cf, ngx_http_rtdash_rule_t *rule,
    ngx_str_t *v)
{
    ngx_str_t                  arg;
    ngx_uint_t                 m;
    ngx_http_rtdash_metric_t  *mt;

    for (m = 0; m < NGX_HTTP_RTDASH_M_METRICS; m++) {
        mt = &ngx_http_rtdash_metrics[m];

        if (mt->name.data[mt->name.len - 1] == ':'
            ? v->len >= mt->name.len
            : v->len == mt->name.len)
        {
            if (ngx_strncmp(v->data, mt->name.data, mt->name.len) == 0) {
                break;
            }
        }
    }

    if (m == NGX_HTTP_RTDASH_M_METRICS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtdash_alert \"%V\": unknown metric \"%V\", "
                           "expected rate, count, flagged, share, users, "
                           "avg, p50, p95, p99, max, gauge:NAME, ratio:A/B, "
                           "anomaly:rate, anomaly:p95 or absent",
                           &rule->name, v);
        return NGX_ERROR;
    }

    rule->metric = (ngx_http_rtdash_metric_e) m;

    if (m != NGX_HTTP_RTDASH_M_GAUGE && m != NGX_HTTP_RTDASH_M_RATIO) {
        return NGX_OK;
    }

    arg.data = v->data + mt->name.len;
    arg.len = v->len - mt->name.len;

    return ngx_http_rtdash_alert_gauges(cf, rule, v, &arg);
}


/* gauge:NAME, ratio:A/B: names as the ingest takes them */

static ngx_int_t
ngx_http_rtdash_alert_gauges(ngx_conf_t *cf, ngx_http_rtdash_rule_t *rule,
    ngx_str_t *v, ngx_str_t *arg)
{
    u_char  *p;

    if (rule->metric == NGX_HTTP_RTDASH_M_GAUGE) {
        if (!ngx_http_rtdash_valid_token(arg->data, arg->len)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"%V\" of rtdash_alert \"%V\", "
                               "expected gauge:NAME, NAME 1 to %d bytes of "
                               "[a-z0-9_.-]", v, &rule->name,
                               NGX_HTTP_RTDASH_TOKEN_MAX);
            return NGX_ERROR;
        }

        rule->gauge = *arg;

        return NGX_OK;
    }

    p = ngx_strlchr(arg->data, arg->data + arg->len, '/');

    if (p != NULL) {
        rule->gauge.data = arg->data;
        rule->gauge.len = p - arg->data;
        rule->gauge2.data = p + 1;
        rule->gauge2.len = arg->data + arg->len - (p + 1);
    }

    if (p == NULL
        || !ngx_http_rtdash_valid_token(rule->gauge.data, rule->gauge.len)
        || !ngx_http_rtdash_valid_token(rule->gauge2.data, rule->gauge2.len))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"%V\" of rtdash_alert \"%V\", expected "
                           "ratio:A/B, A and B 1 to %d bytes of "
                           "[a-z0-9_.-]", v, &rule->name,
                           NGX_HTTP_RTDASH_TOKEN_MAX);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_rtdash_alert_op(ngx_conf_t *cf, ngx_http_rtdash_rule_t *rule,
    ngx_str_t *v)
{
    ngx_uint_t  op;

    for (op = 0; op < NGX_HTTP_RTDASH_OPS; op++) {
        if (v->len == ngx_http_rtdash_ops[op].len
            && ngx_strncmp(v->data, ngx_http_rtdash_ops[op].data, v->len)
               == 0)
        {
            rule->op = (ngx_http_rtdash_op_e) op;
            return NGX_OK;
        }
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "rtdash_alert \"%V\": unknown operator \"%V\", "
                       "expected >, >=, <, <=, == or !=", &rule->name, v);

    return NGX_ERROR;
}


/* tool=, type=, window=, for=, severity=, and what is not given */

static ngx_int_t
ngx_http_rtdash_alert_params(ngx_conf_t *cf, ngx_http_rtdash_rule_t *rule,
    ngx_http_rtdash_alert_args_t *args)
{
    time_t      t;
    ngx_int_t   level;
    ngx_str_t   s, *v, *keys;

    keys = ngx_http_rtdash_alert_keys;

    rule->prefix = 1;
    rule->window = 60;
    rule->hold = 0;
    rule->severity = NGX_HTTP_RTDASH_WARN;

    v = args->param[NGX_HTTP_RTDASH_P_TOOL];

    if (v != NULL && ngx_http_rtdash_alert_tool(cf, rule, v) != NGX_OK) {
        return NGX_ERROR;
    }

    v = args->param[NGX_HTTP_RTDASH_P_TYPE];

    if (v != NULL) {
        ngx_http_rtdash_alert_value(v, &keys[NGX_HTTP_RTDASH_P_TYPE], &s);

        if (!ngx_http_rtdash_valid_token(s.data, s.len)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"%V\" of rtdash_alert \"%V\", "
                               "expected a type name of 1 to %d bytes of "
                               "[a-z0-9_.-]", v, &rule->name,
                               NGX_HTTP_RTDASH_TOKEN_MAX);
            return NGX_ERROR;
        }

        rule->type = s;
    }

    v = args->param[NGX_HTTP_RTDASH_P_WINDOW];

    if (v != NULL) {
        ngx_http_rtdash_alert_value(v, &keys[NGX_HTTP_RTDASH_P_WINDOW], &s);

        t = ngx_parse_time(&s, 1);

        if (t == (time_t) NGX_ERROR || t < 1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"%V\" of rtdash_alert \"%V\", "
                               "expected a time from 1s to the zone's "
                               "retention", v, &rule->name);
            return NGX_ERROR;
        }

        rule->window = t;
    }

    v = args->param[NGX_HTTP_RTDASH_P_FOR];

    if (v != NULL) {
        ngx_http_rtdash_alert_value(v, &keys[NGX_HTTP_RTDASH_P_FOR], &s);

        t = ngx_parse_time(&s, 1);

        if (t == (time_t) NGX_ERROR || t > NGX_HTTP_RTDASH_HOLD_MAX) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"%V\" of rtdash_alert \"%V\", "
                               "expected a time from 0 to 1d",
                               v, &rule->name);
            return NGX_ERROR;
        }

        rule->hold = t;
    }

    v = args->param[NGX_HTTP_RTDASH_P_SEVERITY];

    if (v != NULL) {
        ngx_http_rtdash_alert_value(v, &keys[NGX_HTTP_RTDASH_P_SEVERITY], &s);

        level = ngx_http_rtdash_level_parse(s.data, s.len);

        if (level == NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"%V\" of rtdash_alert \"%V\", "
                               "expected severity=info, warn or crit",
                               v, &rule->name);
            return NGX_ERROR;
        }

        rule->severity = level;
    }

    return NGX_OK;
}


/* tool=NAME, tool=PREFIX*, tool=* */

static ngx_int_t
ngx_http_rtdash_alert_tool(ngx_conf_t *cf, ngx_http_rtdash_rule_t *rule,
    ngx_str_t *v)
{
    ngx_str_t  s;

    ngx_http_rtdash_alert_value(v,
                                &ngx_http_rtdash_alert_keys[
                                                     NGX_HTTP_RTDASH_P_TOOL],
                                &s);

    rule->prefix = (s.len > 0 && s.data[s.len - 1] == '*');

    if (rule->prefix) {
        s.len--;

        if (s.len == 0) {
            ngx_str_null(&rule->tool);
            return NGX_OK;
        }
    }

    if (!ngx_http_rtdash_valid_text(s.data, s.len, NGX_HTTP_RTDASH_TOOL_MAX)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"%V\" of rtdash_alert \"%V\", expected "
                           "tool=NAME of 1 to %d bytes (UTF-8, no control "
                           "characters), tool=PREFIX* or tool=*",
                           v, &rule->name, NGX_HTTP_RTDASH_TOOL_MAX);
        return NGX_ERROR;
    }

    rule->tool = s;

    return NGX_OK;
}


/* what the metric makes of type= and window= */

static ngx_int_t
ngx_http_rtdash_alert_check(ngx_conf_t *cf, ngx_http_rtdash_rule_t *rule,
    ngx_http_rtdash_alert_args_t *args)
{
    ngx_str_t                 *metric, *window;
    ngx_http_rtdash_metric_t  *mt;

    mt = &ngx_http_rtdash_metrics[rule->metric];
    metric = args->cond[0];
    window = args->param[NGX_HTTP_RTDASH_P_WINDOW];

    if (mt->type == NGX_HTTP_RTDASH_TYPE_NEEDED && rule->type.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtdash_alert \"%V\": \"%V\" needs \"type=\"",
                           &rule->name, metric);
        return NGX_ERROR;
    }

    if (mt->type == NGX_HTTP_RTDASH_TYPE_NONE && rule->type.len != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtdash_alert \"%V\": \"%V\" takes no \"type=\": "
                           "it is kept per tool, not per type",
                           &rule->name, metric);
        return NGX_ERROR;
    }

    /* the default window, 60 s, is whole minutes */

    if (mt->window == NGX_HTTP_RTDASH_WINDOW_IGNORED
        || rule->window % 60 == 0)
    {
        return NGX_OK;
    }

    if (mt->window == NGX_HTTP_RTDASH_WINDOW_MINUTES) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"%V\" of rtdash_alert \"%V\", expected "
                           "whole minutes: \"%V\" is kept per minute",
                           window, &rule->name, metric);
        return NGX_ERROR;
    }

    if (rule->window > NGX_HTTP_RTDASH_SECONDS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"%V\" of rtdash_alert \"%V\", expected "
                           "whole minutes above %ds",
                           window, &rule->name, NGX_HTTP_RTDASH_SECONDS);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a name and an id once per zone, and at most 64 rules a zone */

static ngx_int_t
ngx_http_rtdash_alert_unique(ngx_conf_t *cf,
    ngx_http_rtdash_main_conf_t *rmcf, ngx_http_rtdash_rule_t *rule)
{
    ngx_uint_t               i, n;
    ngx_http_rtdash_rule_t  *rules;

    rules = rmcf->rules.elts;
    n = 0;

    for (i = 0; i < rmcf->rules.nelts; i++) {
        if (rules[i].zone != rule->zone) {
            continue;
        }

        n++;

        if (rules[i].name.len == rule->name.len
            && ngx_strncmp(rules[i].name.data, rule->name.data,
                           rule->name.len)
               == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate rtdash_alert \"%V\" in zone \"%V\"",
                               &rule->name, &rule->zone->shm.name);
            return NGX_ERROR;
        }

        if (rules[i].id == rule->id) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "rtdash_alert \"%V\" has the id %08xD of "
                               "rtdash_alert \"%V\" in zone \"%V\", rename "
                               "one", &rule->name, rule->id,
                               &rules[i].name, &rule->zone->shm.name);
            return NGX_ERROR;
        }
    }

    if (n >= NGX_HTTP_RTDASH_RULES_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "too many rtdash_alert rules in zone \"%V\", "
                           "at most %d", &rule->zone->shm.name,
                           NGX_HTTP_RTDASH_RULES_MAX);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* rtdash_anomaly zone [z=3] [after=30m] [alpha=0.1]; */

char *
ngx_http_rtdash_anomaly(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_rtdash_main_conf_t *rmcf = conf;

    ngx_str_t                       *value, *seen[NGX_HTTP_RTDASH_A_PARAMS];
    ngx_uint_t                       i;
    ngx_http_rtdash_anomaly_conf_t  *an, a;

    value = cf->args->elts;

    ngx_memzero(&a, sizeof(ngx_http_rtdash_anomaly_conf_t));
    ngx_memzero(seen, sizeof(seen));

    a.z = 3;
    a.after = 30;
    a.alpha = 0.1;
    a.file = cf->conf_file->file.name.data;
    a.line = cf->conf_file->line;

    a.zone = ngx_shared_memory_add(cf, &value[1], 0,
                                   &ngx_http_rtdash_module);
    if (a.zone == NULL) {
        return NGX_CONF_ERROR;
    }

    an = rmcf->anomalies.elts;

    for (i = 0; i < rmcf->anomalies.nelts; i++) {
        if (an[i].zone == a.zone) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate rtdash_anomaly \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    for (i = 2; i < cf->args->nelts; i++) {
        if (ngx_http_rtdash_anomaly_param(cf, &a, &value[i], seen)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, cf->log, 0,
                   "rtdash_anomaly \"%V\" z:%.3f after:%uim alpha:%.3f",
                   &a.zone->shm.name, a.z, a.after, a.alpha);

    an = ngx_array_push(&rmcf->anomalies);
    if (an == NULL) {
        return NGX_CONF_ERROR;
    }

    *an = a;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_rtdash_anomaly_param(ngx_conf_t *cf,
    ngx_http_rtdash_anomaly_conf_t *an, ngx_str_t *v, ngx_str_t **seen)
{
    time_t      t;
    double      d;
    ngx_str_t   s, *name, *key;
    ngx_uint_t  k;

    name = &an->zone->shm.name;

    for (k = 0; k < NGX_HTTP_RTDASH_A_PARAMS; k++) {
        key = &ngx_http_rtdash_anomaly_keys[k];

        if (v->len >= key->len
            && ngx_strncmp(v->data, key->data, key->len) == 0)
        {
            break;
        }
    }

    if (k == NGX_HTTP_RTDASH_A_PARAMS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" of rtdash_anomaly "
                           "\"%V\", expected z=, after= or alpha=", v, name);
        return NGX_ERROR;
    }

    if (seen[k] != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtdash_anomaly \"%V\": duplicate \"%V\"",
                           name, v);
        return NGX_ERROR;
    }

    seen[k] = v;

    ngx_http_rtdash_alert_value(v, key, &s);

    switch (k) {

    case NGX_HTTP_RTDASH_A_Z:
        if (ngx_http_rtdash_alert_number(&s, 0, &d) != NGX_OK
            || d < 1 || d > NGX_HTTP_RTDASH_Z_MAX)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"%V\" of rtdash_anomaly \"%V\", "
                               "expected a number from 1 to %d",
                               v, name, NGX_HTTP_RTDASH_Z_MAX);
            return NGX_ERROR;
        }

        an->z = d;
        break;

    case NGX_HTTP_RTDASH_A_AFTER:
        t = ngx_parse_time(&s, 1);

        if (t == (time_t) NGX_ERROR || t % 60 != 0
            || t < NGX_HTTP_RTDASH_AFTER_MIN * 60)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"%V\" of rtdash_anomaly \"%V\", "
                               "expected whole minutes from %dm to the "
                               "zone's retention",
                               v, name, NGX_HTTP_RTDASH_AFTER_MIN);
            return NGX_ERROR;
        }

        an->after = t / 60;
        break;

    default: /* NGX_HTTP_RTDASH_A_ALPHA */
        if (ngx_http_rtdash_alert_number(&s, 0, &d) != NGX_OK
            || d <= 0 || d >= 1)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"%V\" of rtdash_anomaly \"%V\", "
                               "expected a number between 0 and 1, both "
                               "excluded", v, name);
            return NGX_ERROR;
        }

        an->alpha = d;
        break;
    }

    return NGX_OK;
}


/*
 * postconfiguration: every zone named is an rtdash_zone, windows and
 * after= fit its retention, anomaly: rules have their rtdash_anomaly.
 * Every failure is told, each with the file and line it was given in.
 */

ngx_int_t
ngx_http_rtdash_alert_init(ngx_conf_t *cf)
{
    ngx_int_t                        rc;
    ngx_uint_t                       i;
    ngx_http_rtdash_ctx_t           *ctx;
    ngx_http_rtdash_rule_t          *rules;
    ngx_http_rtdash_main_conf_t     *rmcf;
    ngx_http_rtdash_anomaly_conf_t  *an;

    rmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_rtdash_module);
    rc = NGX_OK;

    an = rmcf->anomalies.elts;

    for (i = 0; i < rmcf->anomalies.nelts; i++) {
        ctx = an[i].zone->data;

        if (ctx == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "rtdash_anomaly: unknown zone \"%V\" in %s:%ui",
                          &an[i].zone->shm.name, an[i].file, an[i].line);
            rc = NGX_ERROR;
            continue;
        }

        if ((time_t) an[i].after * 60 > ctx->retention) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "rtdash_anomaly \"%V\": after=%uis is longer than "
                          "retention=%Ts of zone \"%V\" in %s:%ui",
                          &ctx->name, an[i].after * 60, ctx->retention,
                          &ctx->name, an[i].file, an[i].line);
            rc = NGX_ERROR;
        }
    }

    rules = rmcf->rules.elts;

    for (i = 0; i < rmcf->rules.nelts; i++) {
        if (ngx_http_rtdash_alert_rule_init(cf, rmcf, &rules[i]) != NGX_OK) {
            rc = NGX_ERROR;
        }
    }

    return rc;
}


static ngx_int_t
ngx_http_rtdash_alert_rule_init(ngx_conf_t *cf,
    ngx_http_rtdash_main_conf_t *rmcf, ngx_http_rtdash_rule_t *rule)
{
    ngx_uint_t                       i;
    ngx_http_rtdash_ctx_t           *ctx;
    ngx_http_rtdash_anomaly_conf_t  *an;

    ctx = rule->zone->data;

    if (ctx == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "rtdash_alert \"%V\": unknown zone \"%V\" in %s:%ui",
                      &rule->name, &rule->zone->shm.name, rule->file,
                      rule->line);
        return NGX_ERROR;
    }

    if (ngx_http_rtdash_metrics[rule->metric].window
        != NGX_HTTP_RTDASH_WINDOW_IGNORED
        && (time_t) rule->window > ctx->retention)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "rtdash_alert \"%V\": window=%uis is longer than "
                      "retention=%Ts of zone \"%V\" in %s:%ui",
                      &rule->name, rule->window, ctx->retention, &ctx->name,
                      rule->file, rule->line);
        return NGX_ERROR;
    }

    if (rule->metric != NGX_HTTP_RTDASH_M_ANOMALY_RATE
        && rule->metric != NGX_HTTP_RTDASH_M_ANOMALY_P95)
    {
        return NGX_OK;
    }

    an = rmcf->anomalies.elts;

    for (i = 0; i < rmcf->anomalies.nelts; i++) {
        if (an[i].zone == rule->zone) {
            return NGX_OK;
        }
    }

    ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                  "rtdash_alert \"%V\": \"%V\" needs \"rtdash_anomaly %V\" "
                  "in %s:%ui", &rule->name,
                  &ngx_http_rtdash_metrics[rule->metric].name, &ctx->name,
                  rule->file, rule->line);

    return NGX_ERROR;
}


/*
 * A finite decimal number: sign, fraction, exponent; with "percent" it
 * may end in "%", which divides it by 100.  No hex, inf or nan.
 */

static ngx_int_t
ngx_http_rtdash_alert_number(ngx_str_t *v, ngx_uint_t percent, double *out)
{
    char    buf[NGX_HTTP_RTDASH_NUMBER_LEN + 1], *end;
    double  d, scale;
    size_t  len, i;
    u_char  ch;

    len = v->len;
    scale = 1;

    if (percent && len > 0 && v->data[len - 1] == '%') {
        len--;
        scale = 100;
    }

    if (len == 0 || len > NGX_HTTP_RTDASH_NUMBER_LEN) {
        return NGX_ERROR;
    }

    for (i = 0; i < len; i++) {
        ch = v->data[i];

        if ((ch < '0' || ch > '9') && ch != '.' && ch != '+' && ch != '-'
            && ch != 'e' && ch != 'E')
        {
            return NGX_ERROR;
        }
    }

    ngx_memcpy(buf, v->data, len);
    buf[len] = '\0';

    d = strtod(buf, &end);

    if (end != buf + len || !isfinite(d)) {
        return NGX_ERROR;
    }

    *out = d / scale;

    return NGX_OK;
}


/* what follows "key=" in v */

static void
ngx_http_rtdash_alert_value(ngx_str_t *v, ngx_str_t *key, ngx_str_t *s)
{
    s->data = v->data + key->len;
    s->len = v->len - key->len;
}
