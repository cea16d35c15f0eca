/* The read pool (db_pool.h): a FIFO of jobs under one mutex, N threads each owning a reader session, and a list of
 * finished jobs the loop collects through a uv_async. The loop side counts accepted jobs until their done has run,
 * which bounds the memory a burst of requests can pin (KT_EAGAIN beyond it).
 *
 * The same on both backends. On SQLite a job could also run inline on the loop's own connection (a read there costs
 * tens of µs, about one thread hand-off), but a search or a log download over a large table takes milliseconds to
 * seconds and would stall the executor's commits behind it; threads keep those off the loop on SQLite too, and one
 * code path serves both backends.
 *
 * Txn jobs (kt_db_txn): on PostgreSQL a second FIFO served by the writer threads, each with a read-write session;
 * on SQLite they run inline on the loop's session and join the finished list at once, so their done comes from the
 * same async handle as the reads' (later, never inside the call). */
#include "store/db_pool.h"
#include "base/log.h"

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct kt_db_job {
    kt_db_job_fn fn;
    kt_db_job_done done;
    void *job;
    kt_status st;
    int txn; /* BEGIN; fn; COMMIT with retries (kt_db_txn) */
    struct kt_db_job *next;
} kt_db_job;

typedef struct kt_db_reader {
    kt_db_pool *pool;
    kt_store *s;
    pthread_t thread;
    int started;
    int writer; /* serves the txn queue with a read-write session */
} kt_db_reader;

struct kt_db_pool {
    uv_loop_t *loop;
    uv_async_t async;
    pthread_mutex_t mu;
    pthread_cond_t cv, wcv;
    kt_db_job *queue, *queue_tail;   /* accepted, not started (mu) */
    kt_db_job *wqueue, *wqueue_tail; /* txn jobs accepted, not started (mu; PostgreSQL) */
    kt_db_job *finished, *fin_tail;  /* run, done not called yet (mu) */
    int closing;                     /* mu */
    int outstanding, cap;            /* loop only: accepted and not completed */
    int nreaders, nwriters;          /* readers[0..nreaders) then the writers */
    int pg;                          /* the store is PostgreSQL: txn jobs go to the writer threads */
    kt_store *loop_store;            /* SQLite: where txn jobs run, inline */
    kt_db_reader readers[];
};

static void kt_db_append(kt_db_job **head, kt_db_job **tail, kt_db_job *j)
{
    j->next = NULL;
    if (*tail)
        (*tail)->next = j;
    else
        *head = j;
    *tail = j;
}

/* Whether a txn's failure is one a new run may not meet: KT_EAGAIN (fn's or the session's word), or on PostgreSQL a
 * serialization failure or a deadlock, which pg.c's message starts with the SQLSTATE of. */
static int kt_db_retryable(kt_store *s, kt_status st)
{
    if (st == KT_EAGAIN)
        return 1;
    if (st != KT_EDB)
        return 0;
    const char *m = kt_store_errmsg(s);
    return m && (!strncmp(m, "40001", 5) || !strncmp(m, "40P01", 5));
}

/* BEGIN; fn; COMMIT, re-run while the failure is retryable. backoff: sleep between runs (a writer thread; never on
 * the loop, where a retryable failure comes only from fn itself). */
static kt_status kt_db_txn_run(kt_store *s, kt_db_job *j, int backoff)
{
    kt_status st = KT_EAGAIN;
    for (int attempt = 0; attempt < KT_DB_TXN_ATTEMPTS; attempt++) {
        if (attempt && backoff) { /* 1, 2, 4, 8 ms: the competing transaction usually ends in that time */
            struct timespec ts = {0, (long)(1000000L << (attempt - 1))};
            nanosleep(&ts, NULL);
        }
        st = kt_store_begin(s);
        if (st != KT_OK) { /* nothing ran: a lost connection is revived by the next begin */
            if (st == KT_EDB)
                st = KT_EAGAIN;
            continue;
        }
        st = j->fn(s, j->job);
        if (st == KT_OK) {
            st = kt_store_commit(s); /* rolls back itself on failure */
        } else {
            int retry = kt_db_retryable(s, st); /* decided on fn's failure, before the rollback's own messages */
            kt_store_rollback(s);
            if (!retry)
                return st;
            continue;
        }
        if (!kt_db_retryable(s, st))
            return st;
    }
    return st;
}

static void *kt_db_reader_main(void *arg)
{
    kt_db_reader *r = arg;
    kt_db_pool *p = r->pool;
    /* signals are the loop's business (uv_signal) */
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    kt_db_job **head = r->writer ? &p->wqueue : &p->queue, **tail = r->writer ? &p->wqueue_tail : &p->queue_tail;
    pthread_cond_t *cv = r->writer ? &p->wcv : &p->cv;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->closing && !*head)
            pthread_cond_wait(cv, &p->mu);
        if (p->closing) /* close completes what is still queued */
            break;
        kt_db_job *j = *head;
        *head = j->next;
        if (!*head)
            *tail = NULL;
        pthread_mutex_unlock(&p->mu);
        j->st = j->txn ? kt_db_txn_run(r->s, j, 1) : j->fn(r->s, j->job);
        pthread_mutex_lock(&p->mu);
        kt_db_append(&p->finished, &p->fin_tail, j);
        /* under the lock: close may free the handle once it has taken the lock after the joins */
        uv_async_send(&p->async);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Runs the dones of the finished jobs, in the order they finished. */
static void kt_db_collect(kt_db_pool *p)
{
    pthread_mutex_lock(&p->mu);
    kt_db_job *j = p->finished;
    p->finished = p->fin_tail = NULL;
    pthread_mutex_unlock(&p->mu);
    while (j) {
        kt_db_job *next = j->next;
        if (--p->outstanding == 0)
            uv_unref((uv_handle_t *)&p->async);
        j->done(j->st, j->job);
        free(j);
        j = next;
    }
}

static void kt_db_on_async(uv_async_t *a) { kt_db_collect(a->data); }

static void kt_db_stop_readers(kt_db_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->closing = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_cond_broadcast(&p->wcv);
    pthread_mutex_unlock(&p->mu);
    int n = p->nreaders + p->nwriters;
    for (int i = 0; i < n; i++)
        if (p->readers[i].started) {
            pthread_join(p->readers[i].thread, NULL);
            p->readers[i].started = 0;
        }
    for (int i = 0; i < n; i++) {
        kt_store_close(p->readers[i].s);
        p->readers[i].s = NULL;
    }
}

static void kt_db_free(kt_db_pool *p)
{
    pthread_cond_destroy(&p->cv);
    pthread_cond_destroy(&p->wcv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

static void kt_db_on_closed(uv_handle_t *h) { kt_db_free(h->data); }

/* ?readers=N in the URL, else the option, else the default; -1 when the URL's value is not a number in range. */
static int kt_db_readers_wanted(const char *where, const kt_db_pool_options *o, char *rest, size_t cap)
{
    char v[16];
    int n = o && o->readers > 0 ? o->readers : KT_DB_POOL_READERS;
    if (kt_store_url_take(where, "readers", v, sizeof v, rest, cap)) {
        char *end;
        long k = strtol(v, &end, 10);
        if (!*v || *end || k < 1 || k > KT_DB_POOL_MAX_READERS)
            return -1;
        n = (int)k;
    }
    return n > KT_DB_POOL_MAX_READERS ? KT_DB_POOL_MAX_READERS : n;
}

kt_status kt_db_pool_open(uv_loop_t *loop, const char *where, const kt_db_pool_options *o, kt_db_pool **out, char *err,
                          size_t errcap)
{
    char plain[2048];
    int n = kt_db_readers_wanted(where, o, plain, sizeof plain);
    if (n < 0) {
        snprintf(err, errcap, "the store URL's ?readers=: a number of threads from 1 to %d", KT_DB_POOL_MAX_READERS);
        return KT_EINVAL;
    }
    int pg = kt_store_is_url_postgres(plain);
    int nw = !pg ? 0 : o && o->writers > 0 ? o->writers : KT_DB_POOL_WRITERS;
    if (nw > KT_DB_POOL_MAX_READERS)
        nw = KT_DB_POOL_MAX_READERS;
    kt_db_pool *p = calloc(1, sizeof *p + (size_t)(n + nw) * sizeof p->readers[0]);
    if (!p)
        return KT_ENOMEM;
    p->loop = loop;
    p->nreaders = n;
    p->nwriters = nw;
    p->pg = pg;
    p->loop_store = o ? o->loop_store : NULL;
    p->cap = o && o->queue > 0 ? o->queue : KT_DB_POOL_QUEUE;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_cond_init(&p->wcv, NULL);
    for (int i = 0; i < n + nw; i++) {
        kt_store_options so = {.reader = i < n, .pooled = 1};
        p->readers[i].pool = p;
        p->readers[i].writer = i >= n;
        kt_status st = kt_store_open(plain, &so, &p->readers[i].s, err, errcap);
        if (st) {
            kt_db_stop_readers(p);
            kt_db_free(p);
            return st;
        }
    }
    /* jansson seeds its hash function on first use; a seed drawn by two threads at once is a race (a no-op when the
     * process has made objects already, as it has) */
    json_object_seed(0);
    uv_async_init(loop, &p->async, kt_db_on_async);
    p->async.data = p;
    uv_unref((uv_handle_t *)&p->async); /* idle, the pool does not keep the loop running (kt_db_read refs it while
                                           jobs are out) */
    for (int i = 0; i < n + nw; i++) {
        if (pthread_create(&p->readers[i].thread, NULL, kt_db_reader_main, &p->readers[i])) {
            snprintf(err, errcap, "cannot start the store's reader threads");
            kt_db_pool_close(p);
            return KT_ENOMEM;
        }
        p->readers[i].started = 1;
    }
    *out = p;
    return KT_OK;
}

int kt_db_pool_readers(const kt_db_pool *p) { return p->nreaders; }
int kt_db_pool_writers(const kt_db_pool *p) { return p->nwriters; }
int kt_db_pool_pending(const kt_db_pool *p) { return p->outstanding; }

static kt_status kt_db_submit(kt_db_pool *p, kt_db_job_fn fn, kt_db_job_done done, void *job, int txn)
{
    if (!p || !fn || !done || (txn && !p->pg && !p->loop_store))
        return KT_EINVAL;
    if (p->outstanding >= p->cap)
        return KT_EAGAIN;
    kt_db_job *j = calloc(1, sizeof *j);
    if (!j)
        return KT_ENOMEM;
    j->fn = fn;
    j->done = done;
    j->job = job;
    j->txn = txn;
    pthread_mutex_lock(&p->mu);
    int closing = p->closing;
    pthread_mutex_unlock(&p->mu);
    if (closing) {
        free(j);
        return KT_ECLOSED;
    }
    if (txn && !p->pg) /* SQLite: on the loop's session now (no lock held: fn may take long enough) */
        j->st = kt_db_txn_run(p->loop_store, j, 0);
    pthread_mutex_lock(&p->mu);
    if (txn && !p->pg) {
        kt_db_append(&p->finished, &p->fin_tail, j);
        uv_async_send(&p->async); /* done from the loop's next turn, never inside the call */
    } else if (txn) {
        kt_db_append(&p->wqueue, &p->wqueue_tail, j);
        pthread_cond_signal(&p->wcv);
    } else {
        kt_db_append(&p->queue, &p->queue_tail, j);
        pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    if (p->outstanding++ == 0) /* a job out keeps the loop running until its done has run */
        uv_ref((uv_handle_t *)&p->async);
    return KT_OK;
}

kt_status kt_db_read(kt_db_pool *p, kt_db_job_fn fn, kt_db_job_done done, void *job)
{
    return kt_db_submit(p, fn, done, job, 0);
}

kt_status kt_db_txn(kt_db_pool *p, kt_db_job_fn fn, kt_db_job_done done, void *job)
{
    return kt_db_submit(p, fn, done, job, 1);
}

void kt_db_pool_close(kt_db_pool *p)
{
    if (!p)
        return;
    kt_db_stop_readers(p); /* the running jobs finish first; the queued ones stay queued */
    pthread_mutex_lock(&p->mu);
    kt_db_job *j = p->queue;
    p->queue = p->queue_tail = NULL;
    if (j) { /* the txn jobs no writer started join the reads' */
        kt_db_job *last = j;
        while (last->next)
            last = last->next;
        last->next = p->wqueue;
    } else {
        j = p->wqueue;
    }
    p->wqueue = p->wqueue_tail = NULL;
    pthread_mutex_unlock(&p->mu);
    kt_db_collect(p);
    while (j) {
        kt_db_job *next = j->next;
        if (--p->outstanding == 0)
            uv_unref((uv_handle_t *)&p->async);
        j->done(KT_ECLOSED, j->job);
        free(j);
        j = next;
    }
    if (p->outstanding)
        KT_ERROR("store", "read pool: %d jobs not completed at close", p->outstanding);
    uv_close((uv_handle_t *)&p->async, kt_db_on_closed);
}
