"""The catalog query behind a snapshot: every user object of a database as ``(kind, name, detail)`` rows,
in one round trip. Objects that belong to an extension are described by the extension's row only. The text
has no percent sign: DB-API drivers would read it as a placeholder.
"""

SQL = """
WITH ns AS (
    SELECT oid, nspname FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname !~ '^pg_(toast|temp_|toast_temp_)'
), rel AS (
    SELECT c.oid, c.relname, c.relkind, c.relpersistence, c.relrowsecurity, c.relacl, c.reloptions,
           ns.nspname, quote_ident(ns.nspname) || '.' || quote_ident(c.relname) AS qname
    FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
    WHERE c.oid >= 16384 AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S', 'i', 'I', 'c')
      AND NOT (c.relname = ANY (/*SKIP*/))
      AND NOT EXISTS (SELECT FROM pg_depend e
                      WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
)
SELECT 'schema', quote_ident(nspname), '' FROM ns
UNION ALL
SELECT 'extension', quote_ident(x.extname), x.extversion || ' in ' || x.extnamespace::regnamespace::text
FROM pg_extension x
UNION ALL
SELECT CASE r.relkind WHEN 'f' THEN 'foreign table' ELSE 'table' END, r.qname,
       concat_ws(' ', CASE r.relpersistence WHEN 'u' THEN 'unlogged' END,
                 CASE WHEN r.relkind = 'p' THEN 'partitioned by ' || pg_get_partkeydef(r.oid) END,
                 CASE WHEN r.relrowsecurity THEN 'row security' END,
                 CASE WHEN r.reloptions IS NOT NULL THEN 'with ' || array_to_string(r.reloptions, ',') END,
                 CASE WHEN r.relacl IS NOT NULL THEN 'grants ' || r.relacl::text END)
FROM rel r WHERE r.relkind IN ('r', 'p', 'f')
UNION ALL
SELECT 'column', r.qname || '.' || quote_ident(a.attname),
       concat_ws(' ', format_type(a.atttypid, a.atttypmod),
                 CASE WHEN a.attnotnull THEN 'not null' ELSE 'null' END,
                 CASE WHEN a.attidentity <> '' THEN 'identity ' || a.attidentity::text END,
                 CASE WHEN a.attgenerated <> '' THEN 'generated ' || a.attgenerated::text END,
                 CASE WHEN d.adbin IS NOT NULL THEN 'default ' || pg_get_expr(d.adbin, d.adrelid) END,
                 CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                      THEN 'collate ' || a.attcollation::regcollation::text END)
FROM rel r
JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE r.relkind IN ('r', 'p', 'f', 'v', 'm', 'c')
UNION ALL
SELECT 'constraint', r.qname || '.' || quote_ident(k.conname),
       concat_ws(' ', pg_get_constraintdef(k.oid),
                 CASE WHEN k.condeferrable THEN 'deferrable' END, CASE WHEN k.condeferred THEN 'deferred' END)
FROM pg_constraint k JOIN rel r ON r.oid = k.conrelid
UNION ALL
SELECT 'index', r.qname,
       concat_ws(' ', pg_get_indexdef(r.oid), CASE WHEN NOT i.indisvalid THEN 'INVALID' END,
                 CASE WHEN NOT i.indisready THEN 'NOT READY' END)
FROM rel r JOIN pg_index i ON i.indexrelid = r.oid
JOIN pg_class tc ON tc.oid = i.indrelid AND NOT (tc.relname = ANY (/*SKIP*/))
UNION ALL
SELECT 'sequence', r.qname,
       concat_ws(' ', format_type(s.seqtypid, NULL), 'start ' || s.seqstart, 'increment ' || s.seqincrement,
                 'min ' || s.seqmin, 'max ' || s.seqmax, 'cache ' || s.seqcache,
                 CASE WHEN s.seqcycle THEN 'cycle' END,
                 (SELECT 'owned by ' || d.refobjid::regclass::text || '.' || quote_ident(a.attname)
                  FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid
                    AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') LIMIT 1))
FROM rel r JOIN pg_sequence s ON s.seqrelid = r.oid
UNION ALL
SELECT CASE r.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END, r.qname, pg_get_viewdef(r.oid)
FROM rel r WHERE r.relkind IN ('v', 'm')
UNION ALL
SELECT 'composite type', r.qname, '' FROM rel r WHERE r.relkind = 'c'
UNION ALL
SELECT CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain' ELSE 'range type' END,
       quote_ident(ns.nspname) || '.' || quote_ident(t.typname),
       CASE t.typtype
         WHEN 'e' THEN (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                        FROM pg_enum e WHERE e.enumtypid = t.oid)
         WHEN 'd' THEN concat_ws(' ', format_type(t.typbasetype, t.typtypmod),
                                 CASE WHEN t.typnotnull THEN 'not null' END,
                                 'default ' || t.typdefault,
                                 (SELECT string_agg(pg_get_constraintdef(k.oid), ' ' ORDER BY k.conname)
                                  FROM pg_constraint k WHERE k.contypid = t.oid))
         WHEN 'r' THEN (SELECT format_type(rg.rngsubtype, NULL) FROM pg_range rg WHERE rg.rngtypid = t.oid)
         END
FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
WHERE t.oid >= 16384 AND t.typtype IN ('e', 'd', 'r')
  AND NOT EXISTS (SELECT FROM pg_depend e
                  WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid AND e.deptype = 'e')
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
       quote_ident(ns.nspname) || '.' || quote_ident(p.proname)
           || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       CASE WHEN p.prokind IN ('f', 'p', 'w') THEN md5(pg_get_functiondef(p.oid))
            ELSE pg_get_function_result(p.oid) END
FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
WHERE p.oid >= 16384
  AND NOT EXISTS (SELECT FROM pg_depend e
                  WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')
UNION ALL
SELECT 'trigger', r.qname || '.' || quote_ident(g.tgname), pg_get_triggerdef(g.oid) ||
       CASE g.tgenabled WHEN 'D' THEN ' DISABLED' ELSE '' END
FROM pg_trigger g JOIN rel r ON r.oid = g.tgrelid WHERE NOT g.tgisinternal
UNION ALL
SELECT 'policy', r.qname || '.' || quote_ident(pol.polname),
       concat_ws(' ', pol.polcmd::text, pg_get_expr(pol.polqual, pol.polrelid),
                 pg_get_expr(pol.polwithcheck, pol.polrelid))
FROM pg_policy pol JOIN rel r ON r.oid = pol.polrelid
UNION ALL
SELECT 'comment', o.type || ' ' || o.identity, d.description
FROM pg_description d
CROSS JOIN LATERAL pg_identify_object(d.classoid, d.objoid, d.objsubid) o
WHERE (d.objoid >= 16384 OR d.classoid = 'pg_namespace'::regclass)
  AND d.classoid IN ('pg_class'::regclass, 'pg_type'::regclass, 'pg_proc'::regclass,
                     'pg_constraint'::regclass, 'pg_trigger'::regclass, 'pg_namespace'::regclass)
  AND coalesce(o.schema, o.identity) IN (SELECT nspname FROM ns)
  AND (d.classoid <> 'pg_class'::regclass OR d.objoid IN (SELECT oid FROM rel))
"""
