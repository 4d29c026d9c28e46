"""Several instances as in production (`eldercare cluster`): two Rasa servers and two action
servers behind Debian's nginx (round-robin), a fresh PostgreSQL database for trackers, KB and
bookings, Redis as the lock store. The last test kills one Rasa instance under load."""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import replace

import pytest
from sqlalchemy import create_engine, text

from bench.load import REFERENCE, advisor_script, drive
from cluster_support import FreshDatabase, need_binary, post, texts
from conftest import need_service
from storage.masking import mask_phone
from storage.settings import Settings

pytestmark = [pytest.mark.e2e, pytest.mark.services]
PHONE = "13955501234"
CONVERSATION = ["我妈今年85岁，住在姑苏区", "1", "不清楚", "帮我约个助浴", "明天上午", "姑苏区十全街88号2幢301",
                "王阿姨", PHONE, "1"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    need_service("Redis", "127.0.0.1", 6379)
    from app.cluster import Cluster, find_nginx
    need_binary("nginx", find_nginx())
    database = FreshDatabase()
    var = tmp_path_factory.mktemp("cluster-var")
    settings = replace(Settings.from_env(), db_url=database.url, redis_url="redis://127.0.0.1:6379/5", var_dir=var)
    running = Cluster(settings, rasa=2, actions=2)
    try:
        running.start()
        running.db = create_engine(database.url, future=True)
        yield running
    finally:
        running.stop()
        if hasattr(running, "db"):
            running.db.dispose()
        database.drop()


def user_texts(cluster, sender: str) -> list[str]:
    with cluster.db.connect() as conn:
        rows = conn.execute(text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' ORDER BY id"),
                            {"s": sender}).scalars().all()
    return [json.loads(r)["text"] for r in rows]


def test_a_conversation_alternating_between_instances_keeps_its_state(cluster):
    sender = "alternating-1"
    replies = []
    for i, message in enumerate(CONVERSATION):
        status, reply = post(cluster.instance_url(i % 2), sender, message)   # even turns on one, odd on the other
        assert status == 200, reply
        replies.append(texts(reply))
    # "1" typed on the second instance picks the first button the first instance sent
    assert "有苏州户籍" in replies[1] and "项可以享受" in replies[1]
    # the booking form ran across both instances and was filed once
    reference = REFERENCE.search(replies[-1]).group(0)
    with cluster.db.connect() as conn:
        rows = conn.execute(text("SELECT reference, phone, address, addressed_as FROM bookings WHERE sender_id = :s"),
                            {"s": sender}).all()
    assert [tuple(r) for r in rows] == [(reference, PHONE, "姑苏区十全街88号2幢301", "王阿姨")]
    # every turn stored once, in order
    stored = user_texts(cluster, sender)
    assert len(stored) == len(CONVERSATION) and stored[0] == CONVERSATION[0] and stored[2] == "不清楚"


def test_fifty_users_through_nginx_each_booking_stored_exactly_once(cluster):
    run = drive(cluster.url, advisor_script, users=50, rounds=1)
    summary = run.summary()
    print(f"\n50 users through nginx: {summary}")
    assert run.errors == 0, summary
    assert len(run.references) == 50
    refs = [r for r, _ in run.references]
    assert len(set(refs)) == 50
    with cluster.db.connect() as conn:
        stored = dict(conn.execute(text("SELECT reference, phone FROM bookings WHERE sender_id LIKE 'load-%'")).all())
        phone_of = dict(conn.execute(text("SELECT sender_id, phone FROM bookings WHERE sender_id LIKE 'load-%'")).all())
        senders = conn.execute(text("SELECT sender_id, count(*) FROM events WHERE sender_id LIKE 'load-%' "
                                    "AND type_name = 'user' GROUP BY sender_id")).all()
    assert stored == dict(run.references)            # every acknowledged booking, once, with its own phone
    script_length = len(advisor_script(0, 0))
    assert len(senders) == 50 and all(count == script_length for _, count in senders)
    # no conversation holds another's messages: each holds its own phone number (masked, as every
    # stored message is: issue 18) and no other
    for sender, _ in senders:
        said = user_texts(cluster, sender)
        phones = [t for t in said if re.fullmatch(r"1\d{2}\*{4}\d{4}", t)]
        assert phones == [mask_phone(phone_of[sender])], (sender, said)
        assert not any(re.search(r"1\d{10}", t) for t in said), (sender, said)   # never the whole number


def test_kill_one_instance_during_load_the_other_carries_on(cluster):
    result = {}
    load = threading.Thread(target=lambda: result.update(run=drive(cluster.url, advisor_script, users=20, rounds=1)))
    load.start()
    time.sleep(4)
    cluster.kill_instance(0)           # kill -9: no clean shutdown, its Redis tickets left behind
    killed_at = time.perf_counter()
    load.join(timeout=300)
    assert not load.is_alive(), "the load did not finish within 5 minutes after the kill"
    run = result["run"]
    summary = run.summary()
    print(f"\nkill -9 one of two instances under 20 users: {summary} "
          f"failures (s after start, what, s waited): {run.failures}; killed at {killed_at - run.started:.1f} s")
    # users see errors only for turns sent around the kill (in flight on the dead instance, or
    # routed there before nginx marked it down): none for turns sent a second after it
    kill_second = killed_at - run.started
    late = [f for f in run.failures if f[0] > kill_second + 1.0]
    assert not late, f"errors outside the fault window: {late}"
    with cluster.db.connect() as conn:
        stored = dict(conn.execute(text("SELECT reference, phone FROM bookings WHERE sender_id LIKE 'load-%'")).all())
    for reference, phone in run.references:
        assert stored[reference] == phone           # acknowledged bookings are stored, once each
    # after the switch: new and old conversations work on the survivor through nginx
    sender = "after-the-kill"
    for i, message in enumerate(CONVERSATION):
        status, reply = post(cluster.url, sender, message)
        assert status == 200 and "系统出了点问题" not in texts(reply), (message, reply)
    assert REFERENCE.search(texts(reply))

