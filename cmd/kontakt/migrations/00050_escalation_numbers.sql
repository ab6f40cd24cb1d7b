-- +goose Up
-- Appeal numbers come from a sequence per year (esc_appeal_number_2026, …)
-- that the first appeal of a year creates, instead of a counter row that
-- every registration locked until its commit (package escalation). The
-- sequences continue the counters.

-- +goose StatementBegin
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT year, last FROM esc_appeal_numbers LOOP
        EXECUTE format('CREATE SEQUENCE esc_appeal_number_%s START %s', r.year, r.last + 1);
    END LOOP;
END $$;
-- +goose StatementEnd
DROP TABLE esc_appeal_numbers;

-- +goose Down
CREATE TABLE esc_appeal_numbers (
    year integer PRIMARY KEY,
    last integer NOT NULL
);
-- +goose StatementBegin
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT sequencename, coalesce(last_value, start_value - 1) AS last FROM pg_sequences
        WHERE schemaname = current_schema() AND sequencename ~ '^esc_appeal_number_[0-9]+$' LOOP
        INSERT INTO esc_appeal_numbers (year, last)
            VALUES (substr(r.sequencename, length('esc_appeal_number_') + 1)::integer, r.last);
        EXECUTE format('DROP SEQUENCE %I', r.sequencename);
    END LOOP;
END $$;
-- +goose StatementEnd
