-- Queued actions (store/requests.h): what a user asked a resource to do once, beside its spec
-- (`berth do pg_single NAME backup|restore|vacuum`). The API adds them PENDING; the controller
-- takes the oldest PENDING or RUNNING one of a resource, records it as an operation (RUNNING),
-- and finishes it (DONE or FAILED, with a message). A request that was RUNNING when berthd died
-- is taken again. Rows go with their resource; `operation` is the operations row that records
-- the run (NULL before it starts).
CREATE TABLE requests (
        id bigserial PRIMARY KEY,
        resource_uuid uuid NOT NULL REFERENCES resources (uuid) ON DELETE CASCADE,
        action text NOT NULL,
        params json NOT NULL DEFAULT '{}',
        state text NOT NULL DEFAULT 'PENDING'
                CHECK (state IN ('PENDING', 'RUNNING', 'DONE', 'FAILED')),
        actor text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        message text NOT NULL DEFAULT '',
        operation bigint REFERENCES operations (id) ON DELETE SET NULL
);

CREATE INDEX requests_resource_idx ON requests (resource_uuid, state, id);
