/* The functions on files (reference 4 §7.1 read, fileURI, fileSize; Kestra 0.22+ fileExists, isFileEmpty).
 *
 * The engine does no I/O of its own: the bytes come through the render's environment (kt_env.files, base/env.h),
 * which a caller owning a storage fills. What stays here is Kestra's access rule, a function of the variables
 * only: an internal-storage URI is readable when it lies under the current execution's folder
 * (`kestra:///<namespace as path>/<slug of flowId>/executions/<executionId>/`) or under the folder of the
 * execution that triggered this one (`trigger.namespace/flowId/executionId`: a Subflow or ForEachItem child
 * reading its parent's files). Any other text is a namespace file of the flow's namespace
 * (`kestra:///<namespace as path>/_files/<path>`); `nsfile:///path` says the same and `nsfile://<namespace>/path`
 * names another namespace (Kestra 0.24's file protocol). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/json.h"
#include "expr/expr_int.h"
#include "expr/filters.h"

#define KESTRA_SCHEME "kestra:///"
#define NSFILE_SCHEME "nsfile://"

/* Largest URI these functions build; a longer one is refused by the storage anyway. */
#define FILES_URI_MAX 2048

static const kt_env_files *files_of(kx_env *env, const kx_node *n, const char *fn)
{
    if (env->ambient && env->ambient->files)
        return env->ambient->files;
    kx_fail(env, n, KX_E_PEBBLE, "The '%s' function needs the internal storage, and this render has none", fn);
    return NULL;
}

/* A string variable at obj.key of the render's own context, or NULL. Read from the context the caller gave, never
 * through the template's scopes: a `{% set execution = ... %}` or a loop variable named `flow` must not change
 * whose files the template may read. */
static const char *var_str(kx_env *env, const char *obj, const char *key)
{
    json_t *o = json_object_get(env->ctx, obj);
    return json_is_object(o) ? json_string_value(json_object_get(o, key)) : NULL;
}

/* `company.team` -> `company/team` appended to b. */
static void put_ns_path(kt_buf *b, const char *ns)
{
    for (; *ns; ns++)
        kt_buf_putc(b, *ns == '.' ? '/' : *ns);
}

/* kestra:///<ns>/<slug(flowId)>/executions/<executionId>/ into b; 0 when a part is missing. */
static int put_execution_prefix(kx_env *env, const kx_node *n, kt_buf *b, const char *ns, const char *flow_id,
                                const char *execution_id)
{
    if (!ns || !flow_id || !execution_id)
        return 0;
    json_t *id = json_string(flow_id);
    json_t *slug = kx_f_slugify(env, n, id, NULL, 0);
    json_decref(id);
    if (!slug)
        return 0;
    kt_buf_puts(b, KESTRA_SCHEME);
    put_ns_path(b, ns);
    kt_buf_printf(b, "/%s/executions/%s/", json_string_value(slug), execution_id);
    json_decref(slug);
    return 1;
}

static int under(kx_env *env, const kx_node *n, const char *uri, const char *ns, const char *flow_id,
                 const char *execution_id)
{
    kt_buf b = {0};
    int ok = put_execution_prefix(env, n, &b, ns, flow_id, execution_id) && !strncmp(uri, b.p, b.len);
    free(b.p);
    return ok;
}

/* Kestra's check (ReadFileFunction.validateFileUri): the current execution's files, or its trigger's. */
static int uri_allowed(kx_env *env, const kx_node *n, const char *uri)
{
    if (under(env, n, uri, var_str(env, "flow", "namespace"), var_str(env, "flow", "id"),
              var_str(env, "execution", "id")))
        return 1;
    return under(env, n, uri, var_str(env, "trigger", "namespace"), var_str(env, "trigger", "flowId"),
                 var_str(env, "trigger", "executionId"));
}

/* The storage URI a read()-like function opens for path, into out (malloc'd); NULL with the error set. */
static char *resolve(kx_env *env, const kx_node *n, const char *fn, const json_t *arg, int namespace_files)
{
    const char *path = json_string_value(arg);
    if (!path) {
        json_t *text = kx_as_string(arg);
        kx_fail(env, n, KX_E_JAVA, "Unable to read the file %s", json_string_value(text));
        json_decref(text);
        return NULL;
    }
    if (!strncmp(path, KESTRA_SCHEME, strlen(KESTRA_SCHEME))) {
        if (!uri_allowed(env, n, path)) {
            kx_fail(env, n, KX_E_JAVA, "Unable to read the file '%s' as it didn't belong to the current execution",
                    path);
            return NULL;
        }
        return kt_xstrdup(path);
    }
    if (!namespace_files) {
        kx_fail(env, n, KX_E_JAVA, "Unable to create the URI from the path %s", path);
        return NULL;
    }
    const char *ns = var_str(env, "flow", "namespace");
    if (!strncmp(path, NSFILE_SCHEME, strlen(NSFILE_SCHEME))) {
        path += strlen(NSFILE_SCHEME);
        if (*path != '/') { /* nsfile://<namespace>/<path> */
            const char *slash = strchr(path, '/');
            size_t len = slash ? (size_t)(slash - path) : strlen(path);
            kt_buf b = {0};
            kt_buf_puts(&b, KESTRA_SCHEME);
            for (size_t i = 0; i < len; i++)
                kt_buf_putc(&b, path[i] == '.' ? '/' : path[i]);
            kt_buf_printf(&b, "/_files/%s", slash ? slash + 1 : "");
            return kt_buf_take(&b);
        }
    }
    if (!ns) {
        kx_fail(env, n, KX_E_PEBBLE, "The '%s' function reads namespace files and this render has no flow", fn);
        return NULL;
    }
    kt_buf b = {0};
    kt_buf_puts(&b, KESTRA_SCHEME);
    put_ns_path(&b, ns);
    kt_buf_printf(&b, "/_files/%s", path + (*path == '/'));
    return kt_buf_take(&b);
}

/* The storage's failure as Kestra shows an I/O error in a function: a PebbleException with its message. */
static json_t *storage_fail(kx_env *env, const kx_node *n, const char *err)
{
    return kx_fail(env, n, KX_E_PEBBLE, "%s", err[0] ? err : "the internal storage failed");
}

/* A namespace file's revision argument: `version=` in Kestra 1.x, renamed `revision=` by Kestra 2.0 with no alias
 * (kestra PR 16699): the other line's name fails the render saying which to write. Kite keeps only the current
 * content of a namespace file, so a revision that names one fails as Kestra's missing revision does. 0: no
 * revision asked (read the file); -1: the render failed. */
static int revision_refused(kx_env *env, const kx_node *n, const char *fn, json_t *version, json_t *revision,
                            const json_t *path)
{
    int v2 = env->ambient && env->ambient->dialect == KT_DIALECT_2X;
    const char *mine = v2 ? "revision" : "version", *other = v2 ? "version" : "revision";
    json_t *given = v2 ? revision : version, *wrong = v2 ? version : revision;
    if (wrong && !json_is_null(wrong)) {
        kx_fail(env, n, KX_E_PEBBLE,
                "The '%s' function has no argument '%s' in a Kestra %s flow: write %s=N (Kestra 2.0 renamed version= "
                "to revision=, with no alias)",
                fn, other, v2 ? "2.0" : "1.x", mine);
        return -1;
    }
    if (!given || json_is_null(given))
        return 0;
    json_t *text = kx_as_string(given);
    const char *t = json_string_value(text);
    char *end = NULL;
    long num = t && *t ? strtol(t, &end, 10) : 0;
    int ok = end && !*end && num >= 0 && num <= INT32_MAX;
    json_decref(text);
    if (!ok) {
        kx_fail(env, n, KX_E_PEBBLE, "The '%s' function expects the '%s' argument to be a valid integer.", fn, mine);
        return -1;
    }
    const char *ns = var_str(env, "flow", "namespace");
    kx_fail(env, n, KX_E_PEBBLE, "Version %ld of file '%s' was not found in namespace '%s'. (Kite keeps only the "
            "current content of a namespace file)", num, json_is_string(path) ? json_string_value(path) : "",
            ns ? ns : "");
    return -1;
}

static json_t *fn_read(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    if (!a[0] || json_is_null(a[0]))
        return kx_fail(env, n, KX_E_PEBBLE, "The 'read' function expects an argument 'path' that is a path to a "
                                            "namespace file or an internal storage URI.");
    if (revision_refused(env, n, "read", a[1], a[2], a[0]))
        return NULL;
    const kt_env_files *f = files_of(env, n, "read");
    char *uri = f ? resolve(env, n, "read", a[0], 1) : NULL;
    if (!uri)
        return NULL;
    char err[512] = "", *data = NULL;
    size_t len = 0;
    int st = f->read(f->ud, uri, &data, &len, err, sizeof err);
    free(uri);
    if (st)
        return storage_fail(env, n, err);
    json_t *r = kx_strn(data, len); /* Java decodes as UTF-8: a malformed sequence becomes U+FFFD */
    free(data);
    return r;
}

static json_t *fn_file_uri(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    const char *path = a[0] ? json_string_value(a[0]) : NULL;
    if (!path)
        return kx_fail(env, n, KX_E_PEBBLE,
                       "The 'fileURI' function expects an argument 'path' that is a path to a namespace file.");
    if (strstr(path, "../"))
        return kx_fail(env, n, KX_E_JAVA, "Path must not contain '../'");
    if (revision_refused(env, n, "fileURI", a[1], a[2], a[0]))
        return NULL;
    const char *ns = var_str(env, "flow", "namespace");
    if (!ns)
        return kx_fail(env, n, KX_E_PEBBLE, "The 'fileURI' function names namespace files and this render has no flow");
    kt_buf b = {0};
    kt_buf_puts(&b, KESTRA_SCHEME);
    put_ns_path(&b, ns);
    kt_buf_printf(&b, "/_files/%s", path + (*path == '/'));
    return kx_take_str(&b);
}

/* fileSize, fileExists, isFileEmpty: the size through the hook. namespace_files: a plain path is a namespace file. */
static json_t *size_of(kx_env *env, const kx_node *n, json_t *arg, const char *fn, const char *missing,
                       int namespace_files, int64_t *size, int *found)
{
    if (!arg || json_is_null(arg))
        return kx_fail(env, n, KX_E_PEBBLE, "%s", missing);
    const kt_env_files *f = files_of(env, n, fn);
    char *uri = f ? resolve(env, n, fn, arg, namespace_files) : NULL;
    if (!uri)
        return NULL;
    char err[512] = "";
    int st = f->size(f->ud, uri, size, err, sizeof err);
    free(uri);
    if (st == KT_ENOTFOUND && found) {
        *found = 0;
        return json_null();
    }
    if (st)
        return storage_fail(env, n, err);
    if (found)
        *found = 1;
    return json_null();
}

static json_t *fn_file_size(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    int64_t size = 0;
    json_t *r = size_of(env, n, a[0], "fileSize",
                        "The 'fileSize' function expects an argument 'path' that is a path to the internal storage URI.",
                        0, &size, NULL);
    if (!r)
        return NULL;
    json_decref(r);
    return json_integer((json_int_t)size);
}

static json_t *fn_file_exists(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    int64_t size = 0;
    int found = 0;
    json_t *r = size_of(env, n, a[0], "fileExists",
                        "The 'fileExists' function expects an argument 'path' that is a path to a namespace file or "
                        "an internal storage URI.",
                        1, &size, &found);
    if (!r)
        return NULL;
    json_decref(r);
    return json_boolean(found);
}

static json_t *fn_is_file_empty(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    int64_t size = 0;
    json_t *r = size_of(env, n, a[0], "isFileEmpty",
                        "The 'isFileEmpty' function expects an argument 'path' that is a path to a namespace file or "
                        "an internal storage URI.",
                        1, &size, NULL);
    if (!r)
        return NULL;
    json_decref(r);
    return json_boolean(size == 0);
}

const kx_builtin kx_functions_files[] = {
    {"read", fn_read, {"path", "version", "revision"}, 0},
    {"fileURI", fn_file_uri, {"path", "version", "revision"}, 0},
    {"fileSize", fn_file_size, {"path"}, 0},
    {"fileExists", fn_file_exists, {"path"}, 0},
    {"isFileEmpty", fn_is_file_empty, {"path"}, 0},
    {NULL, NULL, {NULL}, 0},
};
