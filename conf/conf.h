/* Kite's configuration: defaults, then a YAML file (conf/kite.yml documents every key), then KITE_* environment
 * variables. Command-line flags are applied last by main. Unknown keys and wrong types are errors with their
 * file:line:col, so a typo never silently falls back to a default. */
#ifndef KT_CONF_H
#define KT_CONF_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/status.h"

typedef struct kt_conf {
    char host[256];
    int port;
    char data_dir[1024];
    /* store.url: where the repository is, a postgres:// or postgresql:// URL (libpq's form) or a directory
     * (sqlite://DIR); "" = SQLite in data_dir. Holds a password: print it through kt_store_redact only. */
    char store_url[1024];
    int sync_full;
    int store_readers; /* store.readers: the read pool's threads (store/db_pool.h); 0 = its default, ?readers= wins */
    /* store.log-index: "on" / "off", the log search's full-text index (kt_store_log_index_of); "" = the backend's
     * default (SQLite on, PostgreSQL off: docs/store-async-design.md §3) */
    char store_log_index[8];
    uint32_t slots;
    /* worker.python: the local package directory python tasks' `dependencies` are installed from (pip --no-index
     * --find-links; "" = pip's index), and where their environments are cached ("" = <data.dir>/python-venvs) */
    char python_find_links[1024];
    char python_venvs[1024];
    char listen[512];
    char join[512];
    char node_id[64];
    uint32_t heartbeat_ms;
    uint32_t liveness_ms;
    char log_level[16];
    char scheduler_timezone[64]; /* zone of a Schedule without `timezone`; "" = UTC (Kestra's image) */
    /* flows.dialect: the line (1.x or 2.x, base/dialect.h) a flow using only constructs common to both is read in */
    char flows_dialect[8];
    char scheduler_recover[8];   /* recoverMissedSchedules default: ALL, LAST or NONE */
    uint32_t scheduler_reconcile_ms; /* scheduler.reconcile-interval: how often a scheduler compares the flows' revisions
                                        with the store's (a flow change whose message was lost); default 60 s */
    /* the internal storage (Kestra's kestra.storage.*): type local (base-path, default <data.dir>/storage) or s3 */
    char storage_type[16];
    char storage_base_path[1024];
    char s3_endpoint[512];
    char s3_region[64];
    char s3_bucket[256];
    char s3_access_key[256];
    char s3_secret_key[256];
    char s3_prefix[256];
    int s3_force_path_style;
    uint32_t s3_part_size;
    /* variables.env-vars-prefix (Kestra's kestra.variables.env-vars-prefix): the environment variables shown as
     * `envs` ("" = ENV_); encryption.secret-key (kestra.encryption.secret-key): base64 AES key, "" = none */
    char env_vars_prefix[64];
    char encryption_key[256];
    /* the HTTP server (Micronaut's micronaut.server.* under server.*): bodies larger than max_request_size are
     * refused with 413; a connection idle (no request being read) for read_idle_timeout_ms is closed */
    uint64_t max_request_size;
    uint32_t read_idle_timeout_ms;
    /* server.basic-auth (Kestra's kestra.server.basic-auth): every route but the open URLs (path prefixes, a list
     * in YAML, kept here comma-separated) and the management port needs these credentials */
    int basic_auth_enabled;
    char basic_auth_username[256];
    char basic_auth_password[256];
    char basic_auth_realm[128];
    char basic_auth_open_urls[1024];
    /* endpoints.all.port (Kestra's management port: /health, /version, /prometheus): 0 = none (Kestra's
     * `server local` picks a random one; Kite serves the same routes on the main port too) */
    int management_port;
    /* environment.name / color (kestra.environment.*): shown by GET /api/v1/configs when set */
    char environment_name[128];
    char environment_color[32];
    /* plugins.defaults (Kestra's kestra.plugins.defaults): a non-empty array of {type, values, forced} checked
     * with kt_defaults_check, or NULL. Owned: kt_conf_clear releases it. */
    json_t *plugin_defaults;
} kt_conf;

void kt_conf_defaults(kt_conf *c);
/* Releases what c owns (plugin_defaults); c may be loaded again after kt_conf_defaults. */
void kt_conf_clear(kt_conf *c);
/* Reads path (NULL: none) then the environment over c. err gets "file:line:col key: message" on failure. */
kt_status kt_conf_load(kt_conf *c, const char *path, char *err, size_t errcap);

#endif
