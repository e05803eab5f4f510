/* SPDX-License-Identifier: MIT */
#include <inttypes.h>

#include "util/common.h"

#include "model/json-util.h"
#include "model/validate-util.h"
#include "reconcilers/pg_cluster/plan.h"

/* One pass of the pg_cluster reconciler, decided from what observe() saw: secrets, network and
 * volumes first; then the etcd members, the Patroni members and the proxy (create, start,
 * replace); then what runs inside them (patroni.yml, haproxy.cfg, Patroni's dynamic
 * configuration, the initial user and database); queued switchovers and failovers; one rolling
 * step (restart, replacement, pending restart, reinitialisation); then history and status.
 *
 * Patroni elects and promotes. berth's part in a failover is the fast path: when the leader's
 * container is not running (Docker says so on the same engine, so it is fenced by construction),
 * the leader key is compare-and-deleted in etcd so that Patroni elects at once instead of waiting
 * out the key's TTL; the dead member starts again only once another member holds the key. Every
 * leader change is recorded. Pure: `now` is given, nothing is read here. */

#define REQUEUE_NOW      (20 * USEC_PER_MSEC)
#define REQUEUE_FAILOVER (100 * USEC_PER_MSEC) /* a leader is being elected */
#define REQUEUE_STARTING (300 * USEC_PER_MSEC)
#define REQUEUE_CHANGING (1 * USEC_PER_SEC)  /* a rolling step, a reload */
#define REQUEUE_RUNNING  (10 * USEC_PER_SEC) /* lag, roles, a TTL failover berth did not cause */
#define ROUTE_DEADLINE   (60 * USEC_PER_SEC) /* a leader change unrouted this long is closed */
#define EXPECTED_DEADLINE                                                                          \
        (60 * USEC_PER_SEC) /* a requested change not seen this long is dropped                    \
                             */

typedef struct PgcPass {
        const ResourceRef *ref;
        const PgClusterSpec *spec;
        const PgcObserved *obs;
        usec_t now;
        Plan *plan;
        PgcNotes *notes;
        cJSON *extra;
        const char *message;
        char msgbuf[512];
        Phase phase;
        usec_t requeue;
        bool disruptive;    /* a member stops, restarts, is replaced or switched over */
        const char *holder; /* who holds the leader key (the DCS's word, else Patroni's) */
        const ObservedContainer *leader_c;
        const PgcNodeObserved *leader_n;
        bool leader_ready; /* the leader runs, answers, is out of recovery, bootstrapped */
        bool released;     /* this pass deletes the leader key of a dead leader */
        char reason[160];  /* why, when released */
        cJSON *expected;   /* status.expected_change to write, NULL: none */
} PgcPass;

static void requeue(PgcPass *p, usec_t after) {
        if (p->requeue == 0 || after < p->requeue)
                p->requeue = after;
}

static void say(PgcPass *p, Phase phase, const char *fmt, ...) _printf_(3, 4);
static void say(PgcPass *p, Phase phase, const char *fmt, ...) {
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

/* Docker says the process is gone: it can write nothing more, anywhere (same engine). A paused
 * or restarting container might run again any moment: never. */
static bool is_dead(const ObservedContainer *c) {
        return c && c->state &&
               (streq(c->state, "exited") || streq(c->state, "dead") || streq(c->state, "created"));
}

static const ObservedContainer *find(const PgcObserved *o, const char *role, int index,
                                     const PgcNodeObserved **ret_node) {
        for (size_t i = 0; i < o->n_containers; i++) {
                const ObservedContainer *c = &o->containers[i];

                if (c->role && streq(c->role, role) && c->index == index) {
                        if (ret_node)
                                *ret_node = o->nodes ? &o->nodes[i] : NULL;
                        return c;
                }
        }
        if (ret_node)
                *ret_node = NULL;
        return NULL;
}

static const PgcMember *member_of(const PgcObserved *o, const char *name) {
        for (size_t i = 0; name && i < o->n_members; i++)
                if (o->members[i].name && streq(o->members[i].name, name))
                        return &o->members[i];
        return NULL;
}

/* Patroni's member states of a server that runs as it should. */
static bool member_healthy(const PgcMember *m) {
        return m && m->state && (streq(m->state, "running") || streq(m->state, "streaming"));
}

static int put_str(cJSON *o, const char *key, const char *v) {
        return json_add_item_take(o, key, v ? cJSON_CreateString(v) : cJSON_CreateNull());
}

static int put_int(cJSON *o, const char *key, int64_t v) {
        return json_add_item_take(o, key, cJSON_CreateNumber((double) v));
}

static int put_time(cJSON *o, const char *key, usec_t t) {
        char buf[40];

        return put_str(o, key, t ? format_rfc3339_exact(t, buf, sizeof(buf)) : NULL);
}

static void config_free(ContainerConfig *c) {
        if (c) {
                container_config_release(c);
                b_free(c);
        }
}

/* ---- foundations ----------------------------------------------------------------------------- */

static int plan_foundations(PgcPass *p, bool *ret_wait) {
        static const char *const suffixes[] = {PGC_SECRET_SUFFIX_SUPERUSER,
                                               PGC_SECRET_SUFFIX_REPLICATION,
                                               PGC_SECRET_SUFFIX_REWIND};
        const int64_t versions[] = {p->obs->superuser_version, p->obs->replication_version,
                                    p->obs->rewind_version};
        char name[128];
        int r;

        *ret_wait = false;
        for (char **v = p->obs->foreign_volumes; v && *v; v++) {
                for (int i = 0; i <= MAX(p->spec->standbys, p->spec->dcs_members); i++) {
                        char data[128], dcs[128];

                        if (name_volume(data, sizeof(data), p->ref->project, p->ref->name, "data",
                                        (unsigned) i) < 0 ||
                            name_volume(dcs, sizeof(dcs), p->ref->project, p->ref->name,
                                        PGC_ROLE_DCS, (unsigned) i) < 0)
                                continue;
                        if (streq(*v, data) || streq(*v, dcs)) {
                                say(p, PHASE_FAILED,
                                    "volume %s belongs to another resource of the same name (a "
                                    "pg_single?): rename this cluster or delete the other",
                                    *v);
                                *ret_wait = true;
                                return 0;
                        }
                }
        }
        if (p->obs->password_version == PGC_SECRET_MISSING) {
                if (!p->spec->pg.password_generated) {
                        say(p, PHASE_FAILED,
                            "secret %s does not exist (create it: berth secret set %s)",
                            p->spec->pg.password_secret, p->spec->pg.password_secret);
                        *ret_wait = true;
                        return 0;
                }
                r = plan_add(p->plan, ACTION_ENSURE_SECRET, p->spec->pg.password_secret, NULL,
                             "generated password", NULL);
                if (r < 0)
                        return r;
                *ret_wait = true;
        }
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                if (versions[i] != PGC_SECRET_MISSING)
                        continue;
                r = pgc_secret_name(name, sizeof(name), p->ref->name, suffixes[i]);
                if (r >= 0)
                        r = plan_add(p->plan, ACTION_ENSURE_SECRET, name, NULL,
                                     "generated password of a Patroni role", NULL);
                if (r < 0)
                        return r;
                *ret_wait = true;
        }
        if (!p->obs->network_exists) {
                r = name_resource_network(name, sizeof(name), p->ref->project, p->ref->name);
                if (r >= 0)
                        r = plan_add(p->plan, ACTION_ENSURE_NETWORK, name, NULL, "missing", NULL);
                if (r < 0)
                        return r;
                *ret_wait = true;
        }
        for (int i = 0; i < p->spec->dcs_members; i++) {
                r = name_volume(name, sizeof(name), p->ref->project, p->ref->name, PGC_ROLE_DCS,
                                (unsigned) i);
                if (r < 0)
                        return r;
                if (!strv_contains(p->obs->volumes, name) &&
                    (r = plan_add(p->plan, ACTION_ENSURE_VOLUME, name, NULL, "etcd data", NULL)) <
                            0)
                        return r;
        }
        for (int i = 0; i <= p->spec->standbys; i++) {
                r = name_volume(name, sizeof(name), p->ref->project, p->ref->name, "data",
                                (unsigned) i);
                if (r < 0)
                        return r;
                if (!strv_contains(p->obs->volumes, name) &&
                    (r = plan_add(p->plan, ACTION_ENSURE_VOLUME, name, NULL, "member data", NULL)) <
                            0)
                        return r;
        }
        if (*ret_wait) {
                requeue(p, REQUEUE_NOW);
                say(p, PHASE_PROVISIONING, "creating the secrets and the network");
        }
        return 0;
}

/* ---- containers ------------------------------------------------------------------------------ */

typedef enum Converge {
        CONVERGE_OK,       /* runs as wanted */
        CONVERGE_ACTING,   /* this pass creates or starts it */
        CONVERGE_OUTDATED, /* runs, but its config changed: replace it (when it is its turn) */
        CONVERGE_DOWN,     /* not running, and not started by this pass */
} Converge;

/* The container `c` should be `want` (taken). Creates it when missing, starts it when stopped
 * and `may_start`; reports a changed config as outdated, to be replaced by the caller's rule. */
static int converge(PgcPass *p, const ObservedContainer *c, ContainerConfig *want, bool may_start,
                    Converge *ret) {
        char hash[65];
        int r;

        *ret = CONVERGE_DOWN;
        r = container_config_hash(want, hash);
        if (r < 0) {
                config_free(want);
                return r;
        }
        if (!c) {
                if (!may_start) {
                        config_free(want);
                        return 0;
                }
                requeue(p, REQUEUE_STARTING);
                *ret = CONVERGE_ACTING;
                return plan_add(p->plan, ACTION_CREATE_CONTAINER, want->name, NULL, "missing",
                                want);
        }
        if (!c->config_hash || !streq(c->config_hash, hash)) {
                if (!is_running(c) && may_start) {
                        /* Stopped anyway: replace it now. */
                        r = plan_add(p->plan, ACTION_REMOVE_CONTAINER, c->name, c->id,
                                     "config changed", NULL);
                        if (r < 0) {
                                config_free(want);
                                return r;
                        }
                        requeue(p, REQUEUE_STARTING);
                        *ret = CONVERGE_ACTING;
                        return plan_add(p->plan, ACTION_CREATE_CONTAINER, want->name, NULL,
                                        "config changed", want);
                }
                config_free(want);
                *ret = is_running(c) ? CONVERGE_OUTDATED : CONVERGE_DOWN;
                return 0;
        }
        if (is_running(c) && c->has_resources &&
            (c->nano_cpus != want->nano_cpus || c->memory != want->memory)) {
                char what[96];

                /* Docker changes limits of a running container: no restart for a resize. */
                snprintf(what, sizeof(what), "%.2g CPU, %" PRIi64 " MiB", want->nano_cpus / 1e9,
                         want->memory >> 20);
                *ret = CONVERGE_OK;
                return plan_add(p->plan, ACTION_UPDATE_RESOURCES, c->name, c->id, what, want);
        }
        config_free(want);
        if (is_running(c)) {
                *ret = CONVERGE_OK;
                return 0;
        }
        if (c->state && (streq(c->state, "restarting") || streq(c->state, "paused")))
                return 0;
        if (!may_start)
                return 0;
        requeue(p, REQUEUE_STARTING);
        *ret = CONVERGE_ACTING;
        return plan_add(p->plan, ACTION_START_CONTAINER, c->name, c->id, "stopped", NULL);
}

static int plan_dcs(PgcPass *p) {
        int r, down = 0;

        /* etcd's membership is fixed when it is made: another count would make a second cluster
         * beside the first. */
        if (p->obs->prev_dcs_members > 0 && p->obs->prev_dcs_members != p->spec->dcs_members) {
                say(p, PHASE_DEGRADED,
                    "ha.dcs_members changed from %d to %d: the DCS of a running cluster cannot "
                    "change size (set it back to %d)",
                    p->obs->prev_dcs_members, p->spec->dcs_members, p->obs->prev_dcs_members);
                return 0;
        }
        for (int i = 0; i < p->spec->dcs_members; i++) {
                const PgcNodeObserved *n = NULL;
                const ObservedContainer *c = find(p->obs, PGC_ROLE_DCS, i, &n);
                ContainerConfig *want = b_calloc(1, sizeof(*want));
                Error err = ERROR_INIT;
                Converge st;

                if (!want)
                        return -ENOMEM;
                r = pgc_dcs_config_container(p->ref, p->spec, (unsigned) i, want, &err);
                if (r < 0) {
                        b_free(want);
                        return r;
                }
                r = converge(p, c, want, true, &st);
                if (r < 0)
                        return r;
                if (st == CONVERGE_OUTDATED && down == 0 &&
                    p->obs->dcs_healthy >= p->spec->dcs_members) {
                        /* One at a time, and only while the others keep the quorum. */
                        ContainerConfig *again = b_calloc(1, sizeof(*again));

                        if (!again)
                                return -ENOMEM;
                        r = pgc_dcs_config_container(p->ref, p->spec, (unsigned) i, again, &err);
                        if (r >= 0)
                                r = plan_add(p->plan, ACTION_REMOVE_CONTAINER, c->name, c->id,
                                             "config changed", NULL);
                        if (r < 0) {
                                config_free(again);
                                return r;
                        }
                        r = plan_add(p->plan, ACTION_CREATE_CONTAINER, again->name, NULL,
                                     "config changed", again);
                        if (r < 0)
                                return r;
                        requeue(p, REQUEUE_STARTING);
                        st = CONVERGE_ACTING;
                }
                if (st != CONVERGE_OK)
                        down++;
                else if (n && !n->answered)
                        say(p, PHASE_DEGRADED, "etcd member dcs-%d does not report healthy", i);
        }
        if (down > 0)
                say(p, PHASE_PROVISIONING, "starting the DCS (%d of %d etcd members)", down,
                    p->spec->dcs_members);
        return 0;
}

/* The fast failover: the key still names a member whose container is not running. */
static int release_leader_key(PgcPass *p, const char *member, const ObservedContainer *c) {
        char key[160], rev[32];
        char *argv[6];
        int r;

        if (!p->obs->dcs_exec || !p->obs->have_leader_key || !p->obs->leader_key_holder ||
            !streq(p->obs->leader_key_holder, member))
                return 0;
        r = pgc_leader_key(key, sizeof(key), p->ref->name);
        if (r < 0)
                return r;
        snprintf(rev, sizeof(rev), "%" PRIi64, p->obs->leader_key_revision);
        argv[0] = (char *) "sh";
        argv[1] = (char *) PGC_RELEASE;
        argv[2] = key;
        argv[3] = rev;
        argv[4] = (char *) member;
        argv[5] = NULL;
        if (c && c->exit_code != 0)
                snprintf(p->reason, sizeof(p->reason),
                         "the primary's container stopped (exit code %d%s)", c->exit_code,
                         c->oom_killed ? ", out of memory" : "");
        else if (c)
                snprintf(p->reason, sizeof(p->reason), "the primary's container stopped");
        else
                snprintf(p->reason, sizeof(p->reason), "the primary's container is gone");
        p->released = true;
        requeue(p, REQUEUE_FAILOVER);
        return plan_add_exec(p->plan, p->obs->dcs_exec,
                             "release the leader key of a member that is not running", argv);
}

/* Whether a stopped member may start now: never while the key names it (it could win it back
 * and promote a second time); once another member holds the key; when no other member runs
 * (a cold start: nothing to elect); or when the cluster has been leaderless for two TTLs. */
static bool may_start_member(PgcPass *p, const char *member) {
        bool others_run = false;

        if (p->holder)
                return !streq(p->holder, member);
        for (size_t i = 0; i < p->obs->n_containers && !others_run; i++) {
                const ObservedContainer *c = &p->obs->containers[i];
                char name[32];

                others_run = c->role && streq(c->role, PGC_ROLE_MEMBER) && c->index >= 0 &&
                             is_running(c) &&
                             pgc_member_name(name, sizeof(name), (unsigned) c->index) >= 0 &&
                             !streq(name, member);
        }
        if (!others_run)
                return true;
        return p->obs->leaderless_since > 0 &&
               p->now - p->obs->leaderless_since > 2 * (usec_t) p->spec->ttl * USEC_PER_SEC;
}

static int plan_members(PgcPass *p, int *ret_outdated) {
        int r, creating = 0, down = 0;

        *ret_outdated = 0;
        for (int i = 0; i <= p->spec->standbys; i++) {
                const ObservedContainer *c = find(p->obs, PGC_ROLE_MEMBER, i, NULL);
                ContainerConfig *want = b_calloc(1, sizeof(*want));
                Error err = ERROR_INIT;
                char member[32];
                Converge st;
                bool may;

                if (!want)
                        return -ENOMEM;
                r = pgc_member_container(p->ref, p->spec, p->obs, (unsigned) i, want, &err);
                if (r >= 0)
                        r = pgc_member_name(member, sizeof(member), (unsigned) i);
                if (r < 0) {
                        config_free(want);
                        return r;
                }
                may = may_start_member(p, member);
                if ((!c || is_dead(c)) && p->holder && streq(p->holder, member)) {
                        r = release_leader_key(p, member, c);
                        if (r < 0) {
                                config_free(want);
                                return r;
                        }
                }
                r = converge(p, c, want, may, &st);
                if (r < 0)
                        return r;
                if (st == CONVERGE_ACTING) {
                        p->disruptive = true;
                        if (!c)
                                creating++;
                        else
                                say(p, PHASE_DEGRADED, "starting %s again (its container %s)",
                                    member, strna(c->state));
                } else if (st == CONVERGE_OUTDATED)
                        (*ret_outdated)++;
                else if (st == CONVERGE_DOWN) {
                        down++;
                        if (c && c->state && streq(c->state, "paused"))
                                say(p, PHASE_DEGRADED,
                                    "%s is paused (docker pause): it may hold the leader key "
                                    "until Patroni's TTL (%ds) expires",
                                    member, p->spec->ttl);
                        else if (!may) {
                                requeue(p, REQUEUE_FAILOVER);
                                say(p, PHASE_DEGRADED,
                                    "%s is not running; it starts again once another member "
                                    "holds the leader key",
                                    member);
                        } else
                                requeue(p, REQUEUE_STARTING);
                }
        }
        if (creating > 0)
                say(p, PHASE_PROVISIONING, "creating %d Patroni member%s", creating,
                    creating == 1 ? "" : "s");
        else if (down > 0)
                say(p, PHASE_DEGRADED, "%d member%s not running", down, down == 1 ? "" : "s");
        return 0;
}

static int plan_proxy(PgcPass *p, bool *ret_outdated) {
        const PgcNodeObserved *n = NULL;
        const ObservedContainer *c = find(p->obs, PGC_ROLE_PROXY, 0, &n);
        ContainerConfig *want = b_calloc(1, sizeof(*want));
        Error err = ERROR_INIT;
        Converge st;
        int r;

        *ret_outdated = false;
        if (!want)
                return -ENOMEM;
        r = pgc_proxy_container(p->ref, p->spec, want, &err);
        if (r < 0) {
                b_free(want);
                return r;
        }
        r = converge(p, c, want, true, &st);
        if (r < 0)
                return r;
        if (st == CONVERGE_OUTDATED) {
                /* The proxy holds no data: replaced at once (clients reconnect). */
                ContainerConfig *again = b_calloc(1, sizeof(*again));

                if (!again)
                        return -ENOMEM;
                r = pgc_proxy_container(p->ref, p->spec, again, &err);
                if (r >= 0)
                        r = plan_add(p->plan, ACTION_REMOVE_CONTAINER, c->name, c->id,
                                     "config changed", NULL);
                if (r < 0) {
                        config_free(again);
                        return r;
                }
                r = plan_add(p->plan, ACTION_CREATE_CONTAINER, again->name, NULL, "config changed",
                             again);
                if (r < 0)
                        return r;
                requeue(p, REQUEUE_STARTING);
                st = CONVERGE_ACTING;
        }
        if (st != CONVERGE_OK)
                say(p, PHASE_PROVISIONING, "starting the proxy");
        return 0;
}

/* ---- inside the containers ----------------------------------------------------------------- */

static int curl_exec(PgcPass *p, const char *container, const char *reason, const char *method,
                     const char *path, const char *body) {
        char url[128];
        char *argv[16];
        size_t k = 0;

        snprintf(url, sizeof(url), "http://127.0.0.1:%d/%s", PGC_REST_PORT, path);
        argv[k++] = (char *) "curl";
        argv[k++] = (char *) "-sS";
        argv[k++] = (char *) "--fail-with-body";
        argv[k++] = (char *) "-m";
        argv[k++] = (char *) "60";
        argv[k++] = (char *) "-X";
        argv[k++] = (char *) method;
        if (body) {
                argv[k++] = (char *) "-H";
                argv[k++] = (char *) "Content-Type: application/json";
                argv[k++] = (char *) "--data-binary";
                argv[k++] = (char *) body;
        }
        argv[k++] = url;
        argv[k] = NULL;
        return plan_add_exec(p->plan, container, reason, argv);
}

static int put_file(PgcPass *p, const char *container, const char *path, char *content) {
        ContainerFile *f = b_calloc(1, sizeof(*f));

        if (!f)
                return -ENOMEM;
        f->path = b_strdup(path);
        f->size = strlen(content);
        f->content = content;
        f->mode = 0644;
        f->live = true;
        if (!f->path) {
                b_free(f->content);
                b_free(f);
                return -ENOMEM;
        }
        return plan_add_files(p->plan, container, "configuration changed", f, 1);
}

/* patroni.yml as each running member reads it; Patroni reloads it on request. */
static int plan_member_files(PgcPass *p) {
        for (int i = 0; i <= p->spec->standbys; i++) {
                const PgcNodeObserved *n = NULL;
                const ObservedContainer *c = find(p->obs, PGC_ROLE_MEMBER, i, &n);
                char *yaml = NULL, sha[65];
                int r;

                if (!is_running(c) || !n || !n->answered || !n->conf_sha256[0])
                        continue;
                r = pgc_patroni_yaml(p->ref, p->spec, (unsigned) i, &yaml);
                if (r >= 0)
                        r = sha256_hex(yaml, strlen(yaml), sha);
                if (r < 0 || streq(sha, n->conf_sha256)) {
                        b_free(yaml);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = put_file(p, c->name, PGC_PATRONI_CONF, yaml);
                if (r >= 0)
                        r = curl_exec(p, c->name, "reload Patroni's configuration", "POST",
                                      "reload", NULL);
                if (r < 0)
                        return r;
                requeue(p, REQUEUE_CHANGING);
        }
        return 0;
}

static int plan_proxy_file(PgcPass *p) {
        const ObservedContainer *c = find(p->obs, PGC_ROLE_PROXY, 0, NULL);
        char *argv[] = {(char *) "sh", (char *) "-c", (char *) "kill -USR2 1", NULL};
        char *cfg = NULL, sha[65];
        int r;

        if (!is_running(c) || !p->obs->proxy_answered || !p->obs->proxy_cfg_sha256[0])
                return 0;
        r = pgc_haproxy_cfg(p->ref, p->spec, &cfg);
        if (r >= 0)
                r = sha256_hex(cfg, strlen(cfg), sha);
        if (r < 0 || streq(sha, p->obs->proxy_cfg_sha256)) {
                b_free(cfg);
                return r;
        }
        /* HAProxy's master reloads on SIGUSR2, keeping established connections. */
        r = put_file(p, c->name, PGC_HAPROXY_CONF, cfg);
        if (r >= 0)
                r = plan_add_exec(p->plan, c->name, "reload HAProxy", argv);
        requeue(p, REQUEUE_CHANGING);
        return r;
}

/* What differs between the wanted dynamic configuration and Patroni's, as a PATCH body: the
 * wanted values where they differ, null for a parameter berth no longer sets. */
static int config_patch(const cJSON *want, const cJSON *have, bool parameters, cJSON **ret) {
        _cleanup_json_ cJSON *patch = cJSON_CreateObject();
        const cJSON *w, *h;
        int r;

        *ret = NULL;
        if (!patch)
                return -ENOMEM;
        cJSON_ArrayForEach(w, want) {
                h = cJSON_GetObjectItemCaseSensitive(have, w->string);
                if (cJSON_IsObject(w) && cJSON_IsObject(h)) {
                        cJSON *sub = NULL;

                        r = config_patch(w, h, streq(w->string, "parameters"), &sub);
                        if (r < 0)
                                return r;
                        if (sub && (r = json_add_item_take(patch, w->string, sub)) < 0)
                                return r;
                } else if (!h || !cJSON_Compare(w, h, true)) {
                        r = json_add_item_take(patch, w->string, cJSON_Duplicate(w, true));
                        if (r < 0)
                                return r;
                }
        }
        if (parameters)
                cJSON_ArrayForEach(h, have) {
                        if (!cJSON_GetObjectItemCaseSensitive(want, h->string) &&
                            (r = json_add_item_take(patch, h->string, cJSON_CreateNull())) < 0)
                                return r;
                }
        if (cJSON_GetArraySize(patch) > 0)
                *ret = TAKE_PTR(patch);
        return 0;
}

static int plan_dcs_config(PgcPass *p) {
        _cleanup_json_ cJSON *want = NULL, *patch = NULL;
        _cleanup_free_ char *body = NULL;
        int r;

        if (!p->leader_c || !p->leader_n || !p->leader_n->answered || !p->obs->dcs_config)
                return 0;
        want = pgc_dcs_config(p->spec);
        if (!want)
                return -ENOMEM;
        r = config_patch(want, p->obs->dcs_config, false, &patch);
        if (r < 0 || !patch)
                return r;
        body = cJSON_PrintUnformatted(patch);
        if (!body)
                return -ENOMEM;
        requeue(p, REQUEUE_CHANGING);
        return curl_exec(p, p->leader_c->name, "change Patroni's dynamic configuration", "PATCH",
                         "config", body);
}

static int plan_bootstrap(PgcPass *p) {
        char *const argv[] = {(char *) "sh", (char *) PGC_BOOTSTRAP, p->spec->pg.initial_user,
                              p->spec->pg.initial_db_name, NULL};
        const PgcNodeObserved *n = p->leader_n;

        if (!n || !n->answered)
                return 0;
        if (n->bootstrapped && p->obs->applied_password_version == p->obs->password_version)
                return 0;
        requeue(p, REQUEUE_NOW);
        return plan_add_exec(p->plan, p->leader_c->name,
                             n->bootstrapped ? "set the password" : "create user and database",
                             argv);
}

/* ---- switchover, failover, rolling steps --------------------------------------------------- */

/* Who should take over from the leader: in synchronous mode the synchronous standby (no other
 * has every acknowledged commit), else the healthy replica least behind. */
static const char *best_candidate(const PgcPass *p) {
        const PgcMember *best = NULL;

        for (size_t i = 0; i < p->obs->n_members; i++) {
                const PgcMember *m = &p->obs->members[i];
                int k = pgc_member_index(m->name);
                const ObservedContainer *c = k >= 0 ? find(p->obs, PGC_ROLE_MEMBER, k, NULL) : NULL;

                if (!m->name || (p->holder && streq(m->name, p->holder)) || !member_healthy(m) ||
                    !is_running(c) || k > p->spec->standbys)
                        continue;
                if (p->spec->sync) {
                        if (m->role && streq(m->role, "sync_standby"))
                                return m->name;
                        continue;
                }
                if (!best || (m->has_lag && (!best->has_lag || m->lag_bytes < best->lag_bytes)))
                        best = m;
        }
        return best ? best->name : NULL;
}

static int expect(PgcPass *p, const char *type, const char *to, const char *actor,
                  const char *reason) {
        cJSON_Delete(p->expected);
        p->expected = cJSON_CreateObject();
        if (!p->expected)
                return -ENOMEM;
        if (put_str(p->expected, "type", type) < 0 || put_str(p->expected, "from", p->holder) < 0 ||
            put_str(p->expected, "to", to) < 0 || put_str(p->expected, "actor", actor) < 0 ||
            put_str(p->expected, "reason", reason) < 0 || put_time(p->expected, "at", p->now) < 0)
                return -ENOMEM;
        return 0;
}

static int switchover(PgcPass *p, const char *type, const char *candidate, const char *actor,
                      const char *reason) {
        _cleanup_json_ cJSON *req = cJSON_CreateObject();
        _cleanup_free_ char *body = NULL;
        int r;

        if (!req)
                return -ENOMEM;
        /* Patroni: a switchover names the leader it moves away from, a failover the candidate. */
        if (streq(type, "switchover"))
                r = put_str(req, "leader", p->holder);
        else
                r = 0;
        if (r >= 0 && candidate)
                r = put_str(req, "candidate", candidate);
        if (r < 0)
                return r;
        body = cJSON_PrintUnformatted(req);
        if (!body)
                return -ENOMEM;
        r = expect(p, type, candidate, actor, reason);
        if (r < 0)
                return r;
        p->disruptive = true;
        requeue(p, REQUEUE_FAILOVER);
        return curl_exec(p, p->leader_c->name, reason, "POST", type, body);
}

const char *pgc_request_problem(const PgClusterSpec *spec, const PgcObserved *obs) {
        int k;

        if (!obs->has_request)
                return NULL;
        if (obs->request_error)
                return obs->request_error;
        if (!streq(obs->request_action, "switchover") && !streq(obs->request_action, "failover"))
                return "pg_cluster runs switchover and failover requests only";
        if (!obs->request_candidate[0])
                return NULL;
        k = pgc_member_index(obs->request_candidate);
        if (k < 0 || k > spec->standbys)
                return "the candidate is not a member of this cluster (pg-0, pg-1, ...)";
        if (obs->leader && streq(obs->leader, obs->request_candidate))
                return "the candidate is the leader already";
        if (obs->have_cluster && !member_healthy(member_of(obs, obs->request_candidate)))
                return "the candidate is not a healthy member (Patroni does not report it "
                       "running or streaming)";
        if (spec->sync && streq(obs->request_action, "switchover") && obs->have_cluster) {
                const PgcMember *m = member_of(obs, obs->request_candidate);

                if (!m || !m->role || !streq(m->role, "sync_standby"))
                        return "in synchronous mode only the synchronous standby has every "
                               "acknowledged commit: name it, leave the candidate out, or use "
                               "failover to force another";
        }
        return NULL;
}

static int plan_request(PgcPass *p) {
        const PgcObserved *o = p->obs;
        const char *candidate;
        char reason[192], id[32];
        int r;

        if (!o->has_request || pgc_request_problem(p->spec, o))
                return 0;
        if (!p->leader_ready || p->disruptive || !p->holder) {
                say(p, PHASE_DEGRADED, "%s waits for a healthy leader", o->request_action);
                requeue(p, REQUEUE_STARTING);
                return 0;
        }
        candidate = o->request_candidate[0] ? o->request_candidate : best_candidate(p);
        if (!candidate) {
                say(p, PHASE_DEGRADED, "%s waits for a healthy %s", o->request_action,
                    p->spec->sync ? "synchronous standby" : "replica");
                requeue(p, REQUEUE_STARTING);
                return 0;
        }
        snprintf(reason, sizeof(reason), "%s to %s requested by %s", o->request_action, candidate,
                 o->request_actor[0] ? o->request_actor : "an operator");
        r = switchover(p, o->request_action, candidate, o->request_actor, reason);
        if (r < 0)
                return r;
        snprintf(id, sizeof(id), "%" PRIi64, o->request_id);
        snprintf(p->plan->operation, sizeof(p->plan->operation), "%s", o->request_action);
        return plan_add(p->plan, ACTION_FINISH_REQUEST, id, NULL, "done", NULL);
}

typedef enum Need {
        NEED_NOTHING,
        NEED_REPLACE,    /* its container's config changed */
        NEED_RESTART,    /* the restart action asked for it */
        NEED_PG_RESTART, /* Patroni reports a parameter waiting for a restart */
        NEED_REINIT,     /* Patroni could not start it: copy the leader again */
} Need;

static Need member_need(const PgcPass *p, int i, const ObservedContainer **ret_c) {
        const ObservedContainer *c = find(p->obs, PGC_ROLE_MEMBER, i, NULL);
        ContainerConfig want = {};
        Error err = ERROR_INIT;
        char name[32], hash[65];
        const PgcMember *m;
        Need need = NEED_NOTHING;

        *ret_c = c;
        if (!is_running(c) || pgc_member_name(name, sizeof(name), (unsigned) i) < 0)
                return NEED_NOTHING;
        m = member_of(p->obs, name);
        if (pgc_member_container(p->ref, p->spec, p->obs, (unsigned) i, &want, &err) >= 0 &&
            container_config_hash(&want, hash) >= 0 &&
            (!c->config_hash || !streq(c->config_hash, hash)))
                need = NEED_REPLACE;
        else if (p->ref->restart_after > 0 && c->started_at > 0 &&
                 c->started_at < p->ref->restart_after)
                need = NEED_RESTART;
        else if (m && m->pending_restart)
                need = NEED_PG_RESTART;
        else if (m && m->state && streq(m->state, "start failed"))
                need = NEED_REINIT;
        container_config_release(&want);
        return need;
}

/* One disruptive step per pass, replicas first, each only while every other member is healthy;
 * the leader's turn is a switchover (its restart or replacement then happens as a replica). */
static int plan_rolling(PgcPass *p) {
        static const char *const what[] = {
                [NEED_REPLACE] = "replaced (configuration changed)",
                [NEED_RESTART] = "restarted (requested)",
                [NEED_PG_RESTART] = "restarted for new parameters",
                [NEED_REINIT] = "copied from the leader again (it could not start)",
        };
        Need leader_need = NEED_NOTHING;
        int r;

        if (!p->leader_ready || p->disruptive || p->obs->has_request || !p->holder)
                return 0;
        for (int i = 0; i <= p->spec->standbys; i++) {
                const ObservedContainer *c;
                Need need = member_need(p, i, &c);
                char name[32];
                bool others_ok = true;

                if (need == NEED_NOTHING)
                        continue;
                if (pgc_member_name(name, sizeof(name), (unsigned) i) < 0)
                        continue;
                if (streq(name, p->holder)) {
                        leader_need = need;
                        continue;
                }
                for (int k = 0; k <= p->spec->standbys; k++) {
                        char other[32];

                        if (k == i || pgc_member_name(other, sizeof(other), (unsigned) k) < 0)
                                continue;
                        if (!member_healthy(member_of(p->obs, other)))
                                others_ok = false;
                }
                if (!others_ok && need != NEED_REINIT) {
                        say(p, PHASE_DEGRADED,
                            "%s waits to be %s until every other member is healthy", name,
                            what[need]);
                        requeue(p, REQUEUE_CHANGING);
                        return 0;
                }
                p->disruptive = true;
                requeue(p, REQUEUE_CHANGING);
                say(p, PHASE_DEGRADED, "%s is being %s", name, what[need]);
                switch (need) {
                case NEED_REPLACE: {
                        ContainerConfig *want = b_calloc(1, sizeof(*want));
                        Error err = ERROR_INIT;

                        if (!want)
                                return -ENOMEM;
                        r = pgc_member_container(p->ref, p->spec, p->obs, (unsigned) i, want, &err);
                        if (r >= 0)
                                r = plan_add(p->plan, ACTION_REMOVE_CONTAINER, c->name, c->id,
                                             "config changed", NULL);
                        if (r < 0) {
                                config_free(want);
                                return r;
                        }
                        snprintf(p->plan->operation, sizeof(p->plan->operation), "update");
                        return plan_add(p->plan, ACTION_CREATE_CONTAINER, want->name, NULL,
                                        "config changed", want);
                }
                case NEED_RESTART:
                        snprintf(p->plan->operation, sizeof(p->plan->operation), "restart");
                        return plan_add(p->plan, ACTION_RESTART_CONTAINER, c->name, c->id,
                                        "requested", NULL);
                case NEED_PG_RESTART:
                        return curl_exec(p, c->name, "restart for new parameters", "POST",
                                         "restart", "{\"restart_pending\":true}");
                case NEED_REINIT:
                        return curl_exec(p, c->name, "reinitialise from the leader", "POST",
                                         "reinitialize", "{\"force\":true}");
                default:
                        return 0;
                }
        }
        if (leader_need == NEED_NOTHING)
                return 0;
        if (leader_need == NEED_PG_RESTART) {
                /* A restart of the leader in place: a short write pause, no new timeline. */
                p->disruptive = true;
                requeue(p, REQUEUE_CHANGING);
                return curl_exec(p, p->leader_c->name, "restart for new parameters", "POST",
                                 "restart", "{\"restart_pending\":true}");
        }
        {
                const char *to = best_candidate(p);
                char reason[128];

                if (!to) {
                        say(p, PHASE_DEGRADED, "the leader %s waits to be %s for a healthy %s",
                            p->holder, what[leader_need],
                            p->spec->sync ? "synchronous standby" : "replica");
                        requeue(p, REQUEUE_CHANGING);
                        return 0;
                }
                snprintf(reason, sizeof(reason), "switchover to %s before the leader is %s", to,
                         leader_need == NEED_REPLACE ? "replaced" : "restarted");
                say(p, PHASE_DEGRADED, "%s", reason);
                snprintf(p->plan->operation, sizeof(p->plan->operation), "%s",
                         leader_need == NEED_REPLACE ? "update" : "restart");
                return switchover(p, "switchover", to, "controller", reason);
        }
}

/* Members above topology.standbys go with their data; the leader first hands over. */
static int plan_surplus(PgcPass *p) {
        for (size_t i = 0; i < p->obs->n_containers; i++) {
                const ObservedContainer *c = &p->obs->containers[i];
                char vol[128], name[32];
                int r;

                if (c->role && streq(c->role, PGC_ROLE_MEMBER) && c->index >= 0 &&
                    c->index <= p->spec->standbys)
                        continue;
                if (c->role && streq(c->role, PGC_ROLE_PROXY) && c->index == 0)
                        continue;
                if (c->role && streq(c->role, PGC_ROLE_DCS) && c->index >= 0)
                        continue; /* its size is fixed (plan_dcs) */
                if (c->role && streq(c->role, PGC_ROLE_MEMBER) && c->index >= 0 && p->holder &&
                    pgc_member_name(name, sizeof(name), (unsigned) c->index) >= 0 &&
                    streq(name, p->holder)) {
                        const char *to = best_candidate(p);

                        if (to && p->leader_ready && !p->disruptive)
                                return switchover(p, "switchover", to, "controller",
                                                  "switchover away from a member being removed");
                        continue;
                }
                r = plan_add(p->plan, ACTION_REMOVE_CONTAINER, c->name, c->id, "surplus", NULL);
                if (r >= 0 && c->role && streq(c->role, PGC_ROLE_MEMBER) && c->index >= 0 &&
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

/* ---- delete, pause -----------------------------------------------------------------------------
 */

static int plan_delete(PgcPass *p) {
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
        p->message = "removing the members, the DCS, the proxy and their data";
        if (p->plan->n_actions == 0)
                p->plan->delete_done = true;
        else
                requeue(p, REQUEUE_NOW);
        return 0;
}

/* Stopped in an order that elects nobody: the proxy, the replicas, the leader, then the DCS. */
static int plan_paused(PgcPass *p) {
        for (int pass = 0; pass < 4; pass++)
                for (size_t i = 0; i < p->obs->n_containers; i++) {
                        const ObservedContainer *c = &p->obs->containers[i];
                        char name[32] = "";
                        bool leader;
                        int want, r;

                        if (!is_running(c) && !(c->state && streq(c->state, "restarting")))
                                continue;
                        if (c->role && streq(c->role, PGC_ROLE_MEMBER) && c->index >= 0)
                                (void) pgc_member_name(name, sizeof(name), (unsigned) c->index);
                        leader = p->holder && name[0] && streq(name, p->holder);
                        want = c->role && streq(c->role, PGC_ROLE_PROXY) ? 0
                               : c->role && streq(c->role, PGC_ROLE_DCS) ? 3
                               : leader                                  ? 2
                                                                         : 1;
                        if (want != pass)
                                continue;
                        r = plan_add(p->plan, ACTION_STOP_CONTAINER, c->name, c->id, "paused",
                                     NULL);
                        if (r < 0)
                                return r;
                }
        p->phase = PHASE_PAUSED;
        p->message = "paused: every container is stopped, the data kept";
        return 0;
}

/* ---- history --------------------------------------------------------------------------------- */

static const char *jstr(const cJSON *o, const char *key) {
        return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static usec_t jtime(const cJSON *o, const char *key) {
        const char *s = jstr(o, key);
        usec_t t = 0;

        return s && parse_rfc3339(s, &t) >= 0 ? t : 0;
}

static usec_t promoted_at(const PgcObserved *o, int64_t timeline) {
        for (size_t i = 0; i < o->n_history; i++)
                if (o->history[i].timeline == timeline - 1)
                        return o->history[i].at;
        return 0;
}

/* Why the old leader lost its key, as far as Docker and Patroni tell. */
static void describe_loss(const PgcPass *p, const char *old, char *buf, size_t n) {
        int k = pgc_member_index(old);
        const ObservedContainer *c = k >= 0 ? find(p->obs, PGC_ROLE_MEMBER, k, NULL) : NULL;

        if (!c)
                snprintf(buf, n, "the primary's container is gone");
        else if (c->state && streq(c->state, "paused"))
                snprintf(buf, n,
                         "the primary's container is paused (hung): its leader key expired");
        else if (!is_running(c) && c->exit_code != 0)
                snprintf(buf, n, "the primary's container stopped (exit code %d)", c->exit_code);
        else if (!is_running(c))
                snprintf(buf, n, "the primary's container stopped");
        else
                snprintf(buf, n,
                         "the primary lost its leader key (Patroni: unreachable or "
                         "restarted)");
}

static int entry_log(const cJSON *e, PgcRecord *rec) {
        _cleanup_(buf_release) Buf log = BUF_INIT(4096), sum = BUF_INIT(512);
        static const char *const keys[] = {"type",        "old_primary",      "new_primary",
                                           "timeline",    "reason",           "actor",
                                           "detected_at", "promoted_at",      "new_leader_seen_at",
                                           "routed_at",   "recovery_seconds", NULL};
        int r = 0;

        for (const char *const *k = keys; r >= 0 && *k; k++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, *k);
                char num[32];

                if (cJSON_IsString(v))
                        r = buf_printf(&log, "%s: %s\n", *k, v->valuestring);
                else if (cJSON_IsNumber(v))
                        r = buf_printf(&log, "%s: %s\n", *k,
                                       number_format(v->valuedouble, num, sizeof(num)));
                else
                        r = buf_printf(&log, "%s: -\n", *k);
        }
        if (r >= 0)
                r = buf_printf(
                        &sum, "%s from %s to %s (timeline %d): %s", strna(jstr(e, "type")),
                        strna(jstr(e, "old_primary")), strna(jstr(e, "new_primary")),
                        (int) cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "timeline")),
                        strna(jstr(e, "reason")));
        if (r < 0)
                return r;
        rec->log = buf_take(&log);
        rec->summary = buf_take(&sum);
        return rec->log && rec->summary ? 0 : -ENOMEM;
}

/* The timeline now: the leader's own word (it knows at once when it promoted), else the
 * cluster's view (updated once per Patroni loop). */
static int64_t current_timeline(const PgcPass *p) {
        int64_t tl = p->obs->timeline;

        if (p->leader_n && p->leader_n->answered && p->leader_n->timeline > tl)
                tl = p->leader_n->timeline;
        return tl;
}

/* The proxy sends writes to `leader` alone: the change is complete. */
static bool routed_to(const PgcObserved *o, const char *leader) {
        return leader && strv_length(o->proxy_write_up) == 1 && streq(o->proxy_write_up[0], leader);
}

static PgcRecord *record_new(PgcPass *p, const cJSON *e) {
        PgcRecord *rec;

        assert(p->notes->n_records < ELEMENTSOF(p->notes->records));
        rec = &p->notes->records[p->notes->n_records++];
        snprintf(rec->kind, sizeof(rec->kind), "%s", strna(jstr(e, "type")));
        snprintf(rec->actor, sizeof(rec->actor), "%s", strna(jstr(e, "actor")));
        return rec;
}

/* When the members and the proxy answered this pass. */
static usec_t seen_at(const PgcPass *p) {
        return p->obs->inside_at > 0 ? p->obs->inside_at : p->now;
}

/* Closes a change: routed now (or given up on), its entry goes to the history list. */
static int complete(PgcPass *p, cJSON *entry, bool routed, int64_t operation, cJSON *failovers) {
        PgcRecord *rec;
        int r;

        /* The timeline is the new leader's once it promoted, which may be after it took the
         * key: read both again now. */
        if (current_timeline(p) > 0 &&
            streq(strempty(jstr(entry, "new_primary")), strempty(p->holder))) {
                cJSON_DeleteItemFromObjectCaseSensitive(entry, "timeline");
                cJSON_DeleteItemFromObjectCaseSensitive(entry, "promoted_at");
                r = put_int(entry, "timeline", current_timeline(p));
                if (r >= 0)
                        r = put_time(entry, "promoted_at",
                                     promoted_at(p->obs, current_timeline(p)));
                if (r < 0)
                        return r;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(entry, "operation");
        if (routed) {
                usec_t detected = jtime(entry, "detected_at");

                r = put_time(entry, "routed_at", seen_at(p));
                if (r >= 0 && detected > 0 && seen_at(p) >= detected)
                        r = json_add_item_take(
                                entry, "recovery_seconds",
                                cJSON_CreateNumber(
                                        (double) ((seen_at(p) - detected) / USEC_PER_MSEC) /
                                        1000.0));
        } else
                r = put_str(entry, "routed_at", NULL);
        if (r < 0)
                return r;
        rec = record_new(p, entry);
        rec->finish = true;
        rec->operation = operation;
        rec->start = operation == 0;
        r = entry_log(entry, rec);
        if (r < 0)
                return r;
        return json_add_item_take(failovers, NULL, cJSON_Duplicate(entry, true));
}

static int put_pending(cJSON *extra, const char *old, const char *reason, usec_t at) {
        cJSON *pend = cJSON_AddObjectToObject(extra, "failover_pending");
        int r = pend ? 0 : -ENOMEM;

        if (r >= 0)
                r = put_str(pend, "old_primary", old);
        if (r >= 0)
                r = put_str(pend, "reason", reason);
        if (r >= 0)
                r = put_time(pend, "detected_at", at);
        return r;
}

/* Leader changes: seen (the leader key names another member, or the same one on a new
 * timeline), recorded with why and when, completed once the proxy routes writes to the new
 * leader. Also what the next pass needs: the leader, the timeline, a pending detection. */
static int plan_history(PgcPass *p) {
        const PgcObserved *o = p->obs;
        const char *cur = p->holder, *last = o->last_leader;
        int64_t tl = current_timeline(p) > 0 ? current_timeline(p) : o->last_timeline;
        _cleanup_json_ cJSON *failovers = cJSON_CreateArray(), *progress = NULL;
        const cJSON *newest = cJSON_GetArrayItem(o->prev_failovers, 0);
        bool changed, same_in_progress, amend = false;
        cJSON *f;
        int r;

        if (!failovers)
                return -ENOMEM;
        if (o->in_progress.active && o->in_progress.entry) {
                progress = cJSON_Duplicate(o->in_progress.entry, true);
                if (!progress)
                        return -ENOMEM;
        }
        same_in_progress = progress && cur && streq(strempty(jstr(progress, "new_primary")), cur);
        /* A new timeline under the same leader is a change too (it lost the key and won it
         * back), unless it is the promotion of the change already in progress. */
        changed = cur && last &&
                  (!streq(cur, last) ||
                   (o->last_timeline > 0 && tl > o->last_timeline && !same_in_progress));
        /* The leader took the key before it promoted: the change recorded just before, of this
         * leader, one timeline back, is this promotion. Amend it rather than record another. */
        if (changed && streq(cur, last) && newest &&
            streq(strempty(jstr(newest, "new_primary")), cur) &&
            (int64_t) cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(newest, "timeline")) ==
                    tl - 1 &&
            p->now < jtime(newest, "new_leader_seen_at") + ROUTE_DEADLINE) {
                changed = false;
                amend = true;
        }

        if (progress && (changed || routed_to(o, jstr(progress, "new_primary")) ||
                         p->now > jtime(progress, "new_leader_seen_at") + ROUTE_DEADLINE)) {
                r = complete(p, progress, routed_to(o, jstr(progress, "new_primary")),
                             o->in_progress.operation, failovers);
                if (r < 0)
                        return r;
                cJSON_Delete(progress);
                progress = NULL;
        }
        if (changed) {
                _cleanup_json_ cJSON *e = cJSON_CreateObject();
                const PgcExpected *x = &o->expected;
                const char *type = "failover", *actor = "patroni";
                usec_t detected = p->now;
                char reason[192];

                if (!e)
                        return -ENOMEM;
                if (o->have_expected && streq(x->from, last)) {
                        type = x->type;
                        actor = x->actor[0] ? x->actor : "controller";
                        snprintf(reason, sizeof(reason), "%s", x->reason);
                        detected = x->at;
                } else if (o->have_pending && streq(o->pending_old, last)) {
                        /* berth saw it die and released its key; Patroni elected. */
                        snprintf(reason, sizeof(reason), "%s", o->pending_reason);
                        detected = o->pending_at;
                        actor = "controller";
                } else
                        describe_loss(p, last, reason, sizeof(reason));
                r = put_str(e, "type", type);
                if (r >= 0)
                        r = put_str(e, "old_primary", last);
                if (r >= 0)
                        r = put_str(e, "new_primary", cur);
                if (r >= 0)
                        r = put_int(e, "timeline", tl);
                if (r >= 0)
                        r = put_str(e, "reason", reason);
                if (r >= 0)
                        r = put_str(e, "actor", actor);
                if (r >= 0)
                        r = put_time(e, "detected_at", detected);
                if (r >= 0)
                        r = put_time(e, "promoted_at", promoted_at(o, tl));
                if (r >= 0)
                        r = put_time(e, "new_leader_seen_at", seen_at(p));
                if (r < 0)
                        return r;
                if (routed_to(o, cur) && tl > o->last_timeline) {
                        r = complete(p, e, true, 0, failovers);
                        if (r < 0)
                                return r;
                } else {
                        PgcRecord *rec = record_new(p, e);

                        rec->start = true;
                        rec->in_progress = true;
                        progress = TAKE_PTR(e);
                }
        }
        /* The older entries after the new ones, newest first, at most PGC_HISTORY_MAX. */
        cJSON_ArrayForEach(f, o->prev_failovers) {
                _cleanup_json_ cJSON *copy = NULL;

                if (cJSON_GetArraySize(failovers) >= PGC_HISTORY_MAX)
                        break;
                copy = cJSON_Duplicate(f, true);
                if (!copy)
                        return -ENOMEM;
                if (amend && f == newest) {
                        cJSON_DeleteItemFromObjectCaseSensitive(copy, "timeline");
                        cJSON_DeleteItemFromObjectCaseSensitive(copy, "promoted_at");
                        r = put_int(copy, "timeline", tl);
                        if (r >= 0)
                                r = put_time(copy, "promoted_at", promoted_at(o, tl));
                        if (r < 0)
                                return r;
                } else if (f == newest && !jstr(copy, "promoted_at")) {
                        /* Patroni writes its timeline history a loop after it promotes: the
                         * promotion time arrives after the change was recorded. */
                        int64_t etl = (int64_t) cJSON_GetNumberValue(
                                cJSON_GetObjectItemCaseSensitive(copy, "timeline"));

                        if (etl > 0 && promoted_at(o, etl) > 0) {
                                cJSON_DeleteItemFromObjectCaseSensitive(copy, "promoted_at");
                                r = put_time(copy, "promoted_at", promoted_at(o, etl));
                                if (r < 0)
                                        return r;
                        }
                }
                r = json_add_item_take(failovers, NULL, TAKE_PTR(copy));
                if (r < 0)
                        return r;
        }
        r = json_add_item_take(p->extra, "failovers", TAKE_PTR(failovers));
        if (r >= 0 && progress) {
                requeue(p, REQUEUE_FAILOVER);
                r = json_add_item_take(p->extra, "failover_in_progress", TAKE_PTR(progress));
        }
        if (r < 0)
                return r;

        /* What the next pass needs to know. */
        r = put_str(p->extra, "leader", cur ? cur : last);
        if (r >= 0)
                r = put_int(p->extra, "timeline", tl);
        if (r >= 0)
                r = put_time(p->extra, "leaderless_since",
                             cur                   ? 0
                             : o->leaderless_since ? o->leaderless_since
                                                   : p->now);
        if (r >= 0 && p->released)
                r = put_pending(p->extra, p->holder, p->reason,
                                o->have_pending && streq(o->pending_old, p->holder) ? o->pending_at
                                                                                    : p->now);
        else if (r >= 0 && o->have_pending && !changed && (!cur || streq(cur, o->pending_old))) {
                /* The key still names the dead leader (the release lost a race, or the DCS did
                 * not answer), or nobody holds it yet: keep the first detection. */
                r = put_pending(p->extra, o->pending_old, o->pending_reason, o->pending_at);
                requeue(p, REQUEUE_FAILOVER);
        }
        if (r >= 0 && p->expected)
                r = json_add_item_take(p->extra, "expected_change", TAKE_PTR(p->expected));
        else if (r >= 0 && o->have_expected && !changed &&
                 p->now < o->expected.at + EXPECTED_DEADLINE) {
                cJSON *x = cJSON_AddObjectToObject(p->extra, "expected_change");

                r = x ? 0 : -ENOMEM;
                if (r >= 0)
                        r = put_str(x, "type", o->expected.type);
                if (r >= 0)
                        r = put_str(x, "from", o->expected.from);
                if (r >= 0)
                        r = put_str(x, "to", o->expected.to[0] ? o->expected.to : NULL);
                if (r >= 0)
                        r = put_str(x, "actor", o->expected.actor);
                if (r >= 0)
                        r = put_str(x, "reason", o->expected.reason);
                if (r >= 0)
                        r = put_time(x, "at", o->expected.at);
        }
        return r;
}

/* ---- status ------------------------------------------------------------------------------------
 */

static int add_nodes(PgcPass *p) {
        Status *st = &p->plan->status;

        st->nodes = b_calloc(p->obs->n_containers + 1, sizeof(StatusNode));
        if (!st->nodes)
                return -ENOMEM;
        for (size_t i = 0; i < p->obs->n_containers; i++) {
                const ObservedContainer *c = &p->obs->containers[i];
                const PgcNodeObserved *n = p->obs->nodes ? &p->obs->nodes[i] : NULL;
                StatusNode *sn = &st->nodes[st->n_nodes++];
                const char *role = strna(c->role), *state = strna(c->state), *health = "none";
                const PgcMember *m = NULL;
                char name[32];

                if (c->role && streq(c->role, PGC_ROLE_MEMBER) && c->index >= 0 &&
                    pgc_member_name(name, sizeof(name), (unsigned) c->index) >= 0) {
                        m = member_of(p->obs, name);
                        role = p->holder && streq(p->holder, name) ? "primary" : "replica";
                        if (is_running(c))
                                state = m && m->state ? m->state : "starting";
                        health = !is_running(c)      ? "none"
                                 : member_healthy(m) ? "healthy"
                                                     : "starting";
                        if (member_healthy(m) && is_running(c))
                                st->replicas_running++;
                } else if (is_running(c))
                        health = n && n->answered ? "healthy" : "unhealthy";
                if (c->role && streq(c->role, PGC_ROLE_PROXY) && is_running(c))
                        health = p->obs->proxy_answered ? "healthy" : "unhealthy";
                sn->name = b_strdup(c->name);
                sn->role = b_strdup(role);
                sn->state = b_strdup(state);
                sn->health = b_strdup(health);
                sn->host = c->ip ? b_strdup(c->ip) : NULL;
                sn->index = c->index > 0 ? (unsigned) c->index : 0;
                sn->restarts = c->restart_count;
                if (!sn->name || !sn->role || !sn->state || !sn->health || (c->ip && !sn->host))
                        return -ENOMEM;
                if (!is_running(c) && c->finished_at > 0) {
                        sn->has_exit = true;
                        sn->exit_code = c->exit_code;
                        sn->oom_killed = c->oom_killed;
                }
                if (m && m->has_lag && !streq(role, "primary")) {
                        sn->has_lag = true;
                        sn->lag_bytes = m->lag_bytes;
                }
        }
        return 0;
}

static int add_endpoints(PgcPass *p) {
        const PgClusterSpec *s = p->spec;
        _cleanup_json_ cJSON *e = cJSON_CreateObject();
        char internal[128], write[128], read[128], url[512];
        int r;

        if (!e)
                return -ENOMEM;
        snprintf(internal, sizeof(internal), "%s:%d", p->ref->name, PGC_PG_PORT);
        if (s->write_port > 0)
                snprintf(write, sizeof(write), "%s:%d", s->bind, s->write_port);
        else
                snprintf(write, sizeof(write), "%s", internal);
        if (s->read_port > 0)
                snprintf(read, sizeof(read), "%s:%d", s->bind, s->read_port);
        else
                snprintf(read, sizeof(read), "%s:%d", p->ref->name, PGC_READ_PORT);
        /* Never a password: it is in the secret named beside. */
        snprintf(url, sizeof(url), "postgresql://%s@%s/%s", s->pg.initial_user, write,
                 s->pg.initial_db_name);
        r = put_str(e, "write", write);
        if (r >= 0)
                r = put_str(e, "read", read);
        if (r >= 0)
                r = put_str(e, "internal", internal);
        if (r >= 0)
                r = put_str(e, "connection_string", url);
        if (r >= 0)
                r = put_str(e, "password_secret", s->pg.password_secret);
        if (r < 0)
                return r;
        p->plan->status.endpoints = TAKE_PTR(e);
        return 0;
}

static int add_extra(PgcPass *p, bool bootstrapping) {
        const PgcObserved *o = p->obs;
        cJSON *members, *dcs, *proxy;
        const char *sync = NULL;
        int r = 0;

        members = cJSON_AddArrayToObject(p->extra, "members");
        if (!members)
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < o->n_members; i++) {
                const PgcMember *m = &o->members[i];
                _cleanup_json_ cJSON *j = cJSON_CreateObject();

                if (!j)
                        return -ENOMEM;
                if (m->role && streq(m->role, "sync_standby"))
                        sync = m->name;
                r = put_str(j, "name", m->name);
                if (r >= 0)
                        r = put_str(j, "role", m->role);
                if (r >= 0)
                        r = put_str(j, "state", m->state);
                if (r >= 0)
                        r = put_int(j, "timeline", m->timeline);
                if (r >= 0 && m->has_lag)
                        r = put_int(j, "lag_bytes", m->lag_bytes);
                if (r >= 0 && m->pending_restart)
                        r = json_add_item_take(j, "pending_restart", cJSON_CreateTrue());
                if (r >= 0)
                        r = json_add_item_take(members, NULL, TAKE_PTR(j));
        }
        if (r >= 0)
                r = put_str(p->extra, "sync_standby", sync);
        if (r >= 0)
                r = json_add_item_take(p->extra, "ha_paused", cJSON_CreateBool(o->ha_paused));
        dcs = cJSON_AddObjectToObject(p->extra, "dcs");
        if (!dcs)
                return -ENOMEM;
        if (r >= 0)
                r = put_int(dcs, "members", p->spec->dcs_members);
        if (r >= 0)
                r = put_int(dcs, "healthy", o->dcs_healthy);
        if (r >= 0)
                r = put_int(p->extra, "dcs_members",
                            o->prev_dcs_members > 0 ? o->prev_dcs_members : p->spec->dcs_members);
        proxy = cJSON_AddObjectToObject(p->extra, "proxy");
        if (!proxy)
                return -ENOMEM;
        if (r >= 0)
                r = put_str(proxy, "write",
                            strv_length(o->proxy_write_up) == 1 ? o->proxy_write_up[0] : NULL);
        if (r >= 0) {
                cJSON *l = cJSON_AddArrayToObject(proxy, "read");

                r = l ? 0 : -ENOMEM;
                for (char **s = o->proxy_read_up; r >= 0 && s && *s; s++)
                        r = json_add_item_take(l, NULL, cJSON_CreateString(*s));
        }
        if (r >= 0)
                r = put_int(p->extra, "password_version",
                            bootstrapping || (p->leader_n && p->leader_n->bootstrapped &&
                                              o->applied_password_version == o->password_version)
                                    ? o->password_version
                                    : o->applied_password_version);
        if (r < 0)
                return r;
        if (!sync && p->spec->sync && p->leader_ready && !p->message)
                say(p, PHASE_DEGRADED,
                    "no synchronous standby: until Patroni picks one, commits are acknowledged "
                    "by the primary alone%s",
                    p->spec->sync_strict ? " (strict mode: writes wait)" : "");
        return 0;
}

/* The health of the whole, once nothing more urgent was said. */
static void judge(PgcPass *p) {
        const PgcObserved *o = p->obs;
        int healthy = 0;

        if (!p->holder) {
                say(p, PHASE_PROVISIONING,
                    o->have_cluster ? "Patroni is electing a leader"
                                    : "waiting for Patroni to answer");
                requeue(p, REQUEUE_STARTING);
                return;
        }
        if (!p->leader_ready) {
                say(p, PHASE_PROVISIONING, "the leader %s is starting", p->holder);
                requeue(p, REQUEUE_STARTING);
                return;
        }
        for (int i = 0; i <= p->spec->standbys; i++) {
                char name[32];
                const PgcMember *m;

                if (pgc_member_name(name, sizeof(name), (unsigned) i) < 0)
                        continue;
                m = member_of(o, name);
                if (!member_healthy(m)) {
                        say(p, PHASE_DEGRADED, "%s is %s", name,
                            m && m->state ? m->state : "not a member yet");
                        requeue(p, REQUEUE_STARTING);
                        continue;
                }
                healthy++;
                if (m->has_lag && p->spec->pg.max_lag_bytes > 0 &&
                    m->lag_bytes > p->spec->pg.max_lag_bytes)
                        say(p, PHASE_DEGRADED, "%s is %" PRIi64 " bytes behind the leader", name,
                            m->lag_bytes);
        }
        if (o->dcs_healthy < p->spec->dcs_members)
                say(p, PHASE_DEGRADED, "%d of %d etcd members healthy", o->dcs_healthy,
                    p->spec->dcs_members);
        if (!o->proxy_answered)
                say(p, PHASE_DEGRADED, "the proxy does not answer");
        else if (!routed_to(o, p->holder)) {
                say(p, PHASE_DEGRADED, "the proxy does not route writes to the leader %s yet",
                    p->holder);
                requeue(p, REQUEUE_FAILOVER);
        }
        if (!p->message) {
                snprintf(p->msgbuf, sizeof(p->msgbuf),
                         "leader %s (timeline %" PRIi64 "), %d of %d standbys streaming", p->holder,
                         current_timeline(p), healthy - 1, p->spec->standbys);
                p->message = p->msgbuf;
                p->phase = PHASE_RUNNING;
        }
}

void pgc_notes_release(PgcNotes *n) {
        if (!n)
                return;
        for (size_t i = 0; i < n->n_records; i++) {
                n->records[i].log = mfree(n->records[i].log);
                n->records[i].summary = mfree(n->records[i].summary);
        }
        n->n_records = 0;
}

/* The leader as the DCS names it (else as Patroni's cluster view does), its container and its
 * own answer. */
static void find_leader(PgcPass *p) {
        const PgcObserved *o = p->obs;
        int k;

        p->holder = o->have_leader_key ? o->leader_key_holder : o->leader;
        k = pgc_member_index(p->holder);
        if (k < 0)
                return;
        p->leader_c = find(o, PGC_ROLE_MEMBER, k, &p->leader_n);
        p->leader_ready = is_running(p->leader_c) && p->leader_n && p->leader_n->answered &&
                          p->leader_n->bootstrapped;
}

int pgc_plan_release(const ResourceRef *ref, const PgClusterSpec *spec, const PgcObserved *obs,
                     usec_t now, Plan *ret, char *ret_reason, size_t n) {
        _cleanup_(plan_release) Plan plan;
        PgcNotes notes = {};
        PgcPass p = {
                .ref = ref, .spec = spec, .obs = obs, .now = now, .plan = &plan, .notes = &notes};
        const ObservedContainer *c;
        int k, r = 0;

        assert_return(ref && spec && obs && ret, -EINVAL);
        plan_init(&plan);
        find_leader(&p);
        k = pgc_member_index(p.holder);
        if (!ref->deleting && !spec->pg.paused && obs->have_leader_key && k >= 0) {
                c = find(obs, PGC_ROLE_MEMBER, k, NULL);
                if (!c || is_dead(c))
                        r = release_leader_key(&p, p.holder, c);
        }
        if (r < 0)
                return r;
        if (ret_reason && n > 0)
                snprintf(ret_reason, n, "%s", p.released ? p.reason : "");
        *ret = plan;
        plan_init(&plan);
        return 0;
}

int pgc_plan(const ResourceRef *ref, const PgClusterSpec *spec, const PgcObserved *obs, usec_t now,
             Plan *ret, PgcNotes *ret_notes, Error *reterr) {
        _cleanup_(plan_release) Plan plan;
        _cleanup_(pgc_notes_release) PgcNotes notes = {};
        _cleanup_json_ cJSON *extra = cJSON_CreateObject();
        PgcPass p = {
                .ref = ref, .spec = spec, .obs = obs, .now = now, .plan = &plan, .notes = &notes};
        bool wait = false, proxy_outdated = false, bootstrapping = false;
        int r, outdated = 0;

        assert_return(ref && spec && obs && ret && ret_notes, -EINVAL);
        plan_init(&plan);
        if (!extra)
                return -ENOMEM;
        p.extra = extra;
        plan.status.observed_generation = ref->generation;
        find_leader(&p);

        if (ref->deleting)
                r = plan_delete(&p);
        else if (spec->pg.paused)
                r = plan_paused(&p);
        else {
                r = plan_foundations(&p, &wait);
                if (r >= 0 && !wait)
                        r = plan_dcs(&p);
                if (r >= 0 && !wait)
                        r = plan_members(&p, &outdated);
                if (r >= 0 && !wait)
                        r = plan_proxy(&p, &proxy_outdated);
                if (r >= 0 && !wait && p.leader_c && is_running(p.leader_c)) {
                        size_t before = plan.n_actions;

                        r = plan_bootstrap(&p);
                        bootstrapping = plan.n_actions > before;
                        if (r >= 0 && p.leader_ready)
                                r = plan_dcs_config(&p);
                }
                if (r >= 0 && !wait)
                        r = plan_member_files(&p);
                if (r >= 0 && !wait)
                        r = plan_proxy_file(&p);
                if (r >= 0 && !wait)
                        r = plan_request(&p);
                if (r >= 0 && !wait)
                        r = plan_rolling(&p);
                if (r >= 0 && !wait)
                        r = plan_surplus(&p);
        }
        if (r >= 0 && !ref->deleting)
                r = plan_history(&p);
        if (r >= 0 && !ref->deleting) {
                if (p.released) {
                        p.message = NULL;
                        say(&p, PHASE_DEGRADED,
                            "failing over: %s; released %s's leader key so Patroni elects now",
                            p.reason, p.holder);
                }
        }
        if (r >= 0 && !ref->deleting)
                r = add_nodes(&p);
        if (r >= 0 && !ref->deleting)
                r = add_endpoints(&p);
        if (r >= 0 && !ref->deleting)
                r = add_extra(&p, bootstrapping);
        if (r < 0) {
                cJSON_Delete(p.expected);
                return r == -ENOMEM ? err_set(reterr, r, NULL, "out of memory") : r;
        }
        if (!ref->deleting && !spec->pg.paused && !(p.message && p.phase == PHASE_FAILED))
                judge(&p);
        if (!p.message) {
                p.message = "converging";
                p.phase = PHASE_PROVISIONING;
        }

        plan.status.replicas_desired = spec->pg.paused || ref->deleting ? 0 : 1 + spec->standbys;
        if (!ref->deleting && !spec->pg.paused)
                requeue(&p, REQUEUE_RUNNING);
        plan.status.phase = p.phase;
        plan.status.message = b_strdup(p.message);
        if (!plan.status.message)
                return -ENOMEM;
        plan.status.extra = TAKE_PTR(extra);
        plan.requeue_after = p.requeue;
        *ret = plan;
        plan_init(&plan);
        *ret_notes = notes;
        notes = (PgcNotes){};
        return 0;
}
