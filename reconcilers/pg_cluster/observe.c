/* SPDX-License-Identifier: MIT */
#include "util/common.h"

#include "drivers/docker/docker.h"
#include "model/json-util.h"
#include "reconcilers/pg_cluster/pgc.h"
#include "store/requests.h"
#include "store/secrets.h"
#include "store/store.h"

/* What a pass sees of one pg_cluster: Docker's objects, and what runs in them asked from inside
 * (docker exec): each Patroni member's REST API and one member's view of the cluster (members,
 * roles, timelines, lag, the dynamic configuration, the timeline history), the etcd members'
 * health and Patroni's leader key, the proxy's configuration and which servers its checks find
 * up. No port of the cluster is open to berthd. */

#define OBSERVE_OUTPUT_MAX (1024 * 1024)

static const char *jstr(const cJSON *o, const char *key) {
        return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static int copy_str(char *dst, size_t n, const char *src) {
        snprintf(dst, n, "%s", strempty(src));
        return 0;
}

/* Runs `argv` in a container; ret_out gets stdout. A container that stopped meanwhile is not an
 * error: *ret_ran is false. */
static int run_in(DockerClient *docker, const char *id, char *const *argv, Buf *out, Buf *err,
                  bool *ret_ran, int *ret_code, Error *reterr) {
        int r;

        *ret_ran = false;
        r = docker_exec(docker, id, argv, out, err, ret_code, reterr);
        if (r == -ESRCH || r == -ENOENT || r == -EBUSY) {
                err_clear(reterr);
                return 0;
        }
        if (r < 0)
                return r;
        *ret_ran = true;
        return 0;
}

/* ---- Patroni ----------------------------------------------------------------------------- */

static int observe_member(DockerClient *docker, const PgClusterSpec *spec, ObservedContainer *c,
                          PgcNodeObserved *n, PgcObserved *o, Error *reterr) {
        _cleanup_(buf_release) Buf out = BUF_INIT(OBSERVE_OUTPUT_MAX), err = BUF_INIT(16 * 1024);
        _cleanup_json_ cJSON *j = NULL;
        const cJSON *pat;
        bool full = !o->have_cluster, ran, leader;
        char member[32];
        char *argv[6] = {(char *) "sh", (char *) PGC_OBSERVE, (char *) (full ? "full" : "own"),
                         NULL};
        ObservedContainer fresh = {};
        int r, code = -1;

        /* Only the leader is asked about the initial database (a psql run saved elsewhere). */
        leader = c->index >= 0 &&
                 pgc_member_name(member, sizeof(member), (unsigned) c->index) >= 0 &&
                 (!o->have_leader_key || !o->leader_key_holder ||
                  streq(o->leader_key_holder, member));
        if (leader) {
                argv[3] = spec->pg.initial_db_name;
                argv[4] = spec->pg.initial_user;
        }

        /* Its exit (a stopped one), its start time and limits (a running one): a list reply has
         * none of them. */
        r = docker_container_inspect(docker, c->id, &fresh, reterr);
        if (r == -ENOENT) {
                err_clear(reterr);
                return 0;
        }
        if (r < 0)
                return r;
        c->exit_code = fresh.exit_code;
        c->finished_at = fresh.finished_at;
        c->oom_killed = fresh.oom_killed;
        c->restart_count = fresh.restart_count;
        c->started_at = fresh.started_at;
        c->has_resources = fresh.has_resources;
        c->nano_cpus = fresh.nano_cpus;
        c->memory = fresh.memory;
        observed_container_release(&fresh);
        if (!c->state || !streq(c->state, "running"))
                return 0;

        r = run_in(docker, c->id, argv, &out, &err, &ran, &code, reterr);
        if (r < 0 || !ran)
                return r;
        if (code != 0) {
                n->error = buf_last_line(&err);
                return 0;
        }
        j = cJSON_Parse(buf_str(&out));
        if (!j) {
                n->error = b_strdup("the member's observation is not JSON");
                return n->error ? 0 : -ENOMEM;
        }
        copy_str(n->conf_sha256, sizeof(n->conf_sha256), jstr(j, "conf_sha256"));
        n->bootstrapped = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "bootstrapped"));
        pat = cJSON_GetObjectItemCaseSensitive(j, "patroni");
        if (!cJSON_IsObject(pat)) {
                n->error = b_strdup("Patroni's REST API does not answer");
                return n->error ? 0 : -ENOMEM;
        }
        n->answered = true;
        if (jstr(pat, "state") && !(n->state = b_strdup(jstr(pat, "state"))))
                return -ENOMEM;
        if (jstr(pat, "role") && !(n->role = b_strdup(jstr(pat, "role"))))
                return -ENOMEM;
        if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(pat, "timeline")))
                n->timeline =
                        (int64_t) cJSON_GetObjectItemCaseSensitive(pat, "timeline")->valuedouble;
        if (full && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "cluster"))) {
                r = pgc_observed_cluster(cJSON_GetObjectItemCaseSensitive(j, "cluster"),
                                         cJSON_GetObjectItemCaseSensitive(j, "history"), o);
                if (r < 0)
                        return r;
                if (!(o->cluster_from = b_strdup(c->name)))
                        return -ENOMEM;
                if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "config")) &&
                    !(o->dcs_config =
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(j, "config"), true)))
                        return -ENOMEM;
        }
        return 0;
}

/* ---- the DCS ----------------------------------------------------------------------------- */

static int b64_value(int ch) {
        if (ch >= 'A' && ch <= 'Z')
                return ch - 'A';
        if (ch >= 'a' && ch <= 'z')
                return ch - 'a' + 26;
        if (ch >= '0' && ch <= '9')
                return ch - '0' + 52;
        return ch == '+' ? 62 : ch == '/' ? 63 : -1;
}

/* etcd's JSON gives values in base64; a member name fits in buf or is refused. */
static bool b64_decode(const char *s, char *buf, size_t n) {
        size_t k = 0;
        unsigned acc = 0;
        int bits = 0;

        for (; *s && *s != '='; s++) {
                int v = b64_value((unsigned char) *s);

                if (v < 0)
                        return false;
                acc = (acc << 6) | (unsigned) v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        if (k + 1 >= n)
                                return false;
                        buf[k++] = (char) ((acc >> bits) & 0xff);
                }
        }
        buf[k] = 0;
        return true;
}

static int observe_dcs(DockerClient *docker, const char *key, ObservedContainer *c,
                       PgcNodeObserved *n, PgcObserved *o, Error *reterr) {
        _cleanup_(buf_release) Buf out = BUF_INIT(OBSERVE_OUTPUT_MAX), err = BUF_INIT(16 * 1024);
        _cleanup_json_ cJSON *j = NULL;
        char *const argv[] = {(char *) "sh", (char *) PGC_OBSERVE, (char *) key, NULL};
        const cJSON *k, *kv;
        int r, code = -1;
        bool ran;

        if (!c->state || !streq(c->state, "running"))
                return 0;
        r = run_in(docker, c->id, argv, &out, &err, &ran, &code, reterr);
        if (r < 0 || !ran)
                return r;
        j = code == 0 ? cJSON_Parse(buf_str(&out)) : NULL;
        if (!j || !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "healthy"))) {
                n->error = b_strdup("etcd does not report healthy");
                return n->error ? 0 : -ENOMEM;
        }
        n->answered = true;
        o->dcs_healthy++;
        k = cJSON_GetObjectItemCaseSensitive(j, "key");
        if (o->have_leader_key || !cJSON_IsObject(k))
                return 0;
        /* The first healthy member that could read the key: etcdctl runs there. */
        if (!(o->dcs_exec = b_strdup(c->name)))
                return -ENOMEM;
        o->have_leader_key = true;
        kv = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(k, "kvs"), 0);
        if (kv) {
                const cJSON *rev = cJSON_GetObjectItemCaseSensitive(kv, "mod_revision");
                char holder[64];

                if (!jstr(kv, "value") || !b64_decode(jstr(kv, "value"), holder, sizeof(holder)) ||
                    !cJSON_IsNumber(rev)) {
                        /* Not a key berth can reason about: act as if unknown. */
                        o->have_leader_key = false;
                        return 0;
                }
                o->leader_key_holder = b_strdup(holder);
                o->leader_key_revision = (int64_t) rev->valuedouble;
                if (!o->leader_key_holder)
                        return -ENOMEM;
        }
        return 0;
}

/* ---- the proxy ------------------------------------------------------------------------------ */

static int observe_proxy(DockerClient *docker, ObservedContainer *c, PgcNodeObserved *n,
                         PgcObserved *o, Error *reterr) {
        _cleanup_(buf_release) Buf out = BUF_INIT(OBSERVE_OUTPUT_MAX), err = BUF_INIT(16 * 1024);
        char *const argv[] = {(char *) "sh", (char *) PGC_OBSERVE, NULL};
        const char *s, *nl;
        int r, code = -1;
        bool ran;

        if (!c->state || !streq(c->state, "running"))
                return 0;
        r = run_in(docker, c->id, argv, &out, &err, &ran, &code, reterr);
        if (r < 0 || !ran || code != 0)
                return r;
        s = buf_str(&out);
        nl = strchr(s, '\n');
        if (!nl || nl - s != 64)
                return 0;
        memcpy(o->proxy_cfg_sha256, s, 64);
        o->proxy_cfg_sha256[64] = 0;
        if (!strstr(nl, "pxname"))
                return 0; /* no statistics: HAProxy does not answer */
        o->proxy_answered = n->answered = true;
        return pgc_observed_proxy_csv(nl + 1, o);
}

/* ---- the store ---------------------------------------------------------------------------- */

static int observe_request(Store *store, const ResourceRef *ref, PgcObserved *o, Error *reterr) {
        _cleanup_(stored_request_release) StoredRequest req = {};
        const cJSON *cand, *m;
        int r;

        if (!store || isempty(ref->uuid))
                return 0;
        r = store_request_next(store, ref->uuid, &req, reterr);
        if (r == -ENOENT) {
                err_clear(reterr);
                return 0;
        }
        if (r < 0)
                return r;
        o->has_request = true;
        o->request_id = req.id;
        copy_str(o->request_action, sizeof(o->request_action), req.action);
        copy_str(o->request_actor, sizeof(o->request_actor), req.actor);
        cand = cJSON_GetObjectItemCaseSensitive(req.params, "candidate");
        cJSON_ArrayForEach(m, req.params) {
                if (!streq(m->string, "candidate")) {
                        o->request_error = b_strdup("unknown parameter (switchover and failover "
                                                    "take candidate=pg-N)");
                        return o->request_error ? 0 : -ENOMEM;
                }
        }
        if (cand &&
            (!cJSON_IsString(cand) || strlen(cand->valuestring) >= sizeof(o->request_candidate))) {
                o->request_error = b_strdup("candidate is not a member name (pg-N)");
                return o->request_error ? 0 : -ENOMEM;
        }
        copy_str(o->request_candidate, sizeof(o->request_candidate), cand ? cand->valuestring : "");
        return 0;
}

/* Volumes named like ours that another resource labelled (volume names do not say the kind: a
 * pg_single of the same name makes "<project>-<name>-data-0" too). */
static int observe_foreign_volumes(DockerClient *docker, const ResourceRef *ref, PgcObserved *o,
                                   Error *reterr) {
        _cleanup_strv_free_ char **filters = NULL, **names = NULL;
        int r;

        r = strv_pushf(&filters, "%s=%s", LABEL_PROJECT, ref->project);
        if (r >= 0)
                r = strv_pushf(&filters, "%s=%s", LABEL_NAME, ref->name);
        if (r >= 0)
                r = docker_volume_list(docker, filters, &names, reterr);
        for (char **n = names; r >= 0 && n && *n; n++)
                if (!strv_contains(o->volumes, *n))
                        r = strv_push(&o->foreign_volumes, *n);
        return r;
}

int pgc_observe_docker(DockerClient *docker, Store *store, const ResourceRef *ref,
                       const PgClusterSpec *spec, const cJSON *prev_status, PgcObserved *ret,
                       Error *reterr) {
        static const char *const suffixes[] = {PGC_SECRET_SUFFIX_SUPERUSER,
                                               PGC_SECRET_SUFFIX_REPLICATION,
                                               PGC_SECRET_SUFFIX_REWIND};
        _cleanup_(pgc_observed_release) PgcObserved o = {};
        _cleanup_strv_free_ char **filters = NULL;
        int64_t *versions[] = {&o.superuser_version, &o.replication_version, &o.rewind_version};
        char net[128], name[96];
        int r;

        assert_return(docker && ref && spec && ret, -EINVAL);
        r = pgc_observed_from_status(prev_status, &o);
        if (r < 0)
                return r;
        if (!isempty(ref->uuid)) {
                r = strv_pushf(&filters, "%s=%s", LABEL_RESOURCE, ref->uuid);
                if (r < 0)
                        return r;
                r = docker_container_list(docker, filters, true, &o.containers, &o.n_containers,
                                          reterr);
                if (r >= 0)
                        r = docker_volume_list(docker, filters, &o.volumes, reterr);
                if (r < 0)
                        return r;
        }
        r = observe_foreign_volumes(docker, ref, &o, reterr);
        if (r < 0)
                return r;
        if (o.n_containers > 0) {
                o.nodes = b_calloc(o.n_containers, sizeof(PgcNodeObserved));
                if (!o.nodes)
                        return -ENOMEM;
        }
        r = name_resource_network(net, sizeof(net), ref->project, ref->name);
        if (r < 0)
                return err_set(reterr, r, "metadata.name", "network name too long");
        r = docker_network_inspect(docker, net, NULL, reterr);
        if (r == -ENOENT)
                err_clear(reterr);
        else if (r < 0)
                return r;
        o.network_exists = r >= 0;

        r = store_secret_version_or(store, ref->project, spec->pg.password_secret,
                                    PGC_SECRET_MISSING, &o.password_version, reterr);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(suffixes); i++) {
                r = pgc_secret_name(name, sizeof(name), ref->name, suffixes[i]);
                if (r >= 0)
                        r = store_secret_version_or(store, ref->project, name, PGC_SECRET_MISSING,
                                                    versions[i], reterr);
        }
        if (r < 0)
                return r;
        *ret = o;
        o = (PgcObserved){};
        return 0;
}

int pgc_observe_dcs(DockerClient *docker, const ResourceRef *ref, PgcObserved *o, Error *reterr) {
        char key[160];
        int r;

        assert_return(docker && ref && o, -EINVAL);
        o->dcs_healthy = 0;
        o->dcs_exec = mfree(o->dcs_exec);
        o->have_leader_key = false;
        o->leader_key_holder = mfree(o->leader_key_holder);
        o->leader_key_revision = 0;
        r = pgc_leader_key(key, sizeof(key), ref->name);
        if (r < 0)
                return r;
        for (size_t i = 0; i < o->n_containers; i++) {
                ObservedContainer *c = &o->containers[i];

                if (!c->role || !streq(c->role, PGC_ROLE_DCS))
                        continue;
                b_free(o->nodes[i].error);
                o->nodes[i] = (PgcNodeObserved){};
                r = observe_dcs(docker, key, c, &o->nodes[i], o, reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

int pgc_observe_refresh_leader(DockerClient *docker, PgcObserved *o, Error *reterr) {
        _cleanup_(observed_container_release) ObservedContainer fresh = {};
        int k = pgc_member_index(o->leader_key_holder), r;

        assert_return(docker && o, -EINVAL);
        if (k < 0)
                return 0;
        for (size_t i = 0; i < o->n_containers; i++) {
                ObservedContainer *c = &o->containers[i];

                if (!c->role || !streq(c->role, PGC_ROLE_MEMBER) || c->index != k)
                        continue;
                r = docker_container_inspect(docker, c->id, &fresh, reterr);
                if (r == -ENOENT) {
                        /* Removed meanwhile: as good as stopped. */
                        err_clear(reterr);
                        b_free(c->state);
                        c->state = b_strdup("exited");
                        return c->state ? 0 : -ENOMEM;
                }
                if (r < 0)
                        return r;
                if (fresh.state) {
                        b_free(c->state);
                        c->state = TAKE_PTR(fresh.state);
                }
                c->exit_code = fresh.exit_code;
                c->oom_killed = fresh.oom_killed;
                c->finished_at = fresh.finished_at;
                return 0;
        }
        return 0;
}

int pgc_observe_inside(DockerClient *docker, Store *store, const ResourceRef *ref,
                       const PgClusterSpec *spec, PgcObserved *o, Error *reterr) {
        int r = 0;

        assert_return(docker && ref && spec && o, -EINVAL);
        for (size_t i = 0; i < o->n_containers; i++) {
                ObservedContainer *c = &o->containers[i];

                if (c->role && streq(c->role, PGC_ROLE_MEMBER))
                        r = observe_member(docker, spec, c, &o->nodes[i], o, reterr);
                else if (c->role && streq(c->role, PGC_ROLE_PROXY) && c->index == 0)
                        r = observe_proxy(docker, c, &o->nodes[i], o, reterr);
                if (r < 0)
                        return r;
        }
        return observe_request(store, ref, o, reterr);
}

int pgc_observe(DockerClient *docker, Store *store, const ResourceRef *ref,
                const PgClusterSpec *spec, const cJSON *prev_status, PgcObserved *ret,
                Error *reterr) {
        _cleanup_(pgc_observed_release) PgcObserved o = {};
        int r;

        r = pgc_observe_docker(docker, store, ref, spec, prev_status, &o, reterr);
        if (r >= 0)
                r = pgc_observe_dcs(docker, ref, &o, reterr);
        if (r >= 0)
                r = pgc_observe_inside(docker, store, ref, spec, &o, reterr);
        if (r < 0)
                return r;
        *ret = o;
        o = (PgcObserved){};
        return 0;
}
