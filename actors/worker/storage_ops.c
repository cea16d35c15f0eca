/* Walking and concatenating in the internal storage (storage_ops.h). */
#include "actors/worker/storage_ops.h"
#include "base/alloc.h"
#include "store/storage_uri.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KT_SOPS_URI (3 * KT_SURI_PATH_MAX + 16)

/* ---- walk ---- */

typedef struct kt_sops_walker {
    kt_storage *s;
    int with_dirs;
    kt_sops_walk_fn done;
    void *data;
    json_t *todo;    /* folders still to list (checked paths, "" for the root) */
    json_t *entries; /* what was found */
    char *current;   /* the folder being listed */
} kt_sops_walker;

static void kt_sops_walk_end(kt_sops_walker *w, kt_status st, const char *err)
{
    json_t *entries = NULL;
    if (st == KT_OK) {
        size_t n = json_array_size(w->entries);
        const char **v = kt_xcalloc(n + 1, sizeof *v);
        for (size_t i = 0; i < n; i++)
            v[i] = json_string_value(json_array_get(w->entries, i));
        qsort(v, n, sizeof *v, (int (*)(const void *, const void *))strcmp);
        entries = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(entries, json_string(v[i]));
        free(v);
    }
    json_decref(w->todo);
    json_decref(w->entries);
    free(w->current);
    kt_sops_walk_fn done = w->done;
    void *data = w->data;
    free(w);
    done(data, st, err, entries);
}

static void kt_sops_walk_next(kt_sops_walker *w);

static void kt_sops_on_list(kt_status st, const kt_storage_attrs *e, size_t n, const char *err, void *data)
{
    kt_sops_walker *w = data;
    /* a folder gone between two listings, or the start folder missing: nothing there */
    if (st == KT_ENOTFOUND) {
        kt_sops_walk_next(w);
        return;
    }
    if (st != KT_OK) {
        kt_sops_walk_end(w, st, err);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char *p = NULL;
        if (asprintf(&p, "%s%s%s", w->current, w->current[0] ? "/" : "", e[i].name) < 0)
            abort();
        if (e[i].type == KT_STORAGE_DIRECTORY) {
            json_array_append_new(w->todo, json_string(p));
            if (w->with_dirs) {
                char *d = NULL;
                if (asprintf(&d, "%s/", p) < 0)
                    abort();
                json_array_append_new(w->entries, json_string(d));
                free(d);
            }
        } else {
            json_array_append_new(w->entries, json_string(p));
        }
        free(p);
    }
    kt_sops_walk_next(w);
}

static void kt_sops_walk_next(kt_sops_walker *w)
{
    char uri[KT_SOPS_URI], path[KT_SURI_PATH_MAX + 2], err[512] = "";
    for (;;) {
        size_t n = json_array_size(w->todo);
        if (!n) {
            kt_sops_walk_end(w, KT_OK, "");
            return;
        }
        free(w->current);
        w->current = kt_xstrdup(json_string_value(json_array_get(w->todo, n - 1)));
        json_array_remove(w->todo, n - 1);
        snprintf(path, sizeof path, "%s/", w->current);
        kt_status st = w->current[0] ? kt_suri_from_path(path, uri, sizeof uri) : KT_OK;
        if (!w->current[0])
            snprintf(uri, sizeof uri, "kestra:///");
        if (st == KT_OK && (st = kt_storage_list(w->s, uri, kt_sops_on_list, w, err, sizeof err)) == KT_OK)
            return;
        if (st == KT_EINVAL) /* a name the storage holds but refuses as a URI: not Kite's to walk into */
            continue;
        kt_sops_walk_end(w, st, err);
        return;
    }
}

kt_status kt_sops_walk(kt_storage *s, const char *uri, int with_dirs, kt_sops_walk_fn done, void *data, char *err,
                       size_t errcap)
{
    char path[KT_SURI_PATH_MAX + 1];
    kt_status st = kt_suri_path(uri, path, sizeof path, err, errcap);
    if (st)
        return st;
    size_t len = strlen(path);
    if (len && path[len - 1] == '/')
        path[len - 1] = 0;
    kt_sops_walker *w = kt_xcalloc(1, sizeof *w);
    *w = (kt_sops_walker){.s = s, .with_dirs = with_dirs, .done = done, .data = data, .todo = json_array(),
                          .entries = json_array(), .current = kt_xstrdup(path)};
    st = kt_storage_list(s, uri, kt_sops_on_list, w, err, errcap);
    if (st == KT_OK)
        return KT_OK;
    json_decref(w->todo);
    json_decref(w->entries);
    free(w->current);
    free(w);
    return st;
}

/* ---- concatenate ---- */

struct kt_sops_cat {
    kt_storage *s;
    const json_t *sources;
    size_t next, copied;
    int skip_missing, cancelled;
    kt_storage_reader *rd;
    kt_storage_writer *w;
    kt_sops_cat_fn done;
    void *data;
};

static void kt_sops_cat_end(kt_sops_cat *c, kt_status st, const char *err)
{
    kt_storage_reader_close(c->rd);
    kt_storage_writer_abort(c->w);
    kt_sops_cat_fn done = c->done;
    void *data = c->data;
    size_t copied = c->copied;
    free(c);
    done(data, st, err, copied);
}

/* A callback after a cancel: stop there. */
static int kt_sops_cat_stopped(kt_sops_cat *c)
{
    if (!c->cancelled)
        return 0;
    kt_sops_cat_end(c, KT_ECLOSED, "cancelled");
    return 1;
}

static void kt_sops_cat_next(kt_sops_cat *c);
static void kt_sops_cat_on_read(kt_storage_reader *rd, kt_status st, const char *chunk, size_t len,
                                const char *err, void *data);

static void kt_sops_cat_on_commit(kt_status st, const char *err, void *data)
{
    kt_sops_cat *c = data;
    c->w = NULL; /* freed by the storage after this callback */
    if (!kt_sops_cat_stopped(c))
        kt_sops_cat_end(c, st, err);
}

static void kt_sops_cat_on_written(kt_status st, const char *err, void *data)
{
    kt_sops_cat *c = data;
    if (kt_sops_cat_stopped(c))
        return;
    if (st != KT_OK) {
        kt_sops_cat_end(c, st, err);
        return;
    }
    if (kt_storage_read(c->rd, kt_sops_cat_on_read, c))
        kt_sops_cat_end(c, KT_ECLOSED, "the internal storage is closing");
}

static void kt_sops_cat_on_read(kt_storage_reader *rd, kt_status st, const char *chunk, size_t len,
                                const char *err, void *data)
{
    (void)rd;
    kt_sops_cat *c = data;
    if (kt_sops_cat_stopped(c))
        return;
    if (st != KT_OK) {
        kt_sops_cat_end(c, st, err);
        return;
    }
    if (!len) {
        kt_storage_reader_close(c->rd);
        c->rd = NULL;
        c->copied++;
        kt_sops_cat_next(c);
        return;
    }
    if (kt_storage_write(c->w, chunk, len, kt_sops_cat_on_written, c))
        kt_sops_cat_end(c, KT_ECLOSED, "the internal storage is closing");
}

static void kt_sops_cat_on_open(kt_storage_reader *rd, kt_status st, const kt_storage_attrs *attrs,
                                const char *err, void *data)
{
    (void)attrs;
    kt_sops_cat *c = data;
    if (st != KT_OK)
        c->rd = NULL; /* freed by the storage after this callback */
    if (kt_sops_cat_stopped(c))
        return;
    if (st == KT_ENOTFOUND && c->skip_missing) {
        kt_sops_cat_next(c);
        return;
    }
    if (st != KT_OK) {
        kt_sops_cat_end(c, st, err);
        return;
    }
    if (kt_storage_read(rd, kt_sops_cat_on_read, c))
        kt_sops_cat_end(c, KT_ECLOSED, "the internal storage is closing");
}

static void kt_sops_cat_next(kt_sops_cat *c)
{
    char err[512] = "";
    if (c->next == json_array_size(c->sources)) {
        if (!c->copied && c->skip_missing) { /* nothing found: nothing written */
            kt_sops_cat_end(c, KT_OK, "");
            return;
        }
        if (kt_storage_writer_commit(c->w, kt_sops_cat_on_commit, c))
            kt_sops_cat_end(c, KT_ECLOSED, "the internal storage is closing"); /* w still ours: aborted */
        return;
    }
    const char *uri = json_string_value(json_array_get(c->sources, c->next++));
    kt_status st = kt_storage_reader_open(c->s, uri ? uri : "", kt_sops_cat_on_open, c, &c->rd, err, sizeof err);
    if (st) {
        c->rd = NULL;
        kt_sops_cat_end(c, st, err);
    }
}

kt_status kt_sops_concat(kt_storage *s, const json_t *sources, const char *to, int skip_missing, kt_sops_cat_fn done,
                         void *data, kt_sops_cat **out, char *err, size_t errcap)
{
    const char *first = json_string_value(json_array_get(sources, 0));
    if (!first) {
        snprintf(err, errcap, "nothing to copy into %s", to);
        return KT_EINVAL;
    }
    kt_sops_cat *c = kt_xcalloc(1, sizeof *c);
    *c = (kt_sops_cat){.s = s, .sources = sources, .skip_missing = skip_missing, .done = done, .data = data,
                       .next = 1};
    kt_status st = kt_storage_writer_open(s, to, NULL, &c->w, err, errcap);
    if (st == KT_OK && (st = kt_storage_reader_open(s, first, kt_sops_cat_on_open, c, &c->rd, err, errcap))) {
        kt_storage_writer_abort(c->w);
    }
    if (st) {
        free(c);
        return st;
    }
    if (out)
        *out = c;
    return KT_OK;
}

void kt_sops_concat_cancel(kt_sops_cat *c)
{
    if (c)
        c->cancelled = 1;
}
