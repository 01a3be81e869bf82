"""Settings from the environment (prefix YIDI_) and an optional `.env` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SQLITE_URL = "sqlite:///./var/yidi.sqlite3"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YIDI_", env_file=".env", extra="ignore")

    database_url: str = Field(
        DEFAULT_SQLITE_URL,
        description="SQLAlchemy URL. SQLite file by default; postgresql+psycopg://… in production.",
    )
    secret_key: SecretStr = Field(
        SecretStr("dev-only-change-me"),
        description="Signs sessions and tokens. Must be set to a long random value in production.",
    )
    data_encryption_key: SecretStr = Field(
        SecretStr("dev-only-change-me-too"),
        description="Key for personal data encrypted at rest.",
    )
    data_dir: Path = Field(Path("./var"), description="Uploaded files and generated reports.")
    parameter_dirs: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="Extra policy-parameter trees (comma-separated), loaded after the shipped one.",
    )
    holiday_files: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Extra holiday schedule files (comma-separated), e.g. next year's notice.",
    )
    log_level: str = "INFO"
    log_json: bool = True
    environment: str = Field("development", description="development, test or production")
    load_demo_on_empty: bool = Field(True, description="`yidi serve` loads demo data into an empty database")

    @field_validator("parameter_dirs", mode="before")
    @classmethod
    def _split_paths(cls, value: object) -> object:
        if isinstance(value, str):
            return [Path(p.strip()) for p in value.split(",") if p.strip()]
        return value

    @field_validator("holiday_files", mode="before")
    @classmethod
    def _split_files(cls, value: object) -> object:
        if isinstance(value, str):
            return [p.strip() for p in value.split(",") if p.strip()]
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget cached settings (tests change the environment)."""
    get_settings.cache_clear()
