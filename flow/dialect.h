/* Which of Kestra's two lines a flow is written in (base/dialect.h, docs/dialects.md): decided from the constructs it
 * uses (inventory §E). A 2.x marker (`when` on a trigger, a Flow trigger's `dependsOn`/`window`, the Loop task,
 * `item.value` or the new date functions in an expression...) makes it 2.x; a 1.x marker (trigger `conditions`,
 * ForEach, `pluginDefaults`, `json()`, input `BOOLEAN`, a legacy type alias...) makes it 1.x; a flow with both is
 * 2.x half-way through a migration; one with neither is read in the default dialect (flows.dialect, or the dialect
 * its stored revision was saved in). A flow may also name its dialect (`dialect: 2.x`, a Kite property), which wins.
 *
 * In a 2.x flow the 1.x constructs are findings (kt_flow_dialect_findings): a deprecation where the 2.0 guide's
 * replacement means the same (ForEach, pluginDefaults, json(), BOOLEAN...), a refusal where 2.0 removed the thing
 * outright (Count, Template, legacy aliases, read(version=)...) or where the flow says two things (trigger
 * `conditions` beside `when`): each with the guide's reason, its replacement and the guide's address.
 *
 * Pure: the flow document as JSON in. Prefix kt_flow_dialect. */
#ifndef KT_FLOW_DIALECT_H
#define KT_FLOW_DIALECT_H

#include <jansson.h>

#include "base/dialect.h"

/* The flow's dialect; dflt when it uses only constructs common to both lines. */
kt_dialect kt_flow_dialect_detect(const json_t *flow, kt_dialect dflt);

/* A finding about one construct of a flow read in dialect d. refused: an error (else a deprecation, accepted);
 * path: where ("tasks[0].type", the validator's notation, "" for the root); path2: for a construct that is ambiguous
 * beside another one, the other's location (else NULL); message: what, why, what replaces it, the guide's address. */
typedef void (*kt_flow_dialect_finding_fn)(void *ud, int refused, const char *path, const char *path2,
                                           const char *message);
/* Every finding of a flow read in dialect d, depth first in document order. A 1.x flow has none but the one
 * ambiguity both lines share (`maxAttempt` beside `maxAttempts`); a 2.x flow's 1.x constructs are all findings. */
void kt_flow_dialect_findings(const json_t *flow, kt_dialect d, kt_flow_dialect_finding_fn fn, void *ud);

/* 1 when id is one of the words Kestra reserves for the API's routes (pause, resume, force-run, change-status, kill,
 * executions, search, source, disable, enable): a 2.x flow cannot have it as its id (1.x: accepted, as 0.21 did). */
int kt_flow_dialect_reserved_id(const char *id);
/* The reserved words, for messages: "pause, resume, ...". */
const char *kt_flow_dialect_reserved_list(void);

/* The server's default dialect (conf flows.dialect, KITE_FLOWS_DIALECT), set once at start-up before any flow is
 * read; 1.x until then. */
void kt_flow_dialect_set_default(kt_dialect d);
kt_dialect kt_flow_dialect_default(void);

#endif
