"""Service configuration: one validated Settings object, read from the environment at start-up.

Invalid settings stop the process with a clear message rather than failing on the first request.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("./data")
    database_url: str = ""
    blob_store: str = "local"
    # The master key ring: a JSON file, or the same JSON in KEYRING_JSON (for secret stores).
    keyring_path: Path | None = None
    keyring_json: SecretStr | None = None

    access_token_ttl_seconds: int = Field(900, ge=60, le=3600)
    refresh_idle_ttl_seconds: int = Field(14 * 86400, ge=3600)
    refresh_absolute_ttl_seconds: int = Field(90 * 86400, ge=3600)
    # A phone that lost the refresh response may retry with the same token this long.
    refresh_grace_seconds: int = Field(30, ge=0, le=120)

    cors_origins: list[str] = []
    https_only: bool = False
    trust_forwarded_for: bool = False
    # Every absolute URL the service emits (share links) starts with this, never with the
    # request's Host header, which whoever sends the request chooses.
    public_base_url: str = "http://127.0.0.1:8000"
    # problem+json `type` URIs are this followed by the problem's name (e.g. `not-found`);
    # unset: PUBLIC_BASE_URL + "/problems/". Set one base to keep them the same everywhere.
    problem_type_base: str | None = None

    # Registrations one client address may make in an hour before back-off (429, Retry-After).
    registrations_per_address_per_hour: int = Field(10, ge=1, le=100000)

    max_json_body_bytes: int = Field(1024 * 1024, ge=1024)
    # argon2 takes a whole core per hash: leave one core for everything else.
    password_hash_concurrency: int = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 2) - 1), ge=1, le=64
    )
    argon2_time_cost: int = Field(2, ge=2)
    argon2_memory_kib: int = Field(19456, ge=19456)
    argon2_parallelism: int = Field(1, ge=1)

    # Evidence: the largest file (tus), the largest one-request upload, each account's share
    # of the blob store, how long an unfinished upload is kept, and how long one request may
    # hold an upload without showing progress before another may take it over.
    max_upload_bytes: int = Field(2 * 1024**3, ge=1024)
    max_multipart_bytes: int = Field(25 * 1024**2, ge=1024)
    account_quota_bytes: int = Field(10 * 1024**3, ge=1024)
    upload_expiry_seconds: int = Field(24 * 3600, ge=60)
    upload_lease_seconds: int = Field(60, ge=1, le=3600)
    # Slow clients (app.evidence.transfer): a body that sends nothing for `body_idle_seconds`,
    # or averages under `body_min_rate` bytes a second once `body_rate_grace_seconds` have
    # passed, is cut off (408; a tus PATCH keeps what arrived and answers its offset). One
    # account moves at most `max_transfers_per_account` bodies (up or down) at once (429).
    body_idle_seconds: float = Field(30, gt=0, le=600)
    body_min_rate: int = Field(1024, ge=0)
    body_rate_grace_seconds: float = Field(30, ge=0, le=600)
    max_transfers_per_account: int = Field(4, ge=1, le=64)
    # Unfinished tus uploads one account may have at once (each reserves its length).
    max_open_uploads: int = Field(20, ge=1, le=1000)

    # Exports (app.exports.jobs): how long a finished export can be downloaded, how many one
    # account may have queued or running at once, how many one process makes at a time, and
    # how long a running job may go without a heartbeat before another process takes it over.
    export_expiry_seconds: int = Field(7 * 86400, ge=60)
    max_export_jobs: int = Field(3, ge=1, le=100)
    export_workers: int = Field(1, ge=1, le=16)
    export_lease_seconds: int = Field(120, ge=1, le=3600)

    # Group commit (app.group_commit): how long a batch of diary writes waits for more to join
    # once writes are arriving concurrently (never for a lone writer), and its largest size.
    group_commit_window_ms: float = Field(2.0, ge=0, le=20)
    group_commit_max_batch: int = Field(64, ge=1, le=512)

    # GET /metrics: with a token, only `Authorization: Bearer <token>` reads it; without one
    # it is open in development and test and off (404) in production.
    metrics_token: SecretStr | None = None

    log_level: str = "INFO"

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if "*" in self.cors_origins:
            raise ValueError("CORS_ORIGINS may not contain '*': the API uses credentials")
        base = urlsplit(self.public_base_url)
        if base.scheme not in ("http", "https") or not base.netloc or base.query or base.fragment:
            raise ValueError("PUBLIC_BASE_URL must be an http(s) URL without query or fragment")
        if self.problem_type_base is not None and not urlsplit(self.problem_type_base).scheme:
            raise ValueError("PROBLEM_TYPE_BASE must be an absolute URI (with a scheme)")
        if self.refresh_absolute_ttl_seconds < self.refresh_idle_ttl_seconds:
            raise ValueError("REFRESH_ABSOLUTE_TTL_SECONDS must be >= REFRESH_IDLE_TTL_SECONDS")
        if self.environment == "production":
            if not self.database_url:
                raise ValueError("DATABASE_URL is required in production")
            if self.keyring_path is None and self.keyring_json is None:
                raise ValueError("KEYRING_PATH or KEYRING_JSON is required in production")
        return self

    @property
    def effective_problem_type_base(self) -> str:
        if self.problem_type_base is not None:
            return self.problem_type_base
        return self.public_base_url.rstrip("/") + "/problems/"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'chronicle.db'}"

    @property
    def effective_keyring_path(self) -> Path:
        return self.keyring_path or self.data_dir / "keyring.json"


@lru_cache
def get_settings() -> Settings:
    return Settings()
