/* The router: local delivery, delivery across nodes over nng (inproc and tcp) on one loop, Hello/Welcome,
 * heartbeats and death after the liveness timeout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <nng/nng.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/limits.h"
#include "runtime/node.h"

typedef struct probe {
    int pings;
    uint64_t last_seq;
    char last_from[KT_ADDR_MAX];
    int flushes;
    int ups, downs;
    char down_node[64];
    uv_loop_t *loop;
    int stop_after;
    int replies_ok, replies;
} probe;

static void probe_receive(kt_actor *a, const kt_msg *m)
{
    probe *p = kt_actor_state(a);
    kt_msg_ping ping;
    if (m->type == KT_MSG_REPLY && p->replies_ok) {
        p->replies++;
        return;
    }
    assert_int_equal(m->type, KT_MSG_PING);
    assert_int_equal(kt_msg_decode_ping(m->body, &ping), KT_OK);
    assert_int_equal(ping.seq, p->last_seq + 1); /* in order */
    p->last_seq = ping.seq;
    snprintf(p->last_from, sizeof p->last_from, "%s", m->from);
    p->pings++;
    if (p->stop_after && p->pings == p->stop_after)
        uv_stop(p->loop);
}

static void probe_flush(kt_actor *a) { ((probe *)kt_actor_state(a))->flushes++; }
static void probe_up(kt_actor *a, const kt_peer_info *i)
{
    probe *p = kt_actor_state(a);
    p->ups++;
    if (p->stop_after < 0)
        uv_stop(p->loop);
}
static void probe_down(kt_actor *a, const char *node)
{
    probe *p = kt_actor_state(a);
    p->downs++;
    snprintf(p->down_node, sizeof p->down_node, "%s", node);
    uv_stop(p->loop);
}

static const kt_actor_ops probe_ops = {.receive = probe_receive, .flush = probe_flush, .peer_up = probe_up,
                                       .peer_down = probe_down};

static void send_ping(kt_node *n, const char *to, const char *from, uint64_t seq)
{
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_PING, to, from, 0);
    kt_msg_ping b = {.seq = seq};
    kt_msg_encode_ping(&o, &b);
    assert_int_equal(kt_node_send(n, to, &o), KT_OK);
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

static void close_all(uv_loop_t *loop, kt_node **nodes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        kt_node_stop(nodes[i]);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(loop), 0);
    for (size_t i = 0; i < n; i++)
        kt_node_free(nodes[i]);
}

static void test_local_delivery(void **s)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_node *n;
    kt_node_config cfg = {.node_id = "solo"};
    assert_int_equal(kt_node_new(&loop, &cfg, &n), KT_OK);
    probe p = {.loop = &loop, .stop_after = 1000};
    kt_actor *a;
    assert_int_equal(kt_node_spawn(n, "sink", &probe_ops, &p, &a), KT_OK);
    assert_int_equal(kt_node_spawn(n, "sink", &probe_ops, &p, NULL), KT_ECONFLICT);
    assert_string_equal(kt_actor_address(a), "sink@solo");
    for (uint64_t i = 1; i <= 1000; i++)
        send_ping(n, i % 2 ? "sink" : "sink@solo", "test@solo", i);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(p.pings, 1000);
    assert_true(p.flushes >= 1);
    assert_string_equal(p.last_from, "test@solo");
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_PING, "nobody", "x", 0);
    assert_int_equal(kt_node_send(n, "nobody", &o), KT_ENOTFOUND);
    kt_outmsg_begin(&o, KT_MSG_PING, "sink@elsewhere", "x", 0);
    assert_int_equal(kt_node_send(n, "sink@elsewhere", &o), KT_ENOTFOUND);
    close_all(&loop, &n, 1);
}

static void remote_roundtrip(const char *url)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_node *a, *b;
    kt_node_config ca = {.node_id = "alpha", .heartbeat_ms = 50, .liveness_timeout_ms = 400};
    kt_node_config cb = {.node_id = "beta", .heartbeat_ms = 50, .liveness_timeout_ms = 400};
    assert_int_equal(kt_node_new(&loop, &ca, &a), KT_OK);
    assert_int_equal(kt_node_new(&loop, &cb, &b), KT_OK);
    probe pa = {.loop = &loop, .stop_after = -1}, pb = {.loop = &loop};
    assert_int_equal(kt_node_spawn(a, "sink", &probe_ops, &pa, NULL), KT_OK);
    assert_int_equal(kt_node_spawn(b, "source", &probe_ops, &pb, NULL), KT_OK);
    char err[256];
    assert_int_equal(kt_node_listen(a, url, err, sizeof err), KT_OK);
    assert_int_equal(kt_node_join(b, url, err, sizeof err), KT_OK);
    run_for(&loop, 3000); /* until alpha sees beta join */
    pb.stop_after = -1;
    if (!pb.ups)
        run_for(&loop, 3000); /* until beta has alpha's Welcome */
    assert_int_equal(pa.ups, 1);
    assert_int_equal(pb.ups, 1);
    pb.stop_after = 0;
    assert_true(kt_node_reachable(b, "sink"));
    assert_true(kt_node_reachable(b, "sink@alpha"));
    assert_false(kt_node_reachable(b, "sink@beta"));
    pa.stop_after = 5000;
    for (uint64_t i = 1; i <= 5000; i++)
        send_ping(b, "sink", "source@beta", i);
    run_for(&loop, 10000);
    assert_int_equal(pa.pings, 5000);
    assert_string_equal(pa.last_from, "source@beta");
    /* beta goes away without a word: alpha declares it dead after the liveness timeout */
    kt_node_stop(b);
    run_for(&loop, 3000);
    assert_int_equal(pa.downs, 1);
    assert_string_equal(pa.down_node, "beta");
    assert_false(kt_node_reachable(a, "source"));
    kt_node *all[] = {a};
    close_all(&loop, all, 1);
    kt_node_free(b);
}

static void test_remote_inproc(void **s) { remote_roundtrip("inproc://kite-test-node"); }

/* kt_node_send_all: one copy to the local actor of that name and one to each peer hosting it (the schedulers of a
 * cluster); nobody hosting it is KT_ENOTFOUND. */
static void test_send_all(void **s)
{
    (void)s;
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_node *a, *b;
    kt_node_config ca = {.node_id = "alpha", .heartbeat_ms = 50, .liveness_timeout_ms = 2000};
    kt_node_config cb = {.node_id = "beta", .heartbeat_ms = 50, .liveness_timeout_ms = 2000};
    assert_int_equal(kt_node_new(&loop, &ca, &a), KT_OK);
    assert_int_equal(kt_node_new(&loop, &cb, &b), KT_OK);
    probe pa = {.loop = &loop, .stop_after = -1}, pb = {.loop = &loop, .stop_after = -1}, other = {.loop = &loop};
    assert_int_equal(kt_node_spawn(a, "sched", &probe_ops, &pa, NULL), KT_OK);
    assert_int_equal(kt_node_spawn(b, "sched", &probe_ops, &pb, NULL), KT_OK);
    assert_int_equal(kt_node_spawn(b, "other", &probe_ops, &other, NULL), KT_OK);
    char err[256];
    assert_int_equal(kt_node_listen(a, "inproc://kite-test-send-all", err, sizeof err), KT_OK);
    assert_int_equal(kt_node_join(b, "inproc://kite-test-send-all", err, sizeof err), KT_OK);
    for (int i = 0; i < 10 && (!pa.ups || !pb.ups); i++)
        run_for(&loop, 500);
    assert_int_equal(pa.ups, 1);
    assert_int_equal(pb.ups, 1);
    pa.stop_after = pb.stop_after = 0;
    kt_outmsg o;
    for (uint64_t seq = 1; seq <= 2; seq++) { /* once from each side */
        kt_node *from = seq == 1 ? b : a;
        kt_outmsg_begin(&o, KT_MSG_PING, "sched", seq == 1 ? "other@beta" : "sched@alpha", 0);
        kt_msg_ping p = {.seq = seq};
        kt_msg_encode_ping(&o, &p);
        assert_int_equal(kt_node_send_all(from, "sched", &o), KT_OK);
        run_for(&loop, 300); /* the probes check the order: one round at a time */
    }
    assert_int_equal(pa.pings, 2);
    assert_int_equal(pb.pings, 2);
    assert_int_equal(other.pings, 0);
    kt_outmsg_begin(&o, KT_MSG_PING, "nobody", "sched@alpha", 0);
    kt_msg_ping p = {.seq = 1};
    kt_msg_encode_ping(&o, &p);
    assert_int_equal(kt_node_send_all(a, "nobody", &o), KT_ENOTFOUND);
    kt_node *all[] = {a, b};
    close_all(&loop, all, 2);
}
/* A loopback port the kernel says is free (a fixed one would clash with another test run on the machine). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = 0};
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void test_remote_tcp(void **s)
{
    char url[64];
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", free_port());
    remote_roundtrip(url);
}

static void test_timers(void **s)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_node *n;
    kt_node_config cfg = {.node_id = "solo"};
    assert_int_equal(kt_node_new(&loop, &cfg, &n), KT_OK);
    probe p = {.loop = &loop, .stop_after = 2};
    assert_int_equal(kt_node_spawn(n, "sink", &probe_ops, &p, NULL), KT_OK);
    kt_outmsg o;
    kt_msg_ping b;
    uint64_t start = uv_now(&loop);
    /* sent out of order in time: seq 1 fires at 20 ms, seq 2 at 40 ms; the cancelled one never arrives */
    kt_outmsg_begin(&o, KT_MSG_PING, "sink", "t@solo", 0);
    b = (kt_msg_ping){.seq = 2};
    kt_msg_encode_ping(&o, &b);
    assert_true(kt_node_send_after(n, "sink", &o, 40) > 0);
    kt_outmsg_begin(&o, KT_MSG_PING, "sink", "t@solo", 0);
    b = (kt_msg_ping){.seq = 99};
    kt_msg_encode_ping(&o, &b);
    uint64_t cancelled = kt_node_send_after(n, "sink", &o, 10);
    kt_outmsg_begin(&o, KT_MSG_PING, "sink", "t@solo", 0);
    b = (kt_msg_ping){.seq = 1};
    kt_msg_encode_ping(&o, &b);
    assert_true(kt_node_send_after(n, "sink", &o, 20) > 0);
    assert_int_equal(kt_node_cancel(n, cancelled), 1);
    assert_int_equal(kt_node_cancel(n, cancelled), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(p.pings, 2);
    assert_int_equal(p.last_seq, 2);
    assert_true(uv_now(&loop) - start >= 40);
    /* a pending timer is dropped cleanly at stop */
    kt_outmsg_begin(&o, KT_MSG_PING, "sink", "t@solo", 0);
    b = (kt_msg_ping){.seq = 3};
    kt_msg_encode_ping(&o, &b);
    assert_true(kt_node_send_after(n, "sink", &o, 100000) > 0);
    close_all(&loop, &n, 1);
}

/* A mailbox holds KT_MAILBOX_CAP messages: one more is refused with KT_EAGAIN and counted, a due timer waits for
 * room instead of being dropped, and once the actor has drained its mailbox everything flows again, in order. */
static void test_mailbox_capacity(void **s)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_node *n;
    kt_node_config cfg = {.node_id = "solo"};
    assert_int_equal(kt_node_new(&loop, &cfg, &n), KT_OK);
    probe p = {.loop = &loop, .stop_after = KT_MAILBOX_CAP + 1};
    assert_int_equal(kt_node_spawn(n, "sink", &probe_ops, &p, NULL), KT_OK);
    for (uint64_t i = 1; i <= KT_MAILBOX_CAP; i++)
        send_ping(n, "sink", "t@solo", i);
    assert_false(kt_node_has_room(n, "sink"));
    assert_true(kt_node_has_room(n, "nobody")); /* not a question of room: the send says what is wrong */
    kt_outmsg o;
    kt_msg_ping b = {.seq = KT_MAILBOX_CAP + 1};
    kt_outmsg_begin(&o, KT_MSG_PING, "sink", "t@solo", 0);
    kt_msg_encode_ping(&o, &b);
    assert_int_equal(kt_node_send(n, "sink", &o), KT_EAGAIN);
    assert_int_equal(kt_node_refused(n), 1);
    /* a reply answers a request the actor made: it always fits */
    kt_outmsg_begin(&o, KT_MSG_REPLY, "sink", "t@solo", 7);
    kt_msg_reply reply = {.status = KT_OK};
    kt_msg_encode_reply(&o, &reply);
    assert_int_equal(kt_node_send(n, "sink", &o), KT_OK);
    p.replies_ok = 1;
    /* the same message as a timer due at once: it fires while the mailbox is still full, and waits */
    kt_outmsg_begin(&o, KT_MSG_PING, "sink", "t@solo", 0);
    kt_msg_encode_ping(&o, &b);
    assert_true(kt_node_send_after(n, "sink", &o, 0) > 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(p.pings, KT_MAILBOX_CAP + 1); /* the probe checked the order */
    assert_int_equal(p.replies, 1);
    assert_int_equal(p.last_seq, KT_MAILBOX_CAP + 1);
    assert_int_equal(kt_node_refused(n), 1);
    assert_true(kt_node_has_room(n, "sink"));
    p.stop_after = KT_MAILBOX_CAP + 2;
    send_ping(n, "sink", "t@solo", KT_MAILBOX_CAP + 2);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(p.last_seq, KT_MAILBOX_CAP + 2);
    close_all(&loop, &n, 1);
}

/* A paused actor (kt_actor_pause, the indexer holding too much) counts as full for new work: a local send is refused,
 * a peer's messages wait in the link, a reply still fits and what its mailbox held before still comes in; unpaused,
 * the peer's messages arrive, in order. */
static void test_pause(void **s)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_node *a, *b;
    kt_node_config ca = {.node_id = "alpha", .heartbeat_ms = 50, .liveness_timeout_ms = 5000};
    kt_node_config cb = {.node_id = "beta", .heartbeat_ms = 50, .liveness_timeout_ms = 5000};
    assert_int_equal(kt_node_new(&loop, &ca, &a), KT_OK);
    assert_int_equal(kt_node_new(&loop, &cb, &b), KT_OK);
    probe pa = {.loop = &loop, .stop_after = -1}, pb = {.loop = &loop, .stop_after = -1};
    kt_actor *sink;
    assert_int_equal(kt_node_spawn(a, "sink", &probe_ops, &pa, &sink), KT_OK);
    assert_int_equal(kt_node_spawn(b, "source", &probe_ops, &pb, NULL), KT_OK);
    char err[256];
    assert_int_equal(kt_node_listen(a, "inproc://kite-test-pause", err, sizeof err), KT_OK);
    assert_int_equal(kt_node_join(b, "inproc://kite-test-pause", err, sizeof err), KT_OK);
    for (int i = 0; i < 10 && (!pa.ups || !pb.ups); i++)
        run_for(&loop, 300);
    assert_int_equal(pa.ups, 1);
    assert_int_equal(pb.ups, 1);
    pa.stop_after = pb.stop_after = 0;

    send_ping(a, "sink", "t@alpha", 1); /* in the mailbox before the pause */
    kt_actor_pause(sink, 1);
    assert_false(kt_node_has_room(a, "sink"));
    kt_outmsg o;
    kt_msg_ping ping = {.seq = 2};
    kt_outmsg_begin(&o, KT_MSG_PING, "sink", "t@alpha", 0);
    kt_msg_encode_ping(&o, &ping);
    assert_int_equal(kt_node_send(a, "sink", &o), KT_EAGAIN);
    assert_int_equal(kt_node_refused(a), 1);
    kt_outmsg_begin(&o, KT_MSG_REPLY, "sink", "t@alpha", 7);
    kt_msg_reply reply = {.status = KT_OK};
    kt_msg_encode_reply(&o, &reply);
    assert_int_equal(kt_node_send(a, "sink", &o), KT_OK);
    pa.replies_ok = 1;
    for (uint64_t i = 2; i <= 11; i++) /* the peer's view is its link's room: it sends */
        send_ping(b, "sink", "source@beta", i);
    run_for(&loop, 300);
    assert_int_equal(pa.pings, 1);
    assert_int_equal(pa.replies, 1);
    assert_false(kt_node_has_room(a, "sink"));

    kt_actor_pause(sink, 0);
    assert_true(kt_node_has_room(a, "sink"));
    pa.stop_after = 11;
    run_for(&loop, 3000);
    assert_int_equal(pa.pings, 11); /* the probe checked the order */
    assert_string_equal(pa.last_from, "source@beta");
    kt_node *all[] = {a, b};
    close_all(&loop, all, 2);
}

/* A pause longer than the liveness timeout (the indexer waiting for a store that is down): the link holds one peer's
 * messages for it and, behind them, everything else it receives, the other peers' heartbeats too, so the node hears
 * nothing from them; that silence is its own doing and no sign of their death. No node declares another dead, and
 * unpaused the messages come in, in order. */
static void test_long_pause_keeps_peers(void **s)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_node *a, *b, *c;
    kt_node_config ca = {.node_id = "alpha", .heartbeat_ms = 50, .liveness_timeout_ms = 400};
    kt_node_config cb = {.node_id = "beta", .heartbeat_ms = 50, .liveness_timeout_ms = 400};
    kt_node_config cc = {.node_id = "gamma", .heartbeat_ms = 50, .liveness_timeout_ms = 400};
    assert_int_equal(kt_node_new(&loop, &ca, &a), KT_OK);
    assert_int_equal(kt_node_new(&loop, &cb, &b), KT_OK);
    assert_int_equal(kt_node_new(&loop, &cc, &c), KT_OK);
    probe pa = {.loop = &loop, .stop_after = -1}, pb = {.loop = &loop, .stop_after = -1},
          pc = {.loop = &loop, .stop_after = -1};
    kt_actor *sink;
    assert_int_equal(kt_node_spawn(a, "sink", &probe_ops, &pa, &sink), KT_OK);
    assert_int_equal(kt_node_spawn(b, "source", &probe_ops, &pb, NULL), KT_OK);
    assert_int_equal(kt_node_spawn(c, "other", &probe_ops, &pc, NULL), KT_OK);
    char err[256];
    assert_int_equal(kt_node_listen(a, "inproc://kite-test-long-pause", err, sizeof err), KT_OK);
    assert_int_equal(kt_node_join(b, "inproc://kite-test-long-pause", err, sizeof err), KT_OK);
    assert_int_equal(kt_node_join(c, "inproc://kite-test-long-pause", err, sizeof err), KT_OK);
    for (int i = 0; i < 20 && (pa.ups < 2 || !pb.ups || !pc.ups); i++)
        run_for(&loop, 300);
    assert_int_equal(pa.ups, 2);
    assert_true(pb.ups >= 1 && pc.ups >= 1);
    pa.stop_after = pb.stop_after = pc.stop_after = 0;

    kt_actor_pause(sink, 1);
    for (uint64_t i = 1; i <= 5; i++)
        send_ping(b, "sink", "source@beta", i);
    run_for(&loop, 1500); /* more than three liveness timeouts */
    assert_int_equal(pa.pings, 0);
    assert_int_equal(pa.downs, 0);
    assert_int_equal(pb.downs, 0);
    assert_int_equal(pc.downs, 0);
    assert_true(kt_node_reachable(a, "other"));

    kt_actor_pause(sink, 0);
    pa.stop_after = 5;
    run_for(&loop, 3000);
    assert_int_equal(pa.pings, 5);
    run_for(&loop, 600); /* heartbeats flow again: still alive */
    assert_int_equal(pa.downs, 0);
    assert_true(kt_node_reachable(a, "other"));
    kt_node *all[] = {a, b, c};
    close_all(&loop, all, 3);
}

/* An actor's messages to itself are part of work it already took: they are never refused, however many. */
typedef struct selfish {
    uv_loop_t *loop;
    uint64_t got;
} selfish;

static void selfish_receive(kt_actor *a, const kt_msg *m)
{
    selfish *st = kt_actor_state(a);
    kt_msg_ping ping;
    assert_int_equal(kt_msg_decode_ping(m->body, &ping), KT_OK);
    assert_int_equal(ping.seq, st->got + 1);
    if (++st->got == 1) /* the first one: twice a mailbox's worth of continuations */
        for (uint64_t i = 2; i <= 2 * KT_MAILBOX_CAP + 1; i++) {
            assert_true(kt_node_has_room(kt_actor_node(a), kt_actor_address(a)));
            send_ping(kt_actor_node(a), kt_actor_address(a), kt_actor_address(a), i);
        }
    if (st->got == 2 * KT_MAILBOX_CAP + 1)
        uv_stop(st->loop);
}

static void test_self_sends_fit(void **s)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_node *n;
    kt_node_config cfg = {.node_id = "solo"};
    assert_int_equal(kt_node_new(&loop, &cfg, &n), KT_OK);
    selfish st = {.loop = &loop};
    static const kt_actor_ops ops = {.receive = selfish_receive};
    assert_int_equal(kt_node_spawn(n, "self", &ops, &st, NULL), KT_OK);
    send_ping(n, "self", "t@solo", 1);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(st.got, 2 * KT_MAILBOX_CAP + 1);
    assert_int_equal(kt_node_refused(n), 0);
    close_all(&loop, &n, 1);
}

/* Outside the node's hooks (a timer callback of the actor's own, say), a message whose `from` is its `to` is still
 * the actor's message to itself and fits a full mailbox; another sender's is refused. */
static void test_self_sends_fit_outside_hooks(void **s)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_node *n;
    kt_node_config cfg = {.node_id = "solo"};
    assert_int_equal(kt_node_new(&loop, &cfg, &n), KT_OK);
    probe p = {.loop = &loop, .stop_after = -1};
    assert_int_equal(kt_node_spawn(n, "sink", &probe_ops, &p, NULL), KT_OK);
    for (uint64_t i = 0; i < KT_MAILBOX_CAP; i++)
        send_ping(n, "sink", "t@solo", i);
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_PING, "sink@solo", "t@solo", 0);
    kt_msg_ping b = {.seq = 1};
    kt_msg_encode_ping(&o, &b);
    assert_int_equal(kt_node_send(n, "sink@solo", &o), KT_EAGAIN);
    kt_outmsg_begin(&o, KT_MSG_PING, "sink@solo", "sink@solo", 0);
    kt_msg_encode_ping(&o, &b);
    assert_int_equal(kt_node_send(n, "sink@solo", &o), KT_OK);
    assert_int_equal(kt_node_refused(n), 1);
    close_all(&loop, &n, 1);
}

static void test_bad_address(void **s)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_node *n;
    assert_int_equal(kt_node_new(&loop, NULL, &n), KT_OK);
    char err[256] = "";
    assert_int_not_equal(kt_node_listen(n, "bogus://nowhere", err, sizeof err), KT_OK);
    assert_non_null(strstr(err, "bogus://nowhere"));
    close_all(&loop, &n, 1);
}

/* The actor lists peers advertise and --actors takes: whole names only, a name may be given with its length (the part
 * of "name@node" before the @). */
static void test_actors_list(void **s)
{
    (void)s;
    assert_true(kt_node_actors_has("executor,worker", "worker", 6));
    assert_true(kt_node_actors_has("executor,worker", "executor", 8));
    assert_true(kt_node_actors_has("worker", "worker@node-2", 6));
    assert_false(kt_node_actors_has("executor,worker", "work", 4));
    assert_false(kt_node_actors_has("executors", "executor", 8));
    assert_false(kt_node_actors_has("", "worker", 6));
    assert_false(kt_node_actors_has(NULL, "worker", 6));
    assert_false(kt_node_actors_has("worker,", "", 0)); /* an empty name is in no list */
}

/* Until every node sees every other one (or the time is up): members lists hold themselves and the live peers. */
static int run_until_mesh(uv_loop_t *loop, kt_node **nodes, size_t n, int ms)
{
    for (int waited = 0; waited < ms; waited += 50) {
        size_t full = 0;
        for (size_t i = 0; i < n; i++) {
            json_t *m = kt_node_members(nodes[i]);
            full += json_array_size(m) == n;
            json_decref(m);
        }
        if (full == n)
            return 1;
        run_for(loop, 50);
    }
    return 0;
}

/* A node learns the others from the one it joins: beta and gamma both join alpha, then reach each other directly
 * (alpha relays nothing), by name or by name@node; a late delta joining gamma reaches alpha's and beta's actors, alpha
 * (listening on 0.0.0.0) at the address the others joined it at. */
static void test_members_learn_each_other(void **s)
{
    (void)s;
    uv_loop_t loop;
    uv_loop_init(&loop);
    const char *ids[] = {"alpha", "beta", "gamma", "delta"};
    const char *actors[] = {"a-sink", "b-sink", "c-sink", "d-sink"};
    kt_node *nodes[4];
    probe pr[4];
    memset(pr, 0, sizeof pr);
    for (int i = 0; i < 4; i++) {
        kt_node_config c = {.node_id = ids[i], .heartbeat_ms = 50, .liveness_timeout_ms = 2000};
        assert_int_equal(kt_node_new(&loop, &c, &nodes[i]), KT_OK);
        pr[i].loop = &loop;
        assert_int_equal(kt_node_spawn(nodes[i], actors[i], &probe_ops, &pr[i], NULL), KT_OK);
    }
    char url[64], any[64], err[256];
    int port = free_port();
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", port);
    snprintf(any, sizeof any, "tcp://0.0.0.0:%d", port); /* alpha on every interface: it says 0.0.0.0 */
    assert_int_equal(kt_node_listen(nodes[0], any, err, sizeof err), KT_OK);
    assert_int_equal(kt_node_join(nodes[1], url, err, sizeof err), KT_OK);
    assert_int_equal(kt_node_join(nodes[2], url, err, sizeof err), KT_OK);
    assert_true(run_until_mesh(&loop, nodes, 3, 5000));
    assert_true(kt_node_reachable(nodes[1], "c-sink"));
    assert_true(kt_node_reachable(nodes[2], "b-sink@beta"));
    assert_int_equal(pr[1].ups, 2); /* alpha and gamma, each once */
    json_t *seen = kt_node_members(nodes[1]); /* alpha at the address beta joined, not 0.0.0.0 */
    for (size_t i = 1; i < 3; i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(seen, i), "id")), "alpha"))
            assert_string_equal(json_string_value(json_object_get(json_array_get(seen, i), "address")), url);
    json_decref(seen);
    assert_int_equal(pr[2].ups, 2);
    /* delta joins gamma's inbound address (the one gamma advertises) */
    json_t *m = kt_node_members(nodes[2]);
    char gamma_url[256];
    snprintf(gamma_url, sizeof gamma_url, "%s", json_string_value(json_object_get(json_array_get(m, 0), "address")));
    json_decref(m);
    assert_int_equal(kt_node_join(nodes[3], gamma_url, err, sizeof err), KT_OK);
    assert_true(run_until_mesh(&loop, nodes, 4, 5000));
    assert_int_equal(pr[0].ups, 3);
    send_ping(nodes[1], "c-sink", "b-sink@beta", 1);
    send_ping(nodes[2], "b-sink", "c-sink@gamma", 1);
    send_ping(nodes[3], "a-sink", "d-sink@delta", 1);
    for (int i = 0; i < 40 && (pr[2].pings < 1 || pr[1].pings < 1 || pr[0].pings < 1); i++)
        run_for(&loop, 50);
    send_ping(nodes[3], "b-sink@beta", "d-sink@delta", 2); /* after gamma's: the probe checks the order */
    for (int i = 0; i < 40 && pr[1].pings < 2; i++)
        run_for(&loop, 50);
    assert_int_equal(pr[2].pings, 1);
    assert_string_equal(pr[2].last_from, "b-sink@beta");
    assert_int_equal(pr[1].pings, 2);
    assert_string_equal(pr[1].last_from, "d-sink@delta");
    assert_int_equal(pr[0].pings, 1);
    close_all(&loop, nodes, 4);
}

/* A member restarted at a new address before the others declared it dead (same node id): for the actors the old
 * process is gone and the new one came up; the node it joins tells the others, which dial the new address; beta's
 * messages reach the new gamma. */
static void test_member_back_at_new_address(void **s)
{
    (void)s;
    uv_loop_t loop;
    uv_loop_init(&loop);
    const char *ids[] = {"alpha", "beta", "gamma", "gamma"};
    kt_node *nodes[4];
    probe pr[4];
    memset(pr, 0, sizeof pr);
    for (int i = 0; i < 4; i++) {
        kt_node_config c = {.node_id = ids[i], .heartbeat_ms = 50, .liveness_timeout_ms = 5000};
        assert_int_equal(kt_node_new(&loop, &c, &nodes[i]), KT_OK);
        pr[i].loop = &loop;
        assert_int_equal(kt_node_spawn(nodes[i], i < 2 ? (i ? "b-sink" : "a-sink") : "c-sink", &probe_ops, &pr[i],
                                       NULL), KT_OK);
    }
    char url[64], err[256];
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", free_port());
    assert_int_equal(kt_node_listen(nodes[0], url, err, sizeof err), KT_OK);
    assert_int_equal(kt_node_join(nodes[1], url, err, sizeof err), KT_OK);
    assert_int_equal(kt_node_join(nodes[2], url, err, sizeof err), KT_OK);
    assert_true(run_until_mesh(&loop, nodes, 3, 5000));
    kt_node_stop(nodes[2]); /* gone without a word, back at once on another port */
    run_for(&loop, 100);
    assert_int_equal(kt_node_join(nodes[3], url, err, sizeof err), KT_OK);
    kt_node *live[] = {nodes[0], nodes[1], nodes[3]};
    assert_true(run_until_mesh(&loop, live, 3, 5000));
    for (int i = 0; i < 40 && !kt_node_reachable(nodes[1], "c-sink@gamma"); i++)
        run_for(&loop, 50);
    send_ping(nodes[1], "c-sink@gamma", "b-sink@beta", 1);
    for (int i = 0; i < 60 && pr[3].pings < 1; i++)
        run_for(&loop, 50);
    assert_int_equal(pr[3].pings, 1); /* the new gamma, not the old one */
    assert_int_equal(pr[2].pings, 0);
    /* the old gamma's process is gone for the actors (an executor runs its attempts again), the new one came up */
    assert_int_equal(pr[1].downs, 1);
    assert_string_equal(pr[1].down_node, "gamma");
    assert_int_equal(pr[1].ups, 3);
    assert_int_equal(pr[0].downs, 1);
    assert_int_equal(pr[0].ups, 3);
    close_all(&loop, live, 3);
    kt_node_free(nodes[2]);
}

/* The node we joined restarts at the same address, well within the liveness timeout: once the connection is back, the
 * joiner says Hello again, so the new process knows it at once (not only after the old one is declared dead). */
static void test_joined_node_restarts(void **s)
{
    (void)s;
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_node *a, *b, *a2;
    kt_node_config ca = {.node_id = "alpha", .heartbeat_ms = 50, .liveness_timeout_ms = 10000};
    kt_node_config cb = {.node_id = "beta", .heartbeat_ms = 50, .liveness_timeout_ms = 10000};
    assert_int_equal(kt_node_new(&loop, &ca, &a), KT_OK);
    assert_int_equal(kt_node_new(&loop, &cb, &b), KT_OK);
    assert_int_equal(kt_node_new(&loop, &ca, &a2), KT_OK);
    probe pa = {.loop = &loop}, pb = {.loop = &loop}, pa2 = {.loop = &loop};
    assert_int_equal(kt_node_spawn(a, "sink", &probe_ops, &pa, NULL), KT_OK);
    assert_int_equal(kt_node_spawn(b, "source", &probe_ops, &pb, NULL), KT_OK);
    assert_int_equal(kt_node_spawn(a2, "sink", &probe_ops, &pa2, NULL), KT_OK);
    char url[64], err[256];
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", free_port());
    assert_int_equal(kt_node_listen(a, url, err, sizeof err), KT_OK);
    assert_int_equal(kt_node_join(b, url, err, sizeof err), KT_OK);
    kt_node *first[] = {a, b};
    assert_true(run_until_mesh(&loop, first, 2, 5000));
    kt_node_stop(a);
    run_for(&loop, 200);
    assert_int_equal(kt_node_listen(a2, url, err, sizeof err), KT_OK);
    for (int i = 0; i < 60 && !pa2.ups; i++) /* 3 s, against a liveness timeout of 10 */
        run_for(&loop, 50);
    assert_int_equal(pa2.ups, 1);
    pa2.stop_after = 1;
    send_ping(b, "sink", "source@beta", 1);
    for (int i = 0; i < 40 && !pa2.pings; i++)
        run_for(&loop, 50);
    assert_int_equal(pa2.pings, 1);
    kt_node *live[] = {b, a2};
    close_all(&loop, live, 2);
    kt_node_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_delivery),
        cmocka_unit_test(test_remote_inproc),
        cmocka_unit_test(test_send_all),
        cmocka_unit_test(test_remote_tcp),
        cmocka_unit_test(test_timers),
        cmocka_unit_test(test_mailbox_capacity),
        cmocka_unit_test(test_pause),
        cmocka_unit_test(test_long_pause_keeps_peers),
        cmocka_unit_test(test_self_sends_fit),
        cmocka_unit_test(test_self_sends_fit_outside_hooks),
        cmocka_unit_test(test_bad_address),
        cmocka_unit_test(test_actors_list),
        cmocka_unit_test(test_members_learn_each_other),
        cmocka_unit_test(test_member_back_at_new_address),
        cmocka_unit_test(test_joined_node_restarts),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    nng_fini();
    return rc;
}
