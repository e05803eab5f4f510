/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/docker/docker-t.h"
#include "model/container.h"
#include "model/observed.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/macro.h"

/* A typed Docker Engine API client over libcurl.
 *
 * One DockerClient is one CURL easy handle bound to one engine: use it from one thread at a
 * time (each worker owns its own; the event stream gets a dedicated one). curl_global_init()
 * is the caller's job (berthd's main, or the test), done once before any client exists.
 *
 * Errors: HTTP 404 -ENOENT, 409 -EEXIST, 304 -EALREADY (where it is not success), 400 -EINVAL,
 * 401/403 -EACCES, other 4xx -EPROTO, 5xx -EIO; transport: timeout -ETIMEDOUT, connection
 * refused (or no socket) -ECONNREFUSED, any other curl failure -ECONNRESET; reply over its
 * cap -E2BIG, unparsable reply -EBADMSG. Some calls refine a status where Docker's meaning is
 * known (documented per call). reterr->msg is "<operation>: <Docker's message verbatim>", e.g.
 * "create container shop-web-0: No such image: shop/web:1". */

/* Fills ret from DOCKER_HOST, DOCKER_TLS_VERIFY (non-empty: true, as the docker CLI) and
 * DOCKER_CERT_PATH; name "local". Strings point into environ. -EINVAL: unsupported scheme. */
int docker_engine_from_env(DockerEngine *ret) _warn_unused_result_;

int docker_client_new(const DockerEngine *e, DockerClient **ret,
                      Error *reterr) _warn_unused_result_;
DockerClient *docker_client_free(DockerClient *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(DockerClient *, docker_client_free);
const char *docker_client_engine_name(const DockerClient *c);
/* The negotiated API version ("1.41"), or NULL before the first call negotiated it. */
const char *docker_client_api_version(const DockerClient *c);

/* Negotiates the API version from GET /version (min(server ApiVersion, DOCKER_API_MAX)) and
 * caches it in the client; every call below does so lazily on first use. docker_ping()
 * negotiates if needed, else GETs /_ping. */
int docker_ping(DockerClient *c, Error *reterr) _warn_unused_result_;
/* ret_server_version (may be NULL): the engine's version, e.g. "20.10.24". */
int docker_version(DockerClient *c, char **ret_server_version, Error *reterr) _warn_unused_result_;

/* Containers. */
/* 409 (name taken) -EEXIST; 404 (no such image) -ENOENT. ret_id may be NULL. */
int docker_container_create(DockerClient *c, const ContainerConfig *cfg, char **ret_id,
                            Error *reterr) _warn_unused_result_;
/* Already running (304) is success. */
int docker_container_start(DockerClient *c, const char *id_or_name,
                           Error *reterr) _warn_unused_result_;
/* timeout_s: seconds before SIGKILL, < 0: the container's/Docker's default. Already stopped
 * (304) is success. */
int docker_container_stop(DockerClient *c, const char *id_or_name, int timeout_s,
                          Error *reterr) _warn_unused_result_;
/* signal: "SIGKILL", "TERM", "9"...; NULL: SIGKILL. Not running (409) -ESRCH. */
int docker_container_kill(DockerClient *c, const char *id_or_name, const char *signal,
                          Error *reterr) _warn_unused_result_;
/* New name for a container (running or not). 404 -ENOENT; 409 (name taken) -EEXIST. */
int docker_container_rename(DockerClient *c, const char *id_or_name, const char *new_name,
                            Error *reterr) _warn_unused_result_;
/* 404 -ENOENT; 409 (running without force, removal already in progress) -EBUSY. */
int docker_container_remove(DockerClient *c, const char *id_or_name, bool force, bool volumes,
                            Error *reterr) _warn_unused_result_;
/* Fills ret (caller releases with observed_container_release()). health is reported for a
 * running container only (Docker keeps a stopped one's last, stale health). */
int docker_container_inspect(DockerClient *c, const char *id_or_name, ObservedContainer *ret,
                             Error *reterr) _warn_unused_result_;
/* label_filters: NULL-terminated "k=v" or "k" strings, ANDed (NULL: all containers); all: also
 * stopped ones. *ret is NULL when *ret_n is 0; free with observed_containers_free(). From list
 * replies: started_at, finished_at, restart_count and oom_killed are unknown (0); exit_code
 * comes from the "Exited (N)" status text. */
int docker_container_list(DockerClient *c, char *const *label_filters, bool all,
                          ObservedContainer **ret, size_t *ret_n,
                          Error *reterr) _warn_unused_result_;
/* Appends stdout and stderr, demultiplexed, in order, to out. tail < 0: all lines. When the
 * logs exceed out->max, the tail is kept (starting at a line boundary when there is one). */
int docker_container_logs(DockerClient *c, const char *id, int tail, Buf *out,
                          Error *reterr) _warn_unused_result_;
/* Changes a container's CPU and memory limits while it runs (0: unlimited). 404 -ENOENT. */
int docker_container_update(DockerClient *c, const char *id_or_name, int64_t nano_cpus,
                            int64_t memory, Error *reterr) _warn_unused_result_;
/* Waits until the container is not running; timeout_ms <= 0: DOCKER_TIMEOUT_MS. */
int docker_container_wait(DockerClient *c, const char *id, long timeout_ms, int *ret_exit_code,
                          Error *reterr) _warn_unused_result_;

/* Networks (bridge driver). */
/* labels: "k=v". 409 -EEXIST. ret_id may be NULL. */
int docker_network_create(DockerClient *c, const char *name, char *const *labels, bool internal,
                          char **ret_id, Error *reterr) _warn_unused_result_;
/* 404 -ENOENT. ret_id may be NULL. Only an exact name or id matches (not an id prefix). */
int docker_network_inspect(DockerClient *c, const char *name, char **ret_id,
                           Error *reterr) _warn_unused_result_;
/* As docker_network_inspect(), also returning the labels ("k=v"); either out may be NULL. */
int docker_network_inspect_full(DockerClient *c, const char *name, char **ret_id,
                                char ***ret_labels, Error *reterr) _warn_unused_result_;
/* The first IPAM config's subnet ("10.213.0.0/24") and gateway; either out may be NULL. */
int docker_network_ipam(DockerClient *c, const char *name, char **ret_subnet, char **ret_gateway,
                        Error *reterr) _warn_unused_result_;
/* 404 -ENOENT; active endpoints (403) -EBUSY. */
int docker_network_remove(DockerClient *c, const char *name, Error *reterr) _warn_unused_result_;
/* *ret_names: NULL-terminated, never NULL on success. */
int docker_network_list(DockerClient *c, char *const *label_filters, char ***ret_names,
                        Error *reterr) _warn_unused_result_;
/* aliases may be NULL. Already connected (403) -EEXIST. */
int docker_network_connect(DockerClient *c, const char *network, const char *container,
                           char *const *aliases, Error *reterr) _warn_unused_result_;
/* Force-disconnects the container (running or not) from the network. 404 (no such network or
 * container) -ENOENT; not connected (Docker's 500 "is not connected") -ENOTCONN. */
int docker_network_disconnect(DockerClient *c, const char *network, const char *container,
                              Error *reterr) _warn_unused_result_;

/* Volumes (local driver). Creating an existing volume succeeds (Docker returns it). */
int docker_volume_create(DockerClient *c, const char *name, char *const *labels,
                         Error *reterr) _warn_unused_result_;
/* 404 -ENOENT; in use (409) -EBUSY. */
int docker_volume_remove(DockerClient *c, const char *name, bool force,
                         Error *reterr) _warn_unused_result_;
int docker_volume_list(DockerClient *c, char *const *label_filters, char ***ret_names,
                       Error *reterr) _warn_unused_result_;

/* Images. */
/* -ENOENT when absent. ret_id ("sha256:..."), ret_labels ("k=v") may be NULL. */
int docker_image_inspect(DockerClient *c, const char *ref, char **ret_id, char ***ret_labels,
                         Error *reterr) _warn_unused_result_;
/* ref without tag or digest pulls ":latest" (never all tags). fn (may be NULL) gets each JSON
 * progress line; an "error" in the stream is a failure (-EIO) carrying its message. Errors
 * before the stream: unknown tag or repository (404) -ENOENT, unreachable registry (500) -EIO. */
int docker_image_pull(DockerClient *c, const char *ref, DockerProgressFn fn, void *userdata,
                      Error *reterr) _warn_unused_result_;
/* Imports the tarball at tar_path (streamed, not read into memory) as ref ("repo[:tag]");
 * changes: Dockerfile instructions such as "ENV PATH=/bin" (may be NULL). */
int docker_image_import(DockerClient *c, const char *tar_path, const char *ref,
                        char *const *changes, Error *reterr) _warn_unused_result_;

/* Removes the image (untags ref; deletes layers no other image uses). 404 -ENOENT; used by a
 * container (409) -EBUSY unless force. */
int docker_image_remove(DockerClient *c, const char *ref, bool force,
                        Error *reterr) _warn_unused_result_;

/* Runs argv in the running container (no TTY, no stdin) and waits for it, for at most
 * DOCKER_EXEC_TIMEOUT_MS. stdout goes to out, stderr to err (either may be NULL: discarded);
 * output over a Buf's max fails with -E2BIG. Not running (409) -ESRCH. */
int docker_exec(DockerClient *c, const char *container, char *const *argv, Buf *out, Buf *err,
                int *ret_exit_code, Error *reterr) _warn_unused_result_;

/* Extracts the tar archive into dir (which must exist) in the container's filesystem or a
 * volume; Docker cannot write into a tmpfs mount this way. 404: no container or no dir. */
int docker_archive_put(DockerClient *c, const char *container, const char *dir, const void *tar,
                       size_t tar_len, Error *reterr) _warn_unused_result_;

/* Blocking stream of container events of objects labelled berth.managed=true: calls fn per
 * event, in order. since_nano: replay from that time (0: from now); reconnect with the last
 * time_nano seen (duplicates are possible, losses are not). Events berth causes itself and that
 * change no state (exec_*, attach, detach, resize, top, archive-path, extract-to-dir, copy,
 * export, commit) are skipped. Returns 0 when fn returned non-negative non-zero or *stop became
 * true (checked every DOCKER_STOP_POLL_MS); fn's value when negative; -ECONNRESET when the engine
 * ended the stream; another negative errno on error. Use a dedicated client. */
int docker_events_follow(DockerClient *c, int64_t since_nano, DockerEventFn fn, void *userdata,
                         const volatile bool *stop, Error *reterr) _warn_unused_result_;

/* Process-wide counters for /metrics: HTTP calls made since start, and those that failed (no
 * answer, HTTP 400 or 5xx, or a reply over its cap or failing mid-stream). 404/409 and other
 * expected answers are not errors. Either pointer may be NULL. */
void docker_metrics(uint64_t *ret_calls, uint64_t *ret_errors);
