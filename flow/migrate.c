/* `kite flow migrate`'s engine (flow/migrate.h): the source, the edits queued against it by the rule files
 * (migrate_rules.c for triggers, migrate_loop.c for ForEach), the simple renames and the report-only checks, then
 * the edits applied to the text. Everything is located through the positions flow/yaml.c records, never by searching
 * the text for a key, so a word that merely looks like a key (in a script, a description) is never touched. */
#include "flow/migrate.h"
#include "flow/migrate_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/tasks.h"

/* ---- positions ------------------------------------------------------------------------------------------------ */

static size_t line_end(const kt_mig *m, size_t off) /* offset of the '\n' ending the line at off (or len) */
{
    while (off < m->len && m->src[off] != '\n')
        off++;
    return off;
}

size_t kt_mig_offset(const kt_mig *m, int line, int col)
{
    if (line < 1 || (size_t)line > m->nlines)
        return m->len;
    size_t off = m->line_start[line - 1], end = line_end(m, off);
    for (int c = 1; c < col && off < end; c++) { /* one character: a UTF-8 lead byte and its continuations */
        off++;
        while (off < end && ((unsigned char)m->src[off] & 0xC0) == 0x80)
            off++;
    }
    return off;
}

/* Column (1-based, bytes: indentation is ASCII) of the first non-blank character of the line at index li, 0 for a
 * blank line; *comment when that character starts a comment. */
static int line_indent(const kt_mig *m, size_t li, int *comment)
{
    size_t off = m->line_start[li], end = line_end(m, off), i = off;
    while (i < end && (m->src[i] == ' ' || m->src[i] == '\t' || m->src[i] == '\r'))
        i++;
    *comment = i < end && m->src[i] == '#';
    return i == end ? 0 : (int)(i - off) + 1;
}

/* The last line (0-based) of a node whose key/indicator sits at column kcol of line kline (1-based): the following
 * lines indented deeper belong to it, and so do "- " items at kcol itself when seq_same_col (YAML lets a block
 * sequence sit at its key's column). Blank and comment lines count only when a line of the node follows them. */
static size_t node_last_line(const kt_mig *m, int kline, int kcol, int seq_same_col)
{
    size_t last = (size_t)kline - 1;
    for (size_t li = (size_t)kline; li < m->nlines; li++) {
        int comment, ind = line_indent(m, li, &comment);
        if (!ind || comment)
            continue;
        if (ind > kcol) {
            last = li;
            continue;
        }
        const char *p = m->src + m->line_start[li] + ind - 1;
        if (ind == kcol && seq_same_col && p[0] == '-' && (p[1] == ' ' || p[1] == '\n' || p[1] == '\r')) {
            last = li;
            continue;
        }
        break;
    }
    return last;
}

int kt_mig_key_span(const kt_mig *m, const char *path, size_t *start, size_t *end)
{
    int kl, kc, vl, vc;
    if (kt_yaml_doc_key_pos(m->doc, path, &kl, &kc) || kt_yaml_doc_pos(m->doc, path, &vl, &vc))
        return -1;
    if (kl == vl && kc == vc)
        return -1; /* a sequence item: no key */
    size_t s = kt_mig_offset(m, kl, kc), e = s;
    while (e < m->len && m->src[e] != ':' && m->src[e] != '\n')
        e++;
    while (e > s && (m->src[e - 1] == ' ' || m->src[e - 1] == '\t'))
        e--;
    *start = s;
    *end = e;
    return 0;
}

/* The node at path, from its key (or value for an item) to the end of its last line (without the newline). */
int kt_mig_entry_span(const kt_mig *m, const char *path, size_t *start, size_t *end, int *col)
{
    int kl, kc;
    if (kt_yaml_doc_key_pos(m->doc, path, &kl, &kc))
        return -1;
    /* whether the value is a sequence decides if "- " lines at the key's column still belong to it */
    int vl, vc;
    kt_yaml_doc_pos(m->doc, path, &vl, &vc);
    size_t voff = kt_mig_offset(m, vl, vc);
    int seq = voff < m->len && m->src[voff] == '-';
    size_t s = kt_mig_offset(m, kl, kc);
    /* the key's column in bytes, for comparing with line_indent */
    int kbyte = (int)(s - m->line_start[kl - 1]) + 1;
    size_t last = node_last_line(m, kl, kbyte, seq);
    *start = s;
    *end = line_end(m, m->line_start[last]);
    while (*end > s && (m->src[*end - 1] == '\r'))
        (*end)--;
    if (col)
        *col = kbyte;
    return 0;
}

int kt_mig_entry_lines(const kt_mig *m, const char *path, size_t *start, size_t *end)
{
    size_t s, e;
    int col;
    if (kt_mig_entry_span(m, path, &s, &e, &col))
        return -1;
    size_t ls = s;
    while (ls > 0 && m->src[ls - 1] != '\n')
        ls--;
    for (size_t i = ls; i < s; i++)
        if (m->src[i] != ' ')
            return -1;
    *start = ls;
    *end = e < m->len ? e + 1 : e;
    return 0;
}

int kt_mig_scalar_span(const kt_mig *m, const char *path, size_t *start, size_t *end)
{
    int vl, vc, kl, kc;
    if (kt_yaml_doc_pos(m->doc, path, &vl, &vc) || kt_yaml_doc_key_pos(m->doc, path, &kl, &kc))
        return -1;
    size_t s = kt_mig_offset(m, vl, vc), e = s;
    if (s >= m->len)
        return -1;
    size_t ks = kt_mig_offset(m, kl, kc);
    int kbyte = (int)(ks - m->line_start[kl - 1]) + 1;
    char c = m->src[s];
    if (c == '"' || c == '\'') {
        for (e = s + 1; e < m->len; e++) {
            if (c == '"' && m->src[e] == '\\') {
                e++;
                continue;
            }
            if (m->src[e] == c) {
                if (c == '\'' && e + 1 < m->len && m->src[e + 1] == '\'') {
                    e++;
                    continue;
                }
                e++;
                break;
            }
        }
    } else if (c != '|' && c != '>' && json_is_string(kt_mig_at(m, path)) &&
               !strncmp(m->src + s, json_string_value(kt_mig_at(m, path)),
                        strlen(json_string_value(kt_mig_at(m, path))))) {
        /* a one-line plain scalar is its own text (this also ends it inside a flow collection: [a, b]) */
        e = s + strlen(json_string_value(kt_mig_at(m, path)));
    } else {
        /* plain or block scalar: the rest of its line, then every deeper-indented line */
        size_t last = node_last_line(m, vl, kbyte, 0);
        if (c == '|' || c == '>' || last > (size_t)vl - 1) {
            e = line_end(m, m->line_start[last]);
        } else {
            e = line_end(m, s);
            for (size_t i = s; i + 1 < e; i++)
                if ((m->src[i] == ' ' || m->src[i] == '\t') && m->src[i + 1] == '#') {
                    e = i;
                    break;
                }
            while (e > s && (m->src[e - 1] == ' ' || m->src[e - 1] == '\t' || m->src[e - 1] == '\r'))
                e--;
        }
    }
    *start = s;
    *end = e;
    return 0;
}

/* ---- edits and report ------------------------------------------------------------------------------------------ */

void kt_mig_edit_add(kt_mig *m, size_t start, size_t end, const char *text, int block)
{
    if (m->nedits == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 16;
        m->edits = realloc(m->edits, m->cap * sizeof *m->edits);
    }
    m->edits[m->nedits++] = (kt_mig_edit){start, end, strdup(text), block};
}

void kt_mig_report(kt_mig *m, const char *path, int at_key, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line, col;
    kt_yaml_doc_locate(m->doc, path, at_key, &line, &col);
    kt_diags_add(m->report, m->file, line, col, path, "%s", msg);
}

/* ---- YAML writers ---------------------------------------------------------------------------------------------- */

void kt_mig_indent(kt_buf *b, int n)
{
    for (int i = 0; i < n; i++)
        kt_buf_putc(b, ' ');
}

void kt_mig_put_dq(kt_buf *b, const char *s)
{
    kt_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            kt_buf_putc(b, '\\');
            kt_buf_putc(b, (char)*p);
        } else if (*p == '\n') {
            kt_buf_puts(b, "\\n");
        } else if (*p == '\t') {
            kt_buf_puts(b, "\\t");
        } else if (*p < 0x20) {
            kt_buf_printf(b, "\\x%02X", *p);
        } else {
            kt_buf_putc(b, (char)*p);
        }
    }
    kt_buf_putc(b, '"');
}

void kt_mig_put_scalar(kt_buf *b, const json_t *v)
{
    if (!json_is_string(v)) {
        char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        kt_buf_puts(b, t ? t : "null");
        free(t);
        return;
    }
    const char *s = json_string_value(v);
    size_t n = strlen(s);
    json_t *typed = kt_yaml_plain_scalar(s, n);
    int plain = n > 0 && json_is_string(typed) && !strcmp(json_string_value(typed), s);
    json_decref(typed);
    for (size_t i = 0; plain && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || strchr("[]{},\"'", c) || (c == '#' && i && s[i - 1] == ' ') ||
            (c == ':' && (i + 1 == n || s[i + 1] == ' ')))
            plain = 0;
    }
    /* YAML 1.1 readers (Kestra's) take 06:00:00 for a base-60 number */
    if (plain && s[0] >= '0' && s[0] <= '9' && strchr(s, ':'))
        plain = 0;
    if (plain && (strchr("-?:#&*!|>%@`", s[0]) || s[0] == ' ' || s[n - 1] == ' '))
        plain = 0;
    if (plain)
        kt_buf_puts(b, s);
    else
        kt_mig_put_dq(b, s);
}

const json_t *kt_mig_at(const kt_mig *m, const char *path)
{
    const json_t *node = m->root;
    const char *p = path;
    char key[256];
    while (node && *p) {
        if (*p == '[') {
            char *end;
            size_t idx = strtoul(p + 1, &end, 10);
            node = json_array_get(node, idx);
            p = *end == ']' ? end + 1 : end;
        } else {
            if (*p == '.')
                p++;
            size_t n = strcspn(p, ".[");
            if (n >= sizeof key)
                return NULL;
            memcpy(key, p, n);
            key[n] = 0;
            node = json_object_get(node, key);
            p += n;
        }
    }
    return node;
}

/* ---- simple renames --------------------------------------------------------------------------------------------- */

static void replace_scalar(kt_mig *m, const char *path, const char *text)
{
    size_t s, e;
    if (!kt_mig_scalar_span(m, path, &s, &e))
        kt_mig_edit_add(m, s, e, text, 0);
}

static void rename_key(kt_mig *m, const char *path, const char *key)
{
    size_t s, e;
    if (!kt_mig_key_span(m, path, &s, &e))
        kt_mig_edit_add(m, s, e, key, 0);
}

static const char *str_at(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* The blueprint site's `extend:` block is not part of a flow: commented out line by line, as kestra-migrate does. */
static void rule_extend(kt_mig *m)
{
    size_t s, e;
    if (!json_object_get(m->root, "extend") || kt_mig_entry_lines(m, "extend", &s, &e))
        return;
    kt_buf b = {0};
    for (size_t i = s; i < e;) {
        size_t le = i;
        while (le < e && m->src[le] != '\n')
            le++;
        kt_buf_puts(&b, "# ");
        kt_buf_put(&b, m->src + i, le - i);
        if (le < e)
            kt_buf_putc(&b, '\n');
        i = le + 1;
    }
    char *t = kt_buf_take(&b);
    kt_mig_edit_add(m, s, e, t, 1);
    free(t);
}

/* Inputs and flow outputs: BOOLEAN -> BOOL, ENUM -> SELECT; an input's `name` -> `id`; MULTISELECT `options` ->
 * `values`. */
static void rule_io(kt_mig *m, const char *list)
{
    const json_t *arr = json_object_get(m->root, list);
    size_t i;
    const json_t *x;
    char p[256];
    json_array_foreach(arr, i, x) {
        const char *type = str_at(x, "type");
        snprintf(p, sizeof p, "%s[%zu].type", list, i);
        if (type && !strcmp(type, "BOOLEAN"))
            replace_scalar(m, p, "BOOL");
        else if (type && !strcmp(type, "ENUM"))
            replace_scalar(m, p, "SELECT");
        if (!strcmp(list, "inputs") && json_object_get(x, "name")) {
            snprintf(p, sizeof p, "%s[%zu].name", list, i);
            if (json_object_get(x, "id"))
                kt_mig_report(m, p, 1, "input has both `name` and `id`: remove `name` (2.x knows only `id`)");
            else
                rename_key(m, p, "id");
        }
        if (type && !strcmp(type, "MULTISELECT") && json_object_get(x, "options")) {
            snprintf(p, sizeof p, "%s[%zu].options", list, i);
            if (json_object_get(x, "values"))
                kt_mig_report(m, p, 1, "MULTISELECT has both `options` and `values`: keep `values`");
            else
                rename_key(m, p, "values");
        }
        if (type && !strcmp(type, "FILE") && json_object_get(x, "extension")) {
            snprintf(p, sizeof p, "%s[%zu].extension", list, i);
            kt_mig_report(m, p, 1, "FILE input `extension` is removed in 2.x: remove it");
        }
    }
}

typedef struct plugin_walk {
    kt_mig *m;
} plugin_walk;

/* A script's legacy `runner: PROCESS|DOCKER` (+ `docker: {image}`) -> `taskRunner` + `containerImage`, as
 * kestra-migrate writes it; other docker options have no one-to-one place and are reported. */
static void rule_runner(kt_mig *m, const char *path, const json_t *node)
{
    char p[512], dp[512];
    snprintf(p, sizeof p, "%s.runner", path);
    snprintf(dp, sizeof dp, "%s.docker", path);
    const char *runner = str_at(node, "runner");
    const json_t *docker = json_object_get(node, "docker");
    const char *type = !runner                    ? NULL
                       : !strcmp(runner, "PROCESS") ? "io.kestra.plugin.core.runner.Process"
                       : !strcmp(runner, "DOCKER")  ? "io.kestra.plugin.scripts.runner.docker.Docker"
                                                    : NULL;
    int docker_ok = !docker || (json_is_object(docker) && json_object_size(docker) == 1 && str_at(docker, "image") &&
                                !json_object_get(node, "containerImage"));
    size_t s, e, ds, de;
    int col, dcol;
    if (!type || json_object_get(node, "taskRunner") || !docker_ok || kt_mig_entry_span(m, p, &s, &e, &col) ||
        (docker && kt_mig_entry_span(m, dp, &ds, &de, &dcol))) {
        kt_mig_report(m, p, 1, "`runner` is removed in 2.x: use `taskRunner` (+ `containerImage`)");
        return;
    }
    kt_buf b = {0};
    kt_buf_puts(&b, "taskRunner:\n");
    kt_mig_indent(&b, col + 1);
    kt_buf_printf(&b, "type: %s", type);
    char *t = kt_buf_take(&b);
    kt_mig_edit_add(m, s, e, t, 1);
    free(t);
    if (docker) {
        kt_buf_puts(&b, "containerImage: ");
        kt_mig_put_scalar(&b, json_object_get(docker, "image"));
        t = kt_buf_take(&b);
        kt_mig_edit_add(m, ds, de, t, 1);
        free(t);
    }
}

/* An execution state spelled CANCELED (a state list of a task or trigger, Exit's `state`): 2.x knows only
 * CANCELLED, which is not KILLED. */
static void rule_canceled(kt_mig *m, const char *path, const char *value)
{
    if (strcmp(value, "CANCELED"))
        return;
    size_t n = strlen(path);
    const char *last = strrchr(path, '.');
    int in_list = n && path[n - 1] == ']' && last &&
                  (!strncmp(last, ".states[", 8) || !strncmp(last, ".in[", 4) || !strncmp(last, ".notIn[", 7));
    if (in_list || (last && !strcmp(last, ".state")))
        replace_scalar(m, path, "CANCELLED");
}

/* One plugin (task, trigger, condition, task runner) anywhere in the flow: its legacy alias, the per-type renames,
 * and the types 2.x removed without a mechanical replacement. */
static void on_plugin(void *ud, const char *path, const char *type, const kt_task_def *d)
{
    kt_mig *m = ((plugin_walk *)ud)->m;
    char p[512];
    const char *canon = d ? d->type : type;
    snprintf(p, sizeof p, "%s%stype", path, *path ? "." : "");
    const json_t *node = kt_mig_at(m, path);
    const char *out_type = canon;
    if (!strcmp(canon, "io.kestra.plugin.core.debug.Echo")) {
        /* Echo -> Log: `format` becomes `message` (level is common to both) */
        out_type = "io.kestra.plugin.core.log.Log";
        char fp[512];
        snprintf(fp, sizeof fp, "%s.format", path);
        if (json_object_get(node, "format"))
            rename_key(m, fp, "message");
    }
    if (strcmp(type, out_type))
        replace_scalar(m, p, out_type);

    static const struct {
        const char *type, *msg;
    } removed[] = {
        {"io.kestra.plugin.core.flow.ForEachItem",
         "ForEachItem is removed in 2.x: use a Loop over the file (values: \"{{ inputs.file }}\") or Split + Loop + "
         "Subflow (https://kestra.io/docs/migration-guide/v2.0.0/foreach-loop)"},
        {"io.kestra.plugin.core.flow.Template", "Template is removed in 2.x: use a Subflow (templateId -> flowId)"},
        {"io.kestra.plugin.core.execution.Count", "execution.Count is removed in 2.x: use the KV store"},
        {"io.kestra.plugin.core.execution.Resume", "execution.Resume is removed in 2.x: use the API or an SDK"},
        {"io.kestra.plugin.core.trigger.Toggle", "trigger.Toggle is removed in 2.x: use the API or an SDK"},
        {"io.kestra.plugin.core.state.Set", "the state store tasks are removed in 2.x: use the KV tasks"},
        {"io.kestra.plugin.core.state.Get", "the state store tasks are removed in 2.x: use the KV tasks"},
        {"io.kestra.plugin.core.state.Delete", "the state store tasks are removed in 2.x: use the KV tasks"},
    };
    for (size_t i = 0; i < sizeof removed / sizeof *removed; i++)
        if (!strcmp(canon, removed[i].type))
            kt_mig_report(m, path, 0, "%s", removed[i].msg);
    if (!strcmp(canon, "io.kestra.plugin.core.flow.Pause") &&
        (json_object_get(node, "delay") || json_object_get(node, "tasks")))
        kt_mig_report(m, path, 0, "Pause `delay`/`tasks` are removed in 2.x: use `pauseDuration` and separate tasks");
    if (!strcmp(canon, "io.kestra.plugin.core.flow.Subflow") && json_object_get(node, "outputs")) {
        snprintf(p, sizeof p, "%s.outputs", path);
        kt_mig_report(m, p, 1, "Subflow `outputs` are removed in 2.x: declare flow-level `outputs` in the child flow "
                               "and read outputs.<subflow>.outputs.<id>");
    }
    if (json_object_get(node, "runner") && !strncmp(canon, "io.kestra.plugin.scripts.", 25))
        rule_runner(m, path, node);
    if (d && d->kind == KT_PLUGIN_TRIGGER && json_object_get(node, "backfills")) {
        snprintf(p, sizeof p, "%s.backfills", path);
        kt_mig_report(m, p, 1, "Schedule `backfills` is removed in 2.x: start backfills from the API or the UI");
    }
}

/* Constructs of the flow as a whole that 2.x removed without a mechanical replacement. */
static void rule_flow_level(kt_mig *m)
{
    if (json_object_get(m->root, "pluginDefaults"))
        kt_mig_report(m, "pluginDefaults", 1,
                      "pluginDefaults are removed in 2.x: write the values inline or in `variables` (Enterprise: "
                      "policyRefs)");
    if (json_object_get(m->root, "taskDefaults"))
        kt_mig_report(m, "taskDefaults", 1, "taskDefaults are removed in 2.x: write the values inline");
    static const char *const reserved[] = {"pause",  "resume", "force-run", "change-status", "kill",
                                           "executions", "search", "source", "disable", "enable"};
    const char *fid = str_at(m->root, "id");
    for (size_t i = 0; fid && i < sizeof reserved / sizeof *reserved; i++)
        if (!strcmp(fid, reserved[i]))
            kt_mig_report(m, "id", 0, "'%s' is a reserved flow id in 2.x: rename the flow (and the Subflows and Flow "
                                      "triggers that name it)", fid);
    if (json_object_get(m->root, "listeners"))
        kt_mig_report(m, "listeners", 1, "listeners are removed in 2.x: move them to a separate flow with a Flow "
                                         "trigger");
    /* A Schedule must supply every input that has no default in 2.x (refused at save otherwise). */
    const json_t *inputs = json_object_get(m->root, "inputs"), *triggers = json_object_get(m->root, "triggers");
    size_t ti;
    const json_t *t;
    json_array_foreach(triggers, ti, t) {
        const char *type = kt_task_canonical_type(str_at(t, "type") ? str_at(t, "type") : "");
        if (strcmp(type, "io.kestra.plugin.core.trigger.Schedule"))
            continue;
        const json_t *given = json_object_get(t, "inputs");
        size_t ii;
        const json_t *in;
        json_array_foreach(inputs, ii, in) {
            const char *id = str_at(in, "id") ? str_at(in, "id") : str_at(in, "name");
            /* required: false and prefill do not count (flows-changes.md); an input gated by dependsOn does */
            if (!id || json_object_get(in, "defaults") || json_object_get(in, "dependsOn") || json_object_get(given, id))
                continue;
            char p[128];
            snprintf(p, sizeof p, "triggers[%zu]", ti);
            kt_mig_report(m, p, 0,
                          "Schedule '%s' does not supply input '%s', which has no default: 2.x refuses the flow; "
                          "add `inputs: {%s: ...}` to the trigger or a `defaults` to the input",
                          str_at(t, "id") ? str_at(t, "id") : "?", id, id);
        }
    }
}

/* Any object of the flow (plugin types the catalogue does not know included): PurgeKV's expiredOnly, a retry's
 * maxAttempt. */
static void on_object(kt_mig *m, const char *path, const json_t *node)
{
    char p[1024];
    const char *type = json_string_value(json_object_get(node, "type"));
    if (type && !strcmp(type, "io.kestra.plugin.core.kv.PurgeKV") && json_object_get(node, "expiredOnly")) {
        char ep[512];
        snprintf(ep, sizeof ep, "%s.expiredOnly", path);
        size_t s, e;
        int col;
        if (json_object_get(node, "behavior")) {
            kt_mig_report(m, ep, 1, "`expiredOnly` beside `behavior`: move it into `behavior` by hand");
        } else if (!kt_mig_entry_span(m, ep, &s, &e, &col)) {
            kt_buf b = {0};
            kt_buf_puts(&b, "behavior:\n");
            kt_mig_indent(&b, col + 1);
            kt_buf_puts(&b, "type: key\n");
            kt_mig_indent(&b, col + 1);
            kt_buf_puts(&b, "expiredOnly: ");
            kt_mig_put_scalar(&b, json_object_get(node, "expiredOnly"));
            char *t = kt_buf_take(&b);
            kt_mig_edit_add(m, s, e, t, 1);
            free(t);
        }
    }
    const json_t *retry = json_object_get(node, "retry");
    if (json_is_object(retry) && json_object_get(retry, "maxAttempt")) {
        snprintf(p, sizeof p, "%s.retry.maxAttempt", path);
        if (json_object_get(retry, "maxAttempts"))
            kt_mig_report(m, p, 1, "retry has both `maxAttempt` and `maxAttempts`: keep `maxAttempts`");
        else
            rename_key(m, p, "maxAttempts");
    }

}

/* ---- the strings: Pebble renames ------------------------------------------------------------------------------ */

typedef struct strwalk {
    kt_mig *m;
    size_t *protect; /* pairs of offsets: block scalars, whose whitespace-only lines are content */
    size_t nprotect, cap;
} strwalk;


static void walk_strings(strwalk *w, const json_t *v, char *path, size_t plen, size_t cap)
{
    if (json_is_string(v)) {
        size_t s, e;
        if (kt_mig_scalar_span(w->m, path, &s, &e))
            return;
        if (s < e && (w->m->src[s] == '|' || w->m->src[s] == '>')) {
            if (w->nprotect + 2 > w->cap) {
                w->cap = w->cap ? 2 * w->cap : 32;
                w->protect = realloc(w->protect, w->cap * sizeof *w->protect);
            }
            w->protect[w->nprotect++] = s;
            w->protect[w->nprotect++] = e;
        }
        const char *val = json_string_value(v);
        rule_canceled(w->m, path, val);
        for (const char *r = strstr(val, "version"); r; r = strstr(r + 7, "version")) {
            /* read(path, version=n) / fileURI(path, version=n): 2.x names it revision=, with no alias */
            const char *q = r + 7;
            while (*q == ' ')
                q++;
            const char *open = r;
            while (open > val && *open != '(' && *open != ')' && *open != '}')
                open--;
            int fn = *open == '(' && ((open - val >= 4 && !strncmp(open - 4, "read", 4)) ||
                                      (open - val >= 7 && !strncmp(open - 7, "fileURI", 7)));
            if (*q == '=' && q[1] != '=' && fn && (r == val || !(isalnum((unsigned char)r[-1]) || r[-1] == '_'))) {
                kt_mig_report(w->m, path, 0, "read()/fileURI() `version=` is `revision=` in 2.x (no alias; it fails at "
                                             "run time): rename it");
                break;
            }
        }
        char *t = kt_mig_rewrite_pebble(w->m->src + s, e - s, kt_mig_loop_ctx_for(w->m, path));
        if (t) {
            kt_mig_edit_add(w->m, s, e, t, 0);
            free(t);
        }
        return;
    }
    if (json_is_object(v)) {
        const char *k;
        const json_t *x;
        on_object(w->m, path, v);
        json_object_foreach((json_t *)v, k, x) {
            if (!plen && (!strcmp(k, "extend") || !strcmp(k, "pluginDefaults")))
                continue;
            int n = snprintf(path + plen, cap - plen, "%s%s", plen ? "." : "", k);
            if (n > 0 && (size_t)n < cap - plen)
                walk_strings(w, x, path, plen + (size_t)n, cap);
            path[plen] = 0;
        }
    } else if (json_is_array(v)) {
        size_t i;
        const json_t *x;
        json_array_foreach(v, i, x) {
            int n = snprintf(path + plen, cap - plen, "[%zu]", i);
            if (n > 0 && (size_t)n < cap - plen)
                walk_strings(w, x, path, plen + (size_t)n, cap);
            path[plen] = 0;
        }
    }
}

/* ---- applying ------------------------------------------------------------------------------------------------- */

static int edit_cmp(const void *a, const void *b)
{
    const kt_mig_edit *x = a, *y = b;
    if (x->block != y->block)
        return y->block - x->block; /* blocks first: they win over edits inside them */
    return x->start < y->start ? -1 : x->start > y->start;
}

static int diag_cmp(const void *a, const void *b)
{
    const kt_diag *x = a, *y = b;
    return x->line != y->line ? (x->line > y->line) - (x->line < y->line) : (x->col > y->col) - (x->col < y->col);
}

static int start_cmp(const void *a, const void *b)
{
    const kt_mig_edit *x = *(kt_mig_edit *const *)a, *y = *(kt_mig_edit *const *)b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static char *apply_edits(kt_mig *m, size_t *out_len)
{
    if (m->nedits) /* edits is NULL when there are none: qsort's pointer is nonnull */
        qsort(m->edits, m->nedits, sizeof *m->edits, edit_cmp);
    kt_mig_edit **keep = calloc(m->nedits + 1, sizeof *keep);
    size_t nkeep = 0;
    for (size_t i = 0; i < m->nedits; i++) {
        kt_mig_edit *e = &m->edits[i];
        int clash = 0;
        for (size_t j = 0; j < nkeep && !clash; j++)
            clash = e->start < keep[j]->end && keep[j]->start < e->end;
        if (!clash)
            keep[nkeep++] = e;
    }
    qsort(keep, nkeep, sizeof *keep, start_cmp);
    kt_buf b = {0};
    size_t at = 0;
    for (size_t i = 0; i < nkeep; i++) {
        kt_buf_put(&b, m->src + at, keep[i]->start - at);
        kt_buf_puts(&b, keep[i]->text);
        at = keep[i]->end;
    }
    kt_buf_put(&b, m->src + at, m->len - at);
    free(keep);
    *out_len = b.len;
    return kt_buf_take(&b);
}

/* A changed file loses the blanks of its whitespace-only lines (block scalars excepted), as kestra-migrate's output
 * does; an unchanged one keeps every byte. */
static void blank_lines(kt_mig *m, const strwalk *w)
{
    for (size_t li = 0; li < m->nlines; li++) {
        size_t s = m->line_start[li], e = line_end(m, s), i = s;
        while (i < e && (m->src[i] == ' ' || m->src[i] == '\t'))
            i++;
        if (i != e || e == s)
            continue;
        int inside = 0;
        for (size_t k = 0; k + 1 < w->nprotect && !inside; k += 2)
            inside = s > w->protect[k] && s < w->protect[k + 1];
        if (!inside)
            kt_mig_edit_add(m, s, e, "", 0);
    }
}


kt_status kt_flow_migrate(const char *src, size_t len, const char *file, char **out, size_t *out_len, int *changed,
                          kt_diags *report)
{
    *out = NULL;
    *out_len = 0;
    *changed = 0;
    kt_yaml_doc **docs = NULL;
    size_t ndocs = 0;
    kt_status st = kt_yaml_load(src, len, file, &docs, &ndocs, report);
    if (st != KT_OK)
        return st;
    if (ndocs != 1 || !json_is_object(kt_yaml_doc_root(docs[0]))) {
        kt_diags_add(report, file, 0, 0, "", "%s", ndocs == 1 ? "a flow is a YAML mapping" :
                                                   "a flow file holds exactly one YAML document");
        kt_yaml_docs_free(docs, ndocs);
        return KT_EINVAL;
    }
    size_t first_report = report->count;
    kt_mig m = {.src = src, .len = len, .file = file, .doc = docs[0], .root = kt_yaml_doc_root(docs[0]),
                .report = report};
    m.line_start = malloc((len + 2) * sizeof *m.line_start);
    m.line_start[m.nlines++] = 0;
    for (size_t i = 0; i < len; i++)
        if (src[i] == '\n' && i + 1 < len)
            m.line_start[m.nlines++] = i + 1;

    rule_extend(&m);
    kt_mig_rules_triggers(&m);
    kt_mig_rules_loops(&m);
    rule_io(&m, "inputs");
    rule_io(&m, "outputs");
    plugin_walk pw = {&m};
    kt_task_walk_flow(m.root, on_plugin, &pw);
    rule_flow_level(&m);
    strwalk w = {.m = &m};
    char path[1024] = "";
    walk_strings(&w, m.root, path, 0, sizeof path);
    if (m.nedits)
        blank_lines(&m, &w);

    *out = apply_edits(&m, out_len);
    /* the report in file order, as a reader goes through the flow */
    if (report->count > first_report) /* items may be NULL when nothing was reported: qsort's pointer is nonnull */
        qsort(report->items + first_report, report->count - first_report, sizeof *report->items, diag_cmp);
    *changed = *out_len != len || memcmp(*out, src, len);

    free(w.protect);
    kt_mig_loops_free(&m);
    for (size_t i = 0; i < m.nedits; i++)
        free(m.edits[i].text);
    free(m.edits);
    free(m.line_start);
    kt_yaml_docs_free(docs, ndocs);
    return KT_OK;
}
