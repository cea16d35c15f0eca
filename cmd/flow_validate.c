/* `kite flow validate [--config FILE] FILE...` (see cli.h). Reads each file whole and reuses the server's parser,
 * with the same configuration (its plugins.defaults may supply required properties), so the CLI and the server
 * can never disagree about what a valid flow is. */
#include "cmd/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "flow/flow.h"

#define MAX_FLOW_FILE (16u << 20) /* a flow is text; refuse anything absurdly large */

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
    kt_diags dg;
    kt_diags_init(&dg);
    kt_flow *flow = NULL;
    kt_status st = kt_flow_parse_with_defaults(src, len, name, server_defaults, &flow, &dg);
    free(src);
    if (st == KT_OK) {
        printf("\u2713 %s.%s\n", kt_flow_namespace(flow), kt_flow_id(flow));
        kt_flow_free(flow);
        kt_diags_clear(&dg);
        return 0;
    }
    char *text = kt_diags_format(&dg);
    fprintf(stderr, "\u2718 %s\n%s\n", name, text && *text ? text : (st == KT_ENOMEM ? "out of memory" : "invalid flow"));
    free(text);
    kt_diags_clear(&dg);
    return 1;
}

int kt_cli_flow_validate(int argc, char **argv)
{
    /* The configuration as the server reads it: --config FILE, else KITE_CONFIGURATION, then KITE_* overrides. */
    const char *path = getenv("KITE_CONFIGURATION");
    int first = 0;
    while (first < argc && !strncmp(argv[first], "--config", 8)) {
        if (!strcmp(argv[first], "--config")) {
            if (first + 1 == argc) {
                fprintf(stderr, "kite flow validate: --config needs a FILE\n");
                return 2;
            }
            path = argv[first + 1];
            first += 2;
        } else if (!strncmp(argv[first], "--config=", 9)) {
            path = argv[first] + 9;
            first++;
        } else {
            break;
        }
    }
    if (first >= argc) {
        fprintf(stderr, "usage: kite flow validate [--config FILE] FILE...\n");
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
    int failed = 0;
    for (int i = first; i < argc; i++)
        failed |= validate_one(argv[i], conf.plugin_defaults);
    kt_conf_clear(&conf);
    fflush(stdout);
    return failed ? 1 : 0;
}
