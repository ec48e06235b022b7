-- A one-way message waiting for its retry holds back the later messages of its grain (TurnProcessor), so that a grain
-- handles its messages in the order they were sent. Only retrying messages have attempts > 0: this index stays tiny.
CREATE INDEX messages_retrying_idx ON runtime.messages (grain_type, grain_key, id) WHERE attempts > 0;
