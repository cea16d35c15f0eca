#include "transports/link.h"
#include "runtime/log.h"

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct kt_link_item {
    kt_link_event ev;
    uint32_t pipe;
    nng_msg *msg; /* KT_LINK_MSG only */
} kt_link_item;

typedef struct kt_link_queue {
    kt_link_item *items;
    size_t len, cap;
} kt_link_queue;

struct kt_link {
    uv_loop_t *loop;
    kt_link_cb cb;
    void *ud;
    nng_socket sock;
    nng_aio *recv_aio;
    uv_async_t wake;
    uv_timer_t retry;      /* resends the backlog when nng's send buffer was full */
    uv_mutex_t mu;
    kt_link_queue inbox;   /* filled by nng threads under mu */
    kt_link_queue work;    /* swapped with inbox and drained on the loop */
    nng_msg **backlog;     /* sends that hit NNG_EAGAIN, in order */
    size_t backlog_len, backlog_cap;
    int closing;
    int handles_open;
};

static int kt_link_push(kt_link_queue *q, kt_link_item it)
{
    if (q->len == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 256;
        kt_link_item *n = realloc(q->items, cap * sizeof *n);
        if (!n)
            return -1;
        q->items = n;
        q->cap = cap;
    }
    q->items[q->len++] = it;
    return 0;
}

/* nng thread */
static void kt_link_enqueue(kt_link *l, kt_link_item it)
{
    uv_mutex_lock(&l->mu);
    int failed = l->closing || kt_link_push(&l->inbox, it);
    uv_mutex_unlock(&l->mu);
    if (failed) {
        if (it.msg)
            nng_msg_free(it.msg);
        return;
    }
    uv_async_send(&l->wake);
}

/* nng thread */
static void kt_link_on_recv(void *arg)
{
    kt_link *l = arg;
    if (nng_aio_result(l->recv_aio) != 0)
        return; /* NNG_ECLOSED / NNG_ECANCELED while closing */
    nng_msg *m = nng_aio_get_msg(l->recv_aio);
    kt_link_item it = {KT_LINK_MSG, nng_pipe_id(nng_msg_get_pipe(m)), m};
    kt_link_enqueue(l, it);
    nng_recv_aio(l->sock, l->recv_aio);
}

/* nng thread */
static void kt_link_on_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    kt_link *l = arg;
    kt_link_event what = KT_LINK_PIPE_DOWN;
    if (ev == NNG_PIPE_EV_ADD_POST)
        what = nng_dialer_id(nng_pipe_dialer(p)) > 0 ? KT_LINK_PIPE_UP_OUT : KT_LINK_PIPE_UP_IN;
    kt_link_item it = {what, nng_pipe_id(p), NULL};
    kt_link_enqueue(l, it);
}

/* loop thread: hand every queued event to the owner */
static void kt_link_on_wake(uv_async_t *a)
{
    kt_link *l = a->data;
    uv_mutex_lock(&l->mu);
    kt_link_queue tmp = l->inbox;
    l->inbox = l->work;
    l->work = tmp;
    uv_mutex_unlock(&l->mu);
    for (size_t i = 0; i < l->work.len; i++) {
        kt_link_item *it = &l->work.items[i];
        if (!l->closing) {
            if (it->ev == KT_LINK_MSG)
                l->cb(l->ud, it->ev, it->pipe, nng_msg_body(it->msg), nng_msg_len(it->msg));
            else
                l->cb(l->ud, it->ev, it->pipe, NULL, 0);
        }
        if (it->msg)
            nng_msg_free(it->msg);
    }
    l->work.len = 0;
}

static void kt_link_flush_backlog(kt_link *l)
{
    size_t i = 0;
    for (; i < l->backlog_len; i++) {
        int rv = nng_sendmsg(l->sock, l->backlog[i], NNG_FLAG_NONBLOCK);
        if (rv == NNG_EAGAIN)
            break;
        if (rv != 0)
            nng_msg_free(l->backlog[i]); /* pipe gone: at-least-once delivery resends what matters */
    }
    memmove(l->backlog, l->backlog + i, (l->backlog_len - i) * sizeof *l->backlog);
    l->backlog_len -= i;
    if (l->backlog_len && !l->closing)
        uv_timer_start(&l->retry, NULL, 1, 0);
}

static void kt_link_on_retry(uv_timer_t *t) { kt_link_flush_backlog(t->data); }

kt_status kt_link_open(uv_loop_t *loop, kt_link_cb cb, void *ud, kt_link **out)
{
    kt_link *l = calloc(1, sizeof *l);
    if (!l)
        return KT_ENOMEM;
    l->loop = loop;
    l->cb = cb;
    l->ud = ud;
    if (nng_pair1_open_poly(&l->sock) != 0)
        goto fail_free;
    /* Buffers let NONBLOCK sends succeed without waiting for the peer (SPIKE.md §3: PAIR1 defaults to 0). */
    nng_socket_set_int(l->sock, NNG_OPT_SENDBUF, 1024);
    nng_socket_set_int(l->sock, NNG_OPT_RECVBUF, 1024);
    nng_socket_set_ms(l->sock, NNG_OPT_RECONNMINT, 50);
    nng_socket_set_ms(l->sock, NNG_OPT_RECONNMAXT, 1000);
    nng_socket_set_size(l->sock, NNG_OPT_RECVMAXSZ, 64u << 20);
    if (nng_aio_alloc(&l->recv_aio, kt_link_on_recv, l) != 0)
        goto fail_sock;
    uv_mutex_init(&l->mu);
    uv_async_init(loop, &l->wake, kt_link_on_wake);
    l->wake.data = l;
    uv_timer_init(loop, &l->retry);
    l->retry.data = l;
    l->handles_open = 2;
    nng_pipe_notify(l->sock, NNG_PIPE_EV_ADD_POST, kt_link_on_pipe, l);
    nng_pipe_notify(l->sock, NNG_PIPE_EV_REM_POST, kt_link_on_pipe, l);
    nng_recv_aio(l->sock, l->recv_aio);
    *out = l;
    return KT_OK;
fail_sock:
    nng_close(l->sock);
fail_free:
    free(l);
    return KT_EIO;
}

kt_status kt_link_listen(kt_link *l, const char *url, char *err, size_t errcap)
{
    int rv = nng_listen(l->sock, url, NULL, 0);
    if (rv) {
        snprintf(err, errcap, "cannot listen on %s: %s", url, nng_strerror(rv));
        return rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP ? KT_EINVAL : KT_EIO;
    }
    return KT_OK;
}

kt_status kt_link_dial(kt_link *l, const char *url, char *err, size_t errcap)
{
    /* NONBLOCK: the first attempt runs in the background, so a node may start before its peer. */
    int rv = nng_dial(l->sock, url, NULL, NNG_FLAG_NONBLOCK);
    if (rv) {
        snprintf(err, errcap, "cannot dial %s: %s", url, nng_strerror(rv));
        return rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP ? KT_EINVAL : KT_EIO;
    }
    return KT_OK;
}

kt_status kt_link_send(kt_link *l, uint32_t pipe, const char *buf, size_t len)
{
    if (l->closing)
        return KT_ECLOSED;
    nng_msg *m;
    if (nng_msg_alloc(&m, len) != 0)
        return KT_ENOMEM;
    memcpy(nng_msg_body(m), buf, len);
    nng_pipe p = NNG_PIPE_INITIALIZER;
    p.id = pipe;
    nng_msg_set_pipe(m, p);
    if (l->backlog_len == 0) {
        int rv = nng_sendmsg(l->sock, m, NNG_FLAG_NONBLOCK);
        if (rv == 0)
            return KT_OK;
        if (rv != NNG_EAGAIN) {
            nng_msg_free(m);
            return KT_ECLOSED;
        }
    }
    if (l->backlog_len == l->backlog_cap) {
        size_t cap = l->backlog_cap ? l->backlog_cap * 2 : 256;
        nng_msg **n = realloc(l->backlog, cap * sizeof *n);
        if (!n) {
            nng_msg_free(m);
            return KT_ENOMEM;
        }
        l->backlog = n;
        l->backlog_cap = cap;
    }
    l->backlog[l->backlog_len++] = m;
    if (!uv_is_active((uv_handle_t *)&l->retry))
        uv_timer_start(&l->retry, kt_link_on_retry, 1, 0);
    return KT_OK;
}

static void kt_link_on_closed(uv_handle_t *h)
{
    kt_link *l = h->data;
    if (--l->handles_open == 0) {
        uv_mutex_destroy(&l->mu);
        free(l->inbox.items);
        free(l->work.items);
        free(l->backlog);
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
    /* Stop the aio first: nng_aio_stop waits for a running callback, so no uv_async_send can hit a
     * closing handle afterwards. */
    nng_aio_stop(l->recv_aio);
    /* Give queued sends a moment to leave before nng_close drops them (SPIKE.md §3). */
    for (size_t i = 0; i < l->backlog_len; i++)
        nng_msg_free(l->backlog[i]);
    l->backlog_len = 0;
    nng_close(l->sock);
    nng_aio_free(l->recv_aio);
    for (size_t i = 0; i < l->inbox.len; i++)
        if (l->inbox.items[i].msg)
            nng_msg_free(l->inbox.items[i].msg);
    l->inbox.len = 0;
    uv_timer_stop(&l->retry);
    uv_close((uv_handle_t *)&l->wake, kt_link_on_closed);
    uv_close((uv_handle_t *)&l->retry, kt_link_on_closed);
}
