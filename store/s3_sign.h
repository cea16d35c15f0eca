/* AWS Signature Version 4 for the S3 backend (store/storage_s3*.c): hashes, URI encoding as SigV4 wants it, and
 * the Authorization header over a canonical request. Pure functions (no clock, no I/O): the caller gives the date,
 * so AWS's published test vectors check them byte for byte (tests/unit/store/test_s3_sign.c). Prefix kt_s3sig. */
#ifndef KT_STORE_S3_SIGN_H
#define KT_STORE_S3_SIGN_H

#include <stddef.h>

#include "base/json.h"
#include "base/status.h"

/* SHA-256 of data as 64 lowercase hex digits (+ NUL). */
void kt_s3sig_sha256_hex(const void *data, size_t len, char out[65]);

/* Appends s percent-encoded as SigV4's UriEncode: every byte but A-Z a-z 0-9 - _ . ~ becomes %XX (upper case);
 * '/' is kept when keep_slash (an object key in a path), encoded otherwise (a query value). */
void kt_s3sig_uri_encode(kt_buf *b, const char *s, int keep_slash);

/* One header to sign: name in lower case, value as sent (the canonical form trims it). */
typedef struct kt_s3sig_header {
    const char *name;
    const char *value;
} kt_s3sig_header;

typedef struct kt_s3sig_request {
    const char *method;       /* "GET" */
    const char *canon_uri;    /* the path, already encoded ("/bucket/a%20b.txt") */
    const char *canon_query;  /* "k=v&k2=v2" encoded and sorted by key (kt_s3sig_query builds it), "" for none */
    const kt_s3sig_header *headers; /* host and x-amz-date at least; any order (sorted here) */
    size_t nheaders;
    const char *payload_hash; /* hex SHA-256 of the body, or "UNSIGNED-PAYLOAD" */
} kt_s3sig_request;

typedef struct kt_s3sig_key {
    const char *access_key;
    const char *secret_key;
    const char *region;  /* "us-east-1" */
    const char *service; /* "s3" */
} kt_s3sig_key;

/* Sorts "k=v" pairs (already encoded) by key then value and joins them with '&' into out (caller frees). */
char *kt_s3sig_query(char **pairs, size_t n);

/* The Authorization header's value for the request signed at amz_date ("20150830T123600Z"), into auth (malloc'd,
 * caller frees). canonical/to_sign (may be NULL) get the intermediate texts, for tests and for the error message a
 * SignatureDoesNotMatch deserves. KT_EINVAL for a malformed date or more than 64 headers. */
kt_status kt_s3sig_authorization(const kt_s3sig_key *key, const char *amz_date, const kt_s3sig_request *req,
                                 char **auth, char **canonical, char **to_sign);

#endif
