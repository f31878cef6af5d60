"""Security middleware (placeholder, filled in by its own change)."""

from fastapi import FastAPI

from api.settings import Settings


def add_security(app: FastAPI, settings: Settings) -> None:
    """Security headers and rate limits."""
