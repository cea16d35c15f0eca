/* An ExecutionCreate that reaches the partition's owner late, twice, or never (actors/executor/leases.c), on one node
 * with a real SQLite store and a stand-in worker that records its jobs: a create of an execution running here is
 * answered OK and runs once; one of an execution its creator committed (stored) that the store holds past CREATED,
 * ended or not, is answered OK and never runs again; a CREATED execution committed after the executor loaded its
 * partition, its create lost (sent to the previous, dead owner), is taken in by the passes after the take; the
 * create that comes after that is answered OK and runs nothing twice. */
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
#include "base/clock.h"
#include "base/id.h"
#include "flow/model.h"
#include "flow/state.h"

static const char *FLOW = "id: one\nnamespace: a.b\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n"
                          "    message: hi\n";

enum { TTL_MS = 600, MAX_JOBS = 8, MAX_REPLIES = 8 };

typedef struct fixture {
    char root[64];
    uv_loop_t loop;
    kt_store *s;
    kt_node *node;
    kt_actor *client, *worker;
    kt_executor *ex;
    int revision;
    char job_exec[MAX_JOBS][KT_ID_LEN + 1];
    char job_tr[MAX_JOBS][KT_ID_LEN + 1];
    int64_t job_epoch[MAX_JOBS];
    int njobs;
    uint32_t replies[MAX_REPLIES]; /* the statuses of the executor's answers, in order */
    int nreplies;
} fixture;

static int rm_entry(const char *p, const struct stat *sb, int f, struct FTW *w)
{
    (void)sb, (void)f, (void)w;
    return remove(p);
}

static void client_receive(kt_actor *a, const kt_msg *m)
{
    fixture *f = kt_actor_state(a);
    if (m->type != KT_MSG_REPLY)
        return;
    kt_msg_reply r;
    assert_int_equal(kt_msg_decode_reply(m->body, &r), KT_OK);
    assert_true(f->nreplies < MAX_REPLIES);
    f->replies[f->nreplies++] = r.status;
    kt_msg_reply_clear(&r);
}
static const kt_actor_ops client_ops = {.receive = client_receive};

/* The stand-in worker: keeps its jobs (never runs them). */
static void worker_receive(kt_actor *a, const kt_msg *m)
{
    fixture *f = kt_actor_state(a);
    if (m->type != KT_MSG_WORKER_JOB)
        return;
    kt_msg_worker_job j;
    assert_int_equal(kt_msg_decode_worker_job(m->body, &j), KT_OK);
    assert_true(f->njobs < MAX_JOBS);
    snprintf(f->job_exec[f->njobs], sizeof f->job_exec[0], "%s", j.execution_id);
    snprintf(f->job_tr[f->njobs], sizeof f->job_tr[0], "%s", j.taskrun_id);
    f->job_epoch[f->njobs++] = j.epoch;
    kt_msg_worker_job_clear(&j);
}
static const kt_actor_ops worker_ops = {.receive = worker_receive};

static void start_node(fixture *f)
{
    uv_loop_init(&f->loop);
    kt_node_config nc = {.node_id = "solo"};
    assert_int_equal(kt_node_new(&f->loop, &nc, &f->node), KT_OK);
    assert_int_equal(kt_node_spawn(f->node, "client", &client_ops, f, &f->client), KT_OK);
    assert_int_equal(kt_node_spawn(f->node, KT_WORKER_ACTOR, &worker_ops, f, &f->worker), KT_OK);
    kt_executor_options o = {.lease_ttl_ms = TTL_MS};
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
    snprintf(f->root, sizeof f->root, "/tmp/kite-create-again-XXXXXX");
    if (!mkdtemp(f->root))
        return -1;
    char err[256];
    int changed;
    if (kt_store_open(f->root, NULL, &f->s, err, sizeof err) ||
        kt_store_flow_save(f->s, "a.b", "one", FLOW, &f->revision, &changed))
        return -1;
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

static json_t *new_execution(fixture *f, char *id)
{
    kt_id_new(id);
    return kt_execution_new(id, "a.b", "one", f->revision, NULL, NULL, NULL, kt_now_us());
}

static void send_create(fixture *f, const json_t *execution, int stored)
{
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_EXECUTION_CREATE, KT_EXECUTOR_ACTOR, kt_actor_address(f->client), 7);
    kt_msg_execution_create body = {.execution = (json_t *)execution, .stored = (uint32_t)stored};
    kt_msg_encode_execution_create(&o, &body);
    assert_int_equal(kt_node_send(f->node, KT_EXECUTOR_ACTOR, &o), KT_OK);
}

/* What a trigger's tick does: the CREATED execution committed by its creator, no executor involved. */
static void commit_created(fixture *f, const json_t *execution)
{
    assert_int_equal(kt_store_begin(f->s), KT_OK);
    assert_int_equal(kt_store_execution_put(f->s, execution, NULL, 0), KT_OK);
    assert_int_equal(kt_store_commit(f->s), KT_OK);
}

static void send_success(fixture *f, int k)
{
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_WORKER_RESULT, KT_EXECUTOR_ACTOR, kt_actor_address(f->worker), 0);
    int64_t now = kt_now_us();
    kt_msg_worker_result r = {.execution_id = f->job_exec[k], .taskrun_id = f->job_tr[k], .attempt = 0,
                              .epoch = f->job_epoch[k], .state = "SUCCESS", .started_us = now - 10, .ended_us = now};
    kt_msg_encode_worker_result(&o, &r);
    assert_int_equal(kt_node_send(f->node, KT_EXECUTOR_ACTOR, &o), KT_OK);
}

static const char *stored_state(fixture *f, const char *id, char *out, size_t cap)
{
    json_t *ex = NULL;
    assert_int_equal(kt_store_execution_get(f->s, id, &ex), KT_OK);
    assert_non_null(ex);
    snprintf(out, cap, "%s", kt_state_current(ex));
    json_decref(ex);
    return out;
}

/* A create sent twice while its execution runs here, then again (as its committing creator would resend it) once it
 * ended: answered OK each time, one job, the end kept. */
static void test_create_twice(void **state)
{
    fixture *f = *state;
    start_node(f);
    char id[KT_ID_LEN + 1], st[32];
    json_t *execution = new_execution(f, id);
    send_create(f, execution, 0);
    run_ms(f, 100);
    send_create(f, execution, 0);
    run_ms(f, 100);
    assert_int_equal(f->nreplies, 2);
    assert_int_equal(f->replies[0], KT_OK);
    assert_int_equal(f->replies[1], KT_OK); /* before: "already running", which a scheduler took for a refusal */
    assert_int_equal(f->njobs, 1);
    assert_string_equal(stored_state(f, id, st, sizeof st), "RUNNING");

    send_success(f, 0);
    run_ms(f, 100);
    assert_string_equal(stored_state(f, id, st, sizeof st), "SUCCESS");
    send_create(f, execution, 1);
    run_ms(f, 100);
    assert_int_equal(f->nreplies, 3);
    assert_int_equal(f->replies[2], KT_OK);
    assert_int_equal(f->njobs, 1); /* not run again */
    assert_string_equal(stored_state(f, id, st, sizeof st), "SUCCESS");
    json_decref(execution);
    stop_node(f);
}

/* A CREATED execution committed after the executor's load, its create lost: taken in by a later pass over the
 * partition (within the liveness timeout); its create arriving late then runs nothing twice. */
static void test_created_after_load(void **state)
{
    fixture *f = *state;
    start_node(f);
    run_ms(f, 20); /* the load is done */
    char id[KT_ID_LEN + 1], st[32];
    json_t *execution = new_execution(f, id);
    commit_created(f, execution);
    run_ms(f, 50);
    assert_int_equal(f->njobs, 0); /* nobody told the executor yet */
    run_ms(f, TTL_MS + TTL_MS / 2);
    assert_int_equal(f->njobs, 1);
    assert_string_equal(f->job_exec[0], id);
    assert_string_equal(stored_state(f, id, st, sizeof st), "RUNNING");

    send_create(f, execution, 1); /* the lost create, resent or late */
    run_ms(f, 100);
    assert_int_equal(f->nreplies, 1);
    assert_int_equal(f->replies[0], KT_OK);
    assert_int_equal(f->njobs, 1);
    send_success(f, 0);
    run_ms(f, 100);
    assert_string_equal(stored_state(f, id, st, sizeof st), "SUCCESS");
    json_decref(execution);
    stop_node(f);
}

/* The passes stop after the liveness timeout: a CREATED execution committed later waits for its create (which the
 * store check takes in like any other, since it is still CREATED). */
static void test_passes_end(void **state)
{
    fixture *f = *state;
    start_node(f);
    run_ms(f, 2 * TTL_MS);
    char id[KT_ID_LEN + 1], st[32];
    json_t *execution = new_execution(f, id);
    commit_created(f, execution);
    run_ms(f, TTL_MS);
    assert_int_equal(f->njobs, 0);
    assert_string_equal(stored_state(f, id, st, sizeof st), "CREATED");
    send_create(f, execution, 1);
    run_ms(f, 100);
    assert_int_equal(f->nreplies, 1);
    assert_int_equal(f->replies[0], KT_OK);
    assert_int_equal(f->njobs, 1);
    assert_string_equal(stored_state(f, id, st, sizeof st), "RUNNING");
    json_decref(execution);
    stop_node(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_created_after_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_passes_end, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
