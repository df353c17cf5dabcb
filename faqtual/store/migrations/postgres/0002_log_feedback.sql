-- faqtual PostgreSQL schema 2: the question log (only written when log_questions is on) and patient feedback.
-- Shared by every replica, so the curator page sees what was asked on all of them.
CREATE TABLE faqtual_query_log (
    kb         TEXT NOT NULL REFERENCES faqtual_kbs(kb) ON DELETE CASCADE,
    query_id   TEXT NOT NULL,
    asked_at   DOUBLE PRECISION NOT NULL, -- unix time
    question   TEXT NOT NULL,
    answered   BOOLEAN NOT NULL,
    entry_id   TEXT,                      -- the best candidate, answered or not
    confidence DOUBLE PRECISION NOT NULL,
    kb_version BIGINT NOT NULL,
    PRIMARY KEY (kb, query_id)
);

CREATE INDEX faqtual_query_log_answered ON faqtual_query_log(kb, answered, confidence);

CREATE TABLE faqtual_feedback (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kb         TEXT NOT NULL REFERENCES faqtual_kbs(kb) ON DELETE CASCADE,
    query_id   TEXT NOT NULL,
    entry_id   TEXT NOT NULL,
    helpful    BOOLEAN NOT NULL,
    comment    TEXT,
    given_at   DOUBLE PRECISION NOT NULL  -- unix time
);
