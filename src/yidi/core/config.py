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
    gateway_calls_per_second: float = Field(
        100,
        ge=0,
        description="National-interface calls per second per verified credential, per server process (0: no limit)",
    )
    gateway_burst: int = Field(300, ge=1, description="Calls a credential may make at once before the rate applies")
    gateway_address_calls_per_second: float = Field(
        200,
        ge=0,
        description="National-interface calls per second per client address, checked before the "
        "signature, per server process (0: no limit)",
    )
    gateway_address_burst: int = Field(400, ge=1, description="Calls an address may make at once")
    max_upload_bytes: int = Field(20_971_520, description="Largest uploaded file")
    argon2_time_cost: int = Field(3, ge=1, description="argon2id passes")
    argon2_memory_kib: int = Field(65536, ge=8, description="argon2id memory per hash")
    pharmacy_cancel_infno: str = Field(
        "2103",
        pattern=r"^[0-9]{4}$",
        description="Transaction code of the pharmacy settlement cancel (药店结算撤销): 2103 in the public copies of "
        "the specification, unverified against the platform's own; a code another transaction already has is ignored",
    )
    pdf_font: Path | None = Field(
        None,
        description="TrueType font (.ttf, or .ttc with TrueType outlines) embedded in printed forms for Chinese text; "
        "unset: the first found of the usual Debian fonts (package fonts-wqy-zenhei). OpenType/CFF fonts such as "
        "Noto Sans CJK cannot be embedded",
    )
    pdf_font_index: int = Field(0, ge=0, le=63, description="Which font of a .ttc collection YIDI_PDF_FONT names")
    log_level: str = "INFO"
    log_json: bool = True
    environment: str = Field("development", description="development, test or production")
    load_demo_on_empty: bool = Field(
        True, description="`yidi serve` loads demo data into an empty database (never in production)"
    )
    worker_max_crashes: int = Field(
        5, ge=1, description="`yidi serve --workers`: crashes within the window still restarted (one more stops all)"
    )
    worker_crash_window_seconds: float = Field(60, gt=0, description="The window worker crashes are counted in")
    worker_restart_delay_seconds: float = Field(
        0.5, ge=0, description="Back-off before restarting a crashed worker; doubles per recent crash, 30 s at most"
    )

    @field_validator("parameter_dirs", mode="before")
    @classmethod
    def _split_paths(cls, value: object) -> object:
        if isinstance(value, str):
            return [Path(p.strip()) for p in value.split(",") if p.strip()]
        return value

    @field_validator("environment", mode="before")
    @classmethod
    def _normalise_environment(cls, value: object) -> object:
        # "Production" or " production" must not silently run without the production checks.
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("holiday_files", mode="before")
    @classmethod
    def _split_files(cls, value: object) -> object:
        if isinstance(value, str):
            return [p.strip() for p in value.split(",") if p.strip()]
        return value

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def production_problems(self) -> list[str]:
        """What makes these settings unsafe for production (empty when fine), each in Chinese and English."""
        problems = []
        keys = {name: getattr(self, name).get_secret_value() for name in ("secret_key", "data_encryption_key")}
        for name, value in keys.items():
            problems += [f"YIDI_{name.upper()}: {p}" for p in key_problems(value)]
        if keys["secret_key"] == keys["data_encryption_key"]:
            problems.append(
                "YIDI_SECRET_KEY 与 YIDI_DATA_ENCRYPTION_KEY 相同，须为两个不同的随机值 / "
                "YIDI_SECRET_KEY and YIDI_DATA_ENCRYPTION_KEY are equal: they must be two different random values"
            )
        if self.database_url.startswith("sqlite"):
            problems.append(
                "YIDI_DATABASE_URL 生产环境须使用 PostgreSQL / YIDI_DATABASE_URL must point at PostgreSQL in production"
            )
        # Production never loads the demo (its passwords and institution keys are published); asking for it
        # explicitly is a configuration mistake worth stopping for rather than silently ignoring.
        if "load_demo_on_empty" in self.model_fields_set and self.load_demo_on_empty:
            problems.append(
                "YIDI_LOAD_DEMO_ON_EMPTY=true：生产环境不加载演示数据 / "
                "YIDI_LOAD_DEMO_ON_EMPTY=true: production never loads demo data"
            )
        return problems

    def startup_problems(self) -> list[str]:
        """Why the platform must not start with these settings: an unknown environment, or production's rules."""
        if self.environment not in ENVIRONMENTS:
            return [
                f"YIDI_ENVIRONMENT={self.environment!r} 无效，应为 {' / '.join(ENVIRONMENTS)} 之一 / "
                f"YIDI_ENVIRONMENT={self.environment!r} is not one of {', '.join(ENVIRONMENTS)}"
            ]
        return self.production_problems() if self.is_production else []


ENVIRONMENTS = ("development", "test", "production")
MIN_KEY_LENGTH = 32
MIN_KEY_DISTINCT_CHARACTERS = 8  # a random 32-character hex key has fewer than 8 with a chance below 1e-7
PLACEHOLDERS = ("dev-only", "change-me", "changeme", "change_me")


def key_problems(value: str) -> list[str]:
    """Why a key is too weak for production (empty when acceptable), in Chinese and English.

    The rule catches the usual mistakes, not every weak key: too short, a documented placeholder, too few
    different characters ('a'*32), or one short piece repeated ('abcdefgh'*4). Use e.g. `openssl rand -hex 32`.
    """
    if len(value) < MIN_KEY_LENGTH:
        return [f"长度须至少 {MIN_KEY_LENGTH} 个字符 / must be at least {MIN_KEY_LENGTH} characters long"]
    if any(p in value.lower() for p in PLACEHOLDERS):
        return ["仍是开发环境的默认值或占位值 / is still a development default or placeholder"]
    if len(set(value)) < MIN_KEY_DISTINCT_CHARACTERS:
        return [
            f"不同字符少于 {MIN_KEY_DISTINCT_CHARACTERS} 个，不是随机值 / "
            f"has fewer than {MIN_KEY_DISTINCT_CHARACTERS} different characters: not a random value"
        ]
    if (value + value).find(value, 1) < len(value):  # found inside its own doubling: a repeated piece
        return ["由一段字符重复组成，不是随机值 / is one piece repeated: not a random value"]
    return []


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget cached settings (tests change the environment)."""
    get_settings.cache_clear()
