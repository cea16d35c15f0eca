/* logs.fetch (the executor's side of log.Fetch, KT_MSG_TASK_ASK): an execution's log lines as Kestra's LogRepository
 * findByExecutionId / findByExecutionIdAndTaskId give them, read from the store page by page and cut at a byte
 * budget, so the lines held never exceed the budget plus one page whatever the execution logged. */
#ifndef KT_ACTORS_LOG_FETCH_H
#define KT_ACTORS_LOG_FETCH_H

#include "base/status.h"
#include "store/store.h"

#include <jansson.h>
#include <stddef.h>

/* Lines read from the store at a time. */
#define KT_LOG_FETCH_PAGE 500

/* req {executionId, namespace, flowId, minLevel?, tasksId?}: the stored lines, then those of `pending` (this turn's
 * uncommitted LogEntry objects, may be NULL), that belong to the execution, flow and namespace, at minLevel or above;
 * task by task in tasksId's order when it is given. Each line counts its message's length plus 256 bytes against
 * max_bytes: the first line over it stops the reading and the answer says {truncated: true}.
 * *out = {entries: [LogEntry], truncated}. KT_EINVAL for a malformed request, KT_EDB when the store fails (err
 * says which). */
kt_status kt_log_fetch(kt_store *store, const json_t *pending, const json_t *req, size_t max_bytes, json_t **out,
                       char *err, size_t cap);

#endif
