/* The PostgreSQL side of a loop writer (store/db.h): its own connection, never blocking the loop.
 *
 * Connecting: the URL parsed once by libpq (PQconninfoParse); a host name is resolved with uv_getaddrinfo and given
 * to libpq as hostaddr (PQconnectStart would resolve it synchronously), then PQconnectPoll is driven by a uv_poll on
 * the socket (which may change while it tries). Once connected, the connection is non-blocking and in pipeline mode.
 *
 * A transaction: the batches waiting, taken together (up to KT_DB_TXN_MAX_BYTES), sent as one pipeline segment:
 * the fence (SELECT kite_fence(...), which fails the transaction with SQLSTATE KTF01 when an epoch moved), every
 * operation, the writer's row in kite_writers, then PQpipelineSync. Without BEGIN the statements of a segment are one
 * implicit transaction, committed at the Sync: its PGRES_PIPELINE_SYNC result without an error before it is the
 * commit. Only one is in flight: a failed one never leaves a later one committed without it.
 *
 * Outcomes: the Sync without error = durable (callbacks). KTF01 = the lost partitions' operations dropped (from the
 * queued batches too), the rest sent again at once. Another error = logged, sent again after a backoff. The socket
 * failing (or commit_timeout_ms without an answer) = unknown: the connection is dropped, and once connected again
 * the writer reads its kite_writers row: seq at least the transaction's number = it landed, else it is sent again. */
#include "store/db_int.h"
#include "base/json.h"
#include "base/log.h"
#include "base/metrics.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

typedef enum kt_pgw_state {
    KT_PGW_WAIT_CONNECT, /* the backoff timer runs: connect when it fires */
    KT_PGW_RESOLVING,
    KT_PGW_CONNECTING,
    KT_PGW_SETUP,        /* the session's settings (and, after an unknown outcome, the seq) in flight */
    KT_PGW_IDLE,
    KT_PGW_SENT,         /* a transaction in flight */
    KT_PGW_WAIT_SEND,    /* a transaction failed: the backoff timer runs, then it is sent again */
} kt_pgw_state;

struct kt_db_pg {
    kt_db_writer *w;
    PQconninfoOption *opts; /* the URL, parsed */
    char host[256];         /* to resolve, "" when libpq needs no resolving (a socket directory, hostaddr given) */
    char hostaddr[INET6_ADDRSTRLEN];
    PGconn *conn;
    uv_poll_t *poll; /* on PQsocket(conn); NULL without a socket */
    int poll_fd, poll_events;
    uv_timer_t timer; /* backoff, connect timeout, commit timeout */
    uv_getaddrinfo_t gai;
    int gai_busy;   /* the request is out: its callback still comes */
    int gai_wanted; /* its answer is awaited (a drain may have connected without it) */
    int closing, timer_closed; /* g is freed once both are set and no request is out */
    kt_pgw_state state;
    int connect_timeout_ms, commit_timeout_ms, backoff_max_ms, backoff_ms;
    kt_db_batch *flight; /* the batches of the transaction in flight (or to send again), in order */
    int64_t seq, flight_seq;
    uint64_t sent_ns; /* when the flight was last sent: the commit's duration */
    int unknown;      /* the flight may have landed: read the seq before sending it again */
    int awaiting;     /* a PGRES_PIPELINE_SYNC is due */
    int failed;       /* an error came before it */
    char sqlstate[8], message[256], detail[512];
    int64_t read_seq; /* SETUP: the seq read, -1 without a row */
    uint64_t failures, losses;
};

static void kt_pgw_on_poll(uv_poll_t *h, int status, int events);
static void kt_pgw_on_timer(uv_timer_t *t);
static void kt_pgw_connect(kt_db_pg *g);
static void kt_pgw_send(kt_db_pg *g);

/* ---- the socket's poll handle -------------------------------------------------------------------- */

static void kt_pgw_poll_closed(uv_handle_t *h)
{
    kt_db_writer *w = h->data;
    free(h);
    kt_db_handle_closed(w);
}

/* Stops watching the socket: before libpq closes it (a closed descriptor must not stay in the loop's poll set). */
static void kt_pgw_unwatch(kt_db_pg *g)
{
    if (!g->poll)
        return;
    uv_poll_stop(g->poll);
    g->poll->data = g->w;
    uv_close((uv_handle_t *)g->poll, kt_pgw_poll_closed);
    g->poll = NULL;
}

static void kt_pgw_watch(kt_db_pg *g, int events)
{
    int fd = PQsocket(g->conn);
    if (g->poll && g->poll_fd != fd)
        kt_pgw_unwatch(g);
    if (fd < 0)
        return;
    if (!g->poll) {
        g->poll = malloc(sizeof *g->poll);
        if (!g->poll || uv_poll_init(g->w->loop, g->poll, fd)) {
            free(g->poll);
            g->poll = NULL;
            return;
        }
        g->w->handles++;
        g->poll->data = g;
        g->poll_fd = fd;
    }
    g->poll_events = events;
    uv_poll_start(g->poll, events, kt_pgw_on_poll);
}

/* ---- connection ---------------------------------------------------------------------------------- */

static void kt_pgw_drop(kt_db_pg *g)
{
    kt_pgw_unwatch(g);
    if (g->conn)
        PQfinish(g->conn);
    g->conn = NULL;
    g->awaiting = 0;
}

/* Connect again after the backoff: 50 ms doubling to backoff_max_ms, plus up to half of it at random (writers of
 * several nodes that lost the server together do not all come back in the same millisecond). */
static void kt_pgw_backoff(kt_db_pg *g, kt_pgw_state then)
{
    unsigned r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        r = (unsigned)uv_hrtime();
    int delay = g->backoff_ms + (int)(r % (unsigned)(g->backoff_ms / 2 + 1));
    g->backoff_ms = g->backoff_ms * 2 > g->backoff_max_ms ? g->backoff_max_ms : g->backoff_ms * 2;
    g->state = then;
    uv_timer_start(&g->timer, kt_pgw_on_timer, (uint64_t)delay, 0);
}

/* The connection is gone (or never came): what was in flight has an unknown outcome. */
static void kt_pgw_lost(kt_db_pg *g, const char *what)
{
    const char *why = g->conn ? PQerrorMessage(g->conn) : "";
    g->losses++;
    /* thinned to powers of two: a long outage does not flood the log */
    if (!(g->losses & (g->losses - 1)))
        KT_WARN("store", "writer %s: %s%s%.*s; connecting again (%llu time(s) so far)", g->w->id, what,
                *why ? ": " : "", (int)strcspn(why, "\n"), why, (unsigned long long)g->losses);
    if (g->flight)
        g->unknown = 1;
    kt_pgw_drop(g);
    uv_timer_stop(&g->timer);
    kt_pgw_backoff(g, KT_PGW_WAIT_CONNECT);
}

static int kt_pgw_send_sql(kt_db_pg *g, const char *sql, int n, const char *const *v, const int *len, const int *fmt)
{
    return PQsendQueryParams(g->conn, sql, n, NULL, v, len, fmt, 0) == 1;
}

/* PQflush in non-blocking mode: the socket is watched for writing too while libpq holds unsent bytes. */
static int kt_pgw_flush(kt_db_pg *g)
{
    int r = PQflush(g->conn);
    if (r < 0)
        return -1;
    kt_pgw_watch(g, UV_READABLE | (r ? UV_WRITABLE : 0));
    return 0;
}

/* The backends of this writer's earlier connections (the holders of, or waiters for, its advisory lock, a bigint
 * key shown by pg_locks as classid = high and objid = low 32 bits) are told to end. No rows, no columns. The CASE
 * keeps the order (a plain WHERE lets the planner call pg_terminate_backend on any row of pg_locks, this one's own). */
#define KT_PGW_TERMINATE_EARLIER                                                                                   \
    "WITH k AS (SELECT hashtextextended($1::text, 0) AS v) SELECT FROM pg_locks l, k WHERE CASE WHEN "              \
    "l.locktype = 'advisory' AND l.objsubid = 1 AND l.classid = ((k.v >> 32) & 4294967295)::oid "                    \
    "AND l.objid = (k.v & 4294967295)::oid AND l.pid <> pg_backend_pid() "                                            \
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "                             \
    "THEN pg_terminate_backend(l.pid) ELSE false END"

/* Connected: non-blocking, pipeline mode, the session's settings, and the seq when an outcome is unknown. */
static void kt_pgw_setup(kt_db_pg *g)
{
    uv_timer_stop(&g->timer);
    if (PQsetnonblocking(g->conn, 1) || !PQenterPipelineMode(g->conn)) {
        kt_pgw_lost(g, "cannot enter pipeline mode");
        return;
    }
    const char *id[] = {g->w->id};
    int ok = kt_pgw_send_sql(g, "SET client_min_messages = warning", 0, NULL, NULL, NULL) &&
             kt_pgw_send_sql(g, "SET TIME ZONE 'UTC'", 0, NULL, NULL, NULL) &&
             /* an acknowledged commit is on disk, whatever the server's default */
             kt_pgw_send_sql(g, "SET synchronous_commit = on", 0, NULL, NULL, NULL) &&
             /* the writer's earlier sessions ended, and this one holds the writer's lock from now on: a backend
              * whose client went (a timeout, a sever) may still be running the lost transaction and would commit it
              * after the seq below was read (sent again = written twice). Its session holds the lock until it has
              * ended, committed or not, so once the lock is ours the seq says the truth. */
             kt_pgw_send_sql(g, KT_PGW_TERMINATE_EARLIER, 1, id, NULL, NULL) &&
             kt_pgw_send_sql(g, "SELECT pg_advisory_lock(hashtextextended($1::text, 0))", 1, id, NULL, NULL) &&
             (!g->unknown || kt_pgw_send_sql(g, "SELECT seq FROM kite_writers WHERE writer = $1", 1, id, NULL, NULL)) &&
             PQpipelineSync(g->conn) == 1;
    g->read_seq = -1;
    g->failed = 0;
    g->awaiting = 1;
    g->state = KT_PGW_SETUP;
    if (!ok || kt_pgw_flush(g)) {
        kt_pgw_lost(g, "cannot send the session's settings");
        return;
    }
    uv_timer_start(&g->timer, kt_pgw_on_timer, (uint64_t)g->commit_timeout_ms, 0);
}

static void kt_pgw_connect_poll(kt_db_pg *g)
{
    switch (PQconnectPoll(g->conn)) {
    case PGRES_POLLING_READING: kt_pgw_watch(g, UV_READABLE); break;
    case PGRES_POLLING_WRITING: kt_pgw_watch(g, UV_WRITABLE); break;
    case PGRES_POLLING_OK: kt_pgw_setup(g); break;
    default: kt_pgw_lost(g, "cannot connect"); break;
    }
}

/* PQconnectStartParams with the URL's parameters, hostaddr when resolved here, and keepalives. */
static void kt_pgw_start(kt_db_pg *g)
{
    const char *kw[64], *val[64];
    int n = 0;
    for (PQconninfoOption *o = g->opts; o->keyword && n < 58; o++)
        if (o->val && strcmp(o->keyword, "hostaddr") && strcmp(o->keyword, "keepalives") &&
            strcmp(o->keyword, "fallback_application_name")) {
            kw[n] = o->keyword;
            val[n++] = o->val;
        }
    if (g->hostaddr[0]) {
        kw[n] = "hostaddr";
        val[n++] = g->hostaddr;
    } else {
        for (PQconninfoOption *o = g->opts; o->keyword; o++)
            if (!strcmp(o->keyword, "hostaddr") && o->val) {
                kw[n] = "hostaddr";
                val[n++] = o->val;
            }
    }
    char app[64];
    snprintf(app, sizeof app, "kite-writer %.50s", g->w->id); /* (pg_stat_activity: which backend is whose) */
    kw[n] = "fallback_application_name";
    val[n++] = app;
    kw[n] = "keepalives";
    val[n++] = "1";
    kw[n] = NULL;
    val[n] = NULL;
    g->conn = PQconnectStartParams(kw, val, 0);
    if (!g->conn || PQstatus(g->conn) == CONNECTION_BAD) {
        kt_pgw_lost(g, "cannot start a connection");
        return;
    }
    g->state = KT_PGW_CONNECTING;
    uv_timer_start(&g->timer, kt_pgw_on_timer, (uint64_t)g->connect_timeout_ms, 0);
    kt_pgw_watch(g, UV_WRITABLE); /* PQconnectStart's contract: as if it had said PGRES_POLLING_WRITING */
}

/* The first address of res as text into g->hostaddr; 0 when there is one. */
static int kt_pgw_take_address(kt_db_pg *g, const struct addrinfo *res)
{
    for (const struct addrinfo *a = res; a; a = a->ai_next) {
        const void *src = a->ai_family == AF_INET ? (const void *)&((const struct sockaddr_in *)(const void *)a->ai_addr)->sin_addr
                          : a->ai_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)(const void *)a->ai_addr)->sin6_addr
                                                     : NULL;
        if (src && inet_ntop(a->ai_family, src, g->hostaddr, sizeof g->hostaddr))
            return 0;
    }
    return -1;
}

static void kt_pgw_release(kt_db_pg *g)
{
    if (g->closing && g->timer_closed && !g->gai_busy)
        free(g);
}

static void kt_pgw_on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    kt_db_pg *g = req->data;
    kt_db_writer *w = g->w;
    int wanted = g->gai_wanted && !g->closing;
    int ok = wanted && status == 0 && kt_pgw_take_address(g, res) == 0;
    uv_freeaddrinfo(res);
    g->gai_busy = 0;
    g->gai_wanted = 0;
    if (g->closing) {
        kt_pgw_release(g);
        kt_db_handle_closed(w);
        return;
    }
    w->handles--;
    if (!wanted)
        return;
    if (!ok) {
        KT_WARN("store", "writer %s: cannot resolve %s: %s", w->id, g->host, status ? uv_strerror(status) : "no address");
        kt_pgw_backoff(g, KT_PGW_WAIT_CONNECT);
        return;
    }
    kt_pgw_start(g);
}

static void kt_pgw_connect(kt_db_pg *g)
{
    kt_pgw_drop(g);
    if (!g->host[0]) {
        kt_pgw_start(g);
        return;
    }
    g->state = KT_PGW_RESOLVING;
    if (g->gai_busy) { /* (a drain's connection dropped before the earlier request answered) */
        g->gai_wanted = 1;
        return;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    g->gai.data = g;
    if (uv_getaddrinfo(g->w->loop, &g->gai, kt_pgw_on_resolved, g->host, NULL, &hints)) {
        kt_pgw_backoff(g, KT_PGW_WAIT_CONNECT);
        return;
    }
    g->gai_busy = g->gai_wanted = 1;
    g->w->handles++;
}

/* ---- transactions -------------------------------------------------------------------------------- */

/* The fences of the flight as one kite_fence call per kind: "{ids}" and "{epochs}" of that kind's fences. */
static int kt_pgw_send_fences(kt_db_pg *g)
{
    const char *kinds[8];
    size_t nkinds = 0;
    for (kt_db_batch *b = g->flight; b; b = b->next)
        for (size_t i = 0; i < b->nfences; i++) {
            size_t k = 0;
            while (k < nkinds && strcmp(kinds[k], b->fences[i].kind))
                k++;
            if (k == nkinds && nkinds < sizeof kinds / sizeof *kinds)
                kinds[nkinds++] = b->fences[i].kind;
        }
    for (size_t k = 0; k < nkinds; k++) {
        kt_buf ids = {0}, epochs = {0};
        kt_buf_puts(&ids, "{");
        kt_buf_puts(&epochs, "{");
        int first = 1;
        for (kt_db_batch *b = g->flight; b; b = b->next)
            for (size_t i = 0; i < b->nfences; i++) {
                const kt_db_fence *f = &b->fences[i];
                if (strcmp(f->kind, kinds[k]) || b->lost[f->partition])
                    continue;
                kt_buf_printf(&ids, "%s%d", first ? "" : ",", f->partition);
                kt_buf_printf(&epochs, "%s%" PRId64, first ? "" : ",", f->epoch);
                first = 0;
            }
        kt_buf_puts(&ids, "}");
        kt_buf_puts(&epochs, "}");
        char *ids_s = kt_buf_take(&ids), *epochs_s = kt_buf_take(&epochs);
        const char *v[] = {kinds[k], ids_s, epochs_s};
        int ok = first || kt_pgw_send_sql(g, "SELECT kite_fence($1, $2::integer[], $3::bigint[])", 3, v, NULL, NULL);
        free(ids_s);
        free(epochs_s);
        if (!ok)
            return 0;
    }
    return 1;
}

/* Sends the flight (again): fences, operations (those of lost partitions left out), the writer's row, Sync. */
static void kt_pgw_send(kt_db_pg *g)
{
    int ok = kt_pgw_send_fences(g);
    for (kt_db_batch *b = g->flight; ok && b; b = b->next)
        for (size_t i = 0; ok && i < b->ops.n; i++) {
            const kt_pg_stmt *s = &b->ops.v[i];
            if (s->partition >= 0 && b->lost[s->partition])
                continue;
            ok = kt_pgw_send_sql(g, s->sql, s->n, s->values, s->lengths, s->formats);
        }
    char seq[24];
    const char *v[] = {g->w->id, kt_pg_i64(seq, g->flight_seq)};
    ok = ok &&
         kt_pgw_send_sql(g, "INSERT INTO kite_writers(writer, seq) VALUES($1, $2) ON CONFLICT (writer) DO UPDATE "
                            "SET seq = excluded.seq", 2, v, NULL, NULL) &&
         PQpipelineSync(g->conn) == 1;
    g->failed = 0;
    g->awaiting = 1;
    g->state = KT_PGW_SENT;
    g->sent_ns = uv_hrtime();
    if (!ok || kt_pgw_flush(g)) {
        kt_pgw_lost(g, "cannot send a transaction");
        return;
    }
    uv_timer_start(&g->timer, kt_pgw_on_timer, (uint64_t)g->commit_timeout_ms, 0);
}

void kt_db_pg_kick(kt_db_writer *w)
{
    kt_db_pg *g = w->pg;
    if (g->state != KT_PGW_IDLE || g->flight || !w->queue)
        return;
    /* the group commit: every batch waiting, up to KT_DB_TXN_MAX_BYTES (the first one whatever its size) */
    size_t bytes = 0;
    kt_db_batch **tail = &g->flight;
    while (w->queue && (!bytes || bytes + w->queue->bytes <= KT_DB_TXN_MAX_BYTES)) {
        kt_db_batch *b = w->queue;
        w->queue = b->next;
        b->next = NULL;
        bytes += b->bytes;
        *tail = b;
        tail = &b->next;
    }
    if (!w->queue)
        w->queue_tail = &w->queue;
    g->flight_seq = ++g->seq;
    g->unknown = 0;
    kt_pgw_send(g);
}

/* The flight landed: its callbacks, in order, then the next transaction. */
static void kt_pgw_landed(kt_db_pg *g)
{
    kt_db_writer *w = g->w;
    kt_db_batch *done = g->flight;
    g->flight = NULL;
    g->unknown = 0;
    g->backoff_ms = 50;
    g->state = KT_PGW_IDLE;
    w->commits++;
    /* the blocking kt_pg_commit's histogram: send to durable, one round trip plus the server's work */
    kt_metric_observe(kt_metrics_histogram("kestra_store_commit_duration_seconds", "Duration of the store's commits",
                                           NULL, kt_metrics_latency_buckets, kt_metrics_latency_nbuckets),
                      (double)(uv_hrtime() - g->sent_ns) / 1e9);
    kt_db_complete(w, done, KT_OK);
    if (!w->closing && w->pg)
        kt_db_pg_kick(w);
}

/* KTF01's detail: "id:epoch,..." of the fences whose epoch moved. Their partitions are dropped from every batch of
 * the flight and of the queue that fences them at that epoch (a later batch fenced at a newer epoch keeps them). */
static void kt_pgw_fenced(kt_db_pg *g)
{
    const char *d = g->detail;
    while (*d) {
        char *end;
        long p = strtol(d, &end, 10);
        if (*end != ':')
            break;
        long long epoch = strtoll(end + 1, &end, 10);
        for (int q = 0; q < 2; q++)
            for (kt_db_batch *b = q ? g->w->queue : g->flight; b; b = b->next)
                for (size_t i = 0; i < b->nfences; i++)
                    if (b->fences[i].partition == p && b->fences[i].epoch == epoch)
                        kt_db_batch_lose(b, (int)p);
        KT_INFO("store", "writer %s: partition %ld lost at epoch %lld: its operations are dropped", g->w->id, p,
                epoch);
        d = *end == ',' ? end + 1 : end;
    }
}

/* The Sync of a segment came: the setup or the transaction is over, one way or the other. */
static void kt_pgw_synced(kt_db_pg *g)
{
    uv_timer_stop(&g->timer);
    if (g->state == KT_PGW_SETUP) {
        if (g->failed) {
            KT_WARN("store", "writer %s: the session's settings failed: %s", g->w->id, g->message);
            kt_pgw_lost(g, "session refused");
            return;
        }
        g->state = KT_PGW_IDLE;
        if (g->flight && g->unknown && g->read_seq >= g->flight_seq) {
            kt_pgw_landed(g); /* the commit whose answer was lost had landed */
        } else if (g->flight) {
            g->unknown = 0;
            kt_pgw_send(g);
        } else {
            kt_db_pg_kick(g->w);
        }
        return;
    }
    if (!g->failed) {
        kt_pgw_landed(g);
        return;
    }
    g->state = KT_PGW_IDLE;
    if (!strcmp(g->sqlstate, "KTF01")) {
        kt_pgw_fenced(g);
        kt_pgw_send(g);
        return;
    }
    g->failures++;
    if (!(g->failures & (g->failures - 1)))
        KT_ERROR("store", "writer %s: commit failed (%s: %s), %llu failure(s) so far; retrying", g->w->id,
                 g->sqlstate, g->message, (unsigned long long)g->failures);
    kt_pgw_backoff(g, KT_PGW_WAIT_SEND);
}

/* Reads what the server sent: each statement's result, then the Sync's. */
static void kt_pgw_read(kt_db_pg *g)
{
    if (!PQconsumeInput(g->conn)) {
        kt_pgw_lost(g, "connection lost");
        return;
    }
    int nulls = 0;
    while (g->conn && g->awaiting && !PQisBusy(g->conn)) {
        PGresult *r = PQgetResult(g->conn);
        if (!r) {
            if (++nulls > 1)
                break; /* nothing more now: between two statements' results only one NULL comes */
            continue;
        }
        nulls = 0;
        ExecStatusType es = PQresultStatus(r);
        if (es == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            g->awaiting = 0;
            kt_pgw_synced(g); /* may send the next segment */
            continue;
        }
        if (es == PGRES_FATAL_ERROR && !g->failed) {
            const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE), *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
            g->failed = 1;
            snprintf(g->sqlstate, sizeof g->sqlstate, "%s", st ? st : "?");
            snprintf(g->message, sizeof g->message, "%.*s", (int)strcspn(PQresultErrorMessage(r), "\n"),
                     PQresultErrorMessage(r));
            snprintf(g->detail, sizeof g->detail, "%s", detail ? detail : "");
        } else if (es == PGRES_TUPLES_OK && g->state == KT_PGW_SETUP && PQnfields(r) == 1 && PQntuples(r) == 1 &&
                   !strcmp(PQfname(r, 0), "seq")) {
            g->read_seq = kt_pg_get_i64(r, 0, 0);
        }
        PQclear(r);
    }
    if (g->conn && PQstatus(g->conn) == CONNECTION_BAD)
        kt_pgw_lost(g, "connection lost");
}

static void kt_pgw_on_poll(uv_poll_t *h, int status, int events)
{
    kt_db_pg *g = h->data;
    if (status < 0) {
        kt_pgw_lost(g, "socket error");
        return;
    }
    if (g->state == KT_PGW_CONNECTING) {
        kt_pgw_connect_poll(g);
        return;
    }
    if ((events & UV_WRITABLE) && kt_pgw_flush(g)) {
        kt_pgw_lost(g, "cannot write");
        return;
    }
    if (events & UV_READABLE)
        kt_pgw_read(g);
}

static void kt_pgw_on_timer(uv_timer_t *t)
{
    kt_db_pg *g = t->data;
    switch (g->state) {
    case KT_PGW_WAIT_CONNECT: kt_pgw_connect(g); break;
    case KT_PGW_WAIT_SEND: kt_pgw_send(g); break;
    case KT_PGW_CONNECTING: kt_pgw_lost(g, "connection timed out"); break;
    case KT_PGW_SETUP:
    case KT_PGW_SENT: kt_pgw_lost(g, "no answer from the server in time"); break;
    case KT_PGW_RESOLVING:
    case KT_PGW_IDLE: break;
    }
}

static void kt_pgw_timer_closed(uv_handle_t *h)
{
    kt_db_pg *g = h->data;
    kt_db_writer *w = g->w;
    g->timer_closed = 1;
    kt_pgw_release(g);
    kt_db_handle_closed(w);
}

/* ---- start, drain, close ------------------------------------------------------------------------- */

kt_status kt_db_pg_start(kt_db_writer *w, const kt_db_writer_options *o)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(kt_pg_url(w->store), &err);
    if (!opts) {
        KT_ERROR("store", "writer %s: the store's URL does not parse: %s", w->id, err ? err : "out of memory");
        PQfreemem(err);
        return KT_EINVAL;
    }
    kt_db_pg *g = calloc(1, sizeof *g);
    if (!g) {
        PQconninfoFree(opts);
        return KT_ENOMEM;
    }
    g->w = w;
    g->opts = opts;
    g->connect_timeout_ms = o && o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 5000;
    g->commit_timeout_ms = o && o->commit_timeout_ms > 0 ? o->commit_timeout_ms : 30000;
    g->backoff_max_ms = o && o->backoff_max_ms > 0 ? o->backoff_max_ms : 5000;
    g->backoff_ms = 50;
    const char *host = NULL, *hostaddr = NULL;
    for (PQconninfoOption *p = opts; p->keyword; p++) {
        if (!strcmp(p->keyword, "host"))
            host = p->val;
        if (!strcmp(p->keyword, "hostaddr"))
            hostaddr = p->val;
    }
    /* a name to resolve: not a socket directory, not a list (libpq's), not an address already */
    unsigned char probe[sizeof(struct in6_addr)];
    if (host && *host && !hostaddr && host[0] != '/' && host[0] != '@' && !strchr(host, ',')) {
        if (inet_pton(AF_INET, host, probe) == 1 || inet_pton(AF_INET6, host, probe) == 1)
            snprintf(g->hostaddr, sizeof g->hostaddr, "%s", host);
        else
            snprintf(g->host, sizeof g->host, "%s", host);
    }
    uv_timer_init(w->loop, &g->timer);
    g->timer.data = g;
    w->handles++;
    w->pg = g;
    kt_pgw_connect(g);
    return KT_OK;
}

/* Drain: blocking, for a stop. A connection being made is finished here (a name resolved synchronously, which
 * nothing minds any more), then the socket is polled directly until nothing is queued or in flight. */
kt_status kt_db_pg_drain(kt_db_writer *w, int timeout_ms)
{
    kt_db_pg *g = w->pg;
    uint64_t deadline = uv_hrtime() + (uint64_t)timeout_ms * 1000000u;
    int connects = 0;
    while (g->flight || w->queue) {
        uint64_t now = uv_hrtime();
        if (now >= deadline)
            return KT_ETIMEDOUT;
        int left = (int)((deadline - now) / 1000000u) + 1;
        if (g->state == KT_PGW_WAIT_CONNECT || g->state == KT_PGW_RESOLVING) {
            uv_timer_stop(&g->timer);
            if (g->host[0]) {
                struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
                int rc = getaddrinfo(g->host, NULL, &hints, &res);
                int ok = rc == 0 && kt_pgw_take_address(g, res) == 0;
                if (res)
                    freeaddrinfo(res);
                if (!ok)
                    return KT_ETIMEDOUT;
            }
            g->gai_wanted = 0; /* a resolution still running is not waited for */
            if (++connects > 2)
                return KT_ETIMEDOUT;
            kt_pgw_drop(g);
            kt_pgw_start(g);
            continue;
        }
        if (g->state == KT_PGW_WAIT_SEND) {
            uv_timer_stop(&g->timer);
            kt_pgw_send(g);
            continue;
        }
        if (g->state == KT_PGW_IDLE) {
            kt_db_pg_kick(w);
            continue;
        }
        struct pollfd p = {.fd = PQsocket(g->conn),
                           .events = (short)(((g->poll_events & UV_READABLE) ? POLLIN : 0) |
                                             ((g->poll_events & UV_WRITABLE) ? POLLOUT : 0))};
        if (p.fd < 0)
            return KT_ETIMEDOUT;
        int rc = poll(&p, 1, left);
        if (rc < 0)
            continue;
        if (rc == 0)
            return KT_ETIMEDOUT;
        int ev = ((p.revents & (POLLIN | POLLERR | POLLHUP)) ? UV_READABLE : 0) | ((p.revents & POLLOUT) ? UV_WRITABLE : 0);
        if (g->poll)
            kt_pgw_on_poll(g->poll, 0, ev);
        else
            return KT_ETIMEDOUT;
    }
    return KT_OK;
}

void kt_db_pg_sever(kt_db_writer *w)
{
    if (w->pg->conn)
        kt_pgw_lost(w->pg, "severed");
}

int kt_db_pg_idle(const kt_db_writer *w) { return w->pg->state == KT_PGW_IDLE && !w->pg->flight; }

kt_db_batch *kt_db_pg_close(kt_db_writer *w)
{
    kt_db_pg *g = w->pg;
    kt_db_batch *flight = g->flight;
    g->flight = NULL;
    kt_pgw_drop(g);
    PQconninfoFree(g->opts);
    g->opts = NULL;
    uv_timer_stop(&g->timer);
    g->closing = 1;
    if (g->gai_busy)
        uv_cancel((uv_req_t *)&g->gai); /* its callback still comes (UV_ECANCELED) */
    uv_close((uv_handle_t *)&g->timer, kt_pgw_timer_closed);
    w->pg = NULL;
    return flight;
}
