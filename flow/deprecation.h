/* What Kestra's validate route reports beside the constraints (core/services/FlowService.java):
 *   deprecationPaths: FlowService.deprecationTraversal over the parsed Flow. An object whose class is @Deprecated
 *     (Echo, EachSequential, EachParallel, Template, LocalFiles, the FlowCondition, FlowNamespaceCondition and
 *     MultipleCondition conditions, ENUM inputs) is reported at its path, and a @Deprecated property that is set
 *     (the flow's listeners and taskDefaults, an input's name, a MULTISELECT's options, Pause's tasks, Subflow's
 *     outputs, Schedule's scheduleConditions and backfill, MultipleCondition's window and windowAdvance) at
 *     "<path>.<property>". Only lists are descended into, and an element's path is "<property>[i]" alone: Kestra's
 *     traversal drops the parent's prefix there (a nested task is "tasks[0]", not "tasks[1].tasks[0]"), and this
 *     keeps its answer. Legacy type aliases resolve to their class first.
 *   warnings: a Flow trigger without conditions nor preconditions fires for every execution.
 * Pure: the flow document as JSON in, JSON arrays of strings out. Prefix kt_flow_deprecation / kt_flow_warnings. */
#ifndef KT_FLOW_DEPRECATION_H
#define KT_FLOW_DEPRECATION_H

#include <jansson.h>

#include "flow/yaml.h"

/* The paths, in document order (new reference). */
json_t *kt_flow_deprecation_paths(const json_t *flow);
/* The warnings (new reference). */
json_t *kt_flow_warnings(const json_t *flow);
/* The dialect-aware part (flow/dialect.h): a 2.x flow's deprecated 1.x constructs and an ignored extend:, as
 * kt_flow_parse_opt's warnings give them, added to Kestra's two lists: each path once to paths (after Kestra's own),
 * each finding to warnings as "path: message (at line L, column C)". */
void kt_flow_deprecation_merge(json_t *paths, json_t *warnings, const kt_diags *dialect_warnings);

#endif
