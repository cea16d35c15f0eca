/* `kite flow migrate`: rewrites a Kestra 1.x flow as a 2.x one (docs/dialects.md), the way Kestra's own kestra-migrate
 * does, by editing the source text at the positions the YAML loader records, so that comments, quoting and layout
 * survive wherever no rule applies; a flow with nothing to rewrite comes back byte-identical.
 *
 * Rules: trigger `conditions` -> `when` (Schedule, Webhook...) or `dependsOn` + `window` (Flow trigger, also its
 * `preconditions`), retry `maxAttempt` -> `maxAttempts`, input/output types BOOLEAN -> BOOL and ENUM -> SELECT, input
 * `name` -> `id`, Pebble `json(` -> `fromJson(` and `| json` -> `| toJson`, legacy type aliases -> canonical names,
 * Echo -> Log, PurgeKV `expiredOnly` -> `behavior`, the blueprint-only `extend:` block commented out, ForEach /
 * EachSequential / EachParallel -> Loop when the rewrite is mechanical. What has no mechanical 2.x form (ForEachItem,
 * pluginDefaults, windowAdvance, outputs read by iteration value, listeners, Template, read(version=)...) is left as
 * it is and reported, one diagnostic per place (file:line:col path: message).
 *
 * Pure: text in, text out. Prefix kt_flow_migrate. */
#ifndef KT_FLOW_MIGRATE_H
#define KT_FLOW_MIGRATE_H

#include <stddef.h>

#include "base/status.h"
#include "flow/yaml.h"

/* Migrates the flow source src (len bytes; file names it in the report). On KT_OK *out (malloc'ed, NUL-terminated)
 * holds the 2.x text, *out_len its length and *changed whether it differs from src; report gets one entry per
 * construct that could not be rewritten (the flow still migrates what it can). KT_EINVAL when src is not a single
 * YAML document holding a mapping (report says why; *out is NULL). */
kt_status kt_flow_migrate(const char *src, size_t len, const char *file, char **out, size_t *out_len, int *changed,
                          kt_diags *report);

#endif
