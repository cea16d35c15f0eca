/* The search statements' builder shared by both backends (sql_build.h). */
#include "store/sql_build.h"
#include "store/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void kt_sql_init(kt_sql *q, kt_sql_style style)
{
    memset(q, 0, sizeof *q);
    q->style = style;
}

static void kt_sql_put(kt_sql *q, const char *bytes, size_t n)
{
    if (q->overflow || q->len + n >= sizeof q->text) {
        q->overflow = 1; /* a dropped fragment would silently drop a filter: the caller refuses the statement */
        return;
    }
    memcpy(q->text + q->len, bytes, n);
    q->len += n;
    q->text[q->len] = 0;
}

void kt_sql_add(kt_sql *q, const char *fragment)
{
    for (const char *c = fragment; *c;) {
        size_t run = strcspn(c, "?");
        kt_sql_put(q, c, run);
        c += run;
        if (*c != '?')
            break;
        c++;
        q->placeholders++;
        if (q->style == KT_SQL_QMARK) {
            kt_sql_put(q, "?", 1);
        } else {
            char ph[16];
            int n = snprintf(ph, sizeof ph, "$%d", q->placeholders);
            kt_sql_put(q, ph, (size_t)n);
        }
    }
}

static void kt_sql_arg_add(kt_sql *q, kt_sql_arg a)
{
    if (q->nargs >= KT_SQL_MAX_ARGS) {
        q->overflow = 1;
        return;
    }
    q->args[q->nargs++] = a;
}

void kt_sql_str(kt_sql *q, const char *v) { kt_sql_arg_add(q, (kt_sql_arg){0, v, 0}); }

void kt_sql_int(kt_sql *q, int64_t v) { kt_sql_arg_add(q, (kt_sql_arg){1, NULL, v}); }

void kt_sql_from(kt_sql *q, const char *head, const kt_sql *w)
{
    kt_sql_init(q, w->style);
    kt_sql_put(q, head, strlen(head));
    kt_sql_put(q, w->text, w->len);
    q->placeholders = w->placeholders;
    memcpy(q->args, w->args, sizeof w->args);
    q->nargs = w->nargs;
    q->overflow |= w->overflow;
}

void kt_sql_values(const kt_sql *q, const char **values, char (*nums)[24])
{
    for (int i = 0; i < q->nargs; i++) {
        if (q->args[i].is_int) {
            snprintf(nums[i], sizeof nums[i], "%" PRId64, q->args[i].i);
            values[i] = nums[i];
        } else {
            values[i] = q->args[i].s;
        }
    }
}

int kt_sql_like_under(char *out, size_t cap, const char *prefix)
{
    size_t k = 0;
    for (const char *c = prefix; *c; c++) {
        if (k + 5 > cap) /* room for an escaped character, ".%" and the terminator */
            return -1;
        if (*c == '%' || *c == '_' || *c == '\\')
            out[k++] = '\\';
        out[k++] = *c;
    }
    if (k + 3 > cap)
        return -1;
    memcpy(out + k, ".%", 3);
    return 0;
}

void kt_sql_ns_under(kt_sql *w, const kt_sql_dialect *d, const char *column, const char *ns, char *scratch,
                     size_t cap)
{
    char frag[192];
    snprintf(frag, sizeof frag, " AND (%s = ? OR %s %s ? ESCAPE '\\')", column, column, d->like);
    kt_sql_add(w, frag);
    kt_sql_str(w, ns);
    kt_sql_str(w, scratch);
    if (kt_sql_like_under(scratch, cap, ns))
        w->overflow = 1;
}

void kt_sql_contains_any(kt_sql *w, const kt_sql_dialect *d, const char *const *columns, const char *v)
{
    kt_sql_add(w, " AND (");
    for (size_t i = 0; columns[i]; i++) {
        char frag[128];
        snprintf(frag, sizeof frag, d->contains, columns[i]);
        kt_sql_add(w, i ? " OR " : "");
        kt_sql_add(w, frag);
        kt_sql_str(w, v);
    }
    kt_sql_add(w, ")");
}

int kt_sql_indexable(const char *v)
{
    size_t chars = 0;
    for (const unsigned char *c = (const unsigned char *)v; *c; chars++) {
        int more = *c < 0x80 ? 0 : (*c & 0xE0) == 0xC0 ? 1 : (*c & 0xF0) == 0xE0 ? 2 : (*c & 0xF8) == 0xF0 ? 3 : -1;
        if (more < 0 || (more == 1 && *c < 0xC2))
            return 0;
        c++;
        for (int k = 0; k < more; k++, c++)
            if ((*c & 0xC0) != 0x80)
                return 0;
    }
    return chars >= 3;
}

void kt_sql_page(kt_sql *q, int page, int size)
{
    size = size > 0 ? size : 10;
    page = page > 0 ? page : 1;
    kt_sql_add(q, " LIMIT ? OFFSET ?");
    kt_sql_int(q, size);
    kt_sql_int(q, (int64_t)(page - 1) * size);
}

void kt_sql_exec_where(kt_sql *w, const kt_sql_dialect *d, const kt_exec_query *q, char *scratch, size_t cap)
{
    kt_sql_add(w, " WHERE 1=1");
    if (q->namespace_)
        kt_sql_ns_under(w, d, "namespace", q->namespace_, scratch, cap);
    if (q->flow_id) {
        kt_sql_add(w, " AND flow_id = ?");
        kt_sql_str(w, q->flow_id);
    }
    if (q->nstates) {
        kt_sql_add(w, " AND state IN (");
        for (size_t i = 0; i < q->nstates; i++) {
            kt_sql_add(w, i ? ", ?" : "?");
            kt_sql_str(w, q->states[i]);
        }
        kt_sql_add(w, ")");
    }
    if (q->q) {
        static const char *const cols[] = {"id", "namespace", "flow_id", NULL};
        kt_sql_contains_any(w, d, cols, q->q);
    }
    if (q->start_from_us) {
        kt_sql_add(w, " AND start_us >= ?");
        kt_sql_int(w, q->start_from_us);
    }
    if (q->start_to_us) {
        kt_sql_add(w, " AND start_us <= ?");
        kt_sql_int(w, q->start_to_us);
    }
    for (size_t i = 0; i < q->nlabels; i++) { /* "key:value" was split by the caller at the first colon */
        kt_sql_add(w, d->has_label);
        kt_sql_str(w, q->labels[2 * i]);
        kt_sql_str(w, q->labels[2 * i + 1]);
    }
}

void kt_sql_trigger_where(kt_sql *w, const kt_sql_dialect *d, const kt_trigger_query *q, char *scratch, size_t cap)
{
    kt_sql_add(w, " WHERE 1=1");
    if (q->namespace_)
        kt_sql_ns_under(w, d, "namespace", q->namespace_, scratch, cap);
    if (q->flow_id) {
        kt_sql_add(w, " AND flow_id = ?");
        kt_sql_str(w, q->flow_id);
    }
    if (q->worker_id) {
        kt_sql_add(w, " AND worker_id = ?");
        kt_sql_str(w, q->worker_id);
    }
    if (q->q) {
        static const char *const cols[] = {"namespace", "flow_id", "trigger_id", NULL};
        kt_sql_contains_any(w, d, cols, q->q);
    }
}

int kt_sql_log_joins(const kt_log_query *q) { return q->namespace_ || q->flow_id; }

void kt_sql_log_where(kt_sql *w, const kt_sql_dialect *d, const kt_log_query *q, int min, const char *index_value,
                      char *scratch, size_t cap)
{
    char frag[256];
    kt_sql_add(w, " WHERE 1=1");
    if (q->q) {
        int indexed = index_value != NULL;
        if (indexed) {
            kt_sql_add(w, d->log_message_indexed);
            kt_sql_str(w, index_value);
        }
        if (!indexed || !d->log_indexed_is_rule) {
            snprintf(frag, sizeof frag, d->contains, d->log_message);
            kt_sql_add(w, " AND ");
            kt_sql_add(w, frag);
            kt_sql_str(w, q->q);
        }
    }
    if (q->namespace_)
        kt_sql_ns_under(w, d, "e.namespace", q->namespace_, scratch, cap);
    if (q->flow_id) {
        kt_sql_add(w, " AND e.flow_id = ?");
        kt_sql_str(w, q->flow_id);
    }
    if (q->trigger_id) {
        snprintf(frag, sizeof frag, " AND %s = ?", d->log_trigger);
        kt_sql_add(w, frag);
        kt_sql_str(w, q->trigger_id);
    }
    const struct {
        int on;
        const char *test;
        int64_t v;
    } ints[] = {
        {min > 0, " AND l.level >= ?", min},
        {q->from_us != 0, " AND l.timestamp_us >= ?", q->from_us},
        {q->to_us != 0, " AND l.timestamp_us <= ?", q->to_us},
    };
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
        if (!ints[i].on)
            continue;
        snprintf(frag, sizeof frag, "%s%s", ints[i].test, d->int_cast);
        kt_sql_add(w, frag);
        kt_sql_int(w, ints[i].v);
    }
}

void kt_sql_flow_source_where(kt_sql *w, const kt_sql_dialect *d, const char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (*d->flow_source_indexed && kt_sql_indexable(words[i])) {
            kt_sql_add(w, d->flow_source_indexed);
            kt_sql_str(w, words[i]);
        }
        kt_sql_add(w, d->flow_source_contains);
        kt_sql_str(w, words[i]);
    }
}
