/* Internal-storage URIs as Kestra lays them out (KESTRA-system.md §5.9, StorageContext.java): `kestra:///<path>`,
 * namespaces as folders, slugged flow and task ids, the execution/task-run/inputs/namespace-files/KV locations, and
 * the one check every path from outside goes through before it reaches a backend: no `..` segment in any spelling
 * (plain, percent-encoded, backslashes), no empty or `.` segment, no NUL or control character, nothing outside
 * `kestra:///`. Pure: no I/O. Prefix kt_suri.
 *
 * Two spellings of one location: a URI (`kestra:///company/team/f/a%20b.txt`, what Kestra shows in outputs and
 * takes in `path=` parameters) and a checked path (`company/team/f/a b.txt`: decoded, no scheme, no leading '/',
 * what a backend maps to a file or an object key). kt_suri_path turns the first into the second; the layout
 * functions and kt_suri_from_path go the other way, percent-encoding what would not survive the trip back. A
 * backend must never decode a checked path again. */
#ifndef KT_STORE_STORAGE_URI_H
#define KT_STORE_STORAGE_URI_H

#include <stddef.h>

#include "base/status.h"

/* Longest path Kite stores (bytes, decoded, without the scheme and the leading '/'). */
#define KT_SURI_PATH_MAX 1024
/* Longest segment (one file or folder name, bytes): what Linux file systems take (NAME_MAX). */
#define KT_SURI_NAME_MAX 255

/* Checks `uri` (`kestra:///a/b.txt`) and writes its path without the scheme and without the leading '/'
 * ("a/b.txt") to path (cap bytes): percent-decoded once (so `%252e` is the literal name `%2e`), every segment
 * non-empty and not `.` or `..`, no backslash, NUL or control character, valid UTF-8 (no overlong forms). The scheme
 * is case-insensitive (as Kestra's NamespaceFile); the authority must be empty; a raw '?' or '#' (a query or a
 * fragment, which Kestra's URI.getPath() would silently drop) is refused: a file name holding one is spelt %3F/%23.
 * KT_EINVAL with err (why, quoting the URI) otherwise. A trailing '/' (a directory, for namespace files) is kept. */
kt_status kt_suri_path(const char *uri, char *path, size_t cap, char *err, size_t errcap);

/* The same check for a path relative to a root (a namespace file's path, an outputFiles name): "a/b.txt" or
 * "/a/b.txt" (leading slashes dropped); percent-encoding is NOT decoded here (a relative path is a file name, and
 * '%', '?', '#' are ordinary characters in it). A trailing '/' is kept. */
kt_status kt_suri_relative(const char *rel, char *path, size_t cap, char *err, size_t errcap);

/* `kestra:///` + path, percent-encoding '%', '?', '#', space and the other ASCII characters java.net.URI quotes
 * (`"<>[]^`{|}`); UTF-8 is kept as is, like Kestra's URI.toString(). path is a checked path (from kt_suri_path or
 * kt_suri_relative, a trailing '/' allowed); KT_EINVAL when it is not one or out is too small. */
kt_status kt_suri_from_path(const char *path, char *out, size_t cap);

/* Kestra's slug (Slugify.of): ASCII whitespace and '_' to '-', NFD then anything not [A-Za-z0-9-] removed, runs of
 * '-' collapsed, trimmed of '-', lower-cased. The NFD step is complete for what can survive it: every code point
 * whose canonical decomposition starts with an ASCII letter (U+00C0-U+024F, U+1E00-U+1EFF, the Kelvin and Angstrom
 * signs; Unicode 14) keeps that letter ("Élan vital_2" -> "elan-vital-2"); everything else non-ASCII is dropped, as
 * are bytes that are not UTF-8. Cut (never mid-letter, never ending in '-') when out is too small. */
void kt_suri_slug(const char *in, char *out, size_t cap);

/* `company.team` -> `company/team` (cut when out is too small; the layout functions check the result). */
void kt_suri_namespace_path(const char *ns, char *out, size_t cap);

/* The locations (each a `kestra:///…` URI written to out; KT_EINVAL when out is too small, an id is empty or its
 * slug is, or a part is not one valid segment — an id holding '/', "..", a control character…; the namespace may
 * hold dots, each part then a valid segment):
 *   flow root            kestra:///<ns>/<slug(flowId)>
 *   execution root       kestra:///<ns>/<slug(flowId)>/executions/<executionId>
 *   task run folder      <execution root>/tasks/<slug(taskId)>/<taskRunId>
 *   trigger folder       <execution root>/trigger/<slug(triggerId)>
 *   input file           <execution root>/inputs/<inputId>/<fileName>
 *   namespace files root kestra:///<ns>/_files/
 *   KV entry             kestra:///<ns>/_kv/<key>.ion
 *   state store          kestra:///<ns>/<slug(flowId)>/states, or kestra:///<ns>/states when flow_id is NULL (the
 *                        prefixes the execution file API also serves; Kestra's getStateStorePrefix(null, …)) */
kt_status kt_suri_flow_root(const char *ns, const char *flow_id, char *out, size_t cap);
kt_status kt_suri_execution_root(const char *ns, const char *flow_id, const char *execution_id, char *out, size_t cap);
kt_status kt_suri_taskrun_dir(const char *ns, const char *flow_id, const char *execution_id, const char *task_id,
                              const char *taskrun_id, char *out, size_t cap);
kt_status kt_suri_trigger_dir(const char *ns, const char *flow_id, const char *execution_id, const char *trigger_id,
                              char *out, size_t cap);
kt_status kt_suri_input_file(const char *ns, const char *flow_id, const char *execution_id, const char *input_id,
                             const char *file_name, char *out, size_t cap);
kt_status kt_suri_namespace_files(const char *ns, char *out, size_t cap);
kt_status kt_suri_kv(const char *ns, const char *key, char *out, size_t cap);
kt_status kt_suri_states(const char *ns, const char *flow_id, char *out, size_t cap);

/* 1 when the checked path `path` (from kt_suri_path) is `prefix` itself or lies under it (prefix also a checked path,
 * compared segment-wise: "a/bc" is not under "a/b"; a trailing '/' on either is ignored). What the execution file API
 * uses to refuse another execution's files. */
int kt_suri_under(const char *path, const char *prefix);

/* The execution id a checked path names, as Kestra's StorageContext.extractExecutionId (`^/(.+)/executions/([^/]+)/`,
 * case-insensitive, the last match): 1 and the id in out, 0 when there is none or out is too small. What the
 * execution file API redirects to when the path is another execution's. */
int kt_suri_execution_id(const char *path, char *out, size_t cap);

#endif
