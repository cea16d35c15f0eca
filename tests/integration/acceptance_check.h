/* The acceptance checks (acceptance_check.c) that test_acceptance.c runs on each case's execution. Prefix acc_. */
#ifndef KT_TEST_ACCEPTANCE_CHECK_H
#define KT_TEST_ACCEPTANCE_CHECK_H

#include <jansson.h>
#include <stddef.h>

/* a, or b when a is NULL */
static inline const char *acc_or(const char *a, const char *b) { return a ? a : b; }

/* What went wrong in a case, one line per mismatch. */
typedef struct acc_report {
    char *buf;
    size_t len;
} acc_report;

void acc_say(acc_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One check of the DSL (see acceptance_cases.h) on the execution ex; port is the server's, for the kinds that read
 * more than the execution (logs). Appends a line per mismatch to r; returns the number of mismatches. */
int acc_check_one(json_t *ex, const char *chk, int port, acc_report *r);

/* The task run a selector ("#i", "taskId", "taskId[value]") picks in ex (borrowed), or NULL. */
json_t *acc_select_run(json_t *ex, const char *sel);

/* Appends the task runs of ex (taskId[value]=state) to r. */
void acc_dump_taskruns(json_t *ex, acc_report *r);

#endif
