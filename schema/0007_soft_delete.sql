-- Soft delete of databases (pg_single): a deleted database keeps its volumes and backups for
-- its retention period in phase DELETED; `restore` brings it back, `purge` ends it at once.
ALTER TABLE resources DROP CONSTRAINT resources_phase_check;
ALTER TABLE resources ADD CONSTRAINT resources_phase_check
        CHECK (phase IN ('PENDING', 'PROVISIONING', 'RUNNING', 'DEGRADED', 'FAILED', 'PAUSED',
                         'DELETING', 'DELETED'));
ALTER TABLE resources ADD COLUMN purge_requested_at timestamptz;
