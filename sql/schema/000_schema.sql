-- schema drip
-- Every pgdrip object lives in this schema.
create schema if not exists drip;
comment on schema drip is 'pgdrip: drip campaigns inside PostgreSQL';
