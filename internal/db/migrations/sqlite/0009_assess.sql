-- 考评 (issue 5): periods and their published snapshots, daily unit reports,
-- settings, leaders' comments, half-year achievements with photos, year-end
-- schemes with criteria and rater groups, declarations, spot checks,
-- ratings, bonuses and deductions (also for individuals), year results,
-- objections. Civil dates are TEXT 'YYYY-MM-DD'.

CREATE TABLE assess_periods (
	id INTEGER PRIMARY KEY,
	key TEXT NOT NULL UNIQUE,
	kind TEXT NOT NULL CHECK (kind IN ('month','half_year','year')),
	start_on TEXT NOT NULL,
	end_on TEXT NOT NULL,
	state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open','closed')),
	version INTEGER NOT NULL DEFAULT 0,
	published_at TIMESTAMP,
	published_on TEXT,
	signed_off_at TIMESTAMP,
	signed_off_by TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMP NOT NULL
);

-- Every publication of a period: the frozen rows as JSON.
CREATE TABLE assess_snapshots (
	id INTEGER PRIMARY KEY,
	period_id INTEGER NOT NULL REFERENCES assess_periods(id) ON DELETE RESTRICT,
	version INTEGER NOT NULL,
	reason TEXT NOT NULL DEFAULT '',
	data TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	UNIQUE (period_id, version)
);

CREATE TABLE assess_settings (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL,
	updated_at TIMESTAMP NOT NULL
);

CREATE TABLE assess_daily_reports (
	id INTEGER PRIMARY KEY,
	unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE RESTRICT,
	day TEXT NOT NULL,
	done TEXT NOT NULL,
	moved TEXT NOT NULL DEFAULT '',
	problems TEXT NOT NULL DEFAULT '',
	tomorrow TEXT NOT NULL DEFAULT '',
	task_lines TEXT NOT NULL DEFAULT '[]',
	on_time BOOLEAN NOT NULL,
	filed_by INTEGER,
	filed_by_name TEXT NOT NULL DEFAULT '',
	filed_at TIMESTAMP NOT NULL,
	UNIQUE (unit_id, day)
);
CREATE INDEX assess_daily_reports_day ON assess_daily_reports(day, unit_id);

CREATE TABLE assess_daily_reminders (
	unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,
	day TEXT NOT NULL,
	sent_at TIMESTAMP NOT NULL,
	PRIMARY KEY (unit_id, day)
);

CREATE TABLE assess_comments (
	id INTEGER PRIMARY KEY,
	period_key TEXT NOT NULL,
	unit_id INTEGER REFERENCES units(id) ON DELETE RESTRICT,
	text TEXT NOT NULL,
	author TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL
);
CREATE INDEX assess_comments_period ON assess_comments(period_key, id);

CREATE TABLE assess_achievements (
	id INTEGER PRIMARY KEY,
	period_key TEXT NOT NULL,
	unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE RESTRICT,
	title TEXT NOT NULL,
	text TEXT NOT NULL DEFAULT '',
	state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','approved','rejected')),
	review_note TEXT NOT NULL DEFAULT '',
	reviewed_by TEXT NOT NULL DEFAULT '',
	reviewed_at TIMESTAMP,
	created_by TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL
);
CREATE INDEX assess_achievements_period ON assess_achievements(period_key, unit_id);

CREATE TABLE assess_photos (
	id INTEGER PRIMARY KEY,
	achievement_id INTEGER NOT NULL REFERENCES assess_achievements(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	content_type TEXT NOT NULL,
	data BLOB NOT NULL,
	created_at TIMESTAMP NOT NULL
);
CREATE INDEX assess_photos_achievement ON assess_photos(achievement_id);

CREATE TABLE assess_schemes (
	id INTEGER PRIMARY KEY,
	year INTEGER NOT NULL UNIQUE,
	name TEXT NOT NULL,
	bonus_cap REAL NOT NULL DEFAULT 5,
	deduction_cap REAL NOT NULL DEFAULT 10,
	excellent_quota REAL NOT NULL DEFAULT 30,
	overdue_deduction REAL NOT NULL DEFAULT 0.5,
	declaration_deadline TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL
);

CREATE TABLE assess_criteria (
	id INTEGER PRIMARY KEY,
	scheme_id INTEGER NOT NULL REFERENCES assess_schemes(id) ON DELETE CASCADE,
	code TEXT NOT NULL,
	name TEXT NOT NULL,
	parent_code TEXT NOT NULL DEFAULT '',
	weight REAL NOT NULL,
	method TEXT NOT NULL DEFAULT '' CHECK (method IN ('','metric','declaration','spot_check','rating')),
	metric_code TEXT NOT NULL DEFAULT '',
	rule TEXT NOT NULL DEFAULT '{}',
	spot_rate REAL NOT NULL DEFAULT 0,
	false_deduction REAL NOT NULL DEFAULT 0,
	sort_order INTEGER NOT NULL DEFAULT 0,
	UNIQUE (scheme_id, code)
);

CREATE TABLE assess_rater_groups (
	id INTEGER PRIMARY KEY,
	scheme_id INTEGER NOT NULL REFERENCES assess_schemes(id) ON DELETE CASCADE,
	code TEXT NOT NULL,
	name TEXT NOT NULL,
	role TEXT NOT NULL,
	weight REAL NOT NULL,
	UNIQUE (scheme_id, code)
);

CREATE TABLE assess_declarations (
	id INTEGER PRIMARY KEY,
	criterion_id INTEGER NOT NULL REFERENCES assess_criteria(id) ON DELETE CASCADE,
	unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE RESTRICT,
	claimed REAL NOT NULL,
	evidence TEXT NOT NULL,
	state TEXT NOT NULL DEFAULT 'submitted' CHECK (state IN ('submitted','approved','adjusted')),
	score REAL,
	review_note TEXT NOT NULL DEFAULT '',
	reviewed_by TEXT NOT NULL DEFAULT '',
	reviewed_at TIMESTAMP,
	created_by TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	UNIQUE (criterion_id, unit_id)
);
CREATE INDEX assess_declarations_unit ON assess_declarations(unit_id);

CREATE TABLE assess_spot_checks (
	id INTEGER PRIMARY KEY,
	scheme_id INTEGER NOT NULL REFERENCES assess_schemes(id) ON DELETE CASCADE,
	seed INTEGER NOT NULL,
	rate REAL NOT NULL,
	drawn_by TEXT NOT NULL,
	drawn_at TIMESTAMP NOT NULL
);

CREATE TABLE assess_spot_items (
	id INTEGER PRIMARY KEY,
	spot_check_id INTEGER NOT NULL REFERENCES assess_spot_checks(id) ON DELETE CASCADE,
	unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE RESTRICT,
	kind TEXT NOT NULL CHECK (kind IN ('declaration','task')),
	ref_id INTEGER NOT NULL,
	result TEXT NOT NULL DEFAULT 'pending' CHECK (result IN ('pending','ok','false')),
	note TEXT NOT NULL DEFAULT '',
	checked_by TEXT NOT NULL DEFAULT '',
	checked_at TIMESTAMP
);
CREATE INDEX assess_spot_items_check ON assess_spot_items(spot_check_id, unit_id);

CREATE TABLE assess_ratings (
	id INTEGER PRIMARY KEY,
	criterion_id INTEGER NOT NULL REFERENCES assess_criteria(id) ON DELETE CASCADE,
	group_code TEXT NOT NULL,
	rater_id INTEGER NOT NULL,
	rater_unit_id INTEGER,
	unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE RESTRICT,
	score REAL NOT NULL,
	created_at TIMESTAMP NOT NULL,
	UNIQUE (criterion_id, rater_id, unit_id)
);
CREATE INDEX assess_ratings_unit ON assess_ratings(criterion_id, unit_id);

-- Bonuses and deductions, for a unit or an individual (who feeds the unit).
CREATE TABLE assess_adjustments (
	id INTEGER PRIMARY KEY,
	year INTEGER NOT NULL,
	unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE RESTRICT,
	person_id INTEGER REFERENCES people(id) ON DELETE RESTRICT,
	kind TEXT NOT NULL CHECK (kind IN ('bonus','deduction')),
	category TEXT NOT NULL,
	points REAL NOT NULL CHECK (points > 0),
	reason TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL
);
CREATE INDEX assess_adjustments_year ON assess_adjustments(year, unit_id);
CREATE INDEX assess_adjustments_person ON assess_adjustments(person_id);

CREATE TABLE assess_objections (
	id INTEGER PRIMARY KEY,
	period_key TEXT NOT NULL,
	unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE RESTRICT,
	text TEXT NOT NULL,
	state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open','answered')),
	answer TEXT NOT NULL DEFAULT '',
	answered_by TEXT NOT NULL DEFAULT '',
	answered_at TIMESTAMP,
	created_by TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL
);
CREATE INDEX assess_objections_period ON assess_objections(period_key, state);

-- The showcase and the year-end evaluation read the registry's supervision
-- metrics for every unit over a month or a year; these covering indexes let
-- those aggregates read the index alone (by due date in force, and by the
-- due date at assignment) instead of visiting every task row.
CREATE INDEX tasks_metric_due ON tasks(due_on, state, lead_unit_id, signed_off_on);
CREATE INDEX tasks_metric_baseline ON tasks(COALESCE(baseline_due_on, due_on), state, lead_unit_id, signed_off_on);
