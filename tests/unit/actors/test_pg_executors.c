/* Two executors on two nodes (inproc, one loop) over one PostgreSQL schema (actors/executor/leases.c): the first
 * alone takes every partition; once the second joins, the partitions are shared out as rendezvous hashing says
 * (each lease held by exactly the member both nodes compute), executions created through the first node run on the
 * owner of their partition (the first passes them on) and their kills reach it the same way, a Subflow's child is
 * taken in by its parent's executor in one of that executor's partitions, a kill of a parent reaches its limited
 * flow's child on the other executor; when the second stops,
 * it gives its leases back and the first takes them and loads the executions left PAUSED there. A message for a
 * partition whose lease a dead member holds waits, parked, until the lease expires and is taken. Skips (77) without
 * the test PostgreSQL (tests/pg/start.sh). */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors/executor/executor.h"
#include "base/clock.h"
#include "base/id.h"
#include "base/partition.h"
#include "flow/model.h"
#include "flow/state.h"
#include "tests/pg/pg_url.h"

static char g_url[512];

static const char *FLOW = "id: held\nnamespace: a.b\ntasks:\n  - id: wait\n    type: io.kestra.plugin.core.flow.Pause\n";
static const char *LIMITED = "id: limited\nnamespace: a.b\nconcurrency:\n  limit: 1\ntasks:\n"
                             "  - id: wait\n    type: io.kestra.plugin.core.flow.Pause\n";
static const char *LPARENT = "id: lparent\nnamespace: a.b\ntasks:\n  - id: call\n"
                             "    type: io.kestra.plugin.core.flow.Subflow\n    namespace: a.b\n    flowId: limited\n";
static const char *PARENT = "id: parent\nnamespace: a.b\ntasks:\n  - id: call\n    type: io.kestra.plugin.core.flow.Subflow\n"
                            "    namespace: a.b\n    flowId: held\n";

enum { NEXEC = 24 };

typedef struct fixture {
    char schema[64];
    char url[768];
    uv_loop_t loop;
    kt_store *sa, *sb; /* one connection per executor, as two processes would have */
    kt_node *a, *b;
    kt_actor *client;
    int revision, parent_revision, lparent_revision;
    int replies, ok;
} fixture;

static void run_sql(const char *url, const char *sql)
{
    PGconn *c = PQconnectdb(url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
}

static kt_store *open_store(const fixture *f)
{
    kt_store *s = NULL;
    char err[512] = "";
    if (kt_store_open(f->url, NULL, &s, err, sizeof err))
        fail_msg("kt_store_open: %s", err);
    return s;
}

static void client_receive(kt_actor *a, const kt_msg *m)
{
    fixture *f = kt_actor_state(a);
    if (m->type != KT_MSG_REPLY)
        return;
    kt_msg_reply r;
    assert_int_equal(kt_msg_decode_reply(m->body, &r), KT_OK);
    f->replies++;
    f->ok += r.status == KT_OK;
    kt_msg_reply_clear(&r);
}
static const kt_actor_ops client_ops = {.receive = client_receive};

static int setup(void **state)
{
    static int n;
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->schema, sizeof f->schema, "kt_execs_%d_%d", (int)getpid(), ++n);
    char sql[128];
    snprintf(sql, sizeof sql, "SET client_min_messages = warning; CREATE SCHEMA %s", f->schema);
    run_sql(g_url, sql);
    snprintf(f->url, sizeof f->url, "%s%coptions=-csearch_path%%3D%s%%20-clock_timeout%%3D10s", g_url,
             strchr(g_url, '?') ? '&' : '?', f->schema);
    f->sa = open_store(f);
    f->sb = open_store(f);
    int changed;
    assert_int_equal(kt_store_flow_save(f->sa, "a.b", "held", FLOW, &f->revision, &changed), KT_OK);
    assert_int_equal(kt_store_flow_save(f->sa, "a.b", "parent", PARENT, &f->parent_revision, &changed), KT_OK);
    int rev;
    assert_int_equal(kt_store_flow_save(f->sa, "a.b", "limited", LIMITED, &rev, &changed), KT_OK);
    assert_int_equal(kt_store_flow_save(f->sa, "a.b", "lparent", LPARENT, &f->lparent_revision, &changed), KT_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    kt_store_close(f->sa);
    kt_store_close(f->sb);
    char sql[128];
    snprintf(sql, sizeof sql, "SET client_min_messages = warning; DROP SCHEMA %s CASCADE", f->schema);
    run_sql(g_url, sql);
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

/* 1 when every lease is held by the member rendezvous hashing names among `members`. */
static int leases_match(fixture *f, const char *const *members, int n)
{
    json_t *rows = NULL;
    assert_int_equal(kt_store_leases(f->sa, "executor", &rows, NULL), KT_OK);
    int match = json_array_size(rows) == KT_PARTITIONS;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        int p = (int)json_integer_value(json_object_get(r, "id"));
        const char *best = NULL;
        uint64_t bw = 0;
        for (int k = 0; k < n; k++)
            if (!best || kt_partition_weight(members[k], p) > bw)
                best = members[k], bw = kt_partition_weight(members[k], p);
        const char *o = json_string_value(json_object_get(r, "owner"));
        match &= o && !strcmp(o, best);
    }
    json_decref(rows);
    return match;
}

/* An ExecutionCreate of flow (NULL: a kill of id) from alpha's client, to alpha's own executor first. */
static void send_to_executor(fixture *f, const char *flow, uint64_t corr, const char *id)
{
    kt_outmsg o;
    kt_outmsg_begin(&o, flow ? KT_MSG_EXECUTION_CREATE : KT_MSG_EXEC_COMMAND, KT_EXECUTOR_ACTOR,
                    kt_actor_address(f->client), corr);
    if (flow) {
        int rev = !strcmp(flow, "parent") ? f->parent_revision : !strcmp(flow, "lparent") ? f->lparent_revision
                                                                                          : f->revision;
        json_t *execution = kt_execution_new(id, "a.b", flow, rev, NULL, NULL, NULL, kt_now_us());
        kt_msg_execution_create body = {.execution = execution};
        kt_msg_encode_execution_create(&o, &body);
        json_decref(execution);
    } else {
        kt_msg_exec_command body = {.execution_id = (char *)id, .taskrun_id = "", .command = KT_CMD_KILL};
        kt_msg_encode_exec_command(&o, &body);
    }
    assert_int_equal(kt_node_send(f->a, KT_EXECUTOR_ACTOR, &o), KT_OK);
}

static const char *stored_state(fixture *f, const char *id, char *buf, size_t cap)
{
    json_t *ex = NULL;
    if (kt_store_execution_get(f->sa, id, &ex) != KT_OK)
        return "";
    snprintf(buf, cap, "%s", kt_state_current(ex));
    json_decref(ex);
    return buf;
}

static int count_state(fixture *f, char ids[][KT_ID_LEN + 1], int n, const char *state, int in_beta)
{
    const char *const one[] = {"alpha"};
    (void)one;
    int c = 0;
    char st[32];
    for (int i = 0; i < n; i++) {
        const char *o = kt_node_partition_owner(f->a, KT_EXECUTOR_ACTOR, kt_exec_partition(ids[i]));
        if (in_beta >= 0 && (o && !strcmp(o, "beta")) != in_beta)
            continue;
        c += !strcmp(stored_state(f, ids[i], st, sizeof st), state);
    }
    return c;
}

static void test_two_executors(void **state)
{
    fixture *f = *state;
    uv_loop_init(&f->loop);
    kt_node_config ca = {.node_id = "alpha", .heartbeat_ms = 50, .liveness_timeout_ms = 600};
    kt_node_config cb = {.node_id = "beta", .heartbeat_ms = 50, .liveness_timeout_ms = 600};
    assert_int_equal(kt_node_new(&f->loop, &ca, &f->a), KT_OK);
    assert_int_equal(kt_node_new(&f->loop, &cb, &f->b), KT_OK);
    assert_int_equal(kt_node_spawn(f->a, "client", &client_ops, f, &f->client), KT_OK);
    kt_executor *ea, *eb;
    kt_executor_options o = {.lease_ttl_ms = 600}; /* renewed and taken every 200 ms */
    assert_int_equal(kt_executor_start(f->a, f->sa, &o, &ea), KT_OK);
    const char *const alone[] = {"alpha"}, *const both[] = {"alpha", "beta"};
    assert_true(leases_match(f, alone, 1));

    /* beta starts alone (everything is alpha's: it takes nothing), then joins */
    assert_int_equal(kt_executor_start(f->b, f->sb, &o, &eb), KT_OK);
    assert_true(leases_match(f, alone, 1));
    char err[256];
    assert_int_equal(kt_node_listen(f->a, "inproc://kite-test-executors", err, sizeof err), KT_OK);
    assert_int_equal(kt_node_join(f->b, "inproc://kite-test-executors", err, sizeof err), KT_OK);
    for (int t = 0; t < 40 && !leases_match(f, both, 2); t++)
        run_ms(f, 100);
    assert_true(leases_match(f, both, 2));

    /* executions sent to alpha's executor: each runs on its partition's owner */
    char ids[NEXEC][KT_ID_LEN + 1];
    int on_beta = 0;
    for (int i = 0; i < NEXEC; i++) {
        kt_id_new(ids[i]);
        on_beta += !strcmp(kt_node_partition_owner(f->a, KT_EXECUTOR_ACTOR, kt_exec_partition(ids[i])), "beta");
        send_to_executor(f, "held", (uint64_t)i + 1, ids[i]);
    }
    assert_true(on_beta > 0 && on_beta < NEXEC); /* 24 random ids: both members get some */
    for (int t = 0; t < 40 && f->replies < NEXEC; t++)
        run_ms(f, 50);
    assert_int_equal(f->replies, NEXEC);
    assert_int_equal(f->ok, NEXEC);
    assert_int_equal(count_state(f, ids, NEXEC, "PAUSED", -1), NEXEC);

    /* half of them killed, through alpha again */
    for (int i = 0; i < NEXEC; i += 2)
        send_to_executor(f, NULL, 0, ids[i]);
    for (int t = 0; t < 40 && count_state(f, ids, NEXEC, "KILLED", -1) < NEXEC / 2; t++)
        run_ms(f, 50);
    assert_int_equal(count_state(f, ids, NEXEC, "KILLED", -1), NEXEC / 2);

    /* Subflow children: taken in by their parent's executor, in one of the partitions it holds */
    enum { NPARENT = 6 };
    char parents[NPARENT][KT_ID_LEN + 1];
    f->replies = f->ok = 0;
    for (int i = 0; i < NPARENT; i++) {
        kt_id_new(parents[i]);
        send_to_executor(f, "parent", 100 + (uint64_t)i, parents[i]);
    }
    int placed = 0;
    for (int t = 0; t < 60 && placed < NPARENT; t++) {
        run_ms(f, 50);
        placed = 0;
        for (int i = 0; i < NPARENT; i++) {
            json_t *pe = NULL;
            if (kt_store_execution_get(f->sa, parents[i], &pe) != KT_OK)
                continue;
            const char *cid = NULL;
            size_t k;
            json_t *tr;
            json_array_foreach(json_object_get(pe, "taskRunList"), k, tr)
                cid = json_string_value(json_object_get(json_object_get(tr, "outputs"), "executionId"));
            char st[32];
            if (cid && !strcmp(stored_state(f, cid, st, sizeof st), "PAUSED")) {
                const char *po = kt_node_partition_owner(f->a, KT_EXECUTOR_ACTOR, kt_exec_partition(parents[i]));
                const char *co = kt_node_partition_owner(f->a, KT_EXECUTOR_ACTOR, kt_exec_partition(cid));
                assert_string_equal(po, co);
                placed++;
            }
            json_decref(pe);
        }
    }
    assert_int_equal(placed, NPARENT);
    assert_int_equal(f->ok, NPARENT);

    /* beta stops (its leases given back); alpha, once it declares beta dead, takes everything and loads beta's
     * PAUSED executions: killing them through alpha now works */
    kt_node_stop(f->b);
    for (int t = 0; t < 60 && !leases_match(f, alone, 1); t++)
        run_ms(f, 100);
    assert_true(leases_match(f, alone, 1));
    for (int i = 1; i < NEXEC; i += 2)
        send_to_executor(f, NULL, 0, ids[i]);
    for (int t = 0; t < 40 && count_state(f, ids, NEXEC, "KILLED", -1) < NEXEC; t++)
        run_ms(f, 50);
    assert_int_equal(count_state(f, ids, NEXEC, "KILLED", -1), NEXEC);

    kt_node_stop(f->a);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    kt_node_free(f->a);
    kt_node_free(f->b);
}

/* A partition whose lease a dead member still holds: the executor that should own it parks the messages for it (a
 * creation gets no answer and stores nothing yet) and, once the lease expires and it takes it, receives them. */
static void test_parked_until_taken(void **state)
{
    fixture *f = *state;
    char id[KT_ID_LEN + 1];
    kt_id_new(id);
    int p = kt_exec_partition(id);
    kt_lease got[1];
    size_t n = 0;
    assert_int_equal(kt_store_lease_take(f->sb, "executor", &p, 1, "ghost", 1500 * 1000, 0, got, &n), KT_OK);
    assert_int_equal(n, 1);
    uv_loop_init(&f->loop);
    kt_node_config ca = {.node_id = "alpha"};
    assert_int_equal(kt_node_new(&f->loop, &ca, &f->a), KT_OK);
    assert_int_equal(kt_node_spawn(f->a, "client", &client_ops, f, &f->client), KT_OK);
    kt_executor *ea;
    kt_executor_options o = {.lease_ttl_ms = 600};
    assert_int_equal(kt_executor_start(f->a, f->sa, &o, &ea), KT_OK);
    json_t *rows = NULL;
    assert_int_equal(kt_store_leases(f->sa, "executor", &rows, NULL), KT_OK);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, (size_t)p), "owner")), "ghost");
    json_decref(rows);
    send_to_executor(f, "held", 1, id);
    run_ms(f, 400);
    char st[32];
    assert_int_equal(f->replies, 0);
    assert_string_equal(stored_state(f, id, st, sizeof st), "");
    for (int t = 0; t < 40 && !f->replies; t++) /* the ghost's lease ends 1.5 s after it was taken */
        run_ms(f, 100);
    assert_int_equal(f->replies, 1);
    assert_int_equal(f->ok, 1);
    assert_string_equal(stored_state(f, id, st, sizeof st), "PAUSED");
    const char *const alone[] = {"alpha"};
    assert_true(leases_match(f, alone, 1));
    kt_node_stop(f->a);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    kt_node_free(f->a);
}

/* Alpha and beta joined, each with its executor, the leases shared out as rendezvous hashing says. */
static void start_two(fixture *f)
{
    uv_loop_init(&f->loop);
    kt_node_config ca = {.node_id = "alpha", .heartbeat_ms = 50, .liveness_timeout_ms = 600};
    kt_node_config cb = {.node_id = "beta", .heartbeat_ms = 50, .liveness_timeout_ms = 600};
    assert_int_equal(kt_node_new(&f->loop, &ca, &f->a), KT_OK);
    assert_int_equal(kt_node_new(&f->loop, &cb, &f->b), KT_OK);
    assert_int_equal(kt_node_spawn(f->a, "client", &client_ops, f, &f->client), KT_OK);
    kt_executor *ea, *eb;
    kt_executor_options o = {.lease_ttl_ms = 600};
    assert_int_equal(kt_executor_start(f->a, f->sa, &o, &ea), KT_OK);
    assert_int_equal(kt_executor_start(f->b, f->sb, &o, &eb), KT_OK);
    char err[256];
    assert_int_equal(kt_node_listen(f->a, "inproc://kite-test-executors-2", err, sizeof err), KT_OK);
    assert_int_equal(kt_node_join(f->b, "inproc://kite-test-executors-2", err, sizeof err), KT_OK);
    const char *const both[] = {"alpha", "beta"};
    for (int t = 0; t < 40 && !leases_match(f, both, 2); t++)
        run_ms(f, 100);
    assert_true(leases_match(f, both, 2));
}

/* The executions of a flow with a concurrency limit meet in the flow's partition: a Subflow child of such a flow
 * whose partition the other executor owns is handed to it (the parent's executor commits the child's id first);
 * killed there, its end reaches the parent on the first executor, which ends. */
/* A parent of lparent in one member's partition, its limited child PAUSED in the other's: their ids. */
static void start_limited_child(fixture *f, char *parent, char *cid)
{
    start_two(f);
    int fp = kt_flow_partition("a.b", "limited");
    const char *child_owner = kt_node_partition_owner(f->a, KT_EXECUTOR_ACTOR, fp);
    do /* a parent whose own partition is the other member's */
        kt_id_new(parent);
    while (!strcmp(kt_node_partition_owner(f->a, KT_EXECUTOR_ACTOR, kt_exec_partition(parent)), child_owner));
    send_to_executor(f, "lparent", 1, parent);
    char st[32];
    cid[0] = 0;
    for (int t = 0; t < 60 && (!cid[0] || strcmp(stored_state(f, cid, st, sizeof st), "PAUSED")); t++) {
        run_ms(f, 50);
        json_t *pe = NULL;
        if (kt_store_execution_get(f->sa, parent, &pe) != KT_OK)
            continue;
        size_t k;
        json_t *tr;
        json_array_foreach(json_object_get(pe, "taskRunList"), k, tr) {
            const char *c = json_string_value(json_object_get(json_object_get(tr, "outputs"), "executionId"));
            if (c)
                snprintf(cid, KT_ID_LEN + 1, "%s", c);
        }
        json_decref(pe);
    }
    assert_true(cid[0] != 0);
    assert_int_equal(kt_exec_partition(cid), fp);
    assert_string_equal(stored_state(f, cid, st, sizeof st), "PAUSED");
    assert_string_equal(stored_state(f, parent, st, sizeof st), "RUNNING");
}

static void stop_two(fixture *f)
{
    kt_node_stop(f->b);
    kt_node_stop(f->a);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    kt_node_free(f->a);
    kt_node_free(f->b);
}

static void test_limited_child_elsewhere(void **state)
{
    fixture *f = *state;
    char parent[KT_ID_LEN + 1], cid[KT_ID_LEN + 1], st[32];
    start_limited_child(f, parent, cid);
    send_to_executor(f, NULL, 0, cid); /* killed on its owner */
    for (int t = 0; t < 60 && strcmp(stored_state(f, parent, st, sizeof st), "RUNNING") == 0; t++)
        run_ms(f, 50);
    assert_string_equal(stored_state(f, cid, st, sizeof st), "KILLED");
    assert_true(kt_state_is_terminated(stored_state(f, parent, st, sizeof st)));
    stop_two(f);
}

/* The kill of the parent cascades to its child on the other executor (sent to the owner of the child's partition). */
static void test_kill_cascades_elsewhere(void **state)
{
    fixture *f = *state;
    char parent[KT_ID_LEN + 1], cid[KT_ID_LEN + 1], st[32];
    start_limited_child(f, parent, cid);
    send_to_executor(f, NULL, 0, parent);
    for (int t = 0; t < 60 && strcmp(stored_state(f, cid, st, sizeof st), "KILLED"); t++)
        run_ms(f, 50);
    assert_string_equal(stored_state(f, cid, st, sizeof st), "KILLED");
    assert_string_equal(stored_state(f, parent, st, sizeof st), "KILLED");
    stop_two(f);
}

int main(void)
{
    int rc = kt_test_pg_url(g_url, sizeof g_url);
    if (rc)
        return rc;
    setenv("PGOPTIONS", "-c lock_timeout=10s", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_executors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parked_until_taken, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limited_child_elsewhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_cascades_elsewhere, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
