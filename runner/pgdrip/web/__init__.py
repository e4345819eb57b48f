"""`pgdrip serve`: the return path (tracked links, one-click unsubscribe) and the admin pages.

Thin by design: each handler maps an HTTP request to one SQL call and renders the answer; every
rule (is this token valid, is this click a bot, what does unsubscribing cancel) is in SQL."""
