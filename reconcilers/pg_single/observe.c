/* SPDX-License-Identifier: MIT */
#include "util/common.h"

#include "drivers/docker/docker.h"
#include "model/json-util.h"
#include "reconcilers/pg_single/pg.h"
#include "store/requests.h"
#include "store/secrets.h"
#include "store/store.h"

/* What a pass sees of one pg_single: Docker's objects, and each running server's own account of
 * itself through one query run with psql inside its container (so it works wherever the engine
 * is, with no port of the database open to berthd). */

#define QUERY_OUTPUT_MAX (256 * 1024)

static const char *jstr(const cJSON *o, const char *key) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
        return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *key) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
        return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static int jstrv(const cJSON *o, const char *key, char ***ret) {
        const cJSON *v;

        cJSON_ArrayForEach(
                v, cJSON_GetObjectItemCaseSensitive(o, key)) if (cJSON_IsString(v) &&
                                                                 strv_push(ret, v->valuestring) <
                                                                         0) return -ENOMEM;
        return 0;
}

static int copy_sha(char dst[65], const char *src) {
        snprintf(dst, 65, "%s", strempty(src));
        return 0;
}

static int node_from_json(const cJSON *j, PgNodeObserved *n) {
        const cJSON *rep, *e;
        int r;

        n->version = jstr(j, "version") ? b_strdup(jstr(j, "version")) : NULL;
        n->in_recovery = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "in_recovery"));
        n->size_bytes = (int64_t) jnum(j, "size_bytes");
        n->connections = MAX((int) jnum(j, "connections"), 0);
        n->max_connections = (int) jnum(j, "max_connections");
        n->bootstrapped = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "bootstrapped"));
        copy_sha(n->conf_sha256, jstr(j, "conf_sha256"));
        copy_sha(n->hba_sha256, jstr(j, "hba_sha256"));
        copy_sha(n->backrest_sha256, jstr(j, "backrest_sha256"));
        r = jstrv(j, "pending_restart", &n->pending_restart);
        if (r >= 0)
                r = jstrv(j, "slots", &n->slots);
        if (r < 0)
                return r;
        rep = cJSON_GetObjectItemCaseSensitive(j, "replication");
        if (cJSON_GetArraySize(rep) > 0) {
                n->replication = b_calloc(cJSON_GetArraySize(rep), sizeof(PgReplicationStat));
                if (!n->replication)
                        return -ENOMEM;
        }
        cJSON_ArrayForEach(e, rep) {
                PgReplicationStat *s = &n->replication[n->n_replication++];

                s->name = b_strdup(strempty(jstr(e, "name")));
                s->state = b_strdup(strempty(jstr(e, "state")));
                s->lag_bytes = (int64_t) jnum(e, "lag_bytes");
                s->lag_seconds = jnum(e, "lag_seconds");
                if (!s->name || !s->state)
                        return -ENOMEM;
        }
        n->answered = true;
        return 0;
}

static int observe_node(DockerClient *docker, const char *query, ObservedContainer *c,
                        PgNodeObserved *n, Error *reterr) {
        _cleanup_(buf_release) Buf out = BUF_INIT(QUERY_OUTPUT_MAX), err = BUF_INIT(16 * 1024);
        _cleanup_json_ cJSON *j = NULL;
        char *const argv[] = {(char *) "psql",
                              (char *) "-h",
                              (char *) "/tmp",
                              (char *) "-U",
                              (char *) "postgres",
                              (char *) "-d",
                              (char *) "postgres",
                              (char *) "-XAtq",
                              (char *) "-c",
                              (char *) query,
                              NULL};
        int r, code = -1;

        if (!c->state || !streq(c->state, "running")) {
                /* Why it stopped, from its own last words (initdb's error, a bad setting). */
                if (c->state && (streq(c->state, "exited") || streq(c->state, "restarting"))) {
                        ObservedContainer fresh = {};

                        r = docker_container_inspect(docker, c->id, &fresh, reterr);
                        if (r == -ENOENT) {
                                err_clear(reterr);
                                return 0;
                        }
                        if (r < 0)
                                return r;
                        c->exit_code = fresh.exit_code;
                        c->finished_at = fresh.finished_at;
                        c->restart_count = fresh.restart_count;
                        c->oom_killed = fresh.oom_killed;
                        observed_container_release(&fresh);
                        if (docker_container_logs(docker, c->id, 20, &out, NULL) >= 0)
                                n->error = buf_last_line(&out);
                }
                return 0;
        }
        {
                /* Its limits (resized in place) and when it started (for the restart action):
                 * a list reply has neither. */
                ObservedContainer fresh = {};

                r = docker_container_inspect(docker, c->id, &fresh, reterr);
                if (r == -ENOENT) {
                        err_clear(reterr);
                        return 0;
                }
                if (r < 0)
                        return r;
                c->started_at = fresh.started_at;
                c->has_resources = fresh.has_resources;
                c->nano_cpus = fresh.nano_cpus;
                c->memory = fresh.memory;
                observed_container_release(&fresh);
        }
        r = docker_exec(docker, c->id, argv, &out, &err, &code, reterr);
        if (r == -ESRCH || r == -ENOENT) { /* stopped or gone meanwhile */
                err_clear(reterr);
                return 0;
        }
        if (r < 0)
                return r;
        if (code != 0) {
                n->error = buf_last_line(&err);
                return 0;
        }
        j = cJSON_Parse(buf_str(&out));
        if (!j) {
                n->error = b_strdup("the status query answered something that is not JSON");
                return n->error ? 0 : -ENOMEM;
        }
        return node_from_json(j, n);
}

/* pgBackRest's "timestamp" members are Unix seconds. */
static usec_t backrest_time(const cJSON *o, const char *key) {
        double t = jnum(cJSON_GetObjectItemCaseSensitive(o, "timestamp"), key);
        return t > 0 ? (usec_t) t * USEC_PER_SEC : 0;
}

static int backups_from_json(const cJSON *info, PgObserved *o) {
        const cJSON *stanza = cJSON_GetArrayItem(info, 0), *list, *b, *status, *arch;
        int code;

        status = cJSON_GetObjectItemCaseSensitive(stanza, "status");
        code = (int) jnum(status, "code");
        o->backup_running = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(status, "lock"),
                                                 "backup"),
                "held"));
        o->backup_info = true;
        /* 1: missing stanza path, 2: no valid backups, 3: missing stanza data... */
        o->stanza_exists = stanza && code != 1 && code != 3;
        if (code != 0 && code != 2 && code != 1 && jstr(status, "message")) {
                o->backup_error = b_strdup(jstr(status, "message"));
                if (!o->backup_error)
                        return -ENOMEM;
        }
        arch = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(stanza, "archive"), 0);
        if (jstr(arch, "min") && !(o->archive_min = b_strdup(jstr(arch, "min"))))
                return -ENOMEM;
        if (jstr(arch, "max") && !(o->archive_max = b_strdup(jstr(arch, "max"))))
                return -ENOMEM;
        list = cJSON_GetObjectItemCaseSensitive(stanza, "backup");
        if (cJSON_GetArraySize(list) == 0)
                return 0;
        o->backups = b_calloc(cJSON_GetArraySize(list), sizeof(PgBackupObserved));
        if (!o->backups)
                return -ENOMEM;
        cJSON_ArrayForEach(b, list) {
                PgBackupObserved *x = &o->backups[o->n_backups++];
                const cJSON *infos = cJSON_GetObjectItemCaseSensitive(b, "info");
                const cJSON *a = cJSON_GetObjectItemCaseSensitive(b, "archive");

                x->label = b_strdup(strempty(jstr(b, "label")));
                x->type = b_strdup(strempty(jstr(b, "type")));
                x->wal_start = b_strdup(strempty(jstr(a, "start")));
                x->wal_stop = b_strdup(strempty(jstr(a, "stop")));
                if (!x->label || !x->type || !x->wal_start || !x->wal_stop)
                        return -ENOMEM;
                x->started = backrest_time(b, "start");
                x->finished = backrest_time(b, "stop");
                x->size_bytes = (int64_t) jnum(infos, "size");
                x->repo_size_bytes = (int64_t) jnum(
                        cJSON_GetObjectItemCaseSensitive(infos, "repository"), "size");
        }
        return 0;
}

static int observe_backups(DockerClient *docker, const ObservedContainer *primary, PgObserved *o,
                           Error *reterr) {
        _cleanup_(buf_release) Buf out = BUF_INIT(4 * 1024 * 1024), err = BUF_INIT(16 * 1024);
        _cleanup_json_ cJSON *j = NULL;
        char *const argv[] = {(char *) "setpriv", (char *) "--reuid=postgres",
                              (char *) "--regid=postgres", (char *) "--init-groups",
                              (char *) "pgbackrest", (char *) "--config=" PG_BACKREST_CONF_PATH,
                              (char *) "--stanza=" PG_STANZA, (char *) "--output=json",
                              /* An unreachable S3 endpoint must not hold a worker for minutes. */
                              (char *) "--io-timeout=10", (char *) "info", NULL};
        int r, code = -1;

        r = docker_exec(docker, primary->id, argv, &out, &err, &code, reterr);
        if (r == -ESRCH || r == -ENOENT) {
                err_clear(reterr);
                return 0;
        }
        if (r < 0)
                return r;
        if (code != 0) {
                o->backup_error = buf_last_line(&err);
                return 0;
        }
        j = cJSON_Parse(buf_str(&out));
        if (!cJSON_IsArray(j))
                return 0;
        return backups_from_json(j, o);
}

static int observe_request(Store *store, const ResourceRef *ref, PgObserved *o, Error *reterr) {
        _cleanup_(stored_request_release) StoredRequest req = {};
        Error perr = ERROR_INIT;
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
        o->request_created = req.created_at;
        o->request_running = req.operation > 0;
        r = pg_action_from_json(req.action, req.params, &o->request, &perr);
        if (r < 0) {
                o->request_error = b_strdup(perr.msg[0] ? perr.msg : "bad parameters");
                return o->request_error ? 0 : -ENOMEM;
        }
        return 0;
}

/* restore_from: done already (the status says so), and the source's repository is there. */
static int observe_source(DockerClient *docker, const ResourceRef *ref, const PgSingleSpec *spec,
                          const cJSON *prev_status, PgObserved *o, Error *reterr) {
        _cleanup_strv_free_ char **filters = NULL, **names = NULL;
        ObservedContainer *cs = NULL;
        size_t n = 0;
        char vol[128];
        int r;

        o->source_restored = jstr(prev_status, "restored_from") != NULL;
        if (o->source_restored)
                return 0;
        o->source_failed_generation = (int64_t) jnum(
                cJSON_GetObjectItemCaseSensitive(prev_status, "restore_failed"), "generation");
        if (o->source_failed_generation > 0) {
                const char *e = jstr(
                        cJSON_GetObjectItemCaseSensitive(prev_status, "restore_failed"), "error");
                o->source_error = e ? b_strdup(e) : NULL;
        }
        r = name_volume(vol, sizeof(vol), ref->project, spec->restore_from, "backup", 0);
        if (r < 0)
                return err_set(reterr, r, "spec.restore_from", "name too long");
        r = strv_pushf(&filters, "%s=%s", LABEL_PROJECT, ref->project);
        if (r >= 0)
                r = strv_pushf(&filters, "%s=%s", LABEL_NAME, spec->restore_from);
        if (r < 0)
                return r;
        r = docker_volume_list(docker, filters, &names, reterr);
        if (r < 0)
                return r;
        o->source_repo_exists = strv_contains(names, vol);
        /* Its running primary, which is asked to archive its current WAL first. */
        r = strv_pushf(&filters, "%s=%s", LABEL_ROLE, PG_ROLE_PRIMARY);
        if (r < 0)
                return r;
        r = docker_container_list(docker, filters, false, &cs, &n, reterr);
        for (size_t i = 0; r >= 0 && i < n; i++)
                if (cs[i].state && streq(cs[i].state, "running") && !o->source_primary &&
                    !(o->source_primary = b_strdup(cs[i].name)))
                        r = -ENOMEM;
        observed_containers_free(cs, n);
        return r;
}

static usec_t prev_time(const cJSON *status, const char *obj, const char *key) {
        const char *s = jstr(cJSON_GetObjectItemCaseSensitive(status, obj), key);
        usec_t t = 0;

        return s && parse_rfc3339(s, &t) >= 0 ? t : 0;
}

int pg_observe(DockerClient *docker, Store *store, const ResourceRef *ref, const PgSingleSpec *spec,
               const cJSON *prev_status, PgObserved *ret, Error *reterr) {
        _cleanup_(pg_observed_release) PgObserved o = {};
        _cleanup_strv_free_ char **filters = NULL;
        _cleanup_free_ char *query = NULL;
        const ObservedContainer *primary = NULL;
        char net[128], repl[96];
        int r;

        assert_return(docker && ref && spec && ret, -EINVAL);
        o.applied_password_version = (int64_t) jnum(prev_status, "password_version");
        o.last_scheduled_backup = prev_time(prev_status, "backup", "schedule_ran_at");
        o.last_vacuum = prev_time(prev_status, "vacuum", "schedule_ran_at");
        o.backup_after_restore =
                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(prev_status, "backup_after_restore"));
        if (jstr(cJSON_GetObjectItemCaseSensitive(prev_status, "backup"), "last_error") &&
            !(o.last_backup_error = b_strdup(
                      jstr(cJSON_GetObjectItemCaseSensitive(prev_status, "backup"), "last_error"))))
                return -ENOMEM;
        if (ref->deleting && jstr(prev_status, "deleted_at"))
                DISCARD(parse_rfc3339(jstr(prev_status, "deleted_at"), &o.deleted_at));

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
        r = docker_network_ipam(docker, net, NULL, &o.gateway, reterr);
        if (r == -ENOENT)
                err_clear(reterr);
        else if (r < 0)
                return r;
        o.network_exists = r >= 0;

        r = store_secret_version_or(store, ref->project, spec->password_secret, PG_SECRET_MISSING,
                                    &o.password_version, reterr);
        if (r >= 0)
                r = pg_replication_secret_name(repl, sizeof(repl), ref->name);
        if (r >= 0)
                r = store_secret_version_or(store, ref->project, repl, PG_SECRET_MISSING,
                                            &o.replication_version, reterr);
        if (r >= 0 && spec->backup.s3_bucket)
                r = store_secret_version_or(store, ref->project, spec->backup.s3_access_key_secret,
                                            PG_SECRET_MISSING, &o.s3_access_key_version, reterr);
        if (r >= 0 && spec->backup.s3_bucket)
                r = store_secret_version_or(store, ref->project, spec->backup.s3_secret_key_secret,
                                            PG_SECRET_MISSING, &o.s3_secret_key_version, reterr);
        if (r < 0)
                return r;

        if (o.n_containers > 0) {
                query = pg_status_query(spec);
                o.nodes = b_calloc(o.n_containers, sizeof(PgNodeObserved));
                if (!query || !o.nodes)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < o.n_containers; i++) {
                ObservedContainer *c = &o.containers[i];

                r = observe_node(docker, query, c, &o.nodes[i], reterr);
                if (r < 0)
                        return r;
                if (c->role && streq(c->role, PG_ROLE_PRIMARY) && o.nodes[i].answered &&
                    !o.nodes[i].in_recovery)
                        primary = c;
        }
        if (spec->backup.enabled && primary) {
                r = observe_backups(docker, primary, &o, reterr);
                if (r < 0)
                        return r;
        }
        if (spec->restore_from) {
                r = observe_source(docker, ref, spec, prev_status, &o, reterr);
                if (r < 0)
                        return r;
        }
        r = observe_request(store, ref, &o, reterr);
        if (r < 0)
                return r;
        *ret = o;
        o = (PgObserved){};
        return 0;
}
