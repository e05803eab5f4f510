/* SPDX-License-Identifier: MIT */
#include <getopt.h>

#include <cjson/cJSON.h>

#include "util/common.h"

#include "cli/cli.h"

/* berth backups NAME: GET /api/v1/resources/pg_single/NAME/backups as a table. */

static const char usage[] =
        "Usage: berth backups NAME [-p PROJECT] [-o table|json|yaml]\n"
        "\n"
        "Lists the backups of a pg_single as the controller last saw them in its pgBackRest\n"
        "repository: label, type (full, diff, incr), start and end time, size. A label is what\n"
        "`berth do pg_single NAME restore backup=LABEL` takes. Below the table: the last\n"
        "successful backup, the next scheduled one and the last error, when there are.\n"
        "\n"
        "  -o, --output=FORMAT  table (default), json or yaml\n"
        "  -p, --project=NAME   project (default \"default\")\n" CLI_COMMON_HELP;

/* 1536 -> "1.5 KiB"; numbers only (a string is shown as is). */
static const char *format_size(const cJSON *b, char *buf, size_t n) {
        static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        const char *s;
        int64_t bytes;
        double v;
        size_t u = 0;

        if (!json_int_any(b, &bytes, "size", "size_bytes", "backup_size", "repo_size", NULL)) {
                s = json_str_any(b, "size", NULL);
                snprintf(buf, n, "%s", s ? s : "-");
                return buf;
        }
        if (bytes < 0) {
                snprintf(buf, n, "-");
                return buf;
        }
        v = (double) bytes;
        while (v >= 1024 && u + 1 < ELEMENTSOF(units)) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, n, "%" PRId64 " B", bytes);
        else
                snprintf(buf, n, "%.1f %s", v, units[u]);
        return buf;
}

static const char *format_when(const char *ts, char *buf, size_t n) {
        if (isempty(ts)) {
                snprintf(buf, n, "-");
                return buf;
        }
        return format_time_local(ts, buf, n);
}

int cmd_backups(Cli *c, int argc, char **argv) {
        static const struct option options[] = {
                CLI_COMMON_OPTIONS,
                {"output", required_argument, NULL, 'o'},
                {},
        };
        static const char *const header[] = {"LABEL", "TYPE", "STARTED", "FINISHED", "SIZE"};
        static const char *const summary[][2] = {
                {"last_successful", "Last successful"},
                {"next_scheduled", "Next scheduled"},
                {"last_error", "Last error"},
        };
        _cleanup_(buf_release) Buf path = BUF_INIT(4096);
        _cleanup_(cJSON_Deletep) cJSON *answer = NULL;
        _cleanup_(table_release) Table t = {0};
        OutputFormat output = OUTPUT_TABLE;
        const cJSON *it;
        Error err = ERROR_INIT;
        const char *name;
        int opt, r;

        while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "o:", options, NULL)) != -1) {
                if (cli_common_option(c, opt, optarg))
                        continue;
                switch (opt) {
                case 'h':
                        return cli_help(usage);
                case 'o':
                        output = output_format_from_string(optarg);
                        if (output < 0)
                                return cli_usage_error(usage, "unknown output format '%s'", optarg);
                        break;
                default:
                        return cli_usage_short(usage);
                }
        }
        if (optind >= argc)
                return cli_usage_error(usage, "expected the NAME of a pg_single");
        if (optind + 1 < argc)
                return cli_usage_error(usage, "too many arguments");
        name = argv[optind];
        /* "pg_single/NAME" as other commands take it. */
        if (strneq(name, "pg_single/", STRLEN("pg_single/")))
                name += STRLEN("pg_single/");

        r = api_resource_path(&path, "pg_single", name, "/backups", cli_project(c));
        if (r < 0)
                return cli_fail(&(Error){.code = r, .msg = "out of memory"});
        r = api_get(c, path.buf, &answer, &err);
        if (r < 0)
                return cli_fail(&err);
        if (output != OUTPUT_TABLE)
                return cli_print_answer(answer, output);

        table_init(&t, ELEMENTSOF(header));
        r = table_add_row(&t, header, ELEMENTSOF(header));
        cJSON_ArrayForEach(it, json_get(answer, "backups")) {
                char started[40], finished[40], size[32];
                const char *label = json_str_any(it, "label", "set", NULL),
                           *type = json_str_any(it, "type", NULL);

                if (r < 0)
                        break;
                format_when(json_str_any(it, "started_at", "started", "start", NULL), started,
                            sizeof(started));
                format_when(json_str_any(it, "finished_at", "finished", "stop", NULL), finished,
                            sizeof(finished));
                format_size(it, size, sizeof(size));
                r = table_add_row(&t,
                                  (const char *const[]){label ? label : "-", type ? type : "-",
                                                        started, finished, size},
                                  5);
        }
        if (r < 0)
                return cli_fail(&(Error){.code = r, .msg = "out of memory"});
        if (table_rows(&t) <= 1)
                fprintf(stderr, "no backups of pg_single %s in project %s\n", name, cli_project(c));
        else if (table_print(&t, stdout) < 0)
                return CLI_EXIT_FAILURE;

        for (size_t i = 0, shown = 0; i < ELEMENTSOF(summary); i++) {
                const cJSON *v = json_get(answer, summary[i][0]);
                char buf[64], text[256];
                const char *s;

                if (!v || cJSON_IsNull(v))
                        continue;
                if (cJSON_IsObject(v))
                        s = json_str_any(v, "label", "message", "time", NULL);
                else
                        s = json_text(answer, summary[i][0], text, sizeof(text));
                if (!s)
                        continue;
                if (i < 2 && parse_timestamp(s, &(usec_t){0}) >= 0)
                        s = format_time_local(s, buf, sizeof(buf));
                printf("%s%s: %s\n", shown++ == 0 && table_rows(&t) > 1 ? "\n" : "", summary[i][1],
                       s);
        }
        return CLI_EXIT_OK;
}
