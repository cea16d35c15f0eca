/* Loop (Kestra 2.0) in the executor's step (step_loop.c): called by flowable.c for a running Loop run. Internal to
 * the executor's step, like step_int.h. */
#ifndef KT_STEP_LOOP_H
#define KT_STEP_LOOP_H

#include "actors/executor/step_int.h"

/* task.resolveNexts of a running Loop run: the next task of each open iteration, new iterations up to
 * concurrencyLimit unless breakWhen stopped them. */
void kt_step_loop_nexts(kt_pass *p, const json_t *task, json_t *run);
/* task.resolveState of a running Loop run: NULL while an iteration is open or still to start; else its state, with
 * its outputs set. */
const char *kt_step_loop_state(kt_pass *p, const json_t *task, json_t *run);
/* KT_EV_CHILD_CREATED for a Loop run: the file of an iteration's outputs (fetchType STORE) is written; ev->outputs is
 * {iteration, item, uri}, or ev->error says why not (logged). The iteration is listed as {item, outputs: {uri}}. */
kt_status kt_step_loop_stored(kt_pass *p, json_t *run, size_t index, const kt_exec_event *ev);

#endif
