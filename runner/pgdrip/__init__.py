"""pgdrip: drip email campaigns that live inside PostgreSQL."""

__version__ = "0.1.0"
