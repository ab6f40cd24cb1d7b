-- +goose Up
-- The staff web console (package operator/console): accounts, sessions,
-- password reset links, login throttling, the audit log of personal data,
-- and unanswered questions already turned into entries.

-- A person's sign-in: a login and an argon2id hash (PHC string format).
CREATE TABLE con_accounts (
    staff_id      bigint PRIMARY KEY REFERENCES esc_staff (id),
    login         text NOT NULL UNIQUE,
    password_hash text NOT NULL DEFAULT '',
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Sessions: the cookie holds a random token, the table its SHA-256.
CREATE TABLE con_sessions (
    token_hash bytea PRIMARY KEY,
    staff_id   bigint NOT NULL REFERENCES esc_staff (id),
    csrf       text NOT NULL,
    created_at timestamptz NOT NULL,
    seen_at    timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX con_sessions_staff ON con_sessions (staff_id);

-- One-time links to set a password (the first one, or after a reset).
CREATE TABLE con_password_resets (
    token_hash bytea PRIMARY KEY,
    staff_id   bigint NOT NULL REFERENCES esc_staff (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);

-- Failed sign-ins, by login and by address, for throttling.
CREATE TABLE con_login_failures (
    id    bigserial PRIMARY KEY,
    login text NOT NULL,
    addr  text NOT NULL,
    at    timestamptz NOT NULL
);
CREATE INDEX con_login_failures_login ON con_login_failures (login, at);
CREATE INDEX con_login_failures_addr ON con_login_failures (addr, at);

-- Every view or change of a client's personal data, and every sign-in.
CREATE TABLE con_audit (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL,
    staff_id  bigint REFERENCES esc_staff (id),
    action    text NOT NULL,
    object    text NOT NULL DEFAULT '',
    client_id bigint,
    detail    text NOT NULL DEFAULT '',
    addr      text NOT NULL DEFAULT ''
);
CREATE INDEX con_audit_at ON con_audit (at DESC);
CREATE INDEX con_audit_client ON con_audit (client_id, at DESC) WHERE client_id IS NOT NULL;

-- Unanswered questions an editor has dealt with (turned into an entry or
-- an alternative phrasing, or dismissed), by normalised text.
CREATE TABLE con_unanswered_done (
    norm     text PRIMARY KEY,
    entry_id text NOT NULL DEFAULT '',
    staff_id bigint REFERENCES esc_staff (id),
    at       timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE con_unanswered_done;
DROP TABLE con_audit;
DROP TABLE con_login_failures;
DROP TABLE con_password_resets;
DROP TABLE con_sessions;
DROP TABLE con_accounts;
