/* The indexer actor ("indexer", actors/names.h): the writer of task log lines and task metrics. Workers send it their
 * lines (LogBatch) at the end of each loop turn, and the executor sends it its own lines once the transitions they
 * tell of are committed; it writes everything received in a turn in one transaction (its flush hook), at most
 * KT_INDEXER_MAX_LINES lines per transaction, in the order received. It holds at most KT_INDEXER_MAX_BYTES while the
 * store is slow or failing: beyond that it pauses its mailbox (kt_actor_pause), so senders get KT_EAGAIN and keep
 * their lines. A failed commit is tried again (the lines stay held); at stop it writes everything it holds.
 *
 * Readers of the store may therefore see an execution's lines a little after its state (Kestra's indexer lags too):
 * errorLogs() does not depend on it (the executor keeps the ERROR lines it has seen, actors/executor/dispatch.c), and
 * `logs/search`, follow and log.Fetch read what is committed. docs/architecture.md, "Task logs go to the indexer". */
#ifndef KT_INDEXER_H
#define KT_INDEXER_H

#include <stddef.h>
#include <stdint.h>

#include "actors/names.h"
#include "runtime/node.h"
#include "store/store.h"

typedef struct kt_indexer kt_indexer;

typedef struct kt_indexer_options {
    size_t max_lines; /* lines (and metric entries) per transaction; 0: KT_INDEXER_MAX_LINES */
    size_t max_bytes; /* held at most before the mailbox pauses; 0: KT_INDEXER_MAX_BYTES */
} kt_indexer_options;

/* Spawns the actor on node; store is borrowed (it may be the one the other actors of the node use: every call is on
 * the loop thread). opts may be NULL. The indexer frees itself when the node stops, after its last commit. */
kt_status kt_indexer_start(kt_node *node, kt_store *store, const kt_indexer_options *opts, kt_indexer **out);

/* For tests and benchmarks: transactions committed; lines and metric entries waiting; whether the mailbox is paused. */
uint64_t kt_indexer_commits(const kt_indexer *ix);
size_t kt_indexer_held(const kt_indexer *ix);
int kt_indexer_paused(const kt_indexer *ix);

#endif
