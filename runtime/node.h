/* A node: one libuv loop, the actors it hosts, and the router that carries their messages.
 *
 * An actor has a name, private state and one receive function; it handles one message at a time and
 * never calls another actor. kt_node_send addresses "name" or "name@node":
 *   - an actor hosted here gets the message in its mailbox (no syscall);
 *   - otherwise the message goes over the nng link to the peer node that hosts it.
 * Messages are always encoded (runtime/msg.h), so both paths run the same code.
 *
 * Mailboxes are drained in batches once per loop turn; after a drain each actor's flush hook runs, which
 * is where the executor commits the turn's transitions in one transaction before emitting their effects.
 * A mailbox holds at most KT_MAILBOX_CAP messages of new work (base/limits.h): a local send to a full one is refused
 * (KT_EAGAIN, counted, logged), a peer's message waits in the link, and a due timer fires again a little later. */
#ifndef KT_NODE_H
#define KT_NODE_H

#include <stdint.h>
#include <uv.h>

#include "runtime/msg.h"
#include "base/status.h"

typedef struct kt_node kt_node;
typedef struct kt_actor kt_actor;

typedef struct kt_peer_info {
    const char *node_id;
    const char *actors; /* comma-separated */
    uint32_t slots;
} kt_peer_info;

typedef struct kt_actor_ops {
    /* One message; m->body is valid only during the call. */
    void (*receive)(kt_actor *a, const kt_msg *m);
    /* End of a drain pass (optional): commit batched work, then send its effects. */
    void (*flush)(kt_actor *a);
    /* Peer membership (optional): a node joined, or was declared dead after the liveness timeout. Every actor's
     * flush runs after these hooks, as after a drain. */
    void (*peer_up)(kt_actor *a, const kt_peer_info *peer);
    void (*peer_down)(kt_actor *a, const char *node_id);
    /* Shutdown (optional): release handles; called once, on the loop thread, before the loop closes. */
    void (*stop)(kt_actor *a);
} kt_actor_ops;

typedef struct kt_node_config {
    const char *node_id;          /* NULL: generated */
    uint32_t worker_slots;        /* advertised in Hello */
    uint32_t heartbeat_ms;        /* default 1000 */
    uint32_t liveness_timeout_ms; /* default 10000: a peer silent this long is dead */
} kt_node_config;

kt_status kt_node_new(uv_loop_t *loop, const kt_node_config *cfg, kt_node **out);
uv_loop_t *kt_node_loop(const kt_node *n);
const char *kt_node_id(const kt_node *n);

/* Registers an actor; its name must be unique on the node. */
kt_status kt_node_spawn(kt_node *n, const char *name, const kt_actor_ops *ops, void *state, kt_actor **out);
void *kt_actor_state(const kt_actor *a);
kt_node *kt_actor_node(const kt_actor *a);
const char *kt_actor_name(const kt_actor *a);
/* "name@node": the address replies should use. */
const char *kt_actor_address(const kt_actor *a);
/* Back-pressure from an actor that holds work of its own beyond its mailbox (the indexer's lines waiting for a slow
 * store): while paused (on = 1), its mailbox counts as full for new work, so local senders get KT_EAGAIN and
 * kt_node_has_room says 0, and a peer's messages wait in the link, exactly as at KT_MAILBOX_CAP. The messages already
 * in the mailbox are still delivered, and what never counts against a mailbox (the actor's messages to itself,
 * replies) still fits. on = 0 takes new work again. */
void kt_actor_pause(kt_actor *a, int on);
/* Holds a's mailbox (on = 1): the drain passes skip it, so its receive is not called, while its messages keep
 * coming in (and count against KT_MAILBOX_CAP as usual). For an actor whose state must not move while its commit
 * is in flight (the executor, store/db.h): what arrives meanwhile is handled in one turn once on = 0, and so
 * committed together. Its flush hook still runs: the actor itself knows it is holding. */
void kt_actor_hold(kt_actor *a, int on);
/* Runs fn(a, ud) as a's own code (what a's hooks are): its sends to itself and to others count as they would from
 * its receive or flush. For an actor's callbacks outside the node's hooks (a commit's callback). */
void kt_actor_call(kt_actor *a, void (*fn)(kt_actor *a, void *ud), void *ud);
/* For a stop hook whose actor must not lose what it was sent (the indexer's lines): the messages still waiting in
 * a's mailbox are handed to its receive now, in order, instead of being dropped with the mailbox when the node
 * stops. Its sends fail then (KT_ECLOSED): only an actor that needs none uses it. */
void kt_actor_take_pending(kt_actor *a);

/* Links to other nodes. */
kt_status kt_node_listen(kt_node *n, const char *url, char *err, size_t errcap);
kt_status kt_node_join(kt_node *n, const char *url, char *err, size_t errcap);

/* Sends an encoded message (kt_outmsg_begin + kt_msg_encode_*); `to` is the address given to begin.
 * KT_ENOTFOUND when no local actor or live peer hosts it; KT_EAGAIN when its mailbox or the link's backlog is full
 * (counted in kt_node_refused and logged). The message is consumed either way. */
kt_status kt_node_send(kt_node *n, const char *to, kt_outmsg *o);
/* kt_node_send to every actor of that name: the local one and one on each live peer hosting it (the schedulers of a
 * cluster all hear of a changed flow). KT_OK when at least one got it; KT_ENOTFOUND when nobody hosts it; otherwise
 * the first failure (each counted and logged as kt_node_send's). The message is consumed. */
kt_status kt_node_send_all(kt_node *n, const char *name, kt_outmsg *o);
/* The live members hosting the actor `name`: this node first when it hosts one, then each live peer that does, that
 * answered us and that we are connected to (the members kt_node_send reaches). Writes at most cap node ids into ids (borrowed: valid until the membership changes, a
 * peer_up or peer_down) and returns how many there are (possibly more than cap). */
size_t kt_node_hosts(kt_node *n, const char *name, const char **ids, size_t cap);
/* Keyed routing (runtime/node_keyed.c, docs/store-async-design.md §4.1): the messages about one execution go to the
 * owner of its partition (base/partition.h) among the live members hosting `name`, the one with the highest
 * rendezvous weight kt_partition_weight(node id, p). Every node computes it the same way from what it knows, so
 * no table travels; a member joining or leaving moves only the partitions it gains or had. Views that differ for a
 * moment (a join seen by one node before another) only send a message to the wrong member, which the leases in the
 * store keep from committing anything (the executor parks it until it holds the partition, or passes it on).
 *
 * The owner of partition p (0 <= p < KT_PARTITIONS), a node id (borrowed as kt_node_hosts'), or NULL when no live
 * member hosts `name`. With one member it is that member. */
const char *kt_node_partition_owner(kt_node *n, const char *name, int p);
/* "name@owner" for the partition of key (kt_exec_partition(key)) into out: what kt_node_has_room and kt_node_send
 * take. KT_ENOTFOUND when nobody hosts `name`, KT_EINVAL when it does not fit in cap. */
kt_status kt_node_keyed_address(kt_node *n, const char *name, const char *key, char *out, size_t cap);
/* kt_node_send to `name` on the owner of key's partition (KT_ENOTFOUND when nobody hosts it). The message is
 * consumed. */
kt_status kt_node_send_keyed(kt_node *n, const char *name, const char *key, kt_outmsg *o);
/* Timers as messages: delivers o to `to` after delay_ms (resolved when it fires, so the target may have moved).
 * Returns a handle for kt_node_cancel (0 on failure). Pending timers are dropped when the node stops. */
uint64_t kt_node_send_after(kt_node *n, const char *to, kt_outmsg *o, uint64_t delay_ms);
/* Cancels a pending timer; 0 if it had already fired or was unknown. */
int kt_node_cancel(kt_node *n, uint64_t timer);
/* 1 when the comma-separated list of actor names (kt_peer_info.actors, the --actors option; NULL is empty) holds
 * the name of len bytes. */
int kt_node_actors_has(const char *actors, const char *name, size_t len);
/* 1 when `to` resolves to an actor here or on a live peer. */
int kt_node_reachable(kt_node *n, const char *to);
/* 0 when a kt_node_send to `to` now would be refused with KT_EAGAIN: the local mailbox is full (KT_MAILBOX_CAP) or
 * the link's backlog to the peer hosting it is (KT_LINK_BACKLOG_CAP). A sender that can wait checks this first and
 * keeps its message for a later turn (back-pressure); one that cannot gets KT_EAGAIN from kt_node_send and says so.
 * Two kinds of messages are never refused by a mailbox, as they are bounded by work its actor already took: the
 * ones an actor sends to itself (from its receive, flush, peer or stop hooks) and replies (KT_MSG_REPLY). */
int kt_node_has_room(kt_node *n, const char *to);

/* Orderly stop: actors' stop hooks, links closed, timers closed. After it the loop drains and closes. */
void kt_node_stop(kt_node *n);
void kt_node_free(kt_node *n);

/* The cluster as this node sees it: itself first, then every live peer (dead ones are forgotten after the liveness
 * timeout), each {id, self, actors: [...], address, workerSlots, state: "RUNNING", lastHeartbeatAgeMs}. New
 * reference. GET /api/v1/cluster/nodes shows it. */
json_t *kt_node_members(kt_node *n);

/* Counters for benchmarks and tests: messages handed to actors; sends refused with KT_EAGAIN. */
uint64_t kt_node_delivered(const kt_node *n);
uint64_t kt_node_refused(const kt_node *n);

#endif
