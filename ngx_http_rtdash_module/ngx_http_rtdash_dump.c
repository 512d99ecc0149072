
/*
 * rtdash: dump and restore of a zone's data.
 *
 * A dump is a versioned header, the zone's pseudonym key (version 2 on),
 * and one image per tool (ngx_http_rtdash_image.c: its node and the
 * records it holds, flat); the header holds a CRC32 of the images and
 * (version 3) the count of evicted tools; after the tools (version 4),
 * the image of the watch area (ngx_http_rtdash_watch.c: notices, alert
 * transitions and states, anomalies), in the checksum too.  It is
 * written to a temp file and renamed, one tool copied under the lock at
 * a time, everything else outside it.  One worker writes it every
 * dump_interval (whoever finds it due first), the master at exit.
 *
 * The same images move a zone's tools into a fresh zone when a reload
 * changes the zone's size.
 */


#include "ngx_http_rtdash_module.h"


#define NGX_HTTP_RTDASH_DUMP_MAGIC    "rtdashZ"
/*
 * 2: the zone's pseudonym key follows the header; 3: images of layout 3
 * (pools, sketches), and the header ends in "evicted"; 4: the watch area
 * after the tools, its length in the header; 5: seconds with their sums,
 * slots of two kinds.  1 to 4 are read as well, upgraded.
 */
#define NGX_HTTP_RTDASH_DUMP_VERSION  5

/* the dump holds user names and ids: readable by its owner only */
#define NGX_HTTP_RTDASH_DUMP_ACCESS   NGX_FILE_OWNER_ACCESS

#if (NGX_HAVE_OPENAT)
#define NGX_HTTP_RTDASH_DUMP_NOFOLLOW NGX_FILE_NOFOLLOW
#else
#define NGX_HTTP_RTDASH_DUMP_NOFOLLOW 0
#endif

/* room for the reason a dump's owner is refused */
#define NGX_HTTP_RTDASH_DUMP_WHY_LEN  128


typedef struct {
    u_char                      magic[8];
    uint32_t                    version;
    uint32_t                    crc;          /* of the records */
    uint64_t                    node_size;
    uint64_t                    retention;
    uint64_t                    nminutes;
    uint64_t                    nevents;
    uint64_t                    ntypes;
    uint64_t                    ngauges;
    uint64_t                    ntools;
    uint64_t                    seq;
    uint64_t                    accepted;
    uint64_t                    rejected;
    uint64_t                    refused;
    int64_t                     started;
    int64_t                     written;
    uint64_t                    ntypes_used;
    ngx_http_rtdash_type_t      types[NGX_HTTP_RTDASH_TYPES_MAX];
    uint64_t                    evicted;      /* version 3 */
    uint64_t                    watch_len;    /* version 4 */
} ngx_http_rtdash_dump_header_t;


/* the header of versions 1 and 2: all but "evicted" */
#define NGX_HTTP_RTDASH_DUMP_HEADER_V2                                       \
    offsetof(ngx_http_rtdash_dump_header_t, evicted)

/* the header of version 3: all but "watch_len" */
#define NGX_HTTP_RTDASH_DUMP_HEADER_V3                                       \
    offsetof(ngx_http_rtdash_dump_header_t, watch_len)


static void ngx_http_rtdash_dump_timer(ngx_event_t *ev);
static ngx_int_t ngx_http_rtdash_dump_tools(ngx_http_rtdash_ctx_t *ctx,
    ngx_fd_t fd, u_char *copy, ngx_queue_t *q, uint64_t start,
    ngx_http_rtdash_dump_header_t *h);
static ngx_int_t ngx_http_rtdash_dump_watch(ngx_http_rtdash_ctx_t *ctx,
    ngx_fd_t fd, ngx_http_rtdash_dump_header_t *h);
static ngx_int_t ngx_http_rtdash_dump_restore_watch(
    ngx_http_rtdash_ctx_t *ctx, ngx_fd_t fd, ngx_http_rtdash_dump_header_t *h,
    off_t offset);
static u_char *ngx_http_rtdash_dump_next(ngx_http_rtdash_ctx_t *ctx,
    ngx_fd_t fd, ngx_http_rtdash_dump_header_t *h, u_char *buf,
    off_t *offset, size_t *len);
static size_t ngx_http_rtdash_dump_buf_size(ngx_http_rtdash_ctx_t *ctx);
static const char *ngx_http_rtdash_dump_verify(ngx_http_rtdash_ctx_t *ctx,
    ngx_fd_t fd, u_char *buf, ngx_http_rtdash_dump_header_t *h,
    off_t offset, off_t size);
static ngx_int_t ngx_http_rtdash_dump_read(ngx_fd_t fd, u_char *buf,
    size_t size, off_t offset);
static const char *ngx_http_rtdash_dump_check(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_dump_header_t *h);
static ngx_fd_t ngx_http_rtdash_dump_open(ngx_http_rtdash_ctx_t *ctx,
    ngx_log_t *log, ngx_file_info_t *fi, const char **why);
static const char *ngx_http_rtdash_dump_trust(ngx_http_rtdash_ctx_t *ctx,
    ngx_log_t *log, ngx_file_info_t *fi, u_char *buf, size_t size);
static ngx_uid_t ngx_http_rtdash_dump_user(ngx_http_rtdash_ctx_t *ctx);


/* a fresh zone takes over the tools of the zone it replaces */

void
ngx_http_rtdash_migrate(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_ctx_t *octx, ngx_log_t *log)
{
    u_char                  *copy;
    ngx_uint_t               n;
    ngx_queue_t             *q;
    ngx_http_rtdash_node_t  *node;

    if (octx->sh == NULL
        || octx->layout.node_size != ctx->layout.node_size
        || octx->retention != ctx->retention
        || octx->nevents != ctx->nevents
        || octx->ntypes != ctx->ntypes
        || octx->ngauges != ctx->ngauges)
    {
        return;
    }

    copy = ngx_alloc(ngx_http_rtdash_image_max(ctx), log);
    if (copy == NULL) {
        return;
    }

    n = 0;

    ngx_http_rtdash_lock(octx);

    ctx->sh->accepted = octx->sh->accepted;
    ctx->sh->rejected = octx->sh->rejected;
    ctx->sh->refused = octx->sh->refused;
    ctx->sh->evicted = octx->sh->evicted;
    ctx->sh->started = octx->sh->started;
    ctx->sh->seq = octx->sh->seq;
    ctx->sh->ntypes = octx->sh->ntypes;
    ngx_memcpy(ctx->sh->types, octx->sh->types,
               sizeof(ctx->sh->types));
    ngx_memcpy(ctx->sh->key, octx->sh->key, NGX_HTTP_RTDASH_KEY_LEN);

    for (q = ngx_queue_head(&octx->sh->tools);
         q != ngx_queue_sentinel(&octx->sh->tools);
         q = ngx_queue_next(q))
    {
        node = ngx_queue_data(q, ngx_http_rtdash_node_t, queue);
        (void) ngx_http_rtdash_image_locked(octx, node, copy);

        if (ngx_http_rtdash_image_adopt_locked(ctx, copy) != NGX_OK) {
            break;
        }

        n++;
    }

    ngx_http_rtdash_watch_migrate_locked(ctx, octx, log);

    ngx_http_rtdash_unlock(octx);

    ngx_free(copy);

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "rtdash zone \"%V\": %ui of %ui tools carried over to "
                  "the resized zone", &ctx->name, n, octx->sh->ntools);
}


ngx_int_t
ngx_http_rtdash_dump_write(ngx_http_rtdash_ctx_t *ctx, ngx_log_t *log)
{
    u_char                          *copy, *tmp;
    uint64_t                         start;
    ngx_fd_t                         fd;
    ngx_err_t                        err;
    ngx_uint_t                       n;
    ngx_queue_t                     *q;
    ngx_http_rtdash_dump_header_t    h;

    tmp = ngx_alloc(ctx->dump.len + NGX_INT64_LEN + 8, log);
    copy = ngx_alloc(ngx_http_rtdash_image_max(ctx), log);

    if (tmp == NULL || copy == NULL) {
        goto failed;
    }

    ngx_sprintf(tmp, "%V.%P.tmp%Z", &ctx->dump, ngx_pid);

    /*
     * A new file of our own, never one found there: a temp file left by a
     * crashed process of the same pid goes first, and O_EXCL refuses
     * whatever (a symlink, say) appears in its place meanwhile.
     */

    if (ngx_delete_file(tmp) == NGX_FILE_ERROR && ngx_errno != NGX_ENOENT) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      ngx_delete_file_n " \"%s\" failed", tmp);
        goto failed;
    }

    fd = ngx_open_file(tmp, NGX_FILE_WRONLY, NGX_FILE_CREATE_OR_OPEN|O_EXCL,
                       NGX_HTTP_RTDASH_DUMP_ACCESS);
    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      ngx_open_file_n " \"%s\" failed", tmp);
        goto failed;
    }

    /* exactly 0600, whatever the umask took away */

    if (fchmod(fd, NGX_HTTP_RTDASH_DUMP_ACCESS) == -1) {
        goto write_failed;
    }

    ngx_memzero(&h, sizeof(ngx_http_rtdash_dump_header_t));
    ngx_memcpy(h.magic, NGX_HTTP_RTDASH_DUMP_MAGIC, 8);
    h.version = NGX_HTTP_RTDASH_DUMP_VERSION;
    h.node_size = ctx->layout.node_size;
    h.retention = ctx->retention;
    h.nminutes = ctx->nminutes;
    h.nevents = ctx->nevents;
    h.ntypes = ctx->ntypes;
    h.ngauges = ctx->ngauges;
    h.written = ngx_time();

    ngx_http_rtdash_lock(ctx);

    h.seq = ctx->sh->seq;
    h.accepted = ctx->sh->accepted;
    h.rejected = ctx->sh->rejected;
    h.refused = ctx->sh->refused;
    h.evicted = ctx->sh->evicted;
    h.started = ctx->sh->started;
    h.ntypes_used = ctx->sh->ntypes;
    ngx_memcpy(h.types, ctx->sh->types, sizeof(h.types));
    q = ngx_queue_head(&ctx->sh->tools);
    start = ctx->sh->records;

    ngx_http_rtdash_unlock(ctx);

    ngx_crc32_init(h.crc);

    if (pwrite(fd, ctx->sh->key, NGX_HTTP_RTDASH_KEY_LEN,
               sizeof(ngx_http_rtdash_dump_header_t))
        != NGX_HTTP_RTDASH_KEY_LEN)
    {
        goto write_failed;
    }

    if (ngx_http_rtdash_dump_tools(ctx, fd, copy, q, start, &h) != NGX_OK
        || ngx_http_rtdash_dump_watch(ctx, fd, &h) != NGX_OK)
    {
        goto write_failed;
    }

    n = h.ntools;

    ngx_crc32_final(h.crc);

    if (pwrite(fd, &h, sizeof(h), 0) != (ssize_t) sizeof(h)
        || fsync(fd) == -1)
    {
        goto write_failed;
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      ngx_close_file_n " \"%s\" failed", tmp);
    }

    if (ngx_rename_file(tmp, ctx->dump.data) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      ngx_rename_file_n " \"%s\" to \"%V\" failed",
                      tmp, &ctx->dump);
        (void) ngx_delete_file(tmp);
        goto failed;
    }

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "rtdash zone \"%V\": %ui tools dumped to \"%V\"",
                  &ctx->name, n, &ctx->dump);

    ngx_free(copy);
    ngx_free(tmp);

    return NGX_OK;

write_failed:

    err = ngx_errno;
    ngx_log_error(NGX_LOG_ERR, log, err, "rtdash: writing \"%s\" failed",
                  tmp);
    (void) ngx_close_file(fd);
    (void) ngx_delete_file(tmp);

failed:

    if (copy) {
        ngx_free(copy);
    }

    if (tmp) {
        ngx_free(tmp);
    }

    return NGX_ERROR;
}


/*
 * Every tool from q on, one copied under the lock at a time, after the
 * header and the key; h gets the count, the checksum and the newest seq.
 * Nodes are never freed once in the queue (an evicted tool's node is the
 * new tool's, in the same place): the walk goes on lock by lock.  Tools
 * made after record "start" wait for the next dump.
 */

static ngx_int_t
ngx_http_rtdash_dump_tools(ngx_http_rtdash_ctx_t *ctx, ngx_fd_t fd,
    u_char *copy, ngx_queue_t *q, uint64_t start,
    ngx_http_rtdash_dump_header_t *h)
{
    off_t                    offset;
    size_t                   len;
    ngx_http_rtdash_node_t  *node;

    offset = sizeof(ngx_http_rtdash_dump_header_t) + NGX_HTTP_RTDASH_KEY_LEN;
    h->ntools = 0;

    for ( ;; ) {
        ngx_http_rtdash_lock(ctx);

        if (q == ngx_queue_sentinel(&ctx->sh->tools)) {
            ngx_http_rtdash_unlock(ctx);
            return NGX_OK;
        }

        node = ngx_queue_data(q, ngx_http_rtdash_node_t, queue);
        q = ngx_queue_next(q);

        if (node->born > start) {
            ngx_http_rtdash_unlock(ctx);
            continue;
        }

        len = ngx_http_rtdash_image_locked(ctx, node, copy);

        ngx_http_rtdash_unlock(ctx);

        node = (ngx_http_rtdash_node_t *) copy;

        if (node->seq > h->seq) {
            h->seq = node->seq;
        }

        ngx_crc32_update(&h->crc, copy, len);

        if (pwrite(fd, copy, len, offset) != (ssize_t) len) {
            return NGX_ERROR;
        }

        offset += len;
        h->ntools++;
    }
}


/*
 * The watch area's image after the tools (copied under the lock, written
 * outside it); h gets its length and its part of the checksum
 */

static ngx_int_t
ngx_http_rtdash_dump_watch(ngx_http_rtdash_ctx_t *ctx, ngx_fd_t fd,
    ngx_http_rtdash_dump_header_t *h)
{
    off_t     offset;
    size_t    len;
    u_char   *buf;
    ssize_t   n;

    len = ngx_http_rtdash_watch_image_max(ctx);

    buf = ngx_alloc(len, ngx_cycle->log);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    ngx_http_rtdash_lock(ctx);
    len = ngx_http_rtdash_watch_image_locked(ctx, buf);
    ngx_http_rtdash_unlock(ctx);

    offset = lseek(fd, 0, SEEK_END);

    ngx_crc32_update(&h->crc, buf, len);
    h->watch_len = len;

    n = (offset == -1) ? -1 : pwrite(fd, buf, len, offset);

    ngx_free(buf);

    return (n == (ssize_t) len) ? NGX_OK : NGX_ERROR;
}


/*
 * The next tool of a dump, at *offset, read into buf (dump_buf_size()):
 * *len bytes as in the file (for the checksum, at buf), and the image
 * they make in this layout, returned (NULL: they make none).
 */

static u_char *
ngx_http_rtdash_dump_next(ngx_http_rtdash_ctx_t *ctx, ngx_fd_t fd,
    ngx_http_rtdash_dump_header_t *h, u_char *buf, off_t *offset,
    size_t *len)
{
    size_t  n;

    if (h->version < 3) {
        if (ngx_http_rtdash_dump_read(fd, buf, h->node_size, *offset)
            != NGX_OK)
        {
            return NULL;
        }

        *len = h->node_size;
        *offset += h->node_size;

        ngx_http_rtdash_v2_upgrade(ctx, buf, buf + h->node_size);

        return buf + h->node_size;
    }

    if (ngx_http_rtdash_dump_read(fd, buf, ctx->layout.node_size, *offset)
        != NGX_OK)
    {
        return NULL;
    }

    n = (h->version < 5) ? ngx_http_rtdash_v4_image_size(ctx, buf)
                         : ngx_http_rtdash_image_size(ctx, buf);

    if (n == 0
        || ngx_http_rtdash_dump_read(fd, buf + ctx->layout.node_size,
                                     n - ctx->layout.node_size,
                                     *offset + ctx->layout.node_size)
           != NGX_OK)
    {
        return NULL;
    }

    *len = n;
    *offset += n;

    if (h->version < 5) {
        ngx_http_rtdash_v4_upgrade(ctx, buf, buf + n);
        return buf + n;
    }

    return buf;
}


static size_t
ngx_http_rtdash_dump_buf_size(ngx_http_rtdash_ctx_t *ctx)
{
    return ngx_max(ngx_http_rtdash_image_max(ctx),
                   ngx_http_rtdash_v2_node_size(ctx))
           + ngx_http_rtdash_image_max(ctx);
}


static const char *
ngx_http_rtdash_dump_verify(ngx_http_rtdash_ctx_t *ctx, ngx_fd_t fd,
    u_char *buf, ngx_http_rtdash_dump_header_t *h, off_t offset,
    off_t size)
{
    u_char     *watch;
    size_t      len;
    uint32_t    crc;
    ngx_uint_t  i;

    ngx_crc32_init(crc);

    for (i = 0; i < h->ntools; i++) {
        if (offset >= size) {
            return "its size does not match its header";
        }

        if (ngx_http_rtdash_dump_next(ctx, fd, h, buf, &offset, &len)
            == NULL)
        {
            return "it cannot be read";
        }

        ngx_crc32_update(&crc, buf, len);
    }

    if (h->watch_len) {
        if (h->watch_len > (uint64_t) (size - offset)) {
            return "its size does not match its header";
        }

        watch = ngx_alloc((size_t) h->watch_len, ngx_cycle->log);
        if (watch == NULL) {
            return "out of memory";
        }

        if (ngx_http_rtdash_dump_read(fd, watch, (size_t) h->watch_len,
                                      offset)
            != NGX_OK)
        {
            ngx_free(watch);
            return "it cannot be read";
        }

        ngx_crc32_update(&crc, watch, (size_t) h->watch_len);
        ngx_free(watch);
        offset += h->watch_len;
    }

    ngx_crc32_final(crc);

    if (offset != size) {
        return "its size does not match its header";
    }

    return (crc == h->crc) ? NULL : "its checksum does not match";
}


static ngx_int_t
ngx_http_rtdash_dump_read(ngx_fd_t fd, u_char *buf, size_t size,
    off_t offset)
{
    ssize_t  n;

    n = pread(fd, buf, size, offset);

    return (n == (ssize_t) size) ? NGX_OK : NGX_ERROR;
}


static const char *
ngx_http_rtdash_dump_check(ngx_http_rtdash_ctx_t *ctx,
    ngx_http_rtdash_dump_header_t *h)
{
    if (ngx_memcmp(h->magic, NGX_HTTP_RTDASH_DUMP_MAGIC, 8) != 0) {
        return "not an rtdash dump";
    }

    if (h->version < 1 || h->version > NGX_HTTP_RTDASH_DUMP_VERSION) {
        return "written by another version of the dump format";
    }

    if (h->node_size != (h->version < 3
                         ? ngx_http_rtdash_v2_node_size(ctx)
                         : ctx->layout.node_size)
        || h->retention != (uint64_t) ctx->retention
        || h->nminutes != ctx->nminutes
        || h->nevents != ctx->nevents
        || h->ntypes != ctx->ntypes
        || h->ngauges != ctx->ngauges)
    {
        return "written with other zone parameters (retention, events, "
               "types or gauges)";
    }

    if (h->ntypes_used > ctx->ntypes) {
        return "its type table is larger than the zone's";
    }

    if (h->ntools > ctx->sh->max_tools) {
        return "it holds more tools than the zone has room for";
    }

    return NULL;
}


/*
 * The master, root as a rule, reads the dump, so only a file nginx itself
 * could have written is trusted: a regular file, opened without following
 * a symlink, owned by root, by the master's user or by the workers' user.
 * NGX_INVALID_FILE without a reason: there is nothing to restore.
 */

static ngx_fd_t
ngx_http_rtdash_dump_open(ngx_http_rtdash_ctx_t *ctx, ngx_log_t *log,
    ngx_file_info_t *fi, const char **why)
{
    ngx_fd_t         fd;
    ngx_err_t        err;
    ngx_file_info_t  li;

    *why = NULL;

    /* O_NONBLOCK: a FIFO put in its place must not hang the start */

    fd = ngx_open_file(ctx->dump.data,
                       NGX_FILE_RDONLY|NGX_FILE_NONBLOCK
                       |NGX_HTTP_RTDASH_DUMP_NOFOLLOW,
                       NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        err = ngx_errno;

        if (err == NGX_ENOENT) {
            ngx_log_error(NGX_LOG_NOTICE, log, 0,
                          "rtdash zone \"%V\": no dump \"%V\" yet, "
                          "starting empty", &ctx->name, &ctx->dump);

        } else if (err == NGX_ELOOP) {
            *why = "it is a symbolic link";

        } else {
            ngx_log_error(NGX_LOG_ERR, log, err,
                          ngx_open_file_n " \"%V\" failed, starting empty",
                          &ctx->dump);
        }

        return NGX_INVALID_FILE;
    }

    if (ngx_fd_info(fd, fi) == NGX_FILE_ERROR) {
        *why = "it cannot be read";
        goto refused;
    }

    /* where O_NOFOLLOW is missing: the name must not be a symlink */

    if (ngx_link_info(ctx->dump.data, &li) == NGX_FILE_ERROR
        || ngx_is_link(&li))
    {
        *why = "it is a symbolic link";
        goto refused;
    }

    if (ngx_file_uniq(&li) != ngx_file_uniq(fi) || li.st_dev != fi->st_dev) {
        *why = "it was replaced while being opened";
        goto refused;
    }

    if (!ngx_is_file(fi)) {
        *why = "it is not a regular file";
        goto refused;
    }

    return fd;

refused:

    (void) ngx_close_file(fd);

    return NGX_INVALID_FILE;
}


static const char *
ngx_http_rtdash_dump_trust(ngx_http_rtdash_ctx_t *ctx, ngx_log_t *log,
    ngx_file_info_t *fi, u_char *buf, size_t size)
{
    ngx_uid_t  uid, user;

    uid = fi->st_uid;
    user = ngx_http_rtdash_dump_user(ctx);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, log, 0,
                   "rtdash zone \"%V\": dump owned by uid %uL, "
                   "workers run as uid %uL", &ctx->name, (uint64_t) uid,
                   (uint64_t) user);

    if (uid == 0 || uid == geteuid() || uid == user) {
        return NULL;
    }

    ngx_snprintf(buf, size, "it is owned by uid %uL, neither root nor the "
                 "nginx user%Z", (uint64_t) uid);

    return (const char *) buf;
}


/* the workers' user, from the cycle the zone was configured in */

static ngx_uid_t
ngx_http_rtdash_dump_user(ngx_http_rtdash_ctx_t *ctx)
{
    ngx_core_conf_t  *ccf;

    if (ctx->cycle == NULL || ctx->cycle->conf_ctx == NULL) {
        return 0;
    }

    ccf = (ngx_core_conf_t *) ngx_get_conf(ctx->cycle->conf_ctx,
                                           ngx_core_module);

    if (ccf == NULL || ccf->user == (ngx_uid_t) NGX_CONF_UNSET_UINT) {
        return 0;
    }

    return ccf->user;
}


/* at start, into a fresh zone: all of the dump, or nothing */

void
ngx_http_rtdash_dump_restore(ngx_http_rtdash_ctx_t *ctx, ngx_log_t *log)
{
    u_char                         *record, *image;
    u_char                          buf[NGX_HTTP_RTDASH_DUMP_WHY_LEN];
    size_t                          len;
    u_char                          key[NGX_HTTP_RTDASH_KEY_LEN];
    off_t                           offset, start;
    ngx_fd_t                        fd;
    ngx_uint_t                      i;
    const char                     *why;
    ngx_file_info_t                 fi;
    ngx_http_rtdash_dump_header_t   h;

    record = NULL;

    fd = ngx_http_rtdash_dump_open(ctx, log, &fi, &why);

    if (fd == NGX_INVALID_FILE) {
        goto done;
    }

    why = ngx_http_rtdash_dump_trust(ctx, log, &fi, buf, sizeof(buf));
    if (why) {
        goto done;
    }

    h.evicted = 0;
    h.watch_len = 0;

    if (ngx_http_rtdash_dump_read(fd, (u_char *) &h,
                                  NGX_HTTP_RTDASH_DUMP_HEADER_V2, 0)
        != NGX_OK)
    {
        why = "it is too short to be a dump";
        goto done;
    }

    why = ngx_http_rtdash_dump_check(ctx, &h);
    if (why) {
        goto done;
    }

    start = NGX_HTTP_RTDASH_DUMP_HEADER_V2;

    if (h.version >= 3) {
        if (ngx_http_rtdash_dump_read(fd, (u_char *) &h.evicted,
                                      sizeof(h.evicted), start)
            != NGX_OK)
        {
            why = "it is too short to be a dump";
            goto done;
        }

        start = NGX_HTTP_RTDASH_DUMP_HEADER_V3;
    }

    if (h.version >= 4) {
        if (ngx_http_rtdash_dump_read(fd, (u_char *) &h.watch_len,
                                      sizeof(h.watch_len), start)
            != NGX_OK)
        {
            why = "it is too short to be a dump";
            goto done;
        }

        start = sizeof(h);
    }

    if (h.version >= 2) {
        if (ngx_http_rtdash_dump_read(fd, key, NGX_HTTP_RTDASH_KEY_LEN,
                                      start)
            != NGX_OK)
        {
            why = "it is too short to be a dump";
            goto done;
        }

        start += NGX_HTTP_RTDASH_KEY_LEN;
    }

    /* room for a tool as read and, after it, as upgraded */

    record = ngx_alloc(ngx_http_rtdash_dump_buf_size(ctx), log);
    if (record == NULL) {
        why = "out of memory";
        goto done;
    }

    /* first the checksum of everything, then the tools */

    why = ngx_http_rtdash_dump_verify(ctx, fd, record, &h, start,
                                      ngx_file_size(&fi));
    if (why) {
        goto done;
    }

    ngx_http_rtdash_lock(ctx);

    offset = start;

    for (i = 0; i < h.ntools; i++) {
        image = ngx_http_rtdash_dump_next(ctx, fd, &h, record, &offset,
                                          &len);

        if (image == NULL
            || ngx_http_rtdash_image_adopt_locked(ctx, image) != NGX_OK)
        {
            break;
        }
    }

    if (i < h.ntools) {
        /* all or nothing: the tools adopted so far go again */

        while (!ngx_queue_empty(&ctx->sh->tools)) {
            ngx_http_rtdash_tool_free_locked(ctx,
                               ngx_queue_data(ngx_queue_head(&ctx->sh->tools),
                                              ngx_http_rtdash_node_t, queue));
        }

        ctx->sh->seq = 0;

        ngx_http_rtdash_unlock(ctx);
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "rtdash zone \"%V\": dump \"%V\" stopped at tool %ui "
                      "of %uL, starting empty", &ctx->name, &ctx->dump, i,
                      h.ntools);
        goto done;
    }

    if (h.version >= 2) {
        ngx_memcpy(ctx->sh->key, key, NGX_HTTP_RTDASH_KEY_LEN);
    }

    if (h.seq > ctx->sh->seq) {
        ctx->sh->seq = h.seq;
    }

    ctx->sh->accepted = h.accepted;
    ctx->sh->rejected = h.rejected;
    ctx->sh->refused = h.refused;
    ctx->sh->evicted = h.evicted;
    ctx->sh->started = h.started;
    ctx->sh->ntypes = h.ntypes_used;
    ngx_memcpy(ctx->sh->types, h.types, sizeof(h.types));

    if (h.watch_len
        && ngx_http_rtdash_dump_restore_watch(ctx, fd, &h, offset) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "rtdash zone \"%V\": the alert states and notices "
                      "of dump \"%V\" not restored", &ctx->name, &ctx->dump);
    }

    ngx_http_rtdash_unlock(ctx);

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "rtdash zone \"%V\": restored %uL tools from \"%V\" "
                  "written at %T", &ctx->name, h.ntools, &ctx->dump,
                  (time_t) h.written);

done:

    if (why) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "rtdash zone \"%V\": dump \"%V\" not restored: %s; "
                      "starting empty", &ctx->name, &ctx->dump, why);
    }

    if (record) {
        ngx_free(record);
    }

    if (fd != NGX_INVALID_FILE) {
        (void) ngx_close_file(fd);
    }
}


/* the watch area of a verified dump, at offset, into the zone (locked) */

static ngx_int_t
ngx_http_rtdash_dump_restore_watch(ngx_http_rtdash_ctx_t *ctx, ngx_fd_t fd,
    ngx_http_rtdash_dump_header_t *h, off_t offset)
{
    u_char     *buf;
    ngx_int_t   rc;

    buf = ngx_alloc((size_t) h->watch_len, ngx_cycle->log);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_rtdash_dump_read(fd, buf, (size_t) h->watch_len, offset);

    if (rc == NGX_OK) {
        rc = ngx_http_rtdash_watch_adopt_locked(ctx, buf,
                                                (size_t) h->watch_len);
    }

    ngx_free(buf);

    return rc;
}


ngx_int_t
ngx_http_rtdash_dump_init_process(ngx_cycle_t *cycle,
    ngx_http_rtdash_ctx_t *ctx)
{
    ngx_event_t  *ev;

    ev = ngx_pcalloc(cycle->pool, sizeof(ngx_event_t));
    if (ev == NULL) {
        return NGX_ERROR;
    }

    ev->handler = ngx_http_rtdash_dump_timer;
    ev->data = ctx;
    ev->log = cycle->log;
    ev->cancelable = 1;

    /* spread the workers' checks a little */

    ngx_add_timer(ev, 1000 + (ngx_random() % 1000));

    return NGX_OK;
}


static void
ngx_http_rtdash_dump_timer(ngx_event_t *ev)
{
    ngx_http_rtdash_ctx_t *ctx = ev->data;

    time_t      now;
    ngx_uint_t  due;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    now = ngx_time();

    /* one worker, whichever finds it due first, writes the dump */

    ngx_http_rtdash_lock(ctx);

    due = (now - ctx->sh->dumped >= ctx->dump_interval
           && ctx->sh->seq != ctx->sh->dumped_seq);

    if (due) {
        ctx->sh->dumped = now;
        ctx->sh->dumped_seq = ctx->sh->seq;
    }

    ngx_http_rtdash_unlock(ctx);

    if (due) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                       "rtdash zone \"%V\": dump due, this worker writes it",
                       &ctx->name);

        (void) ngx_http_rtdash_dump_write(ctx, ev->log);
    }

    ngx_add_timer(ev, 1000);
}
