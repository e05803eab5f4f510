/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"

#include "drivers/docker/docker-internal.h"
#include "drivers/docker/json-convert.h"
#include "model/resource.h"

/* Actions that change no container state, most of them caused by berth itself (an exec for a
 * probe would otherwise wake the reconciler that ran it, forever). */
static bool action_is_noise(const char *action) {
        static const char *const noise[] = {
                "attach",         "detach", "resize", "top",    "archive-path",
                "extract-to-dir", "copy",   "export", "commit",
        };

        if (strneq(action, "exec_", STRLEN("exec_")))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(noise); i++)
                if (streq(action, noise[i]))
                        return true;
        return false;
}

typedef struct EventsCtx {
        DockerEventFn fn;
        void *userdata;
        const char *op;
        Error *reterr;
        int fn_result;
} EventsCtx;

static int event_line(const char *line, size_t len, void *userdata) {
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        EventsCtx *e = userdata;
        DockerEventInfo ev;
        int r;

        r = docker_json_event_parse(line, len, &doc, &ev);
        if (r < 0)
                return err_set(e->reterr, r, NULL, "%s: unparsable event", e->op);
        if ((ev.type && !streq(ev.type, "container")) || !ev.id || action_is_noise(ev.action))
                return 0;
        r = e->fn(ev.action, ev.id, ev.resource, ev.time_nano, e->userdata);
        if (r != 0) {
                e->fn_result = r;
                /* A negative value ends the stream as that error; the callback owns its text. */
                if (r < 0)
                        return err_set(e->reterr, r, NULL, "%s: handler failed", e->op);
                return 1;
        }
        return 0;
}

int docker_events_follow(DockerClient *c, int64_t since_nano, DockerEventFn fn, void *userdata,
                         const volatile bool *stop, Error *reterr) {
        _cleanup_(buf_release) Buf path = BUF_INIT(DOCKER_MAX_PATH);
        char *labels[] = {(char *) LABEL_MANAGED "=true", NULL};
        const char *op = "follow container events";
        EventsCtx ctx = {.fn = fn, .userdata = userdata, .op = op, .reterr = reterr};
        static const volatile bool never = false;
        int r;

        assert_return(c, -EINVAL);
        assert_return(fn, -EINVAL);
        assert_return(since_nano >= 0, -EINVAL);

        r = buf_puts(&path, "/events");
        if (r >= 0 && since_nano > 0) {
                char since[48];

                snprintf(since, sizeof(since), "%" PRId64 ".%09" PRId64, since_nano / 1000000000,
                         since_nano % 1000000000);
                r = docker_query(&path, "since", since);
        }
        if (r >= 0)
                r = docker_query_filters(&path, labels, "container");
        if (r < 0)
                return err_set(reterr, r, NULL, "%s: cannot build the request", op);

        r = docker_request(c,
                           &(DockerRequest){.method = "GET",
                                            .path = path.buf,
                                            .op = op,
                                            .timeout_ms = -1,
                                            .on_line = event_line,
                                            .userdata = &ctx,
                                            .stop = stop ? stop : &never},
                           reterr);
        if (r < 0)
                return r;
        if (ctx.fn_result != 0 || (stop && *stop))
                return 0;
        return err_set(reterr, -ECONNRESET, NULL, "%s: the engine ended the stream", op);
}
