BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE orders ALTER COLUMN id TYPE bigint;
ALTER TABLE orders ADD COLUMN note text;
UPDATE orders SET note = '';
CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);
COMMIT;
