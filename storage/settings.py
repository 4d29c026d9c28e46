"""Settings from the environment, with embedded defaults (SQLite, local ports)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    db_url: str
    rasa_port: int
    action_port: int
    console_port: int
    model_dir: Path
    var_dir: Path

    @classmethod
    def from_env(cls) -> "Settings":
        var_dir = Path(os.environ.get("ELDERCARE_VAR_DIR", PROJECT_ROOT / "var"))
        return cls(
            # Any SQLAlchemy URL; PostgreSQL in production, e.g. postgresql+psycopg2://host/db
            db_url=os.environ.get("ELDERCARE_DB_URL", f"sqlite:///{var_dir / 'eldercare.db'}"),
            rasa_port=int(os.environ.get("ELDERCARE_RASA_PORT", "5005")),
            action_port=int(os.environ.get("ELDERCARE_ACTION_PORT", "5055")),
            console_port=int(os.environ.get("ELDERCARE_CONSOLE_PORT", "5080")),
            model_dir=Path(os.environ.get("ELDERCARE_MODEL_DIR", PROJECT_ROOT / "models")),
            var_dir=var_dir,
        )
