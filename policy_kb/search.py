"""Free-text search over the KB ("长护险怎么申请", "适老化改造要带什么材料").

BM25 over jieba words plus character bigrams (bigrams keep short or unusual words findable
when jieba segments them differently). Names and aliases weigh more than body text.
"""
from __future__ import annotations

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass

import jieba

from .kb import KnowledgeBase

jieba.setLogLevel(logging.WARNING)

# Question words carry no topic: "怎么申请" must not match every policy's "申请" text equally.
STOP = set("的 了 吗 呢 啊 吧 么 是 有 要 我 您 你 他 她 们 什么 怎么 怎样 如何 哪里 哪 能 可以 会 去 在 和 与 及 "
           "请问 一下 多少 这个 那个 老人 老年人 一个 带 办 给 问".split())
FIELD_WEIGHTS = (("name", 3), ("aliases", 3), ("summary", 1), ("benefit", 1), ("apply", 1))
K1, B = 1.2, 0.75
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def tokens(text: str) -> list[str]:
    text = text.lower()
    words = [w for w in jieba.lcut(text) if w.strip() and not _PUNCT.fullmatch(w) and w not in STOP]
    chars = [c for c in _PUNCT.sub(" ", text).split() if c]
    bigrams = [run[i:i + 2] for run in chars for i in range(len(run) - 1)]
    return words + [b for b in bigrams if b not in STOP and not any(ch in "的了吗呢么" for ch in b)]


@dataclass
class Hit:
    id: str
    name: str
    score: float
    summary: str
    apply: dict


class PolicySearch:
    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.docs: dict[str, Counter] = {}
        for policy in kb.policies:
            bag: Counter = Counter()
            raw = policy.raw
            fields = {
                "name": policy.name,
                "aliases": " ".join(policy.aliases),
                "summary": policy.summary,
                "benefit": policy.benefit_text,
                "apply": " ".join([raw["apply"].get("where", "")] + raw["apply"].get("steps", [])
                                  + raw["apply"].get("documents", [])),
            }
            for key, weight in FIELD_WEIGHTS:
                for tok in tokens(fields[key]):
                    bag[tok] += weight
            self.docs[policy.id] = bag
        self.avg_len = sum(sum(b.values()) for b in self.docs.values()) / max(len(self.docs), 1)
        df = Counter(t for bag in self.docs.values() for t in bag)
        n = len(self.docs)
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self.jieba_words = {a for p in kb.policies for a in p.aliases + [p.name]}
        for word in self.jieba_words:  # keep names and aliases whole when segmenting queries
            jieba.add_word(word, freq=2000)

    def named(self, query: str) -> list[str]:
        """Policies whose name or an alias the query says verbatim, the longest said first."""
        found = []
        for p in self.kb.policies:
            said = [a for a in p.aliases + [p.name] if a in (query or "")]
            if said:
                found.append((-max(map(len, said)), p.id))
        return [pid for _, pid in sorted(found)]

    def search(self, query: str, limit: int = 3) -> list[Hit]:
        if not query or not query.strip():
            return []
        terms = tokens(query[:500])
        scores = []
        for pid, bag in self.docs.items():
            length = sum(bag.values())
            score = 0.0
            for t in set(terms):
                tf = bag.get(t)
                if tf:
                    score += self.idf[t] * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / self.avg_len))
            # an alias or name said verbatim is the strongest signal
            policy = self.kb.by_id[pid]
            if any(a in query for a in policy.aliases + [policy.name]):
                score += 10
            if score > 0:
                scores.append((score, pid))
        scores.sort(reverse=True)
        hits = []
        for score, pid in scores[:limit]:
            p = self.kb.by_id[pid]
            hits.append(Hit(p.id, p.name, round(score, 3), p.summary, p.apply))
        return hits
