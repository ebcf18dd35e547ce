SET lock_timeout = '2s';
-- Blocks writes for the whole build.
CREATE INDEX orders_status_idx ON orders (status);
-- Scans the table under ACCESS EXCLUSIVE.
ALTER TABLE orders ALTER COLUMN status SET NOT NULL;
-- Breaks the running application.
ALTER TABLE customers RENAME COLUMN email TO email_address;
