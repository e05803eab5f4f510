-- berth state store, schema version 2: users, project memberships, API tokens, revoked session
-- tokens and login failures (authentication and authorisation, README "Authentication and
-- roles"). Append-only, as every migration.

-- Accounts. password_hash is "scrypt$N$r$p$salt$hash" (base64url without padding); the
-- password itself is never stored. admin: every project and the users API.
CREATE TABLE users (
        name text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
        password_hash text NOT NULL,
        admin boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now()
);

-- A user's role in one project. Projects are the tenant boundary of every resource; a project a
-- user has no row for does not exist for them (404, never 403).
CREATE TABLE memberships (
        username text NOT NULL REFERENCES users (name) ON DELETE CASCADE,
        project text NOT NULL,
        role text NOT NULL CHECK (role IN ('viewer', 'operator', 'editor', 'owner')),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (username, project)
);

CREATE INDEX memberships_project_idx ON memberships (project, username);

-- API tokens for automation: "bt_<id>_<secret>"; only sha256(secret) is kept. A token acts in
-- one project with at most its own role and at most its owner's current role there (owner
-- "local": created with authentication off).
CREATE TABLE api_tokens (
        id text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{16}$'),
        name text NOT NULL,
        owner text NOT NULL,
        project text NOT NULL,
        role text NOT NULL CHECK (role IN ('viewer', 'operator', 'editor', 'owner')),
        secret_sha256 text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
);

CREATE INDEX api_tokens_project_idx ON api_tokens (project);

-- Session tokens (JWT) revoked before their expiry: logout, refresh. Rows past their expiry are
-- pruned: the signature check refuses those tokens anyway.
CREATE TABLE revoked_tokens (
        jti text PRIMARY KEY,
        expires_at timestamptz NOT NULL
);

CREATE INDEX revoked_tokens_expiry_idx ON revoked_tokens (expires_at);

-- Failed logins, per attempted username and per client address, for rate limiting. Rows older
-- than the window are pruned on every failure.
CREATE TABLE login_failures (
        id bigserial PRIMARY KEY,
        username text NOT NULL,
        address text NOT NULL,
        time timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX login_failures_user_idx ON login_failures (username, time);
CREATE INDEX login_failures_address_idx ON login_failures (address, time);
