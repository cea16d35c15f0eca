/* The storage dispatch: URI checks, the closing rule, and the readers' and writers' state machines shared by every
 * backend (store/storage_int.h says who calls what). */
#include "store/storage_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "store/storage_uri.h"

/* The first segment Kite keeps for the backend's own files (the local writers' temporary files). */
#define KT_STORAGE_RESERVED ".kite-tmp"
#define KT_STORAGE_META_SUFFIX ".metadata"

void kt_storage_attrs_clear(kt_storage_attrs *a)
{
    if (!a)
        return;
    free(a->name);
    json_decref(a->metadata);
    memset(a, 0, sizeof *a);
}

void kt_storage__init(kt_storage *s, const kt_storage_ops *ops, uv_loop_t *loop)
{
    memset(s, 0, sizeof *s);
    s->ops = ops;
    s->loop = loop;
}

const char *kt_storage_backend(const kt_storage *s)
{
    return s->ops->name;
}

/* ---- closing ---- */

static void close_noop(uv_work_t *req)
{
    (void)req;
}

static void close_done(uv_work_t *req, int status)
{
    (void)status;
    kt_storage *s = req->data;
    kt_storage_close_cb cb = s->close_cb;
    void *data = s->close_data;
    s->ops->destroy(s);
    if (cb)
        cb(data);
}

/* The close callback never runs inside the call that triggered it (kt_storage_close, or a reader_close from inside
 * some callback): a no-op trip through the thread pool brings it to a later loop turn and keeps the loop alive. */
static void close_finish(kt_storage *s)
{
    s->close_work.data = s;
    int rc = uv_queue_work(s->loop, &s->close_work, close_noop, close_done);
    KT_ASSERTF(rc == 0, "uv_queue_work: %s", uv_strerror(rc));
}

void kt_storage_close(kt_storage *s, kt_storage_close_cb cb, void *data)
{
    KT_ASSERT(!s->closing);
    s->closing = 1;
    s->close_cb = cb;
    s->close_data = data;
    if (!s->busy)
        close_finish(s);
}

void kt_storage__unbusy(kt_storage *s)
{
    KT_ASSERT(s->busy > 0);
    if (--s->busy == 0 && s->closing)
        close_finish(s);
}

/* ---- checks ---- */

/* Checks uri into path (KT_SURI_PATH_MAX bytes). file: the URI names a file (no trailing '/', not the root).
 * A trailing '/' of a folder is dropped. */
static kt_status check_uri(kt_storage *s, const char *uri, int file, char *path, char *err, size_t errcap)
{
    if (s->closing) {
        kt_errf(err, errcap, "storage closed");
        return KT_ECLOSED;
    }
    /* kt_suri_path names files, so it refuses the bare root; a folder call may still look at the root itself. */
    if (!file && uri && !strcasecmp(uri, "kestra:///")) {
        path[0] = 0;
        return KT_OK;
    }
    kt_status st = kt_suri_path(uri, path, KT_SURI_PATH_MAX, err, errcap);
    if (st)
        return st;
    size_t n = strlen(path);
    if (file && (n == 0 || path[n - 1] == '/')) {
        kt_errf(err, errcap, "%s: a folder, not a file", uri);
        return KT_EINVAL;
    }
    if (n && path[n - 1] == '/')
        path[--n] = 0;
    size_t sl = sizeof KT_STORAGE_META_SUFFIX - 1;
    if (n >= sl && !strcmp(path + n - sl, KT_STORAGE_META_SUFFIX)) {
        kt_errf(err, errcap, "%s: metadata side files are not addressable", uri);
        return KT_EINVAL;
    }
    size_t rl = sizeof KT_STORAGE_RESERVED - 1;
    if (!strncmp(path, KT_STORAGE_RESERVED, rl) && (path[rl] == 0 || path[rl] == '/')) {
        kt_errf(err, errcap, "%s: reserved for the storage", uri);
        return KT_EINVAL;
    }
    return KT_OK;
}

/* ---- readers ---- */

kt_status kt_storage_reader_open(kt_storage *s, const char *uri, kt_storage_open_cb cb, void *data,
                                 kt_storage_reader **out, char *err, size_t errcap)
{
    char path[KT_SURI_PATH_MAX];
    kt_status st = check_uri(s, uri, 1, path, err, errcap);
    if (st)
        return st;
    kt_storage_reader *r = kt_xcalloc(1, s->ops->reader_size);
    r->s = s;
    r->open_cb = cb;
    r->open_data = data;
    r->pending = 1;
    s->busy++;
    *out = r;
    s->ops->reader_open(r, path);
    return KT_OK;
}

void kt_storage__reader_opened(kt_storage_reader *r, kt_status st, const kt_storage_attrs *attrs, const char *err)
{
    KT_ASSERT(r->pending);
    r->pending = 0;
    if (r->released) {
        r->s->ops->reader_close(r);
        return;
    }
    if (st) {
        /* The reader is ours again: the owner drops its pointer in the callback. */
        r->ending = 1;
        r->open_cb(r, st, NULL, err ? err : "", r->open_data);
        r->released = 1;
        r->s->ops->reader_close(r);
        return;
    }
    r->opened = 1;
    r->open_cb(r, KT_OK, attrs, "", r->open_data);
}

kt_status kt_storage_read(kt_storage_reader *r, kt_storage_read_cb cb, void *data)
{
    KT_ASSERT(r->opened && !r->released);
    KT_ASSERT(!r->pending);
    if (r->s->closing)
        return KT_ECLOSED;
    r->read_cb = cb;
    r->read_data = data;
    r->pending = 1;
    r->s->ops->reader_read(r);
    return KT_OK;
}

void kt_storage__reader_got(kt_storage_reader *r, kt_status st, const char *chunk, size_t len, const char *err)
{
    KT_ASSERT(r->pending);
    KT_ASSERT(len <= KT_STORAGE_CHUNK);
    r->pending = 0;
    if (r->released) {
        r->s->ops->reader_close(r);
        return;
    }
    /* The callback may close the reader: nothing touches r after it. */
    r->read_cb(r, st, chunk, len, err ? err : "", r->read_data);
}

void kt_storage_reader_close(kt_storage_reader *r)
{
    if (!r || r->ending)
        return; /* closing it inside its failed open's callback: the storage frees it right after */
    KT_ASSERT(!r->released);
    r->released = 1;
    if (!r->pending)
        r->s->ops->reader_close(r);
}

void kt_storage__reader_gone(kt_storage_reader *r)
{
    kt_storage *s = r->s;
    free(r);
    kt_storage__unbusy(s);
}

/* ---- writers ---- */

kt_status kt_storage_writer_open(kt_storage *s, const char *uri, const json_t *metadata, kt_storage_writer **out,
                                 char *err, size_t errcap)
{
    char path[KT_SURI_PATH_MAX];
    kt_status st = check_uri(s, uri, 1, path, err, errcap);
    if (st)
        return st;
    char *meta = NULL;
    if (metadata) {
        const char *k;
        const json_t *v;
        int strings = json_is_object(metadata);
        json_object_foreach((json_t *)metadata, k, v) strings = strings && json_is_string(v);
        if (!strings) {
            kt_errf(err, errcap, "%s: metadata must be an object of strings", uri);
            return KT_EINVAL;
        }
        const char *slash = strrchr(path, '/');
        if (strlen(slash ? slash + 1 : path) + sizeof KT_STORAGE_META_SUFFIX - 1 > KT_SURI_NAME_MAX) {
            kt_errf(err, errcap, "%s: name too long for a metadata side file", uri);
            return KT_EINVAL;
        }
        meta = json_dumps(metadata, JSON_COMPACT | JSON_SORT_KEYS);
    }
    kt_storage_writer *w = kt_xcalloc(1, s->ops->writer_size);
    w->s = s;
    w->pending = 1;
    s->busy++;
    *out = w;
    s->ops->writer_open(w, path, meta);
    return KT_OK;
}

static void writer_fail(kt_storage_writer *w, kt_status st, const char *err)
{
    if (w->failed)
        return;
    w->failed = st;
    w->failed_err = kt_xstrdup(err && *err ? err : kt_strerror(st));
}

static void writer_free(kt_storage_writer *w)
{
    kt_storage *s = w->s;
    free(w->failed_err);
    free(w);
    kt_storage__unbusy(s);
}

static void defer_noop(uv_work_t *req)
{
    (void)req;
}

/* A write or a commit on a failed writer answers its failure on a later turn, as any callback. */
static void defer_done(uv_work_t *req, int status)
{
    (void)status;
    kt_storage_writer *w = req->data;
    w->pending = 0;
    if (w->released) {
        w->s->ops->writer_abort(w);
        return;
    }
    if (w->committing) {
        /* The commit is the writer's last callback: clean up the temporary data after it, as promised. */
        w->ending = 1;
        w->cb(w->failed, w->failed_err, w->data);
        w->released = 1;
        w->s->ops->writer_abort(w);
        return;
    }
    kt_storage_done_cb cb = w->cb;
    w->cb = NULL;
    cb(w->failed, w->failed_err, w->data);
}

static void writer_issue(kt_storage_writer *w)
{
    w->pending = 1;
    if (w->failed) {
        w->defer.data = w;
        int rc = uv_queue_work(w->s->loop, &w->defer, defer_noop, defer_done);
        KT_ASSERTF(rc == 0, "uv_queue_work: %s", uv_strerror(rc));
    } else if (w->committing) {
        w->s->ops->writer_commit(w);
    } else {
        w->s->ops->writer_write(w, w->chunk, w->len);
    }
}

void kt_storage__writer_opened(kt_storage_writer *w, kt_status st, const char *err)
{
    KT_ASSERT(w->pending);
    w->pending = 0;
    if (w->released) {
        w->s->ops->writer_abort(w);
        return;
    }
    if (st)
        writer_fail(w, st, err);
    kt_storage_stash stash = w->stash;
    w->stash = KT_STASH_NONE;
    if (stash != KT_STASH_NONE)
        writer_issue(w);
}

kt_status kt_storage_write(kt_storage_writer *w, const void *chunk, size_t len, kt_storage_done_cb cb, void *data)
{
    KT_ASSERT(!w->released && !w->committing);
    KT_ASSERT(!w->cb); /* one write at a time */
    if (w->s->closing)
        return KT_ECLOSED;
    w->cb = cb;
    w->data = data;
    w->chunk = chunk;
    w->len = len;
    if (w->pending)
        w->stash = KT_STASH_WRITE; /* the open is in flight */
    else
        writer_issue(w);
    return KT_OK;
}

void kt_storage__writer_wrote(kt_storage_writer *w, kt_status st, const char *err)
{
    KT_ASSERT(w->pending);
    w->pending = 0;
    if (w->released) {
        w->s->ops->writer_abort(w);
        return;
    }
    if (st)
        writer_fail(w, st, err);
    kt_storage_done_cb cb = w->cb;
    w->cb = NULL;
    w->chunk = NULL;
    cb(st, st ? w->failed_err : "", w->data);
}

kt_status kt_storage_writer_commit(kt_storage_writer *w, kt_storage_done_cb cb, void *data)
{
    KT_ASSERT(!w->released && !w->committing);
    KT_ASSERT(!w->cb);
    if (w->s->closing)
        return KT_ECLOSED;
    w->cb = cb;
    w->data = data;
    w->committing = 1;
    if (w->pending)
        w->stash = KT_STASH_COMMIT;
    else
        writer_issue(w);
    return KT_OK;
}

void kt_storage__writer_committed(kt_storage_writer *w, kt_status st, const char *err)
{
    KT_ASSERT(w->pending && w->committing);
    w->pending = 0;
    w->ending = 1;
    if (!w->released)
        w->cb(st, err ? err : "", w->data);
    writer_free(w);
}

void kt_storage_writer_abort(kt_storage_writer *w)
{
    if (!w || w->ending)
        return; /* aborting it inside its commit's callback: the storage frees it right after */
    KT_ASSERT(!w->released);
    w->released = 1;
    /* A commit already handed to the backend runs to its end (it may publish); the owner hears nothing more. */
    if (!w->pending)
        w->s->ops->writer_abort(w);
}

void kt_storage__writer_gone(kt_storage_writer *w)
{
    writer_free(w);
}

/* ---- one-shot calls ---- */

kt_status kt_storage_read_small(kt_storage *s, const char *uri, size_t max, char **out, size_t *len, int64_t *size,
                                char *err, size_t errcap)
{
    char path[KT_SURI_PATH_MAX];
    if (out)
        *out = NULL;
    if (len)
        *len = 0;
    kt_status st = check_uri(s, uri, 1, path, err, errcap);
    if (st)
        return st;
    return s->ops->read_small(s, path, max, out, len, size, NULL, NULL, err, errcap);
}

kt_status kt_storage_read_small_meta(kt_storage *s, const char *uri, size_t max, char **out, size_t *len,
                                     json_t **meta, int64_t *modified_ms, char *err, size_t errcap)
{
    char path[KT_SURI_PATH_MAX];
    *out = NULL;
    *meta = NULL;
    if (len)
        *len = 0;
    kt_status st = check_uri(s, uri, 1, path, err, errcap);
    if (st)
        return st;
    st = s->ops->read_small(s, path, max, out, len, NULL, meta, modified_ms, err, errcap);
    if (st) {
        free(*out);
        *out = NULL;
        json_decref(*meta);
        *meta = NULL;
    }
    return st;
}

kt_status kt_storage_stat(kt_storage *s, const char *uri, kt_storage_stat_cb cb, void *data, char *err,
                          size_t errcap)
{
    char path[KT_SURI_PATH_MAX];
    kt_status st = check_uri(s, uri, 0, path, err, errcap);
    if (st)
        return st;
    s->busy++;
    s->ops->stat(s, path, cb, data);
    return KT_OK;
}

typedef struct exists_req {
    kt_storage_exists_cb cb;
    void *data;
} exists_req;

static void exists_stat_cb(kt_status st, const kt_storage_attrs *attrs, const char *err, void *data)
{
    (void)attrs;
    exists_req q = *(exists_req *)data;
    free(data);
    if (st == KT_ENOTFOUND)
        q.cb(KT_OK, 0, "", q.data);
    else
        q.cb(st, st == KT_OK, err, q.data);
}

kt_status kt_storage_exists(kt_storage *s, const char *uri, kt_storage_exists_cb cb, void *data, char *err,
                            size_t errcap)
{
    exists_req *q = kt_xmalloc(sizeof *q);
    q->cb = cb;
    q->data = data;
    kt_status st = kt_storage_stat(s, uri, exists_stat_cb, q, err, errcap);
    if (st)
        free(q);
    return st;
}

/* check_uri, and the root refused: what a delete may name. */
static kt_status check_deletable(kt_storage *s, const char *uri, char *path, char *err, size_t errcap)
{
    kt_status st = check_uri(s, uri, 0, path, err, errcap);
    if (st == KT_OK && !path[0]) {
        kt_errf(err, errcap, "%s: the storage root cannot be deleted", uri);
        st = KT_EINVAL;
    }
    return st;
}

kt_status kt_storage_delete(kt_storage *s, const char *uri, kt_storage_done_cb cb, void *data, char *err,
                            size_t errcap)
{
    char path[KT_SURI_PATH_MAX];
    kt_status st = check_deletable(s, uri, path, err, errcap); /* an empty folder ("a/") may be deleted too */
    if (st)
        return st;
    s->busy++;
    s->ops->remove(s, path, cb, data);
    return KT_OK;
}

kt_status kt_storage_delete_if(kt_storage *s, const char *uri, const json_t *meta, int64_t modified_ms,
                               kt_storage_done_cb cb, void *data, char *err, size_t errcap)
{
    char path[KT_SURI_PATH_MAX];
    kt_status st = check_deletable(s, uri, path, err, errcap);
    if (st)
        return st;
    if (uri[strlen(uri) - 1] == '/') {
        kt_errf(err, errcap, "%s: a conditional delete is for a file", uri);
        return KT_EINVAL;
    }
    s->busy++;
    s->ops->remove_if(s, path, meta ? json_deep_copy(meta) : NULL, modified_ms, cb, data);
    return KT_OK;
}

int kt_storage__same_meta(const json_t *a, const json_t *b)
{
    return (!a && !b) || (a && b && json_equal(a, b));
}

kt_status kt_storage_delete_prefix(kt_storage *s, const char *uri, kt_storage_count_cb cb, void *data, char *err,
                                   size_t errcap)
{
    char path[KT_SURI_PATH_MAX];
    kt_status st = check_deletable(s, uri, path, err, errcap);
    if (st)
        return st;
    s->busy++;
    s->ops->remove_prefix(s, path, cb, data);
    return KT_OK;
}

kt_status kt_storage_list(kt_storage *s, const char *uri, kt_storage_list_cb cb, void *data, char *err,
                          size_t errcap)
{
    char path[KT_SURI_PATH_MAX];
    kt_status st = check_uri(s, uri, 0, path, err, errcap);
    if (st)
        return st;
    s->busy++;
    s->ops->list(s, path, cb, data);
    return KT_OK;
}

kt_status kt_storage_mkdir(kt_storage *s, const char *uri, kt_storage_done_cb cb, void *data, char *err,
                           size_t errcap)
{
    char path[KT_SURI_PATH_MAX];
    kt_status st = check_uri(s, uri, 0, path, err, errcap);
    if (st)
        return st;
    s->busy++;
    s->ops->mkdir(s, path, cb, data);
    return KT_OK;
}

kt_status kt_storage_move(kt_storage *s, const char *from, const char *to, kt_storage_done_cb cb, void *data,
                          char *err, size_t errcap)
{
    char pfrom[KT_SURI_PATH_MAX], pto[KT_SURI_PATH_MAX];
    kt_status st = check_uri(s, from, 0, pfrom, err, errcap);
    if (st || (st = check_uri(s, to, 0, pto, err, errcap)))
        return st;
    if (!pfrom[0] || !pto[0]) {
        kt_errf(err, errcap, "%s -> %s: the storage root cannot be moved", from, to);
        return KT_EINVAL;
    }
    if (kt_suri_under(pfrom, pto) || kt_suri_under(pto, pfrom)) {
        kt_errf(err, errcap, "%s -> %s: a folder cannot be moved onto itself, into itself or onto a parent", from, to);
        return KT_EINVAL;
    }
    s->busy++;
    s->ops->move(s, pfrom, pto, cb, data);
    return KT_OK;
}
