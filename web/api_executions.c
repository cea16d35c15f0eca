/* The execution endpoints of Kestra's API (/api/v1/executions): create (inputs and labels checked here, the execution
 * handed to the executor, the request answered on its reply, or at the end with wait=true), get, search, kill and
 * resume (onResume inputs checked here). Reads go to the store; changes go to the executor as messages. */
#include "actors/executor/executor.h"
#include "base/alloc.h"
#include "flow/model.h"
#include "actors/executor/step.h"
#include "time/duration.h"
#include "flow/defaults.h"
#include "flow/flow.h"
#include "flow/inputs.h"
#include "flow/secret_inputs.h"
#include "base/clock.h"
#include "base/env.h"
#include "base/id.h"
#include "base/log.h"
#include "base/partition.h"
#include "expr/expr.h"
#include "flow/tasks.h"
#include "web/api_int.h"
#include "web/multipart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- executions ---------------------------------------------------------------------------------- */

/* ?labels=key:value (repeatable) -> [{key, value}]; system.* labels are Kestra's own. */
json_t *kt_api_labels(kt_http_req *r)
{
    const char *vals[64];
    size_t n = kt_http_query_all(r, "labels", vals, 64);
    if (n > 64) {
        kt_http_send_error(r, 422, "Invalid queryString parameter: too many labels", NULL);
        return NULL;
    }
    json_t *labels = json_array();
    for (size_t i = 0; i < n; i++) {
        const char *colon = strchr(vals[i], ':');
        if (!colon || colon == vals[i]) {
            json_decref(labels);
            kt_http_send_error(r, 422, "Invalid queryString parameter", NULL);
            return NULL;
        }
        char *key = strndup(vals[i], (size_t)(colon - vals[i]));
        const char *value = colon + 1;
        while (*value == ' ')
            value++;
        if (!strncmp(key, "system.", 7) && strcmp(key, "system.correlationId")) {
            char msg[512];
            snprintf(msg, sizeof msg, "System labels can only be set by Kestra itself, offending label: %s=%s", key,
                     value);
            kt_api_send_one_error(r, 422, "labels", msg);
            free(key);
            json_decref(labels);
            return NULL;
        }
        json_array_append_new(labels, json_pack("{s:s, s:s}", "key", key, "value", value));
        free(key);
    }
    return labels;
}

/* The multipart body of r: its text parts as {name: value}, the parsed form in *form (NULL when there is no
 * multipart body) for the caller to free. NULL after answering 422 on a malformed body. */
json_t *kt_api_form_inputs(kt_http_req *r, kt_multipart **form)
{
    size_t len;
    const char *body = kt_http_body(r, &len);
    const char *ctype = kt_http_header(r, "content-type");
    json_t *raw = json_object();
    *form = NULL;
    if (len && ctype && *ctype && strncasecmp(ctype, "multipart/form-data", 19)) {
        /* the route consumes multipart/form-data only: Micronaut refuses anything else before the controller runs.
         * An empty body is let through whatever it claims to be (`curl -d ''` says urlencoded): it sends no input. */
        char msg[300];
        size_t tl = strcspn(ctype, ";");
        snprintf(msg, sizeof msg, "Content Type [%.*s] not allowed. Allowed types: [multipart/form-data]",
                 (int)(tl < 200 ? tl : 200), ctype);
        kt_http_send_error(r, 415, "Unsupported Media Type", json_pack("[{s:s}]", "message", msg));
        json_decref(raw);
        return NULL;
    }
    if (!len || !ctype)
        return raw; /* no inputs sent */
    char err[256];
    if (kt_multipart_parse(ctype, body, len, form, err, sizeof err) != KT_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "Invalid multipart body: %s", err);
        kt_http_send_error(r, 422, msg, NULL);
        json_decref(raw);
        *form = NULL;
        return NULL;
    }
    for (size_t i = 0; i < kt_multipart_count(*form); i++) {
        const kt_multipart_part *p = kt_multipart_get(*form, i);
        if (!p->filename)
            json_object_set_new(raw, p->name, json_stringn(p->data, p->len));
    }
    return raw;
}

/* kt_node_send refused a message to the executor: nobody hosts it, or its mailbox is full (KT_MAILBOX_CAP in
 * base/limits.h: it is behind, and the client should come back). */
static void kt_api_executor_unavailable(kt_http_req *r, kt_status st)
{
    kt_http_send_error(r, 503,
                       st == KT_EAGAIN ? "Service Unavailable: the executor is busy, try again later"
                                       : "Service Unavailable: no executor is reachable",
                       NULL);
}

/* Hands a new execution to the executor and answers r once it is committed (a GET right after the POST then finds
 * it), or once it ended with wait. Takes ex. 1 when r now waits in w->pending (which holds r's deferred handle:
 * a caller that had deferred r passes its reference on), 0 when r was answered with an error. */
int kt_api_execution_submit(kt_webserver *w, kt_http_req *r, json_t *ex, int wait)
{
    if (!kt_node_reachable(kt_actor_node(w->self), KT_EXECUTOR_ACTOR)) {
        kt_http_send_error(r, 503, "Service Unavailable: no executor is reachable", NULL);
        json_decref(ex);
        return 0;
    }
    uint64_t corr = ++w->next_corr;
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_EXECUTION_CREATE, KT_EXECUTOR_ACTOR, kt_actor_address(w->self), corr);
    kt_msg_execution_create body = {.execution = ex, .wait = (uint32_t)wait};
    kt_msg_encode_execution_create(&o, &body);
    kt_status sent = kt_node_send(kt_actor_node(w->self), KT_EXECUTOR_ACTOR, &o);
    if (sent) {
        kt_api_executor_unavailable(r, sent);
        json_decref(ex);
        return 0;
    }
    kt_pending *p = kt_xcalloc(1, sizeof *p);
    p->req = kt_http_defer(r);
    p->execution = ex;
    p->wait = wait;
    char key[32];
    snprintf(key, sizeof key, "%llu", (unsigned long long)corr);
    kt_map_put(w->pending, key, p, NULL);
    return 1;
}

/* Answers 409 when a stored flow cannot be executed (invalid or disabled), in the wording of the endpoint that
 * asked, and says whether it did. */
int kt_api_refuse_unrunnable(kt_http_req *r, int load, const kt_flow *f, const kt_diags *d,
                                    const char *invalid_prefix, const char *disabled)
{
    if (load == KT_EINVAL) {
        char *msg = kt_diags_format(d), text[1024];
        snprintf(text, sizeof text, "%s%s", invalid_prefix, msg ? msg : "?");
        free(msg);
        kt_http_send_error(r, 409, text, NULL);
        return 1;
    }
    if (kt_flow_disabled(f)) {
        kt_http_send_error(r, 409, disabled, NULL);
        return 1;
    }
    return 0;
}

void kt_api_on_reply(kt_webserver *w, const kt_msg *m)
{
    char key[32];
    snprintf(key, sizeof key, "%llu", (unsigned long long)m->corr);
    kt_pending *p = kt_map_del(w->pending, key);
    if (!p)
        return;
    kt_msg_reply rep;
    if (kt_msg_decode_reply(m->body, &rep) != KT_OK)
        rep = (kt_msg_reply){.status = KT_EPROTO, .message = NULL};
    if (rep.status == KT_OK && p->wait && !rep.data && kt_http_req_alive(p->req)) {
        p->created = 1;
        kt_map_put(w->pending, key, p, NULL); /* created; the answer comes with the end */
        kt_msg_reply_clear(&rep);
        return;
    }
    if (p->manual) {
        kt_api_manual_reply(p->req, &rep);
    } else if (kt_http_req_alive(p->req)) {
        if (rep.status == KT_OK && p->webhook && rep.data) {
            kt_api_webhook_answer(w, p->req, rep.data, p->webhook);
        } else if (rep.status == KT_OK) {
            json_t *out = kt_execution_present(rep.data ? rep.data : p->execution, kt_now_us());
            char url[1024];
            snprintf(url, sizeof url, "%s/ui/executions/%s/%s/%s", w->public_url,
                     json_string_value(json_object_get(out, "namespace")),
                     json_string_value(json_object_get(out, "flowId")), json_string_value(json_object_get(out, "id")));
            json_object_set_new(out, "url", json_string(url));
            kt_http_send_json(p->req, 200, out);
        } else {
            char msg[1024];
            snprintf(msg, sizeof msg, "Illegal state: %s", rep.message ? rep.message : kt_strerror(rep.status));
            kt_http_send_error(p->req, 409, msg, NULL);
        }
    }
    kt_http_req_release(p->req);
    kt_msg_reply_clear(&rep);
    json_decref(p->execution);
    json_decref(p->webhook);
    free(p);
}

/* An executor's node is gone (declared dead, or back as a new process): a request it got and did not answer yet would
 * wait for ever, so each one not answered yet is answered 503 now. Which executor got which request is not known (the
 * node picks one), so the requests sent to the others are answered too: their clients may retry, as after any 503. A
 * creation may have been committed before the executor died: the message says so. */
void kt_api_executor_gone(kt_webserver *w, const char *node_id)
{
    size_t pos = 0, n = 0;
    const char *key;
    void *val;
    char (*keys)[32] = NULL;
    while (kt_map_next(w->pending, &pos, &key, &val)) {
        if (((kt_pending *)val)->created)
            continue;
        keys = kt_xrealloc(keys, (n + 1) * sizeof *keys);
        snprintf(keys[n++], sizeof *keys, "%s", key);
    }
    for (size_t i = 0; i < n; i++) {
        kt_pending *p = kt_map_del(w->pending, keys[i]);
        if (kt_http_req_alive(p->req)) {
            char msg[512];
            snprintf(msg, sizeof msg,
                     "Service Unavailable: executor %s stopped before it answered (the request may or may not have "
                     "been carried out)",
                     node_id);
            kt_http_send_error(p->req, 503, msg, NULL);
        }
        kt_http_req_release(p->req);
        json_decref(p->execution);
        json_decref(p->webhook);
        free(p);
    }
    if (n)
        KT_WARN("webserver", "executor %s gone: %zu request(s) waiting for an executor answered 503", node_id, n);
    free(keys);
}

static void kt_api_execution_got(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    (void)w;
    kt_api_exec_job *j = ud;
    if (!kt_api_read_failed(r, st, err, "Not Found", NULL))
        kt_http_send_json(r, 200, kt_execution_present(j->ex, kt_now_us()));
}

void kt_api_execution_get(kt_http_req *r, void *ud)
{
    kt_api_read_execution(ud, r, kt_http_param(r, "executionId"), kt_api_execution_got, NULL);
}

/* DELETE /api/v1/executions/{executionId}/kill: 202 once the request is on its way (Kestra answers before the
 * executor acts). */
static void kt_api_execution_kill_read(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    kt_api_exec_job *j = ud;
    if (kt_api_read_failed(r, st, err, "Not Found", NULL))
        return;
    const char *id = j->id;
    const char *cascade = kt_http_query(r, "isOnKillCascade");
    int no_cascade = cascade && !strcmp(cascade, "false");
    int terminated = kt_state_is_terminated(kt_state_current(j->ex));
    if (terminated && no_cascade) {
        kt_http_send_error(r, 409, "Illegal state: Execution is already finished, can't kill it", NULL);
        return;
    }
    /* With the cascade (the default) the kill is sent even for a finished execution: its Subflow children may
     * still run (wait: false), and Kestra kills them too. */
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, KT_EXECUTOR_ACTOR, kt_actor_address(w->self), 0);
    json_t *opts = no_cascade ? json_pack("{s:b}", "cascade", 0) : NULL;
    kt_msg_exec_command body = {.execution_id = (char *)id, .taskrun_id = "", .command = KT_CMD_KILL, .data = opts};
    kt_msg_encode_exec_command(&o, &body);
    json_decref(opts);
    kt_status sent = kt_node_send(kt_actor_node(w->self), KT_EXECUTOR_ACTOR, &o);
    if (sent) {
        kt_api_executor_unavailable(r, sent);
        return;
    }
    kt_http_send_empty(r, 202);
}

void kt_api_execution_kill(kt_http_req *r, void *ud)
{
    kt_api_read_execution(ud, r, kt_http_param(r, "executionId"), kt_api_execution_kill_read, NULL);
}

/* The task of a stored execution's run, from the flow revision it runs. NULL when it cannot be found. */
static kt_flow *kt_api_execution_flow(kt_webserver *w, const json_t *ex)
{
    kt_flow_row row;
    kt_diags d;
    kt_diags_init(&d);
    kt_flow *f = NULL;
    kt_status st = kt_api_flow_load(w, json_string_value(json_object_get(ex, "namespace")),
                                    json_string_value(json_object_get(ex, "flowId")),
                                    (int)json_integer_value(json_object_get(ex, "flowRevision")), &row, &f, &d);
    if (st == KT_OK || st == KT_EINVAL)
        kt_flow_row_clear(&row);
    kt_diags_clear(&d);
    return f;
}

/* The paused task's onResume inputs typed and the resume handed to the executor: 204, or 422 with the inputs'
 * diagnostics (503 without an executor). 1 when resumed. Also the end of a resume whose file parts were stored
 * first (api_create.c). */
int kt_api_resume_send(kt_webserver *w, kt_http_req *r, const char *id, const char *paused_run, const json_t *defs,
                       const json_t *raw)
{
    json_t *typed = NULL;
    kt_diags d;
    kt_diags_init(&d);
    int ok = 0;
    if (kt_inputs_resolve(defs, raw, &typed, &d) != KT_OK) {
        kt_api_send_diags(r, &d);
        goto done;
    }
    /* SECRET onResume inputs are kept sealed in the paused run's outputs, as Kestra's readExecutionInputs seals them
     * (refused without a key) */
    kt_env env;
    kt_env_init_real(&env);
    char serr[512];
    if (kt_secret_inputs_seal(defs, typed, &env, serr, sizeof serr)) {
        kt_http_send_error(r, 422, serr, NULL);
        goto done;
    }
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, KT_EXECUTOR_ACTOR, kt_actor_address(w->self), 0);
    kt_msg_exec_command body = {.execution_id = (char *)id, .taskrun_id = (char *)paused_run,
                                .command = KT_CMD_RESUME, .data = typed};
    kt_msg_encode_exec_command(&o, &body);
    kt_status sent = kt_node_send(kt_actor_node(w->self), KT_EXECUTOR_ACTOR, &o);
    if (sent) {
        kt_api_executor_unavailable(r, sent);
        goto done;
    }
    kt_http_send_empty(r, 204);
    ok = 1;
done:
    kt_diags_clear(&d);
    json_decref(typed);
    return ok;
}

/* 1 when a part of form is a file for one of the inputs defs declares (its filename attribute is the input id). */
static int kt_api_has_file_input(const kt_multipart *form, const json_t *defs)
{
    for (size_t i = 0; form && i < kt_multipart_count(form); i++) {
        const char *fn = kt_multipart_get(form, i)->filename;
        size_t k;
        const json_t *def;
        json_array_foreach(defs, k, def) {
            const char *iid = kt_input_id(def);
            if (fn && iid && !strcmp(fn, iid))
                return 1;
        }
    }
    return 0;
}

/* POST /api/v1/executions/{executionId}/resume: the onResume inputs of the paused task are checked here, as at
 * creation; FILE parts are stored first as at creation (under the execution's inputs folder, api_create.c), their
 * kestra:// URIs the inputs' values; the executor resumes it. 204. */
void kt_api_execution_resume(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    const char *id = kt_http_param(r, "executionId");
    char msg[512];
    json_t *ex = NULL, *raw = NULL;
    kt_multipart *form = NULL;
    kt_flow *f = NULL;
    kt_status st = kt_store_execution_get(w->store, id, &ex);
    if (st == KT_ENOTFOUND) {
        if (kt_api_create_fallback(w, r))
            goto done;
        snprintf(msg, sizeof msg, "Not Found: Execution '%s' not found.", id);
        kt_http_send_error(r, 404, msg, NULL);
        goto done;
    }
    if (st) {
        kt_api_send_db_error(w, r);
        goto done;
    }
    if (strcmp(kt_state_current(ex), KT_S(PAUSED))) {
        snprintf(msg, sizeof msg, "Illegal state: Execution '%s' is not paused, can't resume it", id);
        kt_http_send_error(r, 409, msg, NULL);
        goto done;
    }
    const char *paused_run = "";
    const json_t *defs = NULL;
    size_t i;
    json_t *tr;
    f = kt_api_execution_flow(w, ex);
    json_array_foreach(json_object_get(ex, "taskRunList"), i, tr) {
        if (!strcmp(kt_state_current(tr), KT_S(PAUSED))) {
            paused_run = json_string_value(json_object_get(tr, "id"));
            const json_t *task = f ? kt_exec_find_task(kt_flow_json(f), json_string_value(json_object_get(tr, "taskId"))) : NULL;
            defs = json_object_get(task, "onResume");
            break;
        }
    }
    if (!(raw = kt_api_form_inputs(r, &form)))
        goto done;
    if (kt_api_has_file_input(form, defs)) { /* the uploads first; it owns everything from here */
        kt_api_resume_uploads(w, r, ex, f, defs, paused_run ? paused_run : "", raw, form);
        return;
    }
    kt_api_resume_send(w, r, id, paused_run, defs, raw);
done:
    kt_multipart_free(form);
    kt_flow_free(f);
    json_decref(ex);
    json_decref(raw);
}

/* ---- searches ------------------------------------------------------------------------------------ */

int kt_api_exec_filter_read(kt_http_req *r, kt_api_exec_filter *f, int paging)
{
    memset(f, 0, sizeof *f);
    f->q.sort_desc = 1;
    if (paging && kt_api_paging(r, &f->q.page, &f->q.size))
        return -1;
    f->q.namespace_ = kt_http_query(r, "namespace");
    f->q.flow_id = kt_http_query(r, "flowId");
    f->q.q = kt_http_query(r, "q");
    if (f->q.namespace_ && !*f->q.namespace_)
        f->q.namespace_ = NULL;
    if (f->q.flow_id && !*f->q.flow_id)
        f->q.flow_id = NULL;
    if (f->q.q && !*f->q.q)
        f->q.q = NULL;
    if (!strcmp(kt_http_path(r), "/api/v1/executions") && (!f->q.namespace_ || !f->q.flow_id)) {
        kt_http_send_error(r, 400, !f->q.namespace_ ? "Bad Request: Required QueryValue [namespace] not specified"
                                                 : "Bad Request: Required QueryValue [flowId] not specified",
                           NULL);
        return -1;
    }
    const char **states = f->states;
    f->q.nstates = kt_http_query_all(r, "state", states, 16);
    if (f->q.nstates > 16)
        f->q.nstates = 16;
    f->q.states = states;
    for (size_t i = 0; i < f->q.nstates && i < 16; i++)
        if (!kt_state_is_valid(states[i])) {
            char msg[256];
            snprintf(msg, sizeof msg, "Invalid format: '%s' is not a state", states[i]);
            kt_http_send_error(r, 422, msg, NULL);
            return -1;
        }
    const char **labels = f->labels;
    int bad;
    f->q.nlabels = kt_api_label_filters(r, labels, f->lbuf, sizeof f->lbuf, &bad);
    if (bad)
        return -1;
    f->q.labels = labels;
    const char *sorts[4];
    if (kt_http_query_all(r, "sort", sorts, 4) > 0) {
        const char *colon = strchr(sorts[0], ':');
        char field[64];
        if (!colon || strchr(colon + 1, ':') || (size_t)(colon - sorts[0]) >= sizeof field) {
            kt_http_send_error(r, 422, "Invalid sort parameter", NULL);
            return -1;
        }
        snprintf(field, sizeof field, "%.*s", (int)(colon - sorts[0]), sorts[0]);
        f->q.sort_column = kt_store_exec_sort_column(field);
        f->q.sort_desc = strcmp(colon + 1, "asc") != 0;
    }
    const char *sd = kt_http_query(r, "startDate"), *ed = kt_http_query(r, "endDate"), *tr = kt_http_query(r, "timeRange");
    if ((sd && kt_time_parse(sd, &f->q.start_from_us)) || (ed && kt_time_parse(ed, &f->q.start_to_us))) {
        kt_http_send_error(r, 422, "Invalid format: dates are ISO-8601 (yyyy-MM-ddTHH:mm[:ss][.SSS][XXX])", NULL);
        return -1;
    }
    if (sd && ed && f->q.start_from_us > f->q.start_to_us) {
        kt_http_send_error(r, 422, "Illegal argument: Start date must be before End Date", NULL);
        return -1;
    }
    if (tr) {
        int64_t range;
        if (sd) {
            kt_http_send_error(r, 422, "Illegal argument: Parameters 'startDate' and 'timeRange' are mutually exclusive",
                               NULL);
            return -1;
        }
        if (kt_duration_parse(tr, &range)) {
            kt_http_send_error(r, 422, "Invalid format: timeRange is an ISO-8601 duration (PT5M, P1D)", NULL);
            return -1;
        }
        f->q.start_from_us = kt_now_us() - range;
    }
    return 0;
}

typedef struct kt_api_exec_search {
    kt_api_exec_filter filter;
    kt_api_strs strs;
    json_t *results;
    int64_t total;
} kt_api_exec_search;

static kt_status kt_api_exec_search_read(kt_store *s, void *ud)
{
    kt_api_exec_search *j = ud;
    return kt_store_executions_search(s, &j->filter.q, &j->results, &j->total);
}

static void kt_api_exec_search_free(void *ud)
{
    kt_api_exec_search *j = ud;
    kt_api_strs_clear(&j->strs);
    json_decref(j->results);
    free(j);
}

static void kt_api_exec_searched(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    (void)w;
    kt_api_exec_search *j = ud;
    if (kt_api_read_failed(r, st, err, NULL, NULL))
        return;
    json_t *presented = json_array();
    size_t i;
    json_t *ex;
    int64_t now = kt_now_us();
    json_array_foreach(j->results, i, ex) json_array_append_new(presented, kt_execution_present(ex, now));
    kt_http_send_json(r, 200, json_pack("{s:o, s:I}", "results", presented, "total", (json_int_t)j->total));
}

void kt_api_execution_search(kt_http_req *r, void *ud)
{
    kt_api_exec_search *j = kt_xcalloc(1, sizeof *j);
    if (kt_api_exec_filter_read(r, &j->filter, 1)) {
        free(j);
        return;
    }
    kt_api_exec_filter_keep(&j->filter, &j->strs);
    kt_api_read(ud, r, kt_api_exec_search_read, kt_api_exec_searched, j, kt_api_exec_search_free);
}
