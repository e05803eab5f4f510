-- Per-project quotas, set by an admin; applies that would exceed one are refused.
-- NULL: no limit on that dimension. An apply locks its projects' rows (FOR UPDATE) while it
-- sums their services, so two concurrent applies cannot both squeeze under a limit.
CREATE TABLE project_quotas (
        project text PRIMARY KEY,
        max_cpu double precision CHECK (max_cpu > 0),
        max_memory bigint CHECK (max_memory > 0),
        max_replicas bigint CHECK (max_replicas >= 0),
        updated_at timestamptz NOT NULL DEFAULT now()
);
