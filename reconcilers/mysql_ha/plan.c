/* SPDX-License-Identifier: MIT */
#include <inttypes.h>

#include "util/common.h"

#include "model/json-util.h"
#include "reconcilers/mysql_ha/plan.h"

/* One pass of the mysql_ha reconciler, decided from what observe() saw and what earlier passes
 * recorded: secrets, network and volumes first; then, when the primary is lost or a switchover
 * is asked for, the failover's phases (fence, promote, route, repoint), each marked so that the
 * reconciler records it before it runs; then the members (created, started, the replicas
 * following the primary by GTID, the primary bootstrapped and made writable, semi-sync), the
 * proxy (its configuration rewritten and reloaded when the primary or the read set changes) and
 * the status. Pure: `now` is given, nothing is read here. */

#define REQUEUE_NOW      (20 * USEC_PER_MSEC)  /* an object this pass made is needed next */
#define REQUEUE_STARTING (200 * USEC_PER_MSEC) /* a server is starting: ask again soon */
#define REQUEUE_RUNNING  (10 * USEC_PER_SEC)   /* lag decides the read set: look again */
#define REQUEUE_NO_CAND  USEC_PER_SEC          /* a failover waits for a replica */
/* A primary's probes count only once it has run this long: a server starting (crash recovery)
 * is not a failed one. */
#define PROBE_GRACE (15 * USEC_PER_SEC)

typedef struct Pass {
        const ResourceRef *ref;
        const MysqlHaSpec *spec;
        const MysqlObserved *obs;
        usec_t now;
        MysqlPlan *out;
        Plan *plan;
        cJSON *extra;
        const char *message;
        char msgbuf[512];
        Phase phase;
        usec_t requeue;
        int primary;          /* the primary at the end of this pass */
        bool primary_ready;   /* answers, bootstrapped */
        bool primary_serving; /* takes writes at the end of this pass */
        bool hold_primary;    /* a dead primary waits for a human: do not start it */
        bool proxy_done;      /* the proxy was converged (in a failover's route phase) */
        bool bootstrapping;
        bool initialized;
        int probe_failures;
        usec_t last_probe_at;
        usec_t probe_since;
        int rejoin[MYSQL_MEMBERS_MAX];
        bool busy[MYSQL_MEMBERS_MAX]; /* handled by the failover this pass */
        char net[128];
} Pass;

void mysql_plan_init(MysqlPlan *p) {
        *p = (MysqlPlan){};
        plan_init(&p->plan);
        p->failover.old_index = p->failover.new_index = -1;
}

void mysql_plan_release(MysqlPlan *p) {
        if (!p)
                return;
        plan_release(&p->plan);
        mysql_plan_init(p);
}

static void requeue(Pass *p, usec_t after) {
        if (p->requeue == 0 || after < p->requeue)
                p->requeue = after;
}

static void say(Pass *p, Phase phase, const char *fmt, ...) _printf_(3, 4);
static void say(Pass *p, Phase phase, const char *fmt, ...) {
        va_list ap;

        /* The first complaint wins: it is the one blocking the others. */
        if (p->message)
                return;
        va_start(ap, fmt);
        vsnprintf(p->msgbuf, sizeof(p->msgbuf), fmt, ap);
        va_end(ap);
        p->message = p->msgbuf;
        p->phase = phase;
}

static bool is_running(const ObservedContainer *c) {
        return c && c->state && streq(c->state, "running");
}

/* Down for good until someone starts it: Docker will not (members have no restart policy). */
static bool is_dead(const ObservedContainer *c) {
        return c && c->state &&
               (streq(c->state, "exited") || streq(c->state, "dead") ||
                streq(c->state, "removing"));
}

static bool is_db(const ObservedContainer *c) {
        return c->role && streq(c->role, MYSQL_ROLE_DB) && c->index >= 0 &&
               c->index < MYSQL_MEMBERS_MAX;
}

static const ObservedContainer *find_member(const MysqlObserved *o, int index,
                                            const MysqlNodeObserved **ret_node) {
        for (size_t i = 0; i < o->n_containers; i++) {
                const ObservedContainer *c = &o->containers[i];

                if (is_db(c) && c->index == index) {
                        if (ret_node)
                                *ret_node = o->nodes && o->nodes[i].answered ? &o->nodes[i] : NULL;
                        return c;
                }
        }
        if (ret_node)
                *ret_node = NULL;
        return NULL;
}

static const ObservedContainer *find_proxy(const MysqlObserved *o) {
        for (size_t i = 0; i < o->n_containers; i++)
                if (o->containers[i].role && streq(o->containers[i].role, MYSQL_ROLE_PROXY) &&
                    o->containers[i].index == 0)
                        return &o->containers[i];
        return NULL;
}

static int members_wanted(const Pass *p) {
        return 1 + p->spec->replicas;
}

static bool member_wanted(const Pass *p, int index) {
        return (index >= 0 && index < members_wanted(p)) || index == p->primary;
}

static void member_name(const Pass *p, int index, char buf[static 128]) {
        if (mysql_member_name(buf, 128, p->ref, (unsigned) index) < 0)
                buf[0] = 0;
}

/* Streams from the member named `primary`: both threads running. */
static bool streaming_from(const MysqlNodeObserved *n, const char *primary) {
        return n && n->has_slave && n->master_host && streq(n->master_host, primary) &&
               n->io_running && streq(n->io_running, "Yes") && n->sql_running &&
               streq(n->sql_running, "Yes");
}

static bool follows(const MysqlNodeObserved *n, const char *primary) {
        return n && n->has_slave && n->master_host && streq(n->master_host, primary);
}

static MysqlGtidPos gtid_of(const char *s) {
        MysqlGtidPos g = {};

        if (mysql_gtid_parse(s, &g) < 0)
                g = (MysqlGtidPos){};
        return g;
}

/* What a member holds, applied or received: its relay log counts (it will apply it). */
static MysqlGtidPos received_of(const MysqlNodeObserved *n) {
        MysqlGtidPos cur = gtid_of(n->gtid_current_pos), io;

        if (!n->has_slave || isempty(n->gtid_io_pos))
                return cur;
        io = gtid_of(n->gtid_io_pos);
        return mysql_gtid_weight(&io) > mysql_gtid_weight(&cur) ? io : cur;
}

/* Applied everything it received. */
static bool caught_up(const MysqlNodeObserved *n) {
        MysqlGtidPos cur, io;

        if (!n->has_slave || isempty(n->gtid_io_pos))
                return true;
        cur = gtid_of(n->gtid_current_pos);
        io = gtid_of(n->gtid_io_pos);
        return mysql_gtid_reached(&cur, &io);
}

static int add_exec_sql(Pass *p, const char *container, const char *reason, const char *sql) {
        char *const argv[] = {(char *) "mariadb", (char *) "-e", (char *) sql, NULL};
        return plan_add_exec(p->plan, container, reason, argv);
}

static int add_follow(Pass *p, const char *container, const char *primary, bool fresh,
                      const char *reason) {
        char *const argv[] = {(char *) "sh", (char *) MYSQL_SCRIPT_DIR "/follow.sh",
                              (char *) primary, (char *) (fresh ? "fresh" : "current"), NULL};
        return plan_add_exec(p->plan, container, reason, argv);
}

static int add_promote(Pass *p, const char *container) {
        /* Semi-sync comes back once a replica streams from it (a later pass): until then its
         * commits would wait for an acknowledgement nobody can send. */
        return add_exec_sql(p, container, "promote",
                            "STOP SLAVE; RESET SLAVE ALL; "
                            "SET GLOBAL rpl_semi_sync_master_enabled=OFF; "
                            "SET GLOBAL read_only=OFF");
}

static void mark(Pass *p, const char *phase) {
        MysqlPlan *o = p->out;

        if (o->n_marks < ELEMENTSOF(o->marks))
                o->marks[o->n_marks++] =
                        (MysqlMark){.phase = phase, .first_action = p->plan->n_actions};
        snprintf(o->failover.phase, sizeof(o->failover.phase), "%s", phase);
}

static int container_for(Pass *p, int index, ContainerConfig **ret, Error *reterr) {
        _cleanup_free_ ContainerConfig *c = b_calloc(1, sizeof(*c));
        int r;

        if (!c)
                return -ENOMEM;
        r = mysql_member_config(p->ref, p->spec, p->obs, (unsigned) index, c, reterr);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

static int add_create(Pass *p, int index, const char *reason, Error *reterr) {
        ContainerConfig *want = NULL;
        int r;

        r = container_for(p, index, &want, reterr);
        if (r < 0)
                return r;
        requeue(p, REQUEUE_STARTING);
        return plan_add(p->plan, ACTION_CREATE_CONTAINER, want->name, NULL, reason, want);
}

static int ensure_volume(Pass *p, int index) {
        char vol[128];
        int r;

        r = name_volume(vol, sizeof(vol), p->ref->project, p->ref->name, "data", (unsigned) index);
        if (r < 0)
                return r;
        if (strv_contains(p->obs->volumes, vol))
                return 0;
        return plan_add(p->plan, ACTION_ENSURE_VOLUME, vol, NULL, "member data", NULL);
}

/* A member whose data cannot follow the primary (its history diverged): its container and data
 * go, and it comes back empty, copying the primary's binary logs from their start. */
static int add_rebuild(Pass *p, const ObservedContainer *c, int index, const char *why,
                       Error *reterr) {
        char vol[128];
        int r;

        r = name_volume(vol, sizeof(vol), p->ref->project, p->ref->name, "data", (unsigned) index);
        if (r < 0)
                return r;
        r = plan_add(p->plan, ACTION_REMOVE_CONTAINER, c->name, c->id, why, NULL);
        if (r >= 0)
                r = plan_add(p->plan, ACTION_REMOVE_VOLUME, vol, NULL, why, NULL);
        if (r >= 0)
                r = plan_add(p->plan, ACTION_ENSURE_VOLUME, vol, NULL, "rebuilt member data", NULL);
        if (r >= 0)
                r = add_create(p, index, "rebuilt", reterr);
        return r;
}

/* ---- foundations --------------------------------------------------------------------------- */

static int plan_foundations(Pass *p, bool *ret_wait) {
        const struct {
                int64_t version;
                int (*name)(char *, size_t, const char *);
                const char *why;
        } secrets[] = {
                {p->obs->replication_version, mysql_replication_secret_name,
                 "replication password"},
                {p->obs->monitor_version, mysql_monitor_secret_name, "monitor password"},
        };
        char name[128];
        int r;

        *ret_wait = false;
        if (p->obs->password_version == MYSQL_SECRET_MISSING) {
                if (!p->spec->password_generated) {
                        say(p, PHASE_FAILED,
                            "secret %s does not exist (create it: berth secret set %s)",
                            p->spec->password_secret, p->spec->password_secret);
                        *ret_wait = true;
                        return 0;
                }
                r = plan_add(p->plan, ACTION_ENSURE_SECRET, p->spec->password_secret, NULL,
                             "generated password", NULL);
                if (r < 0)
                        return r;
                *ret_wait = true;
        }
        for (size_t i = 0; i < ELEMENTSOF(secrets); i++) {
                if (secrets[i].version != MYSQL_SECRET_MISSING)
                        continue;
                r = secrets[i].name(name, sizeof(name), p->ref->name);
                if (r >= 0)
                        r = plan_add(p->plan, ACTION_ENSURE_SECRET, name, NULL, secrets[i].why,
                                     NULL);
                if (r < 0)
                        return r;
                *ret_wait = true;
        }
        if (!p->obs->network_exists) {
                r = plan_add(p->plan, ACTION_ENSURE_NETWORK, p->net, NULL, "missing", NULL);
                if (r < 0)
                        return r;
                *ret_wait = true;
        }
        if (*ret_wait) {
                requeue(p, REQUEUE_NOW);
                say(p, PHASE_PROVISIONING, "creating the secrets and the network");
        }
        return 0;
}

/* ---- the proxy ----------------------------------------------------------------------------- */

static int plan_proxy(Pass *p, Error *reterr) {
        const ObservedContainer *c = find_proxy(p->obs), *pc = NULL;
        _cleanup_strv_free_ char **reads = NULL;
        _cleanup_free_ char *conf = NULL;
        ContainerConfig *want = NULL;
        char prim[128], hash[65], sha[65];
        int r;

        p->proxy_done = true;
        member_name(p, p->primary, prim);
        if (p->primary_serving)
                pc = find_member(p->obs, p->primary, NULL);
        /* Reads: replicas streaming from the primary within the lag bound, by index. */
        for (int i = 0; i < MYSQL_MEMBERS_MAX; i++) {
                const MysqlNodeObserved *n;
                const ObservedContainer *m = find_member(p->obs, i, &n);

                if (i == p->primary || !m || !m->ip || p->busy[i] || p->rejoin[i] >= 0 ||
                    !member_wanted(p, i) || !streaming_from(n, prim) || n->seconds_behind < 0 ||
                    (usec_t) n->seconds_behind * USEC_PER_SEC > p->spec->max_lag)
                        continue;
                r = strv_push(&reads, m->ip);
                if (r < 0)
                        return r;
        }
        conf = mysql_proxy_render(p->ref, p->spec, pc && pc->ip ? pc->ip : NULL, reads);
        if (!conf)
                return -ENOMEM;
        want = b_calloc(1, sizeof(*want));
        if (!want)
                return -ENOMEM;
        r = mysql_proxy_config(p->ref, p->spec, conf, want, reterr);
        if (r >= 0)
                r = container_config_hash(want, hash);
        if (r < 0) {
                container_config_release(want);
                b_free(want);
                return r;
        }
        if (!c) {
                requeue(p, REQUEUE_STARTING);
                return plan_add(p->plan, ACTION_CREATE_CONTAINER, want->name, NULL, "missing",
                                want);
        }
        if (!c->config_hash || !streq(c->config_hash, hash)) {
                r = plan_add(p->plan, ACTION_REMOVE_CONTAINER, c->name, c->id, "config changed",
                             NULL);
                if (r >= 0)
                        r = plan_add(p->plan, ACTION_CREATE_CONTAINER, want->name, NULL,
                                     "config changed", TAKE_PTR(want));
                requeue(p, REQUEUE_STARTING);
                if (want) {
                        container_config_release(want);
                        b_free(want);
                }
                return r;
        }
        container_config_release(want);
        b_free(want);
        if (!is_running(c)) {
                if (c->state && streq(c->state, "restarting"))
                        return 0;
                requeue(p, REQUEUE_STARTING);
                return plan_add(p->plan, ACTION_START_CONTAINER, c->name, c->id, "stopped", NULL);
        }
        r = sha256_hex(conf, strlen(conf), sha);
        if (r < 0)
                return r;
        if (p->obs->proxy_answered && !streq(sha, p->obs->proxy_conf_sha256)) {
                ContainerFile *f = b_calloc(1, sizeof(*f));
                char *const sig[] = {(char *) "SIGUSR2", NULL};

                if (!f)
                        return -ENOMEM;
                *f = (ContainerFile){.mode = 0644, .live = true, .size = strlen(conf)};
                f->path = b_strdup(MYSQL_PROXY_CONF);
                f->content = TAKE_PTR(conf);
                if (!f->path) {
                        b_free(f->content);
                        b_free(f);
                        return -ENOMEM;
                }
                r = plan_add_files(p->plan, c->name, "routes changed", f, 1);
                if (r >= 0)
                        r = plan_add(p->plan, ACTION_KILL_CONTAINER, c->name, c->id,
                                     "reload the proxy", NULL);
                if (r >= 0) {
                        Action *a = &p->plan->actions[p->plan->n_actions - 1];

                        a->argv = strv_copy(sig);
                        r = a->argv ? 0 : -ENOMEM;
                }
                requeue(p, REQUEUE_STARTING);
                return r;
        }
        if (!p->obs->proxy_answered)
                requeue(p, REQUEUE_STARTING);
        return 0;
}

/* ---- failover ------------------------------------------------------------------------------ */

/* The replica to promote: answering, not the old primary, not rejoining; the most advanced GTID
 * position it holds (received counts: it applies its relay log before promotion), then the
 * lowest lag, then the lowest index. Those that followed the old primary come first. -1: none. */
static int best_candidate(const Pass *p, int old, int only) {
        char prim[128];
        int best = -1;
        uint64_t best_w = 0;
        int64_t best_lag = 0;
        bool best_follows = false;

        member_name(p, old, prim);
        for (int i = 0; i < MYSQL_MEMBERS_MAX; i++) {
                const MysqlNodeObserved *n;
                const ObservedContainer *c = find_member(p->obs, i, &n);
                MysqlGtidPos g;
                uint64_t w;
                int64_t lag;
                bool f;

                if (i == old || !c || !is_running(c) || !n || p->rejoin[i] >= 0 ||
                    (only >= 0 && i != only))
                        continue;
                g = received_of(n);
                w = mysql_gtid_weight(&g);
                lag = n->seconds_behind < 0 ? INT64_MAX : n->seconds_behind;
                f = follows(n, prim);
                if (best < 0 || (f && !best_follows) ||
                    (f == best_follows && (w > best_w || (w == best_w && lag < best_lag)))) {
                        best = i;
                        best_w = w;
                        best_lag = lag;
                        best_follows = f;
                }
        }
        return best;
}

/* The furthest position the replicas received from the old primary: its last known one. */
static void old_position(const Pass *p, int old, char *buf, size_t n) {
        uint64_t best = 0;

        buf[0] = 0;
        for (int i = 0; i < MYSQL_MEMBERS_MAX; i++) {
                const MysqlNodeObserved *node;
                MysqlGtidPos cur, io;
                const char *s;
                uint64_t w;

                if (i == old || !find_member(p->obs, i, &node) || !node)
                        continue;
                cur = gtid_of(node->gtid_current_pos);
                io = gtid_of(node->has_slave ? node->gtid_io_pos : NULL);
                s = strempty(node->gtid_current_pos);
                w = mysql_gtid_weight(&cur);
                if (mysql_gtid_weight(&io) > w) {
                        s = node->gtid_io_pos;
                        w = mysql_gtid_weight(&io);
                }
                if (!buf[0] || w > best) {
                        best = w;
                        snprintf(buf, n, "%s", s);
                }
        }
}

static void request_refuse(Pass *p, const char *fmt, ...) _printf_(2, 3);
static void request_refuse(Pass *p, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(p->out->failover_error, sizeof(p->out->failover_error), fmt, ap);
        va_end(ap);
        p->out->failover_aborts = true;
}

/* A queued switchover or failover, or the evidence that the primary is lost. Fills
 * p->out->failover when one starts this pass. */
static int plan_detect(Pass *p) {
        const MysqlObserved *o = p->obs;
        const MysqlNodeObserved *pn;
        const ObservedContainer *pc = find_member(o, p->primary, &pn);
        MysqlFailover *fo = &p->out->failover;
        char prim[128], why[256] = "";
        bool requested = false, switchover = false;
        int target = -1, cand;

        member_name(p, p->primary, prim);
        if (o->has_request && !streq(o->request_action, "switchover") &&
            !streq(o->request_action, "failover")) {
                request_refuse(p, "action %s is not supported by mysql_ha", o->request_action);
                return 0;
        }
        if (o->has_request) {
                if (o->request_error) {
                        request_refuse(p, "%s", o->request_error);
                        return 0;
                }
                requested = true;
                switchover = streq(o->request_action, "switchover");
                target = o->request_target;
                if (target >= 0 && (target == p->primary || !member_wanted(p, target) ||
                                    !find_member(o, target, NULL))) {
                        request_refuse(p, "member %d cannot be promoted: %s", target,
                                       target == p->primary ? "it is the primary already"
                                                            : "there is no such member");
                        return 0;
                }
        }

        if (pn) {
                p->probe_failures = 0;
                p->probe_since = 0;
                p->last_probe_at = p->now;
        } else if (o->initialized && !requested) {
                if (!pc)
                        snprintf(why, sizeof(why), "the primary's container %s is gone", prim);
                else if (is_dead(pc))
                        snprintf(why, sizeof(why), "the primary's container %s died (exit code %d)",
                                 pc->name, pc->exit_code);
                else if (pc->started_at == 0 || pc->started_at + PROBE_GRACE < p->now) {
                        /* Running (or paused, or hung) but silent: berth's probe failed. */
                        const ObservedContainer *oc;
                        int following = 0, lost = 0;

                        if (p->now >= p->last_probe_at + p->spec->probe_interval * 9 / 10) {
                                if (p->probe_failures++ == 0 || p->probe_since == 0)
                                        p->probe_since = p->now;
                                p->last_probe_at = p->now;
                        }
                        requeue(p, p->spec->probe_interval);
                        for (int i = 0; i < MYSQL_MEMBERS_MAX; i++) {
                                const MysqlNodeObserved *n;

                                oc = find_member(o, i, &n);
                                if (i == p->primary || !oc || !follows(n, prim))
                                        continue;
                                following++;
                                if (!n->io_running || !streq(n->io_running, "Yes"))
                                        lost++;
                        }
                        if (p->probe_failures < p->spec->detection_probes) {
                                say(p, PHASE_DEGRADED,
                                    "the primary %s does not answer (probe %d of %d)", prim,
                                    p->probe_failures, p->spec->detection_probes);
                                return 0;
                        }
                        if (following == 0 || lost < following) {
                                /* berth cannot reach it, its replicas can: not a failure of the
                                 * primary (a partition between berth and it). */
                                say(p, PHASE_DEGRADED,
                                    "the primary %s does not answer berth, but %d of its %d "
                                    "replicas still stream from it: no failover",
                                    prim, following - lost, following);
                                return 0;
                        }
                        snprintf(why, sizeof(why),
                                 "the primary %s failed %d probes and its %d replicas lost it",
                                 prim, p->probe_failures, following);
                }
        }
        if (!requested && !why[0])
                return 0;

        if (switchover) {
                char cname[128];
                const MysqlNodeObserved *cn;

                cand = target >= 0 ? target : best_candidate(p, p->primary, -1);
                if (!pn || pn->read_only || !p->initialized) {
                        request_refuse(p, "a switchover needs a healthy primary (%s is %s)", prim,
                                       pn ? "read-only" : "not answering");
                        return 0;
                }
                member_name(p, cand, cname);
                if (cand < 0 || !find_member(o, cand, &cn) || !streaming_from(cn, prim)) {
                        request_refuse(p, "no replica streams from the primary %s to take over",
                                       prim);
                        return 0;
                }
                *fo = (MysqlFailover){.active = true,
                                      .old_index = p->primary,
                                      .new_index = cand,
                                      .detected_at = p->now,
                                      .request_id = o->request_id};
                snprintf(fo->kind, sizeof(fo->kind), "switchover");
                snprintf(fo->reason, sizeof(fo->reason), "switchover requested by %s",
                         o->request_actor[0] ? o->request_actor : "a user");
                return 0;
        }

        cand = best_candidate(p, p->primary, target);
        if (cand < 0) {
                if (requested) {
                        request_refuse(p, "no replica answers: nothing to promote");
                        return 0;
                }
                /* Nothing to promote: the old primary is the best hope; start it again. */
                say(p, PHASE_DEGRADED, "%s, and no replica can take over: starting it again", why);
                return 0;
        }
        if (!requested && !p->spec->failover_automatic) {
                say(p, PHASE_DEGRADED,
                    "%s; automatic failover is off (spec.failover.automatic): run `berth do "
                    "mysql_ha %s failover`",
                    why, p->ref->name);
                p->hold_primary = true;
                return 0;
        }
        if (!requested && o->last_failover_at > 0 &&
            p->now < o->last_failover_at + p->spec->min_interval) {
                char when[40];

                say(p, PHASE_DEGRADED,
                    "%s; an automatic failover already ran at %s, within "
                    "spec.failover.min_interval: waiting for a human (berth do mysql_ha %s "
                    "failover)",
                    why, format_rfc3339_exact(o->last_failover_at, when, sizeof(when)),
                    p->ref->name);
                p->hold_primary = true;
                return 0;
        }
        *fo = (MysqlFailover){.active = true,
                              .automatic = !requested,
                              .old_index = p->primary,
                              .new_index = cand,
                              .detected_at = p->now,
                              .failed_at = pc && is_dead(pc) ? pc->finished_at : p->probe_since,
                              .request_id = requested ? o->request_id : 0};
        snprintf(fo->kind, sizeof(fo->kind), "failover");
        if (requested)
                snprintf(fo->reason, sizeof(fo->reason), "failover requested by %s",
                         o->request_actor[0] ? o->request_actor : "a user");
        else
                snprintf(fo->reason, sizeof(fo->reason), "%s", why);
        old_position(p, p->primary, fo->old_gtid, sizeof(fo->old_gtid));
        snprintf(fo->phase, sizeof(fo->phase), "decide");
        return 0;
}

static int repoint_others(Pass *p, int old, int new) {
        char name[128];
        int r;

        member_name(p, new, name);
        for (int i = 0; i < MYSQL_MEMBERS_MAX; i++) {
                const MysqlNodeObserved *n;
                const ObservedContainer *c = find_member(p->obs, i, &n);

                if (i == old || i == new || !c || !n || p->rejoin[i] >= 0 || follows(n, name))
                        continue;
                r = add_follow(p, c->name, name, isempty(n->gtid_current_pos),
                               "follow the new primary");
                if (r < 0)
                        return r;
                p->busy[i] = true;
        }
        return 0;
}

static int finish_request(Pass *p, const char *what) {
        char id[32];

        if (p->out->failover.request_id <= 0)
                return 0;
        snprintf(id, sizeof(id), "%" PRIi64, p->out->failover.request_id);
        return plan_add(p->plan, ACTION_FINISH_REQUEST, id, NULL, what, NULL);
}

static int plan_switchover(Pass *p, Error *reterr) {
        MysqlFailover *fo = &p->out->failover;
        const MysqlNodeObserved *on, *cn;
        const ObservedContainer *oc = find_member(p->obs, fo->old_index, &on),
                                *cc = find_member(p->obs, fo->new_index, &cn);
        char cname[128];
        MysqlGtidPos target, have;
        int r;

        member_name(p, fo->new_index, cname);
        if (!oc || !on || !cc || !cn) {
                /* Someone left half way: the primary gets its writes back (if it answers) from
                 * its own convergence, and detection takes it from there. */
                request_refuse(p, "switchover abandoned: %s stopped answering",
                               !oc || !on ? "the primary" : "the candidate");
                fo->active = false;
                return 0;
        }
        if (fo->frozen_at == 0 || !on->read_only) {
                /* Writes stop here: what the primary committed is all the candidate needs. */
                mark(p, "freeze");
                r = add_exec_sql(p, oc->name, "switchover: stop writes", "SET GLOBAL read_only=ON");
                if (r < 0)
                        return r;
                requeue(p, REQUEUE_NOW);
                say(p, PHASE_DEGRADED,
                    "switchover to %s: writes paused, waiting for it to catch up", cname);
                return 0;
        }
        target = gtid_of(on->gtid_binlog_pos);
        have = gtid_of(cn->gtid_current_pos);
        snprintf(fo->old_gtid, sizeof(fo->old_gtid), "%s", strempty(on->gtid_binlog_pos));
        if (!mysql_gtid_reached(&have, &target)) {
                if (p->now > fo->frozen_at + MYSQL_SWITCHOVER_MAX) {
                        /* The primary takes writes again (its own convergence, below). */
                        request_refuse(p,
                                       "switchover abandoned: %s did not reach %s within %d s "
                                       "(it has %s)",
                                       cname, strempty(on->gtid_binlog_pos),
                                       (int) (MYSQL_SWITCHOVER_MAX / USEC_PER_SEC),
                                       strempty(cn->gtid_current_pos));
                        fo->active = false;
                        return 0;
                }
                requeue(p, REQUEUE_NOW);
                say(p, PHASE_DEGRADED, "switchover to %s: waiting for it to reach %s", cname,
                    strempty(on->gtid_binlog_pos));
                return 0;
        }
        snprintf(fo->new_gtid, sizeof(fo->new_gtid), "%s", strempty(cn->gtid_current_pos));
        mark(p, "promote");
        r = add_promote(p, cc->name);
        if (r < 0)
                return r;
        p->primary = fo->new_index;
        p->primary_serving = true;
        p->primary_ready = true;
        mark(p, "route");
        r = plan_proxy(p, reterr);
        if (r < 0)
                return r;
        mark(p, "repoint");
        /* The old primary has nothing the new one lacks: it follows from where it stands. */
        r = add_follow(p, oc->name, cname, false, "follow the new primary");
        if (r >= 0)
                r = repoint_others(p, fo->old_index, fo->new_index);
        if (r >= 0)
                r = finish_request(p, "switched over");
        if (r < 0)
                return r;
        p->out->failover_completes = true;
        requeue(p, REQUEUE_NOW);
        return 0;
}

static int plan_failover(Pass *p, Error *reterr) {
        MysqlFailover *fo = &p->out->failover;
        const MysqlNodeObserved *cn;
        const ObservedContainer *oc = find_member(p->obs, fo->old_index, NULL), *cc;
        char cname[128];
        int r;

        if (fo->fenced_at == 0 || (oc && !is_dead(oc))) {
                /* The old primary can never take a write again: stopped, and off the network
                 * (should anyone start it, it is alone and read-only). */
                mark(p, "fence");
                if (oc) {
                        char *const net[] = {p->net, NULL};

                        if (!is_dead(oc)) {
                                r = plan_add(p->plan, ACTION_KILL_CONTAINER, oc->name, oc->id,
                                             "fence the old primary", NULL);
                                if (r < 0)
                                        return r;
                        }
                        r = plan_add(p->plan, ACTION_DISCONNECT_NETWORK, oc->name, oc->id,
                                     "fence the old primary", NULL);
                        if (r < 0)
                                return r;
                        p->plan->actions[p->plan->n_actions - 1].argv = strv_copy(net);
                        if (!p->plan->actions[p->plan->n_actions - 1].argv)
                                return -ENOMEM;
                }
        }
        cc = find_member(p->obs, fo->new_index, &cn);
        if (!cc || !cn || !is_running(cc)) {
                int cand = best_candidate(p, fo->old_index, -1);

                if (cand < 0) {
                        say(p, PHASE_FAILED,
                            "failover from %d: no replica answers to be promoted; waiting for "
                            "one",
                            fo->old_index);
                        requeue(p, REQUEUE_NO_CAND);
                        return 0;
                }
                fo->new_index = cand;
                cc = find_member(p->obs, cand, &cn);
        }
        member_name(p, fo->new_index, cname);
        if (!caught_up(cn)) {
                if (cn->sql_running && !streq(cn->sql_running, "Yes") && cn->last_sql_errno) {
                        say(p, PHASE_FAILED,
                            "failover: %s cannot apply its relay log (%s); waiting for a human",
                            cname, strna(cn->last_sql_error));
                        requeue(p, REQUEUE_NO_CAND);
                        return 0;
                }
                say(p, PHASE_DEGRADED, "failover: %s applies its relay log before promotion",
                    cname);
                requeue(p, REQUEUE_NOW);
                return 0;
        }
        snprintf(fo->new_gtid, sizeof(fo->new_gtid), "%s", strempty(cn->gtid_current_pos));
        if (cn->has_slave || cn->read_only) {
                mark(p, "promote");
                r = add_promote(p, cc->name);
                if (r < 0)
                        return r;
        }
        p->primary = fo->new_index;
        p->primary_serving = true;
        p->primary_ready = true;
        mark(p, "route");
        r = plan_proxy(p, reterr);
        if (r < 0)
                return r;
        mark(p, "repoint");
        r = repoint_others(p, fo->old_index, fo->new_index);
        if (r >= 0)
                r = finish_request(p, "failed over");
        if (r < 0)
                return r;
        if (fo->old_index >= 0 && fo->old_index < MYSQL_MEMBERS_MAX)
                p->rejoin[fo->old_index] = MYSQL_REJOIN_FENCED;
        p->out->failover_completes = true;
        requeue(p, REQUEUE_NOW);
        return 0;
}

/* ---- members ------------------------------------------------------------------------------- */

/* Makes member `index` exist, run, and match its config; *ret_ok when it runs as wanted. */
static int converge_container(Pass *p, int index, bool *ret_ok, Error *reterr) {
        const ObservedContainer *c = find_member(p->obs, index, NULL);
        ContainerConfig *want = NULL;
        char hash[65], what[96];
        int r;

        *ret_ok = false;
        if (p->rejoin[index] == MYSQL_REJOIN_FENCED) {
                /* A fenced old primary comes back on the network, read-only, as a new container
                 * on its own data: then it follows the new primary, or is rebuilt. */
                if (c) {
                        r = plan_add(p->plan, ACTION_REMOVE_CONTAINER, c->name, c->id,
                                     "fenced: recreated to rejoin", NULL);
                        if (r < 0)
                                return r;
                }
                p->rejoin[index] = MYSQL_REJOIN_RESTARTED;
                say(p, PHASE_DEGRADED, "member %d (the old primary) is recreated to rejoin", index);
                return add_create(p, index, "rejoin as a replica", reterr);
        }
        if (!c) {
                if (index == p->primary && p->hold_primary)
                        return 0;
                return add_create(p, index, "missing", reterr);
        }
        r = container_for(p, index, &want, reterr);
        if (r < 0)
                return r;
        r = container_config_hash(want, hash);
        if (r < 0) {
                container_config_release(want);
                b_free(want);
                return r;
        }
        if (!c->config_hash || !streq(c->config_hash, hash)) {
                r = plan_add(p->plan, ACTION_REMOVE_CONTAINER, c->name, c->id, "config changed",
                             NULL);
                if (r < 0) {
                        container_config_release(want);
                        b_free(want);
                        return r;
                }
                requeue(p, REQUEUE_STARTING);
                return plan_add(p->plan, ACTION_CREATE_CONTAINER, want->name, NULL,
                                "config changed", want);
        }
        if (is_running(c) && c->has_resources &&
            (c->nano_cpus != want->nano_cpus || c->memory != want->memory)) {
                snprintf(what, sizeof(what), "%.2g CPU, %" PRIi64 " MiB", want->nano_cpus / 1e9,
                         want->memory >> 20);
                *ret_ok = true;
                return plan_add(p->plan, ACTION_UPDATE_RESOURCES, c->name, c->id, what, want);
        }
        container_config_release(want);
        b_free(want);
        if (!is_running(c)) {
                if (index == p->primary && p->hold_primary)
                        return 0;
                if (c->state && (streq(c->state, "restarting") || streq(c->state, "paused")))
                        return 0;
                requeue(p, REQUEUE_STARTING);
                return plan_add(p->plan, ACTION_START_CONTAINER, c->name, c->id, "stopped", NULL);
        }
        *ret_ok = true;
        return 0;
}

static int plan_replica(Pass *p, int index, Error *reterr) {
        const MysqlNodeObserved *n, *pn;
        const ObservedContainer *c = find_member(p->obs, index, &n);
        char prim[128];
        MysqlGtidPos mine, theirs;
        bool ok;
        int r;

        r = converge_container(p, index, &ok, reterr);
        if (r < 0)
                return r;
        if (!ok) {
                say(p, p->initialized ? PHASE_DEGRADED : PHASE_PROVISIONING, "starting replica %d",
                    index);
                return 0;
        }
        if (!n) {
                say(p, p->initialized ? PHASE_DEGRADED : PHASE_PROVISIONING,
                    "replica %d is starting", index);
                requeue(p, REQUEUE_STARTING);
                return 0;
        }
        member_name(p, p->primary, prim);
        find_member(p->obs, p->primary, &pn);
        if (!n->read_only || n->semi_master_enabled) {
                /* Never two writable members: a replica that is not read-only is fenced first. */
                r = add_exec_sql(p, c->name, "replicas are read-only",
                                 "SET GLOBAL read_only=ON; "
                                 "SET GLOBAL rpl_semi_sync_master_enabled=OFF");
                if (r < 0)
                        return r;
        }
        if (!p->primary_ready) {
                /* The primary's own convergence says why, once it was ever up. */
                if (!p->initialized)
                        say(p, PHASE_PROVISIONING, "replica %d waits for the primary", index);
                return 0;
        }
        mine = gtid_of(n->gtid_current_pos);
        theirs = gtid_of(pn ? pn->gtid_current_pos : NULL);
        if (p->rejoin[index] == MYSQL_REJOIN_RESTARTED) {
                if (streaming_from(n, prim)) {
                        p->rejoin[index] = -1;
                        return 0;
                }
                if (!follows(n, prim)) {
                        if (pn && mysql_gtid_diverged(&mine, &theirs)) {
                                say(p, PHASE_DEGRADED,
                                    "%s holds transactions the primary lacks (%s vs %s): rebuilt",
                                    c->name, strempty(n->gtid_current_pos),
                                    strempty(pn->gtid_current_pos));
                                p->rejoin[index] = -1;
                                return add_rebuild(p, c, index, "diverged from the primary",
                                                   reterr);
                        }
                        say(p, PHASE_DEGRADED, "%s rejoins as a replica", c->name);
                        requeue(p, REQUEUE_STARTING);
                        return add_follow(p, c->name, prim, isempty(n->gtid_current_pos),
                                          "rejoin the primary");
                }
                /* Following, not streaming yet: its threads say how it goes, below. */
        }
        if (!n->has_slave || isempty(n->master_host)) {
                if (!isempty(n->gtid_current_pos) && pn && mysql_gtid_diverged(&mine, &theirs)) {
                        say(p, PHASE_DEGRADED,
                            "%s holds transactions the primary lacks (%s vs %s): rebuilt", c->name,
                            strempty(n->gtid_current_pos), strempty(pn->gtid_current_pos));
                        return add_rebuild(p, c, index, "diverged from the primary", reterr);
                }
                say(p, PHASE_PROVISIONING, "replica %d starts following the primary", index);
                requeue(p, REQUEUE_STARTING);
                return add_follow(p, c->name, prim, isempty(n->gtid_current_pos),
                                  "follow the primary");
        }
        if (!streq(n->master_host, prim)) {
                say(p, PHASE_DEGRADED, "replica %d follows %s: pointing it at the primary", index,
                    n->master_host);
                requeue(p, REQUEUE_STARTING);
                return add_follow(p, c->name, prim, false, "follow the primary");
        }
        if (n->io_running && streq(n->io_running, "No") && n->last_io_errno == 1236) {
                /* gtid_strict_mode: its history is not a prefix of the primary's. */
                say(p, PHASE_DEGRADED, "%s diverged from the primary (%s): rebuilt", c->name,
                    strna(n->last_io_error));
                p->rejoin[index] = -1;
                return add_rebuild(p, c, index, "diverged from the primary", reterr);
        }
        if (n->sql_running && streq(n->sql_running, "No") && n->last_sql_errno != 0) {
                /* Never skipped: a skipped transaction is silent divergence. */
                say(p, PHASE_DEGRADED, "replica %d stopped applying: error %d: %s", index,
                    n->last_sql_errno, strna(n->last_sql_error));
                return 0;
        }
        if ((n->io_running && streq(n->io_running, "No")) ||
            (n->sql_running && streq(n->sql_running, "No"))) {
                requeue(p, REQUEUE_STARTING);
                return add_exec_sql(p, c->name, "replication stopped", "START SLAVE");
        }
        if (!streaming_from(n, prim)) {
                say(p, PHASE_DEGRADED, "replica %d connects to the primary%s%s", index,
                    n->last_io_error && n->last_io_error[0] ? ": " : "",
                    strempty(n->last_io_error));
                requeue(p, REQUEUE_STARTING);
                return 0;
        }
        if (n->seconds_behind < 0 || (usec_t) n->seconds_behind * USEC_PER_SEC > p->spec->max_lag)
                say(p, PHASE_DEGRADED,
                    "replica %d is %" PRIi64 " s behind the primary: out of the read set", index,
                    n->seconds_behind);
        return 0;
}

static bool any_streaming(const Pass *p) {
        char prim[128];

        member_name(p, p->primary, prim);
        for (int i = 0; i < MYSQL_MEMBERS_MAX; i++) {
                const MysqlNodeObserved *n;

                if (i != p->primary && find_member(p->obs, i, &n) && streaming_from(n, prim))
                        return true;
        }
        return false;
}

static int plan_primary(Pass *p, Error *reterr) {
        const MysqlNodeObserved *n;
        const ObservedContainer *c = find_member(p->obs, p->primary, &n);
        bool ok, want_semi;
        char *const bootstrap[] = {(char *) "sh", (char *) MYSQL_SCRIPT_DIR "/bootstrap.sh",
                                   p->spec->initial_user, p->spec->initial_db_name, NULL};
        int r;

        r = converge_container(p, p->primary, &ok, reterr);
        if (r < 0)
                return r;
        if (!ok) {
                if (!p->hold_primary)
                        say(p, p->initialized ? PHASE_DEGRADED : PHASE_PROVISIONING,
                            "starting the primary (member %d)", p->primary);
                return 0;
        }
        if (!n) {
                /* A probe that failed does not move writes: only a failover does. */
                p->primary_serving = p->initialized && !p->out->failover.active;
                say(p, p->initialized ? PHASE_DEGRADED : PHASE_PROVISIONING,
                    "the primary (member %d) does not answer yet", p->primary);
                requeue(p, REQUEUE_STARTING);
                return 0;
        }
        if (n->has_slave) {
                r = add_exec_sql(p, c->name, "the primary follows nobody",
                                 "STOP SLAVE; RESET SLAVE ALL");
                if (r < 0)
                        return r;
        }
        if (!n->bootstrapped || p->obs->applied_password_version != p->obs->password_version) {
                r = plan_add_exec(p->plan, c->name,
                                  n->bootstrapped ? "set the passwords"
                                                  : "create users and database",
                                  bootstrap);
                if (r < 0)
                        return r;
                p->bootstrapping = true;
                requeue(p, REQUEUE_NOW);
        }
        if (n->read_only) {
                r = add_exec_sql(p, c->name, "the primary takes writes",
                                 "SET GLOBAL read_only=OFF");
                if (r < 0)
                        return r;
        }
        want_semi = p->spec->semi_sync && any_streaming(p);
        if (want_semi != n->semi_master_enabled) {
                r = add_exec_sql(p, c->name,
                                 want_semi ? "semi-synchronous replication"
                                           : "asynchronous "
                                             "replication",
                                 want_semi ? "SET GLOBAL rpl_semi_sync_master_enabled=ON"
                                           : "SET GLOBAL rpl_semi_sync_master_enabled=OFF");
                if (r < 0)
                        return r;
        } else if (want_semi && !n->semi_master_active)
                say(p, PHASE_DEGRADED,
                    "semi-synchronous replication fell back to asynchronous (no replica "
                    "acknowledged in time)");
        p->primary_ready = n->bootstrapped || p->bootstrapping;
        p->primary_serving = p->primary_ready;
        if (n->bootstrapped)
                p->initialized = true;
        return 0;
}

/* Members above the topology go with their data; never the primary. */
static int plan_surplus(Pass *p) {
        for (size_t i = 0; i < p->obs->n_containers; i++) {
                const ObservedContainer *c = &p->obs->containers[i];
                char vol[128];
                int r;

                if (c->role && streq(c->role, MYSQL_ROLE_PROXY) && c->index == 0)
                        continue;
                if (is_db(c) && (member_wanted(p, c->index) || p->busy[c->index]))
                        continue;
                r = plan_add(p->plan, ACTION_REMOVE_CONTAINER, c->name, c->id, "surplus", NULL);
                if (r >= 0 && is_db(c) &&
                    name_volume(vol, sizeof(vol), p->ref->project, p->ref->name, "data",
                                (unsigned) c->index) >= 0 &&
                    strv_contains(p->obs->volumes, vol))
                        r = plan_add(p->plan, ACTION_REMOVE_VOLUME, vol, NULL, "surplus member",
                                     NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int plan_members(Pass *p, Error *reterr) {
        int r;

        /* Replicas first: a member that must not be writable is fenced before the primary is
         * made writable, in this same pass. The primary's readiness is what it was observed. */
        {
                const MysqlNodeObserved *pn;

                find_member(p->obs, p->primary, &pn);
                if (!p->primary_ready)
                        p->primary_ready = pn && (pn->bootstrapped || p->out->failover_completes);
        }
        /* Volumes first, so that the creates below go out together. */
        for (int i = 0; i < MYSQL_MEMBERS_MAX; i++) {
                if (p->busy[i] || !member_wanted(p, i))
                        continue;
                r = ensure_volume(p, i);
                if (r < 0)
                        return r;
        }
        for (int i = 0; i < MYSQL_MEMBERS_MAX; i++) {
                if (i == p->primary || p->busy[i] || !member_wanted(p, i))
                        continue;
                r = plan_replica(p, i, reterr);
                if (r < 0)
                        return r;
        }
        if (!p->busy[p->primary] && !p->out->failover_completes) {
                r = plan_primary(p, reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- delete, pause ------------------------------------------------------------------------- */

static int plan_delete(Pass *p) {
        int r;

        for (size_t i = 0; i < p->obs->n_containers; i++) {
                r = plan_add(p->plan, ACTION_REMOVE_CONTAINER, p->obs->containers[i].name,
                             p->obs->containers[i].id, "deleting", NULL);
                if (r < 0)
                        return r;
        }
        for (char **v = p->obs->volumes; v && *v; v++) {
                r = plan_add(p->plan, ACTION_REMOVE_VOLUME, *v, NULL, "deleting", NULL);
                if (r < 0)
                        return r;
        }
        p->phase = PHASE_DELETING;
        p->message = "removing the members, the proxy and their data";
        if (p->plan->n_actions == 0)
                p->plan->delete_done = true;
        else
                requeue(p, REQUEUE_NOW);
        return 0;
}

static int plan_paused(Pass *p) {
        int r;

        for (size_t i = 0; i < p->obs->n_containers; i++) {
                const ObservedContainer *c = &p->obs->containers[i];

                if (!is_running(c) && !(c->state && streq(c->state, "restarting")))
                        continue;
                r = plan_add(p->plan, ACTION_STOP_CONTAINER, c->name, c->id, "paused", NULL);
                if (r < 0)
                        return r;
        }
        p->phase = PHASE_PAUSED;
        p->message = "paused: the servers and the proxy are stopped, their data kept";
        return 0;
}

/* ---- status -------------------------------------------------------------------------------- */

static int put_str(cJSON *o, const char *key, const char *v) {
        return json_add_item_take(o, key, v ? cJSON_CreateString(v) : cJSON_CreateNull());
}

static int put_int(cJSON *o, const char *key, int64_t v) {
        return json_add_item_take(o, key, cJSON_CreateNumber((double) v));
}

static int add_nodes(Pass *p) {
        Status *st = &p->plan->status;

        st->nodes = b_calloc(p->obs->n_containers + 1, sizeof(StatusNode));
        if (!st->nodes)
                return -ENOMEM;
        for (size_t i = 0; i < p->obs->n_containers; i++) {
                const ObservedContainer *c = &p->obs->containers[i];
                const MysqlNodeObserved *n =
                        p->obs->nodes && p->obs->nodes[i].answered ? &p->obs->nodes[i] : NULL;
                StatusNode *sn = &st->nodes[st->n_nodes++];
                const char *role = !is_db(c)                ? strna(c->role)
                                   : c->index == p->primary ? "primary"
                                                            : "replica";

                sn->name = b_strdup(c->name);
                sn->role = b_strdup(role);
                sn->state = b_strdup(strna(c->state));
                sn->health = b_strdup(!is_db(c)       ? (is_running(c) ? "healthy" : "none")
                                      : n             ? "healthy"
                                      : is_running(c) ? "unhealthy"
                                                      : "none");
                sn->host = c->ip ? b_strdup(c->ip) : NULL;
                sn->index = c->index > 0 ? (unsigned) c->index : 0;
                sn->restarts = c->restart_count;
                if (!sn->name || !sn->role || !sn->state || !sn->health || (c->ip && !sn->host))
                        return -ENOMEM;
                if (is_db(c) && n)
                        st->replicas_running++;
                if (is_db(c) && n && c->index != p->primary && n->has_slave &&
                    n->seconds_behind >= 0) {
                        sn->has_lag = true;
                        sn->lag_seconds = (double) n->seconds_behind;
                }
        }
        return 0;
}

static int add_endpoints(Pass *p) {
        const MysqlHaSpec *s = p->spec;
        _cleanup_json_ cJSON *e = cJSON_CreateObject();
        char write[128], read[128], internal[160], url[512], proxy[128];
        const char *host = s->bind;
        bool v6 = strchr(host, ':') != NULL;
        int r;

        if (!e)
                return -ENOMEM;
        r = name_container(proxy, sizeof(proxy), p->ref->project, p->ref->name, MYSQL_ROLE_PROXY,
                           0);
        if (r < 0)
                return r;
        snprintf(write, sizeof(write), "%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "",
                 s->write_port);
        snprintf(read, sizeof(read), "%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "", s->read_port);
        snprintf(internal, sizeof(internal), "%s:%d", proxy, MYSQL_PROXY_WRITE);
        /* Never a password: it is in the secret named beside. */
        snprintf(url, sizeof(url), "mysql://%s@%s/%s", s->initial_user, write, s->initial_db_name);
        r = put_str(e, "write", write);
        if (r >= 0)
                r = put_str(e, "read", read);
        if (r >= 0)
                r = put_str(e, "internal", internal);
        if (r >= 0)
                r = put_str(e, "connection_string", url);
        if (r >= 0)
                r = put_str(e, "password_secret", s->password_secret);
        if (r < 0)
                return r;
        p->plan->status.endpoints = TAKE_PTR(e);
        return 0;
}

static int add_members(Pass *p) {
        cJSON *list = cJSON_AddArrayToObject(p->extra, "members");
        int r = 0;

        if (!list)
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < p->obs->n_containers; i++) {
                const ObservedContainer *c = &p->obs->containers[i];
                const MysqlNodeObserved *n =
                        p->obs->nodes && p->obs->nodes[i].answered ? &p->obs->nodes[i] : NULL;
                _cleanup_json_ cJSON *m = NULL;

                if (!is_db(c))
                        continue;
                m = cJSON_CreateObject();
                if (!m)
                        return -ENOMEM;
                r = put_str(m, "name", c->name);
                if (r >= 0)
                        r = put_int(m, "index", c->index);
                if (r >= 0)
                        r = put_str(m, "role", c->index == p->primary ? "primary" : "replica");
                if (r >= 0 && !n && p->obs->nodes && p->obs->nodes[i].error)
                        r = put_str(m, "error", p->obs->nodes[i].error);
                if (r >= 0 && n) {
                        r = json_add_item_take(m, "read_only", cJSON_CreateBool(n->read_only));
                        if (r >= 0)
                                r = put_str(m, "gtid_current_pos", strempty(n->gtid_current_pos));
                        if (r >= 0)
                                r = json_add_item_take(
                                        m, "semi_sync",
                                        cJSON_CreateString(n->semi_master_enabled
                                                                   ? (n->semi_master_active
                                                                              ? "master"
                                                                              : "master (off)")
                                                           : n->semi_slave_active ? "slave"
                                                                                  : "off"));
                }
                if (r >= 0 && n && n->has_slave) {
                        cJSON *rep = cJSON_AddObjectToObject(m, "replication");

                        r = rep ? 0 : -ENOMEM;
                        if (r >= 0)
                                r = put_str(rep, "source", n->master_host);
                        if (r >= 0)
                                r = put_str(rep, "io_thread", n->io_running);
                        if (r >= 0)
                                r = put_str(rep, "sql_thread", n->sql_running);
                        if (r >= 0)
                                r = json_add_item_take(
                                        rep, "seconds_behind",
                                        n->seconds_behind < 0
                                                ? cJSON_CreateNull()
                                                : cJSON_CreateNumber((double) n->seconds_behind));
                        if (r >= 0)
                                r = put_str(rep, "gtid_io_pos", strempty(n->gtid_io_pos));
                        if (r >= 0 && n->last_io_errno)
                                r = put_str(rep, "last_io_error", n->last_io_error);
                        if (r >= 0 && n->last_sql_errno)
                                r = put_str(rep, "last_sql_error", n->last_sql_error);
                }
                if (r >= 0)
                        r = json_add_item_take(list, NULL, TAKE_PTR(m));
        }
        return r;
}

static int add_extra(Pass *p) {
        char primary[128], when[40];
        cJSON *probe, *rejoin;
        int r;

        member_name(p, p->primary, primary);
        r = put_int(p->extra, "primary_index", p->primary);
        if (r >= 0)
                r = put_str(p->extra, "primary", primary);
        if (r >= 0)
                r = json_add_item_take(p->extra, "initialized", cJSON_CreateBool(p->initialized));
        if (r >= 0)
                r = put_int(p->extra, "password_version",
                            p->bootstrapping ? p->obs->password_version
                                             : p->obs->applied_password_version);
        if (r < 0)
                return r;
        probe = cJSON_AddObjectToObject(p->extra, "probe");
        if (!probe)
                return -ENOMEM;
        r = put_int(probe, "failures", p->probe_failures);
        if (r >= 0 && p->last_probe_at > 0)
                r = put_str(probe, "last_at",
                            format_rfc3339_exact(p->last_probe_at, when, sizeof(when)));
        if (r >= 0 && p->probe_since > 0)
                r = put_str(probe, "since",
                            format_rfc3339_exact(p->probe_since, when, sizeof(when)));
        if (r >= 0)
                r = json_add_item_take(p->extra, "failover",
                                       p->out->failover.active && !p->out->failover_completes
                                               ? mysql_failover_to_json(&p->out->failover)
                                               : cJSON_CreateNull());
        if (r < 0)
                return r;
        rejoin = cJSON_AddArrayToObject(p->extra, "rejoin");
        if (!rejoin)
                return -ENOMEM;
        for (int i = 0; r >= 0 && i < MYSQL_MEMBERS_MAX; i++) {
                _cleanup_json_ cJSON *e = NULL;

                if (p->rejoin[i] < 0)
                        continue;
                e = cJSON_CreateObject();
                r = e ? put_int(e, "index", i) : -ENOMEM;
                if (r >= 0)
                        r = put_str(e, "state",
                                    p->rejoin[i] == MYSQL_REJOIN_RESTARTED ? "restarted"
                                                                           : "fenced");
                if (r >= 0)
                        r = json_add_item_take(rejoin, NULL, TAKE_PTR(e));
        }
        if (r >= 0)
                r = add_members(p);
        return r;
}

int mysql_plan(const ResourceRef *ref, const MysqlHaSpec *spec, const MysqlObserved *obs,
               usec_t now, MysqlPlan *ret, Error *reterr) {
        _cleanup_(mysql_plan_release) MysqlPlan out = {};
        _cleanup_json_ cJSON *extra = cJSON_CreateObject();
        Pass p = {.ref = ref, .spec = spec, .obs = obs, .now = now};
        bool wait = false;
        int r;

        assert_return(ref && spec && obs && ret, -EINVAL);
        mysql_plan_init(&out);
        if (!extra)
                return -ENOMEM;
        p.out = &out;
        p.plan = &out.plan;
        p.extra = extra;
        out.plan.status.observed_generation = ref->generation;
        p.primary = obs->primary_index >= 0 ? obs->primary_index : 0;
        p.initialized = obs->initialized;
        p.probe_failures = obs->probe_failures;
        p.last_probe_at = obs->last_probe_at;
        p.probe_since = obs->probe_since;
        memcpy(p.rejoin, obs->rejoin, sizeof(p.rejoin));
        out.failover = obs->failover;
        r = name_resource_network(p.net, sizeof(p.net), ref->project, ref->name);
        if (r < 0)
                return err_set(reterr, r, "metadata.name", "name too long for its network");

        if (ref->deleting)
                r = plan_delete(&p);
        else if (spec->paused)
                r = plan_paused(&p);
        else {
                r = plan_foundations(&p, &wait);
                if (r >= 0 && !wait && !out.failover.active)
                        r = plan_detect(&p);
                if (r >= 0 && !wait && out.failover.active &&
                    (out.failover.old_index < 0 || out.failover.old_index >= MYSQL_MEMBERS_MAX ||
                     out.failover.new_index < 0 || out.failover.new_index >= MYSQL_MEMBERS_MAX)) {
                        /* A damaged record: nothing can be resumed from it. */
                        out.failover.active = false;
                        say(&p, PHASE_DEGRADED, "a failover record was damaged and dropped");
                }
                if (r >= 0 && !wait && out.failover.active) {
                        p.busy[out.failover.old_index] = true;
                        p.busy[out.failover.new_index] = true;
                        r = streq(out.failover.kind, "switchover") ? plan_switchover(&p, reterr)
                                                                   : plan_failover(&p, reterr);
                        if (!out.failover.active)
                                memset(p.busy, 0, sizeof(p.busy));
                        else if (out.failover_completes) {
                                /* The new primary's own convergence (semi-sync, bootstrap
                                 * bookkeeping) is the next pass's; a failed-over old primary
                                 * starts its rejoin now. */
                                p.busy[p.primary] = true;
                                if (streq(out.failover.kind, "failover"))
                                        p.busy[out.failover.old_index] = false;
                        }
                }
                if (r >= 0 && !wait)
                        r = plan_members(&p, reterr);
                if (r >= 0 && !wait && !p.proxy_done)
                        r = plan_proxy(&p, reterr);
                if (r >= 0 && !wait)
                        r = plan_surplus(&p);
        }
        if (r >= 0 && !ref->deleting)
                r = add_nodes(&p);
        if (r >= 0 && !ref->deleting)
                r = add_endpoints(&p);
        if (r >= 0 && !ref->deleting)
                r = add_extra(&p);
        if (r < 0)
                return r == -ENOMEM ? err_set(reterr, r, NULL, "out of memory") : r;

        out.plan.status.replicas_desired = spec->paused || ref->deleting ? 0 : members_wanted(&p);
        if (!p.message) {
                p.phase = PHASE_RUNNING;
                snprintf(p.msgbuf, sizeof(p.msgbuf),
                         "primary member %d and %d replica%s streaming%s", p.primary,
                         spec->replicas, spec->replicas == 1 ? "" : "s",
                         spec->semi_sync ? " (semi-synchronous)" : "");
                p.message = p.msgbuf;
        }
        if (out.failover_completes) {
                p.phase = PHASE_DEGRADED;
                snprintf(p.msgbuf, sizeof(p.msgbuf), "%s to member %d done; converging",
                         out.failover.kind, out.failover.new_index);
                p.message = p.msgbuf;
        }
        if (!ref->deleting && !spec->paused)
                requeue(&p, REQUEUE_RUNNING);
        out.plan.status.phase = p.phase;
        out.plan.status.message = b_strdup(p.message);
        if (!out.plan.status.message)
                return -ENOMEM;
        out.plan.status.extra = TAKE_PTR(extra);
        out.plan.requeue_after = p.requeue;
        if (out.failover.active && out.n_marks > 0 && !out.plan.operation[0])
                snprintf(out.plan.operation, sizeof(out.plan.operation), "%s", out.failover.kind);
        *ret = out;
        mysql_plan_init(&out);
        return 0;
}
