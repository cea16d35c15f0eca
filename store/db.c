/* The loop's writers (store/db.h): the batches, the writer's queue, its bound and callbacks, and the SQLite side,
 * where a batch is the store connection's own transaction (the PostgreSQL connection is pg_writer.c's). */
#include "store/db_int.h"
#include "base/id.h"
#include "base/log.h"
#include "base/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int kt_db_is_postgres(const kt_store *s) { return kt_store_is_pg(s); }

static void kt_db_on_idle(uv_idle_t *h);
static void kt_db_on_idle_closed(uv_handle_t *h);

kt_status kt_db_writer_new(uv_loop_t *loop, kt_store *s, const kt_db_writer_options *o, kt_db_writer **out)
{
    if (!loop || !s || !out)
        return KT_EINVAL;
    kt_db_writer *w = calloc(1, sizeof *w);
    if (!w)
        return KT_ENOMEM;
    w->loop = loop;
    w->store = s;
    w->flags = o ? o->flags : 0;
    w->queue_bytes = o && o->queue_bytes ? o->queue_bytes : KT_DB_WRITE_QUEUE_BYTES;
    w->queue_tail = &w->queue;
    w->done_tail = &w->done;
    /* the process nonce: a writer of a new process never reads its predecessor's kite_writers row as its own */
    char nonce[KT_ID_LEN + 1];
    kt_id_new(nonce);
    snprintf(w->id, sizeof w->id, "%.120s/%s", o && o->name ? o->name : "writer", nonce);
    uv_idle_init(loop, &w->idle);
    w->idle.data = w;
    w->handles = 1;
    if (kt_store_is_pg(s)) {
        kt_status st = kt_db_pg_start(w, o);
        if (st) { /* a URL libpq cannot parse, or no memory: the idle handle frees the writer as it closes */
            w->closing = 1;
            uv_close((uv_handle_t *)&w->idle, kt_db_on_idle_closed);
            return st;
        }
    }
    *out = w;
    return KT_OK;
}

int kt_db_writer_has_room(const kt_db_writer *w) { return w->bytes < w->queue_bytes; }

void kt_db_writer_on_room(kt_db_writer *w, void (*room)(void *ud), void *ud)
{
    w->room = room;
    w->room_ud = ud;
}

void kt_db_writer_sever(kt_db_writer *w)
{
    if (w->pg)
        kt_db_pg_sever(w);
}

int kt_db_writer_idle(const kt_db_writer *w) { return w->pg ? kt_db_pg_idle(w) : 1; }

uint64_t kt_db_writer_commits(const kt_db_writer *w) { return w->commits; }
const char *kt_db_writer_id(const kt_db_writer *w) { return w->id; }

/* ---- batches ------------------------------------------------------------------------------------- */

kt_db_batch *kt_db_batch_new(kt_db_writer *w)
{
    kt_db_batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->w = w;
    b->ops.partition = -1;
    return b;
}

void kt_db_batch_free(kt_db_batch *b)
{
    kt_pg_stmts_clear(&b->ops);
    free(b->fences);
    free(b);
}

void kt_db_batch_lose(kt_db_batch *b, int p)
{
    if (p < 0 || p >= KT_PARTITIONS || b->lost[p])
        return;
    b->lost[p] = 1;
    size_t i = b->nfenced;
    while (i > 0 && b->fenced[i - 1] > p) {
        b->fenced[i] = b->fenced[i - 1];
        i--;
    }
    b->fenced[i] = p;
    b->nfenced++;
}

kt_status kt_db_batch_fence(kt_db_batch *b, const char *kind, int partition, int64_t epoch)
{
    if (!kind || strlen(kind) >= sizeof b->fences->kind || partition < 0 || partition >= KT_PARTITIONS)
        return KT_EINVAL;
    if (b->nfences == b->capfences) {
        size_t cap = b->capfences ? b->capfences * 2 : 8;
        kt_db_fence *f = realloc(b->fences, cap * sizeof *f);
        if (!f)
            return KT_ENOMEM;
        b->fences = f;
        b->capfences = cap;
    }
    kt_db_fence *f = &b->fences[b->nfences++];
    snprintf(f->kind, sizeof f->kind, "%s", kind);
    f->partition = partition;
    f->epoch = epoch;
    f->checked = 0;
    b->bytes += sizeof *f;
    return KT_OK;
}

/* SQLite: the batch's transaction opened, and the fences added since the last operation checked in it (a lost one
 * drops its partition's operations, as on PostgreSQL). KT_OK, or the failure that leaves the batch to discard. */
static kt_status kt_db_sqlite_ready(kt_db_batch *b)
{
    if (b->sqlite_st)
        return b->sqlite_st;
    kt_store *s = b->w->store;
    if (!b->sqlite_tx) {
        if ((b->sqlite_st = kt_store_begin(s)))
            return b->sqlite_st;
        b->sqlite_tx = 1;
    }
    /* one statement per kind (kt_store_fence_many), again without each partition it says was lost */
    for (size_t i = 0; i < b->nfences; i++) {
        if (b->fences[i].checked)
            continue;
        const char *kind = b->fences[i].kind;
        kt_lease *held = malloc((b->nfences - i) * sizeof *held);
        if (!held)
            return b->sqlite_st = KT_ENOMEM;
        size_t n = 0;
        for (size_t k = i; k < b->nfences; k++)
            if (!b->fences[k].checked && !strcmp(b->fences[k].kind, kind)) {
                b->fences[k].checked = 1;
                held[n++] = (kt_lease){.id = b->fences[k].partition, .epoch = b->fences[k].epoch};
            }
        kt_status st = KT_OK;
        while (n) {
            int lost = -1;
            st = kt_store_fence_many(s, kind, held, n, &lost);
            if (st != KT_EFENCED)
                break;
            kt_db_batch_lose(b, lost);
            size_t m = 0;
            for (size_t k = 0; k < n; k++)
                if (held[k].id != lost)
                    held[m++] = held[k];
            n = m;
            st = KT_OK;
        }
        free(held);
        if (st)
            return b->sqlite_st = st;
    }
    return KT_OK;
}

/* Whether an operation of partition p is written: SQLite's is run now (*run = 1), PostgreSQL's encoded. */
static kt_status kt_db_batch_op(kt_db_batch *b, int partition, int *sqlite)
{
    *sqlite = !b->w->pg;
    if (partition >= KT_PARTITIONS)
        return KT_EINVAL;
    if (*sqlite) {
        kt_status st = kt_db_sqlite_ready(b);
        if (st)
            return st;
    }
    b->ops.partition = partition;
    return KT_OK;
}

/* After an operation: SQLite's failure kept (the batch is to be discarded), PostgreSQL's bytes counted. */
static kt_status kt_db_batch_after(kt_db_batch *b, int sqlite, kt_status st)
{
    if (sqlite && st)
        b->sqlite_st = st;
    b->bytes = b->ops.bytes + b->nfences * sizeof *b->fences;
    return st;
}

kt_status kt_db_batch_execution_put(kt_db_batch *b, int partition, const json_t *execution, const size_t *runs,
                                    size_t nruns)
{
    int sqlite;
    kt_status st = kt_db_batch_op(b, partition, &sqlite);
    if (st || (partition >= 0 && b->lost[partition]))
        return st;
    st = sqlite ? kt_store_execution_put(b->w->store, execution, runs, nruns)
                : kt_pg_enc_execution_put(&b->ops, execution, runs, nruns);
    return kt_db_batch_after(b, sqlite, st);
}

kt_status kt_db_batch_notice_add(kt_db_batch *b, int partition, const char *execution_id, const char *state)
{
    int sqlite;
    kt_status st = kt_db_batch_op(b, partition, &sqlite);
    if (st || (partition >= 0 && b->lost[partition]))
        return st;
    st = sqlite ? kt_store_notice_add(b->w->store, execution_id, state)
                : kt_pg_enc_notice_add(&b->ops, execution_id, state);
    return kt_db_batch_after(b, sqlite, st);
}

kt_status kt_db_batch_logs_append(kt_db_batch *b, const json_t *entries)
{
    int sqlite;
    kt_status st = kt_db_batch_op(b, -1, &sqlite);
    if (st)
        return st;
    st = sqlite ? kt_store_logs_append(b->w->store, entries) : kt_pg_enc_logs_append(&b->ops, entries);
    return kt_db_batch_after(b, sqlite, st);
}

kt_status kt_db_batch_metrics_append(kt_db_batch *b, const json_t *entries)
{
    int sqlite;
    kt_status st = kt_db_batch_op(b, -1, &sqlite);
    if (st)
        return st;
    st = sqlite ? kt_store_metrics_append(b->w->store, entries) : kt_pg_enc_metrics_append(&b->ops, entries);
    return kt_db_batch_after(b, sqlite, st);
}

void kt_db_batch_discard(kt_db_batch *b)
{
    if (!b)
        return;
    if (b->sqlite_tx)
        kt_store_rollback(b->w->store);
    kt_db_batch_free(b);
}

/* ---- completion ---------------------------------------------------------------------------------- */

void kt_db_complete(kt_db_writer *w, kt_db_batch *list, kt_status st)
{
    uint64_t now = uv_hrtime();
    for (kt_db_batch *b = list, *next; b; b = next) {
        next = b->next;
        w->bytes = b->bytes < w->bytes ? w->bytes - b->bytes : 0;
        kt_db_result r = {.status = st == KT_OK && b->nfenced ? KT_EFENCED : st,
                          .fenced = b->fenced,
                          .nfenced = b->nfenced,
                          .latency_us = (int64_t)(now - b->submit_ns) / 1000};
        if (b->cb)
            b->cb(&r, b->ud);
        kt_db_batch_free(b);
    }
    if (w->full && w->bytes <= w->queue_bytes / 2) {
        w->full = 0;
        if (w->room)
            w->room(w->room_ud);
    }
}

/* SQLite: the committed batches' callbacks, on the loop iteration after their submit. */
static void kt_db_on_idle(uv_idle_t *h)
{
    kt_db_writer *w = h->data;
    uv_idle_stop(&w->idle);
    kt_db_batch *list = w->done;
    w->done = NULL;
    w->done_tail = &w->done;
    kt_db_complete(w, list, KT_OK);
}

/* SQLite: the batch's transaction committed (or rolled back after a failure), then its callback, now or next. */
static kt_status kt_db_sqlite_submit(kt_db_writer *w, kt_db_batch *b)
{
    kt_status st = KT_OK;
    if (!b->sqlite_st && b->nfences && !b->sqlite_tx)
        st = kt_db_sqlite_ready(b); /* fences alone: checked, so a lost partition is reported all the same */
    if (b->sqlite_tx) {
        if (b->sqlite_st) {
            kt_store_rollback(w->store);
            st = b->sqlite_st;
        } else if ((st = kt_store_commit(w->store)) != KT_OK) {
            st = KT_EDB;
        }
        b->sqlite_tx = 0;
    }
    if (st) {
        KT_ERROR("store", "writer %s: commit failed (%s: %s)", w->id, kt_strerror(st), kt_store_errmsg(w->store));
    } else {
        w->commits++;
    }
    if ((w->flags & KT_DB_WRITER_INLINE) || st) {
        b->next = NULL;
        kt_db_complete(w, b, st == KT_OK ? KT_OK : KT_EDB);
        return KT_OK;
    }
    b->next = NULL;
    *w->done_tail = b;
    w->done_tail = &b->next;
    uv_idle_start(&w->idle, kt_db_on_idle);
    return KT_OK;
}

kt_status kt_db_batch_submit(kt_db_batch *b, kt_db_committed cb, void *ud)
{
    kt_db_writer *w = b->w;
    b->cb = cb;
    b->ud = ud;
    b->submit_ns = uv_hrtime();
    if (w->closing) {
        kt_db_batch_discard(b);
        return KT_ECLOSED;
    }
    w->bytes += b->bytes;
    if (w->bytes >= w->queue_bytes)
        w->full = 1;
    if (!w->pg)
        return kt_db_sqlite_submit(w, b);
    b->next = NULL;
    *w->queue_tail = b;
    w->queue_tail = &b->next;
    kt_db_pg_kick(w);
    return KT_OK;
}

/* ---- drain and close ----------------------------------------------------------------------------- */

kt_status kt_db_writer_drain(kt_db_writer *w, int timeout_ms)
{
    if (!w->pg) {
        while (w->done) /* a callback may submit more */
            kt_db_on_idle(&w->idle);
        return KT_OK;
    }
    return kt_db_pg_drain(w, timeout_ms);
}

static void kt_db_free_if_done(kt_db_writer *w)
{
    if (w->closing && w->handles == 0)
        free(w);
}

void kt_db_handle_closed(kt_db_writer *w)
{
    w->handles--;
    kt_db_free_if_done(w);
}

static void kt_db_on_idle_closed(uv_handle_t *h) { kt_db_handle_closed(h->data); }

void kt_db_writer_close(kt_db_writer *w)
{
    if (!w || w->closing)
        return;
    kt_db_batch *flight = w->pg ? kt_db_pg_close(w) : NULL;
    w->closing = 1;
    kt_db_batch *done = w->done, *queue = w->queue;
    w->done = w->queue = NULL;
    /* what committed (SQLite, its callback not run yet) is acknowledged; what did not is refused */
    kt_db_complete(w, done, KT_OK);
    kt_db_complete(w, flight, KT_ECLOSED);
    kt_db_complete(w, queue, KT_ECLOSED);
    uv_close((uv_handle_t *)&w->idle, kt_db_on_idle_closed);
}
