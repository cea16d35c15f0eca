/* Searches of the PostgreSQL store, the mirror of sqlite_search.c's: statements built from the filters given
 * (store/sql_build.h, $n placeholders), every value a parameter, never spliced. The answers are SQLite's, to the
 * order of the rows: text sorts by its bytes (COLLATE "C", SQLite's BINARY) whatever the database's collation, and
 * NULL sorts first ascending and last descending as in SQLite. */
#include "store/pg_int.h"
#include "store/sql_build.h"

#include <stdio.h>
#include <string.h>

/* ILIKE in the "C" collation folds ASCII letters only, as SQLite's LIKE does (Kestra's likeIgnoreCase); labels is
 * the execution's [{key, value}] as JSON text: one of its objects has both (and perhaps more members). */
const kt_sql_dialect kt_sql_postgres = {
    .style = KT_SQL_DOLLAR,
    .like = "COLLATE \"C\" ILIKE",
    .contains = "strpos(%s, ?) > 0",
    .has_label = " AND labels::jsonb @> jsonb_build_array(jsonb_build_object('key', ?::text, 'value', ?::text))",
    /* ::json (not jsonb) reads only what it is asked for, and keeps a message's \u0000 from failing every line; the
     * expression is logs_message_trgm's (migration 3), so the planner can use that index */
    .log_message = "(l.body::json->>'message')",
    .log_trigger = "(l.body::json->>'triggerId')",
    /* a LIKE of the value, its wildcards and escape character escaped: the trigram index's lossy scan (pg_trgm folds
     * case and keeps only letters and digits), then PostgreSQL's recheck of the LIKE, which is the substring test
     * (strpos's answer, character for character, in a deterministic collation: the database's).
     * The parameter is a constant when the statement is planned (PQexecParams: a custom plan), so the pattern is
     * folded into one and the index is usable. */
    .log_message_indexed = " AND (l.body::json->>'message') LIKE " KT_SQL_LIKE_CONTAINS,
    .log_indexed_is_rule = 1,
    .int_cast = "::bigint",
    /* flows_source_trgm is in the "C" collation, where ILIKE folds ASCII only: the rule and the index in one test */
    .flow_source_indexed = "",
    .flow_source_contains = " AND f.source COLLATE \"C\" ILIKE " KT_SQL_LIKE_CONTAINS,
};

/* The sortable columns of both searches (kt_store_exec_sort_column's and kt_store_trigger_sort_column's values): the
 * ORDER BY text is always one of these, never the caller's. */
static const struct {
    const char *column;
    int text;
} kt_pg_sorts[] = {
    {"id", 1},
    {"start_us", 0},
    {"end_us", 0},
    {"(COALESCE(end_us, start_us) - start_us)", 0},
    {"namespace", 1},
    {"flow_id", 1},
    {"state", 1},
    {"trigger_id", 1},
    {"execution_id", 1},
    {"next_execution_date", 0},
};

/* ", column dir" (lead: without the comma) ordered as SQLite orders it; KT_EINVAL for a column not in kt_pg_sorts. */
static kt_status kt_pg_order_term(kt_sql *q, const char *column, int desc, int lead)
{
    for (size_t i = 0; column && i < sizeof kt_pg_sorts / sizeof *kt_pg_sorts; i++) {
        if (strcmp(kt_pg_sorts[i].column, column))
            continue;
        char term[160];
        snprintf(term, sizeof term, "%s%s%s %s", lead ? "" : ", ", kt_pg_sorts[i].column,
                 kt_pg_sorts[i].text ? " COLLATE \"C\"" : "", desc ? "DESC NULLS LAST" : "ASC NULLS FIRST");
        kt_sql_add(q, term);
        return KT_OK;
    }
    return KT_EINVAL;
}

/* Runs a built statement; NULL when it did not fit (KT_EINVAL) or failed (kt_pg_query's status). */
PGresult *kt_pg_sql_query(kt_store *s, const kt_sql *q, kt_status *st)
{
    if (q->overflow) {
        *st = KT_EINVAL;
        return NULL;
    }
    const char *values[KT_SQL_MAX_ARGS];
    char nums[KT_SQL_MAX_ARGS][24];
    kt_sql_values(q, values, nums);
    return kt_pg_query(s, q->text, q->nargs, values, st);
}

kt_status kt_pg_sql_count(kt_store *s, const char *count_sql, const kt_sql *w, int64_t *total)
{
    kt_sql count;
    kt_sql_from(&count, count_sql, w);
    kt_status st;
    *total = 0;
    PGresult *res = kt_pg_sql_query(s, &count, &st);
    if (!res)
        return st;
    *total = kt_pg_get_i64(res, 0, 0);
    PQclear(res);
    return KT_OK;
}

kt_status kt_pg_executions_search(kt_store *s, const kt_exec_query *q, json_t **results, int64_t *total)
{
    kt_sql w;
    char scratch[512];
    kt_sql_init(&w, kt_sql_postgres.style);
    kt_sql_exec_where(&w, &kt_sql_postgres, q, scratch, sizeof scratch);
    kt_sql sel;
    kt_sql_from(&sel, "SELECT body, id FROM executions", &w);
    kt_sql_add(&sel, " ORDER BY ");
    if (kt_pg_order_term(&sel, q->sort_column ? q->sort_column : "start_us", q->sort_desc, 1) ||
        kt_pg_order_term(&sel, "id", q->sort_desc, 0))
        return KT_EINVAL;
    kt_sql_page(&sel, q->page, q->size);
    kt_status st = kt_pg_sql_count(s, "SELECT COUNT(*) FROM executions", &w, total);
    if (st)
        return st;
    PGresult *res = kt_pg_sql_query(s, &sel, &st);
    if (!res)
        return st;
    json_t *list = json_array();
    for (int r = 0, n = PQntuples(res); list && r < n; r++) {
        json_t *ex;
        if (kt_pg_exec_row(s, res, r, &ex) == KT_OK) {
            json_array_append_new(list, ex);
        } else if (kt_pg_lost(s)) { /* a page with holes would pass for the whole answer */
            json_decref(list);
            PQclear(res);
            return KT_EDB;
        }
    }
    PQclear(res);
    if (!list)
        return KT_ENOMEM;
    *results = list;
    return KT_OK;
}

/* ---- trigger rows -------------------------------------------------------------------------------- */

kt_status kt_pg_triggers_search(kt_store *s, const kt_trigger_query *q, json_t **results, int64_t *total)
{
    kt_sql w;
    char scratch[512];
    kt_sql_init(&w, kt_sql_postgres.style);
    kt_sql_trigger_where(&w, &kt_sql_postgres, q, scratch, sizeof scratch);
    kt_sql sel;
    kt_sql_from(&sel, "SELECT body FROM triggers", &w);
    kt_sql_add(&sel, " ORDER BY ");
    /* an unknown field keeps the default order; the key after the sort column makes the order total, so pages never
     * overlap */
    const char *column = kt_store_trigger_sort_column(q->sort_column);
    int desc = column && q->sort_desc, lead = 1;
    if (column && !kt_pg_order_term(&sel, column, desc, lead))
        lead = 0;
    if (kt_pg_order_term(&sel, "namespace", desc, lead) || kt_pg_order_term(&sel, "flow_id", desc, 0) ||
        kt_pg_order_term(&sel, "trigger_id", desc, 0))
        return KT_EINVAL;
    kt_sql_page(&sel, q->page, q->size);
    kt_status st = kt_pg_sql_count(s, "SELECT COUNT(*) FROM triggers", &w, total);
    if (st)
        return st;
    PGresult *res = kt_pg_sql_query(s, &sel, &st);
    if (!res)
        return st;
    st = kt_pg_rows_json(res, 0, results);
    PQclear(res);
    return st;
}

/* ---- flow sources -------------------------------------------------------------------------------- */

kt_status kt_pg_flows_source_search(kt_store *s, const char *ns_prefix, const char *const *words, size_t n,
                                    json_t **rows)
{
    kt_sql sql;
    char scratch[512];
    *rows = NULL;
    kt_sql_init(&sql, kt_sql_postgres.style);
    /* pg_exec.c's kt_pg_flows_latest, filtered by the words */
    kt_sql_add(&sql, "SELECT f.namespace, f.id, f.revision, f.source, f.dialect FROM flows f WHERE f.deleted = 0 AND "
                     "f.revision = "
                     "(SELECT MAX(revision) FROM flows g WHERE g.namespace = f.namespace AND g.id = f.id)");
    if (ns_prefix)
        kt_sql_ns_under(&sql, &kt_sql_postgres, "f.namespace", ns_prefix, scratch, sizeof scratch);
    kt_sql_flow_source_where(&sql, &kt_sql_postgres, words, n);
    kt_sql_add(&sql, " ORDER BY f.namespace COLLATE \"C\", f.id COLLATE \"C\"");
    kt_status st;
    PGresult *res = kt_pg_sql_query(s, &sql, &st);
    if (!res)
        return st;
    json_t *out = json_array();
    for (int r = 0, nr = PQntuples(res); out && r < nr; r++)
        json_array_append_new(out, json_pack("{s:s, s:s, s:i, s:s, s:s}", "namespace", PQgetvalue(res, r, 0), "id",
                                             PQgetvalue(res, r, 1), "revision", (int)kt_pg_get_i64(res, r, 2),
                                             "source", PQgetvalue(res, r, 3), "dialect",
                                             kt_store_dialect_text(PQgetvalue(res, r, 4))));
    PQclear(res);
    *rows = out;
    return out ? KT_OK : KT_ENOMEM;
}
