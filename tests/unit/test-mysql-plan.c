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
#include <dirent.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "util/common.h"

#include "model/document.h"
#include "model/json-util.h"
#include "model/mysql-ha.h"
#include "reconcilers/mysql_ha/plan.h"

#define GOLDEN_MAX_FILE (256 * 1024)
#define TEST_UUID       "00000000-0000-4000-8000-000000000003"
#define TEST_NOW        "2026-11-23T10:00:00Z"

static const char *golden_dir;

static char *read_file(const char *dir, const char *name) {
        _cleanup_(buf_release) Buf b = BUF_INIT(GOLDEN_MAX_FILE);
        char path[512], chunk[4096];
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "re");
        if (!f)
                return NULL;
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                assert_int_equal(buf_append(&b, chunk, n), 0);
        fclose(f);
        return buf_take(&b);
}

static const cJSON *member(const cJSON *o, const char *key) {
        return cJSON_GetObjectItemCaseSensitive(o, key);
}

static const char *str_of(const cJSON *o, const char *key) {
        return cJSON_GetStringValue(member(o, key));
}

static char *dup_or_null(const cJSON *o, const char *key) {
        const char *s = str_of(o, key);
        char *d;

        if (!s)
                return NULL;
        d = b_strdup(s);
        assert_non_null(d);
        return d;
}

static int64_t int_or(const cJSON *o, const char *key, int64_t dflt) {
        const cJSON *v = member(o, key);
        return cJSON_IsNumber(v) ? (int64_t) v->valuedouble : dflt;
}

static bool bool_of(const cJSON *o, const char *key) {
        return cJSON_IsTrue(member(o, key));
}

static usec_t time_of(const cJSON *o, const char *key) {
        const char *s = str_of(o, key);
        usec_t t = 0;

        if (!s)
                return 0;
        if (parse_rfc3339(s, &t) < 0)
                fail_msg("%s: \"%s\" is not an RFC 3339 time", key, s);
        return t;
}

static void strv_of(const cJSON *o, const char *key, char ***ret) {
        const cJSON *v;

        cJSON_ArrayForEach(v, member(o, key)) {
                assert_true(cJSON_IsString(v));
                assert_int_equal(strv_push(ret, v->valuestring), 0);
        }
}

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

static void assert_no_duplicate_keys(const cJSON *j, const char *name) {
        const cJSON *c;
        const char *key = NULL;

        if (cJSON_IsObject(j)) {
                assert_int_equal(json_find_duplicate_key(j, &key), 0);
                if (key)
                        fail_msg("%s: observed.json has \"%s\" twice in one object", name, key);
        }
        cJSON_ArrayForEach(c, j) {
                assert_no_duplicate_keys(c, name);
        }
}

static void load_ref(const cJSON *j, const Document *doc, ResourceRef *ref) {
        const char *uuid = str_of(j, "uuid");

        *ref = (ResourceRef){.kind = KIND_MYSQL_HA, .generation = int_or(j, "generation", 1)};
        snprintf(ref->uuid, sizeof(ref->uuid), "%s", uuid ? uuid : TEST_UUID);
        snprintf(ref->project, sizeof(ref->project), "%s", doc->project);
        snprintf(ref->name, sizeof(ref->name), "%s", doc->name);
        ref->deleting = bool_of(j, "deleting");
}

/* ---- writing the plan ------------------------------------------------------------------------ */

static void put_words(Buf *out, char *const *l) {
        for (char *const *s = l; s && *s; s++)
                assert_int_equal(buf_printf(out, strchr(*s, ' ') || !**s ? " '%s'" : " %s", *s), 0);
}

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
        assert_int_equal(buf_printf(out,
                                    "phase: %s\nmessage: %s\nreplicas: %d desired, %d running\n",
                                    phase_to_string(st->phase), strna(st->message),
                                    st->replicas_desired, st->replicas_running),
                         0);
        for (size_t i = 0; i < st->n_nodes; i++) {
                const StatusNode *n = &st->nodes[i];

                assert_int_equal(
                        buf_printf(out, "node: %s %s %s %s", n->name, n->role, n->state, n->health),
                        0);
                if (n->has_lag)
                        assert_int_equal(buf_printf(out, " lag %.0f s", n->lag_seconds), 0);
                assert_int_equal(buf_putc(out, '\n'), 0);
        }
        assert_int_equal(buf_printf(out, "requeue_after_ms: %llu\n",
                                    (unsigned long long) (p->requeue_after / USEC_PER_MSEC)),
                         0);
        if (p->operation[0])
                assert_int_equal(buf_printf(out, "operation: %s\n", p->operation), 0);
        if (p->delete_done)
                assert_int_equal(buf_puts(out, "delete_done\n"), 0);
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

static bool plan_matches(const char *name) {
        _cleanup_free_ char *dir = NULL, *spec_text = NULL, *obs_text = NULL, *want = NULL;
        _cleanup_json_ cJSON *obs_json = NULL;
        _cleanup_(mysql_ha_spec_release) MysqlHaSpec spec = {0};
        _cleanup_(mysql_observed_release) MysqlObserved obs = {0};
        _cleanup_(mysql_plan_release) MysqlPlan mp = {0};
        _cleanup_(buf_release) Buf got = BUF_INIT(GOLDEN_MAX_FILE);
        Document *docs = NULL;
        size_t n_docs = 0;
        ResourceRef ref;
        Error err = ERROR_INIT;
        usec_t now = 0;
        int r;

        mysql_plan_init(&mp);
        mysql_observed_init(&obs);
        assert_int_equal(parse_rfc3339(TEST_NOW, &now), 0);
        assert_true(asprintf(&dir, "%s/%s", golden_dir, name) > 0);
        spec_text = read_file(dir, "spec.yaml");
        obs_text = read_file(dir, "observed.json");
        if (!spec_text || !obs_text) {
                print_error("%s: spec.yaml or observed.json missing\n", name);
                return false;
        }
        if (documents_parse(spec_text, strlen(spec_text), &docs, &n_docs, &err) < 0) {
                print_error("%s: spec.yaml: %s: %s\n", name, err.field, err.msg);
                return false;
        }
        if (n_docs != 1 || docs[0].kind != KIND_MYSQL_HA) {
                documents_free(docs, n_docs);
                print_error("%s: spec.yaml is not one mysql_ha\n", name);
                return false;
        }
        obs_json = cJSON_Parse(obs_text);
        if (!obs_json) {
                documents_free(docs, n_docs);
                print_error("%s: observed.json does not parse\n", name);
                return false;
        }
        assert_no_duplicate_keys(obs_json, name);
        load_ref(member(obs_json, "ref"), &docs[0], &ref);
        r = mysql_ha_spec_from_json(docs[0].spec, &spec, &err);
        documents_free(docs, n_docs);
        if (r < 0) {
                print_error("%s: spec: %s: %s\n", name, err.field, err.msg);
                return false;
        }
        load_observed(obs_json, &ref, &spec, &obs);
        if (mysql_plan(&ref, &spec, &obs, now, &mp, &err) < 0) {
                print_error("%s: mysql_plan: %s\n", name, err.msg);
                return false;
        }
        render(&mp, &got);

        if (getenv("BERTH_UPDATE_GOLDEN")) {
                char path[600];
                FILE *f;

                snprintf(path, sizeof(path), "%s/plan.txt", dir);
                f = fopen(path, "we");
                assert_non_null(f);
                fputs(buf_str(&got), f);
                fclose(f);
                return true;
        }
        want = read_file(dir, "plan.txt");
        if (!want) {
                print_error("%s: plan.txt missing; got:\n%s", name, buf_str(&got));
                return false;
        }
        if (!streq(want, buf_str(&got))) {
                print_error("%s: plan differs\n--- want\n%s--- got\n%s", name, want, buf_str(&got));
                return false;
        }
        return true;
}

static void run_case(void **state) {
        if (!plan_matches(*state))
                fail();
}

static int cmp_names(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int main(int argc, char **argv) {
        _cleanup_strv_free_ char **names = NULL;
        struct CMUnitTest *tests;
        struct dirent *de;
        size_t n;
        DIR *d;
        int r;

        alloc_install_cjson();
        golden_dir = argc > 1 ? argv[1] : "tests/unit/golden/mysql_ha";
        d = opendir(golden_dir);
        if (!d) {
                fprintf(stderr, "cannot open %s\n", golden_dir);
                return 1;
        }
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && strv_push(&names, de->d_name) < 0)
                        return 1;
        closedir(d);
        n = strv_length(names);
        qsort(names, n, sizeof(char *), cmp_names);
        tests = b_calloc(n ? n : 1, sizeof(struct CMUnitTest));
        if (!tests)
                return 1;
        for (size_t i = 0; i < n; i++)
                tests[i] = (struct CMUnitTest){
                        .name = names[i], .test_func = run_case, .initial_state = names[i]};
        r = _cmocka_run_group_tests("mysql_ha golden plans", tests, n, NULL, NULL);
        b_free(tests);
        return r;
}
