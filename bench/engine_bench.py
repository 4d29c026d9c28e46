"""Benchmark: full-KB evaluations per second on one core, and the p99 time of one evaluation.

Run with `make bench` (not a test: shared machines are noisy). Profiles vary from empty to
complete so that every rule path runs.
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time

from policy_kb.engine import evaluate, next_fact
from policy_kb.facts import load_facts
from policy_kb.kb import KnowledgeBase


def random_profiles(n: int, seed: int = 7) -> list[dict]:
    facts = load_facts()
    rng = random.Random(seed)
    profiles = []
    for _ in range(n):
        profile = {}
        for name, fact in facts.items():
            if rng.random() < 0.6:
                if fact.type == "bool":
                    profile[name] = rng.random() < 0.5
                elif fact.type == "int":
                    profile[name] = rng.randint(55, 102)
                else:
                    profile[name] = rng.choice(fact.values)
        profiles.append(profile)
    return profiles


def run(seconds: float, with_next_fact: bool) -> dict:
    kb = KnowledgeBase.from_directory()
    profiles = random_profiles(2000)
    as_of = dt.date(2026, 11, 29)
    for p in profiles[:200]:  # warm-up
        evaluate(kb, p, as_of)
    samples = []
    clock = time.perf_counter_ns
    deadline = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < deadline:
        profile = profiles[i % len(profiles)]
        start = clock()
        results = evaluate(kb, profile, as_of)
        if with_next_fact:
            next_fact(kb, results)
        samples.append(clock() - start)
        i += 1
    samples.sort()
    total = sum(samples) / 1e9
    return {
        "policies": len(kb),
        "evaluations": len(samples),
        "per_second": len(samples) / total,
        "mean_us": statistics.fmean(samples) / 1e3,
        "p50_us": samples[len(samples) // 2] / 1e3,
        "p99_us": samples[int(len(samples) * 0.99)] / 1e3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    for label, nf in (("evaluate (validate + all policies)", False), ("evaluate + next_fact", True)):
        r = run(args.seconds, nf)
        print(f"{label}: {r['policies']} policies, {r['evaluations']} evaluations on one core — "
              f"{r['per_second']:,.0f}/s, mean {r['mean_us']:.1f} µs, p50 {r['p50_us']:.1f} µs, "
              f"p99 {r['p99_us']:.1f} µs (target: < 50 µs, 20,000+/s)")


if __name__ == "__main__":
    main()
