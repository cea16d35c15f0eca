/* kite: the command line. Each subcommand lives in its own file of cmd/ (cli.h); this one only picks it. */
#include "cmd/cli.h"
#include "base/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <uv.h>

#define KT_VERSION "0.1.0"

void kt_cli_usage(FILE *f)
{
    fprintf(f, "usage:\n"
               "  kite server local [--config FILE] [--port 8080] [--host 0.0.0.0] [--data DIR] [--store URL] [--listen URL]\n"
               "                    [--actors LIST] [--slots N] [--heartbeat MS] [--liveness-timeout MS] [--sync-full]\n"
               "  kite server standalone [as local, without --actors] [--worker-thread N (0: no worker)]\n"
               "                    [--no-indexer]\n"
               "  kite server executor|scheduler|webserver|indexer --store postgresql://... [--listen URL]\n"
               "                    [--join URL] [--config FILE] [--data DIR] [--node-id ID] [--heartbeat MS]\n"
               "                    [--liveness-timeout MS] (webserver: [--port 8080] [--host 0.0.0.0])\n"
               "  kite server worker --join URL [--thread N] [--config FILE] [--node-id ID] [--heartbeat MS]\n"
               "                    [--liveness-timeout MS]\n"
               "  kite worker --join URL [--slots N] ...   (the same as `kite server worker`)\n"
               "  (--no-tutorials is accepted and changes nothing: Kite loads no tutorial flows)\n"
               "  kite flow validate [--config FILE] [--dialect 1.x|2.x] FILE...\n"
               "  kite flow migrate [--in-place | --check] FILE...   (Kestra 1.x flows -> 2.x, docs/dialects.md)\n"
               "  kite template render [--vars VARS.json] TEMPLATE_FILE\n"
               "  kite version\n"
               "common: --log-level trace|debug|info|warn|error (default info); NO_COLOR disables colours\n"
               "settings: conf/kite.yml documents every key; KITE_* environment variables override the file\n"
               "URLs are nng addresses: tcp://HOST:PORT, ipc:///path, inproc://name; a node learns the other members\n"
               "  from the one it joins (any of them)\n"
               "--store: postgresql://USER[:PASSWORD]@HOST[:PORT]/DB[?PARAMS] (libpq's URL) or an SQLite directory;\n"
               "         default: SQLite in the data directory (store.url, KITE_STORE_URL); ?readers=N: the threads\n"
               "         reading for the API, each with its connection (store.readers, default 4)\n");
}

int main(int argc, char **argv)
{
    /* One out-of-memory policy (base/alloc.h): libuv's allocations abort like Kite's own, before the loop exists
     * (jansson's are handed over by base's constructor, before main). */
    uv_replace_allocator(kt_xmalloc, kt_xrealloc, kt_xcalloc, free);
    /* jansson's hash seed, drawn now rather than by whichever thread makes the first object (the store's read pool
     * builds JSON on its threads) */
    json_object_seed(0);
    if (argc < 2) {
        kt_cli_usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "server") && argc >= 3 && argv[2][0] != '-')
        return kt_cli_server(argv[2], argc - 2, argv + 2);
    if (!strcmp(argv[1], "worker"))
        return kt_cli_worker(argc - 1, argv + 1);
    if (!strcmp(argv[1], "flow") && argc >= 3 && !strcmp(argv[2], "validate"))
        return kt_cli_flow_validate(argc - 3, argv + 3);
    if (!strcmp(argv[1], "flow") && argc >= 3 && !strcmp(argv[2], "migrate"))
        return kt_cli_flow_migrate(argc - 3, argv + 3);
    if (!strcmp(argv[1], "template") && argc >= 3 && !strcmp(argv[2], "render"))
        return kt_cli_template_render(argc - 2, argv + 2);
    if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
        printf("kite %s\n", KT_VERSION);
        return 0;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        kt_cli_usage(stdout);
        return 0;
    }
    fprintf(stderr, "kite: unknown command '%s'\n", argv[1]);
    kt_cli_usage(stderr);
    return 2;
}
