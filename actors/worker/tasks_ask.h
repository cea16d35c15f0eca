/* What the worker's execution and log tasks share (tasks_logs.c, tasks_executions.c): they ask the executor, whose
 * node holds the store (KT_MSG_TASK_ASK, runtime/msg.h), and Kestra's rule for the execution a task names.
 * Private to the worker. Prefix kt_ask. */
#ifndef KT_WORKER_TASKS_ASK_H
#define KT_WORKER_TASKS_ASK_H

#include "actors/worker/task.h"

/* The executor answers from the store in one turn: a wait this long means it is gone or stuck. */
#define KT_ASK_REPLY_MS 60000

/* PluginUtilsService.executionFromTaskParameters: the current execution, or executionId with both namespace and
 * flowId (or neither: the current flow's). 0, or -1 with Kestra's reason logged. */
int kt_ask_target(kt_task_run *r, const char **ns, const char **flow_id, const char **exec_id);

/* Sends body (borrowed; its "op" set) to the executor; on_reply gets the reply (status KT_ETIMEDOUT after
 * KT_ASK_REPLY_MS). -1 when it could not be sent: the reason is logged and the task is NOT finished. */
int kt_ask_executor(kt_task_run *r, const json_t *body, kt_task_reply_fn on_reply);

/* The reply's error logged (timeout, or the executor's message); 1 when there was one. */
int kt_ask_failed(kt_task_run *r, const kt_msg_reply *rep);

#endif
