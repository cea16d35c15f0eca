/* The actors' names on a node: what kt_node_send addresses ("name" or "name@node"). Kept in one place so that an
 * actor can address another without including it: actors talk only through messages. */
#ifndef KT_ACTORS_NAMES_H
#define KT_ACTORS_NAMES_H

#define KT_EXECUTOR_ACTOR "executor"
#define KT_WORKER_ACTOR "worker"
#define KT_SCHEDULER_ACTOR "scheduler"
#define KT_INDEXER_ACTOR "indexer"

#endif
