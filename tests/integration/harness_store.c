/* The store under the integration tests' servers (harness.h): SQLite in each server's data folder, or, with
 * KITE_TEST_STORE=pg (CMake's integration/..._pg registrations; by hand for any other test) or KITE_TEST_STORE_URL,
 * PostgreSQL: every kite a test folder starts gets KITE_STORE_URL naming a schema of that folder's own (made on its
 * first server start, kept across restarts in the folder, dropped with the folder by kt_it_rmdir). */
#include "harness.h"
#include "../pg/pg_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int kt_it_on_pg(void) { return kt_test_store_on_pg(); }

int kt_it_pg_check(void) { return kt_test_store_check(); }

/* The schema of a test folder: kt_it_ and the hex of its name's random part (/tmp/kite-it-XXXXXX), lower case
 * whatever mkdtemp picked, so two folders never share one. */
static void schema_of(const char *dir, char *out, size_t cap)
{
    const char *b = strrchr(dir, '/');
    b = b ? b + 1 : dir;
    if (!strncmp(b, "kite-it-", 8))
        b += 8;
    size_t n = (size_t)snprintf(out, cap, "kt_it_");
    for (; *b && n + 3 < cap && n < 60; b++)
        n += (size_t)snprintf(out + n, cap - n, "%02x", (unsigned char)*b);
}

void kt_it_store_env(const char *dir)
{
    if (!kt_it_on_pg()) {
        /* a developer's own setting must not move the SQLite runs; a test passes its own as KITE_IT_STORE_URL */
        const char *own = getenv("KITE_IT_STORE_URL");
        if (own)
            setenv("KITE_STORE_URL", own, 1);
        else
            unsetenv("KITE_STORE_URL");
        return;
    }
    char schema[64], url[1300], err[512];
    schema_of(dir, schema, sizeof schema);
    if (kt_test_pg_schema_create(kt_test_store_base, schema, url, sizeof url, err, sizeof err)) {
        fprintf(stderr, "harness: no schema for the server on PostgreSQL: %s\n", err); /* into the server's log */
        _exit(127);
    }
    setenv("KITE_STORE_URL", url, 1);
}

void kt_it_store_drop(const char *dir)
{
    if (!kt_it_on_pg())
        return;
    char schema[64], err[512];
    schema_of(dir, schema, sizeof schema);
    if (kt_test_pg_schema_drop(kt_test_store_base, schema, err, sizeof err))
        fprintf(stderr, "harness: %s\n", err);
}
