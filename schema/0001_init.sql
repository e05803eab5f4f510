-- berth state store, schema version 1.
-- Applied by store_migrate() in one transaction under an advisory lock. Append-only: a change
-- to a shipped schema is a new NNNN_name.sql file.

CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
);

-- One row per document (kind, project, name). spec and status are `json`, not `jsonb`: json keeps
-- the text as written, so the model's normalised key order survives a round trip (GET shows the
-- spec as applied). spec_hash (sha256 of that canonical text) detects real changes.
CREATE TABLE resources (
        uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        kind text NOT NULL,
        project text NOT NULL,
        name text NOT NULL,
        environment text NOT NULL DEFAULT '',
        labels jsonb NOT NULL DEFAULT '{}',
        spec json NOT NULL,
        spec_hash text NOT NULL,
        generation bigint NOT NULL DEFAULT 1,
        observed_generation bigint NOT NULL DEFAULT 0,
        phase text NOT NULL DEFAULT 'PENDING'
                CHECK (phase IN ('PENDING', 'PROVISIONING', 'RUNNING', 'DEGRADED', 'FAILED',
                                 'PAUSED', 'DELETING')),
        message text,
        status json,
        deleting boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (kind, project, name)
);

CREATE INDEX resources_project_idx ON resources (project, kind, name);

-- History per resource: removed with the resource (ON DELETE CASCADE).
CREATE TABLE events (
        id bigserial PRIMARY KEY,
        resource_uuid uuid REFERENCES resources (uuid) ON DELETE CASCADE,
        time timestamptz NOT NULL DEFAULT now(),
        type text NOT NULL CHECK (type IN ('Normal', 'Warning')),
        reason text NOT NULL,
        message text NOT NULL DEFAULT ''
);

CREATE INDEX events_resource_idx ON events (resource_uuid, id);

CREATE TABLE operations (
        id bigserial PRIMARY KEY,
        resource_uuid uuid NOT NULL REFERENCES resources (uuid) ON DELETE CASCADE,
        kind text NOT NULL,
        state text NOT NULL DEFAULT 'IN_PROGRESS'
                CHECK (state IN ('IN_PROGRESS', 'DONE', 'FAILED')),
        actor text NOT NULL DEFAULT '',
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        log text NOT NULL DEFAULT ''
);

CREATE INDEX operations_resource_idx ON operations (resource_uuid, id);

-- Audit outlives resources: no foreign key.
CREATE TABLE audit (
        id bigserial PRIMARY KEY,
        time timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        action text NOT NULL,
        resource_uuid uuid,
        detail text
);

CREATE INDEX audit_resource_idx ON audit (resource_uuid, id);

-- Leader lease: the epoch is the fencing token checked by every status write.
CREATE TABLE leases (
        name text PRIMARY KEY,
        holder text NOT NULL DEFAULT '',
        epoch bigint NOT NULL DEFAULT 0,
        renewed_at timestamptz NOT NULL DEFAULT now()
);

-- This state store's identity. Every Docker object berth creates carries it as the label
-- berth.installation, so several berth installations (or test runs) can share one Docker engine:
-- a controller only ever treats objects with its own installation id as orphans.
CREATE TABLE installation (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO installation DEFAULT VALUES;
