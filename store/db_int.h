/* What db.c (the writers' queue, batches, SQLite) and pg_writer.c (the PostgreSQL connection) share; included by
 * nothing else. */
#ifndef KT_STORE_DB_INT_H
#define KT_STORE_DB_INT_H

#include "store/db.h"
#include "store/pg_int.h"
#include "base/partition.h"

typedef struct kt_db_fence {
    char kind[24];
    int partition;
    int64_t epoch;
    int checked; /* SQLite: already run in the batch's transaction */
} kt_db_fence;

struct kt_db_batch {
    kt_db_writer *w;
    kt_pg_stmts ops; /* PostgreSQL: the encoded statements, each with its partition */
    kt_db_fence *fences;
    size_t nfences, capfences;
    unsigned char lost[KT_PARTITIONS]; /* partitions whose fence failed: their operations are not written */
    int fenced[KT_PARTITIONS];         /* the same, ascending, for the result */
    size_t nfenced;
    int sqlite_tx;         /* SQLite: the store's transaction is open for this batch */
    kt_status sqlite_st;   /* SQLite: the first failure */
    kt_db_committed cb;
    void *ud;
    uint64_t submit_ns;
    size_t bytes;
    kt_db_batch *next;
};

typedef struct kt_db_pg kt_db_pg;

struct kt_db_writer {
    uv_loop_t *loop;
    kt_store *store;
    int flags;
    char id[160];
    size_t queue_bytes, bytes; /* the bound; what is queued and in flight */
    int full;                  /* has_room said 0: on_room is due under half */
    void (*room)(void *ud);
    void *room_ud;
    kt_db_batch *queue, **queue_tail; /* submitted, waiting for a transaction (PostgreSQL) */
    kt_db_batch *done, **done_tail;   /* committed, waiting for their callbacks (SQLite without INLINE) */
    uv_idle_t idle;
    uint64_t commits;
    int closing;
    int handles; /* libuv handles and requests not closed yet: freed at 0 once closing */
    kt_db_pg *pg; /* NULL on SQLite */
};

/* Marks partition p of b lost (its operations dropped). */
void kt_db_batch_lose(kt_db_batch *b, int p);
/* Runs the callbacks of the batches of list (linked by next), in order, with st (KT_EFENCED for a batch that lost
 * partitions when st is KT_OK), and frees them. */
void kt_db_complete(kt_db_writer *w, kt_db_batch *list, kt_status st);
/* One of the writer's handles closed: the writer is freed after the last one once closing. */
void kt_db_handle_closed(kt_db_writer *w);
void kt_db_batch_free(kt_db_batch *b);

/* pg_writer.c */
kt_status kt_db_pg_start(kt_db_writer *w, const kt_db_writer_options *o);
/* A batch was queued: a transaction starts when none is in flight. */
void kt_db_pg_kick(kt_db_writer *w);
kt_status kt_db_pg_drain(kt_db_writer *w, int timeout_ms);
void kt_db_pg_sever(kt_db_writer *w);
int kt_db_pg_idle(const kt_db_writer *w);
/* Closes the connection and the handles; returns the batches in flight (the caller reports them closed). */
kt_db_batch *kt_db_pg_close(kt_db_writer *w);

#endif
