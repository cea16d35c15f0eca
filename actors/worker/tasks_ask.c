/* tasks_ask.h: asking the executor, and the execution a task names. */
#include "actors/names.h"
#include "actors/worker/tasks_ask.h"

#include <string.h>

int kt_ask_target(kt_task_run *r, const char **ns, const char **flow_id, const char **exec_id)
{
    const json_t *info = kt_task_run_info(r);
    *ns = kt_task_prop_string(r, "namespace");
    *flow_id = kt_task_prop_string(r, "flowId");
    *exec_id = kt_task_prop_string(r, "executionId");
    if (!*exec_id) {
        if (*ns || *flow_id) {
            kt_task_logf(r, "ERROR", "`namespace` and `flowId` should only be set when `executionId` is set.");
            return -1;
        }
        *exec_id = json_string_value(json_object_get(info, "executionId"));
    }
    if ((*ns == NULL) != (*flow_id == NULL)) {
        kt_task_logf(r, "ERROR", "Both `namespace` and `flowId` must be set when `executionId` is set.");
        return -1;
    }
    if (!*ns) {
        *ns = json_string_value(json_object_get(info, "namespace"));
        *flow_id = json_string_value(json_object_get(info, "flowId"));
    }
    return 0;
}

int kt_ask_executor(kt_task_run *r, const json_t *body, kt_task_reply_fn on_reply)
{
    kt_status st = kt_task_request(r, KT_EXECUTOR_ACTOR, KT_MSG_TASK_ASK, body, KT_ASK_REPLY_MS, on_reply);
    if (!st)
        return 0;
    kt_task_logf(r, "ERROR", "Unable to ask the executor: %s",
                 st == KT_ENOTFOUND ? "no executor is reachable" : kt_strerror(st));
    return -1;
}

int kt_ask_failed(kt_task_run *r, const kt_msg_reply *rep)
{
    if (rep->status == KT_OK)
        return 0;
    if (rep->status == KT_ETIMEDOUT)
        kt_task_logf(r, "ERROR", "The executor did not answer within %d s", KT_ASK_REPLY_MS / 1000);
    else
        kt_task_logf(r, "ERROR", "%s", rep->message ? rep->message : kt_strerror((kt_status)rep->status));
    return 1;
}
