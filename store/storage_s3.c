/* The S3 backend: `kestra:///a/b.txt` is the object `<prefix>a/b.txt` of one bucket, reached with SigV4-signed
 * requests over libcurl (store/s3_req.h, store/s3_sign.h).
 *
 * Every request runs on libuv's thread pool with libcurl's easy interface (one uv_queue_work job per storage
 * step), so nothing blocks the loop, and the pool's size bounds the requests in flight as it bounds the local
 * backend's file calls. Readers fetch one window of KT_SS3_WINDOW bytes per ranged GET (If-Match on the ETag seen
 * at open, so a file replaced while being read fails the read instead of mixing two versions; a file smaller than
 * one window is fetched whole by the open) and hand it out in KT_STORAGE_CHUNK pieces: the consumer's next read
 * fetches the next window, so a slow consumer holds one window, never the object. Writers buffer up to the part
 * size: a file that fits is one PUT at commit, a bigger one a multipart upload whose parts go out as the buffer
 * fills (CreateMultipartUpload at the first full part, CompleteMultipartUpload at commit, AbortMultipartUpload on
 * abort or a failed commit), so the object appears whole at commit or not at all.
 *
 * Metadata travels as the object's user metadata (x-amz-meta-*), written with the object in the same request:
 * no side object to keep in step, nothing to hide from listings, and a copy (move) carries it along. */
#include "store/storage_s3_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "base/alloc.h"
#include "base/assert.h"

/* ---- readers ---- */

typedef struct s3_reader {
    kt_storage_reader base;
    uv_work_t work;
    char *path;
    char etag[128];
    int64_t size;
    int64_t fetched; /* bytes of the object fetched so far (the window's end) */
    char *win;
    size_t win_len, win_pos;
    int fetch;       /* the job GETs the next window (else it only brings the answer to a later turn) */
    kt_status st;
    char err[KT_STORAGE_ERR_MAX];
    kt_storage_attrs attrs;
} s3_reader;

static void queue(kt_storage *s, uv_work_t *w, void *data, uv_work_cb work, uv_after_work_cb done)
{
    w->data = data;
    int rc = uv_queue_work(s->loop, w, work, done);
    KT_ASSERTF(rc == 0, "uv_queue_work: %s", uv_strerror(rc));
}

/* GETs [from, to] of the object into the window. */
static kt_status get_range(s3_reader *r, int64_t from, int64_t to, kt_s3_resp *rs)
{
    kt_ss3 *s = (kt_ss3 *)r->base.s;
    char range[80], ifm[160];
    snprintf(range, sizeof range, "range:bytes=%lld-%lld", (long long)from, (long long)to);
    snprintf(ifm, sizeof ifm, "if-match:%s", r->etag);
    const char *hdrs[2] = {range, ifm};
    char *key = kt_s3_key(&s->c, r->path);
    kt_s3_req rq = {.method = "GET", .key = key, .headers = hdrs, .nheaders = r->etag[0] ? 2 : 1,
                    .body_max = KT_SS3_WINDOW, .into = r->win};
    kt_status st = kt_s3_do(&s->c, &rq, rs, r->err, sizeof r->err);
    free(key);
    return st;
}

/* The window holds what the GET wrote into it (the buffer is allocated once per reader and reused). */
static void take_window(s3_reader *r, kt_s3_resp *rs)
{
    r->win_len = rs->got;
    r->win_pos = 0;
    r->fetched += (int64_t)r->win_len;
}

static void reader_open_work(uv_work_t *req)
{
    s3_reader *r = req->data;
    kt_ss3 *s = (kt_ss3 *)r->base.s;
    kt_s3_resp rs;
    kt_status got = get_range(r, 0, KT_SS3_WINDOW - 1, &rs);
    if (kt_s3_empty_range(&rs)) { /* an empty object has no byte 0: its HEAD says the rest */
        kt_s3_resp_clear(&rs);
        if ((r->st = kt_ss3__head(s, r->path, &rs, r->err, sizeof r->err)))
            goto out;
        r->size = 0;
    } else if ((r->st = got)) {
        goto out;
    } else if (rs.status == 404) {
        r->st = kt_ss3__missing(s, r->path, r->err, sizeof r->err);
        goto out;
    } else if ((r->st = kt_s3_status(&rs, r->path, r->err, sizeof r->err))) {
        goto out;
    } else {
        r->size = rs.status == 206 && rs.total >= 0 ? rs.total : (int64_t)rs.got;
    }
    snprintf(r->etag, sizeof r->etag, "%s", rs.etag);
    kt_ss3__file_attrs(r->path, &rs, r->size, &r->attrs);
    take_window(r, &rs);
    if (r->fetched >= r->size) /* the whole file came with the open: keep only its bytes, not a whole window */
        r->win = kt_xrealloc(r->win, r->win_len ? r->win_len : 1);
out:
    kt_s3_resp_clear(&rs);
}

static void reader_open_done(uv_work_t *req, int status)
{
    s3_reader *r = req->data;
    kt_storage_attrs a = r->attrs;
    memset(&r->attrs, 0, sizeof r->attrs);
    kt_storage__reader_opened(&r->base, status ? KT_EIO : r->st, &a, r->err);
    kt_storage_attrs_clear(&a);
}

static void s3_reader_open(kt_storage_reader *base, const char *path)
{
    s3_reader *r = (s3_reader *)base;
    r->path = kt_xstrdup(path);
    r->win = kt_xmalloc(KT_SS3_WINDOW);
    queue(base->s, &r->work, r, reader_open_work, reader_open_done);
}

static void reader_read_work(uv_work_t *req)
{
    s3_reader *r = req->data;
    if (!r->fetch)
        return;
    int64_t to = r->fetched + KT_SS3_WINDOW - 1;
    if (to >= r->size)
        to = r->size - 1;
    kt_s3_resp rs;
    if (!(r->st = get_range(r, r->fetched, to, &rs))) {
        if (rs.status == 412) {
            kt_errf(r->err, sizeof r->err, "kestra:///%s: replaced while being read", r->path);
            r->st = KT_EIO;
        } else if (!(r->st = kt_s3_status(&rs, r->path, r->err, sizeof r->err))) {
            if (rs.got == 0 || rs.got > (size_t)(to - r->fetched + 1)) {
                kt_errf(r->err, sizeof r->err, "kestra:///%s: S3 answered %zu bytes for a range of %lld", r->path,
                        rs.got, (long long)(to - r->fetched + 1));
                r->st = KT_EIO;
            } else {
                take_window(r, &rs);
            }
        }
    }
    kt_s3_resp_clear(&rs);
}

static void reader_read_done(uv_work_t *req, int status)
{
    s3_reader *r = req->data;
    if (status || r->st) {
        kt_storage__reader_got(&r->base, status ? KT_EIO : r->st, NULL, 0, r->err);
        return;
    }
    size_t n = r->win_len - r->win_pos;
    if (n > KT_STORAGE_CHUNK)
        n = KT_STORAGE_CHUNK;
    const char *chunk = r->win ? r->win + r->win_pos : "";
    r->win_pos += n;
    kt_storage__reader_got(&r->base, KT_OK, chunk, n, "");
}

static void s3_reader_read(kt_storage_reader *base)
{
    s3_reader *r = (s3_reader *)base;
    r->st = KT_OK;
    r->fetch = r->win_pos == r->win_len && r->fetched < r->size;
    queue(base->s, &r->work, r, reader_read_work, reader_read_done);
}

static void s3_reader_close(kt_storage_reader *base)
{
    s3_reader *r = (s3_reader *)base;
    free(r->path);
    free(r->win);
    kt_storage_attrs_clear(&r->attrs);
    kt_storage__reader_gone(base);
}

/* ---- writers ---- */

typedef struct s3_writer {
    kt_storage_writer base;
    uv_work_t work;
    char *path, *key;
    char *meta;              /* the metadata's JSON text or NULL */
    char *buf;               /* the part being filled */
    size_t len, cap;
    const char *chunk;       /* the write in flight (borrowed) */
    size_t chunk_len;
    char *upload_id;         /* a multipart upload is open */
    kt_buf parts;            /* <Part> elements for the completion */
    int nparts;
    kt_status st;
    char err[KT_STORAGE_ERR_MAX];
} s3_writer;

static kt_ss3 *wstore(s3_writer *w)
{
    return (kt_ss3 *)w->base.s;
}

static void noop_work(uv_work_t *req)
{
    (void)req;
}

static void writer_open_done(uv_work_t *req, int status)
{
    s3_writer *w = req->data;
    kt_storage__writer_opened(&w->base, status ? KT_EIO : KT_OK, "");
}

static void s3_writer_open(kt_storage_writer *base, const char *path, char *metadata_json)
{
    s3_writer *w = (s3_writer *)base;
    w->path = kt_xstrdup(path);
    w->key = kt_s3_key(&wstore(w)->c, path);
    w->meta = metadata_json;
    queue(base->s, &w->work, w, noop_work, writer_open_done); /* nothing to prepare until a part is full */
}

/* Sends req and checks its status; err names the writer's URI. */
static kt_status writer_send(s3_writer *w, kt_s3_req *rq, kt_s3_resp *rs)
{
    kt_status st = kt_s3_do(&wstore(w)->c, rq, rs, w->err, sizeof w->err);
    if (!st)
        st = kt_s3_status(rs, w->path, w->err, sizeof w->err);
    if (st == KT_ENOTFOUND) { /* the bucket, or the upload, is gone: not the file's absence */
        st = KT_EIO;
    }
    return st;
}

static kt_status upload_create(s3_writer *w)
{
    char *meta[32];
    size_t nm = kt_ss3__meta_headers(w->meta, meta, 32);
    char *q = kt_s3_qparam("uploads", "");
    kt_s3_req rq = {.method = "POST", .key = w->key, .query = &q, .nquery = 1, .headers = (const char **)meta,
                    .nheaders = nm};
    kt_s3_resp rs;
    kt_status st = writer_send(w, &rq, &rs);
    if (!st) {
        const char *p = rs.body.p;
        w->upload_id = p ? kt_s3_xml_next(&p, p + rs.body.len, "UploadId") : NULL;
        if (!w->upload_id || !*w->upload_id) {
            kt_errf(w->err, sizeof w->err, "kestra:///%s: S3 answered no UploadId", w->path);
            st = KT_EIO;
        }
    }
    kt_s3_resp_clear(&rs);
    free(q);
    for (size_t i = 0; i < nm; i++)
        free(meta[i]);
    return st;
}

/* Uploads the buffer as the next part and empties it. */
static kt_status upload_part(s3_writer *w)
{
    kt_status st = w->upload_id ? KT_OK : upload_create(w);
    if (st)
        return st;
    char num[16];
    snprintf(num, sizeof num, "%d", w->nparts + 1);
    char *q[2] = {kt_s3_qparam("partNumber", num), kt_s3_qparam("uploadId", w->upload_id)};
    kt_s3_req rq = {.method = "PUT", .key = w->key, .query = q, .nquery = 2, .body = w->buf, .body_len = w->len};
    kt_s3_resp rs;
    st = writer_send(w, &rq, &rs);
    if (!st) {
        w->nparts++;
        kt_buf_printf(&w->parts, "<Part><PartNumber>%d</PartNumber><ETag>", w->nparts);
        kt_s3_xml_escape(&w->parts, rs.etag);
        kt_buf_puts(&w->parts, "</ETag></Part>");
        w->len = 0;
    }
    kt_s3_resp_clear(&rs);
    free(q[0]);
    free(q[1]);
    return st;
}

static void writer_write_work(uv_work_t *req)
{
    s3_writer *w = req->data;
    size_t part = wstore(w)->c.part_size, done = 0;
    w->st = KT_OK;
    while (done < w->chunk_len && !w->st) {
        size_t n = w->chunk_len - done;
        if (n > part - w->len)
            n = part - w->len;
        if (w->len + n > w->cap) { /* one chunk for a small file, else the whole part at once (no doubling) */
            w->cap = w->len + n <= KT_STORAGE_CHUNK ? KT_STORAGE_CHUNK : part;
            w->buf = kt_xrealloc(w->buf, w->cap);
        }
        memcpy(w->buf + w->len, w->chunk + done, n);
        w->len += n;
        done += n;
        if (w->len == part)
            w->st = upload_part(w);
    }
}

static void writer_write_done(uv_work_t *req, int status)
{
    s3_writer *w = req->data;
    kt_storage__writer_wrote(&w->base, status ? KT_EIO : w->st, w->err);
}

static void s3_writer_write(kt_storage_writer *base, const void *chunk, size_t len)
{
    s3_writer *w = (s3_writer *)base;
    w->chunk = chunk;
    w->chunk_len = len;
    queue(base->s, &w->work, w, writer_write_work, writer_write_done);
}

static void upload_abort(s3_writer *w)
{
    if (!w->upload_id)
        return;
    char *q = kt_s3_qparam("uploadId", w->upload_id);
    kt_s3_req rq = {.method = "DELETE", .key = w->key, .query = &q, .nquery = 1};
    kt_s3_resp rs;
    char err[KT_STORAGE_ERR_MAX];
    kt_s3_do(&wstore(w)->c, &rq, &rs, err, sizeof err); /* best effort: a bucket lifecycle rule cleans the rest */
    kt_s3_resp_clear(&rs);
    free(q);
    free(w->upload_id);
    w->upload_id = NULL;
}

static kt_status commit_single(s3_writer *w)
{
    char *meta[32];
    size_t nm = kt_ss3__meta_headers(w->meta, meta, 32);
    kt_s3_req rq = {.method = "PUT", .key = w->key, .headers = (const char **)meta, .nheaders = nm,
                    .body = w->buf ? w->buf : "", .body_len = w->len};
    kt_s3_resp rs;
    kt_status st = writer_send(w, &rq, &rs);
    kt_s3_resp_clear(&rs);
    for (size_t i = 0; i < nm; i++)
        free(meta[i]);
    return st;
}

static kt_status commit_multipart(s3_writer *w)
{
    kt_status st = w->len ? upload_part(w) : KT_OK;
    if (st)
        return st;
    kt_buf body = {0};
    kt_buf_printf(&body, "<CompleteMultipartUpload>%s</CompleteMultipartUpload>", w->parts.p ? w->parts.p : "");
    char *q = kt_s3_qparam("uploadId", w->upload_id);
    kt_s3_req rq = {.method = "POST", .key = w->key, .query = &q, .nquery = 1, .body = body.p, .body_len = body.len};
    kt_s3_resp rs;
    st = writer_send(w, &rq, &rs);
    /* S3 may answer 200 and report the failure in the body (it found out while assembling the parts). */
    if (!st && rs.body.p && strstr(rs.body.p, "<Error>")) {
        rs.status = 500;
        st = kt_s3_status(&rs, w->path, w->err, sizeof w->err);
    }
    if (!st) {
        free(w->upload_id);
        w->upload_id = NULL; /* published: nothing to abort */
    }
    kt_s3_resp_clear(&rs);
    free(q);
    free(kt_buf_take(&body));
    return st;
}

static void writer_commit_work(uv_work_t *req)
{
    s3_writer *w = req->data;
    w->st = kt_ss3__check_place(wstore(w), w->path, w->err, sizeof w->err);
    if (!w->st)
        w->st = w->upload_id ? commit_multipart(w) : commit_single(w);
    upload_abort(w); /* a failed multipart commit leaves no parts behind */
}

static void writer_free_own(s3_writer *w)
{
    free(w->path);
    free(w->key);
    free(w->meta);
    free(w->buf);
    free(w->upload_id);
    free(kt_buf_take(&w->parts));
    w->path = w->key = w->meta = w->buf = w->upload_id = NULL;
}

static void writer_commit_done(uv_work_t *req, int status)
{
    s3_writer *w = req->data;
    writer_free_own(w);
    kt_storage__writer_committed(&w->base, status ? KT_EIO : w->st, w->err);
}

static void s3_writer_commit(kt_storage_writer *base)
{
    s3_writer *w = (s3_writer *)base;
    queue(base->s, &w->work, w, writer_commit_work, writer_commit_done);
}

static void writer_abort_work(uv_work_t *req)
{
    upload_abort(req->data);
}

static void writer_abort_done(uv_work_t *req, int status)
{
    (void)status;
    s3_writer *w = req->data;
    writer_free_own(w);
    kt_storage__writer_gone(&w->base);
}

static void s3_writer_abort(kt_storage_writer *base)
{
    s3_writer *w = (s3_writer *)base;
    queue(base->s, &w->work, w, writer_abort_work, writer_abort_done);
}

int kt_ss3__writer_parts(const kt_storage_writer *w)
{
    return ((const s3_writer *)w)->nparts;
}

static void s3_destroy(kt_storage *s)
{
    kt_ss3 *ss = (kt_ss3 *)s;
    kt_s3_clear(&ss->c);
    free(ss);
}

static const kt_storage_ops s3_ops = {
    .name = "s3",
    .reader_size = sizeof(s3_reader),
    .writer_size = sizeof(s3_writer),
    .reader_open = s3_reader_open,
    .reader_read = s3_reader_read,
    .reader_close = s3_reader_close,
    .writer_open = s3_writer_open,
    .writer_write = s3_writer_write,
    .writer_commit = s3_writer_commit,
    .writer_abort = s3_writer_abort,
    .stat = kt_ss3__stat,
    .remove = kt_ss3__remove,
    .remove_if = kt_ss3__remove_if,
    .remove_prefix = kt_ss3__remove_prefix,
    .list = kt_ss3__list,
    .mkdir = kt_ss3__mkdir,
    .move = kt_ss3__move,
    .read_small = kt_ss3__read_small,
    .destroy = s3_destroy,
};

kt_status kt_storage_s3_open(uv_loop_t *loop, const kt_storage_s3_config *c, kt_storage **out, char *err,
                             size_t errcap)
{
    if (c->part_size && c->part_size < 64 * 1024) {
        kt_errf(err, errcap, "S3 storage: part size %zu is below 64 KiB", c->part_size);
        return KT_EINVAL;
    }
    kt_ss3 *s = kt_xcalloc(1, sizeof *s);
    kt_status st = kt_s3_init(&s->c, c, err, errcap);
    if (st) {
        free(s);
        return st;
    }
    /* Before any thread uses curl; reference-counted by libcurl, so other users of curl in the process agree. */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    kt_storage__init(&s->base, &s3_ops, loop);
    *out = &s->base;
    return KT_OK;
}
