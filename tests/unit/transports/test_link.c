/* transports/link.h over nng inproc on one loop: a receiver that has no room stalls the link without losing or
 * reordering anything (back-pressure), and a peer's send backlog refuses past KT_LINK_BACKLOG_CAP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <nng/nng.h>
#include <string.h>

#include "base/limits.h"
#include "transports/link.h"

#define NMSG (KT_LINK_INBOX_CAP * 2 + 1000) /* more than the inbox holds while the receiver stalls */

typedef struct rx {
    uv_loop_t *loop;
    kt_link *link;
    uint32_t last, got;
    int refusals, up;
    int refusals_mid, refusals_last; /* refusals of message 700, and of the last one */
    int resumes;
    uv_timer_t resume;
} rx;

static void on_resume(uv_timer_t *t)
{
    rx *r = t->data;
    r->resumes++;
    kt_link_resume(r->link);
}

static int on_rx(void *ud, kt_link_event ev, uint32_t peer, const char *buf, size_t len)
{
    rx *r = ud;
    if (ev != KT_LINK_MSG)
        return 0;
    uint32_t seq;
    assert_int_equal(len, sizeof seq);
    memcpy(&seq, buf, sizeof seq);
    /* No room for message 700 until the first resume, 50 ms later: the rest piles up behind it, more than the inbox
     * holds, so the socket stops reading too. No room for the last one until the second resume: nothing else can
     * bring it back. */
    int *refusals = seq == 700 ? &r->refusals_mid : seq == NMSG ? &r->refusals_last : NULL;
    if (refusals && r->resumes < (seq == 700 ? 1 : 2)) {
        if (!(*refusals)++)
            uv_timer_start(&r->resume, on_resume, 50, 0); /* "room again" a little later */
        return 1;
    }
    assert_int_equal(seq, r->last + 1); /* in order, once each */
    r->last = seq;
    if (++r->got == NMSG)
        uv_stop(r->loop);
    return 0;
}

static int on_tx(void *ud, kt_link_event ev, uint32_t peer, const char *buf, size_t len)
{
    rx *r = ud; /* the sender only waits for its connection */
    if (ev == KT_LINK_PEER_UP) {
        r->up = 1;
        uv_stop(r->loop);
    }
    return 0;
}

static void on_deadline(uv_timer_t *t) { uv_stop(t->loop); }

static void test_stall_keeps_order(void **s)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    rx r = {.loop = &loop}, tx = {.loop = &loop};
    uv_timer_init(&loop, &r.resume);
    r.resume.data = &r;
    kt_link *in, *out;
    char err[256];
    assert_int_equal(kt_link_open(&loop, on_rx, &r, &in), KT_OK);
    assert_int_equal(kt_link_open(&loop, on_tx, &tx, &out), KT_OK);
    r.link = in;
    assert_int_equal(kt_link_listen(in, "inproc://kite-test-link", NULL, 0, err, sizeof err), KT_OK);
    uint32_t peer = 0;
    assert_int_equal(kt_link_connect(out, "inproc://kite-test-link", &peer, err, sizeof err), KT_OK);
    uv_timer_t deadline;
    uv_timer_init(&loop, &deadline);
    uv_timer_start(&deadline, on_deadline, 5000, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_true(tx.up);
    for (uint32_t i = 1; i <= NMSG; i++)
        assert_int_equal(kt_link_send(out, peer, (const char *)&i, sizeof i), KT_OK);
    uv_timer_start(&deadline, on_deadline, 10000, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(r.got, NMSG);
    assert_int_equal(r.last, NMSG);
    assert_true(r.refusals_mid >= 1);
    assert_true(r.refusals_last >= 1);
    assert_int_equal(r.resumes, 2);
    kt_link_close(in);
    kt_link_close(out);
    uv_close((uv_handle_t *)&deadline, NULL);
    uv_close((uv_handle_t *)&r.resume, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* Nobody listens at the address: nng takes what its buffer holds, the backlog the rest up to its capacity, and then
 * sends are refused until the peer reads. */
static void test_backlog_capacity(void **s)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    rx tx = {.loop = &loop};
    kt_link *out;
    char err[256];
    assert_int_equal(kt_link_open(&loop, on_tx, &tx, &out), KT_OK);
    uint32_t peer = 0;
    assert_int_equal(kt_link_connect(out, "inproc://kite-test-nobody", &peer, err, sizeof err), KT_OK);
    uint32_t sent = 0;
    while (kt_link_has_room(out, peer) && sent <= KT_LINK_BACKLOG_CAP + KT_LINK_SOCKBUF) {
        assert_int_equal(kt_link_send(out, peer, (const char *)&sent, sizeof sent), KT_OK);
        sent++;
    }
    assert_true(sent >= KT_LINK_BACKLOG_CAP && sent <= KT_LINK_BACKLOG_CAP + KT_LINK_SOCKBUF);
    assert_false(kt_link_has_room(out, peer));
    assert_int_equal(kt_link_send(out, peer, "x", 1), KT_EAGAIN);
    assert_int_equal(kt_link_send(out, peer, "y", 1), KT_EAGAIN);
    kt_link_close(out);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stall_keeps_order),
        cmocka_unit_test(test_backlog_capacity),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    nng_fini();
    return rc;
}
