/* SPDX-License-Identifier: MIT */
#include <math.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "util/common.h"
#include "model/json-util.h"

int json_add_item_take(cJSON *o, const char *key, cJSON *item) {
        if (!item)
                return -ENOMEM;
        if (key ? !cJSON_AddItemToObject(o, key, item) : !cJSON_AddItemToArray(o, item)) {
                cJSON_Delete(item);
                return -ENOMEM;
        }
        return 0;
}

static int cmp_str_ptr(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

int json_find_duplicate_key(const cJSON *o, const char **ret_key) {
        _cleanup_free_ const char **keys = NULL;
        const cJSON *c;
        size_t n = 0, i = 0;

        assert_return(o && ret_key, -EINVAL);
        *ret_key = NULL;
        cJSON_ArrayForEach(c, o) {
                n++;
        }
        if (n < 2)
                return 0;
        if (n <= 16) {
                /* Small objects: quadratic is cheaper than an allocation, and finds the first. */
                for (const cJSON *a = o->child; a; a = a->next)
                        for (const cJSON *b = a->next; b; b = b->next)
                                if (a->string && b->string && streq(a->string, b->string)) {
                                        *ret_key = b->string;
                                        return 0;
                                }
                return 0;
        }
        keys = b_malloc(n * sizeof(*keys));
        if (!keys)
                return -ENOMEM;
        cJSON_ArrayForEach(c, o) {
                keys[i++] = c->string ? c->string : "";
        }
        qsort(keys, n, sizeof(*keys), cmp_str_ptr);
        for (i = 1; i < n; i++)
                if (streq(keys[i - 1], keys[i])) {
                        /* Point at the object's own string, not our soon-freed array. */
                        *ret_key = keys[i];
                        return 0;
                }
        return 0;
}

bool json_number_is_integer(double d) {
        /* No floor(): berth-core does not link libm. */
        return isfinite(d) && d >= -9007199254740992.0 && d <= 9007199254740992.0 &&
               (double) (int64_t) d == d;
}

int sha256_hex(const void *data, size_t len, char ret[65]) {
        static const char hex[] = "0123456789abcdef";
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;

        assert_return(ret, -EINVAL);
        if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n != 32)
                return -ENOMEM;
        for (unsigned i = 0; i < n; i++) {
                ret[2 * i] = hex[md[i] >> 4];
                ret[2 * i + 1] = hex[md[i] & 15];
        }
        ret[64] = 0;
        return 0;
}
