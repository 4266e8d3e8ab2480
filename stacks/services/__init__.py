"""Services of the platform, each built only from ``components``."""
