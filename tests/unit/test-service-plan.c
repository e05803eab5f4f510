/* SPDX-License-Identifier: MIT */
/* Golden tests of the docker_service planner: for each case directory under
 * tests/unit/golden/docker_service/, spec.yaml + observed.json → plan.txt. The planner is pure,
 * so these run without Docker. BERTH_UPDATE_GOLDEN=1 rewrites plan.txt. */
#include <stddef.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "util/common.h"

#include "model/document.h"
#include "model/json-util.h"
#include "model/service.h"
#include "reconcilers/docker_service/service.h"
#include "golden.h"

#define TEST_UUID "00000000-0000-4000-8000-000000000001"

/* observed.json: {"deleting": bool, "network_exists": bool, "volumes": [names], "containers":
 * [{name, id, state, health, index, role, config_hash: "current"|"stale"|"none", exit_code,
 * restart_count, ip, probe: "ok"|"fail"}], "deploy": {...}}. "current" is replaced by the hash the
 * planner wants for that index; role defaults to "app". */
static void load_observed(const cJSON *j, const ResourceRef *ref, const ServiceSpec *spec,
                          ServiceObserved *o) {
        const cJSON *cs = cJSON_GetObjectItemCaseSensitive(j, "containers"), *c;
        size_t n = (size_t) cJSON_GetArraySize(cs), i = 0;

        const cJSON *vols = cJSON_GetObjectItemCaseSensitive(j, "volumes"), *v;

        o->network_exists = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "network_exists"));
        cJSON_ArrayForEach(v, vols) {
                assert_int_equal(strv_push(&o->volumes, v->valuestring), 0);
        }
        vols = cJSON_GetObjectItemCaseSensitive(j, "deps");
        if (vols) {
                size_t k = 0;
                o->deps =
                        b_calloc((size_t) cJSON_GetArraySize(vols) + 1, sizeof(ObservedDependency));
                assert_non_null(o->deps);
                cJSON_ArrayForEach(v, vols) {
                        ObservedDependency *d = &o->deps[k++];
                        const char *phase =
                                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "phase"));

                        d->exists = phase != NULL;
                        d->running = phase && streq(phase, "RUNNING");
                        snprintf(d->phase, sizeof(d->phase), "%s", strempty(phase));
                        d->port = int_or(v, "port", 0);
                        d->http = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "http"));
                }
        }
        vols = cJSON_GetObjectItemCaseSensitive(j, "secret_versions");
        if (vols) {
                size_t k = 0;
                o->secret_versions =
                        b_calloc((size_t) cJSON_GetArraySize(vols) + 1, sizeof(int64_t));
                assert_non_null(o->secret_versions);
                cJSON_ArrayForEach(v, vols) {
                        o->secret_versions[k++] = (int64_t) v->valuedouble;
                }
        }
        o->containers = b_calloc(n ? n : 1, sizeof(ObservedContainer));
        o->probes = b_calloc(n ? n : 1, sizeof(ProbeStatus));
        assert_non_null(o->containers);
        assert_non_null(o->probes);
        cJSON_ArrayForEach(c, cs) {
                ObservedContainer *oc = &o->containers[i];
                const char *hash =
                        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "config_hash"));
                const char *probe =
                        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "probe"));

                oc->name = dup_or_null(c, "name");
                oc->id = dup_or_null(c, "id");
                oc->state = dup_or_null(c, "state");
                oc->health = dup_or_null(c, "health");
                oc->ip = dup_or_null(c, "ip");
                oc->resource = b_strdup(ref->uuid);
                oc->role = dup_or_null(c, "role");
                if (!oc->role)
                        oc->role = b_strdup("app");
                oc->index = int_or(c, "index", -1);
                oc->exit_code = int_or(c, "exit_code", 0);
                oc->restart_count = int_or(c, "restart_count", 0);
                oc->created = (usec_t) int_or(c, "created", 0) * USEC_PER_SEC;
                oc->finished_at = (usec_t) int_or(c, "finished", 0) * USEC_PER_SEC;
                oc->oom_killed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "oom_killed"));
                if (hash && streq(hash, "current") && oc->index >= 0) {
                        _cleanup_(container_config_release) ContainerConfig want = {0};
                        assert_int_equal(service_container_config(
                                                 ref, spec, o, (unsigned) oc->index, &want, NULL),
                                         0);
                        for (char **l = want.labels; *l; l++)
                                if (strneq(*l, LABEL_CONFIG_HASH "=",
                                           strlen(LABEL_CONFIG_HASH) + 1))
                                        oc->config_hash =
                                                b_strdup(*l + strlen(LABEL_CONFIG_HASH) + 1);
                } else if (hash && !streq(hash, "none"))
                        oc->config_hash = b_strdup(hash);
                o->probes[i].result = !probe               ? PROBE_UNKNOWN
                                      : streq(probe, "ok") ? PROBE_OK
                                                           : PROBE_FAIL;
                o->probes[i].ok_streak = o->probes[i].result == PROBE_OK ? 1 : 0;
                o->probes[i].fail_streak = int_or(c, "fail_streak", 0);
                i++;
        }
        o->n_containers = i;

        /* "deploy": {revision, from_revision, state, started, progress (seconds), ready,
         * pre_deploy_done, post_deploy_done, message}: the revision's deploy as stored. */
        vols = cJSON_GetObjectItemCaseSensitive(j, "deploy");
        if (vols) {
                RevisionDeploy *d = &o->deploy;
                const char *state =
                        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(vols, "state"));
                const char *msg =
                        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(vols, "message"));

                d->revision = int_or(vols, "revision", 0);
                d->from_revision = int_or(vols, "from_revision", 0);
                d->state = state ? deploy_state_from_string(state) : DEPLOY_IN_PROGRESS;
                assert_true(d->state >= 0);
                d->started_at = (usec_t) int_or(vols, "started", 0) * USEC_PER_SEC;
                d->progress_at = (usec_t) int_or(vols, "progress", 0) * USEC_PER_SEC;
                d->ready = int_or(vols, "ready", 0);
                d->pre_deploy_done =
                        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(vols, "pre_deploy_done"));
                d->post_deploy_done =
                        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(vols, "post_deploy_done"));
                snprintf(d->message, sizeof(d->message), "%s", strempty(msg));
        }
}

static void render(const Plan *p, const DeployOutcome *d, Buf *out) {
        assert_int_equal(plan_to_text(p, out), 0);
        assert_int_equal(
                buf_printf(out,
                           "phase: %s\nmessage: %s\nreplicas: %d desired, %d running, %d failed\n",
                           phase_to_string(p->status.phase), strna(p->status.message),
                           p->status.replicas_desired, p->status.replicas_running,
                           p->status.replicas_failed),
                0);
        for (size_t i = 0; i < p->status.n_nodes; i++)
                assert_int_equal(buf_printf(out, "node: %s %s %s\n", p->status.nodes[i].name,
                                            p->status.nodes[i].state, p->status.nodes[i].health),
                                 0);
        assert_int_equal(buf_printf(out, "requeue_after_ms: %llu\n",
                                    (unsigned long long) (p->requeue_after / USEC_PER_MSEC)),
                         0);
        if (p->delete_done)
                assert_int_equal(buf_puts(out, "delete_done\n"), 0);
        if (d->state != DEPLOY_NONE)
                assert_int_equal(buf_printf(out, "deploy: %s, %d ready%s%s%s%s%s\n",
                                            deploy_state_to_string(d->state), d->ready,
                                            d->runs_pre_deploy ? ", runs pre_deploy" : "",
                                            d->runs_post_deploy ? ", runs post_deploy" : "",
                                            d->rollback ? ", roll back" : "",
                                            isempty(d->message) ? "" : ": ", d->message),
                                 0);
        if (p->status.extra) {
                _cleanup_free_ char *extra = cJSON_PrintUnformatted(p->status.extra);
                assert_non_null(extra);
                assert_int_equal(buf_printf(out, "status: %s\n", extra), 0);
        }
}

static bool case_plan_text(const char *name, const Document *doc, const cJSON *observed, Buf *out) {
        _cleanup_(service_spec_release) ServiceSpec spec = {0};
        _cleanup_(service_observed_release) ServiceObserved obs = {0};
        _cleanup_(plan_release) Plan plan;
        ResourceRef ref = {.uuid = TEST_UUID, .kind = KIND_DOCKER_SERVICE, .generation = 3};
        Error err = ERROR_INIT;
        DeployOutcome deploy = {0};

        plan_init(&plan);
        snprintf(ref.project, sizeof(ref.project), "%s", doc->project);
        snprintf(ref.name, sizeof(ref.name), "%s", doc->name);
        if (service_spec_from_json(doc->spec, &spec, &err) < 0) {
                print_error("%s: spec: %s: %s\n", name, err.field, err.msg);
                return false;
        }
        ref.deleting = bool_of(observed, "deleting");
        ref.restart_after = (uint64_t) int_or(observed, "restart_after", 0) * USEC_PER_SEC;
        load_observed(observed, &ref, &spec, &obs);

        if (service_plan(&ref, &spec, &obs, 1700000000 * USEC_PER_SEC, &plan, &deploy, &err) < 0) {
                print_error("%s: service_plan: %s\n", name, err.msg);
                return false;
        }
        render(&plan, &deploy, out);
        return true;
}

int main(int argc, char **argv) {
        static const GoldenSuite suite = {
                .title = "docker_service golden plans",
                .default_dir = "tests/unit/golden/docker_service",
                .kind = KIND_DOCKER_SERVICE,
                .plan_text = case_plan_text,
        };

        return golden_run(argc, argv, &suite);
}
