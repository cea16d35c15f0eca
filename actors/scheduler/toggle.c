/* Disabling and enabling stored trigger rows, for the triggers API and the Toggle task (see toggle.h). */
#include "actors/scheduler/toggle.h"
#include "base/env.h"
#include "base/log.h"
#include "flow/defaults.h"
#include "flow/flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

kt_status kt_trigger_definition(const kt_trigger_env *e, const char *ns, const char *flow_id, const char *trigger_id,
                                json_t **flow, const json_t **def, char *err, size_t errcap)
{
    *flow = NULL;
    *def = NULL;
    kt_flow_row row;
    kt_status st = kt_store_flow_get(e->store, ns, flow_id, 0, &row);
    if (st == KT_ENOTFOUND)
        snprintf(err, errcap, "Flow of trigger %s not found", trigger_id);
    if (st)
        return st;
    kt_diags d;
    kt_diags_init(&d);
    kt_flow *f = NULL;
    st = kt_flow_parse_pinned(row.source, strlen(row.source), "flow.yaml", e->plugin_defaults, row.dialect, &f, &d);
    if (st) {
        char *why = kt_diags_format(&d);
        snprintf(err, errcap, "the flow %s.%s no longer parses: %s", ns, flow_id, why ? why : "?");
        free(why);
        st = KT_EINVAL;
        goto done;
    }
    json_t *applied = kt_defaults_apply(kt_flow_json(f), e->plugin_defaults);
    if (!applied) {
        st = KT_ENOMEM;
        goto done;
    }
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(applied, "triggers"), i, t) {
        const char *id = json_string_value(json_object_get(t, "id"));
        if (id && !strcmp(id, trigger_id)) {
            *def = t;
            break;
        }
    }
    if (!*def) {
        json_decref(applied);
        snprintf(err, errcap, "Flow %s has no trigger %s", flow_id, trigger_id);
        st = KT_ENOTFOUND;
        goto done;
    }
    *flow = applied;
done:
    kt_diags_clear(&d);
    kt_flow_free(f);
    kt_flow_row_clear(&row);
    return st;
}

/* The row's new state when its `disabled` changes. api: PUT /api/v1/triggers' rules (kt_sched_update: disabling
 * clears nextExecutionDate, re-enabling applies recoverMissedSchedules); otherwise the Toggle task's: the flag only,
 * plus, for a row without a next date (disabled through the API), the first occurrence after its last evaluation
 * (Kestra's scheduler computes a missing one so). */
static kt_status kt_trigger_flip(const kt_trigger_env *e, const json_t *flow, const json_t *def, kt_trig_state *t,
                                 int disabled, int api, char *err, size_t errcap)
{
    kt_trig_kind kind = def ? kt_trig_kind_of(json_string_value(json_object_get(def, "type"))) : KT_TRIG_OTHER;
    if (kind == KT_TRIG_OTHER || kind == KT_TRIG_POLLING || (!api && (disabled || t->next_us))) {
        /* no schedule to compute: a polling trigger (or any other) is due now, as in Kestra */
        if (api && disabled)
            t->next_us = 0;
        if (!disabled && !t->next_us)
            t->next_us = e->now_us;
        t->disabled = disabled;
        return KT_OK;
    }
    kt_env env;
    kt_env_init(&env, e->now_us, kt_env_random_seed());
    env.dialect = kt_dialect_of_flow(flow);
    kt_sched *s = NULL;
    kt_status st = kt_sched_compile(def, flow, e->default_zone, e->default_recover, &env, &s, err, errcap);
    if (st)
        return st;
    if (api) {
        st = kt_sched_update(s, flow, t, disabled, NULL, e->now_us, &env);
    } else {
        t->disabled = 0;
        st = kt_sched_first(s, t->date_us ? t->date_us : e->now_us, &t->next_us);
    }
    if (st)
        snprintf(err, errcap, "no next date for the trigger %s: %s", t->trigger_id, kt_strerror(st));
    kt_sched_free(s);
    return st;
}

/* Inside the caller's transaction: reads the row (claimed until the commit), sets disabled (kt_trigger_flip), writes
 * it back. Nothing written when it is already so (*changed 0, *out the row as it is). */
static kt_status kt_trigger_write_disabled_in(const kt_trigger_env *e, const json_t *flow, const json_t *def,
                                              const char *ns, const char *flow_id, const char *trigger_id,
                                              int disabled, int api, json_t **out, int *changed, char *err,
                                              size_t errcap)
{
    *changed = 0;
    if (out)
        *out = NULL;
    json_t *row = NULL, *updated = NULL;
    kt_trig_state t = {0};
    kt_status st = kt_store_trigger_claim(e->store, ns, flow_id, trigger_id, &row);
    if (st == KT_ENOTFOUND && err && errcap)
        err[0] = 0;
    if (st)
        goto done;
    if (json_is_true(json_object_get(row, "disabled")) == !!disabled) {
        if (out)
            *out = json_incref(row);
        goto done;
    }
    if ((st = kt_trig_state_from_json(row, &t, err, errcap)) ||
        (st = kt_trigger_flip(e, flow, def, &t, disabled, api, err, errcap)))
        goto done;
    if (!(updated = kt_trig_state_json(&t))) {
        st = KT_ENOMEM;
        goto done;
    }
    if ((st = kt_store_trigger_put(e->store, updated)))
        goto done;
    *changed = 1;
    if (out)
        *out = json_incref(updated);
done:
    kt_trig_state_clear(&t);
    json_decref(row);
    json_decref(updated);
    return st;
}

/* The same in a transaction of its own on e->store (the scheduler's, and the blocking callers'). */
static kt_status kt_trigger_write_disabled(const kt_trigger_env *e, const json_t *flow, const json_t *def,
                                           const char *ns, const char *flow_id, const char *trigger_id, int disabled,
                                           int api, json_t **out, int *changed, char *err, size_t errcap)
{
    *changed = 0;
    if (out)
        *out = NULL;
    kt_status st = kt_store_begin(e->store);
    if (st)
        return st;
    st = kt_trigger_write_disabled_in(e, flow, def, ns, flow_id, trigger_id, disabled, api, out, changed, err, errcap);
    if (st == KT_OK && *changed)
        st = kt_store_commit(e->store); /* rolls back itself on failure */
    else
        kt_store_rollback(e->store); /* a failure, or nothing written: the row stays as it is */
    if (st) {
        *changed = 0;
        if (out) {
            json_decref(*out);
            *out = NULL;
        }
    }
    return st;
}

kt_status kt_trigger_set_disabled(const kt_trigger_env *e, const json_t *flow, const json_t *def, const char *ns,
                                  const char *flow_id, const char *trigger_id, int disabled, json_t **out,
                                  int *changed, char *err, size_t errcap)
{
    return kt_trigger_write_disabled(e, flow, def, ns, flow_id, trigger_id, disabled, 1, out, changed, err, errcap);
}

kt_status kt_trigger_set_disabled_in(const kt_trigger_env *e, const json_t *flow, const json_t *def, const char *ns,
                                     const char *flow_id, const char *trigger_id, int disabled, json_t **out,
                                     int *changed, char *err, size_t errcap)
{
    return kt_trigger_write_disabled_in(e, flow, def, ns, flow_id, trigger_id, disabled, 1, out, changed, err, errcap);
}

kt_status kt_trigger_toggle_apply(const kt_trigger_env *e, const char *ns, const char *flow_id, const char *trigger_id,
                                  int enabled, json_t **out, int *changed, char *err, size_t errcap)
{
    *changed = 0;
    json_t *flow = NULL;
    const json_t *def = NULL;
    kt_status st = kt_trigger_definition(e, ns, flow_id, trigger_id, &flow, &def, err, errcap);
    if (st == KT_ENOTFOUND) {
        /* Toggle checks the flow, then the row: a flow that lost the trigger definition still has its row toggled */
        kt_flow_row row;
        kt_status fs = kt_store_flow_get(e->store, ns, flow_id, 0, &row);
        if (fs == KT_OK)
            kt_flow_row_clear(&row);
        if (fs == KT_ENOTFOUND) {
            snprintf(err, errcap,
                     "Unable to find flow %s.%s. Make sure the flow exists and the current execution is authorized to "
                     "access it.",
                     ns, flow_id);
            return KT_ENOTFOUND;
        }
        if (fs)
            return fs;
    } else if (st) {
        return st;
    }
    st = kt_trigger_write_disabled(e, flow, def, ns, flow_id, trigger_id, !enabled, 0, out, changed, err, errcap);
    if (st == KT_ENOTFOUND)
        snprintf(err, errcap, "Unable to find trigger %s for the flow %s.%s", trigger_id, ns, flow_id);
    json_decref(flow);
    return st;
}

void kt_trigger_toggle_on_request(const kt_trigger_env *e, kt_actor *self, const kt_msg *m, int *changed)
{
    *changed = 0;
    json_t *req = NULL, *row = NULL;
    char err[512] = "";
    kt_status st = kt_msg_decode_object(m->body, &req);
    const char *ns = json_string_value(json_object_get(req, "namespace"));
    const char *flow_id = json_string_value(json_object_get(req, "flowId"));
    const char *trigger = json_string_value(json_object_get(req, "trigger"));
    json_t *enabled = json_object_get(req, "enabled");
    if (st || !ns || !*ns || !flow_id || !*flow_id || !trigger || !*trigger || !json_is_boolean(enabled)) {
        snprintf(err, sizeof err, "malformed Toggle request from %s", m->from);
        st = KT_EINVAL;
    } else {
        st = kt_trigger_toggle_apply(e, ns, flow_id, trigger, json_is_true(enabled), &row, changed, err, sizeof err);
    }
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_REPLY, m->from, kt_actor_address(self), m->corr);
    kt_msg_reply rep = {.status = (uint32_t)st, .message = st ? err : NULL, .data = row};
    kt_msg_encode_reply(&o, &rep);
    kt_status sent = kt_node_send(kt_actor_node(self), m->from, &o);
    if (sent)
        KT_WARN("scheduler", "the reply to a Toggle of %s was not delivered (%s): its task times out", m->from,
                kt_strerror(sent));
    json_decref(row);
    json_decref(req);
}
