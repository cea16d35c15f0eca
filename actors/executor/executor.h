/* The executor actor: the only writer of execution state. It turns events (execution created, worker result,
 * worker lost) into transitions with the pure state machine (step.h), commits every transition of a loop turn
 * in one transaction, and only then sends their effects (worker jobs, replies). Worker jobs are delivered at
 * least once; results carry (taskrun id, attempt, the sender's lease epoch) and stale ones are dropped.
 *
 * Task log lines are the indexer's to write (actors/indexer/indexer.h): the executor sends it its own lines after
 * the commit, and reads the copies of the workers' ERROR lines for errorLogs(). When no indexer is reachable, workers
 * send their lines here and the executor writes them, and its own, in the group commit. */
#ifndef KT_EXECUTOR_H
#define KT_EXECUTOR_H

#include <stdint.h>

#include <jansson.h>

#include "runtime/node.h"
#include "store/store.h"

#include "actors/names.h"

typedef struct kt_executor kt_executor;

typedef struct kt_executor_options {
    /* Server-level plugin defaults (conf: plugins.defaults, checked with kt_defaults_check): applied to every flow
     * after the flow's own pluginDefaults. May be NULL. The executor keeps its own reference. */
    const json_t *plugin_defaults;
    /* The internal storage (store/storage.h), or NULL: what read(), fileSize() and isFileEmpty() reach when the
     * executor renders (flowable properties in the step, runnable tasks at dispatch), and where ForEachItem's
     * children leave their outputs. Borrowed: it must outlive the executor. */
    struct kt_storage *storage;
    /* How long a partition's lease lasts without a renewal (renewed every third of it): the liveness timeout, so a
     * dead executor's partitions move within it. 0: 10 000 ms. */
    uint32_t lease_ttl_ms;
    /* Workers on other nodes may run attempts (the node listens or joins): a RUNNING attempt found when an execution
     * is loaded (a restart, a partition taken over) may still run on one of them, so the workers are asked before
     * it is declared lost (actors/executor/attempts.c). 0: every worker is in this process, which has just started,
     * so such an attempt is lost at once. */
    int remote_workers;
} kt_executor_options;

/* Spawns the actor on node and resumes every unfinished execution found in the store. opts may be NULL. */
kt_status kt_executor_start(kt_node *node, kt_store *store, const kt_executor_options *opts, kt_executor **out);
/* A worker hosted on the executor's own node (remote workers announce themselves with Hello). */
void kt_executor_add_worker(kt_executor *ex, const char *address, const char *node_id, uint32_t slots);
/* Called after the commit that made an execution terminal (the execution is borrowed). */
typedef void (*kt_executor_observer)(void *ud, const json_t *execution);
void kt_executor_observe(kt_executor *ex, kt_executor_observer fn, void *ud);
/* Counters for tests and benchmarks. */
uint64_t kt_executor_commits(const kt_executor *ex);

#endif
