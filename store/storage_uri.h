/* Internal-storage URIs as Kestra lays them out (KESTRA-system.md §5.9, StorageContext.java): `kestra:///<path>`,
 * namespaces as folders, slugged flow and task ids, the execution/task-run/inputs/namespace-files/KV locations, and
 * the one check every path from outside goes through before it reaches a backend: no `..` segment in any spelling
 * (plain, percent-encoded, backslashes), no empty or `.` segment, no NUL or control character, nothing outside
 * `kestra:///`. Pure: no I/O. Prefix kt_suri. */
#ifndef KT_STORE_STORAGE_URI_H
#define KT_STORE_STORAGE_URI_H

#include <stddef.h>

#include "base/status.h"

/* Longest path Kite stores (bytes, without the scheme). */
#define KT_SURI_PATH_MAX 1024

/* Checks `uri` (`kestra:///a/b.txt`) and writes its path without the scheme and without the leading '/'
 * ("a/b.txt") to path (cap bytes): percent-decoded, every segment non-empty and not `.` or `..`, no backslash, NUL
 * or control character. KT_EINVAL with err (why, quoting the URI) otherwise. A trailing '/' (a directory, for
 * namespace files) is kept. */
kt_status kt_suri_path(const char *uri, char *path, size_t cap, char *err, size_t errcap);

/* The same check for a path relative to a root (a namespace file's path, an outputFiles name): "a/b.txt" or
 * "/a/b.txt" (leading slashes dropped); percent-encoding is NOT decoded here (a relative path is a file name). */
kt_status kt_suri_relative(const char *rel, char *path, size_t cap, char *err, size_t errcap);

/* Kestra's slug (Slugify): NFD then non-ASCII dropped, whitespace and '_' to '-', anything not [A-Za-z0-9-]
 * removed, runs of '-' collapsed, trimmed of '-', lower-cased. */
void kt_suri_slug(const char *in, char *out, size_t cap);

/* `company.team` -> `company/team`. */
void kt_suri_namespace_path(const char *ns, char *out, size_t cap);

/* The locations (each a `kestra:///…` URI written to out; KT_EINVAL when out is too small or an id is empty):
 *   flow root            kestra:///<ns>/<slug(flowId)>
 *   execution root       kestra:///<ns>/<slug(flowId)>/executions/<executionId>
 *   task run folder      <execution root>/tasks/<slug(taskId)>/<taskRunId>
 *   input file           <execution root>/inputs/<inputId>/<fileName>
 *   namespace files root kestra:///<ns>/_files/
 *   KV entry             kestra:///<ns>/_kv/<key>.ion */
kt_status kt_suri_flow_root(const char *ns, const char *flow_id, char *out, size_t cap);
kt_status kt_suri_execution_root(const char *ns, const char *flow_id, const char *execution_id, char *out, size_t cap);
kt_status kt_suri_taskrun_dir(const char *ns, const char *flow_id, const char *execution_id, const char *task_id,
                              const char *taskrun_id, char *out, size_t cap);
kt_status kt_suri_input_file(const char *ns, const char *flow_id, const char *execution_id, const char *input_id,
                             const char *file_name, char *out, size_t cap);
kt_status kt_suri_namespace_files(const char *ns, char *out, size_t cap);
kt_status kt_suri_kv(const char *ns, const char *key, char *out, size_t cap);

/* 1 when the checked path `path` (from kt_suri_path) is `prefix` itself or lies under it (prefix also a checked path,
 * compared segment-wise: "a/bc" is not under "a/b"). What the execution file API uses to refuse another execution's
 * files. */
int kt_suri_under(const char *path, const char *prefix);

#endif
