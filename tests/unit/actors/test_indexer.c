/* The indexer actor (actors/indexer/indexer.h) on a node with a real SQLite store in a temp dir: what arrives in one
 * loop turn is one commit (counted by the indexer and by kestra_store_commit_duration_seconds), in the order received,
 * at most max_lines per commit (the rest on the next iterations); a store that refuses writes makes it hold the lines
 * and, past max_bytes, pause its mailbox (KT_EAGAIN for a sender, which keeps its batch and sends it again once there
 * is room: nothing lost, order kept); at stop it writes what it holds. Then the whole chain on one node (worker,
 * executor, indexer): errorLogs() sees the failed task's ERROR line although the indexer writes it in the same turn as
 * the task using it is dispatched, with and without an indexer (the executor writes the lines itself then). */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/executor/executor.h"
#include "actors/indexer/indexer.h"
#include "actors/worker/worker.h"
#include "base/clock.h"
#include "base/id.h"
#include "base/metrics.h"
#include "flow/model.h"

typedef struct fixture {
    char root[64];
    uv_loop_t loop;
    kt_store *s;
    kt_node *node;
    kt_indexer *ix;
    int stopped;
} fixture;

static int rm_entry(const char *p, const struct stat *sb, int f, struct FTW *w)
{
    (void)sb, (void)f, (void)w;
    return remove(p);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->root, sizeof f->root, "/tmp/kite-indexer-XXXXXX");
    if (!mkdtemp(f->root))
        return -1;
    char err[256];
    if (kt_store_open(f->root, NULL, &f->s, err, sizeof err))
        return -1;
    uv_loop_init(&f->loop);
    kt_node_config nc = {.node_id = "n1"};
    if (kt_node_new(&f->loop, &nc, &f->node))
        return -1;
    *state = f;
    return 0;
}

/* Stops the node (the actors' stop hooks) and runs the loop until every handle is closed. */
static void stop_node(fixture *f)
{
    if (f->stopped)
        return;
    f->stopped = 1;
    kt_node_stop(f->node);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
}

static int teardown(void **state)
{
    fixture *f = *state;
    stop_node(f);
    kt_node_free(f->node);
    kt_store_close(f->s);
    nftw(f->root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void start_indexer(fixture *f, size_t max_lines, size_t max_bytes)
{
    kt_indexer_options o = {.max_lines = max_lines, .max_bytes = max_bytes};
    assert_int_equal(kt_indexer_start(f->node, f->s, &o, &f->ix), KT_OK);
}

/* Lines first..first+n-1 of execution e1, "line <i>" (a longer message with pad > 0). */
static json_t *lines(int first, int n, int pad)
{
    json_t *a = json_array();
    for (int i = first; i < first + n; i++) {
        char msg[2048];
        snprintf(msg, sizeof msg, "line %d%*s", i, pad, pad ? "." : "");
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:b}", "namespace",
                                           "a.b", "flowId", "f", "taskId", "t", "executionId", "e1", "taskRunId",
                                           "tr1", "attemptNumber", 0, "timestamp", "2024-03-01T00:00:00.000Z",
                                           "level", i % 2 ? "ERROR" : "INFO", "thread", "worker", "message", msg,
                                           "deleted", 0));
    }
    return a;
}

static kt_status send_batch(fixture *f, json_t *entries, json_t *metrics)
{
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_LOG_BATCH, KT_INDEXER_ACTOR, "worker@n1", 0);
    kt_msg_log_batch b = {.entries = entries, .metrics = metrics};
    kt_msg_encode_log_batch(&o, &b);
    return kt_node_send(f->node, KT_INDEXER_ACTOR, &o);
}

/* The stored lines of e1 are "line 0" .. "line n-1", in that order (seq order). */
static void assert_stored(fixture *f, int n)
{
    json_t *got;
    kt_log_filter lf = {.attempt = -1};
    assert_int_equal(kt_store_logs_get(f->s, "e1", &lf, &got), KT_OK);
    assert_int_equal(json_array_size(got), n);
    for (int i = 0; i < n; i++) {
        char want[32];
        snprintf(want, sizeof want, "line %d", i);
        const char *msg = json_string_value(json_object_get(json_array_get(got, (size_t)i), "message"));
        assert_non_null(msg);
        assert_int_equal(strncmp(msg, want, strlen(want)), 0);
        assert_true(msg[strlen(want)] == 0 || msg[strlen(want)] == ' ');
    }
    json_decref(got);
}

/* Kestra's indexer counters, by record class */
static double ix_counter(const char *name, const char *type)
{
    char cls[96];
    snprintf(cls, sizeof cls, "io.kestra.core.models.executions.%s", type);
    return kt_metric_value(kt_metrics_counter(name, NULL, (const char *[]){"type", cls, NULL}));
}

static unsigned long long store_commits(void)
{
    return kt_metric_count(kt_metrics_histogram("kestra_store_commit_duration_seconds", NULL, NULL, NULL, 0));
}

static void test_one_commit_per_turn(void **state)
{
    fixture *f = *state;
    start_indexer(f, 0, 0);
    unsigned long long before = store_commits();
    double in = ix_counter("kestra_indexer_message_in_count_total", "LogEntry"),
           out = ix_counter("kestra_indexer_message_out_count_total", "LogEntry"),
           requests = ix_counter("kestra_indexer_request_count_total", "LogEntry"),
           metrics_out = ix_counter("kestra_indexer_message_out_count_total", "MetricEntry");
    /* three senders' batches in one turn, one with a task metric */
    json_t *metrics = json_pack("[{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:s, s:{}, s:b}]", "namespace", "a.b",
                                "flowId", "f", "taskId", "t", "executionId", "e1", "taskRunId", "tr1", "type",
                                "counter", "name", "rows", "value", 3.0, "timestamp", "2024-03-01T00:00:00.000Z",
                                "tags", "deleted", 0);
    for (int b = 0; b < 3; b++) {
        json_t *l = lines(b * 10, 10, 0);
        assert_int_equal(send_batch(f, l, b == 1 ? metrics : NULL), KT_OK);
        json_decref(l);
    }
    json_decref(metrics);
    assert_int_equal(kt_indexer_held(f->ix), 0); /* nothing taken before the loop turn */
    uv_run(&f->loop, UV_RUN_NOWAIT);             /* one turn: the drain, then the flush hooks */
    assert_int_equal(kt_indexer_commits(f->ix), 1);
    assert_int_equal(store_commits(), before + 1);
    assert_int_equal(kt_indexer_held(f->ix), 0);
    assert_stored(f, 30);
    assert_true(ix_counter("kestra_indexer_message_in_count_total", "LogEntry") == in + 30);
    assert_true(ix_counter("kestra_indexer_message_out_count_total", "LogEntry") == out + 30);
    assert_true(ix_counter("kestra_indexer_request_count_total", "LogEntry") == requests + 1);
    assert_true(ix_counter("kestra_indexer_message_out_count_total", "MetricEntry") == metrics_out + 1);
    kt_metric_query q = {.execution_id = "e1", .page = 1, .size = 10};
    json_t *found;
    int64_t total;
    assert_int_equal(kt_store_metrics_search(f->s, &q, &found, &total), KT_OK);
    assert_int_equal(total, 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(found, 0), "name")), "rows");
    json_decref(found);

    /* a turn with nothing received commits nothing */
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(kt_indexer_commits(f->ix), 1);
    assert_int_equal(store_commits(), before + 1);
}

static void test_cap_per_commit(void **state)
{
    fixture *f = *state;
    start_indexer(f, 10, 0);
    json_t *l = lines(0, 25, 0);
    assert_int_equal(send_batch(f, l, NULL), KT_OK);
    json_decref(l);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(kt_indexer_commits(f->ix), 1); /* the cap, not the whole batch */
    assert_int_equal(kt_indexer_held(f->ix), 15);
    assert_stored(f, 10);
    for (int i = 0; i < 20 && kt_indexer_held(f->ix); i++) /* the rest on the next iterations, by themselves */
        uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(kt_indexer_held(f->ix), 0);
    assert_int_equal(kt_indexer_commits(f->ix), 3);
    assert_stored(f, 25);
}

/* A second connection makes the store refuse (or accept again) every log line, as a failing database would. */
static void store_refuses(fixture *f, int on)
{
    char path[128];
    snprintf(path, sizeof path, "%s/kite.db", f->root);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    const char *sql = on ? "CREATE TRIGGER refuse_logs BEFORE INSERT ON logs BEGIN SELECT RAISE(ABORT, 'refused'); END"
                         : "DROP TRIGGER refuse_logs";
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void on_timeout(uv_timer_t *t) { uv_stop(t->loop); }

/* Runs the loop for ms milliseconds (its timers, the indexer's retries, fire meanwhile). */
static void run_ms(fixture *f, int ms)
{
    uv_timer_t t;
    uv_timer_init(&f->loop, &t);
    uv_timer_start(&t, on_timeout, (uint64_t)ms, 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT); /* the close callback */
}

static void test_backpressure(void **state)
{
    fixture *f = *state;
    /* each line is held as its message plus 256 bytes: 4 lines of ~1 KiB pass 4 KiB */
    start_indexer(f, 0, 4096);
    store_refuses(f, 1);
    uint64_t refused_before = kt_node_refused(f->node);
    /* a sender as the worker is one: it sends its next batch of 2 lines only when there is room, else keeps it */
    int next = 0, kept = 0;
    for (int turn = 0; turn < 10 && !kept; turn++) {
        if (!kt_node_has_room(f->node, KT_INDEXER_ACTOR)) {
            kept = 1;
            break;
        }
        json_t *l = lines(next, 2, 1000);
        assert_int_equal(send_batch(f, l, NULL), KT_OK);
        json_decref(l);
        next += 2;
        uv_run(&f->loop, UV_RUN_NOWAIT);
    }
    assert_true(kept); /* the indexer paused its mailbox */
    assert_true(kt_indexer_paused(f->ix));
    assert_int_equal(kt_indexer_commits(f->ix), 0);
    assert_int_equal(kt_indexer_held(f->ix), (size_t)next);
    assert_int_equal(next, 4);
    /* a sender that does not ask first is refused, and counted */
    json_t *l = lines(next, 2, 1000);
    assert_int_equal(send_batch(f, l, NULL), KT_EAGAIN);
    assert_int_equal(kt_node_refused(f->node), refused_before + 1);
    /* retries meanwhile (every KT_INDEXER_RETRY_MS) change nothing while the store refuses */
    run_ms(f, 250);
    assert_false(kt_node_has_room(f->node, KT_INDEXER_ACTOR));
    assert_int_equal(kt_indexer_commits(f->ix), 0);
    assert_stored(f, 0);
    /* the store recovers: the next retry writes what was held and the mailbox takes lines again */
    store_refuses(f, 0);
    for (int i = 0; i < 100 && !kt_node_has_room(f->node, KT_INDEXER_ACTOR); i++)
        run_ms(f, 10);
    assert_true(kt_node_has_room(f->node, KT_INDEXER_ACTOR));
    assert_false(kt_indexer_paused(f->ix));
    assert_int_equal(kt_indexer_commits(f->ix), 1);
    assert_stored(f, 4);
    /* the kept batch goes now, after the others: nothing lost, order kept */
    assert_int_equal(send_batch(f, l, NULL), KT_OK);
    json_decref(l);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(kt_indexer_held(f->ix), 0);
    assert_stored(f, 6);
}

static void test_stop_writes_held(void **state)
{
    fixture *f = *state;
    start_indexer(f, 10, 0);
    store_refuses(f, 1);
    json_t *l = lines(0, 25, 0);
    assert_int_equal(send_batch(f, l, NULL), KT_OK);
    json_decref(l);
    uv_run(&f->loop, UV_RUN_NOWAIT); /* the commit fails: all 25 held */
    assert_int_equal(kt_indexer_held(f->ix), 25);
    assert_int_equal(kt_indexer_commits(f->ix), 0);
    store_refuses(f, 0);
    /* stopped before its retry is due: the stop hook writes everything (three commits of at most 10), and the loop
     * closes with no handle left open */
    unsigned long long before = store_commits();
    stop_node(f);
    assert_int_equal(store_commits(), before + 3);
    assert_stored(f, 25);
}

/* Lines already in the indexer's mailbox when the node stops (sent in the turn before a SIGTERM, say: the executor's
 * lines after its last commit, a worker's batch that came in over the link) are written too, not dropped with the
 * mailbox, and after what it already held (their order). */
static void test_stop_writes_mailbox(void **state)
{
    fixture *f = *state;
    start_indexer(f, 10, 0);
    json_t *l = lines(0, 5, 0);
    assert_int_equal(send_batch(f, l, NULL), KT_OK);
    json_decref(l);
    store_refuses(f, 1);
    uv_run(&f->loop, UV_RUN_NOWAIT); /* taken in, its commit fails: 5 held */
    assert_int_equal(kt_indexer_held(f->ix), 5);
    store_refuses(f, 0);
    l = lines(5, 7, 0);
    assert_int_equal(send_batch(f, l, NULL), KT_OK); /* in the mailbox, not taken in yet */
    json_decref(l);
    assert_int_equal(kt_indexer_held(f->ix), 5);
    stop_node(f);
    assert_stored(f, 12);
}

/* ---- with the executor and a worker -------------------------------------------------------------- */

/* `early` is dispatched in the turn that applies failed's result, before the indexer's commit of that turn: its
 * errorLogs() needs the line the executor kept. `late` comes after a sleep, when the store has the line too: it must
 * not count it twice. */
static const char *ERRORS_FLOW =
    "id: errors\nnamespace: a.b\n"
    "tasks:\n"
    "  - id: hello\n    type: io.kestra.plugin.core.log.Log\n    message: first\n"
    "  - id: failed\n    type: io.kestra.plugin.core.execution.Fail\n    allowFailure: true\n"
    "  - id: early\n    type: io.kestra.plugin.core.log.Log\n"
    "    message: \"{%- for log in errorLogs() -%}[{{ log.taskId }}: {{ log.message }}]{%- endfor -%}\"\n"
    "  - id: wait\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT0.3S\n"
    "  - id: late\n    type: io.kestra.plugin.core.log.Log\n"
    "    message: \"{%- for log in errorLogs() -%}[{{ log.taskId }}: {{ log.message }}]{%- endfor -%}\"\n";

typedef struct run_end {
    uv_loop_t *loop;
    char state[32];
} run_end;

static void on_end(void *ud, const json_t *execution)
{
    run_end *r = ud;
    snprintf(r->state, sizeof r->state, "%s", kt_state_current(execution));
    uv_stop(r->loop);
}

static void client_receive(kt_actor *a, const kt_msg *m) { (void)a, (void)m; }
static const kt_actor_ops client_ops = {.receive = client_receive};

/* Runs the flow on one node (worker, executor, and the indexer when with_indexer) and checks what errorLogs() gave. */
static void run_errors_flow(fixture *f, int with_indexer)
{
    int rev, changed;
    assert_int_equal(kt_store_flow_save(f->s, "a.b", "errors", ERRORS_FLOW, &rev, &changed), KT_OK);
    kt_worker *w;
    kt_worker_config wc = {.slots = 2};
    assert_int_equal(kt_worker_start(f->node, &wc, &w), KT_OK);
    kt_executor *ex;
    assert_int_equal(kt_executor_start(f->node, f->s, NULL, &ex), KT_OK);
    kt_executor_add_worker(ex, "worker@n1", "n1", 2);
    if (with_indexer)
        start_indexer(f, 0, 0);
    run_end r = {.loop = &f->loop};
    kt_executor_observe(ex, on_end, &r);
    kt_actor *client;
    assert_int_equal(kt_node_spawn(f->node, "client", &client_ops, NULL, &client), KT_OK);
    char id[KT_ID_LEN + 1];
    kt_id_new(id);
    json_t *execution = kt_execution_new(id, "a.b", "errors", rev, NULL, NULL, NULL, kt_now_us());
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_EXECUTION_CREATE, KT_EXECUTOR_ACTOR, kt_actor_address(client), 1);
    kt_msg_execution_create body = {.execution = execution};
    kt_msg_encode_execution_create(&o, &body);
    assert_int_equal(kt_node_send(f->node, KT_EXECUTOR_ACTOR, &o), KT_OK);
    json_decref(execution);
    uv_timer_t guard;
    uv_timer_init(&f->loop, &guard);
    uv_timer_start(&guard, on_timeout, 10000, 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&guard, NULL);
    assert_string_equal(r.state, "WARNING");
    if (with_indexer)
        assert_true(kt_indexer_commits(f->ix) > 0);
    stop_node(f); /* whatever the indexer still held is written at stop */
    kt_worker_free(w);

    json_t *got;
    kt_log_filter lf = {.attempt = -1};
    assert_int_equal(kt_store_logs_get(f->s, id, &lf, &got), KT_OK);
    size_t i;
    json_t *line;
    int first = -1, failure = -1, early = -1, late = -1;
    json_array_foreach(got, i, line) {
        const char *task = json_string_value(json_object_get(line, "taskId"));
        const char *msg = json_string_value(json_object_get(line, "message"));
        if (!task)
            continue;
        if (!strcmp(task, "hello") && !strcmp(msg, "first"))
            first = (int)i;
        if (!strcmp(task, "failed") && !strcmp(json_string_value(json_object_get(line, "level")), "ERROR")) {
            assert_int_equal(failure, -1); /* written once */
            failure = (int)i;
        }
        /* the one ERROR line, from what the executor kept or from the store, never twice */
        if (!strcmp(task, "early") || !strcmp(task, "late"))
            assert_string_equal(msg, "[failed: Task failure]");
        if (!strcmp(task, "early"))
            early = (int)i;
        if (!strcmp(task, "late"))
            late = (int)i;
    }
    json_decref(got);
    /* every line in the order the tasks ran */
    assert_true(first >= 0 && failure > first && early > failure && late > early);
}

static void test_error_logs_through_indexer(void **state) { run_errors_flow(*state, 1); }
static void test_error_logs_without_indexer(void **state) { run_errors_flow(*state, 0); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_commit_per_turn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cap_per_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_writes_held, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_writes_mailbox, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_logs_through_indexer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_logs_without_indexer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
