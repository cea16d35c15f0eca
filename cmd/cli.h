/* The CLI subcommands other than the servers: each takes the arguments after its name and returns the process
 * exit code. Prefix kt_cli. */
#ifndef KT_CMD_CLI_H
#define KT_CMD_CLI_H

#include <stdio.h>

/* The whole of f, NUL-terminated (read.c); *len gets its length. NULL with errno set when it cannot be read, or
 * EFBIG when it is longer than max bytes (0: no limit). */
char *kt_cli_read_all(FILE *f, size_t max, size_t *len);

/* The usage text (main.c). */
void kt_cli_usage(FILE *f);

/* `kite server ROLE [flags]` (local, standalone, executor, scheduler, webserver, indexer, worker) and `kite worker
 * --join URL [flags]` (node.c): argv[0] is the last word of the command; they return when the node has stopped (2 on
 * usage: an unknown role or flag, a role that needs a shared store given SQLite). */
int kt_cli_server(const char *role, int argc, char **argv);
int kt_cli_worker(int argc, char **argv);

/* `kite flow validate [--config FILE] [--dialect 1.x|2.x] FILE...`: validates flow files offline, the way the server
 * would on save (with the configuration's plugins.defaults and flows.dialect; --dialect replaces the latter).
 * argv[0..argc-1] are the arguments after "validate". Prints "✓ namespace.id (1.x)" (the flow's dialect) per valid
 * file on stdout, or "✘ FILE" then "file:line:col path: message" lines on stderr; the dialect's deprecations follow
 * on stderr as "warning: file:line:col path: message"; "-" reads standard input. 0 when every file is valid, 1
 * otherwise, 2 on usage. */
int kt_cli_flow_validate(int argc, char **argv);

/* `kite flow migrate [--in-place | --check] FILE...` (flow_migrate.c): rewrites Kestra 1.x flows as 2.x (flow/migrate.h).
 * Default: the migrated text on stdout; --in-place rewrites each file that changes; --check writes nothing and lists
 * each file (✔ nothing to do, ✎ would change, ✗ needs a hand). What cannot be rewritten goes out as "  ✗ file:line:col
 * path: message" lines (stderr, or stdout with --check). Exit 0, 1 with --check when something would change or needs
 * a hand, 2 on usage or a file that cannot be read or is not a flow. */
int kt_cli_flow_migrate(int argc, char **argv);

/* `kite template render [--vars VARS.json] TEMPLATE_FILE`: renders a Pebble template as Kestra would. */
int kt_cli_template_render(int argc, char **argv);

#endif
