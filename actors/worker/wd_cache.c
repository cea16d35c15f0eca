/* WorkingDirectory's cache (wd_cache.h). */
#include "actors/worker/wd_cache.h"
#include "actors/worker/script_files.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/zip.h"
#include "store/storage.h"
#include "store/storage_uri.h"
#include "time/duration.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define KT_WDCACHE_PATH 4096
/* What an extracted cache may hold: a node_modules folder is many files, but not millions */
#define KT_WDCACHE_MAX_ENTRIES 1000000
#define KT_WDCACHE_MAX_BYTES (UINT64_C(16) << 30)

/* ---- the cache's place ------------------------------------------------------------------------------------ */

static uint64_t kt_rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static uint64_t kt_fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= UINT64_C(0xff51afd7ed558ccd);
    k ^= k >> 33;
    k *= UINT64_C(0xc4ceb9fe1a85ec53);
    k ^= k >> 33;
    return k;
}

static uint64_t kt_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* MurmurHash3_x64_128 with seed 0 (Austin Appleby's algorithm, as Guava's Murmur3_128HashFunction). */
void kt_wdcache_hash(const char *text, char out[33])
{
    const unsigned char *d = (const unsigned char *)text;
    size_t len = strlen(text);
    const uint64_t c1 = UINT64_C(0x87c37b91114253d5), c2 = UINT64_C(0x4cf5ad432745937f);
    uint64_t h1 = 0, h2 = 0, k1, k2;
    size_t i = 0;
    for (; i + 16 <= len; i += 16) {
        k1 = kt_le64(d + i) * c1;
        h1 ^= kt_rotl64(k1, 31) * c2;
        h1 = (kt_rotl64(h1, 27) + h2) * 5 + 0x52dce729;
        k2 = kt_le64(d + i + 8) * c2;
        h2 ^= kt_rotl64(k2, 33) * c1;
        h2 = (kt_rotl64(h2, 31) + h1) * 5 + 0x38495ab5;
    }
    size_t rest = len - i;
    k1 = k2 = 0;
    for (size_t j = rest; j > 8; j--)
        k2 ^= (uint64_t)d[i + j - 1] << (8 * (j - 9));
    for (size_t j = rest < 8 ? rest : 8; j > 0; j--)
        k1 ^= (uint64_t)d[i + j - 1] << (8 * (j - 1));
    if (rest > 8)
        h2 ^= kt_rotl64(k2 * c2, 33) * c1;
    if (rest > 0)
        h1 ^= kt_rotl64(k1 * c1, 31) * c2;
    h1 ^= len;
    h2 ^= len;
    h1 += h2;
    h2 += h1;
    h1 = kt_fmix64(h1);
    h2 = kt_fmix64(h2);
    h1 += h2;
    h2 += h1;
    /* HashCode.toString: the 16 bytes as Guava writes them (h1 then h2, little-endian), two hex digits each */
    for (int b = 0; b < 16; b++)
        snprintf(out + 2 * b, 3, "%02x", (unsigned)(((b < 8 ? h1 : h2) >> (8 * (b % 8))) & 0xff));
}

int kt_wdcache_uri(kt_task_run *r, const char *task_id, const char *value, char *out, size_t cap)
{
    const json_t *info = kt_task_run_info(r);
    const char *ns = json_string_value(json_object_get(info, "namespace"));
    const char *flow = json_string_value(json_object_get(info, "flowId"));
    if (!ns || !flow || !task_id)
        return -1;
    char nsp[KT_SURI_PATH_MAX + 1], fslug[KT_SURI_NAME_MAX + 1], tslug[KT_SURI_NAME_MAX + 1], hash[33] = "";
    char path[KT_SURI_PATH_MAX + 1], checked[KT_SURI_PATH_MAX + 1], err[256];
    kt_suri_namespace_path(ns, nsp, sizeof nsp);
    kt_suri_slug(flow, fslug, sizeof fslug);
    kt_suri_slug(task_id, tslug, sizeof tslug);
    if (value)
        kt_wdcache_hash(value, hash);
    int n = snprintf(path, sizeof path, "%s/%s/%s/cache/%s%scache.zip", nsp, fslug, tslug, hash, value ? "/" : "");
    if (n < 0 || (size_t)n >= sizeof path || !fslug[0] || !tslug[0] ||
        kt_suri_relative(path, checked, sizeof checked, err, sizeof err) ||
        kt_suri_from_path(checked, out, cap))
        return -1;
    return 0;
}

/* ---- one operation ---------------------------------------------------------------------------------------- */

struct kt_wdcache_op {
    kt_task_run *r;
    kt_storage *storage;
    kt_wdcache_done_fn done;
    void *data;
    atomic_int cancelled;
    kt_storage_copy *copy;
    kt_sfiles_matcher *m; /* save: the patterns */
    int64_t restored_ms;  /* save: files older than this are the cache's own; restore: when extraction ended */
    int64_t ttl_us;       /* restore: 0 for none */
    int zipped;           /* save: a zip was written to local */
    size_t nfiles;
    uv_work_t work;
    char err[512];        /* the pool's failure, logged back on the loop */
    char skipped[512];    /* restore: the first entry that could not be written (logged, not fatal) */
    char uri[3 * KT_SURI_PATH_MAX + 16];
    char local[KT_WDCACHE_PATH];   /* the zip on the local disk, outside the working directory */
    char workdir[KT_WDCACHE_PATH];
};

static void kt_wdcache_finish(kt_wdcache_op *op, int ok)
{
    if (op->local[0])
        unlink(op->local);
    if (atomic_load(&op->cancelled))
        ok = 0;
    kt_sfiles_matcher_free(op->m);
    kt_wdcache_done_fn done = op->done;
    void *data = op->data;
    int64_t restored = op->restored_ms;
    free(op);
    done(data, ok, restored);
}

void kt_wdcache_cancel(kt_wdcache_op *op)
{
    if (!op || atomic_exchange(&op->cancelled, 1))
        return;
    kt_storage_copy_cancel(op->copy);
}

static kt_wdcache_op *kt_wdcache_new(kt_task_run *r, const json_t *cache, const char *value, const char *workdir,
                                     kt_wdcache_done_fn done, void *data)
{
    if (!cache || json_is_null(cache))
        return NULL;
    if (!kt_task_storage(r)) {
        kt_task_logf(r, "ERROR", "cache needs the internal storage, which this worker was not given");
        return NULL;
    }
    kt_wdcache_op *op = kt_xcalloc(1, sizeof *op);
    atomic_init(&op->cancelled, 0);
    op->r = r;
    op->storage = kt_task_storage(r);
    op->done = done;
    op->data = data;
    snprintf(op->workdir, sizeof op->workdir, "%s", workdir);
    if (kt_wdcache_uri(r, json_string_value(json_object_get(kt_task_props(r), "id")), value, op->uri, sizeof op->uri)) {
        kt_task_logf(r, "ERROR", "cache: no storage place for this task's cache");
        free(op);
        return NULL;
    }
    snprintf(op->local, sizeof op->local, "%s/kite-cache-XXXXXX", kt_task_tmp_dir(r));
    int fd = mkstemp(op->local);
    if (fd < 0) {
        kt_task_logf(r, "ERROR", "cache: cannot create a file in %s: %s", kt_task_tmp_dir(r), strerror(errno));
        free(op);
        return NULL;
    }
    close(fd);
    return op;
}

/* ---- restore ---------------------------------------------------------------------------------------------- */

/* Makes the parents of workdir/rel; -1 with errno. */
static int kt_wdcache_mkdirs(char *path, size_t base)
{
    for (char *c = path + base; *c; c++) {
        if (*c != '/')
            continue;
        *c = 0;
        int rc = mkdir(path, 0755);
        *c = '/';
        if (rc && errno != EEXIST)
            return -1;
    }
    return 0;
}

static void kt_wdcache_extract_work(uv_work_t *w)
{
    kt_wdcache_op *op = w->data;
    int fd = open(op->local, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) {
        snprintf(op->err, sizeof op->err, "cannot read the cache: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return;
    }
    void *map = st.st_size ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    close(fd);
    if (map == MAP_FAILED) {
        snprintf(op->err, sizeof op->err, "cannot read the cache: %s", st.st_size ? strerror(errno) : "empty file");
        return;
    }
    kt_zip_limits lim = {.max_entries = KT_WDCACHE_MAX_ENTRIES, .max_total = KT_WDCACHE_MAX_BYTES};
    kt_zip_reader *z = NULL;
    char err[256];
    if (kt_zip_open(map, (size_t)st.st_size, &lim, &z, err, sizeof err)) {
        snprintf(op->err, sizeof op->err, "the cache is not a zip Kite can read: %s", err);
        munmap(map, (size_t)st.st_size);
        return;
    }
    char *buf = kt_xmalloc(KT_STORAGE_CHUNK), path[2 * KT_WDCACHE_PATH];
    size_t base = strlen(op->workdir) + 1;
    for (size_t i = 0; i < kt_zip_count(z) && !atomic_load(&op->cancelled); i++) {
        const kt_zip_entry *e = kt_zip_get(z, i);
        if (e->is_dir)
            continue;
        /* names were checked by the reader (no `..`, no absolute path); each file is written without following a
         * symlink the archive cannot hold anyway. Kestra logs a file it cannot create and goes on. */
        kt_zip_stream *s = NULL;
        int out = -1, ok = (size_t)snprintf(path, sizeof path, "%s/%s", op->workdir, e->name) < sizeof path &&
                           !kt_wdcache_mkdirs(path, base) &&
                           (out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644)) >= 0 &&
                           kt_zip_stream_open(z, i, &s) == KT_OK;
        size_t n = 0;
        while (ok && kt_zip_stream_read(s, buf, KT_STORAGE_CHUNK, &n, err, sizeof err) == KT_OK && n)
            ok = write(out, buf, n) == (ssize_t)n;
        ok = ok && n == 0;
        kt_zip_stream_close(s);
        if (out >= 0 && close(out))
            ok = 0;
        if (!ok && !op->skipped[0])
            snprintf(op->skipped, sizeof op->skipped, "%s", e->name);
    }
    free(buf);
    kt_zip_close(z);
    munmap(map, (size_t)st.st_size);
}

static void kt_wdcache_extracted(uv_work_t *w, int status)
{
    kt_wdcache_op *op = w->data;
    if (status || op->err[0]) {
        kt_task_logf(op->r, "ERROR", "Failed preExecuteTasks on WorkingDirectory: %s",
                     status ? uv_strerror(status) : op->err);
        kt_wdcache_finish(op, 0);
        return;
    }
    if (op->skipped[0])
        kt_task_logf(op->r, "ERROR", "Unable to create the file %s", op->skipped);
    op->restored_ms = kt_now_us() / 1000; /* cacheDownloadedTime: taken once the files are in place */
    kt_wdcache_finish(op, 1);
}

static void kt_wdcache_fetched(kt_status st, const char *err, void *data)
{
    kt_wdcache_op *op = data;
    op->copy = NULL;
    if (st || atomic_load(&op->cancelled)) {
        if (!atomic_load(&op->cancelled))
            kt_task_logf(op->r, "ERROR", "Failed preExecuteTasks on WorkingDirectory: %s", err);
        kt_wdcache_finish(op, 0);
        return;
    }
    op->work.data = op;
    if (uv_queue_work(kt_task_loop(op->r), &op->work, kt_wdcache_extract_work, kt_wdcache_extracted)) {
        kt_task_logf(op->r, "ERROR", "Failed preExecuteTasks on WorkingDirectory: cannot queue the extraction");
        kt_wdcache_finish(op, 0);
    }
}

static void kt_wdcache_deleted(kt_status st, const char *err, void *data)
{
    kt_wdcache_op *op = data;
    if (st && st != KT_ENOTFOUND)
        kt_task_logf(op->r, "WARN", "cache: the expired cache could not be deleted: %s", err);
    kt_wdcache_finish(op, 1);
}

static void kt_wdcache_stated(kt_status st, const kt_storage_attrs *attrs, const char *err, void *data)
{
    kt_wdcache_op *op = data;
    char e[512] = "";
    if (atomic_load(&op->cancelled)) {
        kt_wdcache_finish(op, 0);
        return;
    }
    if (st == KT_ENOTFOUND) { /* no cache yet */
        kt_wdcache_finish(op, 1);
        return;
    }
    if (st) {
        kt_task_logf(op->r, "ERROR", "Failed preExecuteTasks on WorkingDirectory: %s", err);
        kt_wdcache_finish(op, 0);
        return;
    }
    if (op->ttl_us > 0 && kt_now_us() > attrs->modified_ms * 1000 + op->ttl_us) {
        kt_task_logf(op->r, "DEBUG", "Cache is expired, deleting it");
        if (kt_storage_delete(op->storage, op->uri, kt_wdcache_deleted, op, e, sizeof e))
            kt_wdcache_finish(op, 1);
        return;
    }
    kt_task_logf(op->r, "DEBUG", "Cache exist, downloading it");
    if (kt_storage_get_file_c(op->storage, op->uri, op->local, kt_wdcache_fetched, op, &op->copy, e, sizeof e)) {
        kt_task_logf(op->r, "ERROR", "Failed preExecuteTasks on WorkingDirectory: %s", e);
        kt_wdcache_finish(op, 0);
    }
}

int kt_wdcache_restore(kt_task_run *r, const char *value, const char *workdir, kt_wdcache_done_fn done, void *data,
                       kt_wdcache_op **out)
{
    const json_t *cache = json_object_get(kt_task_props(r), "cache");
    if (!cache || json_is_null(cache))
        return 1;
    json_t *ttl = json_object_get(cache, "ttl");
    int64_t ttl_us = 0;
    if (ttl && !json_is_null(ttl) && kt_duration_from_json(ttl, &ttl_us)) {
        kt_task_logf(r, "ERROR", "cache.ttl: invalid duration");
        return -1;
    }
    kt_wdcache_op *op = kt_wdcache_new(r, cache, value, workdir, done, data);
    if (!op)
        return -1;
    op->ttl_us = ttl_us;
    char err[512] = "";
    if (kt_storage_stat(op->storage, op->uri, kt_wdcache_stated, op, err, sizeof err)) {
        kt_task_logf(r, "ERROR", "Failed preExecuteTasks on WorkingDirectory: %s", err);
        unlink(op->local);
        free(op);
        return -1;
    }
    *out = op;
    return 0;
}

/* ---- save ------------------------------------------------------------------------------------------------- */

typedef struct kt_wdcache_zip {
    kt_wdcache_op *op;
    kt_zip_writer *z;
    kt_buf buf;
    int fd;
    int updated;
    char **files;
    size_t n, cap;
} kt_wdcache_zip;

/* The regular files under dfd (closed here) whose path relative to workdir matches (symlinks never followed),
 * and whether one changed after the restore. */
static int kt_wdcache_walk(kt_wdcache_zip *zw, int dfd, char *path, size_t base)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return -1;
    }
    size_t len = strlen(path);
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || len + 2 + strlen(e->d_name) >= KT_WDCACHE_PATH)
            continue;
        path[len] = '/';
        strcpy(path + len + 1, e->d_name);
        struct stat st;
        if (!fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW)) {
            if (S_ISDIR(st.st_mode)) {
                int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub >= 0)
                    rc = kt_wdcache_walk(zw, sub, path, base);
            } else if (S_ISREG(st.st_mode) && kt_sfiles_matcher_test(zw->op->m, path + base)) {
                int64_t mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
                zw->updated |= mtime_ms > zw->op->restored_ms;
                if (zw->n == zw->cap) {
                    zw->cap = zw->cap ? zw->cap * 2 : 64;
                    zw->files = kt_xrealloc(zw->files, zw->cap * sizeof *zw->files);
                }
                zw->files[zw->n++] = kt_xstrdup(path + base);
            }
        }
        path[len] = 0;
    }
    closedir(d);
    return rc;
}

static int kt_wdcache_flush(kt_wdcache_zip *zw)
{
    int ok = zw->buf.len == 0 || write(zw->fd, zw->buf.p, zw->buf.len) == (ssize_t)zw->buf.len;
    zw->buf.len = 0;
    return ok ? 0 : -1;
}

static int kt_wdcache_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void kt_wdcache_zip_work(uv_work_t *w)
{
    kt_wdcache_op *op = w->data;
    kt_wdcache_zip zw = {.op = op, .fd = -1};
    char *path = kt_xmalloc(KT_WDCACHE_PATH), *chunk = NULL;
    snprintf(path, KT_WDCACHE_PATH, "%s", op->workdir);
    int dfd = open(op->workdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0 || kt_wdcache_walk(&zw, dfd, path, strlen(op->workdir) + 1)) {
        snprintf(op->err, sizeof op->err, "cannot read the working directory: %s", strerror(errno));
        goto done;
    }
    op->nfiles = zw.n;
    if (!zw.updated) /* Kestra: "Cache files didn't change, skip updating it" */
        goto done;
    qsort(zw.files, zw.n, sizeof *zw.files, kt_wdcache_cmp);
    zw.fd = open(op->local, O_WRONLY | O_TRUNC | O_CLOEXEC);
    zw.z = kt_zip_writer_new(1);
    chunk = kt_xmalloc(KT_STORAGE_CHUNK);
    if (zw.fd < 0 || !zw.z) {
        snprintf(op->err, sizeof op->err, "cannot write the cache: %s", strerror(errno));
        goto done;
    }
    for (size_t i = 0; i < zw.n && !atomic_load(&op->cancelled); i++) {
        int len = snprintf(path, KT_WDCACHE_PATH, "%s/%s", op->workdir, zw.files[i]);
        int in = len > 0 && len < KT_WDCACHE_PATH ? open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
        struct stat st;
        if (in < 0 || fstat(in, &st)) { /* gone or unreadable since the walk: Kestra skips what it cannot read */
            if (in >= 0)
                close(in);
            continue;
        }
        int bad = kt_zip_entry_begin(zw.z, zw.files[i], (int64_t)st.st_mtim.tv_sec, &zw.buf) != KT_OK;
        ssize_t n;
        while (!bad && (n = read(in, chunk, KT_STORAGE_CHUNK)) > 0)
            bad = kt_zip_entry_write(zw.z, chunk, (size_t)n, &zw.buf) || kt_wdcache_flush(&zw);
        close(in);
        if (bad || kt_zip_entry_end(zw.z, &zw.buf) || kt_wdcache_flush(&zw)) {
            snprintf(op->err, sizeof op->err, "cannot write the cache entry %s", zw.files[i]);
            goto done;
        }
    }
    if (kt_zip_finish(zw.z, &zw.buf) || kt_wdcache_flush(&zw)) {
        snprintf(op->err, sizeof op->err, "cannot write the cache: %s", strerror(errno));
        goto done;
    }
    op->zipped = 1;
done:
    if (zw.fd >= 0 && close(zw.fd) && !op->err[0])
        snprintf(op->err, sizeof op->err, "cannot write the cache: %s", strerror(errno));
    kt_zip_writer_free(zw.z);
    free(zw.buf.p);
    for (size_t i = 0; i < zw.n; i++)
        free(zw.files[i]);
    free(zw.files);
    free(chunk);
    free(path);
}

static void kt_wdcache_stored(kt_status st, const char *err, void *data)
{
    kt_wdcache_op *op = data;
    op->copy = NULL;
    if (st && !atomic_load(&op->cancelled))
        kt_task_logf(op->r, "ERROR", "Unable to execute WorkingDirectory post actions: %s", err);
    else if (!st)
        kt_task_logf(op->r, "DEBUG", "Caching in %s", op->uri);
    kt_wdcache_finish(op, !st);
}

static void kt_wdcache_zipped(uv_work_t *w, int status)
{
    kt_wdcache_op *op = w->data;
    char err[512] = "";
    if (status || op->err[0] || atomic_load(&op->cancelled)) {
        if (!atomic_load(&op->cancelled))
            kt_task_logf(op->r, "ERROR", "Unable to execute WorkingDirectory post actions: %s",
                         status ? uv_strerror(status) : op->err);
        kt_wdcache_finish(op, 0);
        return;
    }
    if (!op->zipped) {
        kt_task_logf(op->r, "DEBUG", "Cache files didn't change, skip updating it");
        kt_wdcache_finish(op, 1);
        return;
    }
    kt_task_logf(op->r, "DEBUG", "Cache files changed, we update the cache");
    if (kt_storage_put_file_c(op->storage, op->uri, op->local, NULL, kt_wdcache_stored, op, &op->copy, err,
                              sizeof err)) {
        kt_task_logf(op->r, "ERROR", "Unable to execute WorkingDirectory post actions: %s", err);
        kt_wdcache_finish(op, 0);
    }
}

int kt_wdcache_save(kt_task_run *r, const char *value, const char *workdir, int64_t restored_ms,
                    kt_wdcache_done_fn done, void *data, kt_wdcache_op **out)
{
    const json_t *cache = json_object_get(kt_task_props(r), "cache");
    if (!cache || json_is_null(cache))
        return 1;
    char err[512] = "";
    kt_sfiles_matcher *m = kt_sfiles_matcher_new(json_object_get(cache, "patterns"), workdir, err, sizeof err);
    if (!m) {
        kt_task_logf(r, "ERROR", "Unable to execute WorkingDirectory post actions: cache.patterns: %s", err);
        return -1;
    }
    kt_wdcache_op *op = kt_wdcache_new(r, cache, value, workdir, done, data);
    if (!op) {
        kt_sfiles_matcher_free(m);
        return -1;
    }
    op->m = m;
    op->restored_ms = restored_ms;
    op->work.data = op;
    if (uv_queue_work(kt_task_loop(r), &op->work, kt_wdcache_zip_work, kt_wdcache_zipped)) {
        kt_task_logf(r, "ERROR", "Unable to execute WorkingDirectory post actions: cannot queue the zip");
        op->done = NULL;
        unlink(op->local);
        kt_sfiles_matcher_free(m);
        free(op);
        return -1;
    }
    *out = op;
    return 0;
}
