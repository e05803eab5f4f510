/* SPDX-License-Identifier: MIT */
#include "util/common.h"

#include "model/depends.h"

/* Pure: what a container's spec refers to, turned into env, networks and secret references. */

static ContainerSecret *secret_append(ContainerConfig *c) {
        ContainerSecret *n = b_realloc(c->secrets, (c->n_secrets + 1) * sizeof(*n));

        if (!n)
                return NULL;
        c->secrets = n;
        n = &c->secrets[c->n_secrets++];
        *n = (ContainerSecret){0};
        return n;
}

int depends_secrets_add(const ServiceSecret *secrets, size_t n, const int64_t *versions,
                        ContainerConfig *c) {
        for (size_t i = 0; i < n; i++) {
                const ServiceSecret *s = &secrets[i];
                ContainerSecret *cs = secret_append(c);

                if (!cs)
                        return -ENOMEM;
                cs->secret = b_strdup(s->secret);
                cs->version = versions ? versions[i] : 0;
                if (s->as_file)
                        cs->path = b_strdup(s->path);
                else
                        cs->env = b_strdup(s->key);
                if (!cs->secret || (!cs->path && !cs->env))
                        return -ENOMEM;
        }
        return 0;
}

static int add_env_secret(ContainerConfig *c, const char *env, const char *secret, int64_t version,
                          const char *url_before, const char *url_after) {
        ContainerSecret *n = secret_append(c);

        if (!n)
                return -ENOMEM;
        n->version = version;
        n->secret = b_strdup(secret);
        n->env = b_strdup(env);
        n->url_before = url_before ? b_strdup(url_before) : NULL;
        n->url_after = url_after ? b_strdup(url_after) : NULL;
        if (!n->secret || !n->env || (url_before && !n->url_before) || (url_after && !n->url_after))
                return -ENOMEM;
        return 0;
}

/* A database dependency: its network, PREFIX_HOST/_PORT/_USER/_DATABASE, and the password as
 * PREFIX_PASSWORD and inside PREFIX_URL, both from the secret at create time (never in the
 * spec, the plan or Docker's record of the config beyond the env itself). */
static int database_env(const ServiceDependency *d, const ObservedDependency *o,
                        ContainerConfig *c) {
        char key[96], before[256], after[256];
        int r = 0;

        if (!strv_contains(c->extra_networks, o->network))
                r = strv_push(&c->extra_networks, o->network);
        if (r >= 0)
                r = strv_pushf(&c->env, "%s_HOST=%s", d->prefix, d->name);
        if (r >= 0)
                r = strv_pushf(&c->env, "%s_PORT=%d", d->prefix, o->port);
        if (r >= 0)
                r = strv_pushf(&c->env, "%s_USER=%s", d->prefix, o->user);
        if (r >= 0)
                r = strv_pushf(&c->env, "%s_DATABASE=%s", d->prefix, o->dbname);
        if (r < 0 || o->secret_version == SECRET_MISSING)
                return r;
        snprintf(key, sizeof(key), "%s_PASSWORD", d->prefix);
        r = add_env_secret(c, key, o->secret, o->secret_version, NULL, NULL);
        if (r < 0)
                return r;
        snprintf(key, sizeof(key), "%s_URL", d->prefix);
        snprintf(before, sizeof(before), "postgresql://%s:", o->user);
        snprintf(after, sizeof(after), "@%s:%d/%s", d->name, o->port, o->dbname);
        return add_env_secret(c, key, o->secret, o->secret_version, before, after);
}

/* PREFIX_HOST, PREFIX_PORT, PREFIX_URL per dependency that exists: its service name answers on
 * the project network. A changed port changes the env, hence the hash: a service rolls. */
int depends_env_add(const ServiceDependency *deps, size_t n, const ObservedDependency *obs,
                    ContainerConfig *c) {
        int r = 0;

        for (size_t i = 0; r >= 0 && obs && i < n; i++) {
                const ServiceDependency *d = &deps[i];
                const ObservedDependency *o = &obs[i];

                if (!o->exists)
                        continue;
                if (o->database) {
                        r = database_env(d, o, c);
                        continue;
                }
                r = strv_pushf(&c->env, "%s_HOST=%s", d->prefix, d->name);
                if (r >= 0 && o->port > 0)
                        r = strv_pushf(&c->env, "%s_PORT=%d", d->prefix, o->port);
                if (r >= 0 && o->port > 0)
                        r = strv_pushf(&c->env, "%s_URL=%s://%s:%d", d->prefix,
                                       o->http ? "http" : "tcp", d->name, o->port);
        }
        return r;
}
