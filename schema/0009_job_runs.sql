-- Runs of kind job (store/jobs.h). A job runs once per spec generation: an apply that changes
-- its spec makes one, and so does the `run` action, which makes a new generation of the same
-- spec. A run is queued PENDING (with the generation it is for), becomes RUNNING once its
-- container runs (started_at and its timeout fixed then), and ends SUCCEEDED, FAILED or TIMEOUT
-- with its exit code, a message and the tail of its output (at most 1 MiB of logs, kept after
-- the container is gone). `seq` numbers a job's runs from 1 and names the container
-- (<project>-<name>-job-<seq>); `operation` is the operations row that lists the run in the
-- resource's history. Rows go with their resource; the newest runs of a job are kept.
CREATE TABLE job_runs (
        resource_uuid uuid NOT NULL REFERENCES resources (uuid) ON DELETE CASCADE,
        seq bigint NOT NULL CHECK (seq >= 1),
        generation bigint NOT NULL,
        trigger text NOT NULL CHECK (trigger IN ('apply', 'run')),
        actor text NOT NULL DEFAULT '',
        state text NOT NULL DEFAULT 'PENDING'
                CHECK (state IN ('PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'TIMEOUT')),
        exit_code integer,
        timeout_ms bigint,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        message text NOT NULL DEFAULT '',
        logs text NOT NULL DEFAULT '',
        operation bigint REFERENCES operations (id) ON DELETE SET NULL,
        PRIMARY KEY (resource_uuid, seq),
        UNIQUE (resource_uuid, generation)
);
