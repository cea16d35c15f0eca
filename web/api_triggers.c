/* The trigger endpoints of Kestra's API (/api/v1/triggers, KESTRA-system.md §1.5, TriggerController): search, a
 * flow's rows, update (disable/enable, backfill start), unlock, restart, backfill pause/unpause/delete and
 * set-disabled, singly, by a list of triggers and by query. The stored row is the truth: each change reads the row,
 * changes it and writes it in one transaction, then tells the scheduler (KT_MSG_TRIGGER_CHANGED) so it re-arms.
 * The rows themselves are created and deleted by the scheduler when flows change. */
#include "actors/scheduler/toggle.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "flow/trigger.h"
#include "web/api_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- what every handler shares ------------------------------------------------------------------ */

static kt_trigger_env kt_api_trigger_env(kt_webserver *w)
{
    return (kt_trigger_env){.store = w->store, .plugin_defaults = w->plugin_defaults, .default_zone = w->default_zone,
                            .default_recover = w->default_recover, .now_us = kt_now_us()};
}

/* Tells the scheduler a row changed. No scheduler hosted (KT_ENOTFOUND) is fine: it reads the rows when it starts. */
void kt_api_notify_scheduler(kt_webserver *w, kt_msg_type type, json_t *body)
{
    kt_outmsg o;
    kt_outmsg_begin(&o, type, KT_SCHEDULER_ACTOR, kt_actor_address(w->self), 0);
    kt_msg_encode_object(&o, body);
    json_decref(body);
    /* every scheduler of the cluster arms every trigger, so each must hear of it */
    kt_status st = kt_node_send_all(kt_actor_node(w->self), KT_SCHEDULER_ACTOR, &o);
    if (st && st != KT_ENOTFOUND)
        KT_WARN("webserver", "the scheduler was not told of a change (%s): it sees it when it next reads the rows",
                kt_strerror(st));
}

static void kt_api_trigger_changed(kt_webserver *w, const char *ns, const char *flow_id, const char *trigger_id)
{
    kt_api_notify_scheduler(w, KT_MSG_TRIGGER_CHANGED,
                            json_pack("{s:s, s:s, s:s}", "namespace", ns, "flowId", flow_id, "triggerId", trigger_id));
}

/* The request body as JSON of the given kind (JSON_OBJECT or JSON_ARRAY); NULL after answering 422. */
static json_t *kt_api_json_body(kt_http_req *r, json_type kind)
{
    size_t len;
    const char *body = kt_http_body(r, &len);
    json_error_t e;
    json_t *j = json_loadb(body, len, 0, &e);
    char msg[512];
    if (!j) {
        snprintf(msg, sizeof msg, "Invalid json: %s (line %d, column %d)", e.text, e.line, e.column);
        kt_http_send_error(r, 422, msg, NULL);
        return NULL;
    }
    if (json_typeof(j) != kind) {
        json_decref(j);
        snprintf(msg, sizeof msg, "Invalid json mapping: expected %s", kind == JSON_ARRAY ? "a list of triggers" : "a trigger");
        kt_http_send_error(r, 422, msg, NULL);
        return NULL;
    }
    return j;
}

static const char *kt_str(const json_t *j, const char *name) { return json_string_value(json_object_get(j, name)); }

/* A body Trigger's key; 0 when one member is missing. */
static int kt_api_trigger_key(const json_t *t, const char **ns, const char **flow_id, const char **trigger_id)
{
    *ns = kt_str(t, "namespace");
    *flow_id = kt_str(t, "flowId");
    *trigger_id = kt_str(t, "triggerId");
    return *ns && *flow_id && *trigger_id;
}

/* q and namespace of the by-query endpoints (empty = absent). */
static kt_trigger_query kt_api_trigger_filters(kt_http_req *r)
{
    kt_trigger_query q = {.page = 1, .size = INT_MAX};
    q.namespace_ = kt_http_query(r, "namespace");
    q.q = kt_http_query(r, "q");
    if (q.namespace_ && !*q.namespace_)
        q.namespace_ = NULL;
    if (q.q && !*q.q)
        q.q = NULL;
    return q;
}

/* ---- changes to one row ------------------------------------------------------------------------- */

typedef enum kt_trigger_op {
    KT_TOP_UNLOCK,      /* Trigger.unlock(): executionId, evaluateRunningDate, workerId, updatedDate dropped */
    KT_TOP_RESTART,     /* workerId, evaluateRunningDate, date dropped */
    KT_TOP_BF_PAUSE,    /* backfill.paused = true */
    KT_TOP_BF_UNPAUSE,  /* backfill.paused = false */
    KT_TOP_BF_DELETE,   /* backfill removed, nextExecutionDate = backfill.previousNextExecutionDate */
} kt_trigger_op;

/* The outcome of one change, as the single endpoints answer it. */
typedef enum kt_trigger_outcome {
    KT_TO_OK,
    KT_TO_NO_ROW,
    KT_TO_NOT_LOCKED,
    KT_TO_NO_BACKFILL,
    KT_TO_BAD_ROW, /* the stored row no longer reads (Kestra's DeserializationException: 423) */
    KT_TO_DB,
} kt_trigger_outcome;

static kt_trigger_outcome kt_api_trigger_change(kt_trig_state *t, kt_trigger_op op)
{
    switch (op) {
    case KT_TOP_UNLOCK:
        return kt_trig_unlock(t) ? KT_TO_OK : KT_TO_NOT_LOCKED;
    case KT_TOP_RESTART:
        free(t->worker_id);
        t->worker_id = NULL;
        t->evaluate_running_us = 0;
        t->date_us = 0;
        return KT_TO_OK;
    case KT_TOP_BF_PAUSE:
    case KT_TOP_BF_UNPAUSE:
        if (!t->backfill)
            return KT_TO_NO_BACKFILL;
        t->backfill->paused = op == KT_TOP_BF_PAUSE;
        return KT_TO_OK;
    case KT_TOP_BF_DELETE:
        return kt_trig_backfill_delete(t) ? KT_TO_NO_BACKFILL : KT_TO_OK;
    }
    return KT_TO_DB;
}

/* Inside the caller's transaction: reads the row (claimed, not just read: on PostgreSQL a plain read holds nothing,
 * and a scheduler's commit in between, a tick fired or a lock released, would be overwritten by this write computed
 * from the row before it), changes it, writes it. *st: the store's status when the outcome is KT_TO_DB. *out (may be
 * NULL): the new row. */
static kt_trigger_outcome kt_api_trigger_apply_in(kt_store *s, const char *ns, const char *flow_id,
                                                  const char *trigger_id, kt_trigger_op op, json_t **out,
                                                  kt_status *st)
{
    json_t *row = NULL, *updated = NULL;
    kt_trig_state t = {0};
    char err[256];
    *st = kt_store_trigger_claim(s, ns, flow_id, trigger_id, &row);
    kt_trigger_outcome o = *st == KT_ENOTFOUND ? KT_TO_NO_ROW
                           : *st                ? KT_TO_DB
                           : kt_trig_state_from_json(row, &t, err, sizeof err) ? KT_TO_BAD_ROW
                                                                               : kt_api_trigger_change(&t, op);
    if (*st == KT_ENOTFOUND)
        *st = KT_OK;
    if (o == KT_TO_OK && !(updated = kt_trig_state_json(&t)))
        *st = KT_ENOMEM, o = KT_TO_DB;
    else if (o == KT_TO_OK && (*st = kt_store_trigger_put(s, updated)) != KT_OK)
        o = KT_TO_DB;
    kt_trig_state_clear(&t);
    json_decref(row);
    if (o == KT_TO_OK && out)
        *out = updated;
    else
        json_decref(updated);
    return o;
}

/* Changes to trigger rows as one transaction (kt_api_txn): one row (the single endpoints: its outcome and new row),
 * a list of keys, or the rows a query matches, searched in the same transaction. */
typedef enum { KT_TRIG_ONE, KT_TRIG_LIST, KT_TRIG_QUERY } kt_api_trig_mode;
typedef struct kt_api_trig_job {
    kt_api_trig_mode mode;
    kt_trigger_op op;
    json_t *keys;               /* ONE, LIST: [[ns, flowId, triggerId] or null (an incomplete key)] */
    kt_api_strs strs;           /* QUERY: the filters' strings */
    kt_trigger_query q;
    kt_trigger_outcome o;       /* outputs: ONE */
    json_t *row;
    int64_t count;              /* LIST, QUERY */
    json_t *changed;            /* the keys written */
} kt_api_trig_job;

static kt_status kt_api_trig_run(kt_store *s, void *ud)
{
    kt_api_trig_job *j = ud;
    json_decref(j->row);
    json_decref(j->changed);
    j->row = NULL;
    j->changed = json_array();
    j->count = 0;
    j->o = KT_TO_NO_ROW;
    kt_status st = KT_OK;
    json_t *keys = json_incref(j->keys);
    if (j->mode == KT_TRIG_QUERY) {
        json_t *rows;
        int64_t total;
        if ((st = kt_store_triggers_search(s, &j->q, &rows, &total)) != KT_OK)
            return st;
        keys = json_array();
        size_t i;
        json_t *t;
        json_array_foreach(rows, i, t)
            json_array_append_new(keys, json_pack("[s?, s?, s?]", kt_str(t, "namespace"), kt_str(t, "flowId"),
                                                  kt_str(t, "triggerId")));
        json_decref(rows);
    }
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k) {
        const char *ns = json_string_value(json_array_get(k, 0)), *flow_id = json_string_value(json_array_get(k, 1));
        const char *trigger_id = json_string_value(json_array_get(k, 2));
        kt_trigger_outcome o = ns && flow_id && trigger_id
                                   ? kt_api_trigger_apply_in(s, ns, flow_id, trigger_id, j->op,
                                                             j->mode == KT_TRIG_ONE ? &j->row : NULL, &st)
                                   : KT_TO_NO_ROW;
        if (o == KT_TO_DB)
            break;
        if (o == KT_TO_OK)
            json_array_append(j->changed, k);
        j->o = o;
        /* the list counts a trigger without a row (Kestra's loops only skip exceptions); by query, a row gone by
         * then is not counted */
        j->count += o == KT_TO_OK || (j->mode == KT_TRIG_LIST && o == KT_TO_NO_ROW);
    }
    json_decref(keys);
    return st;
}

static void kt_api_trigger_answer(kt_webserver *w, kt_http_req *r, kt_trigger_outcome o, json_t *row);

static void kt_api_trig_answer(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    kt_api_trig_job *j = ud;
    if (kt_api_read_failed(r, st, err, NULL, NULL))
        return;
    size_t i;
    json_t *k;
    json_array_foreach(j->changed, i, k)
        kt_api_trigger_changed(w, json_string_value(json_array_get(k, 0)), json_string_value(json_array_get(k, 1)),
                               json_string_value(json_array_get(k, 2)));
    if (j->mode == KT_TRIG_ONE) {
        kt_api_trigger_answer(w, r, j->o, j->row);
        j->row = NULL;
    } else {
        kt_http_send_json(r, 200, json_pack("{s:I}", "count", (json_int_t)j->count));
    }
}

static void kt_api_trig_free(void *ud)
{
    kt_api_trig_job *j = ud;
    json_decref(j->keys);
    json_decref(j->row);
    json_decref(j->changed);
    kt_api_strs_clear(&j->strs);
    free(j);
}

static kt_api_trig_job *kt_api_trig_new(kt_api_trig_mode mode, kt_trigger_op op)
{
    kt_api_trig_job *j = kt_xcalloc(1, sizeof *j);
    j->mode = mode;
    j->op = op;
    j->keys = json_array();
    return j;
}

/* A body Trigger's key as the job keeps it (null when incomplete). */
static void kt_api_trig_add(kt_api_trig_job *j, const json_t *t)
{
    const char *ns, *flow_id, *trigger_id;
    json_array_append_new(j->keys, kt_api_trigger_key(t, &ns, &flow_id, &trigger_id)
                                       ? json_pack("[s, s, s]", ns, flow_id, trigger_id)
                                       : json_null());
}

static void kt_api_trigger_answer(kt_webserver *w, kt_http_req *r, kt_trigger_outcome o, json_t *row)
{
    switch (o) {
    case KT_TO_OK:
        kt_http_send_json(r, 200, row);
        return;
    case KT_TO_NO_ROW:
        kt_http_send_error(r, 404, "Not Found", NULL);
        break;
    case KT_TO_NOT_LOCKED:
        kt_http_send_error(r, 409, "Illegal state: Trigger is not locked", NULL);
        break;
    case KT_TO_NO_BACKFILL:
        kt_http_send_error(r, 400, "Bad Request: No backfill found", NULL);
        break;
    case KT_TO_BAD_ROW:
        kt_http_send_error(r, 423, "Locked: the stored trigger can no longer be read", NULL);
        break;
    case KT_TO_DB:
        kt_api_send_db_error(w, r);
        break;
    }
    json_decref(row);
}

/* POST /{namespace}/{flowId}/{triggerId}/unlock and /restart */
static void kt_api_trigger_path_op(kt_http_req *r, kt_webserver *w, kt_trigger_op op)
{
    kt_api_trig_job *j = kt_api_trig_new(KT_TRIG_ONE, op);
    json_array_append_new(j->keys, json_pack("[s?, s?, s?]", kt_http_param(r, "namespace"), kt_http_param(r, "flowId"),
                                             kt_http_param(r, "triggerId")));
    kt_api_txn(w, r, kt_api_trig_run, kt_api_trig_answer, j, kt_api_trig_free);
}

void kt_api_trigger_unlock(kt_http_req *r, void *ud) { kt_api_trigger_path_op(r, ud, KT_TOP_UNLOCK); }
void kt_api_trigger_restart(kt_http_req *r, void *ud) { kt_api_trigger_path_op(r, ud, KT_TOP_RESTART); }

/* PUT /backfill/pause, PUT /backfill/unpause, POST /backfill/delete: body Trigger */
static void kt_api_trigger_body_op(kt_http_req *r, kt_webserver *w, kt_trigger_op op)
{
    json_t *t = kt_api_json_body(r, JSON_OBJECT);
    if (!t)
        return;
    kt_api_trig_job *j = kt_api_trig_new(KT_TRIG_ONE, op);
    kt_api_trig_add(j, t);
    json_decref(t);
    kt_api_txn(w, r, kt_api_trig_run, kt_api_trig_answer, j, kt_api_trig_free);
}

void kt_api_backfill_pause(kt_http_req *r, void *ud) { kt_api_trigger_body_op(r, ud, KT_TOP_BF_PAUSE); }
void kt_api_backfill_unpause(kt_http_req *r, void *ud) { kt_api_trigger_body_op(r, ud, KT_TOP_BF_UNPAUSE); }
void kt_api_backfill_delete(kt_http_req *r, void *ud) { kt_api_trigger_body_op(r, ud, KT_TOP_BF_DELETE); }

/* POST /unlock/by-triggers and /backfill/{pause,unpause,delete}/by-triggers: body [Trigger], one transaction; unlock
 * skips the ones not locked, backfill actions the ones without a backfill, as TriggerController's loops do */
static void kt_api_trigger_bulk_list(kt_http_req *r, kt_webserver *w, kt_trigger_op op)
{
    json_t *list = kt_api_json_body(r, JSON_ARRAY);
    if (!list)
        return;
    kt_api_trig_job *j = kt_api_trig_new(KT_TRIG_LIST, op);
    size_t i;
    json_t *t;
    json_array_foreach(list, i, t) kt_api_trig_add(j, t);
    json_decref(list);
    kt_api_txn(w, r, kt_api_trig_run, kt_api_trig_answer, j, kt_api_trig_free);
}

/* POST /unlock/by-query and /backfill/{pause,unpause,delete}/by-query: q, namespace */
static void kt_api_trigger_bulk_query(kt_http_req *r, kt_webserver *w, kt_trigger_op op)
{
    kt_api_trig_job *j = kt_api_trig_new(KT_TRIG_QUERY, op);
    j->q = kt_api_trigger_filters(r);
    j->q.namespace_ = kt_api_keep(&j->strs, j->q.namespace_);
    j->q.q = kt_api_keep(&j->strs, j->q.q);
    kt_api_txn(w, r, kt_api_trig_run, kt_api_trig_answer, j, kt_api_trig_free);
}

void kt_api_unlock_by_triggers(kt_http_req *r, void *ud) { kt_api_trigger_bulk_list(r, ud, KT_TOP_UNLOCK); }
void kt_api_unlock_by_query(kt_http_req *r, void *ud) { kt_api_trigger_bulk_query(r, ud, KT_TOP_UNLOCK); }

void kt_api_backfill_pause_by_triggers(kt_http_req *r, void *ud) { kt_api_trigger_bulk_list(r, ud, KT_TOP_BF_PAUSE); }
void kt_api_backfill_unpause_by_triggers(kt_http_req *r, void *ud) { kt_api_trigger_bulk_list(r, ud, KT_TOP_BF_UNPAUSE); }
void kt_api_backfill_delete_by_triggers(kt_http_req *r, void *ud) { kt_api_trigger_bulk_list(r, ud, KT_TOP_BF_DELETE); }
void kt_api_backfill_pause_by_query(kt_http_req *r, void *ud) { kt_api_trigger_bulk_query(r, ud, KT_TOP_BF_PAUSE); }
void kt_api_backfill_unpause_by_query(kt_http_req *r, void *ud) { kt_api_trigger_bulk_query(r, ud, KT_TOP_BF_UNPAUSE); }
void kt_api_backfill_delete_by_query(kt_http_req *r, void *ud) { kt_api_trigger_bulk_query(r, ud, KT_TOP_BF_DELETE); }

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
    json_t *body = kt_api_json_body(r, JSON_OBJECT);
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
        if (kt_api_dis_add_bulk(w, r, j, kt_str(t, "namespace"), kt_str(t, "flowId"), kt_str(t, "triggerId")) < 0) {
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
    json_t *body = kt_api_json_body(r, JSON_OBJECT), *flow = NULL;
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

/* ---- searches ------------------------------------------------------------------------------------ */

/* page, size and sort (field:asc|desc, the first one) into q; -1 after answering 422. */
static int kt_api_trigger_paging(kt_http_req *r, kt_trigger_query *q, char *field, size_t cap)
{
    if (kt_api_paging(r, &q->page, &q->size))
        return -1;
    const char *sorts[4];
    if (kt_http_query_all(r, "sort", sorts, 4) > 0) {
        const char *colon = strchr(sorts[0], ':');
        if (!colon || strchr(colon + 1, ':') || (size_t)(colon - sorts[0]) >= cap) {
            kt_http_send_error(r, 422, "Invalid sort parameter", NULL);
            return -1;
        }
        snprintf(field, cap, "%.*s", (int)(colon - sorts[0]), sorts[0]);
        q->sort_column = field;
        q->sort_desc = strcmp(colon + 1, "asc") != 0;
    }
    return 0;
}

static const char *kt_api_nonempty(const char *s) { return s && *s ? s : NULL; }

/* The trigger definitions of a flow's latest source (Kestra's flowRepository.findById); NULL when it no longer
 * parses. */
static json_t *kt_api_source_triggers(kt_webserver *w, const char *source)
{
    kt_diags d;
    kt_diags_init(&d);
    kt_flow *f = NULL;
    json_t *out = NULL;
    if (kt_flow_parse_with_defaults(source, strlen(source), "flow.yaml", w->plugin_defaults, &f, &d) == KT_OK) {
        const json_t *trig = kt_flow_triggers(f);
        out = trig ? json_deep_copy(trig) : NULL;
    }
    kt_flow_free(f);
    kt_diags_clear(&d);
    return out;
}

/* A search of the trigger rows, read by a job; with_sources: each row's flow source too (null when the flow is gone),
 * parsed on the loop. */
typedef struct kt_trig_search {
    kt_api_strs strs;
    kt_trigger_query q;
    char field[64];
    int with_sources;
    json_t *rows, *sources;
    int64_t total;
} kt_trig_search;

static kt_status kt_trig_search_read(kt_store *s, void *ud)
{
    kt_trig_search *j = ud;
    kt_status st = kt_store_triggers_search(s, &j->q, &j->rows, &j->total);
    if (st || !j->with_sources)
        return st;
    j->sources = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(j->rows, i, t) {
        kt_flow_row row = {0};
        int got = kt_store_flow_get(s, kt_str(t, "namespace"), kt_str(t, "flowId"), 0, &row) == KT_OK;
        json_array_append_new(j->sources, got ? json_string(row.source) : json_null());
        if (got)
            kt_flow_row_clear(&row);
    }
    return KT_OK;
}

static void kt_trig_search_free(void *ud)
{
    kt_trig_search *j = ud;
    kt_api_strs_clear(&j->strs);
    json_decref(j->rows);
    json_decref(j->sources);
    free(j);
}

/* The query's strings and sort field become the job's own. */
static void kt_trig_search_start(kt_webserver *w, kt_http_req *r, kt_trig_search *j, kt_api_answer_fn answer)
{
    const char **keep[] = {&j->q.namespace_, &j->q.flow_id, &j->q.worker_id, &j->q.q};
    for (size_t i = 0; i < sizeof keep / sizeof *keep; i++)
        *keep[i] = kt_api_keep(&j->strs, *keep[i]);
    if (j->q.sort_column)
        j->q.sort_column = j->field;
    kt_api_read(w, r, kt_trig_search_read, answer, j, kt_trig_search_free);
}

static void kt_api_trigger_searched(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    kt_trig_search *j = ud;
    if (kt_api_read_failed(r, st, err, NULL, NULL))
        return;
    json_t *results = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(j->rows, i, t) {
        const char *src = json_string_value(json_array_get(j->sources, i));
        json_t *defs = src ? kt_api_source_triggers(w, src) : NULL;
        if (!defs)
            continue;
        json_t *item = json_object(), *def;
        size_t k;
        json_array_foreach(defs, k, def) {
            const char *id = kt_str(def, "id");
            if (id && !strcmp(id, kt_str(t, "triggerId"))) {
                json_object_set(item, "abstractTrigger", def);
                break;
            }
        }
        json_object_set(item, "triggerContext", t);
        json_array_append_new(results, item);
        json_decref(defs);
    }
    kt_http_send_json(r, 200, json_pack("{s:o, s:I}", "results", results, "total", (json_int_t)j->total));
}

/* GET /api/v1/triggers/search: {abstractTrigger, triggerContext} per row; rows whose flow is gone or has no triggers
 * any more are left out of the page (the total is not adjusted, as in Kestra). */
void kt_api_trigger_search(kt_http_req *r, void *ud)
{
    kt_trig_search *j = kt_xcalloc(1, sizeof *j);
    if (kt_api_trigger_paging(r, &j->q, j->field, sizeof j->field)) {
        free(j);
        return;
    }
    j->q.namespace_ = kt_api_nonempty(kt_http_query(r, "namespace"));
    j->q.flow_id = kt_api_nonempty(kt_http_query(r, "flowId"));
    j->q.worker_id = kt_api_nonempty(kt_http_query(r, "workerId"));
    j->q.q = kt_api_nonempty(kt_http_query(r, "q"));
    j->with_sources = 1;
    kt_trig_search_start(ud, r, j, kt_api_trigger_searched);
}

static void kt_api_trigger_flow_found(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    (void)w;
    kt_trig_search *j = ud;
    if (!kt_api_read_failed(r, st, err, NULL, NULL))
        kt_http_send_json(r, 200, json_pack("{s:O, s:I}", "results", j->rows, "total", (json_int_t)j->total));
}

/* GET /api/v1/triggers/{namespace}/{flowId}: PagedResults<Trigger>. The namespace filters as a prefix, as Kestra's
 * repository find does (a flow of the same id in a child namespace is listed too). */
void kt_api_trigger_flow(kt_http_req *r, void *ud)
{
    kt_trig_search *j = kt_xcalloc(1, sizeof *j);
    if (kt_api_trigger_paging(r, &j->q, j->field, sizeof j->field)) {
        free(j);
        return;
    }
    j->q.namespace_ = kt_http_param(r, "namespace");
    j->q.flow_id = kt_http_param(r, "flowId");
    j->q.q = kt_api_nonempty(kt_http_query(r, "q"));
    kt_trig_search_start(ud, r, j, kt_api_trigger_flow_found);
}
