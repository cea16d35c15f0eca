/* A link to other nodes over nng (inproc://, ipc://, tcp://). One PAIR1 socket in polyamorous mode per
 * node: it may listen, dial, or both, and every peer connection is a "pipe" we can address.
 *
 * Threads: nng calls back on its own threads; those callbacks only push events onto a mutex-guarded
 * queue and wake the loop with uv_async_send (SPIKE.md §3: aio -> mutex queue -> uv_async_send).
 * Everything the caller sees happens on the loop thread. */
#ifndef KT_LINK_H
#define KT_LINK_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "runtime/status.h"

typedef struct kt_link kt_link;

typedef enum kt_link_event {
    KT_LINK_MSG,      /* a message arrived on pipe */
    KT_LINK_PIPE_UP_OUT, /* we dialed a peer and the connection is up: we speak first */
    KT_LINK_PIPE_UP_IN,  /* a peer dialed us */
    KT_LINK_PIPE_DOWN /* the connection to a peer is gone */
} kt_link_event;

/* buf/len are only meaningful for KT_LINK_MSG and valid for the duration of the call. */
typedef void (*kt_link_cb)(void *ud, kt_link_event ev, uint32_t pipe, const char *buf, size_t len);

kt_status kt_link_open(uv_loop_t *loop, kt_link_cb cb, void *ud, kt_link **out);
/* err receives nng's reason on failure (for "bad address" messages). */
kt_status kt_link_listen(kt_link *l, const char *url, char *err, size_t errcap);
/* Dials in the background and keeps redialling when the peer goes away. */
kt_status kt_link_dial(kt_link *l, const char *url, char *err, size_t errcap);
/* Queues buf for pipe; never blocks the loop. Messages to a pipe that is gone are dropped (KT_ECLOSED). */
kt_status kt_link_send(kt_link *l, uint32_t pipe, const char *buf, size_t len);
/* Stops callbacks, closes the socket and releases the loop handles; the memory goes when the handles close. */
void kt_link_close(kt_link *l);

#endif
