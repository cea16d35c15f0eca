/* The worker actor: runs the task attempts the executor hands it (WorkerJob) in a pool of slots on the node's
 * loop, streams their logs (LogBatch) and reports each end (WorkerResult). It is the only actor that touches the
 * user's infrastructure. */
#ifndef KT_WORKER_H
#define KT_WORKER_H

#include <stdint.h>

#include "runtime/node.h"
#include "store/storage.h"

#include "actors/names.h"

typedef struct kt_worker kt_worker;

typedef struct kt_worker_config {
    uint32_t slots;       /* concurrent attempts; 0 = cores x 4 */
    const char *tmp_dir;  /* where task working directories live; NULL = $TMPDIR or /tmp */
    kt_storage *storage;  /* internal storage for script tasks' inputFiles/outputFiles (borrowed: it must outlive
                           * the worker's last attempt); NULL = none, and a task that needs it fails saying so */
    const char *python_venvs;      /* where python tasks' `dependencies` environments are cached (pydeps.h); NULL or
                                    * "" = <tmp_dir>/kite-python-venvs */
    const char *python_find_links; /* worker.python.find-links: the local package directory they are installed from
                                    * (pip --no-index --find-links); NULL or "" = pip's index */
} kt_worker_config;

kt_status kt_worker_start(kt_node *node, const kt_worker_config *cfg, kt_worker **out);
uint32_t kt_worker_slots(const kt_worker *w);
uint32_t kt_worker_running(const kt_worker *w);
/* The jobs waiting for a slot (more came than the worker has slots: several executors share it). */
uint32_t kt_worker_queued(const kt_worker *w);
/* Frees what the actor kept; call after the loop has closed. */
void kt_worker_free(kt_worker *w);
/* Sends pending logs and results now (for task callbacks that run outside a drain pass). */
void kt_worker_flush_now(kt_worker *w);

#endif
