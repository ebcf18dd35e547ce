-- An append-only event log partitioned by month: retention is DETACH ... CONCURRENTLY + DROP TABLE,
-- recent-time queries prune to one or two partitions, and BRIN keeps time-range indexes tiny.
CREATE TABLE events (
    id bigint GENERATED ALWAYS AS IDENTITY,
    occurred_at timestamptz NOT NULL,
    account_id bigint NOT NULL,
    kind text NOT NULL,
    payload jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);

CREATE TABLE events_2026_11 PARTITION OF events FOR VALUES FROM ('2026-11-01') TO ('2026-12-01');
CREATE TABLE events_2026_12 PARTITION OF events FOR VALUES FROM ('2026-12-01') TO ('2027-01-01');
CREATE TABLE events_default PARTITION OF events DEFAULT;

CREATE INDEX events_account_idx ON events (account_id, occurred_at DESC);
CREATE INDEX events_occurred_at_brin ON events USING brin (occurred_at);
