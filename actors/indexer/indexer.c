/* The indexer actor (indexer.h): lines in, one transaction per loop turn out. Messages only append to the held lists;
 * the flush hook hands their head (at most max_lines of each list) to the indexer's writer (store/db.h) as one batch
 * and drops it once committed, so a failure keeps everything, in order, for the retry. One batch is in flight at a
 * time (on PostgreSQL the loop goes on meanwhile, and what comes in waits for the next one); on SQLite the writer
 * commits inside the submit, as before. */
#include "actors/indexer/indexer.h"
#include "store/db.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kt_indexer {
    kt_actor *self;
    kt_store *store;
    size_t max_lines, max_bytes;
    json_t *logs;    /* LogEntry objects waiting, in the order received */
    json_t *metrics; /* MetricEntry objects waiting, in the order received */
    size_t bytes;    /* estimated size of what is held (kt_ix_size) */
    int paused;      /* the mailbox is paused (kt_actor_pause) until a commit brings bytes under half */
    int retrying;    /* a commit failed: the next try is the timer's, not every turn's */
    kt_db_writer *writer;
    int inflight;    /* a batch is in flight: nl log lines and nm metrics of the lists' heads */
    size_t inflight_nl, inflight_nm;
    uint64_t inflight_t0;
    int stopping, last_failed;
    uv_timer_t again; /* the next commit: at once for the rest beyond the cap, KT_INDEXER_RETRY_MS after a failure */
    uint64_t commits, failures, pauses;
};

/* Kestra's indexer meters (MetricRegistry: indexer.message.in.count, indexer.request.count, indexer.request.duration,
 * indexer.message.out.count), by the class of the records as Kestra labels them: records received, then per
 * transaction one request, its duration and the records written. */
#define KT_IX_LOG_TYPE "io.kestra.core.models.executions.LogEntry"
#define KT_IX_METRIC_TYPE "io.kestra.core.models.executions.MetricEntry"

/* How long a stop waits for each of its last commits. */
#define KT_INDEXER_DRAIN_MS 5000

static void kt_ix_count(const char *name, const char *help, const char *type, size_t n)
{
    if (n)
        kt_metric_inc(kt_metrics_counter(name, help, (const char *[]){"type", type, NULL}), (double)n);
}

static void kt_ix_count_request(const char *type, size_t n, double seconds)
{
    if (!n)
        return;
    kt_ix_count("kestra_indexer_request_count_total", "Batches of records written by the indexer", type, 1);
    kt_ix_count("kestra_indexer_message_out_count_total", "Records written by the indexer", type, n);
    kt_metric_observe(kt_metrics_histogram("kestra_indexer_request_duration_seconds",
                                           "Duration of the indexer's transactions", (const char *[]){"type", type, NULL},
                                           kt_metrics_latency_buckets, kt_metrics_latency_nbuckets),
                      seconds);
}

/* What an entry costs to hold, near enough for a memory bound: its message (a log line's only unbounded field)
 * plus the JSON object around it. */
static size_t kt_ix_size(const json_t *e)
{
    const char *msg = json_string_value(json_object_get(e, "message"));
    return (msg ? strlen(msg) : 0) + 256;
}

static size_t kt_ix_held_count(const kt_indexer *ix) { return json_array_size(ix->logs) + json_array_size(ix->metrics); }

/* The first n entries of list, as a new reference (list itself when it has no more). */
static json_t *kt_ix_head(json_t *list, size_t n)
{
    if (n >= json_array_size(list))
        return json_incref(list);
    json_t *head = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append(head, json_array_get(list, i));
    return head;
}

/* Forgets the first n entries of *list (committed); returns their size. */
static size_t kt_ix_drop_head(json_t **list, size_t n)
{
    size_t len = json_array_size(*list), freed = 0;
    for (size_t i = 0; i < n && i < len; i++)
        freed += kt_ix_size(json_array_get(*list, i));
    if (n >= len) {
        json_array_clear(*list);
        return freed;
    }
    json_t *rest = json_array();
    for (size_t i = n; i < len; i++)
        json_array_append(rest, json_array_get(*list, i));
    json_decref(*list);
    *list = rest;
    return freed;
}

static void kt_ix_on_again(uv_timer_t *t);

/* The batch's end: its head dropped, the mailbox open again under half the bound, the rest scheduled; a failure
 * keeps everything and tries again after KT_INDEXER_RETRY_MS. */
static void kt_ix_committed(const kt_db_result *r, void *ud)
{
    kt_indexer *ix = ud;
    size_t nl = ix->inflight_nl, nm = ix->inflight_nm;
    ix->inflight = 0;
    if (r->status == KT_ECLOSED)
        return;
    if (r->status != KT_OK) {
        /* every failure is retried; the log is thinned to powers of two so a long outage cannot flood it */
        ix->failures++;
        ix->last_failed = 1;
        if (!(ix->failures & (ix->failures - 1)))
            KT_ERROR("indexer", "commit of %zu log line(s) and %zu metric(s) failed (%s: %s), %llu failure(s) so far; "
                     "retrying, %zu entries held", nl, nm, kt_strerror(r->status), kt_store_errmsg(ix->store),
                     (unsigned long long)ix->failures, kt_ix_held_count(ix));
        if (!ix->stopping) {
            ix->retrying = 1;
            uv_timer_start(&ix->again, kt_ix_on_again, KT_INDEXER_RETRY_MS, 0);
        }
        return;
    }
    ix->last_failed = 0;
    ix->commits++;
    double took = (double)(uv_hrtime() - ix->inflight_t0) / 1e9;
    kt_ix_count_request(KT_IX_LOG_TYPE, nl, took);
    kt_ix_count_request(KT_IX_METRIC_TYPE, nm, took);
    size_t freed = kt_ix_drop_head(&ix->logs, nl) + kt_ix_drop_head(&ix->metrics, nm);
    ix->bytes = freed < ix->bytes ? ix->bytes - freed : 0;
    if (ix->paused && ix->bytes <= ix->max_bytes / 2) {
        ix->paused = 0;
        kt_actor_pause(ix->self, 0);
        KT_INFO("indexer", "holding %zu bytes again: taking lines", ix->bytes);
    }
    /* beyond the cap, or what came while it was in flight: the next loop iteration, after the loop's I/O */
    if (!ix->stopping && kt_ix_held_count(ix))
        uv_timer_start(&ix->again, kt_ix_on_again, 0, 0);
}

/* One batch: the head of each list, at most max_lines of each. KT_OK when there was nothing to write or it was
 * submitted; its end is kt_ix_committed's. */
static kt_status kt_ix_commit(kt_indexer *ix)
{
    size_t nl = json_array_size(ix->logs), nm = json_array_size(ix->metrics);
    if (nl > ix->max_lines)
        nl = ix->max_lines;
    if (nm > ix->max_lines)
        nm = ix->max_lines;
    if (ix->inflight || (!nl && !nm))
        return KT_OK;
    json_t *lines = nl ? kt_ix_head(ix->logs, nl) : NULL, *metrics = nm ? kt_ix_head(ix->metrics, nm) : NULL;
    kt_db_batch *b = kt_db_batch_new(ix->writer);
    kt_status st = b ? KT_OK : KT_ENOMEM;
    if (st == KT_OK && lines)
        st = kt_db_batch_logs_append(b, lines);
    if (st == KT_OK && metrics)
        st = kt_db_batch_metrics_append(b, metrics);
    json_decref(lines);
    json_decref(metrics);
    if (st) {
        kt_db_batch_discard(b);
        kt_db_result r = {.status = st};
        ix->inflight_nl = nl;
        ix->inflight_nm = nm;
        kt_ix_committed(&r, ix);
        return st;
    }
    ix->inflight = 1;
    ix->inflight_nl = nl;
    ix->inflight_nm = nm;
    ix->inflight_t0 = uv_hrtime();
    st = kt_db_batch_submit(b, kt_ix_committed, ix);
    if (st)
        ix->inflight = 0; /* the writer is closed: the node stops */
    return st;
}

/* The end of a turn (the flush hook, or the timer): one batch, unless one is in flight or a retry is waiting. */
static void kt_ix_turn(kt_indexer *ix)
{
    if (ix->retrying)
        return;
    kt_ix_commit(ix);
}

static void kt_ix_on_again(uv_timer_t *t)
{
    kt_indexer *ix = t->data;
    ix->retrying = 0;
    kt_ix_turn(ix);
}

static void kt_ix_flush(kt_actor *a) { kt_ix_turn(kt_actor_state(a)); }

/* Appends the objects of from to list, counting their size. */
static void kt_ix_hold(kt_indexer *ix, json_t *list, const json_t *from, const char *type)
{
    size_t i, n = 0;
    json_t *e;
    json_array_foreach(from, i, e) {
        if (!json_is_object(e))
            continue; /* the store could not write it either */
        json_array_append(list, e);
        ix->bytes += kt_ix_size(e);
        n++;
    }
    kt_ix_count("kestra_indexer_message_in_count_total", "Records received by the indexer", type, n);
}

static void kt_ix_receive(kt_actor *a, const kt_msg *m)
{
    kt_indexer *ix = kt_actor_state(a);
    if (m->type != KT_MSG_LOG_BATCH) {
        KT_DEBUG("indexer", "ignored %s from %s", kt_msg_type_name(m->type), m->from);
        return;
    }
    kt_msg_log_batch b;
    if (kt_msg_decode_log_batch(m->body, &b) != KT_OK) {
        KT_WARN("indexer", "malformed LogBatch from %s: dropped", m->from);
        return;
    }
    if (!b.copy) { /* a copy is someone else's to write */
        kt_ix_hold(ix, ix->logs, b.entries, KT_IX_LOG_TYPE);
        if (b.metrics)
            kt_ix_hold(ix, ix->metrics, b.metrics, KT_IX_METRIC_TYPE);
    }
    kt_msg_log_batch_clear(&b);
    if (!ix->paused && ix->bytes >= ix->max_bytes) {
        /* the messages already in the mailbox still come in: the bound is exceeded by at most one mailbox */
        ix->paused = 1;
        kt_actor_pause(a, 1);
        ix->pauses++;
        if (!(ix->pauses & (ix->pauses - 1)))
            KT_WARN("indexer", "holding %zu bytes (%zu entries) the store has not taken yet: senders wait (%llu "
                    "time(s) so far)", ix->bytes, kt_ix_held_count(ix), (unsigned long long)ix->pauses);
    }
}

static void kt_ix_closed(uv_handle_t *h)
{
    kt_indexer *ix = h->data;
    json_decref(ix->logs);
    json_decref(ix->metrics);
    free(ix);
}

/* Everything held is written before the node goes: as many transactions as the cap needs, no waiting between them
 * (nothing else runs any more). That includes the batches still in the mailbox (sent in the turn before the stop:
 * the executor's lines after its last commit, a worker's over the link), taken in after what is held. A store that
 * fails now loses the lines, said at ERROR. */
static void kt_ix_stop(kt_actor *a)
{
    kt_indexer *ix = kt_actor_state(a);
    ix->stopping = 1;
    uv_timer_stop(&ix->again);
    kt_actor_take_pending(a);
    if (ix->inflight)
        kt_db_writer_drain(ix->writer, KT_INDEXER_DRAIN_MS);
    ix->last_failed = 0;
    while (!ix->inflight && kt_ix_held_count(ix) && !ix->last_failed && kt_ix_commit(ix) == KT_OK)
        if (ix->inflight && kt_db_writer_drain(ix->writer, KT_INDEXER_DRAIN_MS) != KT_OK)
            break;
    if (kt_ix_held_count(ix))
        KT_ERROR("indexer", "stopped with %zu log line(s) and %zu metric(s) not written: %s",
                 json_array_size(ix->logs), json_array_size(ix->metrics), kt_store_errmsg(ix->store));
    kt_db_writer_close(ix->writer);
    ix->writer = NULL;
    uv_close((uv_handle_t *)&ix->again, kt_ix_closed);
}

static const kt_actor_ops kt_indexer_ops = {.receive = kt_ix_receive, .flush = kt_ix_flush, .stop = kt_ix_stop};

kt_status kt_indexer_start(kt_node *node, kt_store *store, const kt_indexer_options *opts, kt_indexer **out)
{
    if (!node || !store || !out)
        return KT_EINVAL;
    kt_indexer *ix = calloc(1, sizeof *ix);
    if (!ix)
        return KT_ENOMEM;
    ix->store = store;
    ix->max_lines = opts && opts->max_lines ? opts->max_lines : KT_INDEXER_MAX_LINES;
    ix->max_bytes = opts && opts->max_bytes ? opts->max_bytes : KT_INDEXER_MAX_BYTES;
    ix->logs = json_array();
    ix->metrics = json_array();
    uv_timer_init(kt_node_loop(node), &ix->again);
    ix->again.data = ix;
    char name[128];
    snprintf(name, sizeof name, "%.100s/indexer", kt_node_id(node));
    kt_db_writer_options wo = {.name = name, .flags = KT_DB_WRITER_INLINE};
    kt_status st = kt_db_writer_new(kt_node_loop(node), store, &wo, &ix->writer);
    if (st == KT_OK)
        st = kt_node_spawn(node, KT_INDEXER_ACTOR, &kt_indexer_ops, ix, &ix->self);
    if (st) {
        kt_db_writer_close(ix->writer);
        uv_close((uv_handle_t *)&ix->again, kt_ix_closed);
        return st;
    }
    *out = ix;
    return KT_OK;
}

uint64_t kt_indexer_commits(const kt_indexer *ix) { return ix->commits; }
size_t kt_indexer_held(const kt_indexer *ix) { return kt_ix_held_count(ix); }
int kt_indexer_paused(const kt_indexer *ix) { return ix->paused; }
