-- Retention (RetentionService): finished work items, old events and old dead messages are deleted in batches by age.
CREATE INDEX work_items_finished_idx ON runtime.work_items (finished_at) WHERE status IN ('succeeded', 'failed', 'cancelled');
CREATE INDEX events_created_idx ON runtime.events (created_at);
CREATE INDEX dead_messages_failed_idx ON runtime.dead_messages (failed_at);
