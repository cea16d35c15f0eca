/* Python dependencies in a cached virtual environment per dependency set (see pydeps.h). */
#include "actors/worker/pydeps.h"
#include "base/json.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The requirements sorted and without duplicates (borrowed from deps) into *out (malloc'ed), their count into *n. */
static int sorted_deps(const json_t *deps, const char ***out, size_t *n, char *err, size_t errcap)
{
    *out = NULL;
    *n = 0;
    if (!json_is_array(deps)) {
        snprintf(err, errcap, "dependencies: must be a list of strings");
        return -1;
    }
    const char **v = calloc(json_array_size(deps) + 1, sizeof *v);
    size_t i, k = 0;
    json_t *d;
    json_array_foreach(deps, i, d) {
        const char *s = json_string_value(d);
        if (!s || !*s || strchr(s, '\n')) {
            snprintf(err, errcap, "dependencies[%zu]: must be a non-empty requirement on one line", i);
            free(v);
            return -1;
        }
        v[k++] = s;
    }
    qsort(v, k, sizeof *v, cmp_str);
    size_t m = 0;
    for (size_t j = 0; j < k; j++)
        if (!m || strcmp(v[m - 1], v[j]))
            v[m++] = v[j];
    *out = v;
    *n = m;
    return 0;
}

int kt_pydeps_key(const json_t *deps, char out[65], char *err, size_t errcap)
{
    const char **v;
    size_t n;
    if (sorted_deps(deps, &v, &n, err, errcap))
        return -1;
    kt_buf all = {0};
    for (size_t i = 0; i < n; i++)
        kt_buf_put(&all, v[i], strlen(v[i]) + 1); /* with its NUL: ["ab"] and ["a", "b"] differ */
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)(all.p ? all.p : ""), all.len, md);
    free(all.p);
    for (size_t i = 0; i < sizeof md; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    free(v);
    return 0;
}

/* s in single quotes for sh ('\'' for each quote inside). */
static void sh_quote(kt_buf *b, const char *s)
{
    kt_buf_put(b, "'", 1);
    for (; *s; s++) {
        if (*s == '\'')
            kt_buf_put(b, "'\\''", 4);
        else
            kt_buf_put(b, s, 1);
    }
    kt_buf_put(b, "'", 1);
}

char *kt_pydeps_preamble(const json_t *deps, const kt_pydeps_opts *o, char *err, size_t errcap)
{
    err[0] = 0;
    char key[65];
    const char **v;
    size_t n;
    if (kt_pydeps_key(deps, key, err, errcap) || sorted_deps(deps, &v, &n, err, errcap))
        return NULL;
    if (!n) {
        free(v);
        return NULL;
    }
    if (o->python && (!*o->python || strspn(o->python, "0123456789.") != strlen(o->python))) {
        snprintf(err, errcap, "pythonVersion: '%s' is not a version such as 3.11", o->python);
        free(v);
        return NULL;
    }
    kt_buf reqs = {0}, opts = {0}, b = {0};
    for (size_t i = 0; i < n; i++) {
        kt_buf_put(&reqs, " ", 1);
        sh_quote(&reqs, v[i]);
    }
    free(v);
    if (o->find_links && *o->find_links) { /* a local package directory: no index is asked */
        kt_buf_printf(&opts, " --no-index --find-links ");
        sh_quote(&opts, o->find_links);
    }
    if (o->python)
        kt_buf_printf(&b, "kite_py=$(command -v python%s) || { echo 'python dependencies: python%s is not installed on "
                          "this worker' >&2; exit 1; }\n", o->python, o->python);
    else
        kt_buf_printf(&b, "kite_py=$(command -v python3 || command -v python) || { echo 'python dependencies: no "
                          "python3 on PATH' >&2; exit 1; }\n");
    kt_buf_printf(&b, "kite_pyver=$(\"$kite_py\" -c 'import sys; print(\"%%d.%%d.%%d\" %% sys.version_info[:3])') "
                      "|| exit 1\n"
                      "kite_venvs=");
    if (o->venvs)
        sh_quote(&b, o->venvs);
    else
        kt_buf_printf(&b, "\"$PWD/.kite-venvs\"");
    kt_buf_printf(&b, "\nkite_venv=\"$kite_venvs\"/%.32s-\"$kite_pyver\"\n"
                      "mkdir -p \"$kite_venvs\" || exit 1\n"
                      "if [ ! -f \"$kite_venv/.kite-ready\" ]; then\n"
                      "(\n"
                      "flock 9 || exit 1\n"
                      "if [ ! -f \"$kite_venv/.kite-ready\" ]; then\n"
                      "  rm -rf \"$kite_venv\"\n"
                      "  echo Installing the python dependencies%s into \"$kite_venv\"\n"
                      /* the installer's own chatter (pip's "WARNING: Running pip as the 'root' user") goes to the
                       * task's output, never its stderr, where a 1.x script's WARNING lines would turn the task
                       * WARNING; it reaches stderr only when the install failed */
                      "  if %scommand -v uv >/dev/null 2>&1; then\n"
                      "    uv venv --quiet --python \"$kite_py\" \"$kite_venv\" &&\n"
                      "    uv pip install --quiet --python \"$kite_venv/bin/python\"%s%s\n"
                      "  else\n"
                      "    \"$kite_py\" -m venv \"$kite_venv\" &&\n"
                      "    \"$kite_venv/bin/python\" -m pip install --quiet --disable-pip-version-check%s%s\n"
                      "  fi >\"$kite_venv.log\" 2>&1 || { cat \"$kite_venv.log\" >&2; rm -rf \"$kite_venv\";\n"
                      "    echo 'Unable to install the python dependencies' >&2; exit 1; }\n"
                      "  cat \"$kite_venv.log\"\n"
                      "  touch \"$kite_venv/.kite-ready\"\n"
                      "fi\n"
                      ") 9>\"$kite_venv.lock\" || exit 1\n"
                      "fi\n"
                      "PATH=\"$kite_venv/bin:$PATH\"; export PATH; VIRTUAL_ENV=\"$kite_venv\"; export VIRTUAL_ENV\n",
                  key, reqs.p, o->pip_only ? "false && " : "", opts.p ? opts.p : "", reqs.p, opts.p ? opts.p : "",
                  reqs.p);
    free(reqs.p);
    free(opts.p);
    return b.p;
}
