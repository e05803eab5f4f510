-- berth state store, schema version 3: secrets (README "Secrets"). Append-only, as every
-- migration.

-- One row per secret of a project. `value` is the sealed blob of store/secret-box.h:
-- version byte || 12-byte nonce || AES-256-GCM ciphertext || 16-byte tag, under the master key
-- (BERTH_MASTER_KEY_FILE) with "project/name" as authenticated data. The plaintext is never
-- stored, in this table or any other (audit rows name the secret and its version only).
-- `version` starts at 1 and grows by one each time the value really changes; it is part of the
-- config hash of every container that uses the secret, so a change rolls them.
CREATE TABLE secrets (
        project text NOT NULL,
        name text NOT NULL,
        version bigint NOT NULL DEFAULT 1 CHECK (version >= 1),
        value bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (project, name)
);
