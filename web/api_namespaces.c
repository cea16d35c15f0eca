/* /api/v1/namespaces (NamespaceController): namespaces are implicit in Kestra OSS, the namespaces of the flows. */
#include "base/alloc.h"
#include "base/map.h"
#include "web/api_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


/* GET /api/v1/namespaces/{id}: {"id", "deleted": false}, whatever the id: a namespace exists by being named. */
void kt_api_namespace_get(kt_http_req *r, void *ud)
{
    (void)ud;
    kt_http_send_json(r, 200, json_pack("{s:s, s:b}", "id", kt_http_param(r, "id"), "deleted", 0));
}

/* Case-insensitive substring (Kestra lower-cases both with Locale.ROOT: ASCII folding is the same for ids). */
static int kt_contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = hay; *p; p++)
        if (!strncasecmp(p, needle, n))
            return 1;
    return !n;
}

static int kt_cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* GET /api/v1/namespaces/search: every flow namespace expanded to its parents (a.b.c -> a, a.b, a.b.c) plus the
 * system namespace, sorted and deduplicated, filtered by q, in the sort's direction, paged as Kestra pages it (a
 * list no longer than size comes whole, whatever the page). Items {"id", "disabled": true, "deleted": false}. */
static void kt_api_namespaces_read(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    (void)w;
    kt_api_flows_job *j = ud;
    int page, size;
    if (kt_api_read_failed(r, st, err, NULL, NULL) || kt_api_paging(r, &page, &size))
        return;
    const char *q = kt_http_query(r, "q"), *sort = kt_http_query(r, "sort");
    json_t *flows_ns = j->rows;
    kt_map *seen = kt_map_new();
    size_t n = 0, cap = json_array_size(flows_ns) * 4 + 1;
    char **all = kt_xmalloc(cap * sizeof *all);
    size_t i;
    json_t *v;
    kt_map_put(seen, KT_API_SYSTEM_NAMESPACE, (void *)1, NULL);
    all[n++] = kt_xstrdup(KT_API_SYSTEM_NAMESPACE);
    json_array_foreach(flows_ns, i, v) {
        const char *ns = json_string_value(v);
        for (const char *dot = ns;; dot++) {
            if (*dot != '.' && *dot)
                continue;
            char *prefix = kt_xstrndup(ns, (size_t)(dot - ns));
            if (kt_map_get(seen, prefix)) {
                free(prefix);
            } else {
                kt_map_put(seen, prefix, (void *)1, NULL);
                if (n == cap)
                    all = kt_xrealloc(all, (cap *= 2) * sizeof *all);
                all[n++] = prefix;
            }
            if (!*dot)
                break;
        }
    }
    kt_map_free(seen);
    qsort(all, n, sizeof *all, kt_cmp_str);
    size_t kept = 0;
    for (i = 0; i < n; i++) {
        if (!q || kt_contains_ci(all[i], q))
            all[kept++] = all[i];
        else
            free(all[i]);
    }
    n = kept;
    int desc = sort && strstr(sort, ":desc");
    size_t from = 0, to = n;
    if (n > (size_t)size) {
        from = (size_t)(page - 1) * (size_t)size;
        to = from + (size_t)size;
        if (from > n)
            from = n;
        if (to > n)
            to = n;
    }
    json_t *results = json_array();
    for (i = from; i < to; i++) {
        const char *id = all[desc ? n - 1 - i : i];
        json_array_append_new(results, json_pack("{s:s, s:b, s:b}", "id", id, "disabled", 1, "deleted", 0));
    }
    for (i = 0; i < n; i++)
        free(all[i]);
    free(all);
    kt_http_send_json(r, 200, json_pack("{s:o, s:I}", "results", results, "total", (json_int_t)n));
}

void kt_api_namespace_search(kt_http_req *r, void *ud)
{
    int page, size;
    if (kt_api_paging(r, &page, &size))
        return;
    kt_api_read_flow_list(ud, r, KT_API_FLOWS_NAMESPACES, NULL, NULL, kt_api_namespaces_read, NULL);
}
