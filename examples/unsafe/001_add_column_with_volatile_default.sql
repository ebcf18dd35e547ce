-- Rewrites the whole table under ACCESS EXCLUSIVE: gen_random_uuid() is volatile.
ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();
