/* The webserver actor: Kestra's REST API over web/http.h. It reads the repository directly and sends commands
 * to the other actors (ExecutionCreate to the executor), answering deferred requests when their replies come. */
#ifndef KT_WEB_API_H
#define KT_WEB_API_H

#include <stdint.h>

#include "flow/trigger.h"
#include "runtime/node.h"
#include "store/db_pool.h"
#include "store/storage.h"
#include "store/store.h"

#define KT_WEBSERVER_ACTOR "webserver"

typedef struct kt_webserver kt_webserver;

typedef struct kt_webserver_config {
    const char *host; /* listen address, default 0.0.0.0 */
    int port;         /* default 8080; 0 = ephemeral */
    const char *public_url; /* kestra.url: base of the "url" field of created executions */
    /* conf plugins.defaults (may be NULL): a flow is validated with them, as Kestra injects them before
     * validating, and Webhook triggers are matched with them applied. The webserver keeps its own reference. */
    const json_t *plugin_defaults;
    /* What the triggers API computes Schedule dates with (re-enabling, backfill): the server's zone for Schedules
     * without `timezone` (NULL: UTC) and the configured recoverMissedSchedules (zero: ALL). */
    const char *default_zone;
    kt_sched_recover default_recover;
    /* The internal storage (borrowed; the caller closes it after kt_webserver_free): FILE inputs are written there
     * and the execution file API reads from it. NULL: uploads and file routes answer 503. */
    kt_storage *storage;
    /* HTTP limits (0: defaults, web/http.h kt_http_set_limits) */
    uint64_t max_request_size;
    uint64_t read_idle_timeout_ms;
    /* basic auth (conf server.basic-auth): when enabled, username (an e-mail address, as Kestra requires) and password
     * are required; open_urls: comma-separated path prefixes answered without credentials */
    int basic_auth_enabled;
    const char *basic_auth_username, *basic_auth_password, *basic_auth_realm, *basic_auth_open_urls;
    int management_port;     /* endpoints.all.port: 0 = none */
    const char *instance_uuid; /* GET /api/v1/configs "uuid" (kept in the data directory by the caller) */
    const char *environment_name, *environment_color;
    const char *data_dir;    /* /health's disk space indicator; NULL = none */
    /* The store's read pool (borrowed; the caller closes it after the node stopped and before kt_webserver_free): the
     * handlers' reads run there, off the loop. NULL: they run on the loop, on the store given to the start. */
    kt_db_pool *pool;
} kt_webserver_config;

kt_status kt_webserver_start(kt_node *node, kt_store *store, const kt_webserver_config *cfg, kt_webserver **out,
                             char *err, size_t errcap);
int kt_webserver_port(const kt_webserver *w);
/* After the loop has stopped: frees the HTTP server (it may run the loop briefly, see web/http.h). */
void kt_webserver_free(kt_webserver *w);

#endif
