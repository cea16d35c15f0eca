/* Remote actors, same code: a server without a worker plus `kite worker --join` processes over tcp on 127.0.0.1.
 * Tasks run in the worker process; a worker killed with SIGKILL mid-task has its attempt resubmitted to a live
 * worker after the liveness timeout, and the execution still ends SUCCESS. Without an indexer the worker's lines go to
 * the executor; with one on the server they go there, over the link. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define HEARTBEAT "200"
#define LIVENESS "1500"

typedef struct cluster {
    kt_it_fixture it; /* the server's directory, HTTP port and process */
    int nng_port;
    char join[64];
} cluster;

static int setup_with(void **state, const char *actors)
{
    cluster *c = calloc(1, sizeof *c);
    kt_it_fixture_init(&c->it, 0);
    c->nng_port = kt_it_free_port();
    snprintf(c->join, sizeof c->join, "tcp://127.0.0.1:%d", c->nng_port);
    const char *extra[] = {"--listen", c->join, "--actors", actors, "--heartbeat", HEARTBEAT,
                           "--liveness-timeout", LIVENESS, NULL};
    c->it.server = kt_it_start_server(c->it.dir, "server", c->it.port, extra);
    *state = c;
    return 0;
}

static int setup(void **state) { return setup_with(state, "executor,webserver"); }
static int setup_indexer(void **state) { return setup_with(state, "executor,webserver,indexer"); }

static int teardown(void **state)
{
    cluster *c = *state;
    kt_it_fixture_fini(&c->it);
    free(c);
    return 0;
}

static kt_it_proc start_worker(cluster *c, const char *name)
{
    const char *args[] = {"worker", "--join", c->join, "--node-id", name, "--slots", "4", "--heartbeat", HEARTBEAT,
                          "--liveness-timeout", LIVENESS, NULL};
    return kt_it_spawn(c->it.dir, name, args);
}

static void run(cluster *c, const char *flow, char *exid, size_t cap)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/company.team/%s", flow);
    json_t *res = NULL;
    const char *none[] = {NULL};
    assert_int_equal(kt_it_post_form(c->it.port, path, none, &res), 200);
    snprintf(exid, cap, "%s", json_string_value(json_object_get(res, "id")));
    json_decref(res);
}

static void test_tasks_run_in_the_worker_process(void **state)
{
    cluster *c = *state;
    kt_it_create_flow(c->it.port, "id: remote\nnamespace: company.team\ntasks:\n"
                                  "  - id: hello\n    type: io.kestra.plugin.core.log.Log\n    message: from afar\n"
                                  "  - id: where\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands:\n"
                                  "      - echo \"::{\\\"outputs\\\":{\\\"parent\\\":$PPID}}::\"\n", NULL);
    kt_it_proc w = start_worker(c, "worker-a");
    char exid[64];
    run(c, "remote", exid, sizeof exid); /* accepted even before the worker joined: the job waits for a slot */
    json_t *ex = kt_it_wait_execution(c->it.port, exid, 20000);
    if (!ex) {
        kt_it_dump_log(&c->it.server);
        kt_it_dump_log(&w);
    }
    assert_non_null(ex);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    json_t *where = kt_it_taskrun(ex, "where");
    json_int_t parent = json_integer_value(json_object_get(json_object_get(json_object_get(where, "outputs"), "vars"),
                                                           "parent"));
    assert_int_equal(parent, w.pid); /* the shell's parent is the worker process, not the server */
    json_decref(ex);
    char path[256];
    snprintf(path, sizeof path, "/api/v1/logs/%s", exid);
    json_t *logs = NULL;
    assert_int_equal(kt_it_http_json("GET", c->it.port, path, NULL, NULL, &logs), 200);
    assert_string_equal(json_string_value(json_object_get(json_array_get(logs, 0), "message")), "from afar");
    json_decref(logs);
    /* the cluster as the server's node sees it: itself (executor, webserver) and the worker, with its slots */
    json_t *nodes = NULL;
    assert_int_equal(kt_it_http_json("GET", c->it.port, "/api/v1/cluster/nodes", NULL, NULL, &nodes), 200);
    assert_int_equal(json_array_size(nodes), 2);
    json_t *self = json_array_get(nodes, 0), *peer = json_array_get(nodes, 1);
    assert_true(json_is_true(json_object_get(self, "self")));
    assert_int_equal(json_array_size(json_object_get(self, "actors")), 2);
    assert_string_equal(json_string_value(json_object_get(peer, "id")), "worker-a");
    assert_string_equal(json_string_value(json_array_get(json_object_get(peer, "actors"), 0)), "worker");
    assert_int_equal(json_integer_value(json_object_get(peer, "workerSlots")), 4);
    assert_string_equal(json_string_value(json_object_get(peer, "state")), "RUNNING");
    assert_non_null(json_object_get(peer, "lastHeartbeatDate"));
    json_decref(nodes);
    kt_it_stop_clean(&w);
}

static void test_dead_worker_task_is_resubmitted(void **state)
{
    cluster *c = *state;
    kt_it_create_flow(c->it.port, "id: long\nnamespace: company.team\ntasks:\n"
                                  "  - id: nap\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands:\n"
                                  "      - sleep 2\n"
                                  "      - echo \"::{\\\"outputs\\\":{\\\"parent\\\":$PPID}}::\"\n", NULL);
    kt_it_proc a = start_worker(c, "worker-a");
    char exid[64];
    run(c, "long", exid, sizeof exid);
    assert_int_equal(kt_it_wait_task_running(c->it.port, exid, "nap", 10000), 0);
    kt_it_sleep_ms(300);
    kt_it_proc b = start_worker(c, "worker-b");
    kt_it_sleep_ms(500); /* b has joined */
    kt_it_stop(&a, SIGKILL);
    json_t *ex = kt_it_wait_execution(c->it.port, exid, 30000);
    if (!ex) {
        kt_it_dump_log(&c->it.server);
        kt_it_dump_log(&b);
    }
    assert_non_null(ex);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    json_t *nap = kt_it_taskrun(ex, "nap");
    json_t *attempts = json_object_get(nap, "attempts");
    assert_int_equal(json_array_size(attempts), 2);
    assert_string_equal(kt_it_state(json_array_get(attempts, 1)), "SUCCESS");
    json_int_t parent = json_integer_value(json_object_get(json_object_get(json_object_get(nap, "outputs"), "vars"),
                                                           "parent"));
    assert_int_equal(parent, b.pid);
    json_decref(ex);
    kt_it_stop_clean(&b);
}

/* With an indexer on the server, the worker process sends its lines there over the link and a copy of the ERROR ones
 * to the executor: errorLogs() in the next task sees the failed task's line once, and every line is stored once, in
 * the order the tasks ran. */
static void test_lines_through_the_indexer(void **state)
{
    cluster *c = *state;
    kt_it_create_flow(c->it.port, "id: indexed\nnamespace: company.team\ntasks:\n"
                                  "  - id: hello\n    type: io.kestra.plugin.core.log.Log\n    message: from afar\n"
                                  "  - id: boom\n    type: io.kestra.plugin.core.execution.Fail\n"
                                  "    allowFailure: true\n    errorMessage: it broke\n"
                                  "  - id: seen\n    type: io.kestra.plugin.core.log.Log\n"
                                  "    message: \"{%- for l in errorLogs() -%}<{{ l.taskId }}: {{ l.message }}>{%- endfor -%}\"\n",
                      NULL);
    kt_it_proc w = start_worker(c, "worker-a");
    char exid[64];
    run(c, "indexed", exid, sizeof exid);
    json_t *ex = kt_it_wait_execution(c->it.port, exid, 20000);
    if (!ex) {
        kt_it_dump_log(&c->it.server);
        kt_it_dump_log(&w);
    }
    assert_non_null(ex);
    assert_string_equal(kt_it_state(ex), "WARNING");
    json_decref(ex);
    char path[256];
    snprintf(path, sizeof path, "/api/v1/logs/%s", exid);
    json_t *logs = NULL;
    const char *want[] = {"from afar", "it broke", "<boom: it broke>"};
    size_t found = 0;
    /* the indexer may commit a turn after the end is visible: wait for the last line */
    for (int i = 0; i < 50; i++) {
        json_decref(logs);
        logs = NULL;
        assert_int_equal(kt_it_http_json("GET", c->it.port, path, NULL, NULL, &logs), 200);
        size_t k;
        json_t *l;
        found = 0;
        json_array_foreach(logs, k, l) {
            const char *msg = json_string_value(json_object_get(l, "message"));
            if (found < 3 && msg && !strcmp(msg, want[found]))
                found++;
            else if (msg && (!strcmp(msg, want[0]) || !strcmp(msg, want[2])))
                fail_msg("line '%s' stored twice or out of order", msg);
        }
        if (found == 3)
            break;
        kt_it_sleep_ms(100);
    }
    assert_int_equal(found, 3);
    json_decref(logs);
    /* they went through the server's indexer (its counter, in Kestra's name), not the executor */
    kt_it_resp resp = {0};
    assert_int_equal(kt_it_request("GET", c->it.port, "/prometheus", NULL, 0, NULL, NULL, &resp), 200);
    const char *sample = resp.body ? strstr(resp.body, "kestra_indexer_message_out_count_total{type=\"io.kestra.core."
                                                       "models.executions.LogEntry\"} ") : NULL;
    assert_non_null(sample);
    assert_true(strtod(strchr(sample, '}') + 2, NULL) >= 3);
    free(resp.body);
    kt_it_stop_clean(&w);
}

/* A worker killed mid-task and started again at once under the same node id (before the liveness timeout): the
 * executor hears that its previous process is gone and runs the attempt again, on the new process. */
static void test_worker_restarted_under_its_id(void **state)
{
    cluster *c = *state;
    kt_it_create_flow(c->it.port, "id: again\nnamespace: company.team\ntasks:\n"
                                  "  - id: nap\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands:\n"
                                  "      - sleep 1\n"
                                  "      - echo \"::{\\\"outputs\\\":{\\\"parent\\\":$PPID}}::\"\n", NULL);
    kt_it_proc a = start_worker(c, "worker-a");
    char exid[64];
    run(c, "again", exid, sizeof exid);
    assert_int_equal(kt_it_wait_task_running(c->it.port, exid, "nap", 10000), 0);
    kt_it_sleep_ms(200);
    kt_it_stop(&a, SIGKILL);
    kt_it_proc b = start_worker(c, "worker-a"); /* the same id, a new process at a new address */
    json_t *ex = kt_it_wait_execution(c->it.port, exid, 20000);
    if (!ex || strcmp(kt_it_state(ex), "SUCCESS")) {
        kt_it_dump_log(&c->it.server);
        kt_it_dump_log(&b);
    }
    assert_non_null(ex);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    json_t *nap = kt_it_taskrun(ex, "nap");
    assert_int_equal(json_array_size(json_object_get(nap, "attempts")), 2);
    json_int_t parent = json_integer_value(json_object_get(json_object_get(json_object_get(nap, "outputs"), "vars"),
                                                           "parent"));
    assert_int_equal(parent, b.pid);
    json_decref(ex);
    kt_it_stop_clean(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tasks_run_in_the_worker_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_worker_task_is_resubmitted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lines_through_the_indexer, setup_indexer, teardown),
        cmocka_unit_test_setup_teardown(test_worker_restarted_under_its_id, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
