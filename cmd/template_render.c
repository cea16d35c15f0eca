/* `kite template render [--vars VARS.json] TEMPLATE_FILE`: renders a template file with Kite's expression
 * engine, for trying expressions out and for comparing Kite with Kestra by hand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "base/env.h"
#include "base/secrets.h"
#include "expr/expr.h"

extern char **environ;

static void usage(void) { fprintf(stderr, "usage: kite template render [--vars VARS.json] TEMPLATE_FILE|-\n"); }

int kt_cli_template_render(int argc, char **argv)
{
    const char *vars_path = NULL, *tmpl_path = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "template") || !strcmp(argv[i], "render")) continue; /* tolerate the subcommand words */
        if (!strcmp(argv[i], "--vars") && i + 1 < argc) vars_path = argv[++i];
        else if (!strncmp(argv[i], "--vars=", 7)) vars_path = argv[i] + 7;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage();
            return 0;
        } else if (!tmpl_path) tmpl_path = argv[i];
        else {
            usage();
            return 2;
        }
    }
    if (!tmpl_path) {
        usage();
        return 2;
    }
    json_t *vars = NULL;
    if (vars_path) {
        json_error_t je;
        vars = json_load_file(vars_path, JSON_DECODE_ANY, &je);
        if (!vars || !json_is_object(vars)) {
            fprintf(stderr, "%s:%d:%d: %s\n", vars_path, je.line, je.column, vars ? "vars must be a JSON object" : je.text);
            json_decref(vars);
            return 1;
        }
    }
    size_t len = 0;
    FILE *f = strcmp(tmpl_path, "-") ? fopen(tmpl_path, "rb") : stdin;
    char *src = f ? kt_cli_read_all(f, 0, &len) : NULL;
    if (f && f != stdin)
        fclose(f);
    if (!src) {
        fprintf(stderr, "cannot read %s\n", tmpl_path);
        json_decref(vars);
        return 1;
    }
    int rc = 0;
    kt_tmpl *t = NULL;
    kt_expr_error err = {0};
    char *out = NULL;
    size_t out_len = 0;
    kt_env env; /* the command renders as a flow would run now: real clock, fresh randomness */
    kt_env_init_real(&env);
    kt_secrets *secrets = kt_secrets_new(environ, NULL, NULL, NULL); /* secret() and envs, as a server reads them */
    env.secrets = secrets;
    if (kt_tmpl_compile(src, len, &t, &err) || kt_tmpl_render(t, vars, &env, &out, &out_len, &err)) {
        fprintf(stderr, "%s:%d:%d: %s\n", tmpl_path, err.line, err.col, err.message);
        rc = 1;
    } else {
        fwrite(out, 1, out_len, stdout);
    }
    free(out);
    kt_tmpl_free(t);
    kt_secrets_free(secrets);
    free(src);
    json_decref(vars);
    return rc;
}
