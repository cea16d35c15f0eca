/* The integration tests' view of the internal storage, on either backend (harness.h): a test registered with
 * KITE_IT_STORAGE=s3 (CMakeLists.txt) runs its servers on the S3 server tests/s3/start.sh started, each test folder
 * under its own key prefix, and looks at what is stored through an S3 client instead of the data folder. */
#include "harness.h"
#include "../s3/s3_endpoint.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>

#include "store/s3_req.h"

#ifndef KITE_S3_ENDPOINT_FILE
#define KITE_S3_ENDPOINT_FILE ""
#endif

int kt_it_on_s3(void)
{
    const char *v = getenv("KITE_IT_STORAGE");
    return v && !strcmp(v, "s3");
}

static char s3_endpoint[256];
static int s3_found = -1; /* kt_test_s3_endpoint's answer, once */

const char *kt_it_s3_endpoint(void)
{
    if (s3_found < 0)
        s3_found = kt_test_s3_endpoint(s3_endpoint, sizeof s3_endpoint);
    return s3_found == 0 ? s3_endpoint : NULL;
}

int kt_it_s3_check(void)
{
    if (!kt_it_on_s3() || kt_it_s3_endpoint())
        return 0;
    return s3_found;
}

/* The key prefix of a test folder's servers: its name (/tmp/kite-it-XXXXXX -> kite-it-XXXXXX). */
static const char *prefix_of(const char *dir)
{
    const char *b = strrchr(dir, '/');
    return b ? b + 1 : dir;
}

void kt_it_storage_env(const char *dir)
{
    if (!kt_it_on_s3())
        return;
    const char *ep = kt_it_s3_endpoint();
    setenv("KITE_STORAGE_TYPE", "s3", 1);
    setenv("KITE_STORAGE_S3_ENDPOINT", ep ? ep : "http://127.0.0.1:1", 1);
    setenv("KITE_STORAGE_S3_BUCKET", "kite", 1);
    setenv("KITE_STORAGE_S3_ACCESS_KEY", "S3RVER", 1);
    setenv("KITE_STORAGE_S3_SECRET_KEY", "S3RVER", 1);
    setenv("KITE_STORAGE_S3_PREFIX", prefix_of(dir), 1);
}

static void client(const char *dir, kt_s3 *c)
{
    kt_storage_s3_config cfg = {.endpoint = kt_it_s3_endpoint(), .bucket = "kite", .access_key = "S3RVER",
                                .secret_key = "S3RVER", .prefix = prefix_of(dir)};
    char err[256];
    if (kt_s3_init(c, &cfg, err, sizeof err))
        fail_msg("S3 client: %s", err);
}

/* GET/HEAD of rel; the answer in rs (status 0 when none came). */
static void s3_get(const char *dir, const char *method, const char *rel, char **query, size_t nq, kt_s3_resp *rs)
{
    kt_s3 c;
    client(dir, &c);
    char *key = query ? NULL : kt_s3_key(&c, rel), err[512];
    kt_s3_req rq = {.method = method, .key = key, .query = query, .nquery = nq, .body_max = 16u << 20};
    if (kt_s3_do(&c, &rq, rs, err, sizeof err))
        fail_msg("S3: %s", err);
    free(key);
    kt_s3_clear(&c);
}

/* Keys under the folder rel ("" = the test's whole prefix): up to max of them counted. */
static int s3_count(const char *dir, const char *rel, int max)
{
    char pre[1024], maxs[16];
    snprintf(pre, sizeof pre, "%s/%s%s", prefix_of(dir), rel, rel[0] ? "/" : "");
    snprintf(maxs, sizeof maxs, "%d", max);
    char *q[3] = {kt_s3_qparam("list-type", "2"), kt_s3_qparam("prefix", pre), kt_s3_qparam("max-keys", maxs)};
    kt_s3_resp rs;
    s3_get(dir, "GET", "", q, 3, &rs);
    int n = 0;
    const char *p = rs.body.p, *end = rs.body.p + rs.body.len;
    for (char *k; p && (k = kt_s3_xml_next(&p, end, "Key")); n++)
        free(k);
    kt_s3_resp_clear(&rs);
    for (int i = 0; i < 3; i++)
        free(q[i]);
    return n;
}

int kt_it_stored_kind(const char *dir, const char *rel)
{
    if (!kt_it_on_s3()) {
        char p[1024];
        struct stat sb;
        snprintf(p, sizeof p, "%s/data/storage/%s", dir, rel);
        if (lstat(p, &sb))
            return 0;
        return S_ISDIR(sb.st_mode) ? 'd' : S_ISREG(sb.st_mode) ? 'f' : '?';
    }
    if (rel[0]) {
        kt_s3_resp rs;
        s3_get(dir, "HEAD", rel, NULL, 0, &rs);
        long st = rs.status;
        kt_s3_resp_clear(&rs);
        if (st == 200)
            return 'f';
    }
    return s3_count(dir, rel, 1) ? 'd' : 0;
}

char *kt_it_stored_read(const char *dir, const char *rel, size_t *len)
{
    if (!kt_it_on_s3()) {
        char p[1024];
        snprintf(p, sizeof p, "%s/data/storage/%s", dir, rel);
        FILE *fp = fopen(p, "rb");
        if (!fp)
            return NULL;
        kt_buf b = {0};
        char chunk[4096];
        for (size_t n; (n = fread(chunk, 1, sizeof chunk, fp)) > 0;)
            kt_buf_put(&b, chunk, n);
        fclose(fp);
        if (len)
            *len = b.len;
        return kt_buf_take(&b);
    }
    kt_s3_resp rs;
    s3_get(dir, "GET", rel, NULL, 0, &rs);
    char *out = NULL;
    if (rs.status == 200) {
        if (len)
            *len = rs.body.len;
        out = kt_buf_take(&rs.body);
    }
    kt_s3_resp_clear(&rs);
    return out;
}

static int nfiles;
static int count_file(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)p, (void)sb, (void)f;
    nfiles += flag == FTW_F;
    return 0;
}

int kt_it_stored_files(const char *dir, const char *rel)
{
    if (!kt_it_on_s3()) {
        char p[1024];
        snprintf(p, sizeof p, "%s/data/storage/%s", dir, rel);
        nfiles = 0;
        nftw(p, count_file, 8, FTW_PHYS);
        return nfiles;
    }
    char pre[1024];
    snprintf(pre, sizeof pre, "%s/%s/", prefix_of(dir), rel);
    char *q[2] = {kt_s3_qparam("list-type", "2"), kt_s3_qparam("prefix", pre)};
    kt_s3_resp rs;
    s3_get(dir, "GET", "", q, 2, &rs);
    int n = 0;
    const char *p = rs.body.p, *end = rs.body.p + rs.body.len;
    for (char *k; p && (k = kt_s3_xml_next(&p, end, "Key"));) {
        n += k[0] && k[strlen(k) - 1] != '/'; /* folder markers are not files */
        free(k);
    }
    kt_s3_resp_clear(&rs);
    free(q[0]);
    free(q[1]);
    return n;
}

int kt_it_stored_count(const char *dir)
{
    return kt_it_on_s3() ? s3_count(dir, "", 1000) : 0;
}
