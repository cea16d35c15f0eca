/* Toggle (io.kestra.plugin.core.trigger.Toggle, KESTRA-execution.md §5.10): enables or disables a stored trigger.
 * The worker has no store: it asks the scheduler, which owns the trigger rows (KT_MSG_TRIGGER_TOGGLE, runtime/msg.h),
 * and the attempt ends with its reply. */
#include "actors/scheduler/toggle.h" /* KT_SCHEDULER_ACTOR */
#include "actors/worker/task.h"

#include <string.h>

/* How long the attempt waits for the scheduler: a row change is one local transaction, so a wait this long means
 * the scheduler is gone or stuck, and the task says so instead of hanging. */
#define KT_TOGGLE_REPLY_MS 30000

static void kt_toggle_replied(kt_task_run *r, const kt_msg_reply *rep)
{
    if (rep->status == KT_OK) {
        kt_task_finish(r, KT_S(SUCCESS), NULL); /* VoidOutput */
        return;
    }
    if (rep->status == KT_ETIMEDOUT)
        kt_task_logf(r, "ERROR", "The scheduler did not answer within %d s", KT_TOGGLE_REPLY_MS / 1000);
    else
        kt_task_logf(r, "ERROR", "%s", rep->message ? rep->message : kt_strerror((kt_status)rep->status));
    kt_task_finish(r, KT_S(FAILED), NULL);
}

static void kt_toggle_start(kt_task_run *r)
{
    const json_t *run = kt_task_run_info(r);
    const char *ns = kt_task_prop_string(r, "namespace"), *flow_id = kt_task_prop_string(r, "flowId");
    const char *trigger = kt_task_prop_string(r, "trigger");
    json_t *enabled = json_object_get(kt_task_props(r), "enabled");
    if (!ns)
        ns = json_string_value(json_object_get(run, "namespace")); /* the current flow's */
    if (!flow_id)
        flow_id = json_string_value(json_object_get(run, "flowId"));
    if (!trigger || !*trigger) {
        kt_task_logf(r, "ERROR", "trigger: must not be null");
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    int on;
    if (!enabled || json_is_null(enabled))
        on = 0; /* Kestra's default: a Toggle without `enabled` disables */
    else if (json_is_boolean(enabled))
        on = json_is_true(enabled);
    else if (json_is_string(enabled) && (!strcmp(json_string_value(enabled), "true") ||
                                         !strcmp(json_string_value(enabled), "false")))
        on = !strcmp(json_string_value(enabled), "true");
    else {
        kt_task_logf(r, "ERROR", "enabled: must be a boolean");
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    json_t *body = json_pack("{s:s, s:s, s:s, s:b}", "namespace", ns ? ns : "", "flowId", flow_id ? flow_id : "",
                             "trigger", trigger, "enabled", on);
    kt_status st = body ? kt_task_request(r, KT_SCHEDULER_ACTOR, KT_MSG_TRIGGER_TOGGLE, body, KT_TOGGLE_REPLY_MS,
                                          kt_toggle_replied)
                        : KT_ENOMEM;
    json_decref(body);
    if (st) {
        kt_task_logf(r, "ERROR", "Unable to toggle the trigger %s: %s", trigger,
                     st == KT_ENOTFOUND ? "no scheduler is reachable" : kt_strerror(st));
        kt_task_finish(r, KT_S(FAILED), NULL);
    }
}

/* A kill while waiting: the attempt ends now, and the scheduler's late reply is dropped (the change may still
 * have been made, as a Kestra kill does not undo an emitted trigger either). */
static void kt_toggle_kill(kt_task_run *r) { kt_task_finish(r, KT_S(KILLED), NULL); }

const kt_task_impl kt_task_toggle_impl = {.type = "io.kestra.plugin.core.trigger.Toggle", .start = kt_toggle_start,
                                          .kill = kt_toggle_kill};
