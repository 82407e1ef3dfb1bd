"""Settings: a YAML config file, overridden by ``ANNEXA_*`` environment variables.

Nested fields use ``__`` in the environment (``ANNEXA_AWS__REGIONS='["eu-west-1"]'``).
Relative paths in the file are relative to the file's folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from collector.errors import UserError
from collector.yamlfile import read_yaml

CONFIG_ENV = "ANNEXA_CONFIG"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("annexa", appauthor=False))


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir("annexa", appauthor=False)) / "annexa.yaml"


class AwsAccount(BaseModel):
    """One AWS account to audit. With nothing set, the default credential chain is used."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, description="label shown when the account id is unknown")
    profile: str | None = Field(None, description="named profile from ~/.aws/config")


class AwsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    accounts: list[AwsAccount] = Field(default_factory=lambda: [AwsAccount()])
    regions: list[str] | Literal["all"] | None = Field(
        None, description="regions for regional checks; default: the session's region"
    )


class Settings(BaseSettings):
    """Everything annexa reads from its config file and environment."""

    model_config = SettingsConfigDict(
        env_prefix="ANNEXA_", env_nested_delimiter="__", extra="forbid"
    )

    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite in data_dir")
    data_dir: Path = Field(default_factory=default_data_dir)
    soa: Path | None = Field(None, description="Statement of Applicability (YAML, CSV, XLSX)")
    mappings: list[Path] = Field(default_factory=list, description="extra check->control YAML")
    checks: list[str] | None = Field(None, description="run only these check ids")
    exclude_checks: list[str] = Field(default_factory=list)
    concurrency: int = Field(8, ge=1, le=64, description="checks evaluated at once")
    check_timeout: float = Field(300.0, gt=0, description="seconds before a check is an ERROR")
    log_format: Literal["auto", "console", "json"] = "auto"
    aws: AwsSettings = Field(default_factory=AwsSettings)
    config_path: Path | None = Field(None, exclude=True)

    @property
    def store_url(self) -> str:
        """The evidence store URL: ``database_url`` or a SQLite file in ``data_dir``."""
        return self.database_url or f"sqlite:///{self.data_dir / 'annexa.sqlite'}"


class _FileSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return self._data


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Load settings from ``config`` (else ``$ANNEXA_CONFIG``, else the user config file if it
    exists), the environment and ``overrides`` (highest precedence). Raises UserError."""
    path = config or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
    if path is None and default_config_path().is_file():
        path = default_config_path()
    data = _read_config(path) if path else {}
    if path:
        base = path.resolve().parent
        if isinstance(data.get("soa"), str):
            data["soa"] = str(base / data["soa"])
        if isinstance(data.get("mappings"), list):
            data["mappings"] = [
                str(base / m) if isinstance(m, str) else m for m in data["mappings"]
            ]

    class _Settings(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return init_settings, env_settings, _FileSource(settings_cls, data)

    where = f"{path}" if path else "configuration"
    try:
        settings = _Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"]) or "(top level)"
        raise UserError(f"{where} (or ANNEXA_* environment): {field}: {error['msg']}") from None
    return settings.model_copy(update={"config_path": path})


def _read_config(path: Path) -> dict[str, Any]:
    data = read_yaml(path, label=str(path))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(f"{path}: config must be a mapping of settings, not {type(data).__name__}")
    return data
