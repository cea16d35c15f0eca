/* SigV4 (store/s3_sign.h): canonical request -> string to sign -> key derived from the secret through the date,
 * region and service -> HMAC-SHA256 signature. OpenSSL's libcrypto gives the hash and the HMAC. */
#include "store/s3_sign.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

static void hex(const unsigned char *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = 0;
}

void kt_s3sig_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(data, len, md);
    hex(md, sizeof md, out);
}

static void hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &n);
}

void kt_s3sig_uri_encode(kt_buf *b, const char *s, int keep_slash)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~' || (keep_slash && *p == '/'))
            kt_buf_putc(b, (char)*p);
        else
            kt_buf_printf(b, "%%%02X", *p);
    }
}

/* "k=v" pairs by key, then by value (comparing whole strings would put "a-b=1" before "a=1"). */
static int cmp_pair(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    size_t kx = strcspn(x, "="), ky = strcspn(y, "=");
    int c = strncmp(x, y, kx < ky ? kx : ky);
    if (c)
        return c;
    if (kx != ky)
        return kx < ky ? -1 : 1;
    return strcmp(x + kx, y + ky);
}

char *kt_s3sig_query(char **pairs, size_t n)
{
    if (n)
        qsort(pairs, n, sizeof *pairs, cmp_pair);
    kt_buf b = {0};
    for (size_t i = 0; i < n; i++) {
        if (i)
            kt_buf_putc(&b, '&');
        kt_buf_puts(&b, pairs[i]);
    }
    return kt_buf_take(&b);
}

static int cmp_header(const void *a, const void *b)
{
    return strcmp(((const kt_s3sig_header *)a)->name, ((const kt_s3sig_header *)b)->name);
}

/* The value trimmed, with inner runs of spaces folded to one (SigV4's Trimall). */
static void put_trimmed(kt_buf *b, const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    int space = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == ' ' || v[i] == '\t') {
            space = 1;
            continue;
        }
        if (space)
            kt_buf_putc(b, ' ');
        space = 0;
        kt_buf_putc(b, v[i]);
    }
}

kt_status kt_s3sig_authorization(const kt_s3sig_key *key, const char *amz_date, const kt_s3sig_request *req,
                                 char **auth, char **canonical, char **to_sign)
{
    if (!amz_date || strlen(amz_date) != 16 || amz_date[8] != 'T' || amz_date[15] != 'Z' || req->nheaders > 64)
        return KT_EINVAL;
    char day[9];
    memcpy(day, amz_date, 8);
    day[8] = 0;

    kt_s3sig_header hs[64];
    memcpy(hs, req->headers, req->nheaders * sizeof *hs);
    qsort(hs, req->nheaders, sizeof *hs, cmp_header);

    kt_buf cr = {0}, signed_h = {0};
    kt_buf_printf(&cr, "%s\n%s\n%s\n", req->method, req->canon_uri, req->canon_query ? req->canon_query : "");
    for (size_t i = 0; i < req->nheaders; i++) {
        kt_buf_printf(&cr, "%s:", hs[i].name);
        put_trimmed(&cr, hs[i].value);
        kt_buf_putc(&cr, '\n');
        if (i)
            kt_buf_putc(&signed_h, ';');
        kt_buf_puts(&signed_h, hs[i].name);
    }
    char *sh = kt_buf_take(&signed_h);
    kt_buf_printf(&cr, "\n%s\n%s", sh, req->payload_hash);
    char *creq = kt_buf_take(&cr);

    char creq_hash[65];
    kt_s3sig_sha256_hex(creq, strlen(creq), creq_hash);
    kt_buf ts = {0};
    kt_buf_printf(&ts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", amz_date, day, key->region, key->service,
                  creq_hash);
    char *sts = kt_buf_take(&ts);

    /* The signing key: the secret folded through the day, the region, the service and the terminator. */
    kt_buf k0 = {0};
    kt_buf_printf(&k0, "AWS4%s", key->secret_key);
    unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
    hmac(k0.p, k0.len, day, k1);
    hmac(k1, 32, key->region, k2);
    hmac(k2, 32, key->service, k3);
    hmac(k3, 32, "aws4_request", k4);
    hmac(k4, 32, sts, sig);
    memset(k0.p, 0, k0.len);
    free(kt_buf_take(&k0));
    char sighex[65];
    hex(sig, 32, sighex);

    kt_buf a = {0};
    kt_buf_printf(&a, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
                  key->access_key, day, key->region, key->service, sh, sighex);
    *auth = kt_buf_take(&a);
    free(sh);
    if (canonical)
        *canonical = creq;
    else
        free(creq);
    if (to_sign)
        *to_sign = sts;
    else
        free(sts);
    return KT_OK;
}
