/* What web/api_triggers.c shares with web/api_triggers_set.c. */
#ifndef KT_WEB_API_TRIGGERS_INT_H
#define KT_WEB_API_TRIGGERS_INT_H

#include "actors/scheduler/toggle.h"
#include "web/api_int.h"

/* The computations' environment: the loop's store, the configuration, the clock read now. */
kt_trigger_env kt_api_trigger_env(kt_webserver *w);
/* KT_MSG_TRIGGER_CHANGED to every scheduler: after the commit that changed the row. */
void kt_api_trigger_changed(kt_webserver *w, const char *ns, const char *flow_id, const char *trigger_id);
/* The request body as JSON of the given kind (JSON_OBJECT or JSON_ARRAY); NULL after answering 422. */
json_t *kt_api_trigger_json_body(kt_http_req *r, json_type kind);
const char *kt_api_trigger_str(const json_t *j, const char *name); /* a string member, NULL otherwise */
/* A body Trigger's key; 0 when one member is missing. */
int kt_api_trigger_key(const json_t *t, const char **ns, const char **flow_id, const char **trigger_id);
/* q and namespace of the by-query endpoints (empty = absent); the strings are r's. */
kt_trigger_query kt_api_trigger_filters(kt_http_req *r);

#endif
