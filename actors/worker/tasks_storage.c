/* Internal-storage tasks (KESTRA-model.md §6.6): Size, Delete, Concat, Reverse, on the worker's kt_storage, streamed.
 *
 * Which URIs a task may touch: Kestra checks no execution prefix in any of these four. Size and Delete call the
 * StorageInterface directly; Concat and Reverse read through runContext.storage().getFile(), whose uriGuard only
 * wants the `kestra` scheme (InternalStorage.java). So Kite refuses what Kestra refuses (no scheme, another scheme)
 * with Kestra's texts, plus what kt_suri_path refuses (traversal, a bad URI), and nothing more. Delete of a folder
 * deletes it whole, as LocalStorage.delete does; the storage root itself is refused.
 *
 * Outputs are new files `<id><extension>` in the task run's folder (Kestra: createTempFile(extension), then
 * putFile into the task's storage context). */
#include "actors/worker/task.h"
#include "actors/worker/tasks_storage.h"
#include "base/alloc.h"
#include "base/id.h"
#include "store/storage.h"
#include "store/storage_uri.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static void kt_st_fail(kt_task_run *r, const char *fmt, const char *a, const char *b)
{
    kt_task_logf(r, "ERROR", fmt, a, b);
    kt_task_finish(r, KT_S(FAILED), NULL);
}

int kt_st_uri(kt_task_run *r, const char *prop, const char *uri, char *path, size_t cap)
{
    char err[512] = "";
    if (!uri) {
        kt_task_logf(r, "ERROR", "%s: must not be null", prop);
        return -1;
    }
    size_t n = strspn(uri, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
    if (!n || uri[n] != ':' || !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", uri[0])) {
        kt_task_logf(r, "ERROR", "Invalid internal storage uri, got uri '%s'", uri);
        return -1;
    }
    if (n != 6 || strncmp(uri, "kestra", 6)) {
        kt_task_logf(r, "ERROR", "Invalid internal storage scheme, got uri '%s'", uri);
        return -1;
    }
    if (kt_suri_path(uri, path, cap, err, sizeof err)) {
        kt_task_logf(r, "ERROR", "%s", err);
        return -1;
    }
    return 0;
}

kt_storage *kt_st_storage(kt_task_run *r)
{
    kt_storage *s = kt_task_storage(r);
    if (!s)
        kt_task_logf(r, "ERROR", "this worker has no internal storage");
    return s;
}

int kt_st_taskrun_file(kt_task_run *r, const char *name, char *uri, size_t cap)
{
    const json_t *info = kt_task_run_info(r);
    char dir[KT_ST_URI], dpath[KT_SURI_PATH_MAX + 1], rel[2 * KT_SURI_PATH_MAX + 2], checked[KT_SURI_PATH_MAX + 1];
    char err[512] = "";
#define KT_INFO(k) json_string_value(json_object_get(info, k))
    if (kt_suri_taskrun_dir(KT_INFO("namespace"), KT_INFO("flowId"), KT_INFO("executionId"), KT_INFO("taskId"),
                            KT_INFO("taskRunId"), dir, sizeof dir) ||
        kt_suri_path(dir, dpath, sizeof dpath, err, sizeof err)) {
#undef KT_INFO
        kt_task_logf(r, "ERROR", "no storage folder for this task run%s%s", err[0] ? ": " : "", err);
        return -1;
    }
    int n = snprintf(rel, sizeof rel, "%s/%s", dpath, name);
    if (n < 0 || (size_t)n >= sizeof rel) {
        kt_task_logf(r, "ERROR", "'%s' does not make a valid file name: too long", name);
        return -1;
    }
    if (kt_suri_relative(rel, checked, sizeof checked, err, sizeof err) || kt_suri_from_path(checked, uri, cap)) {
        kt_task_logf(r, "ERROR", "'%s' does not make a valid file name%s%s", name, err[0] ? ": " : "", err);
        return -1;
    }
    return 0;
}

static int kt_st_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

int kt_st_workdir_new(kt_task_run *r, const char *what, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/kite-%s-XXXXXX", kt_task_tmp_dir(r), what);
    if (n < 0 || (size_t)n >= cap || !mkdtemp(out)) {
        kt_task_logf(r, "ERROR", "cannot create a working directory in %s: %s", kt_task_tmp_dir(r),
                     n < 0 || (size_t)n >= cap ? "path too long" : strerror(errno));
        out[0] = 0;
        return -1;
    }
    return 0;
}

void kt_st_workdir_remove(const char *dir)
{
    if (dir && dir[0])
        nftw(dir, kt_st_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void kt_st_temp_name(const char *suffix, char *out, size_t cap)
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) { /* never in practice; an id still differs per call */
        char id[KT_ID_LEN + 1];
        kt_id_new(id);
        for (const char *c = id; *c; c++)
            v = v * 131 + (unsigned char)*c;
    }
    snprintf(out, cap, "%" PRIu64 "%s", v, suffix ? suffix : "");
}

/* A new URI `<task run folder>/<id><extension>` (extension as given, may be ""). 0, or -1 logged. */
static int kt_st_output_uri(kt_task_run *r, const char *extension, char *uri, size_t cap)
{
    char id[KT_ID_LEN + 1], name[KT_SURI_NAME_MAX + 1];
    kt_id_new(id);
    if (strlen(id) + strlen(extension) > KT_SURI_NAME_MAX || strchr(extension, '/')) {
        kt_task_logf(r, "ERROR", "extension '%s' does not make a valid file name", extension);
        return -1;
    }
    int n = snprintf(name, sizeof name, "%s%s", id, extension);
    if (n < 0 || (size_t)n >= sizeof name)
        return -1;
    return kt_st_taskrun_file(r, name, uri, cap);
}

/* ---- Size ---- */

static void kt_size_on_stat(kt_status st, const kt_storage_attrs *attrs, const char *err, void *data)
{
    kt_task_run *r = data;
    if (st != KT_OK) {
        kt_st_fail(r, "%s%s", err, "");
        return;
    }
    json_t *out = json_object();
    json_object_set_new(out, "size", json_integer(attrs->size));
    kt_task_finish(r, KT_S(SUCCESS), out);
}

static void kt_size_start(kt_task_run *r)
{
    char path[KT_SURI_PATH_MAX + 1], err[512] = "";
    const char *uri = kt_task_prop_string(r, "uri");
    kt_storage *s = kt_st_storage(r);
    if (!s || kt_st_uri(r, "uri", uri, path, sizeof path)) {
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    if (kt_storage_stat(s, uri, kt_size_on_stat, r, err, sizeof err))
        kt_st_fail(r, "%s%s", err, "");
}

/* ---- Delete ---- */

typedef struct kt_del_op {
    kt_task_run *r;
    char *uri;
    int error_on_missing;
} kt_del_op;

static void kt_del_finish(kt_del_op *op, int deleted)
{
    kt_task_run *r = op->r;
    if (!deleted && op->error_on_missing) {
        kt_st_fail(r, "Unable to find file '%s'%s", op->uri, "");
    } else {
        json_t *out = json_pack("{s:s, s:b}", "uri", op->uri, "deleted", deleted);
        kt_task_finish(r, KT_S(SUCCESS), out);
    }
    free(op->uri);
    free(op);
}

static void kt_del_fail(kt_del_op *op, const char *err)
{
    kt_st_fail(op->r, "%s%s", err, "");
    free(op->uri);
    free(op);
}

static void kt_del_on_done(kt_status st, const char *err, void *data)
{
    if (st == KT_OK || st == KT_ENOTFOUND)
        kt_del_finish(data, st == KT_OK);
    else
        kt_del_fail(data, err);
}

static void kt_del_on_prefix(kt_status st, size_t count, const char *err, void *data)
{
    (void)count; /* a folder that existed is `true` even when empty, as FileUtils.deleteDirectory */
    if (st == KT_OK)
        kt_del_finish(data, 1);
    else
        kt_del_fail(data, err);
}

static void kt_del_on_stat(kt_status st, const kt_storage_attrs *attrs, const char *err, void *data)
{
    kt_del_op *op = data;
    char e[512] = "";
    kt_storage *s = kt_task_storage(op->r);
    if (st == KT_ENOTFOUND) {
        kt_del_finish(op, 0);
        return;
    }
    if (st != KT_OK) {
        kt_del_fail(op, err);
        return;
    }
    kt_status rc = attrs->type == KT_STORAGE_DIRECTORY
                       ? kt_storage_delete_prefix(s, op->uri, kt_del_on_prefix, op, e, sizeof e)
                       : kt_storage_delete(s, op->uri, kt_del_on_done, op, e, sizeof e);
    if (rc)
        kt_del_fail(op, e);
}

static void kt_delete_start(kt_task_run *r)
{
    char path[KT_SURI_PATH_MAX + 1], err[512] = "";
    const char *uri = kt_task_prop_string(r, "uri");
    const json_t *eom = json_object_get(kt_task_props(r), "errorOnMissing");
    kt_storage *s = kt_st_storage(r);
    if (!s || kt_st_uri(r, "uri", uri, path, sizeof path)) {
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    if (eom && !json_is_boolean(eom) && !json_is_null(eom)) {
        kt_st_fail(r, "errorOnMissing: must be a boolean%s%s", "", "");
        return;
    }
    if (!path[0] || !strcmp(path, "/")) {
        kt_st_fail(r, "Refusing to delete the whole internal storage ('%s')%s", uri, "");
        return;
    }
    kt_del_op *op = kt_xcalloc(1, sizeof *op);
    op->r = r;
    op->uri = kt_xstrdup(uri);
    op->error_on_missing = json_is_true(eom);
    if (kt_storage_stat(s, uri, kt_del_on_stat, op, err, sizeof err))
        kt_del_fail(op, err);
}

/* ---- Concat: each file streamed through one writer, chunk by chunk ---- */

typedef struct kt_cat_op {
    kt_task_run *r;
    kt_storage *s;
    json_t *files; /* array of strings */
    size_t next;
    const char *separator; /* in the task's props; NULL for none */
    kt_storage_reader *rd;
    kt_storage_writer *w;
    char uri[KT_ST_URI];
    int killed;
} kt_cat_op;

static void kt_cat_end(kt_cat_op *op, const char *state, json_t *out)
{
    kt_storage_reader_close(op->rd);
    kt_storage_writer_abort(op->w);
    kt_task_run *r = op->r;
    kt_task_set_data(r, NULL);
    json_decref(op->files);
    free(op);
    kt_task_finish(r, state, out);
}

static void kt_cat_fail(kt_cat_op *op, const char *err)
{
    kt_task_logf(op->r, "ERROR", "%s", err);
    kt_cat_end(op, KT_S(FAILED), NULL);
}

/* A callback came back after a kill: stop there. */
static int kt_cat_stopped(kt_cat_op *op)
{
    if (!op->killed)
        return 0;
    kt_cat_end(op, KT_S(KILLED), NULL);
    return 1;
}

static void kt_cat_next_file(kt_cat_op *op);
static void kt_cat_on_read(kt_storage_reader *rd, kt_status st, const char *chunk, size_t len, const char *err,
                           void *data);

static void kt_cat_on_commit(kt_status st, const char *err, void *data)
{
    kt_cat_op *op = data;
    op->w = NULL; /* freed by the storage after this callback */
    if (kt_cat_stopped(op))
        return;
    if (st != KT_OK) {
        kt_cat_fail(op, err);
        return;
    }
    kt_cat_end(op, KT_S(SUCCESS), json_pack("{s:s}", "uri", op->uri));
}

static void kt_cat_on_written(kt_status st, const char *err, void *data)
{
    kt_cat_op *op = data;
    if (kt_cat_stopped(op))
        return;
    if (st != KT_OK) {
        kt_cat_fail(op, err);
        return;
    }
    if (op->rd) { /* a chunk of the current file: ask for the next one */
        if (kt_storage_read(op->rd, kt_cat_on_read, op))
            kt_cat_fail(op, "the internal storage is closing");
        return;
    }
    kt_cat_next_file(op); /* the separator after a file */
}

static void kt_cat_on_read(kt_storage_reader *rd, kt_status st, const char *chunk, size_t len, const char *err,
                           void *data)
{
    (void)rd;
    kt_cat_op *op = data;
    if (kt_cat_stopped(op))
        return;
    if (st != KT_OK) {
        kt_cat_fail(op, err);
        return;
    }
    if (len) {
        if (kt_storage_write(op->w, chunk, len, kt_cat_on_written, op))
            kt_cat_fail(op, "the internal storage is closing");
        return;
    }
    kt_storage_reader_close(op->rd);
    op->rd = NULL;
    /* the separator follows every file, the last one too (Concat.java) */
    if (op->separator && op->separator[0]) {
        if (kt_storage_write(op->w, op->separator, strlen(op->separator), kt_cat_on_written, op))
            kt_cat_fail(op, "the internal storage is closing");
        return;
    }
    kt_cat_next_file(op);
}

static void kt_cat_on_open(kt_storage_reader *rd, kt_status st, const kt_storage_attrs *attrs, const char *err,
                           void *data)
{
    (void)attrs;
    kt_cat_op *op = data;
    if (st != KT_OK)
        op->rd = NULL; /* freed by the storage after this callback */
    if (kt_cat_stopped(op))
        return;
    if (st != KT_OK) {
        kt_cat_fail(op, err);
        return;
    }
    if (kt_storage_read(rd, kt_cat_on_read, op))
        kt_cat_fail(op, "the internal storage is closing");
}

static void kt_cat_next_file(kt_cat_op *op)
{
    char path[KT_SURI_PATH_MAX + 1], err[512] = "";
    if (op->next == json_array_size(op->files)) {
        kt_storage_writer *w = op->w;
        if (kt_storage_writer_commit(w, kt_cat_on_commit, op))
            kt_cat_fail(op, "the internal storage is closing"); /* w is still ours: kt_cat_end aborts it */
        return;
    }
    const char *uri = json_string_value(json_array_get(op->files, op->next++));
    if (kt_st_uri(op->r, "files", uri, path, sizeof path)) {
        kt_cat_end(op, KT_S(FAILED), NULL);
        return;
    }
    if (kt_storage_reader_open(op->s, uri, kt_cat_on_open, op, &op->rd, err, sizeof err)) {
        op->rd = NULL;
        kt_cat_fail(op, err);
    }
}

/* `files`: a list of strings, or a string holding a JSON list of strings. NULL when neither (logged). */
static json_t *kt_cat_files(kt_task_run *r)
{
    const json_t *v = json_object_get(kt_task_props(r), "files");
    json_t *list = NULL;
    if (json_is_string(v)) {
        json_error_t je;
        list = json_loads(json_string_value(v), JSON_DECODE_ANY, &je);
        if (!json_is_array(list)) {
            kt_task_logf(r, "ERROR", "files: '%s' is not a JSON list of URIs", json_string_value(v));
            json_decref(list);
            return NULL;
        }
    } else if (json_is_array(v)) {
        list = json_incref((json_t *)v);
    } else {
        kt_task_logf(r, "ERROR", !v || json_is_null(v) ? "files: must not be null"
                                 : json_is_object(v)    ? "Invalid `files` properties with type 'class java.util.LinkedHashMap'"
                                 : json_is_boolean(v)   ? "Invalid `files` properties with type 'class java.lang.Boolean'"
                                 : json_is_integer(v)   ? "Invalid `files` properties with type 'class java.lang.Integer'"
                                                        : "Invalid `files` properties with type 'class java.lang.Double'");
        return NULL;
    }
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        if (!json_is_string(e)) {
            kt_task_logf(r, "ERROR", "files[%zu]: must be a string (a kestra:// URI)", i);
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

static void kt_concat_start(kt_task_run *r)
{
    char err[512] = "";
    const json_t *ext = json_object_get(kt_task_props(r), "extension");
    const json_t *sep = json_object_get(kt_task_props(r), "separator");
    kt_storage *s = kt_st_storage(r);
    json_t *files = s ? kt_cat_files(r) : NULL;
    if (!files) {
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    kt_cat_op *op = kt_xcalloc(1, sizeof *op);
    op->r = r;
    op->s = s;
    op->files = files;
    op->separator = json_string_value(sep);
    kt_task_set_data(r, op);
    if ((ext && !json_is_string(ext) && !json_is_null(ext)) || (sep && !json_is_string(sep) && !json_is_null(sep))) {
        kt_cat_fail(op, "extension and separator must be strings");
        return;
    }
    if (kt_st_output_uri(r, json_is_string(ext) ? json_string_value(ext) : ".tmp", op->uri, sizeof op->uri)) {
        kt_cat_end(op, KT_S(FAILED), NULL);
        return;
    }
    if (kt_storage_writer_open(s, op->uri, NULL, &op->w, err, sizeof err)) {
        op->w = NULL;
        kt_cat_fail(op, err);
        return;
    }
    kt_cat_next_file(op);
}

/* The storage calls in flight finish on their own (they are short); the next callback ends the attempt KILLED. */
static void kt_concat_kill(kt_task_run *r)
{
    kt_cat_op *op = kt_task_data(r);
    if (op)
        op->killed = 1;
}

const kt_task_impl kt_task_storage_size_impl = {.type = "io.kestra.plugin.core.storage.Size", .start = kt_size_start};
const kt_task_impl kt_task_storage_delete_impl = {.type = "io.kestra.plugin.core.storage.Delete",
                                                  .start = kt_delete_start};
const kt_task_impl kt_task_storage_concat_impl = {.type = "io.kestra.plugin.core.storage.Concat",
                                                  .start = kt_concat_start, .kill = kt_concat_kill};

/* ---- Reverse: as Kestra, through local files (bounded memory: two blocks, whatever the line lengths) ----
 * The file is streamed from the storage into the task's tmp folder, read backwards block by block on the thread pool
 * (each line copied forward in blocks to a second local file, then the separator), and that file is streamed back.
 * Lines as Commons IO's ReversedLinesFileReader cuts them: \r\n, \n or \r; and, as it does, the FIRST empty line it
 * meets (the one after a trailing newline, or else any other) is skipped once, and a file starting with a terminator
 * has no empty first line. UTF-8 only: no UTF-8 multi-byte
 * sequence holds a \r or \n byte, so the byte scan is exact. */

#define KT_REV_BLOCK (64 * 1024)

typedef struct kt_rev_op {
    kt_task_run *r;
    kt_storage *s;
    uv_work_t work;
    char in[4096], out[4096];
    char uri[KT_ST_URI];
    char *sep;
    char werr[512]; /* the pool thread's failure */
    int killed;
} kt_rev_op;

static void kt_rev_unlink_done(uv_fs_t *req)
{
    uv_fs_req_cleanup(req);
    free(req);
}

static void kt_rev_unlink(uv_loop_t *loop, const char *path)
{
    uv_fs_t *req = kt_xcalloc(1, sizeof *req);
    if (uv_fs_unlink(loop, req, path, kt_rev_unlink_done))
        free(req);
}

static void kt_rev_end(kt_rev_op *op, const char *state, json_t *out)
{
    kt_task_run *r = op->r;
    kt_rev_unlink(kt_task_loop(r), op->in);
    kt_rev_unlink(kt_task_loop(r), op->out);
    kt_task_set_data(r, NULL);
    free(op->sep);
    free(op);
    kt_task_finish(r, state, out);
}

static int kt_rev_write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

typedef struct kt_rev_back {
    int fd;
    char *buf; /* KT_REV_BLOCK bytes: the block holding the bytes just before the scan position */
    off_t start;
    size_t len;
} kt_rev_back;

/* The byte at pos (< file size), or -1 on a read failure. */
static int kt_rev_byte(kt_rev_back *b, off_t pos)
{
    if (pos < b->start || pos >= b->start + (off_t)b->len) {
        off_t s = pos + 1 >= KT_REV_BLOCK ? pos + 1 - KT_REV_BLOCK : 0;
        ssize_t n = pread(b->fd, b->buf, (size_t)(pos + 1 - s), s);
        if (n != pos + 1 - s)
            return -1;
        b->start = s;
        b->len = (size_t)n;
    }
    return (unsigned char)b->buf[pos - b->start];
}

/* Copies [from, to) of in to out, then the separator. */
static int kt_rev_emit(int in, int out, char *buf, off_t from, off_t to, const char *sep)
{
    while (from < to) {
        size_t want = to - from > KT_REV_BLOCK ? KT_REV_BLOCK : (size_t)(to - from);
        ssize_t n = pread(in, buf, want, from);
        if (n <= 0 || kt_rev_write_all(out, buf, (size_t)n))
            return -1;
        from += n;
    }
    return kt_rev_write_all(out, sep, strlen(sep));
}

static int kt_rev_lines(int in, int out, off_t size, const char *sep, char *blk, char *copy)
{
    kt_rev_back b = {.fd = in, .buf = blk, .start = 0, .len = 0};
    off_t line_end = size;
    int skipped = 0;
    for (;;) {
        off_t i = line_end, ts = 0, te = 0;
        int found = 0;
        while (i > 0 && !found) {
            int c = kt_rev_byte(&b, i - 1);
            if (c < 0)
                return -1;
            if (c == '\n' || c == '\r') {
                found = 1;
                te = i;
                ts = i - 1;
                if (c == '\n' && i >= 2) {
                    int p = kt_rev_byte(&b, i - 2);
                    if (p < 0)
                        return -1;
                    if (p == '\r')
                        ts = i - 2;
                }
            } else {
                i--;
            }
        }
        off_t ls = found ? te : 0;
        if (!found && ls == line_end) /* a file starting with a terminator has no empty first line (leftOver null) */
            return 0;
        if (ls == line_end && !skipped)
            skipped = 1;
        else if (kt_rev_emit(in, out, copy, ls, line_end, sep))
            return -1;
        if (!found)
            return 0;
        line_end = ts;
    }
}

static void kt_rev_work(uv_work_t *w)
{
    kt_rev_op *op = w->data;
    char *blk = malloc(KT_REV_BLOCK), *copy = malloc(KT_REV_BLOCK);
    int in = open(op->in, O_RDONLY | O_CLOEXEC);
    int out = open(op->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    struct stat st;
    if (!blk || !copy || in < 0 || out < 0 || fstat(in, &st) ||
        kt_rev_lines(in, out, st.st_size, op->sep, blk, copy))
        snprintf(op->werr, sizeof op->werr, "Reverse: cannot reverse the file: %s", strerror(errno ? errno : EIO));
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) && !op->werr[0])
        snprintf(op->werr, sizeof op->werr, "Reverse: cannot write the file: %s", strerror(errno));
    free(blk);
    free(copy);
}

static void kt_rev_on_put(kt_status st, const char *err, void *data)
{
    kt_rev_op *op = data;
    if (op->killed) {
        kt_rev_end(op, KT_S(KILLED), NULL);
    } else if (st != KT_OK) {
        kt_task_logf(op->r, "ERROR", "%s", err);
        kt_rev_end(op, KT_S(FAILED), NULL);
    } else {
        kt_rev_end(op, KT_S(SUCCESS), json_pack("{s:s}", "uri", op->uri));
    }
}

static void kt_rev_work_done(uv_work_t *w, int status)
{
    kt_rev_op *op = w->data;
    char err[512] = "";
    if (op->killed) {
        kt_rev_end(op, KT_S(KILLED), NULL);
        return;
    }
    if (status || op->werr[0]) {
        kt_task_logf(op->r, "ERROR", "%s", status ? uv_strerror(status) : op->werr);
        kt_rev_end(op, KT_S(FAILED), NULL);
        return;
    }
    if (kt_storage_put_file(op->s, op->uri, op->out, NULL, kt_rev_on_put, op, err, sizeof err)) {
        kt_task_logf(op->r, "ERROR", "%s", err);
        kt_rev_end(op, KT_S(FAILED), NULL);
    }
}

static void kt_rev_on_get(kt_status st, const char *err, void *data)
{
    kt_rev_op *op = data;
    if (op->killed) {
        kt_rev_end(op, KT_S(KILLED), NULL);
        return;
    }
    if (st != KT_OK) {
        kt_task_logf(op->r, "ERROR", "%s", err);
        kt_rev_end(op, KT_S(FAILED), NULL);
        return;
    }
    op->work.data = op;
    int rc = uv_queue_work(kt_task_loop(op->r), &op->work, kt_rev_work, kt_rev_work_done);
    if (rc) {
        kt_task_logf(op->r, "ERROR", "Reverse: %s", uv_strerror(rc));
        kt_rev_end(op, KT_S(FAILED), NULL);
    }
}

/* FileUtils.getExtension: "." + what follows the last '.' of the last segment, else Files.createTempFile's ".tmp". */
static void kt_rev_extension(const char *uri, char *out, size_t cap)
{
    const char *slash = strrchr(uri, '/');
    const char *name = slash ? slash + 1 : uri;
    const char *dot = strrchr(name, '.');
    snprintf(out, cap, "%s", dot && dot[1] ? dot : ".tmp");
}

static void kt_reverse_start(kt_task_run *r)
{
    char path[KT_SURI_PATH_MAX + 1], ext[KT_SURI_NAME_MAX + 1], id[KT_ID_LEN + 1], err[512] = "";
    const char *from = kt_task_prop_string(r, "from");
    const json_t *sep = json_object_get(kt_task_props(r), "separator");
    const char *charset = kt_task_prop_string(r, "charset");
    kt_storage *s = kt_st_storage(r);
    if (!s || kt_st_uri(r, "from", from, path, sizeof path)) {
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    if (sep && !json_is_string(sep) && !json_is_null(sep)) {
        kt_st_fail(r, "separator: must be a string%s%s", "", "");
        return;
    }
    if (charset && strcasecmp(charset, "UTF-8") && strcasecmp(charset, "UTF8")) {
        kt_st_fail(r, "charset '%s' is not supported by Kite's Reverse (UTF-8 only)%s", charset, "");
        return;
    }
    kt_rev_extension(from, ext, sizeof ext);
    kt_rev_op *op = kt_xcalloc(1, sizeof *op);
    op->r = r;
    op->s = s;
    op->sep = kt_xstrdup(json_is_string(sep) ? json_string_value(sep) : "\n");
    kt_id_new(id);
    snprintf(op->in, sizeof op->in, "%s/reverse-%s.in", kt_task_tmp_dir(r), id);
    snprintf(op->out, sizeof op->out, "%s/reverse-%s.out", kt_task_tmp_dir(r), id);
    kt_task_set_data(r, op);
    if (kt_st_output_uri(r, ext, op->uri, sizeof op->uri)) {
        kt_rev_end(op, KT_S(FAILED), NULL);
        return;
    }
    if (kt_storage_get_file(s, from, op->in, kt_rev_on_get, op, err, sizeof err)) {
        kt_task_logf(r, "ERROR", "%s", err);
        kt_rev_end(op, KT_S(FAILED), NULL);
    }
}

static void kt_reverse_kill(kt_task_run *r)
{
    kt_rev_op *op = kt_task_data(r);
    if (op)
        op->killed = 1;
}

const kt_task_impl kt_task_storage_reverse_impl = {.type = "io.kestra.plugin.core.storage.Reverse",
                                                   .start = kt_reverse_start, .kill = kt_reverse_kill};

/* ---- Write (Kestra 1.x, Write.java): `content` (rendered) into a new file of the task run's storage folder, named
 * as Java's createTempFile names it (a random number, then `extension`, default .tmp); output {uri}. ---- */

typedef struct kt_write_op {
    kt_task_run *r;
    kt_storage_writer *w;
    char *text; /* the bytes of a non-text content, borrowed by the write until it is done */
    char uri[KT_ST_URI];
} kt_write_op;

static void kt_write_end(kt_write_op *op, kt_status st, const char *err)
{
    kt_task_run *r = op->r;
    json_t *out = st ? NULL : json_pack("{s:s}", "uri", op->uri);
    if (st)
        kt_task_logf(r, "ERROR", "%s", err && *err ? err : kt_strerror(st));
    free(op->text);
    free(op);
    kt_task_finish(r, st ? KT_S(FAILED) : KT_S(SUCCESS), out);
}

static void kt_write_on_commit(kt_status st, const char *err, void *data)
{
    kt_write_end(data, st, err);
}

static void kt_write_on_written(kt_status st, const char *err, void *data)
{
    kt_write_op *op = data;
    if (st) {
        kt_storage_writer_abort(op->w);
        kt_write_end(op, st, err);
    } else if (kt_storage_writer_commit(op->w, kt_write_on_commit, op)) {
        kt_storage_writer_abort(op->w);
        kt_write_end(op, KT_ECLOSED, "the internal storage is closing");
    }
}

static void kt_write_start(kt_task_run *r)
{
    const json_t *content = json_object_get(kt_task_props(r), "content");
    const char *ext = kt_task_prop_string(r, "extension");
    kt_storage *s = kt_st_storage(r);
    if (!s) {
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    if (!json_is_string(content)) { /* a rendered non-text value is written as its JSON */
        if (!content || json_is_null(content)) {
            kt_task_logf(r, "ERROR", "content: must not be null");
            kt_task_finish(r, KT_S(FAILED), NULL);
            return;
        }
    }
    char name[KT_SURI_NAME_MAX + 1];
    if (strchr(ext ? ext : "", '/') || strlen(ext ? ext : "") > KT_SURI_NAME_MAX - 24) {
        kt_task_logf(r, "ERROR", "extension '%s' does not make a valid file name", ext);
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    kt_st_temp_name(ext ? ext : ".tmp", name, sizeof name);
    kt_write_op *op = kt_xcalloc(1, sizeof *op);
    op->r = r;
    char err[512] = "";
    if (kt_st_taskrun_file(r, name, op->uri, sizeof op->uri)) {
        free(op);
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    char *text = op->text = json_is_string(content) ? NULL : json_dumps(content, JSON_ENCODE_ANY | JSON_COMPACT);
    const char *bytes = text ? text : json_string_value(content);
    size_t len = text ? strlen(text) : json_string_length(content);
    kt_status st = kt_storage_writer_open(s, op->uri, NULL, &op->w, err, sizeof err);
    if (!st && kt_storage_write(op->w, bytes, len, kt_write_on_written, op)) {
        kt_storage_writer_abort(op->w);
        st = KT_ECLOSED;
        snprintf(err, sizeof err, "the internal storage is closing");
    }
    if (st)
        kt_write_end(op, st, err);
}

const kt_task_impl kt_task_storage_write_impl = {.type = "io.kestra.plugin.core.storage.Write",
                                                 .start = kt_write_start};
