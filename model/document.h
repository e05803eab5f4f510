/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include <cjson/cJSON.h>

#include "model/resource.h"
#include "util/error.h"

#define API_MAX_BODY   (1024 * 1024) /* bytes; larger apply bodies get 413 */
#define YAML_MAX_DEPTH 64
#define APPLY_MAX_DOCS 256

/* Parses YAML (one or many documents, "---" separated) into a JSON array of documents.
 * Iterative (no recursion on input depth), refuses depth > YAML_MAX_DEPTH, anchors/aliases
 * and tags other than the core schema. Errors carry "line L, column C". Scalars become JSON
 * strings, numbers, booleans or null following YAML 1.2 core-schema rules for plain scalars;
 * quoted scalars stay strings. */
int yaml_to_json(const char *text, size_t len, cJSON **ret, Error *reterr) _warn_unused_result_;

/* Parses an apply body (YAML, JSON object, or JSON array of objects) and validates every
 * document. All-or-nothing: on error nothing is returned and reterr names the document
 * ("documents[2].spec.replicas" style field). */
int documents_parse(const char *body, size_t len, Document **ret, size_t *ret_n,
                    Error *reterr) _warn_unused_result_;

/* Validates one document given as JSON (envelope + spec) into ret. Field paths in errors are
 * relative to the document ("spec.ports[0].host_port"). */
int document_from_json(const cJSON *doc, Document *ret, Error *reterr) _warn_unused_result_;

/* The document as stored and returned by the API: {kind, metadata, spec}. */
cJSON *document_to_json(const Document *d);

/* sha256 hex (65 bytes with NUL) of the canonical JSON of the spec: detects real changes. */
int document_spec_hash(const Document *d, char ret[65]) _warn_unused_result_;
