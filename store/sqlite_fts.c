/* The log messages' full-text index of the SQLite store (store.log-index, docs/store-async-design.md §3): built or
 * dropped at open to match the setting, fed by the appends, and the MATCH expression of a search.
 *
 * Why it is shaped so (measured with kite-bench --only search, 100 000 lines appended 1 000 per transaction):
 *   - No insert trigger. FTS5's xSavepoint writes its pending terms out as a new segment, and every statement of a
 *     transaction opens a savepoint, so a trigger fed from one INSERT per line made one segment per line, then merged
 *     them all: 5-6x the plain append. The append (sqlite.c) instead indexes its lines with one INSERT ... SELECT
 *     after them, in the same transaction: one segment per append.
 *   - detail=none, columnsize=0: the index keeps which lines hold each trigram, no positions and no per-line sizes.
 *     A phrase query needs positions, so a search asks for the lines holding each of its trigrams
 *     (kt_sqlite_log_match), a superset of the lines holding the value; instr on the message still decides, as
 *     without the index.
 *   - External content over the view of the messages: nothing is stored twice, 'rebuild' indexes the lines already
 *     there when the setting is switched on, and FTS5's integrity-check can compare. Deletions (purges, rare) and
 *     updates (none today) keep triggers: one statement each. */
#include "store/sqlite_int.h"
#include "base/log.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#define KT_FTS_TABLE                                                                                                \
    "CREATE VIRTUAL TABLE logs_fts USING fts5(message, content='logs_text', content_rowid='seq', "                   \
    "tokenize='trigram case_sensitive 1', detail=none, columnsize=0)"
#define KT_FTS_DELETE                                                                                               \
    "CREATE TRIGGER logs_fts_delete AFTER DELETE ON logs BEGIN "                                                    \
    "INSERT INTO logs_fts(logs_fts, rowid, message) VALUES('delete', old.seq, json_extract(old.body, '$.message')); " \
    "END"
#define KT_FTS_UPDATE                                                                                               \
    "CREATE TRIGGER logs_fts_update AFTER UPDATE OF seq, body ON logs BEGIN "                                       \
    "INSERT INTO logs_fts(logs_fts, rowid, message) VALUES('delete', old.seq, json_extract(old.body, '$.message')); " \
    "INSERT INTO logs_fts(rowid, message) VALUES(new.seq, json_extract(new.body, '$.message')); END"

/* Migration 8's objects and these: what switching the index off removes, and on replaces when not exactly these.
 * automerge 16 (FTS5's default is 4) lets up to 16 segments of a level wait before they are merged into one of the
 * next: with a segment per append, that about halved the merging, and a search reads a few more segments (no
 * difference measured on 100 000 lines). */
static const char kt_fts_drop[] = "DROP TRIGGER IF EXISTS logs_fts_insert; DROP TRIGGER IF EXISTS logs_fts_delete; "
                                  "DROP TRIGGER IF EXISTS logs_fts_update; DROP TABLE IF EXISTS logs_fts;";
static const char kt_fts_create[] = "CREATE VIEW IF NOT EXISTS logs_text AS SELECT seq, "
                                    "json_extract(body, '$.message') AS message FROM logs;" KT_FTS_TABLE ";" KT_FTS_DELETE ";" KT_FTS_UPDATE ";"
                                    "INSERT INTO logs_fts(logs_fts, rank) VALUES('automerge', 16);"
                                    "INSERT INTO logs_fts(logs_fts) VALUES('rebuild');";

/* The first integer of sql's first row, its ?1..?n bound to the n texts; -1 when it fails. */
static int64_t kt_fts_int(sqlite3 *db, const char *sql, const char *const *texts, int n)
{
    sqlite3_stmt *st;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    for (int i = 0; i < n; i++)
        sqlite3_bind_text(st, i + 1, texts[i], -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* 1 when the database holds exactly the index wanted (on: this file's table and triggers and no other; off: none of
 * them), 0 when it must be rebuilt or dropped, -1 on error. */
static int kt_fts_state_is(sqlite3 *db, int on)
{
    static const char *const ddl[] = {KT_FTS_TABLE, KT_FTS_DELETE, KT_FTS_UPDATE};
    int64_t ours = kt_fts_int(db,
                              "SELECT count(*) FROM sqlite_master WHERE (name = 'logs_fts' AND sql = ?1) OR "
                              "(name = 'logs_fts_delete' AND sql = ?2) OR (name = 'logs_fts_update' AND sql = ?3)",
                              ddl, 3);
    int64_t any = kt_fts_int(db,
                             "SELECT count(*) FROM sqlite_master WHERE name IN ('logs_fts', 'logs_fts_insert', "
                             "'logs_fts_delete', 'logs_fts_update')",
                             NULL, 0);
    if (ours < 0 || any < 0)
        return -1;
    return on ? ours == 3 && any == 3 : any == 0;
}

int kt_sqlite_log_index_there(sqlite3 *db) { return kt_fts_state_is(db, 1); }

kt_status kt_sqlite_log_index_apply(sqlite3 *db, int on, char *err, size_t errcap)
{
    int ok = kt_fts_state_is(db, on);
    if (ok == 1)
        return KT_OK;
    /* the check again under the write lock: another process (a tool, a second open) may have done it meanwhile */
    if (ok < 0 || sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    if ((ok = kt_fts_state_is(db, on)) == 0) {
        int64_t lines = kt_fts_int(db, "SELECT count(*) FROM logs", NULL, 0);
        KT_INFO("store", "store.log-index %s: %s the log messages' full-text index (%lld lines)", on ? "on" : "off",
                on ? "building" : "dropping", (long long)lines);
        if (sqlite3_exec(db, kt_fts_drop, NULL, NULL, NULL) != SQLITE_OK ||
            (on && sqlite3_exec(db, kt_fts_create, NULL, NULL, NULL) != SQLITE_OK))
            ok = -1;
    }
    if (ok < 0 || sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    return KT_OK;
fail:
    snprintf(err, errcap, "cannot %s the log index (store.log-index): %s", on ? "build" : "drop", sqlite3_errmsg(db));
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return KT_EDB;
}

kt_status kt_sqlite_log_index_feed(kt_store *s, int64_t first_seq)
{
    static const char sql[] = "INSERT INTO logs_fts(rowid, message) SELECT seq, json_extract(body, '$.message') "
                              "FROM logs WHERE seq >= ?";
    sqlite3_stmt *st = kt_sqlite_prepared(s, sql);
    if (!st)
        return KT_EDB;
    sqlite3_bind_int64(st, 1, first_seq);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? KT_OK : KT_EDB;
}

/* The bytes of the UTF-8 character at c (kt_sql_indexable checked the value). */
static size_t kt_fts_char_len(const unsigned char *c) { return *c < 0x80 ? 1 : *c < 0xE0 ? 2 : *c < 0xF0 ? 3 : 4; }

int kt_sqlite_log_match(const char *v, char *out, size_t cap)
{
    /* the characters' offsets; a value longer than this is narrowed by its first KT_FTS_CHARS characters' trigrams
     * (the index only narrows: instr decides) */
    enum { KT_FTS_CHARS = 48 };
    size_t at[KT_FTS_CHARS + 1], n = 0, len = 0;
    for (const unsigned char *c = (const unsigned char *)v; *c && n < KT_FTS_CHARS; c += kt_fts_char_len(c))
        at[n++] = (size_t)((const char *)c - v);
    at[n] = n < KT_FTS_CHARS ? strlen(v) : at[n - 1] + kt_fts_char_len((const unsigned char *)v + at[n - 1]);
    if (n < 3)
        return -1;
    /* trigrams at characters 0, 3, 6... and the last one: each character of the value is in one of them */
    for (size_t i = 0;; i = i + 3 <= n - 3 ? i + 3 : n - 3) {
        if (len + 8 + 2 * (at[i + 3] - at[i]) >= cap)
            return -1;
        len += (size_t)snprintf(out + len, cap - len, "%s\"", len ? " AND " : "");
        for (size_t b = at[i]; b < at[i + 3]; b++) { /* a phrase's double quote is doubled */
            if (v[b] == '"')
                out[len++] = '"';
            out[len++] = v[b];
        }
        out[len++] = '"';
        out[len] = 0;
        if (i == n - 3)
            return 0;
    }
}
