-- The restart action: replicas created before this moment are replaced one at a time.
ALTER TABLE resources ADD COLUMN restart_requested_at timestamptz;
