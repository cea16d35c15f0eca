/* ForEachItem as the executor runs it (KESTRA-model.md "ForEachItem", ForEachItem.java): a Sequential over three
 * tasks Kestra generates from its properties, each with a task run of its own in the execution:
 *   <id>_split  ForEachItem$ForEachItemSplit (runnable, on a worker): {items, batch} -> output `splits`, the URI of
 *               a text file listing one batch URI per line;
 *   <id>_items  ForEachItem$ForEachItemExecutable (executable, in the executor): one child execution of
 *               namespace/flowId per batch, `inputs` rendered with taskrun.items / taskrun.iteration;
 *   <id>_merge  ForEachItem$ForEachItemMergeOutputs (runnable): concatenates the children's outputs.ion.
 * Pure: JSON in, JSON out. Prefix kt_foreachitem. */
#ifndef KT_FLOW_FOREACHITEM_H
#define KT_FLOW_FOREACHITEM_H

#include <jansson.h>

#define KT_FOREACHITEM_TYPE "io.kestra.plugin.core.flow.ForEachItem"
#define KT_FOREACHITEM_SPLIT_TYPE "io.kestra.plugin.core.flow.ForEachItem$ForEachItemSplit"
#define KT_FOREACHITEM_ITEMS_TYPE "io.kestra.plugin.core.flow.ForEachItem$ForEachItemExecutable"
#define KT_FOREACHITEM_MERGE_TYPE "io.kestra.plugin.core.flow.ForEachItem$ForEachItemMergeOutputs"
#define KT_FOREACHITEM_SPLIT_SUFFIX "_split"
#define KT_FOREACHITEM_ITEMS_SUFFIX "_items"
#define KT_FOREACHITEM_MERGE_SUFFIX "_merge"

/* Gives every ForEachItem task of the flow (at any depth) its generated `tasks` list, so the flow runs it as a
 * Sequential over them; the flow JSON is changed in place (the executor's own copy of a revision). Returns how
 * many ForEachItem tasks were expanded. */
int kt_foreachitem_expand(json_t *flow);

/* The id of the generated sibling with `suffix` of a generated task id ("each_items" -> "each_split" for
 * KT_FOREACHITEM_SPLIT_SUFFIX) into out; 0 when task_id is not a generated one or out is too small. */
int kt_foreachitem_sibling(const char *task_id, const char *suffix, char *out, size_t cap);

#endif
