-- faqtual PostgreSQL schema 1: KBs, entries, cached embeddings, ingest flags.
-- Several KBs may share one database: every row carries its KB's name.
-- Table names start with faqtual_ so the schema can live beside other applications' tables.
CREATE TABLE faqtual_kbs (
    kb      TEXT PRIMARY KEY,
    version BIGINT NOT NULL DEFAULT 0,   -- grows by one with every committed change
    options JSONB                        -- KbOptions; NULL means the defaults
);

CREATE TABLE faqtual_entries (
    kb           TEXT NOT NULL REFERENCES faqtual_kbs(kb) ON DELETE CASCADE,
    id           TEXT NOT NULL,
    position     INTEGER NOT NULL,
    question     TEXT NOT NULL,
    answer       TEXT NOT NULL,
    alternates   JSONB NOT NULL,          -- list of strings, in order
    source       TEXT,
    url          TEXT,
    tags         JSONB NOT NULL,          -- list of strings
    provenance   JSONB NOT NULL,          -- list of [file, line]
    origin       TEXT NOT NULL,           -- resolved path of the file it came from
    content_hash TEXT NOT NULL,
    PRIMARY KEY (kb, id)
);

CREATE INDEX faqtual_entries_order ON faqtual_entries(kb, position, id);

-- Vectors keyed by the text's hash and the model, so no replica re-embeds what another already did.
CREATE TABLE faqtual_embeddings (
    kb        TEXT NOT NULL REFERENCES faqtual_kbs(kb) ON DELETE CASCADE,
    text_hash TEXT NOT NULL,
    model_id  TEXT NOT NULL,
    vector    BYTEA NOT NULL,             -- float32, little-endian
    PRIMARY KEY (kb, model_id, text_hash)
);

CREATE TABLE faqtual_ingest_flags (
    kb      TEXT NOT NULL REFERENCES faqtual_kbs(kb) ON DELETE CASCADE,
    file    TEXT NOT NULL,
    line    INTEGER NOT NULL,
    code    TEXT NOT NULL,
    message TEXT NOT NULL
);

CREATE INDEX faqtual_ingest_flags_file ON faqtual_ingest_flags(kb, file);
