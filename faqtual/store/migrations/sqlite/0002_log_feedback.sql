-- faqtual KB schema 2: the question log (only written when log_questions is on) and patient feedback.
CREATE TABLE query_log (
    query_id   TEXT PRIMARY KEY,
    asked_at   REAL NOT NULL,     -- unix time
    question   TEXT NOT NULL,
    answered   INTEGER NOT NULL,  -- 0 or 1
    entry_id   TEXT,              -- the best candidate, answered or not
    confidence REAL NOT NULL,
    kb_version INTEGER NOT NULL
);

CREATE INDEX query_log_answered ON query_log(answered, confidence);

CREATE TABLE feedback (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    query_id   TEXT NOT NULL,
    entry_id   TEXT NOT NULL,
    helpful    INTEGER NOT NULL,  -- 0 or 1
    comment    TEXT,
    given_at   REAL NOT NULL      -- unix time
);
