/* Subflow tasks in the executor (KESTRA-execution.md §2.16): the state machine asks for a child execution, built here
 * on the next drain pass, after the parent's transition was committed (the child needs the store: its flow revision,
 * its typed inputs), then taken in like any execution (flow concurrency included). What that means for the parent's
 * run is the step's call (KT_EV_CHILD_CREATED); so is the child's end (KT_EV_SUBFLOW), which comes back to the parent
 * as a message with the child's outputs. After a restart, waiting Subflow runs look for their child in the store. */
#include "actors/executor/executor_int.h"
#include "flow/model.h"
#include "flow/secret_inputs.h"
#include "flow/render.h"
#include "expr/expr.h"
#include "flow/inputs.h"
#include "flow/tasks.h"
#include "base/clock.h"
#include "base/env.h"
#include "base/partition.h"
#include "flow/foreachitem.h"
#include "base/alloc.h"
#include "base/log.h"
#include "base/secrets.h"
#include "store/storage_uri.h"
#include "actors/executor/restart.h"
#include "base/dialect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kt_executor_send_ended(kt_executor *ex, const char *parent, json_t *data)
{
    kt_outmsg o;
    /* the parent's partition may be another executor's (leases.c): the message goes to its owner then */
    int here = kt_executor_holds(ex, parent);
    kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, here ? kt_actor_address(ex->self) : KT_EXECUTOR_ACTOR,
                    kt_actor_address(ex->self), 0);
    kt_msg_exec_command body = {.execution_id = (char *)parent, .taskrun_id = "", .command = KT_CMD_SUBFLOW_ENDED,
                                .data = data};
    kt_msg_encode_exec_command(&o, &body);
    if (here)
        kt_node_send(kt_actor_node(ex->self), kt_actor_address(ex->self), &o);
    else if (kt_node_send_keyed(kt_actor_node(ex->self), KT_EXECUTOR_ACTOR, parent, &o) != KT_OK)
        KT_WARN("executor", "execution %s: its Subflow child's end was not sent (its next owner reads the child)",
                parent);
}

/* A child execution started by a Subflow task (or ForEachItem) ended: tell the parent (as a message, so the
 * parent's transition has a drain pass and a commit of its own). */
void kt_executor_notify_parent(kt_executor *ex, const json_t *child)
{
    const json_t *trig = json_object_get(child, "trigger");
    const char *type = json_string_value(json_object_get(trig, "type"));
    const char *parent = json_string_value(json_object_get(json_object_get(trig, "variables"), "executionId"));
    if (!parent || !type)
        return;
    if (!strcmp(kt_task_canonical_type(type), KT_FOREACHITEM_ITEMS_TYPE)) {
        kt_executor_items_notify(ex, child, parent);
        return;
    }
    if (strcmp(kt_task_canonical_type(type), "io.kestra.plugin.core.flow.Subflow"))
        return;
    json_t *data = json_pack("{s:O, s:O}", "executionId", json_object_get(child, "id"), "state",
                             json_object_get(json_object_get(child, "state"), "current"));
    if (json_object_get(child, "outputs")) {
        json_object_set(data, "outputs", json_object_get(child, "outputs"));
    } else {
        /* No flow outputs: the Subflow task's (deprecated) `outputs` map, rendered in the child's context. */
        kt_run *prun = kt_map_get(ex->runs, parent);
        kt_run *crun = kt_map_get(ex->runs, json_string_value(json_object_get(child, "id")));
        const json_t *task = NULL;
        size_t i;
        json_t *tr;
        json_array_foreach(prun ? json_object_get(prun->execution, "taskRunList") : NULL, i, tr) {
            const char *eid = json_string_value(json_object_get(json_object_get(tr, "outputs"), "executionId"));
            if (eid && !strcmp(eid, json_string_value(json_object_get(child, "id"))))
                task = kt_map_get(prun->flow.tasks, json_string_value(json_object_get(tr, "taskId")));
        }
        json_t *spec = json_object_get(task, "outputs");
        if (spec && crun) {
            json_t *ctx = kt_render_context(crun->flow.flow, child, NULL, NULL), *out = NULL;
            kt_expr_error e = {0};
            kt_env env;
            kt_env_init(&env, kt_now_us(), kt_env_next(&ex->seeds));
            env.dialect = kt_dialect_of_flow(crun->flow.flow);
            env.files = ex->storage ? &ex->files : NULL;
            /* the error goes to the parent's log: the engine masks what secret() returned in it */
            json_t *used = json_array();
            env.secrets_used = used;
            int ok = kt_expr_render_json_cached(crun->flow.templates, spec, ctx, &env, &out, &e) == KT_OK;
            json_decref(used);
            if (ok)
                json_object_set_new(data, "outputs", out);
            else
                json_object_set_new(data, "outputsError", json_string(e.message));
            json_decref(ctx);
        }
    }
    kt_executor_send_ended(ex, parent, data);
    json_decref(data);
}

/* The parent's Subflow run hears whether its child was built (child NULL: error says why). */
void kt_executor_child_created(kt_executor *ex, kt_run *parent, const char *taskrun_id, const json_t *child,
                                      const char *error)
{
    kt_exec_event ev = {.kind = KT_EV_CHILD_CREATED, .now_us = kt_now_us(), .taskrun_id = taskrun_id, .child = child,
                        .error = error};
    kt_executor_apply(ex, parent, &ev);
}

/* A child execution of parent for spec (namespace, flowId, revision, labels, inheritLabels, taskId, taskType) with
 * raw_inputs (may be NULL), typed against its flow; trigger_extra (may be NULL) joins the trigger's variables.
 * NULL with err on failure. Not adopted yet. */
json_t *kt_executor_build_child(kt_executor *ex, kt_run *parent, const json_t *spec, const json_t *raw_inputs,
                                       const json_t *trigger_extra, char *err, size_t errcap)
{
    const char *ns = json_string_value(json_object_get(spec, "namespace"));
    const char *fid = json_string_value(json_object_get(spec, "flowId"));
    json_t *revj = json_object_get(spec, "revision");
    int rev = json_is_integer(revj) ? (int)json_integer_value(revj) : json_is_string(revj) ? atoi(json_string_value(revj)) : 0;
    kt_flow_row row;
    kt_flow_entry *fe = NULL;
    json_t *inputs = NULL, *labels = NULL, *child = NULL;
    kt_diags d;
    kt_diags_init(&d);
    if (!ns || !fid || kt_store_flow_get(ex->store, ns, fid, rev, &row) != KT_OK) {
        snprintf(err, errcap, "Unable to find flow '%s'.'%s' with revision '%d'", ns ? ns : "", fid ? fid : "", rev);
        goto done;
    }
    int actual = row.revision;
    kt_flow_row_clear(&row);
    fe = kt_executor_flow(ex, ns, fid, actual);
    if (!fe) {
        snprintf(err, errcap, "Cannot execute an invalid flow: %s.%s", ns, fid);
        goto done;
    }
    if (kt_flow_disabled(fe->flow)) {
        snprintf(err, errcap, "Cannot execute a flow which is disabled");
        goto done;
    }
    if (kt_inputs_resolve(kt_flow_inputs(fe->flow), json_is_object(raw_inputs) ? raw_inputs : NULL, &inputs, &d) !=
        KT_OK) {
        snprintf(err, errcap, "%s", d.count ? d.items[0].message : "invalid inputs");
        goto done;
    }
    kt_env seal_env; /* the child's SECRET inputs are stored sealed too */
    kt_env_init(&seal_env, kt_now_us(), kt_env_next(&ex->seeds));
    if (kt_secret_inputs_seal(kt_flow_inputs(fe->flow), inputs, &seal_env, err, errcap))
        goto done;
    /* labels: the parent's system.* ones (or all with inheritLabels), then the task's */
    labels = json_array();
    int inherit = json_is_true(json_object_get(spec, "inheritLabels"));
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(parent->execution, "labels"), i, l) {
        const char *k = json_string_value(json_object_get(l, "key"));
        if (k && (inherit || !strncmp(k, "system.", 7)))
            json_array_append(labels, l);
    }
    json_t *own = kt_labels_normalize(json_object_get(spec, "labels"), err, errcap);
    if (!own)
        goto done;
    json_array_extend(labels, own);
    json_decref(own);
    char cid[KT_ID_LEN + 1];
    int limited = kt_flow_concurrency_limit(kt_flow_json(fe->flow)) > 0;
    const char *given = json_string_value(json_object_get(spec, "childId"));
    if (given && strlen(given) <= KT_ID_LEN) /* a child made again under the id its parent recorded */
        snprintf(cid, sizeof cid, "%s", given);
    else
        kt_exec_id_for(ns, fid, limited, cid);
    /* The child is taken in here, with its parent's change: unless its flow fixes its partition, it gets one of the
     * partitions this executor holds (leases.c), so its commits are fenced and its messages come back here. A
     * limited flow's child in another executor's partition is handed to that executor (kt_executor_create_child). */
    for (int i = 0; !given && !limited && !kt_executor_holds(ex, cid) && i < 64 * KT_PARTITIONS; i++)
        kt_id_new(cid);
    child = kt_execution_new(cid, ns, fid, actual, inputs, json_object_get(kt_flow_json(fe->flow), "labels"), labels,
                             kt_now_us());
    json_t *vars = json_pack("{s:O, s:O, s:O, s:O}", "executionId", json_object_get(parent->execution, "id"),
                             "namespace", json_object_get(parent->execution, "namespace"), "flowId",
                             json_object_get(parent->execution, "flowId"), "flowRevision",
                             json_object_get(parent->execution, "flowRevision"));
    if (json_is_object(trigger_extra))
        json_object_update(vars, (json_t *)trigger_extra);
    json_object_set_new(child, "trigger", json_pack("{s:O, s:O, s:o}", "id", json_object_get(spec, "taskId"), "type",
                                                    json_object_get(spec, "taskType"), "variables", vars));
done:
    kt_diags_clear(&d);
    json_decref(inputs);
    json_decref(labels);
    return child;
}

/* Takes a built child in, written with the parent's change; the caller admits it (kt_executor_admit) like any
 * execution of its flow (its concurrency limit applies to it too, §2.14) once the parent heard of it. */
kt_run *kt_executor_take_child(kt_executor *ex, json_t *child, char *err, size_t errcap)
{
    kt_run *crun = kt_executor_adopt(ex, child, err, errcap);
    if (crun)
        kt_executor_mark_dirty(ex, crun);
    return crun;
}

int kt_exec_subflow_restarts(const json_t *flow, const json_t *task)
{
    const char *rb = json_string_value(json_object_get(task, "restartBehavior"));
    if (rb)
        return !strcmp(rb, "RETRY_FAILED");
    return kt_dialect_of_flow(flow) == KT_DIALECT_2X;
}

/* restartBehavior RETRY_FAILED: the parent's restarted Subflow run restarts its FAILED child cid (ExecutionService
 * .restart on it, the same execution) and waits for it again. 0 when that cannot be done here (the child is not
 * FAILED, is gone, or is in a partition another executor holds): the caller makes a new child then. */
static int kt_executor_restart_child(kt_executor *ex, kt_run *parent, const char *taskrun_id, const char *cid)
{
    if (!kt_executor_holds(ex, cid))
        return 0;
    kt_run *live = kt_map_get(ex->runs, cid);
    json_t *doc = NULL;
    if (live)
        doc = json_deep_copy(live->execution);
    else if (kt_store_execution_get(ex->store, cid, &doc) != KT_OK)
        return 0;
    const kt_flow_entry *fe = kt_executor_flow(ex, json_string_value(json_object_get(doc, "namespace")),
                                               json_string_value(json_object_get(doc, "flowId")),
                                               (int)json_integer_value(json_object_get(doc, "flowRevision")));
    int64_t now = kt_now_us();
    kt_env env;
    kt_env_init(&env, now, kt_env_next(&ex->seeds));
    char err[512];
    if (!fe || strcmp(kt_state_current(doc) ?: "", "FAILED") ||
        kt_exec_restart(fe->json, doc, 0, &env, now, err, sizeof err) != KT_OK) {
        json_decref(doc);
        return 0;
    }
    kt_executor_child_created(ex, parent, taskrun_id, doc, NULL); /* the parent's run waits for it again */
    if (live) {
        json_decref(live->execution);
        live->execution = doc;
        live->all_runs_dirty = 1;
        kt_executor_mark_dirty(ex, live);
        kt_exec_event ev = {.kind = KT_EV_START, .now_us = now};
        kt_executor_apply(ex, live, &ev);
        return 1;
    }
    kt_run *crun = kt_executor_adopt(ex, doc, err, sizeof err);
    json_decref(doc);
    if (crun) {
        kt_executor_mark_dirty(ex, crun);
        kt_executor_admit(ex, crun);
    } else {
        KT_WARN("executor", "execution %s: its restarted child %s was not taken in: %s",
                json_string_value(json_object_get(parent->execution, "id")), cid, err);
    }
    return 1;
}

/* Subflow (KESTRA-execution.md §2.16): the child execution of a parent's Subflow run. */
void kt_executor_create_child(kt_executor *ex, kt_run *parent, const char *taskrun_id, const json_t *spec)
{
    /* The parent may have ended (killed) between the step that asked for this child and now: no orphan child. */
    json_t *ptr = kt_taskrun_find(parent->execution, taskrun_id);
    const json_t *outputs = json_object_get(ptr, "outputs");
    if (kt_state_is_terminated(kt_state_current(parent->execution)) || !ptr ||
        !kt_state_is_running(kt_state_current(ptr)) || json_object_get(outputs, "executionId") ||
        json_object_get(outputs, "numberOfBatches"))
        return;
    if (json_is_true(json_object_get(spec, "loopStore"))) { /* not a child: a Loop iteration's outputs file */
        kt_executor_loop_store(ex, parent, taskrun_id, spec);
        return;
    }
    if (json_is_true(json_object_get(spec, "forEachItem"))) {
        kt_executor_items_create(ex, parent, taskrun_id, spec);
        return;
    }
    const char *again = json_string_value(json_object_get(spec, "restartChild"));
    if (again && kt_executor_restart_child(ex, parent, taskrun_id, again))
        return;
    char err[1024] = "";
    json_t *child = kt_executor_build_child(ex, parent, spec, json_object_get(spec, "inputs"), NULL, err, sizeof err);
    if (child && !kt_executor_holds(ex, json_string_value(json_object_get(child, "id")))) {
        /* a limited flow's child, whose partition another executor owns: the parent commits its id, then the child
         * goes to that owner, which takes it in behind the flow's limit (leases.c) */
        kt_executor_child_created(ex, parent, taskrun_id, child, NULL);
        kt_executor_handoff(ex, json_string_value(json_object_get(parent->execution, "id")), child);
        json_decref(child);
        return;
    }
    kt_run *crun = child ? kt_executor_take_child(ex, child, err, sizeof err) : NULL;
    if (!crun) /* an input refused quotes what it received: a secret() value the parent's render gave it is masked */
        kt_mask_copy(err, sizeof err, err, strlen(err), json_object_get(spec, "secrets"));
    kt_executor_child_created(ex, parent, taskrun_id, crun ? child : NULL, crun ? NULL : err);
    if (crun)
        kt_executor_admit(ex, crun);
    json_decref(child);
}

/* The parent's Subflow run waiting for this child: the RUNNING one whose outputs name it. */
void kt_executor_child_ended(kt_executor *ex, kt_run *parent, const json_t *data)
{
    const char *cid = json_string_value(json_object_get(data, "executionId"));
    if (json_object_get(data, "loopRunId")) { /* a Loop iteration's outputs file is written (loop.c) */
        kt_executor_loop_stored(ex, parent, data);
        return;
    }
    if (json_object_get(data, "taskRunId")) { /* a ForEachItem child: its `_items` run counts it (items.c) */
        kt_executor_items_child_ended(ex, parent, data);
        return;
    }
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(parent->execution, "taskRunList"), i, tr) {
        const char *eid = json_string_value(json_object_get(json_object_get(tr, "outputs"), "executionId"));
        if (!cid || !eid || strcmp(eid, cid) || !kt_state_is_running(kt_state_current(tr)))
            continue;
        json_t *outputs = json_pack("{s:O, s:O}", "executionId", json_object_get(data, "executionId"), "state",
                                    json_object_get(data, "state"));
        json_object_set_new(outputs, "outputs",
                            json_object_get(data, "outputs") ? json_incref(json_object_get(data, "outputs")) : json_object());
        char trid[64];
        snprintf(trid, sizeof trid, "%s", json_string_value(json_object_get(tr, "id")));
        kt_exec_event ev = {.kind = KT_EV_SUBFLOW, .now_us = kt_now_us(), .taskrun_id = trid,
                            .state = json_string_value(json_object_get(data, "state")), .outputs = outputs,
                            .error = json_string_value(json_object_get(data, "outputsError"))};
        kt_executor_apply(ex, parent, &ev);
        json_decref(outputs);
        return;
    }
}

/* SUBFLOW_CHECK for the run trid of run, about its child cid, two liveness timeouts from now: a hand-off sent just
 * before its maker stopped has reached the child's owner and been committed by then. */
static void kt_executor_subflow_check_later(kt_executor *ex, kt_run *run, const char *trid, const char *cid)
{
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, kt_actor_address(ex->self), kt_actor_address(ex->self), 0);
    json_t *data = json_pack("{s:s}", "executionId", cid);
    kt_msg_exec_command body = {.execution_id = (char *)json_string_value(json_object_get(run->execution, "id")),
                                .taskrun_id = (char *)trid, .command = KT_CMD_SUBFLOW_CHECK, .data = data};
    kt_msg_encode_exec_command(&o, &body);
    json_decref(data);
    kt_node_send_after(kt_actor_node(ex->self), kt_actor_address(ex->self), &o,
                       (uint64_t)(2 * ex->lease_ttl_us / 1000));
}

/* The child cid of the waiting Subflow run tr, missing from the store, made again under its id from the task as it
 * renders now (the step's spec, kt_exec_subflow_spec), then taken in or handed to its partition's owner like the
 * first time. One that cannot be made ends the run FAILED, as its child's failure would. */
static void kt_executor_subflow_remake(kt_executor *ex, kt_run *run, json_t *tr, const char *cid)
{
    const char *pid = json_string_value(json_object_get(run->execution, "id"));
    const json_t *task = kt_map_get(run->flow.tasks, json_string_value(json_object_get(tr, "taskId")));
    kt_env env;
    kt_env_init(&env, kt_now_us(), kt_env_next(&ex->seeds));
    env.dialect = kt_dialect_of_flow(run->flow.flow);
    env.files = ex->storage ? &ex->files : NULL;
    json_t *secrets = json_array();
    env.secrets_used = secrets;
    kt_render_secret_inputs(run->flow.flow, run->execution, secrets);
    char err[1024] = "the Subflow task is not in the flow revision";
    json_t *spec = task ? kt_exec_subflow_spec(&run->flow, run->execution, task, tr, &env, err, sizeof err) : NULL;
    json_t *child = NULL;
    if (spec) {
        json_object_set_new(spec, "childId", json_string(cid));
        child = kt_executor_build_child(ex, run, spec, json_object_get(spec, "inputs"), NULL, err, sizeof err);
    }
    json_decref(spec);
    if (!child) {
        char *masked = kt_mask_text(err, strlen(err), secrets, NULL);
        KT_ERROR("executor", "execution %s: the missing Subflow child %s cannot be made again: %s", pid, cid, masked);
        kt_executor_log(ex, run->execution, tr, (uint32_t)(kt_taskrun_attempts(tr) ? kt_taskrun_attempts(tr) - 1 : 0),
                        "ERROR", masked);
        free(masked);
        json_decref(secrets);
        json_t *ended = json_pack("{s:s, s:s}", "executionId", cid, "state", KT_S(FAILED));
        kt_executor_child_ended(ex, run, ended);
        json_decref(ended);
        return;
    }
    json_decref(secrets);
    KT_WARN("executor", "execution %s: its Subflow child %s was never stored (its maker stopped before handing it "
                        "over): made again",
            pid, cid);
    if (kt_executor_holds(ex, cid)) {
        kt_run *crun = kt_executor_take_child(ex, child, err, sizeof err);
        if (crun)
            kt_executor_admit(ex, crun);
    } else {
        kt_executor_handoff(ex, pid, child);
    }
    json_decref(child);
}

void kt_executor_subflow_check(kt_executor *ex, kt_run *run, const char *taskrun_id, const json_t *data)
{
    const char *cid = json_string_value(json_object_get(data, "executionId"));
    json_t *tr = kt_taskrun_find(run->execution, taskrun_id);
    const char *waits_for = json_string_value(json_object_get(json_object_get(tr, "outputs"), "executionId"));
    if (!cid || !waits_for || strcmp(cid, waits_for) || !kt_state_is_running(kt_state_current(tr)))
        return; /* the run moved on meanwhile (ended, killed, restarted with another child) */
    json_t *child = NULL;
    kt_status st = kt_store_execution_get(ex->store, cid, &child);
    if (st == KT_ENOTFOUND) {
        kt_executor_subflow_remake(ex, run, tr, cid);
        return;
    }
    if (st != KT_OK) { /* the store did not answer: later */
        kt_executor_subflow_check_later(ex, run, taskrun_id, cid);
        return;
    }
    if (kt_state_is_terminated(kt_state_current(child)))
        kt_executor_notify_parent(ex, child);
    json_decref(child);
}

/* A Subflow run that was waiting when the previous process stopped: its child may have ended meanwhile (its end
 * notice was lost with the process), or never been created. */
void kt_executor_resume_subflow(kt_executor *ex, kt_run *run, json_t *tr)
{
    /* a ForEachItem `_items` run with its children built: the unfinished ones were resumed with every execution and
     * report their own ends; the ones that ended while this process was away are counted again (items.c) */
    if (json_object_get(json_object_get(tr, "outputs"), "numberOfBatches")) {
        kt_executor_items_recover(ex, run, tr);
        return;
    }
    const char *cid = json_string_value(json_object_get(json_object_get(tr, "outputs"), "executionId"));
    char trid[64];
    snprintf(trid, sizeof trid, "%s", json_string_value(json_object_get(tr, "id")));
    if (!cid) {
        kt_executor_child_created(ex, run, trid, NULL, "the subflow execution was not created before a restart");
        return;
    }
    json_t *child;
    kt_status st = kt_store_execution_get(ex->store, cid, &child);
    if (st == KT_ENOTFOUND) {
        /* its maker committed the parent, then stopped before handing the child to its partition's owner (or its
         * hand-off is still on its way): looked for again later, made again if it is still missing */
        kt_executor_subflow_check_later(ex, run, trid, cid);
        return;
    }
    if (st != KT_OK)
        return;
    if (kt_state_is_terminated(kt_state_current(child)))
        kt_executor_notify_parent(ex, child);
    json_decref(child);
}

/* The kill of the Subflow children of parent_id that live in partitions this executor does not hold (a limited
 * flow's child handed to its owner, or a partition moved since): each to its partition's owner, keyed by its id. The
 * parent names them in its Subflow runs' outputs (read from the store when it has already left this executor). A
 * child that has ended ignores it. */
static void kt_executor_kill_remote_children(kt_executor *ex, const char *parent_id)
{
    kt_run *run = kt_map_get(ex->runs, parent_id);
    json_t *stored = NULL;
    const json_t *execution = run ? run->execution : NULL;
    if (!execution && kt_store_execution_get(ex->store, parent_id, &stored) == KT_OK)
        execution = stored;
    const kt_flow_entry *fe = run ? run->entry : NULL;
    if (!fe && execution)
        fe = kt_executor_flow(ex, json_string_value(json_object_get(execution, "namespace")),
                              json_string_value(json_object_get(execution, "flowId")),
                              (int)json_integer_value(json_object_get(execution, "flowRevision")));
    size_t i;
    json_t *tr;
    json_array_foreach(fe ? json_object_get(execution, "taskRunList") : NULL, i, tr) {
        const char *cid = json_string_value(json_object_get(json_object_get(tr, "outputs"), "executionId"));
        const json_t *task = kt_map_get(fe->tasks, json_string_value(json_object_get(tr, "taskId")));
        const kt_task_def *def = task ? kt_task_lookup(json_string_value(json_object_get(task, "type"))) : NULL;
        if (!cid || !def || def->kind != KT_PLUGIN_EXECUTABLE || kt_executor_holds(ex, cid) ||
            kt_map_get(ex->runs, cid))
            continue;
        kt_outmsg o;
        kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, KT_EXECUTOR_ACTOR, kt_actor_address(ex->self), 0);
        kt_msg_exec_command body = {.execution_id = (char *)cid, .taskrun_id = "", .command = KT_CMD_KILL};
        kt_msg_encode_exec_command(&o, &body);
        kt_status st = kt_node_send_keyed(kt_actor_node(ex->self), KT_EXECUTOR_ACTOR, cid, &o);
        if (st)
            KT_WARN("executor", "execution %s: the kill of its Subflow child %s was not sent: %s", parent_id, cid,
                    kt_strerror(st));
    }
    json_decref(stored);
}

/* Kestra's kill cascades (isOnKillCascade, true by default, KESTRA-execution.md §2.13): every unfinished execution
 * a Subflow run of the killed one started is killed too, each as its own message so it has its own step and
 * commit, and its own children follow the same way, on whichever executor owns them. */
void kt_executor_kill_children(kt_executor *ex, const char *parent_id)
{
    kt_executor_kill_remote_children(ex, parent_id);
    size_t pos = 0;
    const char *key;
    void *val;
    while (kt_map_next(ex->runs, &pos, &key, &val)) {
        const kt_run *child = val;
        const json_t *trig = json_object_get(child->execution, "trigger");
        const char *type = json_string_value(json_object_get(trig, "type"));
        const char *parent = json_string_value(json_object_get(json_object_get(trig, "variables"), "executionId"));
        if (!parent || strcmp(parent, parent_id) || !type ||
            (strcmp(kt_task_canonical_type(type), "io.kestra.plugin.core.flow.Subflow") &&
             strcmp(kt_task_canonical_type(type), KT_FOREACHITEM_ITEMS_TYPE)) ||
            kt_state_is_terminated(kt_state_current(child->execution)))
            continue;
        kt_outmsg o;
        kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, kt_actor_address(ex->self), kt_actor_address(ex->self), 0);
        kt_msg_exec_command body = {.execution_id = (char *)key, .taskrun_id = "", .command = KT_CMD_KILL};
        kt_msg_encode_exec_command(&o, &body);
        kt_node_send(kt_actor_node(ex->self), kt_actor_address(ex->self), &o);
    }
}
