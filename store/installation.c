/* SPDX-License-Identifier: MIT */
#include <libpq-fe.h>

#include "util/common.h"

#include "store/store-internal.h"
#include "store/store.h"

int store_installation_id(Store *s, char ret[37], Error *reterr) {
        _cleanup_pqclear_ PGresult *res = NULL;
        int r;

        assert_return(s && ret, -EINVAL);
        r = store_query(s, "SELECT id::text FROM installation", 0, NULL, STORE_Q_RETRY, &res,
                        reterr);
        if (r < 0)
                return r;
        if (PQntuples(res) != 1)
                return err_set(reterr, -ENOENT, NULL, "the state store has no installation id");
        snprintf(ret, 37, "%s", PQgetvalue(res, 0, 0));
        return 0;
}
