/* The executions triggers start (KESTRA-execution.md §5.4, §5.6), and handing them to the executor once committed. */
#include "actors/scheduler/scheduler_int.h"

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/partition.h"
#include "expr/expr.h"
#include "flow/flow.h"
#include "flow/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The executor's mailbox was full: committed executions wait this long before they are offered again. */
#define KT_SCH_SEND_RETRY_MS 10

/* The trigger's `labels` (list of {key, value} or map), values rendered with ctx (the trigger's context). */
static json_t *kt_sch_trigger_labels(const json_t *trigger_def, const json_t *ctx, kt_dialect dialect, char *err,
                                     size_t errcap)
{
    const json_t *raw = json_object_get(trigger_def, "labels");
    if (!raw)
        return json_array();
    json_t *list = kt_labels_normalize(raw, err, errcap);
    if (!list)
        return NULL;
    size_t i;
    json_t *l;
    json_array_foreach(list, i, l) {
        const char *v = json_string_value(json_object_get(l, "value"));
        if (!v || !kt_expr_is_template(v))
            continue;
        char *out = NULL;
        kt_expr_error e = {0};
        kt_env env;
        kt_env_init_real(&env);
        env.dialect = dialect; /* the flow's: kv() and the renamed functions answer by it */
        if (kt_expr_render_string(v, ctx, &env, &out, &e) != KT_OK) {
            /* Kestra (LabelService.fromTrigger) leaves out a label that does not render, and starts the execution */
            KT_WARN("scheduler", "label '%s' of trigger %s left out: %s", json_string_value(json_object_get(l, "key")),
                    json_string_value(json_object_get(trigger_def, "id")), e.message);
            json_object_set_new(l, "value", json_null());
            continue;
        }
        json_object_set_new(l, "value", json_string(out));
        free(out);
    }
    for (size_t k = json_array_size(list); k-- > 0;)
        if (json_is_null(json_object_get(json_array_get(list, k), "value")))
            json_array_remove(list, k);
    return list;
}

json_t *kt_sch_execution_new(kt_scheduler *s, const kt_sch_flow *f, const json_t *trigger_def, const json_t *inputs,
                             const json_t *extra_labels, const json_t *render_ctx, int64_t now_us, char *err,
                             size_t errcap)
{
    (void)s;
    json_t *labels = trigger_def ? kt_sch_trigger_labels(trigger_def, render_ctx, kt_dialect_of_flow(f->json), err,
                                                         errcap)
                                 : json_array();
    if (!labels)
        return NULL;
    if (extra_labels)
        json_array_extend(labels, (json_t *)extra_labels);
    char id[KT_ID_LEN + 1];
    kt_exec_id_for(f->ns, f->id, kt_flow_concurrency_limit(f->json) > 0, id);
    json_t *ex = kt_execution_new(id, f->ns, f->id, f->revision, (json_t *)inputs,
                                  json_object_get(f->json, "labels"), labels, now_us);
    json_decref(labels);
    /* a trigger's execution is built directly in Kestra (Execution.builder()): no system.correlationId */
    json_t *l = json_object_get(ex, "labels");
    for (size_t k = json_array_size(l); k-- > 0;) {
        const char *key = json_string_value(json_object_get(json_array_get(l, k), "key"));
        if (key && !strncmp(key, "system.", 7))
            json_array_remove(l, k);
    }
    return ex;
}

/* ---- handing over ------------------------------------------------------------------------------- */

static void kt_sch_on_retry(uv_timer_t *t);

/* Offers the oldest pending executions to the executor, in order; stops at the first refusal. */
static void kt_sch_flush_pending(kt_scheduler *s)
{
    kt_node *node = kt_actor_node(s->self);
    while (s->pending) {
        kt_sch_pending *p = s->pending;
        kt_outmsg o;
        uint64_t corr = ++s->corr;
        kt_outmsg_begin(&o, KT_MSG_EXECUTION_CREATE, KT_EXECUTOR_ACTOR, kt_actor_address(s->self), corr);
        kt_msg_execution_create body = {.execution = p->execution, .stored = 1};
        kt_msg_encode_execution_create(&o, &body);
        kt_status st = kt_node_send(node, KT_EXECUTOR_ACTOR, &o);
        if (st == KT_EAGAIN) {
            uv_timer_start(&s->retry, kt_sch_on_retry, KT_SCH_SEND_RETRY_MS, 0);
            return;
        }
        if (st == KT_OK) { /* the executor answers; a refusal fails the execution (kt_sch_on_reply) */
            char key[24];
            snprintf(key, sizeof key, "%llu", (unsigned long long)corr);
            kt_map_put(s->awaiting, key, kt_xstrdup(json_string_value(json_object_get(p->execution, "id"))), NULL);
        }
        if (st != KT_OK) /* no executor hosted or reachable: the execution waits in the store, CREATED, for the
                            executor's start (it resumes every unfinished execution) */
            KT_WARN("scheduler", "execution %s committed but not handed to an executor (%s)",
                    json_string_value(json_object_get(p->execution, "id")), kt_strerror(st));
        s->pending = p->next;
        if (!s->pending)
            s->pending_tail = &s->pending;
        json_decref(p->execution);
        free(p);
    }
}

static void kt_sch_on_retry(uv_timer_t *t) { kt_sch_flush_pending(t->data); }

void kt_sch_send(kt_scheduler *s, json_t *execution)
{
    kt_sch_pending *p = kt_xcalloc(1, sizeof *p);
    p->execution = execution;
    *s->pending_tail = p;
    s->pending_tail = &p->next;
    if (!uv_is_active((uv_handle_t *)&s->retry))
        kt_sch_flush_pending(s);
}

/* The executor's answer to an ExecutionCreate. A refusal (it could not take the execution: its flow revision no longer
 * parses, say) would leave the execution CREATED and its trigger locked for ever: the execution ends FAILED with the
 * reason as its log line, and its trigger is free again, in one transaction. */
void kt_sch_on_reply(kt_scheduler *s, const kt_msg *m)
{
    char key[24];
    snprintf(key, sizeof key, "%llu", (unsigned long long)m->corr);
    char *id = kt_map_del(s->awaiting, key);
    if (!id)
        return;
    kt_msg_reply r;
    if (kt_msg_decode_reply(m->body, &r) != KT_OK) { /* the decoder leaves nothing to clear */
        free(id);
        return;
    }
    if (r.status == KT_OK || r.status == KT_EAGAIN) {
        /* KT_EAGAIN is no refusal: the execution's partition moved, or has no executor yet, and whoever takes it
         * loads the stored CREATED execution (actors/executor/leases.c) */
        if (r.status == KT_EAGAIN)
            KT_INFO("scheduler", "execution %s left to its partition's next executor: %s", id,
                    r.message ? r.message : kt_strerror(r.status));
        kt_msg_reply_clear(&r);
        free(id);
        return;
    }
    KT_ERROR("scheduler", "the executor refused execution %s: %s", id, r.message ? r.message : kt_strerror(r.status));
    json_t *ex = NULL, *logs = json_array();
    kt_status st = kt_store_execution_get(s->store, id, &ex);
    const char *cur = ex ? kt_state_current(ex) : NULL;
    if (st != KT_OK || !cur || strcmp(cur, KT_S(CREATED)))
        goto done; /* gone, or taken after all */
    int64_t now = kt_now_us();
    kt_state_set(json_object_get(ex, "state"), KT_S(FAILED), now);
    char ts[48];
    kt_time_format(now - now % 1000, ts, sizeof ts);
    json_array_append_new(logs, json_pack("{s:O, s:O, s:s, s:s, s:s, s:s, s:s, s:b}", "namespace",
                                          json_object_get(ex, "namespace"), "flowId", json_object_get(ex, "flowId"),
                                          "executionId", id, "timestamp", ts, "level", "ERROR", "thread", "scheduler",
                                          "message", r.message ? r.message : "refused by the executor", "deleted", 0));
    st = kt_store_begin(s->store);
    if (st == KT_OK)
        st = kt_store_execution_put(s->store, ex, NULL, 0);
    if (st == KT_OK)
        st = kt_store_logs_append(s->store, logs);
    /* the change's notice, as the executor writes one with each change it commits: the Flow triggers act on a change
     * only when their transaction takes its notice (kt_sch_flow_triggers), and a crash before they did replays it */
    if (st == KT_OK)
        st = kt_store_notice_add(s->store, id, KT_S(FAILED));
    if (st == KT_OK)
        st = kt_store_commit(s->store);
    else
        kt_store_rollback(s->store);
    if (st != KT_OK) {
        KT_ERROR("scheduler", "execution %s not failed: %s", id, kt_store_errmsg(s->store));
        goto done;
    }
    kt_sch_execution_changed(s, ex); /* its trigger's lock goes, Flow triggers see the failure */
done:
    json_decref(ex);
    json_decref(logs);
    kt_msg_reply_clear(&r);
    free(id);
}
