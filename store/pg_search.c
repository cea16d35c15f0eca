/* Searches of the PostgreSQL store, the mirror of sqlite_search.c's: statements built from the filters given
 * (store/sql_build.h, $n placeholders), every value a parameter, never spliced. The answers are SQLite's, to the
 * order of the rows: text sorts by its bytes (COLLATE "C", SQLite's BINARY) whatever the database's collation, and
 * NULL sorts first ascending and last descending as in SQLite. */
#include "store/pg_int.h"
#include "store/sql_build.h"

#include <stdio.h>
#include <string.h>

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

/* column is the given namespace or one under it, the part under it ignoring ASCII case: SQLite's LIKE (Kestra's
 * likeIgnoreCase). ILIKE in the "C" collation folds ASCII letters only, as SQLite does. scratch holds the pattern
 * until the statement ran. */
static void kt_pg_ns_under(kt_sql *w, const char *column, const char *ns, char *scratch, size_t cap)
{
    char frag[160];
    snprintf(frag, sizeof frag, " AND (%s = ? OR %s COLLATE \"C\" ILIKE ? ESCAPE '\\')", column, column);
    kt_sql_add(w, frag);
    kt_sql_str(w, ns);
    kt_sql_str(w, scratch);
    if (kt_sql_like_under(scratch, cap, ns))
        w->overflow = 1;
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

static void kt_pg_page(kt_sql *sel, int page, int size)
{
    size = size > 0 ? size : 10;
    page = page > 0 ? page : 1;
    kt_sql_add(sel, " LIMIT ? OFFSET ?");
    kt_sql_int(sel, size);
    kt_sql_int(sel, (int64_t)(page - 1) * size);
}

static void kt_pg_exec_where(kt_sql *w, const kt_exec_query *q, char *scratch, size_t cap)
{
    kt_sql_add(w, " WHERE 1=1");
    if (q->namespace_)
        kt_pg_ns_under(w, "namespace", q->namespace_, scratch, cap);
    if (q->flow_id) {
        kt_sql_add(w, " AND flow_id = ?");
        kt_sql_str(w, q->flow_id);
    }
    if (q->nstates) {
        kt_sql_add(w, " AND state IN (");
        for (size_t i = 0; i < q->nstates; i++) {
            kt_sql_add(w, i ? ", ?" : "?");
            kt_sql_str(w, q->states[i]);
        }
        kt_sql_add(w, ")");
    }
    if (q->q) {
        kt_sql_add(w, " AND (strpos(id, ?) > 0 OR strpos(namespace, ?) > 0 OR strpos(flow_id, ?) > 0)");
        kt_sql_str(w, q->q);
        kt_sql_str(w, q->q);
        kt_sql_str(w, q->q);
    }
    if (q->start_from_us) {
        kt_sql_add(w, " AND start_us >= ?");
        kt_sql_int(w, q->start_from_us);
    }
    if (q->start_to_us) {
        kt_sql_add(w, " AND start_us <= ?");
        kt_sql_int(w, q->start_to_us);
    }
    for (size_t i = 0; i < q->nlabels; i++) {
        /* "key:value" was split by the caller into key and value at the first colon; labels is the execution's
         * [{key, value}] as JSON text: one of its objects has both (and perhaps more members) */
        kt_sql_add(w, " AND labels::jsonb @> jsonb_build_array(jsonb_build_object('key', ?::text, 'value', ?::text))");
        kt_sql_str(w, q->labels[2 * i]);
        kt_sql_str(w, q->labels[2 * i + 1]);
    }
}

kt_status kt_pg_executions_search(kt_store *s, const kt_exec_query *q, json_t **results, int64_t *total)
{
    kt_sql w;
    char scratch[512];
    kt_sql_init(&w, KT_SQL_DOLLAR);
    kt_pg_exec_where(&w, q, scratch, sizeof scratch);
    kt_sql sel;
    kt_sql_from(&sel, "SELECT body, id FROM executions", &w);
    kt_sql_add(&sel, " ORDER BY ");
    if (kt_pg_order_term(&sel, q->sort_column ? q->sort_column : "start_us", q->sort_desc, 1) ||
        kt_pg_order_term(&sel, "id", q->sort_desc, 0))
        return KT_EINVAL;
    kt_pg_page(&sel, q->page, q->size);
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

static void kt_pg_trigger_where(kt_sql *w, const kt_trigger_query *q, char *scratch, size_t cap)
{
    kt_sql_add(w, " WHERE 1=1");
    if (q->namespace_)
        kt_pg_ns_under(w, "namespace", q->namespace_, scratch, cap);
    if (q->flow_id) {
        kt_sql_add(w, " AND flow_id = ?");
        kt_sql_str(w, q->flow_id);
    }
    if (q->worker_id) {
        kt_sql_add(w, " AND worker_id = ?");
        kt_sql_str(w, q->worker_id);
    }
    if (q->q) {
        kt_sql_add(w, " AND (strpos(namespace, ?) > 0 OR strpos(flow_id, ?) > 0 OR strpos(trigger_id, ?) > 0)");
        kt_sql_str(w, q->q);
        kt_sql_str(w, q->q);
        kt_sql_str(w, q->q);
    }
}

kt_status kt_pg_triggers_search(kt_store *s, const kt_trigger_query *q, json_t **results, int64_t *total)
{
    kt_sql w;
    char scratch[512];
    kt_sql_init(&w, KT_SQL_DOLLAR);
    kt_pg_trigger_where(&w, q, scratch, sizeof scratch);
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
    kt_pg_page(&sel, q->page, q->size);
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
