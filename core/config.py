"""Settings: the only module that reads the environment.

Sources, highest priority first: keyword arguments, ``PBX_*`` environment variables (nested with ``__``,
e.g. ``PBX_ASTERISK__SIP_PORT=5062``), the TOML file (``PBX_CONFIG``, default ``<data_dir>/pbx.toml``),
the generated secrets file ``<data_dir>/secrets.toml``, then the defaults below.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import tomllib
from pathlib import Path
from typing import Any, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_DATA_DIR = Path("~/.local/share/pbx").expanduser()


class ConfigError(Exception):
    """A configuration problem, worded for the user with the fix."""


def _data_dir_from_env() -> Path:
    return Path(os.environ.get("PBX_DATA_DIR") or DEFAULT_DATA_DIR).expanduser()


def config_path() -> Path:
    """The TOML configuration file in effect."""
    return Path(os.environ.get("PBX_CONFIG") or _data_dir_from_env() / "pbx.toml").expanduser()


def secrets_path() -> Path:
    """Generated secrets (ARI password, API token); mode 0600."""
    return _data_dir_from_env() / "secrets.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AsteriskSettings(_Section):
    """How the daemon reaches Asterisk, and how the managed local Asterisk is laid out."""

    mode: Literal["managed", "external"] = Field(
        "managed", description="managed: `pbx asterisk …` runs a private Asterisk; external: your own"
    )
    dist_dir: Path | None = Field(None, description="where `pbx asterisk install` unpacks Asterisk")
    bind: str = Field("127.0.0.1", description="address SIP and ARI listen on")
    sip_port: int = Field(5060, ge=1, le=65535, description="UDP port phones register to")
    http_port: int = Field(8088, ge=1, le=65535, description="Asterisk HTTP port (ARI)")
    rtp_start: int = Field(10000, ge=1024, le=65535, description="first RTP port")
    rtp_end: int = Field(10999, ge=1024, le=65535, description="last RTP port")
    ari_url: str | None = Field(None, description="ARI base URL; default http://<bind>:<http_port>/")
    ari_user: str = Field("pbx", description="ARI user")
    ari_password: str = Field("", description="ARI password; generated into secrets.toml when empty")
    app: str = Field("pbx", pattern=r"^[A-Za-z0-9_-]+$", description="Stasis application name")

    @model_validator(mode="after")
    def _check_range(self) -> AsteriskSettings:
        if self.rtp_end <= self.rtp_start:
            raise ValueError("asterisk.rtp_end must be greater than asterisk.rtp_start")
        return self

    @property
    def base_url(self) -> str:
        """The ARI base URL (always ending in a slash)."""
        url = self.ari_url or f"http://{self.bind}:{self.http_port}/"
        return url if url.endswith("/") else url + "/"


class ApiSettings(_Section):
    """The daemon's REST + websocket API."""

    host: str = Field("127.0.0.1", description="address the API listens on")
    port: int = Field(8321, ge=0, le=65535, description="API port (0 picks a free one)")
    token: str = Field("", description="admin API token; generated into secrets.toml when empty")
    public_url: str = Field(
        "", description="the API's URL as integrators reach it (in webhooks' links); default http://host:port"
    )

    @property
    def base_url(self) -> str:
        """The API's URL for links sent out (no trailing slash)."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


class CallSettings(_Section):
    """Call handling."""

    ring_timeout: int = Field(20, ge=1, le=600, description="seconds a callee rings before 'no answer'")
    country: str = Field(
        "US", pattern=r"^[A-Z]{2}$", description="home country (ISO code): how national numbers are read"
    )
    local_prefixes: list[str] = Field(
        default_factory=list, description='E.164 prefixes that count as local calls, e.g. ["+1555"]'
    )
    pickup_code: str = Field(
        "*8", pattern=r"^[*#][*#0-9]{0,5}$", description="dialled to answer a call ringing in one's group"
    )
    directed_pickup_prefix: str = Field(
        "**",
        pattern=r"^[*#][*#0-9]{0,4}$",
        description="dialled before an internal number to answer the call ringing there, e.g. **101",
    )


class RecordingSettings(_Section):
    """Call recordings."""

    dir: Path | None = Field(
        None, description="where Asterisk writes recordings; default its spool under the data dir"
    )
    format: Literal["wav", "gsm"] = Field("wav", description="file format")
    retention_days: int = Field(0, ge=0, description="delete recordings older than this; 0 keeps them")


class AriSettings(_Section):
    """Resilience of the ARI connection."""

    liveness_interval: float = Field(5.0, gt=0, description="seconds between end-to-end liveness checks")
    liveness_timeout: float = Field(3.0, gt=0, description="seconds a liveness probe may take")
    reconnect_min: float = Field(0.2, gt=0, description="first reconnect delay (seconds)")
    reconnect_max: float = Field(5.0, gt=0, description="longest reconnect delay (seconds)")


class SecuritySettings(_Section):
    """Protection against SIP password guessing (Asterisk's security events, bans by address)."""

    ban_after: int = Field(
        10, ge=1, le=100000, description="failed authentications from one address that get it banned"
    )
    ban_window: int = Field(300, ge=1, le=86400, description="seconds within which failures are counted")
    ban_seconds: int = Field(900, ge=1, le=31536000, description="how long a banned address is refused")
    number_alert_after: int = Field(
        20,
        ge=1,
        le=100000,
        description="failed authentications of one number, from several addresses, that raise an alert",
    )
    exempt_loopback: bool = Field(False, description="never ban 127.0.0.0/8 and ::1")
    exempt: list[str] = Field(
        default_factory=list, description='addresses or networks never banned, e.g. ["192.0.2.0/24"]'
    )
    log_file: Path | None = Field(
        None,
        description="Asterisk's security log (JSON lines); default the managed Asterisk's log/security.log",
    )

    @field_validator("exempt")
    @classmethod
    def _networks(cls, v: list[str]) -> list[str]:
        out = []
        for entry in v:
            try:
                out.append(str(ipaddress.ip_network(entry.strip(), strict=False)))
            except ValueError:
                raise ValueError(
                    f"security.exempt: {entry!r} is not an address or network (e.g. 192.0.2.0/24)"
                ) from None
        return out


class WebhookSettings(_Section):
    """Webhooks to integrators (`pbx webhook …`)."""

    allow_private: bool = Field(
        False,
        description="allow receivers on private, loopback and link-local addresses (off: a webhook URL "
        "must not become a way into the local network)",
    )
    timeout: float = Field(10.0, gt=0, le=120, description="seconds a receiver may take to answer")


class OutboxSettings(_Section):
    """Delivery of outgoing notifications (webhooks; the bots' messages): retries and dead letters."""

    max_attempts: int = Field(50, ge=1, le=10000, description="attempts after which an item is dead-lettered")
    max_age_hours: float = Field(
        24.0, gt=0, le=24 * 90, description="hours after which an undelivered item is dead-lettered"
    )
    backoff_base: float = Field(1.0, gt=0, le=3600, description="seconds before the first retry")
    backoff_max: float = Field(300.0, gt=0, le=86400, description="longest wait between two attempts")
    concurrency: int = Field(8, ge=1, le=256, description="deliveries in flight at once")
    keep_days: int = Field(7, ge=1, le=3650, description="days delivered items and the delivery log are kept")


class StatsSettings(_Section):
    """How statistics count."""

    service_level_seconds: int = Field(
        20,
        ge=1,
        le=3600,
        description="a queue call answered within this many seconds meets the service level",
    )
    short_abandon_seconds: float = Field(
        5.0,
        ge=0,
        le=600,
        description="callers who hang up sooner are short abandons (left out of the adjusted rate)",
    )


class Settings(BaseSettings):
    """Everything `pbx` can be configured with."""

    model_config = SettingsConfigDict(
        env_prefix="PBX_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    data_dir: Path = Field(DEFAULT_DATA_DIR, description="state: database, Asterisk, recordings, logs")
    database_url: str = Field("", description="tortoise URL; default sqlite://<data_dir>/pbx.sqlite3")
    organisation: str = Field("Demo Ltd", description="name of the organisation this PBX serves")
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING, ERROR")
    asterisk: AsteriskSettings = AsteriskSettings()
    api: ApiSettings = ApiSettings()
    calls: CallSettings = CallSettings()
    recording: RecordingSettings = RecordingSettings()
    ari: AriSettings = AriSettings()
    security: SecuritySettings = SecuritySettings()
    webhooks: WebhookSettings = WebhookSettings()
    outbox: OutboxSettings = OutboxSettings()
    stats: StatsSettings = StatsSettings()

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, v: Path) -> Path:
        return v.expanduser()

    @property
    def recordings_dir(self) -> Path:
        """Where the recordings are (the managed Asterisk's spool unless configured)."""
        return self.recording.dir or self.data_dir / "asterisk" / "instance" / "spool" / "recording"

    @property
    def security_log(self) -> Path | None:
        """Asterisk's security log the daemon follows (None: an external Asterisk that names none)."""
        if self.security.log_file:
            return self.security.log_file.expanduser()
        if self.asterisk.mode == "managed":
            return self.data_dir / "asterisk" / "instance" / "log" / "security.log"
        return None

    @property
    def sounds_dir(self) -> Path:
        """Where uploaded prompts are kept (the managed Asterisk plays them from there)."""
        return self.data_dir / "sounds"

    @property
    def db_url(self) -> str:
        """The database URL in effect."""
        # WAL + synchronous=NORMAL: a commit survives a crash of the daemon, without an fsync per write
        return self.database_url or f"sqlite://{self.data_dir / 'pbx.sqlite3'}?synchronous=NORMAL"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=config_path()),
            TomlConfigSettingsSource(settings_cls, toml_file=secrets_path()),
        )


def _check_toml(path: Path) -> None:
    if not path.exists():
        return
    try:
        tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix or remove it") from None


def load_settings(**overrides: Any) -> Settings:
    """Load settings, turning every problem into one ConfigError that names the fix."""
    for path in (config_path(), secrets_path()):
        _check_toml(path)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(
            f"invalid configuration ({problems}); check {config_path()} and PBX_* variables"
        ) from None


_GENERATED = (("asterisk", "ari_password", 16), ("api", "token", 24))  # section, key, bytes of randomness


def ensure_secrets(settings: Settings) -> Settings:
    """Generate the ARI password and API token on first use, store them 0600, and return settings that
    carry them. An empty (or blank) value in pbx.toml or PBX_* means "the generated one", never an empty
    secret.

    Secrets are hex so they survive URL query strings unencoded (asyncari does not encode them).
    """
    path = secrets_path()
    current: dict[str, Any] = tomllib.loads(path.read_text()) if path.exists() else {}
    changed = False
    for section, key, size in _GENERATED:
        given = str(getattr(getattr(settings, section), key)).strip()
        if not given and not current.get(section, {}).get(key):
            current.setdefault(section, {})[key] = secrets.token_hex(size)
            changed = True
    if changed:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(tomli_w.dumps(current))
        os.replace(tmp, path)
    updates: dict[str, Any] = {}
    for section, key, _ in _GENERATED:
        model = getattr(settings, section)
        if not str(getattr(model, key)).strip():
            updates[section] = model.model_copy(update={key: current[section][key]})
    return settings.model_copy(update=updates) if updates else settings
