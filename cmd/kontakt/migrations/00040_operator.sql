-- +goose Up
-- The operators' relay (package operator): forum topics of appeals, the
-- durable relay queue into the operators' groups, messages to private
-- chats (clients and staff), staff Telegram links and invites, pending
-- actions, approvals and ratings.

-- One forum topic per appeal: the group it lives in and its thread (NULL
-- until created, or after it was deleted and before it is re-created).
CREATE TABLE op_topics (
    appeal_id  bigint PRIMARY KEY REFERENCES esc_appeals (id),
    group_chat bigint NOT NULL,
    thread_id  bigint,
    name       text NOT NULL,
    -- The card is still to be posted (first, and after a re-creation).
    card_pending boolean NOT NULL DEFAULT true,
    recreated  integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX op_topics_thread ON op_topics (group_chat, thread_id) WHERE thread_id IS NOT NULL;

-- The relay queue into the groups: the card, client messages (merged when
-- consecutive) and notices, posted in id order per group within the
-- group's send limit. A row is posted once (posted_at) and never dropped.
CREATE TABLE op_feed (
    id          bigserial PRIMARY KEY,
    appeal_id   bigint NOT NULL REFERENCES esc_appeals (id),
    group_chat  bigint NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('card', 'client', 'notice', 'echo')),
    text        text NOT NULL DEFAULT '',
    attachments jsonb NOT NULL DEFAULT '[]',
    buttons     jsonb NOT NULL DEFAULT '[]',
    -- Deduplication of at-least-once inputs: "ev:<event id>", "msg:<message id>", …
    key         text UNIQUE,
    esc_msg_id  bigint,
    due_at      timestamptz NOT NULL DEFAULT now(),
    created_at  timestamptz NOT NULL DEFAULT now(),
    posted_at   timestamptz
);
CREATE INDEX op_feed_pending ON op_feed (group_chat, id) WHERE posted_at IS NULL;
CREATE INDEX op_feed_appeal ON op_feed (appeal_id, id);

-- Messages to private chats: answers, results and rating requests to
-- clients in their channel, cards to personal managers, reminders.
CREATE TABLE op_outbound (
    id         bigserial PRIMARY KEY,
    channel    text NOT NULL,
    chat_id    text NOT NULL,
    appeal_id  bigint,
    text       text NOT NULL,
    buttons    jsonb NOT NULL DEFAULT '[]',
    key        text UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    next_at    timestamptz NOT NULL DEFAULT now(),
    attempts   integer NOT NULL DEFAULT 0,
    sent_at    timestamptz,
    failed     text NOT NULL DEFAULT ''
);
CREATE INDEX op_outbound_pending ON op_outbound (next_at, id) WHERE sent_at IS NULL AND failed = '';

-- Operator messages the relay itself sent to the client, and from where
-- ('topic', 'private'): the topic echoes only answers written elsewhere.
CREATE TABLE op_relayed (
    esc_msg_id bigint PRIMARY KEY,
    origin     text NOT NULL
);

-- Staff linked to their Telegram account through an invite.
CREATE TABLE op_staff_links (
    staff_id  bigint PRIMARY KEY REFERENCES esc_staff (id),
    tg_user   text NOT NULL UNIQUE,
    tg_chat   text NOT NULL,
    linked_at timestamptz NOT NULL DEFAULT now()
);

-- One-time invites (kontakt staff invite): the deep link holds the code,
-- the table its SHA-256.
CREATE TABLE op_invites (
    code_hash  bytea PRIMARY KEY,
    staff_id   bigint NOT NULL REFERENCES esc_staff (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);

-- A staff member's next text in a chat completes an action (the result of
-- "Решено", the answer after "Ответить").
CREATE TABLE op_pending (
    staff_id   bigint NOT NULL REFERENCES esc_staff (id),
    chat       text NOT NULL,
    appeal_id  bigint NOT NULL REFERENCES esc_appeals (id),
    action     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (staff_id, chat)
);

-- Answers of personal managers waiting for a contact manager's approval
-- (MANAGER_ANSWER_MODE=approve): the note holding the answer.
CREATE TABLE op_approvals (
    note_id    bigint PRIMARY KEY,
    appeal_id  bigint NOT NULL REFERENCES esc_appeals (id),
    staff_id   bigint NOT NULL REFERENCES esc_staff (id),
    text       text NOT NULL,
    decided_at timestamptz,
    approved   boolean
);

-- The client's verdict after an appeal was resolved.
CREATE TABLE op_ratings (
    appeal_id     bigint PRIMARY KEY REFERENCES esc_appeals (id),
    channel       text NOT NULL,
    external_id   text NOT NULL,
    asked_at      timestamptz NOT NULL DEFAULT now(),
    score         integer CHECK (score BETWEEN 1 AND 5),
    comment       text NOT NULL DEFAULT '',
    rated_at      timestamptz,
    comment_until timestamptz
);
CREATE INDEX op_ratings_chat ON op_ratings (channel, external_id, comment_until);

-- Deadline reminders already sent.
CREATE TABLE op_reminders (
    appeal_id bigint NOT NULL REFERENCES esc_appeals (id),
    kind      text NOT NULL,
    due       timestamptz NOT NULL,
    PRIMARY KEY (appeal_id, kind, due)
);

-- +goose Down
DROP TABLE op_reminders;
DROP TABLE op_ratings;
DROP TABLE op_approvals;
DROP TABLE op_pending;
DROP TABLE op_invites;
DROP TABLE op_staff_links;
DROP TABLE op_relayed;
DROP TABLE op_outbound;
DROP TABLE op_feed;
DROP TABLE op_topics;
