/* The split engine (split.h). */
#include "actors/worker/split.h"
#include "actors/worker/tasks_storage.h"
#include "base/alloc.h"
#include "store/storage.h"
#include "store/storage_uri.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define KT_SPLIT_BLOCK (64 * 1024)
/* Partitions up to this many keep a stream open each; beyond, each line reopens its piece (a process has ~1024
 * descriptors, and Kestra's RandomAccessFile per partition would fail there anyway). */
#define KT_SPLIT_OPEN_MAX 256
#define KT_SPLIT_PATH 4352

/* ---- options ---- */

/* Long.parseLong: an optional sign then at least one digit, nothing else, in range. */
static int kt_split_parse_long(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    if (i == len)
        return -1;
    uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (lim - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int kt_split_parse_bytes(const char *s, int64_t *out)
{
    size_t len = strlen(s);
    int64_t unit = 1;
    if (len >= 2 && (s[len - 1] == 'b' || s[len - 1] == 'B')) {
        switch (toupper((unsigned char)s[len - 2])) {
        case 'K': unit = 1024; break;
        case 'M': unit = 1024 * 1024; break;
        case 'G': unit = 1024 * 1024 * 1024; break;
        default: break;
        }
        if (unit > 1)
            len -= 2;
    }
    int64_t v;
    if (kt_split_parse_long(s, len, &v))
        return -1;
    if (v > INT64_MAX / unit || v < INT64_MIN / unit)
        return -1;
    *out = v * unit;
    return 0;
}

/* A rendered Property<Integer>: a JSON integer, or a string Jackson turns into one. 1 set, 0 absent, -1 bad. */
static int kt_split_int(const json_t *v, const char *name, int64_t *out, char *err, size_t errcap)
{
    if (!v || json_is_null(v))
        return 0;
    int64_t n;
    if (json_is_integer(v)) {
        n = json_integer_value(v);
    } else if (!json_is_string(v) || kt_split_parse_long(json_string_value(v), json_string_length(v), &n)) {
        snprintf(err, errcap, "%s: cannot convert '%s' to an integer", name,
                 json_is_string(v) ? json_string_value(v) : json_is_boolean(v) ? "a boolean" : "a non-integer");
        return -1;
    }
    if (n < INT32_MIN || n > INT32_MAX) {
        snprintf(err, errcap, "%s: %lld is out of the range of an Integer", name, (long long)n);
        return -1;
    }
    *out = n;
    return 1;
}

int kt_split_opts_read(const json_t *obj, int64_t default_rows, kt_split_opts *o, char *err, size_t errcap)
{
    memset(o, 0, sizeof *o);
    const json_t *bytes = json_object_get(obj, "bytes"), *sep = json_object_get(obj, "separator");
    if (sep && !json_is_null(sep) && !json_is_string(sep)) {
        snprintf(err, errcap, "separator: must be a string");
        return -1;
    }
    int64_t parts = 0, rows = 0;
    int has_parts = kt_split_int(json_object_get(obj, "partitions"), "partitions", &parts, err, errcap);
    int has_rows = kt_split_int(json_object_get(obj, "rows"), "rows", &rows, err, errcap);
    if (has_parts < 0 || has_rows < 0)
        return -1;
    if (bytes && !json_is_null(bytes)) {
        char num[64];
        const char *text = json_string_value(bytes);
        if (json_is_integer(bytes)) { /* `.as(String.class)` of a number is its digits */
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(bytes));
            text = num;
        }
        if (!text || kt_split_parse_bytes(text, &o->n)) {
            snprintf(err, errcap, "Invalid size with value '%s'", text ? text : "(not a string)");
            return -1;
        }
        o->mode = KT_SPLIT_BYTES;
    } else if (has_parts) {
        o->mode = KT_SPLIT_PARTITIONS;
        o->n = parts;
    } else if (has_rows || default_rows > 0) {
        o->mode = KT_SPLIT_ROWS;
        o->n = has_rows ? rows : default_rows;
    } else {
        snprintf(err, errcap, "Invalid configuration with no size, count, nor rows");
        return -1;
    }
    o->separator = kt_xstrdup(json_is_string(sep) ? json_string_value(sep) : "\n");
    return 0;
}

void kt_split_opts_clear(kt_split_opts *o)
{
    free(o->separator);
    o->separator = NULL;
}

void kt_split_extension(const char *uri, char *out, size_t cap)
{
    const char *slash = strrchr(uri, '/');
    const char *name = slash ? slash + 1 : uri;
    const char *dot = strrchr(name, '.');
    snprintf(out, cap, "%s", dot ? dot : ".tmp");
}

/* ---- the local split ---- */

typedef struct kt_split_state {
    const kt_split_opts *o;
    const char *dir, *ext;
    size_t seplen;
    json_t *names;
    FILE *cur; /* bytes and rows: the piece being written */
    int64_t bytes, rows;
    FILE **parts; /* partitions: one stream each (NULL when they are reopened per line) */
    size_t index;
    FILE *target; /* where the current line goes */
    int64_t linelen;
    char *err;
    size_t errcap;
} kt_split_state;

static FILE *kt_split_new_piece(kt_split_state *s, const char *mode)
{
    char name[64], path[KT_SPLIT_PATH];
    for (int tries = 0; tries < 8; tries++) {
        kt_st_temp_name(s->ext, name, sizeof name);
        snprintf(path, sizeof path, "%s/%s", s->dir, name);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST)
            continue;
        FILE *fp = fd < 0 ? NULL : fdopen(fd, mode);
        if (!fp) {
            snprintf(s->err, s->errcap, "cannot create %s: %s", path, strerror(errno));
            if (fd >= 0)
                close(fd);
            return NULL;
        }
        json_array_append_new(s->names, json_string(name));
        return fp;
    }
    snprintf(s->err, s->errcap, "cannot create a new file in %s", s->dir);
    return NULL;
}

static int kt_split_close(kt_split_state *s, FILE **fp)
{
    int rc = 0;
    if (*fp && fclose(*fp) && !s->err[0]) {
        snprintf(s->err, s->errcap, "cannot write a piece: %s", strerror(errno));
        rc = -1;
    }
    *fp = NULL;
    return rc;
}

/* The piece the next line goes to. */
static int kt_split_line_begin(kt_split_state *s)
{
    const kt_split_opts *o = s->o;
    s->linelen = 0;
    if (o->mode == KT_SPLIT_PARTITIONS) {
        if (o->n <= 0) { /* Kestra: writers.get(0) on an empty list */
            snprintf(s->err, s->errcap, "Index 0 out of bounds for length 0");
            return -1;
        }
        if (s->parts) {
            s->target = s->parts[s->index];
            return 0;
        }
        char path[KT_SPLIT_PATH];
        snprintf(path, sizeof path, "%s/%s", s->dir, json_string_value(json_array_get(s->names, s->index)));
        s->target = fopen(path, "ab");
        if (!s->target)
            snprintf(s->err, s->errcap, "cannot open %s: %s", path, strerror(errno));
        return s->target ? 0 : -1;
    }
    int fresh = o->mode == KT_SPLIT_BYTES ? s->bytes >= o->n : s->rows >= o->n;
    if (!s->cur || fresh) {
        if (kt_split_close(s, &s->cur))
            return -1;
        s->bytes = s->rows = 0;
        s->cur = kt_split_new_piece(s, "wb");
        if (!s->cur)
            return -1;
    }
    s->target = s->cur;
    return 0;
}

static int kt_split_line_end(kt_split_state *s)
{
    if (s->seplen && fwrite(s->o->separator, 1, s->seplen, s->target) != s->seplen) {
        snprintf(s->err, s->errcap, "cannot write a piece: %s", strerror(errno));
        return -1;
    }
    s->bytes += s->linelen + (int64_t)s->seplen;
    s->rows++;
    if (s->o->mode == KT_SPLIT_PARTITIONS) {
        if (!s->parts && kt_split_close(s, &s->target))
            return -1;
        s->index = s->index + 1 >= (size_t)s->o->n ? 0 : s->index + 1;
    }
    s->target = NULL;
    return 0;
}

/* Cuts the stream in into lines and deals them out. */
static int kt_split_stream(kt_split_state *s, int in, char *buf, const atomic_int *cancel)
{
    int in_line = 0, skip_lf = 0;
    for (;;) {
        if (cancel && atomic_load(cancel)) {
            snprintf(s->err, s->errcap, "cancelled");
            return -1;
        }
        ssize_t n = read(in, buf, KT_SPLIT_BLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(s->err, s->errcap, "cannot read the file: %s", strerror(errno));
            return -1;
        }
        if (n == 0)
            break;
        size_t i = 0, len = (size_t)n;
        if (skip_lf && buf[0] == '\n') /* the \n of a \r\n cut by the block boundary */
            i = 1;
        skip_lf = 0;
        while (i < len) {
            if (!in_line) {
                if (kt_split_line_begin(s))
                    return -1;
                in_line = 1;
            }
            size_t j = i;
            while (j < len && buf[j] != '\n' && buf[j] != '\r')
                j++;
            if (j > i && fwrite(buf + i, 1, j - i, s->target) != j - i) {
                snprintf(s->err, s->errcap, "cannot write a piece: %s", strerror(errno));
                return -1;
            }
            s->linelen += (int64_t)(j - i);
            if (j == len)
                break;
            if (kt_split_line_end(s))
                return -1;
            in_line = 0;
            if (buf[j] == '\r') {
                if (j + 1 < len && buf[j + 1] == '\n')
                    j++;
                else if (j + 1 == len)
                    skip_lf = 1;
            }
            i = j + 1;
        }
    }
    /* a last line without terminator (readLine returns it; an empty rest is no line) */
    return in_line ? kt_split_line_end(s) : 0;
}

/* Partitions: every piece made up front (Kestra creates them all), the empty ones dropped at the end. */
static int kt_split_partitions_open(kt_split_state *s)
{
    if (s->o->n <= 0)
        return 0;
    int keep = s->o->n <= KT_SPLIT_OPEN_MAX;
    if (keep)
        s->parts = kt_xcalloc((size_t)s->o->n, sizeof *s->parts);
    for (int64_t i = 0; i < s->o->n; i++) {
        FILE *fp = kt_split_new_piece(s, "wb");
        if (!fp)
            return -1;
        if (keep)
            s->parts[i] = fp;
        else if (kt_split_close(s, &fp))
            return -1;
    }
    return 0;
}

static void kt_split_drop_empty(kt_split_state *s)
{
    json_t *kept = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(s->names, i, v) {
        char path[KT_SPLIT_PATH];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", s->dir, json_string_value(v));
        if (!stat(path, &st) && st.st_size == 0)
            unlink(path);
        else
            json_array_append(kept, v);
    }
    json_decref(s->names);
    s->names = kept;
}

int kt_split_local(const char *in_path, const char *dir, const char *ext, const kt_split_opts *o,
                   const atomic_int *cancel, json_t **names, char *err, size_t errcap)
{
    kt_split_state s = {.o = o, .dir = dir, .ext = ext, .seplen = strlen(o->separator), .names = json_array(),
                        .err = err, .errcap = errcap};
    err[0] = 0;
    char *buf = kt_xmalloc(KT_SPLIT_BLOCK);
    int in = open(in_path, O_RDONLY | O_CLOEXEC);
    int rc = -1;
    if (in < 0) {
        snprintf(err, errcap, "cannot open %s: %s", in_path, strerror(errno));
        goto out;
    }
    if (o->mode == KT_SPLIT_PARTITIONS && kt_split_partitions_open(&s))
        goto out;
    rc = kt_split_stream(&s, in, buf, cancel);
out:
    if (in >= 0)
        close(in);
    if (kt_split_close(&s, &s.cur))
        rc = -1;
    for (int64_t i = 0; s.parts && i < o->n; i++)
        if (kt_split_close(&s, &s.parts[i]))
            rc = -1;
    if (o->mode == KT_SPLIT_PARTITIONS && !s.parts && s.target && kt_split_close(&s, &s.target)) /* a reopened partition left by an error */
        rc = -1;
    free(s.parts);
    free(buf);
    if (rc == 0 && o->mode == KT_SPLIT_PARTITIONS)
        kt_split_drop_empty(&s);
    if (rc) {
        size_t i;
        json_t *v;
        json_array_foreach(s.names, i, v) {
            char path[KT_SPLIT_PATH];
            snprintf(path, sizeof path, "%s/%s", dir, json_string_value(v));
            unlink(path);
        }
        json_decref(s.names);
        return -1;
    }
    *names = s.names;
    return 0;
}

/* ---- on a task run ---- */

struct kt_split_op {
    kt_task_run *r;
    kt_storage *s;
    kt_split_opts o;
    kt_split_done_fn done;
    void *data;
    kt_storage_copy *copy; /* the storage copy under way, NULL between two */
    atomic_int cancelled;  /* read by the split on the pool */
    int in_pool;
    uv_work_t work;
    json_t *names, *uris;
    size_t next;
    char from[KT_ST_URI];
    char ext[KT_SURI_NAME_MAX + 1];
    char dir[4096];
    char input[4200];
    char werr[512];
};

static void kt_split_end(kt_split_op *op, int ok)
{
    kt_st_workdir_remove(op->dir);
    json_t *uris = ok ? op->uris : NULL;
    if (!ok)
        json_decref(op->uris);
    json_decref(op->names);
    kt_split_opts_clear(&op->o);
    kt_task_run *r = op->r;
    kt_split_done_fn done = op->done;
    void *data = op->data;
    free(op);
    done(r, data, ok, uris);
}

/* A failure: logged unless the op was cancelled (the caller then ends the run itself). */
static void kt_split_fail(kt_split_op *op, const char *err)
{
    if (!atomic_load(&op->cancelled))
        kt_task_logf(op->r, "ERROR", "%s", err);
    kt_split_end(op, 0);
}

static void kt_split_put_next(kt_split_op *op);

static void kt_split_on_put(kt_status st, const char *err, void *data)
{
    kt_split_op *op = data;
    op->copy = NULL;
    if (st != KT_OK || atomic_load(&op->cancelled)) {
        kt_split_fail(op, err);
        return;
    }
    kt_split_put_next(op);
}

static void kt_split_put_next(kt_split_op *op)
{
    char uri[KT_ST_URI], local[4400], err[512] = "";
    if (op->next == json_array_size(op->names)) {
        kt_split_end(op, 1);
        return;
    }
    const char *name = json_string_value(json_array_get(op->names, op->next++));
    if (kt_st_taskrun_file(op->r, name, uri, sizeof uri)) {
        kt_split_end(op, 0);
        return;
    }
    snprintf(local, sizeof local, "%s/%s", op->dir, name);
    json_array_append_new(op->uris, json_string(uri));
    if (kt_storage_put_file_c(op->s, uri, local, NULL, kt_split_on_put, op, &op->copy, err, sizeof err))
        kt_split_fail(op, err);
}

static void kt_split_work(uv_work_t *w)
{
    kt_split_op *op = w->data;
    if (kt_split_local(op->input, op->dir, op->ext, &op->o, &op->cancelled, &op->names, op->werr, sizeof op->werr))
        op->names = NULL;
    unlink(op->input); /* only the pieces are needed now: half the disk for the uploads */
}

static void kt_split_work_done(uv_work_t *w, int status)
{
    kt_split_op *op = w->data;
    op->in_pool = 0;
    if (status || !op->names) {
        kt_split_fail(op, status ? uv_strerror(status) : op->werr);
        return;
    }
    if (atomic_load(&op->cancelled)) {
        kt_split_end(op, 0);
        return;
    }
    kt_split_put_next(op);
}

static void kt_split_on_get(kt_status st, const char *err, void *data)
{
    kt_split_op *op = data;
    op->copy = NULL;
    if (st != KT_OK || atomic_load(&op->cancelled)) {
        kt_split_fail(op, err);
        return;
    }
    op->work.data = op;
    int rc = uv_queue_work(kt_task_loop(op->r), &op->work, kt_split_work, kt_split_work_done);
    if (rc) {
        kt_split_fail(op, uv_strerror(rc));
        return;
    }
    op->in_pool = 1;
}

kt_split_op *kt_split_start(kt_task_run *r, const char *from, const kt_split_opts *o, kt_split_done_fn done,
                            void *data)
{
    char err[512] = "";
    kt_storage *s = kt_st_storage(r);
    if (!s)
        return NULL;
    kt_split_op *op = kt_xcalloc(1, sizeof *op);
    op->r = r;
    op->s = s;
    op->o = *o;
    op->o.separator = kt_xstrdup(o->separator ? o->separator : "\n");
    op->done = done;
    op->data = data;
    op->uris = json_array();
    snprintf(op->from, sizeof op->from, "%s", from);
    kt_split_extension(from, op->ext, sizeof op->ext);
    if (kt_st_workdir_new(r, "split", op->dir, sizeof op->dir))
        goto fail;
    snprintf(op->input, sizeof op->input, "%s/input", op->dir);
    if (kt_storage_get_file_c(s, from, op->input, kt_split_on_get, op, &op->copy, err, sizeof err)) {
        kt_task_logf(r, "ERROR", "%s", err);
        goto fail;
    }
    return op;
fail:
    kt_st_workdir_remove(op->dir);
    json_decref(op->uris);
    kt_split_opts_clear(&op->o);
    free(op);
    return NULL;
}

void kt_split_cancel(kt_split_op *op)
{
    if (!op || atomic_exchange(&op->cancelled, 1))
        return;
    kt_storage_copy_cancel(op->copy); /* NULL (between two copies, or in the pool) does nothing */
}
