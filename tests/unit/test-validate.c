/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "util/common.h"
#include "model/document.h"
#include "model/json-util.h"
#include "model/service.h"

static int setup(void **state) {
        (void) state;
        alloc_install_cjson();
        return 0;
}

/* ---- bad documents: code, reason and exact field ------------------------------------------ */

#define SVC(spec)       "kind: docker_service\nmetadata: {name: web}\nspec: " spec "\n"
#define DOC(meta, spec) "kind: docker_service\nmetadata: " meta "\nspec: " spec "\n"
#define IMG             "image: berth/busybox"
#define NAME_64         "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd"

typedef struct BadCase {
        const char *what;
        const char *body;
        int code;
        const char *reason;
        const char *field;
        const char *msg; /* substring of the message, or NULL */
} BadCase;

static const BadCase bad_cases[] = {
        /* names */
        {"upper-case name", DOC("{name: Web}", "{" IMG "}"), -EINVAL, "INVALID_NAME",
         "metadata.name", "\"Web\" is not a valid name"},
        {"unicode name", DOC("{name: wéb}", "{" IMG "}"), -EINVAL, "INVALID_NAME", "metadata.name",
         NULL},
        {"64-char name", DOC("{name: " NAME_64 "}", "{" IMG "}"), -EINVAL, "INVALID_NAME",
         "metadata.name", "64 characters long"},
        {"41-char name", DOC("{name: abcdefghijabcdefghijabcdefghijabcdefghijx}", "{" IMG "}"),
         -EINVAL, "INVALID_NAME", "metadata.name", NULL},
        {"path name", DOC("{name: ../x}", "{" IMG "}"), -EINVAL, "INVALID_NAME", "metadata.name",
         NULL},
        {"leading dash", DOC("{name: -web}", "{" IMG "}"), -EINVAL, "INVALID_NAME", "metadata.name",
         NULL},
        {"trailing dash", DOC("{name: web-}", "{" IMG "}"), -EINVAL, "INVALID_NAME",
         "metadata.name", NULL},
        {"underscore", DOC("{name: my_web}", "{" IMG "}"), -EINVAL, "INVALID_NAME", "metadata.name",
         NULL},
        {"empty name", DOC("{name: ''}", "{" IMG "}"), -EINVAL, "INVALID_NAME", "metadata.name",
         NULL},
        {"name is a number", DOC("{name: 42}", "{" IMG "}"), -EINVAL, "INVALID_TYPE",
         "metadata.name", "must be a string, not 42"},
        {"name missing", DOC("{project: shop}", "{" IMG "}"), -EINVAL, "REQUIRED", "metadata.name",
         NULL},
        {"bad project", DOC("{name: web, project: Shop}", "{" IMG "}"), -EINVAL, "INVALID_NAME",
         "metadata.project", NULL},
        {"metadata missing", "kind: docker_service\nspec: {" IMG "}\n", -EINVAL, "REQUIRED",
         "metadata", NULL},
        {"metadata a list", "kind: docker_service\nmetadata: [web]\nspec: {" IMG "}\n", -EINVAL,
         "INVALID_TYPE", "metadata", NULL},
        {"environment too long", DOC("{name: web, environment: " NAME_64 "}", "{" IMG "}"), -EINVAL,
         "OUT_OF_RANGE", "metadata.environment", NULL},
        {"label value too long", DOC("{name: web, labels: {team: " NAME_64 "}}", "{" IMG "}"),
         -EINVAL, "OUT_OF_RANGE", "metadata.labels.team", NULL},
        {"label value with space", DOC("{name: web, labels: {team: 'a b'}}", "{" IMG "}"), -EINVAL,
         "INVALID_VALUE", "metadata.labels.team", NULL},
        {"bad label key", DOC("{name: web, labels: {-x: a}}", "{" IMG "}"), -EINVAL, "INVALID_NAME",
         "metadata.labels.-x", NULL},
        {"label a list", DOC("{name: web, labels: {a: [1]}}", "{" IMG "}"), -EINVAL, "INVALID_TYPE",
         "metadata.labels.a", NULL},

        /* envelope */
        {"unknown top field", "apiVersion: v1\n" SVC("{" IMG "}"), -EINVAL, "UNKNOWN_FIELD",
         "apiVersion", "unknown field"},
        {"unknown metadata field", DOC("{name: web, namespace: x}", "{" IMG "}"), -EINVAL,
         "UNKNOWN_FIELD", "metadata.namespace", NULL},
        {"status in metadata", DOC("{name: web, status: {}}", "{" IMG "}"), -EINVAL,
         "FIELD_READ_ONLY", "metadata.status", "set by the server"},
        {"generation in metadata", DOC("{name: web, generation: 3}", "{" IMG "}"), -EINVAL,
         "FIELD_READ_ONLY", "metadata.generation", NULL},
        {"generation at top", "generation: 2\n" SVC("{" IMG "}"), -EINVAL, "FIELD_READ_ONLY",
         "generation", "set by the server"},
        {"status at top", SVC("{" IMG "}") "status: {phase: RUNNING}\n", -EINVAL, "FIELD_READ_ONLY",
         "status", NULL},
        {"uid at top", "uid: 1234\n" SVC("{" IMG "}"), -EINVAL, "FIELD_READ_ONLY", "uid", NULL},
        {"kind unknown", "kind: docker_svc\nmetadata: {name: web}\nspec: {}\n", -EINVAL,
         "INVALID_KIND", "kind", "\"docker_svc\" is not a kind"},
        {"kind missing", "metadata: {name: web}\nspec: {" IMG "}\n", -EINVAL, "REQUIRED", "kind",
         NULL},
        {"kind a number", "kind: 3\nmetadata: {name: web}\nspec: {" IMG "}\n", -EINVAL,
         "INVALID_TYPE", "kind", NULL},
        {"kind pg_tenant", "kind: pg_tenant\nmetadata: {name: db}\nspec: {cluster: orders}\n",
         -EOPNOTSUPP, "KIND_NOT_SUPPORTED", "kind",
         "kind pg_tenant is not supported yet by this berthd"},
        {"kind job without image", "kind: job\nmetadata: {name: j}\nspec: {}\n", -EINVAL,
         "REQUIRED", "spec.image", NULL},
        {"spec missing", "kind: docker_service\nmetadata: {name: web}\n", -EINVAL, "REQUIRED",
         "spec", NULL},
        {"spec a list", "kind: docker_service\nmetadata: {name: web}\nspec: [1]\n", -EINVAL,
         "INVALID_TYPE", "spec", NULL},
        {"document a scalar", "hello\n", -EINVAL, "INVALID_TYPE", "", "must be a map"},
        {"empty body", "", -EINVAL, "NO_DOCUMENTS", "", "no documents"},
        {"blank body", "  \n\t\n", -EINVAL, "NO_DOCUMENTS", "", NULL},
        {"comments only", "# nothing here\n---\n", -EINVAL, "NO_DOCUMENTS", "", NULL},
        {"malformed YAML", "kind: docker_service\nmetadata: {name: web\nspec: {}\n", -EBADMSG,
         "INVALID_YAML", "", "line 3, column 5:"},
        {"bad indentation", "kind: docker_service\nmetadata:\n  name: web\n   project: x\n",
         -EBADMSG, "INVALID_YAML", "", "line 4, column 11:"},
        {"YAML anchor", SVC("{" IMG ", env: &e {A: b}}"), -EBADMSG, "INVALID_YAML", "spec.env",
         "anchors"},
        {"YAML duplicate key",
         "kind: docker_service\nmetadata: {name: web}\nspec:\n  " IMG
         "\n  replicas: 1\n  replicas: 2\n",
         -EBADMSG, "INVALID_YAML", "spec.replicas", "line 6, column 3: duplicate key"},
        {"JSON garbage", "{\"kind\": \"docker_service\", ]", -EBADMSG, "INVALID_JSON", "",
         "invalid JSON near offset 27"},
        {"JSON trailing data", "{\"kind\": \"docker_service\"} {}", -EBADMSG, "INVALID_JSON", "",
         "invalid JSON near offset 27"},
        {"JSON NUL escape",
         "{\"kind\":\"docker_service\",\"metadata\":{\"name\":\"w\"},\"spec\":{\"image\":\"x\","
         "\"env\":{\"A\":\"a\\u0000b\"}}}",
         -EBADMSG, "INVALID_JSON", "", "NUL"},
        {"JSON duplicate key",
         "{\"kind\":\"docker_service\",\"metadata\":{\"name\":\"w\"},\"spec\":{\"image\":\"x\","
         "\"image\":\"y\"}}",
         -EINVAL, "DUPLICATE", "spec.image", NULL},
        {"second document bad",
         SVC("{" IMG "}") "---\n" DOC("{name: two}", "{" IMG ", replicas: 500}"), -EINVAL,
         "OUT_OF_RANGE", "documents[1].spec.replicas",
         "documents[1].spec.replicas: 500 is out of range (0..100)"},
        {"third document bad YAML",
         SVC("{" IMG "}") "---\n" DOC("{name: b}", "{" IMG "}") "---\n" DOC(
                 "{name: c}", "{" IMG ", env: {A: &x 1}}"),
         -EBADMSG, "INVALID_YAML", "documents[2].spec.env.A", "anchors"},
        {"duplicate documents", SVC("{" IMG "}") "---\n" SVC("{" IMG "}"), -EINVAL, "DUPLICATE",
         "documents[1].metadata.name", "also documents[0]"},

        /* spec: unknown and unsupported fields */
        {"unknown spec field", SVC("{" IMG ", replcas: 2}"), -EINVAL, "UNKNOWN_FIELD",
         "spec.replcas", "did you mean \"replicas\""},
        {"unknown field far off", SVC("{" IMG ", colour: red}"), -EINVAL, "UNKNOWN_FIELD",
         "spec.colour", NULL},
        {"unknown healthcheck field",
         SVC("{" IMG ", healthcheck: {type: tcp, port: 80, intrval: 1s}}"), -EINVAL,
         "UNKNOWN_FIELD", "spec.healthcheck.intrval", "did you mean \"interval\""},
        {"unknown port field", SVC("{" IMG ", ports: [{container_port: 80, hostport: 80}]}"),
         -EINVAL, "UNKNOWN_FIELD", "spec.ports[0].hostport", NULL},

        /* deploy */
        {"deploy unknown field", SVC("{" IMG ", deploy: {strategy: rolling, surge: 1}}"), -EINVAL,
         "UNKNOWN_FIELD", "spec.deploy.surge", NULL},
        {"deploy bad strategy", SVC("{" IMG ", deploy: {strategy: bluegreen}}"), -EINVAL,
         "INVALID_VALUE", "spec.deploy.strategy", NULL},
        {"deploy surge over 100%", SVC("{" IMG ", deploy: {max_surge: 150%}}"), -EINVAL,
         "OUT_OF_RANGE", "spec.deploy.max_surge", "0%..100%"},
        {"deploy amount not a number", SVC("{" IMG ", deploy: {max_unavailable: a lot}}"), -EINVAL,
         "INVALID_VALUE", "spec.deploy.max_unavailable", "percentage"},
        {"deploy negative surge", SVC("{" IMG ", deploy: {max_surge: -1}}"), -EINVAL,
         "OUT_OF_RANGE", "spec.deploy.max_surge", NULL},
        {"deploy both zero", SVC("{" IMG ", deploy: {max_surge: 0, max_unavailable: 0%}}"), -EINVAL,
         "CONFLICT", "spec.deploy.max_unavailable", "cannot both be 0"},
        {"deploy surge with recreate", SVC("{" IMG ", deploy: {strategy: recreate, max_surge: 1}}"),
         -EINVAL, "INVALID_VALUE", "spec.deploy.max_surge", "only applies to strategy rolling"},
        {"deploy deadline too short", SVC("{" IMG ", deploy: {progress_deadline: 500ms}}"), -EINVAL,
         "OUT_OF_RANGE", "spec.deploy.progress_deadline", NULL},
        {"deploy auto_rollback not a bool", SVC("{" IMG ", deploy: {auto_rollback: maybe}}"),
         -EINVAL, "INVALID_TYPE", "spec.deploy.auto_rollback", NULL},
        {"deploy hook without command", SVC("{" IMG ", deploy: {pre_deploy: {}}}"), -EINVAL,
         "REQUIRED", "spec.deploy.pre_deploy.command", NULL},
        {"deploy hook empty command", SVC("{" IMG ", deploy: {post_deploy: {command: []}}}"),
         -EINVAL, "REQUIRED", "spec.deploy.post_deploy.command", NULL},
        {"deploy hook unknown field", SVC("{" IMG ", deploy: {pre_deploy: {cmd: [x]}}}"), -EINVAL,
         "UNKNOWN_FIELD", "spec.deploy.pre_deploy.cmd", NULL},
        {"deploy not a map", SVC("{" IMG ", deploy: rolling}"), -EINVAL, "INVALID_TYPE",
         "spec.deploy", NULL},

        /* volumes and config files */
        {"volume without mount_path", SVC("{" IMG ", volumes: [{name: data}]}"), -EINVAL,
         "REQUIRED", "spec.volumes[0].mount_path", NULL},
        {"volume relative mount_path", SVC("{" IMG ", volumes: [{name: data, mount_path: d}]}"),
         -EINVAL, "INVALID_VALUE", "spec.volumes[0].mount_path", "absolute"},
        {"volume mount_path with ..",
         SVC("{" IMG ", volumes: [{name: data, mount_path: /a/../etc}]}"), -EINVAL, "INVALID_VALUE",
         "spec.volumes[0].mount_path", ".."},
        {"volume bad name", SVC("{" IMG ", volumes: [{name: Data, mount_path: /d}]}"), -EINVAL,
         "INVALID_NAME", "spec.volumes[0].name", NULL},
        {"volume bad type", SVC("{" IMG ", volumes: [{name: d, mount_path: /d, type: nfs}]}"),
         -EINVAL, "INVALID_VALUE", "spec.volumes[0].type", NULL},
        {"volume bad size", SVC("{" IMG ", volumes: [{name: d, mount_path: /d, size: 12Zi}]}"),
         -EINVAL, "OUT_OF_RANGE", "spec.volumes[0].size", NULL},
        {"volume twice",
         SVC("{" IMG ", volumes: [{name: d, mount_path: /d}, {name: d, mount_path: /e}]}"), -EINVAL,
         "DUPLICATE", "spec.volumes[1]", NULL},
        {"ephemeral retained",
         SVC("{" IMG ", volumes: [{name: d, mount_path: /d, type: ephemeral, retain: true}]}"),
         -EINVAL, "CONFLICT", "spec.volumes[0].retain", NULL},
        {"config file with ..", SVC("{" IMG ", config_files: [{path: /etc/../x, content: a}]}"),
         -EINVAL, "INVALID_VALUE", "spec.config_files[0].path", ".."},
        {"config file relative", SVC("{" IMG ", config_files: [{path: etc/x, content: a}]}"),
         -EINVAL, "INVALID_VALUE", "spec.config_files[0].path", "absolute"},
        {"config file root", SVC("{" IMG ", config_files: [{path: /, content: a}]}"), -EINVAL,
         "INVALID_VALUE", "spec.config_files[0].path", NULL},
        {"config file no content", SVC("{" IMG ", config_files: [{path: /x}]}"), -EINVAL,
         "REQUIRED", "spec.config_files[0].content", NULL},
        {"config file bad mode",
         SVC("{" IMG ", config_files: [{path: /x, content: a, mode: \"0999\"}]}"), -EINVAL,
         "INVALID_VALUE", "spec.config_files[0].mode", "octal"},
        {"config file twice",
         SVC("{" IMG ", config_files: [{path: /x, content: a}, {path: /x, content: b}]}"), -EINVAL,
         "DUPLICATE", "spec.config_files[1].path", NULL},
        {"secret without name", SVC("{" IMG ", secrets: {DB_PASSWORD: {as: env}}}"), -EINVAL,
         "REQUIRED", "spec.secrets.DB_PASSWORD.secret", NULL},
        {"secret bad reference", SVC("{" IMG ", secrets: {DB_PASSWORD: {secret: Bad_Name}}}"),
         -EINVAL, "INVALID_NAME", "spec.secrets.DB_PASSWORD.secret", NULL},
        {"secret env name invalid", SVC("{" IMG ", secrets: {\"1X\": {secret: db}}}"), -EINVAL,
         "INVALID_NAME", "spec.secrets.1X", NULL},
        {"secret also in env", SVC("{" IMG ", env: {PW: x}, secrets: {PW: {secret: db}}}"), -EINVAL,
         "CONFLICT", "spec.secrets.PW", "also set in spec.env"},
        {"secret env with path", SVC("{" IMG ", secrets: {PW: {secret: db, path: /x}}}"), -EINVAL,
         "CONFLICT", "spec.secrets.PW.path", NULL},
        {"secret file path with ..",
         SVC("{" IMG ", secrets: {key: {secret: tls, as: file, path: /run/../etc/key}}}"), -EINVAL,
         "INVALID_VALUE", "spec.secrets.key.path", ".."},
        {"secret as what", SVC("{" IMG ", secrets: {PW: {secret: db, as: volume}}}"), -EINVAL,
         "INVALID_VALUE", "spec.secrets.PW.as", NULL},
        {"depends_on a kind without a reconciler",
         SVC("{" IMG ", depends_on: [{kind: mysql_ha, name: db}]}"), -EOPNOTSUPP, "NOT_SUPPORTED",
         "spec.depends_on[0].kind", NULL},
        {"depends_on unknown kind", SVC("{" IMG ", depends_on: [{kind: queue, name: db}]}"),
         -EINVAL, "INVALID_VALUE", "spec.depends_on[0].kind", NULL},
        {"depends_on without name", SVC("{" IMG ", depends_on: [{kind: docker_service}]}"), -EINVAL,
         "REQUIRED", "spec.depends_on[0]", NULL},
        {"depends_on bad prefix",
         SVC("{" IMG ", depends_on: [{kind: docker_service, name: api, env_prefix: 9X}]}"), -EINVAL,
         "INVALID_NAME", "spec.depends_on[0].env_prefix", NULL},
        {"depends_on twice",
         SVC("{" IMG ", depends_on: [{kind: docker_service, name: api}, {kind: docker_service, "
             "name: api}]}"),
         -EINVAL, "DUPLICATE", "spec.depends_on[1].name", NULL},

        /* image */
        {"image missing", SVC("{replicas: 1}"), -EINVAL, "REQUIRED", "spec.image", NULL},
        {"image upper case", SVC("{image: UPPER/case}"), -EINVAL, "INVALID_VALUE", "spec.image",
         "lower-case"},
        {"image with space", SVC("{image: 'a b'}"), -EINVAL, "INVALID_VALUE", "spec.image", NULL},
        {"image empty tag", SVC("{image: 'x:'}"), -EINVAL, "INVALID_VALUE", "spec.image",
         "tag after ':' is empty"},
        {"image bad digest", SVC("{image: '@sha256:zz'}"), -EINVAL, "INVALID_VALUE", "spec.image",
         "digest"},
        {"image digest no name",
         SVC("{image: '@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'}"),
         -EINVAL, "INVALID_VALUE", "spec.image", "empty"},
        {"image double slash", SVC("{image: 'a//b'}"), -EINVAL, "INVALID_VALUE", "spec.image",
         NULL},
        {"image trailing separator", SVC("{image: 'a-'}"), -EINVAL, "INVALID_VALUE", "spec.image",
         NULL},
        {"image bad registry port", SVC("{image: 'reg.io:abc/x'}"), -EINVAL, "INVALID_VALUE",
         "spec.image", NULL},
        {"image a number", SVC("{image: 5}"), -EINVAL, "INVALID_TYPE", "spec.image", NULL},

        /* replicas, type, paused */
        {"replicas -1", SVC("{" IMG ", replicas: -1}"), -EINVAL, "OUT_OF_RANGE", "spec.replicas",
         "spec.replicas: -1 is out of range (0..100)"},
        {"replicas 101", SVC("{" IMG ", replicas: 101}"), -EINVAL, "OUT_OF_RANGE", "spec.replicas",
         NULL},
        {"replicas two", SVC("{" IMG ", replicas: two}"), -EINVAL, "INVALID_TYPE", "spec.replicas",
         "must be an integer, not \"two\""},
        {"replicas quoted", SVC("{" IMG ", replicas: '2'}"), -EINVAL, "INVALID_TYPE",
         "spec.replicas", NULL},
        {"replicas 1.5", SVC("{" IMG ", replicas: 1.5}"), -EINVAL, "INVALID_TYPE", "spec.replicas",
         NULL},
        {"type cron", SVC("{" IMG ", type: cron}"), -EINVAL, "INVALID_VALUE", "spec.type",
         "not one of web, worker"},
        {"paused yes", SVC("{" IMG ", paused: yes}"), -EINVAL, "INVALID_TYPE", "spec.paused", NULL},

        /* command, args, env */
        {"command a map", SVC("{" IMG ", command: {a: b}}"), -EINVAL, "INVALID_TYPE",
         "spec.command", NULL},
        {"command item a list", SVC("{" IMG ", command: [echo, [1]]}"), -EINVAL, "INVALID_TYPE",
         "spec.command[1]", NULL},
        {"env name 1X", SVC("{" IMG ", env: {1X: a}}"), -EINVAL, "INVALID_NAME", "spec.env.1X",
         NULL},
        {"env name A-B", SVC("{" IMG ", env: {A-B: a}}"), -EINVAL, "INVALID_NAME", "spec.env.A-B",
         NULL},
        {"env value NUL", SVC("{" IMG ", env: {A: \"x\\0y\"}}"), -EINVAL, "INVALID_VALUE",
         "spec.env.A", "NUL"},
        {"env value a list", SVC("{" IMG ", env: {A: [1]}}"), -EINVAL, "INVALID_TYPE", "spec.env.A",
         NULL},
        {"env value null", SVC("{" IMG ", env: {A: ~}}"), -EINVAL, "INVALID_TYPE", "spec.env.A",
         NULL},
        {"env a list", SVC("{" IMG ", env: [A=1]}"), -EINVAL, "INVALID_TYPE", "spec.env",
         "must be a map"},

        /* ports */
        {"port 0", SVC("{" IMG ", ports: [{container_port: 0}]}"), -EINVAL, "OUT_OF_RANGE",
         "spec.ports[0].container_port", "0 is out of range (1..65535)"},
        {"port 70000", SVC("{" IMG ", ports: [{container_port: 80}, {container_port: 70000}]}"),
         -EINVAL, "OUT_OF_RANGE", "spec.ports[1].container_port", NULL},
        {"host_port 0", SVC("{" IMG ", ports: [{container_port: 80, host_port: 0}]}"), -EINVAL,
         "OUT_OF_RANGE", "spec.ports[0].host_port", NULL},
        {"container_port missing", SVC("{" IMG ", ports: [{host_port: 80}]}"), -EINVAL, "REQUIRED",
         "spec.ports[0].container_port", NULL},
        {"port a number", SVC("{" IMG ", ports: [80]}"), -EINVAL, "INVALID_TYPE", "spec.ports[0]",
         NULL},
        {"protocol sctp", SVC("{" IMG ", ports: [{container_port: 80, protocol: sctp}]}"), -EINVAL,
         "INVALID_VALUE", "spec.ports[0].protocol", NULL},
        {"bind hostname",
         SVC("{" IMG ", ports: [{container_port: 80, host_port: 80, bind: localhost}]}"), -EINVAL,
         "INVALID_VALUE", "spec.ports[0].bind", "not an IPv4 address"},
        {"bind 256",
         SVC("{" IMG ", ports: [{container_port: 80, host_port: 80, bind: 1.2.3.256}]}"), -EINVAL,
         "INVALID_VALUE", "spec.ports[0].bind", NULL},
        {"bind without host_port", SVC("{" IMG ", ports: [{container_port: 80, bind: 0.0.0.0}]}"),
         -EINVAL, "INVALID_VALUE", "spec.ports[0].bind", NULL},
        {"duplicate host_port",
         SVC("{" IMG ", ports: [{container_port: 80, host_port: 8080}, "
             "{container_port: 81, host_port: 8080}]}"),
         -EINVAL, "DUPLICATE", "spec.ports[1].host_port", "already published by spec.ports[0]"},
        {"duplicate container_port",
         SVC("{" IMG ", ports: [{container_port: 80}, {container_port: 80}]}"), -EINVAL,
         "DUPLICATE", "spec.ports[1].container_port", NULL},
        {"host_port with replicas 2",
         SVC("{" IMG ", replicas: 2, ports: [{container_port: 80}, "
             "{container_port: 81, host_port: 8081}]}"),
         -EINVAL, "CONFLICT", "spec.ports[1].host_port", "only be bound by one replica"},

        /* resources */
        {"cpu 0", SVC("{" IMG ", resources: {cpu: 0}}"), -EINVAL, "OUT_OF_RANGE",
         "spec.resources.cpu", "0 is out of range (0.01..64)"},
        {"cpu 100", SVC("{" IMG ", resources: {cpu: 100}}"), -EINVAL, "OUT_OF_RANGE",
         "spec.resources.cpu", NULL},
        {"cpu a string", SVC("{" IMG ", resources: {cpu: half}}"), -EINVAL, "INVALID_TYPE",
         "spec.resources.cpu", NULL},
        {"memory 12Zi", SVC("{" IMG ", resources: {memory: 12Zi}}"), -EINVAL, "INVALID_VALUE",
         "spec.resources.memory", "is not a size"},
        {"memory 1Ki", SVC("{" IMG ", resources: {memory: 1Ki}}"), -EINVAL, "OUT_OF_RANGE",
         "spec.resources.memory", "out of range (4Mi..256Gi)"},
        {"memory 512m", SVC("{" IMG ", resources: {memory: 512m}}"), -EINVAL, "INVALID_VALUE",
         "spec.resources.memory", NULL},
        {"memory 1Ti", SVC("{" IMG ", resources: {memory: 1Ti}}"), -EINVAL, "OUT_OF_RANGE",
         "spec.resources.memory", NULL},
        {"memory bytes too small", SVC("{" IMG ", resources: {memory: 1024}}"), -EINVAL,
         "OUT_OF_RANGE", "spec.resources.memory", NULL},
        {"resources unknown", SVC("{" IMG ", resources: {gpu: 1}}"), -EINVAL, "UNKNOWN_FIELD",
         "spec.resources.gpu", NULL},
        {"plan and resources", SVC("{" IMG ", plan: small, resources: {cpu: 1}}"), -EINVAL,
         "CONFLICT", "spec.resources", "either plan or resources"},
        {"plan huge", SVC("{" IMG ", plan: huge}"), -EINVAL, "INVALID_VALUE", "spec.plan",
         "not one of small, medium, large"},

        /* restart policy */
        {"restart name", SVC("{" IMG ", restart_policy: {name: sometimes}}"), -EINVAL,
         "INVALID_VALUE", "spec.restart_policy.name", NULL},
        {"restart shorthand", SVC("{" IMG ", restart_policy: sometimes}"), -EINVAL, "INVALID_VALUE",
         "spec.restart_policy", NULL},
        {"max_retries with always",
         SVC("{" IMG ", restart_policy: {name: always, max_retries: 3}}"), -EINVAL, "INVALID_VALUE",
         "spec.restart_policy.max_retries", "on-failure"},
        {"max_retries -1", SVC("{" IMG ", restart_policy: {name: on-failure, max_retries: -1}}"),
         -EINVAL, "OUT_OF_RANGE", "spec.restart_policy.max_retries", NULL},
        {"restart delay", SVC("{" IMG ", restart_policy: {delay: soon}}"), -EINVAL, "INVALID_VALUE",
         "spec.restart_policy.delay", NULL},

        /* healthcheck */
        {"http check without any port", SVC("{" IMG ", healthcheck: {type: http}}"), -EINVAL,
         "REQUIRED", "spec.healthcheck.port", "no ports"},
        {"healthcheck type missing", SVC("{" IMG ", healthcheck: {port: 80}}"), -EINVAL, "REQUIRED",
         "spec.healthcheck.type", NULL},
        {"healthcheck type grpc", SVC("{" IMG ", healthcheck: {type: grpc}}"), -EINVAL,
         "INVALID_VALUE", "spec.healthcheck.type", NULL},
        {"interval without unit",
         SVC("{" IMG ", healthcheck: {type: tcp, port: 80, interval: '10'}}"), -EINVAL,
         "INVALID_VALUE", "spec.healthcheck.interval", "not a duration"},
        {"interval a number", SVC("{" IMG ", healthcheck: {type: tcp, port: 80, interval: 10}}"),
         -EINVAL, "INVALID_TYPE", "spec.healthcheck.interval", NULL},
        {"interval bad unit", SVC("{" IMG ", healthcheck: {type: tcp, port: 80, interval: 10x}}"),
         -EINVAL, "INVALID_VALUE", "spec.healthcheck.interval", NULL},
        {"interval too short",
         SVC("{" IMG ", healthcheck: {type: tcp, port: 80, interval: 500ms}}"), -EINVAL,
         "OUT_OF_RANGE", "spec.healthcheck.interval", "out of range (1s..1h)"},
        {"interval too long", SVC("{" IMG ", healthcheck: {type: tcp, port: 80, interval: 2h}}"),
         -EINVAL, "OUT_OF_RANGE", "spec.healthcheck.interval", NULL},
        {"timeout above interval",
         SVC("{" IMG ", healthcheck: {type: tcp, port: 80, interval: 5s, timeout: 6s}}"), -EINVAL,
         "OUT_OF_RANGE", "spec.healthcheck.timeout", "longer than the interval (5s)"},
        {"threshold 0",
         SVC("{" IMG ", healthcheck: {type: tcp, port: 80, unhealthy_threshold: 0}}"), -EINVAL,
         "OUT_OF_RANGE", "spec.healthcheck.unhealthy_threshold", NULL},
        {"threshold 11",
         SVC("{" IMG ", healthcheck: {type: tcp, port: 80, healthy_threshold: 11}}"), -EINVAL,
         "OUT_OF_RANGE", "spec.healthcheck.healthy_threshold", NULL},
        {"command check without command", SVC("{" IMG ", healthcheck: {type: command}}"), -EINVAL,
         "REQUIRED", "spec.healthcheck.command", NULL},
        {"command check empty command", SVC("{" IMG ", healthcheck: {type: command, command: []}}"),
         -EINVAL, "REQUIRED", "spec.healthcheck.command", NULL},
        {"path without slash", SVC("{" IMG ", healthcheck: {type: http, port: 80, path: health}}"),
         -EINVAL, "INVALID_VALUE", "spec.healthcheck.path", NULL},
        {"path with tcp", SVC("{" IMG ", healthcheck: {type: tcp, port: 80, path: /}}"), -EINVAL,
         "INVALID_VALUE", "spec.healthcheck.path", "only applies to type http"},
        {"port with command",
         SVC("{" IMG ", healthcheck: {type: command, command: [true], port: 80}}"), -EINVAL,
         "INVALID_VALUE", "spec.healthcheck.port", NULL},
        {"healthcheck port 0", SVC("{" IMG ", healthcheck: {type: tcp, port: 0}}"), -EINVAL,
         "OUT_OF_RANGE", "spec.healthcheck.port", NULL},

        /* networks */
        {"network name", SVC("{" IMG ", networks: [Bad_Net]}"), -EINVAL, "INVALID_NAME",
         "spec.networks[0]", NULL},
        {"network twice", SVC("{" IMG ", networks: [a, b, a]}"), -EINVAL, "DUPLICATE",
         "spec.networks[2]", NULL},
        {"networks a string", SVC("{" IMG ", networks: front}"), -EINVAL, "INVALID_TYPE",
         "spec.networks", NULL},
};

static void check_bad(const char *what, const char *body, size_t len, int code, const char *reason,
                      const char *field, const char *msg) {
        Document *docs = NULL;
        size_t n = 0;
        Error e = ERROR_INIT;
        int r;

        r = documents_parse(body, len, &docs, &n, &e);
        if (r >= 0) {
                documents_free(docs, n);
                fail_msg("%s: accepted, expected %s at %s", what, reason, field);
        }
        if (r != code || !streq(e.reason, reason) ||
            (!streq(field, "*") && !streq(e.field, field)) || (msg && !strstr(e.msg, msg)))
                fail_msg("%s:\n  got      %d %s [%s] %s\n  expected %d %s [%s] ...%s...", what, r,
                         e.reason, e.field, e.msg, code, reason, field, strna(msg));
        assert_int_equal(e.code, r);
        assert_true(strlen(e.msg) > 0);
        assert_null(docs);
}

static void test_bad_documents(void **state) {
        (void) state;
        assert_true(ELEMENTSOF(bad_cases) >= 45);
        for (size_t i = 0; i < ELEMENTSOF(bad_cases); i++) {
                const BadCase *c = &bad_cases[i];

                check_bad(c->what, c->body, strlen(c->body), c->code, c->reason, c->field, c->msg);
        }
}

static void test_bad_bodies_binary(void **state) {
        static const char nul_yaml[] = "kind: docker_service\0\n";
        _cleanup_free_ char *big = NULL, *many = NULL;
        _cleanup_(buf_release) Buf b = BUF_INIT(API_MAX_BODY);
        (void) state;

        check_bad("NUL byte in YAML", nul_yaml, sizeof(nul_yaml) - 1, -EBADMSG, "INVALID_YAML", "",
                  "line 1, column 21:");

        big = b_malloc(API_MAX_BODY + 2);
        assert_non_null(big);
        memset(big, ' ', API_MAX_BODY + 1);
        big[API_MAX_BODY + 1] = 0;
        check_bad("body too large", big, API_MAX_BODY + 1, -E2BIG, "BODY_TOO_LARGE", "", NULL);

        for (int i = 0; i <= APPLY_MAX_DOCS; i++)
                assert_int_equal(buf_printf(&b,
                                            "---\nkind: docker_service\nmetadata: {name: s%d}\n"
                                            "spec: {image: x}\n",
                                            i),
                                 0);
        many = buf_take(&b);
        check_bad("too many documents", many, strlen(many), -EINVAL, "TOO_MANY_DOCUMENTS", "",
                  NULL);
}

/* tests/unit/bad/ (.yaml files): each file says what it expects on its first line:
 * "# expect: <errno name> <REASON> <field>", field "-" for none and "*" for any. */
static int errno_from_name(const char *s) {
        static const struct {
                const char *name;
                int code;
        } t[] = {{"EINVAL", -EINVAL},
                 {"EBADMSG", -EBADMSG},
                 {"EOPNOTSUPP", -EOPNOTSUPP},
                 {"E2BIG", -E2BIG}};

        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                if (streq(t[i].name, s))
                        return t[i].code;
        return 0;
}

static char *read_file(const char *path, size_t *ret_len) {
        _cleanup_(buf_release) Buf b = BUF_INIT(2 * API_MAX_BODY);
        char chunk[4096];
        FILE *f = fopen(path, "re");
        size_t k;

        if (!f)
                return NULL;
        while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
                if (buf_append(&b, chunk, k) < 0) {
                        fclose(f);
                        return NULL;
                }
        fclose(f);
        *ret_len = b.len;
        return buf_take(&b);
}

static void test_bad_corpus(void **state) {
        const char *dir = getenv("BERTH_BAD_DIR");
        struct dirent *de;
        DIR *d;
        int seen = 0;
        (void) state;

        if (!dir)
                skip();
        d = opendir(dir);
        assert_non_null(d);
        while ((de = readdir(d))) {
                char path[1024], code[32], reason[64], field[128];
                _cleanup_free_ char *body = NULL;
                size_t len = 0, nl = strlen(de->d_name);

                if (nl < 5 || !streq(de->d_name + nl - 5, ".yaml"))
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                body = read_file(path, &len);
                assert_non_null(body);
                if (sscanf(body, "# expect: %31s %63s %127s", code, reason, field) != 3)
                        fail_msg("%s: first line must be \"# expect: ERRNO REASON FIELD\"", path);
                if (errno_from_name(code) == 0)
                        fail_msg("%s: unknown errno %s", path, code);
                check_bad(path, body, len, errno_from_name(code), reason,
                          streq(field, "-") ? "" : field, NULL);
                seen++;
        }
        closedir(d);
        assert_true(seen >= 5);
}

/* ---- good documents and normalisation ------------------------------------------------------ */

static char *normalised(const char *body) {
        Document *docs = NULL;
        size_t n = 0;
        Error e = ERROR_INIT;
        char *s;
        int r;

        r = documents_parse(body, strlen(body), &docs, &n, &e);
        if (r < 0)
                fail_msg("rejected: %s (%s at %s)\n%s", e.msg, e.reason, e.field, body);
        assert_int_equal(n, 1);
        s = cJSON_PrintUnformatted(docs[0].spec);
        documents_free(docs, n);
        return s;
}

static void assert_normalises(const char *body, const char *want) {
        _cleanup_free_ char *got = normalised(body);

        assert_string_equal(got, want);
}

static void test_defaults(void **state) {
        Document *docs = NULL;
        size_t n = 0;
        Error e = ERROR_INIT;
        (void) state;

        assert_normalises(
                SVC("{image: berth/busybox}"),
                "{\"image\":\"berth/busybox\",\"type\":\"web\",\"command\":[],\"args\":[],"
                "\"env\":{},\"ports\":[],\"replicas\":1,\"restart_policy\":{\"name\":"
                "\"unless-stopped\",\"delay\":\"0s\"},\"networks\":[],\"paused\":false}");

        /* Envelope defaults: project "default", environment "", labels {}. */
        assert_int_equal(documents_parse(SVC("{" IMG "}"), strlen(SVC("{" IMG "}")), &docs, &n, &e),
                         0);
        assert_int_equal(n, 1);
        assert_int_equal(docs[0].kind, KIND_DOCKER_SERVICE);
        assert_string_equal(docs[0].name, "web");
        assert_string_equal(docs[0].project, "default");
        assert_string_equal(docs[0].environment, "");
        assert_true(cJSON_IsObject(docs[0].labels));
        assert_int_equal(cJSON_GetArraySize(docs[0].labels), 0);
        documents_free(docs, n);
}

static void test_normalisation(void **state) {
        (void) state;
        /* Keys in fixed order whatever the input order; env sorted; values as strings; plan kept
         * and expanded; durations canonical; healthcheck port from the first port. */
        assert_normalises(
                SVC("{paused: false, healthcheck: {interval: 90s, type: http}, plan: small, "
                    "env: {PORT: 8080, B: true, A: x, F: 0.5}, ports: [{host_port: 8080, "
                    "container_port: 80}], command: httpd, args: [-f, -p, 80], "
                    "image: 'registry.example.com:5000/team/app:1.2@sha256:"
                    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'}"),
                "{\"image\":\"registry.example.com:5000/team/app:1.2@sha256:0123456789abcdef0123456"
                "789abcdef0123456789abcdef0123456789abcdef\",\"type\":\"web\",\"command\":["
                "\"httpd\"],"
                "\"args\":[\"-f\",\"-p\",\"80\"],\"env\":{\"A\":\"x\",\"B\":\"true\",\"F\":\"0.5\","
                "\"PORT\":\"8080\"},\"ports\":[{\"container_port\":80,\"host_port\":8080,\"bind\":"
                "\"127.0.0.1\",\"protocol\":\"tcp\"}],\"plan\":\"small\",\"resources\":{\"cpu\":0."
                "25,"
                "\"memory\":268435456},\"replicas\":1,\"restart_policy\":{\"name\":\"unless-"
                "stopped\","
                "\"delay\":\"0s\"},\"healthcheck\":{\"type\":\"http\",\"path\":\"/\",\"port\":80,"
                "\"interval\":\"1m30s\",\"timeout\":\"2s\",\"healthy_threshold\":1,"
                "\"unhealthy_threshold\":3},\"networks\":[],\"paused\":false}");

        /* resources: sizes in bytes; restart policy shorthand; on-failure keeps max_retries. */
        assert_normalises(
                SVC("{image: 'localhost/x', type: worker, resources: {cpu: 1.5, memory: 1.5Gi}, "
                    "restart_policy: {name: on-failure, delay: 1500ms}, replicas: 0, "
                    "networks: [backend], healthcheck: {type: command, command: [pg_isready], "
                    "interval: 1s}}"),
                "{\"image\":\"localhost/"
                "x\",\"type\":\"worker\",\"command\":[],\"args\":[],\"env\":{},"
                "\"ports\":[],\"resources\":{\"cpu\":1.5,\"memory\":1610612736},\"replicas\":0,"
                "\"restart_policy\":{\"name\":\"on-failure\",\"max_retries\":0,\"delay\":"
                "\"1s500ms\"},"
                "\"healthcheck\":{\"type\":\"command\",\"command\":[\"pg_isready\"],\"interval\":"
                "\"1s\",\"timeout\":\"1s\",\"healthy_threshold\":1,\"unhealthy_threshold\":3},"
                "\"networks\":[\"backend\"],\"paused\":false}");

        assert_normalises(
                SVC("{image: x, resources: {memory: 256M}, restart_policy: always}"),
                "{\"image\":\"x\",\"type\":\"web\",\"command\":[],\"args\":[],\"env\":{},"
                "\"ports\":[],\"resources\":{\"memory\":256000000},\"replicas\":1,"
                "\"restart_policy\":{\"name\":\"always\",\"delay\":\"0s\"},\"networks\":[],"
                "\"paused\":false}");
        /* "key:" with no value means not set. */
        assert_normalises(SVC("{image: x, replicas: , env: }"),
                          "{\"image\":\"x\",\"type\":\"web\",\"command\":[],\"args\":[],\"env\":{},"
                          "\"ports\":[],\"replicas\":1,\"restart_policy\":{\"name\":"
                          "\"unless-stopped\",\"delay\":\"0s\"},\"networks\":[],\"paused\":false}");
}

/* The normalised form, applied again (as JSON or YAML), normalises to the same bytes. */
static void test_renormalisation_is_identity(void **state) {
        static const char *const bodies[] = {
                SVC("{image: berth/busybox}"),
                SVC("{image: 'berth/busybox:latest', plan: large, replicas: 1, ports: "
                    "[{container_port: 80, host_port: 8080, bind: 0.0.0.0, protocol: udp}], "
                    "healthcheck: {type: tcp, timeout: 250ms}, env: {Z: 1, a: 2}}"),
                SVC("{image: x, type: worker, resources: {cpu: 0.3, memory: 100Mi}, "
                    "restart_policy: {name: on-failure, max_retries: 4, delay: 90s}, "
                    "healthcheck: {type: command, command: [sh, -c, 'exit 0']}, paused: true}"),
                SVC("{image: x, plan: medium, resources: {cpu: 0.5, memory: 512Mi}}"),
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(bodies); i++) {
                _cleanup_free_ char *once = normalised(bodies[i]);
                _cleanup_free_ char *again = NULL, *yaml_again = NULL;
                _cleanup_(buf_release) Buf b = BUF_INIT(1 << 16);

                assert_int_equal(buf_printf(&b,
                                            "{\"kind\":\"docker_service\",\"metadata\":{\"name\":"
                                            "\"web\"},\"spec\":%s}",
                                            once),
                                 0);
                again = normalised(buf_str(&b));
                assert_string_equal(once, again);
                /* JSON is YAML too (flow style): the YAML path agrees. */
                buf_reset(&b);
                assert_int_equal(buf_printf(&b,
                                            "kind: docker_service\nmetadata: {name: web}\n"
                                            "spec: %s\n",
                                            once),
                                 0);
                yaml_again = normalised(buf_str(&b));
                assert_string_equal(once, yaml_again);
        }
}

static void test_good_documents(void **state) {
        static const char *const good[] = {
                SVC("{image: busybox}"),
                SVC("{image: 'busybox:1.36'}"),
                SVC("{image: 'docker.io/library/busybox:1.36.1-glibc'}"),
                SVC("{image: 'a/b.c_d__e/f---g:Tag_1.x-y'}"),
                SVC("{image: 'localhost:5000/x'}"),
                SVC("{image: x, replicas: 100}"),
                SVC("{image: x, replicas: 0}"),
                SVC("{image: x, resources: {cpu: 0.01, memory: 4Mi}}"),
                SVC("{image: x, resources: {cpu: 64, memory: 256Gi}}"),
                SVC("{image: x, resources: {memory: 4194304}}"),
                SVC("{image: x, env: {_A1: '', b: 'x=y', LONG: 'with spaces and ünïcode'}}"),
                SVC("{image: x, ports: [{container_port: 53, host_port: 53, protocol: udp}, "
                    "{container_port: 53, host_port: 53, protocol: tcp}]}"),
                SVC("{image: x, replicas: 3, ports: [{container_port: 80}]}"),
                SVC("{image: x, command: [sleep, 10, true]}"),
                SVC("{image: x, healthcheck: {type: tcp, port: 1, interval: 1h, timeout: 1h}}"),
                DOC("{name: a, project: b, environment: 'staging eu', labels: {team: core, "
                    "app.kubernetes.io/name: web, empty: ''}}",
                    "{image: x}"),
                DOC("{name: '0123456789012345678901234567890123456789'}", "{image: x}"),
                "{\"kind\":\"docker_service\",\"metadata\":{\"name\":\"j\"},\"spec\":{\"image\":"
                "\"x\"}}",
                "[{\"kind\":\"docker_service\",\"metadata\":{\"name\":\"a\"},\"spec\":{\"image\":"
                "\"x\"}},{\"kind\":\"docker_service\",\"metadata\":{\"name\":\"a\",\"project\":"
                "\"other\"},\"spec\":{\"image\":\"x\"}}]",
                "\xef\xbb\xbf" SVC("{image: x}"),
                "  \n{\"kind\":\"docker_service\",\"metadata\":{\"name\":\"w\"},\"spec\":"
                "{\"image\":\"x\",\"env\":{\"A\":\"\\\\u0000 is text\"}}}",
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                Document *docs = NULL;
                size_t n = 0;
                Error e = ERROR_INIT;
                int r = documents_parse(good[i], strlen(good[i]), &docs, &n, &e);

                if (r < 0)
                        fail_msg("good[%zu] rejected: %s (%s at %s)", i, e.msg, e.reason, e.field);
                assert_true(n >= 1);
                documents_free(docs, n);
        }
}

static void test_labels_sorted(void **state) {
        static const char body[] = DOC("{name: a, labels: {z: 1, a: true, m: x}}", "{image: x}");
        Document *docs = NULL;
        size_t n = 0;
        Error e = ERROR_INIT;
        _cleanup_free_ char *s = NULL;
        (void) state;

        assert_int_equal(documents_parse(body, strlen(body), &docs, &n, &e), 0);
        s = cJSON_PrintUnformatted(docs[0].labels);
        assert_string_equal(s, "{\"a\":\"true\",\"m\":\"x\",\"z\":\"1\"}");
        documents_free(docs, n);
}

static void test_document_round_trip(void **state) {
        static const char body[] = DOC("{name: web, project: shop, environment: prod, "
                                       "labels: {team: core}}",
                                       "{image: x, replicas: 2}");
        Document *docs = NULL, *again = NULL;
        size_t n = 0, n2 = 0;
        Error e = ERROR_INIT;
        _cleanup_json_ cJSON *j = NULL;
        _cleanup_free_ char *s = NULL, *s2 = NULL;
        _cleanup_json_ cJSON *j2 = NULL;
        (void) state;

        assert_int_equal(documents_parse(body, strlen(body), &docs, &n, &e), 0);
        j = document_to_json(&docs[0]);
        assert_non_null(j);
        s = cJSON_PrintUnformatted(j);
        assert_non_null(strstr(s, "{\"kind\":\"docker_service\",\"metadata\":{\"name\":\"web\","
                                  "\"project\":\"shop\",\"environment\":\"prod\",\"labels\":"
                                  "{\"team\":\"core\"}},\"spec\":{\"image\":\"x\""));
        assert_int_equal(documents_parse(s, strlen(s), &again, &n2, &e), 0);
        j2 = document_to_json(&again[0]);
        s2 = cJSON_PrintUnformatted(j2);
        assert_string_equal(s, s2);
        documents_free(docs, n);
        documents_free(again, n2);
}

static void spec_hash_of(const char *body, char ret[65]) {
        Document *docs = NULL;
        size_t n = 0;
        Error e = ERROR_INIT;

        assert_int_equal(documents_parse(body, strlen(body), &docs, &n, &e), 0);
        assert_int_equal(document_spec_hash(&docs[0], ret), 0);
        documents_free(docs, n);
}

static void test_spec_hash(void **state) {
        char a[65], b[65], c[65], d[65], f[65];
        (void) state;

        spec_hash_of(SVC("{image: x, replicas: 2, env: {A: 1, B: 2}}"), a);
        /* Same intent, other order, defaults spelled out, other labels: same hash. */
        spec_hash_of(
                DOC("{name: web, labels: {x: y}}",
                    "{env: {B: '2', A: '1'}, replicas: 2, image: x, type: web, paused: false}"),
                b);
        spec_hash_of(SVC("{image: x, replicas: 3, env: {A: 1, B: 2}}"), c);
        spec_hash_of(SVC("{image: x, replicas: 2, env: {A: 1, B: 2}, "
                         "restart_policy: {name: unless-stopped, delay: 0ms}}"),
                     d);
        spec_hash_of(SVC("{image: x, plan: small}"), f);
        assert_int_equal(strlen(a), 64);
        assert_int_equal(strspn(a, "0123456789abcdef"), 64);
        assert_string_equal(a, b);
        assert_string_equal(a, d);
        assert_string_not_equal(a, c);
        assert_string_not_equal(a, f);
}

static void test_service_spec_from_json(void **state) {
        static const char body[] =
                SVC("{image: x, command: [sh, -c], args: [run], env: {Z: 1, A: 2, A1: 3}, "
                    "ports: [{container_port: 80, host_port: 8080}, {container_port: 9000}], "
                    "plan: medium, replicas: 1, restart_policy: {name: on-failure, max_retries: 3, "
                    "delay: 2s}, healthcheck: {type: http, path: /healthz, interval: 5s}, "
                    "networks: [a, b], paused: true}");
        _cleanup_(service_spec_release) ServiceSpec s = {0};
        Document *docs = NULL;
        size_t n = 0;
        Error e = ERROR_INIT;
        (void) state;

        assert_int_equal(documents_parse(body, strlen(body), &docs, &n, &e), 0);
        assert_int_equal(service_spec_from_json(docs[0].spec, &s, &e), 0);
        documents_free(docs, n);

        assert_string_equal(s.image, "x");
        assert_int_equal(s.type, SERVICE_WEB);
        assert_int_equal(strv_length(s.command), 2);
        assert_string_equal(s.command[1], "-c");
        assert_string_equal(s.args[0], "run");
        assert_int_equal(strv_length(s.env), 3);
        assert_string_equal(s.env[0], "A=2");
        assert_string_equal(s.env[1], "A1=3");
        assert_string_equal(s.env[2], "Z=1");
        assert_int_equal(s.n_ports, 2);
        assert_int_equal(s.ports[0].container_port, 80);
        assert_int_equal(s.ports[0].host_port, 8080);
        assert_string_equal(s.ports[0].bind, "127.0.0.1");
        assert_string_equal(s.ports[0].protocol, "tcp");
        assert_int_equal(s.ports[1].host_port, 0);
        assert_true(s.cpu == 0.5);
        assert_int_equal(s.memory, 512 << 20);
        assert_int_equal(s.replicas, 1);
        assert_string_equal(s.restart_policy, "on-failure");
        assert_int_equal(s.restart_max_retries, 3);
        assert_int_equal(s.restart_delay, 2 * USEC_PER_SEC);
        assert_int_equal(s.healthcheck.type, HEALTH_HTTP);
        assert_string_equal(s.healthcheck.path, "/healthz");
        assert_int_equal(s.healthcheck.port, 80);
        assert_int_equal(s.healthcheck.interval, 5 * USEC_PER_SEC);
        assert_int_equal(s.healthcheck.timeout, 2 * USEC_PER_SEC);
        assert_int_equal(s.healthcheck.healthy_threshold, 1);
        assert_int_equal(s.healthcheck.unhealthy_threshold, 3);
        assert_int_equal(strv_length(s.networks), 2);
        assert_true(s.paused);
}

/* deploy: normalised (defaults filled in, percentages kept), and read back typed. */
static void test_deploy(void **state) {
        static const char body[] =
                SVC("{image: x, replicas: 4, deploy: {max_surge: 25%, auto_rollback: true, "
                    "progress_deadline: 90s, pre_deploy: {command: [./migrate, up]}, "
                    "post_deploy: {command: ./warm}}}");
        _cleanup_(service_spec_release) ServiceSpec s = {0};
        Document *docs = NULL;
        size_t n = 0;
        Error e = ERROR_INIT;
        int surge, unavailable;
        (void) state;

        assert_normalises(SVC("{image: x, deploy: {strategy: recreate}}"),
                          "{\"image\":\"x\",\"type\":\"web\",\"command\":[],\"args\":[],"
                          "\"env\":{},\"ports\":[],\"replicas\":1,\"restart_policy\":{\"name\":"
                          "\"unless-stopped\",\"delay\":\"0s\"},\"networks\":[],\"paused\":false,"
                          "\"deploy\":{\"strategy\":\"recreate\",\"progress_deadline\":\"10m\","
                          "\"auto_rollback\":false}}");
        assert_normalises(SVC("{image: x, deploy: {}}"),
                          "{\"image\":\"x\",\"type\":\"web\",\"command\":[],\"args\":[],"
                          "\"env\":{},\"ports\":[],\"replicas\":1,\"restart_policy\":{\"name\":"
                          "\"unless-stopped\",\"delay\":\"0s\"},\"networks\":[],\"paused\":false,"
                          "\"deploy\":{\"strategy\":\"rolling\",\"max_surge\":1,"
                          "\"max_unavailable\":0,\"progress_deadline\":\"10m\","
                          "\"auto_rollback\":false}}");

        assert_int_equal(documents_parse(body, strlen(body), &docs, &n, &e), 0);
        assert_int_equal(service_spec_from_json(docs[0].spec, &s, &e), 0);
        documents_free(docs, n);
        assert_int_equal(s.deploy.strategy, DEPLOY_ROLLING);
        assert_true(s.deploy.max_surge.percent);
        assert_int_equal(s.deploy.max_surge.value, 25);
        assert_false(s.deploy.max_unavailable.percent);
        assert_int_equal(s.deploy.max_unavailable.value, 0);
        assert_true(s.deploy.auto_rollback);
        assert_int_equal(s.deploy.progress_deadline, 90 * USEC_PER_SEC);
        assert_int_equal(strv_length(s.deploy.pre_deploy), 2);
        assert_string_equal(s.deploy.pre_deploy[0], "./migrate");
        assert_int_equal(strv_length(s.deploy.post_deploy), 1);

        /* Kubernetes' rounding: surge up, unavailable down; both 0 moves one at a time. */
        service_deploy_resolve(&s.deploy, 4, &surge, &unavailable);
        assert_int_equal(surge, 1);
        assert_int_equal(unavailable, 0);
        service_deploy_resolve(&s.deploy, 10, &surge, &unavailable);
        assert_int_equal(surge, 3);
        s.deploy.max_surge = (DeployAmount){.value = 0, .percent = true};
        s.deploy.max_unavailable = (DeployAmount){.value = 25, .percent = true};
        service_deploy_resolve(&s.deploy, 3, &surge, &unavailable);
        assert_int_equal(surge, 0);
        assert_int_equal(unavailable, 1); /* 25% of 3 is 0: at least one must move */
        service_deploy_resolve(&s.deploy, 8, &surge, &unavailable);
        assert_int_equal(unavailable, 2);
}

static void test_service_spec_defaults(void **state) {
        static const char body[] = SVC("{image: x}");
        _cleanup_(service_spec_release) ServiceSpec s = {0};
        _cleanup_json_ cJSON *damaged = NULL;
        Document *docs = NULL;
        size_t n = 0;
        Error e = ERROR_INIT;
        (void) state;

        assert_int_equal(documents_parse(body, strlen(body), &docs, &n, &e), 0);
        assert_int_equal(service_spec_from_json(docs[0].spec, &s, &e), 0);
        documents_free(docs, n);
        assert_null(s.command); /* image default */
        assert_null(s.args);
        assert_null(s.env);
        assert_int_equal(s.n_ports, 0);
        assert_true(s.cpu == 0);
        assert_int_equal(s.memory, 0);
        assert_int_equal(s.replicas, 1);
        assert_string_equal(s.restart_policy, "unless-stopped");
        assert_int_equal(s.healthcheck.type, HEALTH_NONE);
        assert_null(s.networks);
        assert_false(s.paused);

        damaged = cJSON_Parse("{\"image\":\"x\",\"replicas\":\"two\"}");
        assert_non_null(damaged);
        service_spec_release(&s);
        assert_int_equal(service_spec_from_json(damaged, &s, &e), -EINVAL);
        assert_string_equal(e.field, "spec.replicas");
}

/* Fails each allocation of a parse in turn: -ENOMEM every time, then success; ASan checks
 * nothing leaks on any of those paths. */
static void torture(const char *body) {
        for (long k = 0;; k++) {
                Document *docs = NULL;
                size_t n = 0;
                Error e = ERROR_INIT;
                int r;

                alloc_fail_after(k);
                r = documents_parse(body, strlen(body), &docs, &n, &e);
                alloc_fail_after(-1);
                if (r >= 0) {
                        documents_free(docs, n);
                        break;
                }
                if (r != -ENOMEM)
                        fail_msg("allocation %ld failed: got %d (%s) instead of -ENOMEM", k, r,
                                 e.msg);
                assert_null(docs);
                assert_true(k < 100000);
        }
}

static void test_torture(void **state) {
        (void) state;
        torture(SVC("{image: x}"));
        torture(DOC("{name: web, project: shop, labels: {b: 1, a: 2}}",
                    "{image: x, command: [a, b], args: [c], env: {B: 1, A: 2}, ports: "
                    "[{container_port: 80, host_port: 81}, {container_port: 90}], plan: small, "
                    "restart_policy: {name: on-failure, max_retries: 2}, healthcheck: {type: http, "
                    "path: /h}, networks: [n1], paused: false}") "---\n" SVC("{image: y}"));
        /* Error paths too: each must report ENOMEM or the validation error, never crash. */
        for (long k = 0; k < 200; k++) {
                static const char bad[] = SVC("{image: x, env: {A: 1, B: 2}, replcas: 3}");
                Document *docs = NULL;
                size_t n = 0;
                Error e = ERROR_INIT;
                int r;

                alloc_fail_after(k);
                r = documents_parse(bad, strlen(bad), &docs, &n, &e);
                alloc_fail_after(-1);
                assert_true(r == -ENOMEM || r == -EINVAL);
                assert_null(docs);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bad_documents),
                cmocka_unit_test(test_bad_bodies_binary),
                cmocka_unit_test(test_bad_corpus),
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_normalisation),
                cmocka_unit_test(test_renormalisation_is_identity),
                cmocka_unit_test(test_good_documents),
                cmocka_unit_test(test_labels_sorted),
                cmocka_unit_test(test_document_round_trip),
                cmocka_unit_test(test_spec_hash),
                cmocka_unit_test(test_service_spec_from_json),
                cmocka_unit_test(test_service_spec_defaults),
                cmocka_unit_test(test_deploy),
                cmocka_unit_test(test_torture),
        };

        return cmocka_run_group_tests(tests, setup, NULL);
}
