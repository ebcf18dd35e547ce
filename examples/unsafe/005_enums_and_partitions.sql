SET lock_timeout = '2s';
-- Running code still writes 'paid'.
ALTER TYPE order_status RENAME VALUE 'paid' TO 'settled';
-- ACCESS EXCLUSIVE on the partitioned table; DETACH ... CONCURRENTLY takes SHARE UPDATE EXCLUSIVE (PG 14+).
ALTER TABLE events DETACH PARTITION events_2024;
-- Code that reads customers.legacy_code breaks the moment this commits.
ALTER TABLE customers DROP COLUMN legacy_code;
