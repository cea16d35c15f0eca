/* The loop's writers (docs/store-async-design.md §2.1-2.5, the write half): an actor's writes of a loop turn go into
 * a batch, encoded as they are added; submitting it hands it to the actor's writer, which makes it durable without
 * blocking the loop and then calls the batch's callback, in submission order. Effects (jobs leaving, replies,
 * notices) are released only in the callback, as before with a blocking commit.
 *
 * PostgreSQL (pg_writer.c): the writer has its own non-blocking libpq connection on the loop (the host resolved
 * with uv_getaddrinfo, PQconnectPoll and the results driven by a uv_poll on its socket), in pipeline mode. One
 * transaction is in flight per writer; the batches submitted meanwhile wait, and all of them go into the next one
 * (the group commit). Every transaction ends with the writer's row in kite_writers (writer id, transaction number),
 * so after a connection lost with a transaction in flight the writer reconnects (backoff 50 ms doubling, jitter,
 * at most 5 s), reads that row, and either reports the transaction as landed or sends it again, byte for byte:
 * callbacks never see an unknown outcome, and nothing is written twice. A transaction the server refuses is logged
 * at ERROR and tried again with the same backoff (its effects stay held; the queue fills, which is back-pressure).
 * A fence whose epoch moved fails the transaction (kite_fence, SQLSTATE KTF01): the operations of the lost
 * partitions are dropped, from it and from the batches queued behind it, the rest is sent again, and the callback
 * gets KT_EFENCED with those partitions.
 *
 * SQLite (db.c): the batch runs on the store's own connection, on the loop, as before (tens of microseconds): BEGIN
 * at the batch's first operation, each operation written as it is added, COMMIT at submit. A failed commit is
 * reported to the callback (KT_EDB): the caller's state is unchanged, so it builds the same batch again later. The
 * callback runs on the next loop iteration (a uv_idle), or inside submit with KT_DB_WRITER_INLINE (what the
 * executor and the indexer use: their post-commit code then runs exactly as it did after a blocking commit).
 *
 * Everything here runs on the loop thread. */
#ifndef KT_STORE_DB_H
#define KT_STORE_DB_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/status.h"
#include "store/store.h"

typedef struct kt_db_writer kt_db_writer; /* one ordered commit stream (one per writing actor) */
typedef struct kt_db_batch kt_db_batch;   /* write-only operations, encoded as they are added */

/* Bytes queued plus in flight per writer before kt_db_writer_has_room says 0 (room again under half). */
#define KT_DB_WRITE_QUEUE_BYTES ((size_t)64 << 20)
/* At most this much of the queue goes into one transaction (a batch bigger than it goes alone). */
#define KT_DB_TXN_MAX_BYTES ((size_t)8 << 20)

enum {
    /* SQLite: the callback runs inside kt_db_batch_submit, right after the COMMIT (PostgreSQL ignores it: its
     * callbacks never run inside submit). */
    KT_DB_WRITER_INLINE = 1,
};

typedef struct kt_db_writer_options {
    const char *name;         /* "<node>/executor": the writer's id is "<name>/<process nonce>" */
    int flags;                /* KT_DB_WRITER_* */
    size_t queue_bytes;       /* 0: KT_DB_WRITE_QUEUE_BYTES */
    int connect_timeout_ms;   /* 0: 5000 */
    int commit_timeout_ms;    /* a transaction's answer awaited at most this long, then the outcome is unknown;
                                 0: 30000 */
    int backoff_max_ms;       /* 0: 5000 */
} kt_db_writer_options;

/* A writer for store s (borrowed: it outlives the writer). On PostgreSQL it connects in the background, to the URL s
 * was opened with; batches submitted before it is connected wait. */
kt_status kt_db_writer_new(uv_loop_t *loop, kt_store *s, const kt_db_writer_options *o, kt_db_writer **out);
/* Waits, blocking the loop, at most timeout_ms for what is queued and in flight to be committed, running their
 * callbacks (a callback may submit more: that waits too). For a stop hook, when nothing else runs any more. KT_OK
 * when nothing is left, KT_ETIMEDOUT otherwise (PostgreSQL: also at once when the writer is not connected). */
kt_status kt_db_writer_drain(kt_db_writer *w, int timeout_ms);
/* Closes the writer: the batches still queued get their callback with KT_ECLOSED (their effects are never released),
 * its handles close, and it frees itself once they have (the loop has to run for that, as for any handle). */
void kt_db_writer_close(kt_db_writer *w);
int kt_db_writer_has_room(const kt_db_writer *w);
/* room(ud) once, when the writer crosses back under half of queue_bytes after has_room said 0. */
void kt_db_writer_on_room(kt_db_writer *w, void (*room)(void *ud), void *ud);
/* For tests and benchmarks: transactions committed; on PostgreSQL the writer's id in kite_writers. */
uint64_t kt_db_writer_commits(const kt_db_writer *w);
const char *kt_db_writer_id(const kt_db_writer *w);
/* For tests: PostgreSQL, the connection dropped as a network failure would drop it (a transaction in flight gets an
 * unknown outcome); whether the writer is connected and idle (nothing in flight). SQLite: nothing, and 1. */
void kt_db_writer_sever(kt_db_writer *w);
int kt_db_writer_idle(const kt_db_writer *w);
/* 1 when s is a PostgreSQL store (its writers have connections of their own). */
int kt_db_is_postgres(const kt_store *s);

/* A new batch. On SQLite it holds the store's transaction from its first operation to its submit or discard: build
 * it and submit it in the same call, never across loop iterations. */
kt_db_batch *kt_db_batch_new(kt_db_writer *w);
/* The operations of partition p (added after this) are written only while the lease (kind, p) is still at epoch
 * (kt_store_fence): fence every partition a batch touches before adding its operations. */
kt_status kt_db_batch_fence(kt_db_batch *b, const char *kind, int partition, int64_t epoch);
/* The writes of kt_store_execution_put, kt_store_notice_add, kt_store_logs_append, kt_store_metrics_append;
 * partition -1 = no fence. A failure (KT_EINVAL for an execution that does not split, KT_EDB on SQLite) leaves the
 * batch to be discarded. */
kt_status kt_db_batch_execution_put(kt_db_batch *b, int partition, const json_t *execution, const size_t *runs,
                                    size_t nruns);
kt_status kt_db_batch_notice_add(kt_db_batch *b, int partition, const char *execution_id, const char *state);
kt_status kt_db_batch_logs_append(kt_db_batch *b, const json_t *entries);
kt_status kt_db_batch_metrics_append(kt_db_batch *b, const json_t *entries);

typedef struct kt_db_result {
    kt_status status;  /* KT_OK; KT_EFENCED: committed, except the operations of the partitions in fenced[];
                          KT_EDB (SQLite: nothing committed, build it again); KT_ECLOSED (the writer closed first) */
    const int *fenced; /* partitions whose operations were dropped, not written (ascending) */
    size_t nfenced;
    int64_t latency_us; /* submit -> durable */
} kt_db_result;
typedef void (*kt_db_committed)(const kt_db_result *r, void *ud);
/* Takes b. cb (may be NULL) runs once, after the commit, never inside this call unless KT_DB_WRITER_INLINE on
 * SQLite. */
kt_status kt_db_batch_submit(kt_db_batch *b, kt_db_committed cb, void *ud);
void kt_db_batch_discard(kt_db_batch *b);

#endif
