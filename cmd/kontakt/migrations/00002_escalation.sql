-- +goose Up
-- Appeals and clients (package escalation).

CREATE TABLE esc_clients (
    id              bigserial PRIMARY KEY,
    name            text NOT NULL DEFAULT '',
    client_group    text NOT NULL DEFAULT 'other'
                    CHECK (client_group IN ('applicant', 'student', 'listener', 'graduate', 'parent', 'other')),
    phone           text NOT NULL DEFAULT '',
    phone_verified  boolean NOT NULL DEFAULT false,
    email           text NOT NULL DEFAULT '',
    email_verified  boolean NOT NULL DEFAULT false,
    consent_at      timestamptz,
    consent_channel text NOT NULL DEFAULT '',
    consent_version text NOT NULL DEFAULT '',
    -- A client merged into another is kept, pointing at the survivor.
    merged_into     bigint REFERENCES esc_clients (id),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX esc_clients_phone ON esc_clients (phone) WHERE phone_verified AND merged_into IS NULL;
CREATE INDEX esc_clients_email ON esc_clients (lower(email)) WHERE email_verified AND merged_into IS NULL;

-- A client's accounts in the channels.
CREATE TABLE esc_identities (
    channel     text NOT NULL,
    external_id text NOT NULL,
    client_id   bigint NOT NULL REFERENCES esc_clients (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel, external_id)
);
CREATE INDEX esc_identities_client ON esc_identities (client_id);

-- A parent linked to a student or applicant.
CREATE TABLE esc_client_links (
    parent_id bigint NOT NULL REFERENCES esc_clients (id),
    child_id  bigint NOT NULL REFERENCES esc_clients (id),
    PRIMARY KEY (parent_id, child_id),
    CHECK (parent_id <> child_id)
);
CREATE INDEX esc_client_links_child ON esc_client_links (child_id);

CREATE TABLE esc_staff (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL,
    roles        text[] NOT NULL DEFAULT '{}',
    department   text NOT NULL DEFAULT '',
    queues       text[] NOT NULL DEFAULT '{}',
    reach        jsonb NOT NULL DEFAULT '{}',
    hours        jsonb NOT NULL DEFAULT '{}',
    active       boolean NOT NULL DEFAULT true,
    max_open     integer NOT NULL DEFAULT 0,
    -- Round-robin: the person assigned longest ago goes next.
    last_assigned_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX esc_staff_queues ON esc_staff USING gin (queues);

-- Routing rules: (topic × client group) → queue; '*' matches anything.
CREATE TABLE esc_routes (
    topic        text NOT NULL,
    client_group text NOT NULL,
    queue        text NOT NULL,
    PRIMARY KEY (topic, client_group)
);
-- Defaults of the regulation: typical questions stay with contact managers;
-- applicants' appeals go to admission managers, students' and listeners' to
-- study managers; other clients' to the head of the department that owns
-- the topic (or stay with contact managers when no department does).
INSERT INTO esc_routes (topic, client_group, queue) VALUES
    ('*', '*', 'contact'),
    ('*', 'applicant', 'admission'),
    ('*', 'student', 'study'),
    ('*', 'listener', 'study'),
    ('contacts', '*', 'contact'),
    ('contacts', 'applicant', 'contact'),
    ('contacts', 'student', 'contact'),
    ('contacts', 'listener', 'contact'),
    ('dormitory', '*', 'dept:campus'),
    ('tuition', '*', 'dept:accounting'),
    ('scholarship', '*', 'dept:accounting'),
    ('certificates', '*', 'dept:registrar'),
    ('military', '*', 'dept:military'),
    ('graduates', '*', 'dept:career'),
    ('additional-education', '*', 'dept:additional-education'),
    ('foreign-applicants', '*', 'dept:international'),
    ('accessibility', '*', 'dept:accessibility'),
    ('admission', '*', 'dept:admission-office'),
    ('study-process', '*', 'dept:academic-affairs');

-- Per-year counters of appeal numbers (2026-000123).
CREATE TABLE esc_appeal_numbers (
    year integer PRIMARY KEY,
    last integer NOT NULL
);

CREATE TABLE esc_appeals (
    id                 bigserial PRIMARY KEY,
    number             text NOT NULL UNIQUE,
    client_id          bigint NOT NULL REFERENCES esc_clients (id),
    channel            text NOT NULL,
    external_id        text NOT NULL,
    kind               text NOT NULL CHECK (kind IN ('question', 'request', 'complaint', 'proposal')),
    topic              text NOT NULL,
    client_group       text NOT NULL,
    text               text NOT NULL,
    transcript         jsonb NOT NULL DEFAULT '[]',
    attachments        jsonb NOT NULL DEFAULT '[]',
    status             text NOT NULL
                       CHECK (status IN ('new', 'assigned', 'forwarded', 'answered', 'resolved', 'closed')),
    queue              text NOT NULL,
    route              text NOT NULL,
    assignee_id        bigint REFERENCES esc_staff (id),
    forward_note       text NOT NULL DEFAULT '',
    result             text NOT NULL DEFAULT '',
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    first_response_due timestamptz NOT NULL,
    resolve_due        timestamptz NOT NULL,
    first_response_at  timestamptz,
    resolved_at        timestamptz,
    closed_at          timestamptz,
    reopened           integer NOT NULL DEFAULT 0,
    overdue_notified   boolean NOT NULL DEFAULT false
);
CREATE INDEX esc_appeals_client ON esc_appeals (client_id, id);
CREATE INDEX esc_appeals_open_queue ON esc_appeals (queue, id)
    WHERE status IN ('new', 'assigned', 'forwarded', 'answered');
CREATE INDEX esc_appeals_open_assignee ON esc_appeals (assignee_id)
    WHERE status IN ('new', 'assigned', 'forwarded', 'answered');
CREATE INDEX esc_appeals_open_channel ON esc_appeals (channel, external_id)
    WHERE status <> 'closed';
CREATE INDEX esc_appeals_deadlines ON esc_appeals (resolve_due)
    WHERE status IN ('new', 'assigned', 'forwarded', 'answered');

-- Status history: every transition, who, when, comment.
CREATE TABLE esc_appeal_history (
    id          bigserial PRIMARY KEY,
    appeal_id   bigint NOT NULL REFERENCES esc_appeals (id),
    from_status text NOT NULL DEFAULT '',
    to_status   text NOT NULL,
    staff_id    bigint REFERENCES esc_staff (id),
    actor       text NOT NULL,
    comment     text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL
);
CREATE INDEX esc_appeal_history_appeal ON esc_appeal_history (appeal_id, id);

-- The conversation of an appeal: client, operator, internal notes.
CREATE TABLE esc_messages (
    id          bigserial PRIMARY KEY,
    appeal_id   bigint NOT NULL REFERENCES esc_appeals (id),
    author      text NOT NULL CHECK (author IN ('client', 'operator', 'note', 'system')),
    staff_id    bigint REFERENCES esc_staff (id),
    text        text NOT NULL,
    attachments jsonb NOT NULL DEFAULT '[]',
    at          timestamptz NOT NULL
);
CREATE INDEX esc_messages_appeal ON esc_messages (appeal_id, id);

-- Working calendar exceptions: holidays (working = false) and weekend days
-- made working by a transfer (working = true).
CREATE TABLE esc_calendar_days (
    day     date PRIMARY KEY,
    working boolean NOT NULL,
    note    text NOT NULL DEFAULT ''
);

-- Transactional outbox: events written in the transaction of the change,
-- delivered by a dispatcher (NOTIFY esc_outbox wakes it up).
CREATE TABLE esc_outbox (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL,
    appeal_id    bigint NOT NULL,
    payload      jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    attempts     integer NOT NULL DEFAULT 0,
    delivered_at timestamptz
);
CREATE INDEX esc_outbox_pending ON esc_outbox (id) WHERE delivered_at IS NULL;

-- +goose Down
DROP TABLE esc_outbox;
DROP TABLE esc_calendar_days;
DROP TABLE esc_messages;
DROP TABLE esc_appeal_history;
DROP TABLE esc_appeals;
DROP TABLE esc_appeal_numbers;
DROP TABLE esc_routes;
DROP TABLE esc_staff;
DROP TABLE esc_client_links;
DROP TABLE esc_identities;
DROP TABLE esc_clients;
