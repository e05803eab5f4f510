/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdarg.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "util/common.h"

#include "cli/cli.h"
#include "cli/version.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct curl_slist *, curl_slist_free_all);

int api_path(Buf *out, const char *tmpl, ...) {
        const char *p = tmpl;
        va_list ap;
        int r = 0;

        va_start(ap, tmpl);
        while (r >= 0 && *p) {
                const char *brace = strstr(p, "{}");
                size_t n = brace ? (size_t) (brace - p) : strlen(p);

                r = buf_append(out, p, n);
                p += n;
                if (r >= 0 && brace) {
                        const char *arg = va_arg(ap, const char *);
                        char *esc = curl_easy_escape(NULL, strempty(arg), 0);

                        if (!esc)
                                r = -ENOMEM;
                        else {
                                r = buf_puts(out, esc);
                                curl_free(esc);
                        }
                        p += 2;
                }
        }
        va_end(ap);
        return r;
}

int api_query(Buf *out, const char *key, const char *value) {
        char *esc;
        int r;

        if (!value)
                return 0;
        esc = curl_easy_escape(NULL, value, 0);
        if (!esc)
                return -ENOMEM;
        r = buf_printf(out, "%c%s=%s", memchr(out->buf ? out->buf : "", '?', out->len) ? '&' : '?',
                       key, esc);
        curl_free(esc);
        return r;
}

int api_resource_path(Buf *out, const char *kind, const char *name, const char *sub,
                      const char *project) {
        int r;

        r = api_path(out, "/api/v1/resources/{}/{}", kind, name);
        if (r >= 0)
                r = buf_puts(out, sub);
        if (r >= 0)
                r = api_query(out, "project", project);
        return r;
}

static int url_build(const Cli *c, const char *path, Buf *ret) {
        size_t n = strlen(c->server);

        while (n > 0 && c->server[n - 1] == '/')
                n--;
        buf_init(ret, 64 * 1024);
        if (buf_append(ret, c->server, n) < 0 || buf_puts(ret, path) < 0)
                return -ENOMEM;
        return 0;
}

static int headers_build(Cli *c, const char *accept, const char *content_type,
                         const char *last_event_id, struct curl_slist **ret, Error *reterr) {
        _cleanup_(curl_slist_free_allp) struct curl_slist *h = NULL;
        _cleanup_(buf_release) Buf line = BUF_INIT(CLI_MAX_TOKEN + 64);
        const char *token = cli_token(c);
        struct curl_slist *n;

#define ADD(s)                                                                                     \
        do {                                                                                       \
                n = curl_slist_append(h, (s));                                                     \
                if (!n)                                                                            \
                        return err_set(reterr, -ENOMEM, NULL, "out of memory");                    \
                h = n;                                                                             \
        } while (0)

        if (buf_printf(&line, "Accept: %s", accept) < 0)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        ADD(line.buf);
        /* No "Expect: 100-continue" round trip before apply bodies. */
        ADD("Expect:");
        if (content_type) {
                buf_reset(&line);
                if (buf_printf(&line, "Content-Type: %s", content_type) < 0)
                        return err_set(reterr, -ENOMEM, NULL, "out of memory");
                ADD(line.buf);
        }
        if (token) {
                for (const char *p = token; *p; p++)
                        if (iscntrl((unsigned char) *p))
                                return err_set(reterr, -EINVAL, NULL,
                                               "the API token contains control characters");
                buf_reset(&line);
                if (buf_printf(&line, "Authorization: Bearer %s", token) < 0)
                        return err_set(reterr, -E2BIG, NULL, "the API token is too long");
                ADD(line.buf);
        }
        if (last_event_id) {
                buf_reset(&line);
                if (buf_printf(&line, "Last-Event-ID: %s", last_event_id) < 0)
                        return err_set(reterr, -ENOMEM, NULL, "out of memory");
                ADD(line.buf);
        }
#undef ADD
        *ret = TAKE_PTR(h);
        return 0;
}

/* Sets a curl option on c's handle unless setting one has failed already (cc holds why). */
#define SET(opt, val)                                                                              \
        do {                                                                                       \
                if (cc == CURLE_OK)                                                                \
                        cc = curl_easy_setopt(c->curl, opt, val);                                  \
        } while (0)

/* Resets the process' handle (keeping its connection cache) and sets what every request uses. */
static int handle_prepare(Cli *c, const char *url, struct curl_slist *headers, Error *reterr) {
        CURLcode cc = CURLE_OK;

        if (!c->curl) {
                c->curl = curl_easy_init();
                if (!c->curl)
                        return err_set(reterr, -ENOMEM, NULL, "cannot initialise libcurl");
        } else
                curl_easy_reset(c->curl);
        c->curl_error[0] = 0;

        SET(CURLOPT_URL, url);
        SET(CURLOPT_ERRORBUFFER, c->curl_error);
        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_CONNECTTIMEOUT, CLI_CONNECT_TIMEOUT_S);
        SET(CURLOPT_PROTOCOLS_STR, "http,https");
        SET(CURLOPT_DEFAULT_PROTOCOL, "http");
        SET(CURLOPT_USERAGENT, "berth/" BERTH_VERSION);
        SET(CURLOPT_HTTPHEADER, headers);
        SET(CURLOPT_TCP_KEEPALIVE, 1L);
        if (cc != CURLE_OK)
                return err_set(reterr, -EINVAL, NULL, "invalid server URL %s: %s", c->server,
                               curl_easy_strerror(cc));
        return 0;
}

static int transport_error(const Cli *c, CURLcode cc, int write_error, Error *reterr) {
        const char *detail = c->curl_error[0] ? c->curl_error : curl_easy_strerror(cc);

        switch (cc) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return err_set(reterr, -ECONNREFUSED, NULL, "cannot reach berthd at %s: %s",
                               c->server, detail);
        case CURLE_OPERATION_TIMEDOUT:
                return err_set(reterr, -ETIMEDOUT, NULL, "request to berthd at %s timed out: %s",
                               c->server, detail);
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
                return err_set(reterr, -EINVAL, NULL, "invalid server URL %s: %s", c->server,
                               detail);
        case CURLE_WRITE_ERROR:
                if (write_error == -E2BIG)
                        return err_set(reterr, -E2BIG, NULL,
                                       "the answer from berthd is larger than %u MiB",
                                       CLI_MAX_RESPONSE / (1024 * 1024));
                if (write_error < 0)
                        return err_set(reterr, write_error, NULL, "out of memory");
                break;
        default:
                break;
        }
        return err_set(reterr, -EIO, NULL, "request to berthd at %s failed: %s", c->server, detail);
}

/* Hands an answer that is not an event stream to the caller: its status, and its body ("" when
 * empty, never NULL) moved into ret_body. */
static int answer_take(Cli *c, Buf *answer, long *ret_status, Buf *ret_body, Error *reterr) {
        long status = 0;

        (void) curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
        if (!answer->buf && buf_append(answer, "", 0) < 0)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        *ret_status = status;
        buf_release(ret_body);
        *ret_body = *answer;
        *answer = (Buf){0};
        return 0;
}

typedef struct BodySink {
        Buf *body;
        int error;
} BodySink;

static size_t body_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
        BodySink *s = userdata;
        size_t n = size * nmemb;
        int r;

        r = buf_append(s->body, ptr, n);
        if (r < 0) {
                s->error = r;
                return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
        }
        return n;
}

int http_request(Cli *c, const char *method, const char *path, const char *accept,
                 const char *content_type, const char *body, size_t body_len, long *ret_status,
                 Buf *ret_body, Error *reterr) {
        _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
        _cleanup_(buf_release) Buf url = {0};
        _cleanup_(buf_release) Buf answer = BUF_INIT(CLI_MAX_RESPONSE);
        BodySink sink = {.body = &answer};
        CURLcode cc = CURLE_OK;
        int r;

        assert(c && method && path && ret_status && ret_body);

        if (url_build(c, path, &url) < 0)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        r = headers_build(c, accept ? accept : "application/json", body ? content_type : NULL, NULL,
                          &headers, reterr);
        if (r < 0)
                return r;
        r = handle_prepare(c, url.buf, headers, reterr);
        if (r < 0)
                return r;

        SET(CURLOPT_TIMEOUT, CLI_REQUEST_TIMEOUT_S);
        SET(CURLOPT_WRITEFUNCTION, body_write);
        SET(CURLOPT_WRITEDATA, &sink);
        if (streq(method, "GET"))
                SET(CURLOPT_HTTPGET, 1L);
        else {
                SET(CURLOPT_CUSTOMREQUEST, method);
                if (body) {
                        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) body_len);
                        SET(CURLOPT_POSTFIELDS, body);
                }
        }
        if (cc != CURLE_OK)
                return err_set(reterr, -EINVAL, NULL, "cannot set up the request: %s",
                               curl_easy_strerror(cc));

        cc = curl_easy_perform(c->curl);
        if (cc != CURLE_OK)
                return transport_error(c, cc, sink.error, reterr);
        return answer_take(c, &answer, ret_status, ret_body, reterr);
}

static int status_to_errno(long status) {
        switch (status) {
        case 400:
        case 422:
                return -EINVAL;
        case 401:
                return -EACCES;
        case 403:
                return -EPERM;
        case 404:
                return -ENOENT;
        case 409:
                return -EEXIST;
        case 413:
                return -E2BIG;
        case 429:
                return -EBUSY;
        default:
                return status >= 500 && status < 600 ? -EIO : -EPROTO;
        }
}

int api_error(long status, const Buf *body, Error *reterr) {
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        int code = status_to_errno(status);
        const char *msg;

        if (body->len > 0)
                doc = cJSON_ParseWithLength(body->buf, body->len);
        msg = json_str(doc, "message");
        if (msg)
                return err_setr(reterr, code, json_str(doc, "code"), json_str(doc, "field"), "%s",
                                msg);

        /* Not an API error document (a proxy, an old server): its first line, cleaned. */
        if (body->len > 0 && !doc) {
                char line[200];
                size_t n = strcspn(body->buf, "\r\n");

                n = MIN(n, sizeof(line) - 1);
                for (size_t i = 0; i < n; i++)
                        line[i] = iscntrl((unsigned char) body->buf[i]) ? ' ' : body->buf[i];
                line[n] = 0;
                if (n > 0)
                        return err_set(reterr, code, NULL, "berthd answered HTTP %ld: %s", status,
                                       line);
        }
        return err_set(reterr, code, NULL, "berthd answered HTTP %ld", status);
}

int api_call(Cli *c, const char *method, const char *path, const char *content_type,
             const char *body, size_t body_len, cJSON **ret, Error *reterr) {
        _cleanup_(buf_release) Buf answer = {0};
        cJSON *doc;
        long status;
        int r;

        r = http_request(c, method, path, "application/json", content_type, body, body_len, &status,
                         &answer, reterr);
        if (r < 0)
                return r;
        if (status < 200 || status >= 300)
                return api_error(status, &answer, reterr);
        if (!ret)
                return 0;
        if (answer.len == 0) {
                *ret = NULL;
                return 0;
        }
        doc = cJSON_ParseWithLength(answer.buf, answer.len);
        if (!doc)
                return err_set(reterr, -EBADMSG, NULL,
                               "unparsable answer from berthd (HTTP %ld, not JSON)", status);
        *ret = doc;
        return 0;
}

int api_get(Cli *c, const char *path, cJSON **ret, Error *reterr) {
        return api_call(c, "GET", path, NULL, NULL, 0, ret, reterr);
}

int api_get_scope(Cli *c, const char *kind, const char *name, const char *sub,
                  const char *collection, cJSON **ret, Error *reterr) {
        _cleanup_(buf_release) Buf path = BUF_INIT(4096);
        int r;

        if (name)
                r = api_resource_path(&path, kind, name, sub, cli_project(c));
        else {
                r = buf_puts(&path, collection);
                if (r >= 0)
                        r = api_query(&path, "project", c->project);
                if (r >= 0)
                        r = api_query(&path, "kind", kind);
        }
        if (r < 0)
                return err_set(reterr, r, NULL, "out of memory");
        return api_get(c, path.buf, ret, reterr);
}

/* ---- server-sent events ---- */

typedef struct SseState {
        Cli *c;
        SseHandler handler;
        void *userdata;
        bool decided, is_sse;
        Buf *other; /* the body when the answer is not an event stream */
        Buf line, data, event, id;
        bool overflow; /* a line or an event above CLI_MAX_SSE_EVENT */
        int error;
} SseState;

static int sse_field(SseState *s, const char *line, size_t len) {
        const char *colon = memchr(line, ':', len);
        size_t flen = colon ? (size_t) (colon - line) : len;
        const char *value = colon ? colon + 1 : line + len;
        size_t vlen = (size_t) (line + len - value);

        if (vlen > 0 && value[0] == ' ') {
                value++;
                vlen--;
        }
        if (flen == 4 && strneq(line, "data", 4)) {
                if ((s->data.len > 0 && buf_putc(&s->data, '\n') < 0) ||
                    buf_append(&s->data, value, vlen) < 0) {
                        s->overflow = true;
                        return -E2BIG;
                }
                return 0;
        }
        if (flen == 5 && strneq(line, "event", 5)) {
                buf_reset(&s->event);
                if (buf_append(&s->event, value, vlen) < 0) {
                        s->overflow = true;
                        return -E2BIG;
                }
                return 0;
        }
        if (flen == 2 && strneq(line, "id", 2) && !memchr(value, 0, vlen)) {
                buf_reset(&s->id);
                if (buf_append(&s->id, value, vlen) < 0) {
                        s->overflow = true;
                        return -E2BIG;
                }
                return 0;
        }
        return 0; /* "retry" and unknown fields are ignored */
}

static int sse_line(SseState *s, const char *line, size_t len) {
        int r;

        if (len > 0 && line[len - 1] == '\r')
                len--;
        if (len == 0) {
                /* Blank line: dispatch the event, if it has data. */
                if (s->data.len == 0) {
                        buf_reset(&s->event);
                        return 0;
                }
                r = s->handler(s->id.len > 0 ? s->id.buf : NULL,
                               s->event.len > 0 ? s->event.buf : "message", s->data.buf,
                               s->userdata);
                buf_reset(&s->data);
                buf_reset(&s->event);
                return r;
        }
        if (line[0] == ':')
                return 0; /* comment: keep-alive */
        return sse_field(s, line, len);
}

static size_t sse_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
        SseState *s = userdata;
        size_t n = size * nmemb, done = 0;
        int r;

        if (!s->decided) {
                const char *ctype = NULL;
                long status = 0;

                curl_easy_getinfo(s->c->curl, CURLINFO_RESPONSE_CODE, &status);
                curl_easy_getinfo(s->c->curl, CURLINFO_CONTENT_TYPE, &ctype);
                s->is_sse =
                        status == 200 && ctype &&
                        strncasecmp(ctype, "text/event-stream", STRLEN("text/event-stream")) == 0;
                s->decided = true;
        }
        if (!s->is_sse) {
                r = buf_append(s->other, ptr, n);
                if (r < 0) {
                        s->error = r;
                        return 0;
                }
                return n;
        }

        while (done < n) {
                const char *nl = memchr(ptr + done, '\n', n - done);
                size_t chunk = nl ? (size_t) (nl - (ptr + done)) : n - done;

                r = buf_append(&s->line, ptr + done, chunk);
                if (r < 0) {
                        s->overflow = true;
                        s->error = r;
                        return 0;
                }
                done += chunk;
                if (!nl)
                        break;
                done++; /* the newline */
                r = sse_line(s, buf_str(&s->line), s->line.len);
                buf_reset(&s->line);
                if (r < 0) {
                        s->error = r;
                        return 0;
                }
        }
        return n;
}

int http_sse(Cli *c, const char *path, const char *last_event_id, SseHandler handler,
             void *userdata, long *ret_status, Buf *ret_body, Error *reterr) {
        _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
        _cleanup_(buf_release) Buf url = {0};
        _cleanup_(buf_release) Buf other = BUF_INIT(CLI_MAX_RESPONSE);
        _cleanup_(buf_release) Buf line = BUF_INIT(CLI_MAX_SSE_EVENT);
        _cleanup_(buf_release) Buf data = BUF_INIT(CLI_MAX_SSE_EVENT);
        _cleanup_(buf_release) Buf event = BUF_INIT(256);
        _cleanup_(buf_release) Buf id = BUF_INIT(256);
        SseState s = {
                .c = c,
                .handler = handler,
                .userdata = userdata,
                .other = &other,
        };
        CURLcode cc = CURLE_OK;
        int r;

        if (url_build(c, path, &url) < 0)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        r = headers_build(c, "text/event-stream", NULL, last_event_id, &headers, reterr);
        if (r < 0)
                return r;
        r = handle_prepare(c, url.buf, headers, reterr);
        if (r < 0)
                return r;

        /* The Bufs live in this frame; SseState points at them while the transfer runs. */
        s.line = line;
        s.data = data;
        s.event = event;
        s.id = id;
        line = data = event = id = (Buf){0};

        cc = curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
        if (cc == CURLE_OK)
                cc = curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, sse_write);
        if (cc == CURLE_OK)
                cc = curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &s);
        if (cc == CURLE_OK)
                cc = curl_easy_perform(c->curl);

        /* Hand the buffers back to the cleanup variables. */
        line = s.line;
        data = s.data;
        event = s.event;
        id = s.id;

        if (cc == CURLE_WRITE_ERROR && s.error < 0) {
                if (s.overflow)
                        return err_set(reterr, -E2BIG, NULL,
                                       "an event from berthd is larger than %u KiB",
                                       CLI_MAX_SSE_EVENT / 1024);
                return s.error; /* the handler's own error, already described */
        }
        if (cc != CURLE_OK)
                return transport_error(c, cc, s.error, reterr);
        if (s.is_sse)
                return 0;
        r = answer_take(c, &other, ret_status, ret_body, reterr);
        return r < 0 ? r : 1;
}
