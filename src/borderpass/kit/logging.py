"""Structured logging: one JSON object a line, to stderr and to the log file.

Nothing personal is logged: callers pass identifiers, never document numbers, names
or addresses.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import structlog

__all__ = ["configure_logging", "get_logger"]

_configured: tuple[str, str, bool, str | None] | None = None


def configure_logging(
    level: str = "INFO",
    log_file: Path | None = None,
    *,
    json: bool = True,
    stderr_level: str | None = None,
) -> None:
    """Send structured log lines to ``log_file`` and to stderr (from ``stderr_level`` up)."""
    global _configured
    key = (level, str(log_file), json, stderr_level)
    if _configured == key:
        return
    _configured = key
    console = logging.StreamHandler(sys.stderr)
    console.setLevel((stderr_level or level).upper())
    handlers: list[logging.Handler] = [console]
    if log_file is not None:
        handlers.append(_private_file_handler(log_file))
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_borderpass", False):
            root.removeHandler(handler)
            handler.close()
    for handler in handlers:
        handler._borderpass = True  # type: ignore[attr-defined]
        handler.setFormatter(logging.Formatter("%(message)s"))
        root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("alembic", "httpx", "httpx2", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=False,
    )


def _private_file_handler(log_file: Path) -> logging.FileHandler:
    """Open the log file for appending, readable by its owner only (0600)."""
    log_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))
    if log_file.stat().st_mode & 0o077:
        log_file.chmod(0o600)
    return logging.FileHandler(log_file, encoding="utf-8")


def get_logger(name: str) -> Any:
    """Return a structured logger for a module."""
    return structlog.get_logger(name)
