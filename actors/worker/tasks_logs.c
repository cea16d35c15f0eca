/* log.Fetch (io.kestra.plugin.core.log.Fetch, KESTRA-model.md §6.2): the log entries of an execution (the current one
 * by default) into an Ion file of the task run's storage, one entry per record, and their count. The worker has no
 * store: it asks the executor, which holds the logs (KT_MSG_TASK_ASK op "logs.fetch", runtime/msg.h; actors/executor/task_requests.c). */
#include "actors/worker/tasks_ask.h"
#include "actors/worker/tasks_storage.h"
#include "base/json.h"
#include "expr/expr.h"
#include "store/storage.h"

#include <stdlib.h>
#include <string.h>

typedef struct kt_fetch {
    kt_task_run *r;
    kt_storage_writer *w;
    char *text; /* the Ion records, written in one go */
    size_t len;
    json_int_t size;
    int committing, killed; /* a kill during the commit lets it end (the writer is the commit's then) */
    char uri[KT_ST_URI];
} kt_fetch;

static void kt_fetch_free(kt_fetch *f)
{
    if (!f)
        return;
    kt_storage_writer_abort(f->w);
    free(f->text);
    free(f);
}

static void kt_fetch_fail(kt_task_run *r, const char *state)
{
    kt_fetch *f = kt_task_data(r);
    kt_task_set_data(r, NULL);
    kt_fetch_free(f);
    kt_task_finish(r, state, NULL);
}

static void kt_fetch_committed(kt_status st, const char *err, void *data)
{
    kt_fetch *f = data;
    kt_task_run *r = f->r;
    f->w = NULL; /* freed by the commit */
    if (f->killed) {
        kt_fetch_fail(r, KT_S(KILLED));
        return;
    }
    if (st) {
        kt_task_logf(r, "ERROR", "Unable to write %s: %s", f->uri, err && *err ? err : kt_strerror(st));
        kt_fetch_fail(r, KT_S(FAILED));
        return;
    }
    json_t *out = json_pack("{s:s, s:I}", "uri", f->uri, "size", f->size);
    kt_task_set_data(r, NULL);
    kt_fetch_free(f);
    kt_task_finish(r, KT_S(SUCCESS), out);
}

static void kt_fetch_written(kt_status st, const char *err, void *data)
{
    kt_fetch *f = data;
    char e[512] = "";
    if (!st) {
        st = kt_storage_writer_commit(f->w, kt_fetch_committed, f);
        f->committing = !st;
    }
    if (st) {
        snprintf(e, sizeof e, "%s", err && *err ? err : kt_strerror(st));
        kt_task_logf(f->r, "ERROR", "Unable to write %s: %s", f->uri, e);
        kt_fetch_fail(f->r, KT_S(FAILED));
    }
}

static void kt_fetch_replied(kt_task_run *r, const kt_msg_reply *rep)
{
    kt_fetch *f = kt_task_data(r);
    if (kt_ask_failed(r, rep)) {
        kt_fetch_fail(r, KT_S(FAILED));
        return;
    }
    const json_t *entries = json_object_get(rep->data, "entries");
    if (json_is_true(json_object_get(rep->data, "truncated")))
        kt_task_logf(r, "WARN", "Too many log lines to fetch at once: the file holds the first %zu",
                     json_array_size(entries));
    kt_buf b = {0};
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e) { /* FileSerde.write: one Ion value, then a line break */
        kt_ion_write(&b, e);
        kt_buf_putc(&b, '\n');
    }
    f->len = b.len;
    f->text = kt_buf_take(&b);
    f->size = (json_int_t)json_array_size(entries);
    char name[64], err[512] = "";
    kt_st_temp_name(".ion", name, sizeof name);
    kt_storage *s = kt_st_storage(r);
    if (!s || kt_st_taskrun_file(r, name, f->uri, sizeof f->uri)) {
        kt_fetch_fail(r, KT_S(FAILED));
        return;
    }
    kt_status st = kt_storage_writer_open(s, f->uri, NULL, &f->w, err, sizeof err);
    if (!st)
        st = kt_storage_write(f->w, f->text, f->len, kt_fetch_written, f);
    if (st) {
        kt_task_logf(r, "ERROR", "Unable to write %s: %s", f->uri, err[0] ? err : kt_strerror(st));
        kt_fetch_fail(r, KT_S(FAILED));
    }
}

static void kt_fetch_start(kt_task_run *r)
{
    const char *ns, *flow_id, *exec_id, *level = kt_task_prop_string(r, "level");
    const json_t *tasks = json_object_get(kt_task_props(r), "tasksId");
    if (kt_ask_target(r, &ns, &flow_id, &exec_id)) {
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    if (tasks && !json_is_null(tasks) && !json_is_array(tasks)) {
        kt_task_logf(r, "ERROR", "tasksId: must be a list of task ids");
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    kt_fetch *f = calloc(1, sizeof *f);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:s}", "op", "logs.fetch", "executionId", exec_id ? exec_id : "",
                             "namespace", ns ? ns : "", "flowId", flow_id ? flow_id : "", "minLevel",
                             level ? level : "INFO");
    if (!f || !body) {
        free(f);
        json_decref(body);
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    if (json_is_array(tasks))
        json_object_set(body, "tasksId", (json_t *)tasks);
    f->r = r;
    kt_task_set_data(r, f);
    int bad = kt_ask_executor(r, body, kt_fetch_replied);
    json_decref(body);
    if (bad)
        kt_fetch_fail(r, KT_S(FAILED));
}

/* A kill while waiting or writing: the attempt ends now, nothing is written (the writer is aborted); during the
 * commit, the attempt ends KILLED when the commit does. */
static void kt_fetch_kill(kt_task_run *r)
{
    kt_fetch *f = kt_task_data(r);
    if (f && f->committing) {
        f->killed = 1;
        return;
    }
    kt_fetch_fail(r, KT_S(KILLED));
}

const kt_task_impl kt_task_log_fetch_impl = {.type = "io.kestra.plugin.core.log.Fetch", .start = kt_fetch_start,
                                             .kill = kt_fetch_kill};
