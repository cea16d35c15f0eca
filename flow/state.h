/* Kestra's State.Type (KESTRA-execution.md §1.6, core/.../models/flows/State.java) as one table: each state's name,
 * its predicates and the states it may be reached from. The enum, the names, the predicates, the transition check
 * and the list of state names the flow validator accepts all come from KT_STATE_TABLE, so a state is spelled once.
 *
 * Executions keep states as JSON strings (Kestra's documents); KT_S(SUCCESS) is the table's spelling of a name, to
 * write one, and kt_state_of() reads one back. Prefix kt_state. */
#ifndef KT_FLOW_STATE_H
#define KT_FLOW_STATE_H

/* Predicates, as State.Type and State define them. */
#define KT_SF_TERMINATED  0x01u /* isTerminated: nothing will run again (restart aside) */
#define KT_SF_CREATED     0x02u /* isCreated: still to start */
#define KT_SF_RUNNING     0x04u /* isRunning */
#define KT_SF_FAILED      0x08u /* isFailed */
#define KT_SF_PAUSED      0x10u /* isPaused */
#define KT_SF_RETRYING    0x20u /* isRetrying */
#define KT_SF_SUCCESS     0x40u /* isSuccess */
#define KT_SF_RESTARTABLE 0x80u /* State.isRestartable: isFailed or isPaused */
#define KT_SF_RESUMABLE   0x100u /* State.isResumable: isPaused, isRetrying or isCreated */

/* Source sets for the third column: KT_SB(X) is state X; the others are unions. */
#define KT_SB(name) (1u << KT_STATE_##name)
#define KT_SM_ANY ((1u << KT_STATE_COUNT) - 1u)
#define KT_SM_TERMINATED ((unsigned)KT_STATE_MASK_TERMINATED)

/* X(name, flags, sources): the states in State.Type's declaration order.
 *
 * sources = every state it may be reached from. There is no transition table in Kestra (withState accepts any
 * change), so this is the union of the transitions Kestra's code performs on executions, task runs and attempts
 * (§1.6's table, §2.7 retries, §2.11 pause/resume and markAs, §2.13 kill, §2.14 concurrency, §2.15 restart,
 * change-status and the task-run state API, §2.17 SLA): staying in a state is always allowed (withState(current)
 * adds nothing); every terminated state may be changed to another (change-status, a flow output failing after
 * SUCCESS, a Subflow run going from its child's state to guessState's); RUNNING comes back from anything but
 * SKIPPED and CANCELLED (the flowable ancestors of a restarted or resumed run); RESTARTED comes from anything that
 * has run (restart, resume, the task-run state API). What is left out is what Kestra never does, and doing it is a
 * bug in Kite: a run going back to CREATED other than for a retry (or a WaitFor's next iteration, set whole), a QUEUED that was not CREATED, a terminated
 * run KILLING or PAUSED, a SKIPPED run that starts, a QUEUED execution that succeeds. */
#define KT_STATE_TABLE(X)                                                                                            \
    /* name, its flags (predicates), then on the next line the states it may be reached from */                      \
    X(CREATED,   KT_SF_CREATED | KT_SF_RESUMABLE,                                                                    \
      KT_SB(RETRYING))                                                                                               \
    X(RUNNING,   KT_SF_RUNNING,                                                                                      \
      KT_SM_ANY & ~(KT_SB(SKIPPED) | KT_SB(CANCELLED)))                                                              \
    X(PAUSED,    KT_SF_PAUSED | KT_SF_RESTARTABLE | KT_SF_RESUMABLE,                                                 \
      KT_SB(RUNNING) | KT_SB(RESTARTED) | KT_SB(RETRYING))                                                           \
    X(RESTARTED, KT_SF_CREATED | KT_SF_RESUMABLE,                                                                    \
      KT_SM_ANY & ~(KT_SB(CREATED) | KT_SB(QUEUED)))                                                                 \
    X(KILLING,   KT_SF_RUNNING,                                                                                      \
      KT_SM_ANY & ~KT_SM_TERMINATED)                                                                                 \
    X(SUCCESS,   KT_SF_TERMINATED | KT_SF_SUCCESS,                                                                   \
      KT_SM_ANY & ~KT_SB(QUEUED))                                                                                    \
    X(WARNING,   KT_SF_TERMINATED,                                                                                   \
      KT_SM_ANY & ~KT_SB(QUEUED))                                                                                    \
    X(FAILED,    KT_SF_TERMINATED | KT_SF_FAILED | KT_SF_RESTARTABLE,                                                \
      KT_SM_ANY)                                                                                                     \
    X(KILLED,    KT_SF_TERMINATED,                                                                                   \
      KT_SM_ANY)                                                                                                     \
    X(CANCELLED, KT_SF_TERMINATED,                                                                                   \
      KT_SM_ANY)                                                                                                     \
    X(QUEUED,    0,                                                                                                  \
      KT_SB(CREATED))                                                                                                \
    X(RETRYING,  KT_SF_RETRYING | KT_SF_RESUMABLE,                                                                   \
      KT_SB(FAILED) | KT_SB(RUNNING) | KT_SB(PAUSED))                                                                \
    X(RETRIED,   KT_SF_TERMINATED | KT_SF_RETRYING | KT_SF_RESUMABLE,                                                \
      KT_SB(RUNNING) | KT_SB(RETRYING) | KT_SM_TERMINATED)                                                           \
    X(SKIPPED,   KT_SF_TERMINATED,                                                                                   \
      KT_SB(CREATED) | KT_SB(RESTARTED) | KT_SB(RUNNING) | KT_SM_TERMINATED)

typedef enum kt_state {
    KT_STATE_NONE = -1, /* no state, or a name that is not one */
#define KT_STATE_ENUM_(name, flags, sources) KT_STATE_##name,
    KT_STATE_TABLE(KT_STATE_ENUM_)
#undef KT_STATE_ENUM_
    KT_STATE_COUNT
} kt_state;

/* The terminated states as a set, from the table's flags (used by the sources column). */
#define KT_STATE_TMASK_(name, flags, sources) | (((flags) & KT_SF_TERMINATED) ? (1u << KT_STATE_##name) : 0u)
enum { KT_STATE_MASK_TERMINATED = 0u KT_STATE_TABLE(KT_STATE_TMASK_) };
#undef KT_STATE_TMASK_

_Static_assert(KT_STATE_COUNT <= 32, "a state set is a 32-bit mask");

/* Names in table order; KT_S(RUNNING) is "RUNNING", checked by the compiler against the enum. */
extern const char *const kt_state_names[KT_STATE_COUNT + 1]; /* NULL-terminated */
#define KT_S(name) (kt_state_names[KT_STATE_##name])

/* The state a name spells (exact, case-sensitive as Kestra's JSON), KT_STATE_NONE for NULL or anything else. */
kt_state kt_state_of(const char *name);
/* The name of a state; NULL for KT_STATE_NONE or out of range. */
const char *kt_state_name(kt_state s);
/* The table's KT_SF_* flags of a state (0 for KT_STATE_NONE). */
unsigned kt_state_flags(kt_state s);
/* 1 when the state a name spells has any of flags (0 for an unknown name). */
int kt_state_is(const char *name, unsigned flags);
/* 1 when Kestra may move something in state `from` to `to` (the table's sources; from == to is always allowed).
 * Both must be states. */
int kt_state_can_move(kt_state from, kt_state to);

#endif
