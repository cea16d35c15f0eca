/* Which partition an execution belongs to (docs/store-async-design.md §4.1). The partition is a function of the
 * execution id alone, p = fnv1a(id) % KT_PARTITIONS, so every message about an execution routes by its id and no
 * message carries a partition field. A flow with `concurrency.limit` must count its running executions in one place,
 * so whoever creates one of its executions draws random ids until the id falls in the flow's own partition,
 * fnv1a(namespace "/" flowId) % KT_PARTITIONS: 64 draws on average, and the id stays an ordinary random Kestra id.
 *
 * Also here: the rendezvous weight of a (node, partition) pair, which every node computes the same way to find a
 * partition's owner among the live members (runtime/node.h, kt_node_send_keyed). */
#ifndef KT_BASE_PARTITION_H
#define KT_BASE_PARTITION_H

#include <stddef.h>
#include <stdint.h>

#include "base/env.h"
#include "base/id.h"
#include "base/limits.h"

/* 32-bit FNV-1a of n bytes (Fowler, Noll, Vo). */
uint32_t kt_fnv1a(const void *data, size_t n);
/* The partition of an execution id: fnv1a(id) % KT_PARTITIONS; any string (an id we did not create included). */
int kt_exec_partition(const char *id);
/* The partition every execution of a flow with a concurrency limit belongs to: fnv1a(ns "/" flow_id) % KT_PARTITIONS. */
int kt_flow_partition(const char *ns, const char *flow_id);
/* A new execution id (KT_ID_LEN + 1 bytes) from the system's randomness: for a flow whose concurrency is limited
 * (limited != 0), one in kt_flow_partition(ns, flow_id); otherwise any id. */
void kt_exec_id_for(const char *ns, const char *flow_id, int limited, char *out);
/* The same from a pure computation's environment (the executor's step): the draws come from env, so a replay of the
 * step draws the same id. When env names its ids (env->ids, a test's tr1, tr2...), its first id is taken as it is. */
void kt_exec_id_env(kt_env *env, const char *ns, const char *flow_id, int limited, char *out);
/* A new execution id from env in partition p (any partition when p < 0), with the same rule for env->ids. */
void kt_exec_id_env_in(kt_env *env, int p, char *out);
/* The rendezvous (highest random weight) score of node_id for partition p: the member with the highest score owns
 * p. Well mixed, so each member gets about 1/n of the partitions and a member leaving moves only its own. */
uint64_t kt_partition_weight(const char *node_id, int p);

#endif
