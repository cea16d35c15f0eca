/* The scheduler unit tests' world (test_sch_*.c): one scheduler on a node, a real store holding the flows given
 * (namespace a.b): SQLite in a temporary directory, or, for a program run with KITE_TEST_STORE=pg (CMake's
 * KITE_STORE_SUITES, whose main calls kt_test_store_check), a PostgreSQL schema of its own (tests/pg/pg_schema.h), and an executor stand-in that takes every message and does
 * nothing, so a test drives the scheduler's functions itself. Each test file is its own program: static inline. */
#ifndef KT_TEST_SCH_WORLD_H
#define KT_TEST_SCH_WORLD_H

#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/pg/pg_schema.h"
#include "actors/names.h"
#include "actors/scheduler/scheduler_int.h"

typedef struct sch_world {
    char root[64];
    char where[1280]; /* the store: root (SQLite) or a schema's URL (PostgreSQL) */
    char schema[64];
    kt_store *st;
    uv_loop_t loop;
    kt_node *node;
    kt_scheduler *s;
} sch_world;

static inline int sch_rm_entry(const char *p, const struct stat *sb, int f, struct FTW *w)
{
    (void)sb, (void)f, (void)w;
    return remove(p);
}

static inline void sch_receive_nothing(kt_actor *a, const kt_msg *m) { (void)a, (void)m; }

/* flows: id, YAML, id, YAML..., NULL. The scheduler starts on them (their trigger rows written and armed), with
 * opts (NULL: the defaults). */
static inline void sch_world_start_with(sch_world *w, const char *const *flows, const kt_scheduler_options *opts)
{
    static const kt_actor_ops executor_ops = {.receive = sch_receive_nothing};
    memset(w, 0, sizeof *w);
    snprintf(w->root, sizeof w->root, "/tmp/kite-sch-XXXXXX");
    assert_non_null(mkdtemp(w->root));
    char err[256];
    assert_int_equal(kt_test_store_where(w->root, w->where, sizeof w->where, w->schema, sizeof w->schema), 0);
    assert_int_equal(kt_store_open(w->where, NULL, &w->st, err, sizeof err), KT_OK);
    for (size_t i = 0; flows[i]; i += 2) {
        int rev, changed;
        assert_int_equal(kt_store_flow_save(w->st, "a.b", flows[i], flows[i + 1], &rev, &changed), KT_OK);
    }
    uv_loop_init(&w->loop);
    kt_node_config cfg = {.node_id = "solo"};
    assert_int_equal(kt_node_new(&w->loop, &cfg, &w->node), KT_OK);
    assert_int_equal(kt_node_spawn(w->node, KT_EXECUTOR_ACTOR, &executor_ops, NULL, NULL), KT_OK);
    assert_int_equal(kt_scheduler_start(w->node, w->st, opts, &w->s), KT_OK);
}

static inline void sch_world_start(sch_world *w, const char *const *flows) { sch_world_start_with(w, flows, NULL); }

/* Stops the node (the loop must close); the store stays open for what the test checks after. */
static inline void sch_world_stop(sch_world *w)
{
    kt_node_stop(w->node);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&w->loop), 0);
    kt_node_free(w->node);
    w->node = NULL;
}

/* Closes the store and removes the directory (and the schema). */
static inline void sch_world_end(sch_world *w)
{
    kt_store_close(w->st);
    kt_test_store_drop(w->schema);
    nftw(w->root, sch_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static inline void sch_on_timeout(uv_timer_t *t) { uv_stop(t->loop); }

/* Runs the world's loop for ms. */
static inline void sch_run_ms(sch_world *w, int ms)
{
    uv_timer_t t;
    uv_timer_init(&w->loop, &t);
    uv_timer_start(&t, sch_on_timeout, (uint64_t)ms, 0);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&w->loop, UV_RUN_NOWAIT);
}

/* A store failing for a moment (SQLite only): through a connection of its own, every `event` (INSERT, UPDATE) on table is refused
 * (on) or accepted again (off). */
static inline void sch_store_refuse(const sch_world *w, const char *event, const char *table, int on)
{
    char path[128], sql[256];
    snprintf(path, sizeof path, "%s/kite.db", w->root);
    if (on)
        snprintf(sql, sizeof sql, "CREATE TRIGGER refuse BEFORE %s ON %s BEGIN SELECT RAISE(ABORT, 'refused'); END",
                 event, table);
    else
        snprintf(sql, sizeof sql, "DROP TRIGGER refuse");
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

#endif
