/* SPDX-License-Identifier: MIT */
#include <pthread.h>

#include "util/common.h"

#include "drivers/docker/docker.h"
#include "model/json-util.h"
#include "reconcilers/mysql_ha/mysql.h"
#include "store/requests.h"
#include "store/secrets.h"
#include "store/store.h"

/* What a pass sees of one mysql_ha: Docker's objects, and each running member's own account of
 * itself through one query run with the mariadb client inside its container (so it works
 * wherever the engine is, with no database port open to berthd). A member that does not answer
 * within a few seconds counts as a failed probe. */

#define QUERY_OUTPUT_MAX  (64 * 1024)
#define PROBE_TIMEOUT     "5"
#define CONNECT_TIMEOUT_S "--connect-timeout=3"

/* Why it stopped and when (a list reply knows neither precisely). */
static int inspect_into(DockerClient *docker, ObservedContainer *c, Error *reterr) {
        ObservedContainer fresh = {};
        int r;

        r = docker_container_inspect(docker, c->id, &fresh, reterr);
        if (r == -ENOENT) {
                err_clear(reterr);
                return 0;
        }
        if (r < 0)
                return r;
        c->exit_code = fresh.exit_code;
        c->finished_at = fresh.finished_at;
        c->started_at = fresh.started_at;
        c->restart_count = fresh.restart_count;
        c->oom_killed = fresh.oom_killed;
        c->has_resources = fresh.has_resources;
        c->nano_cpus = fresh.nano_cpus;
        c->memory = fresh.memory;
        /* The list reply may be older: a member that died since is dead now. */
        if (fresh.state && (!c->state || !streq(fresh.state, c->state))) {
                b_free(c->state);
                c->state = TAKE_PTR(fresh.state);
        }
        observed_container_release(&fresh);
        return 0;
}

static int observe_member(DockerClient *docker, const char *query, ObservedContainer *c,
                          MysqlNodeObserved *n, Error *reterr) {
        _cleanup_(buf_release) Buf out = BUF_INIT(QUERY_OUTPUT_MAX), err = BUF_INIT(16 * 1024);
        char *const argv[] = {(char *) "timeout",
                              (char *) PROBE_TIMEOUT,
                              (char *) "mariadb",
                              (char *) CONNECT_TIMEOUT_S,
                              (char *) "-B",
                              (char *) "-r",
                              (char *) "-e",
                              (char *) query,
                              NULL};
        int r, code = -1;

        if (!c->state || !streq(c->state, "running")) {
                if (c->state && (streq(c->state, "exited") || streq(c->state, "dead"))) {
                        r = inspect_into(docker, c, reterr);
                        if (r < 0)
                                return r;
                }
                n->error = b_strdup(c->state ? c->state : "unknown state");
                return n->error ? 0 : -ENOMEM;
        }
        r = inspect_into(docker, c, reterr);
        if (r < 0)
                return r;
        r = docker_exec(docker, c->id, argv, &out, &err, &code, reterr);
        if (r == -ESRCH || r == -ENOENT || (r >= 0 && code != 0)) {
                /* Did it die meanwhile (the event that woke this pass may be its kill)? Its state
                 * now says, and a dead primary is certain evidence. */
                Error ie = ERROR_INIT;

                DISCARD(inspect_into(docker, c, &ie));
        }
        if (r == -ESRCH || r == -ENOENT) { /* stopped, paused or gone meanwhile */
                err_clear(reterr);
                n->error = b_strdup("not running");
                return n->error ? 0 : -ENOMEM;
        }
        if (r < 0)
                return r;
        if (code != 0) {
                n->error = buf_last_line(&err);
                if (!n->error)
                        n->error = b_strdup(code == 124 ? "the status query timed out"
                                                        : "the status query failed");
                return n->error ? 0 : -ENOMEM;
        }
        r = mysql_node_from_output(buf_str(&out), n);
        if (r == -EBADMSG) {
                mysql_node_observed_release(n);
                n->error = b_strdup("the status query answered something unexpected");
                return n->error ? 0 : -ENOMEM;
        }
        return r;
}

static int observe_proxy(DockerClient *docker, const ObservedContainer *c, MysqlObserved *o,
                         Error *reterr) {
        _cleanup_(buf_release) Buf out = BUF_INIT(4096);
        char *const argv[] = {(char *) "sha256sum", (char *) MYSQL_PROXY_CONF, NULL};
        int r, code = -1;

        if (!c->state || !streq(c->state, "running"))
                return 0;
        r = docker_exec(docker, c->id, argv, &out, NULL, &code, reterr);
        if (r == -ESRCH || r == -ENOENT) {
                err_clear(reterr);
                return 0;
        }
        if (r < 0)
                return r;
        if (code != 0 || out.len < 64)
                return 0;
        memcpy(o->proxy_conf_sha256, out.buf, 64);
        o->proxy_conf_sha256[64] = 0;
        o->proxy_answered = true;
        return 0;
}

/* Each member (and the proxy) is asked on a client of its own, all at once: a pass sees the
 * cluster at one moment, and a failover starts sooner after a primary dies. */
typedef struct ObserveJob {
        const DockerEngine *engine;
        const char *query;
        ObservedContainer *c;
        MysqlNodeObserved *n;
        MysqlObserved *o; /* the proxy's job writes its digest here */
        bool proxy;
        Error err;
        int r;
} ObserveJob;

static int observe_one(DockerClient *d, ObserveJob *j) {
        if (j->proxy)
                return observe_proxy(d, j->c, j->o, &j->err);
        return observe_member(d, j->query, j->c, j->n, &j->err);
}

static void *observe_job_run(void *userdata) {
        ObserveJob *j = userdata;
        _cleanup_(docker_client_freep) DockerClient *d = NULL;

        j->r = docker_client_new(j->engine, &d, &j->err);
        if (j->r >= 0)
                j->r = observe_one(d, j);
        return NULL;
}

static int observe_containers(DockerClient *docker, const DockerEngine *engine, const char *query,
                              MysqlObserved *o, Error *reterr) {
        _cleanup_free_ ObserveJob *jobs = NULL;
        _cleanup_free_ pthread_t *threads = NULL;
        _cleanup_free_ bool *started = NULL;
        size_t n = 0;
        int r = 0;

        if (o->n_containers == 0)
                return 0;
        jobs = b_calloc(o->n_containers, sizeof(*jobs));
        threads = b_calloc(o->n_containers, sizeof(*threads));
        started = b_calloc(o->n_containers, sizeof(*started));
        if (!jobs || !threads || !started)
                return -ENOMEM;
        for (size_t i = 0; i < o->n_containers; i++) {
                ObservedContainer *c = &o->containers[i];
                bool proxy = c->role && streq(c->role, MYSQL_ROLE_PROXY);

                if (!proxy && !(c->role && streq(c->role, MYSQL_ROLE_DB)))
                        continue;
                jobs[n++] = (ObserveJob){.engine = engine,
                                         .query = query,
                                         .c = c,
                                         .n = &o->nodes[i],
                                         .o = o,
                                         .proxy = proxy,
                                         .err = ERROR_INIT};
        }
        for (size_t i = 0; engine && i < n; i++)
                started[i] = pthread_create(&threads[i], NULL, observe_job_run, &jobs[i]) == 0;
        for (size_t i = 0; i < n; i++) {
                if (started[i])
                        pthread_join(threads[i], NULL);
                else
                        jobs[i].r = observe_one(docker, &jobs[i]);
        }
        for (size_t i = 0; i < n; i++)
                if (r >= 0 && jobs[i].r < 0) {
                        r = jobs[i].r;
                        if (reterr)
                                *reterr = jobs[i].err;
                }
        return r;
}

/* switchover / failover: params {target: N} (a member index) or {target: "NAME-db-N"}. */
static int observe_request(Store *store, const ResourceRef *ref, MysqlObserved *o, Error *reterr) {
        _cleanup_(stored_request_release) StoredRequest req = {};
        const cJSON *t;
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
        snprintf(o->request_action, sizeof(o->request_action), "%s", req.action);
        snprintf(o->request_actor, sizeof(o->request_actor), "%s", req.actor);
        t = cJSON_GetObjectItemCaseSensitive(req.params, "target");
        if (cJSON_IsNumber(t))
                o->request_target = (int) t->valuedouble;
        else if (cJSON_IsString(t)) {
                const char *dash = strrchr(t->valuestring, '-');
                char *end = NULL;
                long v = strtol(dash ? dash + 1 : t->valuestring, &end, 10);

                if (!end || *end || v < 0 || v >= MYSQL_MEMBERS_MAX) {
                        o->request_error = b_strdup("params.target: not a member (an index, "
                                                    "or a name such as NAME-db-1)");
                        return o->request_error ? 0 : -ENOMEM;
                }
                o->request_target = (int) v;
        }
        return 0;
}

int mysql_observe(DockerClient *docker, const DockerEngine *engine, Store *store,
                  const ResourceRef *ref, const MysqlHaSpec *spec, const cJSON *prev_status,
                  MysqlObserved *ret, Error *reterr) {
        _cleanup_(mysql_observed_release) MysqlObserved o = {};
        _cleanup_strv_free_ char **filters = NULL;
        _cleanup_free_ char *query = NULL;
        char net[128], name[96];
        int r;

        assert_return(docker && ref && spec && ret, -EINVAL);
        mysql_observed_init(&o);
        mysql_observed_from_status(&o, prev_status);
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
        r = name_resource_network(net, sizeof(net), ref->project, ref->name);
        if (r < 0)
                return err_set(reterr, r, "metadata.name", "network name too long");
        r = docker_network_inspect(docker, net, NULL, reterr);
        if (r == -ENOENT)
                err_clear(reterr);
        else if (r < 0)
                return r;
        o.network_exists = r >= 0;

        r = store_secret_version_or(store, ref->project, spec->password_secret,
                                    MYSQL_SECRET_MISSING, &o.password_version, reterr);
        if (r >= 0)
                r = mysql_replication_secret_name(name, sizeof(name), ref->name);
        if (r >= 0)
                r = store_secret_version_or(store, ref->project, name, MYSQL_SECRET_MISSING,
                                            &o.replication_version, reterr);
        if (r >= 0)
                r = mysql_monitor_secret_name(name, sizeof(name), ref->name);
        if (r >= 0)
                r = store_secret_version_or(store, ref->project, name, MYSQL_SECRET_MISSING,
                                            &o.monitor_version, reterr);
        if (r < 0)
                return r;

        if (o.n_containers > 0) {
                query = mysql_status_query(spec);
                o.nodes = b_calloc(o.n_containers, sizeof(MysqlNodeObserved));
                if (!query || !o.nodes)
                        return -ENOMEM;
        }
        r = observe_containers(docker, engine, query, &o, reterr);
        if (r < 0)
                return r;
        r = observe_request(store, ref, &o, reterr);
        if (r < 0)
                return r;
        *ret = o;
        mysql_observed_init(&o);
        return 0;
}
