/* The two lines of Kestra's flow language Kite reads (docs/dialects.md): 1.x (Kestra 0.21's source plus what the 1.x
 * line added, up to the 1.3 LTS) and 2.x (Kestra 2.0's migration guide: Loop, `when`, `dependsOn`, the removals).
 * One engine runs both; a flow's dialect is decided once, when it is saved (flow/dialect.h), and kept in its JSON
 * ("dialect"), so the executor, the scheduler, the worker and the expression engine each read it from there.
 *
 * The zero value is 1.x: a flow or an environment that never heard of dialects behaves as Kite always did. */
#ifndef KT_BASE_DIALECT_H
#define KT_BASE_DIALECT_H

#include <jansson.h>

typedef enum kt_dialect {
    KT_DIALECT_1X = 0, /* Kestra 1.x (0.21 semantics + the 1.x additions) */
    KT_DIALECT_2X = 1, /* Kestra 2.x */
} kt_dialect;

/* "1.x" or "2.x": the spelling of the flow JSON's "dialect" field, of `kite flow validate` and of the config. */
const char *kt_dialect_name(kt_dialect d);
/* Reads a dialect as a user writes it: "1", "1.x", "1.3", "2", "2.x", "2.0" (any 1.N or 2.N). 0 when understood,
 * -1 otherwise (*out untouched). */
int kt_dialect_parse(const char *s, kt_dialect *out);
/* A flow's dialect, from its JSON's "dialect" field (1.x when it has none or it is unreadable). */
kt_dialect kt_dialect_of_flow(const json_t *flow);

#endif
