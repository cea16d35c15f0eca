/* `kite flow validate [--config FILE] [--dialect 1.x|2.x] FILE...` (see cli.h). Reads each file whole and reuses the
 * server's parser, with the same configuration (its plugins.defaults may supply required properties, its
 * flows.dialect is the dialect of a flow using only constructs common to both lines), so the CLI and the server can
 * never disagree about what a valid flow is. */
#include "cmd/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "flow/dialect.h"
#include "flow/flow.h"

#define MAX_FLOW_FILE (16u << 20) /* a flow is text; refuse anything absurdly large */

/* Each line of a kt_diags_format text on stderr as "warning: file:line:col path: message". */
static void print_warnings(const char *text)
{
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        int n = nl ? (int)(nl - p) : (int)strlen(p);
        fprintf(stderr, "warning: %.*s\n", n, p);
        p = nl ? nl + 1 : NULL;
    }
}

static int validate_one(const char *path, const json_t *server_defaults)
{
    int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "\u2718 %s\n%s: %s\n", path, path, strerror(errno));
        return 1;
    }
    size_t len = 0;
    char *src = kt_cli_read_all(f, MAX_FLOW_FILE, &len);
    int saved = errno;
    if (!is_stdin)
        fclose(f);
    if (!src) {
        fprintf(stderr, "\u2718 %s\n%s: %s\n", path, path, strerror(saved ? saved : EIO));
        return 1;
    }
    const char *name = is_stdin ? "<stdin>" : path;
    kt_diags dg, warnings;
    kt_diags_init(&dg);
    kt_diags_init(&warnings);
    kt_flow *flow = NULL;
    kt_flow_parse_opts o = {.server_defaults = server_defaults, .warnings = &warnings};
    kt_status st = kt_flow_parse_opt(src, len, name, &o, &flow, &dg);
    free(src);
    /* deprecations (the flow is valid, or invalid for other reasons) are warnings: stderr, after the verdict */
    char *warned = warnings.count ? kt_diags_format(&warnings) : NULL;
    kt_diags_clear(&warnings);
    if (st == KT_OK) {
        printf("\u2713 %s.%s (%s)\n", kt_flow_namespace(flow), kt_flow_id(flow),
               kt_dialect_name(kt_dialect_of_flow(kt_flow_json(flow))));
        if (warned) {
            fflush(stdout);
            print_warnings(warned);
        }
        free(warned);
        kt_flow_free(flow);
        kt_diags_clear(&dg);
        return 0;
    }
    char *text = kt_diags_format(&dg);
    fprintf(stderr, "\u2718 %s\n%s\n", name, text && *text ? text : (st == KT_ENOMEM ? "out of memory" : "invalid flow"));
    if (warned)
        print_warnings(warned);
    free(warned);
    free(text);
    kt_diags_clear(&dg);
    return 1;
}

/* --NAME VALUE or --NAME=VALUE at argv[*i]: 1 and *value when it is that option (*i moved past it), -1 when the value
 * is missing, 0 when argv[*i] is another argument. */
static int take_option(int argc, char **argv, int *i, const char *name, const char **value)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n))
        return 0;
    if (argv[*i][n] == '=') {
        *value = argv[(*i)++] + n + 1;
        return 1;
    }
    if (argv[*i][n])
        return 0;
    if (*i + 1 == argc)
        return -1;
    *value = argv[*i + 1];
    *i += 2;
    return 1;
}

int kt_cli_flow_validate(int argc, char **argv)
{
    /* The configuration as the server reads it: --config FILE, else KITE_CONFIGURATION, then KITE_* overrides. */
    const char *path = getenv("KITE_CONFIGURATION"), *dialect = NULL;
    int first = 0;
    for (;;) {
        int r;
        if (first < argc && (r = take_option(argc, argv, &first, "--config", &path)) != 0) {
            if (r < 0) {
                fprintf(stderr, "kite flow validate: --config needs a FILE\n");
                return 2;
            }
        } else if (first < argc && (r = take_option(argc, argv, &first, "--dialect", &dialect)) != 0) {
            if (r < 0) {
                fprintf(stderr, "kite flow validate: --dialect needs 1.x or 2.x\n");
                return 2;
            }
        } else {
            break;
        }
    }
    if (first >= argc) {
        fprintf(stderr, "usage: kite flow validate [--config FILE] [--dialect 1.x|2.x] FILE...\n");
        return 2;
    }
    static kt_conf conf;
    char err[1024];
    kt_conf_defaults(&conf);
    if (kt_conf_load(&conf, path, err, sizeof err)) {
        fprintf(stderr, "kite: configuration: %s\n", err);
        kt_conf_clear(&conf);
        return 2;
    }
    /* the default dialect: --dialect, else the configuration's flows.dialect (as the server reads it) */
    kt_dialect d;
    if (kt_dialect_parse(dialect ? dialect : conf.flows_dialect, &d)) {
        fprintf(stderr, "kite flow validate: %s '%s' is not 1.x or 2.x\n", dialect ? "--dialect" : "flows.dialect",
                dialect ? dialect : conf.flows_dialect);
        kt_conf_clear(&conf);
        return 2;
    }
    kt_flow_dialect_set_default(d);
    int failed = 0;
    for (int i = first; i < argc; i++)
        failed |= validate_one(argv[i], conf.plugin_defaults);
    kt_conf_clear(&conf);
    fflush(stdout);
    return failed ? 1 : 0;
}
