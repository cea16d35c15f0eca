/* Links to other nodes over nng (inproc://, ipc://, tcp://).
 *
 * Every node receives on one PULL socket (its inbound address) and reaches each peer through a PUSH socket dialed
 * to that peer's inbound address. PUSH/PULL is reliable and ordered with back-pressure; PAIR1's polyamorous mode,
 * the obvious alternative, silently drops a message as soon as a peer's 2-deep queue is full (nng 1.5.2
 * pair1_poly.c), which an orchestrator cannot afford.
 *
 * Threads: nng calls back on its own threads; those callbacks only push events onto a mutex-guarded queue and
 * wake the loop with uv_async_send (SPIKE.md §3). Everything the caller sees happens on the loop thread.
 *
 * Bounded both ways (base/limits.h): the queue from nng's threads holds KT_LINK_INBOX_CAP messages, after which the
 * inbound socket stops reading until the loop has taken them, and a refused delivery (the receiver's mailbox is
 * full) stops it too; each peer's send backlog holds KT_LINK_BACKLOG_CAP messages, after which sends are refused. */
#ifndef KT_LINK_H
#define KT_LINK_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/status.h"

typedef struct kt_link kt_link;

typedef enum kt_link_event {
    KT_LINK_MSG,     /* a message arrived on the inbound socket (peer = 0: the envelope says who sent it) */
    KT_LINK_PEER_UP, /* the PUSH connection to peer is established; info = our local IP as the peer sees it */
    KT_LINK_PEER_DOWN /* that connection is gone (nng keeps redialling) */
} kt_link_event;

/* buf/len: the message (KT_LINK_MSG) or the local address text (KT_LINK_PEER_UP); valid during the call.
 * For KT_LINK_MSG a non-zero return means "no room now": the link keeps that message and every event after it, in
 * order, until kt_link_resume, and meanwhile stops reading from the network (back-pressure to the sender). */
typedef int (*kt_link_cb)(void *ud, kt_link_event ev, uint32_t peer, const char *buf, size_t len);

kt_status kt_link_open(uv_loop_t *loop, kt_link_cb cb, void *ud, kt_link **out);
/* Binds the inbound socket. url may use port 0 (tcp): the URL actually bound is written to bound (may be NULL). */
kt_status kt_link_listen(kt_link *l, const char *url, char *bound, size_t boundcap, char *err, size_t errcap);
/* Opens an outbound connection (redialled in the background); returns its handle (> 0) in *peer. */
kt_status kt_link_connect(kt_link *l, const char *url, uint32_t *peer, char *err, size_t errcap);
void kt_link_disconnect(kt_link *l, uint32_t peer);
/* Queues buf for peer; never blocks the loop (a full connection keeps messages in order in a backlog). KT_EAGAIN
 * when that backlog holds KT_LINK_BACKLOG_CAP messages already (base/limits.h). */
kt_status kt_link_send(kt_link *l, uint32_t peer, const char *buf, size_t len);
/* 0 when kt_link_send to peer would be refused with KT_EAGAIN. */
int kt_link_has_room(const kt_link *l, uint32_t peer);
/* The receiver has room again: deliver what a callback refused (on a later loop iteration), and read again. */
void kt_link_resume(kt_link *l);
/* Stops callbacks, closes every socket and releases the loop handles; memory goes when the handles close. */
void kt_link_close(kt_link *l);

#endif
