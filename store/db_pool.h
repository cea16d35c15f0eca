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
 * does not. Everything here but fn's body is for the loop thread. */
#ifndef KT_STORE_DB_POOL_H
#define KT_STORE_DB_POOL_H

#include <uv.h>

#include "base/status.h"
#include "store/store.h"

#define KT_DB_POOL_READERS 4   /* threads (and connections) when not configured */
#define KT_DB_POOL_QUEUE 256   /* jobs accepted and not yet completed, beyond which kt_db_read says KT_EAGAIN */
#define KT_DB_POOL_MAX_READERS 64

typedef struct kt_db_pool kt_db_pool;

typedef struct kt_db_pool_options {
    int readers; /* 0: KT_DB_POOL_READERS; a ?readers=N in the store URL wins over it */
    int queue;   /* 0: KT_DB_POOL_QUEUE */
} kt_db_pool_options;

typedef kt_status (*kt_db_job_fn)(kt_store *s, void *job);
typedef void (*kt_db_job_done)(kt_status st, void *job);

/* Blocking, before serving: opens the reader sessions on where (the store's URL or directory, as given to
 * kt_store_open, which must have opened and migrated it first) and starts the threads. err gets the reason (a URL's
 * password never in it). */
kt_status kt_db_pool_open(uv_loop_t *loop, const char *where, const kt_db_pool_options *o, kt_db_pool **out, char *err,
                          size_t errcap);
int kt_db_pool_readers(const kt_db_pool *p);
/* Jobs accepted whose done has not run yet. */
int kt_db_pool_pending(const kt_db_pool *p);
/* KT_OK: done will run. KT_EAGAIN: the queue is full; KT_ECLOSED: the pool is closing. Then nothing runs and the
 * caller still owns job. */
kt_status kt_db_read(kt_db_pool *p, kt_db_job_fn fn, kt_db_job_done done, void *job);
/* From the loop thread, not inside a done. Refuses new jobs, completes the queued ones that no thread has started
 * with KT_ECLOSED, waits for the running ones and completes them with their status (all of these dones run here,
 * inside the call), joins the threads and closes the sessions. The pool's async handle is closed: the caller runs
 * the loop once more before uv_loop_close (the memory is freed in its close callback). NULL is fine. */
void kt_db_pool_close(kt_db_pool *p);

#endif
