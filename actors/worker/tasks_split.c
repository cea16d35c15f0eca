/* Tasks that cut, gather and purge an execution's files (KESTRA-model.md §6.6, ForEachItem.java):
 *   storage.Split                      `from` cut by bytes/partitions/rows (split.h); outputs {uris}.
 *   flow.ForEachItem$ForEachItemSplit  ForEachItem's `_split` task, made by the executor: `items` (a kestra:// URI)
 *                                      cut by `batch` (rows 1 by default); the pieces' URIs listed one per line in
 *                                      `<task run folder>/splits.txt`; outputs {splits: its URI}.
 *   flow.ForEachItem$ForEachItemMergeOutputs  ForEachItem's `_merge` task: the `<n>/outputs.ion` files under
 *                                      `subflowOutputsBaseUri`, concatenated in iteration order into
 *                                      `<task run folder>/outputs.ion`; outputs {subflowOutputs: its URI}, or none.
 *   storage.PurgeCurrentExecutionFiles everything under the execution's storage folder deleted; outputs {uris}.
 * Kestra builds the two ForEachItem tasks itself (getTasks()), so a flow never writes them; the executor sends them
 * like any runnable, with their properties rendered. */
#include "actors/worker/split.h"
#include "actors/worker/storage_ops.h"
#include "actors/worker/task.h"
#include "actors/worker/tasks_storage.h"
#include "base/alloc.h"
#include "base/json.h"
#include "store/storage.h"
#include "store/storage_uri.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a running task holds, for its kill. */
typedef struct kt_fsplit {
    kt_task_run *r;
    kt_split_op *split;
    kt_sops_cat *cat;
    kt_storage_writer *w;
    json_t *sources;
    char *body; /* _split: the text of splits.txt; _merge and Purge: the folder's checked path */
    int killed;
    char uri[KT_ST_URI];
} kt_fsplit;

static kt_fsplit *kt_fsplit_new(kt_task_run *r)
{
    kt_fsplit *t = kt_xcalloc(1, sizeof *t);
    t->r = r;
    kt_task_set_data(r, t);
    return t;
}

static void kt_fsplit_end(kt_fsplit *t, const char *state, json_t *out)
{
    kt_task_run *r = t->r;
    kt_storage_writer_abort(t->w);
    json_decref(t->sources);
    free(t->body);
    kt_task_set_data(r, NULL);
    int killed = t->killed;
    free(t);
    if (killed && strcmp(state, KT_S(SUCCESS)) != 0) {
        json_decref(out);
        kt_task_finish(r, KT_S(KILLED), NULL);
        return;
    }
    kt_task_finish(r, state, out);
}

static void kt_fsplit_kill(kt_task_run *r)
{
    kt_fsplit *t = kt_task_data(r);
    if (!t || t->killed)
        return;
    t->killed = 1;
    if (t->split)
        kt_split_cancel(t->split);
    if (t->cat)
        kt_sops_concat_cancel(t->cat);
}

/* ---- storage.Split ---- */

static void kt_split_task_done(kt_task_run *r, void *data, int ok, json_t *uris)
{
    kt_fsplit *t = data;
    (void)r;
    t->split = NULL;
    if (!ok) {
        kt_fsplit_end(t, KT_S(FAILED), NULL);
        return;
    }
    json_t *out = json_object();
    json_object_set_new(out, "uris", uris);
    kt_fsplit_end(t, KT_S(SUCCESS), out);
}

static void kt_split_task_start(kt_task_run *r)
{
    char path[KT_SURI_PATH_MAX + 1], err[512] = "";
    const char *from = kt_task_prop_string(r, "from");
    kt_split_opts o;
    if (!kt_st_storage(r) || kt_st_uri(r, "from", from, path, sizeof path)) {
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    if (kt_split_opts_read(kt_task_props(r), 0, &o, err, sizeof err)) {
        kt_task_logf(r, "ERROR", "%s", err);
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    kt_fsplit *t = kt_fsplit_new(r);
    t->split = kt_split_start(r, from, &o, kt_split_task_done, t);
    kt_split_opts_clear(&o);
    if (!t->split)
        kt_fsplit_end(t, KT_S(FAILED), NULL);
}

/* ---- ForEachItem's _split ---- */

static void kt_fei_on_commit(kt_status st, const char *err, void *data)
{
    kt_fsplit *t = data;
    t->w = NULL; /* freed by the storage after this callback */
    if (st != KT_OK) {
        kt_task_logf(t->r, "ERROR", "%s", err);
        kt_fsplit_end(t, KT_S(FAILED), NULL);
        return;
    }
    kt_fsplit_end(t, KT_S(SUCCESS), json_pack("{s:s}", "splits", t->uri));
}

static void kt_fei_on_written(kt_status st, const char *err, void *data)
{
    kt_fsplit *t = data;
    if (st != KT_OK) {
        kt_task_logf(t->r, "ERROR", "%s", err);
        kt_fsplit_end(t, KT_S(FAILED), NULL);
        return;
    }
    if (kt_storage_writer_commit(t->w, kt_fei_on_commit, t)) {
        kt_task_logf(t->r, "ERROR", "the internal storage is closing");
        kt_fsplit_end(t, KT_S(FAILED), NULL); /* w still ours: aborted */
    }
}

/* splits.txt: the URIs joined by System.lineSeparator() ("\n"), no newline after the last. */
static void kt_fei_split_done(kt_task_run *r, void *data, int ok, json_t *uris)
{
    kt_fsplit *t = data;
    char err[512] = "";
    t->split = NULL;
    if (!ok || t->killed) {
        json_decref(uris);
        kt_fsplit_end(t, KT_S(FAILED), NULL);
        return;
    }
    kt_buf b = {0};
    size_t i;
    json_t *u;
    json_array_foreach(uris, i, u) {
        if (i)
            kt_buf_putc(&b, '\n');
        kt_buf_puts(&b, json_string_value(u));
    }
    size_t len = b.len;
    t->body = kt_buf_take(&b);
    json_decref(uris);
    if (kt_st_taskrun_file(r, "splits.txt", t->uri, sizeof t->uri)) {
        kt_fsplit_end(t, KT_S(FAILED), NULL);
        return;
    }
    if (kt_storage_writer_open(kt_task_storage(r), t->uri, NULL, &t->w, err, sizeof err) ||
        kt_storage_write(t->w, t->body ? t->body : "", len, kt_fei_on_written, t)) {
        kt_task_logf(r, "ERROR", "%s", err[0] ? err : "the internal storage is closing");
        kt_fsplit_end(t, KT_S(FAILED), NULL);
    }
}

static void kt_fei_split_start(kt_task_run *r)
{
    char path[KT_SURI_PATH_MAX + 1], err[512] = "";
    const char *items = kt_task_prop_string(r, "items");
    const json_t *batch = json_object_get(kt_task_props(r), "batch");
    kt_split_opts o;
    if (!kt_st_storage(r)) {
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    if (!items || strncmp(items, "kestra://", 9)) {
        kt_task_logf(r, "ERROR", "Unable to split the items from %s, this is not an internal storage URI!",
                     items ? items : "null");
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    if (kt_st_uri(r, "items", items, path, sizeof path)) {
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    if (batch && !json_is_null(batch) && !json_is_object(batch)) {
        kt_task_logf(r, "ERROR", "batch: must be an object {rows, bytes, partitions, separator}");
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    json_t *none = json_object();
    int rc = kt_split_opts_read(json_is_object(batch) ? batch : none, 1, &o, err, sizeof err);
    json_decref(none);
    if (rc) {
        kt_task_logf(r, "ERROR", "%s", err);
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    kt_fsplit *t = kt_fsplit_new(r);
    t->split = kt_split_start(r, items, &o, kt_fei_split_done, t);
    kt_split_opts_clear(&o);
    if (!t->split)
        kt_fsplit_end(t, KT_S(FAILED), NULL);
}

/* ---- ForEachItem's _merge ---- */

static void kt_fei_on_merged(void *data, kt_status st, const char *err, size_t copied)
{
    kt_fsplit *t = data;
    t->cat = NULL;
    if (st != KT_OK) {
        if (!t->killed)
            kt_task_logf(t->r, "ERROR", "%s", err);
        kt_fsplit_end(t, KT_S(FAILED), NULL);
        return;
    }
    /* no subflow wrote outputs: Kestra's run() returns null (no outputs) */
    kt_fsplit_end(t, KT_S(SUCCESS), copied ? json_pack("{s:s}", "subflowOutputs", t->uri) : NULL);
}

/* Iteration folders in their numeric order (1, 2, ..., 10), names that are not numbers after them by name. */
static int kt_fei_cmp(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    size_t nx = strspn(x, "0123456789"), ny = strspn(y, "0123456789");
    int dx = nx && !x[nx], dy = ny && !y[ny];
    if (dx != dy)
        return dx ? -1 : 1;
    if (dx) {
        while (*x == '0' && x[1])
            x++, nx--;
        while (*y == '0' && y[1])
            y++, ny--;
        if (nx != ny)
            return nx < ny ? -1 : 1;
    }
    return strcmp(x, y);
}

static void kt_fei_on_list(kt_status st, const kt_storage_attrs *e, size_t n, const char *err, void *data)
{
    kt_fsplit *t = data;
    char e2[512] = "";
    if (st == KT_ENOTFOUND || (st == KT_OK && !n)) { /* storage.exists false, or an empty list: no outputs */
        kt_fsplit_end(t, KT_S(SUCCESS), NULL);
        return;
    }
    if (st != KT_OK || t->killed) {
        if (!t->killed)
            kt_task_logf(t->r, "ERROR", "%s", err);
        kt_fsplit_end(t, KT_S(FAILED), NULL);
        return;
    }
    const char **names = kt_xcalloc(n + 1, sizeof *names);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (e[i].type == KT_STORAGE_DIRECTORY)
            names[k++] = e[i].name;
    qsort(names, k, sizeof *names, kt_fei_cmp);
    t->sources = json_array();
    for (size_t i = 0; i < k; i++) { /* <base>/<iteration>/outputs.ion (t->body: the base's checked path) */
        char full[2 * KT_SURI_PATH_MAX + 2], chk[KT_SURI_PATH_MAX + 1], uri[KT_ST_URI];
        snprintf(full, sizeof full, "%s/%s/outputs.ion", t->body, names[i]);
        if (kt_suri_relative(full, chk, sizeof chk, e2, sizeof e2) || kt_suri_from_path(chk, uri, sizeof uri)) {
            kt_task_logf(t->r, "ERROR", "'%s' is not a valid storage path%s%s", full, e2[0] ? ": " : "", e2);
            free(names);
            kt_fsplit_end(t, KT_S(FAILED), NULL);
            return;
        }
        json_array_append_new(t->sources, json_string(uri));
    }
    free(names);
    if (!json_array_size(t->sources)) {
        kt_fsplit_end(t, KT_S(SUCCESS), NULL);
        return;
    }
    if (kt_st_taskrun_file(t->r, "outputs.ion", t->uri, sizeof t->uri)) {
        kt_fsplit_end(t, KT_S(FAILED), NULL);
        return;
    }
    if (kt_sops_concat(kt_task_storage(t->r), t->sources, t->uri, 1, kt_fei_on_merged, t, &t->cat, e2, sizeof e2)) {
        kt_task_logf(t->r, "ERROR", "%s", e2);
        kt_fsplit_end(t, KT_S(FAILED), NULL);
    }
}

static void kt_fei_merge_start(kt_task_run *r)
{
    char uri[KT_ST_URI], path[KT_SURI_PATH_MAX + 1], err[512] = "";
    const json_t *v = json_object_get(kt_task_props(r), "subflowOutputsBaseUri");
    kt_storage *s = kt_st_storage(r);
    if (!s) {
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    if (!v || json_is_null(v)) { /* no _items outputs: there were no subflow executions */
        kt_task_finish(r, KT_S(SUCCESS), NULL);
        return;
    }
    const char *base = json_string_value(v);
    if (!base || !base[0]) {
        kt_task_logf(r, "ERROR", "subflowOutputsBaseUri: must be a storage path");
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    /* Kestra: KESTRA_PROTOCOL + subflowOutputsBase + "/", the base being a path; a full URI is taken as is */
    if (!strncmp(base, "kestra://", 9))
        snprintf(uri, sizeof uri, "%s", base);
    else
        snprintf(uri, sizeof uri, "kestra://%s%s", base[0] == '/' ? "" : "/", base);
    if (kt_st_uri(r, "subflowOutputsBaseUri", uri, path, sizeof path)) {
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    size_t len = strlen(path);
    if (len && path[len - 1] == '/')
        path[--len] = 0;
    kt_fsplit *t = kt_fsplit_new(r);
    t->body = kt_xstrdup(path);
    if (kt_storage_list(s, uri, kt_fei_on_list, t, err, sizeof err)) {
        kt_task_logf(r, "ERROR", "%s", err);
        kt_fsplit_end(t, KT_S(FAILED), NULL);
    }
}

/* ---- PurgeCurrentExecutionFiles ---- */

static int kt_purge_cmp_desc(const void *a, const void *b)
{
    return strcmp(*(const char *const *)b, *(const char *const *)a);
}

static void kt_purge_on_deleted(kt_status st, size_t count, const char *err, void *data)
{
    kt_fsplit *t = data;
    (void)count;
    if (st != KT_OK) {
        kt_task_logf(t->r, "ERROR", "%s", err);
        kt_fsplit_end(t, KT_S(FAILED), NULL);
        return;
    }
    /* LocalStorage.deleteByPrefix: every path walked (files, folders, the root itself), in reverse order */
    size_t n = json_array_size(t->sources);
    const char **v = kt_xcalloc(n + 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = json_string_value(json_array_get(t->sources, i));
    qsort(v, n, sizeof *v, kt_purge_cmp_desc);
    json_t *uris = json_array();
    for (size_t i = 0; i < n; i++) {
        char uri[KT_ST_URI];
        if (kt_suri_from_path(v[i], uri, sizeof uri) == KT_OK)
            json_array_append_new(uris, json_string(uri));
    }
    free(v);
    kt_fsplit_end(t, KT_S(SUCCESS), json_pack("{s:o}", "uris", uris));
}

static void kt_purge_on_walk(void *data, kt_status st, const char *err, json_t *entries)
{
    kt_fsplit *t = data;
    char e[512] = "";
    if (st != KT_OK) {
        kt_task_logf(t->r, "ERROR", "%s", err);
        kt_fsplit_end(t, KT_S(FAILED), NULL);
        return;
    }
    size_t i;
    json_t *p;
    json_array_foreach(entries, i, p) {
        const char *s = json_string_value(p);
        size_t len = strlen(s);
        if (len && s[len - 1] == '/') { /* folders are listed without their '/' */
            char *c = kt_xstrdup(s);
            c[len - 1] = 0;
            json_array_set_new(entries, i, json_string(c));
            free(c);
        }
    }
    json_array_append_new(entries, json_string(t->body));
    t->sources = entries;
    if (kt_storage_delete_prefix(kt_task_storage(t->r), t->uri, kt_purge_on_deleted, t, e, sizeof e)) {
        kt_task_logf(t->r, "ERROR", "%s", e);
        kt_fsplit_end(t, KT_S(FAILED), NULL);
    }
}

static void kt_purge_on_exists(kt_status st, int exists, const char *err, void *data)
{
    kt_fsplit *t = data;
    char e[512] = "";
    if (st != KT_OK) {
        kt_task_logf(t->r, "ERROR", "%s", err);
        kt_fsplit_end(t, KT_S(FAILED), NULL);
        return;
    }
    if (!exists) { /* Kestra: List.of() */
        kt_fsplit_end(t, KT_S(SUCCESS), json_pack("{s:[]}", "uris"));
        return;
    }
    if (kt_sops_walk(kt_task_storage(t->r), t->uri, 1, kt_purge_on_walk, t, e, sizeof e)) {
        kt_task_logf(t->r, "ERROR", "%s", e);
        kt_fsplit_end(t, KT_S(FAILED), NULL);
    }
}

static void kt_purge_start(kt_task_run *r)
{
    const json_t *info = kt_task_run_info(r);
    char path[KT_SURI_PATH_MAX + 1], err[512] = "";
    kt_storage *s = kt_st_storage(r);
    if (!s) {
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    kt_fsplit *t = kt_fsplit_new(r);
#define KT_INFO(k) json_string_value(json_object_get(info, k))
    if (kt_suri_execution_root(KT_INFO("namespace"), KT_INFO("flowId"), KT_INFO("executionId"), t->uri,
                               sizeof t->uri) ||
        kt_suri_path(t->uri, path, sizeof path, err, sizeof err)) {
#undef KT_INFO
        kt_task_logf(r, "ERROR", "no storage folder for this execution%s%s", err[0] ? ": " : "", err);
        kt_fsplit_end(t, KT_S(FAILED), NULL);
        return;
    }
    t->body = kt_xstrdup(path);
    if (kt_storage_exists(s, t->uri, kt_purge_on_exists, t, err, sizeof err)) {
        kt_task_logf(r, "ERROR", "%s", err);
        kt_fsplit_end(t, KT_S(FAILED), NULL);
    }
}

const kt_task_impl kt_task_storage_split_impl = {.type = "io.kestra.plugin.core.storage.Split",
                                                 .start = kt_split_task_start, .kill = kt_fsplit_kill};
const kt_task_impl kt_task_foreach_item_split_impl = {
    .type = "io.kestra.plugin.core.flow.ForEachItem$ForEachItemSplit", .start = kt_fei_split_start,
    .kill = kt_fsplit_kill};
const kt_task_impl kt_task_foreach_item_merge_impl = {
    .type = "io.kestra.plugin.core.flow.ForEachItem$ForEachItemMergeOutputs", .start = kt_fei_merge_start,
    .kill = kt_fsplit_kill};
const kt_task_impl kt_task_storage_purge_files_impl = {
    .type = "io.kestra.plugin.core.storage.PurgeCurrentExecutionFiles", .start = kt_purge_start};
