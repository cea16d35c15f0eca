/* kite-bench --only search: GET /api/v1/logs/search?q= (kt_store_logs_search: the total and a page of 10) on a store
 * of N log lines, served by the full-text index (SQLite FTS5 trigram, PostgreSQL pg_trgm), against the scan it
 * replaced: on SQLite the former statements (instr over every message) on a store with store.log-index off, on
 * PostgreSQL the same call on such a store (the search then scans). Also the cost of keeping the index: the lines'
 * append time with it on and off. SQLite in a temporary directory; PostgreSQL at KITE_BENCH_PG_URL when set. */
#include "bench.h"

#include "store/store.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KB_S_RUNS 5

/* rare (1 line in 1000), rarer (one line), every line, and two characters (always the scan) */
static const char *const kb_s_queries[] = {"needle-7", "records in 4242 ms", "records", "ms"};
#define KB_S_NQ (sizeof kb_s_queries / sizeof *kb_s_queries)

static kt_store *kb_s_open(const char *where, kt_log_index log_index)
{
    kt_store *s;
    char err[512];
    if (kt_store_open(where, &(kt_store_options){.log_index = log_index}, &s, err, sizeof err)) {
        fprintf(stderr, "kite-bench: %s\n", err);
        exit(1);
    }
    return s;
}

/* Runs sql (no parameters) on the store's database through a connection of its own. */
static void kb_s_exec(const char *where, int pg, const char *sql)
{
    if (pg) {
        PGconn *c = PQconnectdb(where);
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            fprintf(stderr, "kite-bench: %s: %s", sql, PQerrorMessage(c));
        PQclear(r);
        PQfinish(c);
        return;
    }
    char path[1100];
    snprintf(path, sizeof path, "%s/kite.db", where);
    sqlite3 *db;
    char *msg = NULL;
    sqlite3_open(path, &db);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fprintf(stderr, "kite-bench: %s: %s\n", sql, msg);
    sqlite3_free(msg);
    sqlite3_close(db);
}

/* Appends the lines in batches of 1000 to both stores, batch for batch (a loaded machine then slows both alike);
 * the time each took, in ms. */
static void kb_s_fill(kt_store *const stores[2], int lines, double ms[2])
{
    ms[0] = ms[1] = 0;
    for (int from = 0; from < lines; from += 1000) {
        json_t *batch = json_array();
        for (int i = from; i < lines && i < from + 1000; i++) {
            char ex[16], ts[40], msg[128];
            snprintf(ex, sizeof ex, "ex%03d", i % 100);
            snprintf(ts, sizeof ts, "2024-01-01T%02d:%02d:%02d.%03dZ", i / 3600000 % 24, i / 60000 % 60, i / 1000 % 60,
                     i % 1000);
            if (i % 1000 == 7)
                snprintf(msg, sizeof msg, "needle-%d found by task t%d", i / 1000, i % 7);
            else
                snprintf(msg, sizeof msg, "task t%d of %s: processed %d records in %d ms", i % 7, ex, i % 9973,
                         i % 5000);
            json_array_append_new(batch, json_pack("{s:s, s:s, s:s, s:s, s:s}", "executionId", ex, "taskId", "t",
                                                   "level", "INFO", "timestamp", ts, "message", msg));
        }
        for (int k = 0; k < 2; k++) { /* one transaction per batch, as the indexer writes them */
            double t0 = kb_now_ms();
            if (kt_store_begin(stores[k]) || kt_store_logs_append(stores[k], batch) || kt_store_commit(stores[k])) {
                fprintf(stderr, "kite-bench: logs_append failed\n");
                exit(1);
            }
            ms[k] += kb_now_ms() - t0;
        }
        json_decref(batch);
    }
}

/* The median time of the store's search for q (total and first page), ms; *total its total. */
static double kb_s_search(kt_store *s, const char *q, long long *total)
{
    double v[KB_S_RUNS];
    for (int r = 0; r < KB_S_RUNS; r++) {
        json_t *res = NULL;
        int64_t t = 0;
        double t0 = kb_now_ms();
        if (kt_store_logs_search(s, &(kt_log_query){.q = q, .size = 10}, &res, &t)) {
            fprintf(stderr, "kite-bench: logs_search(%s) failed\n", q);
            exit(1);
        }
        v[r] = kb_now_ms() - t0;
        *total = t;
        json_decref(res);
    }
    return kb_median(v, KB_S_RUNS);
}

/* SQLite's former search statements (before the index): the count, then the page; median ms. */
static double kb_s_sqlite_scan(const char *where, const char *q, long long *total)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/kite.db", where);
    sqlite3 *db;
    sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    static const char *const sql[] = {
        "SELECT COUNT(*) FROM logs l WHERE 1=1 AND instr(json_extract(l.body, '$.message'), ?) > 0",
        "SELECT l.body FROM logs l WHERE 1=1 AND instr(json_extract(l.body, '$.message'), ?) > 0 "
        "ORDER BY l.timestamp_us ASC, l.seq ASC LIMIT 10 OFFSET 0",
    };
    double v[KB_S_RUNS];
    for (int r = 0; r < KB_S_RUNS; r++) {
        double t0 = kb_now_ms();
        for (int k = 0; k < 2; k++) {
            sqlite3_stmt *st;
            sqlite3_prepare_v2(db, sql[k], -1, &st, NULL);
            sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
            while (sqlite3_step(st) == SQLITE_ROW)
                if (!k)
                    *total = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
        v[r] = kb_now_ms() - t0;
    }
    sqlite3_close(db);
    return kb_median(v, KB_S_RUNS);
}

static void kb_s_backend(const char *pg_url, int lines)
{
    const int pg = pg_url != NULL;
    const char *name = pg ? "PostgreSQL" : "SQLite";
    char indexed[1024], plain[1024], clean_i[1024], clean_p[1024];
    kb_tp_place(pg_url, indexed, sizeof indexed, clean_i, sizeof clean_i);
    kb_tp_place(pg_url, plain, sizeof plain, clean_p, sizeof clean_p);
    /* store.log-index on and off */
    kt_store *si = kb_s_open(indexed, KT_LOG_INDEX_ON), *sp = kb_s_open(plain, KT_LOG_INDEX_OFF);
    double fill[2];
    kb_s_fill((kt_store *const[]){si, sp}, lines, fill);
    const double fill_i = fill[0], fill_p = fill[1];
    if (pg) {
        kb_s_exec(indexed, 1, "ANALYZE logs");
        kb_s_exec(plain, 1, "ANALYZE logs");
    }
    printf("%s, %d log lines: append %.0f ms with the index, %.0f ms without (x%.2f)\n", name, lines, fill_i, fill_p,
           fill_p > 0 ? fill_i / fill_p : 0.0);
    for (size_t i = 0; i < KB_S_NQ; i++) {
        long long ti = -1, tp = -2;
        double ms_i = kb_s_search(si, kb_s_queries[i], &ti);
        double ms_p = pg ? kb_s_search(sp, kb_s_queries[i], &tp) : kb_s_sqlite_scan(plain, kb_s_queries[i], &tp);
        printf("  q=%-22s %7lld matches: %8.2f ms with the index, %8.2f ms by the scan (x%.1f)%s\n", kb_s_queries[i],
               ti, ms_i, ms_p, ms_i > 0 ? ms_p / ms_i : 0.0, ti == tp ? "" : "  TOTALS DIFFER");
    }
    kt_store_close(si);
    kt_store_close(sp);
    kb_tp_unplace(pg_url, clean_i);
    kb_tp_unplace(pg_url, clean_p);
}

void kb_search(int lines)
{
    printf("log search (total and a page of 10; medians of %d runs)\n", KB_S_RUNS);
    kb_s_backend(NULL, lines);
    const char *pg_url = getenv("KITE_BENCH_PG_URL");
    if (pg_url && *pg_url)
        kb_s_backend(pg_url, lines);
    else
        printf("PostgreSQL: not measured (KITE_BENCH_PG_URL unset)\n");
}
