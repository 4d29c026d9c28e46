"""The rooms and their one-way doors: each package imports only the packages below it.

    app (CLI, supervisor, make eval)        imported by nothing
    channels                                 -> understanding, storage, policy_kb; never each other
                                                (channels/core is what they share; it imports none of them)
    actions (the dialogue)                   -> understanding, storage, policy_kb
    nlu_components (thin Rasa components)    -> understanding, policy_kb
    understanding (Chinese text, pure)       -> policy_kb
    storage (settings, db, KB store, bookings)-> policy_kb
    policy_kb (facts, rules, engine, search)  -> nothing of the project
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "channels", "actions", "nlu_components", "understanding", "storage", "policy_kb", "notify")
ALLOWED = {
    "policy_kb": set(),
    "storage": {"policy_kb"},
    "understanding": {"policy_kb"},
    "nlu_components": {"understanding", "policy_kb"},
    "actions": {"understanding", "storage", "policy_kb"},
    "channels": {"understanding", "storage", "policy_kb"},
    "notify": {"storage", "policy_kb"},   # 政策找人: the channels' deliverers are wired in by app
    "app": set(PACKAGES) - {"app"},
}


def project_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_go_one_way(package):
    wrong = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = project_imports(path) - ALLOWED[package] - {package}
        if bad:
            wrong[str(path.relative_to(ROOT))] = sorted(bad)
    assert not wrong, wrong


def test_nothing_imports_the_app():
    users = [str(p.relative_to(ROOT)) for pkg in PACKAGES if pkg != "app"
             for p in (ROOT / pkg).rglob("*.py") if "app" in project_imports(p)]
    assert not users


# Each channel is a room of its own: the REST channel (numbered_rest + its choice memory),
# the terminal chat, the Telegram bridge, the operator console.
CHANNELS = {"rest": ["numbered_rest.py", "numbered_choices.py", "outage.py"], "terminal": ["terminal.py"],
            "telegram": ["telegram"], "console": ["console"], "wechat": ["wechat"], "core": ["core"]}
SHARED = "core"   # what every messaging channel shares: any channel may use it, it uses none of them


def channel_of(path: Path) -> str:
    rel = path.relative_to(ROOT / "channels").parts
    return next(name for name, members in CHANNELS.items() if rel[0] in members)


def test_channels_never_import_each_other():
    wrong = {}
    for path in (ROOT / "channels").rglob("*.py"):
        if path.name == "__init__.py" and path.parent == ROOT / "channels":
            continue
        mine = channel_of(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            name = None
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.startswith("channels."):
                name = node.module.split(".")[1]
            elif isinstance(node, ast.ImportFrom) and node.level == 1 and path.parent == ROOT / "channels":
                name = (node.module or "").split(".")[0]
            target = ROOT / "channels" / name if name and (ROOT / "channels" / name).is_dir() else \
                ROOT / "channels" / f"{name}.py"
            if name and channel_of(target) not in (mine, SHARED):
                wrong.setdefault(str(path.relative_to(ROOT)), []).append(name)
    assert not wrong, wrong
