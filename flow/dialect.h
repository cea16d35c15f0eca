/* Which of Kestra's two lines a flow is written in (base/dialect.h, docs/dialects.md): decided from the constructs it
 * uses. A 2.x marker (`when` on a trigger, a Flow trigger's `dependsOn`/`window`, the Loop task...) makes it 2.x; a
 * 1.x marker (trigger `conditions`, ForEach, `pluginDefaults`, `json()`...) makes it 1.x; a flow with both is 2.x
 * half-way through a migration; one with neither is read in the server's default dialect (flows.dialect). A flow
 * may also name its dialect (`dialect: 2.x`, a Kite property), which wins.
 *
 * Pure: the flow document as JSON in. Prefix kt_flow_dialect. */
#ifndef KT_FLOW_DIALECT_H
#define KT_FLOW_DIALECT_H

#include <jansson.h>

#include "base/dialect.h"

/* The flow's dialect; dflt when it uses only constructs common to both lines. */
kt_dialect kt_flow_dialect_detect(const json_t *flow, kt_dialect dflt);

/* The server's default dialect (conf flows.dialect, KITE_FLOWS_DIALECT), set once at start-up before any flow is
 * read; 1.x until then. */
void kt_flow_dialect_set_default(kt_dialect d);
kt_dialect kt_flow_dialect_default(void);

#endif
