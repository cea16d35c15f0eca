/* What the S3 client puts on the wire is what it signed. A one-thread HTTP server on 127.0.0.1 records each request
 * as received; the test rebuilds the canonical request from those bytes alone (request line, the headers the
 * Authorization names, the body's hash) and signs it again: the signature must be the one sent. The SigV4 vectors
 * (test_s3_sign) check the signing itself; this checks the URL and header encoding around it, which s3rver (it
 * does not verify SigV4) cannot: keys with spaces, '+', '~' and UTF-8, queries, metadata values with runs of
 * spaces, a body. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "store/s3_req.h"
#include "store/s3_sign.h"

typedef struct server {
    int fd, port;
    pthread_t th;
    char req[65536]; /* the last request, headers and body */
    size_t len;
    int nreq;
} server;

/* Answers every request 200 with an empty body and closes the connection; keeps the last one. */
static void *serve(void *arg)
{
    server *sv = arg;
    for (;;) {
        int c = accept(sv->fd, NULL, NULL);
        if (c < 0)
            return NULL;
        size_t n = 0, want = 0;
        for (;;) {
            ssize_t r = read(c, sv->req + n, sizeof sv->req - 1 - n);
            if (r <= 0)
                break;
            n += (size_t)r;
            sv->req[n] = 0;
            char *end = strstr(sv->req, "\r\n\r\n");
            if (!end)
                continue;
            char *cl = strcasestr(sv->req, "\r\ncontent-length:");
            want = (size_t)(end + 4 - sv->req) + (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
            if (n >= want)
                break;
        }
        sv->len = n;
        sv->nreq++;
        static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        ssize_t w = write(c, ok, sizeof ok - 1);
        (void)w;
        close(c);
    }
}

static void server_start(server *sv)
{
    memset(sv, 0, sizeof *sv);
    sv->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(sv->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(sv->fd, 4), 0);
    socklen_t l = sizeof a;
    getsockname(sv->fd, (struct sockaddr *)&a, &l);
    sv->port = ntohs(a.sin_port);
    pthread_create(&sv->th, NULL, serve, sv);
}

static void server_stop(server *sv)
{
    shutdown(sv->fd, SHUT_RDWR);
    close(sv->fd);
    pthread_join(sv->th, NULL);
}

/* The value of header name (lower case) in the recorded request, copied. */
static char *header(const char *req, const char *name)
{
    const char *end = strstr(req, "\r\n\r\n");
    for (const char *l = strstr(req, "\r\n") + 2; l < end; l = strstr(l, "\r\n") + 2) {
        size_t k = strcspn(l, ":");
        if (k == strlen(name) && !strncasecmp(l, name, k)) {
            const char *v = l + k + 1;
            while (*v == ' ')
                v++;
            return strndup(v, strcspn(v, "\r"));
        }
    }
    return NULL;
}

/* Rebuilds the canonical request from the recorded bytes and checks the Authorization sent against it. */
static void verify(const server *sv, const char *secret)
{
    const char *req = sv->req;
    char method[16], target[4096];
    assert_int_equal(sscanf(req, "%15s %4095s HTTP/1.1", method, target), 2);
    char *q = strchr(target, '?');
    char query[4096] = "";
    if (q) {
        *q = 0;
        /* the pairs as sent, sorted (kt_s3sig_query sorts by key then value) */
        char *pairs[32], *save = NULL;
        size_t n = 0;
        for (char *p = strtok_r(q + 1, "&", &save); p && n < 32; p = strtok_r(NULL, "&", &save))
            pairs[n++] = strchr(p, '=') ? strdup(p) : (char *)NULL;
        for (size_t i = 0; i < n; i++)
            assert_non_null(pairs[i]); /* every parameter carries '=' (S3 signs "uploads=") */
        char *sorted = kt_s3sig_query(pairs, n);
        snprintf(query, sizeof query, "%s", sorted);
        free(sorted);
        for (size_t i = 0; i < n; i++)
            free(pairs[i]);
    }
    char *auth = header(req, "authorization");
    assert_non_null(auth);
    const char *sh = strstr(auth, "SignedHeaders=");
    assert_non_null(sh);
    char names[2048];
    snprintf(names, sizeof names, "%.*s", (int)strcspn(sh + 14, ","), sh + 14);
    kt_s3sig_header hs[40];
    char *vals[40];
    size_t nh = 0;
    char *save = NULL;
    for (char *nm = strtok_r(names, ";", &save); nm && nh < 40; nm = strtok_r(NULL, ";", &save)) {
        vals[nh] = header(req, nm);
        if (!vals[nh])
            fail_msg("signed header %s was not sent", nm);
        hs[nh] = (kt_s3sig_header){nm, vals[nh]};
        nh++;
    }
    /* the body received hashes to the payload hash sent */
    const char *body = strstr(req, "\r\n\r\n") + 4;
    char h[65];
    kt_s3sig_sha256_hex(body, sv->len - (size_t)(body - req), h);
    char *sent_hash = header(req, "x-amz-content-sha256");
    assert_string_equal(sent_hash, h);
    char *date = header(req, "x-amz-date");
    kt_s3sig_key key = {"AKID", secret, "eu-west-3", "s3"};
    kt_s3sig_request rq = {method, target, query, hs, nh, h};
    char *mine = NULL, *canon = NULL;
    assert_int_equal(kt_s3sig_authorization(&key, date, &rq, &mine, &canon, NULL), KT_OK);
    if (strcmp(mine, auth))
        fail_msg("signature differs from the request sent:\n%s\nsent: %s\nmine: %s", canon, auth, mine);
    free(mine);
    free(canon);
    free(auth);
    free(sent_hash);
    free(date);
    for (size_t i = 0; i < nh; i++)
        free(vals[i]);
}

static void test_wire_matches_signature(void **state)
{
    (void)state;
    server sv;
    server_start(&sv);
    char ep[64];
    snprintf(ep, sizeof ep, "http://127.0.0.1:%d", sv.port);
    kt_storage_s3_config c = {.endpoint = ep, .region = "eu-west-3", .bucket = "my.bucket", .access_key = "AKID",
                              .secret_key = "sk/+=", .prefix = "pre fix"};
    kt_s3 s;
    char err[256];
    assert_int_equal(kt_s3_init(&s, &c, err, sizeof err), KT_OK);
    char *key = kt_s3_key(&s, "dir/a b+c~ü(1).txt");

    /* a PUT of a part: a query, a body, a metadata value with inner spaces */
    char *q[2] = {kt_s3_qparam("uploadId", "x/y=z+1"), kt_s3_qparam("partNumber", "2")};
    const char *hdrs[2] = {"x-amz-meta-file_name:  a  b  ", "x-amz-meta-content_type:text/csv"};
    kt_s3_req put = {.method = "PUT", .key = key, .query = q, .nquery = 2, .headers = hdrs, .nheaders = 2,
                     .body = "hello, wire", .body_len = 11};
    kt_s3_resp rs;
    assert_int_equal(kt_s3_do(&s, &put, &rs, err, sizeof err), KT_OK);
    assert_int_equal(rs.status, 200);
    kt_s3_resp_clear(&rs);
    assert_non_null(strstr(sv.req, "PUT /my.bucket/pre%20fix/dir/a%20b%2Bc~%C3%BC%281%29.txt?"));
    verify(&sv, "sk/+=");

    /* a listing of the bucket: the key-less URL, an empty-valued parameter, a prefix with '/' and ' ' */
    char *lq[3] = {kt_s3_qparam("list-type", "2"), kt_s3_qparam("prefix", "pre fix/a b/"),
                   kt_s3_qparam("delimiter", "/")};
    kt_s3_req list = {.method = "GET", .query = lq, .nquery = 3};
    assert_int_equal(kt_s3_do(&s, &list, &rs, err, sizeof err), KT_OK);
    kt_s3_resp_clear(&rs);
    verify(&sv, "sk/+=");

    /* a HEAD with a range header, and a POST with "uploads=" */
    const char *range[1] = {"range:bytes=0-9"};
    kt_s3_req head = {.method = "HEAD", .key = key, .headers = range, .nheaders = 1};
    assert_int_equal(kt_s3_do(&s, &head, &rs, err, sizeof err), KT_OK);
    kt_s3_resp_clear(&rs);
    verify(&sv, "sk/+=");
    char *uq = kt_s3_qparam("uploads", "");
    kt_s3_req post = {.method = "POST", .key = key, .query = &uq, .nquery = 1};
    assert_int_equal(kt_s3_do(&s, &post, &rs, err, sizeof err), KT_OK);
    kt_s3_resp_clear(&rs);
    verify(&sv, "sk/+=");
    assert_int_equal(sv.nreq, 4);

    free(uq);
    for (int i = 0; i < 3; i++)
        free(lq[i]);
    free(q[0]);
    free(q[1]);
    free(key);
    kt_s3_clear(&s);
    server_stop(&sv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_matches_signature),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
