/* Loop (Kestra 2.0) in the executor actor: the files of fetchType STORE. The step (step_loop.c) cannot write: for an
 * ended iteration with declared outputs it asks, through the Subflow channel (a spec with loopStore), for its outputs
 * as an Ion file, as Loop.computeIterationOutput stores them (one Ion value, then a line break). The file goes under
 * the Loop run's task-run folder as iteration-<index>.ion; once committed the parent hears its URI (a message, like a
 * Subflow child's end: the run may have moved meanwhile) and the step lists {item, outputs: {uri}} for the iteration.
 * A write that fails is said to the step too, which logs it. Writes in flight are dropped when the executor stops; the
 * step asks again for an iteration still unlisted when the execution is taken in again. */
#include "actors/executor/executor_int.h"
#include "base/alloc.h"
#include "base/log.h"
#include "base/clock.h"
#include "base/json.h"
#include "expr/expr.h"
#include "flow/model.h"
#include "store/storage.h"
#include "store/storage_uri.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kt_loop_write {
    kt_executor *ex;
    kt_storage_writer *w;
    json_t *data; /* what the parent hears: {loopRunId, iteration, item, uri} */
    char parent[KT_ID_LEN + 1];
    kt_buf body;
    kt_loop_write *next;
};

static void kt_loop_write_free(kt_loop_write *lw)
{
    kt_loop_write **pp = &lw->ex->loop_writes;
    while (*pp && *pp != lw)
        pp = &(*pp)->next;
    if (*pp)
        *pp = lw->next;
    json_decref(lw->data);
    free(lw->body.p);
    free(lw);
}

/* The write ended (err NULL: committed): the parent hears it. */
static void kt_loop_write_end(kt_loop_write *lw, const char *err)
{
    if (err) {
        json_object_del(lw->data, "uri");
        json_object_set_new(lw->data, "error", json_string(err));
    }
    kt_executor_send_ended(lw->ex, lw->parent, json_incref(lw->data));
    kt_loop_write_free(lw);
}

static void kt_loop_committed(kt_status st, const char *err, void *data)
{
    kt_loop_write *lw = data;
    lw->w = NULL; /* a commit frees the writer whatever its status */
    kt_loop_write_end(lw, st ? (err && *err ? err : "the internal storage refused the commit") : NULL);
}

static void kt_loop_wrote(kt_status st, const char *err, void *data)
{
    kt_loop_write *lw = data;
    char e[512];
    if (st) {
        snprintf(e, sizeof e, "%s", err && *err ? err : "the internal storage refused the write");
        kt_storage_writer_abort(lw->w);
        lw->w = NULL;
        kt_loop_write_end(lw, e);
        return;
    }
    if (kt_storage_writer_commit(lw->w, kt_loop_committed, lw)) {
        kt_storage_writer_abort(lw->w);
        lw->w = NULL;
        kt_loop_write_end(lw, "the internal storage refused the commit");
    }
}

void kt_executor_loop_store(kt_executor *ex, kt_run *parent, const char *taskrun_id, const json_t *spec)
{
    const json_t *pex = parent->execution;
    json_t *run = kt_taskrun_find(pex, taskrun_id);
    json_int_t iteration = json_integer_value(json_object_get(spec, "iteration"));
    kt_loop_write *lw = kt_xcalloc(1, sizeof *lw);
    lw->ex = ex;
    snprintf(lw->parent, sizeof lw->parent, "%s", json_string_value(json_object_get(pex, "id")) ?: "");
    lw->data = json_pack("{s:s, s:I, s:O?}", "loopRunId", taskrun_id, "iteration", iteration, "item",
                         json_object_get(spec, "item"));
    lw->next = ex->loop_writes;
    ex->loop_writes = lw;
    char dir[KT_SURI_PATH_MAX], uri[KT_SURI_PATH_MAX + 64], err[512] = "";
    if (!ex->storage) {
        kt_loop_write_end(lw, "this executor has no internal storage");
        return;
    }
    if (!run || kt_suri_taskrun_dir(json_string_value(json_object_get(pex, "namespace")),
                                    json_string_value(json_object_get(pex, "flowId")), lw->parent,
                                    json_string_value(json_object_get(run, "taskId")), taskrun_id, dir, sizeof dir)) {
        kt_loop_write_end(lw, "no storage location for the Loop run");
        return;
    }
    snprintf(uri, sizeof uri, "%s/iteration-%lld.ion", dir, (long long)iteration);
    json_object_set_new(lw->data, "uri", json_string(uri));
    kt_ion_write(&lw->body, json_object_get(spec, "outputs"));
    kt_buf_putc(&lw->body, '\n');
    if (kt_storage_writer_open(ex->storage, uri, NULL, &lw->w, err, sizeof err) ||
        kt_storage_write(lw->w, lw->body.p, lw->body.len, kt_loop_wrote, lw)) {
        if (lw->w)
            kt_storage_writer_abort(lw->w);
        lw->w = NULL;
        kt_loop_write_end(lw, err[0] ? err : "the internal storage refused the write");
    }
}

void kt_executor_loop_stored(kt_executor *ex, kt_run *parent, const json_t *data)
{
    char trid[KT_ID_LEN + 1];
    snprintf(trid, sizeof trid, "%s", json_string_value(json_object_get(data, "loopRunId")) ?: "");
    kt_exec_event ev = {.kind = KT_EV_CHILD_CREATED, .now_us = kt_now_us(), .taskrun_id = trid, .outputs = data,
                        .error = json_string_value(json_object_get(data, "error"))};
    kt_executor_apply(ex, parent, &ev);
}

void kt_executor_loop_stop(kt_executor *ex)
{
    while (ex->loop_writes) {
        kt_loop_write *lw = ex->loop_writes;
        if (lw->w)
            kt_storage_writer_abort(lw->w);
        lw->w = NULL;
        kt_loop_write_free(lw);
    }
}
