/* The S3 backend's HTTP layer: the client settings (endpoint, addressing style, credentials), URL building, one
 * signed request over a libcurl easy handle, the response's headers and body, and the little XML S3 answers with.
 * Requests block their thread: they run on libuv's thread pool (storage_s3*.c) or in kt_storage_read_small, never
 * on the loop thread. Prefix kt_s3. */
#ifndef KT_STORE_S3_REQ_H
#define KT_STORE_S3_REQ_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "base/json.h"
#include "base/status.h"
#include "store/storage.h"

typedef struct kt_s3 {
    char *origin;      /* "http://127.0.0.1:9000", "https://bucket.s3.eu-west-1.amazonaws.com" (virtual host) */
    char *host;        /* the Host header: origin without the scheme */
    char *bucket_path; /* "/bucket" (path style) or "" (virtual host) */
    char *bucket, *region, *access_key, *secret_key;
    char *prefix;      /* prepended to every key: "" or "kite/" (always ends with '/') */
    size_t part_size;
    int insecure_time; /* tests: a fixed signing date (never set by kt_s3_init) */
    pthread_mutex_t lock; /* the idle handles */
    void *idle[8];        /* CURL * kept for their connections (keep-alive between the requests of the pool) */
    size_t nidle;
} kt_s3;

/* Checks and copies the settings. Path style when c->force_path_style, or when the endpoint's host is an IP
 * address or "localhost" (a bucket cannot be a sub-domain of those); virtual host otherwise. KT_EINVAL with err
 * for a missing bucket, a bucket name that is not a DNS label in virtual-host style, or an endpoint that is not
 * http(s)://host[:port][/]. */
kt_status kt_s3_init(kt_s3 *s, const kt_storage_s3_config *c, char *err, size_t errcap);
void kt_s3_clear(kt_s3 *s);

/* The object key of a storage path ("a/b.txt" -> prefix + "a/b.txt"), malloc'd. */
char *kt_s3_key(const kt_s3 *s, const char *path);
/* The request's URL for key (NULL or "" for the bucket itself) and the encoded query (may be NULL), and the
 * canonical URI SigV4 signs (the same path). Both malloc'd. */
void kt_s3_url(const kt_s3 *s, const char *key, const char *query, char **url, char **canon_uri);

typedef struct kt_s3_req {
    const char *method;        /* GET, HEAD, PUT, POST, DELETE */
    const char *key;           /* full key (kt_s3_key) or NULL for the bucket */
    char **query;              /* encoded "k=v" pairs (kt_s3_qparam); sorted in place */
    size_t nquery;
    const char **headers;      /* extra headers, "name:value" with lower-case names; all signed */
    size_t nheaders;
    const void *body;          /* PUT/POST body, or NULL */
    size_t body_len;
    size_t body_max;           /* the response body kept (bytes); more is an error; 0 = 64 KiB */
    char *into;                /* a 2xx answer's body goes here (body_max bytes at most), not into rs->body: a
                                * reader's window, allocated once (error bodies still go to rs->body) */
} kt_s3_req;

typedef struct kt_s3_resp {
    long status;               /* HTTP status, 0 when no answer came */
    int64_t length;            /* Content-Length, -1 when absent */
    int64_t total;             /* the object's size from Content-Range, -1 when absent */
    int64_t modified_ms;       /* Last-Modified, 0 when absent */
    char etag[128];
    json_t *meta;              /* x-amz-meta-* as an object (names back in camelCase), NULL when none */
    kt_buf body;
    size_t got;                /* bytes written into req->into */
} kt_s3_resp;

/* The answer to a ranged GET of an empty object: 416 (S3), or a 206 announcing a byte of a 0-byte object (s3rver,
 * which then sends none: the request itself fails with a partial transfer). */
int kt_s3_empty_range(const kt_s3_resp *rs);

/* "k=v" with both sides encoded, malloc'd. */
char *kt_s3_qparam(const char *k, const char *v);

/* Runs one signed request, blocking. KT_OK whenever an HTTP answer came (whatever its status: see
 * kt_s3_status); KT_EIO with err when none did (connection refused, time-out, a body over body_max). rs is the
 * caller's to kt_s3_resp_clear. */
kt_status kt_s3_do(kt_s3 *s, const kt_s3_req *rq, kt_s3_resp *rs, char *err, size_t errcap);
void kt_s3_resp_clear(kt_s3_resp *rs);

/* Maps an answer to a status: 2xx KT_OK; 404 KT_ENOTFOUND; anything else KT_EIO with err naming the path, the
 * HTTP status and S3's error code and message ("kestra:///a.txt: S3 403 AccessDenied: ..."). what: the path. */
kt_status kt_s3_status(const kt_s3_resp *rs, const char *path, char *err, size_t errcap);

/* ---- the XML S3 answers with (flat enough to read without a parser) ---- */

/* Finds the next <tag>...</tag> in [*p, end); its text (entities decoded) into a malloc'd string, and *p after it.
 * NULL when there is none. */
char *kt_s3_xml_next(const char **p, const char *end, const char *tag);
/* Appends s with the five XML entities escaped. */
void kt_s3_xml_escape(kt_buf *b, const char *s);
/* "2009-10-12T17:50:30.000Z" -> epoch milliseconds, 0 when malformed. */
int64_t kt_s3_iso_ms(const char *s);

/* Metadata names: S3 lower-cases them, so, as Kestra's S3 storage (MetadataUtils), an upper-case letter is written
 * as '_' + its lower case (contentType -> content_type) and read back (content_type -> contentType). malloc'd. */
char *kt_s3_meta_name_out(const char *name);
char *kt_s3_meta_name_in(const char *name);

#endif
