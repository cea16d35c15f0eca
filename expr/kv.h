/* Kestra's KV store values (InternalKVStore, KVType, KVMetadata): the key rule, the Ion text an entry's file holds
 * (`kestra:///<namespace as path>/_kv/<key>.ion`) and its type as Kestra reads it back, and the `expirationDate`
 * metadata a TTL leaves beside it. Pure (no I/O, no clock: callers pass "now"). Shared by the kv() function
 * (expr/func_kv.c), the kv.* tasks on the worker and the KV routes. Prefix kt_kv.
 *
 * Types (KVType.from on the value Jackson's Ion mapper reads back): an Ion timestamp with a time is DATETIME
 * (shown as Instant.toString), one without is DATE, a string shaped like Kestra's DURATION_PATTERN (`PT5S`, `P1DT2H`,
 * no fraction, no sign) is DURATION, then STRING, NUMBER, BOOLEAN, and a struct or a list is JSON; null is STRING. */
#ifndef KT_EXPR_KV_H
#define KT_EXPR_KV_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/json.h"
#include "base/status.h"

typedef enum kt_kv_type {
    KT_KV_STRING,
    KT_KV_NUMBER,
    KT_KV_BOOLEAN,
    KT_KV_DATETIME,
    KT_KV_DATE,
    KT_KV_DURATION,
    KT_KV_JSON,
} kt_kv_type;

/* Kestra's messages (KVStore.validateKey). */
#define KT_KV_KEY_EMPTY "Key cannot be null or empty"
#define KT_KV_KEY_INVALID                                                                                             \
    "Key must start with an alphanumeric character (uppercase or lowercase) and can contain alphanumeric characters " \
    "(uppercase or lowercase), dots (.), underscores (_), and hyphens (-) only."
/* Longest key Kite stores: the file `<key>.ion` must be one storage segment. */
#define KT_KV_KEY_MAX 250

/* "STRING", "NUMBER"... */
const char *kt_kv_type_name(kt_kv_type t);
/* 0 and *t for one of the names above (exact, as Jackson reads the enum), -1 otherwise. */
int kt_kv_type_parse(const char *name, kt_kv_type *t);

/* `[a-zA-Z0-9][a-zA-Z0-9._-]*` (at most KT_KV_KEY_MAX bytes): KT_OK, or KT_EINVAL with Kestra's message in err. */
kt_status kt_kv_key_check(const char *key, char *err, size_t errcap);

/* The entry's URI `kestra:///<ns as path>/_kv/<key>.ion` (malloc'd), for a checked key; the layers above use
 * store/storage_uri.h kt_suri_kv, which checks each segment too. */
char *kt_kv_uri(const char *ns, const char *key);

/* What kv.Set stores: value (the rendered `value`) converted as Set does when kv_type is given (NULL: none) and the
 * value is a string — NUMBER parsed as a JSON number, BOOLEAN as Boolean.parseBoolean, DATETIME as an Instant,
 * DATE as an Instant or (Kite) a plain YYYY-MM-DD date, DURATION as an ISO duration (kept as its Duration.toString),
 * JSON as JSON — then written as Ion text to b. KT_EINVAL with why in err when the string does not parse. */
kt_status kt_kv_encode(kt_buf *b, const json_t *value, const char *kv_type, char *err, size_t errcap);

/* An entry's Ion text read back: its value as JSON (dates and durations as their ISO strings) and its type. NULL with
 * err when the text is not Ion. */
json_t *kt_kv_decode(const char *text, size_t len, kt_kv_type *type, char *err, size_t errcap);

/* What PUT /kv/{key} stores for a body (Kestra reads it with the Ion mapper, so `2021-09-01` is a DATE and `"PT5S"`
 * a DURATION): the Ion text to write to b. KT_EINVAL when the body is not one Ion value. */
kt_status kt_kv_from_text(kt_buf *b, const char *text, size_t len, char *err, size_t errcap);

/* The metadata a TTL gives an entry ({"expirationDate": Instant.toString(now + ttl)}); NULL for no TTL (ttl_us < 0
 * means none). */
json_t *kt_kv_metadata(int64_t now_us, int64_t ttl_us);
/* The entry's expiration (epoch microseconds) from its metadata: 1 and *us when it has one, 0 otherwise (absent or
 * unreadable: Kestra's Instant.parse would fail the read; Kite keeps the value). */
int kt_kv_expiration(const json_t *meta, int64_t *us);
/* 1 when an entry with this metadata has expired at now_us (Instant.now().isAfter(expirationDate)). */
int kt_kv_expired(const json_t *meta, int64_t now_us);

#endif
