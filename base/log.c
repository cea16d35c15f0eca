#include "base/log.h"
#include "base/clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

static kt_log_level kt_log_threshold = KT_LOG_INFO;
static _Atomic int kt_log_colour = -1; /* -1: not decided yet; atomic: the store's pool threads log too */
static char kt_log_node[72];   /* " <node id>" or "" */

static const char *const kt_log_names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR"};
static const char *const kt_log_colours[] = {"\033[90m", "\033[36m", "\033[32m", "\033[33m", "\033[31m"};

void kt_log_set_level(kt_log_level level) { kt_log_threshold = level; }
kt_log_level kt_log_get_level(void) { return kt_log_threshold; }

void kt_log_set_node(const char *node_id)
{
    if (node_id && *node_id)
        snprintf(kt_log_node, sizeof kt_log_node, " %s", node_id);
    else
        kt_log_node[0] = 0;
}

int kt_log_parse_level(const char *s)
{
    for (int i = 0; i <= KT_LOG_ERROR; i++)
        if (!strcasecmp(s, kt_log_names[i]))
            return i;
    if (!strcasecmp(s, "warning"))
        return KT_LOG_WARN;
    return -1;
}

void kt_log(kt_log_level level, const char *module, const char *fmt, ...)
{
    if (level < kt_log_threshold)
        return;
    if (kt_log_colour < 0) {
        const char *nc = getenv("NO_COLOR");
        kt_log_colour = isatty(STDERR_FILENO) && !(nc && *nc);
    }
    char ts[40], line[2048];
    kt_time_format(kt_now_us(), ts, sizeof ts);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One fprintf per line so concurrent processes writing to one terminal do not interleave mid-line. */
    if (kt_log_colour)
        fprintf(stderr, "%s %s%-5s\033[0m%s [%s] %s\n", ts, kt_log_colours[level], kt_log_names[level], kt_log_node,
                module, line);
    else
        fprintf(stderr, "%s %-5s%s [%s] %s\n", ts, kt_log_names[level], kt_log_node, module, line);
}
