/* The partitions this executor owns (docs/store-async-design.md §4.1; executor_int.h says what each function does).
 *
 * Ownership has two halves. The membership decides who should own a partition: every node computes the same owner
 * from the live members hosting an executor (rendezvous hashing, kt_node_partition_owner), so a message about an
 * execution reaches one executor without a table. The store decides who may: an executor takes the lease of each
 * partition it should own (free, released or expired), renews it every third of its time to live, gives it back when
 * the membership moves it elsewhere, and fences every commit with the lease's epoch. A paused executor whose lease was
 * taken meanwhile therefore cannot commit, and views of the membership that differ for a moment only delay messages.
 *
 * A message for a partition this executor should own but does not hold yet is parked (bounded) and received again
 * once the lease is taken; one for a partition another member should own is passed on to it. */
#include "actors/executor/executor_int.h"
#include "base/alloc.h"
#include "base/log.h"
#include "flow/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KT_LEASE_KIND "executor"
/* The passes over a partition's stored CREATED executions after its take, one per lease tick (a third of the liveness
 * timeout): the last comes a liveness timeout after the take, when every member knows the partition's new owner. */
#define KT_LEASE_RESCANS 3

int kt_executor_holds(const kt_executor *ex, const char *id) { return id && ex->parts[kt_exec_partition(id)].held; }

/* The value of key in a msgpack map (NULL when absent or not a map). */
static const msgpack_object *kt_lease_map_get(const msgpack_object *map, const char *key)
{
    size_t len = strlen(key);
    if (map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == len && !memcmp(k->via.str.ptr, key, len))
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

/* The execution a message concerns, from its body without decoding it all: ExecutionCreate's execution id, a
 * WorkerResult's or an ExecutionCommand's execution id, the execution a task asks to resume. "" for the rest (log
 * lines, the other task asks: any executor answers them from the store) and for an id that is not one of ours. */
static void kt_lease_msg_exec(const kt_msg *m, char *out)
{
    out[0] = 0;
    const msgpack_object *b = m->body;
    if (!b || b->type != MSGPACK_OBJECT_ARRAY || !b->via.array.size)
        return;
    const msgpack_object *f = &b->via.array.ptr[0], *id = NULL, *op;
    if (m->type == KT_MSG_EXECUTION_CREATE) {
        id = kt_lease_map_get(f, "id");
    } else if (m->type == KT_MSG_WORKER_RESULT || m->type == KT_MSG_EXEC_COMMAND) {
        id = f;
    } else if (m->type == KT_MSG_TASK_ASK && (op = kt_lease_map_get(f, "op")) && op->type == MSGPACK_OBJECT_STR &&
               op->via.str.size == 16 && !memcmp(op->via.str.ptr, "execution.resume", 16)) {
        id = kt_lease_map_get(f, "executionId"); /* it acts on the live execution: its owner's */
    }
    if (id && id->type == MSGPACK_OBJECT_STR && id->via.str.size && id->via.str.size <= KT_ID_LEN) {
        memcpy(out, id->via.str.ptr, id->via.str.size);
        out[id->via.str.size] = 0;
    }
}

/* Sends a parked message to the executor of `owner` (this one: received again here, never refused), consuming it. */
static void kt_lease_deliver(kt_executor *ex, kt_parked *pm, const char *owner)
{
    kt_node *node = kt_actor_node(ex->self);
    char to[KT_ADDR_MAX];
    snprintf(to, sizeof to, "%s@%s", KT_EXECUTOR_ACTOR, owner);
    kt_outmsg o;
    kt_outmsg_begin(&o, pm->type, to, pm->from, pm->corr);
    msgpack_sbuffer_write(&o.sb, pm->body, pm->len); /* the envelope's last field */
    o.to_self = !strcmp(owner, kt_node_id(node)); /* what we held is bounded already: it always fits */
    kt_status st = kt_node_send(node, to, &o);
    if (st)
        KT_WARN("executor", "%s from %s for %s not delivered: %s", kt_msg_type_name(pm->type), pm->from, to,
                kt_strerror(st));
    free(pm->body);
    free(pm);
}

/* The parked messages of partition p: to us when we hold it, to its owner when that is another member; kept when
 * we should own it and wait for its lease. */
static void kt_lease_unpark(kt_executor *ex, int p)
{
    kt_part *part = &ex->parts[p];
    kt_node *node = kt_actor_node(ex->self);
    const char *owner = part->held ? kt_node_id(node) : kt_node_partition_owner(node, KT_EXECUTOR_ACTOR, p);
    if (!part->parked || !owner || (!part->held && !strcmp(owner, kt_node_id(node))))
        return;
    char own[KT_ADDR_MAX];
    snprintf(own, sizeof own, "%s", owner); /* the membership may change while we send */
    for (kt_parked *pm = part->parked, *next; pm; pm = next) {
        next = pm->next;
        ex->nparked--;
        kt_lease_deliver(ex, pm, own);
    }
    part->parked = NULL;
    part->parked_tail = &part->parked;
}

static kt_parked *kt_lease_copy(const kt_msg *m)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_object(&pk, *m->body);
    kt_parked *pm = kt_xcalloc(1, sizeof *pm);
    pm->type = m->type;
    pm->corr = m->corr;
    snprintf(pm->from, sizeof pm->from, "%s", m->from);
    pm->len = sb.size;
    pm->body = msgpack_sbuffer_release(&sb);
    return pm;
}

int kt_executor_route(kt_executor *ex, const kt_msg *m)
{
    kt_lease_msg_exec(m, ex->msg_exec);
    if (!ex->msg_exec[0] || kt_executor_holds(ex, ex->msg_exec))
        return 0;
    int p = kt_exec_partition(ex->msg_exec);
    kt_node *node = kt_actor_node(ex->self);
    if (!strcmp(m->from, kt_actor_address(ex->self))) {
        /* our own continuation (a timer, a child to create) for a partition we lost: its next owner rebuilds it
         * from what we committed */
        KT_DEBUG("executor", "%s for execution %s dropped: partition %d is no longer ours", kt_msg_type_name(m->type),
                 ex->msg_exec, p);
        return 1;
    }
    const char *owner = kt_node_partition_owner(node, KT_EXECUTOR_ACTOR, p);
    /* passed on once: a message another member addressed to us by name is parked here, so two members whose views
     * differ for a moment do not bounce it between them */
    if (owner && strcmp(owner, kt_node_id(node)) && !strchr(m->to, '@')) {
        kt_parked *pm = kt_lease_copy(m);
        kt_lease_deliver(ex, pm, owner);
        return 1;
    }
    if (ex->nparked >= KT_EXEC_PARKED_CAP) {
        KT_WARN("executor", "%s for execution %s refused: %d messages wait for their partitions' leases",
                kt_msg_type_name(m->type), ex->msg_exec, KT_EXEC_PARKED_CAP);
        if (m->corr && m->type != KT_MSG_REPLY)
            kt_executor_reply(ex, m, KT_EAGAIN, "the execution's partition has no executor yet: try again", NULL);
        return 1;
    }
    kt_parked *pm = kt_lease_copy(m);
    *ex->parts[p].parked_tail = pm;
    ex->parts[p].parked_tail = &pm->next;
    ex->nparked++;
    return 1;
}

kt_status kt_executor_fence(kt_executor *ex, kt_db_batch *b)
{
    unsigned char touched[KT_PARTITIONS] = {0};
    for (size_t i = 0; i < ex->ndirty; i++)
        touched[kt_exec_partition(json_string_value(json_object_get(ex->dirty[i]->execution, "id")))] = 1;
    kt_status st = KT_OK;
    /* in ascending order, as a take locks its rows: never a wait in a cycle. A partition not held here is one whose
     * executions came with another's change (a Subflow child taken in by its parent's executor): nothing to fence
     * it with yet */
    for (int p = 0; st == KT_OK && p < KT_PARTITIONS; p++)
        if (touched[p] && ex->parts[p].held)
            st = kt_db_batch_fence(b, KT_LEASE_KIND, p, ex->parts[p].epoch);
    return st;
}

/* Forgets everything of partition p's executions here: their runs, jobs, timers not armed yet and replies not sent
 * (answered KT_EAGAIN: what they acknowledged was not committed). */
static void kt_lease_drop(kt_executor *ex, int p)
{
    size_t pos = 0;
    const char *key;
    void *val;
    json_t *gone = json_array();
    while (kt_map_next(ex->runs, &pos, &key, &val))
        if (kt_exec_partition(key) == p)
            json_array_append_new(gone, json_string(key));
    size_t k = 0;
    for (size_t i = 0; i < ex->ndirty; i++)
        if (kt_exec_partition(json_string_value(json_object_get(ex->dirty[i]->execution, "id"))) != p)
            ex->dirty[k++] = ex->dirty[i];
    ex->ndirty = k;
    pos = 0;
    json_t *jobs = json_array();
    while (kt_map_next(ex->jobs, &pos, &key, &val))
        if (kt_exec_partition(((kt_job *)val)->execution_id) == p)
            json_array_append_new(jobs, json_string(key));
    size_t i;
    json_t *v;
    json_array_foreach(jobs, i, v) kt_executor_drop_job(ex, json_string_value(v));
    json_decref(jobs);
    json_array_foreach(gone, i, v) {
        kt_run *run = kt_map_del(ex->runs, json_string_value(v));
        if (run && run->waiter[0]) /* the API waiting for its end: it hears no more from us */
            kt_executor_reply_to(ex, run->waiter, run->waiter_corr, json_string_value(v), KT_EAGAIN,
                                 "the execution's partition moved to another executor: its end is not followed here",
                                 NULL);
        if (run)
            kt_executor_run_free(run);
    }
    size_t k2 = 0;
    for (i = 0; i < ex->ntimers; i++)
        if (kt_exec_partition(ex->timers[i].execution_id) != p)
            ex->timers[k2++] = ex->timers[i];
    ex->ntimers = k2;
    for (i = 0; i < ex->nreplies; i++) {
        kt_pending_reply *r = &ex->replies[i];
        if (!r->execution_id[0] || kt_exec_partition(r->execution_id) != p)
            continue;
        r->status = KT_EAGAIN;
        free(r->message);
        r->message = kt_xstrdup("the execution's partition moved to another executor: try again");
        json_decref(r->data);
        r->data = NULL;
    }
    /* what the partition's uncommitted changes made elsewhere does not leave: its next owner makes it again */
    for (i = json_array_size(ex->handoffs); i-- > 0;)
        if (kt_exec_partition(json_string_value(json_array_get(json_array_get(ex->handoffs, i), 0))) == p)
            json_array_remove(ex->handoffs, i);
    if (json_array_size(gone))
        KT_INFO("executor", "partition %d: %zu execution(s) left to its next owner", p, json_array_size(gone));
    json_decref(gone);
}

int kt_executor_create_known(kt_executor *ex, const kt_msg *m, const kt_msg_execution_create *body)
{
    const char *id = json_string_value(json_object_get(body->execution, "id"));
    kt_run *run = id ? kt_map_get(ex->runs, id) : NULL;
    if (run) {
        /* taken in already (a pass over the store found it first, or this is a resend): it runs once */
        if (body->wait && !run->waiter[0]) {
            snprintf(run->waiter, sizeof run->waiter, "%s", m->from);
            run->waiter_corr = m->corr;
        }
        kt_executor_reply(ex, m, KT_OK, NULL, NULL);
        return 1;
    }
    if (!id || !body->stored)
        return 0;
    json_t *row = NULL;
    if (kt_store_execution_get(ex->store, id, &row) != KT_OK || !row) {
        json_decref(row);
        return 0; /* not there (a child made again), or the store cannot say: taken in as sent */
    }
    const char *cur = kt_state_current(row);
    int known = cur && strcmp(cur, KT_S(CREATED));
    if (known) {
        /* run here or by a previous owner, perhaps ended: never again, and no refusal either (its creator would fail
         * it) */
        KT_DEBUG("executor", "ExecutionCreate of %s from %s answered: the store holds it %s already", id, m->from, cur);
        kt_executor_reply(ex, m, KT_OK, NULL, NULL);
    }
    json_decref(row);
    return known;
}

/* Takes in the CREATED executions of the partitions in mask that are stored but not running here: committed by their
 * creator (a trigger's tick) after this executor's load of the partition, their ExecutionCreate went to the
 * partition's previous owner, a process that was dying or dead. */
static void kt_lease_rescan(kt_executor *ex, const unsigned char *mask)
{
    json_t *list;
    if (kt_store_executions_unfinished(ex->store, &list) != KT_OK) {
        KT_ERROR("executor", "cannot read unfinished executions: %s", kt_store_errmsg(ex->store));
        return;
    }
    size_t i, n = 0;
    json_t *e;
    json_array_foreach(list, i, e) {
        const char *id = json_string_value(json_object_get(e, "id"));
        const char *cur = kt_state_current(e);
        if (!id || !mask[kt_exec_partition(id)] || !ex->parts[kt_exec_partition(id)].held || !cur ||
            strcmp(cur, KT_S(CREATED)) || kt_map_get(ex->runs, id))
            continue;
        char err[256];
        kt_run *run = kt_executor_adopt(ex, e, err, sizeof err);
        if (!run) {
            KT_ERROR("executor", "cannot take in execution %s: %s", id, err);
            continue;
        }
        snprintf(run->notified, sizeof run->notified, "%s", cur);
        kt_executor_admit(ex, run);
        n++;
    }
    if (n)
        KT_INFO("executor", "%zu execution(s) created after their partition's load taken in", n);
    json_decref(list);
}

void kt_executor_handoff(kt_executor *ex, const char *parent_id, const json_t *execution)
{
    json_array_append_new(ex->handoffs, json_pack("[s,O]", parent_id, execution));
}

int kt_executor_send_handoffs(kt_executor *ex)
{
    kt_node *node = kt_actor_node(ex->self);
    size_t i = 0;
    while (i < json_array_size(ex->handoffs)) {
        const json_t *execution = json_array_get(json_array_get(ex->handoffs, i), 1);
        const char *id = json_string_value(json_object_get(execution, "id"));
        const char *owner = kt_node_partition_owner(node, KT_EXECUTOR_ACTOR, kt_exec_partition(id));
        if (owner && !strcmp(owner, kt_node_id(node)) && !kt_executor_holds(ex, id)) {
            i++; /* ours once its lease is taken (then it is received like any creation) */
            continue;
        }
        kt_outmsg o;
        kt_outmsg_begin(&o, KT_MSG_EXECUTION_CREATE, KT_EXECUTOR_ACTOR, kt_actor_address(ex->self), 0);
        kt_msg_execution_create body = {.execution = (json_t *)execution, .stored = 1};
        kt_msg_encode_execution_create(&o, &body);
        kt_status st = kt_node_send_keyed(node, KT_EXECUTOR_ACTOR, id, &o);
        if (st == KT_EAGAIN) {
            i++;
            continue;
        }
        if (st)
            KT_ERROR("executor", "execution %s could not be handed to its partition's owner: %s", id, kt_strerror(st));
        json_array_remove(ex->handoffs, i);
    }
    return json_array_size(ex->handoffs) > 0;
}

void kt_executor_partition_lost(kt_executor *ex, int p)
{
    KT_WARN("executor", "partition %d: the lease of epoch %lld moved to another executor", p,
            (long long)ex->parts[p].epoch);
    ex->parts[p].held = 0;
    kt_lease_drop(ex, p);
    kt_lease_unpark(ex, p);
}

/* Renews what is held (a lease not renewed was taken: lost), gives back what the membership moved elsewhere, takes
 * what it moved here (or what was waiting for an expiry) and loads those partitions' executions. from_hook: called
 * from a node hook (the node flushes after it); otherwise the loads are committed here. */
static void kt_lease_tick_now(kt_executor *ex, int from_hook)
{
    if (ex->stopping)
        return;
    if (ex->committing) { /* nothing moves under the batch in flight: after its callback (commit.c) */
        ex->tick_due = 1;
        return;
    }
    kt_node *node = kt_actor_node(ex->self);
    const char *me = kt_node_id(node);
    kt_lease held[KT_PARTITIONS], kept[KT_PARTITIONS];
    size_t nheld = 0, nkept = 0;
    int dropped = 0; /* replies to send (KT_EAGAIN) once the partitions are let go */
    for (int p = 0; p < KT_PARTITIONS; p++)
        if (ex->parts[p].held)
            held[nheld++] = (kt_lease){.id = p, .epoch = ex->parts[p].epoch};
    if (nheld) {
        if (kt_store_lease_renew(ex->store, KT_LEASE_KIND, held, nheld, me, ex->lease_ttl_us, kept, &nkept) != KT_OK) {
            /* not lost for that: the fence tells at the next commit whether another owner took one */
            KT_ERROR("executor", "cannot renew the partitions' leases: %s", kt_store_errmsg(ex->store));
            nkept = nheld;
            memcpy(kept, held, nheld * sizeof *held);
        }
        for (size_t i = 0, k = 0; i < nheld; i++) {
            while (k < nkept && kept[k].id < held[i].id)
                k++;
            if (k == nkept || kept[k].id != held[i].id) {
                kt_executor_partition_lost(ex, held[i].id);
                dropped = 1;
            }
        }
    }
    unsigned char again[KT_PARTITIONS] = {0};
    int nagain = 0;
    for (int p = 0; p < KT_PARTITIONS; p++)
        if (ex->parts[p].held && ex->parts[p].rescans) {
            ex->parts[p].rescans--;
            again[p] = 1;
            nagain++;
        }
    if (nagain)
        kt_lease_rescan(ex, again);
    int wanted[KT_PARTITIONS], nwanted = 0;
    kt_lease give[KT_PARTITIONS];
    size_t ngive = 0;
    for (int p = 0; p < KT_PARTITIONS; p++) {
        const char *owner = kt_node_partition_owner(node, KT_EXECUTOR_ACTOR, p);
        int mine = owner && !strcmp(owner, me);
        if (mine && !ex->parts[p].held)
            wanted[nwanted++] = p;
        /* given back only between commits: a failed one is still to be retried with its fence */
        if (!mine && ex->parts[p].held && !ex->ndirty)
            give[ngive++] = (kt_lease){.id = p, .epoch = ex->parts[p].epoch};
    }
    for (size_t i = 0; i < ngive; i++) {
        ex->parts[give[i].id].held = 0; /* nothing of it commits any more, then the store hears of it */
        kt_lease_drop(ex, give[i].id);
    }
    if (ngive && kt_store_lease_release(ex->store, KT_LEASE_KIND, give, ngive, me, NULL) != KT_OK)
        KT_WARN("executor", "cannot give back %zu lease(s): they move when they expire (%s)", ngive,
                kt_store_errmsg(ex->store));
    for (size_t i = 0; i < ngive; i++)
        kt_lease_unpark(ex, give[i].id);
    if (ngive)
        KT_INFO("executor", "%zu partition(s) given back: the membership moved them to other executors", ngive);
    kt_lease got[KT_PARTITIONS];
    size_t ngot = 0;
    if (nwanted && kt_store_lease_take(ex->store, KT_LEASE_KIND, wanted, (size_t)nwanted, me, ex->lease_ttl_us,
                                       ex->lease_force, got, &ngot) != KT_OK) {
        KT_ERROR("executor", "cannot take the partitions' leases: %s", kt_store_errmsg(ex->store));
        ngot = 0;
    }
    if (!ngot) {
        if ((dropped || ngive || nagain) && !from_hook)
            kt_executor_flush(ex->self);
        return;
    }
    unsigned char mask[KT_PARTITIONS] = {0};
    for (size_t i = 0; i < ngot; i++) {
        ex->parts[got[i].id].held = 1;
        ex->parts[got[i].id].epoch = got[i].epoch;
        /* loaded again at the next ticks (up to a liveness timeout): what was committed after this load and sent
         * to the previous owner until every member's view moved (kt_lease_rescan) */
        ex->parts[got[i].id].rescans = KT_LEASE_RESCANS;
        mask[got[i].id] = 1;
    }
    if (ngot != KT_PARTITIONS) /* (an executor alone takes them all: nothing to say) */
        KT_INFO("executor", "%zu partition lease(s) taken (%d wanted)", ngot, nwanted);
    kt_executor_resume(ex, mask);
    for (size_t i = 0; i < ngot; i++)
        kt_lease_unpark(ex, got[i].id);
    if (!from_hook)
        kt_executor_flush(ex->self);
}

static void kt_lease_on_tick(uv_timer_t *t) { kt_lease_tick_now(t->data, 0); }

void kt_executor_leases_rebalance(kt_executor *ex) { kt_lease_tick_now(ex, 1); }

void kt_executor_leases_tick(kt_executor *ex) { kt_lease_tick_now(ex, 0); }

void kt_executor_leases_start(kt_executor *ex, const kt_executor_options *opts)
{
    ex->lease_ttl_us = (int64_t)(opts && opts->lease_ttl_ms ? opts->lease_ttl_ms : 10000) * 1000;
    ex->lease_force = !kt_store_is_shared(ex->store);
    /* the first take loads the executions; the caller commits what loading them changed */
    kt_lease_tick_now(ex, 1);
    uint64_t every = (uint64_t)(ex->lease_ttl_us / 3000);
    uv_timer_start(&ex->lease_timer, kt_lease_on_tick, every ? every : 1, every ? every : 1);
}

void kt_executor_leases_stop(kt_executor *ex)
{
    uv_timer_stop(&ex->lease_timer);
    kt_lease held[KT_PARTITIONS];
    size_t n = 0;
    for (int p = 0; p < KT_PARTITIONS; p++)
        if (ex->parts[p].held && ex->lease_ttl_us)
            held[n++] = (kt_lease){.id = p, .epoch = ex->parts[p].epoch};
    /* after the stop's last commit: the next owner takes them at once rather than after their expiry */
    if (n && kt_store_lease_release(ex->store, KT_LEASE_KIND, held, n, kt_node_id(kt_actor_node(ex->self)), NULL))
        KT_WARN("executor", "leases not given back at stop (%s): they move when they expire",
                kt_store_errmsg(ex->store));
}

void kt_executor_leases_free(kt_executor *ex)
{
    for (int p = 0; p < KT_PARTITIONS; p++)
        for (kt_parked *pm = ex->parts[p].parked, *next; pm; pm = next) {
            next = pm->next;
            free(pm->body);
            free(pm);
        }
}
