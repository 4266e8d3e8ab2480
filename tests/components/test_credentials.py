import pytest

from genai_platform.components.credentials import credential_marker


@pytest.mark.parametrize(("name", "marker"), [
    ("HF_TOKEN", "TOKEN"), ("DB_PASSWORD", "PASSWORD"), ("OPENAI_API_KEY", "API_KEY"), ("aws-secret-key", "SECRET_KEY"),
    ("db.passwd", "PASSWD"), ("OAUTH_CLIENT_SECRET", "CLIENT_SECRET"), ("SECRET", "SECRET"),
    ("MAX_TOKENS", None), ("MAX_NEW_TOKENS", None), ("TOKENIZER_PATH", None), ("DB_SECRET_ARN", None),
    ("GOOGLE_APPLICATION_CREDENTIALS", None), ("DB_HOST", None), ("SECRET_NAME", None),
])
def test_only_names_ending_in_a_credential_word_are_flagged(name, marker):
    assert credential_marker(name) == marker
