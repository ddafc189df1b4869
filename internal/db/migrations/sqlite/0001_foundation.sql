-- Foundation: units, people, accounts, sessions, tokens, audit log, settings.
CREATE TABLE units (
	id INTEGER PRIMARY KEY,
	parent_id INTEGER REFERENCES units(id) ON DELETE RESTRICT,
	code TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('office','section','affiliate','district','branch','outpost')),
	sort_order INTEGER NOT NULL DEFAULT 0,
	active BOOLEAN NOT NULL DEFAULT TRUE,
	created_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL
);
CREATE INDEX units_parent ON units(parent_id, sort_order);

CREATE TABLE people (
	id INTEGER PRIMARY KEY,
	unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE RESTRICT,
	name TEXT NOT NULL,
	title TEXT NOT NULL DEFAULT '',
	phone TEXT NOT NULL DEFAULT '',
	birth_year INTEGER,
	joined_on TEXT,
	rank TEXT NOT NULL DEFAULT '',
	active BOOLEAN NOT NULL DEFAULT TRUE,
	created_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL
);
CREATE INDEX people_unit ON people(unit_id, name);

CREATE TABLE users (
	id INTEGER PRIMARY KEY,
	username TEXT NOT NULL UNIQUE,
	display_name TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL,
	unit_id INTEGER REFERENCES units(id) ON DELETE SET NULL,
	person_id INTEGER REFERENCES people(id) ON DELETE SET NULL,
	disabled BOOLEAN NOT NULL DEFAULT FALSE,
	failed_count INTEGER NOT NULL DEFAULT 0,
	locked_until TIMESTAMP,
	password_changed_at TIMESTAMP NOT NULL,
	last_login_at TIMESTAMP,
	created_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL
);

CREATE TABLE user_roles (
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	role TEXT NOT NULL,
	PRIMARY KEY (user_id, role)
);

CREATE TABLE sessions (
	id_hash TEXT PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	created_at TIMESTAMP NOT NULL,
	last_seen_at TIMESTAMP NOT NULL,
	expires_at TIMESTAMP NOT NULL,
	ip TEXT NOT NULL DEFAULT '',
	user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
	id INTEGER PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	token_hash TEXT NOT NULL UNIQUE,
	created_at TIMESTAMP NOT NULL,
	expires_at TIMESTAMP,
	revoked_at TIMESTAMP,
	last_used_at TIMESTAMP
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE setup_tokens (
	token_hash TEXT PRIMARY KEY,
	created_at TIMESTAMP NOT NULL,
	expires_at TIMESTAMP NOT NULL,
	used_at TIMESTAMP
);

CREATE TABLE settings (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL,
	updated_at TIMESTAMP NOT NULL
);

CREATE TABLE audit_log (
	id INTEGER PRIMARY KEY,
	at TIMESTAMP NOT NULL,
	actor_id INTEGER,
	actor TEXT NOT NULL,
	ip TEXT NOT NULL DEFAULT '',
	action TEXT NOT NULL,
	object TEXT NOT NULL DEFAULT '',
	summary TEXT NOT NULL DEFAULT '',
	result TEXT NOT NULL,
	prev_hash TEXT NOT NULL,
	hash TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_actor ON audit_log(actor, id);

-- Where the chain starts after old records were pruned.
CREATE TABLE audit_anchor (
	id INTEGER PRIMARY KEY,
	at TIMESTAMP NOT NULL,
	first_id INTEGER NOT NULL,
	prev_hash TEXT NOT NULL
);

-- The audit log can only grow; records younger than 184 days cannot go.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN julianday(substr(old.at, 1, 19)) > julianday('now', '-184 days')
BEGIN SELECT RAISE(ABORT, 'audit_log records are kept at least 184 days'); END;
CREATE TRIGGER audit_anchor_no_update BEFORE UPDATE ON audit_anchor
BEGIN SELECT RAISE(ABORT, 'audit_anchor is append-only'); END;
CREATE TRIGGER audit_anchor_no_delete BEFORE DELETE ON audit_anchor
BEGIN SELECT RAISE(ABORT, 'audit_anchor is append-only'); END;
