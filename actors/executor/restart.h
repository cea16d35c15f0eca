/* Manual changes of an execution (KESTRA-execution.md §2.15): Kestra's ExecutionService.restart, replay, markAs and the
 * change of a terminated execution's status, as pure transformations of the execution document. No I/O, no clock, no
 * system randomness: `now` is the date of the states they append and new ids come from env (kt_env_id), so the same
 * input always gives the same document. The executor actor applies them (it alone changes executions), persists the
 * result and takes it in; the next pass (KT_EV_START) turns a RESTARTED execution RUNNING and dispatches its RESTARTED
 * runs again. Error texts are Kestra's (the API answers them as they are). Prefix kt_exec_. */
#ifndef KT_EXECUTOR_RESTART_H
#define KT_EXECUTOR_RESTART_H

#include <jansson.h>
#include <stdint.h>

#include "base/env.h"
#include "base/status.h"

/* ExecutionService.restart on `execution` (changed in place) run by `flow` (the Flow JSON of its revision):
 * KT_ECONFLICT when it is neither terminated nor PAUSED, KT_EINVAL when no run is FAILED or PAUSED (err gets Kestra's
 * text). revision > 0: the restart is a new execution (new id from env, parentId the old one, new task-run ids) on
 * that flow revision (flow is then that revision's). */
kt_status kt_exec_restart(const json_t *flow, json_t *execution, int revision, kt_env *env, int64_t now, char *err,
                          size_t errcap);

/* ExecutionService.replay: a new execution (*out, a new reference) from src. taskrun_id NULL: no task runs, state
 * CREATED; otherwise that run and its ancestors restarted and every run after it in the flow's graph removed, state
 * RESTARTED. KT_ENOTFOUND (err set) when taskrun_id is not in src. revision > 0: the flow revision it runs.
 * A new execution's id is in its flow's partition when the flow limits its concurrency (base/partition.h); flow may
 * be NULL when taskrun_id is, and the new id then stays in src's partition. */
kt_status kt_exec_replay(const json_t *flow, const json_t *src, const char *taskrun_id, int revision, kt_env *env,
                         int64_t now, json_t **out, char *err, size_t errcap);

/* ExecutionService.markAs: the run takes `state`, its flowable ancestors RUNNING, its last attempt `state`; the
 * execution RESTARTED unless a run is still PAUSED. KT_ENOTFOUND when the run is not there, KT_EINVAL for a state
 * that is not Kestra's. */
kt_status kt_exec_mark_as(const json_t *flow, json_t *execution, const char *taskrun_id, const char *state,
                          int64_t now, char *err, size_t errcap);

/* POST …/change-status: a terminated execution takes another terminal state (only its state changes). KT_EINVAL
 * with Kestra's texts otherwise. */
kt_status kt_exec_change_status(json_t *execution, const char *status, int64_t now, char *err, size_t errcap);

#endif
