/* Namespace-file tasks (KESTRA-model.md §6.7; UploadFiles.java, DownloadFiles.java, DeleteFiles.java,
 * InternalNamespace.java): over the storage's `kestra:///<ns as path>/_files/` tree, which the namespace files API
 * (web/api_nsfiles.c) serves.
 *   DownloadFiles  the namespace files whose path ("/dir/a.txt") matches `files` (PathMatcherPredicate without base
 *                  path: kt_sfiles_matcher_new_rooted) copied to `<task run folder>/<destination><path>`; outputs
 *                  {files: {"/dir/a.txt": URI}}.
 *   DeleteFiles    the matching namespace files deleted; no outputs (Kestra's Output.files is never set).
 *   UploadFiles    `files` globs matched in the task's working directory, each file stored at
 *                  `<destination>/<its relative path>`, and `filesMap` {target: kestra:// URI} stored at
 *                  `<destination><target>` (string concatenation, as Kestra; a missing source is skipped), with
 *                  `conflict` OVERWRITE (default), ERROR or SKIP; no outputs.
 * The work is a list of steps (copy, upload, delete) run one after the other, each streamed by the storage. */
#include "actors/worker/script_files.h"
#include "actors/worker/storage_ops.h"
#include "actors/worker/task.h"
#include "actors/worker/tasks_storage.h"
#include "base/alloc.h"
#include "store/storage.h"
#include "store/storage_uri.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum kt_nsf_kind { KT_NSF_DOWNLOAD, KT_NSF_DELETE, KT_NSF_UPLOAD } kt_nsf_kind;
typedef enum kt_nsf_conflict { KT_NSF_OVERWRITE, KT_NSF_ERROR, KT_NSF_SKIP } kt_nsf_conflict;
typedef enum kt_nsf_step_kind { KT_NSF_COPY, KT_NSF_PUT, KT_NSF_DEL } kt_nsf_step_kind;

typedef struct kt_nsf_step {
    kt_nsf_step_kind kind;
    char *src;     /* a kestra:// URI (copy, delete) or a local path (put) */
    char *dst;     /* a kestra:// URI (copy, put) */
    char *key;     /* DownloadFiles: the output key; UploadFiles: the path in Kestra's conflict message */
    int check;     /* look whether dst exists first (conflict ERROR/SKIP; a filesMap source that may be missing) */
} kt_nsf_step;

typedef struct kt_nsf_op {
    kt_task_run *r;
    kt_storage *s;
    kt_nsf_kind kind;
    kt_nsf_conflict conflict;
    char ns[512];
    char root[KT_ST_URI];                 /* the namespace files root URI, ending in '/' */
    char root_path[KT_SURI_PATH_MAX + 1]; /* its checked path, without the '/' */
    kt_sfiles_matcher *m;
    kt_nsf_step *steps;
    size_t n, cap, next;
    json_t *files;   /* DownloadFiles' output */
    json_t *sources; /* the one source of the copy under way */
    kt_sops_cat *cat;
    kt_storage_copy *copy;
    int killed;
    long deleted;       /* DeleteFiles: the files really deleted (Kestra's counter `deleted`) */
    char workdir[4096]; /* UploadFiles: the task's working directory, removed at the end */
} kt_nsf_op;

static void kt_nsf_add(kt_nsf_op *op, kt_nsf_step_kind kind, const char *src, const char *dst, const char *key,
                       int check)
{
    if (op->n == op->cap) {
        op->cap = op->cap ? op->cap * 2 : 16;
        op->steps = kt_xrealloc(op->steps, op->cap * sizeof *op->steps);
    }
    op->steps[op->n++] = (kt_nsf_step){.kind = kind, .src = kt_xstrdup(src), .dst = dst ? kt_xstrdup(dst) : NULL,
                                       .key = key ? kt_xstrdup(key) : NULL, .check = check};
}

static void kt_nsf_end(kt_nsf_op *op, const char *state, json_t *out)
{
    kt_task_run *r = op->r;
    if (!op->killed && !strcmp(state, KT_S(SUCCESS))) { /* Kestra's counters, recorded once the work is done */
        if (op->kind == KT_NSF_DELETE)
            kt_task_counter(r, "deleted", (double)op->deleted, NULL);
        else if (op->kind == KT_NSF_DOWNLOAD)
            kt_task_counter(r, "downloaded", (double)json_object_size(op->files), NULL);
    }
    for (size_t i = 0; i < op->n; i++) {
        free(op->steps[i].src);
        free(op->steps[i].dst);
        free(op->steps[i].key);
    }
    free(op->steps);
    kt_sfiles_matcher_free(op->m);
    json_decref(op->files);
    json_decref(op->sources);
    kt_st_workdir_remove(op->workdir);
    kt_task_set_data(r, NULL);
    if (op->killed) {
        json_decref(out);
        out = NULL;
        state = KT_S(KILLED);
    }
    free(op);
    kt_task_finish(r, state, out);
}

static void kt_nsf_fail(kt_nsf_op *op, const char *err)
{
    if (!op->killed)
        kt_task_logf(op->r, "ERROR", "%s", err);
    kt_nsf_end(op, KT_S(FAILED), NULL);
}

/* ---- running the steps ---- */

static void kt_nsf_next(kt_nsf_op *op);

static void kt_nsf_step_done(kt_nsf_op *op, kt_status st, const char *err)
{
    kt_nsf_step *s = &op->steps[op->next - 1];
    if (op->killed) {
        kt_nsf_end(op, KT_S(KILLED), NULL);
        return;
    }
    if (s->kind == KT_NSF_DEL && st == KT_OK)
        op->deleted++;
    if (s->kind == KT_NSF_DEL && st == KT_ENOTFOUND) /* gone meanwhile: InternalNamespace.delete's false */
        st = KT_OK;
    if (st != KT_OK) {
        kt_nsf_fail(op, err);
        return;
    }
    if (s->kind == KT_NSF_DEL)
        kt_task_logf(op->r, "DEBUG", "Deleted %s", s->key);
    else if (op->kind == KT_NSF_DOWNLOAD) {
        json_object_set_new(op->files, s->key, json_string(s->dst));
        kt_task_logf(op->r, "DEBUG", "Downloaded %s", s->dst);
    }
    kt_nsf_next(op);
}

static void kt_nsf_on_done(kt_status st, const char *err, void *data)
{
    kt_nsf_op *op = data;
    op->copy = NULL;
    kt_nsf_step_done(op, st, err);
}

static void kt_nsf_on_cat(void *data, kt_status st, const char *err, size_t copied)
{
    (void)copied;
    kt_nsf_op *op = data;
    op->cat = NULL;
    kt_nsf_step_done(op, st, err);
}

static void kt_nsf_run(kt_nsf_op *op)
{
    kt_nsf_step *s = &op->steps[op->next - 1];
    char err[512] = "";
    kt_status st;
    switch (s->kind) {
    case KT_NSF_COPY:
        json_decref(op->sources);
        op->sources = json_pack("[s]", s->src);
        st = kt_sops_concat(op->s, op->sources, s->dst, 0, kt_nsf_on_cat, op, &op->cat, err, sizeof err);
        break;
    case KT_NSF_PUT:
        st = kt_storage_put_file_c(op->s, s->dst, s->src, NULL, kt_nsf_on_done, op, &op->copy, err, sizeof err);
        break;
    default:
        st = kt_storage_delete(op->s, s->src, kt_nsf_on_done, op, err, sizeof err);
        break;
    }
    if (st)
        kt_nsf_fail(op, err);
}

/* Before a step: the filesMap source must exist (Kestra skips a missing one), then the conflict rule. */
static void kt_nsf_on_exists(kt_status st, int exists, const char *err, void *data)
{
    kt_nsf_op *op = data;
    kt_nsf_step *s = &op->steps[op->next - 1];
    char e[512] = "";
    if (op->killed) {
        kt_nsf_end(op, KT_S(KILLED), NULL);
        return;
    }
    if (st != KT_OK) {
        kt_nsf_fail(op, err);
        return;
    }
    if (s->check == 2) { /* the source checked: now the target, when the conflict rule needs it */
        if (!exists) {
            kt_nsf_next(op);
            return;
        }
        s->check = op->conflict != KT_NSF_OVERWRITE;
        if (!s->check) {
            kt_nsf_run(op);
            return;
        }
        if (kt_storage_exists(op->s, s->dst, kt_nsf_on_exists, op, e, sizeof e))
            kt_nsf_fail(op, e);
        return;
    }
    if (exists && op->conflict == KT_NSF_ERROR) {
        char msg[1400];
        snprintf(msg, sizeof msg, "File '%s' already exists in namespace '%s' and conflict is set to ERROR", s->key,
                 op->ns);
        kt_nsf_fail(op, msg);
        return;
    }
    if (exists) { /* SKIP */
        kt_task_logf(op->r, "DEBUG", "File '%s' already exists in namespace '%s' and conflict is set to SKIP. Skipping.",
                     s->key, op->ns);
        kt_nsf_next(op);
        return;
    }
    kt_nsf_run(op);
}

static void kt_nsf_next(kt_nsf_op *op)
{
    char err[512] = "";
    if (op->next == op->n) {
        json_t *out = op->kind == KT_NSF_DOWNLOAD ? json_pack("{s:O}", "files", op->files) : NULL;
        kt_nsf_end(op, KT_S(SUCCESS), out);
        return;
    }
    kt_nsf_step *s = &op->steps[op->next++];
    if (!s->check) {
        kt_nsf_run(op);
        return;
    }
    const char *what = s->check == 2 ? s->src : s->dst;
    if (kt_storage_exists(op->s, what, kt_nsf_on_exists, op, err, sizeof err))
        kt_nsf_fail(op, err);
}

/* ---- DownloadFiles and DeleteFiles: the matching namespace files ---- */

static void kt_nsf_on_walk(void *data, kt_status st, const char *err, json_t *entries)
{
    kt_nsf_op *op = data;
    if (op->killed || st != KT_OK) {
        json_decref(entries);
        kt_nsf_fail(op, err);
        return;
    }
    size_t i, plen = strlen(op->root_path);
    json_t *v;
    json_array_foreach(entries, i, v) {
        const char *path = json_string_value(v), *rel = path + plen + 1;
        char src[KT_ST_URI], dst[KT_ST_URI], key[KT_SURI_PATH_MAX + 2], name[2 * KT_SURI_PATH_MAX + 2];
        if (strlen(path) <= plen || !kt_sfiles_matcher_test(op->m, rel) || kt_suri_from_path(path, src, sizeof src))
            continue;
        snprintf(key, sizeof key, "/%s", rel);
        if (op->kind == KT_NSF_DELETE) {
            kt_nsf_add(op, KT_NSF_DEL, src, NULL, key, 0);
            continue;
        }
        /* storage().putFile(is, destination + file.path()): under the task run's folder */
        snprintf(name, sizeof name, "%s%s", json_string_value(json_object_get(kt_task_props(op->r), "destination"))
                                                ?: "", rel);
        if (kt_st_taskrun_file(op->r, name, dst, sizeof dst)) {
            json_decref(entries);
            kt_nsf_end(op, KT_S(FAILED), NULL);
            return;
        }
        kt_nsf_add(op, KT_NSF_COPY, src, dst, key, 0);
    }
    json_decref(entries);
    kt_nsf_next(op);
}

/* `files`: a string or a list of strings (Kestra's messages otherwise). NULL logged. */
static json_t *kt_nsf_patterns(kt_task_run *r, const char *bad)
{
    const json_t *v = json_object_get(kt_task_props(r), "files");
    if (json_is_string(v))
        return json_pack("[O]", v);
    int strings = json_is_array(v);
    for (size_t i = 0; strings && i < json_array_size(v); i++)
        strings = json_is_string(json_array_get(v, i));
    if (!strings) {
        kt_task_logf(r, "ERROR", "%s", json_object_get(kt_task_props(r), "files") ? bad : "files: must not be null");
        return NULL;
    }
    return json_incref((json_t *)v);
}

/* The op for `namespace` (its files root), or NULL logged. */
static kt_nsf_op *kt_nsf_new(kt_task_run *r, kt_nsf_kind kind, int default_namespace)
{
    char err[512] = "";
    kt_storage *s = kt_st_storage(r);
    const char *ns = kt_task_prop_string(r, "namespace");
    if (!ns && default_namespace) /* UploadFiles: the flow's namespace when none is given */
        ns = json_string_value(json_object_get(kt_task_run_info(r), "namespace"));
    if (!s)
        return NULL;
    if (!ns || !ns[0]) {
        kt_task_logf(r, "ERROR", "namespace: must not be null");
        return NULL;
    }
    kt_nsf_op *op = kt_xcalloc(1, sizeof *op);
    *op = (kt_nsf_op){.r = r, .s = s, .kind = kind, .files = json_object()};
    snprintf(op->ns, sizeof op->ns, "%s", ns);
    if (kt_suri_namespace_files(ns, op->root, sizeof op->root) ||
        kt_suri_path(op->root, op->root_path, sizeof op->root_path, err, sizeof err)) {
        kt_task_logf(r, "ERROR", "namespace '%s' is not a valid namespace%s%s", ns, err[0] ? ": " : "", err);
        json_decref(op->files);
        free(op);
        return NULL;
    }
    size_t len = strlen(op->root_path);
    if (len && op->root_path[len - 1] == '/')
        op->root_path[len - 1] = 0;
    kt_task_set_data(r, op);
    return op;
}

static void kt_nsf_match_start(kt_task_run *r, kt_nsf_kind kind)
{
    char err[512] = "";
    kt_nsf_op *op = kt_nsf_new(r, kind, 0);
    if (!op) {
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    const json_t *dest = json_object_get(kt_task_props(r), "destination");
    if (kind == KT_NSF_DOWNLOAD && dest && !json_is_null(dest) && !json_is_string(dest)) {
        kt_nsf_fail(op, "destination: must be a string");
        return;
    }
    json_t *patterns = kt_nsf_patterns(r, kind == KT_NSF_DOWNLOAD ? "The files property must be a string or a list of strings"
                                                                  : "Files must be a String or a list of String");
    if (!patterns) {
        kt_nsf_end(op, KT_S(FAILED), NULL);
        return;
    }
    op->m = kt_sfiles_matcher_new_rooted(patterns, err, sizeof err);
    json_decref(patterns);
    if (!op->m) {
        kt_nsf_fail(op, err);
        return;
    }
    if (kt_sops_walk(op->s, op->root, 0, kt_nsf_on_walk, op, err, sizeof err))
        kt_nsf_fail(op, err);
}

static void kt_nsf_download_start(kt_task_run *r) { kt_nsf_match_start(r, KT_NSF_DOWNLOAD); }
static void kt_nsf_delete_start(kt_task_run *r) { kt_nsf_match_start(r, KT_NSF_DELETE); }

static void kt_nsf_kill(kt_task_run *r)
{
    kt_nsf_op *op = kt_task_data(r);
    if (!op || op->killed)
        return;
    op->killed = 1;
    kt_sops_concat_cancel(op->cat);
    kt_storage_copy_cancel(op->copy);
}

/* ---- UploadFiles ---- */

/* The namespace-file URI of a target path (NamespaceFile.of: a leading run of dots and slashes dropped). 0, or -1
 * logged. */
static int kt_nsf_target(kt_nsf_op *op, const char *target, char *uri, size_t cap)
{
    char chk[KT_SURI_PATH_MAX + 1], full[2 * KT_SURI_PATH_MAX + 2], err[512] = "";
    const char *p = target;
    while (*p == '.')
        p++;
    while (*p == '/' || *p == '\\')
        p++;
    snprintf(full, sizeof full, "%s/%s", op->root_path, p);
    if (!*p || kt_suri_relative(full, chk, sizeof chk, err, sizeof err) || kt_suri_from_path(chk, uri, cap)) {
        kt_task_logf(op->r, "ERROR", "'%s' is not a valid namespace file path%s%s", target, err[0] ? ": " : "", err);
        return -1;
    }
    return 0;
}

/* The regular files under the working directory, relative paths (nftw has no user pointer: one walk per thread). */
static _Thread_local json_t *tl_found;
static _Thread_local size_t tl_base;
static int kt_nsf_walk_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)ftw;
    if (flag == FTW_F && strlen(path) > tl_base)
        json_array_append_new(tl_found, json_string(path + tl_base + 1));
    return 0;
}

static int kt_nsf_upload_files(kt_nsf_op *op, const json_t *files, const char *dest, const char *workdir)
{
    char err[512] = "";
    kt_sfiles_matcher *m = kt_sfiles_matcher_new(files, workdir, err, sizeof err);
    if (!m) {
        kt_task_logf(op->r, "ERROR", "%s", err);
        return -1;
    }
    tl_found = json_array();
    tl_base = strlen(workdir);
    nftw(workdir, kt_nsf_walk_entry, 16, FTW_PHYS);
    size_t i;
    json_t *v;
    int rc = 0;
    json_array_foreach(tl_found, i, v) {
        const char *rel = json_string_value(v);
        char target[2 * KT_SURI_PATH_MAX + 2], uri[KT_ST_URI], local[8192];
        if (!kt_sfiles_matcher_test(m, rel))
            continue;
        snprintf(target, sizeof target, "%s/%s", dest, rel); /* Path.of(destination, "/" + rel) */
        if (kt_nsf_target(op, target, uri, sizeof uri)) {
            rc = -1;
            break;
        }
        snprintf(local, sizeof local, "%s/%s", workdir, rel);
        kt_nsf_add(op, KT_NSF_PUT, local, uri, target, op->conflict != KT_NSF_OVERWRITE);
    }
    json_decref(tl_found);
    tl_found = NULL;
    kt_sfiles_matcher_free(m);
    return rc;
}

static int kt_nsf_upload_map(kt_nsf_op *op, const json_t *map, const char *dest)
{
    json_t *owned = NULL;
    if (json_is_string(map)) { /* a JSON string of the map */
        json_error_t je;
        owned = json_loads(json_string_value(map), JSON_DECODE_ANY, &je);
        map = owned;
    }
    if (!json_is_object(map)) {
        kt_task_logf(op->r, "ERROR", "filesMap must be a Map<String, String>");
        json_decref(owned);
        return -1;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)map, k, v) {
        char target[2 * KT_SURI_PATH_MAX + 2], uri[KT_ST_URI], path[KT_SURI_PATH_MAX + 1];
        if (!json_is_string(v)) {
            kt_task_logf(op->r, "ERROR", "filesMap must be a Map<String, String>");
            json_decref(owned);
            return -1;
        }
        snprintf(target, sizeof target, "%s%s", dest, k); /* Path.of(destination + targetFilePath) */
        if (kt_st_uri(op->r, "filesMap", json_string_value(v), path, sizeof path) ||
            kt_nsf_target(op, target, uri, sizeof uri)) {
            json_decref(owned);
            return -1;
        }
        kt_nsf_add(op, KT_NSF_COPY, json_string_value(v), uri, target, 2);
    }
    json_decref(owned);
    return 0;
}

static void kt_nsf_upload_start(kt_task_run *r)
{
    static const char *const conflicts[] = {"OVERWRITE", "ERROR", "SKIP", NULL};
    kt_nsf_op *op = kt_nsf_new(r, KT_NSF_UPLOAD, 1);
    if (!op) {
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    const json_t *props = kt_task_props(r), *files = json_object_get(props, "files"),
                 *map = json_object_get(props, "filesMap"), *c = json_object_get(props, "conflict");
    const char *d = kt_task_prop_string(r, "destination");
    char dest[KT_SURI_PATH_MAX + 2];
    snprintf(dest, sizeof dest, "%s%s", d && d[0] == '/' ? "" : "/", d ? d : ""); /* checkLeadingSlash */
    if (c && !json_is_null(c)) {
        int found = 0;
        for (int i = 0; conflicts[i]; i++)
            if (json_is_string(c) && !strcmp(json_string_value(c), conflicts[i]))
                op->conflict = (kt_nsf_conflict)i, found = 1;
        if (!found) {
            kt_nsf_fail(op, "conflict: must be one of OVERWRITE, ERROR, SKIP");
            return;
        }
    }
    if ((!files || json_is_null(files)) && (!map || json_is_null(map))) {
        kt_nsf_fail(op, "files or filesMap is required");
        return;
    }
    int rc = 0;
    if (files && !json_is_null(files))
        /* The task's working directory: a fresh one, as Kestra gives a task outside a WorkingDirectory (so `files`
         * matches nothing there); a WorkingDirectory's shared folder belongs here once the worker hands it over. */
        rc = kt_st_workdir_new(r, "upload", op->workdir, sizeof op->workdir) ||
             kt_nsf_upload_files(op, files, dest, op->workdir);
    if (!rc && map && !json_is_null(map))
        rc = kt_nsf_upload_map(op, map, dest);
    if (rc) {
        kt_nsf_end(op, KT_S(FAILED), NULL);
        return;
    }
    kt_nsf_next(op);
}

const kt_task_impl kt_task_ns_upload_files_impl = {.type = "io.kestra.plugin.core.namespace.UploadFiles",
                                                   .start = kt_nsf_upload_start, .kill = kt_nsf_kill};
const kt_task_impl kt_task_ns_download_files_impl = {.type = "io.kestra.plugin.core.namespace.DownloadFiles",
                                                     .start = kt_nsf_download_start, .kill = kt_nsf_kill};
const kt_task_impl kt_task_ns_delete_files_impl = {.type = "io.kestra.plugin.core.namespace.DeleteFiles",
                                                   .start = kt_nsf_delete_start, .kill = kt_nsf_kill};
