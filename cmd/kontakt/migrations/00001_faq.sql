-- +goose Up
-- FAQ entries as staff edit them (package faq).
CREATE TABLE faq_entries (
    id           text PRIMARY KEY,
    category     text NOT NULL,
    audience     text[] NOT NULL DEFAULT '{}',
    question     text NOT NULL,
    alternatives text[] NOT NULL DEFAULT '{}',
    answer       text NOT NULL,
    answer_for   jsonb NOT NULL DEFAULT '{}',
    tags         text[] NOT NULL DEFAULT '{}',
    department   text NOT NULL DEFAULT '',
    valid_from   date,
    valid_until  date,
    version      integer NOT NULL DEFAULT 1,
    updated_by   text NOT NULL DEFAULT '',
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Every version of every entry, including deletions, so that staff can see
-- who changed what and when, and restore an earlier text.
CREATE TABLE faq_entry_versions (
    entry_id   text NOT NULL,
    version    integer NOT NULL,
    op         text NOT NULL CHECK (op IN ('create', 'update', 'delete', 'restore')),
    data       jsonb NOT NULL,
    changed_by text NOT NULL DEFAULT '',
    changed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (entry_id, version)
);

-- Free-form data of the knowledge base file (institute, hotline, …), kept
-- so that an export gives back what was imported.
CREATE TABLE faq_meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);

-- Answer feedback («Помогло» / «Не помогло») per entry.
CREATE TABLE faq_feedback (
    id         bigserial PRIMARY KEY,
    entry_id   text NOT NULL,
    helpful    boolean NOT NULL,
    query      text NOT NULL DEFAULT '',
    channel    text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX faq_feedback_entry ON faq_feedback (entry_id, created_at);

-- +goose Down
DROP TABLE faq_feedback;
DROP TABLE faq_meta;
DROP TABLE faq_entry_versions;
DROP TABLE faq_entries;
