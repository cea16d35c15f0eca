/* The process's metrics registry (metrics.h): families by name, series by name and label text, both in maps so an
 * instrumented event costs one lookup. Loop thread only. */
#include "base/metrics.h"
#include "base/alloc.h"
#include "base/map.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { KT_MET_COUNTER, KT_MET_GAUGE, KT_MET_HISTOGRAM } kt_met_kind;

typedef struct kt_met_family {
    char *name, *help;
    kt_met_kind kind;
    double *bounds; /* histograms */
    size_t nbounds;
    kt_metric **series;
    size_t nseries, capseries;
} kt_met_family;

struct kt_metric {
    kt_met_family *family;
    char *key;    /* name{labels}: the series map's key */
    char *labels; /* rendered label pairs without braces: a="x",b="y" ("" when none) */
    double value; /* counter, gauge; histogram: sum */
    kt_metric_fn fn;
    void *ud;
    unsigned long long *buckets; /* histograms: per bucket (not cumulative), nbounds + 1 (the last is +Inf) */
    unsigned long long count;
    int owners; /* callback gauges: registrations not yet released (kt_metric_release) */
};

static kt_map *kt_met_families; /* name -> kt_met_family */
static kt_map *kt_met_series;   /* key -> kt_metric */

const double kt_metrics_duration_buckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                              2.5,   5,     10,   30,    60,   300, 900, 3600};
const size_t kt_metrics_duration_nbuckets = sizeof kt_metrics_duration_buckets / sizeof *kt_metrics_duration_buckets;
const double kt_metrics_latency_buckets[] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                             0.01,    0.025,  0.05,    0.1,    0.25,  0.5,    1,    2.5};
const size_t kt_metrics_latency_nbuckets = sizeof kt_metrics_latency_buckets / sizeof *kt_metrics_latency_buckets;

static int kt_met_name_ok(const char *s, int colon)
{
    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              (colon && c == ':')))
            return 0;
    }
    return 1;
}

/* Label values escape \, " and newline (the format's only escapes). */
static void kt_met_escape(kt_buf *b, const char *v)
{
    for (; v && *v; v++) {
        if (*v == '\\')
            kt_buf_puts(b, "\\\\");
        else if (*v == '"')
            kt_buf_puts(b, "\\\"");
        else if (*v == '\n')
            kt_buf_puts(b, "\\n");
        else
            kt_buf_putc(b, *v);
    }
}

/* The shortest text that reads back as v; integers without a fraction; +Inf, -Inf, NaN as the format spells them. */
static void kt_met_fmt(kt_buf *b, double v)
{
    if (isnan(v)) {
        kt_buf_puts(b, "NaN");
        return;
    }
    if (isinf(v)) {
        kt_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        kt_buf_printf(b, "%.0f", v);
        return;
    }
    char t[64];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(t, sizeof t, "%.*g", prec, v);
        if (strtod(t, NULL) == v)
            break;
    }
    kt_buf_puts(b, t);
}

static kt_met_family *kt_met_family_get(const char *name, const char *help, kt_met_kind kind, const double *bounds,
                                        size_t nbounds)
{
    if (!kt_met_name_ok(name, 1))
        return NULL;
    if (!kt_met_families) {
        kt_met_families = kt_map_new();
        kt_met_series = kt_map_new();
    }
    kt_met_family *f = kt_map_get(kt_met_families, name);
    if (f)
        return f->kind == kind ? f : NULL;
    if (kind == KT_MET_HISTOGRAM) {
        for (size_t i = 1; i < nbounds; i++)
            if (!(bounds[i] > bounds[i - 1]))
                return NULL; /* a caller's bug: bounds must ascend */
    }
    f = kt_xcalloc(1, sizeof *f);
    f->name = kt_xstrdup(name);
    f->help = kt_xstrdup(help ? help : "");
    f->kind = kind;
    if (kind == KT_MET_HISTOGRAM && nbounds) {
        f->bounds = kt_xcalloc(nbounds, sizeof *f->bounds);
        memcpy(f->bounds, bounds, nbounds * sizeof *bounds);
        f->nbounds = nbounds;
    }
    kt_map_put(kt_met_families, name, f, NULL);
    return f;
}

static kt_metric *kt_met_series_get(kt_met_family *f, const char *const *labels)
{
    if (!f)
        return NULL;
    kt_buf lb = {0};
    for (size_t i = 0; labels && labels[i]; i += 2) {
        if (!kt_met_name_ok(labels[i], 0) || !strcmp(labels[i], "le")) {
            free(kt_buf_take(&lb));
            return NULL;
        }
        kt_buf_printf(&lb, "%s%s=\"", i ? "," : "", labels[i]);
        kt_met_escape(&lb, labels[i + 1]);
        kt_buf_putc(&lb, '"');
    }
    char *text = kt_buf_take(&lb);
    kt_buf kb = {0};
    kt_buf_printf(&kb, "%s{%s}", f->name, text);
    char *key = kt_buf_take(&kb);
    kt_metric *m = kt_map_get(kt_met_series, key);
    if (m) {
        free(text);
        free(key);
        return m;
    }
    m = kt_xcalloc(1, sizeof *m);
    m->family = f;
    m->key = key;
    m->labels = text;
    if (f->kind == KT_MET_HISTOGRAM)
        m->buckets = kt_xcalloc(f->nbounds + 1, sizeof *m->buckets);
    if (f->nseries == f->capseries) {
        f->capseries = f->capseries ? f->capseries * 2 : 8;
        f->series = kt_xrealloc(f->series, f->capseries * sizeof *f->series);
    }
    f->series[f->nseries++] = m;
    kt_map_put(kt_met_series, key, m, NULL);
    return m;
}

kt_metric *kt_metrics_counter(const char *name, const char *help, const char *const *labels)
{
    return kt_met_series_get(kt_met_family_get(name, help, KT_MET_COUNTER, NULL, 0), labels);
}

kt_metric *kt_metrics_gauge(const char *name, const char *help, const char *const *labels)
{
    return kt_met_series_get(kt_met_family_get(name, help, KT_MET_GAUGE, NULL, 0), labels);
}

kt_metric *kt_metrics_gauge_fn(const char *name, const char *help, const char *const *labels, kt_metric_fn fn,
                               void *ud)
{
    kt_metric *m = kt_metrics_gauge(name, help, labels);
    if (m) {
        m->fn = fn;
        m->ud = ud;
        m->owners++;
    }
    return m;
}

kt_metric *kt_metrics_histogram(const char *name, const char *help, const char *const *labels, const double *bounds,
                                size_t nbounds)
{
    return kt_met_series_get(kt_met_family_get(name, help, KT_MET_HISTOGRAM, bounds, nbounds), labels);
}

void kt_metric_inc(kt_metric *m, double by)
{
    if (!m || m->family->kind == KT_MET_HISTOGRAM || (m->family->kind == KT_MET_COUNTER && !(by >= 0)))
        return;
    m->value += by;
}

void kt_metric_set(kt_metric *m, double v)
{
    if (m && m->family->kind == KT_MET_GAUGE)
        m->value = v;
}

void kt_metric_observe(kt_metric *m, double v)
{
    if (!m || m->family->kind != KT_MET_HISTOGRAM || isnan(v))
        return;
    size_t i = 0;
    while (i < m->family->nbounds && v > m->family->bounds[i])
        i++;
    m->buckets[i]++;
    m->count++;
    m->value += v;
}

double kt_metric_value(const kt_metric *m)
{
    if (!m)
        return 0;
    return m->fn ? m->fn(m->ud) : m->value;
}

unsigned long long kt_metric_count(const kt_metric *m) { return m && m->buckets ? m->count : 0; }

static void kt_met_series_free(kt_metric *m)
{
    free(m->key);
    free(m->labels);
    free(m->buckets);
    free(m);
}

/* Whether m is a live series: found by address among them (m itself is not read: it may be gone). */
static int kt_met_live(const kt_metric *m)
{
    size_t pos = 0;
    const char *key;
    void *val;
    while (m && kt_met_series && kt_map_next(kt_met_series, &pos, &key, &val))
        if (val == m)
            return 1;
    return 0;
}

void kt_metric_release(kt_metric *m, void *ud)
{
    if (!kt_met_live(m))
        return;
    if (m->ud == ud) { /* the current reader goes: nothing reads ud from now on */
        m->fn = NULL;
        m->ud = NULL;
    }
    if (--m->owners <= 0)
        kt_metric_drop(m);
}

void kt_metric_drop(kt_metric *m)
{
    if (!kt_met_live(m))
        return;
    kt_met_family *f = m->family;
    for (size_t i = 0; i < f->nseries; i++)
        if (f->series[i] == m) {
            memmove(f->series + i, f->series + i + 1, (f->nseries - i - 1) * sizeof *f->series);
            f->nseries--;
            break;
        }
    kt_map_del(kt_met_series, m->key);
    kt_met_series_free(m);
}

/* One sample line: name[suffix]{labels[,extra]} value */
static void kt_met_sample(kt_buf *b, const kt_metric *m, const char *suffix, const char *extra, double v)
{
    kt_buf_puts(b, m->family->name);
    kt_buf_puts(b, suffix);
    if (*m->labels || extra) {
        kt_buf_putc(b, '{');
        kt_buf_puts(b, m->labels);
        if (extra) {
            if (*m->labels)
                kt_buf_putc(b, ',');
            kt_buf_puts(b, extra);
        }
        kt_buf_putc(b, '}');
    }
    kt_buf_putc(b, ' ');
    kt_met_fmt(b, v);
    kt_buf_putc(b, '\n');
}

static void kt_met_render_family(kt_buf *b, const kt_met_family *f)
{
    static const char *const kinds[] = {"counter", "gauge", "histogram"};
    kt_buf_printf(b, "# HELP %s ", f->name);
    for (const char *h = f->help; *h; h++) { /* HELP escapes \ and newline */
        if (*h == '\\')
            kt_buf_puts(b, "\\\\");
        else if (*h == '\n')
            kt_buf_puts(b, "\\n");
        else
            kt_buf_putc(b, *h);
    }
    kt_buf_printf(b, "\n# TYPE %s %s\n", f->name, kinds[f->kind]);
    for (size_t i = 0; i < f->nseries; i++) {
        const kt_metric *m = f->series[i];
        if (f->kind != KT_MET_HISTOGRAM) {
            kt_met_sample(b, m, "", NULL, kt_metric_value(m));
            continue;
        }
        unsigned long long cum = 0;
        for (size_t k = 0; k <= f->nbounds; k++) {
            cum += m->buckets[k];
            kt_buf le = {0};
            kt_buf_puts(&le, "le=\"");
            kt_met_fmt(&le, k < f->nbounds ? f->bounds[k] : INFINITY);
            kt_buf_putc(&le, '"');
            char *extra = kt_buf_take(&le);
            kt_met_sample(b, m, "_bucket", extra, (double)cum);
            free(extra);
        }
        kt_met_sample(b, m, "_sum", NULL, m->value);
        kt_met_sample(b, m, "_count", NULL, (double)m->count);
    }
}

static int kt_met_cmp(const void *a, const void *b)
{
    return strcmp((*(kt_met_family *const *)a)->name, (*(kt_met_family *const *)b)->name);
}

void kt_metrics_render(kt_buf *out)
{
    if (!kt_met_families)
        return;
    size_t n = kt_map_size(kt_met_families), k = 0, pos = 0;
    kt_met_family **all = kt_xcalloc(n + 1, sizeof *all);
    const char *key;
    void *val;
    while (kt_map_next(kt_met_families, &pos, &key, &val))
        all[k++] = val;
    qsort(all, k, sizeof *all, kt_met_cmp);
    for (size_t i = 0; i < k; i++)
        if (all[i]->nseries)
            kt_met_render_family(out, all[i]);
    free(all);
}

void kt_metrics_reset(void)
{
    if (!kt_met_families)
        return;
    size_t pos = 0;
    const char *key;
    void *val;
    while (kt_map_next(kt_met_families, &pos, &key, &val)) {
        kt_met_family *f = val;
        for (size_t i = 0; i < f->nseries; i++)
            kt_met_series_free(f->series[i]);
        free(f->series);
        free(f->bounds);
        free(f->name);
        free(f->help);
        free(f);
    }
    kt_map_free(kt_met_families);
    kt_map_free(kt_met_series);
    kt_met_families = kt_met_series = NULL;
}
