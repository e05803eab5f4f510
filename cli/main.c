/* SPDX-License-Identifier: MIT */
#include <getopt.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "util/common.h"

#include "cli/cli.h"
#include "cli/cmd-auth.h"
#include "cli/cmd-secret.h"
#include "cli/version.h"

typedef struct Command {
        const char *name;
        int (*run)(Cli *c, int argc, char **argv);
        const char *summary;
} Command;

static const Command commands[] = {
        {"apply", cmd_apply, "create or update resources from YAML/JSON files, all or nothing"},
        {"get", cmd_get, "list resources, or show one"},
        {"describe", cmd_describe, "show a resource: spec, status, nodes, events, operations"},
        {"delete", cmd_delete, "delete resources by name or from files"},
        {"events", cmd_events, "show or follow events"},
        {"wait", cmd_wait, "wait until a resource reaches a phase or is gone"},
        {"logs", cmd_logs, "print a resource's logs"},
        {"do", cmd_do, "run an action: switchover, backup, restart, rollback, ..."},
        {"backups", cmd_backups, "list a pg_single's backups"},
        {"login", cmd_login, "log in and keep a session token"},
        {"logout", cmd_logout, "revoke the session token and forget it"},
        {"token", cmd_token, "API tokens: create, list, delete"},
        {"user", cmd_user, "users: create, list (admin)"},
        {"member", cmd_member, "project members: list, set, remove"},
        {"secret", cmd_secret, "secrets: set, get (the value, owner only), list, delete"},
};

static const char usage_main[] =
        "Usage: berth [OPTIONS] COMMAND [ARGS...]\n"
        "\n"
        "Commands:\n"
        "  apply     -f FILE|DIR|- [--dry-run]\n"
        "  get       [KIND [NAME]] [-o table|json|yaml]\n"
        "  describe  KIND NAME\n"
        "  delete    KIND NAME | -f FILE|DIR|- [--wait]\n"
        "  events    [KIND [NAME]] [--follow]\n"
        "  wait      KIND NAME --for phase=PHASE|delete [--timeout 120s]\n"
        "  logs      KIND NAME [--tail N]\n"
        "  do        KIND NAME ACTION [key=value ...]\n"
        "  backups   NAME [-o table|json|yaml]           (pg_single)\n"
        "  login     [--username NAME] [--password-stdin]\n"
        "  logout\n"
        "  token     create NAME --role ROLE | list | delete ID\n"
        "  user      create NAME [--admin] | list\n"
        "  member    list | set USER ROLE | remove USER\n"
        "  secret    set NAME --from-file F|--from-literal V|--from-stdin | get NAME | list |\n"
        "            delete NAME\n"
        "\n"
        "Options (also accepted after the command):\n" CLI_COMMON_HELP
        "  -p, --project=NAME   project (env BERTH_PROJECT; default: every project for get and\n"
        "                       events, \"default\" for commands that name a resource)\n"
        "      --version        show the version\n"
        "\n"
        "Run 'berth COMMAND --help' for a command's options.\n";

static void usage_commands(FILE *f) {
        fputs(usage_main, f);
}

static const Command *command_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(commands[i].name, name))
                        return &commands[i];
        return NULL;
}

static int run_command(Cli *c, const Command *cmd, int argc, char **argv) {
        _cleanup_(buf_release) Buf prog = BUF_INIT(64);
        _cleanup_free_ char **sub = NULL;
        int r;

        /* argv[0] becomes "berth CMD", so getopt's messages name the command. */
        if (buf_printf(&prog, "berth %s", cmd->name) < 0)
                return CLI_EXIT_FAILURE;
        sub = b_calloc((size_t) argc + 1, sizeof(char *));
        if (!sub) {
                fputs("error: out of memory\n", stderr);
                return CLI_EXIT_FAILURE;
        }
        sub[0] = prog.buf;
        for (int i = 1; i < argc; i++)
                sub[i] = argv[i];
        optind = 0; /* glibc: full re-initialisation of getopt */
        r = cmd->run(c, argc, sub);
        return r;
}

static int run(Cli *c, int argc, char **argv) {
        static const struct option options[] = {
                CLI_COMMON_OPTIONS,
                {"version", no_argument, NULL, ARG_VERSION},
                {},
        };
        const Command *cmd;
        int opt;

        argv[0] = (char *) "berth"; /* getopt's messages */
        /* "+": stop at the command; its own options follow it. */
        while ((opt = getopt_long(argc, argv, "+" CLI_COMMON_SHORTOPTS, options, NULL)) != -1) {
                if (cli_common_option(c, opt, optarg))
                        continue;
                switch (opt) {
                case 'h':
                        usage_commands(stdout);
                        return CLI_EXIT_OK;
                case ARG_VERSION:
                        printf("berth %s\n", BERTH_VERSION);
                        return CLI_EXIT_OK;
                default:
                        return cli_usage_short(usage_main);
                }
        }
        if (optind >= argc) {
                usage_commands(stderr);
                return CLI_EXIT_USAGE;
        }

        if (streq(argv[optind], "help")) {
                if (optind + 1 < argc && (cmd = command_find(argv[optind + 1]))) {
                        char *help_argv[] = {argv[optind + 1], (char *) "--help", NULL};
                        return run_command(c, cmd, 2, help_argv);
                }
                usage_commands(stdout);
                return CLI_EXIT_OK;
        }
        if (streq(argv[optind], "version")) {
                printf("berth %s\n", BERTH_VERSION);
                return CLI_EXIT_OK;
        }
        cmd = command_find(argv[optind]);
        if (!cmd)
                return cli_usage_error(usage_main, "unknown command '%s'", argv[optind]);
        return run_command(c, cmd, argc - optind, argv + optind);
}

int main(int argc, char **argv) {
        const char *e;
        Cli c;
        int r;

        alloc_install_cjson();
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                fputs("error: cannot initialise libcurl\n", stderr);
                return CLI_EXIT_FAILURE;
        }

        /* Flags, then environment, then defaults: the environment goes in first, flags
         * override it while they are parsed. */
        cli_init(&c);
        e = getenv("BERTH_SERVER");
        if (!isempty(e))
                c.server = e;
        e = getenv("BERTH_PROJECT");
        if (!isempty(e))
                c.project = e;
        e = getenv("BERTH_TOKEN");
        if (!isempty(e))
                c.token = e;

        r = run(&c, argc, argv);

        if (fflush(stdout) != 0 && r == CLI_EXIT_OK) {
                fputs("error: cannot write to standard output\n", stderr);
                r = CLI_EXIT_FAILURE;
        }
        cli_release(&c);
        curl_global_cleanup();
        return r;
}
