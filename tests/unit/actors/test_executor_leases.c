/* The executor's partitions (actors/executor/leases.c) on one node with a real SQLite store: alone, it takes the
 * lease of every partition at start (a later start moves every epoch past the earlier one's) and gives them back at
 * a graceful stop; a commit of a partition whose lease another owner took is fenced (the change is not stored, the
 * creation it held is answered KT_EAGAIN, the execution is dropped from memory), and once the executor takes the lease back
 * it loads the execution again from the store and goes on from what was committed. */
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
#include "base/partition.h"
#include "flow/model.h"
#include "flow/state.h"

static const char *FLOW = "id: held\nnamespace: a.b\ntasks:\n  - id: wait\n    type: io.kestra.plugin.core.flow.Pause\n";

typedef struct fixture {
    char root[64];
    uv_loop_t loop;
    kt_store *s;
    kt_node *node;
    kt_actor *client;
    int revision;
    int replies;
    kt_status last_status;
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
    f->replies++;
    f->last_status = (kt_status)r.status;
    kt_msg_reply_clear(&r);
}
static const kt_actor_ops client_ops = {.receive = client_receive};

static void start_node(fixture *f, const char *node_id, uint32_t ttl_ms, kt_executor **ex)
{
    uv_loop_init(&f->loop);
    kt_node_config nc = {.node_id = node_id};
    assert_int_equal(kt_node_new(&f->loop, &nc, &f->node), KT_OK);
    assert_int_equal(kt_node_spawn(f->node, "client", &client_ops, f, &f->client), KT_OK);
    kt_executor_options o = {.lease_ttl_ms = ttl_ms};
    assert_int_equal(kt_executor_start(f->node, f->s, &o, ex), KT_OK);
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
    snprintf(f->root, sizeof f->root, "/tmp/kite-leases-XXXXXX");
    if (!mkdtemp(f->root))
        return -1;
    char err[256];
    if (kt_store_open(f->root, NULL, &f->s, err, sizeof err))
        return -1;
    int changed;
    if (kt_store_flow_save(f->s, "a.b", "held", FLOW, &f->revision, &changed))
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

/* How many partitions owner holds, and the epoch they all have (-1 when they differ). */
static int held_by(fixture *f, const char *owner, int64_t *epoch)
{
    json_t *rows = NULL;
    assert_int_equal(kt_store_leases(f->s, "executor", &rows, NULL), KT_OK);
    int n = 0;
    *epoch = 0;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        const char *o = json_string_value(json_object_get(r, "owner"));
        if (!(owner ? o && !strcmp(o, owner) : !o))
            continue;
        int64_t e = json_integer_value(json_object_get(r, "epoch"));
        *epoch = n && *epoch != e ? -1 : e;
        n++;
    }
    json_decref(rows);
    return n;
}

static void test_alone_takes_all(void **state)
{
    fixture *f = *state;
    kt_executor *ex;
    start_node(f, "first", 0, &ex);
    int64_t epoch;
    assert_int_equal(held_by(f, "first", &epoch), KT_PARTITIONS);
    assert_int_equal(epoch, 1);
    stop_node(f);
    assert_int_equal(held_by(f, NULL, &epoch), KT_PARTITIONS); /* given back at stop */
    start_node(f, "second", 0, &ex);
    assert_int_equal(held_by(f, "second", &epoch), KT_PARTITIONS);
    assert_int_equal(epoch, 2);
    stop_node(f);
}

static void send_create(fixture *f, const char *id)
{
    json_t *execution = kt_execution_new(id, "a.b", "held", f->revision, NULL, NULL, NULL, kt_now_us());
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_EXECUTION_CREATE, KT_EXECUTOR_ACTOR, kt_actor_address(f->client), 7);
    kt_msg_execution_create body = {.execution = execution};
    kt_msg_encode_execution_create(&o, &body);
    assert_int_equal(kt_node_send(f->node, KT_EXECUTOR_ACTOR, &o), KT_OK);
    json_decref(execution);
}

static void send_kill(fixture *f, const char *id)
{
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, KT_EXECUTOR_ACTOR, kt_actor_address(f->client), 8);
    kt_msg_exec_command body = {.execution_id = (char *)id, .taskrun_id = "", .command = KT_CMD_KILL};
    kt_msg_encode_exec_command(&o, &body);
    assert_int_equal(kt_node_send(f->node, KT_EXECUTOR_ACTOR, &o), KT_OK);
}

static char *stored_state(fixture *f, const char *id, char *buf, size_t cap)
{
    json_t *ex = NULL;
    if (kt_store_execution_get(f->s, id, &ex) != KT_OK)
        return NULL;
    snprintf(buf, cap, "%s", kt_state_current(ex));
    json_decref(ex);
    return buf;
}

static void test_fenced_commit(void **state)
{
    fixture *f = *state;
    kt_executor *ex;
    start_node(f, "n1", 300, &ex); /* renewed and taken every 100 ms */
    char a[KT_ID_LEN + 1], b[KT_ID_LEN + 1], st[32];
    kt_id_new(a);
    do
        kt_id_new(b);
    while (kt_exec_partition(b) == kt_exec_partition(a));
    send_create(f, a);
    send_create(f, b);
    run_ms(f, 100);
    assert_int_equal(f->replies, 2);
    assert_int_equal(f->last_status, KT_OK);
    assert_string_equal(stored_state(f, a, st, sizeof st), "PAUSED");
    assert_string_equal(stored_state(f, b, st, sizeof st), "PAUSED");

    /* another owner takes a's partition (through another connection to the same database) */
    kt_store *thief;
    char err[256];
    assert_int_equal(kt_store_open(f->root, NULL, &thief, err, sizeof err), KT_OK);
    int pa = kt_exec_partition(a);
    kt_lease got[1];
    size_t n = 0;
    assert_int_equal(kt_store_lease_take(thief, "executor", &pa, 1, "thief", 60 * 1000000, 1, got, &n), KT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(got[0].epoch, 2);
    kt_store_close(thief);

    /* in one turn: a's kill, a new execution c in a's partition, b's kill. a's partition is fenced: a's kill is not
     * stored, c is not created and its request is answered KT_EAGAIN; b's kill commits on the retry */
    char c[KT_ID_LEN + 1];
    do
        kt_id_new(c);
    while (kt_exec_partition(c) != pa);
    f->replies = 0;
    send_kill(f, a);
    send_create(f, c);
    send_kill(f, b);
    run_ms(f, 30);
    assert_string_equal(stored_state(f, a, st, sizeof st), "PAUSED");
    assert_string_equal(stored_state(f, b, st, sizeof st), "KILLED");
    assert_null(stored_state(f, c, st, sizeof st));
    assert_int_equal(f->replies, 1);
    assert_int_equal(f->last_status, KT_EAGAIN);

    /* alone on an SQLite store, the executor takes its partition back at its next round (force) and loads a */
    run_ms(f, 250);
    int64_t epoch = 0;
    assert_int_equal(held_by(f, "n1", &epoch), KT_PARTITIONS);
    assert_int_equal(epoch, -1); /* a's partition at 3, the rest at 1 */
    json_t *rows = NULL;
    assert_int_equal(kt_store_leases(f->s, "executor", &rows, NULL), KT_OK);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, (size_t)pa), "epoch")), 3);
    json_decref(rows);
    send_kill(f, a);
    run_ms(f, 100);
    assert_string_equal(stored_state(f, a, st, sizeof st), "KILLED");
    stop_node(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_alone_takes_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fenced_commit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
