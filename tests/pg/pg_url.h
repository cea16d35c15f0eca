/* Where the PostgreSQL tests find the server tests/pg/start.sh started (one rule for every test that needs it):
 * KITE_TEST_PG_URL, else the first line of the file the script writes (KITE_PG_URL_FILE, set by CMake). Without a
 * server the tests skip (77) when the script said so (DIR/skipped: KITE_TEST_NO_PG=1, or PostgreSQL is not
 * installed on a machine that does not require it) and fail otherwise. */
#ifndef KT_TEST_PG_URL_H
#define KT_TEST_PG_URL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 0 with the URL in out, 77 to skip (the reason printed), 1 when the server is missing (said on stderr). */
static inline int kt_test_pg_url(char *out, size_t cap)
{
    const char *env = getenv("KITE_TEST_PG_URL");
    out[0] = 0;
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return 0;
    }
    FILE *fp = fopen(KITE_PG_URL_FILE, "r");
    if (fp && fgets(out, (int)cap, fp))
        out[strcspn(out, "\r\n")] = 0;
    if (fp)
        fclose(fp);
    if (out[0])
        return 0;
    /* DIR/skipped beside DIR/url */
    char skipped[1024], why[512] = "";
    snprintf(skipped, sizeof skipped, "%s", KITE_PG_URL_FILE);
    char *slash = strrchr(skipped, '/');
    size_t at = slash ? (size_t)(slash + 1 - skipped) : 0;
    snprintf(skipped + at, sizeof skipped - at, "skipped");
    fp = fopen(skipped, "r");
    if (fp) {
        if (!fgets(why, sizeof why, fp))
            why[0] = 0;
        fclose(fp);
        why[strcspn(why, "\r\n")] = 0;
        printf("no PostgreSQL server, the PostgreSQL tests are skipped: %s\n", why);
        return 77;
    }
    fprintf(stderr, "no PostgreSQL server: tests/pg/start.sh did not write %s\n", KITE_PG_URL_FILE);
    return 1;
}

#endif
