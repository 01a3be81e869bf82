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
    person_session_minutes: int = Field(30, description="Idle timeout of an insured person's session")
    staff_session_minutes: int = Field(60, description="Idle timeout of a staff session")
    session_max_hours: int = Field(8, description="Absolute lifetime of any session")
    login_max_failures: int = Field(5, description="Failed passwords before an account locks")
    login_lock_minutes: int = Field(15, description="How long a locked account stays locked")
    login_ip_failures_per_window: int = Field(20, description="Failed sign-ins from one address per window")
    login_ip_window_minutes: int = Field(10)
    signature_window_seconds: int = Field(300, description="Allowed clock difference of signed requests")
    worker_threads: int = Field(
        8, ge=1, le=24, description="Threads per server process for database work (below the pool's 30 connections)"
    )
    reference_cache_seconds: float = Field(
        30, ge=0, description="How long a process reuses an institution read from the database (0: never)"
    )
    max_body_bytes: int = Field(1_048_576, description="Largest request body outside uploads")
    max_upload_bytes: int = Field(20_971_520, description="Largest uploaded file")
    argon2_time_cost: int = Field(3, ge=1, description="argon2id passes")
    argon2_memory_kib: int = Field(65536, ge=8, description="argon2id memory per hash")
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

    def production_problems(self) -> list[str]:
        """What makes these settings unsafe for production (empty when fine)."""
        problems = []
        for name in ("secret_key", "data_encryption_key"):
            value = getattr(self, name).get_secret_value()
            if value.startswith("dev-only") or len(value) < 32:
                problems.append(f"YIDI_{name.upper()} must be a random value of at least 32 characters")
        if self.database_url.startswith("sqlite"):
            problems.append("YIDI_DATABASE_URL must point at PostgreSQL in production")
        return problems


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget cached settings (tests change the environment)."""
    get_settings.cache_clear()
