-- 12345 诉求 (appeals): the category tree, dispatch rules, work orders with
-- encrypted citizen data, their timeline, returns, attachments, and the
-- rollups the analysis pages read (kept current on write).
-- Civil dates are TEXT 'YYYY-MM-DD'.

CREATE TABLE appeal_categories (
	id INTEGER PRIMARY KEY,
	code TEXT NOT NULL UNIQUE,
	parent_code TEXT NOT NULL DEFAULT '',
	name TEXT NOT NULL,
	name_en TEXT NOT NULL DEFAULT '',
	leaf BOOLEAN NOT NULL DEFAULT TRUE,
	keywords TEXT NOT NULL DEFAULT '',
	sort_order INTEGER NOT NULL DEFAULT 0,
	active BOOLEAN NOT NULL DEFAULT TRUE
);

-- 派单规则: category + district → unit; '' matches any.
CREATE TABLE appeal_rules (
	id INTEGER PRIMARY KEY,
	category_code TEXT NOT NULL DEFAULT '',
	district TEXT NOT NULL DEFAULT '',
	unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,
	created_at TIMESTAMP NOT NULL,
	UNIQUE (category_code, district)
);

CREATE TABLE appeals (
	id INTEGER PRIMARY KEY,
	number TEXT NOT NULL UNIQUE,
	channel TEXT NOT NULL CHECK (channel IN ('phone','web','app','wechat','open311','api','import')),
	kind TEXT NOT NULL CHECK (kind IN ('consult','help','complaint','report','suggestion')),
	category_code TEXT NOT NULL,
	content TEXT NOT NULL,
	district TEXT NOT NULL DEFAULT '',
	street TEXT NOT NULL DEFAULT '',
	address TEXT NOT NULL DEFAULT '',
	lat REAL,
	lng REAL,
	-- Citizen data: SM4-GCM ciphertext (base64) plus masks for display.
	citizen_name_enc TEXT NOT NULL DEFAULT '',
	citizen_phone_enc TEXT NOT NULL DEFAULT '',
	citizen_idno_enc TEXT NOT NULL DEFAULT '',
	citizen_name_mask TEXT NOT NULL DEFAULT '',
	citizen_phone_mask TEXT NOT NULL DEFAULT '',
	citizen_idno_mask TEXT NOT NULL DEFAULT '',
	-- Keyed hash of the phone number, to find repeat callers without decrypting.
	phone_hash TEXT NOT NULL DEFAULT '',
	urgency TEXT NOT NULL DEFAULT 'normal' CHECK (urgency IN ('normal','urgent')),
	state TEXT NOT NULL CHECK (state IN ('received','dispatched','disputed','accepted','replied','resolved','followed','archived','merged')),
	triage TEXT NOT NULL DEFAULT '' CHECK (triage IN ('','answered','transferred','redirected','dispatched')),
	triage_note TEXT NOT NULL DEFAULT '',
	unit_id INTEGER REFERENCES units(id) ON DELETE RESTRICT,
	master_id INTEGER REFERENCES appeals(id) ON DELETE SET NULL,
	received_at TIMESTAMP NOT NULL,
	received_on TEXT NOT NULL,
	dispatched_at TIMESTAMP,
	dispatched_on TEXT,
	accepted_at TIMESTAMP,
	due_on TEXT,
	extended BOOLEAN NOT NULL DEFAULT FALSE,
	extension_reason TEXT NOT NULL DEFAULT '',
	return_count INTEGER NOT NULL DEFAULT 0,
	replied_at TIMESTAMP,
	reply TEXT NOT NULL DEFAULT '',
	resolved_at TIMESTAMP,
	resolved_on TEXT,
	followed_at TIMESTAMP,
	satisfaction TEXT NOT NULL DEFAULT '' CHECK (satisfaction IN ('','satisfied','basic','unsatisfied')),
	solved BOOLEAN,
	reopen_count INTEGER NOT NULL DEFAULT 0,
	archived_at TIMESTAMP,
	-- Flags kept on write for the unit metrics.
	responded_in_time BOOLEAN NOT NULL DEFAULT FALSE,
	on_time BOOLEAN NOT NULL DEFAULT FALSE,
	is_repeat BOOLEAN NOT NULL DEFAULT FALSE,
	simhash BIGINT NOT NULL DEFAULT 0,
	task_id INTEGER,
	source_key TEXT NOT NULL DEFAULT '',
	media_url TEXT NOT NULL DEFAULT '',
	light TEXT NOT NULL DEFAULT 'not_started',
	remind_key TEXT NOT NULL DEFAULT '',
	version INTEGER NOT NULL DEFAULT 1,
	created_by INTEGER,
	updated_at TIMESTAMP NOT NULL
);
CREATE INDEX appeals_received ON appeals(received_at, id);
CREATE INDEX appeals_state ON appeals(state, received_at);
CREATE INDEX appeals_unit ON appeals(unit_id, state, due_on);
CREATE INDEX appeals_dispatched ON appeals(dispatched_on);
CREATE INDEX appeals_phone ON appeals(phone_hash, received_at);

CREATE TABLE appeal_events (
	id INTEGER PRIMARY KEY,
	appeal_id INTEGER NOT NULL REFERENCES appeals(id) ON DELETE CASCADE,
	at TIMESTAMP NOT NULL,
	actor_id INTEGER,
	actor TEXT NOT NULL DEFAULT '',
	action TEXT NOT NULL,
	from_state TEXT NOT NULL DEFAULT '',
	to_state TEXT NOT NULL DEFAULT '',
	unit_id INTEGER,
	note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX appeal_events_appeal ON appeal_events(appeal_id, id);

-- 退单: a unit sent a misrouted order back.
CREATE TABLE appeal_returns (
	id INTEGER PRIMARY KEY,
	appeal_id INTEGER NOT NULL REFERENCES appeals(id) ON DELETE CASCADE,
	unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE RESTRICT,
	returned_on TEXT NOT NULL,
	reason TEXT NOT NULL
);
CREATE INDEX appeal_returns_unit ON appeal_returns(unit_id, returned_on);

CREATE TABLE appeal_attachments (
	id INTEGER PRIMARY KEY,
	appeal_id INTEGER NOT NULL REFERENCES appeals(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	url TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMP NOT NULL
);
CREATE INDEX appeal_attachments_appeal ON appeal_attachments(appeal_id);

-- Rollup by the order's received day × category × district × current unit
-- (0 = none yet): counts and handling seconds of resolved orders.
CREATE TABLE appeal_rollup (
	day TEXT NOT NULL,
	category_code TEXT NOT NULL,
	district TEXT NOT NULL,
	unit_id INTEGER NOT NULL,
	received INTEGER NOT NULL DEFAULT 0,
	resolved INTEGER NOT NULL DEFAULT 0,
	on_time INTEGER NOT NULL DEFAULT 0,
	followed INTEGER NOT NULL DEFAULT 0,
	satisfied INTEGER NOT NULL DEFAULT 0,
	handle_seconds BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (day, category_code, district, unit_id)
) WITHOUT ROWID;

-- Rollup by received day × district × street.
CREATE TABLE appeal_rollup_street (
	day TEXT NOT NULL,
	district TEXT NOT NULL,
	street TEXT NOT NULL,
	received INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (day, district, street)
) WITHOUT ROWID;

-- Day sequences for order numbers.
CREATE TABLE appeal_seq (
	day TEXT PRIMARY KEY,
	n INTEGER NOT NULL
);

-- The same figures summed along one dimension per day, so the analysis
-- pages read a few hundred rows: dim 'all' (key ''), 'cat' (category
-- code), 'district', 'unit' (unit id, '0' = none) and 'catdist'
-- (category code '|' district).
CREATE TABLE appeal_rollup_dim (
	dim TEXT NOT NULL,
	day TEXT NOT NULL,
	key TEXT NOT NULL,
	received INTEGER NOT NULL DEFAULT 0,
	resolved INTEGER NOT NULL DEFAULT 0,
	on_time INTEGER NOT NULL DEFAULT 0,
	followed INTEGER NOT NULL DEFAULT 0,
	satisfied INTEGER NOT NULL DEFAULT 0,
	handle_seconds BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (dim, day, key)
) WITHOUT ROWID;
