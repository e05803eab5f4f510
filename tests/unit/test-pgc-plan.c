/* SPDX-License-Identifier: MIT */
/* Golden tests of the pg_cluster planner: for each case directory under
 * tests/unit/golden/pg_cluster/, spec.yaml + observed.json → plan.txt. The planner is pure, so
 * these run without Docker. BERTH_UPDATE_GOLDEN=1 rewrites plan.txt. Also the parsers of what
 * observe() reads (Patroni's /cluster and /history, HAProxy's CSV, the stored status).
 *
 * observed.json (every member optional; times are RFC 3339 strings):
 *   ref: {uuid, generation, deleting, restart_after}
 *   network_exists, volumes: [names], foreign_volumes: [names], inside_at,
 *   password_version, superuser_version, replication_version, rewind_version (absent: missing)
 *   containers: [{name, id, role (pg|dcs|proxy), index, state, config_hash, exit_code,
 *                 started_at, finished_at, node}]
 *     config_hash "$HASH": what berth wants for that container now; absent: none.
 *     node: {answered, conf, state, role, bootstrapped, timeline}; conf "$LIVE": the sha256 of
 *     the patroni.yml berth renders for that member.
 *   cluster, history: Patroni's GET /cluster and GET /history, as they answer.
 *   config: Patroni's GET /config; "$WANT": what berth wants (pgc_dcs_config()).
 *   dcs: {healthy, exec, key: {holder, revision} | null (no key)}; absent: the DCS unknown.
 *   proxy: {answered, cfg ("$LIVE": berth's haproxy.cfg), csv: "HAProxy's CSV"}
 *   status: the stored status (the bookkeeping of earlier passes).
 *   request: {id, action, candidate, actor, error}
 *
 * plan.txt: plan_to_text(), what the one-line form leaves out (an exec's argv, the paths of
 * files put), the status, the records of leader changes, then the status's extra members. */
#include <inttypes.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "util/common.h"

#include "model/document.h"
#include "model/json-util.h"
#include "model/pg-cluster.h"
#include "reconcilers/pg_cluster/plan.h"
#include "golden.h"

#define TEST_UUID "00000000-0000-4000-8000-000000000003"
#define TEST_NOW  "2026-11-23T10:00:00Z"

static void wanted_hash(const ResourceRef *ref, const PgClusterSpec *spec, const PgcObserved *o,
                        const char *role, int index, char ret[65]) {
        _cleanup_(container_config_release) ContainerConfig want = {0};
        Error err = ERROR_INIT;
        int r;

        if (streq(role, PGC_ROLE_DCS))
                r = pgc_dcs_config_container(ref, spec, (unsigned) index, &want, &err);
        else if (streq(role, PGC_ROLE_MEMBER))
                r = pgc_member_container(ref, spec, o, (unsigned) index, &want, &err);
        else
                r = pgc_proxy_container(ref, spec, &want, &err);
        if (r < 0)
                fail_msg("config of %s %d: %s", role, index, err.msg);
        assert_int_equal(container_config_hash(&want, ret), 0);
}

static void load_container(const cJSON *j, const ResourceRef *ref, const PgClusterSpec *spec,
                           const PgcObserved *o, ObservedContainer *c, PgcNodeObserved *n) {
        const char *hash = str_of(j, "config_hash");
        const cJSON *node = member(j, "node");
        const char *conf = str_of(node, "conf");

        c->name = dup_or_null(j, "name");
        c->id = dup_or_null(j, "id");
        c->state = dup_or_null(j, "state");
        c->role = dup_or_null(j, "role");
        c->resource = b_strdup(ref->uuid);
        assert_non_null(c->resource);
        c->index = (int) int_or(j, "index", -1);
        c->exit_code = (int) int_or(j, "exit_code", 0);
        c->started_at = time_of(j, "started_at");
        c->finished_at = time_of(j, "finished_at");
        if (hash && streq(hash, "$HASH")) {
                char h[65];

                wanted_hash(ref, spec, o, c->role, c->index, h);
                c->config_hash = b_strdup(h);
                assert_non_null(c->config_hash);
        } else
                c->config_hash = dup_or_null(j, "config_hash");

        n->answered = bool_of(node, "answered");
        n->state = dup_or_null(node, "state");
        n->role = dup_or_null(node, "role");
        n->bootstrapped = bool_of(node, "bootstrapped");
        n->timeline = int_or(node, "timeline", 0);
        if (conf && streq(conf, "$LIVE")) {
                _cleanup_free_ char *yaml = NULL;

                assert_int_equal(pgc_patroni_yaml(ref, spec, (unsigned) c->index, &yaml), 0);
                assert_int_equal(sha256_hex(yaml, strlen(yaml), n->conf_sha256), 0);
        } else if (conf)
                snprintf(n->conf_sha256, sizeof(n->conf_sha256), "%s", conf);
}

static int64_t version_of(const cJSON *j, const char *key) {
        return int_or(j, key, PGC_SECRET_MISSING);
}

static void load_observed(const cJSON *j, const ResourceRef *ref, const PgClusterSpec *spec,
                          PgcObserved *o) {
        const cJSON *cs = member(j, "containers"), *dcs = member(j, "dcs"),
                    *proxy = member(j, "proxy"), *req = member(j, "request"), *v;
        size_t n = (size_t) cJSON_GetArraySize(cs), i = 0;

        o->network_exists = bool_of(j, "network_exists");
        cJSON_ArrayForEach(v, member(j, "volumes")) {
                assert_int_equal(strv_push(&o->volumes, v->valuestring), 0);
        }
        cJSON_ArrayForEach(v, member(j, "foreign_volumes")) {
                assert_int_equal(strv_push(&o->foreign_volumes, v->valuestring), 0);
        }
        o->password_version = version_of(j, "password_version");
        o->superuser_version = version_of(j, "superuser_version");
        o->replication_version = version_of(j, "replication_version");
        o->rewind_version = version_of(j, "rewind_version");
        o->inside_at = time_of(j, "inside_at");
        assert_int_equal(pgc_observed_from_status(member(j, "status"), o), 0);

        o->containers = b_calloc(n ? n : 1, sizeof(ObservedContainer));
        o->nodes = b_calloc(n ? n : 1, sizeof(PgcNodeObserved));
        assert_non_null(o->containers);
        assert_non_null(o->nodes);
        cJSON_ArrayForEach(v, cs) {
                load_container(v, ref, spec, o, &o->containers[i], &o->nodes[i]);
                if (o->containers[i].role && streq(o->containers[i].role, PGC_ROLE_DCS) &&
                    o->nodes[i].answered)
                        o->dcs_healthy++;
                o->n_containers = ++i;
        }
        assert_int_equal(pgc_observed_cluster(member(j, "cluster"), member(j, "history"), o), 0);
        if (o->have_cluster)
                o->cluster_from = b_strdup("test");
        v = member(j, "config");
        if (cJSON_IsString(v) && streq(v->valuestring, "$WANT"))
                o->dcs_config = pgc_dcs_config(spec);
        else if (cJSON_IsObject(v))
                o->dcs_config = cJSON_Duplicate(v, true);
        if (dcs) {
                const cJSON *key = member(dcs, "key");

                o->dcs_healthy = (int) int_or(dcs, "healthy", o->dcs_healthy);
                o->dcs_exec = dup_or_null(dcs, "exec");
                o->have_leader_key = member(dcs, "key") != NULL;
                o->leader_key_holder = dup_or_null(key, "holder");
                o->leader_key_revision = int_or(key, "revision", 0);
        }
        if (proxy) {
                const char *cfg = str_of(proxy, "cfg");

                o->proxy_answered = bool_of(proxy, "answered");
                if (cfg && streq(cfg, "$LIVE")) {
                        _cleanup_free_ char *text = NULL;

                        assert_int_equal(pgc_haproxy_cfg(ref, spec, &text), 0);
                        assert_int_equal(sha256_hex(text, strlen(text), o->proxy_cfg_sha256), 0);
                } else if (cfg)
                        snprintf(o->proxy_cfg_sha256, sizeof(o->proxy_cfg_sha256), "%s", cfg);
                if (str_of(proxy, "csv"))
                        assert_int_equal(pgc_observed_proxy_csv(str_of(proxy, "csv"), o), 0);
        }
        if (req) {
                o->has_request = true;
                o->request_id = int_or(req, "id", 1);
                snprintf(o->request_action, sizeof(o->request_action), "%s",
                         strempty(str_of(req, "action")));
                snprintf(o->request_candidate, sizeof(o->request_candidate), "%s",
                         strempty(str_of(req, "candidate")));
                snprintf(o->request_actor, sizeof(o->request_actor), "%s",
                         strempty(str_of(req, "actor")));
                o->request_error = dup_or_null(req, "error");
        }
}

static void load_ref(const cJSON *j, const Document *doc, ResourceRef *ref) {
        golden_ref_init(ref, KIND_PG_CLUSTER, j, doc, TEST_UUID);
        ref->restart_after = time_of(j, "restart_after");
}

static void render(const Plan *p, const PgcNotes *notes, const char *problem, Buf *out) {
        const Status *st = &p->status;

        if (problem)
                assert_int_equal(buf_printf(out, "request refused: %s\n", problem), 0);
        assert_int_equal(plan_to_text(p, out), 0);
        for (size_t i = 0; i < p->n_actions; i++) {
                const Action *a = &p->actions[i];

                if (a->type == ACTION_EXEC) {
                        assert_int_equal(buf_printf(out, "[%zu] argv:", i + 1), 0);
                        put_words(out, a->argv);
                        assert_int_equal(buf_putc(out, '\n'), 0);
                } else if (a->type == ACTION_PUT_FILES) {
                        assert_int_equal(buf_printf(out, "[%zu] files:", i + 1), 0);
                        for (size_t k = 0; k < a->n_files; k++)
                                assert_int_equal(buf_printf(out, " %s", a->files[k].path), 0);
                        assert_int_equal(buf_putc(out, '\n'), 0);
                }
        }
        put_status_head(out, st);
        for (size_t i = 0; i < st->n_nodes; i++) {
                const StatusNode *n = &st->nodes[i];

                assert_int_equal(
                        buf_printf(out, "node: %s %s %s %s", n->name, n->role, n->state, n->health),
                        0);
                if (n->has_lag)
                        assert_int_equal(buf_printf(out, " lag %" PRIi64 " bytes", n->lag_bytes),
                                         0);
                assert_int_equal(buf_putc(out, '\n'), 0);
        }
        put_plan_tail(out, p);
        for (size_t i = 0; i < notes->n_records; i++) {
                const PgcRecord *r = &notes->records[i];

                assert_int_equal(buf_printf(out, "record: %s by %s%s%s%s (operation %" PRIi64 ")\n",
                                            r->kind, r->actor, r->start ? " start" : "",
                                            r->in_progress ? " in-progress" : "",
                                            r->finish ? " finish" : "", r->operation),
                                 0);
                if (r->summary)
                        assert_int_equal(buf_printf(out, "  summary: %s\n", r->summary), 0);
        }
        if (st->endpoints) {
                char *s = cJSON_PrintUnformatted(st->endpoints);

                assert_non_null(s);
                assert_int_equal(buf_printf(out, "endpoints: %s\n", s), 0);
                cJSON_free(s);
        }
        if (st->extra) {
                const cJSON *m;

                cJSON_ArrayForEach(m, st->extra) {
                        char *s = cJSON_PrintUnformatted(m);

                        assert_non_null(s);
                        assert_int_equal(buf_printf(out, "extra.%s: %s\n", m->string, s), 0);
                        cJSON_free(s);
                }
        }
}

static bool case_plan_text(const char *name, const Document *doc, const cJSON *observed, Buf *out) {
        _cleanup_(pg_cluster_spec_release) PgClusterSpec spec = {};
        _cleanup_(pgc_observed_release) PgcObserved obs = {};
        _cleanup_(pgc_notes_release) PgcNotes notes = {};
        _cleanup_(plan_release) Plan plan;
        ResourceRef ref;
        Error err = ERROR_INIT;
        const char *problem;
        usec_t now = 0;

        plan_init(&plan);
        assert_int_equal(parse_rfc3339(TEST_NOW, &now), 0);
        load_ref(member(observed, "ref"), doc, &ref);
        if (pg_cluster_spec_from_json(doc->spec, &spec, &err) < 0) {
                print_error("%s: spec: %s: %s\n", name, err.field, err.msg);
                return false;
        }
        load_observed(observed, &ref, &spec, &obs);
        problem = pgc_request_problem(&spec, &obs);
        if (member(observed, "fast")) {
                /* The fast path alone (reconcile.c runs it before asking the members). */
                char reason[160];

                if (pgc_plan_release(&ref, &spec, &obs, now, &plan, reason, sizeof(reason)) < 0) {
                        print_error("%s: pgc_plan_release failed\n", name);
                        return false;
                }
                assert_int_equal(buf_printf(out, "fast: %s\n", reason[0] ? reason : "-"), 0);
                assert_int_equal(plan_to_text(&plan, out), 0);
                for (size_t i = 0; i < plan.n_actions; i++)
                        if (plan.actions[i].type == ACTION_EXEC) {
                                assert_int_equal(buf_printf(out, "[%zu] argv:", i + 1), 0);
                                put_words(out, plan.actions[i].argv);
                                assert_int_equal(buf_putc(out, '\n'), 0);
                        }
                return true;
        }
        if (pgc_plan(&ref, &spec, &obs, now, &plan, &notes, &err) < 0) {
                print_error("%s: pgc_plan: %s\n", name, err.msg);
                return false;
        }
        render(&plan, &notes, problem, out);
        return true;
}

/* ---- the parsers --------------------------------------------------------------------------------
 */

static void test_cluster_parser(void **state) {
        static const char cluster[] =
                "{\"members\": [{\"name\": \"pg-0\", \"role\": \"leader\", \"state\": "
                "\"running\", \"timeline\": 4}, {\"name\": \"pg-1\", \"role\": \"sync_standby\", "
                "\"state\": \"streaming\", \"timeline\": 4, \"lag\": 16}, {\"name\": \"pg-2\", "
                "\"role\": \"replica\", \"state\": \"stopped\", \"lag\": \"unknown\", "
                "\"pending_restart\": true}], \"pause\": true}";
        static const char history[] =
                "[[1, 25165984, \"no recovery target specified\", "
                "\"2026-11-23T10:00:01.5+00:00\", \"pg-1\"], [2, 33554432, \"no recovery target "
                "specified\", \"2026-11-23T11:00:00+00:00\"], [3]]";
        _cleanup_json_ cJSON *c = cJSON_Parse(cluster), *h = cJSON_Parse(history);
        _cleanup_(pgc_observed_release) PgcObserved o = {};
        (void) state;

        assert_non_null(c);
        assert_non_null(h);
        assert_int_equal(pgc_observed_cluster(c, h, &o), 0);
        assert_true(o.have_cluster);
        assert_true(o.ha_paused);
        assert_string_equal(o.leader, "pg-0");
        assert_int_equal(o.timeline, 4);
        assert_int_equal(o.n_members, 3);
        assert_true(o.members[1].has_lag);
        assert_int_equal(o.members[1].lag_bytes, 16);
        assert_false(o.members[2].has_lag);
        assert_true(o.members[2].pending_restart);
        assert_int_equal(o.n_history, 3);
        assert_int_equal(o.history[0].timeline, 1);
        assert_string_equal(o.history[0].leader, "pg-1");
        assert_true(o.history[0].at > 0);
        assert_null(o.history[1].leader);
        assert_int_equal(o.history[2].at, 0);
}

static void test_proxy_csv(void **state) {
        static const char csv[] =
                "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,"
                "eresp,wretr,wredis,status,weight\n"
                "stats,FRONTEND,,,1,1,4096,3,0,0,0,0,0,,,,,OPEN,\n"
                "primary,FRONTEND,,,0,0,4096,0,0,0,0,0,0,,,,,OPEN,\n"
                "primary,pg-0,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1\n"
                "primary,pg-1,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1\n"
                "primary,pg-2,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT (resolution),1\n"
                "primary,BACKEND,0,0,0,0,410,0,0,0,0,0,,0,0,0,0,UP,1\n"
                "replicas,pg-0,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP 1/2,1\n"
                "replicas,pg-2,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1\n"
                "replicas,pg-1-primary,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1\n";
        _cleanup_(pgc_observed_release) PgcObserved o = {};
        (void) state;

        assert_int_equal(pgc_observed_proxy_csv(csv, &o), 0);
        assert_int_equal(strv_length(o.proxy_write_up), 1);
        assert_string_equal(o.proxy_write_up[0], "pg-1");
        assert_int_equal(strv_length(o.proxy_read_up), 3);
        assert_string_equal(o.proxy_read_up[0], "pg-0");
}

static void test_status_parser(void **state) {
        static const char st[] =
                "{\"leader\": \"pg-1\", \"timeline\": 5, \"dcs_members\": 3, \"password_version\": "
                "2, \"failover_pending\": {\"old_primary\": \"pg-0\", \"reason\": \"died\", "
                "\"detected_at\": \"2026-11-23T09:59:59Z\"}, \"expected_change\": {\"type\": "
                "\"switchover\", \"from\": \"pg-1\", \"to\": null, \"actor\": \"alice\", "
                "\"reason\": \"r\", \"at\": \"2026-11-23T09:59:58Z\"}, \"failover_in_progress\": "
                "{\"type\": \"failover\", \"operation\": 7}, \"failovers\": [{\"type\": "
                "\"failover\"}]}";
        _cleanup_json_ cJSON *j = cJSON_Parse(st);
        _cleanup_(pgc_observed_release) PgcObserved o = {};
        (void) state;

        assert_int_equal(pgc_observed_from_status(j, &o), 0);
        assert_string_equal(o.last_leader, "pg-1");
        assert_int_equal(o.last_timeline, 5);
        assert_int_equal(o.prev_dcs_members, 3);
        assert_int_equal(o.applied_password_version, 2);
        assert_true(o.have_pending);
        assert_string_equal(o.pending_old, "pg-0");
        assert_true(o.pending_at > 0);
        assert_true(o.have_expected);
        assert_string_equal(o.expected.type, "switchover");
        assert_string_equal(o.expected.to, "");
        assert_true(o.in_progress.active);
        assert_int_equal(o.in_progress.operation, 7);
        assert_int_equal(cJSON_GetArraySize(o.prev_failovers), 1);
        /* NULL status: nothing recorded yet. */
        pgc_observed_release(&o);
        assert_int_equal(pgc_observed_from_status(NULL, &o), 0);
        assert_null(o.last_leader);
}

/* patroni.yml through libyaml: values that would break a hand-written file stay strings. */
static void test_patroni_yaml(void **state) {
        static const char body[] =
                "kind: pg_cluster\nmetadata: {name: orders, project: shop}\nspec: {allow: "
                "[10.0.0.0/8], parameters: {search_path: '\"$user\", public', "
                "log_line_prefix: '%m: ', jit: 'on'}}\n";
        _cleanup_(pg_cluster_spec_release) PgClusterSpec spec = {};
        _cleanup_free_ char *yaml = NULL, *cfg = NULL;
        Document *docs = NULL;
        size_t n = 0;
        Error e = ERROR_INIT;
        ResourceRef ref = {.kind = KIND_PG_CLUSTER};
        _cleanup_json_ cJSON *back = NULL;
        const cJSON *params;
        (void) state;

        snprintf(ref.project, sizeof(ref.project), "shop");
        snprintf(ref.name, sizeof(ref.name), "orders");
        snprintf(ref.uuid, sizeof(ref.uuid), TEST_UUID);
        if (documents_parse(body, strlen(body), &docs, &n, &e) < 0)
                fail_msg("%s: %s", e.field, e.msg);
        assert_int_equal(pg_cluster_spec_from_json(docs[0].spec, &spec, &e), 0);
        documents_free(docs, n);
        assert_int_equal(pgc_patroni_yaml(&ref, &spec, 1, &yaml), 0);
        /* Read back with berth's own YAML reader: the same values, strings as strings. */
        assert_int_equal(yaml_to_json(yaml, strlen(yaml), &back, &e), 0);
        params = member(member(member(member(cJSON_GetArrayItem(back, 0), "bootstrap"), "dcs"),
                               "postgresql"),
                        "parameters");
        assert_string_equal(str_of(params, "search_path"), "\"$user\", public");
        assert_string_equal(str_of(params, "log_line_prefix"), "%m: ");
        assert_string_equal(str_of(params, "jit"), "on");
        assert_string_equal(str_of(params, "max_wal_senders"), "10");
        assert_string_equal(str_of(cJSON_GetArrayItem(back, 0), "name"), "pg-1");
        assert_null(strstr(yaml, "password"));
        assert_non_null(strstr(yaml, "host all all 10.0.0.0/8 scram-sha-256"));
        assert_int_equal(pgc_haproxy_cfg(&ref, &spec, &cfg), 0);
        assert_non_null(
                strstr(cfg, "server pg-2-primary orders-pg-2:5432 backup track primary/pg-2"));
        /* A name haproxy.cfg could not carry as a word is refused, not quoted. */
        snprintf(ref.name, sizeof(ref.name), "bad name");
        cfg = mfree(cfg);
        assert_int_equal(pgc_haproxy_cfg(&ref, &spec, &cfg), -EINVAL);
}

int main(int argc, char **argv) {
        static const GoldenSuite suite = {
                .title = "pg_cluster golden plans",
                .default_dir = "tests/unit/golden/pg_cluster",
                .kind = KIND_PG_CLUSTER,
                .plan_text = case_plan_text,
        };
        const struct CMUnitTest parsers[] = {
                cmocka_unit_test(test_cluster_parser),
                cmocka_unit_test(test_proxy_csv),
                cmocka_unit_test(test_status_parser),
                cmocka_unit_test(test_patroni_yaml),
        };
        int r;

        r = golden_run(argc, argv, &suite);
        r |= cmocka_run_group_tests(parsers, NULL, NULL);
        return r;
}
