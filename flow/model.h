/* The execution document: Kestra's Execution / TaskRun / State JSON, built and changed in place.
 * Pure: no I/O. Dates are microseconds since the epoch, written as ISO-8601. */
#ifndef KT_FLOW_MODEL_H
#define KT_FLOW_MODEL_H

#include <jansson.h>
#include <stdint.h>

#include "base/status.h"
#include "flow/state.h"

/* State.Type predicates (KESTRA-execution.md §1.6). */
int kt_state_is_terminated(const char *s);
int kt_state_is_running(const char *s);
int kt_state_is_valid(const char *s);

/* {"current": s, "histories": [{"state": s, "date": now}]} */
json_t *kt_state_new(const char *s, int64_t now_us);
/* Appends a history entry unless s is already current (Kestra's withState). */
void kt_state_set(json_t *state, const char *s, int64_t now_us);
const char *kt_state_current(const json_t *holder); /* holder.state.current */
/* A copy of a stored state with Kestra's computed fields: startDate, endDate (terminated or PAUSED), duration. */
json_t *kt_state_present(const json_t *state, int64_t now_us);
/* Execution with every state (its own, task runs', attempts') presented for the API. New reference. */
json_t *kt_execution_present(const json_t *execution, int64_t now_us);

/* A new execution in state CREATED (Execution.newExecution): id, namespace, flowId, flowRevision, inputs (omitted
 * when empty), labels (flow labels without system.*, then the given ones, then system.correlationId), state,
 * originalId, deleted, metadata. labels may be NULL. */
json_t *kt_execution_new(const char *id, const char *ns, const char *flow_id, int revision, json_t *inputs,
                         const json_t *flow_labels, const json_t *labels, int64_t now_us);

/* A new task run in state CREATED, appended to execution.taskRunList. Borrowed result. */
json_t *kt_taskrun_add(json_t *execution, const char *id, const char *task_id, const char *parent_id,
                       const char *value, int64_t now_us);
json_t *kt_taskrun_find(const json_t *execution, const char *taskrun_id);
/* Same, also giving its position in taskRunList. */
json_t *kt_taskrun_find_at(const json_t *execution, const char *taskrun_id, size_t *index);
size_t kt_taskrun_attempts(const json_t *taskrun);

/* What the state machine relies on in a document that comes from outside (the store, a peer, a test): the
 * execution, every task run (with an id) and every attempt have a state whose current is a Kestra state. kt_state_set
 * asserts on anything else, so check before stepping. KT_EINVAL with err naming what is wrong. */
kt_status kt_execution_check(const json_t *execution, char *err, size_t errcap);

/* Kestra's labels: a list of {key, value}; accepts a map too. Returns a new list, or NULL when a value is not a
 * scalar (err gets Kestra's message). */
json_t *kt_labels_normalize(const json_t *labels, char *err, size_t errcap);

#endif
