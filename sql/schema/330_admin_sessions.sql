-- table drip.admin_sessions
-- Who is signed in to the admin pages (`pgdrip serve`): the SHA-256 of each session cookie (the
-- cookie itself is never stored), its CSRF token, and when it was last used. Signing out deletes
-- the row, so a cookie from before is refused; an idle session ends after 12 hours.
create table drip.admin_sessions (
    token_hash bytea primary key,
    user_name text not null,
    csrf text not null,
    created_at timestamptz not null default now(),
    seen_at timestamptz not null default now()
);
