/* The scheduler's due dates (see scheduler.h): a binary heap of (date, trigger key) behind one loop timer that follows
 * its earliest date, so nothing polls. Re-arming a trigger leaves its old entry in the heap, stale (its generation no
 * longer matches the armed map), until it comes out or a compaction drops it. */
#include "actors/scheduler/scheduler_int.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "base/clock.h"

#include <stdlib.h>
#include <string.h>

/* Due triggers handled per timer callback before yielding to the loop. */
#define KT_SCH_DUE_BURST 512

/* ---- the heap of due dates -------------------------------------------------------------------- */

static void kt_sch_heap_swap(kt_scheduler *s, size_t a, size_t b)
{
    kt_sch_due t = s->heap[a];
    s->heap[a] = s->heap[b];
    s->heap[b] = t;
}

static void kt_sch_heap_push(kt_scheduler *s, kt_sch_due d)
{
    if (s->nheap == s->capheap) {
        s->capheap = s->capheap ? s->capheap * 2 : 64;
        s->heap = kt_xrealloc(s->heap, s->capheap * sizeof *s->heap);
    }
    size_t i = s->nheap++;
    s->heap[i] = d;
    while (i && s->heap[(i - 1) / 2].at_us > s->heap[i].at_us) {
        kt_sch_heap_swap(s, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void kt_sch_heap_down(kt_scheduler *s, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->nheap && s->heap[l].at_us < s->heap[m].at_us)
            m = l;
        if (r < s->nheap && s->heap[r].at_us < s->heap[m].at_us)
            m = r;
        if (m == i)
            return;
        kt_sch_heap_swap(s, i, m);
        i = m;
    }
}

static kt_sch_due kt_sch_heap_pop(kt_scheduler *s)
{
    KT_ASSERT(s->nheap > 0);
    kt_sch_due top = s->heap[0];
    s->heap[0] = s->heap[--s->nheap];
    kt_sch_heap_down(s, 0);
    return top;
}

static void kt_sch_on_timer(uv_timer_t *t);

/* The loop timer follows the heap's earliest date, rounded up to libuv's millisecond. It may still wake a little
 * early (libuv counts from its cached time and truncates): the callback takes only what is due and follows again,
 * so a tick never fires before its date and is late by about a millisecond, not two or three. */
static void kt_sch_timer_follow(kt_scheduler *s)
{
    if (!s->nheap) {
        if (s->timer_at_us)
            uv_timer_stop(&s->timer);
        s->timer_at_us = 0;
        return;
    }
    int64_t at = s->heap[0].at_us;
    if (s->timer_at_us && s->timer_at_us <= at)
        return;
    uv_update_time(s->timer.loop);
    int64_t now = kt_now_us();
    uint64_t delay = at > now ? (uint64_t)((at - now + 999) / 1000) : 0;
    uv_timer_start(&s->timer, kt_sch_on_timer, delay, 0);
    s->timer_at_us = at;
}

void kt_sch_disarm(kt_scheduler *s, const char *key) { kt_map_del(s->armed, key); }

/* Re-arming leaves the old entry in the heap, stale, until its date; past twice the live entries, the stale ones are
 * dropped, so a trigger re-armed often (a flow saved every minute, with a yearly cron) does not grow the heap. */
static void kt_sch_heap_compact(kt_scheduler *s)
{
    size_t live = 0;
    for (size_t i = 0; i < s->nheap; i++) {
        if ((uintptr_t)kt_map_get(s->armed, s->heap[i].key) == s->heap[i].gen)
            s->heap[live++] = s->heap[i];
        else
            free(s->heap[i].key);
    }
    s->nheap = live;
    for (size_t i = live / 2; i-- > 0;) /* heapify, bottom up */
        kt_sch_heap_down(s, i);
}

void kt_sch_arm(kt_scheduler *s, const char *key, int64_t at_us)
{
    uint64_t gen = ++s->gen;
    kt_map_put(s->armed, key, (void *)(uintptr_t)gen, NULL);
    kt_sch_heap_push(s, (kt_sch_due){.at_us = at_us, .gen = gen, .key = kt_xstrdup(key)});
    if (s->nheap > 2 * kt_map_size(s->armed) + 64)
        kt_sch_heap_compact(s);
    kt_sch_timer_follow(s);
}

static void kt_sch_on_timer(uv_timer_t *t)
{
    kt_scheduler *s = t->data;
    s->timer_at_us = 0;
    int64_t now = kt_now_us();
    for (int n = 0; s->nheap && s->heap[0].at_us <= now && n < KT_SCH_DUE_BURST; n++) {
        kt_sch_due d = kt_sch_heap_pop(s);
        uintptr_t live = (uintptr_t)kt_map_get(s->armed, d.key);
        if (live == d.gen) {
            kt_sch_disarm(s, d.key);
            char *ns = d.key, *fid = strchr(ns, '\x1f'), *tid = fid ? strchr(fid + 1, '\x1f') : NULL;
            KT_ASSERT(fid && tid);
            *fid++ = '\0';
            *tid++ = '\0';
            kt_sch_evaluate(s, ns, fid, tid);
        }
        free(d.key);
    }
    kt_sch_timer_follow(s);
}

