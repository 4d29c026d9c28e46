"""From slots to the engine's profile: don't-know answers, coercion, the dementia step."""
from actions.profile import DONT_KNOW, dont_know_facts, known_profile
from app.serve import tracker_store_config


def test_known_profile_drops_unknown_and_invalid_values():
    slots = {"age": 85.0, "district": "姑苏区", "hukou": "true", "living": DONT_KNOW,
             "economic_status": "有钱", "disability_grade": "2", "requested_slot": "living"}
    assert known_profile(slots) == {"age": 85, "district": "姑苏区", "hukou": True, "disability_grade": 2}
    assert dont_know_facts(slots) == {"living"}


def test_tracker_store_follows_the_database_url(tmp_path):
    sqlite = tracker_store_config(f"sqlite:///{tmp_path}/eldercare.db")
    assert sqlite == {"type": "storage.tracker_store.CachedSQLTrackerStore", "dialect": "sqlite",
                      "db": str(tmp_path / "tracker.db")}
    pg = tracker_store_config("postgresql+psycopg2://postgres@127.0.0.1:5432/test")
    assert pg["dialect"] == "postgresql+psycopg2" and pg["db"] == "test" and pg["port"] == 5432
