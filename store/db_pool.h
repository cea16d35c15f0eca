/* The read pool: store reads off the loop (docs/store-async-design.md §2.1 kt_db_read, §2.5). N threads, each with
 * its own reader session (kt_store_options.reader) on the store the process opened: on PostgreSQL its own
 * connection, on SQLite its own connection to the same kite.db (WAL lets readers run beside the loop's writer).
 *
 * A job is a function over a session that touches only its job (never loop state: no h2o request, no actor, no
 * base/metrics), and a completion that runs on the loop:
 *
 *     kt_db_read(pool, fn, done, job);   fn(session, job) on a pool thread, then done(fn's status, job) on the loop
 *
 * done runs exactly once per accepted job, always later (never inside kt_db_read), in no particular order between
 * jobs. While jobs are out the pool keeps the loop running (an orderly stop waits for the reads under way); idle, it
 * does not. Everything here but fn's body is for the loop thread.
 *
 * Writes go through kt_db_txn (design §2.1, §2.2): BEGIN; fn; COMMIT, with the same contract.
 *   - PostgreSQL: on one of the pool's WRITER threads (kt_db_pool_options.writers), each with its own
 *     read-write session, fed by their own queue. Separate threads rather than writer sessions on the reader
 *     threads: a write never waits behind a slow search or a log download, the reader sessions stay read-only (a
 *     read job that writes by mistake fails), and the connection budget grows by a small fixed number (2).
 *   - SQLite: inline, at the call, on the loop's own session (kt_db_pool_options.loop_store): the process's single
 *     writer, so never SQLITE_BUSY against the executor's commits, and a write costs tens of µs. done still runs later
 *     (from the pool's async handle), never inside kt_db_txn, so code written against one backend is right on both. */
#ifndef KT_STORE_DB_POOL_H
#define KT_STORE_DB_POOL_H

#include <uv.h>

#include "base/status.h"
#include "store/store.h"

#define KT_DB_POOL_READERS 4   /* threads (and connections) when not configured */
#define KT_DB_POOL_QUEUE 256   /* jobs accepted and not yet completed, beyond which kt_db_read says KT_EAGAIN */
#define KT_DB_POOL_MAX_READERS 64
#define KT_DB_POOL_WRITERS 2   /* PostgreSQL writer threads (and connections) when not configured */
#define KT_DB_TXN_ATTEMPTS 5   /* runs of a txn's fn before its retryable failure is final */

typedef struct kt_db_pool kt_db_pool;

typedef struct kt_db_pool_options {
    int readers; /* 0: KT_DB_POOL_READERS; a ?readers=N in the store URL wins over it */
    int queue;   /* 0: KT_DB_POOL_QUEUE; read and txn jobs together */
    int writers; /* PostgreSQL's writer threads: 0: KT_DB_POOL_WRITERS. SQLite has none */
    kt_store *loop_store; /* the loop's own session on the same store (borrowed): SQLite's txn jobs run on it. Without
                             it kt_db_txn says KT_EINVAL on SQLite */
} kt_db_pool_options;

typedef kt_status (*kt_db_job_fn)(kt_store *s, void *job);
typedef void (*kt_db_job_done)(kt_status st, void *job);

/* Blocking, before serving: opens the reader sessions on where (the store's URL or directory, as given to
 * kt_store_open, which must have opened and migrated it first) and starts the threads. err gets the reason (a URL's
 * password never in it). */
kt_status kt_db_pool_open(uv_loop_t *loop, const char *where, const kt_db_pool_options *o, kt_db_pool **out, char *err,
                          size_t errcap);
int kt_db_pool_readers(const kt_db_pool *p);
int kt_db_pool_writers(const kt_db_pool *p); /* PostgreSQL's writer threads; 0 on SQLite */
/* Jobs accepted whose done has not run yet. */
int kt_db_pool_pending(const kt_db_pool *p);
/* KT_OK: done will run. KT_EAGAIN: the queue is full; KT_ECLOSED: the pool is closing. Then nothing runs and the
 * caller still owns job. */
kt_status kt_db_read(kt_db_pool *p, kt_db_job_fn fn, kt_db_job_done done, void *job);
/* BEGIN; fn; COMMIT on a write session; done(status, job) later on the loop, as for kt_db_read. fn failing rolls the
 * transaction back (done gets fn's status). fn is run again, up to KT_DB_TXN_ATTEMPTS times in all, when fn or the
 * commit fails with KT_EAGAIN or with a PostgreSQL serialization failure or deadlock (SQLSTATE 40001, 40P01), each
 * time in a new transaction after the rollback of the last. So fn must be re-runnable: it starts from its job's
 * inputs, not from what an earlier run left in the job (reset its outputs first), and it has no effect outside the
 * session (no message sent, no file written: those belong in done, after the commit). KT_OK, KT_EAGAIN, KT_ECLOSED
 * and KT_EINVAL (no fn/done; SQLite without loop_store) as for kt_db_read. */
kt_status kt_db_txn(kt_db_pool *p, kt_db_job_fn fn, kt_db_job_done done, void *job);
/* From the loop thread, not inside a done. Refuses new jobs, completes the queued ones that no thread has started
 * with KT_ECLOSED, waits for the running ones and completes them with their status (all of these dones run here,
 * inside the call), joins the threads and closes the sessions. The pool's async handle is closed: the caller runs
 * the loop once more before uv_loop_close (the memory is freed in its close callback). NULL is fine. */
void kt_db_pool_close(kt_db_pool *p);

#endif
