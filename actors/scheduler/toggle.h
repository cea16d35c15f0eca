/* Disabling and enabling a stored trigger row (KESTRA-execution.md §5.2): shared by the triggers API
 * (web/api_triggers.c: PUT /api/v1/triggers, set-disabled by-triggers and by-query) and by the scheduler when a Toggle
 * task asks it (KT_MSG_TRIGGER_TOGGLE, runtime/msg.h). The store is the truth: each function reads the row, changes
 * it and writes it back in its own transaction; the caller then tells the scheduler (KT_MSG_TRIGGER_CHANGED) unless
 * it is the scheduler. Also the lookup of a trigger's definition in its flow's latest revision. */
#ifndef KT_SCHEDULER_TOGGLE_H
#define KT_SCHEDULER_TOGGLE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "actors/names.h"
#include "base/status.h"
#include "flow/trigger.h"
#include "runtime/node.h"
#include "store/store.h"


/* What the computations need besides the row: the store, the configuration and the clock reading. */
typedef struct kt_trigger_env {
    kt_store *store;
    const json_t *plugin_defaults;    /* conf plugins.defaults (may be NULL): applied to the flow's triggers */
    const char *default_zone;         /* the server's zone for Schedules without `timezone` (NULL: UTC) */
    kt_sched_recover default_recover; /* recoverMissedSchedules when the trigger does not say */
    int64_t now_us;
} kt_trigger_env;

/* The trigger `trigger_id` of the latest live revision of ns.flow_id, plugin defaults applied. *flow is the flow JSON
 * with the defaults (a new reference), *def borrowed from it. KT_ENOTFOUND with Kestra's text in err: "Flow of
 * trigger <t> not found" (no such flow, or deleted), "Flow <f> has no trigger <t>"; KT_EINVAL when the stored source
 * no longer parses (err says why); KT_EDB. */
kt_status kt_trigger_definition(const kt_trigger_env *e, const char *ns, const char *flow_id, const char *trigger_id,
                                json_t **flow, const json_t **def, char *err, size_t errcap);

/* Sets the row's `disabled` (TriggerController.setTriggerDisabled): already so, nothing is written (*changed 0);
 * disabling clears nextExecutionDate, as Kestra does; enabling computes it again (for a Schedule from the last
 * evaluation date, then recoverMissedSchedules applied: ALL keeps every missed date, LAST the latest, NONE none;
 * for other triggers now). flow and def come from kt_trigger_definition. *out (may be NULL) gets the row as
 * stored. KT_ENOTFOUND when there is no row (err ""); KT_EINVAL when the Schedule does not compile (err); KT_EDB. */
kt_status kt_trigger_set_disabled(const kt_trigger_env *e, const json_t *flow, const json_t *def, const char *ns,
                                  const char *flow_id, const char *trigger_id, int disabled, json_t **out,
                                  int *changed, char *err, size_t errcap);

/* kt_trigger_set_disabled inside a transaction the caller holds (a kt_db_txn job's fn, e->store its session): no
 * begin, commit or rollback here; the caller rolls back on a failure. Touches only its arguments, the session and
 * e's values, so it may run on the store pool's threads. */
kt_status kt_trigger_set_disabled_in(const kt_trigger_env *e, const json_t *flow, const json_t *def, const char *ns,
                                     const char *flow_id, const char *trigger_id, int disabled, json_t **out,
                                     int *changed, char *err, size_t errcap);

/* The Toggle task's effect (io.kestra.plugin.core.trigger.Toggle, Toggle.java), applied by the scheduler on a
 * KT_MSG_TRIGGER_TOGGLE request: `disabled` becomes !enabled, nextExecutionDate kept, except that a row enabled again
 * without one (it was disabled through the API) gets it computed as kt_trigger_set_disabled does. KT_ENOTFOUND with
 * Toggle's texts: "Unable to find flow <ns>.<f>. Make sure the flow exists and the current execution is authorized
 * to access it.", "Unable to find trigger <t> for the flow <ns>.<f>"; KT_EINVAL, KT_EDB. *out (may be NULL): the
 * row as stored; *changed: whether it was written. */
kt_status kt_trigger_toggle_apply(const kt_trigger_env *e, const char *ns, const char *flow_id, const char *trigger_id,
                                  int enabled, json_t **out, int *changed, char *err, size_t errcap);

/* The scheduler's side of KT_MSG_TRIGGER_TOGGLE (body in runtime/msg.h): decodes the request m, applies it with
 * kt_trigger_toggle_apply, and replies to m->from under m->corr: status KT_OK with the row as data, or the error's
 * status with Toggle's message (a malformed request: KT_EINVAL). *changed: the row was written, so the scheduler
 * re-arms that trigger. */
void kt_trigger_toggle_on_request(const kt_trigger_env *e, kt_actor *self, const kt_msg *m, int *changed);

#endif
