/* SPDX-License-Identifier: MIT */
/* Golden tests of the mysql_ha planner: for each case directory under
 * tests/unit/golden/mysql_ha/, spec.yaml + observed.json → plan.txt. The planner is pure, so
 * these run without Docker or MariaDB. BERTH_UPDATE_GOLDEN=1 rewrites plan.txt.
 *
 * observed.json (every member optional; times are RFC 3339 strings):
 *   ref: {uuid, generation, deleting}
 *   network_exists, volumes: [names],
 *   password_version, replication_version, monitor_version (absent or null: missing),
 *   status: the stored status (primary_index, initialized, password_version, probe,
 *           failover, rejoin, last_failover), read by mysql_observed_from_status()
 *   proxy_routes: {primary: IP or null, reads: [IPs]}: the proxy runs the configuration
 *           mysql_proxy_render() makes of them (absent: the proxy did not answer)
 *   request: {id, action, target, actor, error}
 *   containers: [{name, id, role, index, state, config_hash, ip, exit_code, finished_at,
 *                 started_at, node}]
 *     config_hash "$HASH:N": the hash berth wants for member N, "$PROXY" for the proxy;
 *     node: a member's answer as mysql_node_from_json() reads it (the status query's object,
 *           SHOW SLAVE STATUS under "slave"); {"error": "..."} alone: it did not answer.
 *
 * plan.txt: plan_to_text(), then each exec's argv, the failover marks, then the status. */
#include <inttypes.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "util/common.h"

#include "model/document.h"
#include "model/json-util.h"
#include "model/mysql-ha.h"
#include "reconcilers/mysql_ha/plan.h"
#include "golden.h"

#define TEST_UUID "00000000-0000-4000-8000-000000000003"
#define TEST_NOW  "2026-11-23T10:00:00Z"

static void hash_of(const ResourceRef *ref, const MysqlHaSpec *spec, const MysqlObserved *o,
                    const char *spelling, char **ret) {
        _cleanup_(container_config_release) ContainerConfig want = {0};
        Error err = ERROR_INIT;
        unsigned index;

        if (!spelling || streq(spelling, "none"))
                return;
        if (sscanf(spelling, "$HASH:%u", &index) == 1) {
                if (mysql_member_config(ref, spec, o, index, &want, &err) < 0)
                        fail_msg("mysql_member_config(%u): %s", index, err.msg);
        } else if (streq(spelling, "$PROXY")) {
                if (mysql_proxy_config(ref, spec, "", &want, &err) < 0)
                        fail_msg("mysql_proxy_config: %s", err.msg);
        } else {
                *ret = b_strdup(spelling);
                assert_non_null(*ret);
                return;
        }
        for (char **l = want.labels; l && *l; l++)
                if (strneq(*l, LABEL_CONFIG_HASH "=", strlen(LABEL_CONFIG_HASH) + 1))
                        *ret = b_strdup(*l + strlen(LABEL_CONFIG_HASH) + 1);
        assert_non_null(*ret);
}

static void load_container(const cJSON *j, const ResourceRef *ref, const MysqlHaSpec *spec,
                           const MysqlObserved *o, ObservedContainer *c, MysqlNodeObserved *n) {
        const cJSON *node = member(j, "node");

        c->name = dup_or_null(j, "name");
        c->id = dup_or_null(j, "id");
        c->state = dup_or_null(j, "state");
        c->role = dup_or_null(j, "role");
        c->ip = dup_or_null(j, "ip");
        c->resource = b_strdup(ref->uuid);
        assert_non_null(c->resource);
        c->index = (int) int_or(j, "index", -1);
        c->exit_code = (int) int_or(j, "exit_code", 0);
        c->started_at = time_of(j, "started_at");
        c->finished_at = time_of(j, "finished_at");
        hash_of(ref, spec, o, str_of(j, "config_hash"), &c->config_hash);
        if (!node)
                return;
        if (str_of(node, "error") && !member(node, "read_only")) {
                n->error = dup_or_null(node, "error");
                return;
        }
        if (mysql_node_from_json(node, n) < 0)
                fail_msg("%s: node does not parse", strna(c->name));
}

static int64_t secret_version(const cJSON *j, const char *key) {
        return int_or(j, key, MYSQL_SECRET_MISSING);
}

static void load_observed(const cJSON *j, const ResourceRef *ref, const MysqlHaSpec *spec,
                          MysqlObserved *o) {
        const cJSON *cs = member(j, "containers"), *routes = member(j, "proxy_routes"),
                    *req = member(j, "request"), *v;
        size_t n = (size_t) cJSON_GetArraySize(cs), i = 0;

        o->network_exists = bool_of(j, "network_exists");
        strv_of(j, "volumes", &o->volumes);
        o->password_version = secret_version(j, "password_version");
        o->replication_version = secret_version(j, "replication_version");
        o->monitor_version = secret_version(j, "monitor_version");
        mysql_observed_from_status(o, member(j, "status"));
        if (routes) {
                _cleanup_strv_free_ char **reads = NULL;
                _cleanup_free_ char *conf = NULL;

                strv_of(routes, "reads", &reads);
                conf = mysql_proxy_render(ref, spec, str_of(routes, "primary"), reads);
                assert_non_null(conf);
                assert_int_equal(sha256_hex(conf, strlen(conf), o->proxy_conf_sha256), 0);
                o->proxy_answered = true;
        }
        if (req) {
                o->has_request = true;
                o->request_id = int_or(req, "id", 1);
                snprintf(o->request_action, sizeof(o->request_action), "%s",
                         strempty(str_of(req, "action")));
                snprintf(o->request_actor, sizeof(o->request_actor), "%s",
                         strempty(str_of(req, "actor")));
                o->request_target = (int) int_or(req, "target", -1);
                o->request_error = dup_or_null(req, "error");
        }
        o->containers = b_calloc(n ? n : 1, sizeof(ObservedContainer));
        o->nodes = b_calloc(n ? n : 1, sizeof(MysqlNodeObserved));
        assert_non_null(o->containers);
        assert_non_null(o->nodes);
        cJSON_ArrayForEach(v, cs) {
                load_container(v, ref, spec, o, &o->containers[i], &o->nodes[i]);
                o->n_containers = ++i;
        }
}

/* ---- writing the plan ------------------------------------------------------------------------ */

static void render(const MysqlPlan *mp, Buf *out) {
        const Plan *p = &mp->plan;
        const Status *st = &p->status;

        assert_int_equal(plan_to_text(p, out), 0);
        for (size_t i = 0; i < p->n_actions; i++) {
                const Action *a = &p->actions[i];

                if (a->type != ACTION_EXEC && a->type != ACTION_PUT_FILES && !a->argv)
                        continue;
                assert_int_equal(buf_printf(out, "[%zu]", i + 1), 0);
                if (a->type == ACTION_PUT_FILES)
                        for (size_t k = 0; k < a->n_files; k++)
                                assert_int_equal(buf_printf(out, " %s", a->files[k].path), 0);
                else
                        put_words(out, a->argv);
                assert_int_equal(buf_putc(out, '\n'), 0);
        }
        for (size_t i = 0; i < mp->n_marks; i++)
                assert_int_equal(buf_printf(out, "mark: %s before [%zu]\n", mp->marks[i].phase,
                                            mp->marks[i].first_action + 1),
                                 0);
        if (mp->failover_completes)
                assert_int_equal(buf_puts(out, "failover completes\n"), 0);
        if (mp->failover_aborts)
                assert_int_equal(buf_printf(out, "request fails: %s\n", mp->failover_error), 0);
        put_status_head(out, st);
        for (size_t i = 0; i < st->n_nodes; i++) {
                const StatusNode *n = &st->nodes[i];

                assert_int_equal(
                        buf_printf(out, "node: %s %s %s %s", n->name, n->role, n->state, n->health),
                        0);
                if (n->has_lag)
                        assert_int_equal(buf_printf(out, " lag %.0f s", n->lag_seconds), 0);
                assert_int_equal(buf_putc(out, '\n'), 0);
        }
        put_plan_tail(out, p);
        if (st->extra) {
                _cleanup_json_ cJSON *x = cJSON_Duplicate(st->extra, true);
                char *s;

                /* Members are the observation echoed back: left out to keep cases short. */
                assert_non_null(x);
                cJSON_DeleteItemFromObjectCaseSensitive(x, "members");
                s = cJSON_PrintUnformatted(x);
                assert_non_null(s);
                assert_int_equal(buf_printf(out, "extra: %s\n", s), 0);
                cJSON_free(s);
        }
}

static bool case_plan_text(const char *name, const Document *doc, const cJSON *observed, Buf *out) {
        _cleanup_(mysql_ha_spec_release) MysqlHaSpec spec = {0};
        _cleanup_(mysql_observed_release) MysqlObserved obs = {0};
        _cleanup_(mysql_plan_release) MysqlPlan mp = {0};
        ResourceRef ref;
        Error err = ERROR_INIT;
        usec_t now = 0;

        mysql_plan_init(&mp);
        mysql_observed_init(&obs);
        assert_int_equal(parse_rfc3339(TEST_NOW, &now), 0);
        golden_ref_init(&ref, KIND_MYSQL_HA, member(observed, "ref"), doc, TEST_UUID);
        if (mysql_ha_spec_from_json(doc->spec, &spec, &err) < 0) {
                print_error("%s: spec: %s: %s\n", name, err.field, err.msg);
                return false;
        }
        load_observed(observed, &ref, &spec, &obs);
        if (mysql_plan(&ref, &spec, &obs, now, &mp, &err) < 0) {
                print_error("%s: mysql_plan: %s\n", name, err.msg);
                return false;
        }
        render(&mp, out);
        return true;
}

int main(int argc, char **argv) {
        static const GoldenSuite suite = {
                .title = "mysql_ha golden plans",
                .default_dir = "tests/unit/golden/mysql_ha",
                .kind = KIND_MYSQL_HA,
                .unique_keys = true,
                .plan_text = case_plan_text,
        };

        return golden_run(argc, argv, &suite);
}
