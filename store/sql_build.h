/* A search statement built from the filters a query was given (the backends' searches: sqlite_search.c,
 * pg_search.c, pg_logs.c): the text grows fragment by fragment, every value goes to the argument list, never into the
 * text. Fragments are the caller's fixed SQL with '?' where a value goes; the builder writes each one as its
 * backend's placeholder (SQLite: ?, PostgreSQL: $n), so a fragment must not hold a '?' of its own. */
#ifndef KT_STORE_SQL_BUILD_H
#define KT_STORE_SQL_BUILD_H

#include <stddef.h>
#include <stdint.h>

#define KT_SQL_MAX_ARGS 128 /* the web passes at most 32 labels (64 values), a few states and the rest */

typedef enum {
    KT_SQL_QMARK,  /* ? (SQLite: bound in order) */
    KT_SQL_DOLLAR, /* $1, $2... (PostgreSQL) */
} kt_sql_style;

typedef struct kt_sql_arg {
    int is_int;
    const char *s; /* the caller's, kept alive until the statement ran */
    int64_t i;
} kt_sql_arg;

typedef struct kt_sql {
    kt_sql_style style;
    char text[8192]; /* 32 labels of PostgreSQL's longest fragment fit */
    size_t len;
    int placeholders; /* written so far: the next $n is placeholders + 1 */
    kt_sql_arg args[KT_SQL_MAX_ARGS];
    int nargs;
    int overflow; /* the text or the arguments did not fit: the statement is incomplete and must not run */
} kt_sql;

void kt_sql_init(kt_sql *q, kt_sql_style style);
/* Appends fragment, each '?' of it written as the next placeholder. */
void kt_sql_add(kt_sql *q, const char *fragment);
/* The value of the next placeholder, in the order the placeholders were written. */
void kt_sql_str(kt_sql *q, const char *v);
void kt_sql_int(kt_sql *q, int64_t v);
/* Starts q as head (no placeholders) followed by w's text and arguments: a statement on w's WHERE clause. */
void kt_sql_from(kt_sql *q, const char *head, const kt_sql *w);
/* The LIKE pattern (ESCAPE '\\') of what starts with prefix then '.', into out: the namespaces under a namespace. The
 * prefix's own %, _ and \\ match only themselves. 0, or -1 when out is too small (the caller refuses its query). */
int kt_sql_like_under(char *out, size_t cap, const char *prefix);
/* The arguments as text for a backend that takes every value as text (PostgreSQL): values[i] points at the string
 * or at nums[i], which holds the integer's decimal text. */
void kt_sql_values(const kt_sql *q, const char **values, char (*nums)[24]);

/* ---- the filters both backends' searches share: one builder, the backend's few words of SQL in a dialect ---- */
struct kt_exec_query;
struct kt_trigger_query;
struct kt_log_query;
typedef struct kt_sql_dialect {
    kt_sql_style style;
    const char *like;      /* the LIKE that folds ASCII case as SQLite's does (Kestra's likeIgnoreCase) */
    const char *contains;  /* printf format of "column %s holds the value ?" */
    const char *has_label; /* "the execution's labels hold {key: ?, value: ?}" */
    /* the log search, over logs l (joined to executions e when a filter needs the execution's row): */
    const char *log_message; /* the line's message as text */
    const char *log_trigger; /* the line's triggerId as text */
    /* " AND <the lines whose message may hold ?>" through the full-text index, ? being kt_sql_log_where's
     * index_value (given only when the store has the index, store.log-index, and q is kt_sql_indexable). It
     * narrows the candidates and the `contains` test on log_message decides, so the answers are the scan's whether
     * the index is there or not; unless log_indexed_is_rule: then the indexed test is exactly the substring test
     * (PostgreSQL's LIKE), and the second one would only evaluate the message again on every candidate. */
    const char *log_message_indexed;
    int log_indexed_is_rule;
    const char *int_cast; /* appended to an integer's placeholder ("" or "::bigint") */
    /* the flow source search, over flows f: " AND <f.source may hold ?>" through the index (kt_sql_indexable's
     * values only, "" when the next test is served by the index itself), and " AND <f.source holds ?, ignoring ASCII
     * case>" (the rule, both written with KT_SQL_LIKE_CONTAINS) */
    const char *flow_source_indexed;
    const char *flow_source_contains;
} kt_sql_dialect;
/* The LIKE pattern (with ESCAPE '\', PostgreSQL's default) of "holds ?": the value's %, _ and \ match only
 * themselves. The same SQL on both backends (neither reads a backslash in a string literal as an escape). */
#define KT_SQL_LIKE_CONTAINS "'%' || replace(replace(replace(?, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'"

extern const kt_sql_dialect kt_sql_sqlite; /* sqlite_search.c */
extern const kt_sql_dialect kt_sql_postgres; /* pg_search.c */
/* " AND (column = ns OR column LIKE 'ns.%')": the namespace or one under it; scratch holds the pattern until the
 * statement ran (too small: the statement is marked overflowed and refused). */
void kt_sql_ns_under(kt_sql *w, const kt_sql_dialect *d, const char *column, const char *ns, char *scratch,
                     size_t cap);
/* " AND (one of the columns holds v)", columns NULL-terminated. */
void kt_sql_contains_any(kt_sql *w, const kt_sql_dialect *d, const char *const *columns, const char *v);
/* Whether the full-text index can serve a substring search for v: at least 3 characters (the trigram indexes of both
 * backends hold nothing shorter; SQLite's FTS5 trigram matches no row for a shorter query) and valid UTF-8 (a
 * character is a code point there). Shorter or invalid values are searched by the scan alone. */
int kt_sql_indexable(const char *v);
/* " LIMIT size OFFSET (page - 1) * size", 1-based page, size 10 by default. */
void kt_sql_page(kt_sql *q, int page, int size);
/* The WHERE clause of GET /api/v1/executions/search and of /api/v1/triggers/search. */
void kt_sql_exec_where(kt_sql *w, const kt_sql_dialect *d, const struct kt_exec_query *q, char *scratch, size_t cap);
void kt_sql_trigger_where(kt_sql *w, const kt_sql_dialect *d, const struct kt_trigger_query *q, char *scratch,
                          size_t cap);
/* The WHERE clause of GET /api/v1/logs/search over logs l, joined to executions e when kt_sql_log_joins(q); min is
 * the minimum level's rank (0: any); index_value, when not NULL, is the value of d->log_message_indexed (the index
 * narrows, the substring test decides: NULL scans). q's `q` is a case-sensitive substring of the message (Kite's
 * rule, kept from the scan it was; Kestra's differs, docs/store-async-design.md §3); its namespace is the namespace
 * (exactly) or one under it ignoring ASCII case (Kestra's AbstractJdbcLogRepository, as the executions' search). */
void kt_sql_log_where(kt_sql *w, const kt_sql_dialect *d, const struct kt_log_query *q, int min,
                      const char *index_value, char *scratch, size_t cap);
/* " AND <f.source holds each of the n words, ignoring ASCII case>": kt_store_flows_source_search's filter. */
void kt_sql_flow_source_where(kt_sql *w, const kt_sql_dialect *d, const char *const *words, size_t n);
/* Whether the log search needs the execution's row (a namespace or flow filter). Without one the join is skipped, so
 * lines of purged executions still show. */
int kt_sql_log_joins(const struct kt_log_query *q);

#endif
