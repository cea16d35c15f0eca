/* The log endpoints of Kestra's API (/api/v1/logs): an execution's task logs, filtered by level, task, task run and
 * attempt. Apart from the executions because Kestra's log API is its own controller (follow, download and delete
 * belong here when they come). */
#include "store/store.h"
#include "web/api_int.h"

#include <stdio.h>

/* ---- logs ---------------------------------------------------------------------------------------- */

void kt_api_logs_get(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    kt_log_filter f = {.min_level = kt_http_query(r, "minLevel"), .taskrun_id = kt_http_query(r, "taskRunId"),
                       .task_id = kt_http_query(r, "taskId"), .attempt = -1};
    if (f.min_level && !*f.min_level)
        f.min_level = NULL;
    if (f.min_level && kt_store_level_rank(f.min_level) < 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "Invalid format: '%s' is not a log level (TRACE, DEBUG, INFO, WARN, ERROR)",
                 f.min_level);
        kt_http_send_error(r, 422, msg, NULL);
        return;
    }
    if (kt_api_int_param(r, "attempt", -1, &f.attempt))
        return;
    json_t *list;
    if (kt_store_logs_get(w->store, kt_http_param(r, "executionId"), &f, &list) != KT_OK) {
        kt_api_send_db_error(w, r);
        return;
    }
    kt_http_send_json(r, 200, list);
}
