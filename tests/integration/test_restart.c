/* Restart, replay, change-status and markAs against a real server (issue 11, KESTRA-execution.md §2.15): a restarted
 * execution runs its failed task again (a task that fails while a KV key is missing, then succeeds once it is
 * there) and not the ones that had succeeded; a replay copies what came before its task run and runs the rest; a
 * terminated execution's status changed by hand; a failed task run marked SUCCESS lets the flow go on. Every answer
 * and the state after it are checked, with Kestra's refusals (404, 409, 422, 400). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define NS "io.kite.restart"
#define KV "/api/v1/namespaces/" NS "/kv"

/* `check` fails while the KV key `go` is missing (kv() errors), succeeds once it is there. `first` returns the id of
 * the execution it ran in: a copied run keeps the id of the execution that ran it. */
static const char *FLOW_FRAGILE =
    "id: fragile\nnamespace: " NS "\ntasks:\n"
    "  - id: first\n    type: io.kestra.plugin.core.debug.Return\n    format: \"{{ execution.id }}\"\n"
    "  - id: check\n    type: io.kestra.plugin.core.log.Log\n    message: \"flag {{ kv('go', null, true) }}\"\n"
    "  - id: last\n    type: io.kestra.plugin.core.debug.Return\n    format: \"{{ execution.id }}\"\n"
    "errors:\n  - id: onerr\n    type: io.kestra.plugin.core.log.Log\n    message: failed\n";
/* the same without an errors branch (once an errors run exists Kestra's findTaskDependingFlowState stays on the
 * errors list, so a run marked SUCCESS there would end the execution rather than let `last` run) */
static const char *FLOW_PLAIN =
    "id: plain\nnamespace: " NS "\ntasks:\n"
    "  - id: first\n    type: io.kestra.plugin.core.debug.Return\n    format: \"{{ execution.id }}\"\n"
    "  - id: check\n    type: io.kestra.plugin.core.log.Log\n    message: \"flag {{ kv('plain', null, true) }}\"\n"
    "  - id: last\n    type: io.kestra.plugin.core.debug.Return\n    format: \"{{ execution.id }}\"\n";
/* each attempt is a new execution: the first ends RETRIED, the second (its replay) FAILED */
static const char *FLOW_NEW_EXEC =
    "id: again\nnamespace: " NS "\ntasks:\n"
    "  - id: boom\n    type: io.kestra.plugin.core.execution.Fail\n    retry:\n"
    "      behavior: CREATE_NEW_EXECUTION\n      type: constant\n      interval: PT1S\n      maxAttempt: 2\n";
/* a restart inside a Pause (the paused run goes on) and inside a ForEach (only the failed iteration runs again) */
static const char *FLOW_PAUSE =
    "id: waits\nnamespace: " NS "\ntasks:\n"
    "  - id: hold\n    type: io.kestra.plugin.core.flow.Pause\n"
    "  - id: after\n    type: io.kestra.plugin.core.debug.Return\n    format: done\n";
static const char *FLOW_LOOP =
    "id: loop\nnamespace: " NS "\ntasks:\n"
    "  - id: each\n    type: io.kestra.plugin.core.flow.ForEach\n    values: [\"a\", \"b\", \"c\"]\n    tasks:\n"
    "      - id: item\n        type: io.kestra.plugin.core.log.Log\n"
    "        message: \"{{ taskrun.value == 'b' ? kv('loop', null, true) : 'fine' }}\"\n"
    "  - id: end\n    type: io.kestra.plugin.core.debug.Return\n    format: done\n";
/* a Subflow whose child fails until the KV key exists: the restart runs the Subflow again, with a new child */
static const char *FLOW_CHILD =
    "id: kid\nnamespace: " NS "\ntasks:\n"
    "  - id: need\n    type: io.kestra.plugin.core.log.Log\n    message: \"{{ kv('kid', null, true) }}\"\n";
static const char *FLOW_PARENT =
    "id: parent\nnamespace: " NS "\ntasks:\n"
    "  - id: call\n    type: io.kestra.plugin.core.flow.Subflow\n    namespace: " NS "\n    flowId: kid\n";
static const char *FLOW_SLOW =
    "id: slow\nnamespace: " NS "\ntasks:\n"
    "  - id: nap\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT3S\n";
/* a failure inside a Sequential: the restart runs the failed child again and its parent goes back to RUNNING */
static const char *FLOW_NESTED =
    "id: nested\nnamespace: " NS "\ntasks:\n"
    "  - id: seq\n    type: io.kestra.plugin.core.flow.Sequential\n    tasks:\n"
    "      - id: ok\n        type: io.kestra.plugin.core.debug.Return\n        format: a\n"
    "      - id: inner\n        type: io.kestra.plugin.core.log.Log\n        message: \"flag {{ kv('nested', null, true) }}\"\n"
    "  - id: after\n    type: io.kestra.plugin.core.debug.Return\n    format: b\n";

static char *start(int port, const char *flow)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/" NS "/%s", flow);
    json_t *e = NULL;
    assert_int_equal(kt_it_http_json("POST", port, path, NULL, NULL, &e), 200);
    char *eid = strdup(json_string_value(json_object_get(e, "id")));
    json_decref(e);
    return eid;
}

static json_t *run_of(const json_t *ex, const char *task_id)
{
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(ex, "taskRunList"), i, tr) if (!strcmp(json_string_value(json_object_get(tr, "taskId")), task_id))
        return tr;
    return NULL;
}

static size_t nattempts(const json_t *tr) { return json_array_size(json_object_get(tr, "attempts")); }
static size_t nruns(const json_t *ex) { return json_array_size(json_object_get(ex, "taskRunList")); }

static const char *str_at(const json_t *o, const char *a, const char *b)
{
    return json_string_value(json_object_get(b ? json_object_get(o, a) : o, b ? b : a));
}

/* POST path (no body); the status, the answer in *out. */
static long post(int port, const char *fmt, const char *id, const char *extra, json_t **out)
{
    char path[512];
    snprintf(path, sizeof path, fmt, id, extra ? extra : "");
    return kt_it_http_json("POST", port, path, NULL, NULL, out);
}

static void expect_message(const json_t *j, const char *msg)
{
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "message")), msg);
}

static int has_history(const json_t *ex, const char *state)
{
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(json_object_get(ex, "state"), "histories"), i, h) if (!strcmp(json_string_value(json_object_get(h, "state")), state))
        return 1;
    return 0;
}

static void put_kv(int port, const char *key)
{
    char path[256];
    snprintf(path, sizeof path, KV "/%s", key);
    assert_true(kt_it_http("PUT", port, path, "application/json", "\"yes\"", NULL) / 100 == 2);
}

static void test_restart(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_FRAGILE, NULL);
    kt_it_create_flow(f->port, FLOW_SLOW, NULL);
    char *id = start(f->port, "fragile");
    json_t *ex = kt_it_wait_state(&f->server, f->port, id, "FAILED", 15000);
    assert_int_equal(nruns(ex), 3); /* first, check (FAILED), onerr */
    assert_string_equal(kt_it_state(run_of(ex, "check")), "FAILED");
    assert_null(run_of(ex, "last"));
    char *check_id = strdup(str_at(run_of(ex, "check"), "id", NULL));
    json_decref(ex);

    json_t *j = NULL;
    assert_int_equal(post(f->port, "/api/v1/executions/%s/restart%s", "nope", NULL, &j), 404);
    json_decref(j);
    assert_int_equal(post(f->port, "/api/v1/executions/%s/restart%s", id, "?revision=9", &j), 404);
    expect_message(j, "Not Found: Unable to find revision 9 on flow " NS ".fragile");
    json_decref(j);

    put_kv(f->port, "go");
    assert_int_equal(post(f->port, "/api/v1/executions/%s/restart%s", id, NULL, &j), 200);
    /* the answer: the execution as restarted, before it runs again */
    assert_string_equal(str_at(j, "id", NULL), id);
    assert_string_equal(kt_it_state(j), "RESTARTED");
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "state"), "histories")), 4);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "metadata"), "attemptNumber")), 2);
    assert_int_equal(nruns(j), 2); /* the errors branch's run is gone */
    assert_null(run_of(j, "onerr"));
    assert_string_equal(kt_it_state(run_of(j, "check")), "RESTARTED");
    assert_string_equal(str_at(run_of(j, "check"), "id", NULL), check_id); /* the same task run */
    assert_string_equal(kt_it_state(run_of(j, "first")), "SUCCESS");
    json_decref(j);

    ex = kt_it_wait_state(&f->server, f->port, id, "SUCCESS", 15000);
    assert_int_equal(nruns(ex), 3); /* first, check, last */
    assert_int_equal(nattempts(run_of(ex, "first")), 1); /* not run again */
    assert_int_equal(nattempts(run_of(ex, "check")), 2); /* a new attempt */
    assert_string_equal(kt_it_state(run_of(ex, "check")), "SUCCESS");
    assert_string_equal(str_at(json_object_get(run_of(ex, "last"), "outputs"), "value", NULL), id);
    assert_true(has_history(ex, "RESTARTED"));
    assert_true(has_history(ex, "FAILED"));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ex, "metadata"), "attemptNumber")), 2);
    json_decref(ex);

    /* nothing failed any more */
    assert_int_equal(post(f->port, "/api/v1/executions/%s/restart%s", id, NULL, &j), 422);
    expect_message(j, "Illegal argument: No task found to restart execution from!");
    json_decref(j);

    /* a running execution */
    char *slow = start(f->port, "slow");
    assert_int_equal(kt_it_wait_task_running(f->port, slow, "nap", 10000), 0);
    assert_int_equal(post(f->port, "/api/v1/executions/%s/restart%s", slow, NULL, &j), 409);
    expect_message(j, "Illegal state: Execution must be terminated to be restarted, current state is 'RUNNING' !");
    json_decref(j);
    json_decref(kt_it_wait_state(&f->server, f->port, slow, "SUCCESS", 15000));
    free(slow);
    free(check_id);
    free(id);
}

static void test_restart_nested_and_revision(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_NESTED, NULL);
    char *id = start(f->port, "nested");
    json_decref(kt_it_wait_state(&f->server, f->port, id, "FAILED", 15000));
    put_kv(f->port, "nested");
    json_t *j = NULL;
    assert_int_equal(post(f->port, "/api/v1/executions/%s/restart%s", id, NULL, &j), 200);
    assert_string_equal(kt_it_state(run_of(j, "seq")), "RUNNING"); /* a flowable ancestor */
    assert_string_equal(kt_it_state(run_of(j, "inner")), "RESTARTED");
    json_decref(j);
    json_t *ex = kt_it_wait_state(&f->server, f->port, id, "SUCCESS", 15000);
    assert_int_equal(nruns(ex), 4);
    assert_int_equal(nattempts(run_of(ex, "ok")), 1);
    assert_int_equal(nattempts(run_of(ex, "inner")), 2);
    assert_string_equal(kt_it_state(run_of(ex, "seq")), "SUCCESS");
    assert_string_equal(kt_it_state(run_of(ex, "after")), "SUCCESS");
    json_decref(ex);

    /* with a revision: a new execution on that revision, linked to the old one, with new task-run ids */
    json_t *fl = NULL;
    assert_int_equal(kt_it_http_json("PUT", f->port, "/api/v1/flows/" NS "/nested", "application/x-yaml",
                                     "id: nested\nnamespace: " NS "\ntasks:\n"
                                     "  - id: seq\n    type: io.kestra.plugin.core.flow.Sequential\n    tasks:\n"
                                     "      - id: ok\n        type: io.kestra.plugin.core.debug.Return\n        format: a\n"
                                     "      - id: inner\n        type: io.kestra.plugin.core.log.Log\n"
                                     "        message: \"flag {{ kv('missing', null, true) }}\"\n",
                                     &fl),
                     200);
    json_decref(fl);
    char *id2 = start(f->port, "nested"); /* revision 2: fails */
    ex = kt_it_wait_state(&f->server, f->port, id2, "FAILED", 15000);
    char *ok_id = strdup(str_at(run_of(ex, "ok"), "id", NULL));
    json_decref(ex);
    assert_int_equal(post(f->port, "/api/v1/executions/%s/restart%s", id2, "?revision=1", &j), 200);
    assert_string_not_equal(str_at(j, "id", NULL), id2);
    assert_string_equal(str_at(j, "parentId", NULL), id2);
    assert_int_equal(json_integer_value(json_object_get(j, "flowRevision")), 1);
    assert_string_not_equal(str_at(run_of(j, "ok"), "id", NULL), ok_id);
    char *id3 = strdup(str_at(j, "id", NULL));
    json_decref(j);
    ex = kt_it_wait_state(&f->server, f->port, id3, "SUCCESS", 15000); /* revision 1 reads the key that exists */
    assert_non_null(run_of(ex, "after"));
    json_decref(ex);
    ex = kt_it_get_execution(f->port, id2); /* the old one is left as it was */
    assert_string_equal(kt_it_state(ex), "FAILED");
    json_decref(ex);
    free(ok_id);
    free(id3);
    free(id2);
    free(id);
}

static void test_replay(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_FRAGILE, NULL);
    put_kv(f->port, "go");
    char *id = start(f->port, "fragile");
    json_t *ex = kt_it_wait_state(&f->server, f->port, id, "SUCCESS", 15000);
    char *first_id = strdup(str_at(run_of(ex, "first"), "id", NULL));
    char *check_id = strdup(str_at(run_of(ex, "check"), "id", NULL));
    json_decref(ex);

    json_t *j = NULL;
    assert_int_equal(post(f->port, "/api/v1/executions/%s/replay%s", id, "?taskRunId=nope", &j), 422);
    expect_message(j, "Illegal argument: No task found to restart execution from!");
    json_decref(j);
    assert_int_equal(post(f->port, "/api/v1/executions/%s/replay%s", "nope", NULL, &j), 404);
    json_decref(j);

    char q[128];
    snprintf(q, sizeof q, "?taskRunId=%s", check_id);
    assert_int_equal(post(f->port, "/api/v1/executions/%s/replay%s", id, q, &j), 200);
    assert_string_not_equal(str_at(j, "id", NULL), id);
    assert_string_equal(str_at(j, "parentId", NULL), id);
    assert_string_equal(str_at(j, "originalId", NULL), id);
    assert_string_equal(kt_it_state(j), "RESTARTED");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "metadata"), "attemptNumber")), 2);
    assert_int_equal(nruns(j), 2); /* first (copied) and check (restarted); last is after it */
    assert_string_not_equal(str_at(run_of(j, "first"), "id", NULL), first_id);
    assert_string_equal(kt_it_state(run_of(j, "check")), "RESTARTED");
    char *rid = strdup(str_at(j, "id", NULL));
    json_decref(j);
    ex = kt_it_wait_state(&f->server, f->port, rid, "SUCCESS", 15000);
    /* `first` was not run again: its output is still the source execution's id; `last` ran in the replay */
    assert_int_equal(nattempts(run_of(ex, "first")), 1);
    assert_string_equal(str_at(json_object_get(run_of(ex, "first"), "outputs"), "value", NULL), id);
    assert_string_equal(str_at(json_object_get(run_of(ex, "last"), "outputs"), "value", NULL), rid);
    assert_int_equal(nattempts(run_of(ex, "check")), 2);
    json_decref(ex);

    /* from the start: a new CREATED execution that runs everything */
    assert_int_equal(post(f->port, "/api/v1/executions/%s/replay%s", id, NULL, &j), 200);
    assert_string_equal(kt_it_state(j), "CREATED");
    assert_int_equal(nruns(j), 0);
    char *fid = strdup(str_at(j, "id", NULL));
    json_decref(j);
    ex = kt_it_wait_state(&f->server, f->port, fid, "SUCCESS", 15000);
    assert_string_equal(str_at(json_object_get(run_of(ex, "first"), "outputs"), "value", NULL), fid);
    json_decref(ex);
    ex = kt_it_get_execution(f->port, id); /* the source is untouched */
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    assert_int_equal(nruns(ex), 3);
    json_decref(ex);
    free(fid);
    free(rid);
    free(first_id);
    free(check_id);
    free(id);
}

static void test_change_status_and_mark_as(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_PLAIN, NULL);
    kt_it_create_flow(f->port, FLOW_SLOW, NULL);
    char *id = start(f->port, "plain");
    json_t *ex = kt_it_wait_state(&f->server, f->port, id, "FAILED", 15000);
    char *check_id = strdup(str_at(run_of(ex, "check"), "id", NULL));
    json_decref(ex);

    json_t *j = NULL;
    assert_int_equal(post(f->port, "/api/v1/executions/%s/change-status%s", id, NULL, &j), 400);
    json_decref(j);
    assert_int_equal(post(f->port, "/api/v1/executions/%s/change-status%s", id, "?status=RUNNING", &j), 422);
    expect_message(j, "Illegal argument: You can only change the status of an execution to a terminal state.");
    json_decref(j);
    assert_int_equal(post(f->port, "/api/v1/executions/%s/change-status%s", "nope", "?status=SUCCESS", &j), 404);
    json_decref(j);
    assert_int_equal(post(f->port, "/api/v1/executions/%s/change-status%s", id, "?status=CANCELLED", &j), 200);
    assert_string_equal(kt_it_state(j), "CANCELLED");
    assert_string_equal(kt_it_state(run_of(j, "check")), "FAILED"); /* only the execution's state */
    json_decref(j);
    ex = kt_it_get_execution(f->port, id);
    assert_string_equal(kt_it_state(ex), "CANCELLED");
    json_decref(ex);
    char *slow = start(f->port, "slow");
    assert_int_equal(kt_it_wait_task_running(f->port, slow, "nap", 10000), 0);
    assert_int_equal(post(f->port, "/api/v1/executions/%s/change-status%s", slow, "?status=SUCCESS", &j), 422);
    expect_message(j, "Illegal argument: You can only change the status of a terminated execution.");
    json_decref(j);

    /* markAs: the failed task run forced to SUCCESS; the flow goes on from there */
    char path[256], body[256];
    snprintf(path, sizeof path, "/api/v1/executions/%s/state", id);
    assert_int_equal(kt_it_http_json("POST", f->port, path, "application/json", "{\"taskRunId\": \"nope\", \"state\": \"SUCCESS\"}", &j), 422);
    json_decref(j);
    assert_int_equal(kt_it_http_json("POST", f->port, path, "application/json", "{oops", &j), 400);
    json_decref(j);
    snprintf(body, sizeof body, "{\"taskRunId\": \"%s\", \"state\": \"SUCCESS\"}", check_id);
    assert_int_equal(kt_it_http_json("POST", f->port, path, "application/json", body, &j), 200);
    assert_string_equal(kt_it_state(j), "RESTARTED");
    assert_string_equal(kt_it_state(run_of(j, "check")), "SUCCESS");
    json_decref(j);
    ex = kt_it_wait_state(&f->server, f->port, id, "SUCCESS", 15000);
    assert_int_equal(nattempts(run_of(ex, "check")), 1); /* not run again: its last attempt is marked */
    assert_string_equal(kt_it_state(json_array_get(json_object_get(run_of(ex, "check"), "attempts"), 0)), "SUCCESS");
    assert_string_equal(kt_it_state(run_of(ex, "last")), "SUCCESS");
    json_decref(ex);
    json_decref(kt_it_wait_state(&f->server, f->port, slow, "SUCCESS", 15000));
    free(slow);
    free(check_id);
    free(id);
}

static const char *label_of(const json_t *ex, const char *key)
{
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(ex, "labels"), i, l) if (!strcmp(json_string_value(json_object_get(l, "key")), key))
        return json_string_value(json_object_get(l, "value"));
    return NULL;
}

/* The execution of flow whose parentId is id, polled for at most ms (NULL when none came). */
static json_t *made_from(int port, const char *flow, const char *id, int ms)
{
    json_t *next = NULL;
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/search?namespace=" NS "&flowId=%s", flow);
    for (int waited = 0; waited < ms && !next; waited += 100) {
        json_t *page = NULL;
        assert_int_equal(kt_it_http_json("GET", port, path, NULL, NULL, &page), 200);
        size_t k;
        json_t *e;
        json_array_foreach(json_object_get(page, "results"), k, e) {
            const char *pid = json_string_value(json_object_get(e, "parentId"));
            if (pid && !strcmp(pid, id))
                next = json_incref(e);
        }
        json_decref(page);
        if (!next)
            usleep(100 * 1000);
    }
    return next;
}

/* The delay of CREATE_NEW_EXECUTION lives in the executor's timers: a RETRIED execution whose new execution was not
 * made before the server stopped is retried when it starts again (not lost, not made twice). */
static void test_retry_new_execution_after_restart(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port,
                      "id: later\nnamespace: " NS "\ntasks:\n"
                      "  - id: boom\n    type: io.kestra.plugin.core.execution.Fail\n    retry:\n"
                      "      behavior: CREATE_NEW_EXECUTION\n      type: constant\n      interval: PT1H\n"
                      "      maxAttempt: 2\n",
                      NULL);
    char *id = start(f->port, "later");
    json_decref(kt_it_wait_state(&f->server, f->port, id, "RETRIED", 15000));
    json_t *none = made_from(f->port, "later", id, 500);
    assert_null(none); /* an hour to wait */
    kt_it_stop_clean(&f->server);
    f->server = kt_it_start_server(f->dir, "server2", f->port, NULL);
    json_t *next = made_from(f->port, "later", id, 10000);
    assert_non_null(next);
    char *nid = strdup(json_string_value(json_object_get(next, "id")));
    json_decref(next);
    json_decref(kt_it_wait_state(&f->server, f->port, nid, "FAILED", 15000));
    /* a second start makes no other one */
    kt_it_stop_clean(&f->server);
    f->server = kt_it_start_server(f->dir, "server3", f->port, NULL);
    json_t *page = NULL;
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/executions/search?namespace=" NS "&flowId=later", NULL,
                                     NULL, &page),
                     200);
    assert_int_equal(json_array_size(json_object_get(page, "results")), 2);
    json_decref(page);
    free(nid);
    free(id);
}

static void test_retry_new_execution(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_NEW_EXEC, NULL);
    char *id = start(f->port, "again");
    json_t *ex = kt_it_wait_state(&f->server, f->port, id, "RETRIED", 15000);
    assert_string_equal(kt_it_state(run_of(ex, "boom")), "RETRIED");
    json_decref(ex);
    /* the retry: a new execution made from it once the interval is over */
    json_t *next = made_from(f->port, "again", id, 10000);
    assert_non_null(next);
    char *nid = strdup(str_at(next, "id", NULL));
    json_decref(next);
    ex = kt_it_wait_state(&f->server, f->port, nid, "FAILED", 15000); /* maxAttempt 2: the last one fails */
    assert_string_equal(str_at(ex, "parentId", NULL), id);
    assert_string_equal(str_at(ex, "originalId", NULL), id);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ex, "metadata"), "attemptNumber")), 2);
    assert_string_equal(label_of(ex, "system.correlationId"), id); /* labels kept: the chain shares the first id */
    assert_int_equal(nattempts(run_of(ex, "boom")), 1);
    json_decref(ex);
    ex = kt_it_get_execution(f->port, id);
    assert_string_equal(kt_it_state(ex), "RETRIED");
    json_decref(ex);
    free(nid);
    free(id);
}

static size_t count_runs(const json_t *ex, const char *task_id)
{
    size_t i, n = 0;
    json_t *tr;
    json_array_foreach(json_object_get(ex, "taskRunList"), i, tr) n += !strcmp(json_string_value(json_object_get(tr, "taskId")), task_id);
    return n;
}

static void test_restart_pause_and_loop(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_PAUSE, NULL);
    kt_it_create_flow(f->port, FLOW_LOOP, NULL);
    char *id = start(f->port, "waits");
    json_decref(kt_it_wait_state(&f->server, f->port, id, "PAUSED", 15000));
    json_t *j = NULL;
    assert_int_equal(post(f->port, "/api/v1/executions/%s/restart%s", id, NULL, &j), 200);
    assert_string_equal(kt_it_state(j), "RESTARTED");
    assert_string_equal(kt_it_state(run_of(j, "hold")), "RUNNING"); /* a flowable: RUNNING, it then resolves */
    json_decref(j);
    json_t *ex = kt_it_wait_state(&f->server, f->port, id, "SUCCESS", 15000);
    assert_string_equal(kt_it_state(run_of(ex, "after")), "SUCCESS");
    json_decref(ex);
    free(id);

    id = start(f->port, "loop");
    ex = kt_it_wait_state(&f->server, f->port, id, "FAILED", 15000);
    assert_int_equal(count_runs(ex, "item"), 2); /* one value at a time (concurrencyLimit 1): b fails, c never ran */
    json_decref(ex);
    put_kv(f->port, "loop");
    assert_int_equal(post(f->port, "/api/v1/executions/%s/restart%s", id, NULL, &j), 200);
    assert_string_equal(kt_it_state(run_of(j, "each")), "RUNNING");
    json_decref(j);
    ex = kt_it_wait_state(&f->server, f->port, id, "SUCCESS", 15000);
    assert_int_equal(count_runs(ex, "item"), 3);
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(ex, "taskRunList"), i, tr) {
        if (strcmp(json_string_value(json_object_get(tr, "taskId")), "item"))
            continue;
        int is_b = !strcmp(json_string_value(json_object_get(tr, "value")), "b");
        assert_int_equal(nattempts(tr), is_b ? 2 : 1); /* only the failed iteration ran again */
        assert_string_equal(kt_it_state(tr), "SUCCESS");
    }
    assert_string_equal(kt_it_state(run_of(ex, "end")), "SUCCESS");
    json_decref(ex);
    free(id);
}

static void test_restart_subflow(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_CHILD, NULL);
    kt_it_create_flow(f->port, FLOW_PARENT, NULL);
    char *id = start(f->port, "parent");
    json_t *ex = kt_it_wait_state(&f->server, f->port, id, "FAILED", 15000);
    char *first_child = strdup(str_at(json_object_get(run_of(ex, "call"), "outputs"), "executionId", NULL));
    json_decref(ex);
    put_kv(f->port, "kid");
    json_t *j = NULL;
    assert_int_equal(post(f->port, "/api/v1/executions/%s/restart%s", id, NULL, &j), 200);
    assert_string_equal(kt_it_state(run_of(j, "call")), "RESTARTED");
    json_decref(j);
    ex = kt_it_wait_state(&f->server, f->port, id, "SUCCESS", 15000);
    json_t *call = run_of(ex, "call");
    assert_int_equal(nattempts(call), 2);
    const char *second_child = str_at(json_object_get(call, "outputs"), "executionId", NULL);
    assert_non_null(second_child);
    assert_string_not_equal(second_child, first_child); /* a new child execution */
    json_t *kid = kt_it_get_execution(f->port, second_child);
    assert_string_equal(kt_it_state(kid), "SUCCESS");
    json_decref(kid);
    kid = kt_it_get_execution(f->port, first_child); /* the failed child is left as it was */
    assert_string_equal(kt_it_state(kid), "FAILED");
    json_decref(kid);
    json_decref(ex);
    free(first_child);
    free(id);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_restart, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_restart_nested_and_revision, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_replay, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_change_status_and_mark_as, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_retry_new_execution, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_retry_new_execution_after_restart, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_restart_pause_and_loop, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_restart_subflow, kt_it_setup, kt_it_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
