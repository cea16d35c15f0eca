/* Flow triggers (KESTRA-execution.md §5.6, §5.8): every time an execution's state changes, each enabled Flow trigger
 * of every other flow is tested against it; multiple conditions (legacy MultipleCondition, `preconditions`)
 * accumulate in stored windows; a trigger whose conditions all hold starts an execution of its flow. The windows
 * this changed and the executions it started are committed in one transaction, so a restart sees both or neither. */
#include "actors/scheduler/scheduler_int.h"

#include "flow/render.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "expr/expr.h"
#include "flow/condition.h"
#include "flow/depends_on.h"
#include "flow/inputs.h"
#include "flow/trigger_when.h"
#include "base/dialect.h"
#include "flow/model.h"
#include "flow/secret_inputs.h"
#include "flow/tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KT_FLOW_TRIGGER "io.kestra.plugin.core.trigger.Flow"

/* A Flow trigger without `states` listens to the terminated states (Flow.java's default). */
static const char *const kt_sch_default_states[] = {"SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "RETRIED",
                                                    "SKIPPED", NULL};

static int kt_sch_listens(const json_t *trigger, const char *state)
{
    const json_t *states = json_object_get(trigger, "states");
    /* 2.0's dependsOn entries carry their own states (flow/depends_on.h gives an entry without any the default); a
     * flow half-way through its migration, with 1.x conditions or preconditions beside them, keeps 1.x's default */
    if (!json_is_array(states) && json_object_get(trigger, "dependsOn") && !json_object_get(trigger, "conditions") &&
        !json_object_get(trigger, "preconditions"))
        return 1;
    if (!json_is_array(states)) {
        for (size_t i = 0; kt_sch_default_states[i]; i++)
            if (!strcmp(kt_sch_default_states[i], state))
                return 1;
        return 0;
    }
    size_t i;
    json_t *v;
    json_array_foreach(states, i, v) {
        if (json_string_value(v) && !strcmp(json_string_value(v), state))
            return 1;
    }
    return 0;
}

/* Whether a window is valid at now (MultipleConditionWindow.isValid: start < now < end, strictly); a window whose
 * dates do not parse is not. */
static int kt_sch_window_valid(const json_t *w, int64_t now)
{
    int64_t start, end;
    return !kt_time_parse(json_string_value(json_object_get(w, "start")), &start) &&
           !kt_time_parse(json_string_value(json_object_get(w, "end")), &end) && start < now && now < end;
}

/* The key of a window in a plan: "ns\x1fflowId\x1fconditionId". */
static char *kt_sch_window_key(const kt_sch_flow *f, const char *cid) { return kt_sch_key(f->ns, f->id, cid); }

/* The window of one multiple condition: as this evaluation left it already (two triggers of a flow sharing one), else
 * the stored one while valid, else a new one. A window read from the store is recorded in the plan's `windows` with
 * what it was (`basis`: the row, or null when there was none), which its commit checks (kt_sch_windows_write). */
static json_t *kt_sch_window(kt_scheduler *s, const kt_sch_flow *f, const json_t *multiple, int64_t now, json_t *plan)
{
    const char *cid = json_string_value(json_object_get(multiple, "id"));
    char *key = kt_sch_window_key(f, cid);
    json_t *windows = json_object_get(plan, "windows"), *entry = json_object_get(windows, key);
    if (!entry) {
        json_t *stored = NULL;
        if (kt_store_window_get(s->store, f->ns, f->id, cid, &stored) != KT_OK)
            stored = NULL;
        entry = json_pack("{s:o, s:n, s:b}", "basis", stored ? stored : json_null(), "window", "delete", 0);
        json_object_set_new(windows, key, entry);
    }
    free(key);
    const json_t *cur = json_object_get(entry, "window");
    if (json_is_true(json_object_get(entry, "delete")))
        cur = NULL; /* reset by this evaluation: a new one */
    else if (!json_is_object(cur))
        cur = json_object_get(entry, "basis");
    if (json_is_object(cur) && kt_sch_window_valid(cur, now))
        return json_deep_copy(cur);
    int64_t start, end;
    char err[256] = "";
    if (kt_cond_window(multiple, now, NULL, &start, &end, err, sizeof err) != KT_OK) {
        KT_WARN("scheduler", "flow %s.%s condition %s: no window (%s)", f->ns, f->id,
                cid, err);
        return NULL;
    }
    char sbuf[48], ebuf[48];
    kt_time_format(start, sbuf, sizeof sbuf);
    kt_time_format(end, ebuf, sizeof ebuf);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:{}}", "namespace", f->ns, "flowId", f->id, "conditionId", cid,
                     "start", sbuf, "end", ebuf, "results");
}

/* What the evaluation made of a window: written (`del` 0) or reset (`del` 1) at the commit. */
static void kt_sch_window_set(const kt_sch_flow *f, json_t *plan, const json_t *w, int del)
{
    char *key = kt_sch_window_key(f, json_string_value(json_object_get(w, "conditionId")));
    json_t *entry = json_object_get(json_object_get(plan, "windows"), key);
    if (entry) { /* always there: kt_sch_window recorded it */
        json_object_set_new(entry, "window", json_deep_copy(w));
        json_object_set_new(entry, "delete", json_boolean(del));
    }
    free(key);
}

/* The 2.x `trigger.outputs` of a dependsOn trigger: scoped by upstream flow id (each entry's latest outputs in the
 * window, `scoped`), and with a single entry the unscoped shorthand too (the upstream's outputs as they are, an
 * output named like the flow yielding to the scope). */
static json_t *kt_sch_scoped_outputs(const json_t *trigger, const json_t *up, const json_t *scoped)
{
    json_t *out = json_object();
    const json_t *own = json_object_get(up, "outputs");
    if (json_array_size(json_object_get(trigger, "dependsOn")) == 1 && json_is_object(own))
        json_object_update(out, (json_t *)own);
    if (json_is_object(scoped))
        json_object_update(out, (json_t *)scoped);
    const char *fid = json_string_value(json_object_get(up, "flowId"));
    if (fid)
        json_object_set_new(out, fid, json_is_object(own) ? json_deep_copy(own) : json_object());
    return out;
}

/* The FAILED execution a 2.x Flow trigger leaves when its inputs do not render (the guide: "Input rendering failures
 * now create a FAILED execution instead of silently dropping the event"); 1.x drops the event as 0.21 does. */
static json_t *kt_sch_flow_failed(kt_scheduler *s, const kt_sch_flow *f, const json_t *trigger, const json_t *vars,
                                  int64_t now)
{
    char err[256];
    json_t *ex = kt_sch_execution_new(s, f, NULL, NULL, NULL, NULL, now, err, sizeof err);
    if (!ex)
        return NULL;
    kt_state_set(json_object_get(ex, "state"), KT_S(FAILED), now);
    json_object_set_new(ex, "trigger", json_pack("{s:O, s:O, s:O}", "id", json_object_get(trigger, "id"), "type",
                                                 json_object_get(trigger, "type"), "variables", vars));
    return ex;
}

/* The execution a Flow trigger starts: inputs rendered (not typed: Kestra only renders them here) in the context of
 * the triggered flow and the upstream execution, with `trigger.outputs` = the upstream flow outputs (2.x dependsOn:
 * scoped, kt_sch_scoped_outputs). *failed: set to 1 when the execution is a FAILED one (2.x render failure). */
static json_t *kt_sch_flow_execution(kt_scheduler *s, const kt_sch_flow *f, const json_t *trigger, const json_t *up,
                                     const json_t *scoped, int64_t now, kt_env *env, int *failed)
{
    int v2 = kt_dialect_of_flow(f->json) == KT_DIALECT_2X;
    *failed = 0;
    json_t *vars = json_pack("{s:O, s:O, s:O, s:O, s:O}", "executionId", json_object_get(up, "id"), "namespace",
                             json_object_get(up, "namespace"), "flowId", json_object_get(up, "flowId"), "flowRevision",
                             json_object_get(up, "flowRevision"), "state",
                             json_object_get(json_object_get(up, "state"), "current"));
    json_t *ctx = kt_render_context(f->json, up, NULL, NULL);
    json_object_set_new(ctx, "flow", json_pack("{s:s, s:s, s:i}", "id", f->id, "namespace",
                                               f->ns, "revision", f->revision));
    /* Kestra 0.21 renders them with trigger = {outputs} only; 1.x adds the upstream's identity and labels, which is
     * what users of either write: both are here */
    json_t *tv = json_deep_copy(vars);
    if (v2 && json_object_get(trigger, "dependsOn"))
        json_object_set_new(tv, "outputs", kt_sch_scoped_outputs(trigger, up, scoped));
    else
        json_object_set(tv, "outputs", json_object_get(up, "outputs") ? json_object_get(up, "outputs") : json_null());
    json_object_set(tv, "labels", json_object_get(up, "labels") ? json_object_get(up, "labels") : json_array());
    json_object_set_new(ctx, "trigger", tv);
    json_t *inputs = NULL, *ex = NULL;
    char err[512] = "";
    const json_t *raw = json_object_get(trigger, "inputs");
    kt_expr_error e = {0};
    /* what secret() returns is masked in the warning a failed render logs */
    json_t *used = json_array(), *outer = env->secrets_used;
    env->secrets_used = used;
    kt_status rst = raw ? kt_expr_render_json(raw, ctx, env, &inputs, &e) : KT_OK;
    env->secrets_used = outer;
    json_decref(used);
    if (rst != KT_OK) {
        KT_WARN("scheduler", "Failed to trigger flow %s.%s for trigger %s, invalid inputs: %s",
                f->ns, f->id, json_string_value(json_object_get(trigger, "id")),
                e.message);
        if (v2 && (ex = kt_sch_flow_failed(s, f, trigger, vars, now)))
            *failed = 1;
        goto done;
    }
    if (v2) {
        /* a 2.x flow's inputs are resolved as its other creations resolve them: typed, with its dynamic defaults
         * rendered (docs/dialects.md A11); one that fails is an input failure, a FAILED execution (1.x: only rendered,
         * as Kestra 0.21's Flow trigger) */
        json_t *typed = NULL;
        kt_diags d;
        kt_diags_init(&d);
        if (kt_inputs_resolve_in(json_object_get(f->json, "inputs"), inputs, f->json, env, &typed, &d) != KT_OK) {
            KT_WARN("scheduler", "Failed to trigger flow %s.%s for trigger %s, invalid inputs: %s", f->ns, f->id,
                    json_string_value(json_object_get(trigger, "id")), d.count ? d.items[0].message : "?");
            kt_diags_clear(&d);
            if ((ex = kt_sch_flow_failed(s, f, trigger, vars, now)))
                *failed = 1;
            goto done;
        }
        kt_diags_clear(&d);
        json_decref(inputs);
        inputs = typed;
    }
    /* the triggered flow's SECRET inputs are stored sealed, as the API's and a Schedule's are; without a key the
     * execution is not started (Kestra's FlowInputOutput refuses a SECRET value then) rather than stored in clear */
    if (kt_secret_inputs_seal(json_object_get(f->json, "inputs"), inputs, env, err, sizeof err)) {
        KT_WARN("scheduler", "Failed to trigger flow %s.%s for trigger %s, invalid inputs: %s", f->ns, f->id,
                json_string_value(json_object_get(trigger, "id")), err);
        goto done;
    }
    ex = kt_sch_execution_new(s, f, trigger, inputs, NULL, ctx, now, err, sizeof err);
    if (!ex) {
        KT_WARN("scheduler", "Failed to trigger flow %s.%s for trigger %s: %s", f->ns,
                f->id, json_string_value(json_object_get(trigger, "id")), err);
        goto done;
    }
    json_object_set_new(ex, "trigger", json_pack("{s:O, s:O, s:O}", "id", json_object_get(trigger, "id"), "type",
                                                 json_object_get(trigger, "type"), "variables", vars));
done:
    json_decref(vars);
    json_decref(ctx);
    json_decref(inputs);
    return ex;
}

/* One Flow trigger against the execution: its windows updated (in the plan's `windows`), and the execution it starts
 * appended to the plan's `created` when every condition holds. */
static void kt_sch_flow_trigger_eval(kt_scheduler *s, const kt_sch_flow *f, const json_t *trigger, const json_t *up,
                                     int64_t now, kt_env *env, json_t *plan)
{
    kt_cond_ctx ctx = {.flow = f->json, .execution = up, .env = env};
    char err[256] = "";
    if (kt_cond_all(json_object_get(trigger, "conditions"), &ctx, err, sizeof err) != KT_COND_TRUE)
        return;
    const char *when = json_string_value(json_object_get(trigger, "when"));
    if (when) { /* 2.0's top-level `when`, in the Flow trigger's variables (flow/trigger_when.h) */
        json_t *wv = kt_trigger_when_flow_vars(f->json, up);
        kt_cond_result wr = kt_trigger_when_eval(when, wv, env, err, sizeof err);
        json_decref(wv);
        if (wr == KT_COND_ERROR)
            KT_WARN("scheduler", "flow %s.%s trigger %s: %s", f->ns, f->id,
                    json_string_value(json_object_get(trigger, "id")), err);
        if (wr != KT_COND_TRUE)
            return;
    }
    json_t *multiples = kt_cond_multiples(trigger, err, sizeof err);
    if (!multiples) {
        KT_WARN("scheduler", "flow %s.%s trigger %s: %s", f->ns, f->id,
                json_string_value(json_object_get(trigger, "id")), err);
        return;
    }
    int all = 1;
    size_t i;
    json_t *m, *scoped = json_object();
    json_array_foreach(multiples, i, m) {
        json_t *w = kt_sch_window(s, f, m, now, plan);
        if (!w) {
            all = 0;
            continue;
        }
        if (!kt_sch_window_valid(w, now)) { /* a window that opens later (windowAdvance): not evaluated yet */
            json_decref(w);
            all = 0;
            continue;
        }
        json_t *results = json_object_get(w, "results");
        int changed = kt_cond_multiple_eval(m, &ctx, results) > 0;
        int complete = kt_cond_multiple_holds(m, results);
        if (kt_depends_on_is(m)) {
            /* each upstream's latest outputs, kept with the window for 2.x's trigger.outputs.<flowId> */
            const char *fid = json_string_value(json_object_get(up, "flowId"));
            json_t *outs = json_object_get(w, "outputs");
            if (changed && fid) {
                if (!json_is_object(outs))
                    json_object_set_new(w, "outputs", outs = json_object());
                const json_t *o = json_object_get(up, "outputs");
                json_object_set_new(outs, fid, json_is_object(o) ? json_deep_copy(o) : json_object());
            }
            if (complete && json_is_object(outs))
                json_object_update(scoped, outs);
            if (complete) /* its deadline met: onMiss has nothing to fail for this window (onmiss.c) */
                kt_sch_onmiss_satisfied(s, f, trigger, w, plan);
        }
        /* a complete window is reset whether or not the trigger starts (another multiple condition of it may still
         * be waiting), as FlowTriggerService purges every fulfilled window it evaluated */
        if (!complete)
            all = 0;
        if (complete && !json_is_false(json_object_get(m, "resetOnSuccess")))
            kt_sch_window_set(f, plan, w, 1);
        else if (changed)
            kt_sch_window_set(f, plan, w, 0);
        json_decref(w);
    }
    if (all) {
        int failed = 0;
        json_t *ex = kt_sch_flow_execution(s, f, trigger, up, scoped, now, env, &failed);
        if (ex)
            json_array_append_new(json_object_get(plan, failed ? "failed" : "created"), ex);
    }
    json_decref(scoped);
    json_decref(multiples);
}

/* The upstream execution with its task runs (a Flow trigger's conditions and inputs may read them: HasRetryAttempt,
 * `outputs.<task>`), which ExecutionChanged leaves out: read from the store, in the state the change was about. */
static json_t *kt_sch_full_execution(kt_scheduler *s, const json_t *up, const char *state)
{
    json_t *full = NULL;
    if (kt_store_execution_get(s->store, json_string_value(json_object_get(up, "id")), &full) != KT_OK)
        return NULL;
    json_t *st = json_object_get(full, "state");
    if (json_is_object(st))
        json_object_set_new(st, "current", json_string(state));
    return full;
}

/* The change again, to ourselves, after KT_SCH_COMMIT_RETRY_MS: its notice is still in the store (the transaction that
 * took it rolled back), and without this only the next start's replay would act on it. Handled as the executor's
 * message is (kt_sch_execution_changed), so the notice decides again whether it is still to do. */
static void kt_sch_flow_triggers_later(kt_scheduler *s, const json_t *up)
{
    kt_node *node = kt_actor_node(s->self);
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_EXECUTION_CHANGED, kt_actor_address(s->self), kt_actor_address(s->self), 0);
    kt_msg_encode_object(&o, up);
    if (!kt_node_send_after(node, kt_actor_address(s->self), &o, KT_SCH_COMMIT_RETRY_MS))
        KT_WARN("scheduler", "the change of %s is left to the next start's replay",
                json_string_value(json_object_get(up, "id")));
}

json_t *kt_sch_flow_triggers_plan(kt_scheduler *s, const json_t *up, int64_t now)
{
    const char *ns = json_string_value(json_object_get(up, "namespace"));
    const char *fid = json_string_value(json_object_get(up, "flowId"));
    const char *state = kt_state_current(up);
    json_t *plan = json_pack("{s:[], s:[], s:{}}", "created", "failed", "windows");
    if (!ns || !fid || !state)
        return plan;
    kt_env env;
    kt_sch_env(s, &env, now);
    json_t *full = NULL;
    size_t pos = 0;
    const char *key;
    void *val;
    while (kt_map_next(s->listeners, &pos, &key, &val)) {
        const kt_sch_flow *f = val;
        if (f->disabled || (!strcmp(f->ns, ns) && !strcmp(f->id, fid)))
            continue;
        env.dialect = kt_dialect_of_flow(f->json); /* the listening flow's renders */
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(f->json, "triggers"), i, t) {
            const char *type = json_string_value(json_object_get(t, "type"));
            if (!type || strcmp(kt_task_canonical_type(type), KT_FLOW_TRIGGER) ||
                json_is_true(json_object_get(t, "disabled")) || !kt_sch_listens(t, state))
                continue;
            if (!full && !json_object_get(up, "taskRunList"))
                full = kt_sch_full_execution(s, up, state);
            kt_sch_flow_trigger_eval(s, f, t, full ? full : up, now, &env, plan);
        }
    }
    json_decref(full);
    return plan;
}

static int kt_sch_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One window's claim and write: it must still be what the evaluation read (basis), else KT_ECONFLICT. A window read
 * as absent is inserted only if still absent (then deleted when the evaluation reset it at once), so two schedulers
 * opening the same window never overwrite each other's conditions. */
static kt_status kt_sch_window_write(kt_scheduler *s, const json_t *entry)
{
    const json_t *basis = json_object_get(entry, "basis"), *w = json_object_get(entry, "window");
    const char *ns = json_string_value(json_object_get(w, "namespace"));
    const char *fid = json_string_value(json_object_get(w, "flowId"));
    const char *cid = json_string_value(json_object_get(w, "conditionId"));
    int del = json_is_true(json_object_get(entry, "delete"));
    kt_status st;
    if (json_is_object(basis)) {
        json_t *cur = NULL;
        st = kt_store_window_claim(s->store, ns, fid, cid, &cur);
        int same = st == KT_OK && json_equal(cur, basis);
        json_decref(cur);
        if (st != KT_OK && st != KT_ENOTFOUND)
            return st;
        if (!same)
            return KT_ECONFLICT;
        return del ? kt_store_window_delete(s->store, ns, fid, cid) : kt_store_window_put(s->store, w);
    }
    st = kt_store_window_insert(s->store, w);
    if (st == KT_OK && del)
        st = kt_store_window_delete(s->store, ns, fid, cid);
    return st;
}

/* The windows the plan changed, claimed in key order (two schedulers claiming the same ones never wait for each other
 * in a cycle). */
static kt_status kt_sch_windows_write(kt_scheduler *s, const json_t *windows)
{
    size_t n = json_object_size(windows), k = 0;
    const char **keys = kt_xcalloc(n + 1, sizeof *keys);
    const char *key;
    json_t *entry;
    json_object_foreach((json_t *)windows, key, entry) {
        if (json_is_object(json_object_get(entry, "window"))) /* read, not changed: nothing to write */
            keys[k++] = key;
    }
    qsort(keys, k, sizeof *keys, kt_sch_cmp_str);
    kt_status st = KT_OK;
    for (size_t i = 0; st == KT_OK && i < k; i++)
        st = kt_sch_window_write(s, json_object_get(windows, keys[i]));
    free(keys);
    return st;
}

int kt_sch_plan_empty(const json_t *plan)
{
    if (json_array_size(json_object_get(plan, "created")) || json_array_size(json_object_get(plan, "failed")))
        return 0;
    const char *key;
    json_t *entry;
    json_object_foreach((json_t *)json_object_get(plan, "windows"), key, entry) {
        if (json_is_object(json_object_get(entry, "window")))
            return 0;
    }
    return 1;
}

kt_status kt_sch_flow_triggers_commit(kt_scheduler *s, const json_t *up, const json_t *plan, int64_t now, int *taken)
{
    const char *id = json_string_value(json_object_get(up, "id"));
    *taken = 0;
    /* The notice first: with several schedulers, the one whose transaction takes it is the one that acts on it (a
     * replay at another's start, or a duplicate message, finds it gone and writes nothing). */
    kt_status st = kt_store_begin(s->store);
    if (st != KT_OK)
        return st;
    st = kt_store_notice_take(s->store, id, kt_state_current(up), taken);
    if (st == KT_OK && !*taken) {
        kt_store_rollback(s->store);
        return KT_OK;
    }
    if (st == KT_OK)
        st = kt_sch_windows_write(s, json_object_get(plan, "windows"));
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(plan, "created"), i, v) {
        if (st == KT_OK)
            st = kt_store_execution_put(s->store, v, NULL, 0);
    }
    json_array_foreach(json_object_get(plan, "failed"), i, v) { /* stored, never run */
        if (st == KT_OK)
            st = kt_store_execution_put(s->store, v, NULL, 0);
    }
    if (st == KT_OK)
        st = kt_store_windows_expire(s->store, now);
    if (st == KT_OK) /* what this change started and the change's notice: both or neither */
        st = kt_store_commit(s->store);
    else
        kt_store_rollback(s->store);
    if (st != KT_OK)
        *taken = 0;
    return st;
}

/* A window that another scheduler changed between this evaluation's read and its commit (it acted on another
 * execution meanwhile) makes the evaluation start again from the windows as they are: each retry follows a commit of
 * someone else's, so a few are enough; past them the change is tried again a moment later. */
#define KT_SCH_WINDOW_RETRIES 5

void kt_sch_flow_triggers(kt_scheduler *s, const json_t *up)
{
    const char *id = json_string_value(json_object_get(up, "id"));
    const char *state = kt_state_current(up);
    if (!id || !state || !json_string_value(json_object_get(up, "namespace")) ||
        !json_string_value(json_object_get(up, "flowId")))
        return;
    for (int attempt = 0; attempt <= KT_SCH_WINDOW_RETRIES; attempt++) {
        int64_t now = kt_now_us();
        json_t *plan = kt_sch_flow_triggers_plan(s, up, now);
        if (kt_sch_plan_empty(plan)) {
            /* nothing to commit with it: the notice goes with the turn's others (kt_sch_flush) */
            json_array_append_new(s->notices_done, json_pack("[s,s]", id, state));
            json_decref(plan);
            return;
        }
        int taken = 0;
        kt_status st = kt_sch_flow_triggers_commit(s, up, plan, now, &taken);
        if (st == KT_ECONFLICT) {
            KT_DEBUG("scheduler", "a window of the change of %s to %s moved meanwhile: evaluated again", id, state);
            json_decref(plan);
            continue;
        }
        if (st != KT_OK) {
            KT_ERROR("scheduler", "Flow triggers of execution %s not committed: %s; trying again", id,
                     kt_store_errmsg(s->store));
            kt_sch_flow_triggers_later(s, up);
        } else if (!taken) {
            KT_DEBUG("scheduler", "the change of %s to %s was acted on already", id, state);
        }
        size_t i;
        json_t *v;
        json_array_foreach(taken ? json_object_get(plan, "created") : NULL, i, v) {
            KT_INFO("scheduler", "execution %s of %s.%s started by the end of %s in %s",
                    json_string_value(json_object_get(v, "id")), json_string_value(json_object_get(v, "namespace")),
                    json_string_value(json_object_get(v, "flowId")), id, state);
            s->started++;
            kt_sch_send(s, json_incref(v));
        }
        json_decref(plan);
        return;
    }
    KT_WARN("scheduler", "the windows of the change of %s to %s kept moving under other schedulers; trying again", id,
            state);
    kt_sch_flow_triggers_later(s, up);
}
