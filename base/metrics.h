/* The process's own metrics (what GET /prometheus shows): counters, gauges (set, or read from a callback when
 * rendered) and histograms with fixed buckets, each a family of series told apart by their labels, rendered in the
 * Prometheus text exposition format 0.0.4. Prefix kt_metric(s).
 *
 * One registry per process, used from the loop thread only: no locks (every actor, the webserver included, runs on
 * the one libuv loop). A series is made on first use and lives until kt_metrics_reset; the pointer a call returns
 * may be kept and reused. Every call accepts NULL where a series is expected (a refused name or a kind clash gives
 * NULL), so an instrumented path never has to check. */
#ifndef KT_BASE_METRICS_H
#define KT_BASE_METRICS_H

#include <stddef.h>

#include "base/json.h"

typedef struct kt_metric kt_metric;
typedef double (*kt_metric_fn)(void *ud);

/* labels: NULL, or name, value, name, value, ..., NULL. Names follow Prometheus' rules ([a-zA-Z_:][a-zA-Z0-9_:]*
 * for metrics, no ':' in label names); a value may be any text (escaped when rendered; NULL is ""). The same name
 * and labels in the same order give the same series. help is kept from the family's first call. */
kt_metric *kt_metrics_counter(const char *name, const char *help, const char *const *labels);
kt_metric *kt_metrics_gauge(const char *name, const char *help, const char *const *labels);
/* A gauge read through fn(ud) when rendered; it replaces the callback of an existing series of the same labels
 * (the latest registration reads). Whoever owns ud releases it (kt_metric_release) before ud goes away. */
kt_metric *kt_metrics_gauge_fn(const char *name, const char *help, const char *const *labels, kt_metric_fn fn,
                               void *ud);
/* bounds: ascending upper bounds (the +Inf bucket is implicit), fixed by the family's first call. */
kt_metric *kt_metrics_histogram(const char *name, const char *help, const char *const *labels, const double *bounds,
                                size_t nbounds);

/* Counters: by >= 0 (a negative step is ignored: a counter never goes down). Gauges: any step. */
void kt_metric_inc(kt_metric *m, double by);
void kt_metric_set(kt_metric *m, double v); /* gauges */
void kt_metric_observe(kt_metric *m, double v); /* histograms */
/* A counter's or gauge's value (a callback gauge's current reading), a histogram's sum; 0 for NULL. */
double kt_metric_value(const kt_metric *m);
/* A histogram's number of observations; 0 otherwise. */
unsigned long long kt_metric_count(const kt_metric *m);
/* Ends the registration of ud (kt_metrics_gauge_fn): the series stops reading ud if it is its reader, and goes
 * when no registration is left. Safe on a series already gone (two owners of the same labels, a reset). */
void kt_metric_release(kt_metric *m, void *ud);
/* Removes a series; the pointer is invalid after (a pointer to a series already gone is ignored). */
void kt_metric_drop(kt_metric *m);

/* Appends every family, sorted by name, series in creation order: # HELP, # TYPE, then the samples
 * (histograms: _bucket{le=...} cumulative, _sum, _count). A family without series is left out. */
void kt_metrics_render(kt_buf *out);
/* Frees every family and series (tests; the end of the process). */
void kt_metrics_reset(void);

/* Bucket bounds in seconds: task and execution durations (1 ms .. 1 h), and short operations (50 us .. 2.5 s). */
extern const double kt_metrics_duration_buckets[];
extern const size_t kt_metrics_duration_nbuckets;
extern const double kt_metrics_latency_buckets[];
extern const size_t kt_metrics_latency_nbuckets;

#endif
