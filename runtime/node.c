#include "runtime/node.h"
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

#define KT_NODE_ID_MAX 64

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
};

typedef struct kt_peer {
    char *node_id;
    char *actors;
    char *url;       /* its inbound address */
    uint32_t slots;
    uint32_t handle; /* our outbound connection to it */
    uint64_t last_seen_ms;
    /* 0 for a member another node told us of (KT_MSG_PEER) that has not answered our Hello yet: not routed to, not
     * listed, no peer_up; forgotten quietly if it stays silent for the liveness timeout */
    int up;
} kt_peer;

/* The envelope's `to` of a Hello sent to a member learnt from a KT_MSG_PEER notice, echoed in its Welcome: a Welcome
 * without it comes from the node we joined (reached through the join connection). */
#define KT_NODE_VIA_NOTICE "notice"

/* A message waiting for its time (kt_node_send_after). */
typedef struct kt_delayed {
    uv_timer_t timer;
    kt_node *node;
    uint64_t id;
    char to[KT_ADDR_MAX];
    kt_msg_type type;
    char *buf;
    size_t len;
    struct kt_delayed *prev, *next;
} kt_delayed;

struct kt_node {
    uv_loop_t *loop;
    kt_node_config cfg;
    char id[KT_NODE_ID_MAX];
    char actors_csv[KT_NODE_MAX_ACTORS * 48];
    kt_actor *actors[KT_NODE_MAX_ACTORS];
    size_t nactors;
    uv_idle_t drain;
    uv_timer_t heartbeat;
    kt_link *link;
    kt_peer *peers;
    size_t npeers, peers_cap;
    char inbound_url[256]; /* where peers reach us (advertised in Hello) */
    int inbound_wildcard;  /* bound to 0.0.0.0: the host part is learnt from the join connection */
    uint32_t join_handle;  /* the connection to the node we joined, if any */
    char join_url[256];    /* the address it was joined at */
    int join_up, join_welcomed;
    uint64_t delivered;
    uint64_t refused; /* sends refused for a full mailbox or link backlog (KT_EAGAIN) */
    kt_actor *current; /* the actor the node is calling into (receive, flush, peer hooks, stop); NULL outside */
    kt_delayed *delayed; /* pending timers, most recent first */
    uint64_t next_timer_id;
    int stopped;
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

static void kt_node_on_drain(uv_idle_t *h)
{
    kt_node *n = h->data;
    for (size_t i = 0; i < n->nactors; i++) {
        kt_actor *a = n->actors[i];
        if (!a->box.len)
            continue;
        kt_mailbox batch = a->box;
        a->box = a->spare;
        a->box.len = 0;
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        for (size_t k = 0; k < batch.len; k++) {
            kt_msg m;
            if (kt_msg_decode(batch.items[k].buf, batch.items[k].len, &u, &m) == KT_OK) {
                n->delivered++;
                n->current = a;
                a->ops->receive(a, &m);
                n->current = NULL;
            } else {
                KT_WARN("node", "dropped an undecodable message for %s", a->name);
            }
            free(batch.items[k].buf);
        }
        msgpack_unpacked_destroy(&u);
        batch.len = 0;
        a->spare = batch;
    }
    kt_node_flush_all(n);
    int pending = 0;
    for (size_t i = 0; i < n->nactors; i++)
        pending |= n->actors[i]->box.len > 0;
    if (!pending)
        uv_idle_stop(&n->drain);
    if (n->link)
        kt_link_resume(n->link); /* peers' messages that waited for room (kt_node_on_remote) */
}

/* ---- peers --------------------------------------------------------------------------------------- */

static kt_peer *kt_node_peer_by_id(kt_node *n, const char *id, size_t len)
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

static uint64_t kt_node_now_ms(kt_node *n) { return uv_now(n->loop); }

/* "a,b,c" as a JSON list */
static json_t *kt_node_csv_list(const char *csv)
{
    json_t *out = json_array();
    for (const char *p = csv; p && *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l)
            json_array_append_new(out, json_stringn(p, l));
        if (!e)
            break;
        p = e + 1;
    }
    return out;
}

json_t *kt_node_members(kt_node *n)
{
    json_t *out = json_array();
    json_array_append_new(out, json_pack("{s:s, s:b, s:o, s:s, s:i, s:s, s:i}", "id", n->id, "self", 1, "actors",
                                         kt_node_csv_list(n->actors_csv), "address", n->inbound_url, "workerSlots",
                                         (int)n->cfg.worker_slots, "state", "RUNNING", "lastHeartbeatAgeMs", 0));
    uint64_t now = kt_node_now_ms(n);
    for (size_t i = 0; i < n->npeers; i++) {
        const kt_peer *p = &n->peers[i];
        if (!p->up)
            continue;
        json_array_append_new(out, json_pack("{s:s, s:b, s:o, s:s, s:i, s:s, s:I}", "id", p->node_id, "self", 0,
                                             "actors", kt_node_csv_list(p->actors), "address", p->url ? p->url : "",
                                             "workerSlots", (int)p->slots, "state", "RUNNING", "lastHeartbeatAgeMs",
                                             (json_int_t)(now - p->last_seen_ms)));
    }
    return out;
}

/* Hello, Welcome and Peer carry a Hello body: this node's (about = NULL) or a peer's. */
static void kt_node_send_system(kt_node *n, uint32_t handle, kt_msg_type type, const char *to, const kt_peer *about)
{
    kt_outmsg o;
    kt_outmsg_begin(&o, type, to, n->id, 0);
    if (type == KT_MSG_HEARTBEAT) {
        kt_msg_heartbeat hb = {.node_id = n->id, .running = 0};
        kt_msg_encode_heartbeat(&o, &hb);
    } else if (about) {
        kt_msg_hello h = {.node_id = about->node_id, .actors = about->actors, .proto = KT_PROTO_VERSION,
                          .slots = about->slots, .url = about->url};
        kt_msg_encode_hello(&o, &h);
    } else {
        kt_msg_hello h = {.node_id = n->id, .actors = n->actors_csv, .proto = KT_PROTO_VERSION,
                          .slots = n->cfg.worker_slots, .url = n->inbound_url};
        kt_msg_encode_hello(&o, &h);
    }
    kt_link_send(n->link, handle, o.sb.data, o.sb.size);
    kt_outmsg_destroy(&o);
}

static kt_peer *kt_node_peer_add(kt_node *n, const char *id)
{
    if (n->npeers == n->peers_cap) {
        n->peers_cap = n->peers_cap ? n->peers_cap * 2 : 8;
        n->peers = kt_xrealloc(n->peers, n->peers_cap * sizeof *n->peers);
    }
    kt_peer *p = &n->peers[n->npeers++];
    memset(p, 0, sizeof *p);
    p->node_id = kt_xstrdup(id);
    return p;
}

/* tcp://0.0.0.0:P, tcp://[::]:P or the star form: where a node listening on every interface says it is, which only the
 * address others reached it at can complete. */
static int kt_node_url_wildcard(const char *url)
{
    return url && (!strncmp(url, "tcp://0.0.0.0:", 14) || !strncmp(url, "tcp://*:", 8) || !strncmp(url, "tcp://[::]:", 11));
}

/* A peer's address, kept concrete: a wildcard one is replaced by the address it was reached at (the join URL for the
 * node we joined, else the one known already), so that a notice never sends a member to 0.0.0.0. */
static void kt_node_peer_set_url(kt_node *n, kt_peer *p, const char *url, int joined)
{
    if (kt_node_url_wildcard(url)) {
        if (joined && n->join_url[0])
            url = n->join_url;
        else if (p->url && p->url[0])
            return;
    }
    if (p->url && !strcmp(p->url, url))
        return;
    free(p->url);
    p->url = kt_xstrdup(url);
}

static void kt_node_peer_set(kt_node *n, kt_peer *p, const kt_msg_hello *h, int joined)
{
    kt_node_peer_set_url(n, p, h->url, joined);
    free(p->actors);
    p->actors = kt_xstrdup(h->actors);
    p->slots = h->slots;
    p->last_seen_ms = kt_node_now_ms(n);
}

/* The members tell each other of a newcomer (or of a member back at a new address), so that every node reaches every
 * other whichever one it joined: it hears of the others, the others of it. */
static void kt_node_announce(kt_node *n, const kt_peer *p)
{
    for (size_t i = 0; i < n->npeers; i++) {
        kt_peer *o = &n->peers[i];
        if (o == p || !o->up || !o->handle || !o->url || !o->url[0] || !p->handle || !p->url || !p->url[0])
            continue;
        kt_node_send_system(n, o->handle, KT_MSG_PEER, "", p);
        kt_node_send_system(n, p->handle, KT_MSG_PEER, "", o);
    }
}

/* The actors hear that a peer's process is gone (dead, or replaced by a new one under the same node id), then every
 * actor's flush runs, as after a drain. */
static void kt_node_peer_gone(kt_node *n, const char *node_id)
{
    for (size_t i = 0; i < n->nactors; i++)
        if (n->actors[i]->ops->peer_down) {
            n->current = n->actors[i];
            n->actors[i]->ops->peer_down(n->actors[i], node_id);
            n->current = NULL;
        }
    kt_node_flush_all(n);
}

/* A peer answered for the first time (Hello or Welcome): the actors hear of it, and the members of each other (a
 * notice about a node already known at that address is ignored, which ends the exchange). p may move (the table
 * grows): by index. */
static void kt_node_peer_came_up(kt_node *n, size_t idx)
{
    kt_peer *p = &n->peers[idx];
    p->up = 1;
    KT_INFO("node", "peer %s joined (actors: %s, slots: %u, at %s)", p->node_id, p->actors, p->slots, p->url);
    kt_node_announce(n, p);
    kt_peer_info info = {p->node_id, p->actors, p->slots};
    for (size_t i = 0; i < n->nactors; i++)
        if (n->actors[i]->ops->peer_up) {
            n->current = n->actors[i];
            n->actors[i]->ops->peer_up(n->actors[i], &info);
            n->current = NULL;
        }
    kt_node_flush_all(n);
}

/* Hello (someone joined us, or dials us after a notice) or Welcome (the answer to our Hello). `to` is the envelope's:
 * KT_NODE_VIA_NOTICE when the Hello went over a connection made after a notice, echoed in the Welcome. */
static void kt_node_on_hello(kt_node *n, kt_msg_type type, const char *to, const kt_msg_hello *h)
{
    if (h->proto != KT_PROTO_VERSION) {
        KT_ERROR("node", "peer %s speaks protocol %u, we speak %u: ignored", h->node_id, h->proto, KT_PROTO_VERSION);
        return;
    }
    if (!strcmp(h->node_id, n->id)) {
        KT_ERROR("node", "a peer uses our own node id %s: ignored", n->id);
        return;
    }
    int via_notice = !strcmp(to, KT_NODE_VIA_NOTICE);
    kt_peer *p = kt_node_peer_by_id(n, h->node_id, strlen(h->node_id));
    if (type == KT_MSG_WELCOME && via_notice && (!p || !p->handle))
        return; /* an answer to a Hello we no longer wait for (the member was forgotten meanwhile) */
    if (!p)
        p = kt_node_peer_add(n, h->node_id);
    if (type == KT_MSG_WELCOME && !via_notice) {
        /* The node we joined: reach it through the join connection. */
        if (p->handle && p->handle != n->join_handle)
            kt_link_disconnect(n->link, p->handle);
        p->handle = n->join_handle;
        n->join_welcomed = 1;
    } else if (type == KT_MSG_HELLO && (!p->handle || !p->url || (strcmp(p->url, h->url) &&
                                                                  !kt_node_url_wildcard(h->url)))) {
        if (p->handle && p->handle != n->join_handle)
            kt_link_disconnect(n->link, p->handle);
        char err[256];
        p->handle = 0;
        if (kt_link_connect(n->link, h->url, &p->handle, err, sizeof err)) {
            KT_ERROR("node", "peer %s: %s", h->node_id, err);
            p->handle = 0;
        }
    }
    /* a member restarted at another address before it was declared dead: its previous process is gone (the executor
     * runs that worker's attempts again), and the others must dial the new one */
    if (p->up && p->url && !kt_node_url_wildcard(h->url) && strcmp(p->url, h->url)) {
        KT_WARN("node", "peer %s is back at %s (was at %s): its previous process is gone", p->node_id, h->url, p->url);
        p->up = 0;
        size_t idx = (size_t)(p - n->peers);
        kt_node_peer_gone(n, h->node_id);
        p = &n->peers[idx];
    }
    kt_node_peer_set(n, p, h, type == KT_MSG_WELCOME && !via_notice);
    if (type == KT_MSG_HELLO && p->handle)
        kt_node_send_system(n, p->handle, KT_MSG_WELCOME, to, NULL);
    if (!p->up)
        kt_node_peer_came_up(n, (size_t)(p - n->peers));
}

/* Another member told us of node h: dial it and say Hello, unless it is known already at that address (or is us). A
 * known member at another address restarted there: the connection moves to it. */
static void kt_node_on_notice(kt_node *n, const kt_msg_hello *h)
{
    if (h->proto != KT_PROTO_VERSION || !strcmp(h->node_id, n->id) || !h->url || !h->url[0] ||
        kt_node_url_wildcard(h->url)) /* nobody knows where that one is */
        return;
    kt_peer *p = kt_node_peer_by_id(n, h->node_id, strlen(h->node_id));
    if (p && p->url && !strcmp(p->url, h->url))
        return;
    if (p && p->handle == n->join_handle)
        return; /* the node we joined: its own Hello and Welcome say where it is */
    if (p && p->up) { /* restarted elsewhere: the previous process is gone; up again once the new one answers */
        KT_WARN("node", "peer %s is back at %s (was at %s): its previous process is gone", p->node_id, h->url,
                p->url ? p->url : "?");
        p->up = 0;
        size_t idx = (size_t)(p - n->peers);
        kt_node_peer_gone(n, h->node_id);
        p = &n->peers[idx];
    }
    if (p && p->handle)
        kt_link_disconnect(n->link, p->handle);
    if (p)
        p->handle = 0;
    else
        p = kt_node_peer_add(n, h->node_id);
    kt_node_peer_set(n, p, h, 0);
    char err[256];
    if (kt_link_connect(n->link, h->url, &p->handle, err, sizeof err)) {
        KT_WARN("node", "member %s at %s: %s", h->node_id, h->url, err);
        p->handle = 0; /* forgotten after the liveness timeout */
        return;
    }
    KT_DEBUG("node", "told of member %s at %s: saying Hello", h->node_id, h->url);
    kt_node_send_system(n, p->handle, KT_MSG_HELLO, KT_NODE_VIA_NOTICE, NULL);
}

static void kt_node_peer_forget(kt_peer *p)
{
    free(p->node_id);
    free(p->actors);
    free(p->url);
}

static void kt_node_peer_dead(kt_node *n, size_t idx)
{
    kt_peer dead = n->peers[idx];
    n->peers[idx] = n->peers[--n->npeers];
    if (dead.handle == n->join_handle)
        n->join_welcomed = 0; /* keep the connection: say Hello again until someone answers */
    else if (dead.handle)
        kt_link_disconnect(n->link, dead.handle);
    if (!dead.up) { /* a member we were told of that never answered: nobody heard of it here */
        KT_DEBUG("node", "member %s never answered: forgotten", dead.node_id);
        kt_node_peer_forget(&dead);
        return;
    }
    KT_WARN("node", "peer %s silent for more than %u ms: declared dead", dead.node_id, n->cfg.liveness_timeout_ms);
    kt_node_peer_gone(n, dead.node_id);
    kt_node_peer_forget(&dead);
}

static void kt_node_on_heartbeat(uv_timer_t *t)
{
    kt_node *n = t->data;
    uint64_t now = kt_node_now_ms(n);
    if (n->join_handle && !n->join_welcomed && n->join_up)
        kt_node_send_system(n, n->join_handle, KT_MSG_HELLO, "", NULL);
    for (size_t i = 0; i < n->npeers;) {
        if (now - n->peers[i].last_seen_ms > n->cfg.liveness_timeout_ms) {
            kt_node_peer_dead(n, i);
            continue;
        }
        if (n->peers[i].handle)
            kt_node_send_system(n, n->peers[i].handle, n->peers[i].up ? KT_MSG_HEARTBEAT : KT_MSG_HELLO,
                                n->peers[i].up ? "" : KT_NODE_VIA_NOTICE, NULL);
        i++;
    }
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
    if (!p) {
        KT_WARN("node", "%s from unknown node %s: dropped", kt_msg_type_name(m.type), m.from);
        goto done;
    }
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
    return busy;
}

static int kt_node_on_link(void *ud, kt_link_event ev, uint32_t peer, const char *buf, size_t len)
{
    kt_node *n = ud;
    switch (ev) {
    case KT_LINK_MSG: return kt_node_on_remote(n, buf, len);
    case KT_LINK_PEER_UP:
        if (peer != n->join_handle)
            break;
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
        if (!n->join_welcomed)
            kt_node_send_system(n, peer, KT_MSG_HELLO, "", NULL);
        break;
    case KT_LINK_PEER_DOWN:
        if (peer == n->join_handle)
            n->join_up = 0;
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
     * from a Hello, answered with a Welcome that names the connection it came over (KT_NODE_VIA_NOTICE) */
    for (size_t i = 0; n->link && i < n->npeers; i++)
        if (n->peers[i].up && n->peers[i].handle)
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
