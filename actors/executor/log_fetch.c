/* logs.fetch, paged (actors/executor/log_fetch.h). Kestra streams the repository's lines into the task's file; the
 * executor answers the worker in one reply under the link's message cap, so it reads pages of KT_LOG_FETCH_PAGE lines
 * and stops at the first line over the budget instead of loading the whole execution first. */
#include "actors/executor/log_fetch.h"

#include <stdio.h>
#include <string.h>

typedef struct kt_lf {
    const char *ns, *flow_id, *exec_id, *task_id;
    int min;
    size_t bytes, max_bytes;
    int truncated;
    json_t *entries;
} kt_lf;

static int kt_lf_same(const json_t *e, const char *key, const char *want)
{
    const char *v = json_string_value(json_object_get(e, key));
    return v && !strcmp(v, want);
}

/* Appends the entries of `from` that belong to the request (task_id NULL: any task); stops at the budget. */
static void kt_lf_take(kt_lf *lf, const json_t *from)
{
    size_t i;
    json_t *e;
    json_array_foreach(from, i, e) {
        if (lf->truncated)
            return;
        if (!kt_lf_same(e, "executionId", lf->exec_id) || !kt_lf_same(e, "namespace", lf->ns) ||
            !kt_lf_same(e, "flowId", lf->flow_id) || (lf->task_id && !kt_lf_same(e, "taskId", lf->task_id)) ||
            kt_store_level_rank(json_string_value(json_object_get(e, "level"))) < lf->min)
            continue;
        const char *msg = json_string_value(json_object_get(e, "message"));
        lf->bytes += (msg ? strlen(msg) : 0) + 256;
        if (lf->bytes > lf->max_bytes) {
            lf->truncated = 1;
            return;
        }
        json_array_append(lf->entries, e);
    }
}

/* The stored lines of one task (or all), page after page until the store has no more or the budget is spent. */
static kt_status kt_lf_stored(kt_store *store, kt_lf *lf, const char *level)
{
    kt_log_filter f = {.min_level = level, .task_id = lf->task_id, .attempt = -1};
    int64_t after = 0;
    while (!lf->truncated) {
        json_t *page = NULL;
        kt_status st = kt_store_logs_page(store, lf->exec_id, &f, &after, KT_LOG_FETCH_PAGE, &page);
        if (st)
            return st;
        size_t n = json_array_size(page);
        kt_lf_take(lf, page);
        json_decref(page);
        if (n < KT_LOG_FETCH_PAGE)
            break;
    }
    return KT_OK;
}

kt_status kt_log_fetch(kt_store *store, const json_t *pending, const json_t *req, size_t max_bytes, json_t **out,
                       char *err, size_t cap)
{
    *out = NULL;
    const char *level = json_string_value(json_object_get(req, "minLevel"));
    const json_t *tasks = json_object_get(req, "tasksId");
    kt_lf lf = {.exec_id = json_string_value(json_object_get(req, "executionId")),
                .ns = json_string_value(json_object_get(req, "namespace")),
                .flow_id = json_string_value(json_object_get(req, "flowId")),
                .min = level ? kt_store_level_rank(level) : 0,
                .max_bytes = max_bytes};
    if (!lf.exec_id || !lf.ns || !lf.flow_id || lf.min < 0 || (tasks && !json_is_array(tasks))) {
        snprintf(err, cap, "malformed log fetch request");
        return KT_EINVAL;
    }
    lf.entries = json_array();
    size_t n = tasks ? json_array_size(tasks) : 1;
    kt_status st = KT_OK;
    for (size_t k = 0; k < n && !lf.truncated; k++) {
        lf.task_id = tasks ? json_string_value(json_array_get(tasks, k)) : NULL;
        if (tasks && !lf.task_id) {
            snprintf(err, cap, "tasksId: every element must be a string");
            st = KT_EINVAL;
            break;
        }
        st = kt_lf_stored(store, &lf, level);
        if (st) {
            snprintf(err, cap, "Unable to read the logs of execution %s: %s", lf.exec_id, kt_store_errmsg(store));
            break;
        }
        kt_lf_take(&lf, pending);
    }
    if (st) {
        json_decref(lf.entries);
        return st;
    }
    *out = json_pack("{s:o, s:b}", "entries", lf.entries, "truncated", lf.truncated);
    return KT_OK;
}
