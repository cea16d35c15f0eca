/* Polling triggers on the worker (flow/poll.h): the scheduler asks for one evaluation (KT_MSG_TRIGGER_EVALUATE,
 * runtime/msg.h) and gets the answer as a Reply. Each polling type has an evaluator in poll.c's table; an evaluator
 * runs its request as a detached task run (a task attempt outside any execution: the same task implementations,
 * timeouts and kill, but logs to a hook and its end to a callback) and decides from the result. Private to the
 * worker. */
#ifndef KT_WORKER_POLL_H
#define KT_WORKER_POLL_H

#include <jansson.h>
#include <stdint.h>

#include "actors/worker/task.h"
#include "actors/worker/worker.h"

/* ---- worker.c provides ---- */

/* A detached run's log line (its level and text); the line is not sent to the log sink. */
typedef void (*kt_task_log_hook)(void *data, const char *level, const char *msg, size_t len);
/* Runs task (rendered, stolen) with run (stolen: {namespace, flowId, taskId...} as a job's) outside any execution:
 * its lines go to log, its end to done (exactly once, maybe before this returns); the worker's stop kills it. */
void kt_worker_run_detached(kt_worker *w, json_t *task, json_t *run, kt_task_log_hook log, kt_task_child_done_fn done,
                            void *data);
/* Sends a Reply under corr to `to` now (a reply is never refused by a mailbox; a lost one is the asker's timeout). */
void kt_worker_reply(kt_worker *w, const char *to, uint64_t corr, kt_status status, const char *message,
                     const json_t *data);
int kt_worker_stopping(const kt_worker *w);

/* ---- poll.c provides ---- */

/* 1 when this worker has an evaluator for the polling trigger type (canonical or alias). */
int kt_worker_poll_can_evaluate(const char *type);
/* A KT_MSG_TRIGGER_EVALUATE request: decoded, evaluated, answered (see runtime/msg.h). */
void kt_worker_poll_on_request(kt_worker *w, const kt_msg *m);

#endif
