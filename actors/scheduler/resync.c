/* The scheduler catching up with what it did not hear (see scheduler_int.h): the notices left by a previous process,
 * replayed at start; and, every scheduler.reconcile-interval, the flows whose latest revision it has not acted on,
 * the trigger rows enabled unseen, and the notices no scheduler took (their message went to one that died with it).
 * With several schedulers, each catches up on its own: whatever two of them do twice is claimed in the store (trigger
 * rows, windows, notices), so it is done once. */
#include "actors/scheduler/scheduler_int.h"

#include "base/alloc.h"
#include "base/log.h"
#include "flow/model.h"

#include <stdlib.h>
#include <string.h>

/* ---- notices ------------------------------------------------------------------------------------- */

/* One notice acted on as the executor's message would be, the execution in the state the notice says. */
static void kt_sch_replay_one(kt_scheduler *s, const char *id, const char *state)
{
    json_t *ex = NULL;
    if (!id || !state || kt_store_execution_get(s->store, id, &ex) != KT_OK) {
        json_array_append_new(s->notices_done, json_pack("[s?,s?]", id, state));
        return;
    }
    json_t *then = json_object_get(ex, "state");
    if (json_is_object(then))
        json_object_set_new(then, "current", json_string(state));
    kt_sch_execution_changed(s, ex);
    json_decref(ex);
}

/* At start: the changes the executor committed that no scheduler acted on (it was down, or the process died
 * between the two commits), each with the state it had then. */
void kt_sch_replay_notices(kt_scheduler *s)
{
    json_t *notices = NULL;
    if (kt_store_notices(s->store, &notices) != KT_OK) {
        KT_ERROR("scheduler", "cannot read the notices: %s", kt_store_errmsg(s->store));
        return;
    }
    size_t i;
    json_t *n;
    json_array_foreach(notices, i, n) kt_sch_replay_one(s, json_string_value(json_object_get(n, "executionId")),
                                                        json_string_value(json_object_get(n, "state")));
    if (json_array_size(notices))
        KT_INFO("scheduler", "replayed %zu execution change(s) left by the previous process", json_array_size(notices));
    json_decref(notices);
    kt_sch_notices_flush(s);
}

/* Periodically: notices already there at the previous pass are orphans (their message went to a scheduler that died
 * with it, and no scheduler has started since to replay them): acted on here. One that a live scheduler is slow to
 * reach is safe to act on twice: a Flow trigger's commit takes the notice (once), a lock's release claims its row. */
static void kt_sch_replay_orphans(kt_scheduler *s)
{
    json_t *notices = NULL;
    if (kt_store_notices(s->store, &notices) != KT_OK) {
        KT_WARN("scheduler", "cannot read the notices: %s", kt_store_errmsg(s->store));
        return;
    }
    json_t *now = json_object(); /* "id\x1fstate" -> how many */
    size_t i, replayed = 0;
    json_t *n;
    json_array_foreach(notices, i, n) {
        const char *id = json_string_value(json_object_get(n, "executionId"));
        const char *state = json_string_value(json_object_get(n, "state"));
        if (!id || !state)
            continue;
        char *key = kt_sch_key(id, state, NULL);
        json_int_t c = json_integer_value(json_object_get(now, key)) + 1;
        json_object_set_new(now, key, json_integer(c));
        if (c <= json_integer_value(json_object_get(s->notices_prev, key))) {
            kt_sch_replay_one(s, id, state);
            replayed++;
        }
        free(key);
    }
    if (replayed)
        KT_INFO("scheduler", "acted on %zu execution change(s) no scheduler had taken", replayed);
    json_decref(s->notices_prev);
    s->notices_prev = now;
    json_decref(notices);
    kt_sch_notices_flush(s);
}

/* ---- the periodic pass --------------------------------------------------------------------------- */

/* A trigger row enabled again (the API, the Toggle task) whose KT_MSG_TRIGGER_CHANGED was lost is not armed, and
 * nothing else would look at it: every enabled row of a trigger held here and not armed is evaluated. */
static int kt_sch_resync_rows(kt_scheduler *s)
{
    json_t *rows = NULL;
    if (kt_store_triggers_list(s->store, NULL, NULL, &rows) != KT_OK) {
        KT_WARN("scheduler", "cannot list the trigger rows for the periodic reconcile: %s", kt_store_errmsg(s->store));
        return 0;
    }
    int n = 0;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        const char *ns = json_string_value(json_object_get(r, "namespace"));
        const char *fid = json_string_value(json_object_get(r, "flowId"));
        const char *tid = json_string_value(json_object_get(r, "triggerId"));
        if (!ns || !fid || !tid || json_is_true(json_object_get(r, "disabled")) ||
            !kt_sch_flow_trigger(kt_sch_flow_get(s, ns, fid), tid))
            continue;
        char *key = kt_sch_key(ns, fid, tid);
        int armed = kt_map_get(s->armed, key) != NULL;
        free(key);
        if (!armed) {
            kt_sch_evaluate(s, ns, fid, tid);
            n++;
        }
    }
    json_decref(rows);
    return n;
}

int kt_sch_resync(kt_scheduler *s)
{
    json_t *flows = NULL;
    if (kt_store_flows_latest(s->store, NULL, NULL, &flows) != KT_OK) {
        KT_WARN("scheduler", "cannot list flows for the periodic reconcile: %s", kt_store_errmsg(s->store));
        return 0;
    }
    int n = 0;
    json_t *live = json_object();
    size_t i;
    json_t *fl;
    json_array_foreach(flows, i, fl) {
        const char *ns = json_string_value(json_object_get(fl, "namespace"));
        const char *id = json_string_value(json_object_get(fl, "id"));
        if (!ns || !id)
            continue;
        char *key = kt_sch_key(ns, id, NULL);
        json_object_set_new(live, key, json_true());
        const json_t *seen = json_object_get(s->seen, key);
        free(key);
        if (!seen || json_integer_value(seen) != json_integer_value(json_object_get(fl, "revision"))) {
            KT_INFO("scheduler", "flow %s.%s revision %lld was not seen yet: its triggers are brought up to date", ns,
                    id, (long long)json_integer_value(json_object_get(fl, "revision")));
            kt_sch_flow_changed(s, ns, id, 0);
            n++;
        }
    }
    /* flows seen and deleted since: their rows go (the key is "ns\x1fid") */
    json_t *gone = json_array();
    const char *key;
    json_t *v;
    json_object_foreach(s->seen, key, v) {
        if (!json_object_get(live, key))
            json_array_append_new(gone, json_string(key));
    }
    json_array_foreach(gone, i, v) {
        char *k = kt_xstrdup(json_string_value(v)), *sep = strchr(k, '\x1f');
        if (sep) {
            *sep = 0;
            KT_INFO("scheduler", "flow %s.%s was deleted unseen: its triggers go", k, sep + 1);
            kt_sch_flow_changed(s, k, sep + 1, 0);
            n++;
        }
        free(k);
    }
    json_decref(gone);
    json_decref(live);
    json_decref(flows);
    return n + kt_sch_resync_rows(s);
}

void kt_sch_on_resync(uv_timer_t *t)
{
    kt_scheduler *s = t->data;
    kt_sch_resync(s);
    kt_sch_replay_orphans(s);
}
