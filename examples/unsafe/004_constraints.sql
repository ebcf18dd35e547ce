SET lock_timeout = '2s';
-- Scans orders while holding ACCESS EXCLUSIVE.
ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total_cents >= 0);
-- Scans orders while writes to orders and customers wait (SHARE ROW EXCLUSIVE on both).
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);
-- Builds a unique index under ACCESS EXCLUSIVE.
ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE (email);
-- Fails on any table with rows: no default for the existing ones.
ALTER TABLE orders ADD COLUMN region text NOT NULL;
