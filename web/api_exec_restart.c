/* The manual changes of an execution (KESTRA-system.md §1.2, KESTRA-execution.md §2.15): POST …/{id}/restart,
 * …/replay, …/change-status and …/state (markAs). Parameters are checked here with Kestra's texts; the change itself
 * is the executor's (actors/executor/manual.c): it is sent a command with a correlation id and the request is
 * answered with what the reply carries, the execution as changed (200), or the refusal (409 Illegal state, 422
 * Illegal argument, 404). */
#include "web/api_int.h"
#include "actors/names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "flow/model.h"
#include "runtime/command.h"

void kt_api_manual_reply(kt_http_req *r, const kt_msg_reply *rep)
{
    char msg[1200];
    const char *text = rep->message ? rep->message : kt_strerror((kt_status)rep->status);
    switch (rep->status) {
    case KT_OK:
        if (rep->data) {
            kt_http_send_json(r, 200, kt_execution_present(rep->data, kt_now_us()));
            return;
        }
        kt_http_send_error(r, 500, "Internal server error: the executor answered without the execution", NULL);
        return;
    case KT_ECONFLICT:
        snprintf(msg, sizeof msg, "Illegal state: %s", text);
        kt_http_send_error(r, 409, msg, NULL);
        return;
    case KT_EINVAL:
        snprintf(msg, sizeof msg, "Illegal argument: %s", text);
        kt_http_send_error(r, 422, msg, NULL);
        return;
    case KT_ENOTFOUND:
        snprintf(msg, sizeof msg, "Not Found: %s", text);
        kt_http_send_error(r, 404, msg, NULL);
        return;
    default:
        snprintf(msg, sizeof msg, "Internal server error: %s", text);
        kt_http_send_error(r, 500, msg, NULL);
    }
}

/* The command to the executor; r waits for its reply in w->pending. data is stolen (may be NULL). */
static void kt_api_manual_send(kt_webserver *w, kt_http_req *r, const char *id, kt_cmd cmd, const char *taskrun,
                               json_t *data)
{
    if (!kt_node_reachable(kt_actor_node(w->self), KT_EXECUTOR_ACTOR)) {
        kt_http_send_error(r, 503, "Service Unavailable: no executor is reachable", NULL);
        json_decref(data);
        return;
    }
    uint64_t corr = ++w->next_corr;
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, KT_EXECUTOR_ACTOR, kt_actor_address(w->self), corr);
    kt_msg_exec_command body = {.execution_id = (char *)id, .taskrun_id = (char *)(taskrun ? taskrun : ""),
                                .command = cmd, .data = data};
    kt_msg_encode_exec_command(&o, &body);
    json_decref(data);
    kt_status sent = kt_node_send(kt_actor_node(w->self), KT_EXECUTOR_ACTOR, &o);
    if (sent) {
        kt_http_send_error(r, 503,
                           sent == KT_EAGAIN ? "Service Unavailable: the executor is busy, try again later"
                                             : "Service Unavailable: no executor is reachable",
                           NULL);
        return;
    }
    kt_pending *p = kt_xcalloc(1, sizeof *p);
    p->req = kt_http_defer(r);
    if (p->req == r) /* r is a read's handle (kt_api_path_execution_then), lent for the call: p holds its own */
        kt_http_req_retain(p->req);
    p->manual = 1;
    char key[32];
    snprintf(key, sizeof key, "%llu", (unsigned long long)corr);
    kt_map_put(w->pending, key, p, NULL);
}

/* ?revision=N (0 when absent) checked against the flow's revisions as Kestra's controlRevision does: -1 answered. */
static int kt_api_manual_revision(kt_webserver *w, kt_http_req *r, const json_t *ex)
{
    int rev = 0;
    if (!kt_http_query(r, "revision"))
        return 0;
    if (kt_api_int_param(r, "revision", 0, &rev) < 0)
        return -1;
    const char *ns = json_string_value(json_object_get(ex, "namespace"));
    const char *fid = json_string_value(json_object_get(ex, "flowId"));
    kt_flow_row row;
    kt_status st = rev > 0 ? kt_store_flow_get_any(w->store, ns, fid, rev, &row) : KT_ENOTFOUND;
    if (st == KT_OK) {
        kt_flow_row_clear(&row);
        return rev;
    }
    if (st != KT_ENOTFOUND) {
        kt_api_send_db_error(w, r);
        return -1;
    }
    char msg[600];
    snprintf(msg, sizeof msg, "Not Found: Unable to find revision %d on flow %s.%s", rev, ns ? ns : "",
             fid ? fid : "");
    kt_http_send_error(r, 404, msg, NULL);
    return -1;
}

/* POST /api/v1/executions/{executionId}/restart[?revision=N]: the execution looked up through the pool */
static void kt_api_execution_restart_with(kt_webserver *w, kt_http_req *r, json_t *ex)
{
    int rev = kt_api_manual_revision(w, r, ex);
    json_decref(ex);
    if (rev < 0)
        return;
    kt_api_manual_send(w, r, kt_http_param(r, "executionId"), KT_CMD_RESTART,
                       NULL, rev ? json_pack("{s:i}", "revision", rev) : NULL);
}

void kt_api_execution_restart(kt_http_req *r, void *ud)
{
    kt_api_path_execution_then(ud, r, "Not Found", kt_api_execution_restart_with);
}

/* POST /api/v1/executions/{executionId}/replay[?taskRunId=…&revision=N] */
static void kt_api_execution_replay_with(kt_webserver *w, kt_http_req *r, json_t *ex)
{
    int rev = kt_api_manual_revision(w, r, ex);
    json_decref(ex);
    if (rev < 0)
        return;
    json_t *data = json_object();
    const char *trid = kt_http_query(r, "taskRunId");
    if (trid && *trid)
        json_object_set_new(data, "taskRunId", json_string(trid));
    if (rev)
        json_object_set_new(data, "revision", json_integer(rev));
    kt_api_manual_send(w, r, kt_http_param(r, "executionId"), KT_CMD_REPLAY, NULL, data);
}

void kt_api_execution_replay(kt_http_req *r, void *ud)
{
    kt_api_path_execution_then(ud, r, "Not Found", kt_api_execution_replay_with);
}

/* POST /api/v1/executions/{executionId}/change-status?status=S: the status is checked before the execution is looked
 * up, as Kestra's controller does. */
static void kt_api_execution_change_status_with(kt_webserver *w, kt_http_req *r, json_t *ex)
{
    json_decref(ex);
    const char *status = kt_api_terminal_state_param(r, "status"); /* checked already: valid */
    if (status)
        kt_api_manual_send(w, r, kt_http_param(r, "executionId"), KT_CMD_CHANGE_STATUS, NULL,
                           json_pack("{s:s}", "status", status));
}

void kt_api_execution_change_status(kt_http_req *r, void *ud)
{
    if (kt_api_terminal_state_param(r, "status")) /* checked before the lookup, as Kestra's */
        kt_api_path_execution_then(ud, r, "Not Found", kt_api_execution_change_status_with);
}

/* POST /api/v1/executions/{executionId}/state with {"taskRunId": "...", "state": "SUCCESS"}: markAs. The body, taken
 * with both members or answered 400/422; NULL then. */
static json_t *kt_api_mark_as_body(kt_http_req *r, const char **trid, const char **state)
{
    size_t len = 0;
    const char *text = kt_http_body(r, &len);
    json_error_t jerr;
    json_t *body = text ? json_loadb(text, len, 0, &jerr) : NULL;
    *trid = json_string_value(json_object_get(body, "taskRunId"));
    *state = json_string_value(json_object_get(body, "state"));
    if (!json_is_object(body) || !*trid || !*state) {
        kt_http_send_error(r, 400, "Bad Request: the body must be {\"taskRunId\": \"...\", \"state\": \"...\"}", NULL);
        json_decref(body);
        return NULL;
    }
    if (!kt_state_is_valid(*state)) {
        char msg[300];
        snprintf(msg, sizeof msg, "Invalid format: Cannot deserialize value of type `State.Type` from String \"%.200s\"",
                 *state);
        kt_http_send_error(r, 422, msg, NULL);
        json_decref(body);
        return NULL;
    }
    return body;
}

static void kt_api_execution_mark_as_with(kt_webserver *w, kt_http_req *r, json_t *ex)
{
    json_decref(ex);
    const char *trid, *state;
    json_t *body = kt_api_mark_as_body(r, &trid, &state); /* checked already: valid */
    if (!body)
        return;
    kt_api_manual_send(w, r, kt_http_param(r, "executionId"), KT_CMD_MARK_AS, trid,
                       json_pack("{s:s}", "state", state));
    json_decref(body);
}

void kt_api_execution_mark_as(kt_http_req *r, void *ud)
{
    const char *trid, *state;
    json_t *body = kt_api_mark_as_body(r, &trid, &state);
    if (!body)
        return;
    json_decref(body);
    kt_api_path_execution_then(ud, r, "Not Found", kt_api_execution_mark_as_with);
}
