-- Uploads that were never completed expire (UploadExpiryService): their blob is deleted and the row kept as 'expired',
-- so a late complete or a new project on it gets a clear answer instead of "not found".
ALTER TABLE uploads DROP CONSTRAINT uploads_status_check;
ALTER TABLE uploads ADD CONSTRAINT uploads_status_check CHECK (status IN ('pending', 'completed', 'expired'));
CREATE INDEX uploads_pending_expiry_idx ON uploads (expires_at) WHERE status = 'pending';
