/* namespaceFiles: the namespace's files copied into a working directory (ns_files.h). */
#include "actors/worker/ns_files.h"
#include "base/alloc.h"
#include "base/json.h"
#include "base/limits.h"
#include "store/storage.h"
#include "store/storage_uri.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define KT_NSFILES_PATH 4096

/* ---- the filter ---------------------------------------------------------------------------------------- */

struct kt_nsfiles_filter {
    kt_sfiles_matcher *include, *exclude; /* NULL: no such list */
};

/* PathMatcherPredicate(null, patterns): `glob:` + (`**` + '/' when the pattern starts with a word character) + the
 * pattern with '\' as '/', tested against "/" + path (the matcher's workdir "" gives that leading '/'). */
static kt_sfiles_matcher *kt_nsfiles_matcher(const json_t *patterns, const char *what, char *err, size_t errcap)
{
    json_t *list = json_is_string(patterns) ? json_pack("[O]", patterns) : json_incref((json_t *)patterns);
    if (!json_is_array(list)) {
        snprintf(err, errcap, "namespaceFiles.%s must be a list of strings", what);
        json_decref(list);
        return NULL;
    }
    json_t *globs = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        const char *s = json_string_value(v);
        if (!s) {
            snprintf(err, errcap, "namespaceFiles.%s[%zu] must be a string", what, i);
            goto fail;
        }
        if (!strncmp(s, "glob:", 5) || !strncmp(s, "regex:", 6)) {
            json_array_append(globs, v);
            continue;
        }
        kt_buf b = {0};
        kt_buf_puts(&b, "glob:");
        unsigned char c0 = (unsigned char)s[0];
        if ((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z') || (c0 >= '0' && c0 <= '9') || c0 == '_')
            kt_buf_puts(&b, "**/");
        for (const char *c = s; *c; c++)
            kt_buf_putc(&b, *c == '\\' ? '/' : *c);
        char *g = kt_buf_take(&b);
        json_array_append_new(globs, json_string(g ? g : ""));
        free(g);
    }
    char why[512] = "";
    kt_sfiles_matcher *m = kt_sfiles_matcher_new(globs, "", why, sizeof why);
    if (!m) /* its messages name outputFiles, whose matcher it is */
        snprintf(err, errcap, "namespaceFiles.%s: %s", what, !strncmp(why, "outputFiles: ", 13) ? why + 13 : why);
    json_decref(globs);
    json_decref(list);
    return m;
fail:
    json_decref(globs);
    json_decref(list);
    return NULL;
}

kt_nsfiles_filter *kt_nsfiles_filter_new(const json_t *include, const json_t *exclude, char *err, size_t errcap)
{
    kt_nsfiles_filter *f = kt_xcalloc(1, sizeof *f);
    int has_in = include && !json_is_null(include) && !(json_is_array(include) && !json_array_size(include));
    int has_ex = exclude && !json_is_null(exclude) && !(json_is_array(exclude) && !json_array_size(exclude));
    if ((has_in && !(f->include = kt_nsfiles_matcher(include, "include", err, errcap))) ||
        (has_ex && !(f->exclude = kt_nsfiles_matcher(exclude, "exclude", err, errcap)))) {
        kt_nsfiles_filter_free(f);
        return NULL;
    }
    return f;
}

int kt_nsfiles_filter_test(const kt_nsfiles_filter *f, const char *path)
{
    if (f->include && !kt_sfiles_matcher_test(f->include, path))
        return 0;
    return !(f->exclude && kt_sfiles_matcher_test(f->exclude, path));
}

void kt_nsfiles_filter_free(kt_nsfiles_filter *f)
{
    if (!f)
        return;
    kt_sfiles_matcher_free(f->include);
    kt_sfiles_matcher_free(f->exclude);
    free(f);
}

int kt_nsfiles_wanted(const json_t *spec)
{
    if (!json_is_object(spec))
        return 0;
    json_t *en = json_object_get(spec, "enabled");
    return !(json_is_false(en) || (json_is_string(en) && !strcmp(json_string_value(en), "false")));
}

/* ---- the fetch: a walk of the folders, then one download at a time ------------------------------------- */

struct kt_nsfiles_op {
    kt_task_run *r;
    kt_storage *storage;
    kt_nsfiles_filter *filter;
    kt_sfiles_done_fn done;
    void *data;
    atomic_int cancelled;
    kt_storage_copy *copy; /* the download under way */
    char **dirs;           /* folders still to list (relative paths, "" the root) */
    size_t ndirs, capdirs;
    char **files;          /* matching files (relative paths), downloaded in order */
    size_t nfiles, capfiles, next;
    char root[KT_SURI_PATH_MAX + 1]; /* the checked path of the namespace's `_files` folder, no trailing '/' */
    char workdir[KT_NSFILES_PATH];
};

static void kt_nsfiles_push(char ***v, size_t *n, size_t *cap, const char *s)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *v = kt_xrealloc(*v, *cap * sizeof **v);
    }
    (*v)[(*n)++] = kt_xstrdup(s);
}

static void kt_nsfiles_finish(kt_nsfiles_op *op, int ok)
{
    if (atomic_load(&op->cancelled))
        ok = 0;
    for (size_t i = 0; i < op->ndirs; i++)
        free(op->dirs[i]);
    for (size_t i = 0; i < op->nfiles; i++)
        free(op->files[i]);
    free(op->dirs);
    free(op->files);
    kt_nsfiles_filter_free(op->filter);
    kt_sfiles_done_fn done = op->done;
    void *data = op->data;
    free(op);
    done(data, ok, NULL);
}

void kt_nsfiles_cancel(kt_nsfiles_op *op)
{
    if (!op || atomic_exchange(&op->cancelled, 1))
        return;
    kt_storage_copy_cancel(op->copy); /* a listing in flight ends the fetch from its callback */
}

/* The URI of root/rel (rel may be ""), with a trailing '/' for a folder. */
static int kt_nsfiles_uri(const kt_nsfiles_op *op, const char *rel, int folder, char *out, size_t cap)
{
    char path[2 * KT_SURI_PATH_MAX + 4];
    int n = snprintf(path, sizeof path, "%s%s%s%s", op->root, rel[0] ? "/" : "", rel, folder ? "/" : "");
    if (n < 0 || (size_t)n >= sizeof path || strlen(path) > KT_SURI_PATH_MAX)
        return -1;
    return kt_suri_from_path(path, out, cap) == KT_OK ? 0 : -1;
}

static void kt_nsfiles_step(kt_nsfiles_op *op);

static void kt_nsfiles_on_get(kt_status st, const char *err, void *data)
{
    kt_nsfiles_op *op = data;
    op->copy = NULL;
    if (!atomic_load(&op->cancelled) && st) {
        kt_task_logf(op->r, "ERROR", "namespaceFiles: cannot fetch '%s': %s", op->files[op->next - 1], err);
        kt_nsfiles_finish(op, 0);
        return;
    }
    kt_nsfiles_step(op);
}

static void kt_nsfiles_on_list(kt_status st, const kt_storage_attrs *entries, size_t n, const char *err, void *data)
{
    kt_nsfiles_op *op = data;
    char *dir = op->dirs[--op->ndirs];
    if (atomic_load(&op->cancelled)) {
        free(dir);
        kt_nsfiles_step(op);
        return;
    }
    if (st && !(st == KT_ENOTFOUND && !dir[0])) { /* no `_files` folder at all: no namespace files */
        kt_task_logf(op->r, "ERROR", "namespaceFiles: cannot list '%s': %s", dir[0] ? dir : "/", err);
        free(dir);
        kt_nsfiles_finish(op, 0);
        return;
    }
    char rel[KT_SURI_PATH_MAX + 1];
    for (size_t i = 0; !st && i < n; i++) {
        int len = snprintf(rel, sizeof rel, "%s%s%s", dir, dir[0] ? "/" : "", entries[i].name);
        if (len < 0 || (size_t)len >= sizeof rel)
            continue; /* longer than any stored path: cannot be one */
        if (entries[i].type == KT_STORAGE_DIRECTORY)
            kt_nsfiles_push(&op->dirs, &op->ndirs, &op->capdirs, rel);
        else if (kt_nsfiles_filter_test(op->filter, rel))
            kt_nsfiles_push(&op->files, &op->nfiles, &op->capfiles, rel);
    }
    free(dir);
    kt_nsfiles_step(op);
}

/* The next storage call: a folder to list, else the next file to download, else the end. */
static void kt_nsfiles_step(kt_nsfiles_op *op)
{
    char uri[3 * KT_SURI_PATH_MAX + 16], err[512] = "";
    if (atomic_load(&op->cancelled)) {
        kt_nsfiles_finish(op, 0);
        return;
    }
    if (op->ndirs) {
        const char *dir = op->dirs[op->ndirs - 1];
        if (kt_nsfiles_uri(op, dir, 1, uri, sizeof uri) ||
            kt_storage_list(op->storage, uri, kt_nsfiles_on_list, op, err, sizeof err)) {
            kt_task_logf(op->r, "ERROR", "namespaceFiles: cannot list '%s'%s%s", dir[0] ? dir : "/", err[0] ? ": " : "",
                         err);
            kt_nsfiles_finish(op, 0);
            return;
        }
        return;
    }
    if (op->next == op->nfiles) {
        kt_nsfiles_finish(op, 1);
        return;
    }
    const char *rel = op->files[op->next++];
    char local[2 * KT_NSFILES_PATH];
    int n = snprintf(local, sizeof local, "%s/%s", op->workdir, rel);
    if (n < 0 || (size_t)n >= sizeof local) {
        kt_task_logf(op->r, "ERROR", "namespaceFiles: '%s': path too long", rel);
        kt_nsfiles_finish(op, 0);
        return;
    }
    for (char *c = local + strlen(op->workdir) + 1; *c; c++) { /* its folders, as Kestra's putFile makes them */
        if (*c != '/')
            continue;
        *c = 0;
        int rc = mkdir(local, 0755);
        *c = '/';
        if (rc && errno != EEXIST) {
            kt_task_logf(op->r, "ERROR", "namespaceFiles: cannot create the folders of '%s': %s", rel, strerror(errno));
            kt_nsfiles_finish(op, 0);
            return;
        }
    }
    if (kt_nsfiles_uri(op, rel, 0, uri, sizeof uri) ||
        kt_storage_get_file_c(op->storage, uri, local, kt_nsfiles_on_get, op, &op->copy, err, sizeof err)) {
        kt_task_logf(op->r, "ERROR", "namespaceFiles: cannot fetch '%s'%s%s", rel, err[0] ? ": " : "", err);
        kt_nsfiles_finish(op, 0);
    }
}

int kt_nsfiles_fetch(kt_task_run *r, const json_t *spec, const char *workdir, kt_sfiles_done_fn done, void *data,
                     kt_nsfiles_op **out)
{
    if (!kt_nsfiles_wanted(spec))
        return 1;
    if (!kt_task_storage(r)) {
        kt_task_logf(r, "ERROR", "namespaceFiles needs the internal storage, which this worker was not given");
        return -1;
    }
    char err[512] = "", uri[3 * KT_SURI_PATH_MAX + 16];
    kt_nsfiles_filter *filter =
        kt_nsfiles_filter_new(json_object_get(spec, "include"), json_object_get(spec, "exclude"), err, sizeof err);
    if (!filter) {
        kt_task_logf(r, "ERROR", "%s", err);
        return -1;
    }
    kt_nsfiles_op *op = kt_xcalloc(1, sizeof *op);
    atomic_init(&op->cancelled, 0);
    op->r = r;
    op->storage = kt_task_storage(r);
    op->filter = filter;
    op->done = done;
    op->data = data;
    snprintf(op->workdir, sizeof op->workdir, "%s", workdir);
    const char *ns = json_string_value(json_object_get(kt_task_run_info(r), "namespace"));
    if (!ns || kt_suri_namespace_files(ns, uri, sizeof uri) || kt_suri_path(uri, op->root, sizeof op->root, err,
                                                                            sizeof err)) {
        kt_task_logf(r, "ERROR", "namespaceFiles: no storage folder for namespace '%s'%s%s", ns ? ns : "?",
                     err[0] ? ": " : "", err);
        kt_nsfiles_filter_free(filter);
        free(op);
        return -1;
    }
    size_t len = strlen(op->root);
    if (len && op->root[len - 1] == '/')
        op->root[len - 1] = 0;
    kt_nsfiles_push(&op->dirs, &op->ndirs, &op->capdirs, "");
    /* the first listing started here, so a failure to start is this call's -1, never an early done */
    if (kt_nsfiles_uri(op, "", 1, uri, sizeof uri) ||
        kt_storage_list(op->storage, uri, kt_nsfiles_on_list, op, err, sizeof err)) {
        kt_task_logf(r, "ERROR", "namespaceFiles: cannot list the namespace files%s%s", err[0] ? ": " : "", err);
        free(op->dirs[0]);
        free(op->dirs);
        kt_nsfiles_filter_free(filter);
        free(op);
        return -1;
    }
    *out = op;
    return 0;
}
