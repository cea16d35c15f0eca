/* Shared by flow/migrate*.c: the source being migrated, the edits collected against it, and the helpers that find a
 * node's text from the positions flow/yaml.c records. Prefix kt_mig. Not a public header. */
#ifndef KT_FLOW_MIGRATE_INT_H
#define KT_FLOW_MIGRATE_INT_H

#include <stddef.h>
#include <jansson.h>

#include "base/json.h"
#include "flow/yaml.h"

typedef struct kt_mig_edit {
    size_t start, end; /* byte range of the source replaced */
    char *text;        /* its replacement (owned) */
    int block;         /* a whole-node replacement: edits inside its range are dropped */
} kt_mig_edit;

typedef struct kt_mig {
    const char *src;
    size_t len;
    const char *file;
    kt_yaml_doc *doc;
    const json_t *root;
    size_t *line_start; /* byte offset of each line (index 0 = line 1) */
    size_t nlines;
    kt_mig_edit *edits;
    size_t nedits, cap;
    kt_diags *report;
    struct kt_mig_loops *loops; /* migrate_loop.c's decisions */
} kt_mig;

/* The node at path ("tasks[0].retry", "" = the root) in m->root, or NULL. */
const json_t *kt_mig_at(const kt_mig *m, const char *path);

/* Byte offset of 1-based line/col (col counts characters, as libyaml does). */
size_t kt_mig_offset(const kt_mig *m, int line, int col);
/* The whole entry of the mapping key at path: from the key to the end of the last line of its value (blank and
 * comment lines after it excluded); *col gets the key's column. -1 when path has no key position. */
int kt_mig_entry_span(const kt_mig *m, const char *path, size_t *start, size_t *end, int *col);
/* As kt_mig_entry_span, but from the start of the key's line and through its newline, when the key is the first
 * thing on its line (else -1): for deleting an entry whole. */
int kt_mig_entry_lines(const kt_mig *m, const char *path, size_t *start, size_t *end);
/* The source text of the scalar at path (quotes and block header included). -1 when not found. */
int kt_mig_scalar_span(const kt_mig *m, const char *path, size_t *start, size_t *end);
/* The key text at path (the key's characters only). */
int kt_mig_key_span(const kt_mig *m, const char *path, size_t *start, size_t *end);

/* Queues an edit; text is copied. */
void kt_mig_edit_add(kt_mig *m, size_t start, size_t end, const char *text, int block);
/* One report line at path's key (at_key) or value. */
void kt_mig_report(kt_mig *m, const char *path, int at_key, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* YAML writers: a scalar as kestra-migrate writes one (plain when it reads back as the same string, else
 * double-quoted), and a double-quoted string. */
void kt_mig_put_scalar(kt_buf *b, const json_t *v);
void kt_mig_put_dq(kt_buf *b, const char *s);
/* n spaces. */
void kt_mig_indent(kt_buf *b, int n);

/* Pebble rewriting inside the {{ }} and {% %} tags of s (outside {% raw %}): json( -> fromJson(, | json ->
 * | toJson; with loop != NULL also the ForEach -> Loop names (migrate_loop.c). Returns a new string when something
 * changed, else NULL. */
typedef struct kt_mig_loop_ctx kt_mig_loop_ctx;
char *kt_mig_rewrite_pebble(const char *s, size_t n, const kt_mig_loop_ctx *loop);

/* The rule families. */
void kt_mig_rules_triggers(kt_mig *m);  /* migrate_rules.c: conditions, preconditions */
void kt_mig_rules_loops(kt_mig *m);     /* migrate_loop.c: ForEach / EachSequential / EachParallel -> Loop */
/* The Loop rewrite context of the string at path (inside a rewritten ForEach), NULL elsewhere; frees the state. */
const kt_mig_loop_ctx *kt_mig_loop_ctx_for(const kt_mig *m, const char *path);
void kt_mig_loops_free(kt_mig *m);

#endif
