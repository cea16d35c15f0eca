/* The text searches served by the full-text indexes (docs/store-async-design.md §3; SQLite: FTS5 trigram tables,
 * PostgreSQL: pg_trgm GIN indexes): the log search's `q` and the flow source search give the scan's answers exactly (a
 * table of queries: case, unicode, LIKE's wildcards, quotes, 1-2 characters, empty), the plans use the indexes, a
 * database of the previous schema gets its rows indexed, and the log search's namespace filter follows Kestra's rule.
 * Every test runs with the log index (store.log-index) on and off, and switching it on an existing database builds or
 * drops it with the answers unchanged. Runs on both backends (store_fixture.h). */
#include "store_fixture.h"

#include <libpq-fe.h>
#include <strings.h>

#include "base/json.h"
#include "store/sql_build.h"
#include "store/sqlite_int.h" /* kt_sqlite_log_match: the plan's statement as the store builds it */

/* The tests' store.log-index, set by their setup (the fixture opens every store with it). */
static int log_index_on(void) { return fixture_options.log_index == KT_LOG_INDEX_ON; }

/* ---- probes: the scan the search replaced, and the plans ----------------------------------------------------------- */

#define SEP "\x1f" /* between the messages of an answer: none of them holds it */

/* The messages of the lines whose message holds q by the scan alone (no index in the statement): the old search. */
static char *scan_messages(const fixture *f, const char *q)
{
    kt_buf b = {0};
    kt_buf_puts(&b, "");
    if (fixture_on_pg()) {
        PGconn *c = PQconnectdb(f->data);
        const char *v[] = {q};
        PGresult *r = PQexecParams(c, "SELECT body::json->>'message' FROM logs WHERE strpos(body::json->>'message', $1)"
                                      " > 0 ORDER BY timestamp_us, seq", 1, NULL, v, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            fail_msg("scan: %s", PQerrorMessage(c));
        for (int i = 0; i < PQntuples(r); i++) {
            kt_buf_puts(&b, i ? SEP : "");
            kt_buf_puts(&b, PQgetvalue(r, i, 0));
        }
        PQclear(r);
        PQfinish(c);
        return kt_buf_take(&b);
    }
    char path[1300];
    snprintf(path, sizeof path, "%s/kite.db", f->data);
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT json_extract(body, '$.message') FROM logs WHERE "
                                            "instr(json_extract(body, '$.message'), ?) > 0 ORDER BY timestamp_us, seq",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
    for (int i = 0; sqlite3_step(st) == SQLITE_ROW; i++) {
        kt_buf_puts(&b, i ? SEP : "");
        kt_buf_puts(&b, (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return kt_buf_take(&b);
}

/* The plan of a statement of store/sql_build.h on the test's database, every line of it in one text. On PostgreSQL
 * with sequential scans discouraged: a table of a few rows is scanned whatever its indexes, and the question is
 * whether the statement can use one. */
static char *plan_of(const fixture *f, const kt_sql *q)
{
    kt_buf b = {0};
    kt_buf_puts(&b, "");
    assert_false(q->overflow);
    if (fixture_on_pg()) {
        PGconn *c = PQconnectdb(f->data);
        PQclear(PQexec(c, "SET enable_seqscan = off"));
        const char *values[KT_SQL_MAX_ARGS];
        char nums[KT_SQL_MAX_ARGS][24];
        kt_sql_values(q, values, nums);
        char sql[sizeof q->text + 16];
        snprintf(sql, sizeof sql, "EXPLAIN %s", q->text);
        PGresult *r = PQexecParams(c, sql, q->nargs, NULL, values, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            fail_msg("%s: %s", sql, PQerrorMessage(c));
        for (int i = 0; i < PQntuples(r); i++) {
            kt_buf_puts(&b, PQgetvalue(r, i, 0));
            kt_buf_puts(&b, "\n");
        }
        PQclear(r);
        PQfinish(c);
        return kt_buf_take(&b);
    }
    char path[1300], sql[sizeof q->text + 32];
    snprintf(path, sizeof path, "%s/kite.db", f->data);
    snprintf(sql, sizeof sql, "EXPLAIN QUERY PLAN %s", q->text);
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    for (int i = 0; i < q->nargs; i++) {
        if (q->args[i].is_int)
            sqlite3_bind_int64(st, i + 1, q->args[i].i);
        else
            sqlite3_bind_text(st, i + 1, q->args[i].s, -1, SQLITE_STATIC);
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        kt_buf_puts(&b, (const char *)sqlite3_column_text(st, 3));
        kt_buf_puts(&b, "\n");
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return kt_buf_take(&b);
}

/* The plan of the log search's page statement for q, built as the store builds it. */
static char *log_search_plan(const fixture *f, const kt_log_query *q)
{
    const kt_sql_dialect *d = fixture_on_pg() ? &kt_sql_postgres : &kt_sql_sqlite;
    kt_sql w, sel;
    char scratch[512], match[640];
    const char *indexed = NULL;
    if (log_index_on() && q->q && kt_sql_indexable(q->q))
        indexed = fixture_on_pg() ? q->q : kt_sqlite_log_match(q->q, match, sizeof match) ? NULL : match;
    kt_sql_init(&w, d->style);
    kt_sql_log_where(&w, d, q, 0, indexed, scratch, sizeof scratch);
    kt_sql_from(&sel, kt_sql_log_joins(q) ? "SELECT l.body FROM logs l JOIN executions e ON e.id = l.execution_id"
                                          : "SELECT l.body FROM logs l",
                &w);
    kt_sql_add(&sel, " ORDER BY l.timestamp_us, l.seq");
    kt_sql_page(&sel, 1, 10);
    return plan_of(f, &sel);
}

/* SQLite: FTS5's own check that an index agrees with its content row for row (SQLITE_OK, or the failure's code). */
static int fts_integrity(const fixture *f, const char *table)
{
    char path[1300], sql[160];
    snprintf(path, sizeof path, "%s/kite.db", f->data);
    snprintf(sql, sizeof sql, "INSERT INTO %s(%s, rank) VALUES('integrity-check', 1)", table, table);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        print_message("%s: %s\n", sql, msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(db);
    return rc;
}

/* Whether the database has the flow source index (PostgreSQL without pg_trgm has not: the searches then scan). */
static int has_flow_index(const fixture *f)
{
    if (!fixture_on_pg())
        return sql_int(f->data, "SELECT count(*) FROM sqlite_master WHERE name = 'flows_fts'") == 1;
    return sql_int(f->data, "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND "
                            "indexname = 'flows_source_trgm'") == 1;
}

/* The log index's objects in the database: SQLite's table and its triggers (3 when on: the table and the delete and
 * update triggers, the lines being indexed by the append), PostgreSQL's index. */
static long long log_index_objects(const fixture *f)
{
    if (!fixture_on_pg())
        return sql_int(f->data, "SELECT count(*) FROM sqlite_master WHERE name IN ('logs_fts', 'logs_fts_insert', "
                                "'logs_fts_delete', 'logs_fts_update')");
    return sql_int(f->data, "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND "
                            "indexname = 'logs_message_trgm'");
}

/* Whether the database has the text indexes this test's setting asks for: the flow source index, and the log index
 * exactly when store.log-index is on (PostgreSQL without pg_trgm has neither: the searches then scan). */
static int has_text_indexes(const fixture *f)
{
    return has_flow_index(f) && log_index_objects(f) == (log_index_on() ? (fixture_on_pg() ? 1 : 3) : 0);
}

/* The name the plan shows when the log search uses its index. */
static const char *log_index_name(void) { return fixture_on_pg() ? "logs_message_trgm" : "logs_fts"; }

/* ---- the log search ------------------------------------------------------------------------------------------------ */

/* One line per message, a second apart in this order; index 4 has no message at all. */
static const char *const messages[] = {
    "Hello World",
    "hello world",
    "HELLO",
    "50% done",
    NULL,
    "100%",
    "a_b_c",
    "a-b-c",
    "it's \"quoted\"",
    "na\xc3\xafve caf\xc3\xa9",             /* naïve café */
    "CAF\xc3\x89 au lait",                  /* CAFÉ */
    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\xad\xe3\x82\xb0", /* 日本語のログ */
    "tab\there",
    "back\\slash",
    "",
    "xy",
    "\xc3\xa9",                             /* é */
    "under_score%percent",
    "a OR b NEAR(c) ^d* \"e",               /* FTS5's query syntax, as text */
    "emoji \xf0\x9f\x9a\x80 rocket",        /* 🚀 */
};

static void append_messages(kt_store *s, const char *execution_id, int from, int to)
{
    json_t *lines = json_array();
    for (int i = from; i < to; i++) {
        char ts[40];
        snprintf(ts, sizeof ts, "2024-01-01T00:%02d:%02dZ", i / 60, i % 60);
        json_t *e = json_pack("{s:s, s:s, s:s}", "executionId", execution_id, "level", "INFO", "timestamp", ts);
        if (messages[i % (int)(sizeof messages / sizeof *messages)])
            json_object_set_new(e, "message", json_string(messages[i % (int)(sizeof messages / sizeof *messages)]));
        json_array_append_new(lines, e);
    }
    assert_int_equal(kt_store_logs_append(s, lines), KT_OK);
    json_decref(lines);
}

/* The store's answer to the search for q, messages joined with SEP; its total must be the answer's length. */
static char *search_messages(kt_store *s, const char *q)
{
    json_t *res = NULL;
    int64_t total = -1;
    kt_status st = kt_store_logs_search(s, &(kt_log_query){.q = q, .size = 1000}, &res, &total);
    if (st)
        fail_msg("logs_search(%s): %d", q, st);
    assert_int_equal(total, (int64_t)json_array_size(res));
    kt_buf b = {0};
    kt_buf_puts(&b, "");
    size_t i;
    json_t *e;
    json_array_foreach(res, i, e) {
        kt_buf_puts(&b, i ? SEP : "");
        kt_buf_puts(&b, json_string_value(json_object_get(e, "message")));
    }
    json_decref(res);
    return kt_buf_take(&b);
}

/* The reference: the messages holding q, byte for byte (strstr), in line order. */
static char *reference_messages(const char *q, int lines)
{
    kt_buf b = {0};
    kt_buf_puts(&b, "");
    int n = 0;
    for (int i = 0; i < lines; i++) {
        const char *m = messages[i % (int)(sizeof messages / sizeof *messages)];
        if (m && strstr(m, q)) {
            kt_buf_puts(&b, n++ ? SEP : "");
            kt_buf_puts(&b, m);
        }
    }
    return kt_buf_take(&b);
}

static const char *const queries[] = {
    "Hello", "hello", "HELLO", "llo W", "lo", "o", "%", "50%", "0%", "_", "a_b", "_b_", "a-b", "'", "\"quoted\"", "\"",
    "it's", "caf\xc3\xa9", "CAF\xc3\x89", "caf", "\xe6\x97\xa5\xe6\x9c\xac", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
    "\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\xad", "\xc3\xa9", "\xc3\xaf" "ve", "xy", "x", "", "\\", "\\sl", "ck\\s", "\t",
    "b\there", "zzz", "NEAR(c)", "OR b", "^d*", "* \"e", "%perc", "e%p", "score%", "\xf0\x9f\x9a\x80", "\xf0\x9f\x9a\x80 r",
    "done", "d", "ORLD", "orld",
};

static void check_queries(const fixture *f, int lines)
{
    for (size_t i = 0; i < sizeof queries / sizeof *queries; i++) {
        char *got = search_messages(f->s, queries[i]);
        char *scan = scan_messages(f, queries[i]);
        char *want = reference_messages(queries[i], lines);
        if (strcmp(got, scan) || strcmp(got, want))
            fail_msg("q [%s]: the search gave [%s], the scan [%s], the reference [%s]", queries[i], got, scan, want);
        free(got);
        free(scan);
        free(want);
    }
}

static void test_log_search_answers_as_the_scan(void **state)
{
    fixture *f = *state;
    const int lines = 2 * (int)(sizeof messages / sizeof *messages);
    append_messages(f->s, "ex1", 0, lines);
    check_queries(f, lines);
    /* deleted lines leave the index with them */
    int64_t n = 0;
    assert_int_equal(kt_store_logs_delete(f->s, "ex1", NULL, &n), KT_OK);
    assert_int_equal(n, lines);
    char *got = search_messages(f->s, "Hello");
    assert_string_equal(got, "");
    free(got);
    append_messages(f->s, "ex2", 0, lines / 2);
    check_queries(f, lines / 2);
    if (!fixture_on_pg() && log_index_on()) /* the external-content index agrees with its content, row for row */
        assert_int_equal(fts_integrity(f, "logs_fts"), SQLITE_OK);
}

static void test_log_search_uses_the_index(void **state)
{
    fixture *f = *state;
    if (!has_text_indexes(f)) {
        print_message("no text index here (PostgreSQL without pg_trgm): the plans are not checked\n");
        return;
    }
    append_messages(f->s, "ex1", 0, 20);
    if (!log_index_on()) { /* nothing of it left to use */
        assert_int_equal(log_index_objects(f), 0);
        return;
    }
    static const struct {
        const char *q;
        int indexed;
    } cases[] = {
        {"Hello", 1}, {"llo W", 1}, {"caf\xc3\xa9", 1}, {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 1}, {"50%", 1},
        {"lo", 0},    {"x", 0},     {"", 0},            {"\xc3\xa9", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *plan = log_search_plan(f, &(kt_log_query){.q = cases[i].q});
        if ((strstr(plan, log_index_name()) == NULL) == cases[i].indexed)
            fail_msg("q [%s]: the plan %s %s:\n%s", cases[i].q, cases[i].indexed ? "does not use" : "uses",
                     log_index_name(), plan);
        free(plan);
    }
    /* with the execution's row joined too, on SQLite (on PostgreSQL a join or a time range may rather start from
     * another index: the planner's choice, by cost) */
    if (fixture_on_pg())
        return;
    char *plan = log_search_plan(f, &(kt_log_query){.q = "World", .namespace_ = "company", .flow_id = "f"});
    if (!strstr(plan, log_index_name()))
        fail_msg("the filtered search does not use %s:\n%s", log_index_name(), plan);
    free(plan);
}

/* SQLite's MATCH expression for a value (kt_sqlite_log_match): the trigrams at characters 0, 3, 6... and the last one,
 * characters and not bytes, double quotes doubled, at most 48 characters; none for a value under 3 characters. */
static void test_log_match_expression(void **state)
{
    (void)state;
    static const struct {
        const char *v, *want;
    } cases[] = {
        {"abc", "\"abc\""},
        {"abcd", "\"abc\" AND \"bcd\""},
        {"abcdef", "\"abc\" AND \"def\""},
        {"abcdefgh", "\"abc\" AND \"def\" AND \"fgh\""},
        {"a\"b", "\"a\"\"b\""},
        {"caf\xc3\xa9s", "\"caf\" AND \"f\xc3\xa9s\""}, /* cafés: 5 characters */
        {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "\"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\""},
        {"it's", "\"it'\" AND \"t's\""},
    };
    char out[640];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal(kt_sqlite_log_match(cases[i].v, out, sizeof out), 0);
        assert_string_equal(out, cases[i].want);
    }
    assert_int_equal(kt_sqlite_log_match("ab", out, sizeof out), -1);
    /* 100 characters: the first 48 (16 trigrams) */
    char v[101];
    for (int i = 0; i < 100; i++)
        v[i] = (char)('a' + i % 26);
    v[100] = 0;
    assert_int_equal(kt_sqlite_log_match(v, out, sizeof out), 0);
    size_t terms = 1;
    for (const char *p = out; (p = strstr(p, " AND ")); p++)
        terms++;
    assert_int_equal(terms, 16);
    assert_non_null(strstr(out, "\"tuv\""));  /* characters 45-47 */
    assert_null(strstr(out, "\"wxy\""));      /* character 48 on: left to instr */
    assert_int_equal(kt_sqlite_log_match(v, out, 20), -1); /* too small a buffer */
}

/* Kestra's AbstractJdbcLogRepository: namespace = ns OR namespace likeIgnoreCase ns + ".%", as the executions' search
 * (kt_sql_ns_under): the namespace itself exactly, those under it ignoring ASCII case. */
static void test_log_search_namespace_rule(void **state)
{
    fixture *f = *state;
    static const char *const ns[][2] = {
        {"e1", "company"}, {"e2", "company.team"}, {"e3", "Company.Team.sub"}, {"e4", "companyx"}, {"e5", "Company"},
        {"e6", "company_team.x"},
    };
    json_t *lines = json_array();
    for (size_t i = 0; i < sizeof ns / sizeof *ns; i++) {
        json_t *ex = json_pack("{s:s, s:s, s:s, s:{s:s, s:[{s:s, s:s}]}}", "id", ns[i][0], "namespace", ns[i][1],
                               "flowId", "f", "state", "current", "SUCCESS", "histories", "state", "SUCCESS", "date",
                               "2024-01-01T00:00:00Z");
        assert_int_equal(kt_store_execution_put(f->s, ex, NULL, 0), KT_OK);
        json_decref(ex);
        char ts[40];
        snprintf(ts, sizeof ts, "2024-01-01T00:00:%02zuZ", i);
        json_array_append_new(lines, json_pack("{s:s, s:s, s:s, s:s}", "executionId", ns[i][0], "level", "INFO",
                                               "timestamp", ts, "message", ns[i][1]));
    }
    assert_int_equal(kt_store_logs_append(f->s, lines), KT_OK);
    json_decref(lines);
    static const struct {
        const char *ns, *want; /* in time order: e1's line first */
    } cases[] = {
        {"company", "e1,e2,e3"},     {"Company", "e2,e3,e5"},  {"COMPANY", "e2,e3"},
        {"company.team", "e2,e3"},   {"COMPANY.TEAM", "e3"},   {"Company.Team", "e3"},
        {"company.team.sub", ""},    {"company_team", "e6"},   {"company%", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *res = NULL;
        int64_t total = -1;
        assert_int_equal(kt_store_logs_search(f->s, &(kt_log_query){.namespace_ = cases[i].ns}, &res, &total), KT_OK);
        char got[128] = "";
        size_t k;
        json_t *e;
        json_array_foreach(res, k, e) {
            strcat(got, k ? "," : "");
            strcat(got, json_string_value(json_object_get(e, "executionId")));
        }
        if (strcmp(got, cases[i].want) || total != (int64_t)json_array_size(res))
            fail_msg("namespace [%s]: [%s] of %lld, want [%s]", cases[i].ns, got, (long long)total, cases[i].want);
        json_decref(res);
    }
}

/* ---- the flow source search ---------------------------------------------------------------------------------------- */

static const char *const sources[][3] = {
    {"company", "alpha", "id: alpha\nnamespace: company\ntasks:\n  - id: hello\n    type: io.kestra.Log\n    message: Hello World\n"},
    {"company.team", "beta", "id: beta\ndescription: 50% of the caf\xc3\xa9 CAF\xc3\x89\ntasks: []\n"},
    {"company.team", "gamma", "id: gamma\nlabel: a_b \"quoted\" it's\ntasks: []\n"},
    {"other", "delta", "id: delta\nmessage: HELLO world back\\slash\ntasks: []\n"},
    {"Company.x", "eps", "id: eps\nnote: \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\ntasks: []\n"},
};

/* The reference: ASCII case ignored (the web's strncasecmp before this), every word held. */
static int holds_all(const char *text, const char *const *words, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        size_t len = strlen(words[k]);
        int found = len == 0;
        for (const char *t = text; !found && *t; t++)
            found = !strncasecmp(t, words[k], len);
        if (!found)
            return 0;
    }
    return 1;
}

static char *flow_ids(const json_t *rows)
{
    kt_buf b = {0};
    kt_buf_puts(&b, "");
    size_t i;
    json_t *e;
    json_array_foreach(rows, i, e) {
        kt_buf_puts(&b, i ? "," : "");
        kt_buf_puts(&b, json_string_value(json_object_get(e, "id")));
    }
    return kt_buf_take(&b);
}

static void test_flow_source_search(void **state)
{
    fixture *f = *state;
    int rev, changed;
    for (size_t i = 0; i < sizeof sources / sizeof *sources; i++)
        assert_int_equal(kt_store_flow_save(f->s, sources[i][0], sources[i][1], sources[i][2], &rev, &changed), KT_OK);
    /* an older revision's text is not searched: only the latest */
    assert_int_equal(kt_store_flow_save(f->s, "other", "delta", "id: delta\nmessage: HELLO world back\\slash\n"
                                                                "tasks: []\nextra: zebra\n", &rev, &changed), KT_OK);
    assert_int_equal(kt_store_flow_save(f->s, "other", "zeta", "id: zeta\nold: obsolete\n", &rev, &changed), KT_OK);
    assert_int_equal(kt_store_flow_save(f->s, "other", "zeta", "id: zeta\nnew: current\n", &rev, &changed), KT_OK);
    static const char *const word_sets[][3] = {
        {"hello", NULL}, {"HELLO", "world", NULL}, {"Hello", "back", NULL}, {"caf\xc3\xa9", NULL},
        {"CAF\xc3\x89", NULL}, {"caf", NULL}, {"50%", NULL}, {"%", NULL}, {"a_b", NULL}, {"_", NULL},
        {"\"quoted\"", NULL}, {"'", NULL}, {"\\sl", NULL}, {"\xe6\x97\xa5\xe6\x9c\xac", NULL}, {"id", NULL},
        {"ID", "tasks", NULL}, {"zebra", NULL}, {"obsolete", NULL}, {"current", NULL}, {"", NULL}, {"nope", NULL},
        {"io.kestra.log", NULL}, {"a", "b", NULL}, {NULL},
    };
    static const char *const prefixes[] = {NULL, "company", "COMPANY", "other"};
    json_t *all = NULL;
    assert_int_equal(kt_store_flows_latest(f->s, NULL, NULL, &all), KT_OK);
    for (size_t p = 0; p < sizeof prefixes / sizeof *prefixes; p++) {
        json_t *under = NULL;
        assert_int_equal(kt_store_flows_latest(f->s, prefixes[p], NULL, &under), KT_OK);
        for (size_t i = 0; i < sizeof word_sets / sizeof *word_sets; i++) {
            size_t n = 0;
            while (n < 3 && word_sets[i][n])
                n++;
            json_t *rows = NULL;
            assert_int_equal(kt_store_flows_source_search(f->s, prefixes[p], word_sets[i], n, &rows), KT_OK);
            json_t *want = json_array();
            size_t k;
            json_t *row;
            json_array_foreach(under, k, row)
                if (holds_all(json_string_value(json_object_get(row, "source")), word_sets[i], n))
                    json_array_append(want, row);
            if (!json_equal(rows, want)) {
                char *g = flow_ids(rows), *w = flow_ids(want);
                fail_msg("under [%s] words [%s, %s]: [%s], want [%s]", prefixes[p] ? prefixes[p] : "-",
                         n ? word_sets[i][0] : "-", n > 1 ? word_sets[i][1] : "-", g, w);
            }
            json_decref(rows);
            json_decref(want);
        }
        json_decref(under);
    }
    json_decref(all);
    if (!has_text_indexes(f))
        return;
    /* the plan: the index for a word of 3 characters or more; on SQLite the scan for a shorter one (on PostgreSQL
     * the ILIKE is both the rule and the index's test: the planner picks) */
    const kt_sql_dialect *d = fixture_on_pg() ? &kt_sql_postgres : &kt_sql_sqlite;
    const char *index = fixture_on_pg() ? "flows_source_trgm" : "flows_fts";
    static const char *const one[] = {"hello"}, *const two[] = {"id"};
    for (int k = 0; k < (fixture_on_pg() ? 1 : 2); k++) {
        kt_sql q;
        kt_sql_init(&q, d->style);
        kt_sql_add(&q, "SELECT f.id FROM flows f WHERE f.deleted = 0");
        kt_sql_flow_source_where(&q, d, k ? two : one, 1);
        char *plan = plan_of(f, &q);
        if ((strstr(plan, index) == NULL) != k)
            fail_msg("word [%s]: the plan %s %s:\n%s", k ? two[0] : one[0], k ? "uses" : "does not use", index, plan);
        free(plan);
    }
}

/* ---- an upgrade: a database of the previous schema, rows in it, gets them indexed -------------------------------- */

static void test_upgrade_indexes_existing_rows(void **state)
{
    fixture *f = *state;
    append_messages(f->s, "ex1", 0, 20);
    int rev, changed;
    for (size_t i = 0; i < sizeof sources / sizeof *sources; i++)
        assert_int_equal(kt_store_flow_save(f->s, sources[i][0], sources[i][1], sources[i][2], &rev, &changed), KT_OK);
    kt_store_close(f->s);
    f->s = NULL;
    /* back to the schema before the indexes: what migration 8 (SQLite) or 3 (PostgreSQL) added is dropped, with the
     * index data, and the version is the one before it (the later migrations run again: they are re-runnable, but
     * for SQLite's flows.dialect column, dropped here too); the rows stay */
    if (fixture_on_pg()) {
        char err[256];
        if (kt_test_pg_exec(f->data, "DROP INDEX IF EXISTS logs_message_trgm; DROP INDEX IF EXISTS flows_source_trgm;"
                                     "UPDATE kite_schema SET version = 2", err, sizeof err))
            fail_msg("%s", err);
    } else {
        char path[1300];
        snprintf(path, sizeof path, "%s/kite.db", f->data);
        sqlite3 *db;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        char sql[512];
        snprintf(sql, sizeof sql, "DROP TRIGGER IF EXISTS logs_fts_insert; DROP TRIGGER IF EXISTS logs_fts_delete; "
                                  "DROP TRIGGER IF EXISTS logs_fts_update; DROP TABLE IF EXISTS logs_fts; "
                                  "DROP VIEW logs_text; DROP TRIGGER "
                                  "flows_fts_insert; DROP TRIGGER flows_fts_delete; DROP TRIGGER flows_fts_update; "
                                  "DROP TABLE flows_fts; ALTER TABLE flows DROP COLUMN dialect; PRAGMA user_version = %d",
                 sqlite3_column_int(st, 0) >= 8 ? 7 : sqlite3_column_int(st, 0) - 1);
        sqlite3_finalize(st);
        char *msg = NULL;
        if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
            fail_msg("%s: %s", sql, msg);
        sqlite3_close(db);
    }
    assert_false(has_flow_index(f));
    assert_int_equal(log_index_objects(f), 0);
    open_store(f);
    if (!has_text_indexes(f)) {
        assert_true(fixture_on_pg()); /* SQLite always has FTS5 */
        print_message("no pg_trgm here: the upgrade made no index, the searches scan\n");
    }
    check_queries(f, 20);
    static const char *const hello[] = {"hello"};
    json_t *rows = NULL;
    assert_int_equal(kt_store_flows_source_search(f->s, NULL, hello, 1, &rows), KT_OK);
    char *ids = flow_ids(rows);
    assert_string_equal(ids, "alpha,delta");
    free(ids);
    json_decref(rows);
    if (!fixture_on_pg()) {
        if (log_index_on()) {
            assert_int_equal(sql_int(f->data, "SELECT count(*) FROM logs_fts WHERE logs_fts MATCH '\"ell\"'"), 2);
            assert_int_equal(fts_integrity(f, "logs_fts"), SQLITE_OK);
        }
        assert_int_equal(fts_integrity(f, "flows_fts"), SQLITE_OK);
    }
    /* the lines written after the upgrade are indexed with their append */
    append_messages(f->s, "ex2", 20, 40);
    check_queries(f, 40);
}

/* ---- store.log-index switched on an existing database ------------------------------------------------------------ */

/* The next open drops the log index (off) or builds it over the lines already there (on), its triggers with it; the
 * answers stay the scan's before, after, and for lines written since; deletions follow the index that is there. */
static void test_log_index_switch(void **state)
{
    fixture *f = *state;
    if (!has_flow_index(f)) {
        print_message("no pg_trgm here: there is no index to switch, the searches scan\n");
        return;
    }
    append_messages(f->s, "ex1", 0, 20);
    check_queries(f, 20);
    for (int round = 0; round < 3; round++) {
        const int lines = 20 * (round + 1);
        fixture_options.log_index = log_index_on() ? KT_LOG_INDEX_OFF : KT_LOG_INDEX_ON;
        reopen(f);
        assert_true(has_text_indexes(f));
        check_queries(f, lines);
        if (!fixture_on_pg() && log_index_on()) {
            /* every line there before the switch is in the index: 'rebuild' read them all */
            assert_int_equal(fts_integrity(f, "logs_fts"), SQLITE_OK);
            assert_int_equal(sql_int(f->data, "SELECT count(*) FROM logs_fts WHERE logs_fts MATCH '\"ell\"'"),
                             sql_int(f->data, "SELECT count(*) FROM logs WHERE instr(json_extract(body, '$.message'), "
                                              "'ell') > 0"));
        }
        append_messages(f->s, "ex1", lines, lines + 20);
        check_queries(f, lines + 20);
    }
    /* an open with the setting unchanged leaves the index as it is */
    reopen(f);
    assert_true(has_text_indexes(f));
    int64_t n = 0;
    assert_int_equal(kt_store_logs_delete(f->s, "ex1", NULL, &n), KT_OK);
    assert_int_equal(n, 80);
    check_queries(f, 0);
    if (!fixture_on_pg() && log_index_on())
        assert_int_equal(fts_integrity(f, "logs_fts"), SQLITE_OK);
}

/* A store URL's ?log_index=on|off wins over the option (store.log-index); another value is refused. */
static void test_log_index_in_url(void **state)
{
    fixture *f = *state;
    if (!has_flow_index(f)) {
        print_message("no pg_trgm here: there is no index to switch, the searches scan\n");
        return;
    }
    append_messages(f->s, "ex1", 0, 20);
    kt_store_close(f->s);
    f->s = NULL;
    const int was_on = log_index_on();
    char url[1400], err[512] = "";
    const char *sep = strchr(f->data, '?') ? "&" : "?";
    snprintf(url, sizeof url, "%s%s%slog_index=%s", fixture_on_pg() ? "" : "sqlite://", f->data, sep,
             was_on ? "off" : "on");
    assert_int_equal(kt_store_open(url, &fixture_options, &f->s, err, sizeof err), KT_OK);
    fixture_options.log_index = was_on ? KT_LOG_INDEX_OFF : KT_LOG_INDEX_ON; /* what has_text_indexes expects */
    assert_true(has_text_indexes(f));
    check_queries(f, 20);
    kt_store_close(f->s);
    f->s = NULL;
    snprintf(url, sizeof url, "%s%s%slog_index=maybe", fixture_on_pg() ? "" : "sqlite://", f->data, sep);
    assert_int_equal(kt_store_open(url, &fixture_options, &f->s, err, sizeof err), KT_EINVAL);
    assert_null(f->s);
    assert_string_equal(err, "log_index: on or off");
    open_store(f);
}

/* The setups: the same tests with the log index on and off. */
static int setup_on(void **state)
{
    fixture_options.log_index = KT_LOG_INDEX_ON;
    return setup(state);
}

static int setup_off(void **state)
{
    fixture_options.log_index = KT_LOG_INDEX_OFF;
    return setup(state);
}

#define BOTH(t)                                                                                                     \
    {#t " (log index on)", t, setup_on, teardown, NULL}, {#t " (log index off)", t, setup_off, teardown, NULL}

int main(void)
{
    int rc = fixture_backend();
    if (rc)
        return rc;
    const struct CMUnitTest tests[] = {
        BOTH(test_log_search_answers_as_the_scan), BOTH(test_log_search_uses_the_index),
        BOTH(test_log_search_namespace_rule),      BOTH(test_flow_source_search),
        BOTH(test_upgrade_indexes_existing_rows),  BOTH(test_log_index_switch),
        BOTH(test_log_index_in_url),
        cmocka_unit_test(test_log_match_expression),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
