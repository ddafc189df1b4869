-- Benchmarking (对标): categories, peers, learning activities, indicators,
-- observations with their history, targets with their paths (each step a
-- battle-map task), and the stage history 寻标 → 对标 → 达标 → 创标.
-- Civil dates are TEXT 'YYYY-MM-DD'; periods are TEXT '2026-03', '2026-Q1',
-- '2026-H1' or '2026'.

-- The task area benchmark paths are filed under on the battle map.
INSERT INTO task_areas (code, name, name_en, sort_order, active, created_at) VALUES
	('benchmark', '对标达标', 'Benchmark targets', 80, TRUE, CURRENT_TIMESTAMP);

CREATE TABLE benchmark_categories (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	name_en TEXT NOT NULL DEFAULT '',
	sort_order INTEGER NOT NULL DEFAULT 0
);
INSERT INTO benchmark_categories (name, name_en, sort_order) VALUES
	('形象建设', 'Image building', 10),
	('效率提升', 'Efficiency', 20),
	('程序规范', 'Procedure', 30),
	('作风严实', 'Work style', 40);

CREATE TABLE peers (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	kind TEXT NOT NULL CHECK (kind IN ('in_province','out_of_province','national','internal')),
	region TEXT NOT NULL DEFAULT '',
	unit_id INTEGER REFERENCES units(id) ON DELETE RESTRICT,
	population INTEGER,
	staff INTEGER,
	learn TEXT NOT NULL DEFAULT '',
	contacts TEXT NOT NULL DEFAULT '',
	active BOOLEAN NOT NULL DEFAULT TRUE,
	created_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL
);

CREATE TABLE learning_activities (
	id INTEGER PRIMARY KEY,
	peer_id INTEGER REFERENCES peers(id) ON DELETE RESTRICT,
	kind TEXT NOT NULL CHECK (kind IN ('visit','training','exchange','secondment','agreement')),
	title TEXT NOT NULL,
	held_on TEXT NOT NULL,
	people TEXT NOT NULL DEFAULT '',
	findings TEXT NOT NULL DEFAULT '',
	report TEXT NOT NULL DEFAULT '',
	created_by INTEGER,
	created_at TIMESTAMP NOT NULL
);
CREATE INDEX learning_activities_held ON learning_activities(held_on);
CREATE INDEX learning_activities_peer ON learning_activities(peer_id, held_on);

-- A learning activity's attached report (at most 10 MB each).
CREATE TABLE learning_files (
	id INTEGER PRIMARY KEY,
	activity_id INTEGER NOT NULL REFERENCES learning_activities(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	content_type TEXT NOT NULL,
	size INTEGER NOT NULL,
	data BLOB NOT NULL,
	created_at TIMESTAMP NOT NULL
);
CREATE INDEX learning_files_activity ON learning_files(activity_id);

CREATE TABLE indicators (
	id INTEGER PRIMARY KEY,
	code TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	measure TEXT NOT NULL DEFAULT '',
	direction TEXT NOT NULL CHECK (direction IN ('higher_better','lower_better')),
	category TEXT NOT NULL REFERENCES benchmark_categories(name) ON DELETE RESTRICT ON UPDATE CASCADE,
	frequency TEXT NOT NULL CHECK (frequency IN ('month','quarter','half','year')),
	-- 'manual' or a metric code from the registry.
	source TEXT NOT NULL DEFAULT 'manual',
	definition TEXT NOT NULL DEFAULT '',
	formula TEXT NOT NULL DEFAULT '',
	owner_unit_id INTEGER REFERENCES units(id) ON DELETE RESTRICT,
	weight REAL NOT NULL DEFAULT 1 CHECK (weight >= 0),
	-- The chosen peer we measure "attain" against (the best peer when NULL).
	peer_id INTEGER REFERENCES peers(id) ON DELETE SET NULL,
	-- Periods in a row we must be best of all to "lead".
	lead_periods INTEGER NOT NULL DEFAULT 2 CHECK (lead_periods >= 1),
	stage TEXT NOT NULL DEFAULT 'seek' CHECK (stage IN ('seek','compare','attain','lead')),
	-- Rollups kept on write (every change of the indicator's observations):
	-- our latest period with a value, and in it our value, score (0–100
	-- against the best peer), rank among us and the peers, gap to the best,
	-- the best subject and the best of our units ("peer:3", "unit:5").
	latest_period TEXT NOT NULL DEFAULT '',
	latest_value REAL,
	score REAL,
	rank_us INTEGER NOT NULL DEFAULT 0,
	subjects INTEGER NOT NULL DEFAULT 0,
	gap REAL,
	gap_pct REAL,
	best_subject TEXT NOT NULL DEFAULT '',
	best_unit TEXT NOT NULL DEFAULT '',
	stage_since TIMESTAMP NOT NULL,
	active BOOLEAN NOT NULL DEFAULT TRUE,
	created_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL
);
CREATE INDEX indicators_category ON indicators(category, code);
CREATE INDEX indicators_owner ON indicators(owner_unit_id);

-- One value per indicator, subject and period; subject_kind 'us' has
-- subject_id 0.
CREATE TABLE observations (
	id INTEGER PRIMARY KEY,
	indicator_id INTEGER NOT NULL REFERENCES indicators(id) ON DELETE CASCADE,
	subject_kind TEXT NOT NULL CHECK (subject_kind IN ('us','unit','peer')),
	subject_id INTEGER NOT NULL DEFAULT 0,
	period TEXT NOT NULL,
	value REAL NOT NULL,
	note TEXT NOT NULL DEFAULT '',
	evidence TEXT NOT NULL DEFAULT '',
	-- Set for metric-sourced values once their period closed.
	fixed BOOLEAN NOT NULL DEFAULT FALSE,
	created_by INTEGER,
	updated_at TIMESTAMP NOT NULL,
	UNIQUE (indicator_id, subject_kind, subject_id, period)
);
-- Covering, in series order: the one-query reads of whole histories.
CREATE INDEX observations_series ON observations(indicator_id, period, subject_kind, subject_id, value);

-- A replaced value, kept.
CREATE TABLE observation_history (
	id INTEGER PRIMARY KEY,
	observation_id INTEGER NOT NULL REFERENCES observations(id) ON DELETE CASCADE,
	value REAL NOT NULL,
	note TEXT NOT NULL DEFAULT '',
	evidence TEXT NOT NULL DEFAULT '',
	replaced_by INTEGER,
	replaced_at TIMESTAMP NOT NULL
);
CREATE INDEX observation_history_obs ON observation_history(observation_id, replaced_at);

CREATE TABLE targets (
	id INTEGER PRIMARY KEY,
	indicator_id INTEGER NOT NULL REFERENCES indicators(id) ON DELETE RESTRICT,
	target_value REAL NOT NULL,
	baseline REAL NOT NULL,
	due_on TEXT NOT NULL,
	peer_id INTEGER REFERENCES peers(id) ON DELETE SET NULL,
	note TEXT NOT NULL DEFAULT '',
	-- The day "us" first reached the target value.
	attained_on TEXT,
	created_by INTEGER,
	created_at TIMESTAMP NOT NULL
);
CREATE INDEX targets_indicator ON targets(indicator_id);
CREATE INDEX targets_due ON targets(due_on);

CREATE TABLE target_steps (
	id INTEGER PRIMARY KEY,
	target_id INTEGER NOT NULL REFERENCES targets(id) ON DELETE CASCADE,
	seq INTEGER NOT NULL,
	title TEXT NOT NULL,
	due_on TEXT NOT NULL,
	lead_unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE RESTRICT,
	owner_id INTEGER NOT NULL REFERENCES people(id) ON DELETE RESTRICT,
	task_id INTEGER REFERENCES tasks(id) ON DELETE SET NULL,
	UNIQUE (target_id, seq)
);
CREATE INDEX target_steps_task ON target_steps(task_id);

CREATE TABLE stage_history (
	id INTEGER PRIMARY KEY,
	indicator_id INTEGER NOT NULL REFERENCES indicators(id) ON DELETE CASCADE,
	from_stage TEXT NOT NULL DEFAULT '',
	to_stage TEXT NOT NULL,
	-- 0 none, 1 seek, 2 compare, 3 attain, 4 lead: an advance is to_rank > from_rank.
	from_rank INTEGER NOT NULL DEFAULT 0,
	to_rank INTEGER NOT NULL,
	period TEXT NOT NULL DEFAULT '',
	changed_at TIMESTAMP NOT NULL
);
CREATE INDEX stage_history_indicator ON stage_history(indicator_id, changed_at);
CREATE INDEX stage_history_changed ON stage_history(changed_at);
