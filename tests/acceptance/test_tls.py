"""SMTP over TLS: implicit (smtps://) and STARTTLS, against aiosmtpd with a certificate made here."""

import ssl
import subprocess

import pytest

from tests.acceptance.cli import pgdrip
from tests.acceptance.test_delivery import tag_all
from tests.helpers import outbox
from tests.smtp_server import SmtpServer


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem"), "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(d / "cert.pem", d / "key.pem")
    return d / "cert.pem", context


def test_implicit_tls_smtps(dsn, db, tmp_home, certificate):
    cert, context = certificate
    server = SmtpServer(ssl_context=context).start()
    try:
        tag_all(db, ["a@example.com"])
        r = pgdrip("run", "--once", "--smtp", f"smtps://127.0.0.1:{server.port}?timeout=5", dsn=dsn, home=tmp_home,
                   env={"PGDRIP_SMTP_CA_FILE": str(cert)})
        assert r.returncode == 0, r.stderr
        assert server.handler.message_ids() == [outbox(db)[0]["message_id"]]
    finally:
        server.stop()


def test_starttls_with_credentials_from_the_environment_never_printed(dsn, db, tmp_home, certificate):
    cert, context = certificate
    server = SmtpServer(tls_context=context, require_starttls=True).start()
    try:
        tag_all(db, ["a@example.com"])
        env = {"PGDRIP_SMTP_CA_FILE": str(cert), "PGDRIP_SMTP_URL": f"smtp://127.0.0.1:{server.port}?starttls=true",
               "PGDRIP_SMTP_USER": "u", "PGDRIP_SMTP_PASSWORD": "s3cret-pw"}
        r = pgdrip("run", "--once", "--log-level", "debug", dsn=dsn, home=tmp_home, env=env)
        assert r.returncode == 0, r.stderr
        assert "s3cret-pw" not in r.stdout + r.stderr
        # aiosmtpd offers no AUTH here, so a login attempt is refused: the mail stays queued, the
        # reason is recorded without the password
        [row] = outbox(db)
        assert row["status"] == "queued" and "s3cret-pw" not in (row["last_error"] or "")
        env.pop("PGDRIP_SMTP_USER")
        env.pop("PGDRIP_SMTP_PASSWORD")
        db.execute("update drip.outbox set next_attempt_at = now()")
        r = pgdrip("run", "--once", dsn=dsn, home=tmp_home, env=env)
        assert r.returncode == 0, r.stderr
        assert server.handler.message_ids() == [row["message_id"]]  # same Message-ID after the retry
    finally:
        server.stop()


def test_tls_to_an_untrusted_certificate_is_a_retry_not_a_send(dsn, db, tmp_home, certificate):
    _, context = certificate
    server = SmtpServer(ssl_context=context).start()
    try:
        tag_all(db, ["a@example.com"])
        r = pgdrip("run", "--once", "--smtp", f"smtps://127.0.0.1:{server.port}?timeout=5", dsn=dsn, home=tmp_home)
        assert r.returncode == 0, r.stderr
        [row] = outbox(db)
        assert row["status"] == "queued" and "CERTIFICATE_VERIFY_FAILED" in row["last_error"]
        assert server.handler.messages == []
    finally:
        server.stop()
