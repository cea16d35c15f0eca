/* The inside of a node, shared by node.c (actors, mailboxes, routing, timers) and node_peers.c (membership). Not for
 * other modules: they use runtime/node.h. */
#ifndef KT_NODE_INT_H
#define KT_NODE_INT_H

#include "base/limits.h"
#include "runtime/node.h"
#include "transports/link.h"

#define KT_NODE_ID_MAX 64

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
    int link_lost; /* our connection to it went down (nng redials): say Hello again when it is back */
} kt_peer;

/* The envelope's `to` of a Hello sent to a member learnt from a KT_MSG_PEER notice, echoed in its Welcome: a Welcome
 * without it comes from the node we joined (reached through the join connection). */
#define KT_NODE_VIA_NOTICE "notice"

typedef struct kt_delayed kt_delayed; /* node.c */

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
    int deaf; /* the link holds a peer's message for a full mailbox (kt_node_on_remote): nothing after it is read */
    int join_lost; /* the join connection went down after it was up: Hello again when it is back (a restart) */
    uint64_t delivered;
    uint64_t refused; /* sends refused for a full mailbox or link backlog (KT_EAGAIN) */
    kt_actor *current; /* the actor the node is calling into (receive, flush, peer hooks, stop); NULL outside */
    kt_delayed *delayed; /* pending timers, most recent first */
    uint64_t next_timer_id;
    int stopped;
};

static inline uint64_t kt_node_now_ms(kt_node *n) { return uv_now(n->loop); }

/* node.c */
kt_peer *kt_node_peer_by_id(kt_node *n, const char *id, size_t len);
/* The actors' peer_up / peer_down hooks, then every actor's flush (as after a drain). */
void kt_node_hook_peer_up(kt_node *n, const kt_peer_info *info);
void kt_node_hook_peer_down(kt_node *n, const char *node_id);

/* node_peers.c */
/* Hello, Welcome and Peer carry a Hello body: this node's (about = NULL) or a peer's; a heartbeat its own. */
void kt_node_send_system(kt_node *n, uint32_t handle, kt_msg_type type, const char *to, const kt_peer *about);
void kt_node_on_hello(kt_node *n, kt_msg_type type, const char *to, const kt_msg_hello *h);
void kt_node_on_notice(kt_node *n, const kt_msg_hello *h);
/* The heartbeat timer: Hello again where unanswered, heartbeats, and the liveness timeout. */
void kt_node_on_heartbeat(uv_timer_t *t);

#endif
