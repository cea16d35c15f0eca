/* Execution routes that read or edit the stored execution without the executor (ExecutionController): DELETE
 * /api/v1/executions/{id} (with its logs and storage folder), POST …/{id}/labels on a terminated execution, and the
 * flow as an execution sees it (FlowForExecution: GET …/{id}/flow, …/flows/{ns}/{flowId}, …/namespaces,
 * …/namespaces/{ns}/flows), and the inputs check of POST …/{ns}/{id}/validate. An execution that is still running belongs to the executor, which would write it back:
 * deleting one is refused with 409 until it ends (Kestra deletes the row and lets the executor finish in the void). */
#include "base/alloc.h"
#include "base/clock.h"
#include "base/id.h"
#include "flow/checks.h"
#include "flow/inputs.h"
#include "flow/render.h"
#include "actors/executor/step.h"
#include "base/env.h"
#include "expr/expr.h"
#include "flow/model.h"
#include "flow/state.h"
#include "flow/tasks.h"
#include "store/storage_uri.h"
#include "web/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int kt_api_bool_param(kt_http_req *r, const char *name, int dflt)
{
    const char *v = kt_http_query(r, name);
    if (!v || !*v)
        return dflt;
    return strcmp(v, "false") != 0 && strcmp(v, "0") != 0;
}

/* ---- DELETE /api/v1/executions/{executionId} ------------------------------------------------------------------ */

typedef struct kt_api_delete {
    kt_http_req *req;
} kt_api_delete;

static void kt_api_delete_storage_done(kt_status st, size_t count, const char *err, void *data)
{
    kt_api_delete *d = data;
    (void)count;
    if (st)
        kt_http_send_error(d->req, 500, err && *err ? err : "Internal server error: the storage folder was not deleted",
                           NULL);
    else
        kt_http_send_empty(d->req, 204);
    kt_http_req_release(d->req);
    free(d);
}

/* The row, its task runs, logs and metrics go together or not at all (inside the caller's transaction). */
static kt_status kt_api_execution_purge(kt_store *s, const char *id, int logs, int metrics)
{
    kt_status st = metrics ? kt_store_metrics_delete(s, id, NULL) : KT_OK;
    return st ? st : kt_store_execution_purge(s, id, 1, logs, NULL);
}

kt_status kt_api_execution_delete_one(kt_webserver *w, const json_t *ex, int logs, int metrics, int storage,
                                      kt_storage_count_cb done, void *data, char *err, size_t errcap)
{
    const char *id = json_string_value(json_object_get(ex, "id"));
    kt_status st = kt_store_begin(w->store);
    if (!st && (st = kt_api_execution_purge(w->store, id, logs, metrics)) != KT_OK)
        kt_store_rollback(w->store);
    else if (!st)
        st = kt_store_commit(w->store);
    if (st || !storage || !w->storage)
        return st ? st : KT_EAGAIN; /* EAGAIN: nothing asynchronous started, the caller answers */
    char root[1024];
    if (kt_suri_execution_root(json_string_value(json_object_get(ex, "namespace")),
                               json_string_value(json_object_get(ex, "flowId")), id, root, sizeof root))
        return KT_EAGAIN;
    return kt_storage_delete_prefix(w->storage, root, done, data, err, errcap);
}

/* The delete's transaction; then, on the loop, the storage folder. */
typedef struct kt_api_delete_job {
    json_t *ex;
    int logs, metrics, storage;
} kt_api_delete_job;

static kt_status kt_api_delete_run(kt_store *s, void *ud)
{
    kt_api_delete_job *j = ud;
    return kt_api_execution_purge(s, json_string_value(json_object_get(j->ex, "id")), j->logs, j->metrics);
}

static void kt_api_delete_free(void *ud)
{
    kt_api_delete_job *j = ud;
    json_decref(j->ex);
    free(j);
}

static void kt_api_deleted(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    kt_api_delete_job *j = ud;
    if (kt_api_read_failed(r, st, err, NULL, NULL))
        return;
    char root[1024];
    const json_t *ex = j->ex;
    if (!j->storage || !w->storage ||
        kt_suri_execution_root(json_string_value(json_object_get(ex, "namespace")),
                               json_string_value(json_object_get(ex, "flowId")),
                               json_string_value(json_object_get(ex, "id")), root, sizeof root)) {
        kt_http_send_empty(r, 204);
        return;
    }
    kt_api_delete *d = kt_xcalloc(1, sizeof *d);
    d->req = kt_http_defer(r);
    if (d->req == r) /* r is the job's handle, lent for this call: d holds a reference of its own */
        kt_http_req_retain(d->req);
    char msg[256] = "";
    st = kt_storage_delete_prefix(w->storage, root, kt_api_delete_storage_done, d, msg, sizeof msg);
    if (st == KT_OK)
        return; /* answered when the storage is done */
    kt_http_send_error(d->req, 500, *msg ? msg : "Internal server error: the storage folder was not deleted", NULL);
    kt_http_req_release(d->req);
    free(d);
}

static void kt_api_execution_delete_read(kt_webserver *w, kt_http_req *r, json_t *ex)
{
    if (!kt_api_is_terminated(ex)) {
        kt_http_send_error(r, 409, "Execution is not terminated: kill it first, then delete it", NULL);
        json_decref(ex);
        return;
    }
    kt_api_delete_job *j = kt_xcalloc(1, sizeof *j);
    *j = (kt_api_delete_job){.ex = ex, .logs = kt_api_bool_param(r, "deleteLogs", 1),
                             .storage = kt_api_bool_param(r, "deleteStorage", 1),
                             .metrics = kt_api_bool_param(r, "deleteMetrics", 1)};
    kt_api_txn(w, r, kt_api_delete_run, kt_api_deleted, j, kt_api_delete_free);
}

void kt_api_execution_delete(kt_http_req *r, void *ud)
{
    kt_api_path_execution_then(ud, r, "Execution '%s' not found.", kt_api_execution_delete_read);
}

/* ---- POST /api/v1/executions/{executionId}/labels ------------------------------------------------------------- */

/* Kestra's setLabels: the given labels win, the execution's other labels stay; a system.* label may only be sent
 * back unchanged. NULL after answering 422. */
json_t *kt_api_merge_labels(kt_http_req *r, const json_t *old, const json_t *given)
{
    size_t i;
    json_t *l;
    json_array_foreach(given, i, l) {
        const char *k = json_string_value(json_object_get(l, "key")), *v = json_string_value(json_object_get(l, "value"));
        if (!json_is_object(l) || !k || !v) {
            kt_api_send_one_error(r, 422, "labels", "a label is an object with a string key and a string value");
            return NULL;
        }
        if (strncmp(k, "system.", 7))
            continue;
        int kept = 0;
        size_t j;
        json_t *o;
        json_array_foreach(old, j, o) kept |= json_equal(o, l);
        if (!kept) {
            char msg[600];
            snprintf(msg, sizeof msg, "System labels can only be set by Kestra itself, offending label: %.200s=%.200s",
                     k, v);
            kt_http_send_error(r, 422, msg, NULL);
            return NULL;
        }
    }
    json_t *out = json_array();
    json_array_foreach(given, i, l) {
        const char *k = json_string_value(json_object_get(l, "key")), *v = json_string_value(json_object_get(l, "value"));
        /* Kestra merges through a map: the last value of a key given twice wins */
        for (size_t j = json_array_size(out); j-- > 0;)
            if (!strcmp(json_string_value(json_object_get(json_array_get(out, j), "key")), k))
                json_array_remove(out, j);
        if (*k || *v)
            json_array_append_new(out, json_pack("{s:s, s:s}", "key", k, "value", v));
    }
    json_array_foreach(old, i, l) {
        const char *k = json_string_value(json_object_get(l, "key"));
        int replaced = 0;
        size_t j;
        json_t *g;
        json_array_foreach(given, j, g) replaced |= k && !strcmp(k, json_string_value(json_object_get(g, "key")));
        if (!replaced)
            json_array_append(out, l);
    }
    return out;
}

/* An execution's header written back (labels changed): the job's ex, no task run. */
static kt_status kt_api_put_header_run(kt_store *s, void *ud)
{
    size_t none = 0;
    return kt_store_execution_put(s, ud, &none, 0);
}

static void kt_api_put_header_free(void *ud) { json_decref(ud); }

static void kt_api_labels_put(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    (void)w;
    if (!kt_api_read_failed(r, st, err, NULL, NULL))
        kt_http_send_json(r, 200, kt_execution_present(ud, kt_now_us()));
}

static void kt_api_execution_labels_read(kt_webserver *w, kt_http_req *r, json_t *ex)
{
    size_t len;
    const char *body = kt_http_body(r, &len);
    json_t *given = json_loadb(body, len, 0, NULL);
    if (!kt_api_is_terminated(ex)) {
        kt_http_send(r, 400, "text/plain", "The execution is not terminated", strlen("The execution is not terminated"));
        goto done;
    }
    json_t *merged = kt_api_merge_labels(r, json_object_get(ex, "labels"), given);
    if (!merged)
        goto done;
    json_object_set_new(ex, "labels", merged);
    kt_api_txn(w, r, kt_api_put_header_run, kt_api_labels_put, ex, kt_api_put_header_free);
    ex = NULL;
done:
    json_decref(ex);
    json_decref(given);
}

void kt_api_execution_labels(kt_http_req *r, void *ud)
{
    size_t len;
    const char *body = kt_http_body(r, &len);
    json_t *given = json_loadb(body, len, 0, NULL);
    int list = json_is_array(given);
    json_decref(given);
    if (!list) {
        kt_http_send_error(r, 400, "Invalid JSON: the body is a list of {\"key\", \"value\"}", NULL);
        return;
    }
    kt_api_path_execution_then(ud, r, "Execution '%s' not found.", kt_api_execution_labels_read);
}

/* ---- FlowForExecution ---------------------------------------------------------------------------------------- */

static json_t *kt_api_task_for_execution(const json_t *task);

static void kt_api_children(json_t *out, const json_t *task, const kt_prop *props)
{
    for (const kt_prop *p = props; p && p->name; p++) {
        json_t *v = json_object_get(task, p->name);
        size_t i;
        json_t *c;
        if (p->kind == KT_P_TASKS) {
            json_array_foreach(v, i, c) json_array_append_new(out, kt_api_task_for_execution(c));
        } else if (p->kind == KT_P_DAG) {
            json_array_foreach(v, i, c) json_array_append_new(out, kt_api_task_for_execution(json_object_get(c, "task")));
        } else if (p->kind == KT_P_CASES) {
            const char *k;
            json_t *list;
            json_object_foreach(v, k, list) json_array_foreach(list, i, c)
                json_array_append_new(out, kt_api_task_for_execution(c));
        }
    }
}

/* TaskForExecution.of: id, type, a Pause's onResume as inputs, a Subflow's subflowId, a flowable's every child */
static json_t *kt_api_task_for_execution(const json_t *task)
{
    const char *type = json_string_value(json_object_get(task, "type"));
    json_t *t = json_pack("{s:O?, s:O?}", "id", json_object_get(task, "id"), "type", json_object_get(task, "type"));
    const kt_task_def *d = type ? kt_task_lookup(type) : NULL;
    if (d && !strcmp(d->type, "io.kestra.plugin.core.flow.Pause") && json_object_get(task, "onResume"))
        json_object_set(t, "inputs", json_object_get(task, "onResume"));
    if (d && d->kind == KT_PLUGIN_EXECUTABLE)
        json_object_set_new(t, "subflowId", json_pack("{s:O?, s:O?, s:O?}", "namespace", json_object_get(task, "namespace"),
                                                      "flowId", json_object_get(task, "flowId"), "revision",
                                                      json_object_get(task, "revision")));
    if (d && d->kind == KT_PLUGIN_FLOWABLE) {
        json_t *kids = json_array();
        kt_api_children(kids, task, d->props);
        kt_api_children(kids, task, kt_task_flowable_props());
        json_object_set_new(t, "tasks", kids);
    }
    return t;
}

json_t *kt_api_flow_for_execution(const kt_flow *f, int revision)
{
    json_t *out = json_pack("{s:s, s:s, s:i}", "id", kt_flow_id(f), "namespace", kt_flow_namespace(f), "revision",
                            revision);
    if (kt_flow_inputs(f))
        json_object_set(out, "inputs", (json_t *)kt_flow_inputs(f));
    json_t *tasks = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(kt_flow_tasks(f), i, t) json_array_append_new(tasks, kt_api_task_for_execution(t));
    json_object_set_new(out, "tasks", tasks);
    json_t *triggers = json_array();
    json_array_foreach(kt_flow_triggers(f), i, t)
        json_array_append_new(triggers, json_pack("{s:O?, s:O?}", "id", json_object_get(t, "id"), "type",
                                                  json_object_get(t, "type")));
    json_object_set_new(out, "triggers", triggers);
    json_object_set_new(out, "disabled", json_boolean(kt_flow_disabled(f)));
    json_object_set_new(out, "deleted", json_false());
    return out;
}

/* The flow at (ns, id, revision) as FlowForExecution, answered; 404 with Kestra's text when there is none. */
static void kt_api_answer_flow_for_execution(kt_webserver *w, kt_http_req *r, const char *ns, const char *id,
                                             int revision)
{
    kt_flow_row row;
    kt_flow *f = NULL;
    kt_diags d;
    kt_diags_init(&d);
    int rc = kt_api_flow_load_or_answer(w, r, ns, id, revision, "Not Found: Flow not found", &row, &f, &d);
    if (rc < 0)
        return;
    if (rc == KT_EINVAL) {
        kt_api_send_diags(r, &d);
        kt_diags_clear(&d);
    } else {
        kt_http_send_json(r, 200, kt_api_flow_for_execution(f, row.revision));
    }
    kt_flow_free(f);
    kt_flow_row_clear(&row);
}

void kt_api_execution_flow_get(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    json_t *ex = kt_api_path_execution(w, r, "Execution '%s' not found.");
    if (!ex)
        return;
    kt_api_answer_flow_for_execution(w, r, json_string_value(json_object_get(ex, "namespace")),
                                     json_string_value(json_object_get(ex, "flowId")),
                                     (int)json_integer_value(json_object_get(ex, "flowRevision")));
    json_decref(ex);
}

void kt_api_execution_flow_by_id(kt_http_req *r, void *ud)
{
    int revision;
    if (kt_api_int_param(r, "revision", 0, &revision))
        return;
    kt_api_answer_flow_for_execution(ud, r, kt_http_param(r, "namespace"), kt_http_param(r, "flowId"), revision);
}

/* GET /api/v1/executions/namespaces: the namespaces holding a flow that can run (not disabled, not deleted) */
static void kt_api_execution_namespaces_read(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    (void)w;
    kt_api_flows_job *j = ud;
    if (kt_api_read_failed(r, st, err, NULL, NULL))
        return;
    json_t *out = json_array();
    size_t i;
    json_t *row;
    const char *last = NULL;
    json_array_foreach(j->rows, i, row) {
        const char *ns = json_string_value(json_object_get(row, "namespace"));
        kt_flow *f = NULL;
        kt_diags d;
        kt_diags_init(&d);
        const char *src = json_string_value(json_object_get(row, "source"));
        int runnable = kt_flow_parse_pinned(src, strlen(src), "flow.yaml", NULL, kt_dialect_of_flow(row), &f, &d) ==
                           KT_OK &&
                       !kt_flow_disabled(f);
        kt_flow_free(f);
        kt_diags_clear(&d);
        if (runnable && (!last || strcmp(last, ns))) { /* rows come sorted by namespace */
            json_array_append_new(out, json_string(ns));
            last = ns;
        }
    }
    kt_http_send_json(r, 200, out);
}

void kt_api_execution_namespaces(kt_http_req *r, void *ud)
{
    kt_api_read_flows(ud, r, NULL, kt_api_execution_namespaces_read, NULL);
}

/* GET /api/v1/executions/namespaces/{namespace}/flows: FlowForExecution of each runnable flow of exactly it */
static void kt_api_execution_ns_flows_read(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    kt_api_flows_job *j = ud;
    if (kt_api_read_failed(r, st, err, NULL, NULL))
        return;
    json_t *out = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(j->rows, i, row) {
        if (strcmp(json_string_value(json_object_get(row, "namespace")), j->ns))
            continue; /* a namespace below it */
        kt_flow *f = NULL;
        kt_diags d;
        kt_diags_init(&d);
        const char *src = json_string_value(json_object_get(row, "source"));
        if (kt_flow_parse_pinned(src, strlen(src), "flow.yaml", w->plugin_defaults, kt_dialect_of_flow(row), &f, &d) ==
                KT_OK &&
            !kt_flow_disabled(f))
            json_array_append_new(out, kt_api_flow_for_execution(
                                           f, (int)json_integer_value(json_object_get(row, "revision"))));
        kt_flow_free(f);
        kt_diags_clear(&d);
    }
    kt_http_send_json(r, 200, out);
}

void kt_api_execution_namespace_flows(kt_http_req *r, void *ud)
{
    kt_api_read_flows(ud, r, kt_http_param(r, "namespace"), kt_api_execution_ns_flows_read, NULL);
}

/* ---- POST /api/v1/executions/{namespace}/{id}/validate ------------------------------------------------------------ */

/* The error messages diags holds for one input (path "inputs.<id>"), as [{"message"}]. */
static json_t *kt_api_input_errors(const kt_diags *d, const char *iid)
{
    json_t *errs = json_array();
    char path[300];
    snprintf(path, sizeof path, "inputs.%s", iid);
    for (size_t i = 0; i < d->count; i++)
        if (d->items[i].path && !strcmp(d->items[i].path, path))
            json_array_append_new(errs, json_pack("{s:s}", "message", d->items[i].message));
    return errs;
}

/* Kestra's InputAndValue list: each definition of defs with the value raw gives it (its default when absent, a dynamic
 * one rendered as the creation would) typed, or as given with the errors the check found. */
static json_t *kt_api_inputs_report(const json_t *defs, const json_t *raw, const json_t *flow)
{
    json_t *typed = NULL, *out = json_array();
    kt_diags d;
    kt_diags_init(&d);
    kt_env env;
    kt_env_init_real(&env);
    env.dialect = kt_dialect_of_flow(flow);
    /* the errors per input; typed only when all are valid. A resume (flow NULL) takes its defaults as written, as
     * the resume itself does. */
    kt_inputs_resolve_in(defs, raw, flow, flow ? &env : NULL, &typed, &d);
    size_t i;
    json_t *def;
    json_array_foreach(defs, i, def) {
        const char *iid = kt_input_id(def);
        if (!iid)
            continue;
        json_t *given = json_object_get(raw, iid), *errs = kt_api_input_errors(&d, iid);
        const json_t *v = given ? given : json_object_get(def, "defaults");
        json_t *value = !given && !strchr(iid, '.') ? json_incref(json_object_get(typed, iid)) : NULL;
        if (!value && v && !json_array_size(errs)) {
            char *err = NULL;
            value = kt_input_check_value(def, v, &err);
            free(err);
        }
        if (!value)
            value = v ? json_deep_copy(v) : json_null();
        json_array_append_new(out, json_pack("{s:O, s:o, s:b, s:o}", "input", def, "value", value, "enabled", 1,
                                             "errors", errs));
    }
    json_decref(typed);
    kt_diags_clear(&d);
    return out;
}

/* What creating an execution with these inputs would give, input by input, without creating it (Kestra's
 * validateExecutionInputs): {"id", "namespace", "inputs": [{"input", "value", "enabled", "errors": [{"message"}]}]}.
 * A file part's value is the URI it would get; nothing is uploaded. */
void kt_api_execution_validate(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    const char *ns = kt_http_param(r, "namespace"), *id = kt_http_param(r, "id");
    int revision;
    if (kt_api_int_param(r, "revision", 0, &revision))
        return;
    kt_flow_row row;
    kt_flow *f = NULL;
    kt_diags d;
    kt_diags_init(&d);
    int st = kt_api_flow_load_or_answer(w, r, ns, id, revision, "Not Found: Requested Flow is not found.", &row, &f, &d);
    if (st < 0)
        return;
    json_t *raw = NULL, *labels = NULL;
    kt_multipart *form = NULL;
    if (row.deleted) {
        kt_http_send_error(r, 404, "Not Found: Requested Flow is not found.", NULL);
        goto done;
    }
    if (kt_api_refuse_unrunnable(r, st, f, &d, "Illegal state: Requested Flow is not valid. Error: ",
                                 "Illegal state: Requested Flow is disabled."))
        goto done;
    kt_diags_clear(&d);
    kt_diags_init(&d);
    if (!(labels = kt_api_labels(r)) || !(raw = kt_api_form_inputs(r, &form)))
        goto done;
    char exid[KT_ID_LEN + 1];
    kt_id_new(exid);
    for (size_t i = 0; form && i < kt_multipart_count(form); i++) { /* file parts: named by their filename */
        const kt_multipart_part *p = kt_multipart_get(form, i);
        if (!p->filename)
            continue;
        char root[1024], uri[1400];
        if (kt_suri_execution_root(ns, id, exid, root, sizeof root) == KT_OK) {
            snprintf(uri, sizeof uri, "%s/inputs/%s/%s", root, p->filename, p->filename);
            json_object_set_new(raw, p->filename, json_string(uri));
        }
    }
    json_t *report = kt_api_inputs_report(kt_flow_inputs(f), raw, kt_flow_json(f));
    /* Kestra 1.x: the checks that would fail with these values, {message, style, behavior} (ApiCheckFailure) */
    json_t *values = json_object(), *item, *failed = NULL;
    size_t k;
    json_array_foreach(report, k, item)
        json_object_set(values, kt_input_id(json_object_get(item, "input")), json_object_get(item, "value"));
    kt_env env;
    kt_env_init_real(&env);
    env.dialect = kt_dialect_of_flow(kt_flow_json(f));
    kt_checks_evaluate(kt_flow_json(f), values, &env, &failed);
    json_decref(values);
    kt_http_send_json(r, 200, json_pack("{s:s, s:s, s:o, s:o}", "id", id, "namespace", ns, "inputs", report, "checks",
                                        failed));
done:
    json_decref(raw);
    json_decref(labels);
    kt_multipart_free(form);
    kt_diags_clear(&d);
    kt_flow_free(f);
    kt_flow_row_clear(&row);
}

/* ---- POST /api/v1/executions/{executionId}/eval/{taskRunId} ------------------------------------------------------- */

/* The text/plain body rendered as the task run's task would render it (Kestra's RunContext of that run): 200
 * {"result"} or, when the expression fails, 200 {"error", "stackTrace"}. The debugging console of the UI. */
void kt_api_execution_eval(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    const char *eid = kt_http_param(r, "executionId"), *rid = kt_http_param(r, "taskRunId");
    json_t *ex = NULL;
    kt_status st = kt_store_execution_get(w->store, eid, &ex);
    if (st) {
        char msg[300];
        snprintf(msg, sizeof msg, "Not Found: Unable to find execution '%.200s'", eid);
        if (st == KT_ENOTFOUND)
            kt_http_send_error(r, 404, msg, NULL);
        else
            kt_api_send_db_error(w, r);
        return;
    }
    const json_t *run = NULL;
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(ex, "taskRunList"), i, tr) if (!strcmp(json_string_value(json_object_get(tr, "id")), rid))
        run = tr;
    if (!run) {
        char msg[300];
        snprintf(msg, sizeof msg, "Not Found: Can't find taskrun with taskrunId '%.200s'", rid);
        kt_http_send_error(r, 404, msg, NULL);
        json_decref(ex);
        return;
    }
    kt_flow_row row = {0};
    kt_flow *f = NULL;
    kt_diags d;
    kt_diags_init(&d);
    if (kt_api_flow_load_or_answer(w, r, json_string_value(json_object_get(ex, "namespace")),
                                   json_string_value(json_object_get(ex, "flowId")),
                                   (int)json_integer_value(json_object_get(ex, "flowRevision")),
                                   "Not Found: Flow not found", &row, &f, &d) < 0) {
        json_decref(ex);
        return;
    }
    if (!f) {
        kt_api_send_diags(r, &d);
        goto done;
    }
    size_t len;
    const char *body = kt_http_body(r, &len);
    char *src = strndup(body, len);
    const json_t *task = kt_exec_find_task(kt_flow_json(f), json_string_value(json_object_get(run, "taskId")));
    json_t *ctx = kt_render_context(kt_flow_json(f), ex, task, run);
    kt_env env;
    kt_env_init_real(&env);
    env.dialect = kt_dialect_of_flow(kt_flow_json(f));
    char *out = NULL;
    kt_expr_error err = {0};
    if (kt_expr_render_string(src, ctx, &env, &out, &err) == KT_OK) {
        kt_http_send_json(r, 200, json_pack("{s:s}", "result", out));
    } else { /* the message already names the template and the line, as Pebble's does */
        kt_http_send_json(r, 200, json_pack("{s:s, s:s}", "error", err.message, "stackTrace",
                                            "io.kestra.core.exceptions.IllegalVariableEvaluationException"));
    }
    free(out);
    free(src);
    json_decref(ctx);
done:
    if (row.source)
        kt_flow_row_clear(&row);
    kt_diags_clear(&d);
    kt_flow_free(f);
    json_decref(ex);
}

/* ---- POST /api/v1/executions/{executionId}/resume/validate -------------------------------------------------------- */

/* The paused task's onResume inputs checked as a resume would check them, nothing resumed: the same answer as the
 * validation on creation, with the execution's flow. 409 when the execution is not paused (as the resume). */
void kt_api_execution_resume_validate(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    json_t *ex = kt_api_path_execution(w, r, "Execution '%s' not found.");
    if (!ex)
        return;
    json_t *raw = NULL;
    kt_multipart *form = NULL;
    kt_flow_row row;
    kt_flow *f = NULL;
    kt_diags d;
    kt_diags_init(&d);
    memset(&row, 0, sizeof row);
    if (strcmp(kt_state_current(ex), KT_S(PAUSED))) {
        char msg[300];
        snprintf(msg, sizeof msg, "Illegal state: Execution '%.200s' is not paused, can't resume it",
                 json_string_value(json_object_get(ex, "id")));
        kt_http_send_error(r, 409, msg, NULL);
        goto done;
    }
    kt_status st = kt_api_flow_load(w, json_string_value(json_object_get(ex, "namespace")),
                                    json_string_value(json_object_get(ex, "flowId")),
                                    (int)json_integer_value(json_object_get(ex, "flowRevision")), &row, &f, &d);
    if (st != KT_OK) {
        kt_http_send_error(r, 404, "Not Found: Flow not found", NULL);
        goto done;
    }
    const json_t *defs = NULL;
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(ex, "taskRunList"), i, tr) if (!defs && !strcmp(kt_state_current(tr), KT_S(PAUSED)))
        defs = json_object_get(kt_exec_find_task(kt_flow_json(f), json_string_value(json_object_get(tr, "taskId"))),
                               "onResume");
    if (!(raw = kt_api_form_inputs(r, &form)))
        goto done;
    kt_http_send_json(r, 200, json_pack("{s:O, s:O, s:o}", "id", json_object_get(ex, "flowId"), "namespace",
                                        json_object_get(ex, "namespace"), "inputs",
                                        kt_api_inputs_report(defs, raw, NULL)));
done:
    json_decref(raw);
    kt_multipart_free(form);
    kt_diags_clear(&d);
    kt_flow_free(f);
    if (row.source)
        kt_flow_row_clear(&row);
    json_decref(ex);
}
