/* WorkingDirectory and LocalFiles (KESTRA-model.md "WorkingDirectory", "LocalFiles"; Kestra's Worker.handleTask and
 * WorkingDirectory.pre/postExecuteTasks).
 *
 * A WorkingDirectory is one job: one temporary directory; its namespaceFiles copied, its inputFiles written; then its
 * enabled children run one after another in that directory (each sees the files of the ones before), each rendered
 * only when its turn comes, in the job's render context (flow/render.h) to which every finished child is appended,
 * so `outputs.<previous child>` resolves; the first child that fails (allowFailure aside) stops the rest. Then its
 * outputFiles are uploaded (its outputs.outputFiles), the directory removed, and the job ends. Each child is a task
 * run of its own, made here (Kestra's WorkingDirectory.workerTask: parentTaskRunId the WorkingDirectory's run, no
 * value) and reported to the executor when it starts and when it ends (kt_task_report_child), before the job's end.
 * With a `cache`, its zip is extracted first and saved last (wd_cache.h).
 * The job's own state is FAILED only when its own part failed (cache, namespace files, inputFiles, outputFiles), KILLED
 * when killed; a failed child is the executor's to resolve (the errors branch). */
#include "actors/worker/ns_files.h"
#include "actors/worker/script_files.h"
#include "actors/worker/task.h"
#include "actors/worker/wd_cache.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/env.h"
#include "base/id.h"
#include "flow/model.h"
#include "flow/render.h"
#include "store/storage_env.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- the directory's removal, then the end --------------------------------------------------------------- */

typedef struct kt_wd_rm {
    uv_work_t work;
    kt_task_run *r;
    const char *state;
    json_t *outputs;
    char dir[1100];
} kt_wd_rm;

static int kt_wd_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void kt_wd_rm_work(uv_work_t *w)
{
    kt_wd_rm *rm = w->data;
    nftw(rm->dir, kt_wd_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void kt_wd_rm_done(uv_work_t *w, int status)
{
    (void)status;
    kt_wd_rm *rm = w->data;
    kt_task_finish(rm->r, rm->state, rm->outputs);
    free(rm);
}

/* Removes dir on the pool (it may hold a deep tree), then ends the attempt; the result waits for the disk, as a
 * script's does. dir "" ends it at once. */
static void kt_wd_finish_after_rm(kt_task_run *r, const char *dir, const char *state, json_t *outputs)
{
    kt_task_set_data(r, NULL); /* a kill meanwhile finds nothing to stop */
    if (!dir[0]) {
        kt_task_finish(r, state, outputs);
        return;
    }
    kt_wd_rm *rm = kt_xcalloc(1, sizeof *rm);
    rm->r = r;
    rm->state = state;
    rm->outputs = outputs;
    rm->work.data = rm;
    snprintf(rm->dir, sizeof rm->dir, "%s", dir);
    if (uv_queue_work(kt_task_loop(r), &rm->work, kt_wd_rm_work, kt_wd_rm_done) == 0)
        return;
    kt_wd_rm_work(&rm->work);
    free(rm);
    kt_task_finish(r, state, outputs);
}

static int kt_wd_mkdtemp(kt_task_run *r, char *dir, size_t cap, const char *prefix)
{
    snprintf(dir, cap, "%s/%s-XXXXXX", kt_task_tmp_dir(r), prefix);
    if (mkdtemp(dir))
        return 0;
    kt_task_logf(r, "ERROR", "cannot create a working directory in %s: %s", kt_task_tmp_dir(r), strerror(errno));
    dir[0] = 0;
    return -1;
}

static int kt_wd_bool(const json_t *task, const char *name)
{
    json_t *v = json_object_get(task, name);
    return json_is_true(v) || (json_is_string(v) && !strcmp(json_string_value(v), "true"));
}

/* ---- WorkingDirectory ------------------------------------------------------------------------------------ */

typedef struct kt_wd {
    kt_task_run *r;
    json_t *flow;
    json_t *execution;      /* the job's snapshot, with the children appended as they run */
    json_t *worker_taskrun; /* the WorkingDirectory's own `taskrun` variable: the children's `workerTaskrun` */
    const char *wd_id;      /* the WorkingDirectory's task run id */
    const char *value;      /* its loop value (borrowed from execution), NULL outside loops */
    size_t next;            /* the next entry of `tasks` */
    kt_task_run *child;     /* the child running, NULL between two */
    json_t *child_tr;       /* its task run, in execution */
    const json_t *child_task;
    int in_start, sync_done; /* a child that ends inside its start: the loop goes on instead of recursing */
    int stop, killed;
    kt_sfiles_op *files;
    kt_nsfiles_op *ns;
    kt_wdcache_op *cache;
    int64_t restored_ms;    /* when the cache was extracted (0: none), for its save */
    const char *end_state;  /* the job's end while its cache is saved */
    json_t *end_outputs;
    char workdir[1100];
} kt_wd;

static void kt_wd_end(kt_wd *wd, const char *state, json_t *outputs)
{
    kt_task_run *r = wd->r;
    char dir[sizeof wd->workdir];
    snprintf(dir, sizeof dir, "%s", wd->workdir);
    json_decref(wd->flow);
    json_decref(wd->execution);
    json_decref(wd->worker_taskrun);
    json_decref(wd->end_outputs);
    free(wd);
    kt_wd_finish_after_rm(r, dir, state, outputs);
}

static void kt_wd_cache_saved(void *data, int ok, int64_t restored_ms)
{
    (void)ok, (void)restored_ms; /* a cache that could not be saved was logged: the job does not fail for it */
    kt_wd *wd = data;
    wd->cache = NULL;
    json_t *outputs = wd->end_outputs;
    wd->end_outputs = NULL;
    if (wd->killed) {
        json_decref(outputs);
        kt_wd_end(wd, KT_S(KILLED), NULL);
        return;
    }
    kt_wd_end(wd, wd->end_state, outputs);
}

/* postExecuteTasks after the outputFiles: the cache saved, then the end. */
static void kt_wd_save_cache(kt_wd *wd, const char *state, json_t *outputs)
{
    if (wd->killed || kt_wdcache_save(wd->r, wd->value, wd->workdir, wd->restored_ms, kt_wd_cache_saved, wd,
                                      &wd->cache) != 0) {
        kt_wd_end(wd, wd->killed ? KT_S(KILLED) : state, outputs);
        return;
    }
    wd->end_state = state;
    wd->end_outputs = outputs;
}

static void kt_wd_uploaded(void *data, int ok, json_t *files)
{
    kt_wd *wd = data;
    wd->files = NULL;
    json_t *outputs = json_object();
    /* Kestra writes outputs.ion only when something matched; without it the run's outputs are {} */
    if (json_object_size(files))
        json_object_set(outputs, "outputFiles", files);
    json_decref(files);
    if (wd->killed || !ok)
        kt_wd_end(wd, wd->killed ? KT_S(KILLED) : KT_S(FAILED), outputs);
    else
        kt_wd_save_cache(wd, KT_S(SUCCESS), outputs);
}

/* postExecuteTasks: the outputFiles (after a failed child too), then the end. */
static void kt_wd_post(kt_wd *wd)
{
    if (wd->killed) {
        kt_wd_end(wd, KT_S(KILLED), NULL);
        return;
    }
    if (!kt_sfiles_wants_outputs(wd->r)) {
        kt_wd_save_cache(wd, KT_S(SUCCESS), json_object());
        return;
    }
    if (kt_sfiles_outputs(wd->r, wd->workdir, kt_wd_uploaded, wd, &wd->files))
        kt_wd_end(wd, KT_S(FAILED), NULL);
}

static void kt_wd_next(kt_wd *wd);

/* A child ended: its task run takes its end (the worker's rules: allowFailure, allowWarning), is reported, and the
 * next one runs unless it failed. */
static void kt_wd_child_done(void *data, const char *state, json_t *outputs, int64_t started_us, int64_t ended_us)
{
    (void)started_us;
    kt_wd *wd = data;
    json_t *tr = wd->child_tr;
    wd->child = NULL;
    json_t *attempt = json_array_get(json_object_get(tr, "attempts"), 0);
    kt_state_set(json_object_get(attempt, "state"), state, ended_us);
    const char *final = state;
    if (!strcmp(final, KT_S(FAILED)) && kt_wd_bool(wd->child_task, "allowFailure"))
        final = KT_S(WARNING);
    if (!strcmp(final, KT_S(WARNING)) && kt_wd_bool(wd->child_task, "allowWarning"))
        final = KT_S(SUCCESS);
    kt_state_set(json_object_get(tr, "state"), final, ended_us);
    json_object_set_new(tr, "outputs", outputs ? outputs : json_object());
    kt_task_report_child(wd->r, tr);
    if (!strcmp(final, KT_S(FAILED)) || !strcmp(final, KT_S(KILLED)))
        wd->stop = 1;
    if (wd->in_start) {
        wd->sync_done = 1;
        return;
    }
    kt_wd_next(wd);
}

/* The child `task` as a task run of its own, rendered now in the context the children before it left, then run. */
static void kt_wd_run_child(kt_wd *wd, const json_t *task)
{
    char id[KT_ID_LEN + 1], err[1024] = "";
    kt_id_new(id);
    int64_t now = kt_now_us();
    json_t *tr = kt_taskrun_add(wd->execution, id, json_string_value(json_object_get(task, "id")), wd->wd_id, NULL,
                                now);
    kt_state_set(json_object_get(tr, "state"), KT_S(RUNNING), now);
    json_t *att = kt_state_new(KT_S(CREATED), now);
    kt_state_set(att, KT_S(RUNNING), now);
    json_object_set_new(tr, "attempts", json_pack("[{s:o}]", "state", att));
    wd->child_tr = tr;
    wd->child_task = task;
    kt_task_report_child(wd->r, tr);
    /* RunContextInitializer.forWorker: taskrun.value is the WorkingDirectory's, workerTaskrun its taskrun */
    json_t *ctx = kt_render_context(wd->flow, wd->execution, task, tr);
    if (wd->value)
        json_object_set_new(json_object_get(ctx, "taskrun"), "value", json_string(wd->value));
    json_object_set(ctx, "workerTaskrun", wd->worker_taskrun);
    json_object_set_new(ctx, "workingDir", json_string(wd->workdir));
    kt_env env;
    kt_env_init_real(&env);
    env.dialect = kt_dialect_of_flow(wd->flow);
    env.secrets_used = kt_task_secrets(wd->r); /* the child's job copies them: its logs are masked too */
    kt_env_files files;
    if (kt_task_storage(wd->r)) { /* read() and fileSize() inside a child reach the same storage */
        kt_storage_env_files(kt_task_storage(wd->r), &files);
        env.files = &files;
    }
    json_t *rendered = kt_render_task_in(NULL, &env, ctx, task, err, sizeof err);
    json_decref(ctx);
    kt_task_child_start(wd->r, rendered ? rendered : json_deep_copy(task), id, wd->workdir, rendered ? NULL : err,
                        kt_wd_child_done, wd, &wd->child);
}

static void kt_wd_next(kt_wd *wd)
{
    const json_t *tasks = json_object_get(kt_task_props(wd->r), "tasks");
    for (;;) {
        if (wd->killed) {
            kt_wd_end(wd, KT_S(KILLED), NULL);
            return;
        }
        const json_t *task = NULL;
        while (!wd->stop && !task && wd->next < json_array_size(tasks)) {
            const json_t *t = json_array_get(tasks, wd->next++);
            if (json_is_object(t) && !json_is_true(json_object_get(t, "disabled")))
                task = t;
        }
        if (!task) {
            kt_wd_post(wd);
            return;
        }
        wd->sync_done = 0;
        wd->in_start = 1;
        kt_wd_run_child(wd, task);
        wd->in_start = 0;
        if (!wd->sync_done)
            return; /* it runs on: its end calls back */
    }
}

static void kt_wd_inputs_done(void *data, int ok, json_t *files)
{
    kt_wd *wd = data;
    wd->files = NULL;
    json_decref(files);
    if (!ok || wd->killed)
        kt_wd_end(wd, wd->killed ? KT_S(KILLED) : KT_S(FAILED), NULL);
    else
        kt_wd_next(wd);
}

static void kt_wd_inputs(kt_wd *wd)
{
    int rc = kt_sfiles_inputs(wd->r, wd->workdir, kt_wd_inputs_done, wd, &wd->files);
    if (rc < 0)
        kt_wd_end(wd, KT_S(FAILED), NULL);
    else if (rc > 0)
        kt_wd_next(wd);
}

static void kt_wd_ns_done(void *data, int ok, json_t *files)
{
    kt_wd *wd = data;
    wd->ns = NULL;
    json_decref(files);
    if (!ok || wd->killed)
        kt_wd_end(wd, wd->killed ? KT_S(KILLED) : KT_S(FAILED), NULL);
    else
        kt_wd_inputs(wd);
}

static void kt_wd_nsfiles(kt_wd *wd)
{
    int rc = kt_nsfiles_fetch(wd->r, json_object_get(kt_task_props(wd->r), "namespaceFiles"), wd->workdir,
                              kt_wd_ns_done, wd, &wd->ns);
    if (rc < 0)
        kt_wd_end(wd, KT_S(FAILED), NULL);
    else if (rc > 0)
        kt_wd_inputs(wd);
}

static void kt_wd_cache_restored(void *data, int ok, int64_t restored_ms)
{
    kt_wd *wd = data;
    wd->cache = NULL;
    wd->restored_ms = restored_ms;
    if (!ok || wd->killed)
        kt_wd_end(wd, wd->killed ? KT_S(KILLED) : KT_S(FAILED), NULL);
    else
        kt_wd_nsfiles(wd);
}

static void kt_wd_start(kt_task_run *r)
{
    const json_t *ctx = kt_task_context(r);
    json_t *flow = json_object_get(ctx, "flow"), *exec = json_object_get(ctx, "execution");
    const char *wd_id = json_string_value(json_object_get(kt_task_run_info(r), "taskRunId"));
    json_t *wd_run = json_is_object(exec) && wd_id ? kt_taskrun_find(exec, wd_id) : NULL;
    if (!json_is_object(flow) || !wd_run) {
        kt_task_logf(r, "ERROR", "WorkingDirectory: the job does not carry its execution (an executor too old?)");
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    kt_wd *wd = kt_xcalloc(1, sizeof *wd);
    wd->r = r;
    wd->flow = json_incref(flow);
    wd->execution = json_deep_copy(exec);
    wd_run = kt_taskrun_find(wd->execution, wd_id);
    wd->wd_id = json_string_value(json_object_get(wd_run, "id"));
    wd->value = json_string_value(json_object_get(wd_run, "value"));
    json_t *wd_task = json_pack("{s:O, s:O}", "id", json_object_get(kt_task_props(r), "id"), "type",
                                json_object_get(kt_task_props(r), "type"));
    json_t *wctx = kt_render_context(wd->flow, wd->execution, wd_task, wd_run);
    wd->worker_taskrun = json_incref(json_object_get(wctx, "taskrun"));
    json_decref(wctx);
    json_decref(wd_task);
    kt_task_set_data(r, wd);
    if (kt_wd_mkdtemp(r, wd->workdir, sizeof wd->workdir, "kite-wd")) {
        kt_wd_end(wd, KT_S(FAILED), NULL);
        return;
    }
    /* preExecuteTasks: the cache, the namespace files, then inputFiles */
    int rc = kt_wdcache_restore(r, wd->value, wd->workdir, kt_wd_cache_restored, wd, &wd->cache);
    if (rc < 0)
        kt_wd_end(wd, KT_S(FAILED), NULL);
    else if (rc > 0)
        kt_wd_nsfiles(wd);
}

/* Kill, timeout, the worker's stop: the running child stops (and the job ends KILLED after it), or the transfer
 * under way is cancelled. */
static void kt_wd_kill(kt_task_run *r)
{
    kt_wd *wd = kt_task_data(r);
    if (!wd || wd->killed)
        return;
    wd->killed = 1;
    if (wd->child)
        kt_task_child_kill(wd->child);
    kt_sfiles_cancel(wd->files);
    kt_nsfiles_cancel(wd->ns);
    kt_wdcache_cancel(wd->cache);
}

const kt_task_impl kt_task_working_directory_impl = {
    .type = "io.kestra.plugin.core.flow.WorkingDirectory", .start = kt_wd_start, .kill = kt_wd_kill};

/* ---- LocalFiles ------------------------------------------------------------------------------------------ */

/* Writes `inputs` into the working directory (a WorkingDirectory's, or one of its own removed at the end), then
 * uploads the files matching `outputs`: outputs {uris: {relative path: URI}} (FilesService.inputFiles/outputFiles). */
typedef struct kt_lf {
    kt_task_run *r;
    kt_sfiles_op *files;
    int killed;
    char own[1100]; /* its own directory, "" inside a WorkingDirectory */
    const char *dir;
} kt_lf;

static void kt_lf_end(kt_lf *lf, const char *state, json_t *outputs)
{
    kt_task_run *r = lf->r;
    char dir[sizeof lf->own];
    snprintf(dir, sizeof dir, "%s", lf->own);
    free(lf);
    kt_wd_finish_after_rm(r, dir, state, outputs);
}

static void kt_lf_uploaded(void *data, int ok, json_t *files)
{
    kt_lf *lf = data;
    lf->files = NULL;
    json_t *outputs = ok ? json_pack("{s:O}", "uris", files) : NULL;
    json_decref(files);
    kt_lf_end(lf, lf->killed ? KT_S(KILLED) : ok ? KT_S(SUCCESS) : KT_S(FAILED), outputs);
}

static void kt_lf_outputs(kt_lf *lf)
{
    const json_t *pats = json_object_get(kt_task_props(lf->r), "outputs");
    if (!pats || json_is_null(pats) || (json_is_array(pats) && !json_array_size(pats))) {
        kt_lf_end(lf, KT_S(SUCCESS), json_pack("{s:{}}", "uris"));
        return;
    }
    if (kt_sfiles_outputs_of(lf->r, pats, lf->dir, kt_lf_uploaded, lf, &lf->files))
        kt_lf_end(lf, KT_S(FAILED), NULL);
}

static void kt_lf_written(void *data, int ok, json_t *files)
{
    kt_lf *lf = data;
    lf->files = NULL;
    json_decref(files);
    if (!ok || lf->killed)
        kt_lf_end(lf, lf->killed ? KT_S(KILLED) : KT_S(FAILED), NULL);
    else
        kt_lf_outputs(lf);
}

static void kt_lf_start(kt_task_run *r)
{
    kt_lf *lf = kt_xcalloc(1, sizeof *lf);
    lf->r = r;
    kt_task_set_data(r, lf);
    lf->dir = kt_task_workdir(r);
    if (!lf->dir) {
        if (kt_wd_mkdtemp(r, lf->own, sizeof lf->own, "kite-task")) {
            kt_lf_end(lf, KT_S(FAILED), NULL);
            return;
        }
        lf->dir = lf->own;
    }
    int rc = kt_sfiles_inputs_of(r, json_object_get(kt_task_props(r), "inputs"), lf->dir, kt_lf_written, lf,
                                 &lf->files);
    if (rc < 0)
        kt_lf_end(lf, KT_S(FAILED), NULL);
    else if (rc > 0)
        kt_lf_outputs(lf);
}

static void kt_lf_kill(kt_task_run *r)
{
    kt_lf *lf = kt_task_data(r);
    if (!lf)
        return;
    lf->killed = 1;
    kt_sfiles_cancel(lf->files);
}

const kt_task_impl kt_task_local_files_impl = {
    .type = "io.kestra.plugin.core.storage.LocalFiles", .start = kt_lf_start, .kill = kt_lf_kill};
