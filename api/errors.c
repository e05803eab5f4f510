/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>

#include "util/common.h"

#include "api/api.h"

/* The only place where an Error becomes an HTTP status and a machine code. A reason set by the
 * callee wins as `code`; its status comes from the table below, else from the errno. */

typedef struct ReasonStatus {
        const char *reason;
        unsigned status;
} ReasonStatus;

static const ReasonStatus reason_table[] = {
        /* The body is not a set of documents at all, or a parameter is malformed. */
        {"INVALID_YAML", 400},       {"INVALID_JSON", 400},         {"NO_DOCUMENTS", 400},
        {"INVALID_PARAMETER", 400},  {"BAD_REQUEST", 400},          {"ROUTE_NOT_FOUND", 404},
        {"RESOURCE_NOT_FOUND", 404}, {"ACTION_NOT_SUPPORTED", 404}, {"METHOD_NOT_ALLOWED", 405},
        {"RESOURCE_DELETING", 409},  {"NAME_TAKEN", 409},           {"PAYLOAD_TOO_LARGE", 413},
        {"NOT_READY", 503},          {"TOO_MANY_STREAMS", 503},     {"UNAVAILABLE", 503},
        {"INTERNAL", 500},           {"UNAUTHENTICATED", 401},      {"FORBIDDEN", 403},
        {"USER_NOT_FOUND", 404},     {"TOKEN_NOT_FOUND", 404},      {"TOO_MANY_REQUESTS", 429},
        {"QUOTA_EXCEEDED", 422},     {"NO_PREVIOUS_REVISION", 409},
};

typedef struct ErrnoStatus {
        int code; /* positive errno */
        unsigned status;
        const char *reason;
} ErrnoStatus;

static const ErrnoStatus errno_table[] = {
        {ENOENT, 404, "RESOURCE_NOT_FOUND"},  {EEXIST, 409, "CONFLICT"},
        {EBUSY, 409, "RESOURCE_DELETING"},    {E2BIG, 413, "PAYLOAD_TOO_LARGE"},
        {EMSGSIZE, 413, "PAYLOAD_TOO_LARGE"}, {EINVAL, 400, "BAD_REQUEST"},
        {EBADMSG, 400, "BAD_REQUEST"},        {EOPNOTSUPP, 422, "NOT_SUPPORTED"},
        {ENXIO, 503, "UNAVAILABLE"}, /* no Docker engine configured */
        {ESTALE, 503, "UNAVAILABLE"},
};

unsigned api_error_status(const Error *e, const char **ret_code) {
        int code = e && e->code < 0 ? -e->code : EIO;

        if (e && e->reason[0]) {
                for (size_t i = 0; i < ELEMENTSOF(reason_table); i++)
                        if (streq(e->reason, reason_table[i].reason)) {
                                *ret_code = reason_table[i].reason;
                                return reason_table[i].status;
                        }
                /* Any other reason on -EINVAL or -EOPNOTSUPP is the model refusing a document:
                 * UNKNOWN_FIELD, INVALID_TYPE, OUT_OF_RANGE, REQUIRED, FIELD_READ_ONLY,
                 * CONFLICT, KIND_NOT_SUPPORTED, ... keep the reason, answer 422. */
                *ret_code = e->reason;
                if (code == EINVAL || code == EOPNOTSUPP)
                        return 422;
                if (code == ENOENT)
                        return 404; /* e.g. INVALID_KIND in a path */
        }

        /* -EINVAL pointing at a field without a reason: still a validation failure. */
        if (e && code == EINVAL && e->field[0]) {
                if (!e->reason[0])
                        *ret_code = "VALIDATION_FAILED";
                return 422;
        }

        for (size_t i = 0; i < ELEMENTSOF(errno_table); i++)
                if (errno_table[i].code == code) {
                        if (!e || !e->reason[0])
                                *ret_code = errno_table[i].reason;
                        return errno_table[i].status;
                }

        if (err_is_transient(-code) && code != ENOMEM) {
                if (!e || !e->reason[0])
                        *ret_code = "UNAVAILABLE";
                return 503;
        }
        if (!e || !e->reason[0])
                *ret_code = "INTERNAL";
        return 500;
}

int api_error_reply(const Error *e, ApiReply *reply) {
        _cleanup_(cjson_deletep) cJSON *o = NULL;
        const char *code = "INTERNAL";
        char sbuf[128];
        unsigned status;
        int r;

        status = api_error_status(e, &code);

        o = cJSON_CreateObject();
        if (!o)
                return -ENOMEM;
        r = json_add_string(o, "code", code);
        if (r >= 0) {
                const char *msg = e && e->msg[0] ? e->msg
                                  : e            ? err_str(e->code, sbuf, sizeof(sbuf))
                                                 : "internal error";
                r = json_add_string(o, "message", msg);
        }
        if (r >= 0 && e && e->field[0])
                r = json_add_string(o, "field", e->field);
        if (r < 0)
                return r;
        return api_reply_json(reply, status, TAKE_PTR(o));
}
