-- +goose Up
-- Fewer indexes to maintain on every registration and change of an appeal
-- (package escalation):
--  * esc_appeals_deadlines had no use its twins lack: the overdue queries
--    test resolve_due OR first_response_due, which no index on one of them
--    can serve, so it was only ever a scan of the open appeals, which
--    esc_appeals_open_assignee and esc_appeals_open_queue give as well;
--  * the history is only read per appeal, so its primary key becomes
--    (appeal_id, id) and replaces the separate (appeal_id, id) index;
--  * esc_staff_queues (GIN) cannot serve "$1 = ANY(queues)", the only way
--    staff are looked up by queue, and the table holds a few dozen rows.
DROP INDEX esc_appeals_deadlines;
ALTER TABLE esc_appeal_history DROP CONSTRAINT esc_appeal_history_pkey;
DROP INDEX esc_appeal_history_appeal;
ALTER TABLE esc_appeal_history ADD CONSTRAINT esc_appeal_history_pkey PRIMARY KEY (appeal_id, id);
DROP INDEX esc_staff_queues;

-- +goose Down
CREATE INDEX esc_staff_queues ON esc_staff USING gin (queues);
ALTER TABLE esc_appeal_history DROP CONSTRAINT esc_appeal_history_pkey;
ALTER TABLE esc_appeal_history ADD CONSTRAINT esc_appeal_history_pkey PRIMARY KEY (id);
CREATE INDEX esc_appeal_history_appeal ON esc_appeal_history (appeal_id, id);
CREATE INDEX esc_appeals_deadlines ON esc_appeals (resolve_due)
    WHERE status IN ('new', 'assigned', 'forwarded', 'answered');
