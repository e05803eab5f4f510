/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/common.h"

#include "reconcilers/probe.h"

#define PROBE_MAX_CONCURRENT 64
#define PROBE_REPLY_PEEK     32 /* "HTTP/1.1 200" is all we read */

typedef enum ProbeStage { STAGE_CONNECTING, STAGE_READING, STAGE_DONE } ProbeStage;

typedef struct ProbeState {
        int fd;
        ProbeStage stage;
        char reply[PROBE_REPLY_PEEK + 1];
        size_t got;
} ProbeState;

static int probe_open(const ProbeTarget *t) {
        struct sockaddr_in sa = {.sin_family = AF_INET};
        int fd;

        if (!t->ip || t->port <= 0 || t->port > 65535 ||
            inet_pton(AF_INET, t->ip, &sa.sin_addr) != 1)
                return -EINVAL;
        sa.sin_port = htons((uint16_t) t->port);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
                int e = -errno;
                close(fd);
                return e;
        }
        return fd;
}

static ProbeResult http_status_ok(const char *reply) {
        /* "HTTP/1.x NNN" */
        if (strncmp(reply, "HTTP/1.", 7) != 0 || strlen(reply) < 12)
                return PROBE_FAIL;
        return reply[9] == '2' || reply[9] == '3' ? PROBE_OK : PROBE_FAIL;
}

/* Advances one probe whose socket is ready; returns the result once known. */
static ProbeResult probe_step(const ProbeTarget *t, ProbeState *s, short revents) {
        if (s->stage == STAGE_CONNECTING) {
                int err = 0;
                socklen_t len = sizeof(err);
                char req[512];
                int n;

                if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0)
                        return PROBE_FAIL;
                if (!t->path)
                        return PROBE_OK;
                n = snprintf(req, sizeof(req),
                             "GET %s HTTP/1.0\r\nHost: %s:%d\r\nUser-Agent: berth-probe\r\n"
                             "Connection: close\r\n\r\n",
                             t->path, t->ip, t->port);
                if (n < 0 || (size_t) n >= sizeof(req) || write(s->fd, req, (size_t) n) != n)
                        return PROBE_FAIL;
                s->stage = STAGE_READING;
                return PROBE_UNKNOWN;
        }
        if (revents & (POLLIN | POLLHUP | POLLERR)) {
                ssize_t n = read(s->fd, s->reply + s->got, PROBE_REPLY_PEEK - s->got);
                if (n <= 0)
                        return s->got > 0 ? http_status_ok(s->reply) : PROBE_FAIL;
                s->got += (size_t) n;
                s->reply[s->got] = 0;
                if (s->got >= 12)
                        return http_status_ok(s->reply);
        }
        return PROBE_UNKNOWN;
}

static void probe_batch(const ProbeTarget *targets, size_t n, usec_t timeout, ProbeResult *ret) {
        ProbeState st[PROBE_MAX_CONCURRENT];
        struct pollfd pfd[PROBE_MAX_CONCURRENT];
        usec_t deadline = now_monotonic() + timeout;
        size_t pending = 0;

        for (size_t i = 0; i < n; i++) {
                st[i] = (ProbeState){.fd = -1, .stage = STAGE_DONE};
                ret[i] = PROBE_FAIL;
                int fd = probe_open(&targets[i]);
                if (fd < 0)
                        continue;
                st[i].fd = fd;
                st[i].stage = STAGE_CONNECTING;
                pending++;
        }
        while (pending > 0) {
                usec_t now = now_monotonic();
                int k;

                if (now >= deadline)
                        break;
                for (size_t i = 0; i < n; i++) {
                        pfd[i].fd = st[i].stage == STAGE_DONE ? -1 : st[i].fd;
                        pfd[i].events = st[i].stage == STAGE_CONNECTING ? POLLOUT : POLLIN;
                        pfd[i].revents = 0;
                }
                k = poll(pfd, n, (int) ((deadline - now + 999) / 1000));
                if (k < 0 && errno != EINTR)
                        break;
                for (size_t i = 0; k > 0 && i < n; i++) {
                        ProbeResult pr;

                        if (st[i].stage == STAGE_DONE || pfd[i].revents == 0)
                                continue;
                        pr = probe_step(&targets[i], &st[i], pfd[i].revents);
                        if (pr == PROBE_UNKNOWN)
                                continue;
                        ret[i] = pr;
                        st[i].stage = STAGE_DONE;
                        pending--;
                }
        }
        for (size_t i = 0; i < n; i++)
                if (st[i].fd >= 0)
                        close(st[i].fd);
}

void probe_run(const ProbeTarget *targets, size_t n, usec_t timeout, ProbeResult *ret) {
        for (size_t off = 0; off < n; off += PROBE_MAX_CONCURRENT)
                probe_batch(targets + off, MIN(n - off, (size_t) PROBE_MAX_CONCURRENT), timeout,
                            ret + off);
}
