/* Kestra's flow dependencies (core/topologies/FlowTopologyService.java): which flow starts which. A parent flow is
 * linked to a child by FLOW_TASK when one of its tasks (at any depth) is a Subflow or ForEachItem naming the child's
 * namespace and id, and by FLOW_TRIGGER when the child has a Flow trigger that an execution of the parent would fire,
 * judged as Kestra judges it for a simulated execution: every condition of the Flow triggers holds (filter conditions
 * — ExecutionStatus, Expression, dates, labels... — count as holding; ExecutionFlow, FlowCondition,
 * ExecutionNamespace and FlowNamespaceCondition compare the parent's namespace and id; a MultipleCondition holds
 * when any of its non-filter conditions does) and one Flow trigger has no preconditions or preconditions whose
 * upstream `flows` include the parent (namespace and flowId when given). A precondition `where` filter is not
 * evaluated (it does not make the parent match). Self links are left out.
 * Pure: Flow JSON documents in, Kestra's FlowTopologyGraph out. Prefix kt_topology. */
#ifndef KT_FLOW_TOPOLOGY_H
#define KT_FLOW_TOPOLOGY_H

#include <jansson.h>

/* "FLOW_TASK", "FLOW_TRIGGER" or NULL: how parent starts child. */
const char *kt_topology_relation(const json_t *parent, const json_t *child);

/* GET /api/v1/flows/{namespace}/{id}/dependencies: {nodes: [{uid: "<ns>_<id>", namespace, id}], edges: [{source,
 * target, relation}]} of the links where the flow ns.id is the child, and (destination_only 0) the parent, among
 * flows (a list of Flow JSON, the flow itself included or not). New reference. */
json_t *kt_topology_graph(const json_t *flows, const char *ns, const char *id, int destination_only);

/* GET /api/v1/namespaces/{namespace}/dependencies: the same graph for every link among flows where the parent or the
 * child is in ns (Kestra's flowTopologyRepository.findByNamespace). New reference. */
json_t *kt_topology_namespace_graph(const json_t *flows, const char *ns);

#endif
