/* Bulk execution routes (ExecutionController's …/by-ids and …/by-query): the ids come from a JSON body or from the
 * search's filters, every execution is checked first, and when any fails its check nothing is done and the answer is
 * 400 {"message": "invalid bulk <op>", "invalids": [{"message", "invalidValue"}]}; otherwise 200 {"count": n}.
 * Here: delete and set labels, which work on the stored executions, and kill and resume, sent to the executor as the
 * single routes send them; the executor's other operations (restart, replay...) use the same collection and checks
 * (kt_api_bulk_collect). */
#include "base/alloc.h"
#include "base/env.h"
#include "actors/executor/executor.h"
#include "actors/executor/step.h"
#include "flow/inputs.h"
#include "flow/secret_inputs.h"
#include "flow/model.h"
#include "flow/state.h"
#include "web/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Executions a by-query route reads per page of the search. */
#define KT_API_BULK_PAGE 500

/* by-ids: a JSON array of ids in the body. NULL after answering 400. */
static json_t *kt_api_bulk_ids_body(kt_http_req *r, const json_t *list)
{
    size_t i;
    json_t *v;
    if (!json_is_array(list))
        goto bad;
    json_array_foreach(list, i, v) if (!json_is_string(v)) goto bad;
    return json_incref((json_t *)list);
bad:
    kt_http_send_error(r, 400, "Invalid JSON: the body is a list of execution ids", NULL);
    return NULL;
}

/* by-query: the ids of every execution the search's filters match. NULL after answering. */
static json_t *kt_api_bulk_ids_query(kt_webserver *w, kt_http_req *r)
{
    kt_api_exec_filter f;
    if (kt_api_exec_filter_read(r, &f, 0))
        return NULL;
    json_t *ids = json_array();
    f.q.size = KT_API_BULK_PAGE;
    for (f.q.page = 1;; f.q.page++) {
        json_t *page;
        int64_t total;
        if (kt_store_executions_search(w->store, &f.q, &page, &total) != KT_OK) {
            json_decref(ids);
            kt_api_send_db_error(w, r);
            return NULL;
        }
        size_t i, n = json_array_size(page);
        json_t *ex;
        json_array_foreach(page, i, ex) json_array_append(ids, json_object_get(ex, "id"));
        json_decref(page);
        if (n < KT_API_BULK_PAGE)
            break;
    }
    return ids;
}

json_t *kt_api_bulk_collect(kt_webserver *w, kt_http_req *r, const json_t *body_ids, const char *op,
                            kt_api_bulk_check check, void *ud)
{
    json_t *ids = body_ids ? kt_api_bulk_ids_body(r, body_ids) : kt_api_bulk_ids_query(w, r);
    if (!ids)
        return NULL;
    json_t *found = json_array(), *invalids = json_array();
    size_t i;
    json_t *idv;
    json_array_foreach(ids, i, idv) {
        const char *id = json_string_value(idv);
        json_t *ex = NULL;
        kt_status st = kt_store_execution_get(w->store, id, &ex);
        if (st && st != KT_ENOTFOUND) {
            kt_api_send_db_error(w, r);
            goto fail;
        }
        const char *why = check(ex, ud);
        if (why)
            json_array_append_new(invalids, json_pack("{s:s, s:s}", "message", why, "invalidValue", id));
        else
            json_array_append(found, idv); /* ids only: one execution in memory at a time */
        json_decref(ex);
    }
    json_decref(ids);
    if (json_array_size(invalids)) {
        char msg[128];
        snprintf(msg, sizeof msg, "invalid bulk %s", op);
        kt_http_send_json(r, 400, json_pack("{s:s, s:o}", "message", msg, "invalids", invalids));
        json_decref(found);
        return NULL;
    }
    json_decref(invalids);
    return found;
fail:
    json_decref(ids);
    json_decref(found);
    json_decref(invalids);
    return NULL;
}

json_t *kt_api_bulk_load(kt_webserver *w, const json_t *id)
{
    json_t *ex = NULL;
    return kt_store_execution_get(w->store, json_string_value(id), &ex) == KT_OK ? ex : NULL;
}

int kt_api_is_terminated(const json_t *ex)
{
    const char *st = json_string_value(json_object_get(json_object_get(ex, "state"), "current"));
    return st && kt_state_is(st, KT_SF_TERMINATED);
}

/* ---- delete ------------------------------------------------------------------------------------------------------ */

typedef struct kt_api_bulk_delete {
    kt_webserver *w;
    kt_http_req *req;
    json_t *executions;
    size_t next, count;
    int logs, metrics, storage;
} kt_api_bulk_delete;

static const char *kt_api_delete_check(const json_t *ex, void *ud)
{
    int include_running = *(int *)ud;
    if (!ex || (!kt_api_is_terminated(ex) && !include_running))
        return "execution not found";
    /* Kestra deletes a running one too and lets its executor finish in the void; Kite's executor would write it
     * back, so it must end first */
    return kt_api_is_terminated(ex) ? NULL : "execution not terminated: kill it first";
}

static void kt_api_bulk_delete_next(kt_api_bulk_delete *b);

static void kt_api_bulk_delete_stored(kt_status st, size_t count, const char *err, void *data)
{
    kt_api_bulk_delete *b = data;
    (void)count;
    if (st) {
        kt_http_send_error(b->req, 500, err && *err ? err : "Internal server error: a storage folder was not deleted",
                           NULL);
        kt_http_req_release(b->req);
        json_decref(b->executions);
        free(b);
        return;
    }
    b->count++;
    kt_api_bulk_delete_next(b);
}

/* One execution after the other: its rows in a transaction, then its storage folder (asynchronous). */
static void kt_api_bulk_delete_next(kt_api_bulk_delete *b)
{
    while (b->next < json_array_size(b->executions)) {
        json_t *ex = kt_api_bulk_load(b->w, json_array_get(b->executions, b->next++));
        char err[256] = "";
        kt_status st = ex ? kt_api_execution_delete_one(b->w, ex, b->logs, b->metrics, b->storage,
                                                        kt_api_bulk_delete_stored, b, err, sizeof err)
                          : KT_EAGAIN; /* gone meanwhile: nothing left to delete */
        json_decref(ex);
        if (st == KT_OK)
            return; /* continues in kt_api_bulk_delete_stored */
        if (st != KT_EAGAIN) {
            if (st == KT_EDB)
                kt_api_send_db_error(b->w, b->req);
            else
                kt_http_send_error(b->req, 500, *err ? err : "Internal server error", NULL);
            goto done;
        }
        b->count++;
    }
    kt_http_send_json(b->req, 200, json_pack("{s:I}", "count", (json_int_t)b->count));
done:
    kt_http_req_release(b->req);
    json_decref(b->executions);
    free(b);
}

static void kt_api_bulk_delete_run(kt_http_req *r, kt_webserver *w, const json_t *body_ids)
{
    int include_running = 0;
    const char *inc = kt_http_query(r, "includeNonTerminated");
    include_running = inc && !strcmp(inc, "true");
    json_t *exs = kt_api_bulk_collect(w, r, body_ids, "delete", kt_api_delete_check, &include_running);
    if (!exs)
        return;
    kt_api_bulk_delete *b = kt_xcalloc(1, sizeof *b);
    b->w = w;
    b->executions = exs;
    const char *logs = kt_http_query(r, "deleteLogs"), *storage = kt_http_query(r, "deleteStorage");
    b->logs = !logs || strcmp(logs, "false");
    const char *metrics = kt_http_query(r, "deleteMetrics");
    b->metrics = !metrics || strcmp(metrics, "false");
    b->storage = !storage || strcmp(storage, "false");
    b->req = kt_http_defer(r);
    kt_api_bulk_delete_next(b);
}

json_t *kt_api_json_request(kt_http_req *r)
{
    size_t len;
    const char *body = kt_http_body(r, &len);
    json_error_t e;
    json_t *j = json_loadb(body, len, 0, &e);
    if (!j) { /* where the body went wrong, as Jackson's message says it */
        char msg[400];
        snprintf(msg, sizeof msg, "Invalid JSON body at line %d, column %d: %s", e.line, e.column, e.text);
        kt_http_send_error(r, 400, msg, NULL);
    }
    return j;
}

void kt_api_bulk_delete_by_ids(kt_http_req *r, void *ud)
{
    json_t *body = kt_api_json_request(r);
    if (!body)
        return;
    kt_api_bulk_delete_run(r, ud, body);
    json_decref(body);
}

void kt_api_bulk_delete_by_query(kt_http_req *r, void *ud) { kt_api_bulk_delete_run(r, ud, NULL); }

/* ---- set labels -------------------------------------------------------------------------------------------------- */

static const char *kt_api_labels_check(const json_t *ex, void *ud)
{
    (void)ud;
    if (!ex)
        return "execution not found";
    return kt_api_is_terminated(ex) ? NULL : "execution is not terminated";
}

/* The labels set on every collected execution, in one transaction: each one read again there, so a label written
 * meanwhile is kept. */
typedef struct kt_api_labels_job {
    json_t *ids, *labels;
} kt_api_labels_job;

static kt_status kt_api_bulk_labels_run(kt_store *s, void *ud)
{
    kt_api_labels_job *j = ud;
    size_t i;
    json_t *id;
    json_array_foreach(j->ids, i, id) {
        json_t *ex = NULL;
        kt_status st = kt_store_execution_get(s, json_string_value(id), &ex);
        if (st == KT_ENOTFOUND)
            return KT_ECONFLICT; /* deleted since it was collected */
        if (st)
            return st;
        /* no request to answer here: the labels passed the system-label check already, so the merge cannot fail */
        json_t *m = kt_api_merge_labels(NULL, json_object_get(ex, "labels"), j->labels);
        size_t none = 0;
        if (m)
            json_object_set_new(ex, "labels", m);
        st = m ? kt_store_execution_put(s, ex, &none, 0) : KT_EINVAL;
        json_decref(ex);
        if (st)
            return st;
    }
    return KT_OK;
}

static void kt_api_bulk_labels_put(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    (void)w;
    kt_api_labels_job *j = ud;
    if (st == KT_ECONFLICT)
        kt_http_send_error(r, 409, "Conflict: an execution was deleted meanwhile; nothing was changed", NULL);
    else if (!kt_api_read_failed(r, st, err, NULL, NULL))
        kt_http_send_json(r, 200, json_pack("{s:I}", "count", (json_int_t)json_array_size(j->ids)));
}

static void kt_api_bulk_labels_free(void *ud)
{
    kt_api_labels_job *j = ud;
    json_decref(j->ids);
    json_decref(j->labels);
    free(j);
}

static void kt_api_bulk_labels(kt_http_req *r, kt_webserver *w, const json_t *body_ids, const json_t *labels)
{
    if (!json_is_array(labels)) {
        kt_http_send_error(r, 400, "Invalid JSON: the labels are a list of {\"key\", \"value\"}", NULL);
        return;
    }
    json_t *exs = kt_api_bulk_collect(w, r, body_ids, "set labels", kt_api_labels_check, NULL);
    if (!exs)
        return;
    /* the system-label rule is the same for every execution: checked once, before anything is written */
    json_t *none_yet = json_array(), *probe = kt_api_merge_labels(r, none_yet, labels);
    json_decref(none_yet);
    if (!probe) {
        json_decref(exs);
        return;
    }
    json_decref(probe);
    kt_api_labels_job *j = kt_xcalloc(1, sizeof *j);
    j->ids = exs;
    j->labels = json_deep_copy(labels); /* the body dies with the request */
    kt_api_txn(w, r, kt_api_bulk_labels_run, kt_api_bulk_labels_put, j, kt_api_bulk_labels_free);
}

/* body {"executionsId": [...], "executionLabels": [{"key", "value"}]} */
void kt_api_bulk_labels_by_ids(kt_http_req *r, void *ud)
{
    json_t *body = kt_api_json_request(r);
    if (!body)
        return;
    json_t *ids = json_object_get(body, "executionsId");
    if (!ids)
        kt_http_send_error(r, 400, "Invalid JSON: executionsId is required", NULL);
    else
        kt_api_bulk_labels(r, ud, ids, json_object_get(body, "executionLabels"));
    json_decref(body);
}

/* the search's filters in the query, the labels as the body */
void kt_api_bulk_labels_by_query(kt_http_req *r, void *ud)
{
    json_t *body = kt_api_json_request(r);
    if (!body)
        return;
    kt_api_bulk_labels(r, ud, NULL, body);
    json_decref(body);
}

/* ---- kill and resume: commands to the executor, one per execution ---------------------------------------------- */

kt_status kt_api_send_command(kt_webserver *w, const char *id, const char *taskrun, kt_cmd cmd, json_t *data)
{
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, KT_EXECUTOR_ACTOR, kt_actor_address(w->self), 0);
    kt_msg_exec_command body = {.execution_id = (char *)id, .taskrun_id = (char *)(taskrun ? taskrun : ""),
                                .command = cmd, .data = data};
    kt_msg_encode_exec_command(&o, &body);
    return kt_node_send(kt_actor_node(w->self), KT_EXECUTOR_ACTOR, &o);
}

/* Sends cmd for every execution; 200 {"count"} or 503 when the executor cannot take them (those sent stay sent). */
void kt_api_bulk_commands(kt_webserver *w, kt_http_req *r, json_t *exs, kt_cmd cmd, kt_api_bulk_data data_of,
                          void *ud)
{
    size_t i, sent = 0;
    json_t *id;
    json_array_foreach(exs, i, id) {
        const char *taskrun = NULL;
        json_t *ex = data_of ? kt_api_bulk_load(w, id) : NULL;
        json_t *data = ex ? data_of(w, ex, ud, &taskrun) : NULL;
        kt_status st = kt_api_send_command(w, json_string_value(id), taskrun, cmd, data);
        json_decref(data);
        json_decref(ex); /* taskrun pointed into it: used above */
        if (st) {
            char msg[200];
            snprintf(msg, sizeof msg, "Service Unavailable: the executor took %zu of %zu commands (%s)", sent,
                     json_array_size(exs), kt_strerror(st));
            kt_http_send_error(r, 503, msg, NULL);
            json_decref(exs);
            return;
        }
        sent++;
    }
    kt_http_send_json(r, 200, json_pack("{s:I}", "count", (json_int_t)sent));
    json_decref(exs);
}

static const char *kt_api_kill_check(const json_t *ex, void *ud)
{
    (void)ud;
    if (!ex)
        return "execution not found";
    return kt_api_is_terminated(ex) ? "execution already finished" : NULL;
}

/* Kestra's bulk kill does not cascade to subflows (isOnKillCascade false) */
static json_t *kt_api_kill_data(kt_webserver *w, const json_t *ex, void *ud, const char **taskrun)
{
    (void)w, (void)ex, (void)ud, (void)taskrun;
    return json_pack("{s:b}", "cascade", 0);
}

static void kt_api_bulk_kill(kt_http_req *r, kt_webserver *w, const json_t *body_ids)
{
    json_t *exs = kt_api_bulk_collect(w, r, body_ids, "kill", kt_api_kill_check, NULL);
    if (exs)
        kt_api_bulk_commands(w, r, exs, KT_CMD_KILL, kt_api_kill_data, NULL);
}

void kt_api_bulk_kill_by_ids(kt_http_req *r, void *ud)
{
    json_t *body = kt_api_json_request(r);
    if (!body)
        return;
    kt_api_bulk_kill(r, ud, body);
    json_decref(body);
}

void kt_api_bulk_kill_by_query(kt_http_req *r, void *ud) { kt_api_bulk_kill(r, ud, NULL); }

static const char *kt_api_resume_check(const json_t *ex, void *ud)
{
    (void)ud;
    if (!ex)
        return "execution not found";
    return strcmp(kt_state_current(ex), KT_S(PAUSED)) ? "execution not in state PAUSED" : NULL;
}

/* The paused task run and its onResume inputs at their defaults: a bulk resume sends no inputs (Kestra's resume
 * without them). */
static json_t *kt_api_resume_data(kt_webserver *w, const json_t *ex, void *ud, const char **taskrun)
{
    (void)ud;
    size_t i;
    json_t *tr, *typed = NULL;
    kt_flow_row row;
    kt_flow *f = NULL;
    kt_diags d;
    kt_diags_init(&d);
    kt_status st = kt_api_flow_load(w, json_string_value(json_object_get(ex, "namespace")),
                                    json_string_value(json_object_get(ex, "flowId")),
                                    (int)json_integer_value(json_object_get(ex, "flowRevision")), &row, &f, &d);
    if (st == KT_OK || st == KT_EINVAL)
        kt_flow_row_clear(&row);
    json_array_foreach(json_object_get(ex, "taskRunList"), i, tr) {
        if (strcmp(kt_state_current(tr), KT_S(PAUSED)))
            continue;
        *taskrun = json_string_value(json_object_get(tr, "id"));
        const json_t *task = f ? kt_exec_find_task(kt_flow_json(f), json_string_value(json_object_get(tr, "taskId"))) : NULL;
        kt_diags_clear(&d);
        kt_diags_init(&d);
        if (kt_inputs_resolve(json_object_get(task, "onResume"), NULL, &typed, &d) != KT_OK)
            typed = NULL;
        kt_env env; /* a SECRET default is kept sealed, as a single resume's inputs are */
        kt_env_init_real(&env);
        char serr[256];
        if (typed && kt_secret_inputs_seal(json_object_get(task, "onResume"), typed, &env, serr, sizeof serr)) {
            json_decref(typed);
            typed = NULL;
        }
        break;
    }
    kt_diags_clear(&d);
    kt_flow_free(f);
    return typed;
}

static void kt_api_bulk_resume(kt_http_req *r, kt_webserver *w, const json_t *body_ids)
{
    json_t *exs = kt_api_bulk_collect(w, r, body_ids, "resume", kt_api_resume_check, NULL);
    if (exs)
        kt_api_bulk_commands(w, r, exs, KT_CMD_RESUME, kt_api_resume_data, NULL);
}

void kt_api_bulk_resume_by_ids(kt_http_req *r, void *ud)
{
    json_t *body = kt_api_json_request(r);
    if (!body)
        return;
    kt_api_bulk_resume(r, ud, body);
    json_decref(body);
}

void kt_api_bulk_resume_by_query(kt_http_req *r, void *ud) { kt_api_bulk_resume(r, ud, NULL); }
