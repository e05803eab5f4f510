/* SPDX-License-Identifier: MIT */
#include "util/common.h"

#include "api/api.h"
#include "model/resource.h"

/* Authorisation: the caller's role per project and the checks handlers make. Pure functions of
 * the caller attached to the request (auth.c fills it); no store access here.
 *
 * The rule every handler follows: a project the caller holds no role in does not exist for them,
 * so anything in it answers 404 RESOURCE_NOT_FOUND with the same message a missing resource gets
 * (never 403, never data); a visible project with too low a role answers 403 FORBIDDEN. */

static const char *const role_names[_API_ROLE_MAX] = {
        [API_ROLE_PUBLIC] = "public", [API_ROLE_USER] = "user",
        [API_ROLE_VIEWER] = "viewer", [API_ROLE_OPERATOR] = "operator",
        [API_ROLE_EDITOR] = "editor", [API_ROLE_OWNER] = "owner",
        [API_ROLE_ADMIN] = "admin",
};

const char *api_role_to_string(ApiRole r) {
        if (r < 0 || r >= _API_ROLE_MAX)
                return NULL;
        return role_names[r];
}

ApiRole api_role_from_string(const char *s) {
        if (!s)
                return _API_ROLE_INVALID;
        for (ApiRole r = API_ROLE_VIEWER; r <= API_ROLE_OWNER; r++)
                if (streq(s, role_names[r]))
                        return r;
        return _API_ROLE_INVALID;
}

bool api_user_name_is_valid(const char *s) {
        size_t n;

        if (isempty(s))
                return false;
        n = strnlen(s, API_USER_NAME_MAX + 1);
        if (n > API_USER_NAME_MAX)
                return false;
        if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
                      s[i] == '_' || s[i] == '-'))
                        return false;
        return true;
}

bool api_user_name_is_reserved(const char *s) {
        return s && (streq(s, "local") || streq(s, "anonymous"));
}

void api_caller_release(ApiCaller *c) {
        if (!c)
                return;
        b_free(c->memberships);
        *c = (ApiCaller){};
}

void api_caller_set_local(ApiCaller *c) {
        api_caller_release(c);
        c->kind = API_CALLER_LOCAL;
        c->admin = true;
        snprintf(c->name, sizeof(c->name), "local");
        snprintf(c->actor, sizeof(c->actor), "local");
}

ApiRole api_caller_role(const ApiCaller *c, const char *project) {
        if (!c || c->kind == API_CALLER_NONE)
                return API_ROLE_PUBLIC;
        if (c->admin)
                return API_ROLE_ADMIN;
        if (project)
                for (size_t i = 0; i < c->n_memberships; i++)
                        if (streq(c->memberships[i].project, project))
                                return c->memberships[i].role;
        return API_ROLE_USER;
}

int api_caller_check(const ApiCaller *c, const char *project, ApiRole need, const char *what,
                     Error *reterr) {
        ApiRole have;

        assert_return(project, -EINVAL);

        have = api_caller_role(c, project);
        if (have >= need)
                return 0;
        if (have < API_ROLE_VIEWER) {
                if (what)
                        return err_setr(reterr, -ENOENT, "RESOURCE_NOT_FOUND", NULL,
                                        "%s not found in project \"%s\"", what, project);
                return err_setr(reterr, -ENOENT, "RESOURCE_NOT_FOUND", NULL,
                                "project \"%s\" not found", project);
        }
        return err_setr(reterr, -EPERM, "FORBIDDEN", NULL,
                        "role %s in project \"%s\" is needed (you have %s)",
                        api_role_to_string(need), project, api_role_to_string(have));
}

int api_authorize(ApiRequest *req, const char *project, Error *reterr) {
        char what[sizeof(req->name) + 64];

        assert_return(req && req->route, -EINVAL);

        if (req->kind >= 0 && req->name[0]) {
                /* The same words resource_lookup() uses for a resource that does not exist. */
                snprintf(what, sizeof(what), "%s \"%s\"", kind_to_string(req->kind), req->name);
                return api_caller_check(&req->caller, project, req->route->role, what, reterr);
        }
        return api_caller_check(&req->caller, project, req->route->role, NULL, reterr);
}
