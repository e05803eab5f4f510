/* SPDX-License-Identifier: MIT */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "util/common.h"

#define LOG_MODULE "api"
#include "util/log.h"

#include "api/api.h"
#include "model/resource.h"
#include "store/audit.h"
#include "store/store.h"

/* GET /api/v1/events?project=&kind=&name=&after=N&limit=N[&follow=true]
 *
 * Without follow: {"items": [...]} from store_events_list, filtered. With follow: Server-Sent
 * Events. The stream polls the store every API_SSE_POLL_USEC through the shared pool (one short
 * checkout per poll, so streams never pin connections), sends `id:`/`event:`/`data:` blocks,
 * a ": ping" comment after API_SSE_HEARTBEAT_USEC of silence, honours Last-Event-ID, and ends
 * when the server stops or the client goes away. Ids are the store's event ids, so a client
 * that reconnects with Last-Event-ID misses nothing that was committed in id order. */

#define EVENTS_PAGE      100
#define EVENTS_MAX_PAGES 10
#define SSE_MAX_PENDING  (1024 * 1024)
#define SSE_POOL_WAIT    (1 * USEC_PER_SEC)

typedef struct EventFilter {
        char uuid[37]; /* empty: all resources */
        char project[NAME_MAX_LEN + 1];
        ResourceKind kind; /* < 0: any */
        bool all_projects; /* the caller is an admin (or authentication is off) */
        char **visible;    /* otherwise: the projects the caller may read (owned) */
} EventFilter;

static void event_filter_release(EventFilter *f) {
        f->visible = strv_free(f->visible);
}

/* The caller's readable projects, copied: an event stream outlives nothing it borrows. */
static int filter_visibility(const ApiCaller *c, EventFilter *f) {
        f->all_projects = c->admin;
        if (c->admin)
                return 0;
        for (size_t i = 0; i < c->n_memberships; i++)
                if (c->memberships[i].role >= API_ROLE_VIEWER) {
                        int r = strv_push(&f->visible, c->memberships[i].project);
                        if (r < 0)
                                return r;
                }
        return 0;
}

static int filter_parse(ApiRequest *req, EventFilter *ret, Error *reterr) {
        const char *project = api_query(req, "project"), *kind = api_query(req, "kind"),
                   *name = api_query(req, "name");

        *ret = (EventFilter){.kind = _KIND_INVALID};
        if (filter_visibility(&req->caller, ret) < 0)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        if (!isempty(project)) {
                if (!name_is_valid(project))
                        return err_setr(reterr, -EINVAL, "INVALID_PARAMETER", "project",
                                        "project must be a DNS label");
                snprintf(ret->project, sizeof(ret->project), "%s", project);
        }
        if (!isempty(kind)) {
                ret->kind = kind_from_string(kind);
                if (ret->kind < 0)
                        return err_setr(reterr, -EINVAL, "INVALID_PARAMETER", "kind",
                                        "unknown kind \"%.64s\"", kind);
        }
        if (!isempty(name)) {
                if (ret->kind < 0)
                        return err_setr(reterr, -EINVAL, "INVALID_PARAMETER", "name",
                                        "name needs kind");
                if (!name_is_valid(name))
                        return err_setr(reterr, -ENOENT, "RESOURCE_NOT_FOUND", NULL,
                                        "%s \"%.64s\" not found", kind_to_string(ret->kind), name);
        }
        return 0;
}

/* With kind and name, resolves the resource's uuid (project "default" when not given). */
static int filter_resolve(ApiRequest *req, Store *s, EventFilter *f, Error *reterr) {
        const char *name = api_query(req, "name");
        StoredResource row = {};
        const char *project = f->project[0] ? f->project : "default";
        int r;

        if (isempty(name))
                return 0;
        {
                /* A project the caller cannot see answers exactly as a missing resource. */
                char what[NAME_MAX_LEN + 80];
                snprintf(what, sizeof(what), "%s \"%s\"", kind_to_string(f->kind), name);
                r = api_caller_check(&req->caller, project, API_ROLE_VIEWER, what, reterr);
                if (r < 0)
                        return r;
        }
        r = store_resource_get(s, f->kind, project, name, &row, reterr);
        if (r == -ENOENT)
                return err_setr(reterr, -ENOENT, "RESOURCE_NOT_FOUND", NULL,
                                "%s \"%s\" not found in project \"%s\"", kind_to_string(f->kind),
                                name, project);
        if (r < 0)
                return r;
        snprintf(f->uuid, sizeof(f->uuid), "%s", row.ref.uuid);
        stored_resource_release(&row);
        return 0;
}

static bool filter_accepts(const EventFilter *f, const cJSON *event) {
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(event, "resource");
        const cJSON *v;

        if (!f->all_projects) {
                v = cJSON_GetObjectItemCaseSensitive(res, "project");
                if (!cJSON_IsString(v) || !strv_contains(f->visible, v->valuestring))
                        return false;
        }
        if (f->project[0]) {
                v = cJSON_GetObjectItemCaseSensitive(res, "project");
                if (!cJSON_IsString(v) || !streq(v->valuestring, f->project))
                        return false;
        }
        if (f->kind >= 0) {
                v = cJSON_GetObjectItemCaseSensitive(res, "kind");
                if (!cJSON_IsString(v) || !streq(v->valuestring, kind_to_string(f->kind)))
                        return false;
        }
        return true;
}

static int64_t event_id(const cJSON *event) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(event, "id");
        return cJSON_IsNumber(id) ? (int64_t) id->valuedouble : 0;
}

/* One page of events after *after, filtered, moved into out; *after advances past every event
 * read (kept or not). Returns the number read (not kept). */
static int events_page(Store *s, const EventFilter *f, int64_t *after, int limit, cJSON *out,
                       Error *reterr) {
        _cleanup_(cjson_deletep) cJSON *page = NULL;
        int n = 0, r;

        r = store_events_list(s, f->uuid[0] ? f->uuid : NULL, *after, limit, &page, reterr);
        if (r < 0)
                return r;
        while (cJSON_IsArray(page) && cJSON_GetArraySize(page) > 0) {
                cJSON *ev = cJSON_DetachItemFromArray(page, 0);
                int64_t id = event_id(ev);

                n++;
                if (id > *after)
                        *after = id;
                if (!filter_accepts(f, ev)) {
                        cJSON_Delete(ev);
                        continue;
                }
                r = json_append_take(out, ev);
                if (r < 0)
                        return err_set(reterr, r, NULL, "out of memory");
        }
        return n;
}

/* ---- plain list ------------------------------------------------------------------------------ */

static int events_list(ApiRequest *req, const EventFilter *filter, int64_t after, int limit,
                       ApiReply *reply, Error *reterr) {
        _cleanup_(pool_lease_release) PoolLease lease = {};
        _cleanup_(cjson_deletep) cJSON *root = NULL;
        EventFilter f = *filter;
        cJSON *items;
        int r;

        root = cJSON_CreateObject();
        items = root ? cJSON_AddArrayToObject(root, "items") : NULL;
        if (!items)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");

        r = api_store(req, &lease, reterr);
        if (r < 0)
                return r;
        r = filter_resolve(req, lease.store, &f, reterr);
        if (r < 0)
                return r;

        /* Filters that the store cannot apply (project, kind) are applied here, page by page,
         * until `limit` events are kept or the history ends. */
        for (int page = 0; page < EVENTS_MAX_PAGES && cJSON_GetArraySize(items) < limit; page++) {
                int want = limit - cJSON_GetArraySize(items);
                r = events_page(lease.store, &f, &after, want, items, reterr);
                if (r < 0)
                        return r;
                if (r < want)
                        break;
        }
        return api_reply_json(reply, 200, TAKE_PTR(root));
}

/* ---- server-sent events -----------------------------------------------------------------------
 */

typedef struct SseStream {
        ApiServer *server;
        char user[65]; /* the caller, for the per-user cap */
        EventFilter filter;
        int64_t after;
        int fd;      /* the client's socket, to notice it went away */
        Buf pending; /* formatted, not yet handed to MHD */
        size_t off;  /* bytes of pending already handed out */
        usec_t next_poll, last_write;
} SseStream;

/* Takes one of the caller's stream slots (server->lock held); false when they have them all. */
static bool sse_user_take(ApiServer *s, const char *user) {
        int free_slot = -1;

        for (int i = 0; i < API_MAX_SSE_STREAMS; i++) {
                if (s->sse_users[i].n > 0 && streq(s->sse_users[i].name, user)) {
                        if (s->sse_users[i].n >= API_MAX_SSE_STREAMS_PER_USER)
                                return false;
                        s->sse_users[i].n++;
                        return true;
                }
                if (s->sse_users[i].n == 0 && free_slot < 0)
                        free_slot = i;
        }
        if (free_slot < 0)
                return false;
        snprintf(s->sse_users[free_slot].name, sizeof(s->sse_users[free_slot].name), "%s", user);
        s->sse_users[free_slot].n = 1;
        return true;
}

static void sse_user_give(ApiServer *s, const char *user) {
        for (int i = 0; i < API_MAX_SSE_STREAMS; i++)
                if (s->sse_users[i].n > 0 && streq(s->sse_users[i].name, user)) {
                        s->sse_users[i].n--;
                        return;
                }
}

static void sse_free(void *cls) {
        SseStream *st = cls;

        if (!st)
                return;
        pthread_mutex_lock(&st->server->lock);
        sse_user_give(st->server, st->user);
        atomic_fetch_sub(&st->server->sse_streams, 1);
        pthread_cond_broadcast(&st->server->stop_cond); /* api_server_stop may be waiting */
        pthread_mutex_unlock(&st->server->lock);
        buf_release(&st->pending);
        event_filter_release(&st->filter);
        b_free(st);
}

/* `data:` must be one line; cJSON's unformatted output is. `event:` likewise. */
static int sse_append_event(SseStream *st, const cJSON *ev) {
        _cleanup_free_ char *data = NULL;
        const cJSON *reason = cJSON_GetObjectItemCaseSensitive(ev, "reason");
        char name[64] = "event";

        if (cJSON_IsString(reason) && !isempty(reason->valuestring)) {
                snprintf(name, sizeof(name), "%s", reason->valuestring);
                for (char *p = name; *p; p++)
                        if (*p == '\n' || *p == '\r')
                                *p = ' ';
        }
        data = cJSON_PrintUnformatted(ev);
        if (!data)
                return -ENOMEM;
        return buf_printf(&st->pending, "id: %" PRId64 "\nevent: %s\ndata: %s\n\n", event_id(ev),
                          name, data);
}

/* Reads one page of new events into pending. Returns how many the store returned. */
static int sse_poll(SseStream *st) {
        _cleanup_(cjson_deletep) cJSON *kept = cJSON_CreateArray();
        Error e = ERROR_INIT;
        Store *s = NULL;
        int n, r;

        if (!kept)
                return -ENOMEM;
        r = api_pool_get(st->server->pool, SSE_POOL_WAIT, &s, &e);
        if (r < 0) {
                log_debug("event stream: %s", e.msg);
                return r;
        }
        n = events_page(s, &st->filter, &st->after, EVENTS_PAGE, kept, &e);
        api_pool_put(st->server->pool, s);
        if (n < 0) {
                log_debug("event stream: %s", e.msg);
                return n;
        }

        for (cJSON *ev = kept->child; ev; ev = ev->next) {
                r = sse_append_event(st, ev);
                if (r == -E2BIG) {
                        /* An event larger than the whole pending buffer: skip it, keep going. */
                        log_warn("event stream: event %" PRId64 " too large, skipped",
                                 event_id(ev));
                        continue;
                }
                if (r < 0)
                        return r;
        }
        return n;
}

static bool sse_client_gone(const SseStream *st) {
        struct pollfd p = {.fd = st->fd, .events = POLLRDHUP};

        if (st->fd < 0)
                return false;
        return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

static void sse_wait_until(SseStream *st, usec_t until) {
        ApiServer *s = st->server;
        struct timespec ts = {.tv_sec = (time_t) (until / USEC_PER_SEC),
                              .tv_nsec = (long) (until % USEC_PER_SEC) * 1000};

        pthread_mutex_lock(&s->lock);
        if (!atomic_load(&s->stopping))
                (void) pthread_cond_timedwait(&s->stop_cond, &s->lock, &ts);
        pthread_mutex_unlock(&s->lock);
}

/* MHD content reader: runs on the connection's own thread, so it may block. */
static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max) {
        SseStream *st = cls;

        (void) pos;
        for (;;) {
                usec_t now, wake;

                if (st->pending.len > st->off) {
                        size_t n = MIN(max, st->pending.len - st->off);
                        memcpy(buf, st->pending.buf + st->off, n);
                        st->off += n;
                        if (st->off == st->pending.len) {
                                buf_reset(&st->pending);
                                st->off = 0;
                        }
                        st->last_write = now_monotonic();
                        return (ssize_t) n;
                }
                if (atomic_load(&st->server->stopping))
                        return MHD_CONTENT_READER_END_OF_STREAM;
                if (sse_client_gone(st))
                        return MHD_CONTENT_READER_END_OF_STREAM; /* nobody to tell */

                now = now_monotonic();
                if (now >= st->next_poll) {
                        int n = sse_poll(st);
                        /* A full page means more is waiting: poll again at once. */
                        st->next_poll = n >= EVENTS_PAGE ? now : now + API_SSE_POLL_USEC;
                        if (n == -ENOMEM)
                                return MHD_CONTENT_READER_END_WITH_ERROR;
                        continue;
                }
                if (now >= st->last_write + API_SSE_HEARTBEAT_USEC) {
                        if (buf_puts(&st->pending, ": ping\n\n") < 0)
                                return MHD_CONTENT_READER_END_WITH_ERROR;
                        continue;
                }
                wake = MIN(st->next_poll, st->last_write + API_SSE_HEARTBEAT_USEC);
                sse_wait_until(st, wake);
        }
}

static int events_follow(ApiRequest *req, const EventFilter *filter, int64_t after, ApiReply *reply,
                         Error *reterr) {
        _cleanup_free_ SseStream *st = NULL;
        const union MHD_ConnectionInfo *ci;
        struct MHD_Response *resp;
        const char *last_id;
        int r;

        last_id = api_header(req, MHD_HTTP_HEADER_LAST_EVENT_ID);
        if (!isempty(last_id)) {
                char *end = NULL;
                long long v;

                errno = 0;
                v = strtoll(last_id, &end, 10);
                if (errno != 0 || end == last_id || *end != 0 || v < 0)
                        return err_setr(reterr, -EINVAL, "INVALID_PARAMETER", "Last-Event-ID",
                                        "Last-Event-ID must be an event id");
                after = v;
        }

        st = b_calloc(1, sizeof(*st));
        if (!st)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        st->server = req->server;
        st->filter = *filter;
        st->filter.visible = NULL; /* the stream's own copy is made once it is counted */
        st->after = after;
        buf_init(&st->pending, SSE_MAX_PENDING);
        ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        st->fd = ci ? ci->connect_fd : -1;

        {
                _cleanup_(pool_lease_release) PoolLease lease = {};
                r = api_store(req, &lease, reterr);
                if (r >= 0)
                        r = filter_resolve(req, lease.store, &st->filter, reterr);
                if (r < 0) {
                        buf_release(&st->pending);
                        return r;
                }
        }

        if (atomic_load(&req->server->stopping)) {
                buf_release(&st->pending);
                return err_setr(reterr, -ESHUTDOWN, "UNAVAILABLE", NULL, "server is stopping");
        }
        if (atomic_fetch_add(&req->server->sse_streams, 1) >= API_MAX_SSE_STREAMS) {
                atomic_fetch_sub(&req->server->sse_streams, 1);
                buf_release(&st->pending);
                return err_setr(reterr, -EBUSY, "TOO_MANY_STREAMS", NULL,
                                "too many event streams (at most %d)", API_MAX_SSE_STREAMS);
        }
        snprintf(st->user, sizeof(st->user), "%s", req->caller.name);
        {
                bool ok;

                pthread_mutex_lock(&req->server->lock);
                ok = sse_user_take(req->server, st->user);
                pthread_mutex_unlock(&req->server->lock);
                if (!ok) {
                        atomic_fetch_sub(&req->server->sse_streams, 1);
                        buf_release(&st->pending);
                        return err_setr(reterr, -EBUSY, "TOO_MANY_STREAMS", NULL,
                                        "too many event streams for %s (at most %d per caller)",
                                        st->user[0] ? st->user : "this caller",
                                        API_MAX_SSE_STREAMS_PER_USER);
                }
        }

        if (filter->visible) {
                st->filter.visible = strv_copy(filter->visible);
                if (!st->filter.visible) {
                        sse_free(TAKE_PTR(st));
                        return err_set(reterr, -ENOMEM, NULL, "out of memory");
                }
        }

        /* Sent at once, so the client sees the headers before the first event. */
        r = buf_puts(&st->pending, "retry: 2000\n: connected\n\n");
        if (r < 0) {
                sse_free(TAKE_PTR(st));
                return err_set(reterr, r, NULL, "out of memory");
        }
        st->last_write = st->next_poll = now_monotonic();

        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, sse_read, st,
                                                 sse_free);
        if (!resp) {
                sse_free(TAKE_PTR(st));
                return err_set(reterr, -ENOMEM, NULL, "cannot create the event stream");
        }
        TAKE_PTR(st); /* owned by resp: sse_free runs when MHD is done with it */
        (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
        (void) MHD_add_response_header(resp, "X-Accel-Buffering", "no");
        reply->response = resp;
        reply->status = 200;
        return 0;
}

int api_handle_events(ApiRequest *req, ApiReply *reply, Error *reterr) {
        _cleanup_(event_filter_release) EventFilter f = {};
        int64_t after, limit;
        bool follow;
        int r;

        r = filter_parse(req, &f, reterr);
        if (r >= 0)
                r = api_query_bool(req, "follow", false, &follow, reterr);
        if (r >= 0)
                r = api_query_int(req, "after", 0, 0, INT64_MAX, &after, reterr);
        if (r >= 0)
                r = api_query_int(req, "limit", API_LIST_LIMIT_DEFAULT, 1, API_LIST_LIMIT_MAX,
                                  &limit, reterr);
        if (r < 0)
                return r;

        if (follow)
                return events_follow(req, &f, after, reply, reterr);
        return events_list(req, &f, after, (int) limit, reply, reterr);
}

/* The audit trail across projects (admins): every apply, delete, action, secret change and
 * login, with its actor. Audit rows outlive the resources they name. */
int api_handle_audit_list(ApiRequest *req, ApiReply *reply, Error *reterr) {
        _cleanup_(pool_lease_release) PoolLease lease = {};
        _cleanup_(cjson_deletep) cJSON *items = NULL, *o = NULL;
        int64_t after, limit;
        int r;

        r = api_query_int(req, "after", 0, 0, INT64_MAX, &after, reterr);
        if (r >= 0)
                r = api_query_int(req, "limit", 100, 1, 1000, &limit, reterr);
        if (r >= 0)
                r = api_store(req, &lease, reterr);
        if (r >= 0)
                r = store_audit_list(lease.store, NULL, after, (int) limit, &items, reterr);
        if (r < 0)
                return r;
        o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToObject(o, "items", items))
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        items = NULL;
        return api_reply_json(reply, 200, TAKE_PTR(o));
}
