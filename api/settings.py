"""Configuration from `PAPERKG_*` environment variables."""

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAPERKG_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///paperkg.db",
        description="SQLAlchemy URL: sqlite:///path.db (default) or postgresql+psycopg://…",
    )
    api_keys: str = Field(
        default="", description="Write keys as comma-separated name:secret pairs."
    )
    cors_origins: str = Field(default="", description="Comma-separated origins allowed by CORS.")
    log_level: str = Field(default="info")
    max_body_bytes: int = Field(default=1_000_000, ge=1, description="Largest request body.")
    max_import_bytes: int = Field(
        default=10_000_000, ge=1, description="Largest body for /import and /decks."
    )
    busy_timeout_ms: int = Field(default=5000, ge=0, description="SQLite busy timeout.")
    cache: Literal["on", "off"] = Field(
        default="on", description="Answer repeated GETs from the in-process response cache."
    )
    cache_max_entries: int = Field(default=10_000, ge=1, description="Response cache entries.")
    cache_max_bytes: int = Field(
        default=32 * 1024 * 1024, ge=1024, description="Response cache size in body bytes."
    )
    rate_limit_writes: str = Field(
        default="600/minute",
        pattern=r"^\s*(0|[1-9][0-9]*\s*/\s*(second|minute|hour))\s*$",
        description="Writes per key (N/second|minute|hour; 0 = no limit), per worker process.",
    )
    rate_limit_expensive: str = Field(
        default="120/minute",
        pattern=r"^\s*(0|[1-9][0-9]*\s*/\s*(second|minute|hour))\s*$",
        description="Requests to /graph and /export per client (0 = no limit), per worker.",
    )
    body_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Longest wait for the rest of a request body (408)."
    )

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]


@lru_cache
def get_settings() -> Settings:
    return Settings()
