"""Issue 6: malformed input through the CLI: a clear message, a non-zero exit, no traceback,
nothing written."""

import pytest

from tests.acceptance.cli import pgdrip

INJECT = "1; drop table drip.contacts; --"

CASES = [
    (["cancel", "abc"], "is not a valid integer"),
    (["cancel", "-5"], "-5"),
    (["cancel", "99999999999999999999999"], "error"),
    (["cancel", "--sequence", "1"], "--sequence and --contact go together"),
    (["cancel", "--sequence", "1", "--contact", INJECT], "no contact with id or email"),
    (["cancel", "--sequence", "1", "--contact", "x' or '1'='1"], "no contact with id or email"),
    (["enrollments", "--contact", "' or 1=1 --"], "no contact with id or email"),
    (["enrollments", "--status", "paused"], "'paused' is not one of"),
    (["enrollments", "--limit", "0"], "0"),
    (["enrollments", "--sequence", "x"], "is not a valid integer"),
    (["sequences", "list", "--sort", "name; drop table drip.sequences"], "is not one of"),
    (["sequences", "show", "0"], "0"),
    (["sequences", "create", "--prefab", "newsletter"], "is not one of"),
    (["sequences", "create", "--prefab", "welcome", "--name", ""], "sequence name must be"),
    (["sequences", "create", "--prefab", "welcome", "--name", "x" * 5000], "sequence name must be"),
    (["sequences", "create", "--prefab", "welcome", "--name", "a\nb"], "sequence name must be"),
    (["sequences", "create", "--prefab", "welcome", "--trigger-value", "a\x07b"], "malformed tag_added"),
    (["sequences", "create", "--prefab", "birthday", "--trigger-value", "wedding"], "birthday or created"),
    (["sequences", "activate"], "Missing argument"),
    (["steps", "deactivate", "123456"], "step 123456 does not exist"),
    (["preview", "1", "--contact", "nobody@example.com"], "no contact"),
    (["preview", "abc", "--contact", "1"], "is not a valid integer"),
    (["outbox", "retry"], "give outbox ids or --all-failed"),
    (["outbox", "retry", "5", "--all-failed"], "give outbox ids or --all-failed"),
    (["outbox", "retry", "424242"], "not failed outbox rows"),
    (["outbox", "list", "--status", "lost"], "is not one of"),
    (["dispatch", "--now", "yesterday"], "does not match the formats"),
    (["sweep", "--date", "2027-02-30"], "does not match the format"),
    (["run", "--once", "--smtp", "http://mail.example.com"], "SMTP URL must look like"),
    (["run", "--once", "--smtp", "smtp://h:notaport"], "SMTP URL is malformed"),
    (["run", "--once", "--smtp", "smtp://h?bogus=1"], "unknown SMTP URL option"),
    (["run", "--once", "--workers", "0"], "workers must be between"),
    (["run", "--once", "--lease-seconds", "1"], "lease must be at least"),
    (["run", "--once", "--poll-seconds", "0"], "poll interval"),
    (["nonsense"], "No such command"),
]


@pytest.mark.parametrize("args,fragment", CASES, ids=[" ".join(a)[:40] for a, _ in CASES])
def test_cli_refuses_bad_input_clearly_and_writes_nothing(dsn, db, tmp_home, args, fragment):
    before = db.execute("select (select count(*) from drip.sequences) s, (select count(*) from drip.outbox) o, "
                        "(select count(*) from drip.enrollments) e").fetchone()
    r = pgdrip(*args, dsn=dsn, home=tmp_home)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert fragment in r.stderr, r.stderr
    after = db.execute("select (select count(*) from drip.sequences) s, (select count(*) from drip.outbox) o, "
                       "(select count(*) from drip.enrollments) e").fetchone()
    assert after == before
    assert db.execute("select to_regclass('drip.contacts') is not null ok").fetchone()["ok"]


def test_at_least_thirty_cli_cases():
    assert len(CASES) >= 30
