/* SPDX-License-Identifier: MIT */
#include <openssl/evp.h>

#include "util/common.h"
#include "model/container.h"

static void port_binding_release(PortBinding *p) {
        p->host_ip = mfree(p->host_ip);
        p->protocol = mfree(p->protocol);
}

static void mount_spec_release(MountSpec *m) {
        m->type = mfree(m->type);
        m->source = mfree(m->source);
        m->target = mfree(m->target);
}

void container_config_release(ContainerConfig *c) {
        if (!c)
                return;
        c->name = mfree(c->name);
        c->image = mfree(c->image);
        c->user = mfree(c->user);
        c->hostname = mfree(c->hostname);
        c->working_dir = mfree(c->working_dir);
        c->stop_signal = mfree(c->stop_signal);
        c->entrypoint = strv_free(c->entrypoint);
        c->cmd = strv_free(c->cmd);
        c->env = strv_free(c->env);
        c->labels = strv_free(c->labels);
        c->network = mfree(c->network);
        c->aliases = strv_free(c->aliases);
        c->extra_networks = strv_free(c->extra_networks);
        for (size_t i = 0; i < c->n_ports; i++)
                port_binding_release(&c->ports[i]);
        c->ports = mfree(c->ports);
        c->n_ports = 0;
        for (size_t i = 0; i < c->n_mounts; i++)
                mount_spec_release(&c->mounts[i]);
        c->mounts = mfree(c->mounts);
        c->n_mounts = 0;
        c->restart_policy = mfree(c->restart_policy);
        c->health_test = strv_free(c->health_test);
        for (size_t i = 0; i < c->n_files; i++) {
                c->files[i].path = mfree(c->files[i].path);
                c->files[i].content = mfree(c->files[i].content);
        }
        c->files = mfree(c->files);
        c->n_files = 0;
        for (size_t i = 0; i < c->n_secrets; i++) {
                c->secrets[i].secret = mfree(c->secrets[i].secret);
                c->secrets[i].env = mfree(c->secrets[i].env);
                c->secrets[i].path = mfree(c->secrets[i].path);
                c->secrets[i].url_before = mfree(c->secrets[i].url_before);
                c->secrets[i].url_after = mfree(c->secrets[i].url_after);
        }
        c->secrets = mfree(c->secrets);
        c->n_secrets = 0;
}

/* The canonical serialisation is a sequence of tagged, length-prefixed fields fed straight into
 * the digest: "tag:len:bytes;" for strings ("tag:-;" for NULL), "tag:n;" for numbers, and a count
 * before each list. Distinct configs cannot collide by concatenation. */
typedef struct Hasher {
        EVP_MD_CTX *ctx;
        bool failed;
} Hasher;

static void hasher_feed(Hasher *h, const void *data, size_t n) {
        if (!h->failed && !EVP_DigestUpdate(h->ctx, data, n))
                h->failed = true;
}

static void hash_str(Hasher *h, const char *tag, const char *s) {
        char head[64];
        int k;

        if (!s)
                k = snprintf(head, sizeof(head), "%s:-;", tag);
        else
                k = snprintf(head, sizeof(head), "%s:%zu:", tag, strlen(s));
        hasher_feed(h, head, (size_t) k);
        if (s) {
                hasher_feed(h, s, strlen(s));
                hasher_feed(h, ";", 1);
        }
}

static void hash_int(Hasher *h, const char *tag, int64_t v) {
        char head[64];
        int k = snprintf(head, sizeof(head), "%s:%" PRId64 ";", tag, v);

        hasher_feed(h, head, (size_t) k);
}

static void hash_strv(Hasher *h, const char *tag, char *const *l) {
        if (!l) {
                hash_str(h, tag, NULL);
                return;
        }
        hash_int(h, tag, (int64_t) strv_length(l));
        for (char *const *s = l; *s; s++)
                hash_str(h, "-", *s);
}

static void evp_md_ctx_freep(EVP_MD_CTX **c) {
        EVP_MD_CTX_free(*c);
}

int container_config_hash(const ContainerConfig *c, char ret[65]) {
        static const char hex[] = "0123456789abcdef";
        _cleanup_(evp_md_ctx_freep) EVP_MD_CTX *ctx = NULL;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        Hasher h;

        assert_return(c && ret, -EINVAL);
        ctx = EVP_MD_CTX_new();
        if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
                return -ENOMEM;
        h = (Hasher){.ctx = ctx};

        hash_str(&h, "v", "1"); /* bump when the serialisation changes */
        hash_str(&h, "image", c->image);
        hash_str(&h, "user", c->user);
        hash_strv(&h, "entrypoint", c->entrypoint);
        hash_strv(&h, "cmd", c->cmd);
        hash_strv(&h, "env", c->env);
        hash_int(&h, "ports", (int64_t) c->n_ports);
        for (size_t i = 0; i < c->n_ports; i++) {
                hash_int(&h, "container_port", c->ports[i].container_port);
                hash_int(&h, "host_port", c->ports[i].host_port);
                hash_str(&h, "host_ip", c->ports[i].host_ip);
                hash_str(&h, "protocol", c->ports[i].protocol);
        }
        hash_int(&h, "mounts", (int64_t) c->n_mounts);
        for (size_t i = 0; i < c->n_mounts; i++) {
                hash_str(&h, "type", c->mounts[i].type);
                hash_str(&h, "source", c->mounts[i].source);
                hash_str(&h, "target", c->mounts[i].target);
                hash_int(&h, "read_only", c->mounts[i].read_only);
                hash_int(&h, "tmpfs_size", c->mounts[i].tmpfs_size);
        }
        if (!c->resources_live) {
                hash_int(&h, "nano_cpus", c->nano_cpus);
                hash_int(&h, "memory", c->memory);
        }
        hash_str(&h, "restart_policy", c->restart_policy);
        hash_int(&h, "restart_max_retries", c->restart_max_retries);
        hash_int(&h, "init", c->init);
        hash_strv(&h, "health_test", c->health_test);
        hash_int(&h, "health_interval", (int64_t) c->health_interval);
        hash_int(&h, "health_timeout", (int64_t) c->health_timeout);
        hash_int(&h, "health_start_period", (int64_t) c->health_start_period);
        hash_int(&h, "health_retries", c->health_retries);
        hash_str(&h, "network", c->network);
        hash_strv(&h, "aliases", c->aliases);
        hash_str(&h, "hostname", c->hostname);
        hash_str(&h, "working_dir", c->working_dir);
        hash_int(&h, "stop_timeout", c->stop_timeout);
        if (c->stop_signal)
                hash_str(&h, "stop_signal", c->stop_signal);
        /* Only when present, so containers made before these existed keep their hash. */
        if (c->extra_networks)
                hash_strv(&h, "extra_networks", c->extra_networks);
        if (c->n_files > 0) {
                hash_int(&h, "files", (int64_t) c->n_files);
                for (size_t i = 0; i < c->n_files; i++) {
                        if (c->files[i].live)
                                continue;
                        hash_str(&h, "path", c->files[i].path);
                        hash_int(&h, "size", (int64_t) c->files[i].size);
                        hasher_feed(&h, c->files[i].content, c->files[i].size);
                        hash_int(&h, "mode", c->files[i].mode);
                }
        }
        /* Secrets by name and version, never by value: a new version rolls the containers, and
         * the label reveals nothing about the value. */
        if (c->n_secrets > 0) {
                hash_int(&h, "secrets", (int64_t) c->n_secrets);
                for (size_t i = 0; i < c->n_secrets; i++) {
                        hash_str(&h, "secret", c->secrets[i].secret);
                        hash_int(&h, "version", c->secrets[i].version);
                        hash_str(&h, "env", c->secrets[i].env);
                        hash_str(&h, "path", c->secrets[i].path);
                        if (c->secrets[i].url_before)
                                hash_str(&h, "url_before", c->secrets[i].url_before);
                        if (c->secrets[i].url_after)
                                hash_str(&h, "url_after", c->secrets[i].url_after);
                }
        }

        if (h.failed || !EVP_DigestFinal_ex(ctx, md, &n) || n != 32)
                return -ENOMEM;
        for (unsigned i = 0; i < n; i++) {
                ret[2 * i] = hex[md[i] >> 4];
                ret[2 * i + 1] = hex[md[i] & 15];
        }
        ret[64] = 0;
        return 0;
}

int container_add_labels(ContainerConfig *c, const ResourceRef *ref, ResourceKind kind,
                         const char *role, unsigned index, const char *hash) {
        int r;

        assert_return(c && ref && role && hash, -EINVAL);
        r = strv_pushf(&c->labels, "%s=true", LABEL_MANAGED);
        if (r >= 0 && !isempty(ref->installation))
                r = strv_pushf(&c->labels, "%s=%s", LABEL_INSTALLATION, ref->installation);
        if (r >= 0)
                r = strv_pushf(&c->labels, "%s=%s", LABEL_RESOURCE, ref->uuid);
        if (r >= 0)
                r = strv_pushf(&c->labels, "%s=%s", LABEL_KIND, kind_to_string(kind));
        if (r >= 0)
                r = strv_pushf(&c->labels, "%s=%s", LABEL_PROJECT, ref->project);
        if (r >= 0)
                r = strv_pushf(&c->labels, "%s=%s", LABEL_NAME, ref->name);
        if (r >= 0)
                r = strv_pushf(&c->labels, "%s=%s", LABEL_ROLE, role);
        if (r >= 0)
                r = strv_pushf(&c->labels, "%s=%u", LABEL_INDEX, index);
        if (r >= 0)
                r = strv_pushf(&c->labels, "%s=%s", LABEL_CONFIG_HASH, hash);
        return r;
}

int container_file_set(ContainerFile *f, const char *path, const char *content, size_t n,
                       unsigned mode, bool live) {
        *f = (ContainerFile){.mode = mode, .live = live, .size = n};
        f->path = b_strdup(path);
        f->content = b_malloc(n + 1);
        if (f->content) {
                memcpy(f->content, content, n);
                f->content[n] = 0;
        }
        return f->path && f->content ? 0 : -ENOMEM;
}

void container_files_free(ContainerFile *f, size_t n) {
        for (size_t i = 0; f && i < n; i++) {
                b_free(f[i].path);
                if (f[i].content)
                        explicit_bzero(f[i].content, f[i].size);
                b_free(f[i].content);
        }
        b_free(f);
}

int container_config_add_file(ContainerConfig *c, const char *path, const char *content,
                              unsigned mode, bool live) {
        ContainerFile *n = b_realloc(c->files, (c->n_files + 1) * sizeof(*n));

        if (!n)
                return -ENOMEM;
        c->files = n;
        n = &c->files[c->n_files];
        *n = (ContainerFile){};
        c->n_files++;
        return container_file_set(n, path, content, strlen(content), mode, live);
}

int container_config_add_secret_file(ContainerConfig *c, const char *secret, int64_t version,
                                     const char *path) {
        ContainerSecret *n = b_realloc(c->secrets, (c->n_secrets + 1) * sizeof(*n));

        if (!n)
                return -ENOMEM;
        c->secrets = n;
        n = &c->secrets[c->n_secrets++];
        *n = (ContainerSecret){.version = version};
        n->secret = b_strdup(secret);
        n->path = b_strdup(path);
        return n->secret && n->path ? 0 : -ENOMEM;
}

int container_config_add_volume(ContainerConfig *c, const char *volume, const char *target,
                                bool read_only) {
        MountSpec *n = b_realloc(c->mounts, (c->n_mounts + 1) * sizeof(*n));

        if (!n)
                return -ENOMEM;
        c->mounts = n;
        n = &c->mounts[c->n_mounts++];
        *n = (MountSpec){.read_only = read_only};
        n->type = b_strdup("volume");
        n->source = b_strdup(volume);
        n->target = b_strdup(target);
        return n->type && n->source && n->target ? 0 : -ENOMEM;
}

int container_config_add_secret_env(ContainerConfig *c, const char *secret, int64_t version,
                                    const char *env) {
        ContainerSecret *n = b_realloc(c->secrets, (c->n_secrets + 1) * sizeof(*n));

        if (!n)
                return -ENOMEM;
        c->secrets = n;
        n = &c->secrets[c->n_secrets++];
        *n = (ContainerSecret){.version = version};
        n->secret = b_strdup(secret);
        n->env = b_strdup(env);
        return n->secret && n->env ? 0 : -ENOMEM;
}
