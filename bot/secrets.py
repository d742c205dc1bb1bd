"""Secrets from the settings (`bot.settings`), with a development default generated once into `var/`.

In production (`CLINIC_ENV=production`) a missing secret is an error that names the
variable to set; in development a random secret is written to `var/<name>.secret` (mode
0600, in a folder created 0700) and reused, so tokens survive restarts.
"""
from __future__ import annotations

import os
import secrets as random_secrets
from pathlib import Path
from typing import Optional

from pydantic import SecretStr

from bot.settings import PROJECT_ROOT, get_settings
from bot.store.private_files import private_folder

SECRET_DIR = PROJECT_ROOT / "var"


class MissingSecretError(RuntimeError):
    """A secret that production mode requires is not set."""


def is_production() -> bool:
    """Whether the deployment declared itself production (`CLINIC_ENV=production`)."""
    return get_settings().production


def load_secret(env_var: str, name: str, secret_dir: Path = SECRET_DIR) -> bytes:
    """The secret in `env_var` (a field of the settings), else (outside production) a generated, persisted one."""
    value: Optional[SecretStr] = getattr(get_settings(), env_var.lower())
    if value is not None:
        return value.get_secret_value().encode()
    if is_production():
        raise MissingSecretError(
            f"{env_var} is not set. Production mode needs it: set {env_var} to a long random "
            f"string (for example the output of `openssl rand -hex 32`)."
        )
    path = secret_dir / f"{name}.secret"
    if not path.exists():
        private_folder(secret_dir)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(random_secrets.token_hex(32))
    return path.read_text().strip().encode()
