/* SPDX-License-Identifier: MIT */
#include <getopt.h>

#include <cjson/cJSON.h>

#include "util/common.h"

#include "cli/cli.h"

static const char usage[] =
        "Usage: berth events [KIND [NAME]] [--follow] [-o table|json|yaml]\n"
        "\n"
        "Shows recent events of one resource, of a kind, or of everything; with --follow, keeps\n"
        "printing them as they happen (Ctrl-C to stop).\n"
        "\n"
        "  -w, --follow         stream new events\n"
        "  -o, --output=FORMAT  table (default), json or yaml (not with --follow)\n"
        "  -p, --project=NAME   only this project (default: all; \"default\" with "
        "NAME)\n" CLI_COMMON_HELP;

#define FOLLOW_RECENT     "20" /* events shown before following */
#define EVENT_LINE_FORMAT "%-19s  %-8s  %-32s  %-20s  %s\n"

typedef struct Follow {
        Cli *c;
        const char *kind, *name, *project;
        int64_t last_id; /* -1: none seen yet */
        char last_sse_id[64];
} Follow;

static const char *event_object(const cJSON *ev, const char *kind, const char *name, char *buf,
                                size_t n) {
        const char *k = json_str_any(ev, "kind", "resource.kind", NULL);
        const char *nm = json_str_any(ev, "name", "resource.name", NULL);

        snprintf(buf, n, "%s/%s", k ? k : strna(kind), nm ? nm : strna(name));
        return buf;
}

static const char *event_time(const cJSON *ev, char *buf, size_t n) {
        const char *ts = json_str_any(ev, "time", "created_at", "timestamp", NULL);

        if (!ts) {
                char iso[64];
                return format_time_local(format_rfc3339(now_realtime(), iso, sizeof(iso)), buf, n);
        }
        return format_time_local(ts, buf, n);
}

static void event_print_line(const cJSON *ev, const char *sse_type, const char *kind,
                             const char *name) {
        char tb[64], ob[256];
        const char *type = json_str(ev, "type");
        const char *reason = json_str_any(ev, "reason", "phase", "status.phase", NULL);
        const char *msg = json_str_any(ev, "message", "status.message", NULL);
        _cleanup_free_ char *clean = NULL;

        if (!type)
                type = sse_type;
        if (msg) {
                clean = b_strdup(msg);
                if (clean)
                        for (char *p = clean; *p; p++)
                                if ((unsigned char) *p < 0x20)
                                        *p = ' ';
        }
        printf(EVENT_LINE_FORMAT, event_time(ev, tb, sizeof(tb)), strna(type),
               event_object(ev, kind, name, ob, sizeof(ob)), strna(reason),
               clean ? clean : strempty(msg));
        fflush(stdout);
}

static void follow_note_id(Follow *f, const cJSON *ev) {
        int64_t id;

        if (json_int(ev, "id", &id) && id > f->last_id)
                f->last_id = id;
}

static int sse_event(const char *id, const char *event, const char *data, void *userdata) {
        _cleanup_(cJSON_Deletep) cJSON *ev = NULL;
        Follow *f = userdata;
        char *end;
        long long n;

        if (id) {
                snprintf(f->last_sse_id, sizeof(f->last_sse_id), "%s", id);
                errno = 0;
                n = strtoll(id, &end, 10);
                if (errno == 0 && *end == 0 && end != id && n > f->last_id)
                        f->last_id = n;
        }
        if (streq(event, "ping") || streq(event, "keepalive") || streq(event, "heartbeat"))
                return 0;
        ev = cJSON_Parse(data);
        if (!cJSON_IsObject(ev)) {
                /* Not JSON: show it as it came. */
                printf("%s %s\n", event, data);
                fflush(stdout);
                return 0;
        }
        follow_note_id(f, ev);
        event_print_line(ev, event, f->kind, f->name);
        return 0;
}

static int events_query(Buf *path, const Follow *f) {
        int r = api_query(path, "project", f->project);

        if (r >= 0)
                r = api_query(path, "kind", f->kind);
        if (r >= 0)
                r = api_query(path, "name", f->name);
        return r;
}

/* The events after the last one seen: base is the list or (?follow=true) the stream. */
static int events_after_path(Buf *path, const Follow *f, const char *base) {
        char after[32];
        int r;

        snprintf(after, sizeof(after), "%" PRId64, f->last_id);
        r = buf_puts(path, base);
        if (r >= 0)
                r = events_query(path, f);
        if (r >= 0)
                r = api_query(path, "after", f->last_id >= 0 ? after : NULL);
        return r;
}

/* Prints the items newer than f->last_id, oldest first. */
static int print_new_items(Follow *f, const cJSON *answer) {
        _cleanup_free_ const cJSON **items = NULL;
        size_t n;
        int r;

        r = items_chronological(json_get(answer, "items"), &items, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                int64_t id;

                if (json_int(items[i], "id", &id) && f->last_id >= 0 && id <= f->last_id)
                        continue;
                follow_note_id(f, items[i]);
                event_print_line(items[i], NULL, f->kind, f->name);
        }
        return 0;
}

/* For servers without the event stream: GET /api/v1/events?after=ID every second. */
static int follow_poll(Follow *f, Error *reterr) {
        bool warned = false;

        for (;;) {
                _cleanup_(buf_release) Buf path = BUF_INIT(4096);
                _cleanup_(cJSON_Deletep) cJSON *answer = NULL;
                Error e = ERROR_INIT;
                int r;

                r = events_after_path(&path, f, "/api/v1/events");
                if (r < 0)
                        return err_set(reterr, r, NULL, "out of memory");

                r = api_get(f->c, path.buf, &answer, &e);
                if (r < 0) {
                        if (!err_is_transient(r)) {
                                if (reterr)
                                        *reterr = e;
                                return r;
                        }
                        if (!warned)
                                fprintf(stderr, "berth: %s; retrying\n", e.msg);
                        warned = true;
                } else {
                        warned = false;
                        r = print_new_items(f, answer);
                        if (r < 0)
                                return err_set(reterr, r, NULL, "out of memory");
                }
                cli_sleep(CLI_POLL_INTERVAL);
        }
}

/* The last few events, so the stream starts from there and not from the whole history. */
static int follow_recent(Follow *f, Error *reterr) {
        _cleanup_(buf_release) Buf path = BUF_INIT(4096);
        _cleanup_(cJSON_Deletep) cJSON *answer = NULL;
        int r;

        r = buf_puts(&path, "/api/v1/events");
        if (r >= 0)
                r = events_query(&path, f);
        if (r >= 0)
                r = api_query(&path, "limit", FOLLOW_RECENT);
        if (r < 0)
                return err_set(reterr, r, NULL, "out of memory");
        r = api_get(f->c, path.buf, &answer, reterr);
        if (r < 0)
                return r;
        r = print_new_items(f, answer);
        if (r < 0)
                return err_set(reterr, r, NULL, "out of memory");
        return 0;
}

static int follow(Follow *f, Error *reterr) {
        bool warned = false;
        int r;

        printf(EVENT_LINE_FORMAT, "TIME", "TYPE", "OBJECT", "REASON", "MESSAGE");
        fflush(stdout);
        /* Also checks that berthd answers: after this, a lost connection is a restart to ride out.
         */
        r = follow_recent(f, reterr);
        if (r < 0)
                return r;
        for (;;) {
                _cleanup_(buf_release) Buf path = BUF_INIT(4096);
                _cleanup_(buf_release) Buf body = {0};
                _cleanup_(cJSON_Deletep) cJSON *answer = NULL;
                Error e = ERROR_INIT;
                long status = 0;

                r = events_after_path(&path, f, "/api/v1/events?follow=true");
                if (r < 0)
                        return err_set(reterr, r, NULL, "out of memory");

                r = http_sse(f->c, path.buf, f->last_sse_id[0] ? f->last_sse_id : NULL, sse_event,
                             f, &status, &body, &e);
                if (r == 0) {
                        /* The server ended the stream (restart, idle limit): reconnect. */
                        warned = false;
                        cli_sleep(CLI_POLL_INTERVAL);
                        continue;
                }
                if (r < 0) {
                        if (err_is_transient(r)) {
                                if (!warned)
                                        fprintf(stderr, "berth: %s; reconnecting\n", e.msg);
                                warned = true;
                                cli_sleep(CLI_POLL_INTERVAL);
                                continue;
                        }
                        if (reterr)
                                *reterr = e;
                        return r;
                }

                /* Not an event stream: an older server. */
                if (status == 404 || status == 400 || status == 405 || status == 501)
                        return follow_poll(f, reterr);
                if (status < 200 || status >= 300)
                        return api_error(status, &body, reterr);
                answer = cJSON_ParseWithLength(body.buf, body.len);
                if (answer) {
                        r = print_new_items(f, answer);
                        if (r < 0)
                                return err_set(reterr, r, NULL, "out of memory");
                }
                cli_sleep(CLI_POLL_INTERVAL);
                return follow_poll(f, reterr);
        }
}

static int list(Cli *c, const char *kind, const char *name, OutputFormat output) {
        static const char *const header[] = {"TIME", "TYPE", "OBJECT", "REASON", "MESSAGE"};
        _cleanup_(cJSON_Deletep) cJSON *answer = NULL;
        _cleanup_(table_release) Table t = {0};
        _cleanup_free_ const cJSON **items = NULL;
        Error err = ERROR_INIT;
        size_t n;
        int r;

        r = api_get_scope(c, kind, name, "/events", "/api/v1/events", &answer, &err);
        if (r < 0)
                return cli_fail(&err);
        if (output != OUTPUT_TABLE)
                return cli_print_answer(answer, output);

        r = items_chronological(json_get(answer, "items"), &items, &n);
        if (r < 0)
                return cli_fail(&(Error){.code = r, .msg = "out of memory"});
        if (n == 0) {
                fputs("No events found.\n", stderr);
                return CLI_EXIT_OK;
        }
        table_init(&t, ELEMENTSOF(header));
        t.width = terminal_width();
        r = table_add_row(&t, header, ELEMENTSOF(header));
        for (size_t i = 0; r >= 0 && i < n; i++) {
                char tb[64], ob[256];
                const char *cells[] = {
                        event_time(items[i], tb, sizeof(tb)),
                        json_str(items[i], "type"),
                        event_object(items[i], kind, name, ob, sizeof(ob)),
                        json_str(items[i], "reason"),
                        json_str(items[i], "message"),
                };

                r = table_add_row(&t, cells, ELEMENTSOF(cells));
        }
        if (r >= 0)
                r = table_print(&t, stdout);
        return r < 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}

int cmd_events(Cli *c, int argc, char **argv) {
        static const struct option options[] = {
                CLI_COMMON_OPTIONS,
                {"follow", no_argument, NULL, 'w'},
                {"watch", no_argument, NULL, 'w'},
                {"output", required_argument, NULL, 'o'},
                {},
        };
        OutputFormat output = OUTPUT_TABLE;
        const char *kind = NULL, *name = NULL;
        Error err = ERROR_INIT;
        bool follow_mode = false;
        int opt, r;

        while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "wo:", options, NULL)) != -1) {
                if (cli_common_option(c, opt, optarg))
                        continue;
                switch (opt) {
                case 'h':
                        return cli_help(usage);
                case 'w':
                        follow_mode = true;
                        break;
                case 'o':
                        output = output_format_from_string(optarg);
                        if (output < 0)
                                return cli_usage_error(usage, "unknown output format '%s'", optarg);
                        break;
                default:
                        return cli_usage_short(usage);
                }
        }
        r = cli_scope_args(usage, argv + optind, argc - optind, &kind, &name);
        if (r != CLI_EXIT_OK)
                return r;
        if (follow_mode && output != OUTPUT_TABLE)
                return cli_usage_error(usage, "--follow prints lines; -o does not apply");

        if (!follow_mode)
                return list(c, kind, name, output);

        Follow f = {
                .c = c,
                .kind = kind,
                .name = name,
                .project = name ? cli_project(c) : c->project,
                .last_id = -1,
        };
        r = follow(&f, &err);
        return r < 0 ? cli_fail(&err) : CLI_EXIT_OK;
}
