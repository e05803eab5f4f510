/* SPDX-License-Identifier: MIT */
#include <getopt.h>

#include "util/common.h"

#include "cli/cli.h"

static const char usage[] =
        "Usage: berth logs KIND NAME [--tail N] [--run N]\n"
        "\n"
        "Prints the resource's container logs as berthd collects them. For a job, one run's\n"
        "logs: live while it runs, kept (the last 1 MiB) once it ended and its container is gone.\n"
        "\n"
        "      --tail=N         only the last N lines\n"
        "      --run=N          a job: run N (default: the last that started)\n"
        "  -p, --project=NAME   project (default \"default\")\n" CLI_COMMON_HELP;

/* Local to this command (cli.h numbers the shared ones from 0x100). */
enum { ARG_RUN = 0x200 };

/* A positive decimal count, as --tail and --run take. */
static bool count_valid(const char *s, bool zero_ok) {
        char *end;
        long long n;

        errno = 0;
        n = strtoll(s, &end, 10);
        return errno == 0 && end != s && !*end && (n > 0 || (zero_ok && n == 0));
}

int cmd_logs(Cli *c, int argc, char **argv) {
        static const struct option options[] = {
                CLI_COMMON_OPTIONS,
                {"tail", required_argument, NULL, ARG_TAIL},
                {"run", required_argument, NULL, ARG_RUN},
                {},
        };
        _cleanup_(buf_release) Buf path = BUF_INIT(4096);
        _cleanup_(buf_release) Buf body = {0};
        const char *kind, *name, *tail = NULL, *run = NULL;
        Error err = ERROR_INIT;
        long status;
        int opt, r;

        while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, options, NULL)) != -1) {
                if (cli_common_option(c, opt, optarg))
                        continue;
                switch (opt) {
                case 'h':
                        return cli_help(usage);
                case ARG_TAIL:
                        if (!count_valid(optarg, true))
                                return cli_usage_error(usage,
                                                       "--tail takes a number of lines, "
                                                       "not '%s'",
                                                       optarg);
                        tail = optarg;
                        break;
                case ARG_RUN:
                        if (!count_valid(optarg, false))
                                return cli_usage_error(usage, "--run takes a run number, not '%s'",
                                                       optarg);
                        run = optarg;
                        break;
                default:
                        return cli_usage_short(usage);
                }
        }
        r = cli_kind_name_args(usage, argv + optind, argc - optind, &kind, &name);
        if (r != CLI_EXIT_OK)
                return r;

        r = api_resource_path(&path, kind, name, "/logs", cli_project(c));
        if (r >= 0)
                r = api_query(&path, "tail", tail);
        if (r >= 0)
                r = api_query(&path, "run", run);
        if (r < 0)
                return cli_fail(&(Error){.code = r, .msg = "out of memory"});

        r = http_request(c, "GET", path.buf, "text/plain", NULL, NULL, 0, &status, &body, &err);
        if (r < 0)
                return cli_fail(&err);
        if (status < 200 || status >= 300) {
                (void) api_error(status, &body, &err);
                return cli_fail(&err);
        }
        fwrite(body.buf, 1, body.len, stdout);
        return ferror(stdout) ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}
