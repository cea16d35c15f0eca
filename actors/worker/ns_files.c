/* namespaceFiles: the namespace's files copied into a working directory (ns_files.h). */
#include "actors/worker/ns_files.h"
#include "actors/worker/storage_ops.h"
#include "base/alloc.h"
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

/* PathMatcherPredicate(null, patterns) is the rooted matcher (script_files.h); its messages name outputFiles, whose
 * matcher it first was, so the list is named here. */
static kt_sfiles_matcher *kt_nsfiles_matcher(const json_t *patterns, const char *what, char *err, size_t errcap)
{
    char why[512] = "";
    kt_sfiles_matcher *m = kt_sfiles_matcher_new_rooted(patterns, why, sizeof why);
    if (!m) {
        const char *w = !strncmp(why, "outputFiles", 11) ? why + 11 : why;
        snprintf(err, errcap, "namespaceFiles.%s%s%s", what, *w == '[' || *w == ':' ? "" : ": ", w);
    }
    return m;
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

/* ---- the fetch: one walk of the namespace's tree, then one download at a time -------------------------- */

struct kt_nsfiles_op {
    kt_task_run *r;
    kt_storage *storage;
    kt_nsfiles_filter *filter;
    kt_sfiles_done_fn done;
    void *data;
    atomic_int cancelled;
    kt_storage_copy *copy; /* the download under way */
    json_t *files;         /* the matching files' paths relative to the root, downloaded in order */
    size_t next;
    char root[KT_SURI_PATH_MAX + 1]; /* the checked path of the namespace's `_files` folder, with its trailing '/' */
    char workdir[KT_NSFILES_PATH];
};

static void kt_nsfiles_finish(kt_nsfiles_op *op, int ok)
{
    if (atomic_load(&op->cancelled))
        ok = 0;
    json_decref(op->files);
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
    kt_storage_copy_cancel(op->copy); /* a walk in flight ends the fetch from its callback */
}

static void kt_nsfiles_next(kt_nsfiles_op *op);

static void kt_nsfiles_on_get(kt_status st, const char *err, void *data)
{
    kt_nsfiles_op *op = data;
    op->copy = NULL;
    if (!atomic_load(&op->cancelled) && st) {
        kt_task_logf(op->r, "ERROR", "namespaceFiles: cannot fetch '%s': %s",
                     json_string_value(json_array_get(op->files, op->next - 1)), err);
        kt_nsfiles_finish(op, 0);
        return;
    }
    kt_nsfiles_next(op);
}

/* Downloads the next file to workdir/<its namespace path>, its folders made (Kestra's putFile), or ends. */
static void kt_nsfiles_next(kt_nsfiles_op *op)
{
    if (atomic_load(&op->cancelled) || op->next == json_array_size(op->files)) {
        kt_nsfiles_finish(op, 1);
        return;
    }
    const char *rel = json_string_value(json_array_get(op->files, op->next++));
    char local[2 * KT_NSFILES_PATH], path[2 * KT_SURI_PATH_MAX + 2], uri[3 * KT_SURI_PATH_MAX + 16], err[512] = "";
    int n = snprintf(local, sizeof local, "%s/%s", op->workdir, rel);
    if (n < 0 || (size_t)n >= sizeof local) {
        kt_task_logf(op->r, "ERROR", "namespaceFiles: '%s': path too long", rel);
        kt_nsfiles_finish(op, 0);
        return;
    }
    for (char *c = local + strlen(op->workdir) + 1; *c; c++) {
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
    snprintf(path, sizeof path, "%s%s", op->root, rel);
    if (kt_suri_from_path(path, uri, sizeof uri) ||
        kt_storage_get_file_c(op->storage, uri, local, kt_nsfiles_on_get, op, &op->copy, err, sizeof err)) {
        kt_task_logf(op->r, "ERROR", "namespaceFiles: cannot fetch '%s'%s%s", rel, err[0] ? ": " : "", err);
        kt_nsfiles_finish(op, 0);
    }
}

/* The tree is known: the files the filter keeps, by their path under `_files`. */
static void kt_nsfiles_walked(void *data, kt_status st, const char *err, json_t *entries)
{
    kt_nsfiles_op *op = data;
    if (atomic_load(&op->cancelled)) {
        json_decref(entries);
        kt_nsfiles_finish(op, 0);
        return;
    }
    if (st) {
        kt_task_logf(op->r, "ERROR", "namespaceFiles: cannot list the namespace files: %s", err);
        kt_nsfiles_finish(op, 0);
        return;
    }
    size_t root = strlen(op->root), i;
    json_t *e;
    json_array_foreach(entries, i, e) {
        const char *path = json_string_value(e);
        if (path && !strncmp(path, op->root, root) && path[root] && kt_nsfiles_filter_test(op->filter, path + root))
            json_array_append_new(op->files, json_string(path + root));
    }
    json_decref(entries);
    kt_nsfiles_next(op);
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
    op->files = json_array();
    snprintf(op->workdir, sizeof op->workdir, "%s", workdir);
    const char *ns = json_string_value(json_object_get(kt_task_run_info(r), "namespace"));
    if (!ns || kt_suri_namespace_files(ns, uri, sizeof uri) ||
        kt_suri_path(uri, op->root, sizeof op->root, err, sizeof err) ||
        kt_sops_walk(op->storage, uri, 0, kt_nsfiles_walked, op, err, sizeof err)) {
        kt_task_logf(r, "ERROR", "namespaceFiles: cannot list the files of namespace '%s'%s%s", ns ? ns : "?",
                     err[0] ? ": " : "", err);
        json_decref(op->files);
        kt_nsfiles_filter_free(filter);
        free(op);
        return -1;
    }
    *out = op;
    return 0;
}
