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
    # the production profile (README "Production"): all unset on the embedded default
    redis_url: str | None = None        # the lock store shared by every Rasa instance
    action_url: str | None = None       # action servers behind a load balancer, else the local one
    action_token: str | None = None     # the secret every call to an action server must carry
    rasa_workers: int = 1               # Sanic workers per Rasa instance (more need redis_url)
    db_pool: int = 5                    # connections kept per process and database engine
    db_max_overflow: int = 5            # extra connections a process may open under load
    retention_days: float = 30.0        # conversations (with health facts) are deleted after this
    # below this classifier confidence, restart / goodbye / 删除我的信息 need words that say so
    sure_confidence: float = 0.85
    hotline: str = "12345"              # the number callers ring back on (the console's summary)

    @property
    def tracker_db_url(self) -> str:
        return tracker_db_url(self.db_url)

    def connections_per_process(self) -> int:
        return self.db_pool + self.db_max_overflow

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
            redis_url=os.environ.get("ELDERCARE_REDIS_URL") or None,
            action_url=os.environ.get("ELDERCARE_ACTION_URL") or None,
            action_token=os.environ.get("ELDERCARE_ACTION_TOKEN") or None,
            rasa_workers=int(os.environ.get("ELDERCARE_RASA_WORKERS", "1")),
            db_pool=int(os.environ.get("ELDERCARE_DB_POOL", "5")),
            db_max_overflow=int(os.environ.get("ELDERCARE_DB_MAX_OVERFLOW", "5")),
            retention_days=float(os.environ.get("ELDERCARE_RETENTION_DAYS", "30")),
            sure_confidence=float(os.environ.get("ELDERCARE_SURE_CONFIDENCE", "0.85")),
            hotline=os.environ.get("ELDERCARE_HOTLINE", "").strip() or "12345",
        )


def tracker_db_url(db_url: str) -> str:
    """Rasa's conversation trackers: tracker.db beside a SQLite database (its own file, so a
    tracker write never waits for a booking's), else the same server database."""
    if db_url.startswith("sqlite:///"):
        return "sqlite:///" + str(Path(db_url[len("sqlite:///"):]).with_name("tracker.db"))
    return db_url
