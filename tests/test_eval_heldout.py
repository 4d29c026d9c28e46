"""The held-out evaluation set is well formed: canonical facts, known intents, all styles."""
from collections import Counter
from pathlib import Path

import yaml

from policy_kb.facts import validate_profile

ROOT = Path(__file__).resolve().parent.parent


def test_heldout_set_is_canonical_and_complete():
    data = yaml.safe_load((ROOT / "data/eval/heldout.yml").read_text(encoding="utf-8"))
    intents = set(yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["intents"])
    items = data["utterances"]
    for item in items:
        validate_profile(item.get("facts") or {})
        assert item["intent"] in intents, item
    styles = Counter(i["style"] for i in items)
    assert set(styles) == {"clean", "elder", "relative", "asr", "operator"}
    assert min(styles.values()) >= 30 and len({i["text"] for i in items}) == len(items)
