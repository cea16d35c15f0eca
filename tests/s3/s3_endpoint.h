/* Where the S3 tests find the server tests/s3/start.sh started (one rule for the unit and integration tests):
 * KITE_TEST_S3_ENDPOINT, else the first line of the file the script writes (KITE_S3_ENDPOINT_FILE, set by CMake).
 * Without a server the S3 tests skip (77) when the script said so (DIR/skipped: KITE_TEST_NO_S3=1, or s3rver could
 * not be installed on a machine that does not require S3) and fail otherwise. */
#ifndef KT_TEST_S3_ENDPOINT_H
#define KT_TEST_S3_ENDPOINT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 0 with the endpoint in out, 77 to skip (the reason printed), 1 when the server is missing (said on stderr). */
static inline int kt_test_s3_endpoint(char *out, size_t cap)
{
    const char *env = getenv("KITE_TEST_S3_ENDPOINT");
    out[0] = 0;
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return 0;
    }
    FILE *fp = fopen(KITE_S3_ENDPOINT_FILE, "r");
    if (fp && fgets(out, (int)cap, fp))
        out[strcspn(out, "\r\n")] = 0;
    if (fp)
        fclose(fp);
    if (out[0])
        return 0;
    char skipped[1024], why[512] = "";
    snprintf(skipped, sizeof skipped, "%s", KITE_S3_ENDPOINT_FILE);
    char *slash = strrchr(skipped, '/');
    snprintf(slash ? slash + 1 : skipped, sizeof skipped - (size_t)(slash ? slash + 1 - skipped : 0), "skipped");
    fp = fopen(skipped, "r");
    if (fp) {
        if (!fgets(why, sizeof why, fp))
            why[0] = 0;
        fclose(fp);
        why[strcspn(why, "\r\n")] = 0;
        printf("no S3 server, the S3 variant is skipped: %s\n", why);
        return 77;
    }
    fprintf(stderr, "no S3 server: tests/s3/start.sh did not write %s\n", KITE_S3_ENDPOINT_FILE);
    return 1;
}

#endif
