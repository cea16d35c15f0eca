/* Pause, unqueue and force-run (ExecutionController, ExecutionService.pause/forceRun, ConcurrencyLimitService):
 * checked against the stored execution here with Kestra's messages, carried out by the executor (the commands of
 * runtime/command.h), one at a time or in bulk (…/by-ids, …/by-query, api_exec_bulk.c's collection). Unqueue and
 * force-run answer the execution as Kestra does, the one it emits: the state it is given, before the executor
 * processes it. */
#include "actors/executor/executor.h"
#include "base/clock.h"
#include "flow/model.h"
#include "flow/state.h"
#include "web/api_int.h"

#include <stdio.h>
#include <string.h>

static void kt_api_command_answer(kt_webserver *w, kt_http_req *r, json_t *ex, kt_cmd cmd, const char *new_state)
{
    kt_status st = kt_api_send_command(w, json_string_value(json_object_get(ex, "id")), NULL, cmd, NULL);
    if (st) {
        char msg[200];
        snprintf(msg, sizeof msg, "Service Unavailable: the executor cannot take the command (%s)", kt_strerror(st));
        kt_http_send_error(r, 503, msg, NULL);
    } else if (!new_state) {
        kt_http_send_empty(r, 200);
    } else {
        int64_t now = kt_now_us();
        kt_state_set(json_object_get(ex, "state"), new_state, now);
        kt_http_send_json(r, 200, kt_execution_present(ex, now));
    }
    json_decref(ex);
}

/* ---- the checks: NULL when the execution may go through, else Kestra's message (bulk) ---------------------------- */

static const char *kt_pause_check(const json_t *ex, void *ud)
{
    (void)ud;
    if (!ex)
        return "execution not found";
    const char *cur = kt_state_current(ex); /* Kestra's State.isRunning(): RUNNING or KILLING */
    return strcmp(cur, KT_S(RUNNING)) && strcmp(cur, KT_S(KILLING)) ? "execution not in state RUNNING" : NULL;
}

static const char *kt_unqueue_check(const json_t *ex, void *ud)
{
    (void)ud;
    if (!ex)
        return "execution not found";
    return strcmp(kt_state_current(ex), KT_S(QUEUED)) ? "execution not in state QUEUED" : NULL;
}

static const char *kt_force_check(const json_t *ex, void *ud)
{
    (void)ud;
    if (!ex)
        return "execution not found";
    return kt_api_is_terminated(ex) ? "execution in a terminated state" : NULL;
}

/* The state force-run gives (Kestra's forceRun): CREATED (RESTARTED counts as created) and QUEUED run; PAUSED
 * resumes, RESTARTED through markAs when a task run is paused, RUNNING for a pause made through the API; the others
 * stay. */
static const char *kt_forced_state(const json_t *ex)
{
    const char *cur = kt_state_current(ex);
    if (!strcmp(cur, KT_S(CREATED)) || !strcmp(cur, KT_S(QUEUED)) || !strcmp(cur, KT_S(RESTARTED)))
        return KT_S(RUNNING);
    if (!strcmp(cur, KT_S(PAUSED))) {
        size_t i;
        json_t *tr;
        json_array_foreach(json_object_get(ex, "taskRunList"), i, tr) if (!strcmp(kt_state_current(tr), KT_S(PAUSED)))
            return KT_S(RESTARTED);
        return KT_S(RUNNING);
    }
    return cur;
}

/* ---- single ------------------------------------------------------------------------------------------------------ */

/* POST /api/v1/executions/{executionId}/pause: 200 empty; 422 `The execution is not running` */
static void kt_api_execution_pause_with(kt_webserver *w, kt_http_req *r, json_t *ex)
{
    if (kt_pause_check(ex, NULL)) {
        kt_http_send_error(r, 422, "Illegal argument: The execution is not running", NULL);
        json_decref(ex);
        return;
    }
    kt_api_command_answer(w, r, ex, KT_CMD_PAUSE, NULL);
}

void kt_api_execution_pause(kt_http_req *r, void *ud)
{
    kt_api_path_execution_then(ud, r, "Not Found", kt_api_execution_pause_with);
}

/* POST /api/v1/executions/{executionId}/unqueue: the queued execution runs now, whatever the concurrency limit */
static void kt_api_execution_unqueue_with(kt_webserver *w, kt_http_req *r, json_t *ex)
{
    if (kt_unqueue_check(ex, NULL)) {
        kt_http_send_error(r, 422, "Illegal argument: Only QUEUED execution can be unqueued", NULL);
        json_decref(ex);
        return;
    }
    kt_api_command_answer(w, r, ex, KT_CMD_UNQUEUE, KT_S(RUNNING));
}

void kt_api_execution_unqueue(kt_http_req *r, void *ud)
{
    kt_api_path_execution_then(ud, r, "Not Found", kt_api_execution_unqueue_with);
}

/* POST /api/v1/executions/{executionId}/force-run: a scheduled one starts, a queued one runs, a paused one resumes */
static void kt_api_execution_force_run_with(kt_webserver *w, kt_http_req *r, json_t *ex)
{
    if (kt_force_check(ex, NULL)) {
        kt_http_send_error(r, 422, "Illegal argument: Only non terminated executions can be forced run.", NULL);
        json_decref(ex);
        return;
    }
    const char *to = kt_forced_state(ex);
    kt_api_command_answer(w, r, ex, KT_CMD_FORCE_RUN, to);
}

void kt_api_execution_force_run(kt_http_req *r, void *ud)
{
    kt_api_path_execution_then(ud, r, "Not Found", kt_api_execution_force_run_with);
}

/* ---- bulk -------------------------------------------------------------------------------------------------------- */

static void kt_api_bulk_command(kt_http_req *r, kt_webserver *w, int by_ids, const char *op, kt_api_bulk_check check,
                                kt_cmd cmd)
{
    json_t *body = by_ids ? kt_api_json_request(r) : NULL;
    if (by_ids && !body)
        return;
    json_t *exs = kt_api_bulk_collect(w, r, body, op, check, NULL);
    json_decref(body);
    if (exs)
        kt_api_bulk_commands(w, r, exs, cmd, NULL, NULL);
}

void kt_api_bulk_pause_by_ids(kt_http_req *r, void *ud) { kt_api_bulk_command(r, ud, 1, "pause", kt_pause_check, KT_CMD_PAUSE); }
void kt_api_bulk_pause_by_query(kt_http_req *r, void *ud) { kt_api_bulk_command(r, ud, 0, "pause", kt_pause_check, KT_CMD_PAUSE); }
void kt_api_bulk_unqueue_by_ids(kt_http_req *r, void *ud)
{
    kt_api_bulk_command(r, ud, 1, "unqueue", kt_unqueue_check, KT_CMD_UNQUEUE);
}
void kt_api_bulk_unqueue_by_query(kt_http_req *r, void *ud)
{
    kt_api_bulk_command(r, ud, 0, "unqueue", kt_unqueue_check, KT_CMD_UNQUEUE);
}
void kt_api_bulk_force_run_by_ids(kt_http_req *r, void *ud)
{
    kt_api_bulk_command(r, ud, 1, "force run", kt_force_check, KT_CMD_FORCE_RUN);
}
void kt_api_bulk_force_run_by_query(kt_http_req *r, void *ud)
{
    kt_api_bulk_command(r, ud, 0, "force run", kt_force_check, KT_CMD_FORCE_RUN);
}

/* ---- bulk restart, replay, change-status (the executor's manual changes, api_exec_restart.c for one) -------------- */

static const char *kt_restart_check(const json_t *ex, void *ud)
{
    (void)ud;
    if (!ex)
        return "execution not found";
    return strcmp(kt_state_current(ex), KT_S(FAILED)) ? "execution not in state FAILED" : NULL;
}

static const char *kt_exists_check(const json_t *ex, void *ud)
{
    (void)ud;
    return ex ? NULL : "execution not found";
}

static const char *kt_terminated_check(const json_t *ex, void *ud)
{
    (void)ud;
    if (!ex)
        return "execution not found";
    return kt_api_is_terminated(ex) ? NULL : "execution not in a terminated state";
}

void kt_api_bulk_restart_by_ids(kt_http_req *r, void *ud)
{
    kt_api_bulk_command(r, ud, 1, "restart", kt_restart_check, KT_CMD_RESTART);
}
void kt_api_bulk_restart_by_query(kt_http_req *r, void *ud)
{
    kt_api_bulk_command(r, ud, 0, "restart", kt_restart_check, KT_CMD_RESTART);
}
/* Kestra's bulk replay keeps the revision and replays from the start */
void kt_api_bulk_replay_by_ids(kt_http_req *r, void *ud) { kt_api_bulk_command(r, ud, 1, "replay", kt_exists_check, KT_CMD_REPLAY); }
void kt_api_bulk_replay_by_query(kt_http_req *r, void *ud)
{
    kt_api_bulk_command(r, ud, 0, "replay", kt_exists_check, KT_CMD_REPLAY);
}

static json_t *kt_status_data(kt_webserver *w, const json_t *ex, void *status, const char **taskrun)
{
    (void)w, (void)ex, (void)taskrun;
    return json_pack("{s:s}", "status", (const char *)status);
}

/* ?newStatus= (required, a terminal state) then the executions, each terminated */
static void kt_api_bulk_change_status(kt_http_req *r, kt_webserver *w, int by_ids)
{
    const char *st = kt_api_terminal_state_param(r, "newStatus");
    if (!st)
        return;
    json_t *body = by_ids ? kt_api_json_request(r) : NULL;
    if (by_ids && !body)
        return;
    json_t *exs = kt_api_bulk_collect(w, r, body, "change status", kt_terminated_check, NULL);
    json_decref(body);
    if (!exs)
        return;
    kt_api_bulk_commands(w, r, exs, KT_CMD_CHANGE_STATUS, kt_status_data, (void *)st);
}

void kt_api_bulk_change_status_by_ids(kt_http_req *r, void *ud) { kt_api_bulk_change_status(r, ud, 1); }
void kt_api_bulk_change_status_by_query(kt_http_req *r, void *ud) { kt_api_bulk_change_status(r, ud, 0); }
