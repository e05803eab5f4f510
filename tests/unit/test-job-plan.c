/* SPDX-License-Identifier: MIT */
/* Golden tests of the job planner: for each case directory under tests/unit/golden/job/,
 * spec.yaml + observed.json → plan.txt. The planner is pure, so these run without Docker or
 * PostgreSQL. BERTH_UPDATE_GOLDEN=1 rewrites plan.txt.
 *
 * observed.json (every member optional; times are RFC 3339 strings, "now" is TEST_NOW):
 *   ref: {generation (default 3), deleting}
 *   network_exists,
 *   service: a docker_service spec (JSON) that spec.from_service names; absent: it does not exist
 *   deps: [{phase}] (parallel to the effective depends_on; phase null: it does not exist),
 *   secret_versions: [N or null (missing)] (parallel to the effective secrets),
 *   runs: [{seq, generation, state, exit_code, created, started, finished, timeout, trigger,
 *           message}]
 *   containers: [{name, id, index, state, exit_code, oom_killed, created, started, finished}]
 *
 * plan.txt: job_plan_to_text(), the created container's entrypoint, cmd and env, then the
 * status (phase, message, last_run, nodes) and when to look again. */
#include <stddef.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "util/common.h"

#include "model/document.h"
#include "model/job.h"
#include "model/json-util.h"
#include "model/units.h"
#include "reconcilers/job/plan.h"
#include "golden.h"

#define TEST_UUID "00000000-0000-4000-8000-000000000003"
#define TEST_NOW  "2026-11-23T10:00:00Z"

static void load_runs(const cJSON *j, JobObserved *o) {
        const cJSON *runs = member(j, "runs"), *it;
        size_t n = (size_t) cJSON_GetArraySize(runs);

        o->runs = b_calloc(n ? n : 1, sizeof(JobRun));
        assert_non_null(o->runs);
        cJSON_ArrayForEach(it, runs) {
                JobRun *r = &o->runs[o->n_runs++];
                const cJSON *t = member(it, "timeout");

                r->seq = int_or(it, "seq", 1);
                r->generation = int_or(it, "generation", 3);
                r->state = job_run_state_from_string(cJSON_GetStringValue(member(it, "state")));
                assert_true(r->state >= 0);
                r->exit_code = int_or(it, "exit_code", -1);
                r->created_at = time_of(it, "created");
                r->started_at = time_of(it, "started");
                r->finished_at = time_of(it, "finished");
                if (cJSON_IsString(t))
                        assert_int_equal(duration_parse(t->valuestring, &r->timeout), 0);
                snprintf(r->trigger, sizeof(r->trigger), "%s",
                         member(it, "trigger") ? member(it, "trigger")->valuestring : "apply");
                snprintf(r->message, sizeof(r->message), "%s",
                         member(it, "message") ? member(it, "message")->valuestring : "");
        }
}

static void load_containers(const cJSON *j, JobObserved *o) {
        const cJSON *cs = member(j, "containers"), *c;
        size_t n = (size_t) cJSON_GetArraySize(cs);

        o->containers = b_calloc(n ? n : 1, sizeof(ObservedContainer));
        assert_non_null(o->containers);
        cJSON_ArrayForEach(c, cs) {
                ObservedContainer *oc = &o->containers[o->n_containers++];

                oc->name = dup_or_null(c, "name");
                oc->id = dup_or_null(c, "id");
                oc->state = dup_or_null(c, "state");
                oc->resource = b_strdup(TEST_UUID);
                oc->role = b_strdup(JOB_ROLE);
                oc->index = int_or(c, "index", -1);
                oc->exit_code = int_or(c, "exit_code", 0);
                oc->oom_killed = cJSON_IsTrue(member(c, "oom_killed"));
                oc->created = time_of(c, "created");
                oc->started_at = time_of(c, "started");
                oc->finished_at = time_of(c, "finished");
        }
}

/* The effective spec (from_service resolved), then what depends on it. */
static void load_observed(const cJSON *j, const JobSpec *spec, JobSpec *eff, JobObserved *o) {
        const cJSON *svc = member(j, "service"), *v;
        _cleanup_(service_spec_release) ServiceSpec s = {0};
        size_t k = 0;

        o->network_exists = cJSON_IsTrue(member(j, "network_exists"));
        if (svc) {
                Error e = ERROR_INIT;
                if (service_container_from_json(svc, &s, &e) < 0)
                        fail_msg("service: %s", e.msg);
                o->service_exists = true;
                snprintf(o->service_phase, sizeof(o->service_phase), "RUNNING");
        }
        assert_int_equal(job_spec_resolve(spec, svc ? &s : NULL, eff), 0);
        if ((v = member(j, "deps"))) {
                const cJSON *d;

                o->deps = b_calloc((size_t) cJSON_GetArraySize(v) + 1, sizeof(ObservedDependency));
                assert_non_null(o->deps);
                cJSON_ArrayForEach(d, v) {
                        ObservedDependency *od = &o->deps[k++];
                        const char *phase = cJSON_GetStringValue(member(d, "phase"));

                        od->exists = phase != NULL;
                        od->running = phase && streq(phase, "RUNNING");
                        snprintf(od->phase, sizeof(od->phase), "%s", strempty(phase));
                        od->port = int_or(d, "port", 0);
                        od->database = cJSON_IsTrue(member(d, "database"));
                        if (od->database) {
                                snprintf(od->network, sizeof(od->network), "berth-shop-db");
                                snprintf(od->user, sizeof(od->user), "app");
                                snprintf(od->dbname, sizeof(od->dbname), "db");
                                snprintf(od->secret, sizeof(od->secret), "db-password");
                                od->secret_version = 1;
                        }
                }
        }
        if ((v = member(j, "secret_versions"))) {
                const cJSON *s2;

                k = 0;
                o->secret_versions = b_calloc((size_t) cJSON_GetArraySize(v) + 1, sizeof(int64_t));
                assert_non_null(o->secret_versions);
                cJSON_ArrayForEach(s2, v) {
                        o->secret_versions[k++] =
                                cJSON_IsNumber(s2) ? (int64_t) s2->valuedouble : SECRET_MISSING;
                }
        }
        load_runs(j, o);
        load_containers(j, o);
}

static void render_strv(Buf *out, const char *what, char *const *l) {
        if (!l)
                return;
        assert_int_equal(buf_printf(out, "  %s:", what), 0);
        for (; *l; l++)
                assert_int_equal(buf_printf(out, " %s", *l), 0);
        assert_int_equal(buf_putc(out, '\n'), 0);
}

static void render(const JobPlan *p, Buf *out) {
        const cJSON *last = p->plan.status.extra ? member(p->plan.status.extra, "last_run") : NULL;
        _cleanup_free_ char *last_text = last ? cJSON_PrintUnformatted(last) : NULL;

        assert_int_equal(job_plan_to_text(p, out), 0);
        for (size_t i = 0; i < p->plan.n_actions; i++) {
                const ContainerConfig *c = p->plan.actions[i].container;

                if (!c)
                        continue;
                assert_int_equal(buf_printf(out, "  image: %s, restart: %s, networks: %s", c->image,
                                            c->restart_policy, c->network),
                                 0);
                for (char **n = c->extra_networks; n && *n; n++)
                        assert_int_equal(buf_printf(out, " %s", *n), 0);
                assert_int_equal(buf_putc(out, '\n'), 0);
                render_strv(out, "entrypoint", c->entrypoint);
                render_strv(out, "cmd", c->cmd);
                render_strv(out, "env", c->env);
                for (size_t k = 0; k < c->n_secrets; k++)
                        assert_int_equal(buf_printf(out, "  secret %s v%lld as %s%s\n",
                                                    c->secrets[k].secret,
                                                    (long long) c->secrets[k].version,
                                                    c->secrets[k].env ? "env " : "file ",
                                                    c->secrets[k].env ? c->secrets[k].env
                                                                      : c->secrets[k].path),
                                         0);
                for (char **l = c->labels; l && *l; l++)
                        if (strneq(*l, "berth.run=", 10) || strneq(*l, "berth.role=", 11))
                                assert_int_equal(buf_printf(out, "  label %s\n", *l), 0);
        }
        assert_int_equal(buf_printf(out, "phase: %s (observed_generation %lld)\nmessage: %s\n",
                                    phase_to_string(p->plan.status.phase),
                                    (long long) p->plan.status.observed_generation,
                                    strna(p->plan.status.message)),
                         0);
        if (last_text)
                assert_int_equal(buf_printf(out, "last_run: %s\n", last_text), 0);
        for (size_t i = 0; i < p->plan.status.n_nodes; i++)
                assert_int_equal(buf_printf(out, "node: %s %s\n", p->plan.status.nodes[i].name,
                                            p->plan.status.nodes[i].state),
                                 0);
        if (p->step == JOB_STEP_START || p->step == JOB_STEP_ADOPT) {
                char tb[64], sb[40];
                assert_int_equal(buf_printf(out, "run started_at %s, timeout %s\n",
                                            format_rfc3339_exact(p->started_at, sb, sizeof(sb)),
                                            duration_format(p->timeout, tb, sizeof(tb))),
                                 0);
        }
        assert_int_equal(buf_printf(out, "requeue_after_ms: %llu\n",
                                    (unsigned long long) (p->plan.requeue_after / USEC_PER_MSEC)),
                         0);
        if (p->plan.delete_done)
                assert_int_equal(buf_puts(out, "delete_done\n"), 0);
}

static bool case_plan_text(const char *name, const Document *doc, const cJSON *observed, Buf *out) {
        _cleanup_(job_spec_release) JobSpec spec = {0}, eff = {0};
        _cleanup_(job_observed_release) JobObserved obs = {0};
        _cleanup_(job_plan_release) JobPlan plan;
        const cJSON *ref_json = member(observed, "ref");
        ResourceRef ref = {.uuid = TEST_UUID, .kind = KIND_JOB, .generation = 3};
        Error err = ERROR_INIT;
        usec_t now;

        job_plan_init(&plan);
        snprintf(ref.project, sizeof(ref.project), "%s", doc->project);
        snprintf(ref.name, sizeof(ref.name), "%s", doc->name);
        if (job_spec_from_json(doc->spec, &spec, &err) < 0) {
                print_error("%s: spec: %s: %s\n", name, err.field, err.msg);
                return false;
        }
        ref.generation = int_or(ref_json, "generation", 3);
        ref.deleting = bool_of(ref_json, "deleting");
        load_observed(observed, &spec, &eff, &obs);

        assert_int_equal(parse_rfc3339(TEST_NOW, &now), 0);
        if (job_plan(&ref, &eff, &obs, now, &plan, &err) < 0) {
                print_error("%s: job_plan: %s\n", name, err.msg);
                return false;
        }
        render(&plan, out);
        return true;
}

int main(int argc, char **argv) {
        static const GoldenSuite suite = {
                .title = "job golden plans",
                .default_dir = "tests/unit/golden/job",
                .kind = KIND_JOB,
                .plan_text = case_plan_text,
        };

        return golden_run(argc, argv, &suite);
}
