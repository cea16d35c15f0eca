/* Keyed routing (runtime/node_keyed.c): with one member every partition is its own; over inproc with two and three
 * nodes, the messages for one key all reach the same node, the one kt_node_partition_owner names, every member
 * gets a share, and a member that leaves hands exactly its partitions to the others while the rest stay put. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "base/partition.h"
#include "runtime/node.h"

#define NKEYS 200

/* What one node's "exec" actor received: the seq of each ping, seq = key index + 1 */
typedef struct sink {
    const char *node;
    int got[NKEYS + 1];
    int total;
} sink;

static void sink_receive(kt_actor *a, const kt_msg *m)
{
    sink *s = kt_actor_state(a);
    kt_msg_ping ping;
    assert_int_equal(m->type, KT_MSG_PING);
    assert_int_equal(kt_msg_decode_ping(m->body, &ping), KT_OK);
    assert_true(ping.seq >= 1 && ping.seq <= NKEYS);
    s->got[ping.seq]++;
    s->total++;
}

static const kt_actor_ops sink_ops = {.receive = sink_receive};

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

static char g_keys[NKEYS][KT_ID_LEN + 1];

static void make_keys(void)
{
    for (int i = 0; i < NKEYS; i++)
        kt_id_new(g_keys[i]);
}

/* Sends key i's ping (seq i + 1) from node `from`, keyed by the key. */
static void send_key(kt_node *from, int i)
{
    kt_outmsg o;
    char me[KT_ADDR_MAX];
    snprintf(me, sizeof me, "test@%s", kt_node_id(from)); /* a peer's message must come from a member */
    kt_outmsg_begin(&o, KT_MSG_PING, "exec", me, 0);
    kt_msg_ping p = {.seq = (uint64_t)i + 1};
    kt_msg_encode_ping(&o, &p);
    assert_int_equal(kt_node_send_keyed(from, "exec", g_keys[i], &o), KT_OK);
}

static void test_one_member(void **s)
{
    (void)s;
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_node *n;
    kt_node_config cfg = {.node_id = "solo"};
    assert_int_equal(kt_node_new(&loop, &cfg, &n), KT_OK);
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_PING, "exec", "test@solo", 0);
    assert_int_equal(kt_node_send_keyed(n, "exec", "abc", &o), KT_ENOTFOUND); /* nobody hosts it yet */
    assert_null(kt_node_partition_owner(n, "exec", 0));
    sink sk = {.node = "solo"};
    assert_int_equal(kt_node_spawn(n, "exec", &sink_ops, &sk, NULL), KT_OK);
    for (int p = 0; p < KT_PARTITIONS; p++)
        assert_string_equal(kt_node_partition_owner(n, "exec", p), "solo");
    const char *ids[4];
    assert_int_equal(kt_node_hosts(n, "exec", ids, 4), 1);
    assert_string_equal(ids[0], "solo");
    assert_int_equal(kt_node_hosts(n, "other", ids, 4), 0);
    char addr[KT_ADDR_MAX];
    assert_int_equal(kt_node_keyed_address(n, "exec", "abc", addr, sizeof addr), KT_OK);
    assert_string_equal(addr, "exec@solo");
    assert_int_equal(kt_node_keyed_address(n, "exec", "abc", addr, 6), KT_EINVAL);
    make_keys();
    for (int i = 0; i < NKEYS; i++)
        send_key(n, i);
    run_for(&loop, 50);
    assert_int_equal(sk.total, NKEYS);
    kt_node_stop(n);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    kt_node_free(n);
}

/* Three nodes: alpha listens, beta and gamma join it (alpha sees both; each of them sees alpha, and the other too
 * once nodes tell each other of the members they know). A fourth actor name hosted nowhere routes nowhere. */
typedef struct cluster {
    uv_loop_t loop;
    kt_node *node[3];
    sink sk[3];
} cluster;

static const char *const k_names[3] = {"alpha", "beta", "gamma"};

static int index_of(const char *id)
{
    for (int i = 0; i < 3; i++)
        if (id && !strcmp(id, k_names[i]))
            return i;
    return -1;
}

static void cluster_start(cluster *c, const char *url, int members)
{
    memset(c, 0, sizeof *c);
    uv_loop_init(&c->loop);
    char err[256];
    for (int i = 0; i < members; i++) {
        kt_node_config cfg = {.node_id = k_names[i], .heartbeat_ms = 50, .liveness_timeout_ms = 500};
        assert_int_equal(kt_node_new(&c->loop, &cfg, &c->node[i]), KT_OK);
        c->sk[i].node = k_names[i];
        assert_int_equal(kt_node_spawn(c->node[i], "exec", &sink_ops, &c->sk[i], NULL), KT_OK);
        if (i == 0)
            assert_int_equal(kt_node_listen(c->node[0], url, err, sizeof err), KT_OK);
        else
            assert_int_equal(kt_node_join(c->node[i], url, err, sizeof err), KT_OK);
    }
    const char *ids[4];
    for (int t = 0; t < 100 && kt_node_hosts(c->node[0], "exec", ids, 4) < (size_t)members; t++)
        run_for(&c->loop, 50);
    assert_int_equal(kt_node_hosts(c->node[0], "exec", ids, 4), (size_t)members);
    for (int i = 1; i < members; i++) /* each joiner has alpha's Welcome */
        for (int t = 0; t < 100 && kt_node_hosts(c->node[i], "exec", ids, 4) < 2; t++)
            run_for(&c->loop, 50);
}

static void cluster_stop(cluster *c, int members)
{
    for (int i = 0; i < members; i++)
        if (c->node[i])
            kt_node_stop(c->node[i]);
    uv_run(&c->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&c->loop), 0);
    for (int i = 0; i < members; i++)
        kt_node_free(c->node[i]);
}

/* Sends every key from `from`, runs the loop, and checks each key reached exactly the node owner[] names. */
static void route_all(cluster *c, kt_node *from, int *owner)
{
    for (int i = 0; i < 3; i++) {
        memset(c->sk[i].got, 0, sizeof c->sk[i].got);
        c->sk[i].total = 0;
    }
    for (int i = 0; i < NKEYS; i++) {
        owner[i] = index_of(kt_node_partition_owner(from, "exec", kt_exec_partition(g_keys[i])));
        assert_true(owner[i] >= 0);
        send_key(from, i);
        send_key(from, i); /* twice: both copies to the same node */
    }
    int total = 0;
    for (int t = 0; t < 100 && total < 2 * NKEYS; t++) {
        run_for(&c->loop, 20);
        total = c->sk[0].total + c->sk[1].total + c->sk[2].total;
    }
    assert_int_equal(total, 2 * NKEYS);
    for (int i = 0; i < NKEYS; i++)
        for (int k = 0; k < 3; k++)
            assert_int_equal(c->sk[k].got[i + 1], k == owner[i] ? 2 : 0);
}

static void test_two_members(void **s)
{
    (void)s;
    cluster c;
    cluster_start(&c, "inproc://kite-test-keyed-2", 2);
    make_keys();
    int from_a[NKEYS], from_b[NKEYS];
    route_all(&c, c.node[0], from_a);
    route_all(&c, c.node[1], from_b);
    /* both sides agree on every partition's owner, and both members own some */
    int share[2] = {0};
    for (int p = 0; p < KT_PARTITIONS; p++) {
        const char *o = kt_node_partition_owner(c.node[0], "exec", p);
        assert_string_equal(o, kt_node_partition_owner(c.node[1], "exec", p));
        share[index_of(o)]++;
    }
    assert_true(share[0] > 0 && share[1] > 0);
    for (int i = 0; i < NKEYS; i++)
        assert_int_equal(from_a[i], from_b[i]);
    assert_null(kt_node_partition_owner(c.node[0], "nobody", 3));
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_PING, "nobody", "test@x", 0);
    assert_int_equal(kt_node_send_keyed(c.node[1], "nobody", g_keys[0], &o), KT_ENOTFOUND);
    cluster_stop(&c, 2);
}

static void test_member_leaves(void **s)
{
    (void)s;
    cluster c;
    cluster_start(&c, "inproc://kite-test-keyed-3", 3);
    make_keys();
    int before[NKEYS], after[NKEYS];
    route_all(&c, c.node[0], before);
    int share[3] = {0};
    for (int i = 0; i < NKEYS; i++)
        share[before[i]]++;
    for (int k = 0; k < 3; k++)
        assert_true(share[k] > 0); /* 200 random keys: each of three members owns some */
    /* gamma goes away without a word: after the liveness timeout alpha routes its partitions to alpha and beta */
    kt_node_stop(c.node[2]);
    const char *ids[4];
    for (int t = 0; t < 100 && kt_node_hosts(c.node[0], "exec", ids, 4) > 2; t++)
        run_for(&c.loop, 50);
    assert_int_equal(kt_node_hosts(c.node[0], "exec", ids, 4), 2);
    route_all(&c, c.node[0], after);
    int moved = 0;
    for (int i = 0; i < NKEYS; i++) {
        assert_true(after[i] == 0 || after[i] == 1);
        if (before[i] != 2)
            assert_int_equal(after[i], before[i]); /* a staying member keeps its partitions */
        else
            moved++;
    }
    assert_int_equal(moved, share[2]);
    assert_int_equal(c.sk[2].total, 0);
    /* the partition table alpha computes now is beta's too */
    for (int p = 0; p < KT_PARTITIONS; p++)
        assert_string_equal(kt_node_partition_owner(c.node[0], "exec", p),
                            kt_node_partition_owner(c.node[1], "exec", p));
    cluster_stop(&c, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_member),
        cmocka_unit_test(test_two_members),
        cmocka_unit_test(test_member_leaves),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
