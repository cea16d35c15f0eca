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

/* The window of one multiple condition: the stored one while valid, else a new one. */
static json_t *kt_sch_window(kt_scheduler *s, const kt_sch_flow *f, const json_t *multiple, int64_t now)
{
    const char *cid = json_string_value(json_object_get(multiple, "id"));
    json_t *w = NULL;
    if (kt_store_window_get(s->store, f->ns, f->id, cid, &w) == KT_OK) {
        if (kt_sch_window_valid(w, now))
            return w;
        json_decref(w);
    }
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

/* The execution a Flow trigger starts: inputs rendered (not typed: Kestra only renders them here) in the context of
 * the triggered flow and the upstream execution, with `trigger.outputs` = the upstream flow outputs. */
static json_t *kt_sch_flow_execution(kt_scheduler *s, const kt_sch_flow *f, const json_t *trigger, const json_t *up,
                                     int64_t now, kt_env *env)
{
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
        goto done;
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

/* One Flow trigger against the execution: its windows updated (into puts/dels), and the execution it starts
 * appended to `created` when every condition holds. */
static void kt_sch_flow_trigger_eval(kt_scheduler *s, const kt_sch_flow *f, const json_t *trigger, const json_t *up,
                                     int64_t now, kt_env *env, json_t *created, json_t *puts, json_t *dels)
{
    kt_cond_ctx ctx = {.flow = f->json, .execution = up, .env = env};
    char err[256] = "";
    if (kt_cond_all(json_object_get(trigger, "conditions"), &ctx, err, sizeof err) != KT_COND_TRUE)
        return;
    json_t *multiples = kt_cond_multiples(trigger, err, sizeof err);
    if (!multiples) {
        KT_WARN("scheduler", "flow %s.%s trigger %s: %s", f->ns, f->id,
                json_string_value(json_object_get(trigger, "id")), err);
        return;
    }
    int all = 1;
    size_t i;
    json_t *m;
    json_array_foreach(multiples, i, m) {
        json_t *w = kt_sch_window(s, f, m, now);
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
        if (changed)
            json_array_append(puts, w);
        /* a complete window is reset whether or not the trigger starts (another multiple condition of it may still
         * be waiting), as FlowTriggerService purges every fulfilled window it evaluated */
        if (!complete)
            all = 0;
        else if (!json_is_false(json_object_get(m, "resetOnSuccess")))
            json_array_append(dels, w);
        json_decref(w);
    }
    if (all) {
        json_t *ex = kt_sch_flow_execution(s, f, trigger, up, now, env);
        if (ex)
            json_array_append_new(created, ex);
    }
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

void kt_sch_flow_triggers(kt_scheduler *s, const json_t *up)
{
    const char *ns = json_string_value(json_object_get(up, "namespace"));
    const char *fid = json_string_value(json_object_get(up, "flowId"));
    const char *state = kt_state_current(up);
    if (!ns || !fid || !state)
        return;
    int64_t now = kt_now_us();
    kt_env env;
    kt_sch_env(s, &env, now);
    json_t *created = json_array(), *puts = json_array(), *dels = json_array(), *full = NULL;
    size_t pos = 0;
    const char *key;
    void *val;
    while (kt_map_next(s->listeners, &pos, &key, &val)) {
        const kt_sch_flow *f = val;
        if (f->disabled || (!strcmp(f->ns, ns) && !strcmp(f->id, fid)))
            continue;
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(f->json, "triggers"), i, t) {
            const char *type = json_string_value(json_object_get(t, "type"));
            if (!type || strcmp(kt_task_canonical_type(type), KT_FLOW_TRIGGER) ||
                json_is_true(json_object_get(t, "disabled")) || !kt_sch_listens(t, state))
                continue;
            if (!full && !json_object_get(up, "taskRunList"))
                full = kt_sch_full_execution(s, up, state);
            kt_sch_flow_trigger_eval(s, f, t, full ? full : up, now, &env, created, puts, dels);
        }
    }
    json_decref(full);
    if (!json_array_size(created) && !json_array_size(puts) && !json_array_size(dels)) {
        /* nothing to commit with it: the notice goes with the turn's others (kt_sch_flush) */
        json_array_append_new(s->notices_done, json_pack("[s,s]", json_string_value(json_object_get(up, "id")), state));
        goto done;
    }
    /* The notice first: with several schedulers, the one whose transaction takes it is the one that acts on it (a
     * replay at another's start, or a duplicate message, finds it gone and writes nothing). */
    kt_status st = kt_store_begin(s->store);
    int began = st == KT_OK, taken = 0;
    if (st == KT_OK)
        st = kt_store_notice_take(s->store, json_string_value(json_object_get(up, "id")), state, &taken);
    if (st == KT_OK && !taken) {
        kt_store_rollback(s->store);
        KT_DEBUG("scheduler", "the change of %s to %s was acted on already", json_string_value(json_object_get(up, "id")),
                 state);
        goto done;
    }
    size_t i;
    json_t *v;
    json_array_foreach(puts, i, v) {
        if (st == KT_OK)
            st = kt_store_window_put(s->store, v);
    }
    json_array_foreach(dels, i, v) {
        if (st == KT_OK)
            st = kt_store_window_delete(s->store, json_string_value(json_object_get(v, "namespace")),
                                        json_string_value(json_object_get(v, "flowId")),
                                        json_string_value(json_object_get(v, "conditionId")));
    }
    json_array_foreach(created, i, v) {
        if (st == KT_OK)
            st = kt_store_execution_put(s->store, v, NULL, 0);
    }
    if (st == KT_OK)
        st = kt_store_windows_expire(s->store, now);
    if (st == KT_OK) /* what this change started and the change's notice: both or neither */
        st = kt_store_commit(s->store);
    else if (began)
        kt_store_rollback(s->store);
    if (st != KT_OK) {
        KT_ERROR("scheduler", "Flow triggers of execution %s not committed: %s; trying again",
                 json_string_value(json_object_get(up, "id")), kt_store_errmsg(s->store));
        kt_sch_flow_triggers_later(s, up);
        goto done;
    }
    json_array_foreach(created, i, v) {
        KT_INFO("scheduler", "execution %s of %s.%s started by the end of %s in %s", json_string_value(json_object_get(v, "id")),
                json_string_value(json_object_get(v, "namespace")), json_string_value(json_object_get(v, "flowId")),
                json_string_value(json_object_get(up, "id")), state);
        s->started++;
        kt_sch_send(s, json_incref(v));
    }
done:
    json_decref(created);
    json_decref(puts);
    json_decref(dels);
}
