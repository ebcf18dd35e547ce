-- Semantic search next to the relational data, with pgvector (an extension; HNSW needs pgvector 0.5+).
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE documents (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title text NOT NULL,
    body text NOT NULL,
    embedding vector(3) NOT NULL, -- 3 dimensions to keep the example small; real models use hundreds
    search tsvector GENERATED ALWAYS AS (to_tsvector('english', title || ' ' || body)) STORED
);
CREATE INDEX documents_embedding_hnsw ON documents USING hnsw (embedding vector_cosine_ops);
CREATE INDEX documents_search_idx ON documents USING gin (search);
