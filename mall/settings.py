"""Settings from the environment (API.md, and the README's table): a wrong value stops ``mall``
with the setting's name (``SettingsError``)."""

from __future__ import annotations

import functools
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


def _var_dir() -> Path:
    return Path(os.environ.get("MALL_VAR_DIR", "var")).resolve()


def _default_database_url() -> str:
    return f"sqlite:///{os.path.relpath(_var_dir() / 'mall.db')}"


def _default_secret_key() -> str:
    """A random key created once under ``var/``, readable by its owner only."""
    path = _var_dir() / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


class SettingsError(ValueError):
    """A setting the environment gives wrongly; ``mall`` prints it and exits with status 2."""


def _whole_number(name: str, default: int, low: int, high: int) -> int:
    text = os.environ.get(name, "").strip() or str(default)
    if not text.isdigit() or not low <= int(text) <= high:
        raise SettingsError(f"{name} must be a whole number from {low} to {high}, not {text!r}")
    return int(text)


def _tls_file(name: str) -> Path | None:
    """``MALL_TLS_CERT`` / ``MALL_TLS_KEY``: a PEM file that must exist and be readable."""
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    path = Path(text).expanduser().resolve()
    try:
        path.read_bytes()
    except OSError as exc:
        raise SettingsError(
            f"{name} names a file that cannot be read: {text!r} ({exc.strerror})"
        ) from None
    return path


def _choice(name: str, allowed: tuple[str, ...]) -> str:
    """One of ``allowed`` (the first is the default)."""
    text = os.environ.get(name, "").strip() or allowed[0]
    if text not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}, not {text!r}")
    return text


@dataclass(frozen=True)
class Settings:
    database_url: str = field(
        default_factory=lambda: os.environ.get("MALL_DATABASE_URL") or _default_database_url()
    )
    """``sqlite:///relative.db``, ``sqlite:////absolute.db`` or ``postgresql://user:pw@host:port/db``."""

    secret_key: str = field(
        default_factory=lambda: os.environ.get("MALL_SECRET_KEY") or _default_secret_key(),
        repr=False,
    )
    """Signs codes and sessions. Default: a random key kept in ``var/secret_key``."""

    base_url: str = field(
        default_factory=lambda: os.environ.get("MALL_BASE_URL", "http://localhost:8000").rstrip("/")
    )
    """The public address that QR codes point to."""

    var_dir: Path = field(default_factory=_var_dir)
    """``MALL_VAR_DIR``: the default database, the secret key and uploaded item pictures."""

    db_pool_size: int = field(default_factory=lambda: _whole_number("MALL_DB_POOL_SIZE", 8, 1, 100))
    """``MALL_DB_POOL_SIZE``: PostgreSQL connections per app process. Not too few: with 16
    counters on 2 cores and a checkout in one round trip, 4 gave 246-348 checkouts/s, and 8, 12
    and 16 gave 518-577, within the noise of each other (docs/performance.md)."""

    reservation_days: int = field(
        default_factory=lambda: _whole_number("MALL_RESERVATION_DAYS", 3, 1, 60)
    )
    """``MALL_RESERVATION_DAYS``: days a reservation waits for pickup before it lapses."""

    tls_cert: Path | None = field(default_factory=lambda: _tls_file("MALL_TLS_CERT"))
    """``MALL_TLS_CERT``: the certificate (PEM, with its chain) ``mall serve`` serves HTTPS with."""

    tls_key: Path | None = field(default_factory=lambda: _tls_file("MALL_TLS_KEY"), repr=False)
    """``MALL_TLS_KEY``: the certificate's private key (PEM). Both or neither."""

    trusted_proxies: str = field(
        default_factory=lambda: os.environ.get("MALL_TRUSTED_PROXIES", "").replace(" ", "")
    )
    """``MALL_TRUSTED_PROXIES``: the addresses (or networks, comma-separated) of the reverse
    proxies whose ``X-Forwarded-For`` is believed; none by default, so a client cannot name its
    own address to slip past a rate limit."""

    log_format: str = field(default_factory=lambda: _choice("MALL_LOG_FORMAT", ("text", "json")))
    """``MALL_LOG_FORMAT``: ``text`` (default) for a person, ``json`` lines for a log collector."""

    metrics_token: str | None = field(
        default_factory=lambda: os.environ.get("MALL_METRICS_TOKEN") or None, repr=False
    )
    """``MALL_METRICS_TOKEN``: lets a Prometheus elsewhere read ``/metrics`` with this bearer token
    (the machine itself may always read it)."""

    message_sender: str | None = field(
        default_factory=lambda: os.environ.get("MALL_MESSAGE_SENDER", "").strip() or None
    )
    """``MALL_MESSAGE_SENDER``: ``package.module:factory`` making the sender that passes residents'
    messages on (SMS, WeChat; ``mall.notify.senders``, docs/deploy.md). None by default: nothing
    leaves the server, messages stay in the residents' inboxes."""

    def __post_init__(self) -> None:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise SettingsError("MALL_TLS_CERT and MALL_TLS_KEY go together: set both or neither")

    @property
    def secure(self) -> bool:
        """Whether browsers reach the service over HTTPS (served here, or by a proxy in front):
        cookies are then ``Secure`` and responses carry HSTS."""
        return self.tls_cert is not None or self.base_url.startswith("https://")


@functools.cache
def get_settings() -> Settings:
    return Settings()
