-- drip.merge_flags(p_text text) returns integer
-- How a template uses each merge tag, two bits per tag (FirstName bits 0-1, LastName 2-3,
-- Email 4-5): 0 absent, 1 only in the exact form {{Tag}}, 2 in other forms too (a fallback,
-- spaces, other case). Stored per step, so rendering can use a plain replace() for the common
-- case and a regular expression only where needed. Inlinable: no SET clause, names qualified
-- (OPERATOR() syntax has one precedence level, hence the parentheses).
create function drip.merge_flags(p_text text) returns integer
language sql immutable parallel safe
return (
    case when p_text OPERATOR(pg_catalog.!~*) '\{\{\s*FirstName\s*(\|[^}]*)?\}\}' then 0
         when pg_catalog.replace(p_text, '{{FirstName}}', '') OPERATOR(pg_catalog.!~*) '\{\{\s*FirstName\s*(\|[^}]*)?\}\}' then 1
         else 2 end)
    OPERATOR(pg_catalog.+) (4 OPERATOR(pg_catalog.*)
    case when p_text OPERATOR(pg_catalog.!~*) '\{\{\s*LastName\s*(\|[^}]*)?\}\}' then 0
         when pg_catalog.replace(p_text, '{{LastName}}', '') OPERATOR(pg_catalog.!~*) '\{\{\s*LastName\s*(\|[^}]*)?\}\}' then 1
         else 2 end)
    OPERATOR(pg_catalog.+) (16 OPERATOR(pg_catalog.*)
    case when p_text OPERATOR(pg_catalog.!~*) '\{\{\s*Email\s*(\|[^}]*)?\}\}' then 0
         when pg_catalog.replace(p_text, '{{Email}}', '') OPERATOR(pg_catalog.!~*) '\{\{\s*Email\s*(\|[^}]*)?\}\}' then 1
         else 2 end);
