/* A worker runs at most its slots of jobs at once (actors/worker/worker.c): two executors that each count a shared
 * worker's slots as their own may send it twice as many; the rest wait, oldest first, and start as slots free up. A
 * queued job is known to the worker (a duplicate runs once, an executor's question finds it) and a kill ends it
 * KILLED without running it. A real worker on one node, with an executor stand-in that records the results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/executor/executor.h"
#include "actors/worker/worker.h"
#include "base/clock.h"

enum { SLOTS = 2, JOBS = 5, SLEEP_MS = 150 };

typedef struct probe {
    uv_loop_t loop;
    kt_node *node;
    kt_worker *w;
    char states[JOBS][16]; /* each job's result state, "" before it */
    int64_t started_us[JOBS], ended_us[JOBS]; /* as the worker says */
    int results;
    uint32_t max_running, max_queued;
} probe;

static void executor_receive(kt_actor *a, const kt_msg *m)
{
    probe *p = kt_actor_state(a);
    if (m->type != KT_MSG_WORKER_RESULT)
        return;
    kt_msg_worker_result r;
    assert_int_equal(kt_msg_decode_worker_result(m->body, &r), KT_OK);
    int k = r.taskrun_id[2] - '0'; /* "tr0".."tr4" */
    assert_true(k >= 0 && k < JOBS);
    assert_string_equal(p->states[k], ""); /* one result per job */
    snprintf(p->states[k], sizeof p->states[k], "%s", r.state);
    p->started_us[k] = r.started_us;
    p->ended_us[k] = r.ended_us;
    p->results++;
    kt_msg_worker_result_clear(&r);
}
static const kt_actor_ops executor_ops = {.receive = executor_receive};

static void on_guard(uv_timer_t *t) { uv_stop(t->loop); }

static void on_sample(uv_timer_t *t)
{
    probe *p = t->data;
    uint32_t running = kt_worker_running(p->w), queued = kt_worker_queued(p->w);
    p->max_running = running > p->max_running ? running : p->max_running;
    p->max_queued = queued > p->max_queued ? queued : p->max_queued;
    if (p->results == JOBS)
        uv_stop(t->loop);
}

static void send_job(probe *p, int k)
{
    char tr[8];
    snprintf(tr, sizeof tr, "tr%d", k);
    json_t *task = json_pack("{s:s, s:s, s:s}", "id", "t", "type", "io.kestra.plugin.core.flow.Sleep", "duration",
                             "PT0.15S");
    json_t *run = json_pack("{s:s, s:s, s:s, s:s, s:s}", "namespace", "a.b", "flowId", "f", "taskId", "t",
                            "executionId", "x1", "taskRunId", tr);
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_WORKER_JOB, KT_WORKER_ACTOR, "executor@solo", 0);
    kt_msg_worker_job job = {.execution_id = "x1", .taskrun_id = tr, .attempt = 0, .epoch = 1, .task = task,
                             .run = run};
    kt_msg_encode_worker_job(&o, &job);
    json_decref(task);
    json_decref(run);
    assert_int_equal(kt_node_send(p->node, KT_WORKER_ACTOR, &o), KT_OK);
}

static void send_kill(probe *p, const char *tr)
{
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, KT_WORKER_ACTOR, "executor@solo", 0);
    kt_msg_exec_command k = {.execution_id = "x1", .taskrun_id = (char *)tr, .command = KT_CMD_KILL};
    kt_msg_encode_exec_command(&o, &k);
    assert_int_equal(kt_node_send(p->node, KT_WORKER_ACTOR, &o), KT_OK);
}

static void start(probe *p)
{
    memset(p, 0, sizeof *p);
    uv_loop_init(&p->loop);
    kt_node_config cfg = {.node_id = "solo"};
    assert_int_equal(kt_node_new(&p->loop, &cfg, &p->node), KT_OK);
    assert_int_equal(kt_node_spawn(p->node, KT_EXECUTOR_ACTOR, &executor_ops, p, NULL), KT_OK);
    kt_worker_config wc = {.slots = SLOTS};
    assert_int_equal(kt_worker_start(p->node, &wc, &p->w), KT_OK);
}

static void run_until_done(probe *p)
{
    uv_timer_t t;
    uv_timer_init(&p->loop, &t);
    t.data = p;
    uv_timer_start(&t, on_sample, 5, 5);
    uv_timer_t guard;
    uv_timer_init(&p->loop, &guard);
    uv_timer_start(&guard, on_guard, 10000, 0); /* never reached when the worker is right */
    uv_run(&p->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(&p->loop, UV_RUN_NOWAIT); /* the closes finish before the handles leave the stack */
}

static void finish(probe *p)
{
    kt_node_stop(p->node);
    uv_run(&p->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&p->loop), 0);
    kt_node_free(p->node);
    kt_worker_free(p->w);
}

/* Five jobs to two slots: never more than two run, three wait, all end SUCCESS, in three waves. */
static void test_bounded_by_slots(void **state)
{
    (void)state;
    probe p;
    start(&p);
    int64_t t0 = kt_now_us();
    for (int k = 0; k < JOBS; k++)
        send_job(&p, k);
    send_job(&p, 4); /* a duplicate of a queued job (at-least-once delivery): it runs once */
    run_until_done(&p);
    assert_int_equal(p.results, JOBS);
    for (int k = 0; k < JOBS; k++)
        assert_string_equal(p.states[k], "SUCCESS");
    assert_int_equal(p.max_running, SLOTS);
    assert_int_equal(p.max_queued, JOBS - SLOTS);
    /* the third starts when one of the first two ended, the fifth when one of the next two did (in order) */
    int64_t first = p.ended_us[0] < p.ended_us[1] ? p.ended_us[0] : p.ended_us[1];
    int64_t second = p.ended_us[2] < p.ended_us[3] ? p.ended_us[2] : p.ended_us[3];
    assert_true(p.started_us[2] >= first && p.started_us[3] >= first);
    assert_true(p.started_us[4] >= second);
    assert_true(p.ended_us[4] - t0 >= 3 * (SLEEP_MS - 10) * 1000);
    assert_int_equal(kt_worker_queued(p.w), 0);
    finish(&p);
}

/* A kill of a job that waits for a slot: it ends KILLED at once, never run; the others run. */
static void test_kill_queued(void **state)
{
    (void)state;
    probe p;
    start(&p);
    for (int k = 0; k < JOBS; k++)
        send_job(&p, k);
    send_kill(&p, "tr3");
    run_until_done(&p);
    assert_string_equal(p.states[3], "KILLED");
    assert_true(p.ended_us[3] < p.ended_us[0] && p.ended_us[3] < p.ended_us[1]); /* before a slot freed up */
    for (int k = 0; k < JOBS; k++)
        if (k != 3)
            assert_string_equal(p.states[k], "SUCCESS");
    assert_int_equal(p.max_running, SLOTS);
    /* the two left waiting ran in the second wave, side by side */
    int64_t first = p.ended_us[0] < p.ended_us[1] ? p.ended_us[0] : p.ended_us[1];
    assert_true(p.started_us[2] >= first && p.started_us[4] >= first);
    assert_true(p.started_us[4] < p.ended_us[2] && p.started_us[2] < p.ended_us[4]);
    finish(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounded_by_slots),
        cmocka_unit_test(test_kill_queued),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
