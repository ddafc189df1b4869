-- Battle map (挂图作战) and the supervision pages.
--
-- One covering index serves the battle map's single aggregate pass
-- (GROUP BY lead unit, area, light with done / on-time / overdue counts):
-- the counts are read from the index alone, never from the task rows.
CREATE INDEX tasks_board ON tasks(lead_unit_id, area, light, state, due_on, signed_off_on);

-- The leader filter (tasks whose instruction a leader issued) and the
-- instruction list by leader.
CREATE INDEX instructions_leader ON instructions(leader, issued_on);

-- Report attachments by report (the instruction chain counts them).
CREATE INDEX task_attachments_report ON task_attachments(report_id);
