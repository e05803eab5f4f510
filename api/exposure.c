/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "util/common.h"

#include "api/server.h"

/* Who may reach berthd decides how it must be protected. The API drives Docker, which is root on
 * the host: beyond loopback it needs TLS and authentication, and berthd refuses to start
 * otherwise, naming what is missing. Pure: strings in, a decision out. */

bool api_listen_is_loopback(const char *listen) {
        char host[INET6_ADDRSTRLEN + 1];
        const char *end;
        size_t n;

        if (isempty(listen))
                return false;
        if (listen[0] == '[') {
                end = strchr(listen, ']');
                if (!end)
                        return false;
                listen++;
        } else {
                end = strrchr(listen, ':');
                if (!end)
                        return false;
        }
        n = (size_t) (end - listen);
        if (n == 0 || n >= sizeof(host))
                return false;
        memcpy(host, listen, n);
        host[n] = 0;

        if (streq(host, "localhost"))
                return true;
        {
                struct in_addr a4;
                struct in6_addr a6;

                if (inet_pton(AF_INET, host, &a4) == 1)
                        return (ntohl(a4.s_addr) >> 24) == 127;
                if (inet_pton(AF_INET6, host, &a6) == 1)
                        return IN6_IS_ADDR_LOOPBACK(&a6);
        }
        return false; /* a name other than localhost may resolve anywhere */
}

int api_exposure_decide(const char *listen, const char *auth_env, const char *tls_cert,
                        const char *tls_key, ApiExposure *ret, Error *reterr) {
        ApiExposure x = {};

        assert_return(ret, -EINVAL);

        x.loopback = api_listen_is_loopback(listen);

        if (isempty(auth_env))
                x.auth = !x.loopback;
        else if (streq(auth_env, "on"))
                x.auth = true;
        else if (streq(auth_env, "off"))
                x.auth = false;
        else
                return err_set(reterr, -EINVAL, "BERTH_AUTH",
                               "BERTH_AUTH must be on or off, not \"%s\"", auth_env);

        if (!isempty(tls_cert) && isempty(tls_key))
                return err_set(reterr, -EINVAL, "BERTH_TLS_KEY",
                               "BERTH_TLS_CERT is set but BERTH_TLS_KEY is not: both are needed");
        if (isempty(tls_cert) && !isempty(tls_key))
                return err_set(reterr, -EINVAL, "BERTH_TLS_CERT",
                               "BERTH_TLS_KEY is set but BERTH_TLS_CERT is not: both are needed");
        x.tls = !isempty(tls_cert);

        if (!x.loopback) {
                if (!x.tls)
                        return err_set(reterr, -EPERM, "BERTH_TLS_CERT",
                                       "refusing to listen on %s: a non-loopback address needs "
                                       "TLS; set BERTH_TLS_CERT and BERTH_TLS_KEY (PEM files)",
                                       strna(listen));
                if (!x.auth)
                        return err_set(reterr, -EPERM, "BERTH_AUTH",
                                       "refusing to listen on %s with BERTH_AUTH=off: a "
                                       "non-loopback address needs authentication",
                                       strna(listen));
        }
        *ret = x;
        return 0;
}
