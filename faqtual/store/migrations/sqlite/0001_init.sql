-- faqtual KB schema 1: entries, cached embeddings, KB metadata.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE entries (
    id           TEXT PRIMARY KEY,
    position     INTEGER NOT NULL,
    question     TEXT NOT NULL,
    answer       TEXT NOT NULL,
    alternates   TEXT NOT NULL,   -- JSON list of strings
    source       TEXT,
    url          TEXT,
    tags         TEXT NOT NULL,   -- JSON list of strings
    provenance   TEXT NOT NULL,   -- JSON list of [file, line]
    origin       TEXT NOT NULL,   -- resolved path of the file it came from
    content_hash TEXT NOT NULL
);

-- Vectors keyed by the text's hash and the model, so a re-ingest embeds only new text.
CREATE TABLE embeddings (
    text_hash TEXT NOT NULL,
    model_id  TEXT NOT NULL,
    vector    BLOB NOT NULL,      -- float32, little-endian
    PRIMARY KEY (text_hash, model_id)
);

CREATE TABLE ingest_flags (
    file    TEXT NOT NULL,
    line    INTEGER NOT NULL,
    code    TEXT NOT NULL,
    message TEXT NOT NULL
);
