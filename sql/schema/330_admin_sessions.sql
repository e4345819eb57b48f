-- table drip.admin_sessions
-- Who is signed in to the admin pages (`pgdrip serve`): a SHA-256 of each session cookie keyed by
-- the admin credentials (the cookie itself is never stored), its CSRF token, and when it was
-- opened and last used. Signing out deletes the row, so a cookie from before is refused; a
-- session ends when idle for 12 hours, and 24 hours after sign-in (drip.admin_session).
create table drip.admin_sessions (
    token_hash bytea primary key,
    user_name text not null,
    csrf text not null,
    created_at timestamptz not null default now(),
    seen_at timestamptz not null default now()
);
