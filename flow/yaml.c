/* YAML -> jansson with positions. See yaml.h for the contract; the notes here say why it looks this way.
 *
 * We use libyaml's document API: it hands back a node table where an alias is simply the anchored node's
 * index, so anchors cost nothing to resolve, but a naive recursive copy of a "billion laughs" document would
 * explode. The copy therefore counts every node it produces and gives up past KT_YAML_MAX_NODES, and a depth
 * limit stops both stack exhaustion and self-referencing anchors (libyaml registers an anchor before its
 * children, so `&a [*a]` is a real cycle). */
#include "flow/yaml.h"
#include "base/alloc.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/strfmt.h"

/* ---------------------------------------------------------------- diagnostics */

void kt_diags_init(kt_diags *d)
{
    memset(d, 0, sizeof(*d));
}

void kt_diags_clear(kt_diags *d)
{
    for (size_t i = 0; i < d->count; i++) {
        free(d->items[i].file);
        free(d->items[i].path);
        free(d->items[i].message);
    }
    free(d->items);
    memset(d, 0, sizeof(*d));
}

void kt_diags_add(kt_diags *d, const char *file, int line, int col, const char *path, const char *fmt, ...)
{
    if (!d)
        return;
    if (d->count == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 8;
        d->items = kt_xrealloc(d->items, d->cap * sizeof *d->items);
    }
    kt_diag *g = &d->items[d->count];
    va_list ap;
    va_start(ap, fmt);
    g->message = kt_strfmt_v(fmt, ap);
    va_end(ap);
    if (!g->message)
        return;
    g->file = strdup(file ? file : "");
    g->path = strdup(path ? path : "");
    if (!g->file || !g->path) {
        free(g->file);
        free(g->path);
        free(g->message);
        return;
    }
    g->line = line;
    g->col = col;
    d->count++;
}

char *kt_diags_format(const kt_diags *d)
{
    char *buf = NULL;
    size_t sz = 0;
    FILE *f = open_memstream(&buf, &sz);
    if (!f)
        return NULL;
    for (size_t i = 0; d && i < d->count; i++) {
        const kt_diag *g = &d->items[i];
        if (i)
            fputc('\n', f);
        fputs(g->file && *g->file ? g->file : "<input>", f);
        if (g->line > 0)
            fprintf(f, ":%d:%d", g->line, g->col);
        if (g->path && *g->path)
            fprintf(f, " %s", g->path);
        fprintf(f, ": %s", g->message);
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* ---------------------------------------------------------------- position table */

typedef struct pos_entry {
    char *path;
    int line, col;   /* the value */
    int kline, kcol; /* the key that introduced it (or the value) */
} pos_entry;

struct kt_yaml_doc {
    json_t *root;
    pos_entry *pos;
    size_t npos, cappos;
    uint32_t *slots; /* open addressing: index+1 into pos, 0 = empty */
    size_t nslots;
};

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

static int slots_grow(kt_yaml_doc *d)
{
    size_t n = d->nslots ? d->nslots * 2 : 64;
    uint32_t *s = calloc(n, sizeof(*s));
    if (!s)
        return -1;
    for (size_t i = 0; i < d->npos; i++) {
        size_t j = hash_str(d->pos[i].path) & (n - 1);
        while (s[j])
            j = (j + 1) & (n - 1);
        s[j] = (uint32_t)(i + 1);
    }
    free(d->slots);
    d->slots = s;
    d->nslots = n;
    return 0;
}

static pos_entry *pos_find(const kt_yaml_doc *d, const char *path)
{
    if (!d->nslots)
        return NULL;
    size_t j = hash_str(path) & (d->nslots - 1);
    while (d->slots[j]) {
        pos_entry *e = &d->pos[d->slots[j] - 1];
        if (strcmp(e->path, path) == 0)
            return e;
        j = (j + 1) & (d->nslots - 1);
    }
    return NULL;
}

/* Records (or overwrites: the last writer is the node actually kept) the position of path. */
static int pos_set(kt_yaml_doc *d, const char *path, int line, int col, int kline, int kcol)
{
    pos_entry *e = pos_find(d, path);
    if (e) {
        e->line = line, e->col = col, e->kline = kline, e->kcol = kcol;
        return 0;
    }
    if ((d->npos + 1) * 2 > d->nslots && slots_grow(d))
        return -1;
    if (d->npos == d->cappos) {
        size_t n = d->cappos ? d->cappos * 2 : 64;
        pos_entry *p = realloc(d->pos, n * sizeof(*p));
        if (!p)
            return -1;
        d->pos = p;
        d->cappos = n;
    }
    char *cp = strdup(path);
    if (!cp)
        return -1;
    d->pos[d->npos] = (pos_entry){cp, line, col, kline, kcol};
    size_t j = hash_str(path) & (d->nslots - 1);
    while (d->slots[j])
        j = (j + 1) & (d->nslots - 1);
    d->slots[j] = (uint32_t)(++d->npos);
    return 0;
}

json_t *kt_yaml_doc_root(const kt_yaml_doc *d)
{
    return d ? d->root : NULL;
}

int kt_yaml_doc_pos(const kt_yaml_doc *d, const char *path, int *line, int *col)
{
    const pos_entry *e = d ? pos_find(d, path ? path : "") : NULL;
    if (!e)
        return -1;
    if (line)
        *line = e->line;
    if (col)
        *col = e->col;
    return 0;
}

int kt_yaml_doc_key_pos(const kt_yaml_doc *d, const char *path, int *line, int *col)
{
    const pos_entry *e = d ? pos_find(d, path ? path : "") : NULL;
    if (!e)
        return -1;
    if (line)
        *line = e->kline;
    if (col)
        *col = e->kcol;
    return 0;
}

void kt_yaml_doc_locate(const kt_yaml_doc *d, const char *path, int at_key, int *line, int *col)
{
    *line = *col = 0;
    if (!d)
        return;
    char *p = strdup(path ? path : "");
    while (p) {
        int rc = at_key ? kt_yaml_doc_key_pos(d, p, line, col) : kt_yaml_doc_pos(d, p, line, col);
        if (rc == 0 || !*p)
            break;
        char *dot = strrchr(p, '.'), *br = strrchr(p, '[');
        char *cut = dot > br ? dot : br;
        *(cut ? cut : p) = 0;
        at_key = 0;
    }
    free(p);
}

void kt_yaml_doc_free(kt_yaml_doc *d)
{
    if (!d)
        return;
    json_decref(d->root);
    for (size_t i = 0; i < d->npos; i++)
        free(d->pos[i].path);
    free(d->pos);
    free(d->slots);
    free(d);
}

void kt_yaml_docs_free(kt_yaml_doc **docs, size_t ndocs)
{
    for (size_t i = 0; docs && i < ndocs; i++)
        kt_yaml_doc_free(docs[i]);
    free(docs);
}

/* ---------------------------------------------------------------- scalar typing */

/* Jackson's YAML parser asks SnakeYAML's YAML 1.1 resolver for a tag, then only trusts it for
 * null, true/false (yes/no/on/off stay strings since Jackson 2.14), ints and floats. */

static int is_null_word(const char *s, size_t n)
{
    return n == 0 || (n == 1 && s[0] == '~') ||
           (n == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4)));
}

static int bool_word(const char *s, size_t n)
{
    if (n == 4 && (!memcmp(s, "true", 4) || !memcmp(s, "True", 4) || !memcmp(s, "TRUE", 4)))
        return 1;
    if (n == 5 && (!memcmp(s, "false", 5) || !memcmp(s, "False", 5) || !memcmp(s, "FALSE", 5)))
        return 0;
    return -1;
}

/* Copies s without '_' into buf (digits only kept by the callers' checks). */
static int strip_underscores(const char *s, size_t n, char *buf, size_t cap)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '_')
            continue;
        if (j + 1 >= cap)
            return -1;
        buf[j++] = s[i];
    }
    buf[j] = 0;
    return 0;
}

/* YAML 1.1 int forms: decimal (0 or [1-9][0-9_]*), 0b binary, 0 octal, 0x hex; optional sign. */
static json_t *try_int(const char *s, size_t n)
{
    size_t i = 0;
    int neg = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    if (i >= n)
        return NULL;
    int base = 10;
    size_t start = i;
    if (s[i] == '0' && i + 1 < n) {
        if (s[i + 1] == 'x') {
            base = 16, start = i + 2;
        } else if (s[i + 1] == 'b') {
            base = 2, start = i + 2;
        } else {
            base = 8, start = i + 1;
        }
    }
    if (start >= n)
        return NULL;
    for (size_t k = start; k < n; k++) {
        char c = s[k];
        if (c == '_')
            continue;
        int ok = base == 16 ? ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
               : base == 8  ? (c >= '0' && c <= '7')
               : base == 2  ? (c == '0' || c == '1')
                            : (c >= '0' && c <= '9');
        if (!ok)
            return NULL;
    }
    if (base == 10 && s[start] == '_')
        return NULL;
    char buf[128];
    if (strip_underscores(s + start, n - start, buf, sizeof(buf)) || !buf[0])
        return NULL;
    errno = 0;
    char *end;
    unsigned long long u = strtoull(buf, &end, base);
    if (*end)
        return NULL;
    if (errno == ERANGE || u > (unsigned long long)LLONG_MAX + (neg ? 1ull : 0ull)) {
        /* Jackson would produce a BigInteger; a double is the closest jansson has. */
        if (base != 10)
            return NULL;
        double v = strtod(buf, NULL);
        if (!isfinite(v))
            return NULL;
        return json_real(neg ? -v : v);
    }
    long long v = neg ? (long long)(0ull - u) : (long long)u;
    return json_integer(v);
}

/* YAML 1.1 float: [-+]?(\.[0-9]+|[0-9_]+(\.[0-9_]*)?)([eE][-+]?[0-9]+)? ; .inf/.nan have no JSON form and
 * stay strings. Integers were matched before, so this only sees values with a '.' or an exponent. */
static json_t *try_float(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    size_t digits = 0;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, digits++;
        if (!digits)
            return NULL;
    } else {
        while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            digits += s[i] != '_', i++;
        if (!digits)
            return NULL;
        if (i < n && s[i] == '.') {
            i++;
            while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
                i++;
        }
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            i++;
        size_t e = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, e++;
        if (!e)
            return NULL;
    }
    if (i != n)
        return NULL;
    char buf[128];
    if (strip_underscores(s, n, buf, sizeof(buf)))
        return NULL;
    double v = strtod(buf, NULL);
    if (!isfinite(v))
        return NULL;
    return json_real(v);
}

json_t *kt_yaml_plain_scalar(const char *s, size_t len)
{
    if (is_null_word(s, len))
        return json_null();
    int b = bool_word(s, len);
    if (b >= 0)
        return json_boolean(b);
    if (len && ((s[0] >= '0' && s[0] <= '9') || s[0] == '-' || s[0] == '+' || s[0] == '.')) {
        json_t *v = try_int(s, len);
        if (!v)
            v = try_float(s, len);
        if (v)
            return v;
    }
    return json_stringn(s, len);
}

/* ---------------------------------------------------------------- document -> json */

typedef struct pathbuf {
    char *s;
    size_t len, cap;
} pathbuf;

static int path_push(pathbuf *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int path_push(pathbuf *p, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(p->s + p->len, p->cap - p->len, fmt, ap);
        va_end(ap);
        if (n < 0)
            return -1;
        if (p->len + (size_t)n < p->cap) {
            p->len += (size_t)n;
            return 0;
        }
        size_t ncap = (p->cap + (size_t)n + 1) * 2;
        char *ns = realloc(p->s, ncap);
        if (!ns)
            return -1;
        p->s = ns;
        p->cap = ncap;
    }
}

static void path_pop(pathbuf *p, size_t len)
{
    p->len = len;
    p->s[len] = 0;
}

typedef struct loader {
    yaml_document_t *ydoc;
    kt_yaml_doc *out;
    const char *file;
    kt_diags *diags;
    pathbuf path;
    size_t nodes;
    int errors;
    int fatal; /* limit hit or out of memory: stop walking */
} loader;

static void lerr(loader *L, const yaml_mark_t *m, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void lerr(loader *L, const yaml_mark_t *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = kt_strfmt_v(fmt, ap);
    va_end(ap);
    L->errors++;
    if (!msg)
        return;
    kt_diags_add(L->diags, L->file, m ? (int)m->line + 1 : 0, m ? (int)m->column + 1 : 0, L->path.s, "%s", msg);
    free(msg);
}

static json_t *convert(loader *L, int idx, int depth, const yaml_mark_t *keymark);

static const char *scalar_key(yaml_node_t *k)
{
    return k && k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : NULL;
}

static int is_merge_key(yaml_node_t *k)
{
    return k && k->type == YAML_SCALAR_NODE && k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           k->data.scalar.length == 2 && !memcmp(k->data.scalar.value, "<<", 2);
}

/* Fills obj from mapping node `node`. Explicit keys first; keys already in obj came from a mapping with higher
 * precedence (the one that merges this one) and win. Then the `<<` sources, in order, at lower precedence. */
static void build_map(loader *L, yaml_node_t *node, json_t *obj, int depth)
{
    json_t *seen = json_object(); /* this mapping's own keys, for duplicate detection */
    if (!seen) {
        L->fatal = 1;
        return;
    }
    yaml_node_pair_t *p;
    for (p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top && !L->fatal; p++) {
        yaml_node_t *k = yaml_document_get_node(L->ydoc, p->key);
        if (is_merge_key(k))
            continue;
        const char *key = scalar_key(k);
        if (!key) {
            lerr(L, k ? &k->start_mark : NULL, "only scalar mapping keys are supported");
            continue;
        }
        if (json_object_get(seen, key)) {
            size_t save = L->path.len;
            path_push(&L->path, "%s%s", L->path.len ? "." : "", key);
            lerr(L, &k->start_mark, "Duplicate field '%s'", key);
            path_pop(&L->path, save);
            continue;
        }
        json_object_set_new(seen, key, json_true());
        if (json_object_get(obj, key))
            continue;
        size_t save = L->path.len;
        if (path_push(&L->path, "%s%s", L->path.len ? "." : "", key)) {
            L->fatal = 1;
            break;
        }
        json_t *v = convert(L, p->value, depth + 1, &k->start_mark);
        path_pop(&L->path, save);
        if (v)
            json_object_set_new(obj, key, v);
    }
    for (p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top && !L->fatal; p++) {
        yaml_node_t *k = yaml_document_get_node(L->ydoc, p->key);
        if (!is_merge_key(k))
            continue;
        yaml_node_t *v = yaml_document_get_node(L->ydoc, p->value);
        if (depth + 1 > KT_YAML_MAX_DEPTH) {
            lerr(L, &k->start_mark, "document nested deeper than %d levels", KT_YAML_MAX_DEPTH);
            L->fatal = 1;
            break;
        }
        if (v && v->type == YAML_MAPPING_NODE) {
            build_map(L, v, obj, depth + 1);
        } else if (v && v->type == YAML_SEQUENCE_NODE) {
            /* In `<<: [*a, *b]` the earlier map wins, which is what merging in order below obj gives. */
            for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
                yaml_node_t *m = yaml_document_get_node(L->ydoc, *it);
                if (!m || m->type != YAML_MAPPING_NODE) {
                    lerr(L, m ? &m->start_mark : &k->start_mark, "merge key '<<' expects a mapping or a list of mappings");
                    continue;
                }
                build_map(L, m, obj, depth + 1);
            }
        } else {
            lerr(L, v ? &v->start_mark : &k->start_mark, "merge key '<<' expects a mapping or a list of mappings");
        }
    }
    json_decref(seen);
}

static json_t *convert(loader *L, int idx, int depth, const yaml_mark_t *keymark)
{
    yaml_node_t *node = yaml_document_get_node(L->ydoc, idx);
    if (!node || L->fatal)
        return NULL;
    if (depth > KT_YAML_MAX_DEPTH) {
        lerr(L, &node->start_mark, "document nested deeper than %d levels (recursive alias?)", KT_YAML_MAX_DEPTH);
        L->fatal = 1;
        return NULL;
    }
    if (++L->nodes > KT_YAML_MAX_NODES) {
        lerr(L, &node->start_mark, "document expands to more than %d nodes (too many alias expansions)",
             KT_YAML_MAX_NODES);
        L->fatal = 1;
        return NULL;
    }
    const yaml_mark_t *km = keymark ? keymark : &node->start_mark;
    if (pos_set(L->out, L->path.s, (int)node->start_mark.line + 1, (int)node->start_mark.column + 1,
                (int)km->line + 1, (int)km->column + 1)) {
        L->fatal = 1;
        return NULL;
    }
    json_t *v = NULL;
    switch (node->type) {
    case YAML_SCALAR_NODE: {
        const char *s = (const char *)node->data.scalar.value;
        size_t n = node->data.scalar.length;
        if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
            v = kt_yaml_plain_scalar(s, n);
        else
            v = json_stringn(s, n);
        if (!v)
            lerr(L, &node->start_mark, "scalar is not valid UTF-8");
        return v;
    }
    case YAML_SEQUENCE_NODE: {
        v = json_array();
        if (!v)
            break;
        size_t i = 0;
        for (yaml_node_item_t *it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++, i++) {
            size_t save = L->path.len;
            if (path_push(&L->path, "[%zu]", i)) {
                L->fatal = 1;
                break;
            }
            json_t *c = convert(L, *it, depth + 1, NULL);
            path_pop(&L->path, save);
            if (L->fatal) {
                json_decref(c);
                break;
            }
            json_array_append_new(v, c ? c : json_null());
        }
        return v;
    }
    case YAML_MAPPING_NODE:
        v = json_object();
        if (!v)
            break;
        build_map(L, node, v, depth);
        return v;
    default:
        break;
    }
    if (!v)
        L->fatal = 1;
    return v;
}

static kt_yaml_doc *load_one(yaml_document_t *ydoc, const char *file, kt_diags *diags, int *errors)
{
    kt_yaml_doc *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    loader L = {.ydoc = ydoc, .out = d, .file = file, .diags = diags};
    L.path.cap = 64;
    L.path.s = calloc(1, L.path.cap);
    if (!L.path.s) {
        free(d);
        return NULL;
    }
    d->root = convert(&L, 1, 0, NULL);
    free(L.path.s);
    if (L.fatal && !L.errors)
        kt_diags_add(diags, file, 0, 0, "", "out of memory while loading YAML");
    *errors = L.errors + (L.fatal && !L.errors);
    if (!d->root)
        d->root = json_null();
    return d;
}

kt_status kt_yaml_load(const char *src, size_t len, const char *file, kt_yaml_doc ***docs_out, size_t *ndocs,
                       kt_diags *diags)
{
    *docs_out = NULL;
    *ndocs = 0;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return KT_ENOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)src, len);
    kt_yaml_doc **docs = NULL;
    size_t n = 0;
    kt_status st = KT_OK;
    for (;;) {
        yaml_document_t ydoc;
        if (!yaml_parser_load(&parser, &ydoc)) {
            const yaml_mark_t *m = &parser.problem_mark;
            if (parser.error == YAML_MEMORY_ERROR) {
                st = KT_ENOMEM;
            } else if (parser.context) {
                kt_diags_add(diags, file, (int)m->line + 1, (int)m->column + 1, "", "%s (%s at %d:%d)",
                             parser.problem ? parser.problem : "syntax error", parser.context,
                             (int)parser.context_mark.line + 1, (int)parser.context_mark.column + 1);
                st = KT_EINVAL;
            } else {
                kt_diags_add(diags, file, (int)m->line + 1, (int)m->column + 1, "", "%s",
                             parser.problem ? parser.problem : "syntax error");
                st = KT_EINVAL;
            }
            break;
        }
        if (!yaml_document_get_root_node(&ydoc)) {
            yaml_document_delete(&ydoc);
            break; /* end of stream */
        }
        int errors = 0;
        kt_yaml_doc *d = load_one(&ydoc, file, diags, &errors);
        yaml_document_delete(&ydoc);
        if (!d) {
            st = KT_ENOMEM;
            break;
        }
        kt_yaml_doc **nd = realloc(docs, (n + 1) * sizeof(*nd));
        if (!nd) {
            kt_yaml_doc_free(d);
            st = KT_ENOMEM;
            break;
        }
        docs = nd;
        docs[n++] = d;
        if (errors)
            st = KT_EINVAL; /* keep going: later documents may report more errors in the same pass */
    }
    yaml_parser_delete(&parser);
    if (st != KT_OK) {
        kt_yaml_docs_free(docs, n);
        return st;
    }
    *docs_out = docs;
    *ndocs = n;
    return KT_OK;
}
