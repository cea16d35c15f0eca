/* The executor's notices of execution changes (kt_store_notice_add in the commit that makes the change) while the
 * cluster's scheduler is away: once a scheduler has been seen, a scheduler process that died (or restarts) must still
 * find the changes it missed in the store and replay them at its start; so the executor keeps writing the notices
 * while none is reachable. A node without any scheduler ever (kite server worker, tests) writes none. One node with
 * the executor, a worker and a real SQLite store; a second node plays the scheduler, then stops. */
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
#include "actors/names.h"
#include "actors/worker/worker.h"
#include "base/clock.h"
#include "base/id.h"
#include "base/log.h"
#include "flow/model.h"

static const char *FLOW = "id: one\nnamespace: a.b\n"
                          "tasks:\n  - id: hello\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n";

static int rm_entry(const char *p, const struct stat *sb, int f, struct FTW *w)
{
    (void)sb, (void)f, (void)w;
    return remove(p);
}

typedef struct sched_probe {
    uv_loop_t *loop;
    int changes, ups, downs;
} sched_probe;

static void sched_receive(kt_actor *a, const kt_msg *m)
{
    sched_probe *p = kt_actor_state(a);
    if (m->type == KT_MSG_EXECUTION_CHANGED)
        p->changes++;
}
static void sched_up(kt_actor *a, const kt_peer_info *i)
{
    (void)i;
    sched_probe *p = kt_actor_state(a);
    p->ups++;
    uv_stop(p->loop);
}
static void sched_down(kt_actor *a, const char *node)
{
    (void)node;
    sched_probe *p = kt_actor_state(a);
    p->downs++;
    uv_stop(p->loop);
}
static const kt_actor_ops sched_ops = {.receive = sched_receive, .peer_up = sched_up, .peer_down = sched_down};

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

static void on_timeout(uv_timer_t *t) { uv_stop(t->loop); }

static void run_for(uv_loop_t *loop, int ms)
{
    uv_timer_t t;
    uv_timer_init(loop, &t);
    uv_timer_start(&t, on_timeout, (uint64_t)ms, 0);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
}

static void client_receive(kt_actor *a, const kt_msg *m) { (void)a, (void)m; }
static const kt_actor_ops client_ops = {.receive = client_receive};

/* Runs one execution of the flow to its end; returns its id in id. */
static void run_one(uv_loop_t *loop, kt_node *node, kt_actor *client, int rev, run_end *r, char *id)
{
    kt_id_new(id);
    json_t *execution = kt_execution_new(id, "a.b", "one", rev, NULL, NULL, NULL, kt_now_us());
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_EXECUTION_CREATE, KT_EXECUTOR_ACTOR, kt_actor_address(client), 1);
    kt_msg_execution_create body = {.execution = execution};
    kt_msg_encode_execution_create(&o, &body);
    assert_int_equal(kt_node_send(node, KT_EXECUTOR_ACTOR, &o), KT_OK);
    json_decref(execution);
    r->state[0] = 0;
    for (int i = 0; i < 100 && !r->state[0]; i++)
        run_for(loop, 100);
    assert_string_equal(r->state, "SUCCESS");
}

static int notices_of(kt_store *st, const char *id, const char *state)
{
    json_t *all = NULL;
    assert_int_equal(kt_store_notices(st, &all), KT_OK);
    int n = 0;
    size_t i;
    json_t *v;
    json_array_foreach(all, i, v) {
        if (!strcmp(json_string_value(json_object_get(v, "executionId")), id) &&
            !strcmp(json_string_value(json_object_get(v, "state")), state))
            n++;
    }
    json_decref(all);
    return n;
}

static void test_notices_while_scheduler_away(void **state)
{
    (void)state;
    char root[] = "/tmp/kite-execnotices-XXXXXX";
    assert_non_null(mkdtemp(root));
    kt_store *st;
    char err[256];
    assert_int_equal(kt_store_open(root, NULL, &st, err, sizeof err), KT_OK);
    int rev, changed;
    assert_int_equal(kt_store_flow_save(st, "a.b", "one", FLOW, &rev, &changed), KT_OK);
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_node *a, *b;
    kt_node_config ca = {.node_id = "n1", .heartbeat_ms = 50, .liveness_timeout_ms = 300};
    kt_node_config cb = {.node_id = "sched", .heartbeat_ms = 50, .liveness_timeout_ms = 300};
    assert_int_equal(kt_node_new(&loop, &ca, &a), KT_OK);
    assert_int_equal(kt_node_new(&loop, &cb, &b), KT_OK);
    kt_worker *w;
    kt_worker_config wc = {.slots = 2};
    assert_int_equal(kt_worker_start(a, &wc, &w), KT_OK);
    kt_executor *ex;
    assert_int_equal(kt_executor_start(a, st, NULL, &ex), KT_OK);
    kt_executor_add_worker(ex, "worker@n1", "n1", 2);
    run_end r = {.loop = &loop};
    kt_executor_observe(ex, on_end, &r);
    kt_actor *client;
    assert_int_equal(kt_node_spawn(a, "client", &client_ops, NULL, &client), KT_OK);
    sched_probe sp = {.loop = &loop};
    assert_int_equal(kt_node_spawn(b, KT_SCHEDULER_ACTOR, &sched_ops, &sp, NULL), KT_OK);
    assert_int_equal(kt_node_listen(a, "inproc://kite-test-exec-notices", err, sizeof err), KT_OK);
    assert_int_equal(kt_node_join(b, "inproc://kite-test-exec-notices", err, sizeof err), KT_OK);
    for (int i = 0; i < 20 && !kt_node_reachable(a, KT_SCHEDULER_ACTOR); i++)
        run_for(&loop, 100);
    assert_true(kt_node_reachable(a, KT_SCHEDULER_ACTOR));

    /* with the scheduler there: the notice and the message */
    char id1[KT_ID_LEN + 1], id2[KT_ID_LEN + 1];
    run_one(&loop, a, client, rev, &r, id1);
    assert_int_equal(notices_of(st, id1, "SUCCESS"), 1);
    for (int i = 0; i < 20 && sp.changes == 0; i++)
        run_for(&loop, 50);
    assert_true(sp.changes > 0);

    /* the scheduler's process goes: the executor's node declares it dead */
    kt_node_stop(b);
    for (int i = 0; i < 40 && kt_node_reachable(a, KT_SCHEDULER_ACTOR); i++)
        run_for(&loop, 100);
    assert_false(kt_node_reachable(a, KT_SCHEDULER_ACTOR));

    /* a change meanwhile still leaves its notice, for the scheduler's replay when it is back */
    run_one(&loop, a, client, rev, &r, id2);
    assert_int_equal(notices_of(st, id2, "SUCCESS"), 1);

    kt_node_stop(a);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    kt_worker_free(w);
    kt_node_free(a);
    kt_node_free(b);
    kt_store_close(st);
    nftw(root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
    kt_log_set_level(KT_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notices_while_scheduler_away),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
