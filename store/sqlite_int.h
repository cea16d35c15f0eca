/* What the SQLite store's files share (sqlite.c owns the connection; sqlite_search.c, sqlite_triggers.c use it). */
#ifndef KT_STORE_SQLITE_INT_H
#define KT_STORE_SQLITE_INT_H

#include <jansson.h>
#include <sqlite3.h>

#include "store/store.h"

sqlite3 *kt_sqlite_db(kt_store *s);
kt_status kt_sqlite_exec_row(kt_store *s, sqlite3_stmt *row, json_t **out);
/* A statement of the store's cache, prepared on first use (sql is the caller's static text, compared by address). */
sqlite3_stmt *kt_sqlite_prepared(kt_store *s, const char *sql);
/* Steps st to its end, each row's column col parsed as JSON into a new array (*out); rows that do not parse are
 * skipped. KT_EDB when a step fails (*out NULL). The caller resets or finalizes st. */
kt_status kt_sqlite_rows_json(sqlite3_stmt *st, int col, json_t **out);

#endif
