/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "util/common.h"

#include "cli/cli.h"

static const char usage[] =
        "Usage: berth wait KIND NAME --for phase=PHASE|condition=TYPE|delete [--timeout 120s]\n"
        "\n"
        "Polls the resource every 250 ms until its status.phase is PHASE (for the latest spec\n"
        "generation), a condition is True, or it is gone. Exits 1 on timeout.\n"
        "\n"
        "      --for=WHAT       phase=RUNNING, condition=Ready or delete\n"
        "      --timeout=TIME   give up after TIME (120s, 2m, 500ms; default 120s)\n"
        "  -p, --project=NAME   project (default \"default\")\n" CLI_COMMON_HELP;

typedef enum WaitFor {
        WAIT_PHASE,
        WAIT_CONDITION,
        WAIT_DELETE,
} WaitFor;

static const char *format_duration(usec_t u, char *buf, size_t n) {
        if (u % (60 * USEC_PER_SEC) == 0 && u > 0)
                snprintf(buf, n, "%" PRIu64 "m", u / (60 * USEC_PER_SEC));
        else if (u % USEC_PER_SEC == 0)
                snprintf(buf, n, "%" PRIu64 "s", u / USEC_PER_SEC);
        else
                snprintf(buf, n, "%" PRIu64 "ms", u / USEC_PER_MSEC);
        return buf;
}

static int resource_get(Cli *c, const char *kind, const char *name, cJSON **ret, Error *reterr) {
        _cleanup_(buf_release) Buf path = BUF_INIT(4096);
        int r;

        r = api_resource_path(&path, kind, name, "", cli_project(c));
        if (r < 0)
                return err_set(reterr, r, NULL, "out of memory");
        return api_get(c, path.buf, ret, reterr);
}

/* The controller has acted on the latest spec (when the API reports both numbers). */
static bool generation_observed(const cJSON *res) {
        int64_t gen, observed;

        if (!json_int_any(res, &gen, "generation", "metadata.generation", NULL) ||
            !json_int_any(res, &observed, "status.observed_generation", "observed_generation",
                          NULL))
                return true;
        return observed >= gen;
}

static bool condition_true(const cJSON *res, const char *type) {
        const cJSON *cond;

        cJSON_ArrayForEach(cond, json_get(res, "status.conditions")) {
                const char *t = json_str(cond, "type"), *s = json_str(cond, "status");
                if (t && s && strcasecmp(t, type) == 0 && strcasecmp(s, "True") == 0)
                        return true;
        }
        return false;
}

static int wait_for(Cli *c, const char *kind, const char *name, WaitFor what, const char *value,
                    usec_t timeout, char **ret_phase, Error *reterr) {
        usec_t deadline = now_monotonic() + timeout;
        _cleanup_free_ char *phase = NULL, *message = NULL;
        Error last = ERROR_INIT;
        bool reached = false;
        char dbuf[32];

        for (;;) {
                _cleanup_(cJSON_Deletep) cJSON *res = NULL;
                Error e = ERROR_INIT;
                usec_t now;
                int r;

                r = resource_get(c, kind, name, &res, &e);
                if (r == -ENOENT && what == WAIT_DELETE)
                        return 0;
                /* A wrong --server fails at once; a berthd that restarts midway is waited for. */
                if (r != -ECONNREFUSED)
                        reached = true;
                if (r < 0 && (!err_is_transient(r) || !reached)) {
                        if (reterr)
                                *reterr = e;
                        return r;
                }
                if (r < 0)
                        last = e; /* berthd restarting or busy: keep trying until the deadline */
                else {
                        const char *p = json_str_any(res, "status.phase", "phase", NULL);
                        const char *m = json_str_any(res, "status.message", "message", NULL);

                        err_clear(&last);
                        phase = mfree(phase);
                        message = mfree(message);
                        phase = p ? b_strdup(p) : NULL;
                        message = m ? b_strdup(m) : NULL;

                        if (what == WAIT_PHASE && p && strcasecmp(p, value) == 0 &&
                            generation_observed(res)) {
                                if (ret_phase)
                                        *ret_phase = TAKE_PTR(phase);
                                return 0;
                        }
                        if (what == WAIT_CONDITION && condition_true(res, value) &&
                            generation_observed(res))
                                return 0;
                }

                now = now_monotonic();
                if (now >= deadline)
                        break;
                cli_sleep(MIN(CLI_WAIT_INTERVAL, deadline - now));
        }

        format_duration(timeout, dbuf, sizeof(dbuf));
        if (last.code < 0)
                return err_set(reterr, -ETIMEDOUT, NULL,
                               "timed out after %s waiting for %s/%s; last error: %s", dbuf, kind,
                               name, last.msg);
        if (what == WAIT_DELETE)
                return err_set(reterr, -ETIMEDOUT, NULL,
                               "timed out after %s waiting for %s/%s to be deleted (phase %s%s%s)",
                               dbuf, kind, name, strna(phase), message ? ": " : "",
                               strempty(message));
        return err_set(reterr, -ETIMEDOUT, NULL,
                       "timed out after %s waiting for %s/%s %s=%s (phase %s%s%s)", dbuf, kind,
                       name, what == WAIT_PHASE ? "phase" : "condition", value, strna(phase),
                       message ? ": " : "", strempty(message));
}

int wait_deleted(Cli *c, const char *kind, const char *name, usec_t timeout, Error *reterr) {
        return wait_for(c, kind, name, WAIT_DELETE, NULL, timeout, NULL, reterr);
}

int cmd_wait(Cli *c, int argc, char **argv) {
        static const struct option options[] = {
                CLI_COMMON_OPTIONS,
                {"for", required_argument, NULL, ARG_FOR},
                {"timeout", required_argument, NULL, ARG_TIMEOUT},
                {},
        };
        _cleanup_free_ char *phase = NULL, *value = NULL;
        usec_t timeout = CLI_DEFAULT_TIMEOUT;
        const char *kind, *name, *for_arg = NULL;
        Error err = ERROR_INIT;
        WaitFor what;
        int opt, r;

        while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, options, NULL)) != -1) {
                if (cli_common_option(c, opt, optarg))
                        continue;
                switch (opt) {
                case 'h':
                        return cli_help(usage);
                case ARG_FOR:
                        for_arg = optarg;
                        break;
                case ARG_TIMEOUT:
                        if (parse_duration(optarg, &timeout) < 0)
                                return cli_usage_error(usage, "invalid duration '%s'", optarg);
                        break;
                default:
                        return cli_usage_short(usage);
                }
        }
        r = cli_kind_name_args(usage, argv + optind, argc - optind, &kind, &name);
        if (r != CLI_EXIT_OK)
                return r;
        if (!for_arg)
                return cli_usage_error(usage, "missing --for");

        if (streq(for_arg, "delete") || streq(for_arg, "deleted") || streq(for_arg, "delete=true"))
                what = WAIT_DELETE;
        else if (strneq(for_arg, "phase=", STRLEN("phase=")) && for_arg[STRLEN("phase=")])
                what = WAIT_PHASE;
        else if (strneq(for_arg, "condition=", STRLEN("condition=")) &&
                 for_arg[STRLEN("condition=")])
                what = WAIT_CONDITION;
        else
                return cli_usage_error(
                        usage, "--for takes phase=PHASE, condition=TYPE or delete, not '%s'",
                        for_arg);
        if (what != WAIT_DELETE) {
                value = b_strdup(strchr(for_arg, '=') + 1);
                if (!value)
                        return cli_fail(&(Error){.code = -ENOMEM, .msg = "out of memory"});
        }

        r = wait_for(c, kind, name, what, value, timeout, &phase, &err);
        if (r < 0)
                return cli_fail(&err);
        switch (what) {
        case WAIT_DELETE:
                printf("%s/%s deleted\n", kind, name);
                break;
        case WAIT_PHASE:
                printf("%s/%s %s\n", kind, name, strna(phase));
                break;
        case WAIT_CONDITION:
                printf("%s/%s condition %s met\n", kind, name, value);
                break;
        }
        return CLI_EXIT_OK;
}
