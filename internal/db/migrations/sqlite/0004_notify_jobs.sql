-- Background work and messages: the scheduler's job table, the in-app inbox
-- and the outbox for external channels (platform); reminders, supervision
-- notices (督办单) and look-backs (回头看) of supervised tasks (supervise).

-- One row per scheduled job. A run claims the row (owner, locked_until),
-- does its work and moves next_run_at in one transaction with that work,
-- so a restart neither loses nor repeats a pass and two instances never run
-- the same job at once.
CREATE TABLE job_runs (
	name TEXT PRIMARY KEY,
	every_seconds INTEGER NOT NULL,
	next_run_at TIMESTAMP NOT NULL,
	last_run_at TIMESTAMP,
	last_ok_at TIMESTAMP,
	last_duration_ms INTEGER NOT NULL DEFAULT 0,
	last_result TEXT NOT NULL DEFAULT '',
	last_error TEXT NOT NULL DEFAULT '',
	runs INTEGER NOT NULL DEFAULT 0,
	failures INTEGER NOT NULL DEFAULT 0,
	owner TEXT NOT NULL DEFAULT '',
	locked_until TIMESTAMP
);

-- The in-app inbox: one row per recipient. recipient_id (here and in
-- outbox) names an account without a foreign key: the scheduler writes these
-- rows in bulk, recipients are read from users in the same transaction, and
-- accounts are disabled, never deleted.
CREATE TABLE notifications (
	id INTEGER PRIMARY KEY,
	recipient_id INTEGER NOT NULL,
	kind TEXT NOT NULL,
	level TEXT NOT NULL DEFAULT '' CHECK (level IN ('','blue','yellow','red')),
	title_zh TEXT NOT NULL,
	title_en TEXT NOT NULL DEFAULT '',
	body_zh TEXT NOT NULL DEFAULT '',
	body_en TEXT NOT NULL DEFAULT '',
	link TEXT NOT NULL DEFAULT '',
	-- What the message is about ("task:12"), for filtering and tracing.
	subject TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMP NOT NULL,
	read_at TIMESTAMP
);
CREATE INDEX notifications_recipient ON notifications(recipient_id, id);
CREATE INDEX notifications_unread ON notifications(recipient_id, id) WHERE read_at IS NULL;

-- Messages for external channels; a delivery worker (to come) sends the
-- pending ones and records the outcome.
CREATE TABLE outbox (
	id INTEGER PRIMARY KEY,
	recipient_id INTEGER,
	address TEXT NOT NULL DEFAULT '',
	channel TEXT NOT NULL CHECK (channel IN ('sms','wechat','email')),
	kind TEXT NOT NULL DEFAULT '',
	subject TEXT NOT NULL DEFAULT '',
	text TEXT NOT NULL,
	status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sent','failed')),
	attempts INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMP NOT NULL,
	sent_at TIMESTAMP
);
CREATE INDEX outbox_status ON outbox(status, id);

-- Look-back plan: working days after sign-off (NULL: the default, 20) and
-- the reviewer (NULL: the supervisor who signs off).
ALTER TABLE tasks ADD COLUMN lookback_workdays INTEGER;
ALTER TABLE tasks ADD COLUMN lookback_reviewer_id INTEGER REFERENCES users(id) ON DELETE SET NULL;

-- Where each task stands in its reminder and escalation plans: one narrow
-- row per task, kept by the triggers below, so the passes read only the
-- active tasks whose next day (remind_on, notice_on; '' = not planned yet)
-- has come and move those days forward without rewriting the wide task
-- rows. active: assigned, accepted or in progress (the lead unit is on it).
-- A new due date starts both plans over.
CREATE TABLE task_plans (
	task_id INTEGER PRIMARY KEY REFERENCES tasks(id) ON DELETE CASCADE,
	active BOOLEAN NOT NULL DEFAULT FALSE,
	remind_on TEXT NOT NULL DEFAULT '',
	remind_key TEXT NOT NULL DEFAULT '',
	notice_on TEXT NOT NULL DEFAULT '',
	notice_level TEXT NOT NULL DEFAULT '' CHECK (notice_level IN ('','blue','yellow','red'))
);
CREATE INDEX task_plans_remind_on ON task_plans(remind_on) WHERE active;
CREATE INDEX task_plans_notice_on ON task_plans(notice_on) WHERE active;
INSERT INTO task_plans (task_id, active) SELECT id, state IN ('assigned','accepted','in_progress') FROM tasks;

CREATE TRIGGER tasks_plan_insert AFTER INSERT ON tasks
BEGIN
	INSERT INTO task_plans (task_id, active) VALUES (NEW.id, NEW.state IN ('assigned','accepted','in_progress'));
END;
CREATE TRIGGER tasks_plan_state AFTER UPDATE OF state ON tasks
WHEN OLD.state IS NOT NEW.state
BEGIN
	UPDATE task_plans SET active = NEW.state IN ('assigned','accepted','in_progress') WHERE task_id = NEW.id;
END;
CREATE TRIGGER tasks_plan_due AFTER UPDATE OF due_on ON tasks
WHEN OLD.due_on IS NOT NEW.due_on
BEGIN
	UPDATE task_plans SET remind_on = '', remind_key = '', notice_on = '', notice_level = '' WHERE task_id = NEW.id;
END;

-- 催办: automatic reminders (at most one per task, due date and key) and a
-- supervisor's manual urges.
CREATE TABLE task_reminders (
	id INTEGER PRIMARY KEY,
	task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
	kind TEXT NOT NULL CHECK (kind IN ('auto','urge')),
	due_on TEXT NOT NULL,
	key TEXT NOT NULL,
	workdays INTEGER NOT NULL DEFAULT 0,
	message TEXT NOT NULL DEFAULT '',
	recipients INTEGER NOT NULL DEFAULT 0,
	sent_by INTEGER,
	sent_by_name TEXT NOT NULL DEFAULT '',
	sent_at TIMESTAMP NOT NULL
);
CREATE INDEX task_reminders_task ON task_reminders(task_id, id);
CREATE UNIQUE INDEX task_reminders_once ON task_reminders(task_id, due_on, key) WHERE kind = 'auto';

-- 督办单: formal notices escalating blue → yellow → red while a task stays
-- overdue; at most one per task, due date and level.
CREATE TABLE supervision_notices (
	id INTEGER PRIMARY KEY,
	task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
	unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE RESTRICT,
	due_on TEXT NOT NULL,
	level TEXT NOT NULL CHECK (level IN ('blue','yellow','red')),
	overdue_workdays INTEGER NOT NULL,
	-- Whom it went to: 'unit_head', or 'unit_head,leader' at red.
	addressed_to TEXT NOT NULL DEFAULT '',
	recipients INTEGER NOT NULL DEFAULT 0,
	text_zh TEXT NOT NULL,
	text_en TEXT NOT NULL DEFAULT '',
	issued_on TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	UNIQUE (task_id, due_on, level)
);
CREATE INDEX supervision_notices_unit ON supervision_notices(unit_id, id);
CREATE INDEX supervision_notices_level ON supervision_notices(level, id);

-- 回头看: a review some working days after sign-off; failing reopens the task.
CREATE TABLE task_lookbacks (
	id INTEGER PRIMARY KEY,
	task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
	signed_off_on TEXT NOT NULL,
	workdays INTEGER NOT NULL,
	due_on TEXT NOT NULL,
	reviewer_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
	state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','passed','failed','superseded')),
	findings TEXT NOT NULL DEFAULT '',
	new_due_on TEXT,
	notified_at TIMESTAMP,
	decided_by INTEGER,
	decided_by_name TEXT NOT NULL DEFAULT '',
	decided_at TIMESTAMP,
	created_by INTEGER,
	created_at TIMESTAMP NOT NULL
);
CREATE INDEX task_lookbacks_task ON task_lookbacks(task_id, id);
CREATE INDEX task_lookbacks_due ON task_lookbacks(state, due_on);
CREATE INDEX task_lookbacks_notify ON task_lookbacks(due_on) WHERE state = 'pending' AND notified_at IS NULL;
CREATE UNIQUE INDEX task_lookbacks_one_pending ON task_lookbacks(task_id) WHERE state = 'pending';
