/* Plugin defaults, applied the way Kestra's PluginDefaultService applies them (KESTRA-model.md §2.3): default
 * property values for every plugin object of a flow (any map with a string `type`: tasks at every depth, errors,
 * finally, triggers, conditions, task runners), from the flow's own `pluginDefaults` (legacy `taskDefaults`) and
 * from the server's configuration (`plugins.defaults`, Kestra's `kestra.plugins.defaults`).
 *
 * A default {type, values, forced} applies to a plugin whose type equals its `type` or starts with it (a package
 * prefix). Not forced, its values go under the plugin's own (the plugin wins); forced, over them (the default
 * wins). Merging follows Kestra's MapUtils.merge: maps merge key by key at every depth, two lists are
 * concatenated (the lower one's items first), a null on top keeps the value below, anything else on top replaces.
 * Flow defaults come before configuration defaults, so the flow's win in both passes.
 *
 * Pure: JSON in, JSON out; the executor applies them once per flow revision, before any rendering. Prefix
 * kt_defaults_. */
#ifndef KT_FLOW_DEFAULTS_H
#define KT_FLOW_DEFAULTS_H

#include <stddef.h>
#include <jansson.h>

/* 1 when a default of type dtype applies to a plugin of type ptype: ptype equals dtype or starts with it. */
int kt_defaults_match(const char *dtype, const char *ptype);

/* 1 when the default d is forced (`forced: true`, or the string "true" as Jackson coerces it). */
int kt_defaults_forced(const json_t *d);

/* The flow's own defaults (a borrowed array, or NULL): `pluginDefaults`, or the legacy `taskDefaults`, whichever
 * the document sets last (Kestra's two setters fill the same list, so the later one wins). */
const json_t *kt_defaults_of_flow(const json_t *flow);

/* Checks defaults given outside a flow (the configuration file): a list of maps with a string `type`, a map
 * `values` without null values and an optional boolean `forced`, and nothing else. 0 when valid; otherwise -1,
 * path gets where (e.g. "[1].values.message", relative to the list) and err what, in Kestra's words where it has
 * them ("No 'type' provided", "No 'values' provided", "No value provided for key 'k'"). */
int kt_defaults_check(const json_t *list, char *path, size_t pathcap, char *err, size_t errcap);

/* Kestra's MapUtils.merge(under, over) as described above, into a new object (neither argument changes). NULL
 * when out of memory or when either is not an object. */
json_t *kt_defaults_merge(const json_t *under, const json_t *over);

/* A copy of flow with every default applied: the flow's own (kt_defaults_of_flow) first, then global (an array,
 * may be NULL). Entries that are not well formed are skipped. A default named by a legacy alias
 * (io.kestra.core.tasks.log.Log) also applies under its canonical class name, as Kestra adds that copy. The
 * `pluginDefaults`/`taskDefaults` lists themselves are left as written. Returns a new reference, NULL when out
 * of memory. */
json_t *kt_defaults_apply(const json_t *flow, const json_t *global);

#endif
