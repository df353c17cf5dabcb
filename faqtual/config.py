"""Settings: declared once, loaded once, passed down.

Order of precedence: defaults < ``faqtual.toml`` (current folder, or the file
named by ``FAQTUAL_CONFIG``) < ``FAQTUAL_*`` environment variables < command
line flags. This is the only module that reads ``os.environ``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from faqtual.errors import ConfigError


@dataclass(frozen=True)
class Setting:
    """One documented setting."""

    name: str
    type: type
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("kb", str, "", "KB file to use; empty means the packaged synkinesis FAQ."),
    Setting("top", int, 3, "How many candidate answers to return per question."),
    Setting("threshold", float, -1.0, "Confidence below which to abstain; -1 means the KB's own threshold."),
    Setting("cache_dir", str, "", "Where the default KB is built; empty means $XDG_CACHE_HOME/faqtual."),
    Setting("max_question_chars", int, 2000, "Longest question accepted, in characters."),
    Setting(
        "safety_rules",
        str,
        "",
        "Safety rules file (TOML, format in faqtual/data/safety.toml); empty means the packaged rules, 'none' none.",
    ),
    Setting(
        "threads",
        int,
        0,
        "Threads for the query encoder; 0 means one per core (at most 4), shared out among batch_workers when serving.",
    ),
    Setting("host", str, "127.0.0.1", "Address 'faqtual serve' binds to; loopback unless you mean to expose it."),
    Setting("port", int, 8000, "Port 'faqtual serve' listens on."),
    Setting(
        "api_key_hashes",
        str,
        "",
        "Comma-separated sha256 hex digests of the curator API keys; empty turns the curator API off.",
    ),
    Setting("api_key_file", str, "", "File with one curator API key sha256 digest a line (added to those)."),
    Setting("cors_origins", str, "", "Comma-separated origins allowed to call the API and embed the widget."),
    Setting("max_body_bytes", int, 65536, "Largest request body accepted (bytes); bigger ones get 413."),
    Setting("max_upload_bytes", int, 5_000_000, "Largest file a curator may upload for ingest (bytes)."),
    Setting("rate_limit", float, 5.0, "Questions a second one client may ask, sustained; 0 turns it off."),
    Setting("rate_burst", int, 20, "Questions one client may ask at once before the rate limit applies."),
    Setting("log_questions", bool, False, "Keep asked questions for the curator (off: keep only feedback)."),
    Setting(
        "log_retention_days",
        int,
        30,
        "Days to keep logged questions and feedback; older ones are deleted on each write (0: keep).",
    ),
    Setting("batch_max", int, 8, "Most questions encoded together in one micro-batch."),
    Setting("batch_workers", int, 2, "Micro-batches 'faqtual serve' answers at the same time."),
    Setting("batch_wait_ms", float, 2.0, "How long a micro-batch waits for more questions (milliseconds)."),
    Setting(
        "store",
        str,
        "",
        "PostgreSQL DSN (postgresql://...) of a shared KB, used instead of kb; a secret: set it by env.",
    ),
    Setting("kb_name", str, "default", "Which KB in the PostgreSQL database to use; several may share one."),
    Setting(
        "max_staleness_s",
        float,
        30.0,
        "Seconds a replica may go without the database confirming its KB version before /readyz says 503.",
    ),
)


@dataclass(frozen=True)
class Settings:
    """Resolved settings (see :data:`SETTINGS` for their meaning)."""

    kb: str = ""
    top: int = 3
    threshold: float = -1.0
    cache_dir: str = ""
    max_question_chars: int = 2000
    safety_rules: str = ""
    threads: int = 0
    host: str = "127.0.0.1"
    port: int = 8000
    api_key_hashes: str = ""
    api_key_file: str = ""
    cors_origins: str = ""
    max_body_bytes: int = 65536
    max_upload_bytes: int = 5_000_000
    rate_limit: float = 5.0
    rate_burst: int = 20
    log_questions: bool = False
    log_retention_days: int = 30
    batch_max: int = 8
    batch_workers: int = 2
    batch_wait_ms: float = 2.0
    store: str = ""
    kb_name: str = "default"
    max_staleness_s: float = 30.0

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the non-``None`` overrides applied (CLI flags)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def cache_path(self) -> Path:
        """The cache folder, resolved."""
        if self.cache_dir:
            return Path(self.cache_dir)
        return _default_cache_root() / "faqtual"


def _default_cache_root() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) if xdg else Path.home() / ".cache"


def _cast(setting: Setting, value: Any, origin: str) -> Any:
    try:
        if setting.type is bool and isinstance(value, str):
            return value.lower() in {"1", "true", "yes", "on"}
        return setting.type(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"Setting '{setting.name}' from {origin} has value {value!r}: not a valid {setting.type.__name__}."
        ) from None


def load(*, environ: Mapping[str, str] | None = None, config_file: Path | None = None) -> Settings:
    """Read settings from ``faqtual.toml`` and ``FAQTUAL_*`` variables.

    Raises:
        ConfigError: an unknown key or a value of the wrong type.
    """
    env = os.environ if environ is None else environ
    by_name = {s.name: s for s in SETTINGS}
    values: dict[str, Any] = {}
    path = config_file or (Path(env["FAQTUAL_CONFIG"]) if env.get("FAQTUAL_CONFIG") else Path("faqtual.toml"))
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"Config file {path} is not valid TOML: {exc}") from exc
        for key, value in data.items():
            if key not in by_name:
                raise ConfigError(f"Config file {path}: unknown setting '{key}'. Valid: {', '.join(by_name)}.")
            values[key] = _cast(by_name[key], value, str(path))
    for name, setting in by_name.items():
        var = f"FAQTUAL_{name.upper()}"
        if var in env:
            values[name] = _cast(setting, env[var], var)
    return Settings(**values)
