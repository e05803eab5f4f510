/* SPDX-License-Identifier: MIT */
#include <stdarg.h>

#include <cjson/cJSON.h>

#include "util/common.h"
#include "model/resource.h"

static const char *const kind_table[_KIND_MAX] = {
        [KIND_PG_SINGLE] = "pg_single", [KIND_PG_CLUSTER] = "pg_cluster",
        [KIND_MYSQL_HA] = "mysql_ha",   [KIND_DOCKER_SERVICE] = "docker_service",
        [KIND_PG_TENANT] = "pg_tenant", [KIND_JOB] = "job",
};

const char *kind_to_string(ResourceKind k) {
        if (k < 0 || k >= _KIND_MAX)
                return NULL;
        return kind_table[k];
}

ResourceKind kind_from_string(const char *s) {
        if (!s)
                return _KIND_INVALID;
        for (int i = 0; i < _KIND_MAX; i++)
                if (streq(kind_table[i], s))
                        return (ResourceKind) i;
        return _KIND_INVALID;
}

void document_release(Document *d) {
        if (!d)
                return;
        cJSON_Delete(d->labels);
        cJSON_Delete(d->spec);
        d->labels = d->spec = NULL;
}

void documents_free(Document *docs, size_t n) {
        if (!docs)
                return;
        for (size_t i = 0; i < n; i++)
                document_release(&docs[i]);
        b_free(docs);
}

static bool char_is_lower_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool name_is_valid(const char *s) {
        size_t n;

        if (!s)
                return false;
        n = strlen(s);
        if (n == 0 || n > NAME_MAX_LEN)
                return false;
        if (!char_is_lower_alnum(s[0]) || !char_is_lower_alnum(s[n - 1]))
                return false;
        for (size_t i = 1; i + 1 < n; i++)
                if (!char_is_lower_alnum(s[i]) && s[i] != '-')
                        return false;
        return true;
}

static int name_format(char *buf, size_t n, const char *fmt, ...) _printf_(3, 4);
static int name_format(char *buf, size_t n, const char *fmt, ...) {
        va_list ap;
        int k;

        assert_return(buf && n > 0, -EINVAL);
        va_start(ap, fmt);
        k = vsnprintf(buf, n, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -EINVAL;
        if ((size_t) k >= n) {
                buf[0] = 0;
                return -E2BIG;
        }
        return 0;
}

int name_container(char *buf, size_t n, const char *project, const char *name, const char *role,
                   unsigned index) {
        assert_return(project && name && role, -EINVAL);
        return name_format(buf, n, "%s-%s-%s-%u", project, name, role, index);
}

int name_volume(char *buf, size_t n, const char *project, const char *name, const char *vol,
                unsigned index) {
        assert_return(project && name && vol, -EINVAL);
        return name_format(buf, n, "%s-%s-%s-%u", project, name, vol, index);
}

int name_project_network(char *buf, size_t n, const char *project) {
        assert_return(project, -EINVAL);
        return name_format(buf, n, "berth-%s", project);
}

int name_resource_network(char *buf, size_t n, const char *project, const char *name) {
        assert_return(project && name, -EINVAL);
        return name_format(buf, n, "berth-%s-%s", project, name);
}
