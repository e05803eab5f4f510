/* SPDX-License-Identifier: MIT */
/* drivers/docker against the real engine (DOCKER_HOST or /var/run/docker.sock). Prints TAP
 * ("ok N - name", plan at the end); exits 1 on any failure. Without an engine or a test image it
 * prints "1..0 # SKIP ..." and exits 0 (meson's tap protocol counts that as skipped).
 * Image: $BERTH_TEST_IMAGE, else berth/busybox:latest, else berth-test/drv:1 (busybox with
 * sh, httpd, cat, sleep). Everything it creates is named berthdrvtest-* and removed. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "util/common.h"

#include "drivers/docker/docker.h"
#include "model/resource.h"

static int n_tests, n_failed;

static bool check(bool cond, const Error *e, const char *fmt, ...) _printf_(3, 4);
static bool check(bool cond, const Error *e, const char *fmt, ...) {
        char text[1024];
        va_list ap;

        n_tests++;
        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        /* One line per result: captured output is shown with \n escapes. */
        printf("%s %d - ", cond ? "ok" : "not ok", n_tests);
        for (const char *p = text; *p; p++)
                if (*p == '\n')
                        fputs("\\n", stdout);
                else
                        putchar(*p);
        if (!cond) {
                n_failed++;
                if (e && e->msg[0])
                        printf(" # error %d: %s", e->code, e->msg);
        }
        printf("\n");
        fflush(stdout);
        return cond;
}

static bool contains(const char *haystack, const char *needle) {
        return haystack && strstr(haystack, needle);
}

static int free_port(void) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(a);
        int fd, port = -1;

        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        if (bind(fd, (struct sockaddr *) &a, sizeof(a)) == 0 &&
            getsockname(fd, (struct sockaddr *) &a, &len) == 0)
                port = ntohs(a.sin_port);
        close(fd);
        return port;
}

/* A minimal ustar writer: one regular file, then the two zero blocks. */
static int tar_add_file(Buf *tar, const char *name, const char *content, size_t len) {
        char h[512] = {0};
        unsigned sum = 0;
        int r;

        if (strlen(name) >= 100)
                return -EINVAL;
        memcpy(h, name, strlen(name));
        snprintf(h + 100, 8, "%07o", 0644);
        snprintf(h + 108, 8, "%07o", 0);
        snprintf(h + 116, 8, "%07o", 0);
        snprintf(h + 124, 12, "%011zo", len);
        snprintf(h + 136, 12, "%011o", 0);
        h[156] = '0';
        memcpy(h + 257, "ustar", 6);
        memcpy(h + 263, "00", 2);
        memset(h + 148, ' ', 8);
        for (size_t i = 0; i < sizeof(h); i++)
                sum += (unsigned char) h[i];
        snprintf(h + 148, 8, "%06o", sum);
        h[155] = ' ';
        r = buf_append(tar, h, sizeof(h));
        if (r < 0)
                return r;
        r = buf_append(tar, content, len);
        if (r < 0)
                return r;
        while (tar->len % 512)
                if ((r = buf_putc(tar, 0)) < 0)
                        return r;
        return 0;
}

static int tar_finish(Buf *tar) {
        static const char zero[1024];
        return buf_append(tar, zero, sizeof(zero));
}

static bool image_exists(DockerClient *c, const char *ref) {
        return docker_image_inspect(c, ref, NULL, NULL, NULL) >= 0;
}

/* ---- events in a thread ---- */

typedef struct EventWatch {
        DockerClient *client;
        int64_t since;
        const char *want_id;
        volatile bool stop;
        volatile bool done;
        bool saw_die;
        char resource[64];
        int64_t time_nano;
        int result;
        Error err;
} EventWatch;

static int on_event(const char *action, const char *id, const char *resource, int64_t time_nano,
                    void *userdata) {
        EventWatch *w = userdata;

        if (w->want_id && streq(id, w->want_id) && streq(action, "die")) {
                w->saw_die = true;
                w->time_nano = time_nano;
                snprintf(w->resource, sizeof(w->resource), "%s", strempty(resource));
                return 1;
        }
        return 0;
}

static void *watch_main(void *userdata) {
        EventWatch *w = userdata;

        w->result = docker_events_follow(w->client, w->since, on_event, w, &w->stop, &w->err);
        w->done = true;
        return NULL;
}

/* Joins the watcher, stopping it after ~10 s so a lost event fails the test instead of hanging. */
static void watch_join(pthread_t t, EventWatch *w) {
        for (int i = 0; i < 100 && !w->done; i++)
                (void) nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
        w->stop = true;
        pthread_join(t, NULL);
}

/* ---- the test ---- */

typedef struct Names {
        char net[64], net2[64], vol[64], ctr[64], ctr2[64], image[64], label[64];
} Names;

static void cleanup(DockerClient *c, const Names *n) {
        DISCARD(docker_container_remove(c, n->ctr, true, true, NULL));
        DISCARD(docker_container_remove(c, n->ctr2, true, true, NULL));
        DISCARD(docker_volume_remove(c, n->vol, true, NULL));
        DISCARD(docker_network_remove(c, n->net, NULL));
        DISCARD(docker_network_remove(c, n->net2, NULL));
        DISCARD(docker_image_remove(c, n->image, true, NULL));
}

static void test_errors_without_engine(void) {
        _cleanup_(docker_client_freep) DockerClient *c = NULL;
        Error e = ERROR_INIT;
        int r;

        r = docker_client_new(
                &(DockerEngine){.name = "nowhere", .host = "unix:///nonexistent/docker.sock"}, &c,
                &e);
        check(r >= 0, &e, "client for a missing socket is created");
        if (r < 0)
                return;
        r = docker_ping(c, &e);
        check(r == -ECONNREFUSED, &e, "ping of a missing socket: -ECONNREFUSED (got %d)", r);
        c = docker_client_free(c);

        r = docker_client_new(&(DockerEngine){.host = "tcp://127.0.0.1:1"}, &c, &e);
        check(r >= 0 && streq(docker_client_engine_name(c), "local"), &e,
              "tcp client, default name local");
        if (r < 0)
                return;
        r = docker_ping(c, &e);
        check(r == -ECONNREFUSED, &e, "ping of a closed tcp port: -ECONNREFUSED (got %d)", r);

        r = docker_client_new(&(DockerEngine){.host = "ssh://x"}, &c, &e);
        check(r == -EINVAL, &e, "ssh:// is refused with -EINVAL");
}

static void test_network(DockerClient *c, const Names *n) {
        _cleanup_free_ char *id = NULL, *id2 = NULL;
        _cleanup_strv_free_ char **labels = NULL, **names = NULL, **filter = NULL;
        Error e = ERROR_INIT;
        int r;

        if (strv_pushf(&labels, "%s=true", LABEL_MANAGED) < 0 || strv_push(&labels, n->label) < 0 ||
            strv_push(&filter, n->label) < 0)
                abort();
        r = docker_network_create(c, n->net, labels, false, &id, &e);
        check(r == 0 && id && strlen(id) == 64, &e, "network create");
        r = docker_network_create(c, n->net, labels, false, NULL, &e);
        check(r == -EEXIST && contains(e.msg, "create network berthdrvtest-") &&
                      contains(e.msg, "already exists"),
              &e, "network create again: -EEXIST with Docker's message (%s)", e.msg);
        r = docker_network_inspect(c, n->net, &id2, &e);
        check(r == 0 && id && id2 && streq(id, id2), &e, "network inspect returns the id");
        strv_free(labels);
        labels = NULL;
        r = docker_network_inspect_full(c, n->net, NULL, &labels, &e);
        check(r == 0 && strv_contains(labels, n->label) &&
                      strv_contains(labels, LABEL_MANAGED "=true"),
              &e, "network inspect returns the labels");
        r = docker_network_inspect(c, "berthdrvtest-no-such-net", NULL, &e);
        check(r == -ENOENT, &e, "inspect of a missing network: -ENOENT");
        r = docker_network_list(c, filter, &names, &e);
        check(r == 0 && strv_length(names) == 1 && streq(names[0], n->net), &e,
              "network list by label");
        r = docker_network_create(c, n->net2, labels, true, NULL, &e);
        check(r == 0, &e, "internal network create");
}

static void test_volume(DockerClient *c, const Names *n) {
        _cleanup_strv_free_ char **labels = NULL, **names = NULL, **filter = NULL;
        Error e = ERROR_INIT;
        int r;

        if (strv_push(&labels, n->label) < 0 || strv_push(&filter, n->label) < 0)
                abort();
        r = docker_volume_create(c, n->vol, labels, &e);
        check(r == 0, &e, "volume create");
        r = docker_volume_create(c, n->vol, labels, &e);
        check(r == 0, &e, "volume create again succeeds");
        r = docker_volume_list(c, filter, &names, &e);
        check(r == 0 && strv_length(names) == 1 && streq(names[0], n->vol), &e,
              "volume list by label");
}

static void container_config(ContainerConfig *cfg, const Names *n, const char *image, int port) {
        static char *cmd[] = {(char *) "sh", (char *) "-c",
                              (char *) "echo to-stdout; sleep 0.1; echo to-stderr >&2; "
                                       "exec httpd -f -p 8080 -h /tmp",
                              NULL};
        static char *health[] = {(char *) "true", NULL};
        static char *aliases[] = {(char *) "drvalias", NULL};
        static PortBinding ports[1];
        static MountSpec mounts[2];
        static char *labels[8], *env[] = {(char *) "GREETING=hello world", NULL};

        /* Not berth.managed: a berthd running on this engine would remove it as an orphan. */
        labels[0] = (char *) LABEL_RESOURCE "=00000000-0000-4000-8000-0000000000aa";
        labels[1] = (char *) LABEL_ROLE "=app";
        labels[2] = (char *) LABEL_INDEX "=3";
        labels[3] = (char *) LABEL_CONFIG_HASH "=cafe";
        labels[4] = (char *) n->label;
        labels[5] = NULL;
        ports[0] = (PortBinding){.container_port = 8080, .host_port = port};
        mounts[0] = (MountSpec){
                .type = (char *) "volume", .source = (char *) n->vol, .target = (char *) "/data"};
        mounts[1] = (MountSpec){
                .type = (char *) "tmpfs", .target = (char *) "/scratch", .tmpfs_size = 1 << 20};
        *cfg = (ContainerConfig){
                .name = (char *) n->ctr,
                .image = (char *) image,
                .hostname = (char *) "drvhost",
                .working_dir = (char *) "/tmp",
                .cmd = cmd,
                .env = env,
                .labels = labels,
                .network = (char *) n->net,
                .aliases = aliases,
                .ports = ports,
                .n_ports = 1,
                .mounts = mounts,
                .n_mounts = 2,
                .nano_cpus = 500000000,
                .memory = 64 << 20,
                .restart_policy = (char *) "no",
                .init = true,
                .stop_timeout = 1,
                .health_test = health,
                .health_interval = 200 * USEC_PER_MSEC,
                .health_timeout = 1 * USEC_PER_SEC,
                .health_retries = 1,
        };
}

static size_t discard(void *p, size_t s, size_t n, void *u) {
        (void) p;
        (void) u;
        return s * n;
}

static long http_get_status(int port) {
        char url[64];
        long code = 0;
        CURL *h = curl_easy_init();

        if (!h)
                return -1;
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        if (curl_easy_perform(h) == CURLE_OK)
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_cleanup(h);
        return code;
}

static void test_exec(DockerClient *c, const Names *n) {
        _cleanup_(buf_release) Buf out = BUF_INIT(4096), err = BUF_INIT(4096), small = BUF_INIT(4);
        char *echo[] = {(char *) "echo", (char *) "hi", NULL};
        char *fail[] = {(char *) "sh", (char *) "-c", (char *) "echo oops >&2; exit 3", NULL};
        char *env[] = {(char *) "sh", (char *) "-c", (char *) "echo \"$GREETING\"; hostname", NULL};
        char *big[] = {(char *) "sh", (char *) "-c", (char *) "echo 0123456789", NULL};
        Error e = ERROR_INIT;
        int r, code = -1;

        r = docker_exec(c, n->ctr, echo, &out, &err, &code, &e);
        check(r == 0 && code == 0 && streq(buf_str(&out), "hi\n") && err.len == 0, &e,
              "exec echo hi: stdout captured, exit 0");
        buf_reset(&out);
        r = docker_exec(c, n->ctr, fail, &out, &err, &code, &e);
        check(r == 0 && code == 3 && out.len == 0 && streq(buf_str(&err), "oops\n"), &e,
              "exec of a failing command: exit 3, stderr captured");
        buf_reset(&err);
        r = docker_exec(c, n->ctr, env, &out, NULL, &code, &e);
        check(r == 0 && code == 0 && streq(buf_str(&out), "hello world\ndrvhost\n"), &e,
              "exec sees Env and Hostname (%s)", buf_str(&out));
        r = docker_exec(c, n->ctr, big, &small, NULL, &code, &e);
        check(r == -E2BIG, &e, "exec output over the cap: -E2BIG");
        r = docker_exec(c, "berthdrvtest-no-such-ctr", echo, NULL, NULL, &code, &e);
        check(r == -ENOENT, &e, "exec in a missing container: -ENOENT");
}

static void test_logs(DockerClient *c, const Names *n) {
        _cleanup_(buf_release) Buf out = BUF_INIT(4096), tail = BUF_INIT(12);
        Error e = ERROR_INIT;
        int r;

        r = docker_container_logs(c, n->ctr, -1, &out, &e);
        check(r == 0 && streq(buf_str(&out), "to-stdout\nto-stderr\n"), &e,
              "logs: stdout and stderr demultiplexed in order (%s)", buf_str(&out));
        r = docker_container_logs(c, n->ctr, -1, &tail, &e);
        check(r == 0 && streq(buf_str(&tail), "to-stderr\n"), &e,
              "logs over the cap keep the tail from a line start (%s)", buf_str(&tail));
        buf_reset(&out);
        r = docker_container_logs(c, n->ctr, 1, &out, &e);
        check(r == 0 && streq(buf_str(&out), "to-stderr\n"), &e, "logs tail=1");
}

static void test_archive(DockerClient *c, const Names *n) {
        _cleanup_(buf_release) Buf tar = BUF_INIT(1 << 20), out = BUF_INIT(4096);
        char *cat[] = {(char *) "cat", (char *) "/tmp/hello.txt", NULL};
        Error e = ERROR_INIT;
        int r, code = -1;

        if (tar_add_file(&tar, "hello.txt", "archived\n", 9) < 0 || tar_finish(&tar) < 0)
                abort();
        /* Into the container's filesystem: Docker cannot extract into a tmpfs mount. */
        r = docker_archive_put(c, n->ctr, "/tmp", tar.buf, tar.len, &e);
        check(r == 0, &e, "archive put into /tmp");
        r = docker_exec(c, n->ctr, cat, &out, NULL, &code, &e);
        check(r == 0 && code == 0 && streq(buf_str(&out), "archived\n"), &e,
              "cat shows the archived file (%d: %s)", code, buf_str(&out));
        r = docker_archive_put(c, n->ctr, "/no/such/dir", tar.buf, tar.len, &e);
        check(r == -ENOENT, &e, "archive put into a missing dir: -ENOENT");
}

static void test_container(DockerClient *c, const Names *n, const char *image) {
        _cleanup_(observed_container_release) ObservedContainer o = {0};
        _cleanup_strv_free_ char **filter = NULL;
        _cleanup_free_ char *id = NULL;
        char *aliases[] = {(char *) "drvalias2", NULL};
        ObservedContainer *list = NULL;
        size_t n_list = 0;
        ContainerConfig cfg;
        Error e = ERROR_INIT;
        int r, port, code = -1;

        if (strv_push(&filter, n->label) < 0)
                abort();
        port = free_port();
        container_config(&cfg, n, image, port);

        r = docker_container_create(c, &cfg, &id, &e);
        if (!check(r == 0 && id && strlen(id) == 64, &e, "container create"))
                return;
        r = docker_container_create(c, &cfg, NULL, &e);
        check(r == -EEXIST && contains(e.msg, "create container berthdrvtest-"), &e,
              "container create again: -EEXIST (%s)", e.msg);
        r = docker_container_start(c, id, &e);
        check(r == 0, &e, "container start");
        r = docker_container_start(c, n->ctr, &e);
        check(r == 0, &e, "start of a running container succeeds (304)");

        r = docker_container_inspect(c, n->ctr, &o, &e);
        check(r == 0 && streq(o.id, id) && streq(o.name, n->ctr) && streq(o.state, "running") &&
                      streq(o.image, image),
              &e, "inspect: id, name, image, running");
        check(r == 0 && streq(strna(o.resource), "00000000-0000-4000-8000-0000000000aa") &&
                      streq(strna(o.role), "app") && streq(strna(o.config_hash), "cafe") &&
                      o.index == 3,
              &e, "inspect: labels → resource, role, config hash, index");
        check(r == 0 && o.ip && o.started_at > 0 && o.created > 0 && o.finished_at == 0 &&
                      o.started_at >= o.created && o.started_at < now_realtime() + USEC_PER_SEC,
              &e, "inspect: ip %s, created, started_at", strna(o.ip));
        check(r == 0 && o.health && (streq(o.health, "starting") || streq(o.health, "healthy")), &e,
              "inspect: health %s", strna(o.health));

        /* The healthcheck passes after its first interval. */
        for (int i = 0; i < 100; i++) {
                observed_container_release(&o);
                r = docker_container_inspect(c, n->ctr, &o, &e);
                if (r < 0 || (o.health && streq(o.health, "healthy")))
                        break;
                (void) nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
        }
        check(r == 0 && streq(strna(o.health), "healthy"), &e, "becomes healthy");

        r = docker_container_list(c, filter, false, &list, &n_list, &e);
        check(r == 0 && n_list == 1 && streq(list[0].id, id) && streq(list[0].name, n->ctr) &&
                      streq(list[0].state, "running") && streq(strna(list[0].health), "healthy") &&
                      list[0].index == 3 && streq(strna(list[0].role), "app") && list[0].ip &&
                      list[0].created > 0,
              &e, "list by label: one running healthy container");
        observed_containers_free(list, n_list);
        list = NULL;

        check(http_get_status(port) > 0, NULL, "published port answers on 127.0.0.1:%d", port);

        test_exec(c, n);
        test_logs(c, n);
        test_archive(c, n);

        r = docker_network_connect(c, n->net2, n->ctr, aliases, &e);
        check(r == 0, &e, "network connect");
        r = docker_network_connect(c, n->net2, n->ctr, aliases, &e);
        check(r == -EEXIST, &e, "network connect again: -EEXIST");
        r = docker_network_remove(c, n->net2, &e);
        check(r == -EBUSY, &e, "remove of a network in use: -EBUSY");
        r = docker_volume_remove(c, n->vol, false, &e);
        check(r == -EBUSY, &e, "remove of a volume in use: -EBUSY");

        r = docker_container_kill(c, n->ctr, "SIGKILL", &e);
        check(r == 0, &e, "kill");
        r = docker_container_wait(c, id, 10000, &code, &e);
        check(r == 0 && code == 137, &e, "wait: exit code 137 (got %d)", code);

        observed_container_release(&o);
        r = docker_container_inspect(c, id, &o, &e);
        check(r == 0 && streq(o.state, "exited") && o.exit_code == 137 && !o.oom_killed &&
                      o.finished_at >= o.started_at && o.health == NULL,
              &e, "inspect after kill: exited 137, finished_at, no health (%s)", strna(o.health));

        r = docker_container_kill(c, n->ctr, NULL, &e);
        check(r == -ESRCH, &e, "kill of a stopped container: -ESRCH");
        r = docker_container_stop(c, n->ctr, 1, &e);
        check(r == 0, &e, "stop of a stopped container succeeds (304)");
        r = docker_exec(c, n->ctr, (char *[]){(char *) "true", NULL}, NULL, NULL, &code, &e);
        check(r == -ESRCH, &e, "exec in a stopped container: -ESRCH");

        r = docker_container_list(c, filter, false, &list, &n_list, &e);
        check(r == 0 && n_list == 0 && !list, &e, "list running only: none");
        observed_containers_free(list, n_list);
        r = docker_container_list(c, filter, true, &list, &n_list, &e);
        check(r == 0 && n_list == 1 && streq(list[0].state, "exited") && list[0].exit_code == 137,
              &e, "list all: exited, exit code 137 from the status text");
        observed_containers_free(list, n_list);

        /* A restart, then stop with a short grace period. */
        r = docker_container_start(c, id, &e);
        check(r == 0, &e, "start again");
        r = docker_container_stop(c, id, 1, &e);
        check(r == 0, &e, "stop");

        r = docker_container_remove(c, id, true, false, &e);
        check(r == 0, &e, "remove");
        r = docker_container_remove(c, id, true, false, &e);
        check(r == -ENOENT && contains(e.msg, "No such container"), &e,
              "remove again: -ENOENT (%s)", e.msg);
        observed_container_release(&o);
        r = docker_container_inspect(c, n->ctr, &o, &e);
        check(r == -ENOENT, &e, "inspect of a removed container: -ENOENT");
}

/* events_follow only sees berth.managed containers: use a short-lived one of its own (a berthd
 * on this engine may remove it as an orphan at any time; that also ends in "die"). */
static void test_events(DockerClient *c, const Names *n, const char *image) {
        char *labels[] = {(char *) LABEL_MANAGED "=true",
                          (char *) LABEL_RESOURCE "=00000000-0000-4000-8000-0000000000bb",
                          (char *) n->label, NULL};
        char *cmd[] = {(char *) "sleep", (char *) "300", NULL};
        ContainerConfig cfg = {.name = (char *) n->ctr2,
                               .image = (char *) image,
                               .cmd = cmd,
                               .labels = labels,
                               .init = true,
                               .stop_timeout = -1};
        _cleanup_free_ char *id = NULL;
        DockerEngine engine;
        Error e = ERROR_INIT;
        EventWatch w = {0};
        pthread_t watcher;
        int r;

        r = docker_container_create(c, &cfg, &id, &e);
        if (!check(r == 0, &e, "managed container create"))
                return;
        r = docker_engine_from_env(&engine);
        if (r >= 0)
                r = docker_client_new(&engine, &w.client, &e);
        if (!check(r == 0, &e, "second client for events"))
                return;
        /* Replaying from before the start, the watcher cannot miss the die. */
        w.since = (int64_t) now_realtime() * 1000 - 1000000;
        w.want_id = id;
        if (pthread_create(&watcher, NULL, watch_main, &w) != 0)
                abort();
        r = docker_container_start(c, id, &e);
        check(r == 0 || r == -ENOENT, &e, "managed container start");
        r = docker_container_kill(c, id, NULL, &e);
        check(r == 0 || r == -ENOENT || r == -ESRCH, &e, "managed container kill");

        watch_join(watcher, &w);
        check(w.result == 0 && w.saw_die, &w.err, "events: die seen (result %d)", w.result);
        check(streq(w.resource, "00000000-0000-4000-8000-0000000000bb") && w.time_nano >= w.since,
              NULL, "events: resource label and timeNano");
        w.client = docker_client_free(w.client);
        r = docker_container_remove(c, id, true, false, &e);
        check(r == 0 || r == -ENOENT, &e, "managed container remove");
}

static void test_missing_image(DockerClient *c, const Names *n) {
        _cleanup_free_ char *id = NULL;
        ContainerConfig cfg = {.name = (char *) n->ctr2,
                               .image = (char *) "berthdrvtest/no-such-image:1",
                               .stop_timeout = -1};
        Error e = ERROR_INIT;
        int r;

        r = docker_container_create(c, &cfg, &id, &e);
        check(r == -ENOENT && !id && contains(e.msg, "create container berthdrvtest-") &&
                      contains(e.msg, "No such image: berthdrvtest/no-such-image:1"),
              &e, "create with a missing image: -ENOENT, message carried (%s)", e.msg);
        r = docker_image_pull(c, "berthdrvtest/no-such-image:1", NULL, NULL, &e);
        check(r < 0 && contains(e.msg, "pull image berthdrvtest/no-such-image:1: "), &e,
              "pull of an unreachable image fails with a message (%d: %s)", r, e.msg);
        cfg.image = NULL;
        r = docker_container_create(c, &cfg, &id, &e);
        check(r == -EINVAL, &e, "create without image: -EINVAL");
}

static void test_images(DockerClient *c, const Names *n, const char *image) {
        _cleanup_(buf_release) Buf tar = BUF_INIT(1 << 20);
        _cleanup_strv_free_ char **labels = NULL;
        _cleanup_free_ char *id = NULL;
        char path[] = "/tmp/berthdrvtest-XXXXXX";
        char *changes[] = {(char *) "ENV FOO=bar", (char *) "LABEL berthdrvtest=imported", NULL};
        Error e = ERROR_INIT;
        int r, fd;

        r = docker_image_inspect(c, image, &id, NULL, &e);
        check(r == 0 && id && strneq(id, "sha256:", 7), &e, "image inspect: id");
        r = docker_image_inspect(c, "berthdrvtest/no-such-image:1", NULL, NULL, &e);
        check(r == -ENOENT, &e, "image inspect of a missing image: -ENOENT");

        if (tar_add_file(&tar, "marker", "x\n", 2) < 0 || tar_finish(&tar) < 0)
                abort();
        fd = mkstemp(path);
        if (fd < 0 || write(fd, tar.buf, tar.len) != (ssize_t) tar.len)
                abort();
        close(fd);
        r = docker_image_import(c, path, n->image, changes, &e);
        check(r == 0, &e, "image import with changes");
        id = mfree(id);
        r = docker_image_inspect(c, n->image, &id, &labels, &e);
        check(r == 0 && strv_contains(labels, "berthdrvtest=imported"), &e,
              "imported image has the LABEL change");
        r = docker_image_import(c, "/nonexistent/x.tar", n->image, NULL, &e);
        check(r == -ENOENT, &e, "import of a missing file: -ENOENT");
        r = docker_image_remove(c, n->image, false, &e);
        check(r == 0, &e, "image remove");
        r = docker_image_remove(c, n->image, false, &e);
        check(r == -ENOENT, &e, "image remove again: -ENOENT");
        unlink(path);
}

static void test_events_stop(DockerClient *c) {
        EventWatch w = {.client = c};
        pthread_t t;

        /* Nothing labelled happens: only the stop flag can end it. */
        if (pthread_create(&t, NULL, watch_main, &w) != 0)
                abort();
        w.stop = true;
        pthread_join(t, NULL);
        check(w.result == 0 && w.done, &w.err, "events_follow returns 0 when *stop is set");
}

static void test_cleanup_checks(DockerClient *c, const Names *n) {
        _cleanup_strv_free_ char **names = NULL, **filter = NULL;
        Error e = ERROR_INIT;
        int r;

        if (strv_push(&filter, n->label) < 0)
                abort();
        r = docker_volume_remove(c, n->vol, false, &e);
        check(r == 0, &e, "volume remove");
        r = docker_volume_remove(c, n->vol, false, &e);
        check(r == -ENOENT, &e, "volume remove again: -ENOENT");
        r = docker_volume_list(c, filter, &names, &e);
        check(r == 0 && names && !names[0], &e, "volume list: gone");
        r = docker_network_remove(c, n->net, &e);
        check(r == 0, &e, "network remove");
        r = docker_network_remove(c, n->net2, &e);
        check(r == 0, &e, "second network remove");
        r = docker_network_remove(c, n->net, &e);
        check(r == -ENOENT, &e, "network remove again: -ENOENT");
}

int main(void) {
        _cleanup_(docker_client_freep) DockerClient *c = NULL;
        _cleanup_free_ char *server = NULL;
        const char *image = getenv("BERTH_TEST_IMAGE");
        DockerEngine engine;
        Error e = ERROR_INIT;
        uint64_t calls = 0, errors = 0;
        Names n;
        int r;

        alloc_install_cjson();
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return 1;
        if (docker_engine_from_env(&engine) < 0) {
                printf("1..0 # SKIP unsupported DOCKER_HOST\n");
                return 0;
        }
        r = docker_client_new(&engine, &c, &e);
        if (r < 0 || docker_ping(c, &e) < 0) {
                printf("1..0 # SKIP no Docker engine: %s\n", e.msg);
                return 0;
        }
        if (isempty(image))
                image = image_exists(c, "berth/busybox:latest") ? "berth/busybox:latest"
                                                                : "berth-test/drv:1";
        if (!image_exists(c, image)) {
                printf("1..0 # SKIP test image %s is missing\n", image);
                return 0;
        }

        snprintf(n.net, sizeof(n.net), "berthdrvtest-net-%d", (int) getpid());
        snprintf(n.net2, sizeof(n.net2), "berthdrvtest-net2-%d", (int) getpid());
        snprintf(n.vol, sizeof(n.vol), "berthdrvtest-vol-%d", (int) getpid());
        snprintf(n.ctr, sizeof(n.ctr), "berthdrvtest-ctr-%d", (int) getpid());
        snprintf(n.ctr2, sizeof(n.ctr2), "berthdrvtest-ctr2-%d", (int) getpid());
        snprintf(n.image, sizeof(n.image), "berthdrvtest/imported:%d", (int) getpid());
        snprintf(n.label, sizeof(n.label), "berthdrvtest=%d", (int) getpid());

        r = docker_version(c, &server, &e);
        check(r == 0 && !isempty(server), &e, "version: server %s", strna(server));
        check(docker_client_api_version(c) &&
                      strcmp(docker_client_api_version(c), DOCKER_API_MAX) <= 0,
              NULL, "API version negotiated: %s", strna(docker_client_api_version(c)));
        r = docker_ping(c, &e);
        check(r == 0, &e, "ping");

        test_errors_without_engine();
        test_network(c, &n);
        test_volume(c, &n);
        test_container(c, &n, image);
        test_events(c, &n, image);
        test_missing_image(c, &n);
        test_images(c, &n, image);
        test_events_stop(c);
        test_cleanup_checks(c, &n);

        docker_metrics(&calls, &errors);
        check(calls > 50 && errors >= 1 && errors < calls, NULL,
              "metrics: %" PRIu64 " calls, %" PRIu64 " errors", calls, errors);

        cleanup(c, &n);
        c = docker_client_free(c);
        curl_global_cleanup();
        printf("1..%d\n", n_tests);
        return n_failed > 0 ? 1 : 0;
}
