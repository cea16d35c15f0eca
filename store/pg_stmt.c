/* Statements encoded once, run either way (pg_int.h, kt_pg_stmts): the PostgreSQL store's writes (an execution's
 * header and task runs, log lines, metrics, notices) are built here as SQL text plus copied parameters. The blocking
 * session functions (pg_exec.c, pg_logs.c, pg_metrics.c) run the list at once on their connection; the loop's writer
 * (pg_writer.c) keeps it in a batch and sends it, byte for byte the same, in a pipelined transaction, again after a
 * lost connection if the first one did not land. */
#include "store/pg_int.h"
#include "store/exec_row.h"
#include "base/clock.h"
#include "base/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kt_pg_stmts_clear(kt_pg_stmts *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].sql_owned);
        free(l->v[i].block);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

kt_status kt_pg_stmts_add(kt_pg_stmts *l, const char *sql, char *sql_owned, int n, const char *const *values,
                          const int *lengths, const int *formats)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        kt_pg_stmt *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            free(sql_owned);
            return KT_ENOMEM;
        }
        l->v = v;
        l->cap = cap;
    }
    /* one block: the value pointers, their lengths and formats, then the bytes of the values (each NUL-ended) */
    size_t data = 0;
    for (int i = 0; i < n; i++)
        if (values[i])
            data += (formats && formats[i] ? (size_t)lengths[i] : strlen(values[i])) + 1;
    size_t head = (size_t)n * (sizeof(char *) + 2 * sizeof(int));
    char *block = malloc(head + data + 1);
    if (!block) {
        free(sql_owned);
        return KT_ENOMEM;
    }
    kt_pg_stmt *s = &l->v[l->n];
    s->sql = sql_owned ? sql_owned : sql;
    s->sql_owned = sql_owned;
    s->n = n;
    s->block = block;
    s->values = (const char **)(void *)block;
    s->lengths = (int *)(void *)(block + (size_t)n * sizeof(char *));
    s->formats = s->lengths + n;
    s->partition = l->partition;
    char *at = block + head;
    for (int i = 0; i < n; i++) {
        s->formats[i] = formats ? formats[i] : 0;
        if (!values[i]) {
            s->values[i] = NULL;
            s->lengths[i] = 0;
            continue;
        }
        size_t len = s->formats[i] ? (size_t)lengths[i] : strlen(values[i]);
        memcpy(at, values[i], len);
        at[len] = 0;
        s->values[i] = at;
        s->lengths[i] = (int)len;
        at += len + 1;
    }
    l->bytes += strlen(s->sql) + head + data + sizeof *s;
    l->n++;
    return KT_OK;
}

kt_status kt_pg_stmts_run(kt_store *s, const kt_pg_stmts *l)
{
    for (size_t i = 0; i < l->n; i++) {
        const kt_pg_stmt *q = &l->v[i];
        kt_status st;
        PGresult *res = kt_pg_query_bin(s, q->sql, q->n, q->values, q->lengths, q->formats, &st);
        if (!res)
            return st;
        PQclear(res);
    }
    return KT_OK;
}

/* ---- executions ---------------------------------------------------------------------------------- */

/* Task runs per INSERT: 3 parameters each, well under the protocol's 65535, in one round trip. */
enum { KT_PGS_RUNS_PER_STMT = 256 };

static const char kt_pgs_exec_upsert[] =
    "INSERT INTO executions(id, namespace, flow_id, state, terminal, updated_us, body, start_us, end_us, labels) "
    "VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT(id) DO UPDATE SET state=excluded.state, "
    "terminal=excluded.terminal, updated_us=excluded.updated_us, body=excluded.body, start_us=excluded.start_us, "
    "end_us=excluded.end_us, labels=excluded.labels";

/* The upsert of the runs [from, to) of row (kt_exec_row_run's indices) as one statement. A position listed twice is
 * written once (PostgreSQL refuses to update one row twice in a statement; the document is the same). */
static kt_status kt_pgs_runs(kt_pg_stmts *l, const kt_exec_row *row, size_t from, size_t to, unsigned char *seen)
{
    size_t cap = to - from;
    const char **v = calloc(1 + 2 * cap, sizeof *v);
    int *len = calloc(1 + 2 * cap, sizeof *len), *fmt = calloc(1 + 2 * cap, sizeof *fmt);
    char(*pos)[24] = calloc(cap ? cap : 1, sizeof *pos);
    char *sql = malloc(200 + 40 * cap);
    kt_status st = KT_ENOMEM;
    int n = 1, k = 0;
    if (!v || !len || !fmt || !pos || !sql)
        goto done;
    v[0] = row->id;
    int at = snprintf(sql, 200, "INSERT INTO taskruns(execution_id, idx, body) VALUES ");
    for (size_t i = from; i < to; i++) {
        size_t idx, blen;
        char *blob;
        if ((st = kt_exec_row_run(row, i, &idx, &blob, &blen)))
            goto done;
        if (seen[idx]) {
            free(blob);
            continue;
        }
        seen[idx] = 1;
        v[n] = kt_pg_i64(pos[k], (int64_t)idx);
        v[n + 1] = blob;
        len[n + 1] = (int)blen;
        fmt[n + 1] = 1; /* bytea in binary */
        at += snprintf(sql + at, 40, "%s($1, $%d::integer, $%d::bytea)", k ? ", " : "", n + 1, n + 2);
        n += 2;
        k++;
    }
    st = KT_OK;
    if (k) {
        snprintf(sql + at, 100, " ON CONFLICT(execution_id, idx) DO UPDATE SET body = excluded.body");
        st = kt_pg_stmts_add(l, NULL, sql, n, v, len, fmt);
        sql = NULL; /* the list's now (freed by it on failure too) */
    }
done:
    for (int i = 2; v && i < n; i += 2)
        free((char *)v[i]);
    free(v);
    free(len);
    free(fmt);
    free(pos);
    free(sql);
    return st;
}

kt_status kt_pg_enc_execution_put(kt_pg_stmts *l, const json_t *execution, const size_t *runs, size_t nruns)
{
    kt_exec_row row;
    kt_status st = kt_exec_row_split(execution, runs, nruns, &row);
    if (st)
        return st;
    char updated[24], start[24], end[24];
    const char *v[] = {row.id,
                       row.namespace_,
                       row.flow_id,
                       row.state,
                       row.terminal ? "1" : "0",
                       kt_pg_i64(updated, row.updated_us),
                       row.header,
                       kt_pg_i64(start, row.start_us),
                       row.terminal ? kt_pg_i64(end, row.end_us) : NULL,
                       row.labels};
    const int len[10] = {[6] = (int)row.header_len}, fmt[10] = {[6] = 1};
    st = kt_pg_stmts_add(l, kt_pgs_exec_upsert, NULL, 10, v, len, fmt);
    if (!st && row.trim) { /* all the runs: those past the end of the list are gone */
        char n[24];
        const char *t[] = {row.id, kt_pg_i64(n, (int64_t)row.nruns)};
        st = kt_pg_stmts_add(l, "DELETE FROM taskruns WHERE execution_id=$1 AND idx>=$2", NULL, 2, t, NULL, NULL);
    }
    unsigned char *seen = st || !row.nruns ? NULL : calloc(json_array_size(row.list), 1);
    if (!st && row.nruns && !seen)
        st = KT_ENOMEM;
    for (size_t from = 0; !st && from < row.nruns; from += KT_PGS_RUNS_PER_STMT)
        st = kt_pgs_runs(l, &row, from,
                         row.nruns - from < KT_PGS_RUNS_PER_STMT ? row.nruns : from + KT_PGS_RUNS_PER_STMT, seen);
    free(seen);
    kt_exec_row_clear(&row);
    return st;
}

kt_status kt_pg_enc_notice_add(kt_pg_stmts *l, const char *execution_id, const char *state)
{
    const char *v[] = {execution_id, state};
    return kt_pg_stmts_add(l, "INSERT INTO notices(execution_id, state) VALUES($1, $2)", NULL, 2, v, NULL, NULL);
}

/* ---- log lines ----------------------------------------------------------------------------------- */

/* Lines per INSERT: one round trip for a batch instead of one per line, well under the 65535 parameters of a
 * statement. The rows of one VALUES list take their seq in order, so the write order is the entries' order. */
#define KT_LOG_BATCH 64
#define KT_LOG_COLS 7

/* The rows of one statement: each row's values and the texts they point at. */
typedef struct kt_log_rows {
    int n;
    const char *values[KT_LOG_BATCH * KT_LOG_COLS];
    char *bodies[KT_LOG_BATCH];
    char nums[KT_LOG_BATCH][3][24];
} kt_log_rows;

static kt_status kt_log_rows_add(kt_pg_stmts *l, kt_log_rows *b)
{
    if (!b->n)
        return KT_OK;
    char sql[128 + KT_LOG_BATCH * 80]; /* a row: ", ($449, ..., $455)" with two casts */
    size_t len = (size_t)snprintf(sql, sizeof sql, "INSERT INTO logs(execution_id, taskrun_id, task_id, attempt, "
                                                   "level, timestamp_us, body) VALUES");
    for (int r = 0; r < b->n; r++) {
        int p = r * KT_LOG_COLS;
        len += (size_t)snprintf(sql + len, sizeof sql - len, "%s($%d, $%d, $%d, $%d::integer, $%d::integer, $%d, $%d)",
                                r ? ", " : "", p + 1, p + 2, p + 3, p + 4, p + 5, p + 6, p + 7);
    }
    char *owned = strdup(sql);
    kt_status st = owned ? kt_pg_stmts_add(l, NULL, owned, b->n * KT_LOG_COLS, b->values, NULL, NULL) : KT_ENOMEM;
    for (int r = 0; r < b->n; r++)
        free(b->bodies[r]);
    b->n = 0;
    return st;
}

kt_status kt_pg_enc_logs_append(kt_pg_stmts *l, const json_t *entries)
{
    kt_log_rows *b = calloc(1, sizeof *b);
    if (!b)
        return KT_ENOMEM;
    kt_status st = KT_OK;
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e) {
        const char *ex = json_string_value(json_object_get(e, "executionId"));
        const char *ts = json_string_value(json_object_get(e, "timestamp"));
        int64_t us = 0;
        if (!ex || !ts || kt_time_parse(ts, &us))
            continue;
        char *body = json_dumps(e, JSON_COMPACT);
        if (!body) {
            st = KT_ENOMEM;
            break;
        }
        const char **v = b->values + b->n * KT_LOG_COLS;
        char(*nums)[24] = b->nums[b->n];
        b->bodies[b->n] = body;
        v[0] = ex;
        v[1] = json_string_value(json_object_get(e, "taskRunId"));
        v[2] = json_string_value(json_object_get(e, "taskId"));
        json_t *att = json_object_get(e, "attemptNumber");
        v[3] = json_is_integer(att) ? kt_pg_i64(nums[0], json_integer_value(att)) : NULL;
        int rank = kt_store_level_rank(json_string_value(json_object_get(e, "level")));
        v[4] = kt_pg_i64(nums[1], rank < 0 ? 2 : rank); /* an unknown level is kept as INFO */
        v[5] = kt_pg_i64(nums[2], us);
        v[6] = body;
        if (++b->n == KT_LOG_BATCH && (st = kt_log_rows_add(l, b)) != KT_OK)
            break;
    }
    if (st) {
        for (int r = 0; r < b->n; r++)
            free(b->bodies[r]);
    } else {
        st = kt_log_rows_add(l, b);
    }
    free(b);
    return st;
}

/* ---- metrics ------------------------------------------------------------------------------------- */

static const char kt_sql_metric_insert[] =
    "INSERT INTO metrics(namespace, flow_id, task_id, execution_id, taskrun_id, type, name, value, timestamp_us, body) "
    "VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

kt_status kt_pg_enc_metrics_append(kt_pg_stmts *l, const json_t *entries)
{
    size_t i;
    const json_t *e;
    json_array_foreach(entries, i, e) {
        kt_metric_row m;
        if (kt_store_metric_row(e, i, &m))
            continue;
        char *body = json_dumps(e, JSON_COMPACT);
        if (!body)
            return KT_ENOMEM;
        char vbuf[32], tbuf[24];
        /* 17 significant digits: the double comes back from the server as the same double */
        snprintf(vbuf, sizeof vbuf, "%.17g", m.value);
        const char *v[] = {m.ns, m.flow_id, m.task_id, m.execution_id, m.taskrun_id, m.type, m.name, vbuf,
                           kt_pg_i64(tbuf, m.timestamp_us), body};
        kt_status st = kt_pg_stmts_add(l, kt_sql_metric_insert, NULL, 10, v, NULL, NULL);
        free(body);
        if (st)
            return st;
    }
    return KT_OK;
}

/* (pgrun) the blocking session functions: encode, run, forget */
static kt_status kt_pgs_run_list(kt_store *s, kt_pg_stmts *l, kt_status st)
{
    if (!st)
        st = kt_pg_stmts_run(s, l);
    kt_pg_stmts_clear(l);
    return st;
}

kt_status kt_pg_execution_put(kt_store *s, const json_t *execution, const size_t *runs, size_t nruns)
{
    kt_pg_stmts l = {.partition = -1};
    return kt_pgs_run_list(s, &l, kt_pg_enc_execution_put(&l, execution, runs, nruns));
}

kt_status kt_pg_notice_add(kt_store *s, const char *execution_id, const char *state)
{
    kt_pg_stmts l = {.partition = -1};
    return kt_pgs_run_list(s, &l, kt_pg_enc_notice_add(&l, execution_id, state));
}

kt_status kt_pg_logs_append(kt_store *s, const json_t *entries)
{
    kt_pg_stmts l = {.partition = -1};
    return kt_pgs_run_list(s, &l, kt_pg_enc_logs_append(&l, entries));
}

kt_status kt_pg_metrics_append(kt_store *s, const json_t *entries)
{
    kt_pg_stmts l = {.partition = -1};
    return kt_pgs_run_list(s, &l, kt_pg_enc_metrics_append(&l, entries));
}
