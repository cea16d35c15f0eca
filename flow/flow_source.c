/* Flow sources rewritten (disable/enable) and generated from JSON, as Kestra's FlowService does (flow_source.h). */
#include "flow/flow_source.h"

#include "base/json.h"
#include "flow/yaml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- injectDisabled ------------------------------------------------------------------------------ */

/* Java's \s: space, \t, \n, \x0B, \f, \r. */
static int kt_fs_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

/* The length of `disabled\s*:\s*<word>\s*` at s, or 0 when it is not there. */
static size_t kt_fs_match(const char *s, const char *word)
{
    size_t i = 0;
    if (strncmp(s, "disabled", 8))
        return 0;
    i = 8;
    while (kt_fs_space(s[i]))
        i++;
    if (s[i] != ':')
        return 0;
    i++;
    while (kt_fs_space(s[i]))
        i++;
    size_t wl = strlen(word);
    if (strncmp(s + i, word, wl))
        return 0;
    i += wl;
    while (kt_fs_space(s[i]))
        i++;
    return i;
}

char *kt_flow_source_inject_disabled(const char *source, int disabled)
{
    const char *unwanted = disabled ? "false" : "true";
    char repl[32];
    snprintf(repl, sizeof repl, "disabled: %s\n", disabled ? "true" : "false");
    kt_buf b = {0};
    int found = 0;
    size_t len = strlen(source);
    for (size_t i = 0; i < len;) {
        /* MULTILINE ^: the start, or after a line terminator (\n, \r not followed by \n, or \r\n) */
        int bol = i == 0 || source[i - 1] == '\n' || (source[i - 1] == '\r' && source[i] != '\n');
        size_t m = bol ? kt_fs_match(source + i, unwanted) : 0;
        if (m) {
            kt_buf_puts(&b, repl);
            found = 1;
            i += m;
            continue;
        }
        kt_buf_putc(&b, source[i]);
        i++;
    }
    if (!found)
        kt_buf_printf(&b, "\ndisabled: %s", disabled ? "true" : "false");
    return kt_buf_take(&b);
}

/* ---- generateSource ------------------------------------------------------------------------------- */

/* YAML 1.1 words a reader may take as booleans or null (Jackson's reserved keywords). */
static int kt_fs_reserved(const char *s)
{
    static const char *const words[] = {"true", "false", "yes", "no",  "y",   "n",    "on",  "off",
                                        "null", "~",     "True", "False", "Yes", "No", "Y",   "N",
                                        "On",   "Off",   "Null", "TRUE", "FALSE", "YES", "NO", "ON",
                                        "OFF",  "NULL"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (!strcmp(s, words[i]))
            return 1;
    return 0;
}

enum { KT_FS_PLAIN, KT_FS_SINGLE, KT_FS_DOUBLE };

/* How a string scalar must be written to be read back as the same string. Jackson (MINIMIZE_QUOTES) double-quotes
 * reserved words, numbers, multi-line text and flow indicators; SnakeYAML then single-quotes what still cannot be
 * plain (a leading indicator, blanks at an end). */
static int kt_fs_style(const char *s)
{
    size_t n = strlen(s);
    if (!n || kt_fs_reserved(s))
        return KT_FS_DOUBLE;
    json_t *typed = kt_yaml_plain_scalar(s, n);
    int not_string = !json_is_string(typed);
    json_decref(typed);
    if (not_string)
        return KT_FS_DOUBLE;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || strchr("[]{},", c))
            return KT_FS_DOUBLE;
        if (c == '#' && i > 0 && s[i - 1] == ' ')
            return KT_FS_DOUBLE;
        if (c == ':' && (i + 1 == n || s[i + 1] == ' '))
            return KT_FS_DOUBLE;
    }
    if (strchr("-?:,#&*!|>'\"%@`", s[0]) || s[0] == ' ' || s[n - 1] == ' ')
        return KT_FS_SINGLE;
    return KT_FS_PLAIN;
}

static void kt_fs_string(kt_buf *b, const char *s)
{
    int style = kt_fs_style(s);
    if (style == KT_FS_PLAIN) {
        kt_buf_puts(b, s);
        return;
    }
    if (style == KT_FS_SINGLE) {
        kt_buf_putc(b, '\'');
        for (const char *p = s; *p; p++) {
            if (*p == '\'')
                kt_buf_putc(b, '\'');
            kt_buf_putc(b, *p);
        }
        kt_buf_putc(b, '\'');
        return;
    }
    kt_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': kt_buf_puts(b, "\\\""); break;
        case '\\': kt_buf_puts(b, "\\\\"); break;
        case '\n': kt_buf_puts(b, "\\n"); break;
        case '\t': kt_buf_puts(b, "\\t"); break;
        case '\r': kt_buf_puts(b, "\\r"); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                kt_buf_printf(b, "\\x%02X", *p);
            else
                kt_buf_putc(b, (char)*p);
        }
    }
    kt_buf_putc(b, '"');
}

static void kt_fs_scalar(kt_buf *b, const json_t *v)
{
    char num[64];
    switch (json_typeof(v)) {
    case JSON_STRING: kt_fs_string(b, json_string_value(v)); break;
    case JSON_INTEGER: kt_buf_printf(b, "%lld", (long long)json_integer_value(v)); break;
    case JSON_REAL:
        kt_fmt_double(json_real_value(v), num, sizeof num);
        kt_buf_puts(b, num);
        break;
    case JSON_TRUE: kt_buf_puts(b, "true"); break;
    case JSON_FALSE: kt_buf_puts(b, "false"); break;
    case JSON_OBJECT: kt_buf_puts(b, "{}"); break; /* only empty ones come here */
    case JSON_ARRAY: kt_buf_puts(b, "[]"); break;
    default: kt_buf_puts(b, "null"); break;
    }
}

static int kt_fs_is_block(const json_t *v)
{
    return (json_is_object(v) && json_object_size(v)) || (json_is_array(v) && json_array_size(v));
}

static void kt_fs_indent(kt_buf *b, int n)
{
    for (int i = 0; i < n; i++)
        kt_buf_putc(b, ' ');
}

/* A non-empty map or sequence at indent; first_inline: its first line continues the current one ("- " before). */
static void kt_fs_node(kt_buf *b, const json_t *v, int indent, int first_inline, const char *skip_key)
{
    int first = 1;
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            if (!(first && first_inline))
                kt_fs_indent(b, indent);
            first = 0;
            kt_buf_puts(b, "- ");
            if (kt_fs_is_block(x)) {
                kt_fs_node(b, x, indent + 2, 1, NULL);
                continue;
            }
            kt_fs_scalar(b, x);
            kt_buf_putc(b, '\n');
        }
        return;
    }
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x) {
        if (json_is_null(x) || (skip_key && !strcmp(k, skip_key)))
            continue; /* Jackson's NON_DEFAULT mapper leaves nulls out */
        if (!(first && first_inline))
            kt_fs_indent(b, indent);
        first = 0;
        kt_fs_string(b, k);
        kt_buf_putc(b, ':');
        if (json_is_array(x) && json_array_size(x)) {
            kt_buf_putc(b, '\n');
            kt_fs_node(b, x, indent, 0, NULL); /* SnakeYAML's sequences sit at their key's indentation */
        } else if (json_is_object(x) && json_object_size(x)) {
            kt_buf_putc(b, '\n');
            kt_fs_node(b, x, indent + 2, 0, NULL);
        } else {
            kt_buf_putc(b, ' ');
            kt_fs_scalar(b, x);
            kt_buf_putc(b, '\n');
        }
    }
    if (first && first_inline) /* every entry was null: still a map */
        kt_buf_puts(b, "{}\n");
}

static char *kt_fs_write(const json_t *v, const char *skip_key)
{
    kt_buf b = {0};
    if (kt_fs_is_block(v))
        kt_fs_node(&b, v, 0, 0, skip_key);
    else {
        kt_fs_scalar(&b, v);
        kt_buf_putc(&b, '\n');
    }
    return kt_buf_take(&b);
}

char *kt_flow_source_generate(const json_t *flow) { return kt_fs_write(flow, "revision"); }

char *kt_flow_source_yaml(const json_t *v) { return kt_fs_write(v, NULL); }
