/* Loop's values and items (flow/loop.h). */
#include "flow/loop.h"
#include "expr/expr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A value as the string an iteration sees: strings as they are, anything else as compact JSON. */
static json_t *kt_loop_coalesce(const json_t *v)
{
    if (json_is_string(v))
        return json_incref((json_t *)v);
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    json_t *out = json_string(s ? s : "");
    free(s);
    return out;
}

static json_t *kt_loop_item(const json_t *value, const char *key, size_t index)
{
    json_t *item = json_object();
    json_object_set_new(item, "value", kt_loop_coalesce(value));
    json_object_set_new(item, "index", json_integer((json_int_t)index));
    if (key)
        json_object_set_new(item, "key", json_string(key));
    return item;
}

json_t *kt_loop_items(const json_t *values, char *err, size_t errcap)
{
    json_t *parsed = NULL;
    if (json_is_string(values)) {
        json_error_t je;
        parsed = json_loads(json_string_value(values), JSON_DECODE_ANY, &je);
        if (!json_is_array(parsed) && !json_is_object(parsed)) {
            snprintf(err, errcap, "Unable to parse '%s' as a JSON array or object",
                     json_string_value(values));
            json_decref(parsed);
            return NULL;
        }
        values = parsed;
    }
    json_t *items = json_array();
    if (json_is_array(values)) {
        size_t i;
        json_t *v;
        json_array_foreach(values, i, v) {
            if (json_is_null(v)) {
                snprintf(err, errcap, "Found a null value at index %zu of the Loop values", i);
                goto fail;
            }
            json_array_append_new(items, kt_loop_item(v, NULL, i));
        }
    } else if (json_is_object(values)) {
        const char *k;
        json_t *v;
        size_t i = 0;
        json_object_foreach((json_t *)values, k, v) {
            if (json_is_null(v)) {
                snprintf(err, errcap, "Found a null value for key '%s' of the Loop values", k);
                goto fail;
            }
            json_array_append_new(items, kt_loop_item(v, k, i++));
        }
    } else {
        snprintf(err, errcap, "The Loop values must be a list, a map, a JSON array string or an internal-storage "
                              "URI, not %s",
                 values ? "a scalar" : "null");
        goto fail;
    }
    json_decref(parsed);
    return items;
fail:
    json_decref(items);
    json_decref(parsed);
    return NULL;
}

int kt_loop_values_is_uri(const char *s) { return s && !strncmp(s, "kestra://", 9); }

json_t *kt_loop_items_of_lines(const char *data, size_t len, char *err, size_t errcap)
{
    json_t *items = json_array();
    size_t index = 0;
    for (size_t at = 0; at < len;) {
        const char *line = data + at, *nl = memchr(line, '\n', len - at);
        size_t n = nl ? (size_t)(nl - line) : len - at;
        at += n + (nl != NULL);
        if (n && line[n - 1] == '\r')
            n--;
        size_t lead = 0;
        while (lead < n && (line[lead] == ' ' || line[lead] == '\t'))
            lead++;
        if (lead == n)
            continue; /* a blank line (the file's trailing newline) is no iteration */
        json_t *v;
        if (line[lead] == '{' || line[lead] == '[' || line[lead] == '"') {
            char perr[256];
            v = kt_expr_ion_parse(line, n, perr, sizeof perr);
            if (!v) {
                snprintf(err, errcap, "Unable to read line %zu of the Loop values file: %s", index + 1, perr);
                json_decref(items);
                return NULL;
            }
        } else {
            v = json_stringn(line, n);
        }
        json_array_append_new(items, kt_loop_item(v, NULL, index++));
        json_decref(v);
    }
    return items;
}

json_t *kt_loop_output_entry(const json_t *item, json_t *outputs)
{
    json_t *it = json_pack("{s:O?, s:O?}", "value", json_object_get(item, "value"), "iteration",
                           json_object_get(item, "index"));
    if (json_object_get(item, "key"))
        json_object_set(it, "key", json_object_get(item, "key"));
    return json_pack("{s:o, s:o}", "item", it, "outputs", outputs ? outputs : json_object());
}

const char *kt_loop_fetch_type(const json_t *task, int values_from_uri)
{
    const char *ft = json_string_value(json_object_get(task, "fetchType"));
    if (ft && !strcmp(ft, "STORE"))
        return "STORE";
    if (ft && !strcmp(ft, "FETCH"))
        return "FETCH";
    return values_from_uri ? "STORE" : "FETCH";
}
