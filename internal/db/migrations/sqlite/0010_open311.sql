-- Open311 GeoReport v2 API keys (issue 6): named, stored as SHA-256 hashes,
-- revocable; last_used_at is kept to the minute.
CREATE TABLE open311_keys (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	key_hash TEXT NOT NULL UNIQUE,
	key_prefix TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	created_by TEXT NOT NULL,
	revoked_at TIMESTAMP,
	revoked_by TEXT,
	last_used_at TIMESTAMP
);
