/* Process logging to stderr: levels, a module tag, colour only on a TTY and never with NO_COLOR.
 * This is Kite's own diagnostic log, not the task logs users see through the API. */
#ifndef KT_BASE_LOG_H
#define KT_BASE_LOG_H

typedef enum kt_log_level { KT_LOG_TRACE, KT_LOG_DEBUG, KT_LOG_INFO, KT_LOG_WARN, KT_LOG_ERROR } kt_log_level;

void kt_log_set_level(kt_log_level level);
kt_log_level kt_log_get_level(void);
/* Parses "trace|debug|info|warn|error" (any case); returns -1 when unknown. */
int kt_log_parse_level(const char *s);
/* The node this process is (its id, as other nodes and GET /api/v1/cluster/nodes know it): once set, every line
 * names it, so the lines of a cluster's processes can be merged and still told apart. Set once at start, before
 * any thread logs; NULL or "" removes it. */
void kt_log_set_node(const char *node_id);
void kt_log(kt_log_level level, const char *module, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define KT_TRACE(mod, ...) do { if (kt_log_get_level() <= KT_LOG_TRACE) kt_log(KT_LOG_TRACE, mod, __VA_ARGS__); } while (0)
#define KT_DEBUG(mod, ...) do { if (kt_log_get_level() <= KT_LOG_DEBUG) kt_log(KT_LOG_DEBUG, mod, __VA_ARGS__); } while (0)
#define KT_INFO(mod, ...) kt_log(KT_LOG_INFO, mod, __VA_ARGS__)
#define KT_WARN(mod, ...) kt_log(KT_LOG_WARN, mod, __VA_ARGS__)
#define KT_ERROR(mod, ...) kt_log(KT_LOG_ERROR, mod, __VA_ARGS__)

#endif
