/* Kestra 1.x `taskCache: {enabled, ttl}` on a runnable task (Worker.java's hashTask / getCacheFile / putCacheFile,
 * 1.x and 2.0 alike): an attempt whose rendered task was seen before, within the ttl, is not sent to a worker; it ends
 * SUCCESS at once with the outputs the earlier one left ("Skipping task execution for task '<id>' as there is an
 * existing cache entry for it"). A SUCCESS or WARNING attempt of a cached task leaves its outputs for the next ones.
 *
 * The key, as Kestra's: the SHA-256 of the task's JSON once rendered (every property, taskCache included, so a
 * property rendered from inputs or outputs, or from now(), keys differently), under the flow (namespace, flowId: the
 * storage folder Kestra's cache file lives in) and the task run's value (a ForEach iteration: Kestra's objectId).
 * Kite renders in the executor before dispatch, so the lookup is there, before the job is sent, in the store's
 * task_cache table (store/task_cache.h) instead of a file of the internal storage. An expired entry (written more than
 * ttl ago; no ttl: never) is deleted when met. Prefix kt_task_cache. */
#ifndef KT_EXECUTOR_TASK_CACHE_H
#define KT_EXECUTOR_TASK_CACHE_H

#include <jansson.h>
#include <stdint.h>

#include "base/status.h"
#include "store/store.h"

/* Whether the rendered task asks for caching (taskCache.enabled true), and its ttl (-1: none) into *ttl_us. */
int kt_task_cache_enabled(const json_t *rendered, int64_t *ttl_us);
/* The entry's key: hex SHA-256 of the rendered task (keys sorted, compact) followed by the task run's value (NULL:
 * none). out: 65 bytes. */
void kt_task_cache_key(const json_t *rendered, const char *value, char out[65]);
/* KT_OK with *outputs (new reference) when the flow has a live entry under key at now_us; KT_ENOTFOUND when not (an
 * expired one is deleted); another status on a store failure. */
kt_status kt_task_cache_lookup(kt_store *s, const char *ns, const char *flow_id, const char *key, int64_t ttl_us,
                               int64_t now_us, json_t **outputs);
/* Stores the outputs of a finished attempt under key, written at now_us. */
kt_status kt_task_cache_store(kt_store *s, const char *ns, const char *flow_id, const char *key, const json_t *outputs,
                              int64_t now_us);

#endif
