/* KT_ASSERT: an invariant of Kite's own making, checked in every build (release included).
 *
 * A failed assertion prints "kite: assertion failed: <cond> (<file>:<line> in <function>)" on stderr and aborts:
 * a state machine or an ownership rule that no longer holds is a bug, and going on would corrupt an execution or
 * hide the bug behind a silent clamp. Outside input (the network, YAML, the database, a peer) is never asserted on;
 * it gets a kt_status and a clear message. KT_ASSERTF adds a printf-style explanation after the condition. */
#ifndef KT_BASE_ASSERT_H
#define KT_BASE_ASSERT_H

_Noreturn void kt_assert_fail(const char *cond, const char *file, int line, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 5, 6), cold));

#define KT_ASSERT(cond) \
    (__builtin_expect(!!(cond), 1) ? (void)0 : kt_assert_fail(#cond, __FILE__, __LINE__, __func__, NULL))
#define KT_ASSERTF(cond, ...) \
    (__builtin_expect(!!(cond), 1) ? (void)0 : kt_assert_fail(#cond, __FILE__, __LINE__, __func__, __VA_ARGS__))

#endif
