/* The local storage backend: `kestra:///a/b.txt` is <base>/a/b.txt (Kestra's LocalStorage without tenants).
 *
 * Chunks move with uv_fs_read/uv_fs_write on the file's descriptor. Everything that takes several system calls
 * runs as one uv_queue_work job on the thread pool: resolving a path, creating folders, publishing a writer,
 * listing, deleting a tree. Paths are resolved from a descriptor of the base folder one segment at a time with
 * O_NOFOLLOW (openat), so no symlink is ever followed, inside or outside the base: a symlink anywhere on the path
 * is refused (KT_EINVAL) rather than resolved, and a folder swapped for a symlink between two calls cannot lead
 * out either, since every later call is made relative to the descriptors already opened.
 *
 * Writers write into <base>/.kite-tmp/w-<random> and rename it over the target at commit (one file system, so
 * atomic). Files a crash left there belong to nobody; they may be removed while no server uses the folder. The
 * data is not fsynced (as Kestra's LocalStorage): a file committed just before a power cut may be lost. */
#include "store/storage_local_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/id.h"
#include "store/storage_uri.h"



/* ---- readers ---- */

typedef struct local_reader {
    kt_storage_reader base;
    uv_work_t work;
    uv_fs_t fs;
    int fd;
    int64_t offset;
    char *path;
    kt_status st;
    char err[KT_STORAGE_ERR_MAX];
    kt_storage_attrs attrs;
    char buf[KT_STORAGE_CHUNK];
} local_reader;

static void reader_open_work(uv_work_t *req)
{
    local_reader *r = req->data;
    kt_slocal *ls = (kt_slocal *)r->base.s;
    int dfd;
    const char *last;
    r->st = kt_slocal__walk_parent(ls, r->path, 0, &dfd, &last, r->err, sizeof r->err);
    if (r->st)
        return;
    /* O_NONBLOCK: a FIFO planted in the folder must not hang a pool thread in open(). */
    r->fd = openat(dfd, last, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (r->fd < 0)
        r->st = kt_slocal__classify(dfd, last, errno, r->path, 0, r->err, sizeof r->err);
    else if (!(r->st = kt_slocal__attrs_at(r->fd, "", r->path, &r->attrs, r->err, sizeof r->err)) &&
             r->attrs.type != KT_STORAGE_FILE) {
        kt_errf(r->err, sizeof r->err, "kestra:///%s: a folder, not a file", r->path);
        r->st = KT_EINVAL;
    }
    if (!r->st)
        r->st = kt_slocal__metadata_at(dfd, last, r->path, &r->attrs, r->err, sizeof r->err);
    if (r->st && r->fd >= 0) {
        close(r->fd);
        r->fd = -1;
    }
    close(dfd);
}

static void reader_open_done(uv_work_t *req, int status)
{
    local_reader *r = req->data;
    /* The callback may free r (a failed open is closed at once): keep the attributes aside. */
    kt_storage_attrs a = r->attrs;
    memset(&r->attrs, 0, sizeof r->attrs);
    kt_status st = status ? KT_EIO : r->st;
    kt_storage__reader_opened(&r->base, st, &a, r->err);
    kt_storage_attrs_clear(&a);
}

static void local_reader_open(kt_storage_reader *base, const char *path)
{
    local_reader *r = (local_reader *)base;
    r->fd = -1;
    r->path = kt_xstrdup(path);
    r->work.data = r;
    int rc = uv_queue_work(base->s->loop, &r->work, reader_open_work, reader_open_done);
    KT_ASSERTF(rc == 0, "uv_queue_work: %s", uv_strerror(rc));
}

static void reader_read_done(uv_fs_t *req)
{
    local_reader *r = req->data;
    ssize_t n = req->result;
    uv_fs_req_cleanup(req);
    if (n < 0) {
        kt_errf(r->err, sizeof r->err, "kestra:///%s: read: %s", r->path, uv_strerror((int)n));
        kt_storage__reader_got(&r->base, KT_EIO, NULL, 0, r->err);
        return;
    }
    r->offset += n;
    kt_storage__reader_got(&r->base, KT_OK, r->buf, (size_t)n, "");
}

static void local_reader_read(kt_storage_reader *base)
{
    local_reader *r = (local_reader *)base;
    uv_buf_t b = uv_buf_init(r->buf, sizeof r->buf);
    r->fs.data = r;
    int rc = uv_fs_read(base->s->loop, &r->fs, r->fd, &b, 1, r->offset, reader_read_done);
    KT_ASSERTF(rc == 0, "uv_fs_read: %s", uv_strerror(rc));
}

static void reader_gone(local_reader *r)
{
    free(r->path);
    kt_storage_attrs_clear(&r->attrs);
    kt_storage__reader_gone(&r->base);
}

static void reader_closed(uv_fs_t *req)
{
    uv_fs_req_cleanup(req);
    reader_gone(req->data);
}

static void local_reader_close(kt_storage_reader *base)
{
    local_reader *r = (local_reader *)base;
    if (r->fd < 0) {
        reader_gone(r);
        return;
    }
    r->fs.data = r;
    int rc = uv_fs_close(base->s->loop, &r->fs, r->fd, reader_closed);
    KT_ASSERTF(rc == 0, "uv_fs_close: %s", uv_strerror(rc));
}

/* ---- writers ---- */

typedef struct local_writer {
    kt_storage_writer base;
    uv_work_t work;
    uv_fs_t fs;
    int fd;          /* the temporary file */
    int dfd;         /* the target's folder, during the commit */
    char *path;
    const char *last; /* into path */
    char tmp[KT_ID_LEN + 4]; /* the temporary file's name in .kite-tmp, "" before it exists */
    char *meta;      /* the side file's text or NULL */
    const char *chunk;
    size_t len, done;
    int64_t offset;
    kt_status st;
    char err[KT_STORAGE_ERR_MAX];
} local_writer;

static void writer_open_work(uv_work_t *req)
{
    local_writer *w = req->data;
    kt_slocal *ls = (kt_slocal *)w->base.s;
    char id[KT_ID_LEN + 1];
    kt_id_new(id);
    snprintf(w->tmp, sizeof w->tmp, "w-%s", id);
    w->fd = openat(ls->tmp_fd, w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        kt_errf(w->err, sizeof w->err, "kestra:///%s: temporary file: %s", w->path, strerror(errno));
        w->st = KT_EIO;
        w->tmp[0] = 0;
    }
}

static void writer_open_done(uv_work_t *req, int status)
{
    local_writer *w = req->data;
    kt_storage__writer_opened(&w->base, status ? KT_EIO : w->st, w->err);
}

static void local_writer_open(kt_storage_writer *base, const char *path, char *metadata_json)
{
    local_writer *w = (local_writer *)base;
    w->fd = -1;
    w->dfd = -1;
    w->path = kt_xstrdup(path);
    w->meta = metadata_json;
    w->work.data = w;
    int rc = uv_queue_work(base->s->loop, &w->work, writer_open_work, writer_open_done);
    KT_ASSERTF(rc == 0, "uv_queue_work: %s", uv_strerror(rc));
}

static void writer_write_next(local_writer *w);

static void writer_write_done(uv_fs_t *req)
{
    local_writer *w = req->data;
    ssize_t n = req->result;
    uv_fs_req_cleanup(req);
    if (n < 0) {
        kt_errf(w->err, sizeof w->err, "kestra:///%s: write: %s", w->path, uv_strerror((int)n));
        kt_storage__writer_wrote(&w->base, KT_EIO, w->err);
        return;
    }
    w->done += (size_t)n;
    w->offset += n;
    if (w->done < w->len)
        writer_write_next(w); /* a short write (a full disk answers ENOSPC on the next one) */
    else
        kt_storage__writer_wrote(&w->base, KT_OK, "");
}

static void writer_write_next(local_writer *w)
{
    size_t n = w->len - w->done;
    if (n > KT_STORAGE_CHUNK * 16)
        n = KT_STORAGE_CHUNK * 16; /* uv_buf_t holds an unsigned int */
    uv_buf_t b = uv_buf_init((char *)w->chunk + w->done, (unsigned)n);
    w->fs.data = w;
    int rc = uv_fs_write(w->base.s->loop, &w->fs, w->fd, &b, 1, w->offset, writer_write_done);
    KT_ASSERTF(rc == 0, "uv_fs_write: %s", uv_strerror(rc));
}

static void local_writer_write(kt_storage_writer *base, const void *chunk, size_t len)
{
    local_writer *w = (local_writer *)base;
    w->chunk = chunk;
    w->len = len;
    w->done = 0;
    writer_write_next(w); /* len 0 too: the zero-byte write brings the answer on a later turn */
}

/* Closes what the writer holds and removes its temporary files (thread pool). */
static void writer_release(local_writer *w, const char *meta_tmp)
{
    kt_slocal *ls = (kt_slocal *)w->base.s;
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    if (w->tmp[0])
        unlinkat(ls->tmp_fd, w->tmp, 0);
    if (meta_tmp && meta_tmp[0])
        unlinkat(ls->tmp_fd, meta_tmp, 0);
    if (w->dfd >= 0)
        close(w->dfd);
    w->dfd = -1;
}

/* Writes the metadata into .kite-tmp/<name> and renames it beside the target. */
static kt_status writer_publish_meta(local_writer *w, char *name, size_t cap)
{
    kt_slocal *ls = (kt_slocal *)w->base.s;
    char side[NAME_MAX + 1];
    if (snprintf(side, sizeof side, "%s%s", w->last, KT_SLOCAL_META) >= (int)sizeof side) {
        kt_errf(w->err, sizeof w->err, "kestra:///%s: name too long for its metadata", w->path);
        return KT_EINVAL;
    }
    snprintf(name, cap, "m-%s", w->tmp + 2);
    int fd = openat(ls->tmp_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        name[0] = 0;
        goto fail;
    }
    size_t n = strlen(w->meta), done = 0;
    ssize_t r = 0;
    while (done < n && (r = write(fd, w->meta + done, n - done)) > 0)
        done += (size_t)r;
    if (done < n || close(fd) < 0)
        goto fail;
    if (renameat(ls->tmp_fd, name, w->dfd, side) < 0)
        return kt_slocal__classify(w->dfd, side, errno, w->path, 1, w->err, sizeof w->err);
    name[0] = 0;
    return KT_OK;
fail:
    kt_errf(w->err, sizeof w->err, "kestra:///%s%s: %s", w->path, KT_SLOCAL_META, strerror(errno ? errno : EIO));
    return KT_EIO;
}

static void writer_commit_work(uv_work_t *req)
{
    local_writer *w = req->data;
    kt_slocal *ls = (kt_slocal *)w->base.s;
    char meta_tmp[KT_ID_LEN + 4] = "";
    int fd = w->fd;
    w->fd = -1;
    /* The folders are made only now, so an aborted writer leaves nothing behind, not even an empty folder. */
    if ((w->st = kt_slocal__walk_parent(ls, w->path, 1, &w->dfd, &w->last, w->err, sizeof w->err))) {
        close(fd);
    } else if (close(fd) < 0) {
        kt_errf(w->err, sizeof w->err, "kestra:///%s: close: %s", w->path, strerror(errno));
        w->st = KT_EIO;
    } else if (renameat(ls->tmp_fd, w->tmp, w->dfd, w->last) < 0) {
        /* refused (a folder of that name): nothing was published, the old file and its metadata stay as they were */
        w->st = kt_slocal__classify(w->dfd, w->last, errno, w->path, 1, w->err, sizeof w->err);
    } else {
        w->tmp[0] = 0; /* published: nothing to remove */
        if (w->meta) /* after the data: a refused commit never leaves new metadata beside the old file */
            w->st = writer_publish_meta(w, meta_tmp, sizeof meta_tmp);
    }
    writer_release(w, meta_tmp);
}

static void writer_free_own(local_writer *w)
{
    free(w->path);
    free(w->meta);
    w->path = w->meta = NULL;
}

static void writer_commit_done(uv_work_t *req, int status)
{
    local_writer *w = req->data;
    writer_free_own(w);
    kt_storage__writer_committed(&w->base, status ? KT_EIO : w->st, w->err);
}

static void local_writer_commit(kt_storage_writer *base)
{
    local_writer *w = (local_writer *)base;
    w->st = KT_OK;
    w->work.data = w;
    int rc = uv_queue_work(base->s->loop, &w->work, writer_commit_work, writer_commit_done);
    KT_ASSERTF(rc == 0, "uv_queue_work: %s", uv_strerror(rc));
}

static void writer_abort_work(uv_work_t *req)
{
    writer_release(req->data, NULL);
}

static void writer_abort_done(uv_work_t *req, int status)
{
    (void)status;
    local_writer *w = req->data;
    writer_free_own(w);
    kt_storage__writer_gone(&w->base);
}

static void local_writer_abort(kt_storage_writer *base)
{
    local_writer *w = (local_writer *)base;
    w->work.data = w;
    int rc = uv_queue_work(base->s->loop, &w->work, writer_abort_work, writer_abort_done);
    KT_ASSERTF(rc == 0, "uv_queue_work: %s", uv_strerror(rc));
}

static void local_destroy(kt_storage *s)
{
    kt_slocal *ls = (kt_slocal *)s;
    close(ls->tmp_fd);
    close(ls->dir_fd);
    free(ls);
}

static const kt_storage_ops local_ops = {
    .name = "local",
    .reader_size = sizeof(local_reader),
    .writer_size = sizeof(local_writer),
    .reader_open = local_reader_open,
    .reader_read = local_reader_read,
    .reader_close = local_reader_close,
    .writer_open = local_writer_open,
    .writer_write = local_writer_write,
    .writer_commit = local_writer_commit,
    .writer_abort = local_writer_abort,
    .stat = kt_slocal__stat,
    .remove = kt_slocal__remove,
    .remove_if = kt_slocal__remove_if,
    .remove_prefix = kt_slocal__remove_prefix,
    .list = kt_slocal__list,
    .mkdir = kt_slocal__mkdir,
    .move = kt_slocal__move,
    .read_small = kt_slocal__read_small,
    .destroy = local_destroy,
};

/* mkdir -p (at start-up, before the loop runs). */
static int mkdirs(const char *dir)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    return mkdir(p, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

kt_status kt_storage_local_open(uv_loop_t *loop, const char *base_dir, kt_storage **out, char *err, size_t errcap)
{
    kt_slocal *ls = kt_xcalloc(1, sizeof *ls);
    ls->dir_fd = ls->tmp_fd = -1;
    if (mkdirs(base_dir) < 0 || (ls->dir_fd = open(base_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        goto fail;
    if (mkdirat(ls->dir_fd, KT_SLOCAL_TMP, 0700) < 0 && errno != EEXIST)
        goto fail;
    if ((ls->tmp_fd = openat(ls->dir_fd, KT_SLOCAL_TMP, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        goto fail;
    kt_storage__init(&ls->base, &local_ops, loop);
    *out = &ls->base;
    return KT_OK;
fail:
    kt_errf(err, errcap, "storage folder %s: %s", base_dir, strerror(errno));
    if (ls->dir_fd >= 0)
        close(ls->dir_fd);
    free(ls);
    return KT_EIO;
}
