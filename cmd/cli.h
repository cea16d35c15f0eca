/* The CLI subcommands other than the servers: each takes the arguments after its name and returns the process
 * exit code. Prefix kt_cli. */
#ifndef KT_CMD_CLI_H
#define KT_CMD_CLI_H

/* `kite flow validate FILE...`: validates flow files offline, the way the server would on save. argv[0..argc-1]
 * are the FILE arguments only. Prints "✓ namespace.id" per valid file on stdout, or "✘ FILE" then
 * "file:line:col path: message" lines on stderr; "-" reads standard input. 0 when every file is valid, 1
 * otherwise, 2 on usage. */
int kt_cli_flow_validate(int argc, char **argv);

/* `kite template render [--vars VARS.json] TEMPLATE_FILE`: renders a Pebble template as Kestra would. */
int kt_cli_template_render(int argc, char **argv);

#endif
