/* The tasks that act on executions (KESTRA-model.md §6.2): execution.Resume resumes a PAUSED execution (the current
 * one's by default, which cannot be paused while its task runs: in practice another one's, named by executionId).
 * The worker has no store: it asks the executor (KT_MSG_TASK_ASK, actors/executor/task_requests.c), which checks the
 * execution and its onResume inputs as the API's resume does and resumes it with the same command. */
#include "actors/worker/tasks_ask.h"

#include <string.h>

static void kt_resume_replied(kt_task_run *r, const kt_msg_reply *rep)
{
    kt_task_finish(r, kt_ask_failed(r, rep) ? KT_S(FAILED) : KT_S(SUCCESS), NULL); /* VoidOutput */
}

static void kt_resume_start(kt_task_run *r)
{
    const char *ns, *flow_id, *exec_id;
    const json_t *inputs = json_object_get(kt_task_props(r), "inputs");
    if (kt_ask_target(r, &ns, &flow_id, &exec_id)) {
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    if (inputs && !json_is_null(inputs) && !json_is_object(inputs)) {
        kt_task_logf(r, "ERROR", "inputs: must be a map");
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    json_t *body = json_pack("{s:s, s:s}", "op", "execution.resume", "executionId", exec_id ? exec_id : "");
    if (json_is_object(inputs))
        json_object_set(body, "inputs", (json_t *)inputs);
    int bad = kt_ask_executor(r, body, kt_resume_replied);
    json_decref(body);
    if (bad)
        kt_task_finish(r, KT_S(FAILED), NULL);
}

/* A kill while waiting: the attempt ends now; the executor's late reply is dropped (the resume may still happen). */
static void kt_ask_kill(kt_task_run *r) { kt_task_finish(r, KT_S(KILLED), NULL); }

const kt_task_impl kt_task_exec_resume_impl = {.type = "io.kestra.plugin.core.execution.Resume",
                                               .start = kt_resume_start, .kill = kt_ask_kill};
