/* SPDX-License-Identifier: MIT */
#include <getopt.h>

#include <cjson/cJSON.h>

#include "util/common.h"

#include "cli/cli.h"

static const char usage[] =
        "Usage: berth do KIND NAME ACTION [key=value ...] [-o json|yaml]\n"
        "\n"
        "Runs an action on a resource: switchover, failover, backup, restore, clone, restart,\n"
        "rollback, pause, resume, run, vacuum, ... Parameters go in a JSON body: key=value is a\n"
        "number, true, false or null when it reads as one and a string otherwise; key:=JSON\n"
        "takes any JSON value as is (key:='\"15\"' for the string \"15\").\n"
        "\n"
        "pg_single queues backup [type=auto|full|diff|incr], restore [backup=LABEL |\n"
        "time=2026-11-23T10:15:00Z] and vacuum; they run one at a time, in order (see\n"
        "GET .../requests, berth backups NAME).\n"
        "\n"
        "  -o, --output=FORMAT  print the API's whole answer as json or yaml\n"
        "  -p, --project=NAME   project (default \"default\")\n" CLI_COMMON_HELP;

/* key=value: a JSON number, true, false or null when value reads as exactly that. */
static cJSON *value_infer(const char *v) {
        char *end;
        double d;

        if (streq(v, "true"))
                return cJSON_CreateTrue();
        if (streq(v, "false"))
                return cJSON_CreateFalse();
        if (streq(v, "null"))
                return cJSON_CreateNull();
        /* Plain decimal only (no hex, inf, leading '+' or zeros like "007"). */
        if (v[0] && strspn(v, "-0123456789.eE+") == strlen(v) && v[0] != '+' &&
            !(v[0] == '0' && v[1] && v[1] != '.') &&
            !(v[0] == '-' && v[1] == '0' && v[2] && v[2] != '.')) {
                errno = 0;
                d = strtod(v, &end);
                if (errno == 0 && end != v && *end == 0)
                        return cJSON_CreateNumber(d);
        }
        return cJSON_CreateString(v);
}

int cmd_do(Cli *c, int argc, char **argv) {
        static const struct option options[] = {
                CLI_COMMON_OPTIONS,
                {"output", required_argument, NULL, 'o'},
                {},
        };
        _cleanup_(buf_release) Buf path = BUF_INIT(4096);
        _cleanup_(cJSON_Deletep) cJSON *params = NULL, *answer = NULL;
        _cleanup_free_ char *body = NULL;
        OutputFormat output = OUTPUT_TABLE;
        const char *kind, *name, *action, *msg;
        Error err = ERROR_INIT;
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
        r = cli_kind_name(argv + optind, argc - optind, &kind, &name);
        if (r < 0 || optind + r >= argc)
                return cli_usage_error(usage, "expected KIND NAME ACTION");
        action = argv[optind + r];
        if (isempty(action) || strchr(action, '='))
                return cli_usage_error(usage, "expected an ACTION before the parameters");

        params = cJSON_CreateObject();
        if (!params)
                return cli_fail(&(Error){.code = -ENOMEM, .msg = "out of memory"});
        for (int i = optind + r + 1; i < argc; i++) {
                char *eq = strchr(argv[i], '=');
                bool raw;
                cJSON *v;

                if (!eq || eq == argv[i])
                        return cli_usage_error(usage, "parameters are key=value, not '%s'",
                                               argv[i]);
                raw = eq > argv[i] + 1 && eq[-1] == ':';
                *(raw ? eq - 1 : eq) = 0;
                if (cJSON_GetObjectItemCaseSensitive(params, argv[i]))
                        return cli_usage_error(usage, "parameter '%s' given twice", argv[i]);
                if (raw) {
                        v = cJSON_Parse(eq + 1);
                        if (!v)
                                return cli_usage_error(usage, "%s:= takes JSON, not '%s'", argv[i],
                                                       eq + 1);
                } else
                        v = value_infer(eq + 1);
                if (!v || !cJSON_AddItemToObject(params, argv[i], v)) {
                        cJSON_Delete(v);
                        return cli_fail(&(Error){.code = -ENOMEM, .msg = "out of memory"});
                }
        }
        body = cJSON_PrintUnformatted(params);
        if (!body)
                return cli_fail(&(Error){.code = -ENOMEM, .msg = "out of memory"});

        r = api_path(&path, "/api/v1/resources/{}/{}/actions/{}", kind, name, action);
        if (r >= 0)
                r = api_query(&path, "project", cli_project(c));
        if (r < 0)
                return cli_fail(&(Error){.code = r, .msg = "out of memory"});
        r = api_call(c, "POST", path.buf, "application/json", body, strlen(body), &answer, &err);
        if (r < 0)
                return cli_fail(&err);

        if (output != OUTPUT_TABLE)
                return cli_print_answer(answer, output);
        msg = json_str(answer, "message");
        if (msg)
                printf("%s\n", msg);
        else
                printf("%s/%s: %s accepted\n", kind, name, action);
        return CLI_EXIT_OK;
}
