/* A node's membership (runtime/node.h, node_int.h): the peers it knows, the Hello/Welcome handshake, the notices by
 * which members learn each other whichever one they joined, heartbeats and the liveness timeout. The routing and the
 * mailboxes are node.c's. */
#include "runtime/node.h"
#include "runtime/node_int.h"
#include "base/alloc.h"
#include "base/log.h"
#include "transports/link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
void kt_node_send_system(kt_node *n, uint32_t handle, kt_msg_type type, const char *to, const kt_peer *about)
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
    return url && (!strncmp(url, "tcp://0.0.0.0:", 14) || !strncmp(url, "tcp://*:", 8) ||
                   !strncmp(url, "tcp://[::]:", 11));
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
    kt_node_hook_peer_up(n, &info);
}

/* Hello (someone joined us, or dials us after a notice) or Welcome (the answer to our Hello). `to` is the envelope's:
 * KT_NODE_VIA_NOTICE when the Hello went over a connection made after a notice, echoed in the Welcome. */
void kt_node_on_hello(kt_node *n, kt_msg_type type, const char *to, const kt_msg_hello *h)
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
        kt_node_hook_peer_down(n, h->node_id);
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
void kt_node_on_notice(kt_node *n, const kt_msg_hello *h)
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
        kt_node_hook_peer_down(n, h->node_id);
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
    kt_node_hook_peer_down(n, dead.node_id);
    kt_node_peer_forget(&dead);
}

void kt_node_on_heartbeat(uv_timer_t *t)
{
    kt_node *n = t->data;
    uint64_t now = kt_node_now_ms(n);
    if (n->join_handle && !n->join_welcomed && n->join_up)
        kt_node_send_system(n, n->join_handle, KT_MSG_HELLO, "", NULL);
    for (size_t i = 0; i < n->npeers;) {
        /* while the link holds what the peers sent (an actor paused for longer than the timeout: the indexer waiting
         * for its store), their heartbeats wait behind it: that silence is ours, not their death */
        if (!n->deaf && now - n->peers[i].last_seen_ms > n->cfg.liveness_timeout_ms) {
            kt_node_peer_dead(n, i);
            continue;
        }
        if (n->peers[i].handle)
            kt_node_send_system(n, n->peers[i].handle, n->peers[i].up ? KT_MSG_HEARTBEAT : KT_MSG_HELLO,
                                n->peers[i].up ? "" : KT_NODE_VIA_NOTICE, NULL);
        i++;
    }
}
