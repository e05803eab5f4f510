/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* schema/NNNN_name.sql, embedded at build time by schema/embed-sql.py (schema/meson.build), in
 * version order. Migrations are append-only: never edit one that has shipped. */
typedef struct SchemaMigration {
        int version;      /* NNNN */
        const char *name; /* "0001_init" */
        const char *sql;
} SchemaMigration;

extern const SchemaMigration schema_migrations[];
extern const size_t schema_migrations_count;
