/* Script tasks' files in the internal storage (KESTRA-model.md §7.1-7.2; Kestra's FilesService, LocalWorkingDir,
 * PathMatcherPredicate): `inputFiles` written into the working directory before the process starts (a value starting
 * with `kestra://` is downloaded from the storage, any other is written as text), and `outputFiles` globs matched
 * in it after the process ends, each match uploaded to the task run's folder and listed as
 * `outputs.outputFiles` {relative path: kestra:// URI}. Transfers are asynchronous on the worker's loop and one
 * file at a time (the storage streams each one). Private to the worker. Prefix kt_sfiles. */
#ifndef KT_WORKER_SCRIPT_FILES_H
#define KT_WORKER_SCRIPT_FILES_H

#include <jansson.h>
#include <stddef.h>

#include "actors/worker/task.h"

/* One transfer phase under way (inputs or outputs), for kt_sfiles_cancel. */
typedef struct kt_sfiles_op kt_sfiles_op;

/* The end of a transfer phase, called once: ok 1, or 0 once the reason was logged on the run. files (stolen, NULL
 * when !ok or for inputs) is the outputFiles map. */
typedef void (*kt_sfiles_done_fn)(void *data, int ok, json_t *files);

/* 1 when the task's outputFiles is set (null and [] are not). */
int kt_sfiles_wants_outputs(kt_task_run *r);
/* 1 when the task's outputFiles is set or its inputFiles holds a kestra:// value (and so needs the storage). */
int kt_sfiles_needs_storage(kt_task_run *r);

/* Writes inputFiles into workdir: text values at once, kestra:// values downloaded. Names go through
 * kt_suri_relative (no `..`, no empty segment; a leading '/' is dropped as Java's File(parent, child) does);
 * sub-directories are created. Returns 1 when everything is written (done never runs), 0 when downloads started
 * (done runs later, exactly once), -1 on an error already logged (done never runs). */
int kt_sfiles_inputs(kt_task_run *r, const char *workdir, kt_sfiles_done_fn done, void *data, kt_sfiles_op **out);
/* The same for the map (or JSON string) files instead of the task's inputFiles (LocalFiles' `inputs`). */
int kt_sfiles_inputs_of(kt_task_run *r, const json_t *files, const char *workdir, kt_sfiles_done_fn done, void *data,
                        kt_sfiles_op **out);

/* Matches the task's outputFiles globs against the regular files under workdir (symlinks never followed: Kestra's
 * MatcherFileVisitor), uploads each match to `<task run folder>/<id>-<file name>` (FilesService.outputFiles: a
 * unique name per file, the folder flat) and hands done the map {relative path: URI} ({} when nothing matched:
 * not an error). The directory walk runs on libuv's thread pool. Returns 0 (done runs later, exactly once) or -1
 * on an error already logged (done never runs). */
int kt_sfiles_outputs(kt_task_run *r, const char *workdir, kt_sfiles_done_fn done, void *data, kt_sfiles_op **out);
/* The same for the globs patterns instead of the task's outputFiles (LocalFiles' `outputs`). */
int kt_sfiles_outputs_of(kt_task_run *r, const json_t *patterns, const char *workdir, kt_sfiles_done_fn done,
                         void *data, kt_sfiles_op **out);

/* The phase's *out (set when done will run later) stays valid until done runs. Cancelling (kill, timeout, the
 * worker's stop) cancels the storage copy under way (kt_storage_copy_cancel: an upload leaves nothing in the
 * storage, a download no partial file) and stops the directory walk at its next entry; done then runs once, later,
 * with ok 0 and nothing logged. Calling it twice does nothing. */
void kt_sfiles_cancel(kt_sfiles_op *op);

/* ---- the matcher, exposed for tests ---- */

typedef struct kt_sfiles_matcher kt_sfiles_matcher;
/* patterns: a list of strings (or one string). A plain glob is relative to workdir (Kestra prefixes it with the
 * working directory and a '/'); a `glob:` or `regex:` pattern is matched against the absolute path, as Java's
 * PathMatcher takes it. Glob syntax is Java's (sun.nio.fs.Globs, Unix): `*` and `?` stay inside one segment, `**`
 * crosses segments, `[a-z]`/`[!a]` classes, `{a,b}` groups (not nested), `\` escapes. NULL with err for a bad
 * pattern. */
kt_sfiles_matcher *kt_sfiles_matcher_new(const json_t *patterns, const char *workdir, char *err, size_t errcap);
/* The same for paths of a tree without a working directory (namespace files: PathMatcherPredicate.matches(patterns),
 * no base path): a plain glob starting with a word character matches at any depth (Kestra prefixes it with `**' '/`),
 * and every pattern is tested against "/" + rel ("/dir/a.txt"). */
kt_sfiles_matcher *kt_sfiles_matcher_new_rooted(const json_t *patterns, char *err, size_t errcap);
/* 1 when the file at rel (relative to the matcher's workdir, no leading '/') matches one of the patterns.
 * Thread-safe (the walk runs on the pool). */
int kt_sfiles_matcher_test(const kt_sfiles_matcher *m, const char *rel);
void kt_sfiles_matcher_free(kt_sfiles_matcher *m);

#endif
