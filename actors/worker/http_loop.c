/* libcurl multi on a libuv loop (see http_loop.h). curl tells which sockets to watch (socket callback) and when to
 * call it back (timer callback); libuv tells curl when a socket is ready or the timer fired. */
#include "actors/worker/http_loop.h"

#include <stdlib.h>

struct kt_hl_xfer {
    kt_hl *h;
    CURL *easy;
    kt_hl_done_fn done;
    void *data;
    kt_hl_xfer *prev, *next;
};

struct kt_hl {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    kt_hl_xfer *xfers; /* running transfers, for kt_hl_close */
    int closing;
    int open_handles; /* the timer and the polls not yet closed: the struct is freed when it drops to 0 */
};

/* One watched socket. */
typedef struct kt_hl_sock {
    uv_poll_t poll;
    kt_hl *h;
    curl_socket_t fd;
} kt_hl_sock;

static void kt_hl_handle_closed(uv_handle_t *hd)
{
    kt_hl *h = hd->data;
    if (hd->type == UV_POLL)
        free(hd); /* the poll is the first member of its kt_hl_sock */
    if (--h->open_handles == 0 && h->closing)
        free(h);
}

static void kt_hl_unlink(kt_hl_xfer *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        x->h->xfers = x->next;
    if (x->next)
        x->next->prev = x->prev;
}

/* Ends the transfers curl says are done: outside curl's callbacks, so done may do anything. */
static void kt_hl_check_done(kt_hl *h)
{
    CURLMsg *m;
    int left;
    while (!h->closing && (m = curl_multi_info_read(h->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        kt_hl_xfer *x = NULL;
        CURL *easy = m->easy_handle;
        CURLcode rc = m->data.result;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
        curl_multi_remove_handle(h->multi, easy);
        if (!x)
            continue;
        kt_hl_unlink(x);
        x->done(x, rc, x->data);
        free(x);
    }
}

static void kt_hl_on_poll(uv_poll_t *p, int status, int events)
{
    kt_hl_sock *s = (kt_hl_sock *)p;
    kt_hl *h = s->h;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR; /* curl finds out what went wrong on its next read or write */
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running;
    curl_multi_socket_action(h->multi, s->fd, flags, &running);
    kt_hl_check_done(h);
}

static void kt_hl_on_timer(uv_timer_t *t)
{
    kt_hl *h = t->data;
    int running;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    kt_hl_check_done(h);
}

/* curl: watch fd for what (or stop watching it). */
static int kt_hl_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    kt_hl *h = userp;
    kt_hl_sock *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            uv_poll_stop(&s->poll);
            uv_close((uv_handle_t *)&s->poll, kt_hl_handle_closed);
            if (!h->closing)
                curl_multi_assign(h->multi, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s)
            return -1;
        if (uv_poll_init_socket(h->loop, &s->poll, fd)) {
            free(s);
            return -1;
        }
        s->h = h;
        s->fd = fd;
        s->poll.data = h;
        h->open_handles++;
        curl_multi_assign(h->multi, fd, s);
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, kt_hl_on_poll);
    return 0;
}

/* curl: call me back in ms (-1: never). Never call curl from here: the timer does it on the next turn. */
static int kt_hl_timer_cb(CURLM *multi, long ms, void *userp)
{
    (void)multi;
    kt_hl *h = userp;
    if (h->closing)
        return 0;
    if (ms < 0)
        uv_timer_stop(&h->timer);
    else
        uv_timer_start(&h->timer, kt_hl_on_timer, (uint64_t)ms, 0);
    return 0;
}

kt_hl *kt_hl_new(uv_loop_t *loop)
{
    kt_hl *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->loop = loop;
    h->multi = curl_multi_init();
    if (!h->multi) {
        free(h);
        return NULL;
    }
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, kt_hl_socket_cb);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, kt_hl_timer_cb);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    uv_timer_init(loop, &h->timer);
    h->timer.data = h;
    h->open_handles = 1;
    return h;
}

void kt_hl_close(kt_hl *h)
{
    if (!h || h->closing)
        return;
    h->closing = 1;
    while (h->xfers) {
        kt_hl_xfer *x = h->xfers;
        kt_hl_unlink(x);
        curl_multi_remove_handle(h->multi, x->easy);
        curl_easy_setopt(x->easy, CURLOPT_PRIVATE, NULL);
        free(x);
    }
    /* closes the cached connections: their sockets come back through kt_hl_socket_cb as CURL_POLL_REMOVE */
    curl_multi_cleanup(h->multi);
    h->multi = NULL;
    uv_timer_stop(&h->timer);
    uv_close((uv_handle_t *)&h->timer, kt_hl_handle_closed);
}

kt_status kt_hl_add(kt_hl *h, CURL *easy, kt_hl_done_fn done, void *data, kt_hl_xfer **out)
{
    if (h->closing)
        return KT_ECLOSED;
    kt_hl_xfer *x = calloc(1, sizeof *x);
    if (!x)
        return KT_ENOMEM;
    *x = (kt_hl_xfer){.h = h, .easy = easy, .done = done, .data = data, .next = h->xfers};
    curl_easy_setopt(easy, CURLOPT_PRIVATE, (char *)x);
    if (curl_multi_add_handle(h->multi, easy) != CURLM_OK) {
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        free(x);
        return KT_EIO;
    }
    if (h->xfers)
        h->xfers->prev = x;
    h->xfers = x;
    if (out)
        *out = x;
    return KT_OK;
}

void kt_hl_cancel(kt_hl_xfer *x)
{
    if (!x)
        return;
    kt_hl_unlink(x);
    curl_multi_remove_handle(x->h->multi, x->easy);
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, NULL);
    free(x);
}

void kt_hl_resume(kt_hl_xfer *x)
{
    if (!x)
        return;
    curl_easy_pause(x->easy, CURLPAUSE_CONT);
    /* the unpaused transfer may have ended inside curl_easy_pause: a socket action on the next turn reports it */
    if (!x->h->closing)
        uv_timer_start(&x->h->timer, kt_hl_on_timer, 0, 0);
}
