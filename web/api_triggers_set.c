/* The trigger endpoints that set `disabled` (PUT /api/v1/triggers, set-disabled by triggers and by query) and start a
 * backfill (PUT with one): the trigger's definition is read on the loop (it parses the flow), then the claim, the
 * change and the write run as one transaction of the store pool (kt_api_txn), and the scheduler is told after the
 * commit. */
#include "actors/scheduler/toggle.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/env.h"
#include "base/log.h"
#include "flow/trigger.h"
#include "web/api_int.h"
#include "web/api_triggers_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- disable / enable, backfill start ----------------------------------------------------------- */

/* setTriggerDisabled on triggers whose definitions were read (on the loop: they parse the flow), as one transaction
 * (kt_trigger_set_disabled_in). single: PUT's, answering the row or the failure; else the bulk endpoints', where a
 * row gone or a schedule that no longer computes is skipped with a warning and the count is decided beforehand. */
typedef struct kt_api_dis_item {
    char *ns, *flow_id, *trigger_id;
    json_t *flow;        /* the definition's flow, defaults applied */
    const json_t *def;   /* in flow */
    int changed;         /* output */
} kt_api_dis_item;

typedef struct kt_api_dis_job {
    kt_trigger_env e;    /* store set to the transaction's session */
    char *zone;
    int disabled, single;
    kt_api_dis_item *v;
    size_t n;
    int64_t count;
    kt_status item_st;   /* single: the change's own failure (KT_ENOTFOUND, KT_EINVAL) */
    char err[512];
    json_t *row;         /* single: the row as stored */
} kt_api_dis_job;

static kt_api_dis_job *kt_api_dis_new(kt_webserver *w, int disabled, int single)
{
    kt_api_dis_job *j = kt_xcalloc(1, sizeof *j);
    j->e = kt_api_trigger_env(w);
    j->zone = w->default_zone ? kt_xstrdup(w->default_zone) : NULL;
    j->e.default_zone = j->zone;
    j->e.plugin_defaults = NULL; /* applied already: the definitions were read on the loop */
    j->disabled = disabled;
    j->single = single;
    return j;
}

/* The definition of ns.flow_id.trigger_id read and kept for the job; a gone flow or trigger is skipped (bulk) or
 * answered (single: returns the status, err set). KT_EDB answers 500 in both. */
static kt_status kt_api_dis_add(kt_webserver *w, kt_api_dis_job *j, const char *ns, const char *flow_id,
                                const char *trigger_id)
{
    kt_trigger_env e = kt_api_trigger_env(w);
    json_t *flow;
    const json_t *def;
    kt_status st = kt_trigger_definition(&e, ns, flow_id, trigger_id, &flow, &def, j->err, sizeof j->err);
    if (st)
        return st;
    j->v = kt_xrealloc(j->v, (j->n + 1) * sizeof *j->v);
    j->v[j->n++] = (kt_api_dis_item){.ns = kt_xstrdup(ns), .flow_id = kt_xstrdup(flow_id),
                                     .trigger_id = kt_xstrdup(trigger_id), .flow = flow, .def = def};
    return KT_OK;
}

static kt_status kt_api_dis_run(kt_store *s, void *ud)
{
    kt_api_dis_job *j = ud;
    kt_trigger_env e = j->e;
    e.store = s;
    json_decref(j->row);
    j->row = NULL;
    j->item_st = KT_OK;
    j->err[0] = 0;
    for (size_t i = 0; i < j->n; i++) {
        kt_api_dis_item *x = &j->v[i];
        char err[512] = "";
        x->changed = 0;
        kt_status st = kt_trigger_set_disabled_in(&e, x->flow, x->def, x->ns, x->flow_id, x->trigger_id, j->disabled,
                                                  j->single ? &j->row : NULL, &x->changed, err, sizeof err);
        if (st == KT_ENOTFOUND || st == KT_EINVAL) { /* nothing written for this one */
            if (j->single) {
                j->item_st = st;
                snprintf(j->err, sizeof j->err, "%s", err);
            } else if (st == KT_EINVAL) {
                KT_WARN("webserver", "trigger %s.%s.%s not %s: %s", x->ns, x->flow_id, x->trigger_id,
                        j->disabled ? "disabled" : "enabled", err);
            }
            continue;
        }
        if (st)
            return st;
    }
    return KT_OK;
}

static void kt_api_dis_answer(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    kt_api_dis_job *j = ud;
    char msg[700];
    if (kt_api_read_failed(r, st, err, NULL, NULL))
        return;
    for (size_t i = 0; i < j->n; i++)
        if (j->v[i].changed)
            kt_api_trigger_changed(w, j->v[i].ns, j->v[i].flow_id, j->v[i].trigger_id);
    if (!j->single) {
        kt_http_send_json(r, 200, json_pack("{s:I}", "count", (json_int_t)j->count));
    } else if (j->item_st == KT_ENOTFOUND) {
        kt_http_send_error(r, 404, "Not Found", NULL);
    } else if (j->item_st) {
        snprintf(msg, sizeof msg, "Bad Request: %s", j->err);
        kt_http_send_error(r, 400, msg, NULL);
    } else {
        kt_http_send_json(r, 200, j->row);
        j->row = NULL;
    }
}

static void kt_api_dis_free(void *ud)
{
    kt_api_dis_job *j = ud;
    for (size_t i = 0; i < j->n; i++) {
        free(j->v[i].ns);
        free(j->v[i].flow_id);
        free(j->v[i].trigger_id);
        json_decref(j->v[i].flow);
    }
    free(j->v);
    free(j->zone);
    json_decref(j->row);
    free(j);
}

/* A bulk job's trigger added (a gone definition skipped silently, as Kestra's loops); -1 after answering 500. */
static int kt_api_dis_add_bulk(kt_webserver *w, kt_http_req *r, kt_api_dis_job *j, const char *ns,
                               const char *flow_id, const char *trigger_id)
{
    if (kt_api_dis_add(w, j, ns, flow_id, trigger_id) != KT_EDB)
        return 0;
    kt_api_send_db_error(w, r);
    kt_api_dis_free(j);
    return -1;
}

/* POST /set-disabled/by-triggers: body {"triggers": [Trigger], "disabled": bool}; the count is the list's size. */
void kt_api_set_disabled_by_triggers(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    json_t *body = kt_api_trigger_json_body(r, JSON_OBJECT);
    if (!body)
        return;
    json_t *list = json_object_get(body, "triggers"), *disabled = json_object_get(body, "disabled");
    if (!json_is_array(list) || !json_array_size(list))
        kt_api_send_one_error(r, 422, "setDisabledRequest.triggers", "must not be empty");
    else if (!json_is_boolean(disabled))
        kt_api_send_one_error(r, 422, "setDisabledRequest.disabled", "must not be null");
    else {
        kt_api_dis_job *j = kt_api_dis_new(w, json_is_true(disabled), 0);
        j->count = (int64_t)json_array_size(list);
        size_t i;
        json_t *t;
        json_array_foreach(list, i, t) {
            const char *ns, *flow_id, *trigger_id;
            if (kt_api_trigger_key(t, &ns, &flow_id, &trigger_id) &&
                kt_api_dis_add_bulk(w, r, j, ns, flow_id, trigger_id) < 0) {
                json_decref(body);
                return;
            }
        }
        kt_api_txn(w, r, kt_api_dis_run, kt_api_dis_answer, j, kt_api_dis_free);
    }
    json_decref(body);
}

/* POST /set-disabled/by-query: q, namespace, disabled (default true); the count is the rows matched. */
void kt_api_set_disabled_by_query(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    const char *d = kt_http_query(r, "disabled");
    if (d && *d && strcmp(d, "true") && strcmp(d, "false")) {
        char msg[256];
        snprintf(msg, sizeof msg, "Invalid format: '%s' is not a boolean for disabled", d);
        kt_http_send_error(r, 422, msg, NULL);
        return;
    }
    int disabled = !d || !*d || !strcmp(d, "true");
    kt_trigger_query q = kt_api_trigger_filters(r);
    json_t *rows;
    int64_t total;
    if (kt_store_triggers_search(w->store, &q, &rows, &total)) {
        kt_api_send_db_error(w, r);
        return;
    }
    kt_api_dis_job *j = kt_api_dis_new(w, disabled, 0);
    j->count = (int64_t)json_array_size(rows);
    size_t i;
    json_t *t;
    json_array_foreach(rows, i, t) {
        if (kt_api_dis_add_bulk(w, r, j, kt_api_trigger_str(t, "namespace"), kt_api_trigger_str(t, "flowId"), kt_api_trigger_str(t, "triggerId")) < 0) {
            json_decref(rows);
            return;
        }
    }
    json_decref(rows);
    kt_api_txn(w, r, kt_api_dis_run, kt_api_dis_answer, j, kt_api_dis_free);
}

/* PUT with a backfill (Trigger.initBackfill + nextEvaluationDate, kt_sched_update): currentDate = start, end
 * defaults to now, the current nextExecutionDate kept in previousNextExecutionDate, the next date computed from the
 * backfill's current date. The backfill is read as a Trigger's (labels as a list or a map); a bad one is a 400, as
 * Kestra answers the update's computation errors with BAD_REQUEST and the exception's message. */
typedef struct kt_api_bf_job {
    json_t *body, *flow; /* the request's Trigger; the definition's flow */
    const json_t *def;
    char *zone, *ns, *flow_id, *trigger_id;
    kt_sched_recover recover;
    int64_t now_us;
    kt_status item_st;   /* KT_ENOTFOUND: no row; KT_EINVAL: err says why (400) */
    char err[512];
    json_t *row;         /* the row as stored */
} kt_api_bf_job;

/* The row claimed until the commit (as kt_api_trigger_apply_in's), the backfill started on it, written back. */
static kt_status kt_api_bf_run(kt_store *s, void *ud)
{
    kt_api_bf_job *j = ud;
    json_decref(j->row);
    j->row = NULL;
    j->item_st = KT_OK;
    kt_trig_state given = {0}, t = {0};
    json_t *row = NULL;
    kt_sched *sc = NULL;
    kt_status st = kt_trig_state_from_json(j->body, &given, j->err, sizeof j->err); /* checked on the loop */
    kt_trig_backfill *bf = given.backfill;
    given.backfill = NULL;
    kt_env env;
    kt_env_init(&env, j->now_us, kt_env_random_seed());
    if (st || !bf) {
        j->item_st = KT_EINVAL;
        goto done;
    }
    st = kt_store_trigger_claim(s, j->ns, j->flow_id, j->trigger_id, &row);
    if (st == KT_ENOTFOUND) {
        j->item_st = st;
        st = KT_OK;
        goto done;
    }
    if (st)
        goto done;
    if (kt_trig_state_from_json(row, &t, j->err, sizeof j->err) ||
        kt_sched_compile(j->def, j->flow, j->zone, j->recover, &env, &sc, j->err, sizeof j->err)) {
        j->item_st = KT_EINVAL;
        goto done;
    }
    kt_status us = kt_sched_update(sc, j->flow, &t, t.disabled, bf, j->now_us, &env);
    bf = NULL; /* t has it */
    if (us) {
        snprintf(j->err, sizeof j->err, "no next date for the trigger %s: %s", j->trigger_id, kt_strerror(us));
        j->item_st = KT_EINVAL;
        goto done;
    }
    if (!(j->row = kt_trig_state_json(&t)))
        st = KT_ENOMEM;
    else
        st = kt_store_trigger_put(s, j->row);
done:
    kt_trig_backfill_free(bf);
    kt_sched_free(sc);
    kt_trig_state_clear(&given);
    kt_trig_state_clear(&t);
    json_decref(row);
    return st;
}

static void kt_api_bf_answer(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    kt_api_bf_job *j = ud;
    char msg[700];
    if (kt_api_read_failed(r, st, err, NULL, NULL))
        return;
    if (j->item_st == KT_ENOTFOUND) {
        kt_http_send_error(r, 404, "Not Found", NULL);
    } else if (j->item_st) {
        snprintf(msg, sizeof msg, "Bad Request: %s", j->err);
        kt_http_send_error(r, 400, msg, NULL);
    } else {
        kt_api_trigger_changed(w, j->ns, j->flow_id, j->trigger_id);
        kt_http_send_json(r, 200, j->row);
        j->row = NULL;
    }
}

static void kt_api_bf_free(void *ud)
{
    kt_api_bf_job *j = ud;
    json_decref(j->body);
    json_decref(j->flow);
    json_decref(j->row);
    free(j->zone);
    free(j->ns);
    free(j->flow_id);
    free(j->trigger_id);
    free(j);
}

/* PUT with a backfill (Trigger.initBackfill + nextEvaluationDate, kt_sched_update): currentDate = start, end
 * defaults to now, the current nextExecutionDate kept in previousNextExecutionDate, the next date computed from the
 * backfill's current date. The backfill is read as a Trigger's (labels as a list or a map); a bad one is a 400, as
 * Kestra answers the update's computation errors with BAD_REQUEST and the exception's message. flow is taken. */
static void kt_api_backfill_start(kt_webserver *w, kt_http_req *r, json_t *flow, const json_t *def,
                                  const json_t *body)
{
    char err[512] = "", msg[700];
    kt_trig_state given = {0};
    if (kt_trig_state_from_json(body, &given, err, sizeof err) == KT_OK && given.backfill &&
        !given.backfill->start_us)
        snprintf(err, sizeof err, "backfill.start: must not be null");
    if (!given.backfill || !given.backfill->start_us) {
        snprintf(msg, sizeof msg, "Bad Request: %s", err);
        kt_http_send_error(r, 400, msg, NULL);
        kt_trig_state_clear(&given);
        json_decref(flow);
        return;
    }
    kt_api_bf_job *j = kt_xcalloc(1, sizeof *j);
    j->body = json_deep_copy(body);
    j->flow = flow;
    j->def = def;
    j->zone = w->default_zone ? kt_xstrdup(w->default_zone) : NULL;
    j->recover = w->default_recover;
    j->now_us = kt_now_us();
    j->ns = kt_xstrdup(given.namespace_);
    j->flow_id = kt_xstrdup(given.flow_id);
    j->trigger_id = kt_xstrdup(given.trigger_id);
    kt_trig_state_clear(&given);
    kt_api_txn(w, r, kt_api_bf_run, kt_api_bf_answer, j, kt_api_bf_free);
}

/* PUT /api/v1/triggers: body Trigger; a backfill starts one, otherwise `disabled` is applied. */
void kt_api_trigger_update(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    json_t *body = kt_api_trigger_json_body(r, JSON_OBJECT), *flow = NULL;
    if (!body)
        return;
    const char *ns, *flow_id, *trigger_id;
    char err[512] = "", msg[700];
    if (!kt_api_trigger_key(body, &ns, &flow_id, &trigger_id)) {
        kt_api_send_one_error(r, 422, !ns ? "trigger.namespace" : !flow_id ? "trigger.flowId" : "trigger.triggerId",
                              "must not be null");
        goto done;
    }
    kt_trigger_env e = kt_api_trigger_env(w);
    const json_t *def;
    kt_status st = kt_trigger_definition(&e, ns, flow_id, trigger_id, &flow, &def, err, sizeof err);
    if (st == KT_ENOTFOUND) {
        snprintf(msg, sizeof msg, "Not Found: %s", err);
        kt_http_send_error(r, 404, msg, NULL);
        goto done;
    }
    if (st == KT_EINVAL) {
        snprintf(msg, sizeof msg, "Bad Request: %s", err);
        kt_http_send_error(r, 400, msg, NULL);
        goto done;
    }
    if (st) {
        kt_api_send_db_error(w, r);
        goto done;
    }
    json_t *bf = json_object_get(body, "backfill");
    if (bf && !json_is_null(bf)) {
        kt_api_backfill_start(w, r, flow, def, body);
        flow = NULL; /* taken */
        goto done;
    }
    kt_api_dis_job *j = kt_api_dis_new(w, json_is_true(json_object_get(body, "disabled")), 1);
    j->v = kt_xcalloc(1, sizeof *j->v);
    j->v[0] = (kt_api_dis_item){.ns = kt_xstrdup(ns), .flow_id = kt_xstrdup(flow_id),
                                .trigger_id = kt_xstrdup(trigger_id), .flow = flow, .def = def};
    j->n = 1;
    flow = NULL; /* the job's */
    kt_api_txn(w, r, kt_api_dis_run, kt_api_dis_answer, j, kt_api_dis_free);
done:
    json_decref(flow);
    json_decref(body);
}

