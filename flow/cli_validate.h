/* `kite flow validate FILE...`: validates flow files offline, the way the server would on save. */
#ifndef KT_FLOW_CLI_VALIDATE_H
#define KT_FLOW_CLI_VALIDATE_H

/* argv[0..argc-1] are the FILE arguments only (the caller strips "kite flow validate"). Prints
 * "✓ namespace.id" per valid file on stdout, or "✘ FILE" then "file:line:col path: message" lines on stderr;
 * "-" reads standard input. Returns the process exit code: 0 when every file is valid, 1 otherwise, 2 on usage. */
int kt_flow_cli_validate(int argc, char **argv);

#endif
