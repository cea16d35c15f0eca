/* ForEachItem's `_items` runs in the executor actor (KESTRA-execution.md §2.16; the step's side is step_items.c).
 *
 * Children: one per line of the file `_split` wrote, each with the task's inputs rendered with taskrun.items (the
 * batch's URI) and taskrun.iteration (1-based in 1.x, 0-based in 2.x), all built before any is taken in so a batch
 * that cannot start leaves no orphan. Each carries taskRunId and taskRunIteration in trigger.variables to find its parent run.
 *
 * Ends: a child's flow outputs are stored as `<_items folder>/<iteration>/outputs.ion` (the `_merge` task reads
 * them), then its parent hears of it. The parent counts each batch once: a tally per `_items` run (iteration ->
 * state) is the truth, and every event carries the whole tally, so a repeated end changes nothing.
 *
 * Restarts: a child may have ended, committed, and lost its way to the parent (the message, or the write of its
 * outputs, was in flight when the process stopped). When a waiting `_items` run is resumed, its children are found
 * in the store, the ended ones have their outputs stored again and are added to the tally, and the parent hears the
 * tally once that is done; ends arriving meanwhile only join the tally. */
#include "actors/executor/executor_int.h"
#include "actors/executor/step.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/dialect.h"
#include "base/env.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/secrets.h"
#include "expr/expr.h"
#include "flow/foreachitem.h"
#include "flow/model.h"
#include "flow/render.h"
#include "store/storage_env.h"
#include "store/storage_uri.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The batches of one `_items` run already counted. */
typedef struct kt_items_tally {
    kt_map *done;       /* iteration (decimal) -> its end state (malloc'd) */
    size_t recovering;  /* outputs being stored again after a restart: the parent hears the tally after them */
    char parent[KT_ID_LEN + 1];
    char base[KT_SURI_PATH_MAX + 16]; /* subflowOutputsBaseUri, without the scheme */
} kt_items_tally;

static kt_items_tally *kt_tally_get(kt_executor *ex, const char *trid, const char *parent, const char *base)
{
    if (!ex->items_tallies)
        ex->items_tallies = kt_map_new();
    kt_items_tally *t = kt_map_get(ex->items_tallies, trid);
    if (!t) {
        t = kt_xcalloc(1, sizeof *t);
        t->done = kt_map_new();
        snprintf(t->parent, sizeof t->parent, "%s", parent);
        kt_map_put(ex->items_tallies, trid, t, NULL);
    }
    if (base && !t->base[0])
        snprintf(t->base, sizeof t->base, "%s", base);
    return t;
}

static void kt_tally_free(kt_items_tally *t)
{
    size_t pos = 0;
    const char *k;
    void *v;
    while (kt_map_next(t->done, &pos, &k, &v))
        free(v);
    kt_map_free(t->done);
    free(t);
}

static void kt_tally_drop(kt_executor *ex, const char *trid)
{
    kt_items_tally *t = ex->items_tallies ? kt_map_del(ex->items_tallies, trid) : NULL;
    if (t)
        kt_tally_free(t);
}

/* 1 when the batch was not counted yet (and now is). */
static int kt_tally_add(kt_items_tally *t, json_int_t iteration, const char *state)
{
    char key[32];
    snprintf(key, sizeof key, "%lld", (long long)iteration);
    if (kt_map_get(t->done, key))
        return 0;
    kt_map_put(t->done, key, kt_xstrdup(state), NULL);
    return 1;
}

/* {state: how many batches ended in it} */
static json_t *kt_tally_counts(const kt_items_tally *t)
{
    json_t *c = json_object();
    size_t pos = 0;
    const char *k;
    void *v;
    while (kt_map_next(t->done, &pos, &k, &v))
        json_object_set_new(c, v, json_integer(json_integer_value(json_object_get(c, v)) + 1));
    return c;
}

/* The parent run hears the tally (error: why the latest batch's outputs could not be stored, or NULL). */
static void kt_tally_apply(kt_executor *ex, const char *trid, kt_items_tally *t, const char *state, const char *error)
{
    kt_run *parent = kt_map_get(ex->runs, t->parent);
    if (!parent) {
        kt_tally_drop(ex, trid);
        return;
    }
    char id[64];
    snprintf(id, sizeof id, "%s", trid); /* the tally (and trid's owner) may go below */
    json_t *out = json_pack("{s:s, s:o}", "subflowOutputsBaseUri", t->base, "counts", kt_tally_counts(t));
    kt_exec_event ev = {.kind = KT_EV_SUBFLOW, .now_us = kt_now_us(), .taskrun_id = id, .state = state,
                        .outputs = out, .error = error};
    kt_executor_apply(ex, parent, &ev);
    json_decref(out);
    const json_t *tr = kt_taskrun_find(parent->execution, id);
    if (!tr || kt_state_is_terminated(kt_state_current(tr)))
        kt_tally_drop(ex, id);
}

/* After a restart's recovery: the parent hears the tally through a message to this actor, so the change has a drain
 * pass and a commit of its own (a storage callback is not one). */
static void kt_tally_send(kt_executor *ex, const char *trid, const kt_items_tally *t)
{
    json_t *data = json_pack("{s:s, s:b}", "taskRunId", trid, "recount", 1);
    kt_executor_send_ended(ex, t->parent, data);
    json_decref(data);
}

/* kestra:///<ns>/<flow>/executions/<id>/tasks/<task>/<trid> without a trailing '/' into out; 0 on success. */
static int kt_items_folder(const json_t *execution, const char *task_id, const char *trid, char *out, size_t cap)
{
    if (kt_suri_taskrun_dir(json_string_value(json_object_get(execution, "namespace")),
                            json_string_value(json_object_get(execution, "flowId")),
                            json_string_value(json_object_get(execution, "id")), task_id, trid, out, cap))
        return -1;
    size_t n = strlen(out);
    if (n && out[n - 1] == '/')
        out[n - 1] = 0;
    return 0;
}

/* Both NULL, or the same text. */
static int kt_same(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

/* ---- building the children ------------------------------------------------------------------------- */

void kt_executor_items_create(kt_executor *ex, kt_run *parent, const char *taskrun_id, const json_t *spec)
{
    char err[1024] = "", base[KT_SURI_PATH_MAX + 16] = "";
    char *list = NULL;
    size_t len = 0, n = 0, cap = 0;
    json_t **children = NULL, *ctx = NULL, *used = NULL;
    const json_t *tr = kt_taskrun_find(parent->execution, taskrun_id);
    const char *task_id = json_string_value(json_object_get(spec, "taskId"));
    const json_t *task = task_id && parent->flow.tasks ? kt_map_get(parent->flow.tasks, task_id) : NULL;
    if (!ex->storage) {
        snprintf(err, sizeof err, "ForEachItem needs the internal storage, and this executor has none");
        goto fail;
    }
    if (kt_items_folder(parent->execution, task_id, taskrun_id, base, sizeof base)) {
        snprintf(err, sizeof err, "ForEachItem: the task run's storage folder is too long");
        goto fail;
    }
    const char *splits = json_string_value(json_object_get(spec, "splits"));
    if (kt_storage_read_small(ex->storage, splits, KT_STORAGE_ENV_READ_MAX, &list, &len, NULL, err, sizeof err))
        goto fail;
    for (size_t i = 0; i < len; i++)
        cap += list[i] == '\n';
    if (cap + 1 > KT_FOREACHITEM_MAX_BATCHES) { /* one child per line: an upper bound of the batches */
        snprintf(err, sizeof err, "ForEachItem: %zu batches, more than the %d one run may start: use bigger batches",
                 cap + 1, KT_FOREACHITEM_MAX_BATCHES);
        goto fail;
    }
    children = kt_xcalloc(cap + 1, sizeof *children);
    ctx = kt_render_context(parent->flow.flow, parent->execution, task, tr);
    /* taskrun.iteration counts from 1 in 1.x (Kestra 0.21's source) and from 0 in a 2.x flow (Kestra 1.1+: "to
     * align with ForEach"); the batches' own numbering (taskRunIteration, the outputs folders) stays 1-based */
    const json_int_t first = kt_dialect_of_flow(parent->flow.flow) == KT_DIALECT_2X ? 0 : 1;
    kt_env env;
    kt_env_init(&env, kt_now_us(), kt_env_next(&ex->seeds));
    env.dialect = kt_dialect_of_flow(parent->flow.flow);
    env.files = &ex->files;
    /* the secrets the step's render obtained and those the batches' inputs obtain: masked in the error logged */
    used = json_is_array(json_object_get(spec, "secrets")) ? json_copy(json_object_get(spec, "secrets")) : json_array();
    env.secrets_used = used;
    for (char *line = list, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        size_t ll = strlen(line);
        if (ll && line[ll - 1] == '\r')
            line[--ll] = 0;
        if (!ll)
            continue;
        /* runContext.render(inputs, {taskrun: {items, iteration}}): the batch's taskrun replaces the run's */
        json_object_set_new(ctx, "taskrun", json_pack("{s:s, s:I}", "items", line, "iteration", (json_int_t)n + first));
        json_t *inputs = NULL, *extra = NULL;
        kt_expr_error e = {0};
        const json_t *raw = json_object_get(spec, "inputs");
        if (raw && kt_expr_render_json_cached(parent->flow.templates, raw, ctx, &env, &inputs, &e)) {
            snprintf(err, sizeof err, "%s", e.message);
            goto fail;
        }
        extra = json_pack("{s:s, s:i}", "taskRunId", taskrun_id, "taskRunIteration", (json_int_t)(n + 1));
        children[n] = kt_executor_build_child(ex, parent, spec, inputs, extra, err, sizeof err);
        json_decref(inputs);
        json_decref(extra);
        if (!children[n])
            goto fail;
        n++;
    }
    kt_run **runs = kt_xcalloc(n + 1, sizeof *runs);
    kt_items_tally *t = kt_tally_get(ex, taskrun_id, json_string_value(json_object_get(parent->execution, "id")),
                                     base + strlen("kestra://"));
    size_t lost = 0;
    for (size_t i = 0; i < n; i++)
        if (!(runs[i] = kt_executor_take_child(ex, children[i], err, sizeof err))) {
            /* a batch that could not be taken in never ends on its own: it counts as failed at once */
            KT_ERROR("executor", "ForEachItem batch %zu of %s not taken in: %s", i + 1, taskrun_id, err);
            lost += kt_tally_add(t, (json_int_t)(i + 1), KT_S(FAILED));
        }
    json_t *out = json_pack("{s:s}", "subflowOutputsBaseUri", t->base);
    kt_exec_event ev = {.kind = KT_EV_CHILD_CREATED, .now_us = kt_now_us(), .taskrun_id = taskrun_id, .batches = n,
                        .outputs = out};
    kt_executor_apply(ex, parent, &ev);
    json_decref(out);
    for (size_t i = 0; i < n; i++)
        if (runs[i])
            kt_executor_admit(ex, runs[i]);
    free(runs);
    if (lost)
        kt_tally_apply(ex, taskrun_id, t, KT_S(FAILED), "a batch's execution could not be stored");
    else if (n == 0 || !json_is_true(json_object_get(spec, "wait")))
        kt_tally_drop(ex, taskrun_id); /* the run ended with its children's creation */
    goto done;
fail:
    kt_mask_copy(err, sizeof err, err, strlen(err), used ? used : json_object_get(spec, "secrets"));
    kt_executor_child_created(ex, parent, taskrun_id, NULL, err);
done:
    json_decref(used);
    for (size_t i = 0; children && i < n; i++)
        json_decref(children[i]);
    free(children);
    free(list);
    json_decref(ctx);
}

/* ---- a child's end: its outputs stored, then the parent told ------------------------------------------ */

struct kt_items_write {
    kt_executor *ex;
    kt_storage_writer *w;
    json_t *data;           /* the end as the parent hears it (normal path), NULL for a recovery */
    char trid[KT_ID_LEN + 1]; /* recovery: the `_items` run whose tally waits for this write */
    char parent[KT_ID_LEN + 1];
    kt_buf body;
    kt_items_write *next;
};

static void kt_items_write_free(kt_items_write *iw)
{
    kt_items_write **pp = &iw->ex->items_writes;
    while (*pp != iw)
        pp = &(*pp)->next;
    *pp = iw->next;
    json_decref(iw->data);
    free(iw->body.p);
    free(iw);
}

static void kt_items_write_end(kt_items_write *iw, const char *err)
{
    kt_executor *ex = iw->ex;
    if (iw->data) {
        if (err && *err)
            json_object_set_new(iw->data, "outputsError", json_string(err));
        kt_executor_send_ended(ex, iw->parent, iw->data);
        kt_items_write_free(iw);
        return;
    }
    char trid[KT_ID_LEN + 1];
    snprintf(trid, sizeof trid, "%s", iw->trid);
    kt_items_write_free(iw);
    kt_items_tally *t = ex->items_tallies ? kt_map_get(ex->items_tallies, trid) : NULL;
    if (err && *err)
        KT_WARN("executor", "ForEachItem %s: a batch's outputs not stored again: %s", trid, err);
    if (t && t->recovering && --t->recovering == 0)
        kt_tally_send(ex, trid, t);
}

static void kt_items_committed(kt_status st, const char *err, void *data)
{
    kt_items_write *iw = data;
    iw->w = NULL; /* a commit releases the writer whatever its status */
    kt_items_write_end(iw, st ? err : NULL);
}

static void kt_items_wrote(kt_status st, const char *err, void *data)
{
    kt_items_write *iw = data;
    char e[512];
    if (st) {
        snprintf(e, sizeof e, "%s", err);
        kt_storage_writer_abort(iw->w);
        iw->w = NULL;
        kt_items_write_end(iw, e);
        return;
    }
    if (kt_storage_writer_commit(iw->w, kt_items_committed, iw)) {
        kt_storage_writer_abort(iw->w);
        iw->w = NULL;
        kt_items_write_end(iw, "the internal storage refused the commit");
    }
}

/* Stores outputs (FileSerde.write: one Ion value, then a line break) at <base>/<iteration>/outputs.ion; the write
 * ends in kt_items_write_end either way. */
static void kt_items_write_start(kt_executor *ex, const char *base_uri, json_int_t iteration, const json_t *outputs,
                                 json_t *data, const char *trid, const char *parent)
{
    kt_items_write *iw = kt_xcalloc(1, sizeof *iw);
    iw->ex = ex;
    iw->data = data;
    snprintf(iw->trid, sizeof iw->trid, "%s", trid);
    snprintf(iw->parent, sizeof iw->parent, "%s", parent);
    iw->next = ex->items_writes;
    ex->items_writes = iw;
    kt_ion_write(&iw->body, outputs);
    kt_buf_putc(&iw->body, '\n');
    char uri[KT_SURI_PATH_MAX + 64], err[512] = "";
    snprintf(uri, sizeof uri, "%s/%lld/outputs.ion", base_uri, (long long)iteration);
    if (kt_storage_writer_open(ex->storage, uri, NULL, &iw->w, err, sizeof err) ||
        kt_storage_write(iw->w, iw->body.p, iw->body.len, kt_items_wrote, iw)) {
        if (iw->w)
            kt_storage_writer_abort(iw->w);
        iw->w = NULL;
        kt_items_write_end(iw, err[0] ? err : "the internal storage refused the write");
    }
}

/* Whether the parent waits for its children's outputs: the `_items` task's `wait` (default true). */
static int kt_items_wait(const kt_run *prun, const char *task_id)
{
    const json_t *task = prun->flow.tasks && task_id ? kt_map_get(prun->flow.tasks, task_id) : NULL;
    return !json_is_false(json_object_get(task, "wait"));
}

void kt_executor_items_notify(kt_executor *ex, const json_t *child, const char *parent)
{
    const json_t *trig = json_object_get(child, "trigger");
    const json_t *vars = json_object_get(trig, "variables");
    kt_run *prun = kt_map_get(ex->runs, parent);
    const char *trid = json_string_value(json_object_get(vars, "taskRunId"));
    const char *task_id = json_string_value(json_object_get(trig, "id"));
    json_int_t iteration = json_integer_value(json_object_get(vars, "taskRunIteration"));
    char base[KT_SURI_PATH_MAX + 16];
    if (!prun || !trid || iteration <= 0 || kt_items_folder(prun->execution, task_id, trid, base, sizeof base))
        return;
    json_t *data = json_pack("{s:O, s:O, s:s, s:I, s:s}", "executionId", json_object_get(child, "id"), "state",
                             json_object_get(json_object_get(child, "state"), "current"), "taskRunId", trid,
                             "iteration", iteration, "subflowOutputsBaseUri", base + strlen("kestra://"));
    const json_t *outputs = json_object_get(child, "outputs");
    if (!json_is_object(outputs) || !kt_state_is_terminated(kt_state_current(child)) ||
        !kt_items_wait(prun, task_id) || !ex->storage) {
        kt_executor_send_ended(ex, parent, data);
        json_decref(data);
        return;
    }
    kt_items_write_start(ex, base, iteration, outputs, data, trid, parent);
}

void kt_executor_items_child_ended(kt_executor *ex, kt_run *parent, const json_t *data)
{
    const char *trid = json_string_value(json_object_get(data, "taskRunId"));
    if (trid && json_is_true(json_object_get(data, "recount"))) { /* a restart's recovery is done (kt_tally_send) */
        kt_items_tally *t = ex->items_tallies ? kt_map_get(ex->items_tallies, trid) : NULL;
        if (t && !t->recovering && kt_map_size(t->done))
            kt_tally_apply(ex, trid, t, KT_S(SUCCESS), NULL);
        return;
    }
    const char *state = json_string_value(json_object_get(data, "state"));
    const char *error = json_string_value(json_object_get(data, "outputsError"));
    json_int_t iteration = json_integer_value(json_object_get(data, "iteration"));
    if (!trid || !state || iteration <= 0 || !kt_state_is_terminated(state))
        return;
    const json_t *tr = kt_taskrun_find(parent->execution, trid);
    if (!tr || kt_state_is_terminated(kt_state_current(tr))) {
        kt_tally_drop(ex, trid);
        return;
    }
    kt_items_tally *t = kt_tally_get(ex, trid, json_string_value(json_object_get(parent->execution, "id")),
                                     json_string_value(json_object_get(data, "subflowOutputsBaseUri")));
    /* Kestra: a batch whose outputs could not be stored fails (createSubflowExecutionResult) */
    if (!kt_tally_add(t, iteration, error ? KT_S(FAILED) : state) || t->recovering)
        return; /* counted already, or the recovery tells the parent once its writes are done */
    kt_tally_apply(ex, trid, t, state, error);
}

/* ---- after a restart ---------------------------------------------------------------------------------- */

/* The `_items` task's namespace and flowId, rendered for its run as the step rendered them. */
static int kt_items_target(kt_executor *ex, const kt_run *run, const json_t *task, const json_t *tr, char *ns,
                           size_t nscap, char *fid, size_t fidcap)
{
    json_t *ctx = kt_render_context(run->flow.flow, run->execution, task, tr), *r = NULL;
    json_t *in = json_pack("{s:O?, s:O?}", "namespace", json_object_get(task, "namespace"), "flowId",
                           json_object_get(task, "flowId"));
    kt_env env;
    kt_env_init(&env, kt_now_us(), kt_env_next(&ex->seeds));
    env.dialect = kt_dialect_of_flow(run->flow.flow);
    kt_expr_error e = {0};
    int rc = -1;
    if (kt_expr_render_json_cached(run->flow.templates, in, ctx, &env, &r, &e) == KT_OK &&
        json_string_value(json_object_get(r, "namespace")) && json_string_value(json_object_get(r, "flowId"))) {
        snprintf(ns, nscap, "%s", json_string_value(json_object_get(r, "namespace")));
        snprintf(fid, fidcap, "%s", json_string_value(json_object_get(r, "flowId")));
        rc = 0;
    }
    json_decref(r);
    json_decref(in);
    json_decref(ctx);
    return rc;
}

void kt_executor_items_recover(kt_executor *ex, kt_run *run, const json_t *tr)
{
    if (kt_state_is_terminated(kt_state_current(tr)))
        return;
    const char *trid = json_string_value(json_object_get(tr, "id"));
    const char *task_id = json_string_value(json_object_get(tr, "taskId"));
    const char *eid = json_string_value(json_object_get(run->execution, "id"));
    const json_t *task = run->flow.tasks && task_id ? kt_map_get(run->flow.tasks, task_id) : NULL;
    char ns[512], fid[512], base[KT_SURI_PATH_MAX + 16];
    if (!trid || !task || kt_items_folder(run->execution, task_id, trid, base, sizeof base) ||
        kt_items_target(ex, run, task, tr, ns, sizeof ns, fid, sizeof fid)) {
        KT_WARN("executor", "ForEachItem %s: its batches cannot be looked up after the restart", trid ? trid : "?");
        return;
    }
    kt_items_tally *t = kt_tally_get(ex, trid, eid, base + strlen("kestra://"));
    int wait = kt_items_wait(run, task_id);
    size_t found = 0;
    t->recovering++; /* held while the pages are read: a write that ends at once does not report early */
    for (int page = 1;; page++) {
        kt_exec_query q = {.namespace_ = ns, .flow_id = fid, .page = page, .size = 500};
        json_t *rows = NULL;
        int64_t total = 0;
        if (kt_store_executions_search(ex->store, &q, &rows, &total) != KT_OK) {
            KT_WARN("executor", "ForEachItem %s: the store could not list its batches", trid);
            break;
        }
        size_t i;
        json_t *c;
        json_array_foreach(rows, i, c) {
            const json_t *vars = json_object_get(json_object_get(c, "trigger"), "variables");
            const char *st = kt_state_current(c);
            json_int_t it = json_integer_value(json_object_get(vars, "taskRunIteration"));
            if (strcmp(json_string_value(json_object_get(c, "namespace")), ns) ||
                !kt_same(json_string_value(json_object_get(vars, "executionId")), eid) ||
                !kt_same(json_string_value(json_object_get(vars, "taskRunId")), trid) || it <= 0 || !st ||
                !kt_state_is_terminated(st))
                continue;
            found++;
            if (!kt_tally_add(t, it, st))
                continue;
            if (wait && ex->storage && json_is_object(json_object_get(c, "outputs"))) {
                t->recovering++;
                kt_items_write_start(ex, base, it, json_object_get(c, "outputs"), NULL, trid, eid);
            }
        }
        size_t got = json_array_size(rows);
        json_decref(rows);
        if (got < 500)
            break;
    }
    KT_INFO("executor", "ForEachItem %s: %zu batch(es) had ended before the restart", trid, found);
    if (--t->recovering == 0 && kt_map_size(t->done))
        kt_tally_send(ex, trid, t);
}

void kt_executor_items_stop(kt_executor *ex)
{
    while (ex->items_writes) {
        kt_items_write *iw = ex->items_writes;
        if (iw->w)
            kt_storage_writer_abort(iw->w);
        iw->w = NULL;
        kt_items_write_free(iw);
    }
    size_t pos = 0;
    const char *k;
    void *v;
    while (ex->items_tallies && kt_map_next(ex->items_tallies, &pos, &k, &v))
        kt_tally_free(v);
    kt_map_free(ex->items_tallies);
    ex->items_tallies = NULL;
}
