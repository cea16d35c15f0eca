/* The task cache (Kestra 1.x `taskCache: {enabled, ttl}` on a runnable task): a finished attempt's outputs kept under
 * its flow and cache key, for a later attempt of the same key to reuse within the ttl. One table, task_cache
 * (namespace, flow_id, cache_key) -> outputs JSON and when it was written, on both backends (migrations: sqlite.c,
 * pg.c, whose DDL is below: re-runnable, as the migrations after the text indexes must be). Synchronous, outside or
 * inside the caller's transaction, like store.h's calls. Prefix kt_store_task_cache. */
#ifndef KT_STORE_TASK_CACHE_H
#define KT_STORE_TASK_CACHE_H

#include <jansson.h>
#include <stdint.h>

#include "base/status.h"
#include "store/store.h"

#define KT_TASK_CACHE_SQLITE_DDL                                                                                     \
    "CREATE TABLE IF NOT EXISTS task_cache(namespace TEXT NOT NULL, flow_id TEXT NOT NULL, "                      \
    "  cache_key TEXT NOT NULL, outputs TEXT NOT NULL, created_us INTEGER NOT NULL, "                                \
    "  PRIMARY KEY(namespace, flow_id, cache_key)) WITHOUT ROWID;"
#define KT_TASK_CACHE_PG_DDL                                                                                         \
    "CREATE TABLE IF NOT EXISTS task_cache(namespace text NOT NULL, flow_id text NOT NULL, "                      \
    "  cache_key text NOT NULL, outputs text NOT NULL, created_us bigint NOT NULL, "                                \
    "  PRIMARY KEY(namespace, flow_id, cache_key));"

/* The entry: *outputs (new reference) and when it was written; KT_ENOTFOUND when there is none. */
kt_status kt_store_task_cache_get(kt_store *s, const char *ns, const char *flow_id, const char *key, json_t **outputs,
                                  int64_t *created_us);
/* Writes (or replaces) the entry, written at now_us. outputs NULL is stored as {}. */
kt_status kt_store_task_cache_put(kt_store *s, const char *ns, const char *flow_id, const char *key,
                                  const json_t *outputs, int64_t now_us);
/* Removes the entry (an expired one); KT_OK whether it was there or not. */
kt_status kt_store_task_cache_delete(kt_store *s, const char *ns, const char *flow_id, const char *key);

#endif
