-- Issue 12: passages whose vectors another embedding model made are found (and re-embedded) by provider and model.
CREATE INDEX transcript_chunks_model_idx ON transcript_chunks (provider, model);
