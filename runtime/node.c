#include "runtime/node.h"
#include "runtime/node_int.h"
#include "base/alloc.h"
#include "base/id.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/metrics.h"
#include "transports/link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct kt_letter {
    char *buf;
    size_t len;
} kt_letter;

/* At most KT_MAILBOX_CAP letters (base/limits.h says why and what a full one does). */
typedef struct kt_mailbox {
    kt_letter *items;
    size_t len, cap;
} kt_mailbox;

struct kt_actor {
    kt_node *node;
    char name[48];
    char address[KT_ADDR_MAX];
    const kt_actor_ops *ops;
    void *state;
    kt_mailbox box;
    kt_mailbox spare; /* swapped with box during a drain, so senders never touch the batch being read */
    kt_metric *depth; /* kestra_actor_mailbox_depth{actor=address}: a callback gauge reading box.len */
    int paused;       /* kt_actor_pause: its mailbox counts as full for new work */
    int held;         /* kt_actor_hold: the drain passes skip it */
};

/* A message waiting for its time (kt_node_send_after). */
struct kt_delayed {
    uv_timer_t timer;
    kt_node *node;
    uint64_t id;
    char to[KT_ADDR_MAX];
    kt_msg_type type;
    char *buf;
    size_t len;
    struct kt_delayed *prev, *next;
};

static void kt_node_on_drain(uv_idle_t *h);

/* ---- mailboxes ----------------------------------------------------------------------------------- */

static double kt_actor_depth_read(void *ud) { return (double)((kt_actor *)ud)->box.len; }

static int kt_mailbox_full(const kt_mailbox *b) { return b->len >= KT_MAILBOX_CAP; }

/* Whether new work for a is refused now: its mailbox is at KT_MAILBOX_CAP, or the actor paused it. */
static int kt_actor_full(const kt_actor *a) { return a->paused || kt_mailbox_full(&a->box); }

static void kt_mailbox_push(kt_mailbox *b, char *buf, size_t len)
{
    if (b->len == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->items = kt_xrealloc(b->items, b->cap * sizeof *b->items);
    }
    b->items[b->len++] = (kt_letter){buf, len};
}

static void kt_mailbox_free(kt_mailbox *b)
{
    for (size_t i = 0; i < b->len; i++)
        free(b->items[i].buf);
    free(b->items);
    memset(b, 0, sizeof *b);
}

static void kt_node_wake(kt_node *n)
{
    if (!n->stopped && !uv_is_active((uv_handle_t *)&n->drain))
        uv_idle_start(&n->drain, kt_node_on_drain);
}

static kt_actor *kt_node_find_actor(kt_node *n, const char *name, size_t len)
{
    for (size_t i = 0; i < n->nactors; i++)
        if (strlen(n->actors[i]->name) == len && !memcmp(n->actors[i]->name, name, len))
            return n->actors[i];
    return NULL;
}

/* A refused send is counted and logged, never silent; the log is thinned to powers of two so a sender stuck in a
 * loop cannot flood it. */
static void kt_node_refuse(kt_node *n, const char *to, const char *what)
{
    n->refused++;
    kt_metric_inc(kt_metrics_counter("kestra_actor_mailbox_refused_count_total",
                                     "Messages refused for a full mailbox or link backlog",
                                     (const char *[]){"node", n->id, NULL}),
                  1);
    if (!(n->refused & (n->refused - 1)))
        KT_WARN("node", "message for %s refused: %s (%llu refused so far)", to, what, (unsigned long long)n->refused);
}

/* Whether a message for actor a counts against its mailbox's capacity. New work does; two kinds of messages are
 * bounded by work a already took, so refusing them could only lose that work, never slow a sender down: what a
 * sends to itself (a continuation after its commit: a child to create, a queued execution's turn) and replies to
 * the requests a made. */
static int kt_node_capped(const kt_node *n, const kt_actor *a, kt_msg_type type, int to_self)
{
    /* to_self covers an actor's sends from outside the node's hooks too (e.g. its own retry timer's callback) */
    return a != n->current && !to_self && type != KT_MSG_REPLY;
}

/* Takes buf. A full mailbox refuses it (KT_EAGAIN): a mailbox holds one loop turn's messages for one actor, and a
 * sender that outruns its receiver must wait (kt_node_has_room) or answer an error, not grow memory until the
 * process dies (KT_MAILBOX_CAP in base/limits.h). */
static kt_status kt_node_deliver_local(kt_node *n, kt_actor *a, kt_msg_type type, int to_self, char *buf,
                                       size_t len)
{
    if (kt_actor_full(a) && kt_node_capped(n, a, type, to_self)) {
        free(buf);
        kt_node_refuse(n, a->address, "mailbox full");
        return KT_EAGAIN;
    }
    kt_mailbox_push(&a->box, buf, len);
    kt_node_wake(n);
    return KT_OK;
}

/* One drain pass: every actor handles the messages that were waiting when the pass reached it, then
 * every actor flushes. Messages sent during the pass wait for the next pass (next loop turn), which
 * bounds the work per turn and lets I/O callbacks interleave. */
/* Every actor's end-of-turn hook: after a drain, and after peer hooks, so what a hook changed is committed and
 * sent the same way as what a message changed (an actor never flushes from inside its own hooks). */
static void kt_node_flush_all(kt_node *n)
{
    for (size_t i = 0; i < n->nactors; i++)
        if (n->actors[i]->ops->flush) {
            n->current = n->actors[i];
            n->actors[i]->ops->flush(n->actors[i]);
            n->current = NULL;
        }
}

void kt_node_hook_peer_up(kt_node *n, const kt_peer_info *info)
{
    for (size_t i = 0; i < n->nactors; i++)
        if (n->actors[i]->ops->peer_up) {
            n->current = n->actors[i];
            n->actors[i]->ops->peer_up(n->actors[i], info);
            n->current = NULL;
        }
    kt_node_flush_all(n);
}

void kt_node_hook_peer_down(kt_node *n, const char *node_id)
{
    for (size_t i = 0; i < n->nactors; i++)
        if (n->actors[i]->ops->peer_down) {
            n->current = n->actors[i];
            n->actors[i]->ops->peer_down(n->actors[i], node_id);
            n->current = NULL;
        }
    kt_node_flush_all(n);
}

/* Hands a the messages waiting in its mailbox (those that came during this pass wait for the next one). */
static void kt_actor_drain(kt_node *n, kt_actor *a)
{
    if (!a->box.len || a->held)
        return;
    kt_mailbox batch = a->box;
    a->box = a->spare;
    a->box.len = 0;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    kt_actor *was = n->current;
    for (size_t k = 0; k < batch.len; k++) {
        kt_msg m;
        if (kt_msg_decode(batch.items[k].buf, batch.items[k].len, &u, &m) == KT_OK) {
            n->delivered++;
            n->current = a;
            a->ops->receive(a, &m);
            n->current = was;
        } else {
            KT_WARN("node", "dropped an undecodable message for %s", a->name);
        }
        free(batch.items[k].buf);
    }
    msgpack_unpacked_destroy(&u);
    batch.len = 0;
    a->spare = batch;
}

void kt_actor_take_pending(kt_actor *a)
{
    a->held = 0; /* (a stop: nothing is in flight any more) */
    kt_actor_drain(a->node, a);
}

void kt_actor_hold(kt_actor *a, int on)
{
    a->held = !!on;
    if (!on && a->box.len)
        kt_node_wake(a->node);
}

void kt_actor_call(kt_actor *a, void (*fn)(kt_actor *a, void *ud), void *ud)
{
    kt_node *n = a->node;
    kt_actor *was = n->current;
    n->current = a;
    fn(a, ud);
    n->current = was;
}

static void kt_node_on_drain(uv_idle_t *h)
{
    kt_node *n = h->data;
    for (size_t i = 0; i < n->nactors; i++)
        kt_actor_drain(n, n->actors[i]);
    kt_node_flush_all(n);
    int pending = 0;
    for (size_t i = 0; i < n->nactors; i++)
        pending |= n->actors[i]->box.len > 0 && !n->actors[i]->held; /* a held one's wake is its release */
    if (!pending)
        uv_idle_stop(&n->drain);
    if (n->link)
        kt_link_resume(n->link); /* peers' messages that waited for room (kt_node_on_remote) */
}

/* ---- peers (their membership: node_peers.c) ----------------------------------------------------- */

kt_peer *kt_node_peer_by_id(kt_node *n, const char *id, size_t len)
{
    for (size_t i = 0; i < n->npeers; i++)
        if (strlen(n->peers[i].node_id) == len && !memcmp(n->peers[i].node_id, id, len))
            return &n->peers[i];
    return NULL;
}

int kt_node_actors_has(const char *actors, const char *name, size_t len)
{
    for (const char *p = actors; p && *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == len && !memcmp(p, name, len))
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

/* A message from a peer: system messages are the node's own; the rest go to a local mailbox. Returns 1, keeping
 * nothing, when that mailbox is full: the link holds the message (and the ones after it) until the next drain
 * (kt_link_resume), and stops reading meanwhile, so the peer is slowed down instead of its messages dropped. */
static int kt_node_on_remote(kt_node *n, const char *buf, size_t len)
{
    int busy = 0;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    kt_msg m;
    if (kt_msg_decode(buf, len, &u, &m) != KT_OK) {
        KT_WARN("node", "dropped an undecodable message (%zu bytes)", len);
        goto done;
    }
    const char *sender = strchr(m.from, '@');
    sender = sender ? sender + 1 : m.from;
    kt_peer *p = kt_node_peer_by_id(n, sender, strlen(sender));
    if (p)
        p->last_seen_ms = kt_node_now_ms(n);
    if (m.type == KT_MSG_HELLO || m.type == KT_MSG_WELCOME || m.type == KT_MSG_PEER) {
        kt_msg_hello h;
        if (kt_msg_decode_hello(m.body, &h) != KT_OK) {
            KT_WARN("node", "malformed %s from %s", kt_msg_type_name(m.type), m.from);
            goto done;
        }
        if (m.type == KT_MSG_PEER)
            kt_node_on_notice(n, &h);
        else
            kt_node_on_hello(n, m.type, m.to, &h);
        kt_msg_hello_clear(&h);
        goto done;
    }
    if (m.type == KT_MSG_HEARTBEAT)
        goto done;
    /* A sender we have not heard a Hello from yet is received all the same: a member that restarted (a SIGKILLed
     * executor back at the address everyone joined) gets the messages its peers had queued for it before their Hello
     * reaches it, and those are not sent twice (a worker's results: dropped here, their task runs would wait for ever
     * on the executor owning them). The actors judge what they receive (attempts, epochs), not the sender's name. */
    if (!p)
        KT_DEBUG("node", "%s from %s before its Hello: received", kt_msg_type_name(m.type), m.from);
    const char *at = strchr(m.to, '@');
    size_t name_len = at ? (size_t)(at - m.to) : strlen(m.to);
    if (at && strcmp(at + 1, n->id)) {
        KT_WARN("node", "message for %s reached node %s: dropped", m.to, n->id);
        goto done;
    }
    kt_actor *a = kt_node_find_actor(n, m.to, name_len);
    if (!a) {
        KT_WARN("node", "no actor %s on node %s: %s dropped", m.to, n->id, kt_msg_type_name(m.type));
        goto done;
    }
    if (kt_actor_full(a) && kt_node_capped(n, a, m.type, 0)) { /* a peer's message is never our own */
        busy = 1;
        goto done;
    }
    char *copy = kt_xmalloc(len);
    memcpy(copy, buf, len);
    kt_node_deliver_local(n, a, m.type, 0, copy, len);
done:
    msgpack_unpacked_destroy(&u);
    if (busy) {
        n->deaf = 1;
    } else if (n->deaf) { /* hearing again: every peer gets a full liveness window from now, its backlog first */
        n->deaf = 0;
        uint64_t now = kt_node_now_ms(n);
        for (size_t i = 0; i < n->npeers; i++)
            if (n->peers[i].last_seen_ms < now)
                n->peers[i].last_seen_ms = now;
    }
    return busy;
}

static int kt_node_on_link(void *ud, kt_link_event ev, uint32_t peer, const char *buf, size_t len)
{
    kt_node *n = ud;
    switch (ev) {
    case KT_LINK_MSG: return kt_node_on_remote(n, buf, len);
    case KT_LINK_PEER_UP:
        if (peer != n->join_handle) {
            /* a connection back after it was lost: the member may be a new process at the same address, which
             * knows nobody yet; a Hello makes it know us (a live one just answers Welcome) */
            for (size_t i = 0; i < n->npeers; i++)
                if (n->peers[i].handle == peer && n->peers[i].link_lost) {
                    n->peers[i].link_lost = 0;
                    if (n->peers[i].up)
                        kt_node_send_system(n, peer, KT_MSG_HELLO, KT_NODE_VIA_NOTICE, NULL);
                }
            break;
        }
        /* Our address as the joined node sees it completes a wildcard inbound address (tcp://0.0.0.0:P). */
        if (n->inbound_wildcard && len) {
            const char *colon = strrchr(n->inbound_url, ':');
            char port[16];
            snprintf(port, sizeof port, "%s", colon ? colon + 1 : "0");
            snprintf(n->inbound_url, sizeof n->inbound_url, strchr(buf, ':') ? "tcp://[%.*s]:%s" : "tcp://%.*s:%s",
                     (int)len, buf, port);
            n->inbound_wildcard = 0;
        }
        n->join_up = 1;
        if (!n->join_welcomed || n->join_lost) /* the node we joined may have restarted: it knows nobody yet */
            kt_node_send_system(n, peer, KT_MSG_HELLO, "", NULL);
        n->join_lost = 0;
        break;
    case KT_LINK_PEER_DOWN:
        if (peer == n->join_handle) {
            n->join_up = 0;
            n->join_lost = 1;
        }
        for (size_t i = 0; i < n->npeers; i++)
            if (n->peers[i].handle == peer && peer != n->join_handle)
                n->peers[i].link_lost = 1;
        break;
    }
    return 0;
}

/* ---- public -------------------------------------------------------------------------------------- */

kt_status kt_node_new(uv_loop_t *loop, const kt_node_config *cfg, kt_node **out)
{
    kt_node *n = kt_xcalloc(1, sizeof *n);
    n->loop = loop;
    if (cfg)
        n->cfg = *cfg;
    if (!n->cfg.heartbeat_ms)
        n->cfg.heartbeat_ms = 1000;
    if (!n->cfg.liveness_timeout_ms)
        n->cfg.liveness_timeout_ms = 10000;
    if (n->cfg.node_id && *n->cfg.node_id) {
        snprintf(n->id, sizeof n->id, "%s", n->cfg.node_id);
    } else {
        char host[32] = "node", rnd[KT_ID_LEN + 1];
        gethostname(host, sizeof host - 1);
        kt_id_new(rnd);
        snprintf(n->id, sizeof n->id, "%s-%.8s", host, rnd);
    }
    n->cfg.node_id = n->id;
    uv_idle_init(loop, &n->drain);
    n->drain.data = n;
    uv_timer_init(loop, &n->heartbeat);
    n->heartbeat.data = n;
    *out = n;
    return KT_OK;
}

uv_loop_t *kt_node_loop(const kt_node *n) { return n->loop; }
const char *kt_node_id(const kt_node *n) { return n->id; }
void *kt_actor_state(const kt_actor *a) { return a->state; }
kt_node *kt_actor_node(const kt_actor *a) { return a->node; }
const char *kt_actor_name(const kt_actor *a) { return a->name; }
const char *kt_actor_address(const kt_actor *a) { return a->address; }

void kt_actor_pause(kt_actor *a, int on)
{
    if (a->paused == !!on)
        return;
    a->paused = !!on;
    kt_node *n = a->node;
    if (!on && n->link && !n->stopped)
        kt_link_resume(n->link); /* the peers' messages that waited for room come in again */
}
uint64_t kt_node_delivered(const kt_node *n) { return n->delivered; }
uint64_t kt_node_refused(const kt_node *n) { return n->refused; }

kt_status kt_node_spawn(kt_node *n, const char *name, const kt_actor_ops *ops, void *state, kt_actor **out)
{
    if (n->nactors == KT_NODE_MAX_ACTORS || strlen(name) >= sizeof((kt_actor *)0)->name || strchr(name, '@') ||
        strchr(name, ','))
        return KT_EINVAL;
    if (kt_node_find_actor(n, name, strlen(name)))
        return KT_ECONFLICT;
    kt_actor *a = kt_xcalloc(1, sizeof *a);
    a->node = n;
    a->ops = ops;
    a->state = state;
    snprintf(a->name, sizeof a->name, "%s", name);
    snprintf(a->address, sizeof a->address, "%s@%s", name, n->id);
    a->depth = kt_metrics_gauge_fn("kestra_actor_mailbox_depth", "Messages waiting in an actor's mailbox",
                                   (const char *[]){"actor", a->address, NULL}, kt_actor_depth_read, a);
    n->actors[n->nactors++] = a;
    size_t l = strlen(n->actors_csv);
    snprintf(n->actors_csv + l, sizeof n->actors_csv - l, "%s%s", l ? "," : "", name);
    /* an actor started after the node joined (a scheduler waiting for an executor): the peers learn the new list
     * from a Hello, answered with a Welcome that names the connection it came over (KT_NODE_VIA_NOTICE). Every peer
     * with a connection, not only the ones up: a peer still in its handshake may have our previous list already (our
     * Hello or Welcome crossed this spawn), and our one connection to it keeps this Hello after that one. */
    for (size_t i = 0; n->link && i < n->npeers; i++)
        if (n->peers[i].handle)
            kt_node_send_system(n, n->peers[i].handle, KT_MSG_HELLO, KT_NODE_VIA_NOTICE, NULL);
    if (out)
        *out = a;
    return KT_OK;
}

static kt_status kt_node_ensure_link(kt_node *n)
{
    if (n->link)
        return KT_OK;
    kt_status st = kt_link_open(n->loop, kt_node_on_link, n, &n->link);
    if (st == KT_OK)
        uv_timer_start(&n->heartbeat, kt_node_on_heartbeat, n->cfg.heartbeat_ms, n->cfg.heartbeat_ms);
    return st;
}

kt_status kt_node_listen(kt_node *n, const char *url, char *err, size_t errcap)
{
    kt_status st = kt_node_ensure_link(n);
    if (st)
        return st;
    st = kt_link_listen(n->link, url, n->inbound_url, sizeof n->inbound_url, err, errcap);
    n->inbound_wildcard = !strncmp(n->inbound_url, "tcp://0.0.0.0:", 14) || !strncmp(n->inbound_url, "tcp://*:", 8);
    return st;
}

/* A joining node needs an inbound address of the same kind as the one it joins. */
static kt_status kt_node_listen_like(kt_node *n, const char *join_url, char *err, size_t errcap)
{
    char url[512];
    if (!strncmp(join_url, "tcp://", 6)) {
        int loopback = !strncmp(join_url + 6, "127.", 4) || !strncmp(join_url + 6, "localhost:", 10);
        snprintf(url, sizeof url, "tcp://%s:0", loopback ? "127.0.0.1" : "0.0.0.0");
    } else if (!strncmp(join_url, "ipc://", 6)) {
        const char *tmp = getenv("TMPDIR");
        snprintf(url, sizeof url, "ipc://%s/kite-%s.ipc", tmp && *tmp ? tmp : "/tmp", n->id);
    } else if (!strncmp(join_url, "inproc://", 9)) {
        snprintf(url, sizeof url, "inproc://kite-%s", n->id);
    } else {
        snprintf(err, errcap, "unsupported address %s (use tcp://, ipc:// or inproc://)", join_url);
        return KT_EINVAL;
    }
    return kt_node_listen(n, url, err, errcap);
}

kt_status kt_node_join(kt_node *n, const char *url, char *err, size_t errcap)
{
    kt_status st = kt_node_ensure_link(n);
    if (st)
        return st;
    if (!n->inbound_url[0] && (st = kt_node_listen_like(n, url, err, errcap)))
        return st;
    if (n->join_handle) {
        snprintf(err, errcap, "this node already joined another");
        return KT_ECONFLICT;
    }
    snprintf(n->join_url, sizeof n->join_url, "%s", url);
    return kt_link_connect(n->link, url, &n->join_handle, err, errcap);
}

/* Resolves `to` to a local actor (*local) or a peer connection (*handle). */
static kt_status kt_node_resolve(kt_node *n, const char *to, kt_actor **local, uint32_t *handle)
{
    const char *at = strchr(to, '@');
    size_t name_len = at ? (size_t)(at - to) : strlen(to);
    *local = NULL;
    *handle = 0;
    if (!at || !strcmp(at + 1, n->id)) {
        *local = kt_node_find_actor(n, to, name_len);
        if (*local || at)
            return *local ? KT_OK : KT_ENOTFOUND;
        for (size_t i = 0; i < n->npeers; i++)
            if (n->peers[i].up && n->peers[i].handle && kt_node_actors_has(n->peers[i].actors, to, name_len)) {
                *handle = n->peers[i].handle;
                return KT_OK;
            }
        return KT_ENOTFOUND;
    }
    kt_peer *p = kt_node_peer_by_id(n, at + 1, strlen(at + 1));
    if (!p || !p->up || !p->handle)
        return KT_ENOTFOUND;
    *handle = p->handle;
    return KT_OK;
}

int kt_node_reachable(kt_node *n, const char *to)
{
    kt_actor *a;
    uint32_t handle;
    return kt_node_resolve(n, to, &a, &handle) == KT_OK;
}

int kt_node_has_room(kt_node *n, const char *to)
{
    kt_actor *a;
    uint32_t handle;
    if (n->stopped || kt_node_resolve(n, to, &a, &handle) != KT_OK)
        return 1; /* not a question of room: kt_node_send says what is wrong */
    if (a)
        return !kt_actor_full(a) || a == n->current; /* an actor's message to itself always fits */
    return kt_link_has_room(n->link, handle);
}

kt_status kt_node_send(kt_node *n, const char *to, kt_outmsg *o)
{
    kt_actor *a;
    uint32_t handle;
    kt_status st = n->stopped ? KT_ECLOSED : kt_node_resolve(n, to, &a, &handle);
    if (st == KT_OK && a) {
        size_t len = o->sb.size;
        char *buf = msgpack_sbuffer_release(&o->sb);
        return kt_node_deliver_local(n, a, o->type, o->to_self, buf, len);
    }
    if (st == KT_OK)
        st = kt_link_send(n->link, handle, o->sb.data, o->sb.size);
    if (st == KT_EAGAIN)
        kt_node_refuse(n, to, "the link's backlog to that peer is full");
    kt_outmsg_destroy(o);
    return st;
}

kt_status kt_node_send_all(kt_node *n, const char *name, kt_outmsg *o)
{
    if (n->stopped) {
        kt_outmsg_destroy(o);
        return KT_ECLOSED;
    }
    size_t len = strlen(name);
    int delivered = 0;
    kt_status failed = KT_OK;
    for (size_t i = 0; i < n->npeers; i++) { /* the link copies the bytes */
        if (!n->peers[i].up || !n->peers[i].handle || !kt_node_actors_has(n->peers[i].actors, name, len))
            continue;
        kt_status st = kt_link_send(n->link, n->peers[i].handle, o->sb.data, o->sb.size);
        if (st == KT_EAGAIN)
            kt_node_refuse(n, name, "the link's backlog to that peer is full");
        if (st == KT_OK)
            delivered++;
        else if (!failed)
            failed = st;
    }
    kt_actor *a = kt_node_find_actor(n, name, len);
    if (a) { /* last: the local mailbox takes the buffer itself */
        size_t size = o->sb.size;
        char *buf = msgpack_sbuffer_release(&o->sb);
        kt_status st = kt_node_deliver_local(n, a, o->type, o->to_self, buf, size);
        if (st == KT_OK)
            delivered++;
        else if (!failed)
            failed = st;
    } else {
        kt_outmsg_destroy(o);
    }
    return delivered ? KT_OK : failed ? failed : KT_ENOTFOUND;
}

size_t kt_node_hosts(kt_node *n, const char *name, const char **ids, size_t cap)
{
    size_t len = strlen(name), count = 0;
    if (kt_node_find_actor(n, name, len) && count++ < cap)
        ids[0] = n->id;
    for (size_t i = 0; i < n->npeers; i++)
        if (n->peers[i].up && n->peers[i].handle && kt_node_actors_has(n->peers[i].actors, name, len) &&
            count++ < cap)
            ids[count - 1] = n->peers[i].node_id;
    return count;
}

static void kt_delayed_closed(uv_handle_t *h)
{
    kt_delayed *d = h->data;
    free(d->buf);
    free(d);
}

static void kt_delayed_unlink(kt_delayed *d)
{
    if (d->prev)
        d->prev->next = d->next;
    else
        d->node->delayed = d->next;
    if (d->next)
        d->next->prev = d->prev;
    uv_close((uv_handle_t *)&d->timer, kt_delayed_closed);
}

static void kt_delayed_fire(uv_timer_t *t)
{
    kt_delayed *d = t->data;
    kt_node *n = d->node;
    if (!kt_node_has_room(n, d->to)) { /* back-pressure: a due timer waits for room, it is never dropped */
        uv_timer_start(&d->timer, kt_delayed_fire, KT_NODE_TIMER_RETRY_MS, 0);
        return;
    }
    kt_outmsg o;
    /* Re-wrap the encoded bytes so the normal send path resolves the address now. */
    msgpack_sbuffer_init(&o.sb);
    o.sb.data = d->buf;
    o.sb.size = d->len;
    o.sb.alloc = d->len;
    o.type = d->type;
    d->buf = NULL;
    char to[KT_ADDR_MAX];
    memcpy(to, d->to, sizeof to);
    kt_delayed_unlink(d); /* d is freed by its close callback */
    if (kt_node_send(n, to, &o) != KT_OK)
        KT_DEBUG("node", "timer message for %s dropped: nobody hosts it now", to);
}

uint64_t kt_node_send_after(kt_node *n, const char *to, kt_outmsg *o, uint64_t delay_ms)
{
    if (n->stopped || strlen(to) >= sizeof((kt_delayed *)0)->to) {
        kt_outmsg_destroy(o);
        return 0;
    }
    kt_delayed *d = kt_xcalloc(1, sizeof *d);
    d->node = n;
    d->id = ++n->next_timer_id;
    snprintf(d->to, sizeof d->to, "%s", to);
    d->type = o->type;
    d->len = o->sb.size;
    d->buf = msgpack_sbuffer_release(&o->sb);
    uv_timer_init(n->loop, &d->timer);
    d->timer.data = d;
    /* libuv counts from the loop's cached time, which lags by however long this turn has run so far: refresh it,
     * or a busy turn makes the message arrive early (a retry before its interval is over) */
    uv_update_time(n->loop);
    uv_timer_start(&d->timer, kt_delayed_fire, delay_ms, 0);
    d->next = n->delayed;
    if (n->delayed)
        n->delayed->prev = d;
    n->delayed = d;
    return d->id;
}

int kt_node_cancel(kt_node *n, uint64_t timer)
{
    for (kt_delayed *d = n->delayed; d; d = d->next)
        if (d->id == timer) {
            kt_delayed_unlink(d);
            return 1;
        }
    return 0;
}

void kt_node_stop(kt_node *n)
{
    if (n->stopped)
        return;
    n->stopped = 1;
    while (n->delayed)
        kt_delayed_unlink(n->delayed);
    for (size_t i = n->nactors; i-- > 0;)
        if (n->actors[i]->ops->stop) {
            n->current = n->actors[i];
            n->actors[i]->ops->stop(n->actors[i]);
            n->current = NULL;
        }
    if (n->link)
        kt_link_close(n->link);
    n->link = NULL;
    uv_close((uv_handle_t *)&n->drain, NULL);
    uv_close((uv_handle_t *)&n->heartbeat, NULL);
}

void kt_node_free(kt_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->nactors; i++) {
        kt_metric_release(n->actors[i]->depth, n->actors[i]); /* it reads the actor */
        kt_mailbox_free(&n->actors[i]->box);
        kt_mailbox_free(&n->actors[i]->spare);
        free(n->actors[i]);
    }
    for (size_t i = 0; i < n->npeers; i++) {
        free(n->peers[i].node_id);
        free(n->peers[i].actors);
        free(n->peers[i].url);
    }
    free(n->peers);
    free(n);
}
