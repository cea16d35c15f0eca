/* Kestra's flow topology (core/utils/GraphUtils.java, core/models/hierarchies): the FlowGraph JSON the UI draws,
 * {"nodes": [...], "edges": [...], "clusters": [...]}, built from a flow document without an execution.
 *
 * The top cluster "root" holds a start and an end node, a "Triggers" cluster when the flow has triggers (its end
 * linked to the start), then the tasks and the errors as GraphUtils.fillGraph links them: a flowable is a cluster
 * (Sequential, WorkingDirectory, AllowFailure, WaitFor, ForEachItem and Pause with tasks SEQUENTIAL; Parallel PARALLEL;
 * If and Switch CHOICE; ForEach, EachSequential, EachParallel and Dag DYNAMIC) of its own start, end, task node and
 * children; a Subflow is a SubflowGraphTask; anything else a GraphTask. Uids are the dotted paths Kestra gives
 * ("root.seq.inner", clusters "cluster_root.seq"); a start or end node's last segment is a fresh id from the caller
 * (Kestra's IdUtils.create()), this layer drawing no random number itself. Edges carry Kestra's Relation
 * ({relationType, value}, empty for the links to an end); nodes in error branches have error: true.
 * Prefix kt_graph. */
#ifndef KT_FLOW_GRAPH_H
#define KT_FLOW_GRAPH_H

#include <jansson.h>

/* Writes a new unique id (NUL-terminated, at most cap bytes) into out. */
typedef void (*kt_graph_id_fn)(void *ud, char *out, size_t cap);
/* The latest (revision 0) or given revision of a flow as Flow JSON (defaults injected); NULL when there is none. */
typedef json_t *(*kt_graph_load_fn)(void *ud, const char *ns, const char *id, int revision);

typedef struct kt_graph_opts {
    const json_t *triggers_state; /* [Trigger] giving each trigger node its `trigger` context by id; may be NULL */
    const json_t *expand;         /* uids of Subflow nodes to draw as the child flow's graph (`subflows`); may be NULL */
    kt_graph_load_fn load;        /* how expanded subflows are found (needed with expand) */
    void *load_ud;
    kt_graph_id_fn next_id;
    void *id_ud;
} kt_graph_opts;

/* The FlowGraph of flow (Kestra's Flow JSON, defaults injected). An expanded Subflow node becomes a
 * SubflowGraphCluster (its task node, then the child flow's triggers and tasks, uids under the node's; subflows
 * expanded inside it are those of expand starting with its uid and a dot). NULL when an expansion is refused, with
 * Kestra's answer in *status and err: 404 "Unable to find subflow <ns>_<id> for task <task>", 422 for a namespace
 * or flowId holding an expression. New reference. */
json_t *kt_graph_flow(const json_t *flow, const kt_graph_opts *o, int *status, char *err, size_t errcap);

#endif
