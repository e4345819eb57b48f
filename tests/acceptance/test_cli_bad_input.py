"""Issue 6: malformed input through the CLI: a clear message, a non-zero exit, no traceback,
nothing written. A mistake in the command line itself is click's usage message (exit 2); every
other error is one line starting with `error:` (exit 1)."""

import click
import pytest

from tests.acceptance.cli import assert_one_line_error, pgdrip

INJECT = "1; drop table drip.contacts; --"
# files a case names as {dir}/NAME: text that is not UTF-8 (Latin-1 'é' in a name and in a header)
FILES = {"latin1.toml": b'[[sequence]]\nname = "Caf\xe9"\ntrigger_type = "tag_added"\n',
         "brand-latin1.html": b"<p>Caf\xe9</p>\n"}
NOT_UTF8_BRAND = {"PGDRIP_BRAND_HEADER": "{dir}/brand-latin1.html"}

CASES = [
    (["mail-settings", "--clear", "secret"], "is not one of"),
    (["mail-settings", "--dsn", "host=127.0.0.1 port=1 connect_timeout=1"], "cannot connect"),
    (["topics", "list", "--dsn", "host=127.0.0.1 port=1 connect_timeout=1"], "cannot connect"),
    (["topics", "add", ""], "topic name"),
    (["topics", "remove", "nope"], "no topic with id or name"),
    (["topics", "unsubscribe", "nobody@example.com", "x"], "no contact with id or email"),
    (["topics", "resubscribe", "nobody@example.com", "x"], "no contact with id or email"),
    (["caps", "list", "--dsn", "host=127.0.0.1 port=1 connect_timeout=1"], "cannot connect"),
    (["caps", "add", "0", "1 day"], "max_messages"),
    (["caps", "remove", "987654"], "no cap with id"),
    (["variants", "list", "--step", "abc"], "is not a valid integer"),
    (["variants", "add", "987654", "B", "--subject", "s", "--html", "<p>b</p>"], "step 987654 does not exist"),
    (["variants", "pause", "987654"], "no variant with id"),
    (["variants", "activate", "987654"], "no variant with id"),
    (["promote", "987654"], "variant 987654 does not exist"),
    (["event", "nobody@example.com", "x"], "no contact with id or email"),
    (["event", "1", "x", "--data", "{nope"], "not JSON"),
    (["enroll-matching", "abc"], "is not a valid integer"),
    (["enroll-matching", "987654"], "does not exist"),
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
    # a setting, a file or a value that Python could not take used to end in a traceback
    (["serve"], "PGDRIP_SERVE_PORT must be a whole number, not 'abc'", {"PGDRIP_SERVE_PORT": "abc"}),
    (["serve", "--port", "70000"], "the port must be between 1 and 65535"),
    (["apply", "{dir}/latin1.toml"], "latin1.toml:2: not UTF-8 text: byte 0xe9"),
    (["apply", "{dir}/missing.toml"], "does not exist"),
    (["run", "--once"], "brand-latin1.html:1: not UTF-8 text: byte 0xe9", NOT_UTF8_BRAND),
    (["demo", "--smtp", "http://mail.example.com"], "SMTP URL must look like"),
    (["forecast", "--until", "99999999999d"], "--until 99999999999d is too far ahead"),
    (["forecast", "--until", "next week"], "--until must be like 24h, 7d"),
    (["report", "--sequence", "x"], "is not a valid integer"),
    (["prune", "--older-than", "forever"], 'invalid input syntax for type interval: "forever"'),
    (["cron", "install", "--every", "0"], "0 is not in the range"),
    (["migrate", "--dsn", "host=127.0.0.1 port=1 connect_timeout=5"], "Connection refused"),
    (["status", "--dsn", "host=127.0.0.1 port=1 connect_timeout=5"], "Connection refused"),
    (["cron", "uninstall", "--dsn", "host=127.0.0.1 port=1 connect_timeout=5"], "Connection refused"),
    (["sequences", "deactivate", "x"], "is not a valid integer"),
    (["steps", "activate", "0"], "0"),
]


def case_id(case: tuple) -> str:
    return " ".join(case[0])[:40] + (" with " + ",".join(case[2]) if len(case) > 2 else "")


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_cli_refuses_bad_input_clearly_and_writes_nothing(dsn, db, tmp_home, tmp_path, case):
    args, fragment, env = case if len(case) > 2 else (*case, {})
    for name, content in FILES.items():
        (tmp_path / name).write_bytes(content)
    args = [a.replace("{dir}", str(tmp_path)) for a in args]
    env = {k: v.replace("{dir}", str(tmp_path)) for k, v in env.items()}
    before = db.execute("select (select count(*) from drip.sequences) s, (select count(*) from drip.outbox) o, "
                        "(select count(*) from drip.enrollments) e").fetchone()
    r = pgdrip(*args, dsn=dsn, home=tmp_home, env=env, timeout=30)
    assert fragment in r.stderr, r.stderr
    if r.returncode == 2:  # click's usage message: the command line itself is wrong
        assert r.stderr.startswith("Usage: pgdrip") and r.stderr.strip().splitlines()[-1].startswith("Error: ")
        assert "Traceback" not in r.stderr
    else:
        assert r.returncode == 1
        assert_one_line_error(r, fragment)
    after = db.execute("select (select count(*) from drip.sequences) s, (select count(*) from drip.outbox) o, "
                       "(select count(*) from drip.enrollments) e").fetchone()
    assert after == before
    assert db.execute("select to_regclass('drip.contacts') is not null ok").fetchone()["ok"]


def test_every_command_has_a_bad_input_case():
    """A command added without a case here fails this test (the list comes from the CLI itself)."""
    from pgdrip.cli import main

    def commands(group: click.Group, path: tuple[str, ...] = ()):
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                yield from commands(command, (*path, name))
            else:
                yield (*path, name)

    every = set(commands(main))
    covered = {c for c in every for args, *_ in CASES if tuple(args[:len(c)]) == c}
    assert len(every) >= 25
    assert every - covered == set()
