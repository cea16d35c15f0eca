/* WorkingDirectory's `cache` {patterns, ttl} (KESTRA-model.md "WorkingDirectory"; Kestra's WorkingDirectory
 * pre/postExecuteTasks and InternalStorage.getCacheFile/putCacheFile): before the children run, the zip stored at
 * `kestra:///<ns as folders>/<slug(flowId)>/<slug(taskId)>/cache[/<murmur3_128(value)>]/cache.zip` is extracted into
 * the directory, unless it is older than `ttl` (then it is deleted); after them, when a file matching `patterns`
 * was modified since (or there was no cache), the matching files are zipped and stored there. Zipping and extracting
 * run on the thread pool. Private to the worker. Prefix kt_wdcache. */
#ifndef KT_WORKER_WD_CACHE_H
#define KT_WORKER_WD_CACHE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "actors/worker/task.h"

typedef struct kt_wdcache_op kt_wdcache_op;

/* The end of a restore or a save, called once: ok 0 once the reason was logged (a restore's failure fails the task,
 * as Kestra's preExecuteTasks; a save's is only logged). restored_ms: for a restore, the moment the files were in
 * place (0: nothing was restored), to pass to the save. */
typedef void (*kt_wdcache_done_fn)(void *data, int ok, int64_t restored_ms);

/* Guava's Hashing.murmur3_128().hashString(text, UTF_8).toString(): 32 lower-case hex digits into out (33 bytes). */
void kt_wdcache_hash(const char *text, char out[33]);
/* The cache's URI for the task `task_id` of the run's flow and loop value (NULL outside loops) into out. */
int kt_wdcache_uri(kt_task_run *r, const char *task_id, const char *value, char *out, size_t cap);

/* Both return 1 when there is nothing to do (no `cache`: done never runs), 0 when started (done runs later, once),
 * -1 on an error already logged (done never runs). */
int kt_wdcache_restore(kt_task_run *r, const char *value, const char *workdir, kt_wdcache_done_fn done, void *data,
                       kt_wdcache_op **out);
int kt_wdcache_save(kt_task_run *r, const char *value, const char *workdir, int64_t restored_ms,
                    kt_wdcache_done_fn done, void *data, kt_wdcache_op **out);
/* Stops the transfer under way (kill): done still runs once, with ok 0. */
void kt_wdcache_cancel(kt_wdcache_op *op);

#endif
