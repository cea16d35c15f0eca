/* The trigger endpoints of Kestra's API (/api/v1/triggers, KESTRA-system.md §1.5, TriggerController): search, a
 * flow's rows, update (disable/enable, backfill start), unlock, restart, backfill pause/unpause/delete and
 * set-disabled, singly, by a list of triggers and by query. The stored row is the truth: each change reads the row,
 * changes it and writes it in one transaction, then tells the scheduler (KT_MSG_TRIGGER_CHANGED) so it re-arms.
 * The rows themselves are created and deleted by the scheduler when flows change. Each change is a transaction of
 * the store pool (kt_api_txn); set-disabled, the PUT and the backfill start are in api_triggers_set.c. */
#include "actors/scheduler/toggle.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "flow/trigger.h"
#include "web/api_int.h"
#include "web/api_triggers_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- what every handler shares ------------------------------------------------------------------ */

kt_trigger_env kt_api_trigger_env(kt_webserver *w)
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

void kt_api_trigger_changed(kt_webserver *w, const char *ns, const char *flow_id, const char *trigger_id)
{
    kt_api_notify_scheduler(w, KT_MSG_TRIGGER_CHANGED,
                            json_pack("{s:s, s:s, s:s}", "namespace", ns, "flowId", flow_id, "triggerId", trigger_id));
}

/* The request body as JSON of the given kind (JSON_OBJECT or JSON_ARRAY); NULL after answering 422. */
json_t *kt_api_trigger_json_body(kt_http_req *r, json_type kind)
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

const char *kt_api_trigger_str(const json_t *j, const char *name) { return json_string_value(json_object_get(j, name)); }

/* A body Trigger's key; 0 when one member is missing. */
int kt_api_trigger_key(const json_t *t, const char **ns, const char **flow_id, const char **trigger_id)
{
    *ns = kt_api_trigger_str(t, "namespace");
    *flow_id = kt_api_trigger_str(t, "flowId");
    *trigger_id = kt_api_trigger_str(t, "triggerId");
    return *ns && *flow_id && *trigger_id;
}

/* q and namespace of the by-query endpoints (empty = absent). */
kt_trigger_query kt_api_trigger_filters(kt_http_req *r)
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
    json_t *keys;
    if (j->mode != KT_TRIG_QUERY) {
        keys = json_incref(j->keys);
    } else {
        json_t *rows;
        int64_t total;
        if ((st = kt_store_triggers_search(s, &j->q, &rows, &total)) != KT_OK)
            return st;
        keys = json_array();
        size_t i;
        json_t *t;
        json_array_foreach(rows, i, t)
            json_array_append_new(keys, json_pack("[s?, s?, s?]", kt_api_trigger_str(t, "namespace"), kt_api_trigger_str(t, "flowId"),
                                                  kt_api_trigger_str(t, "triggerId")));
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
    json_t *t = kt_api_trigger_json_body(r, JSON_OBJECT);
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
    json_t *list = kt_api_trigger_json_body(r, JSON_ARRAY);
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
        int got = kt_store_flow_get(s, kt_api_trigger_str(t, "namespace"), kt_api_trigger_str(t, "flowId"), 0, &row) == KT_OK;
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
            const char *id = kt_api_trigger_str(def, "id");
            if (id && !strcmp(id, kt_api_trigger_str(t, "triggerId"))) {
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
