/* Every limit Kite enforces, in one place, each with the reason it exists and what happens when it is reached
 * (after SQLite's sqliteLimit.h). A limit is either
 *   - a bound on outside input (YAML, HTTP, the network): reaching it is that input's error, answered with a clear
 *     message and never a crash; or
 *   - a capacity of an internal queue or of a fixed-size effects array: reaching it takes the path written next to
 *     it (back-pressure, an overflow flag the caller handles, or a counted and logged refusal), never a silent drop.
 * Sizes of identifiers and buffers that only shape a format (KT_ADDR_MAX, KT_ID_LEN) stay with their formats. */
#ifndef KT_BASE_LIMITS_H
#define KT_BASE_LIMITS_H

/* ---- the executor's step (actors/executor/step.h) -------------------------------------------------------------
 * kt_exec_step is a pure function whose effects fit in a fixed struct the caller keeps on its stack, so each kind of
 * effect has a capacity per event. None of them may lose work: */

/* Attempts to dispatch per event. Beyond it the step sets dispatch_overflow and the executor looks for RUNNING
 * attempts without a job itself (kt_executor_rescan): the dispatches are found again, just more slowly. */
#define KT_EXEC_MAX_DISPATCH 128
/* Task runs whose change is listed per event, so a commit rewrites only those rows. Beyond it the step sets
 * touched_all and the commit rewrites every task run of the execution. */
#define KT_EXEC_MAX_TOUCHED 256
/* Log lines the executor itself writes per event (runIf errors, flowable errors, retries...). They are diagnostics,
 * not state: beyond the limit the step counts the lines it could not keep (logs_dropped) and the executor writes
 * one WARN line saying how many, so the loss is visible in the execution's logs. The number grows with the flow
 * (a ForEach whose every value fails its runIf), so this cannot be an assertion. */
#define KT_EXEC_MAX_LOGS 32
/* Delayed events per event: at most one retry (a result is for one task run) plus the Pause delays or timeouts of
 * the runs that paused in this step. A Pause whose timer does not fit stays PAUSED with an ERROR log line saying
 * so (it can still be resumed through the API); a retry always fits, which the step asserts. */
#define KT_EXEC_MAX_TIMERS 64
/* Subflow children to create per event. A Subflow run beyond it stays CREATED and starts on a later event (each
 * child created now brings one back: CHILD_CREATED), so a wide fan-out of subflows is only spread over events. */
#define KT_EXEC_MAX_SUBFLOWS 16
/* Messages one executor keeps for partitions whose lease it is waiting for (an owner that died holds it until it
 * expires: docs/store-async-design.md §4.1), all partitions together. Beyond it a request is answered KT_EAGAIN (the
 * API's 503; a scheduler or worker tries again) and anything else is dropped with a warning: the partition's next
 * owner rebuilds what it needs from the store when it takes the lease (a lost worker result becomes a lost attempt,
 * which runs again). */
#define KT_EXEC_PARKED_CAP 65536
/* Passes of Kestra's `process` loop per event, plus KT_EXEC_PASSES_PER_RUN per task run in the execution. A pass
 * that changes nothing ends the loop; a pass that changes something creates a run or moves one forward, and a run
 * moves forward a bounded number of times, so a legitimate event settles well inside this budget however large
 * the flow. Exhausting it means the state machine loops without progress: a bug, asserted. */
#define KT_EXEC_PASS_LIMIT 10000
#define KT_EXEC_PASSES_PER_RUN 4

/* errorLogs() (KESTRA-expressions.md): the execution's first ERROR lines, at most this many (Kestra's limit). The
 * executor keeps that many per live execution whose flow calls the function, because the indexer may not have
 * written them yet when a task using it is dispatched (actors/executor/dispatch.c). */
#define KT_ERROR_LOGS_MAX 25

/* ---- the indexer (actors/indexer/indexer.h) ------------------------------------------------------------------
 * It writes the task log lines and task metrics it receives in one transaction per loop turn. */

/* Lines (and, separately, metric entries) per transaction: a turn that received more commits this many and the rest
 * on the next loop iterations, so one burst neither holds a transaction open nor keeps the loop from its I/O. */
#define KT_INDEXER_MAX_LINES 5000
/* What the indexer holds while the store is slow or failing (estimated: each line's message plus 256 bytes). Beyond
 * it the indexer pauses its mailbox (kt_actor_pause): senders get KT_EAGAIN and keep their lines (the worker keeps
 * its batch and its results, a peer's messages wait in the link) until a commit brings it back under half. */
#define KT_INDEXER_MAX_BYTES (32u << 20)
/* A failed commit is tried again this much later (the lines stay held, in order). */
#define KT_INDEXER_RETRY_MS 100

/* ---- the runtime (runtime/node.c, transports/nng.c) -------------------------------------------------------- */

/* Messages of new work waiting in one actor's mailbox. Every loop turn drains every mailbox, so a mailbox only ever
 * holds what one turn sent to one actor; this many means a sender outruns its receiver, and queueing more would
 * only grow memory until the process dies. A full mailbox refuses the message with KT_EAGAIN, counts it
 * (kt_node_refused) and logs it; senders that can wait check kt_node_has_room first (the worker keeps its results,
 * timers fire again a little later, a peer's messages wait in the link: back-pressure), and the others answer an
 * error (the API's 503). An actor's messages to itself and replies are not new work (they are bounded by what the
 * actor already took) and always fit. See docs/architecture.md, "Limits". */
#define KT_MAILBOX_CAP 65536
/* A timer message whose target's mailbox (or link) is full fires again this much later, and a sender that must
 * not lose a refused message (a kill for a worker) re-sends it as such a timer: short enough not to delay the work
 * noticeably, long enough that a full receiver gets whole loop turns to drain. */
#define KT_NODE_TIMER_RETRY_MS 10
/* Received messages the nng threads may queue for the loop. When it is reached the inbound socket stops reading
 * until the loop has taken the queue, so a fast peer is slowed down by nng's and TCP's own flow control instead of
 * growing this queue without bound. */
#define KT_LINK_INBOX_CAP 8192
/* Messages waiting for one peer whose connection is full (nng's send buffer, KT_LINK_SOCKBUF, included). Beyond it
 * kt_link_send refuses with KT_EAGAIN and counts the refusal. A peer that stops altogether is declared dead by the
 * liveness timeout, which resubmits its work elsewhere; one that keeps its heartbeats but stops reading is not, so
 * senders that must not lose a message check kt_node_has_room first and keep it (the executor's jobs, the worker's
 * results and logs) or re-send it as a timer message (a kill); the rest log the refusal. */
#define KT_LINK_BACKLOG_CAP 65536
/* The longest wait between two tries at a full connection's backlog: the period doubles from 1 ms while no message
 * leaves, so a dead or stalled peer costs ten wake-ups a second, not a thousand. */
#define KT_LINK_RETRY_MAX_MS 100
/* Messages nng buffers per socket, each way: NONBLOCK sends succeed without waiting for the peer's reader. */
#define KT_LINK_SOCKBUF 1024
/* Largest message a peer may send us: a worker's result with its outputs, a log batch. nng drops larger ones
 * (and the connection) before they reach us. */
#define KT_LINK_MAX_MSG (64u << 20)
/* Outbound connections of one node (handles are indexes into a fixed table). Beyond it a join is refused with
 * "too many peers". */
#define KT_LINK_MAX_PEERS 256
/* Actors one node hosts (a fixed table; today a node runs at most five). kt_node_spawn refuses more. */
#define KT_NODE_MAX_ACTORS 16
/* Partitions of the executions (base/partition.h): an execution belongs to fnv1a(id) % KT_PARTITIONS, and each
 * partition has one executor owning it at a time (a lease in the store, docs/store-async-design.md §4). Fixed for
 * the life of a store: the number is part of every execution id's meaning, so changing it moves executions between
 * owners. 64 spreads the work over up to 64 executors while keeping the lease rows and the take/renew statements
 * small. */
#define KT_PARTITIONS 64

/* ---- outside input --------------------------------------------------------------------------------------------- */

/* YAML nesting and nodes after alias expansion, per document: hostile input (billion laughs, deep nesting) stays
 * bounded and gets a diagnostic. */
#define KT_YAML_MAX_DEPTH 256
#define KT_YAML_MAX_NODES 200000
/* Nesting of a msgpack value decoded to JSON: a deeper one does not decode (the message is refused as malformed),
 * so a hostile peer cannot exhaust the stack. */
#define KT_MP_MAX_DEPTH 64
/* HTTP request bodies: larger ones get 413 (HTTP/1.1) or a reset stream (h2). */
#define KT_HTTP_MAX_BODY (64u << 20)
/* Parts of one multipart/form-data body: more is refused ("multipart: more than N parts"), so a body of empty
 * parts cannot cost unbounded work. */
#define KT_MULTIPART_MAX_PARTS 10000
/* Path segments of a request (a longer path matches nothing: 404) and parameters per route pattern. */
#define KT_WEB_MAX_SEGS 64
#define KT_WEB_MAX_PARAMS 16
/* Listening sockets of the HTTP server (one per configured address). */
#define KT_HTTP_MAX_LISTENERS 8
/* One line of a script task's output: longer lines are split, so a runaway process cannot grow the worker without
 * bound. */
#define KT_LINE_MAX (1 << 20)
/* Files one script task's `outputFiles` globs may upload: the map {relative path: URI} travels in the attempt's
 * WorkerResult (one message under KT_LINK_MAX_MSG), so a glob matching a whole tree fails the attempt with that
 * count in its log instead of growing the message without bound. */
#define KT_SCRIPT_MAX_OUTPUT_FILES 10000

/* ---- relationships ----------------------------------------------------------------------------------------- */

/* A dispatched run is a touched run: listing fewer touched runs than dispatches would force touched_all on every
 * large fan-out. */
_Static_assert(KT_EXEC_MAX_TOUCHED >= KT_EXEC_MAX_DISPATCH, "touched runs must cover the dispatches of an event");
/* What the link hands the loop in one wake fits in an empty mailbox. */
_Static_assert(KT_MAILBOX_CAP >= KT_LINK_INBOX_CAP, "a link inbox must fit in a mailbox");
/* nng's own buffer is the first part of a peer's backlog. */
_Static_assert(KT_LINK_BACKLOG_CAP >= KT_LINK_SOCKBUF, "the backlog must be larger than nng's buffer");

/* Batches one ForEachItem run may start: every child execution is built, written and admitted in one executor turn
 * (measured here: 20 000 trivial children stall the loop for 7 s and take 300 MB), so a bigger fan-out is refused with
 * a message asking for bigger batches rather than freezing the executor. */
#define KT_FOREACHITEM_MAX_BATCHES 10000

#endif
