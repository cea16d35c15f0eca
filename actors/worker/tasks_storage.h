/* What the worker's file tasks share (tasks_storage.c, tasks_split.c, tasks_items.c, tasks_nsfiles.c): Kestra's
 * internal-storage URI guard, the task run's storage folder, a per-run local working folder, and Java's temporary
 * file names. Private to the worker. Prefix kt_st. */
#ifndef KT_WORKER_TASKS_STORAGE_H
#define KT_WORKER_TASKS_STORAGE_H

#include <stddef.h>

#include "actors/worker/task.h"
#include "store/storage_uri.h"

/* Room for any kestra:// URI Kite makes (a checked path percent-encoded, plus the scheme). */
#define KT_ST_URI (3 * KT_SURI_PATH_MAX + 16)

/* Kestra's uriGuard (InternalStorage.java: a scheme, and exactly `kestra`, with its texts), then kt_suri_path's
 * check; the checked path to path. 0, or -1 with the reason logged at ERROR (`<prop>: must not be null` for NULL). */
int kt_st_uri(kt_task_run *r, const char *prop, const char *uri, char *path, size_t cap);
/* The worker's storage, or NULL with "this worker has no internal storage" logged. */
struct kt_storage *kt_st_storage(kt_task_run *r);
/* `<task run folder>/<name>` as a URI (Kestra's storage().putFile(file, name): the run's storage context); name may
 * hold '/' (sub-folders). 0, or -1 logged when the result is not a valid storage path. */
int kt_st_taskrun_file(kt_task_run *r, const char *name, char *uri, size_t cap);

/* A fresh local folder `<tmp_dir>/kite-<what>-XXXXXX` for one run's temporary files (Kestra's working directory).
 * 0, or -1 logged. */
int kt_st_workdir_new(kt_task_run *r, const char *what, char *out, size_t cap);
/* Removes the folder and everything in it (symlinks not followed). An empty path does nothing. */
void kt_st_workdir_remove(const char *dir);

/* Java's Files.createTempFile(dir, null, suffix) name: an unsigned random 64-bit number in decimal, then the suffix. */
void kt_st_temp_name(const char *suffix, char *out, size_t cap);

#endif
