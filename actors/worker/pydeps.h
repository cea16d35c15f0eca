/* Python `dependencies` of io.kestra.plugin.scripts.python.Script / Commands (Kestra 1.x: installed into a virtual
 * environment cached on the worker and reused across executions and flows with the same dependency set). Kite does it
 * in the task's own shell, before beforeCommands: the environment for a set lives in <venvs>/<key>-<python version>,
 * key = the hash of the sorted, de-duplicated requirement list, the version that of the `python3` the worker finds on
 * PATH. It is built once, under an flock(1) lock on <dir>.lock (a second task with the same set waits, then reuses
 * it), with `uv venv` + `uv pip install` when uv is on PATH, else `python3 -m venv` + its pip; from the local package
 * directory `find_links` (--no-index --find-links DIR) when configured (worker.python.find-links), else from pip's
 * normal index. A complete environment carries a .kite-ready marker; a failed build is removed, and the task fails
 * with pip's own message in its logs. The task then runs with the environment's bin first on PATH (VIRTUAL_ENV set).
 * Private to the worker. Prefix kt_pydeps. */
#ifndef KT_WORKER_PYDEPS_H
#define KT_WORKER_PYDEPS_H

#include <jansson.h>
#include <stddef.h>

/* The hex key of a dependency set (the requirements as strings): sorted and de-duplicated first, so the order they
 * are written in does not matter. -1 with err when deps is not a list of non-empty strings. out: 65 bytes. */
int kt_pydeps_key(const json_t *deps, char out[65], char *err, size_t errcap);

/* How a task installs them (the python plugins' PythonBasedPlugin properties and the worker's settings). */
typedef struct kt_pydeps_opts {
    const char *venvs;      /* the folder the environments live in; NULL: dependencyCacheEnabled false, an environment
                             * of the task's own in its working directory (.kite-venvs), built every time */
    const char *find_links; /* NULL or "": pip's index */
    int pip_only;           /* packageManager PIP: pip even when uv is on PATH (UV, the default, falls back to pip) */
    const char *python;     /* pythonVersion ("3.11"): python<version> from PATH (not found: the task fails); NULL:
                             * python3 */
} kt_pydeps_opts;

/* The shell text that makes the set's environment ready and puts it first on PATH (malloc'ed, ends with a newline).
 * NULL with err when deps is not valid (kt_pydeps_key) or is empty (then nothing is needed: *err is ""). */
char *kt_pydeps_preamble(const json_t *deps, const kt_pydeps_opts *o, char *err, size_t errcap);

#endif
