/* The log endpoints of Kestra's API (/api/v1/logs, LogController): an execution's task logs filtered by level, task,
 * task run and attempt (as JSON, or downloaded as text page by page), the search across executions, and the two
 * deletions. Following is in api_follow.c. */
#include "base/alloc.h"
#include "base/clock.h"
#include "store/store.h"
#include "base/json.h"
#include "web/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Lines read from the store per step of a download: one page in memory at a time. */
#define KT_LOGS_DOWNLOAD_PAGE 500

/* ---- logs ---------------------------------------------------------------------------------------- */

/* minLevel (a known level or absent) into *min; -1 after answering 422. */
static int kt_api_min_level(kt_http_req *r, const char **min)
{
    *min = kt_http_query(r, "minLevel");
    if (*min && !**min)
        *min = NULL;
    if (*min && kt_store_level_rank(*min) < 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "Invalid format: '%.100s' is not a log level (TRACE, DEBUG, INFO, WARN, ERROR)", *min);
        kt_http_send_error(r, 422, msg, NULL);
        return -1;
    }
    return 0;
}

/* The execution filter shared by get, download and delete; -1 after answering 422. */
static int kt_api_log_filter(kt_http_req *r, kt_log_filter *f)
{
    *f = (kt_log_filter){.taskrun_id = kt_http_query(r, "taskRunId"), .task_id = kt_http_query(r, "taskId"),
                         .attempt = -1};
    if (f->taskrun_id && !*f->taskrun_id)
        f->taskrun_id = NULL;
    if (f->task_id && !*f->task_id)
        f->task_id = NULL;
    return kt_api_min_level(r, &f->min_level) || kt_api_int_param(r, "attempt", -1, &f->attempt) ? -1 : 0;
}

/* An execution's lines, read by a job: the filter's strings are kept copies. */
typedef struct kt_logs_job {
    kt_api_strs strs;
    const char *execution_id;
    kt_log_filter f;
    json_t *out;
} kt_logs_job;

static void kt_logs_job_free(void *ud)
{
    kt_logs_job *j = ud;
    kt_api_strs_clear(&j->strs);
    json_decref(j->out);
    free(j);
}

static kt_status kt_logs_get_read(kt_store *s, void *ud)
{
    kt_logs_job *j = ud;
    return kt_store_logs_get(s, j->execution_id, &j->f, &j->out);
}

static void kt_logs_got(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    (void)w;
    kt_logs_job *j = ud;
    if (kt_api_read_failed(r, st, err, NULL, NULL))
        return;
    kt_http_send_json(r, 200, j->out);
    j->out = NULL;
}

void kt_api_logs_get(kt_http_req *r, void *ud)
{
    kt_log_filter f;
    if (kt_api_log_filter(r, &f))
        return;
    kt_logs_job *j = kt_xcalloc(1, sizeof *j);
    j->execution_id = kt_api_keep(&j->strs, kt_http_param(r, "executionId"));
    j->f = (kt_log_filter){.min_level = kt_api_keep(&j->strs, f.min_level),
                           .taskrun_id = kt_api_keep(&j->strs, f.taskrun_id),
                           .task_id = kt_api_keep(&j->strs, f.task_id), .attempt = f.attempt};
    kt_api_read(ud, r, kt_logs_get_read, kt_logs_got, j, kt_logs_job_free);
}

/* ---- GET /api/v1/logs/{executionId}/download: text lines "<timestamp> <LEVEL> <message>" (LogEntry.toPrettyString),
 * streamed a page at a time, each page read by a job of the read pool ---------------------------------------------- */

typedef struct kt_logs_download {
    kt_webserver *w;
    kt_http_stream *stream;
    char *execution_id, *min_level, *taskrun_id, *task_id;
    int attempt;
    int64_t after; /* the job's while reading */
    int done;
    int reading, closed; /* a page being read; the stream ended under it (freed when the read completes) */
    json_t *page;
} kt_logs_download;

static void kt_logs_download_free(kt_logs_download *d)
{
    json_decref(d->page);
    free(d->execution_id);
    free(d->min_level);
    free(d->taskrun_id);
    free(d->task_id);
    free(d);
}

static void kt_logs_download_close(void *ud)
{
    kt_logs_download *d = ud;
    kt_http_sse_end(d->stream);
    d->closed = 1;
    if (!d->reading)
        kt_logs_download_free(d);
}

static kt_status kt_logs_download_read(kt_store *s, void *ud)
{
    kt_logs_download *d = ud;
    kt_log_filter f = {.min_level = d->min_level, .taskrun_id = d->taskrun_id, .task_id = d->task_id,
                       .attempt = d->attempt};
    return kt_store_logs_page(s, d->execution_id, &f, &d->after, KT_LOGS_DOWNLOAD_PAGE, &d->page);
}

static void kt_logs_download_page(kt_status st, void *ud)
{
    kt_logs_download *d = ud;
    d->reading = 0;
    if (d->closed) {
        kt_logs_download_free(d);
        return;
    }
    if (st != KT_OK) {
        kt_http_body_abort(d->stream); /* the headers are out: the client sees the body cut */
        kt_logs_download_free(d);
        return;
    }
    kt_buf b = {0};
    size_t i;
    json_t *e;
    json_array_foreach(d->page, i, e) {
        const char *ts = json_string_value(json_object_get(e, "timestamp")),
                   *lvl = json_string_value(json_object_get(e, "level")),
                   *msg = json_string_value(json_object_get(e, "message"));
        kt_buf_printf(&b, "%s %s %s\n", ts ? ts : "", lvl ? lvl : "INFO", msg ? msg : "");
    }
    d->done = json_array_size(d->page) < KT_LOGS_DOWNLOAD_PAGE;
    json_decref(d->page);
    d->page = NULL;
    if (b.len)
        kt_http_body_write(d->stream, b.p, b.len);
    free(b.p);
    if (!b.len) { /* nothing more to write: on_drain would not come again */
        kt_http_sse_end(d->stream);
        kt_logs_download_free(d);
    }
}

static void kt_logs_download_drain(void *ud)
{
    kt_logs_download *d = ud;
    if (d->done) {
        kt_http_sse_end(d->stream);
        kt_logs_download_free(d);
        return;
    }
    if (d->reading)
        return;
    kt_status st = d->w->pool ? kt_db_read(d->w->pool, kt_logs_download_read, kt_logs_download_page, d) : KT_EINVAL;
    if (st == KT_OK) {
        d->reading = 1;
        return;
    }
    if (st == KT_ECLOSED) { /* stopping */
        kt_http_body_abort(d->stream);
        kt_logs_download_free(d);
        return;
    }
    /* no pool, or a full one: a download under way is not cut for that, this page is read here */
    kt_logs_download_page(kt_logs_download_read(d->w->store, d), d);
}

static char *kt_dup_or_null(const char *s) { return s ? kt_xstrdup(s) : NULL; }

void kt_api_logs_download(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    kt_log_filter f;
    if (kt_api_log_filter(r, &f))
        return;
    const char *id = kt_http_param(r, "executionId");
    kt_logs_download *d = kt_xcalloc(1, sizeof *d);
    d->w = w;
    d->execution_id = kt_xstrdup(id);
    d->min_level = kt_dup_or_null(f.min_level);
    d->taskrun_id = kt_dup_or_null(f.taskrun_id);
    d->task_id = kt_dup_or_null(f.task_id);
    d->attempt = f.attempt;
    kt_api_attachment(r, id, ".log");
    d->stream = kt_http_body_start(r, 200, "text/plain", -1, kt_logs_download_drain, kt_logs_download_close, d);
    if (!d->stream)
        kt_logs_download_free(d);
}

/* ---- GET /api/v1/logs/search ------------------------------------------------------------------------------- */

typedef struct kt_logs_search {
    kt_api_strs strs;
    kt_log_query q;
    json_t *results;
    int64_t total;
} kt_logs_search;

static void kt_logs_search_free(void *ud)
{
    kt_logs_search *j = ud;
    kt_api_strs_clear(&j->strs);
    json_decref(j->results);
    free(j);
}

static kt_status kt_logs_search_read(kt_store *s, void *ud)
{
    kt_logs_search *j = ud;
    return kt_store_logs_search(s, &j->q, &j->results, &j->total);
}

static void kt_logs_searched(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    (void)w;
    kt_logs_search *j = ud;
    if (kt_api_read_failed(r, st, err, NULL, NULL))
        return;
    kt_http_send_json(r, 200, json_pack("{s:O, s:I}", "results", j->results, "total", (json_int_t)j->total));
}

void kt_api_logs_search(kt_http_req *r, void *ud)
{
    kt_log_query q = {.q = kt_http_query(r, "q"), .namespace_ = kt_http_query(r, "namespace"),
                      .flow_id = kt_http_query(r, "flowId"), .trigger_id = kt_http_query(r, "triggerId")};
    const char **empty[] = {&q.q, &q.namespace_, &q.flow_id, &q.trigger_id};
    for (size_t i = 0; i < sizeof empty / sizeof *empty; i++)
        if (*empty[i] && !**empty[i])
            *empty[i] = NULL;
    if (kt_api_min_level(r, &q.min_level) || kt_api_paging(r, &q.page, &q.size))
        return;
    const char *sort = kt_http_query(r, "sort");
    if (sort) { /* timestamp:asc|desc, Kestra's only useful order for lines */
        const char *colon = strchr(sort, ':');
        if (!colon || strncmp(sort, "timestamp", (size_t)(colon - sort)) || (strcmp(colon + 1, "asc") &&
                                                                              strcmp(colon + 1, "desc"))) {
            kt_http_send_error(r, 422, "Invalid sort parameter", NULL);
            return;
        }
        q.sort_desc = !strcmp(colon + 1, "desc");
    }
    const char *sd = kt_http_query(r, "startDate"), *ed = kt_http_query(r, "endDate");
    if ((sd && *sd && kt_time_parse(sd, &q.from_us)) || (ed && *ed && kt_time_parse(ed, &q.to_us))) {
        kt_http_send_error(r, 422, "Invalid format: dates are ISO-8601 (yyyy-MM-ddTHH:mm[:ss][.SSS][XXX])", NULL);
        return;
    }
    if (q.from_us && q.to_us && q.from_us > q.to_us) {
        kt_http_send_error(r, 422, "Illegal argument: Start date must be before End Date", NULL);
        return;
    }
    kt_logs_search *j = kt_xcalloc(1, sizeof *j);
    j->q = q;
    const char **keep[] = {&j->q.q, &j->q.namespace_, &j->q.flow_id, &j->q.trigger_id, &j->q.min_level};
    for (size_t i = 0; i < sizeof keep / sizeof *keep; i++)
        *keep[i] = kt_api_keep(&j->strs, *keep[i]);
    kt_api_read(ud, r, kt_logs_search_read, kt_logs_searched, j, kt_logs_search_free);
}

/* ---- DELETE /api/v1/logs/{executionId} and /api/v1/logs/{namespace}/{flowId}: 200 with no body ------------------ */

/* A deletion's job: an execution's lines (execution_id, f), or a flow's (ns, flow_id, trigger_id). */
typedef struct kt_logs_delete_job {
    kt_api_strs strs;
    const char *execution_id, *ns, *flow_id, *trigger_id;
    kt_log_filter f;
} kt_logs_delete_job;

static kt_status kt_logs_delete_run(kt_store *s, void *ud)
{
    kt_logs_delete_job *j = ud;
    return j->execution_id ? kt_store_logs_delete(s, j->execution_id, &j->f, NULL)
                           : kt_store_logs_delete_flow(s, j->ns, j->flow_id, j->trigger_id, NULL);
}

static void kt_logs_deleted(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    (void)w;
    (void)ud;
    if (!kt_api_read_failed(r, st, err, NULL, NULL))
        kt_http_send_empty(r, 200);
}

static void kt_logs_delete_free(void *ud)
{
    kt_logs_delete_job *j = ud;
    kt_api_strs_clear(&j->strs);
    free(j);
}

void kt_api_logs_delete(kt_http_req *r, void *ud)
{
    kt_log_filter f;
    if (kt_api_log_filter(r, &f))
        return;
    kt_logs_delete_job *j = kt_xcalloc(1, sizeof *j);
    j->execution_id = kt_api_keep(&j->strs, kt_http_param(r, "executionId"));
    j->f = (kt_log_filter){.min_level = kt_api_keep(&j->strs, f.min_level),
                           .taskrun_id = kt_api_keep(&j->strs, f.taskrun_id),
                           .task_id = kt_api_keep(&j->strs, f.task_id), .attempt = f.attempt};
    if (!j->execution_id)
        j->execution_id = kt_api_keep(&j->strs, "");
    kt_api_txn(ud, r, kt_logs_delete_run, kt_logs_deleted, j, kt_logs_delete_free);
}

void kt_api_logs_delete_flow(kt_http_req *r, void *ud)
{
    const char *trigger = kt_http_query(r, "triggerId");
    kt_logs_delete_job *j = kt_xcalloc(1, sizeof *j);
    j->ns = kt_api_keep(&j->strs, kt_http_param(r, "namespace"));
    j->flow_id = kt_api_keep(&j->strs, kt_http_param(r, "flowId"));
    j->trigger_id = trigger && *trigger ? kt_api_keep(&j->strs, trigger) : NULL;
    kt_api_txn(ud, r, kt_logs_delete_run, kt_logs_deleted, j, kt_logs_delete_free);
}
