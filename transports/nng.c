#include "transports/link.h"
#include "base/alloc.h"
#include "base/limits.h"
#include "base/log.h"

#include <arpa/inet.h>
#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct kt_link_item {
    kt_link_event ev;
    uint32_t peer;
    nng_msg *msg;  /* KT_LINK_MSG */
    char addr[64]; /* KT_LINK_PEER_UP */
} kt_link_item;

typedef struct kt_link_queue {
    kt_link_item *items;
    size_t len, cap;
} kt_link_queue;

typedef struct kt_link_peer {
    kt_link *link;
    uint32_t id;
    nng_socket sock;
    int open;
    nng_msg **backlog; /* sends that found the connection full, in order */
    size_t backlog_len, backlog_cap;
} kt_link_peer;

struct kt_link {
    uv_loop_t *loop;
    kt_link_cb cb;
    void *ud;
    nng_socket in;
    int in_open;
    nng_aio *recv_aio;
    uv_async_t wake;
    uv_timer_t retry;
    uint64_t retry_ms; /* the backlog retry's period: 1 ms while peers take messages, doubling to
                          KT_LINK_RETRY_MAX_MS while none does (a dead peer must not cost a wake-up per ms) */
    uv_mutex_t mu;
    kt_link_queue inbox, work; /* inbox: filled by nng threads under mu; work: the loop's batch, from work_pos on */
    size_t work_pos;
    int recv_paused; /* under mu: the inbox reached KT_LINK_INBOX_CAP, nothing reads until the loop takes it */
    int stalled;     /* the callback refused work[work_pos]: wait for kt_link_resume */
    kt_link_peer peers[KT_LINK_MAX_PEERS]; /* index = handle; 0 unused */
    int closing;
    int handles_open;
};

static void kt_link_push(kt_link_queue *q, const kt_link_item *it)
{
    if (q->len == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 256;
        q->items = kt_xrealloc(q->items, q->cap * sizeof *q->items);
    }
    q->items[q->len++] = *it;
}

/* nng thread. Returns 0 when the inbox is full after this item: the caller must stop receiving (recv_paused is set,
 * and the loop reads again once it has taken the inbox). */
static int kt_link_enqueue(kt_link *l, const kt_link_item *it)
{
    uv_mutex_lock(&l->mu);
    int closing = l->closing, more = 1;
    if (!closing) {
        kt_link_push(&l->inbox, it);
        if (it->ev == KT_LINK_MSG && l->inbox.len >= KT_LINK_INBOX_CAP)
            more = 0, l->recv_paused = 1;
    }
    uv_mutex_unlock(&l->mu);
    if (closing) {
        if (it->msg)
            nng_msg_free(it->msg);
        return 0;
    }
    uv_async_send(&l->wake);
    return more;
}

/* nng thread */
static void kt_link_on_recv(void *arg)
{
    kt_link *l = arg;
    if (nng_aio_result(l->recv_aio) != 0)
        return; /* NNG_ECLOSED / NNG_ECANCELED while closing */
    kt_link_item it = {.ev = KT_LINK_MSG, .msg = nng_aio_get_msg(l->recv_aio)};
    if (kt_link_enqueue(l, &it))
        nng_recv_aio(l->in, l->recv_aio);
}

/* nng thread: an outbound connection came up or went away */
static void kt_link_on_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    kt_link_peer *peer = arg;
    kt_link_item it = {.ev = ev == NNG_PIPE_EV_ADD_POST ? KT_LINK_PEER_UP : KT_LINK_PEER_DOWN, .peer = peer->id};
    if (ev == NNG_PIPE_EV_ADD_POST) {
        nng_sockaddr sa;
        if (nng_pipe_get_addr(p, NNG_OPT_LOCADDR, &sa) == 0) {
            if (sa.s_family == NNG_AF_INET)
                inet_ntop(AF_INET, &sa.s_in.sa_addr, it.addr, sizeof it.addr);
            else if (sa.s_family == NNG_AF_INET6)
                inet_ntop(AF_INET6, sa.s_in6.sa_addr, it.addr, sizeof it.addr);
        }
    }
    kt_link_enqueue(peer->link, &it);
}

/* Hands work[work_pos...] to the callback; 0 when the callback refused one (the link is stalled there). */
static int kt_link_deliver(kt_link *l)
{
    for (; l->work_pos < l->work.len; l->work_pos++) {
        kt_link_item *it = &l->work.items[l->work_pos];
        if (!l->closing) {
            if (it->ev == KT_LINK_MSG) {
                if (l->cb(l->ud, it->ev, 0, nng_msg_body(it->msg), nng_msg_len(it->msg))) {
                    l->stalled = 1;
                    return 0;
                }
            } else if (l->peers[it->peer].open) {
                l->cb(l->ud, it->ev, it->peer, it->addr, strlen(it->addr));
            }
        }
        if (it->msg)
            nng_msg_free(it->msg);
    }
    l->work.len = l->work_pos = 0;
    l->stalled = 0;
    return 1;
}

static void kt_link_on_wake(uv_async_t *a)
{
    kt_link *l = a->data;
    if (!kt_link_deliver(l)) /* what waited from the last batch goes first, so the order holds */
        return;
    uv_mutex_lock(&l->mu);
    kt_link_queue tmp = l->inbox;
    l->inbox = l->work;
    l->work = tmp;
    int rearm = l->recv_paused && !l->closing; /* the inbox is empty again: read again */
    l->recv_paused = 0;
    uv_mutex_unlock(&l->mu);
    if (rearm)
        nng_recv_aio(l->in, l->recv_aio);
    kt_link_deliver(l);
}

void kt_link_resume(kt_link *l)
{
    if (l->stalled && !l->closing)
        uv_async_send(&l->wake); /* a later iteration: the receiver may be in the middle of its own callbacks */
}

/* Sends what waited, in order; stops at the first connection that is still full. */
static void kt_link_flush_backlogs(kt_link *l)
{
    int pending = 0, moved = 0;
    for (uint32_t id = 1; id < KT_LINK_MAX_PEERS; id++) {
        kt_link_peer *p = &l->peers[id];
        size_t i = 0;
        for (; i < p->backlog_len; i++) {
            int rv = nng_sendmsg(p->sock, p->backlog[i], NNG_FLAG_NONBLOCK);
            if (rv == NNG_EAGAIN)
                break;
            if (rv != 0)
                nng_msg_free(p->backlog[i]);
        }
        if (p->backlog_len) /* an empty backlog may have no array at all */
            memmove(p->backlog, p->backlog + i, (p->backlog_len - i) * sizeof *p->backlog);
        p->backlog_len -= i;
        moved |= i > 0;
        pending |= p->backlog_len > 0;
    }
    if (pending && !l->closing) {
        l->retry_ms = moved ? 1 : (l->retry_ms * 2 > KT_LINK_RETRY_MAX_MS ? KT_LINK_RETRY_MAX_MS : l->retry_ms * 2);
        uv_timer_set_repeat(&l->retry, l->retry_ms);
        uv_timer_again(&l->retry);
    } else {
        uv_timer_stop(&l->retry);
    }
}

static void kt_link_on_retry(uv_timer_t *t) { kt_link_flush_backlogs(t->data); }

kt_status kt_link_open(uv_loop_t *loop, kt_link_cb cb, void *ud, kt_link **out)
{
    kt_link *l = kt_xcalloc(1, sizeof *l);
    l->loop = loop;
    l->cb = cb;
    l->ud = ud;
    if (nng_aio_alloc(&l->recv_aio, kt_link_on_recv, l) != 0) {
        free(l);
        return KT_ENOMEM;
    }
    uv_mutex_init(&l->mu);
    uv_async_init(loop, &l->wake, kt_link_on_wake);
    l->wake.data = l;
    uv_timer_init(loop, &l->retry);
    uv_timer_set_repeat(&l->retry, 1);
    l->retry_ms = 1;
    l->retry.data = l;
    l->handles_open = 2;
    *out = l;
    return KT_OK;
}

static kt_status kt_link_err(int rv, const char *what, const char *url, char *err, size_t errcap)
{
    snprintf(err, errcap, "cannot %s %s: %s", what, url, nng_strerror(rv));
    return rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP || rv == NNG_EINVAL ? KT_EINVAL : KT_EIO;
}

kt_status kt_link_listen(kt_link *l, const char *url, char *bound, size_t boundcap, char *err, size_t errcap)
{
    int rv;
    if (!l->in_open) {
        if ((rv = nng_pull0_open(&l->in)) != 0)
            return kt_link_err(rv, "open a socket for", url, err, errcap);
        nng_socket_set_int(l->in, NNG_OPT_RECVBUF, KT_LINK_SOCKBUF);
        nng_socket_set_size(l->in, NNG_OPT_RECVMAXSZ, KT_LINK_MAX_MSG);
        l->in_open = 1;
        nng_recv_aio(l->in, l->recv_aio);
    }
    nng_listener lst;
    if ((rv = nng_listen(l->in, url, &lst, 0)) != 0)
        return kt_link_err(rv, "listen on", url, err, errcap);
    if (bound) {
        snprintf(bound, boundcap, "%s", url);
        int port = 0;
        if (!strncmp(url, "tcp://", 6) && nng_listener_get_int(lst, NNG_OPT_TCP_BOUND_PORT, &port) == 0) {
            const char *colon = strrchr(url, ':');
            if (colon)
                snprintf(bound, boundcap, "%.*s:%d", (int)(colon - url), url, port);
        }
    }
    return KT_OK;
}

kt_status kt_link_connect(kt_link *l, const char *url, uint32_t *peer, char *err, size_t errcap)
{
    uint32_t id = 1;
    while (id < KT_LINK_MAX_PEERS && l->peers[id].open)
        id++;
    if (id == KT_LINK_MAX_PEERS) {
        snprintf(err, errcap, "too many peers (%d)", KT_LINK_MAX_PEERS - 1);
        return KT_EAGAIN;
    }
    kt_link_peer *p = &l->peers[id];
    memset(p, 0, sizeof *p);
    p->link = l;
    p->id = id;
    int rv;
    if ((rv = nng_push0_open(&p->sock)) != 0)
        return kt_link_err(rv, "open a socket for", url, err, errcap);
    /* A buffer lets NONBLOCK sends succeed without waiting for the peer's reader (SPIKE.md §3). */
    nng_socket_set_int(p->sock, NNG_OPT_SENDBUF, KT_LINK_SOCKBUF);
    nng_socket_set_ms(p->sock, NNG_OPT_RECONNMINT, 50);
    nng_socket_set_ms(p->sock, NNG_OPT_RECONNMAXT, 1000);
    nng_pipe_notify(p->sock, NNG_PIPE_EV_ADD_POST, kt_link_on_pipe, p);
    nng_pipe_notify(p->sock, NNG_PIPE_EV_REM_POST, kt_link_on_pipe, p);
    p->open = 1;
    /* NONBLOCK: the first attempt runs in the background, so a node may start before its peer. */
    if ((rv = nng_dial(p->sock, url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
        p->open = 0;
        nng_close(p->sock);
        return kt_link_err(rv, "dial", url, err, errcap);
    }
    *peer = id;
    return KT_OK;
}

static void kt_link_peer_close(kt_link_peer *p)
{
    if (!p->open)
        return;
    p->open = 0;
    nng_close(p->sock); /* waits for pipe callbacks in flight */
    for (size_t i = 0; i < p->backlog_len; i++)
        nng_msg_free(p->backlog[i]);
    free(p->backlog);
    p->backlog = NULL;
    p->backlog_len = p->backlog_cap = 0;
}

void kt_link_disconnect(kt_link *l, uint32_t peer)
{
    if (peer > 0 && peer < KT_LINK_MAX_PEERS)
        kt_link_peer_close(&l->peers[peer]);
}

int kt_link_has_room(const kt_link *l, uint32_t peer)
{
    return peer == 0 || peer >= KT_LINK_MAX_PEERS || l->peers[peer].backlog_len < KT_LINK_BACKLOG_CAP;
}

kt_status kt_link_send(kt_link *l, uint32_t peer, const char *buf, size_t len)
{
    if (l->closing || peer == 0 || peer >= KT_LINK_MAX_PEERS || !l->peers[peer].open)
        return KT_ECLOSED;
    kt_link_peer *p = &l->peers[peer];
    nng_msg *m;
    if (nng_msg_alloc(&m, len) != 0)
        kt_oom(); /* nng_msg_alloc fails for lack of memory only */
    memcpy(nng_msg_body(m), buf, len);
    if (p->backlog_len == 0) {
        int rv = nng_sendmsg(p->sock, m, NNG_FLAG_NONBLOCK);
        if (rv == 0)
            return KT_OK;
        if (rv != NNG_EAGAIN) {
            nng_msg_free(m);
            return KT_ECLOSED;
        }
    }
    if (p->backlog_len >= KT_LINK_BACKLOG_CAP) { /* the peer has not read for long: the caller counts it */
        nng_msg_free(m);
        return KT_EAGAIN;
    }
    if (p->backlog_len == p->backlog_cap) {
        p->backlog_cap = p->backlog_cap ? p->backlog_cap * 2 : 256;
        p->backlog = kt_xrealloc(p->backlog, p->backlog_cap * sizeof *p->backlog);
    }
    p->backlog[p->backlog_len++] = m;
    if (!uv_is_active((uv_handle_t *)&l->retry)) {
        l->retry_ms = 1;
        uv_timer_start(&l->retry, kt_link_on_retry, 1, 1);
    }
    return KT_OK;
}

static void kt_link_on_closed(uv_handle_t *h)
{
    kt_link *l = h->data;
    if (--l->handles_open == 0) {
        uv_mutex_destroy(&l->mu);
        free(l->inbox.items);
        free(l->work.items);
        free(l);
    }
}

void kt_link_close(kt_link *l)
{
    if (!l)
        return;
    uv_mutex_lock(&l->mu);
    l->closing = 1;
    uv_mutex_unlock(&l->mu);
    /* Stop the aio first: nng_aio_stop waits for a running callback, so no uv_async_send can hit a closing
     * handle afterwards. */
    nng_aio_stop(l->recv_aio);
    for (uint32_t id = 1; id < KT_LINK_MAX_PEERS; id++)
        kt_link_peer_close(&l->peers[id]);
    if (l->in_open)
        nng_close(l->in);
    nng_aio_free(l->recv_aio);
    for (size_t i = 0; i < l->inbox.len; i++)
        if (l->inbox.items[i].msg)
            nng_msg_free(l->inbox.items[i].msg);
    l->inbox.len = 0;
    for (size_t i = l->work_pos; i < l->work.len; i++) /* what a stalled delivery kept */
        if (l->work.items[i].msg)
            nng_msg_free(l->work.items[i].msg);
    l->work.len = l->work_pos = 0;
    uv_timer_stop(&l->retry);
    uv_close((uv_handle_t *)&l->wake, kt_link_on_closed);
    uv_close((uv_handle_t *)&l->retry, kt_link_on_closed);
}
