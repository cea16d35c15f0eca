/* The workers' attempts as the executor sees them (actors/executor/attempts.c), on one node with a real SQLite store
 * and a stand-in worker that records its jobs and answers what the test says: a result that is not the task run's
 * current attempt, or whose epoch is not its job's, is dropped and counted; after a restart, an attempt the previous
 * process dispatched is adopted when the worker says it still runs it (no second attempt, its result of the old epoch
 * accepted), and declared lost (a second attempt, under the new epoch) only once the liveness timeout has passed
 * when no worker runs it; an execution killed while its attempt is in doubt has the kill sent to every worker; a
 * Subflow child that was never stored is made again under its id. The worker's ring of recent results
 * (actors/worker/recent.c) finds a result by attempt and forgets the oldest. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/executor/executor.h"
#include "actors/worker/recent.h"
#include "base/clock.h"
#include "base/id.h"
#include "base/metrics.h"
#include "flow/model.h"
#include "flow/state.h"

static const char *FLOW = "id: one\nnamespace: a.b\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n"
                          "    message: hi\n";

static const char *HELD = "id: held\nnamespace: a.b\ntasks:\n"
                          "  - id: wait\n    type: io.kestra.plugin.core.flow.Pause\n";
static const char *PARENT = "id: parent\nnamespace: a.b\ntasks:\n"
                            "  - id: call\n    type: io.kestra.plugin.core.flow.Subflow\n"
                            "    namespace: a.b\n    flowId: held\n";

enum { TTL_MS = 600 };

typedef enum { ANSWER_RUNS, ANSWER_NOTHING } answer_mode;

typedef struct job_seen {
    char execution_id[KT_ID_LEN + 1];
    char taskrun_id[KT_ID_LEN + 1];
    uint32_t attempt;
    int64_t epoch;
} job_seen;

typedef struct fixture {
    char root[64];
    uv_loop_t loop;
    kt_store *s;
    kt_node *node;
    kt_actor *client, *worker;
    kt_executor *ex;
    int revision, parent_revision;
    job_seen jobs[8];
    int njobs;
    int questions; /* WorkerAttempts received */
    int kills;     /* kill commands received */
    answer_mode mode;
} fixture;

static int rm_entry(const char *p, const struct stat *sb, int f, struct FTW *w)
{
    (void)sb, (void)f, (void)w;
    return remove(p);
}

static void client_receive(kt_actor *a, const kt_msg *m) { (void)a, (void)m; }
static const kt_actor_ops client_ops = {.receive = client_receive};

/* The stand-in worker: keeps its jobs (never runs them), answers the executor's questions as f->mode says. */
static void worker_receive(kt_actor *a, const kt_msg *m)
{
    fixture *f = kt_actor_state(a);
    if (m->type == KT_MSG_WORKER_JOB) {
        kt_msg_worker_job j;
        assert_int_equal(kt_msg_decode_worker_job(m->body, &j), KT_OK);
        assert_true(f->njobs < 8);
        job_seen *s = &f->jobs[f->njobs++];
        snprintf(s->execution_id, sizeof s->execution_id, "%s", j.execution_id);
        snprintf(s->taskrun_id, sizeof s->taskrun_id, "%s", j.taskrun_id);
        s->attempt = j.attempt;
        s->epoch = j.epoch;
        kt_msg_worker_job_clear(&j);
    } else if (m->type == KT_MSG_EXEC_COMMAND) {
        kt_msg_exec_command c;
        assert_int_equal(kt_msg_decode_exec_command(m->body, &c), KT_OK);
        f->kills += c.command == KT_CMD_KILL && f->njobs && !strcmp(c.taskrun_id, f->jobs[0].taskrun_id);
        kt_msg_exec_command_clear(&c);
    } else if (m->type == KT_MSG_WORKER_ATTEMPTS) {
        json_t *q = NULL;
        assert_int_equal(kt_msg_decode_object(m->body, &q), KT_OK);
        f->questions++;
        json_t *running = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(json_object_get(q, "attempts"), i, x) {
            for (int k = 0; k < f->njobs && f->mode == ANSWER_RUNS; k++)
                if (!strcmp(json_string_value(json_array_get(x, 1)), f->jobs[k].taskrun_id) &&
                    json_integer_value(json_array_get(x, 2)) == f->jobs[k].attempt)
                    json_array_append_new(running, json_pack("[O,O,O,I]", json_array_get(x, 0), json_array_get(x, 1),
                                                             json_array_get(x, 2), (json_int_t)f->jobs[k].epoch));
        }
        json_t *answer = json_pack("{s:O, s:i, s:o}", "round", json_object_get(q, "round"), "slots", 4, "running",
                                   running);
        kt_outmsg o;
        kt_outmsg_begin(&o, KT_MSG_WORKER_ATTEMPTS, m->from, kt_actor_address(a), 0);
        kt_msg_encode_object(&o, answer);
        assert_int_equal(kt_node_send(kt_actor_node(a), m->from, &o), KT_OK);
        json_decref(answer);
        json_decref(q);
    }
}
static const kt_actor_ops worker_ops = {.receive = worker_receive};

static void start_node(fixture *f, int remote_workers)
{
    uv_loop_init(&f->loop);
    kt_node_config nc = {.node_id = "solo"};
    assert_int_equal(kt_node_new(&f->loop, &nc, &f->node), KT_OK);
    assert_int_equal(kt_node_spawn(f->node, "client", &client_ops, f, &f->client), KT_OK);
    assert_int_equal(kt_node_spawn(f->node, KT_WORKER_ACTOR, &worker_ops, f, &f->worker), KT_OK);
    kt_executor_options o = {.lease_ttl_ms = TTL_MS, .remote_workers = remote_workers};
    assert_int_equal(kt_executor_start(f->node, f->s, &o, &f->ex), KT_OK);
    kt_executor_add_worker(f->ex, "worker@solo", "solo", 4);
}

static void stop_node(fixture *f)
{
    kt_node_stop(f->node);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    kt_node_free(f->node);
    f->node = NULL;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->root, sizeof f->root, "/tmp/kite-attempts-XXXXXX");
    if (!mkdtemp(f->root))
        return -1;
    char err[256];
    if (kt_store_open(f->root, NULL, &f->s, err, sizeof err))
        return -1;
    int changed;
    int rev;
    if (kt_store_flow_save(f->s, "a.b", "one", FLOW, &f->revision, &changed) ||
        kt_store_flow_save(f->s, "a.b", "held", HELD, &rev, &changed) ||
        kt_store_flow_save(f->s, "a.b", "parent", PARENT, &f->parent_revision, &changed))
        return -1;
    kt_metrics_reset();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->node)
        stop_node(f);
    kt_store_close(f->s);
    nftw(f->root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    kt_metrics_reset();
    free(f);
    return 0;
}

static void on_timeout(uv_timer_t *t) { uv_stop(t->loop); }

static void run_ms(fixture *f, int ms)
{
    uv_timer_t t;
    uv_timer_init(&f->loop, &t);
    uv_timer_start(&t, on_timeout, (uint64_t)ms, 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
}

static void send_create_of(fixture *f, const char *flow, int revision, char *id)
{
    kt_id_new(id);
    json_t *execution = kt_execution_new(id, "a.b", flow, revision, NULL, NULL, NULL, kt_now_us());
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_EXECUTION_CREATE, KT_EXECUTOR_ACTOR, kt_actor_address(f->client), 7);
    kt_msg_execution_create body = {.execution = execution};
    kt_msg_encode_execution_create(&o, &body);
    assert_int_equal(kt_node_send(f->node, KT_EXECUTOR_ACTOR, &o), KT_OK);
    json_decref(execution);
}

static void send_create(fixture *f, char *id) { send_create_of(f, "one", f->revision, id); }

/* The worker's result of job k, with the given attempt and epoch. */
static void send_result(fixture *f, int k, uint32_t attempt, int64_t epoch)
{
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_WORKER_RESULT, KT_EXECUTOR_ACTOR, kt_actor_address(f->worker), 0);
    int64_t now = kt_now_us();
    kt_msg_worker_result r = {.execution_id = f->jobs[k].execution_id, .taskrun_id = f->jobs[k].taskrun_id,
                              .attempt = attempt, .epoch = epoch, .state = "SUCCESS", .started_us = now - 10,
                              .ended_us = now};
    kt_msg_encode_worker_result(&o, &r);
    assert_int_equal(kt_node_send(f->node, KT_EXECUTOR_ACTOR, &o), KT_OK);
}

/* The stored execution's state, and the attempts of its only task run (their states, in order, into attempts). */
static const char *stored(fixture *f, const char *id, char *state, size_t cap, char *attempts, size_t acap)
{
    json_t *ex = NULL;
    assert_int_equal(kt_store_execution_get(f->s, id, &ex), KT_OK);
    snprintf(state, cap, "%s", kt_state_current(ex));
    json_t *tr = json_array_get(json_object_get(ex, "taskRunList"), 0);
    attempts[0] = 0;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(tr, "attempts"), i, a)
        snprintf(attempts + strlen(attempts), acap - strlen(attempts), "%s%s", i ? "," : "", kt_state_current(a));
    json_decref(ex);
    return state;
}

static double stale_count(const char *reason)
{
    const char *labels[] = {"reason", reason, NULL};
    return kt_metric_value(kt_metrics_counter("kestra_executor_worker_result_stale_count_total", "", labels));
}

static void test_stale_results_dropped(void **state)
{
    fixture *f = *state;
    start_node(f, 0);
    char id[KT_ID_LEN + 1], st[32], attempts[128];
    send_create(f, id);
    run_ms(f, 100);
    assert_int_equal(f->njobs, 1);
    assert_int_equal(f->jobs[0].attempt, 0);
    assert_true(f->jobs[0].epoch >= 1); /* the partition's lease, as this executor holds it */
    int64_t epoch = f->jobs[0].epoch;

    send_result(f, 0, 1, epoch);     /* an attempt that was never dispatched */
    send_result(f, 0, 0, epoch + 1); /* a newer lease than the one held */
    send_result(f, 0, 0, epoch - 1); /* an older lease than the job's */
    run_ms(f, 50);
    assert_string_equal(stored(f, id, st, sizeof st, attempts, sizeof attempts), "RUNNING");
    assert_string_equal(attempts, "RUNNING");
    assert_true(stale_count("attempt") == 1);
    assert_true(stale_count("epoch") == 2);

    send_result(f, 0, 0, epoch);
    run_ms(f, 50);
    assert_string_equal(stored(f, id, st, sizeof st, attempts, sizeof attempts), "SUCCESS");
    assert_string_equal(attempts, "SUCCESS");
    send_result(f, 0, 0, epoch); /* a duplicate (at-least-once delivery): nothing changes */
    run_ms(f, 50);
    assert_string_equal(stored(f, id, st, sizeof st, attempts, sizeof attempts), "SUCCESS");
    assert_true(stale_count("attempt") == 1);
    stop_node(f);
}

/* An execution left RUNNING by a process that stopped, its attempt handed to the worker. */
static int64_t first_process(fixture *f, char *id)
{
    start_node(f, 1);
    send_create(f, id);
    run_ms(f, 100);
    assert_int_equal(f->njobs, 1);
    stop_node(f);
    return f->jobs[0].epoch;
}

static void test_adopted_after_restart(void **state)
{
    fixture *f = *state;
    char id[KT_ID_LEN + 1], st[32], attempts[128];
    int64_t old_epoch = first_process(f, id);
    f->mode = ANSWER_RUNS;
    start_node(f, 1);
    run_ms(f, 2 * TTL_MS); /* past the liveness timeout: it would have been declared lost by now */
    assert_true(f->questions >= 1);
    assert_int_equal(f->njobs, 1); /* no second attempt while the first one runs */
    assert_string_equal(stored(f, id, st, sizeof st, attempts, sizeof attempts), "RUNNING");
    assert_string_equal(attempts, "RUNNING");
    /* its result, of the previous process's lease, is accepted: the attempt is this executor's now */
    send_result(f, 0, 0, old_epoch);
    run_ms(f, 50);
    assert_string_equal(stored(f, id, st, sizeof st, attempts, sizeof attempts), "SUCCESS");
    assert_string_equal(attempts, "SUCCESS");
    assert_true(stale_count("epoch") == 0);
    stop_node(f);
}

static void test_lost_when_no_worker_runs_it(void **state)
{
    fixture *f = *state;
    char id[KT_ID_LEN + 1], st[32], attempts[128];
    int64_t old_epoch = first_process(f, id);
    f->mode = ANSWER_NOTHING;
    start_node(f, 1);
    run_ms(f, TTL_MS / 3);
    /* the worker said no, but this executor has only just started: another worker may not have reached it yet */
    assert_true(f->questions >= 1);
    assert_int_equal(f->njobs, 1);
    run_ms(f, 2 * TTL_MS);
    assert_int_equal(f->njobs, 2);
    assert_int_equal(f->jobs[1].attempt, 1);
    assert_true(f->jobs[1].epoch > old_epoch);
    assert_string_equal(stored(f, id, st, sizeof st, attempts, sizeof attempts), "RUNNING");
    assert_string_equal(attempts, "FAILED,RUNNING");
    send_result(f, 0, 0, old_epoch); /* the lost attempt's result after all: stale */
    run_ms(f, 50);
    assert_true(stale_count("attempt") == 1);
    send_result(f, 1, 1, f->jobs[1].epoch);
    run_ms(f, 50);
    assert_string_equal(stored(f, id, st, sizeof st, attempts, sizeof attempts), "SUCCESS");
    assert_string_equal(attempts, "FAILED,SUCCESS");
    stop_node(f);
}

/* A node alone (no remote worker possible): the attempt is lost at once, as the process that ran it is gone. */
static void test_alone_lost_at_once(void **state)
{
    fixture *f = *state;
    char id[KT_ID_LEN + 1];
    first_process(f, id);
    start_node(f, 0);
    run_ms(f, 100);
    assert_int_equal(f->questions, 0);
    assert_int_equal(f->njobs, 2);
    assert_int_equal(f->jobs[1].attempt, 1);
    stop_node(f);
}

static void send_kill(fixture *f, const char *id)
{
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, KT_EXECUTOR_ACTOR, kt_actor_address(f->client), 8);
    kt_msg_exec_command body = {.execution_id = (char *)id, .taskrun_id = "", .command = KT_CMD_KILL};
    kt_msg_encode_exec_command(&o, &body);
    assert_int_equal(kt_node_send(f->node, KT_EXECUTOR_ACTOR, &o), KT_OK);
}

static void test_kill_in_doubt_reaches_workers(void **state)
{
    fixture *f = *state;
    char id[KT_ID_LEN + 1], st[32], attempts[128];
    int64_t old_epoch = first_process(f, id);
    f->mode = ANSWER_NOTHING;
    start_node(f, 1);
    run_ms(f, 50);
    send_kill(f, id);
    run_ms(f, 50);
    assert_int_equal(f->kills, 1);
    /* the worker that ran it ends it KILLED: accepted, and nothing runs again */
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_WORKER_RESULT, KT_EXECUTOR_ACTOR, kt_actor_address(f->worker), 0);
    int64_t now = kt_now_us();
    kt_msg_worker_result r = {.execution_id = id, .taskrun_id = f->jobs[0].taskrun_id, .attempt = 0,
                              .epoch = old_epoch, .state = "KILLED", .started_us = now, .ended_us = now};
    kt_msg_encode_worker_result(&o, &r);
    assert_int_equal(kt_node_send(f->node, KT_EXECUTOR_ACTOR, &o), KT_OK);
    run_ms(f, 2 * TTL_MS);
    assert_int_equal(f->njobs, 1);
    assert_string_equal(stored(f, id, st, sizeof st, attempts, sizeof attempts), "KILLED");
    assert_string_equal(attempts, "KILLED");
    stop_node(f);
}

/* A parent whose Subflow run names a child that was never stored (its maker stopped between the parent's commit and
 * the child's hand-off): the next owner makes the child again, under that id, two liveness timeouts later. */
static void test_missing_child_made_again(void **state)
{
    fixture *f = *state;
    char parent[KT_ID_LEN + 1], lost[KT_ID_LEN + 1], st[32];
    start_node(f, 0);
    send_create_of(f, "parent", f->parent_revision, parent);
    run_ms(f, 100);
    stop_node(f);
    /* as its maker left it: the run waits for a child id that has no row */
    json_t *pe = NULL;
    assert_int_equal(kt_store_execution_get(f->s, parent, &pe), KT_OK);
    json_t *call = json_array_get(json_object_get(pe, "taskRunList"), 0);
    assert_string_equal(kt_state_current(call), "RUNNING");
    kt_id_new(lost);
    json_object_set_new(json_object_get(call, "outputs"), "executionId", json_string(lost));
    assert_int_equal(kt_store_execution_put(f->s, pe, NULL, 0), KT_OK);
    json_decref(pe);
    json_t *child = NULL;
    assert_int_equal(kt_store_execution_get(f->s, lost, &child), KT_ENOTFOUND);

    start_node(f, 0);
    run_ms(f, TTL_MS); /* not yet: a hand-off may still be on its way */
    assert_int_equal(kt_store_execution_get(f->s, lost, &child), KT_ENOTFOUND);
    run_ms(f, 2 * TTL_MS);
    assert_int_equal(kt_store_execution_get(f->s, lost, &child), KT_OK);
    assert_string_equal(kt_state_current(child), "PAUSED");
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(child, "trigger"),
                                                                           "variables"), "executionId")),
                        parent);
    json_decref(child);
    /* the parent follows it: the child killed, the parent's run ends with it */
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, KT_EXECUTOR_ACTOR, kt_actor_address(f->client), 9);
    kt_msg_exec_command body = {.execution_id = lost, .taskrun_id = "", .command = KT_CMD_KILL};
    kt_msg_encode_exec_command(&o, &body);
    assert_int_equal(kt_node_send(f->node, KT_EXECUTOR_ACTOR, &o), KT_OK);
    run_ms(f, 100);
    assert_int_equal(kt_store_execution_get(f->s, parent, &pe), KT_OK);
    snprintf(st, sizeof st, "%s", kt_state_current(pe));
    json_decref(pe);
    assert_true(kt_state_is_terminated(st));
    stop_node(f);
}

static void test_recent_ring(void **state)
{
    (void)state;
    kt_recent *r = kt_recent_new();
    char trid[KT_ID_LEN + 1];
    json_t *outputs = json_pack("{s:i}", "n", 1);
    for (int i = 0; i < KT_RECENT_MAX + 2; i++) {
        snprintf(trid, sizeof trid, "tr%d", i);
        kt_msg_worker_result res = {.execution_id = "e1", .taskrun_id = trid, .attempt = (uint32_t)(i % 3),
                                    .epoch = 4, .state = "SUCCESS", .outputs = outputs};
        kt_recent_put(r, &res);
    }
    size_t len = 0;
    assert_null(kt_recent_get(r, "e1", "tr0", 0, &len)); /* the oldest, pushed out */
    assert_null(kt_recent_get(r, "e1", "tr1", 1, &len));
    const char *body = kt_recent_get(r, "e1", "tr5", 2, &len);
    assert_non_null(body);
    assert_null(kt_recent_get(r, "e1", "tr5", 1, &len)); /* another attempt */
    assert_null(kt_recent_get(r, "e2", "tr5", 2, &len)); /* another execution */
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    assert_int_equal(msgpack_unpack_next(&u, body, len, NULL), MSGPACK_UNPACK_SUCCESS);
    kt_msg_worker_result back;
    assert_int_equal(kt_msg_decode_worker_result(&u.data, &back), KT_OK);
    assert_string_equal(back.taskrun_id, "tr5");
    assert_int_equal(back.epoch, 4);
    assert_true(json_equal(back.outputs, outputs));
    kt_msg_worker_result_clear(&back);
    msgpack_unpacked_destroy(&u);
    json_decref(outputs);
    kt_recent_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stale_results_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_adopted_after_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_when_no_worker_runs_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alone_lost_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_in_doubt_reaches_workers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_child_made_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recent_ring, NULL, NULL),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
