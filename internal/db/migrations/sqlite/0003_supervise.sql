-- Supervision (挂图作战 · 督查督办): campaign areas, leader instructions, tasks
-- with co-units, milestones, progress reports, attachments, extension
-- requests and the timeline; and the working-day years an admin stored.
-- Civil dates are TEXT 'YYYY-MM-DD'; money is whole 元.

CREATE TABLE task_areas (
	id INTEGER PRIMARY KEY,
	code TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	name_en TEXT NOT NULL DEFAULT '',
	sort_order INTEGER NOT NULL DEFAULT 0,
	active BOOLEAN NOT NULL DEFAULT TRUE,
	created_at TIMESTAMP NOT NULL
);
INSERT INTO task_areas (code, name, name_en, sort_order, active, created_at) VALUES
	('four_plus_two', '四加二机制', 'Four-plus-two mechanism', 10, TRUE, CURRENT_TIMESTAMP),
	('big_section', '大科室制', 'Consolidated sections', 20, TRUE, CURRENT_TIMESTAMP),
	('unified_finance', '大财务管理体制', 'Unified financial management', 30, TRUE, CURRENT_TIMESTAMP),
	('informatization', '信息化建设', 'IT development', 40, TRUE, CURRENT_TIMESTAMP),
	('gov_info', '政务信息', 'Government information', 50, TRUE, CURRENT_TIMESTAMP),
	('party_building', '机关党建', 'Party building', 60, TRUE, CURRENT_TIMESTAMP),
	('emergency', '应急管理', 'Emergency management', 70, TRUE, CURRENT_TIMESTAMP);

-- 批示: a leader's written instruction; one may become several tasks.
CREATE TABLE instructions (
	id INTEGER PRIMARY KEY,
	leader TEXT NOT NULL,
	issued_on TEXT NOT NULL,
	text TEXT NOT NULL,
	doc_no TEXT NOT NULL DEFAULT '',
	created_by INTEGER,
	created_at TIMESTAMP NOT NULL
);
CREATE INDEX instructions_issued ON instructions(issued_on);

CREATE TABLE tasks (
	id INTEGER PRIMARY KEY,
	parent_id INTEGER REFERENCES tasks(id) ON DELETE RESTRICT,
	source TEXT NOT NULL CHECK (source IN ('plan','instruction','assigned','project','concern','finding','appeal','benchmark')),
	instruction_id INTEGER REFERENCES instructions(id) ON DELETE RESTRICT,
	area TEXT NOT NULL REFERENCES task_areas(code) ON DELETE RESTRICT,
	title TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	acceptance TEXT NOT NULL DEFAULT '',
	lead_unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE RESTRICT,
	owner_id INTEGER NOT NULL REFERENCES people(id) ON DELETE RESTRICT,
	priority TEXT NOT NULL DEFAULT 'normal' CHECK (priority IN ('normal','important','urgent')),
	cadence TEXT NOT NULL DEFAULT '' CHECK (cadence IN ('','daily','weekly','biweekly','monthly')),
	weight INTEGER NOT NULL DEFAULT 1 CHECK (weight >= 1),
	start_on TEXT NOT NULL,
	-- The due date in force; NULL until a relative due is resolved at assignment.
	due_on TEXT,
	-- Set when the due was given as "N working days after assignment".
	due_workdays INTEGER,
	-- The due date at assignment, kept for scoring when extensions move due_on.
	baseline_due_on TEXT,
	state TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft','assigned','accepted','in_progress','submitted','signed_off','cancelled')),
	-- Bumped by every change, so concurrent writers can tell they lost.
	version INTEGER NOT NULL DEFAULT 1,
	progress INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
	evidence TEXT NOT NULL DEFAULT '',
	assigned_on TEXT,
	accepted_at TIMESTAMP,
	submitted_at TIMESTAMP,
	signed_off_at TIMESTAMP,
	signed_off_on TEXT,
	cancelled_at TIMESTAMP,
	last_report_on TEXT,
	-- Key projects (source = 'project').
	planned_investment INTEGER,
	completed_investment INTEGER,
	stage TEXT NOT NULL DEFAULT '' CHECK (stage IN ('','preliminary','construction','completed','operation')),
	location TEXT NOT NULL DEFAULT '',
	-- The light as last computed (on light_on) by the deadline engine.
	light TEXT NOT NULL DEFAULT 'not_started' CHECK (light IN ('done','not_started','red','yellow','green')),
	light_code TEXT NOT NULL DEFAULT '',
	light_reason_zh TEXT NOT NULL DEFAULT '',
	light_reason_en TEXT NOT NULL DEFAULT '',
	overdue_workdays INTEGER NOT NULL DEFAULT 0,
	light_on TEXT,
	created_by INTEGER,
	created_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL
);
CREATE INDEX tasks_parent ON tasks(parent_id);
CREATE INDEX tasks_lead_unit ON tasks(lead_unit_id, due_on);
CREATE INDEX tasks_area_light ON tasks(area, light);
CREATE INDEX tasks_light ON tasks(light, due_on);
CREATE INDEX tasks_due ON tasks(due_on, id);
CREATE INDEX tasks_source ON tasks(source, due_on);
CREATE INDEX tasks_instruction ON tasks(instruction_id);
CREATE INDEX tasks_light_on ON tasks(light_on);

CREATE TABLE task_co_units (
	task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
	unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE RESTRICT,
	PRIMARY KEY (task_id, unit_id)
);
CREATE INDEX task_co_units_unit ON task_co_units(unit_id);

CREATE TABLE task_milestones (
	id INTEGER PRIMARY KEY,
	task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
	seq INTEGER NOT NULL,
	name TEXT NOT NULL,
	due_on TEXT NOT NULL,
	done_on TEXT,
	evidence TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL
);
CREATE INDEX task_milestones_task ON task_milestones(task_id, seq);

CREATE TABLE task_reports (
	id INTEGER PRIMARY KEY,
	task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
	unit_id INTEGER REFERENCES units(id) ON DELETE SET NULL,
	-- NULL on a task with subtasks, whose progress rolls up from them.
	percent INTEGER CHECK (percent BETWEEN 0 AND 100),
	text TEXT NOT NULL,
	difficulties TEXT NOT NULL DEFAULT '',
	next_steps TEXT NOT NULL DEFAULT '',
	-- Key projects: completed investment to date, in 元, as reported.
	completed_investment INTEGER,
	reported_on TEXT NOT NULL,
	created_by INTEGER,
	created_by_name TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMP NOT NULL
);
CREATE INDEX task_reports_task ON task_reports(task_id, id);
CREATE INDEX task_reports_on ON task_reports(reported_on);

-- Files kept under the data directory (evidence, report attachments).
CREATE TABLE task_attachments (
	id INTEGER PRIMARY KEY,
	task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
	report_id INTEGER REFERENCES task_reports(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	content_type TEXT NOT NULL,
	size INTEGER NOT NULL,
	sha256 TEXT NOT NULL,
	path TEXT NOT NULL,
	uploaded_by INTEGER,
	uploaded_at TIMESTAMP NOT NULL
);
CREATE INDEX task_attachments_task ON task_attachments(task_id);

CREATE TABLE task_extensions (
	id INTEGER PRIMARY KEY,
	task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
	reason TEXT NOT NULL,
	old_due_on TEXT NOT NULL,
	new_due_on TEXT NOT NULL,
	state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','approved','refused')),
	requested_by INTEGER,
	requested_by_name TEXT NOT NULL DEFAULT '',
	requested_at TIMESTAMP NOT NULL,
	decided_by INTEGER,
	decided_by_name TEXT NOT NULL DEFAULT '',
	decided_at TIMESTAMP,
	decision_note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX task_extensions_task ON task_extensions(task_id, id);
-- At most one open request per task.
CREATE UNIQUE INDEX task_extensions_one_pending ON task_extensions(task_id) WHERE state = 'pending';

-- The timeline: every change to a task, who made it and when.
CREATE TABLE task_events (
	id INTEGER PRIMARY KEY,
	task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
	at TIMESTAMP NOT NULL,
	actor_id INTEGER,
	actor TEXT NOT NULL,
	kind TEXT NOT NULL,
	from_state TEXT NOT NULL DEFAULT '',
	to_state TEXT NOT NULL DEFAULT '',
	note TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX task_events_task ON task_events(task_id, id);

-- Working-day years stored by an admin; they override the embedded notices.
CREATE TABLE workday_years (
	year INTEGER PRIMARY KEY,
	data TEXT NOT NULL,
	updated_by TEXT NOT NULL DEFAULT '',
	updated_at TIMESTAMP NOT NULL
);
