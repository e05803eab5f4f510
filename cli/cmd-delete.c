/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/common.h"

#include "cli/cli.h"
#include "model/document.h"

static const char usage[] =
        "Usage: berth delete KIND NAME [--wait [--timeout 120s]]\n"
        "       berth delete -f FILE|DIR|- [-f ...] [--wait [--timeout 120s]]\n"
        "\n"
        "Deletes resources; the controller then removes their containers, volumes and networks.\n"
        "With -f, every document's kind, metadata.name and metadata.project.\n"
        "\n"
        "  -f, --filename=PATH     a file, a directory (*.yaml, *.yml, *.json) or -; repeatable\n"
        "      --wait              wait until the resources are gone\n"
        "      --timeout=TIME      give up waiting after TIME (default 120s)\n"
        "      --ignore-not-found  a resource that does not exist is not an error\n"
        "  -p, --project=NAME      project (default \"default\"; documents may name their "
        "own)\n" CLI_COMMON_HELP;

/* Targets are kept as a flat strv: kind, name, project, kind, name, project, ... */
static int targets_add(char ***targets, const char *kind, const char *name, const char *project) {
        int r = strv_push(targets, kind);

        if (r >= 0)
                r = strv_push(targets, name);
        if (r >= 0)
                r = strv_push(targets, project);
        return r;
}

static int targets_from_docs(const cJSON *docs, const char *what, const char *default_project,
                             char ***targets, Error *reterr) {
        const cJSON *doc;
        size_t i = 0;

        cJSON_ArrayForEach(doc, docs) {
                const char *kind = json_str(doc, "kind"), *name = json_str(doc, "metadata.name");
                const char *project = json_str(doc, "metadata.project");

                i++;
                if (cJSON_IsNull(doc))
                        continue; /* an empty document */
                if (isempty(kind) || isempty(name))
                        return err_set(reterr, -EINVAL, "metadata.name",
                                       "%s: document %zu has no kind or metadata.name", what, i);
                if (targets_add(targets, kind, name, isempty(project) ? default_project : project) <
                    0)
                        return err_set(reterr, -ENOMEM, NULL, "out of memory");
        }
        return 0;
}

static int targets_from_file(const char *path, const char *default_project, char ***targets,
                             Error *reterr) {
        _cleanup_(buf_release) Buf text = {0};
        _cleanup_(cJSON_Deletep) cJSON *docs = NULL;
        const char *what = streq(path, "-") ? "standard input" : path;
        size_t n = strlen(path);
        int r;

        r = read_file_capped(path, API_MAX_BODY, &text, reterr);
        if (r < 0)
                return r;
        if (n > 5 && streq(path + n - 5, ".json")) {
                docs = cJSON_ParseWithLength(text.buf, text.len);
                if (!docs)
                        return err_set(reterr, -EINVAL, NULL, "%s: invalid JSON", what);
                if (cJSON_IsObject(docs)) {
                        cJSON *arr = cJSON_CreateArray();
                        if (!arr)
                                return err_set(reterr, -ENOMEM, NULL, "out of memory");
                        cJSON_AddItemToArray(arr, TAKE_PTR(docs));
                        docs = arr;
                }
        } else {
                /* YAML, or JSON (a flow document) on standard input. */
                r = yaml_to_json(text.buf, text.len, &docs, reterr);
                if (r < 0)
                        return err_prefix(reterr, "%s", what);
        }
        if (!cJSON_IsArray(docs))
                return err_set(reterr, -EINVAL, NULL, "%s: expected documents", what);
        return targets_from_docs(docs, what, default_project, targets, reterr);
}

/* Returns 1 when deleted, 0 when absent and ignored. */
static int delete_one(Cli *c, const char *kind, const char *name, const char *project,
                      bool ignore_not_found, Error *reterr) {
        _cleanup_(buf_release) Buf path = BUF_INIT(4096);
        int r;

        r = api_resource_path(&path, kind, name, "", project);
        if (r < 0)
                return err_set(reterr, r, NULL, "out of memory");
        r = api_call(c, "DELETE", path.buf, NULL, NULL, 0, NULL, reterr);
        if (r == -ENOENT && ignore_not_found)
                return 0;
        if (r < 0)
                return r;
        printf("%s/%s deleted\n", kind, name);
        fflush(stdout);
        return 1;
}

int cmd_delete(Cli *c, int argc, char **argv) {
        static const struct option options[] = {
                CLI_COMMON_OPTIONS,
                {"filename", required_argument, NULL, 'f'},
                {"wait", no_argument, NULL, ARG_WAIT},
                {"timeout", required_argument, NULL, ARG_TIMEOUT},
                {"ignore-not-found", no_argument, NULL, ARG_IGNORE_NOT_FOUND},
                {},
        };
        _cleanup_strv_free_ char **files = NULL, **inputs = NULL, **targets = NULL;
        bool wait = false, ignore_not_found = false, failed = false;
        _cleanup_free_ bool *deleted = NULL;
        usec_t timeout = CLI_DEFAULT_TIMEOUT;
        Error err = ERROR_INIT;
        size_t n;
        int opt, r;

        while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "f:", options, NULL)) != -1) {
                if (cli_common_option(c, opt, optarg))
                        continue;
                switch (opt) {
                case 'h':
                        return cli_help(usage);
                case 'f':
                        if (strv_push(&files, optarg) < 0)
                                return cli_fail(&(Error){.code = -ENOMEM, .msg = "out of memory"});
                        break;
                case ARG_WAIT:
                        wait = true;
                        break;
                case ARG_TIMEOUT:
                        if (parse_duration(optarg, &timeout) < 0)
                                return cli_usage_error(usage, "invalid duration '%s'", optarg);
                        break;
                case ARG_IGNORE_NOT_FOUND:
                        ignore_not_found = true;
                        break;
                default:
                        return cli_usage_short(usage);
                }
        }

        if (files) {
                if (optind < argc)
                        return cli_usage_error(usage, "give either KIND NAME or -f, not both");
                r = inputs_expand(files, &inputs, &err);
                if (r < 0)
                        return cli_fail(&err);
                /* Read every file before deleting anything. */
                for (char **i = inputs; *i; i++) {
                        r = targets_from_file(*i, cli_project(c), &targets, &err);
                        if (r < 0)
                                return cli_fail(&err);
                }
                if (!targets)
                        return cli_fail(
                                &(Error){.code = -ENODATA, .msg = "no documents in the input"});
        } else {
                const char *kind, *name;

                r = cli_kind_name(argv + optind, argc - optind, &kind, &name);
                if (r < 0)
                        return cli_usage_error(usage, "expected KIND NAME or -f FILE");
                if (optind + r != argc)
                        return cli_usage_error(usage, "too many arguments");
                if (targets_add(&targets, kind, name, cli_project(c)) < 0)
                        return cli_fail(&(Error){.code = -ENOMEM, .msg = "out of memory"});
        }

        n = strv_length(targets) / 3;
        deleted = b_calloc(n, sizeof(bool));
        if (!deleted)
                return cli_fail(&(Error){.code = -ENOMEM, .msg = "out of memory"});
        for (size_t i = 0; i < n; i++) {
                char **t = targets + 3 * i;

                err_clear(&err);
                r = delete_one(c, t[0], t[1], t[2], ignore_not_found, &err);
                if (r < 0) {
                        cli_fail(&err);
                        failed = true;
                }
                deleted[i] = r > 0;
        }

        if (wait)
                for (size_t i = 0; i < n; i++) {
                        char **t = targets + 3 * i;
                        const char *saved = c->project;

                        if (!deleted[i])
                                continue;
                        err_clear(&err);
                        c->project = t[2];
                        r = wait_deleted(c, t[0], t[1], timeout, &err);
                        c->project = saved;
                        if (r < 0) {
                                cli_fail(&err);
                                failed = true;
                        }
                }
        return failed ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}
