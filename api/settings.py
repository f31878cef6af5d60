"""Configuration from `PAPERKG_*` environment variables."""

from functools import lru_cache

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
    busy_timeout_ms: int = Field(default=5000, ge=0, description="SQLite busy timeout.")

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]


@lru_cache
def get_settings() -> Settings:
    return Settings()
