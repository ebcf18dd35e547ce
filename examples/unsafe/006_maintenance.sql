-- Rewrites the table under ACCESS EXCLUSIVE: no reads or writes until it ends.
VACUUM FULL orders;
-- Empties every table that references customers, recursively.
TRUNCATE customers CASCADE;
