/* The commands an ExecutionCommand message carries (runtime/msg.h), as one table: the enum, the names on the wire
 * and each command's flags come from KT_COMMAND_TABLE, so a command is spelled once. Timer commands are also what
 * the executor's step asks for when it needs an event back later (kt_exec_timer in actors/executor/step.h).
 * Prefix kt_cmd. */
#ifndef KT_RUNTIME_COMMAND_H
#define KT_RUNTIME_COMMAND_H

#define KT_CF_API     0x01u /* the webserver sends it on a user's request */
#define KT_CF_WORKER  0x02u /* a worker takes it (about one attempt it runs) */
#define KT_CF_TIMER   0x04u /* a delay of the step (Kestra's ExecutionDelay), delivered back to the executor */
#define KT_CF_SELF    0x08u /* the executor sends it to itself, to act after the commit of this turn */
#define KT_CF_TASKRUN 0x10u /* names a task run: a command without one is malformed */
#define KT_CF_DATA    0x20u /* carries a JSON value (data) */

/* X(name, flags) */
#define KT_COMMAND_TABLE(X)                                                                                    \
    X(KILL, KT_CF_API | KT_CF_WORKER)                    /* kill the execution; a worker stops the attempt */ \
    X(RESUME, KT_CF_API | KT_CF_DATA)                    /* resume a paused run; data: onResume inputs */     \
    X(RETRY, KT_CF_TIMER | KT_CF_TASKRUN)                /* a retry delay is over: the run runs again */      \
    X(RESUME_FLOW, KT_CF_TIMER | KT_CF_TASKRUN)          /* a Pause delay is over: the run goes on RUNNING */ \
    X(PAUSE_TIMEOUT, KT_CF_TIMER | KT_CF_TASKRUN)        /* a Pause timeout is over: the run ends FAILED */   \
    X(UNQUEUE, KT_CF_SELF | KT_CF_API)                   /* a QUEUED execution's turn came (or the API says) */ \
    X(PAUSE, KT_CF_API)                                  /* pause a RUNNING execution (no task run changes) */ \
    X(FORCE_RUN, KT_CF_API)                              /* run now: a scheduled CREATED one starts, a QUEUED */ \
                                                         /* one leaves the queue, a PAUSED one resumes */      \
    X(SCHEDULED, KT_CF_TIMER)                            /* a CREATED execution's scheduleDate came */         \
    X(SUBFLOW_CREATE, KT_CF_SELF | KT_CF_TASKRUN | KT_CF_DATA) /* create a Subflow run's child; data: spec */ \
    X(SUBFLOW_ENDED, KT_CF_SELF | KT_CF_DATA)            /* a child ended; data: the child execution */     \
    X(SUBFLOW_CHECK, KT_CF_SELF | KT_CF_TASKRUN | KT_CF_DATA) /* a waiting Subflow run's child row was missing */ \
                                                         /* at resume: look again; data: {executionId} */     \
    X(SLA, KT_CF_TIMER | KT_CF_TASKRUN)                  /* a MAX_DURATION SLA's deadline: the task-run field */ \
                                                         /* holds the SLA's index in the flow's `sla` list */ \
    X(RETRY_FLOW, KT_CF_TIMER | KT_CF_TASKRUN)           /* CREATE_NEW_EXECUTION's delay is over: the RETRIED */ \
                                                         /* execution is replayed as a new one */               \
    /* The API's manual changes, requests answered with the execution they made (KT_MSG_REPLY data): */            \
    X(RESTART, KT_CF_API | KT_CF_DATA)                   /* data: {revision?} */                              \
    X(REPLAY, KT_CF_API | KT_CF_DATA)                    /* data: {taskRunId?, revision?} */                  \
    X(MARK_AS, KT_CF_API | KT_CF_TASKRUN | KT_CF_DATA)   /* data: {state}: the run takes it (markAs) */       \
    X(CHANGE_STATUS, KT_CF_API | KT_CF_DATA)             /* data: {status}: a terminated execution's state */

typedef enum kt_cmd {
    KT_CMD_NONE = -1, /* a name that is not a command */
#define KT_CMD_ENUM_(name, flags) KT_CMD_##name,
    KT_COMMAND_TABLE(KT_CMD_ENUM_)
#undef KT_CMD_ENUM_
    KT_CMD_COUNT
} kt_cmd;

/* The wire name ("RESUME_FLOW"); NULL for KT_CMD_NONE or out of range. */
const char *kt_cmd_name(kt_cmd c);
/* The command a name spells (exact), KT_CMD_NONE for NULL or anything else. */
kt_cmd kt_cmd_of(const char *name);
/* The table's KT_CF_* flags (0 for KT_CMD_NONE). */
unsigned kt_cmd_flags(kt_cmd c);

#endif
