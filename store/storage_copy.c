/* Whole files between the worker's disk and the storage (kt_storage_put_file, kt_storage_get_file), for every
 * backend: a chain of one local uv_fs read or write and one storage write or read at a time, through one buffer of
 * KT_STORAGE_CHUNK bytes, so a 1 GiB outputFile costs 64 KiB of memory and never blocks the loop. */
#include "store/storage_int.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/alloc.h"
#include "base/assert.h"

/* What the job waits for: kt_storage_copy_cancel acts on it. */
typedef enum copy_step {
    COPY_LOCAL,  /* a uv_fs call on the local file: its callback winds the job down */
    COPY_OPEN,   /* get: the reader's open (one short call: it is let finish) */
    COPY_STORE,  /* put: a writer write, get: a reader read: dropped at once */
    COPY_COMMIT, /* put: the commit, handed to the backend: it runs to its end */
} copy_step;

struct kt_storage_copy {
    uv_loop_t *loop;
    uv_fs_t fs;
    uv_file fd;              /* the local file, -1 when closed */
    int64_t offset;          /* in the local file */
    char *local;
    char *uri;
    kt_storage_writer *w;    /* put */
    kt_storage_reader *r;    /* get */
    const char *chunk;       /* get: the reader's chunk being written out */
    size_t len, done;
    kt_status st;            /* the first failure */
    copy_step step;
    int cancelled;
    char err[KT_STORAGE_ERR_MAX];
    kt_storage_done_cb cb;
    void *data;
    char buf[KT_STORAGE_CHUNK]; /* put: what the local read filled */
};
typedef struct kt_storage_copy copy_job;

static copy_job *copy_new(kt_storage *s, const char *uri, const char *local, kt_storage_done_cb cb, void *data)
{
    copy_job *j = kt_xmalloc(sizeof *j);
    memset(j, 0, offsetof(copy_job, buf));
    j->loop = s->loop;
    j->fd = -1;
    j->local = kt_xstrdup(local);
    j->uri = kt_xstrdup(uri);
    j->cb = cb;
    j->data = data;
    return j;
}

static void copy_fail_uv(copy_job *j, const char *what, int rc)
{
    if (j->st)
        return;
    j->st = rc == UV_ENOENT ? KT_ENOTFOUND : KT_EIO;
    kt_errf(j->err, sizeof j->err, "%s %s: %s", what, j->local, uv_strerror(rc));
}

static void copy_fail(copy_job *j, kt_status st, const char *err)
{
    if (j->st)
        return;
    j->st = st;
    kt_errf(j->err, sizeof j->err, "%s", err && *err ? err : kt_strerror(st));
}

static void copy_end(copy_job *j)
{
    j->cb(j->st, j->st ? j->err : "", j->data);
    free(j->local);
    free(j->uri);
    free(j);
}

/* ---- put: local file -> writer ---- */

static void put_read(copy_job *j);

static void put_committed(kt_status st, const char *err, void *data)
{
    copy_job *j = data;
    j->w = NULL;
    if (st)
        copy_fail(j, st, err);
    copy_end(j);
}

/* The local file is closed: commit, or abort after a failure. */
static void put_closed(uv_fs_t *req)
{
    copy_job *j = req->data;
    uv_fs_req_cleanup(req);
    j->fd = -1;
    if (!j->st) {
        kt_status st = kt_storage_writer_commit(j->w, put_committed, j);
        j->step = COPY_COMMIT;
        if (!st)
            return;
        copy_fail(j, st, "storage closed");
    }
    kt_storage_writer_abort(j->w);
    j->w = NULL;
    copy_end(j);
}

static void put_close(copy_job *j)
{
    if (j->fd < 0) {
        kt_storage_writer_abort(j->w);
        j->w = NULL;
        copy_end(j);
        return;
    }
    j->fs.data = j;
    j->step = COPY_LOCAL;
    int rc = uv_fs_close(j->loop, &j->fs, j->fd, put_closed);
    KT_ASSERTF(rc == 0, "uv_fs_close: %s", uv_strerror(rc));
}

static void put_wrote(kt_status st, const char *err, void *data)
{
    copy_job *j = data;
    if (st) {
        copy_fail(j, st, err);
        put_close(j);
        return;
    }
    put_read(j);
}

static void put_got(uv_fs_t *req)
{
    copy_job *j = req->data;
    ssize_t n = req->result;
    uv_fs_req_cleanup(req);
    if (n <= 0 || j->st) {
        if (n < 0)
            copy_fail_uv(j, "read", (int)n);
        put_close(j); /* the end of the file (or a cancel): close, then commit (or abort) */
        return;
    }
    j->offset += n;
    j->step = COPY_STORE;
    kt_status st = kt_storage_write(j->w, j->buf, (size_t)n, put_wrote, j);
    if (st) {
        copy_fail(j, st, "storage closed");
        put_close(j);
    }
}

static void put_read(copy_job *j)
{
    uv_buf_t b = uv_buf_init(j->buf, sizeof j->buf);
    j->fs.data = j;
    j->step = COPY_LOCAL;
    int rc = uv_fs_read(j->loop, &j->fs, j->fd, &b, 1, j->offset, put_got);
    KT_ASSERTF(rc == 0, "uv_fs_read: %s", uv_strerror(rc));
}

static void put_opened(uv_fs_t *req)
{
    copy_job *j = req->data;
    int rc = (int)req->result;
    uv_fs_req_cleanup(req);
    if (rc < 0) {
        copy_fail_uv(j, "open", rc);
        put_close(j);
        return;
    }
    j->fd = rc;
    struct stat sb;
    if (j->st || fstat(rc, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        copy_fail_uv(j, "open", UV_EINVAL);
        put_close(j);
        return;
    }
    put_read(j);
}

kt_status kt_storage_put_file(kt_storage *s, const char *uri, const char *local_path, const json_t *metadata,
                              kt_storage_done_cb cb, void *data, char *err, size_t errcap)
{
    return kt_storage_put_file_c(s, uri, local_path, metadata, cb, data, NULL, err, errcap);
}

kt_status kt_storage_put_file_c(kt_storage *s, const char *uri, const char *local_path, const json_t *metadata,
                                kt_storage_done_cb cb, void *data, kt_storage_copy **out, char *err, size_t errcap)
{
    kt_storage_writer *w;
    kt_status st = kt_storage_writer_open(s, uri, metadata, &w, err, errcap);
    if (st)
        return st;
    copy_job *j = copy_new(s, uri, local_path, cb, data);
    j->w = w;
    j->fs.data = j;
    j->step = COPY_LOCAL;
    /* no symlink followed, no blocking on a fifo a script left there: put_opened then refuses anything not a file */
    int rc = uv_fs_open(s->loop, &j->fs, local_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0, put_opened);
    KT_ASSERTF(rc == 0, "uv_fs_open: %s", uv_strerror(rc));
    if (out)
        *out = j;
    return KT_OK;
}

/* ---- get: reader -> local file ---- */

static void get_next(copy_job *j);

static void get_unlinked(uv_fs_t *req)
{
    copy_job *j = req->data;
    uv_fs_req_cleanup(req);
    copy_end(j);
}

/* The local file is closed: done, or remove what was written after a failure. */
static void get_closed(uv_fs_t *req)
{
    copy_job *j = req->data;
    int rc = (int)req->result;
    uv_fs_req_cleanup(req);
    j->fd = -1;
    if (rc < 0)
        copy_fail_uv(j, "close", rc);
    kt_storage_reader_close(j->r);
    j->r = NULL;
    if (!j->st) {
        copy_end(j);
        return;
    }
    j->step = COPY_LOCAL;
    rc = uv_fs_unlink(j->loop, &j->fs, j->local, get_unlinked);
    KT_ASSERTF(rc == 0, "uv_fs_unlink: %s", uv_strerror(rc));
}

static void get_finish(copy_job *j)
{
    if (j->fd < 0) {
        kt_storage_reader_close(j->r);
        j->r = NULL;
        copy_end(j);
        return;
    }
    j->fs.data = j;
    j->step = COPY_LOCAL;
    int rc = uv_fs_close(j->loop, &j->fs, j->fd, get_closed);
    KT_ASSERTF(rc == 0, "uv_fs_close: %s", uv_strerror(rc));
}

static void get_write(copy_job *j);

static void get_wrote(uv_fs_t *req)
{
    copy_job *j = req->data;
    ssize_t n = req->result;
    uv_fs_req_cleanup(req);
    if (n < 0 || j->st) {
        if (n < 0)
            copy_fail_uv(j, "write", (int)n);
        get_finish(j);
        return;
    }
    j->done += (size_t)n;
    j->offset += n;
    if (j->done < j->len)
        get_write(j); /* a short write: the rest of the chunk */
    else
        get_next(j);
}

static void get_write(copy_job *j)
{
    uv_buf_t b = uv_buf_init((char *)j->chunk + j->done, (unsigned)(j->len - j->done));
    j->fs.data = j;
    j->step = COPY_LOCAL;
    int rc = uv_fs_write(j->loop, &j->fs, j->fd, &b, 1, j->offset, get_wrote);
    KT_ASSERTF(rc == 0, "uv_fs_write: %s", uv_strerror(rc));
}

static void get_got(kt_storage_reader *r, kt_status st, const char *chunk, size_t len, const char *err, void *data)
{
    copy_job *j = data;
    if (st || len == 0) {
        if (st)
            copy_fail(j, st, err);
        get_finish(j);
        return;
    }
    j->chunk = chunk; /* the reader's buffer, valid until the next read */
    j->len = len;
    j->done = 0;
    get_write(j);
}

static void get_next(copy_job *j)
{
    j->step = COPY_STORE;
    kt_status st = kt_storage_read(j->r, get_got, j);
    if (st) {
        copy_fail(j, st, "storage closed");
        get_finish(j);
    }
}

static void get_local_opened(uv_fs_t *req)
{
    copy_job *j = req->data;
    int rc = (int)req->result;
    uv_fs_req_cleanup(req);
    if (rc < 0) {
        copy_fail_uv(j, "open", rc);
        j->st = KT_EIO; /* a missing parent folder of the target is the caller's I/O problem, not a missing URI */
        get_finish(j);
        return;
    }
    j->fd = rc;
    if (j->st) { /* cancelled while the file was opened */
        get_finish(j);
        return;
    }
    get_next(j);
}

static void get_opened(kt_storage_reader *r, kt_status st, const kt_storage_attrs *attrs, const char *err,
                       void *data)
{
    (void)attrs;
    copy_job *j = data;
    if (st) {
        j->r = NULL; /* freed by the storage after this callback */
        copy_fail(j, st, err);
        copy_end(j);
        return;
    }
    if (j->st) { /* cancelled during the open: no local file made */
        kt_storage_reader_close(j->r);
        j->r = NULL;
        copy_end(j);
        return;
    }
    j->fs.data = j;
    j->step = COPY_LOCAL;
    int rc = uv_fs_open(j->loop, &j->fs, j->local, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644,
                        get_local_opened);
    KT_ASSERTF(rc == 0, "uv_fs_open: %s", uv_strerror(rc));
}

kt_status kt_storage_get_file(kt_storage *s, const char *uri, const char *local_path, kt_storage_done_cb cb,
                              void *data, char *err, size_t errcap)
{
    return kt_storage_get_file_c(s, uri, local_path, cb, data, NULL, err, errcap);
}

kt_status kt_storage_get_file_c(kt_storage *s, const char *uri, const char *local_path, kt_storage_done_cb cb,
                                void *data, kt_storage_copy **out, char *err, size_t errcap)
{
    copy_job *j = copy_new(s, uri, local_path, cb, data);
    j->step = COPY_OPEN;
    kt_status st = kt_storage_reader_open(s, uri, get_opened, j, &j->r, err, errcap);
    if (st) {
        free(j->local);
        free(j->uri);
        free(j);
        return st;
    }
    if (out)
        *out = j;
    return KT_OK;
}

/* ---- cancel ---- */

void kt_storage_copy_cancel(kt_storage_copy *j)
{
    if (!j || j->cancelled)
        return;
    j->cancelled = 1;
    if (j->step == COPY_COMMIT)
        return; /* the backend has the whole file already: the commit ends the job with its own result */
    if (!j->st) {
        j->st = KT_ECLOSED;
        kt_errf(j->err, sizeof j->err, "copy of %s cancelled", j->uri);
    }
    if (j->step != COPY_STORE)
        return; /* the local call or the reader's open comes back, sees st and winds the job down */
    /* A storage write or read in flight: drop it (its callback never runs), then close the local file, whose
     * callback removes a get's partial file and ends the job; the job is never ended inside this call. */
    if (j->w) {
        kt_storage_writer_abort(j->w);
        j->w = NULL;
        put_close(j);
    } else {
        kt_storage_reader_close(j->r);
        j->r = NULL;
        get_finish(j);
    }
}
