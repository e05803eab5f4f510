/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <stdarg.h>

#include <cjson/cJSON.h>

#include "util/common.h"

#include "cli/cli.h"

#define DESCRIBE_MAX_EVENTS     20
#define DESCRIBE_MAX_OPERATIONS 10
#define DESCRIBE_MAX_REVISIONS  10
#define DESCRIBE_MAX_CHANGE     1024 /* one revision's diff, on one line */

static const char usage_get[] =
        "Usage: berth get [KIND [NAME]] [-o table|json|yaml]\n"
        "\n"
        "Lists resources with their phase (all kinds and projects unless narrowed), or shows one.\n"
        "\n"
        "  -o, --output=FORMAT  table (default), json or yaml\n"
        "  -p, --project=NAME   only this project (default: all; \"default\" with "
        "NAME)\n" CLI_COMMON_HELP;

static const char usage_describe[] =
        "Usage: berth describe KIND NAME\n"
        "\n"
        "Shows a resource: metadata, spec, status (conditions, endpoints, nodes, replicas), "
        "recent\n"
        "events and operations; a docker_service's revisions with what changed in each.\n"
        "\n"
        "  -p, --project=NAME   project (default \"default\")\n" CLI_COMMON_HELP;

/* ---- get ---- */

static int add_resource_row(Table *t, const cJSON *it, usec_t now) {
        const cJSON *replicas = json_get(it, "replicas");
        int64_t gen, observed, running, desired;
        bool has_gen, has_observed;
        char age[32], ready[48], genbuf[48];
        int r = 0;

        if (!replicas)
                replicas = json_get(it, "status.replicas");
        if (json_int(replicas, "running", &running) && json_int(replicas, "desired", &desired))
                snprintf(ready, sizeof(ready), "%" PRId64 "/%" PRId64, running, desired);
        else
                snprintf(ready, sizeof(ready), "-");

        has_gen = json_int_any(it, &gen, "generation", "metadata.generation", NULL);
        has_observed = json_int_any(it, &observed, "observed_generation",
                                    "status.observed_generation", NULL);
        if (has_gen && has_observed && observed != gen)
                /* The controller has not acted on the latest spec yet: observed/latest. */
                snprintf(genbuf, sizeof(genbuf), "%" PRId64 "/%" PRId64, observed, gen);
        else if (has_gen)
                snprintf(genbuf, sizeof(genbuf), "%" PRId64, gen);
        else
                snprintf(genbuf, sizeof(genbuf), "-");

        format_age(json_str_any(it, "created_at", "metadata.created_at", NULL), now, age,
                   sizeof(age));

        const char *cells[] = {
                json_str_any(it, "project", "metadata.project", NULL),
                json_str(it, "kind"),
                json_str_any(it, "name", "metadata.name", NULL),
                json_str_any(it, "phase", "status.phase", NULL),
                ready,
                genbuf,
                age,
                json_str_any(it, "message", "status.message", NULL),
        };
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(cells); i++)
                r = table_add(t, cells[i] ? cells[i] : (i == 7 ? "" : "-"));
        return r;
}

static int resources_table(const cJSON *items, bool single) {
        static const char *const header[] = {
                "PROJECT", "KIND", "NAME", "PHASE", "READY", "GEN", "AGE", "MESSAGE",
        };
        _cleanup_(table_release) Table t = {0};
        usec_t now = now_realtime();
        const cJSON *it;
        int r;

        table_init(&t, ELEMENTSOF(header));
        t.width = terminal_width();
        r = table_add_row(&t, header, ELEMENTSOF(header));
        if (single) {
                if (r >= 0)
                        r = add_resource_row(&t, items, now);
        } else
                cJSON_ArrayForEach(it, items) {
                        if (r >= 0)
                                r = add_resource_row(&t, it, now);
                }
        if (r < 0)
                return r;
        if (table_rows(&t) <= 1) {
                fputs("No resources found.\n", stderr);
                return 0;
        }
        return table_print(&t, stdout);
}

int cmd_get(Cli *c, int argc, char **argv) {
        static const struct option options[] = {
                CLI_COMMON_OPTIONS,
                {"output", required_argument, NULL, 'o'},
                {},
        };
        _cleanup_(cJSON_Deletep) cJSON *answer = NULL;
        OutputFormat output = OUTPUT_TABLE;
        const char *kind = NULL, *name = NULL;
        Error err = ERROR_INIT;
        int opt, r;

        while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "o:", options, NULL)) != -1) {
                if (cli_common_option(c, opt, optarg))
                        continue;
                switch (opt) {
                case 'h':
                        return cli_help(usage_get);
                case 'o':
                        output = output_format_from_string(optarg);
                        if (output < 0)
                                return cli_usage_error(usage_get, "unknown output format '%s'",
                                                       optarg);
                        break;
                default:
                        return cli_usage_short(usage_get);
                }
        }
        r = cli_scope_args(usage_get, argv + optind, argc - optind, &kind, &name);
        if (r != CLI_EXIT_OK)
                return r;

        r = api_get_scope(c, kind, name, "", "/api/v1/resources", &answer, &err);
        if (r < 0)
                return cli_fail(&err);
        if (output != OUTPUT_TABLE)
                return cli_print_answer(answer, output);
        if (name)
                r = resources_table(answer, true);
        else {
                const cJSON *items = json_get(answer, "items");
                if (!cJSON_IsArray(items))
                        return cli_fail(&(Error){.msg = "unexpected answer from berthd (no "
                                                        "\"items\")"});
                r = resources_table(items, false);
        }
        return r < 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}

/* ---- describe ---- */

#define DESCRIBE_VALUE_COLUMN 16 /* values start here whatever the label's indent */

static int label_pad(size_t indent, const char *label) {
        return MAX(1, DESCRIBE_VALUE_COLUMN - (int) indent - (int) strlen(label) - 1);
}

static void field(size_t indent, const char *label, const char *value) {
        printf("%*s%s:%*s%s\n", (int) indent, "", label, label_pad(indent, label), "",
               strempty(value));
}

static void fieldf(size_t indent, const char *label, const char *fmt, ...) _printf_(3, 4);
static void fieldf(size_t indent, const char *label, const char *fmt, ...) {
        va_list ap;

        printf("%*s%s:%*s", (int) indent, "", label, label_pad(indent, label), "");
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
}

static void time_field(size_t indent, const char *label, const char *ts, usec_t now) {
        char local[64], age[32];

        if (!ts)
                return;
        fieldf(indent, label, "%s (%s ago)", format_time_local(ts, local, sizeof(local)),
               format_age(ts, now, age, sizeof(age)));
}

static int print_yaml_block(const cJSON *v, size_t indent) {
        _cleanup_(buf_release) Buf out = BUF_INIT(CLI_MAX_OUTPUT);
        int r;

        r = yaml_emit(v, indent, &out);
        if (r < 0)
                return r;
        fputs(buf_str(&out), stdout);
        return 0;
}

static int print_conditions(const cJSON *conds, usec_t now) {
        static const char *const header[] = {"TYPE", "STATUS", "REASON", "AGE", "MESSAGE"};
        _cleanup_(table_release) Table t = {0};
        const cJSON *cond;
        int r;

        table_init(&t, ELEMENTSOF(header));
        t.indent = 4;
        t.width = terminal_width();
        if (table_add_row(&t, header, ELEMENTSOF(header)) < 0)
                return -ENOMEM;
        cJSON_ArrayForEach(cond, conds) {
                static const char *const paths[] = {"type", "status", "reason"};
                char age[32];

                r = table_add_fields(&t, cond, paths, ELEMENTSOF(paths));
                if (r >= 0)
                        r = table_add(&t, json_str(cond, "last_transition")
                                                  ? format_age(json_str(cond, "last_transition"),
                                                               now, age, sizeof(age))
                                                  : "");
                if (r >= 0)
                        r = table_add(&t, json_str(cond, "message"));
                if (r < 0)
                        return r;
        }
        return table_print(&t, stdout);
}

static int print_nodes(const cJSON *nodes) {
        static const char *const header[] = {"NAME", "ROLE", "STATE", "HEALTH", "HOST", "LAG"};
        _cleanup_(table_release) Table t = {0};
        const cJSON *node;
        bool lag = false;
        int r;

        cJSON_ArrayForEach(node, nodes) {
                if (json_get(node, "lag_bytes") || json_get(node, "lag_seconds"))
                        lag = true;
        }
        /* LAG, the last column, only when some node reports it. */
        table_init(&t, lag ? ELEMENTSOF(header) : ELEMENTSOF(header) - 1);
        t.indent = 4;
        if (table_add_row(&t, header, t.n_columns) < 0)
                return -ENOMEM;
        cJSON_ArrayForEach(node, nodes) {
                static const char *const paths[] = {"name", "role", "state"};
                const cJSON *healthy = json_get(node, "healthy");
                const char *health = json_str(node, "health");
                int64_t bytes, secs;

                if (!health && cJSON_IsBool(healthy))
                        health = cJSON_IsTrue(healthy) ? "healthy" : "unhealthy";
                r = table_add_fields(&t, node, paths, ELEMENTSOF(paths));
                if (r >= 0)
                        r = table_add(&t, health ? health : "-");
                if (r >= 0)
                        r = table_add(&t, json_str_any(node, "host", "address", NULL));
                if (r >= 0 && lag) {
                        bool has_b = json_int(node, "lag_bytes", &bytes),
                             has_s = json_int(node, "lag_seconds", &secs);

                        if (has_b && has_s)
                                r = table_addf(&t, "%" PRId64 "B/%" PRId64 "s", bytes, secs);
                        else if (has_b)
                                r = table_addf(&t, "%" PRId64 "B", bytes);
                        else if (has_s)
                                r = table_addf(&t, "%" PRId64 "s", secs);
                        else
                                r = table_add(&t, "");
                }
                if (r < 0)
                        return r;
        }
        return table_print(&t, stdout);
}

static int print_status(const cJSON *status, usec_t now) {
        static const char *const handled[] = {
                "phase",    "message",   "observed_generation", "replicas",
                "revision", "endpoints", "conditions",          "nodes",
        };
        _cleanup_(cJSON_Deletep) cJSON *rest = NULL;
        const cJSON *replicas = json_get(status, "replicas"), *v;
        char buf[64];
        int64_t desired, running, failed;
        int r;

        printf("Status:\n");
        if (!cJSON_IsObject(status) || !status->child) {
                printf("  (not observed yet)\n");
                return 0;
        }
        field(2, "Phase", strna(json_str(status, "phase")));
        if (json_str(status, "message"))
                field(2, "Message", json_str(status, "message"));
        if (replicas) {
                bool d = json_int(replicas, "desired", &desired),
                     ru = json_int(replicas, "running", &running),
                     f = json_int(replicas, "failed", &failed);
                fieldf(2, "Replicas",
                       "%" PRId64 " running / %" PRId64 " desired, %" PRId64 " failed",
                       ru ? running : 0, d ? desired : 0, f ? failed : 0);
        }
        if (json_text(status, "revision", buf, sizeof(buf)))
                field(2, "Revision", json_text(status, "revision", buf, sizeof(buf)));

        v = json_get(status, "endpoints");
        if (cJSON_IsObject(v) && v->child) {
                const cJSON *ep;

                printf("  Endpoints:\n");
                cJSON_ArrayForEach(ep, v) {
                        char vb[64];
                        const char *s = json_text(v, ep->string, vb, sizeof(vb));
                        if (s)
                                field(4, ep->string, s);
                }
        }
        v = json_get(status, "conditions");
        if (cJSON_IsArray(v) && v->child) {
                printf("  Conditions:\n");
                r = print_conditions(v, now);
                if (r < 0)
                        return r;
        }
        v = json_get(status, "nodes");
        if (cJSON_IsArray(v) && v->child) {
                printf("  Nodes:\n");
                r = print_nodes(v);
                if (r < 0)
                        return r;
        }

        /* Whatever else the controller reports (backup, ...), as YAML. */
        rest = cJSON_Duplicate(status, true);
        if (!rest)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(handled); i++)
                cJSON_DeleteItemFromObjectCaseSensitive(rest, handled[i]);
        if (rest->child)
                return print_yaml_block(rest, 2);
        return 0;
}

static int add_event_row(Table *t, const cJSON *ev) {
        static const char *const paths[] = {"type", "reason", "message"};
        char tb[64];
        int r;

        r = table_add(t,
                      format_time_local(json_str_any(ev, "time", "created_at", "timestamp", NULL),
                                        tb, sizeof(tb)));
        if (r >= 0)
                r = table_add_fields(t, ev, paths, ELEMENTSOF(paths));
        return r;
}

/* "message", else the last line of the operation's "log" (how it ended). */
static const char *operation_message(const cJSON *op, char *buf, size_t n) {
        const char *m = json_str_any(op, "message", "error", NULL), *log, *end, *start;

        if (m)
                return m;
        log = json_str(op, "log");
        if (!log)
                return "";
        end = log + strlen(log);
        while (end > log && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
                end--;
        start = end;
        while (start > log && start[-1] != '\n')
                start--;
        snprintf(buf, n, "%.*s", (int) (end - start), start);
        return buf;
}

static int add_operation_row(Table *t, const cJSON *op) {
        static const char *const paths[] = {"type|operation|action|kind", "state|status", "actor"};
        const char *started = json_str_any(op, "started_at", "start", "created_at", NULL);
        const char *ended = json_str_any(op, "finished_at", "ended_at", "end", NULL);
        char tb1[64], tb2[64], mb[512];
        int r;

        r = table_add_fields(t, op, paths, ELEMENTSOF(paths));
        if (r >= 0)
                r = table_add(t, started ? format_time_local(started, tb1, sizeof(tb1)) : "-");
        if (r >= 0)
                r = table_add(t, ended ? format_time_local(ended, tb2, sizeof(tb2)) : "-");
        if (r >= 0)
                r = table_add(t, operation_message(op, mb, sizeof(mb)));
        return r;
}

/* A history section of describe: the newest items of one of the resource's lists, oldest
 * first, a row each. */
typedef struct HistorySection {
        const char *title;
        const char *sub; /* the list's path below the resource */
        const char *const *header;
        size_t n_columns;
        size_t max_items;
        int (*add_row)(Table *t, const cJSON *item);
} HistorySection;

static const char *const events_header[] = {"TIME", "TYPE", "REASON", "MESSAGE"};
static const HistorySection events_section = {
        .title = "Events",
        .sub = "/events",
        .header = events_header,
        .n_columns = ELEMENTSOF(events_header),
        .max_items = DESCRIBE_MAX_EVENTS,
        .add_row = add_event_row,
};

static const char *const operations_header[] = {"TYPE",    "STATE", "ACTOR",
                                                "STARTED", "ENDED", "MESSAGE"};
static const HistorySection operations_section = {
        .title = "Operations",
        .sub = "/operations",
        .header = operations_header,
        .n_columns = ELEMENTSOF(operations_header),
        .max_items = DESCRIBE_MAX_OPERATIONS,
        .add_row = add_operation_row,
};

/* A revision: its number (* the newest), when, who, image, how its deploy went, and what changed
 * ("image: a → b; env.FOO: added"). */
static int add_revision_row(Table *t, const cJSON *rev) {
        _cleanup_(buf_release) Buf change = BUF_INIT(DESCRIBE_MAX_CHANGE);
        const char *diff = json_str(rev, "diff"), *p;
        char tb[64], nb[32];
        int r;

        for (p = diff; p && *p && change.len < DESCRIBE_MAX_CHANGE - 4;) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t) (nl - p) : strlen(p);

                if (buf_printf(&change, "%s%.*s", change.len ? "; " : "", (int) n, p) < 0)
                        break;
                p += n + (nl ? 1 : 0);
        }
        r = table_addf(t, "%s%s", strempty(json_text(rev, "revision", nb, sizeof(nb))),
                       cJSON_IsTrue(json_get(rev, "current")) ? "*" : "");
        if (r >= 0)
                r = table_add(t, format_time_local(json_str(rev, "created_at"), tb, sizeof(tb)));
        if (r >= 0)
                r = table_add(t, json_str(rev, "actor"));
        if (r >= 0)
                r = table_add(t, json_str(rev, "image"));
        if (r >= 0)
                r = table_add(t, json_str(rev, "deploy.state"));
        if (r >= 0)
                r = table_add(t, buf_str(&change));
        return r;
}

static const char *const revisions_header[] = {"REVISION", "CREATED", "ACTOR",
                                               "IMAGE",    "DEPLOY",  "CHANGE"};
static const HistorySection revisions_section = {
        .title = "Revisions",
        .sub = "/revisions",
        .header = revisions_header,
        .n_columns = ELEMENTSOF(revisions_header),
        .max_items = DESCRIBE_MAX_REVISIONS,
        .add_row = add_revision_row,
};

static int print_history_section(Cli *c, const HistorySection *sec, const char *kind,
                                 const char *name, const char *project) {
        _cleanup_(buf_release) Buf path = BUF_INIT(4096);
        _cleanup_(cJSON_Deletep) cJSON *answer = NULL;
        _cleanup_(table_release) Table t = {0};
        _cleanup_free_ const cJSON **items = NULL;
        Error err = ERROR_INIT;
        size_t n;
        int r;

        printf("%s:\n", sec->title);
        r = api_resource_path(&path, kind, name, sec->sub, project);
        if (r < 0)
                return r;
        r = api_get(c, path.buf, &answer, &err);
        if (r < 0) {
                printf("  (unavailable: %s)\n", err.msg);
                return 0;
        }
        r = items_chronological(json_get(answer, "items"), &items, &n);
        if (r < 0)
                return r;
        if (n == 0) {
                printf("  <none>\n");
                return 0;
        }
        table_init(&t, sec->n_columns);
        t.indent = 2;
        t.width = terminal_width();
        if (table_add_row(&t, sec->header, sec->n_columns) < 0)
                return -ENOMEM;
        for (size_t i = n > sec->max_items ? n - sec->max_items : 0; i < n; i++) {
                r = sec->add_row(&t, items[i]);
                if (r < 0)
                        return r;
        }
        return table_print(&t, stdout);
}

static int describe(Cli *c, const char *kind, const char *name) {
        _cleanup_(buf_release) Buf path = BUF_INIT(4096);
        _cleanup_(cJSON_Deletep) cJSON *res = NULL;
        const char *project = cli_project(c);
        const cJSON *labels, *spec;
        usec_t now = now_realtime();
        Error err = ERROR_INIT;
        int64_t gen, observed;
        bool has_gen, has_obs;
        int r;

        r = api_resource_path(&path, kind, name, "", project);
        if (r < 0)
                return cli_fail(&(Error){.code = r, .msg = "out of memory"});
        r = api_get(c, path.buf, &res, &err);
        if (r < 0)
                return cli_fail(&err);

        field(0, "Name", json_str_any(res, "metadata.name", "name", NULL));
        field(0, "Kind", json_str(res, "kind"));
        field(0, "Project", json_str_any(res, "metadata.project", "project", NULL));
        if (!isempty(json_str_any(res, "metadata.environment", "environment", NULL)))
                field(0, "Environment",
                      json_str_any(res, "metadata.environment", "environment", NULL));
        if (json_str_any(res, "metadata.uid", "metadata.uuid", "uuid", "uid", NULL))
                field(0, "UID",
                      json_str_any(res, "metadata.uid", "metadata.uuid", "uuid", "uid", NULL));
        labels = json_get(res, "metadata.labels");
        if (cJSON_IsObject(labels) && labels->child) {
                _cleanup_(buf_release) Buf l = BUF_INIT(64 * 1024);
                const cJSON *lab;

                cJSON_ArrayForEach(lab, labels) {
                        char vb[64];
                        if (buf_printf(&l, "%s%s=%s", l.len ? "," : "", lab->string,
                                       strempty(json_text(labels, lab->string, vb, sizeof(vb)))) <
                            0)
                                break;
                }
                field(0, "Labels", buf_str(&l));
        } else
                field(0, "Labels", "<none>");

        has_gen = json_int_any(res, &gen, "generation", "metadata.generation", NULL);
        has_obs = json_int_any(res, &observed, "status.observed_generation", "observed_generation",
                               NULL);
        if (has_gen && has_obs)
                fieldf(0, "Generation", "%" PRId64 " (observed %" PRId64 ")", gen, observed);
        else if (has_gen)
                fieldf(0, "Generation", "%" PRId64 " (not observed yet)", gen);
        time_field(0, "Created", json_str_any(res, "metadata.created_at", "created_at", NULL), now);
        time_field(0, "Updated", json_str_any(res, "metadata.updated_at", "updated_at", NULL), now);

        spec = json_get(res, "spec");
        printf("Spec:\n");
        r = print_yaml_block(spec, 2);
        if (r >= 0)
                r = print_status(json_get(res, "status"), now);
        if (r >= 0 && streq(strempty(json_str(res, "kind")), "docker_service"))
                r = print_history_section(c, &revisions_section, kind, name, project);
        if (r >= 0)
                r = print_history_section(c, &events_section, kind, name, project);
        if (r >= 0)
                r = print_history_section(c, &operations_section, kind, name, project);
        if (r < 0)
                return cli_fail(&(Error){.code = r});
        return CLI_EXIT_OK;
}

int cmd_describe(Cli *c, int argc, char **argv) {
        static const struct option options[] = {
                CLI_COMMON_OPTIONS,
                {},
        };
        const char *kind, *name;
        int opt, r;

        while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, options, NULL)) != -1) {
                if (cli_common_option(c, opt, optarg))
                        continue;
                if (opt == 'h')
                        return cli_help(usage_describe);
                return cli_usage_short(usage_describe);
        }
        r = cli_kind_name_args(usage_describe, argv + optind, argc - optind, &kind, &name);
        if (r != CLI_EXIT_OK)
                return r;
        return describe(c, kind, name);
}
