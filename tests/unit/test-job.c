/* SPDX-License-Identifier: MIT */
/* kind job, the pure parts: validation and normalisation of the spec, reading it back, the
 * effective spec of from_service, a run's container, and making logs storable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "util/common.h"
#include "model/document.h"
#include "model/job.h"
#include "model/json-util.h"
#include "reconcilers/job/plan.h"

#define JOB(spec) "kind: job\nmetadata: {name: migrate, project: shop}\nspec: " spec "\n"
#define IMG       "image: berth/busybox"

static int setup(void **state) {
        (void) state;
        alloc_install_cjson();
        return 0;
}

/* ---- bad specs: code, reason and exact field ---------------------------------------------- */

typedef struct BadCase {
        const char *what;
        const char *body;
        int code;
        const char *reason;
        const char *field;
        const char *msg; /* substring of the message, or NULL */
} BadCase;

static const BadCase bad_cases[] = {
        {"no spec", "kind: job\nmetadata: {name: j}\n", -EINVAL, "REQUIRED", "spec", NULL},
        {"no image", JOB("{command: [true]}"), -EINVAL, "REQUIRED", "spec.image",
         "unless from_service"},
        {"unknown field", JOB("{" IMG ", schedule: daily}"), -EINVAL, "UNKNOWN_FIELD",
         "spec.schedule", NULL},
        {"a docker_service field", JOB("{" IMG ", replicas: 2}"), -EINVAL, "UNKNOWN_FIELD",
         "spec.replicas", NULL},
        {"typo suggests", JOB("{" IMG ", timout: 5m}"), -EINVAL, "UNKNOWN_FIELD", "spec.timout",
         "did you mean \"timeout\""},
        {"timeout too long", JOB("{" IMG ", timeout: 25h}"), -EINVAL, "OUT_OF_RANGE",
         "spec.timeout", "out of range (1s..24h)"},
        {"timeout zero", JOB("{" IMG ", timeout: 0s}"), -EINVAL, "OUT_OF_RANGE", "spec.timeout",
         NULL},
        {"timeout under a second", JOB("{" IMG ", timeout: 500ms}"), -EINVAL, "OUT_OF_RANGE",
         "spec.timeout", NULL},
        {"timeout a number", JOB("{" IMG ", timeout: 60}"), -EINVAL, "INVALID_TYPE", "spec.timeout",
         NULL},
        {"timeout garbage", JOB("{" IMG ", timeout: soon}"), -EINVAL, "INVALID_VALUE",
         "spec.timeout", NULL},
        {"bad image", JOB("{image: 'Berth/BusyBox'}"), -EINVAL, "INVALID_VALUE", "spec.image",
         NULL},
        {"env name", JOB("{" IMG ", env: {'A-B': 1}}"), -EINVAL, "INVALID_NAME", "spec.env.A-B",
         NULL},
        {"env value a map", JOB("{" IMG ", env: {A: {b: 1}}}"), -EINVAL, "INVALID_TYPE",
         "spec.env.A", NULL},
        {"secret and env", JOB("{" IMG ", env: {T: x}, secrets: {T: {secret: tok}}}"), -EINVAL,
         "CONFLICT", "spec.secrets.T", NULL},
        {"secret without name", JOB("{" IMG ", secrets: {T: {as: env}}}"), -EINVAL, "REQUIRED",
         "spec.secrets.T.secret", NULL},
        {"depends on a job", JOB("{" IMG ", depends_on: [{kind: job, name: other}]}"), -EOPNOTSUPP,
         "NOT_SUPPORTED", "spec.depends_on[0].kind", NULL},
        {"depends on a bad kind", JOB("{" IMG ", depends_on: [{kind: vm, name: other}]}"), -EINVAL,
         "INVALID_VALUE", "spec.depends_on[0].kind", NULL},
        {"from_service not a name", JOB("{from_service: Web_1}"), -EINVAL, "INVALID_NAME",
         "spec.from_service", NULL},
        {"from_service a list", JOB("{from_service: [web]}"), -EINVAL, "INVALID_TYPE",
         "spec.from_service", NULL},
        {"plan and resources", JOB("{" IMG ", plan: small, resources: {cpu: 2}}"), -EINVAL,
         "CONFLICT", "spec.resources", NULL},
        {"plan unknown", JOB("{" IMG ", plan: huge}"), -EINVAL, "INVALID_VALUE", "spec.plan", NULL},
        {"status is read-only", JOB("{" IMG "}") "status: {phase: RUNNING}\n", -EINVAL,
         "FIELD_READ_ONLY", "status", NULL},
        {"command a map", JOB("{" IMG ", command: {a: b}}"), -EINVAL, "INVALID_TYPE",
         "spec.command", NULL},
};

static void test_bad(void **state) {
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(bad_cases); i++) {
                const BadCase *c = &bad_cases[i];
                Document *docs = NULL;
                size_t n = 0;
                Error e = ERROR_INIT;
                int r;

                r = documents_parse(c->body, strlen(c->body), &docs, &n, &e);
                if (r >= 0) {
                        documents_free(docs, n);
                        fail_msg("%s: accepted", c->what);
                }
                if (r != c->code || !streq(e.reason, c->reason) || !streq(e.field, c->field) ||
                    (c->msg && !strstr(e.msg, c->msg)))
                        fail_msg("%s: got %d %s at \"%s\": %s", c->what, r, e.reason, e.field,
                                 e.msg);
        }
}

/* ---- normalisation -------------------------------------------------------------------------- */

static char *normalised(const char *body) {
        Document *docs = NULL;
        size_t n = 0;
        Error e = ERROR_INIT;
        char *s;

        if (documents_parse(body, strlen(body), &docs, &n, &e) < 0)
                fail_msg("rejected: %s (%s at %s)\n%s", e.msg, e.reason, e.field, body);
        assert_int_equal(n, 1);
        s = cJSON_PrintUnformatted(docs[0].spec);
        documents_free(docs, n);
        return s;
}

static void assert_normalises(const char *body, const char *want) {
        _cleanup_free_ char *got = normalised(body);

        assert_string_equal(got, want);
}

static void test_normalisation(void **state) {
        (void) state;
        assert_normalises(JOB("{" IMG "}"),
                          "{\"image\":\"berth/busybox\",\"command\":[],\"args\":[],"
                          "\"env\":{},\"networks\":[],\"timeout\":\"1h\"}");
        assert_normalises(
                JOB("{depends_on: [{kind: pg_single, name: orders-db}], timeout: 90s, "
                    "secrets: {TOKEN: {secret: tok}}, env: {B: 2, A: x}, command: psql, "
                    "plan: small, from_service: web}"),
                "{\"from_service\":\"web\",\"command\":[\"psql\"],\"args\":[],\"env\":{\"A\":"
                "\"x\",\"B\":\"2\"},\"plan\":\"small\",\"resources\":{\"cpu\":0.25,\"memory\":"
                "268435456},\"networks\":[],\"timeout\":\"1m30s\",\"secrets\":{\"TOKEN\":{"
                "\"secret\":\"tok\",\"as\":\"env\"}},\"depends_on\":[{\"kind\":\"pg_single\","
                "\"name\":\"orders-db\",\"env_prefix\":\"ORDERS_DB\"}]}");
}

/* What the validator writes reads back to itself, and to the same typed spec. */
static void test_renormalisation(void **state) {
        static const char *const bodies[] = {
                JOB("{" IMG ", timeout: 24h}"),
                JOB("{from_service: web, command: [rake, 'db:migrate'], env: {X: 1}}"),
                JOB("{" IMG ", secrets: {F: {secret: s, as: file}}, resources: {memory: 64Mi}, "
                    "networks: [shared]}"),
        };
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(bodies); i++) {
                _cleanup_free_ char *once = normalised(bodies[i]), *twice = NULL;
                _cleanup_free_ char *body = NULL;

                assert_true(asprintf(&body, "kind: job\nmetadata: {name: m}\nspec: %s\n", once) >
                            0);
                twice = normalised(body);
                assert_string_equal(once, twice);
        }
}

static void parse_one(const char *body, JobSpec *ret) {
        Document *docs = NULL;
        size_t n = 0;
        Error e = ERROR_INIT;

        if (documents_parse(body, strlen(body), &docs, &n, &e) < 0)
                fail_msg("rejected: %s", e.msg);
        if (job_spec_from_json(docs[0].spec, ret, &e) < 0)
                fail_msg("from_json: %s", e.msg);
        documents_free(docs, n);
}

static void test_spec_from_json(void **state) {
        _cleanup_(job_spec_release) JobSpec s = {0}, d = {0};
        (void) state;

        parse_one(JOB("{" IMG ", command: [sh, -c], args: ['exit 3'], env: {B: 1, A: 2}, "
                      "timeout: 5m, secrets: {T: {secret: tok}}, "
                      "depends_on: [{kind: pg_single, name: db, env_prefix: PG}]}"),
                  &s);
        assert_string_equal(s.container.image, "berth/busybox");
        assert_int_equal(s.timeout, 300 * USEC_PER_SEC);
        assert_null(s.from_service);
        assert_int_equal(strv_length(s.container.command), 2);
        assert_string_equal(s.container.args[0], "exit 3");
        assert_string_equal(s.container.env[0], "A=2");
        assert_int_equal(s.container.n_secrets, 1);
        assert_string_equal(s.container.secrets[0].secret, "tok");
        assert_int_equal(s.container.n_deps, 1);
        assert_string_equal(s.container.deps[0].prefix, "PG");

        parse_one(JOB("{from_service: web}"), &d);
        assert_null(d.container.image);
        assert_string_equal(d.from_service, "web");
        assert_int_equal(d.timeout, JOB_TIMEOUT_DEFAULT);
        assert_null(d.container.command);
}

/* A damaged stored spec is an error, not a crash. */
static void test_spec_damaged(void **state) {
        static const char *const damaged[] = {
                "{}",
                "{\"image\":\"x\",\"timeout\":5}",
                "{\"image\":\"x\",\"timeout\":\"soon\"}",
                "{\"from_service\":3}",
                "{\"image\":\"x\",\"env\":[]}",
                "[]",
        };
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(damaged); i++) {
                _cleanup_json_ cJSON *j = cJSON_Parse(damaged[i]);
                _cleanup_(job_spec_release) JobSpec s = {0};
                Error e = ERROR_INIT;

                assert_non_null(j);
                assert_true(job_spec_from_json(j, &s, &e) < 0);
                assert_true(e.msg[0] != 0);
        }
}

static void test_resolve_from_service(void **state) {
        _cleanup_(job_spec_release) JobSpec job = {0}, eff = {0}, alone = {0}, own = {0};
        _cleanup_(service_spec_release) ServiceSpec svc = {0};
        _cleanup_json_ cJSON *svc_json = cJSON_Parse(
                "{\"image\":\"shop/web:2\",\"command\":[\"puma\"],\"args\":[\"-p\",\"80\"],"
                "\"env\":{\"A\":\"svc\",\"B\":\"svc\"},\"networks\":[\"shared\"],"
                "\"resources\":{\"cpu\":0.5,\"memory\":268435456},"
                "\"secrets\":{\"K\":{\"secret\":\"svc-k\",\"as\":\"env\"},"
                "\"L\":{\"secret\":\"svc-l\",\"as\":\"env\"}},"
                "\"depends_on\":[{\"kind\":\"pg_single\",\"name\":\"db\",\"env_prefix\":\"DB\"}]}");
        Error e = ERROR_INIT;
        (void) state;

        assert_non_null(svc_json);
        assert_int_equal(service_container_from_json(svc_json, &svc, &e), 0);
        parse_one(JOB("{from_service: web, command: [rake, 'db:migrate'], env: {B: job, C: job}, "
                      "secrets: {L: {secret: job-l}}, networks: [jobs, shared]}"),
                  &job);
        assert_int_equal(job_spec_resolve(&job, &svc, &eff), 0);
        assert_string_equal(eff.container.image, "shop/web:2");
        assert_string_equal(eff.container.command[0], "rake");
        assert_null(eff.container.args); /* the job set a command: the service's args go too */
        assert_int_equal(strv_length(eff.container.env), 3);
        assert_string_equal(eff.container.env[0], "A=svc");
        assert_string_equal(eff.container.env[1], "B=job");
        assert_string_equal(eff.container.env[2], "C=job");
        assert_int_equal(eff.container.n_secrets, 2);
        assert_string_equal(eff.container.secrets[0].secret, "svc-k");
        assert_string_equal(eff.container.secrets[1].secret, "job-l");
        assert_int_equal(eff.container.n_deps, 1);
        assert_string_equal(eff.container.deps[0].name, "db");
        assert_int_equal(strv_length(eff.container.networks), 2);
        assert_true(eff.container.cpu == 0.5);

        /* The service gone: nothing to run yet. */
        assert_int_equal(job_spec_resolve(&job, NULL, &alone), 0);
        assert_null(alone.container.image);

        /* Without a command of its own the job runs the service's. */
        job_spec_release(&job);
        parse_one(JOB("{from_service: web, image: 'shop/web:3'}"), &job);
        assert_int_equal(job_spec_resolve(&job, &svc, &own), 0);
        assert_string_equal(own.container.image, "shop/web:3");
        assert_string_equal(own.container.command[0], "puma");
        assert_string_equal(own.container.args[1], "80");
}

static bool has_label(char *const *labels, const char *l) {
        return strv_contains(labels, l);
}

static void test_container_config(void **state) {
        _cleanup_(job_spec_release) JobSpec s = {0};
        _cleanup_(container_config_release) ContainerConfig c = {0};
        ResourceRef ref = {.uuid = "00000000-0000-4000-8000-000000000009",
                           .kind = KIND_JOB,
                           .project = "shop",
                           .name = "migrate",
                           .installation = "11111111-0000-4000-8000-000000000000"};
        Error e = ERROR_INIT;
        (void) state;

        parse_one(JOB("{" IMG ", command: [sh, -c, 'exit 0'], resources: {cpu: 1, memory: 64Mi}}"),
                  &s);
        assert_int_equal(job_container_config(&ref, &s, NULL, 12, &c, &e), 0);
        assert_string_equal(c.name, "shop-migrate-job-12");
        assert_string_equal(c.network, "berth-shop");
        assert_string_equal(c.restart_policy, "no");
        assert_true(c.init);
        assert_int_equal(c.stop_timeout, JOB_STOP_TIMEOUT_S);
        assert_int_equal(c.memory, 64 << 20);
        assert_true(has_label(c.labels, "berth.run=12"));
        assert_true(has_label(c.labels, "berth.index=12"));
        assert_true(has_label(c.labels, "berth.role=job"));
        assert_true(has_label(c.labels, "berth.kind=job"));
        assert_true(has_label(c.labels, "berth.resource=00000000-0000-4000-8000-000000000009"));
        assert_true(has_label(c.labels, "berth.installation=11111111-0000-4000-8000-000000000000"));
}

static void test_log_sanitize(void **state) {
        char ok[] = "plain, caf\xc3\xa9, \xe2\x82\xac, \xf0\x9f\x99\x82\n";
        char bad[] = "a\0b\xff"
                     "c\xc3"
                     "d\xe0\x80\x80"
                     "e\xed\xa0\x80"
                     "f\xc3";
        char want_ok[sizeof(ok)];
        (void) state;

        memcpy(want_ok, ok, sizeof(ok));
        job_log_sanitize(ok, sizeof(ok) - 1);
        assert_memory_equal(ok, want_ok, sizeof(ok));
        job_log_sanitize(bad, sizeof(bad) - 1);
        assert_memory_equal(bad, "a?b?c?d???e???f?", sizeof(bad) - 1);
}

static void test_run_states(void **state) {
        (void) state;
        for (int i = 0; i < _JOB_RUN_STATE_MAX; i++)
                assert_int_equal(job_run_state_from_string(job_run_state_to_string(i)), i);
        assert_int_equal(job_run_state_from_string("DONE"), _JOB_RUN_STATE_INVALID);
        assert_true(job_run_state_is_final(JOB_RUN_TIMEOUT));
        assert_false(job_run_state_is_final(JOB_RUN_RUNNING));
}

/* Every allocation failing in turn: -ENOMEM, no leak (ASan), no crash. */
#define TORTURE_JOB                                                                                \
        JOB("{from_service: web, command: [rake, 'db:migrate'], env: {B: 1, A: x}, "               \
            "secrets: {T: {secret: tok}, F: {secret: f, as: file}}, plan: small, "                 \
            "networks: [shared], timeout: 5m, depends_on: [{kind: pg_single, name: db}]}")

static void test_torture_validate(void **state) {
        (void) state;
        for (long k = 0;; k++) {
                Document *docs = NULL;
                size_t n = 0;
                Error e = ERROR_INIT;
                int r;

                alloc_fail_after(k);
                r = documents_parse(TORTURE_JOB, strlen(TORTURE_JOB), &docs, &n, &e);
                alloc_fail_after(-1);
                if (r >= 0) {
                        documents_free(docs, n);
                        break;
                }
                if (r != -ENOMEM)
                        fail_msg("allocation %ld: got %d (%s), not -ENOMEM", k, r, e.msg);
                assert_true(k < 100000);
        }
}

/* spec → effective spec → plan of a run that starts, each allocation failing in turn. */
static int plan_once(const cJSON *spec_json, const ServiceSpec *svc) {
        _cleanup_(job_spec_release) JobSpec s = {0}, eff = {0};
        _cleanup_(job_plan_release) JobPlan p;
        JobRun run = {.seq = 7, .generation = 3, .state = JOB_RUN_PENDING, .exit_code = -1};
        ObservedDependency dep = {.exists = true,
                                  .running = true,
                                  .database = true,
                                  .port = 5432,
                                  .secret_version = 1};
        int64_t versions[2] = {1, 1};
        JobObserved obs = {.runs = &run,
                           .n_runs = 1,
                           .service_exists = true,
                           .deps = &dep,
                           .secret_versions = versions};
        ResourceRef ref = {.uuid = "00000000-0000-4000-8000-000000000009",
                           .kind = KIND_JOB,
                           .project = "shop",
                           .name = "migrate",
                           .generation = 3};
        Error e = ERROR_INIT;
        int r;

        job_plan_init(&p);
        r = job_spec_from_json(spec_json, &s, &e);
        if (r >= 0)
                r = job_spec_resolve(&s, svc, &eff);
        if (r >= 0)
                r = job_plan(&ref, &eff, &obs, 1795000000 * USEC_PER_SEC, &p, &e);
        if (r >= 0 && (p.step != JOB_STEP_START || p.plan.n_actions != 2))
                fail_msg("unexpected plan: step %d, %zu actions", p.step, p.plan.n_actions);
        return r;
}

static void test_torture_plan(void **state) {
        _cleanup_(service_spec_release) ServiceSpec svc = {0};
        _cleanup_json_ cJSON *svc_json = cJSON_Parse(
                "{\"image\":\"shop/web:2\",\"env\":{\"A\":\"svc\"},\"networks\":[\"x\"]}");
        Document *docs = NULL;
        size_t n = 0;
        Error e = ERROR_INIT;
        (void) state;

        assert_int_equal(service_container_from_json(svc_json, &svc, &e), 0);
        assert_int_equal(documents_parse(TORTURE_JOB, strlen(TORTURE_JOB), &docs, &n, &e), 0);
        for (long k = 0;; k++) {
                int r;

                alloc_fail_after(k);
                r = plan_once(docs[0].spec, &svc);
                alloc_fail_after(-1);
                if (r >= 0)
                        break;
                if (r != -ENOMEM)
                        fail_msg("allocation %ld: got %d, not -ENOMEM", k, r);
                assert_true(k < 100000);
        }
        documents_free(docs, n);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bad),
                cmocka_unit_test(test_normalisation),
                cmocka_unit_test(test_renormalisation),
                cmocka_unit_test(test_spec_from_json),
                cmocka_unit_test(test_spec_damaged),
                cmocka_unit_test(test_resolve_from_service),
                cmocka_unit_test(test_container_config),
                cmocka_unit_test(test_log_sanitize),
                cmocka_unit_test(test_run_states),
                cmocka_unit_test(test_torture_validate),
                cmocka_unit_test(test_torture_plan),
        };
        return cmocka_run_group_tests(tests, setup, NULL);
}
