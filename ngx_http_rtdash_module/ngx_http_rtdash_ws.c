
/*
 * rtdash: the WebSocket protocol (RFC 6455) of the stream's second
 * transport: the handshake, the framing of frames a group shares (server
 * frames are not masked, so one encoded frame serves every subscriber),
 * control frames, a reader of client frames that checks the protocol
 * strictly, and the client's commands.  Subscribers themselves, and
 * what a command does, are the stream's (ngx_http_rtdash_stream.c).
 */


#include "ngx_http_rtdash_module.h"

#include <ngx_sha1.h>


#define NGX_HTTP_RTDASH_WS_GUID    "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define NGX_HTTP_RTDASH_UPGRADE_REQUIRED  426

/* room a frame's JSON leaves before it for the longest header */
#define NGX_HTTP_RTDASH_WS_HEAD    10


static ngx_int_t ngx_http_rtdash_ws_check(ngx_http_request_t *r);
static ngx_int_t ngx_http_rtdash_ws_refuse(ngx_http_request_t *r,
    ngx_uint_t status, const char *msg, ngx_str_t *arg);
static void ngx_http_rtdash_ws_open(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_frame_mode_e mode, uint64_t id);
static void ngx_http_rtdash_ws_close_json(ngx_http_rtdash_out_t *o);
static void ngx_http_rtdash_ws_finish(ngx_http_rtdash_frame_t *frame);
static void ngx_http_rtdash_ws_message_out(ngx_http_rtdash_out_t *o,
    const char *event, uint64_t id, ngx_http_rtdash_out_t *json);
static u_char *ngx_http_rtdash_ws_head(u_char *p, ngx_uint_t opcode,
    size_t len);
static ngx_int_t ngx_http_rtdash_ws_header_has(ngx_http_request_t *r,
    const char *name, const char *token);
static ngx_int_t ngx_http_rtdash_ws_frame_start(ngx_http_rtdash_ws_in_t *in);
static ngx_int_t ngx_http_rtdash_ws_frame_end(ngx_http_rtdash_ws_in_t *in,
    ngx_http_rtdash_ws_event_t *ev);
static ngx_int_t ngx_http_rtdash_ws_fail(ngx_http_rtdash_ws_in_t *in,
    ngx_uint_t code, const char *why);
static ngx_uint_t ngx_http_rtdash_ws_utf8(u_char *p, size_t len);
static u_char *ngx_http_rtdash_json_ws(u_char *p, u_char *end);
static u_char *ngx_http_rtdash_json_skip(u_char *p, u_char *end,
    ngx_uint_t depth);
static u_char *ngx_http_rtdash_json_string(u_char *p, u_char *end,
    ngx_str_t *s);
static ngx_int_t ngx_http_rtdash_ws_member(ngx_http_rtdash_ws_cmd_t *cmd,
    ngx_str_t *key, u_char **pp, u_char *end);
static u_char *ngx_http_rtdash_ws_limit(ngx_http_rtdash_ws_cmd_t *cmd,
    u_char *p, u_char *end);


/* frames rendered for a WebSocket group: one text message each */
const ngx_http_rtdash_framing_t  ngx_http_rtdash_ws_framing = {
    ngx_http_rtdash_ws_open,
    ngx_http_rtdash_ws_close_json,
    ngx_http_rtdash_ws_finish,
    ngx_http_rtdash_ws_message_out
};


/*
 * NGX_DECLINED: not a WebSocket request (SSE then); NGX_OK: a valid
 * handshake, the 101 headers are set; NGX_ABORT: refused with a JSON
 * error, *rc is what the handler returns.
 */

ngx_int_t
ngx_http_rtdash_ws_handshake(ngx_http_request_t *r, ngx_int_t *rc)
{
    *rc = ngx_http_rtdash_ws_check(r);

    return (*rc == NGX_OK || *rc == NGX_DECLINED) ? *rc : NGX_ABORT;
}


static ngx_int_t
ngx_http_rtdash_ws_check(ngx_http_request_t *r)
{
    u_char            *accept;
    ngx_str_t          src, dst;
    ngx_sha1_t         sha1;
    const char        *why;
    ngx_table_elt_t   *key, *version;
    u_char             digest[20], raw[24];

    if (ngx_http_rtdash_ws_header_has(r, "Upgrade", "websocket") != NGX_OK) {
        return NGX_DECLINED;
    }

    /* a refused upgrade ends the connection: the client meant to leave */

    r->keepalive = 0;

    if (r->http_version != NGX_HTTP_VERSION_11 || r->method != NGX_HTTP_GET
        || ngx_http_rtdash_ws_header_has(r, "Connection", "upgrade")
           != NGX_OK)
    {
        return ngx_http_rtdash_ws_refuse(r, NGX_HTTP_BAD_REQUEST,
                                         "a WebSocket handshake needs GET "
                                         "over HTTP/1.1 with \"Connection: "
                                         "Upgrade\"", NULL);
    }

    version = ngx_http_rtdash_header_in(r, "Sec-WebSocket-Version");

    if (version == NULL || version->value.len != 2
        || ngx_strncmp(version->value.data, "13", 2) != 0)
    {
        if (ngx_http_rtdash_add_header(r, "Sec-WebSocket-Version", "13",
                                       NULL)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* nginx has no status line of its own for 426 */
        ngx_str_set(&r->headers_out.status_line, "426 Upgrade Required");

        return ngx_http_rtdash_ws_refuse(r,
                                         NGX_HTTP_RTDASH_UPGRADE_REQUIRED,
                                         "unsupported WebSocket version, "
                                         "use 13", NULL);
    }

    key = ngx_http_rtdash_header_in(r, "Sec-WebSocket-Key");

    src.data = key ? key->value.data : NULL;
    src.len = key ? key->value.len : 0;
    dst.data = raw;

    if (src.len != 24 || ngx_decode_base64(&dst, &src) != NGX_OK
        || dst.len != 16)
    {
        return ngx_http_rtdash_ws_refuse(r, NGX_HTTP_BAD_REQUEST,
                                         "missing or invalid "
                                         "Sec-WebSocket-Key", NULL);
    }

    if (ngx_http_rtdash_origin_check(r, &why) != NGX_OK) {
        key = ngx_http_rtdash_header_in(r, "Origin");

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "rtdash: WebSocket: %s \"%V\"", why,
                      key ? &key->value : &src);

        return ngx_http_rtdash_ws_refuse(r, NGX_HTTP_FORBIDDEN, why,
                                         key ? &key->value : NULL);
    }

    ngx_sha1_init(&sha1);
    ngx_sha1_update(&sha1, src.data, src.len);
    ngx_sha1_update(&sha1, NGX_HTTP_RTDASH_WS_GUID,
                    sizeof(NGX_HTTP_RTDASH_WS_GUID) - 1);
    ngx_sha1_final(digest, &sha1);

    accept = ngx_pnalloc(r->pool, ngx_base64_encoded_length(20) + 1);
    if (accept == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    src.data = digest;
    src.len = 20;
    dst.data = accept;
    ngx_encode_base64(&dst, &src);
    accept[dst.len] = '\0';

    r->headers_out.status = NGX_HTTP_SWITCHING_PROTOCOLS;
    ngx_str_set(&r->headers_out.status_line, "101 Switching Protocols");
    r->headers_out.content_length_n = -1;

    if (ngx_http_rtdash_add_header(r, "Upgrade", "websocket", NULL)
        != NGX_OK
        || ngx_http_rtdash_add_header(r, "Sec-WebSocket-Accept",
                                      (const char *) accept, NULL)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_OK;
}


/* the JSON error; what it returns is never taken for a handshake */

static ngx_int_t
ngx_http_rtdash_ws_refuse(ngx_http_request_t *r, ngx_uint_t status,
    const char *msg, ngx_str_t *arg)
{
    ngx_int_t  rc;

    rc = ngx_http_rtdash_send_error(r, status, msg, arg, -1, -1);

    return (rc == NGX_OK || rc == NGX_DECLINED) ? NGX_DONE : rc;
}


/* a comma-separated header holds a token, case-insensitively */

static ngx_int_t
ngx_http_rtdash_ws_header_has(ngx_http_request_t *r, const char *name,
    const char *token)
{
    ngx_table_elt_t  *h;

    h = ngx_http_rtdash_header_in(r, name);

    if (h == NULL
        || ngx_strlcasestrn(h->value.data, h->value.data + h->value.len,
                            (u_char *) token, ngx_strlen(token) - 1)
           == NULL)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static void
ngx_http_rtdash_ws_open(ngx_http_rtdash_out_t *o,
    ngx_http_rtdash_frame_mode_e mode, uint64_t id)
{
    u_char  *p;

    p = ngx_http_rtdash_out_reserve(o, NGX_HTTP_RTDASH_WS_HEAD);
    if (p == NULL) {
        return;
    }

    o->buf->last += NGX_HTTP_RTDASH_WS_HEAD;
    o->size += NGX_HTTP_RTDASH_WS_HEAD;

    if (mode == NGX_HTTP_RTDASH_FRAME_SNAPSHOT) {
        ngx_http_rtdash_out_lit(o, "{\"event\":\"snapshot\",\"id\":");

    } else {
        ngx_http_rtdash_out_lit(o, "{\"event\":\"update\",\"id\":");
    }

    ngx_http_rtdash_out_uint(o, id);
    ngx_http_rtdash_out_lit(o, ",\"data\":");
}


static void
ngx_http_rtdash_ws_close_json(ngx_http_rtdash_out_t *o)
{
    ngx_http_rtdash_out_lit(o, "}");
}


/* a watch item: a text message of its own, header and all */

static void
ngx_http_rtdash_ws_message_out(ngx_http_rtdash_out_t *o, const char *event,
    uint64_t id, ngx_http_rtdash_out_t *json)
{
    u_char  head[NGX_HTTP_RTDASH_WS_HEAD], num[NGX_INT64_LEN], *e, *ne;
    size_t  elen, plen;

    elen = ngx_strlen(event);
    ne = ngx_sprintf(num, "%uL", id);

    plen = sizeof("{\"event\":\"\",\"id\":,\"data\":}") - 1 + elen
           + (ne - num) + json->size;

    e = ngx_http_rtdash_ws_head(head, 0x1, plen);

    ngx_http_rtdash_out_raw(o, head, e - head);
    ngx_http_rtdash_out_lit(o, "{\"event\":\"");
    ngx_http_rtdash_out_raw(o, (u_char *) event, elen);
    ngx_http_rtdash_out_lit(o, "\",\"id\":");
    ngx_http_rtdash_out_raw(o, num, ne - num);
    ngx_http_rtdash_out_lit(o, ",\"data\":");
    ngx_http_rtdash_out_append(o, json);
    ngx_http_rtdash_out_lit(o, "}");
}


/* the header goes in the room left before the message, right-aligned */

static void
ngx_http_rtdash_ws_finish(ngx_http_rtdash_frame_t *frame)
{
    u_char  head[NGX_HTTP_RTDASH_WS_HEAD], *e;
    size_t  len, n;

    len = frame->len - NGX_HTTP_RTDASH_WS_HEAD;
    e = ngx_http_rtdash_ws_head(head, 0x1, len);
    n = e - head;

    frame->data += NGX_HTTP_RTDASH_WS_HEAD - n;
    ngx_memcpy(frame->data, head, n);
    frame->len = len + n;
}


static u_char *
ngx_http_rtdash_ws_head(u_char *p, ngx_uint_t opcode, size_t len)
{
    ngx_uint_t  i;

    *p++ = (u_char) (0x80 | opcode);

    if (len < 126) {
        *p++ = (u_char) len;

    } else if (len < 65536) {
        *p++ = 126;
        *p++ = (u_char) (len >> 8);
        *p++ = (u_char) len;

    } else {
        *p++ = 127;

        for (i = 8; i > 0; i--) {
            *p++ = (u_char) ((uint64_t) len >> (8 * (i - 1)));
        }
    }

    return p;
}


/*
 * A frame of its own: a text message {"event", "id", "data"} whose data
 * is the JSON given, and/or a control frame (opcode, payload) after it.
 */

ngx_http_rtdash_frame_t *
ngx_http_rtdash_ws_frame(ngx_log_t *log, const char *event, uint64_t id,
    u_char *data, size_t len, ngx_uint_t opcode, u_char *payload,
    size_t plen)
{
    u_char                   *p;
    size_t                    mlen;
    ngx_pool_t               *pool;
    ngx_http_rtdash_frame_t  *frame;

    mlen = event ? sizeof("{\"event\":\"\",\"id\":,\"data\":}") - 1
                   + ngx_strlen(event) + NGX_INT64_LEN + len
                 : 0;

    pool = ngx_create_pool(ngx_max(NGX_MIN_POOL_SIZE, mlen + plen + 256),
                           log);
    if (pool == NULL) {
        return NULL;
    }

    frame = ngx_palloc(pool, sizeof(ngx_http_rtdash_frame_t));
    p = ngx_pnalloc(pool, mlen + plen + 2 * NGX_HTTP_RTDASH_WS_HEAD);

    if (frame == NULL || p == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    frame->pool = pool;
    frame->data = p;
    frame->refs = 1;
    frame->next = NULL;

    if (event) {
        /* the real length is known once the id is written: write twice */

        mlen = ngx_sprintf(p + NGX_HTTP_RTDASH_WS_HEAD,
                           "{\"event\":\"%s\",\"id\":%uL,\"data\":", event,
                           id)
               - (p + NGX_HTTP_RTDASH_WS_HEAD) + len + 1;

        p = ngx_http_rtdash_ws_head(p, 0x1, mlen);
        p = ngx_sprintf(p, "{\"event\":\"%s\",\"id\":%uL,\"data\":", event,
                        id);
        if (len) {
            p = ngx_cpymem(p, data, len);
        }

        *p++ = '}';
    }

    if (opcode) {
        p = ngx_http_rtdash_ws_head(p, opcode, plen);

        if (plen) {
            p = ngx_cpymem(p, payload, plen);
        }
    }

    frame->len = p - frame->data;

    return frame;
}


/* a close frame's payload: the status code, network order */

ngx_http_rtdash_frame_t *
ngx_http_rtdash_ws_close_frame(ngx_log_t *log, ngx_uint_t code)
{
    u_char  payload[2];

    payload[0] = (u_char) (code >> 8);
    payload[1] = (u_char) code;

    return ngx_http_rtdash_ws_frame(log, NULL, 0, NULL, 0, 0x8, payload, 2);
}


/*
 * The reader: feed it what the connection read; each call returns at
 * most one event (a message, a ping, a pong, a close), NGX_AGAIN when
 * it needs more bytes, or NGX_ERROR with in->close_code set when the
 * peer broke the protocol.  *pos moves past what was consumed.
 */

ngx_int_t
ngx_http_rtdash_ws_read(ngx_http_rtdash_ws_in_t *in, u_char **pos,
    u_char *end, ngx_http_rtdash_ws_event_t *ev)
{
    u_char     *p, *dst;
    size_t      n, i;
    ngx_int_t   rc;

    p = *pos;
    ev->kind = NGX_HTTP_RTDASH_WS_NONE;

    while (p < end) {

        if (in->nhead < in->need) {
            in->head[in->nhead++] = *p++;

            if (in->nhead < in->need) {
                continue;
            }

            rc = ngx_http_rtdash_ws_frame_start(in);

            if (rc == NGX_ERROR) {
                *pos = p;
                return NGX_ERROR;
            }

            if (rc == NGX_AGAIN) {
                continue;          /* more header bytes */
            }

            if (in->left) {
                continue;
            }

        } else {
            n = ngx_min((uint64_t) (end - p), in->left);
            dst = in->control ? in->ctl + in->ctl_len
                              : in->msg + in->msg_len;

            for (i = 0; i < n; i++) {
                dst[i] = p[i] ^ in->mask[(in->mpos + i) & 3];
            }

            in->mpos += n;
            in->left -= n;
            p += n;

            if (in->control) {
                in->ctl_len += n;

            } else {
                in->msg_len += n;
            }

            if (in->left) {
                continue;
            }
        }

        /* a whole frame */

        rc = ngx_http_rtdash_ws_frame_end(in, ev);

        in->nhead = 0;
        in->need = 2;

        if (rc == NGX_ERROR || ev->kind != NGX_HTTP_RTDASH_WS_NONE) {
            *pos = p;
            return rc;
        }
    }

    *pos = p;

    return NGX_AGAIN;
}


/* the header is complete as far as in->need says; NGX_AGAIN: more */

static ngx_int_t
ngx_http_rtdash_ws_frame_start(ngx_http_rtdash_ws_in_t *in)
{
    u_char      b0, b1, *m;
    uint64_t    len;
    ngx_uint_t  ext, i;

    b0 = in->head[0];
    b1 = in->head[1];
    ext = ((b1 & 0x7f) == 126) ? 2 : ((b1 & 0x7f) == 127) ? 8 : 0;

    if (in->need == 2) {
        if (!(b1 & 0x80)) {
            return ngx_http_rtdash_ws_fail(in, 1002, "unmasked client frame");
        }

        if (b0 & 0x70) {
            return ngx_http_rtdash_ws_fail(in, 1002, "reserved bits set");
        }

        in->need = (u_char) (2 + ext + 4);
        return NGX_AGAIN;
    }

    len = b1 & 0x7f;

    for (i = 0; i < ext; i++) {
        len = (i ? len : 0) << 8 | in->head[2 + i];
    }

    if (ext == 8 && (in->head[2] & 0x80)) {
        return ngx_http_rtdash_ws_fail(in, 1002, "invalid frame length");
    }

    m = in->head + 2 + ext;
    ngx_memcpy(in->mask, m, 4);

    in->opcode = b0 & 0x0f;
    in->fin = (b0 & 0x80) ? 1 : 0;
    in->left = len;
    in->mpos = 0;
    in->control = (in->opcode & 0x08) ? 1 : 0;

    if (in->control) {
        if (in->opcode > 0xa) {
            return ngx_http_rtdash_ws_fail(in, 1002, "unknown opcode");
        }

        if (!in->fin || len > 125) {
            return ngx_http_rtdash_ws_fail(in, 1002,
                                        "fragmented or oversized control "
                                        "frame");
        }

        in->ctl_len = 0;
        return NGX_OK;
    }

    if (in->opcode > 0x2) {
        return ngx_http_rtdash_ws_fail(in, 1002, "unknown opcode");
    }

    if ((in->opcode == 0x0) != (in->msg_opcode != 0)) {
        return ngx_http_rtdash_ws_fail(in, 1002,
                                       in->opcode ? "a new message inside "
                                                    "a fragmented one"
                                                  : "continuation without "
                                                    "a message");
    }

    if (in->msg_len + len > in->max) {
        return ngx_http_rtdash_ws_fail(in, 1009, "message too big");
    }

    if (in->msg == NULL) {
        /* held only while a message arrives: idle subscribers stay small */
        in->msg = ngx_alloc(in->max, ngx_cycle->log);
        if (in->msg == NULL) {
            return ngx_http_rtdash_ws_fail(in, 1011, "out of memory");
        }
    }

    if (in->opcode) {
        in->msg_opcode = in->opcode;
        in->msg_len = 0;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_rtdash_ws_frame_end(ngx_http_rtdash_ws_in_t *in,
    ngx_http_rtdash_ws_event_t *ev)
{
    if (in->control) {
        ev->data = in->ctl;
        ev->len = in->ctl_len;

        switch (in->opcode) {

        case 0x8:
            if (in->ctl_len == 1) {
                return ngx_http_rtdash_ws_fail(in, 1002,
                                               "close payload of 1 byte");
            }

            ev->kind = NGX_HTTP_RTDASH_WS_CLOSE;
            ev->code = (in->ctl_len >= 2) ? (in->ctl[0] << 8 | in->ctl[1])
                                          : 1000;

            if (in->ctl_len >= 2
                && (ev->code < 1000 || ev->code == 1004 || ev->code == 1005
                    || ev->code == 1006 || (ev->code > 1014 && ev->code < 3000)
                    || ev->code > 4999))
            {
                return ngx_http_rtdash_ws_fail(in, 1002,
                                               "invalid close code");
            }

            if (in->ctl_len > 2
                && !ngx_http_rtdash_ws_utf8(in->ctl + 2, in->ctl_len - 2))
            {
                return ngx_http_rtdash_ws_fail(in, 1007,
                                               "close reason not UTF-8");
            }

            return NGX_OK;

        case 0x9:
            ev->kind = NGX_HTTP_RTDASH_WS_PING;
            return NGX_OK;

        default:
            ev->kind = NGX_HTTP_RTDASH_WS_PONG;
            return NGX_OK;
        }
    }

    if (!in->fin) {
        return NGX_OK;
    }

    ev->data = in->msg;
    ev->len = in->msg_len;
    ev->kind = (in->msg_opcode == 0x1) ? NGX_HTTP_RTDASH_WS_TEXT
                                       : NGX_HTTP_RTDASH_WS_BINARY;
    in->msg_opcode = 0;

    if (ev->kind == NGX_HTTP_RTDASH_WS_TEXT
        && !ngx_http_rtdash_ws_utf8(in->msg, in->msg_len))
    {
        ev->kind = NGX_HTTP_RTDASH_WS_NONE;
        return ngx_http_rtdash_ws_fail(in, 1007, "text is not UTF-8");
    }

    return NGX_OK;
}


/* the message's memory goes back once its event is handled */

void
ngx_http_rtdash_ws_done(ngx_http_rtdash_ws_in_t *in)
{
    if (in->msg && in->msg_opcode == 0) {
        ngx_free(in->msg);
        in->msg = NULL;
        in->msg_len = 0;
    }
}


void
ngx_http_rtdash_ws_free(ngx_http_rtdash_ws_in_t *in)
{
    if (in->msg) {
        ngx_free(in->msg);
        in->msg = NULL;
    }
}


static ngx_int_t
ngx_http_rtdash_ws_fail(ngx_http_rtdash_ws_in_t *in, ngx_uint_t code,
    const char *why)
{
    in->close_code = code;
    in->error = why;

    return NGX_ERROR;
}


/* strict UTF-8: no overlongs, no surrogates, nothing past U+10FFFF */

static ngx_uint_t
ngx_http_rtdash_ws_utf8(u_char *p, size_t len)
{
    u_char    *end;
    uint32_t   c;
    size_t     n, i;

    end = p + len;

    while (p < end) {
        c = *p;

        if (c < 0x80) {
            p++;
            continue;
        }

        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            c &= 0x1f;

        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            c &= 0x0f;

        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            c &= 0x07;

        } else {
            return 0;
        }

        if ((size_t) (end - p) <= n) {
            return 0;
        }

        for (i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80) {
                return 0;
            }

            c = (c << 6) | (p[i] & 0x3f);
        }

        if ((n == 2 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff)))
            || (n == 3 && (c < 0x10000 || c > 0x10ffff)))
        {
            return 0;
        }

        p += n + 1;
    }

    return 1;
}


/*
 * A client command: one JSON object, {"type": "subscribe", "tool": "A"
 * or ["A", "B"], "window": 600, "events": 20}, or "snapshot", "ping"
 * ("request_metrics" is "snapshot").  Other members are ignored.
 * NGX_ERROR: invalid, cmd->error says why.
 */

ngx_int_t
ngx_http_rtdash_ws_command(ngx_pool_t *pool, u_char *p, size_t len,
    ngx_http_rtdash_ws_cmd_t *cmd)
{
    u_char     *end;
    ngx_str_t   key;

    ngx_memzero(cmd, sizeof(ngx_http_rtdash_ws_cmd_t));

    if (ngx_array_init(&cmd->tools, pool, 2, sizeof(ngx_str_t)) != NGX_OK) {
        cmd->error = "out of memory";
        return NGX_ERROR;
    }

    end = p + len;
    p = ngx_http_rtdash_json_ws(p, end);

    if (p == end || *p++ != '{') {
        cmd->error = "a command is a JSON object";
        return NGX_ERROR;
    }

    for ( ;; ) {
        p = ngx_http_rtdash_json_ws(p, end);

        if (p < end && *p == '}' && cmd->members == 0) {
            p++;
            break;
        }

        p = ngx_http_rtdash_json_string(p, end, &key);
        if (p == NULL) {
            cmd->error = "invalid JSON in command";
            return NGX_ERROR;
        }

        p = ngx_http_rtdash_json_ws(p, end);

        if (p == end || *p++ != ':') {
            cmd->error = "invalid JSON in command";
            return NGX_ERROR;
        }

        if (ngx_http_rtdash_ws_member(cmd, &key, &p, end) != NGX_OK) {
            return NGX_ERROR;
        }

        cmd->members++;
        p = ngx_http_rtdash_json_ws(p, end);

        if (p < end && *p == ',') {
            p++;
            continue;
        }

        if (p < end && *p == '}') {
            p++;
            break;
        }

        cmd->error = "invalid JSON in command";
        return NGX_ERROR;
    }

    if (ngx_http_rtdash_json_ws(p, end) != end) {
        cmd->error = "invalid JSON in command";
        return NGX_ERROR;
    }

    if (cmd->type.len == 0) {
        cmd->error = "a command needs a \"type\"";
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_rtdash_ws_member(ngx_http_rtdash_ws_cmd_t *cmd, ngx_str_t *key,
    u_char **pp, u_char *end)
{
    u_char     *p, *q;
    ngx_int_t   n;
    ngx_str_t  *tool;

    p = ngx_http_rtdash_json_ws(*pp, end);

    if (key->len == 4 && ngx_strncmp(key->data, "type", 4) == 0) {
        p = ngx_http_rtdash_json_string(p, end, &cmd->type);

    } else if (key->len == 4 && ngx_strncmp(key->data, "tool", 4) == 0) {
        cmd->has_tool = 1;

        if (p < end && *p == '[') {
            p = ngx_http_rtdash_json_ws(p + 1, end);

            while (p && p < end && *p != ']') {
                tool = ngx_array_push(&cmd->tools);
                if (tool == NULL) {
                    return NGX_ERROR;
                }

                p = ngx_http_rtdash_json_string(p, end, tool);
                p = p ? ngx_http_rtdash_json_ws(p, end) : NULL;

                if (p && p < end && *p == ',') {
                    p = ngx_http_rtdash_json_ws(p + 1, end);
                }
            }

            p = (p && p < end) ? p + 1 : NULL;

        } else {
            tool = ngx_array_push(&cmd->tools);
            if (tool == NULL) {
                return NGX_ERROR;
            }

            p = ngx_http_rtdash_json_string(p, end, tool);
        }

    } else if ((key->len == 6 && ngx_strncmp(key->data, "window", 6) == 0)
               || (key->len == 6
                   && ngx_strncmp(key->data, "events", 6) == 0))
    {
        for (q = p; q < end && *q >= '0' && *q <= '9'; q++) { /* void */ }

        n = (q > p && q - p < 10) ? ngx_atoi(p, q - p) : NGX_ERROR;

        if (n == NGX_ERROR) {
            cmd->error = "\"window\" and \"events\" take whole numbers";
            return NGX_ERROR;
        }

        if (key->data[0] == 'w') {
            cmd->window = n;
            cmd->has_window = 1;

        } else {
            cmd->events = n;
            cmd->has_events = 1;
        }

        p = q;

    } else if (key->len == 5 && ngx_strncmp(key->data, "limit", 5) == 0) {
        p = ngx_http_rtdash_ws_limit(cmd, p, end);

        if (p == NULL) {
            return NGX_ERROR;
        }

    } else {
        p = ngx_http_rtdash_json_skip(p, end, 0);
    }

    if (p == NULL) {
        cmd->error = "invalid JSON in command";
        return NGX_ERROR;
    }

    *pp = p;

    return NGX_OK;
}


/* "limit": a whole number, or "all" */

static u_char *
ngx_http_rtdash_ws_limit(ngx_http_rtdash_ws_cmd_t *cmd, u_char *p,
    u_char *end)
{
    u_char     *q;
    ngx_int_t   n;

    if (end - p >= 5 && ngx_strncmp(p, "\"all\"", 5) == 0) {
        cmd->limit = NGX_HTTP_RTDASH_LIMIT_ALL;
        cmd->has_limit = 1;
        return p + 5;
    }

    for (q = p; q < end && *q >= '0' && *q <= '9'; q++) { /* void */ }

    n = (q > p && q - p < 10) ? ngx_atoi(p, q - p) : NGX_ERROR;

    if (n == NGX_ERROR) {
        cmd->error = "\"limit\" takes a whole number or \"all\"";
        return NULL;
    }

    cmd->limit = n;
    cmd->has_limit = 1;

    return q;
}


static u_char *
ngx_http_rtdash_json_ws(u_char *p, u_char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
    {
        p++;
    }

    return p;
}


/*
 * A JSON string without escapes is taken in place; one with escapes
 * other than \" and \\ is refused (tool names and types have none).
 */

static u_char *
ngx_http_rtdash_json_string(u_char *p, u_char *end, ngx_str_t *s)
{
    u_char  *q, *d;

    if (p == NULL || p == end || *p != '"') {
        return NULL;
    }

    p++;
    d = p;
    s->data = p;

    for (q = p; q < end && *q != '"'; q++) {
        if (*q < 0x20) {
            return NULL;
        }

        if (*q == '\\') {
            if (q + 1 == end || (q[1] != '"' && q[1] != '\\')) {
                return NULL;
            }

            q++;
        }

        *d++ = *q;
    }

    if (q == end) {
        return NULL;
    }

    s->len = d - s->data;

    return q + 1;
}


/* skip any JSON value, nested at most 16 deep */

static u_char *
ngx_http_rtdash_json_skip(u_char *p, u_char *end, ngx_uint_t depth)
{
    u_char     close;
    ngx_str_t  s;

    p = ngx_http_rtdash_json_ws(p, end);

    if (p == end || depth > 16) {
        return NULL;
    }

    if (*p == '"') {
        return ngx_http_rtdash_json_string(p, end, &s);
    }

    if (*p == '{' || *p == '[') {
        close = (*p == '{') ? '}' : ']';
        p = ngx_http_rtdash_json_ws(p + 1, end);

        while (p && p < end && *p != close) {
            if (close == '}') {
                p = ngx_http_rtdash_json_string(p, end, &s);
                p = p ? ngx_http_rtdash_json_ws(p, end) : NULL;

                if (p == NULL || p == end || *p++ != ':') {
                    return NULL;
                }
            }

            p = ngx_http_rtdash_json_skip(p, end, depth + 1);
            p = p ? ngx_http_rtdash_json_ws(p, end) : NULL;

            if (p && p < end && *p == ',') {
                p = ngx_http_rtdash_json_ws(p + 1, end);
            }
        }

        return (p && p < end) ? p + 1 : NULL;
    }

    /* numbers, true, false, null */

    while (p < end && ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z')
                       || *p == '-' || *p == '+' || *p == '.'
                       || *p == 'E'))
    {
        p++;
    }

    return p;
}
