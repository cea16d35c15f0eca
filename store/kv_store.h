/* Kestra's KV store (InternalKVStore) on the internal storage: one file per entry, `kestra:///<ns>/_kv/<key>.ion`,
 * holding the value's Ion text (expr/kv.h), with the TTL's `expirationDate` in the file's metadata. Asynchronous on
 * the storage's loop; shared by the kv.* tasks (worker) and the KV routes (web). Prefix kt_kvs.
 *
 * Every call checks the key first (Kestra's rule and message: KT_EINVAL with err, the callback never runs) and the
 * namespace (a valid storage path). Callbacks run once, later, on the loop, like the storage's. "now" is the caller's
 * clock reading (microseconds): an entry whose expirationDate is before it has expired. */
#ifndef KT_STORE_KV_STORE_H
#define KT_STORE_KV_STORE_H

#include <jansson.h>
#include <stdint.h>

#include "base/status.h"
#include "expr/kv.h"
#include "store/storage.h"

/* Largest value a get reads (an entry is a small value, not a file). */
#define KT_KVS_VALUE_MAX (16u * 1024 * 1024)

/* Kestra's message for an expired entry (ResourceExpiredException). */
#define KT_KVS_EXPIRED "The requested value has expired"

/* get: st KT_OK with the value (borrowed for the callback; JSON null for an Ion null) and its type, KT_ENOTFOUND when
 * there is no entry, KT_ECONFLICT with err = KT_KVS_EXPIRED when it has expired (the entry is deleted first, as
 * Kestra does, by kt_storage_delete_if: a value put under the key after this read is not deleted), another status
 * with err on a storage failure. */
typedef void (*kt_kvs_get_cb)(kt_status st, const json_t *value, kt_kv_type type, const char *err, void *data);
kt_status kt_kvs_get(kt_storage *s, const char *ns, const char *key, int64_t now_us, kt_kvs_get_cb cb, void *data,
                     char *err, size_t errcap);

/* put: writes the Ion text ion[0..len) with metadata (NULL: none; an object of strings, copied). overwrite == 0 and a
 * live entry under the key: KT_ECONFLICT with Kestra's message. */
kt_status kt_kvs_put(kt_storage *s, const char *ns, const char *key, const char *ion, size_t len, const json_t *meta,
                     int overwrite, int64_t now_us, kt_storage_done_cb cb, void *data, char *err, size_t errcap);

/* delete: deleted = 1 when an entry was there (expired or not), 0 when not (KT_OK both ways). */
typedef void (*kt_kvs_delete_cb)(kt_status st, int deleted, const char *err, void *data);
kt_status kt_kvs_delete(kt_storage *s, const char *ns, const char *key, kt_kvs_delete_cb cb, void *data, char *err,
                        size_t errcap);

/* list: the live entries, sorted by key (KVEntry: key, creationDate, updateDate, expirationDate). */
typedef struct kt_kvs_entry {
    char *key;
    int64_t created_ms, updated_ms;
    int has_expiration;
    int64_t expires_us;
} kt_kvs_entry;
typedef void (*kt_kvs_list_cb)(kt_status st, const kt_kvs_entry *entries, size_t n, const char *err, void *data);
kt_status kt_kvs_list(kt_storage *s, const char *ns, int64_t now_us, kt_kvs_list_cb cb, void *data, char *err,
                      size_t errcap);

/* kt_kvs_list with the expired entries as well (what kv.PurgeKV looks through). */
kt_status kt_kvs_list_all(kt_storage *s, const char *ns, int64_t now_us, kt_kvs_list_cb cb, void *data, char *err,
                          size_t errcap);

/* The entry's URI (checked): 0, or -1 with err (the key's message, or why the namespace is not a storage path). */
int kt_kvs_uri(const char *ns, const char *key, char *out, size_t cap, char *err, size_t errcap);

#endif
