/* `namespaceFiles` of script tasks and WorkingDirectory (KESTRA-model.md §7.1, "WorkingDirectory"; Kestra's
 * CommandsWrapper.run and WorkingDirectory.preExecuteTasks): before the task runs, the files of the run's namespace
 * (`kestra:///<ns as folders>/_files/…`) that `include` keeps and `exclude` does not are copied into the working
 * directory under their namespace path. Private to the worker. Prefix kt_nsfiles. */
#ifndef KT_WORKER_NS_FILES_H
#define KT_WORKER_NS_FILES_H

#include <jansson.h>

#include "actors/worker/script_files.h"
#include "actors/worker/task.h"

typedef struct kt_nsfiles_op kt_nsfiles_op;

/* 1 when spec (the task's `namespaceFiles`) asks for files: set, and `enabled` not false (Kestra's default: true). */
int kt_nsfiles_wanted(const json_t *spec);

/* Kestra's PathMatcherPredicate for namespace files (no base path): a pattern starting with a word character is
 * prefixed with `**` + '/', each is a glob (or `glob:`/`regex:` as written) matched against the file's namespace path
 * with its leading '/'; include (none: every file) and not exclude. NULL with err for a bad pattern. */
typedef struct kt_nsfiles_filter kt_nsfiles_filter;
kt_nsfiles_filter *kt_nsfiles_filter_new(const json_t *include, const json_t *exclude, char *err, size_t errcap);
/* path: the namespace path without its leading '/' ("a/b/c.txt"). */
int kt_nsfiles_filter_test(const kt_nsfiles_filter *f, const char *path);
void kt_nsfiles_filter_free(kt_nsfiles_filter *f);

/* Copies the matching namespace files of the run's namespace into workdir (the folder walk and the downloads are
 * asynchronous, one storage call at a time). Returns 1 when there is nothing to do (done never runs), 0 when started
 * (done runs later, exactly once, ok 0 once the reason was logged; files is always NULL), -1 on an error already
 * logged (done never runs). */
int kt_nsfiles_fetch(kt_task_run *r, const json_t *spec, const char *workdir, kt_sfiles_done_fn done, void *data,
                     kt_nsfiles_op **out);
/* Stops the fetch (kill, timeout): done then runs once, later, with ok 0 and nothing logged. */
void kt_nsfiles_cancel(kt_nsfiles_op *op);

#endif
