"""Secrets never reach evidence or logs."""

from collector.redact import REDACTED, redact, redact_text


def test_secret_keys_redacted_but_facts_about_secrets_kept():
    observed = {
        "DbPassword": "hunter2",
        "client_secret": "abc",
        "UserData": "IyEvYmluL2Jhc2g=",
        "Environment": {"Variables": {"API_KEY": "k", "MODE": "prod"}},
        "password_enabled": True,
        "password_last_used": "2026-01-01T00:00:00+00:00",
        "tags": [{"Key": "note", "Value": "password=hunter2 please"}],
    }
    clean = redact(observed)
    assert clean["DbPassword"] == clean["client_secret"] == clean["UserData"] == REDACTED
    assert clean["Environment"] == REDACTED
    assert clean["password_enabled"] is True
    assert clean["password_last_used"] == "2026-01-01T00:00:00+00:00"
    assert "hunter2" not in str(clean)


def test_credential_shaped_values_redacted_anywhere():
    texts = [
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijk",
        "xoxb-1234567890-abcdefghij",
    ]
    for text in texts:
        assert redact_text(f"value: {text} end") == f"value: {REDACTED} end", text


def test_ordinary_values_untouched():
    for text in ["arn:aws:s3:::my-bucket", "0" * 64, "a3f9" * 10, "us-east-1", "AES256"]:
        assert redact_text(text) == text
