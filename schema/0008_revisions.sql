-- Revisions of docker_service resources (store/revisions.h). Every change of what runs (the
-- containers' config hash: image, command, env, secret versions, config files, resources,
-- volumes, ports, what dependencies inject) is a revision, numbered from 1 per resource, kept
-- with the full spec that made it, the versions of the secrets it read, and a human diff against
-- the revision before. Its deploy is tracked on the same row: the revision that served when it
-- began (from_revision, what auto_rollback restores), its state, its last progress (a replica of
-- it became ready, or a hook finished), whether its hooks ran, and the operations row that lists
-- it in the resource's history (old image, new image, start, end, result, who applied it).
-- The controller resumes a deploy after a restart from this row and what Docker shows.
CREATE TABLE revisions (
        resource_uuid uuid NOT NULL REFERENCES resources (uuid) ON DELETE CASCADE,
        revision bigint NOT NULL CHECK (revision >= 1),
        config_hash text NOT NULL,
        generation bigint NOT NULL,
        spec json NOT NULL,
        secret_versions json NOT NULL DEFAULT '{}',
        image text NOT NULL,
        diff text NOT NULL DEFAULT '',
        actor text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        from_revision bigint,
        deploy_state text NOT NULL DEFAULT 'IN_PROGRESS'
                CHECK (deploy_state IN ('IN_PROGRESS', 'DONE', 'FAILED', 'SUPERSEDED')),
        deploy_message text NOT NULL DEFAULT '',
        finished_at timestamptz,
        progress_at timestamptz NOT NULL DEFAULT now(),
        ready integer NOT NULL DEFAULT 0,
        pre_deploy_done boolean NOT NULL DEFAULT false,
        post_deploy_done boolean NOT NULL DEFAULT false,
        operation bigint REFERENCES operations (id) ON DELETE SET NULL,
        PRIMARY KEY (resource_uuid, revision)
);

-- Who last changed a resource's spec (apply, pause, rollback): the "who" of its next deploy.
ALTER TABLE resources ADD COLUMN applied_by text NOT NULL DEFAULT '';
