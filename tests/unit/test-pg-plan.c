/* SPDX-License-Identifier: MIT */
/* Golden tests of the pg_single planner: for each case directory under
 * tests/unit/golden/pg_single/, spec.yaml + observed.json → plan.txt. The planner is pure, so
 * these run without Docker or PostgreSQL. BERTH_UPDATE_GOLDEN=1 rewrites plan.txt.
 *
 * observed.json (every member optional; times are RFC 3339 strings):
 *   ref: {uuid, generation, deleting, purge, restart_after}
 *   network_exists, gateway, volumes: [names],
 *   password_version, replication_version (absent or null: the secret is missing),
 *   applied_password_version, last_scheduled_backup, last_vacuum, deleted_at, last_backup_error,
 *   backup_info, stanza_exists, backup_error,
 *   backups: [{label, type, started, finished, size_bytes, repo_size_bytes}],
 *   source: {restored, repo_exists, failed_generation, error, primary}   (restore_from)
 *   request: {id, action, params, running, error}        (params parsed by pg_action_from_json)
 *   containers: [{name, id, role, index, state, config_hash, ip, exit_code, finished_at,
 *                 started_at, restart_count, node}]
 *     config_hash "$HASH:N": the hash berth wants for node N (pg_container_config), so cases
 *     do not go stale when the rendering changes; "none" or absent: no label.
 *     node: {answered, error, version, in_recovery, bootstrapped, size_bytes, connections,
 *            max_connections, files, conf_sha256, hba_sha256, backrest_sha256,
 *            pending_restart: [names], slots: [names],
 *            replication: [{name, state, lag_bytes, lag_seconds}]}
 *     a sha "$LIVE:N": that of what pg_live_files() renders for node N; "files" sets all three.
 *
 * plan.txt: plan_to_text(), then per action what the one-line form leaves out (an exec's argv,
 * a one-shot container's entrypoint, the paths of files put), then the status. */
#include <inttypes.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "util/common.h"

#include "model/document.h"
#include "model/json-util.h"
#include "model/pg-single.h"
#include "reconcilers/pg_single/plan.h"
#include "golden.h"

#define TEST_UUID "00000000-0000-4000-8000-000000000002"
#define TEST_NOW  "2026-11-23T10:00:00Z" /* a Monday */

/* ---- reading the case ------------------------------------------------------------------------ */

/* "$LIVE:N" → the sha256 of live file `k` (0 conf, 1 hba, 2 pgbackrest) rendered for node N. */
static void sha_of(const char *spelling, unsigned k, const ResourceRef *ref,
                   const PgSingleSpec *spec, const PgObserved *o, char ret[65]) {
        ContainerFile *files = NULL;
        size_t n = 0;
        unsigned index;

        if (!spelling) {
                ret[0] = 0;
                return;
        }
        if (sscanf(spelling, "$LIVE:%u", &index) != 1) {
                snprintf(ret, 65, "%s", spelling);
                return;
        }
        assert_int_equal(pg_live_files(ref, spec, index, o->gateway, &files, &n), 0);
        assert_true(k < n);
        assert_int_equal(sha256_hex(files[k].content, files[k].size, ret), 0);
        for (size_t i = 0; i < n; i++) {
                b_free(files[i].path);
                b_free(files[i].content);
        }
        b_free(files);
}

static void load_node(const cJSON *j, const ResourceRef *ref, const PgSingleSpec *spec,
                      const PgObserved *o, PgNodeObserved *n) {
        static const char *const sha_keys[] = {"conf_sha256", "hba_sha256", "backrest_sha256"};
        char *const shas[] = {n->conf_sha256, n->hba_sha256, n->backrest_sha256};
        const cJSON *rep = member(j, "replication"), *e;

        n->answered = bool_of(j, "answered");
        n->error = dup_or_null(j, "error");
        n->version = dup_or_null(j, "version");
        n->in_recovery = bool_of(j, "in_recovery");
        n->bootstrapped = bool_of(j, "bootstrapped");
        n->size_bytes = int_or(j, "size_bytes", 0);
        n->connections = (int) int_or(j, "connections", 0);
        n->max_connections = (int) int_or(j, "max_connections", 0);
        for (unsigned k = 0; k < ELEMENTSOF(sha_keys); k++) {
                const char *s = str_of(j, sha_keys[k]);
                sha_of(s ? s : str_of(j, "files"), k, ref, spec, o, shas[k]);
        }
        strv_of(j, "pending_restart", &n->pending_restart);
        strv_of(j, "slots", &n->slots);
        if (cJSON_GetArraySize(rep) > 0) {
                n->replication =
                        b_calloc((size_t) cJSON_GetArraySize(rep), sizeof(PgReplicationStat));
                assert_non_null(n->replication);
        }
        cJSON_ArrayForEach(e, rep) {
                PgReplicationStat *s = &n->replication[n->n_replication++];
                const cJSON *secs = member(e, "lag_seconds");

                s->name = dup_or_null(e, "name");
                s->state = dup_or_null(e, "state");
                s->lag_bytes = int_or(e, "lag_bytes", 0);
                s->lag_seconds = cJSON_IsNumber(secs) ? secs->valuedouble : 0;
        }
}

static void load_container(const cJSON *j, const ResourceRef *ref, const PgSingleSpec *spec,
                           const PgObserved *o, ObservedContainer *c) {
        const char *hash = str_of(j, "config_hash");
        unsigned index;

        c->name = dup_or_null(j, "name");
        c->id = dup_or_null(j, "id");
        c->state = dup_or_null(j, "state");
        c->role = dup_or_null(j, "role");
        c->ip = dup_or_null(j, "ip");
        c->image = b_strdup(spec->image);
        c->resource = b_strdup(ref->uuid);
        assert_non_null(c->image);
        assert_non_null(c->resource);
        c->index = (int) int_or(j, "index", -1);
        c->exit_code = (int) int_or(j, "exit_code", 0);
        c->restart_count = (int) int_or(j, "restart_count", 0);
        c->oom_killed = bool_of(j, "oom_killed");
        c->started_at = time_of(j, "started_at");
        c->finished_at = time_of(j, "finished_at");
        if (hash && sscanf(hash, "$HASH:%u", &index) == 1) {
                _cleanup_(container_config_release) ContainerConfig want = {0};
                Error err = ERROR_INIT;

                if (pg_container_config(ref, spec, o, index, &want, &err) < 0)
                        fail_msg("pg_container_config(%u): %s", index, err.msg);
                for (char **l = want.labels; l && *l; l++)
                        if (strneq(*l, LABEL_CONFIG_HASH "=", strlen(LABEL_CONFIG_HASH) + 1))
                                c->config_hash = b_strdup(*l + strlen(LABEL_CONFIG_HASH) + 1);
                assert_non_null(c->config_hash);
        } else if (hash && !streq(hash, "none"))
                c->config_hash = dup_or_null(j, "config_hash");
}

static void load_request(const cJSON *j, PgObserved *o) {
        Error err = ERROR_INIT;

        if (!j)
                return;
        o->has_request = true;
        o->request_id = int_or(j, "id", 1);
        o->request_running = bool_of(j, "running");
        o->request_created = time_of(j, "created");
        o->request_error = dup_or_null(j, "error");
        if (o->request_error)
                return;
        if (pg_action_from_json(str_of(j, "action"), member(j, "params"), &o->request, &err) < 0)
                fail_msg("request: %s: %s", err.field, err.msg);
}

static int64_t secret_version(const cJSON *j, const char *key) {
        return int_or(j, key, PG_SECRET_MISSING);
}

static void load_observed(const cJSON *j, const ResourceRef *ref, const PgSingleSpec *spec,
                          PgObserved *o) {
        const cJSON *cs = member(j, "containers"), *bs = member(j, "backups"),
                    *src = member(j, "source"), *v;
        size_t n = (size_t) cJSON_GetArraySize(cs), i = 0;

        /* What the containers' configs depend on comes first: "$HASH:N" is computed from it. */
        o->network_exists = bool_of(j, "network_exists");
        o->gateway = dup_or_null(j, "gateway");
        strv_of(j, "volumes", &o->volumes);
        o->password_version = secret_version(j, "password_version");
        o->replication_version = secret_version(j, "replication_version");
        o->applied_password_version = int_or(j, "applied_password_version", 0);
        o->last_scheduled_backup = time_of(j, "last_scheduled_backup");
        o->last_vacuum = time_of(j, "last_vacuum");
        o->deleted_at = time_of(j, "deleted_at");
        o->last_backup_error = dup_or_null(j, "last_backup_error");
        o->backup_info = bool_of(j, "backup_info");
        o->stanza_exists = bool_of(j, "stanza_exists");
        o->backup_running = bool_of(j, "backup_running");
        o->backup_after_restore = bool_of(j, "backup_after_restore");
        o->backup_error = dup_or_null(j, "backup_error");
        if (cJSON_GetArraySize(bs) > 0) {
                o->backups = b_calloc((size_t) cJSON_GetArraySize(bs), sizeof(PgBackupObserved));
                assert_non_null(o->backups);
        }
        cJSON_ArrayForEach(v, bs) {
                PgBackupObserved *b = &o->backups[o->n_backups++];

                b->label = dup_or_null(v, "label");
                b->type = dup_or_null(v, "type");
                b->started = time_of(v, "started");
                b->finished = time_of(v, "finished");
                b->size_bytes = int_or(v, "size_bytes", 0);
                b->repo_size_bytes = int_or(v, "repo_size_bytes", 0);
        }
        o->source_restored = bool_of(src, "restored");
        o->source_repo_exists = bool_of(src, "repo_exists");
        o->source_failed_generation = int_or(src, "failed_generation", 0);
        o->source_error = dup_or_null(src, "error");
        o->source_primary = dup_or_null(src, "primary");
        load_request(member(j, "request"), o);

        o->containers = b_calloc(n ? n : 1, sizeof(ObservedContainer));
        o->nodes = b_calloc(n ? n : 1, sizeof(PgNodeObserved));
        assert_non_null(o->containers);
        assert_non_null(o->nodes);
        cJSON_ArrayForEach(v, cs) {
                load_container(v, ref, spec, o, &o->containers[i]);
                load_node(member(v, "node"), ref, spec, o, &o->nodes[i]);
                o->n_containers = ++i;
        }
}

static void load_ref(const cJSON *j, const Document *doc, ResourceRef *ref) {
        golden_ref_init(ref, KIND_PG_SINGLE, j, doc, TEST_UUID);
        ref->purge = bool_of(j, "purge");
        ref->restart_after = time_of(j, "restart_after");
}

/* ---- writing the plan ------------------------------------------------------------------------ */

/* What plan_to_text() leaves out, by action number (1-based, as the lines above). */
static void render_details(const Plan *p, Buf *out) {
        for (size_t i = 0; i < p->n_actions; i++) {
                const Action *a = &p->actions[i];

                if (a->type == ACTION_EXEC) {
                        assert_int_equal(buf_printf(out, "[%zu] argv:", i + 1), 0);
                        put_words(out, a->argv);
                } else if (a->type == ACTION_RUN_TO_COMPLETION && a->container) {
                        assert_int_equal(buf_printf(out, "[%zu] entrypoint:", i + 1), 0);
                        put_words(out, a->container->entrypoint);
                        for (size_t k = 0; k < a->container->n_mounts; k++) {
                                const MountSpec *m = &a->container->mounts[k];
                                assert_int_equal(buf_printf(out, "\n[%zu] mount: %s %s%s", i + 1,
                                                            strna(m->source), strna(m->target),
                                                            m->read_only ? " ro" : ""),
                                                 0);
                        }
                } else if (a->type == ACTION_PUT_FILES) {
                        assert_int_equal(buf_printf(out, "[%zu] files:", i + 1), 0);
                        for (size_t k = 0; k < a->n_files; k++)
                                assert_int_equal(buf_printf(out, " %s", a->files[k].path), 0);
                } else
                        continue;
                assert_int_equal(buf_putc(out, '\n'), 0);
        }
}

static void render(const Plan *p, Buf *out) {
        const Status *st = &p->status;

        assert_int_equal(plan_to_text(p, out), 0);
        render_details(p, out);
        put_status_head(out, st);
        for (size_t i = 0; i < st->n_nodes; i++) {
                const StatusNode *n = &st->nodes[i];

                assert_int_equal(
                        buf_printf(out, "node: %s %s %s %s", n->name, n->role, n->state, n->health),
                        0);
                if (n->has_lag)
                        assert_int_equal(buf_printf(out, " lag %" PRIi64 " bytes %.1f s",
                                                    n->lag_bytes, n->lag_seconds),
                                         0);
                assert_int_equal(buf_putc(out, '\n'), 0);
        }
        put_plan_tail(out, p);
        if (st->extra) {
                char *s = cJSON_PrintUnformatted(st->extra);

                assert_non_null(s);
                assert_int_equal(buf_printf(out, "extra: %s\n", s), 0);
                cJSON_free(s);
        }
}

static bool case_plan_text(const char *name, const Document *doc, const cJSON *observed, Buf *out) {
        _cleanup_(pg_single_spec_release) PgSingleSpec spec = {0};
        _cleanup_(pg_observed_release) PgObserved obs = {0};
        _cleanup_(plan_release) Plan plan;
        ResourceRef ref;
        Error err = ERROR_INIT;
        usec_t now = 0;

        plan_init(&plan);
        assert_int_equal(parse_rfc3339(TEST_NOW, &now), 0);
        load_ref(member(observed, "ref"), doc, &ref);
        if (pg_single_spec_from_json(doc->spec, &spec, &err) < 0) {
                print_error("%s: spec: %s: %s\n", name, err.field, err.msg);
                return false;
        }
        load_observed(observed, &ref, &spec, &obs);
        if (pg_plan(&ref, &spec, &obs, now, &plan, &err) < 0) {
                print_error("%s: pg_plan: %s\n", name, err.msg);
                return false;
        }
        render(&plan, out);
        return true;
}

int main(int argc, char **argv) {
        static const GoldenSuite suite = {
                .title = "pg_single golden plans",
                .default_dir = "tests/unit/golden/pg_single",
                .kind = KIND_PG_SINGLE,
                .unique_keys = true,
                .plan_text = case_plan_text,
        };

        return golden_run(argc, argv, &suite);
}
