"""Which plain environment variable names look like credentials (shared by every workload component).

A credential in a plain variable lands in the task definition, pod spec or Cloud Run revision,
readable by anyone who can describe them and shown in every deploy diff; it belongs in a secret
reference. The rule matches the LAST ``_``-separated word, so ``HF_TOKEN``, ``DB_PASSWORD`` and
``OPENAI_API_KEY`` are refused while ``MAX_TOKENS``, ``TOKENIZER_PATH`` and ``DB_SECRET_ARN``
(a reference, not the secret) stay legal.
"""

_SECRET_WORDS = {"PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "CREDENTIAL", "CREDENTIALS", "APIKEY"}
_SECRET_SUFFIXES = ("API_KEY", "ACCESS_KEY", "PRIVATE_KEY", "SECRET_KEY", "CLIENT_SECRET")
_WELL_KNOWN_PATHS = {"GOOGLE_APPLICATION_CREDENTIALS"}  # a file path by convention, not a credential


def credential_marker(name: str) -> str | None:
    """The part of ``name`` that marks it as a credential, or None when it looks harmless."""
    normalized = name.upper().replace("-", "_").replace(".", "_")
    if normalized in _WELL_KNOWN_PATHS:
        return None
    suffix = next((s for s in _SECRET_SUFFIXES if normalized.endswith(s)), None)
    if suffix:
        return suffix
    last_word = normalized.rsplit("_", 1)[-1]
    return last_word if last_word in _SECRET_WORDS else None
