/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "util/common.h"

#define LOG_MODULE "docker"
#include "util/log.h"

#include "drivers/docker/docker-internal.h"
#include "drivers/docker/json-convert.h"

#define DOCKER_DEFAULT_SOCKET "/var/run/docker.sock"

static atomic_uint_fast64_t metric_calls;
static atomic_uint_fast64_t metric_errors;

void docker_metrics(uint64_t *ret_calls, uint64_t *ret_errors) {
        if (ret_calls)
                *ret_calls = (uint64_t) atomic_load(&metric_calls);
        if (ret_errors)
                *ret_errors = (uint64_t) atomic_load(&metric_errors);
}

static bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

int docker_engine_from_env(DockerEngine *ret) {
        const char *host = getenv("DOCKER_HOST"), *verify = getenv("DOCKER_TLS_VERIFY"),
                   *cert = getenv("DOCKER_CERT_PATH");

        assert_return(ret, -EINVAL);
        if (!isempty(host) && !startswith(host, "unix://") && !startswith(host, "tcp://"))
                return -EINVAL;
        *ret = (DockerEngine){
                .name = "local",
                .host = isempty(host) ? NULL : host,
                .tls_verify = !isempty(verify),
                .cert_path = isempty(cert) ? NULL : cert,
        };
        return 0;
}

/* ---- client ---- */

DockerClient *docker_client_free(DockerClient *c) {
        if (!c)
                return NULL;
        if (c->curl)
                curl_easy_cleanup(c->curl);
        b_free(c->name);
        b_free(c->base_url);
        b_free(c->unix_path);
        b_free(c->ca_file);
        b_free(c->cert_file);
        b_free(c->key_file);
        b_free(c);
        return NULL;
}

const char *docker_client_engine_name(const DockerClient *c) {
        return c ? c->name : NULL;
}

const char *docker_client_api_version(const DockerClient *c) {
        return c && c->api_version[0] ? c->api_version : NULL;
}

static char *path_join(const char *dir, const char *file) {
        Buf b = BUF_INIT(PATH_MAX);

        if (buf_printf(&b, "%s/%s", dir, file) < 0) {
                buf_release(&b);
                return NULL;
        }
        return buf_take(&b);
}

/* Sets *ret to dir/file when that file exists, else leaves it NULL. */
static int tls_file(const char *dir, const char *file, char **ret) {
        _cleanup_free_ char *p = path_join(dir, file);

        if (!p)
                return -ENOMEM;
        if (access(p, R_OK) == 0)
                *ret = TAKE_PTR(p);
        return 0;
}

static int client_setup_tcp(DockerClient *c, const DockerEngine *e, const char *hostport,
                            Error *reterr) {
        _cleanup_(buf_release) Buf url = BUF_INIT(4096);
        const char *cert_dir = e->cert_path, *bracket, *colon;
        bool tls = e->tls_verify || e->cert_path;
        size_t len = strlen(hostport);
        int r;

        while (len > 0 && hostport[len - 1] == '/')
                len--;
        if (len == 0)
                return err_set(reterr, -EINVAL, NULL, "docker host tcp:// without an address");
        r = buf_printf(&url, "%s://%.*s", tls ? "https" : "http", (int) len, hostport);
        if (r < 0)
                return r == -E2BIG ? err_set(reterr, -EINVAL, NULL, "docker host too long") : r;
        /* Default port as the docker CLI: 2376 with TLS, 2375 without. */
        bracket = memrchr(hostport, ']', len);
        colon = memrchr(hostport, ':', len);
        if (!colon || (bracket && colon < bracket)) {
                r = buf_puts(&url, tls ? ":2376" : ":2375");
                if (r < 0)
                        return r;
        }
        c->base_url = buf_take(&url);
        if (!c->base_url)
                return -ENOMEM;

        if (!tls)
                return 0;
        c->tls_verify = e->tls_verify;
        if (!cert_dir) {
                const char *home = getenv("HOME");
                _cleanup_free_ char *dir = NULL;

                if (isempty(home))
                        return err_set(reterr, -EINVAL, NULL,
                                       "docker TLS: no cert path and no $HOME/.docker");
                dir = path_join(home, ".docker");
                if (!dir)
                        return -ENOMEM;
                if ((r = tls_file(dir, "ca.pem", &c->ca_file)) < 0 ||
                    (r = tls_file(dir, "cert.pem", &c->cert_file)) < 0 ||
                    (r = tls_file(dir, "key.pem", &c->key_file)) < 0)
                        return r;
                return 0;
        }
        if ((r = tls_file(cert_dir, "ca.pem", &c->ca_file)) < 0 ||
            (r = tls_file(cert_dir, "cert.pem", &c->cert_file)) < 0 ||
            (r = tls_file(cert_dir, "key.pem", &c->key_file)) < 0)
                return r;
        if (c->tls_verify && !c->ca_file)
                return err_set(reterr, -ENOENT, NULL, "docker TLS: %s/ca.pem is missing", cert_dir);
        return 0;
}

int docker_client_new(const DockerEngine *e, DockerClient **ret, Error *reterr) {
        _cleanup_(docker_client_freep) DockerClient *c = NULL;
        const char *host;
        int r;

        assert_return(e, -EINVAL);
        assert_return(ret, -EINVAL);

        host = e->host ? e->host : "unix://" DOCKER_DEFAULT_SOCKET;
        c = b_calloc(1, sizeof(DockerClient));
        if (!c)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        c->name = b_strdup(e->name ? e->name : "local");
        if (!c->name)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");

        if (startswith(host, "unix://")) {
                const char *path = host + STRLEN("unix://");

                if (path[0] != '/')
                        return err_set(reterr, -EINVAL, NULL,
                                       "docker host %s: socket path must be absolute", host);
                c->unix_path = b_strdup(path);
                c->base_url = b_strdup("http://localhost");
                if (!c->unix_path || !c->base_url)
                        return err_set(reterr, -ENOMEM, NULL, "out of memory");
        } else if (startswith(host, "tcp://")) {
                r = client_setup_tcp(c, e, host + STRLEN("tcp://"), reterr);
                if (r == -ENOMEM)
                        return err_set(reterr, r, NULL, "out of memory");
                if (r < 0)
                        return r;
        } else
                return err_set(reterr, -EINVAL, NULL,
                               "docker host %s: only unix:// and tcp:// are supported", host);

        c->curl = curl_easy_init();
        if (!c->curl)
                return err_set(reterr, -ENOMEM, NULL, "docker: cannot create a curl handle");
        *ret = TAKE_PTR(c);
        return 0;
}

/* ---- paths ---- */

int docker_escape(Buf *out, const char *s) {
        static const char hex[] = "0123456789ABCDEF";
        int r;

        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~')
                        r = buf_putc(out, (char) *p);
                else
                        r = buf_append(out, (char[]){'%', hex[*p >> 4], hex[*p & 15]}, 3);
                if (r < 0)
                        return r;
        }
        return 0;
}

int docker_path(Buf *out, const char *tmpl, ...) {
        va_list ap;
        int r;

        va_start(ap, tmpl);
        r = docker_pathv(out, tmpl, ap);
        va_end(ap);
        return r;
}

int docker_pathv(Buf *out, const char *tmpl, va_list ap) {
        const char *p = tmpl;
        int r = 0;

        while (*p) {
                const char *hole = strstr(p, "{}");
                size_t k = hole ? (size_t) (hole - p) : strlen(p);

                r = buf_append(out, p, k);
                if (r < 0)
                        break;
                p += k;
                if (!hole)
                        break;
                r = docker_escape(out, va_arg(ap, const char *));
                if (r < 0)
                        break;
                p += 2;
        }
        return r;
}

int docker_query(Buf *out, const char *key, const char *value) {
        int r;

        r = buf_putc(out, memchr(out->buf ? out->buf : "", '?', out->len) ? '&' : '?');
        if (r < 0)
                return r;
        r = docker_escape(out, key);
        if (r < 0)
                return r;
        r = buf_putc(out, '=');
        if (r < 0)
                return r;
        return docker_escape(out, value);
}

int docker_query_filters(Buf *out, char *const *labels, const char *type) {
        _cleanup_(cJSON_Deletep) cJSON *f = NULL;
        _cleanup_cjson_str_ char *s = NULL;
        int r;

        if ((!labels || !labels[0]) && !type)
                return 0;
        r = docker_json_filters(labels, type, &f);
        if (r < 0)
                return r;
        s = cJSON_PrintUnformatted(f);
        if (!s)
                return -ENOMEM;
        return docker_query(out, "filters", s);
}

const char *docker_op(char *buf, size_t n, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, n, fmt, ap);
        va_end(ap);
        return buf;
}

/* ---- transfer ---- */

typedef struct Xfer {
        DockerClient *c;
        const DockerRequest *rq;
        Error *reterr;
        long status;
        Buf err_body;
        Buf line;
        int error;      /* set by a callback: the call fails with it */
        bool error_set; /* ... and reterr is already filled */
        bool stopped;   /* a handler or *stop ended the transfer: success */
        int upload_fd;
} Xfer;

static void xfer_release(Xfer *x) {
        buf_release(&x->err_body);
        buf_release(&x->line);
        if (x->upload_fd >= 0)
                (void) close(TAKE_FD(x->upload_fd));
}

static int xfer_fail(Xfer *x, int code, bool msg_set) {
        if (x->error == 0) {
                x->error = code;
                x->error_set = msg_set;
        }
        return code;
}

static int flush_line(Xfer *x) {
        int r;

        while (x->line.len > 0 && x->line.buf[x->line.len - 1] == '\r')
                x->line.buf[--x->line.len] = 0;
        if (x->line.len == 0)
                return 0;
        r = x->rq->on_line(x->line.buf, x->line.len, x->rq->userdata);
        buf_reset(&x->line);
        return r;
}

static int feed_lines(Xfer *x, const char *p, size_t n) {
        int r;

        while (n > 0) {
                const char *nl = memchr(p, '\n', n);
                size_t k = nl ? (size_t) (nl - p) : n;

                r = buf_append(&x->line, p, k); /* -E2BIG: a line over DOCKER_MAX_LINE */
                if (r < 0)
                        return xfer_fail(x, r, false);
                p += k;
                n -= k;
                if (!nl)
                        break;
                p++;
                n--;
                r = flush_line(x);
                if (r < 0)
                        return xfer_fail(x, r, true);
                if (r > 0) {
                        x->stopped = true;
                        return r;
                }
        }
        return 0;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata) {
        Xfer *x = userdata;
        size_t n = size * nmemb;
        int r;

        if (x->status == 0)
                (void) curl_easy_getinfo(x->c->curl, CURLINFO_RESPONSE_CODE, &x->status);

        if (x->status < 200 || x->status >= 300) {
                /* An error body: keep its start, it holds the message. */
                size_t room = x->err_body.max - x->err_body.len;

                if (buf_append(&x->err_body, ptr, MIN(n, room)) < 0)
                        return n; /* the status alone will do */
                return n;
        }
        if (x->rq->on_chunk) {
                r = x->rq->on_chunk(ptr, n, x->rq->userdata);
                if (r < 0) {
                        xfer_fail(x, r, true);
                        return 0;
                }
                if (r > 0) {
                        x->stopped = true;
                        return 0;
                }
                return n;
        }
        if (x->rq->on_line)
                return feed_lines(x, ptr, n) == 0 ? n : 0;
        if (x->rq->reply) {
                r = buf_append(x->rq->reply, ptr, n);
                if (r < 0) {
                        xfer_fail(x, r, false);
                        return 0;
                }
        }
        return n;
}

static size_t read_cb(char *buffer, size_t size, size_t nitems, void *userdata) {
        Xfer *x = userdata;
        ssize_t k;

        do
                k = read(x->upload_fd, buffer, size * nitems);
        while (k < 0 && errno == EINTR);
        if (k < 0) {
                xfer_fail(x, -errno, false);
                return CURL_READFUNC_ABORT;
        }
        return (size_t) k;
}

static int curl_code_to_errno(CURLcode cc) {
        switch (cc) {
        case CURLE_OK:
                return 0;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_COULDNT_CONNECT:
                return -ECONNREFUSED;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_UNKNOWN_OPTION:
        case CURLE_BAD_FUNCTION_ARGUMENT:
        case CURLE_URL_MALFORMAT:
                return -EINVAL;
        default:
                return -ECONNRESET;
        }
}

static int status_to_errno(long status) {
        if (status == 304)
                return -EALREADY;
        if (status == 400)
                return -EINVAL;
        if (status == 401 || status == 403)
                return -EACCES;
        if (status == 404)
                return -ENOENT;
        if (status == 409)
                return -EEXIST;
        if (status >= 500)
                return -EIO;
        return -EPROTO;
}

/* Docker's {"message": "..."} verbatim, else the start of the body, else the status. */
static int set_http_error(Error *reterr, int code, const char *op, long status, const Buf *body) {
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        const cJSON *m;

        if (body->len > 0)
                doc = cJSON_ParseWithLength(body->buf, body->len);
        m = cJSON_GetObjectItemCaseSensitive(doc, "message");
        if (cJSON_IsString(m) && !isempty(m->valuestring))
                return err_set(reterr, code, NULL, "%s: %s", op, m->valuestring);
        if (body->len > 0) {
                size_t k = strcspn(body->buf, "\r\n");

                return err_set(reterr, code, NULL, "%s: HTTP %ld: %.*s", op, status,
                               (int) MIN(k, (size_t) 200), body->buf);
        }
        return err_set(reterr, code, NULL, "%s: HTTP %ld", op, status);
}

#define SETOPT(h, opt, val)                                                                        \
        do {                                                                                       \
                CURLcode _cc = curl_easy_setopt((h), (opt), (val));                                \
                if (_cc != CURLE_OK)                                                               \
                        return _cc;                                                                \
        } while (0)

static CURLcode setup_handle(DockerClient *c, const DockerRequest *rq, Xfer *x, const char *url,
                             struct curl_slist *headers, curl_off_t upload_size) {
        CURL *h = c->curl;
        long timeout = rq->timeout_ms == 0 ? DOCKER_TIMEOUT_MS : MAX(rq->timeout_ms, 0L);

        curl_easy_reset(h);
        SETOPT(h, CURLOPT_URL, url);
        SETOPT(h, CURLOPT_PROTOCOLS_STR, "http,https");
        SETOPT(h, CURLOPT_NOSIGNAL, 1L);
        SETOPT(h, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_1);
        SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, DOCKER_CONNECT_TIMEOUT_MS);
        SETOPT(h, CURLOPT_TIMEOUT_MS, timeout);
        SETOPT(h, CURLOPT_ERRORBUFFER, c->curl_error);
        SETOPT(h, CURLOPT_WRITEFUNCTION, write_cb);
        SETOPT(h, CURLOPT_WRITEDATA, x);
        SETOPT(h, CURLOPT_HTTPHEADER, headers);
        SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
        if (rq->stall_s > 0) {
                SETOPT(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
                SETOPT(h, CURLOPT_LOW_SPEED_TIME, rq->stall_s);
        }
        if (c->unix_path)
                SETOPT(h, CURLOPT_UNIX_SOCKET_PATH, c->unix_path);
        else
                SETOPT(h, CURLOPT_TCP_KEEPALIVE, 1L);
        if (c->ca_file)
                SETOPT(h, CURLOPT_CAINFO, c->ca_file);
        if (c->cert_file)
                SETOPT(h, CURLOPT_SSLCERT, c->cert_file);
        if (c->key_file)
                SETOPT(h, CURLOPT_SSLKEY, c->key_file);
        if (!c->unix_path && !c->tls_verify) {
                SETOPT(h, CURLOPT_SSL_VERIFYPEER, 0L);
                SETOPT(h, CURLOPT_SSL_VERIFYHOST, 0L);
        }

        if (streq(rq->method, "GET"))
                return CURLE_OK;
        if (streq(rq->method, "POST") || streq(rq->method, "PUT")) {
                SETOPT(h, CURLOPT_POST, 1L);
                if (streq(rq->method, "PUT"))
                        SETOPT(h, CURLOPT_CUSTOMREQUEST, "PUT");
                if (rq->upload_path) {
                        SETOPT(h, CURLOPT_READFUNCTION, read_cb);
                        SETOPT(h, CURLOPT_READDATA, x);
                        SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE, upload_size);
                        return CURLE_OK;
                }
                SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) rq->body_len);
                SETOPT(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
                return CURLE_OK;
        }
        SETOPT(h, CURLOPT_CUSTOMREQUEST, rq->method);
        return CURLE_OK;
}

typedef struct MultiRun {
        CURLM *multi;
        CURL *easy;
        bool added;
} MultiRun;

static void multi_run_done(MultiRun *m) {
        if (m->added)
                (void) curl_multi_remove_handle(m->multi, m->easy);
        if (m->multi)
                (void) curl_multi_cleanup(m->multi);
}

/* Drives the transfer through a multi handle so *stop is looked at every DOCKER_STOP_POLL_MS,
 * whether bytes arrive or not. */
static CURLcode perform_stoppable(CURL *easy, Xfer *x, const volatile bool *stop) {
        _cleanup_(multi_run_done) MultiRun m = {.easy = easy};
        CURLMsg *msg;
        int left;

        m.multi = curl_multi_init();
        if (!m.multi)
                return CURLE_OUT_OF_MEMORY;
        if (curl_multi_add_handle(m.multi, easy) != CURLM_OK)
                return CURLE_FAILED_INIT;
        m.added = true;

        for (;;) {
                int running = 0;

                if (*stop) {
                        x->stopped = true;
                        return CURLE_OK;
                }
                if (curl_multi_perform(m.multi, &running) != CURLM_OK)
                        return CURLE_RECV_ERROR;
                if (running == 0)
                        break;
                if (curl_multi_poll(m.multi, NULL, 0, (int) DOCKER_STOP_POLL_MS, NULL) != CURLM_OK)
                        return CURLE_RECV_ERROR;
        }
        while ((msg = curl_multi_info_read(m.multi, &left)))
                if (msg->msg == CURLMSG_DONE)
                        return msg->data.result;
        return CURLE_OK;
}

static void headers_freep(struct curl_slist **l) {
        if (*l)
                curl_slist_free_all(*l);
}

static int add_header(struct curl_slist **l, const char *h) {
        struct curl_slist *n = curl_slist_append(*l, h);

        if (!n)
                return -ENOMEM;
        *l = n;
        return 0;
}

static int count_result(int r, long status) {
        if (r < 0 && (status == 0 || status == 400 || status >= 500))
                atomic_fetch_add(&metric_errors, 1);
        return r;
}

int docker_request(DockerClient *c, const DockerRequest *rq, Error *reterr) {
        _cleanup_(xfer_release) Xfer x = {
                .c = c,
                .rq = rq,
                .reterr = reterr,
                .err_body = BUF_INIT(DOCKER_MAX_ERROR_BODY),
                .line = BUF_INIT(DOCKER_MAX_LINE),
                .upload_fd = -1,
        };
        _cleanup_(headers_freep) struct curl_slist *headers = NULL;
        _cleanup_(buf_release) Buf url = BUF_INIT(DOCKER_MAX_PATH + 256);
        const char *op = rq->op ? rq->op : rq->path;
        curl_off_t upload_size = 0;
        usec_t start;
        CURLcode cc;
        int r;

        assert(c);
        assert(rq && rq->method && rq->path);

        if (!rq->unversioned) {
                r = docker_negotiate(c, reterr);
                if (r < 0)
                        return r;
        }
        r = buf_printf(&url, "%s%s%s%s", c->base_url, rq->unversioned ? "" : "/v",
                       rq->unversioned ? "" : c->api_version, rq->path);
        if (r < 0)
                return err_set(reterr, r, NULL, "%s: %s", op,
                               r == -E2BIG ? "request path too long" : "out of memory");

        if (rq->upload_path) {
                struct stat st;

                x.upload_fd = open(rq->upload_path, O_RDONLY | O_CLOEXEC);
                if (x.upload_fd < 0 || fstat(x.upload_fd, &st) < 0) {
                        char ebuf[128];

                        r = negative_errno_or(-EIO, errno);
                        return err_set(reterr, r, NULL, "%s: cannot read %s: %s", op,
                                       rq->upload_path, err_str(r, ebuf, sizeof(ebuf)));
                }
                if (!S_ISREG(st.st_mode))
                        return err_set(reterr, -EINVAL, NULL, "%s: %s is not a regular file", op,
                                       rq->upload_path);
                upload_size = (curl_off_t) st.st_size;
        }
        if (rq->content_type) {
                char h[128];

                snprintf(h, sizeof(h), "Content-Type: %s", rq->content_type);
                r = add_header(&headers, h);
                if (r < 0)
                        return err_set(reterr, r, NULL, "%s: out of memory", op);
        }
        /* No "Expect: 100-continue" round trip for big bodies. */
        r = add_header(&headers, "Expect:");
        if (r < 0)
                return err_set(reterr, r, NULL, "%s: out of memory", op);

        c->curl_error[0] = 0;
        cc = setup_handle(c, rq, &x, url.buf, headers, upload_size);
        if (cc != CURLE_OK)
                return err_set(reterr, curl_code_to_errno(cc), NULL, "%s: %s", op,
                               curl_easy_strerror(cc));

        atomic_fetch_add(&metric_calls, 1);
        start = now_monotonic();
        cc = rq->stop ? perform_stoppable(c->curl, &x, rq->stop) : curl_easy_perform(c->curl);
        if (x.status == 0)
                (void) curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &x.status);
        log_debug("%s %s -> %ld (%s) in %" PRIu64 " ms", rq->method, rq->path, x.status,
                  curl_easy_strerror(cc), (now_monotonic() - start) / USEC_PER_MSEC);

        if (x.error < 0) {
                /* A handler failed: it has said why, or we say it here. */
                if (x.error_set)
                        return count_result(x.error, 0);
                if (x.error == -E2BIG)
                        return count_result(
                                err_set(reterr, x.error, NULL, "%s: reply larger than its cap", op),
                                0);
                {
                        char ebuf[128];

                        return count_result(err_set(reterr, x.error, NULL, "%s: %s", op,
                                                    err_str(x.error, ebuf, sizeof(ebuf))),
                                            0);
                }
        }
        if (x.stopped)
                return (int) MAX(x.status, 200L);
        if (cc != CURLE_OK)
                return count_result(
                        err_set(reterr, curl_code_to_errno(cc), NULL, "%s: %s", op,
                                c->curl_error[0] ? c->curl_error : curl_easy_strerror(cc)),
                        0);
        if (rq->on_line && x.line.len > 0 && x.status >= 200 && x.status < 300) {
                /* The last line may lack its newline. */
                r = flush_line(&x);
                if (r < 0)
                        return count_result(r, 0);
        }

        if ((x.status >= 200 && x.status < 300) || (x.status == 304 && rq->ok_304))
                return (int) x.status;

        r = status_to_errno(x.status);
        for (size_t i = 0; i < ELEMENTSOF(rq->overrides) && rq->overrides[i].status; i++)
                if (rq->overrides[i].status == x.status) {
                        r = rq->overrides[i].code;
                        break;
                }
        return count_result(set_http_error(reterr, r, op, x.status, &x.err_body), x.status);
}

/* ---- version ---- */

static int version_fetch(DockerClient *c, char **ret_server_version, Error *reterr) {
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        const cJSON *api, *ver;
        const char *op = "get engine version";
        int have, max;
        int r;

        r = docker_call(c, &(DockerRequest){.method = "GET", .unversioned = true, .op = op}, NULL,
                        &doc, reterr, "/version");
        if (r < 0)
                return r;
        api = cJSON_GetObjectItemCaseSensitive(doc, "ApiVersion");
        ver = cJSON_GetObjectItemCaseSensitive(doc, "Version");
        have = cJSON_IsString(api) ? docker_api_version_parse(api->valuestring) : -EINVAL;
        if (have < 0)
                return err_set(reterr, -EBADMSG, NULL, "%s: reply has no ApiVersion", op);
        if (have < docker_api_version_parse(DOCKER_API_MIN))
                return err_set(reterr, -EPROTONOSUPPORT, NULL,
                               "engine %s speaks API %s, berth needs %s or newer", c->name,
                               api->valuestring, DOCKER_API_MIN);
        max = docker_api_version_parse(DOCKER_API_MAX);
        snprintf(c->api_version, sizeof(c->api_version), "%s",
                 have < max ? api->valuestring : DOCKER_API_MAX);
        log_debug("engine %s: API %s (server %s)", c->name, c->api_version,
                  strna(cJSON_IsString(ver) ? ver->valuestring : NULL));

        if (ret_server_version) {
                char *v = b_strdup(cJSON_IsString(ver) ? ver->valuestring : "");

                if (!v)
                        return err_set(reterr, -ENOMEM, NULL, "%s: out of memory", op);
                *ret_server_version = v;
        }
        return 0;
}

int docker_negotiate(DockerClient *c, Error *reterr) {
        if (c->api_version[0])
                return 0;
        return version_fetch(c, NULL, reterr);
}

int docker_version(DockerClient *c, char **ret_server_version, Error *reterr) {
        assert_return(c, -EINVAL);
        return version_fetch(c, ret_server_version, reterr);
}

int docker_ping(DockerClient *c, Error *reterr) {
        int r;

        assert_return(c, -EINVAL);
        if (!c->api_version[0])
                return docker_negotiate(c, reterr);
        r = docker_request(c,
                           &(DockerRequest){.method = "GET",
                                            .path = "/_ping",
                                            .unversioned = true,
                                            .op = "ping engine",
                                            .timeout_ms = 5000},
                           reterr);
        return r < 0 ? r : 0;
}
