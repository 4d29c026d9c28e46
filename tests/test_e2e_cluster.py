"""Several instances as in production (`eldercare cluster`): two Rasa servers and two action
servers behind Debian's nginx (round-robin), a fresh PostgreSQL database for trackers, KB and
bookings, Redis as the lock store. The last test kills one Rasa instance under load."""
from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from dataclasses import replace

import pytest
from sqlalchemy import create_engine, text

from app.cluster import LOCK_LIFETIME
from bench.load import REFERENCE, Run, advisor_script, drive
from cluster_support import FreshDatabase, LogWatch, lock_tickets, need_binary, post, texts, wait_for
from conftest import need_service
from storage.masking import mask_phone
from storage.settings import Settings

pytestmark = [pytest.mark.e2e, pytest.mark.services]
PHONE = "13955501234"
LOCK_POLL = 1.0   # a turn waiting for a conversation's lock looks again once a second (Rasa's LockStore.lock)
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


def reachable_rest(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/webhooks/rest/", timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


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
    """kill -9 one of two instances under load; the supervisor restarts it. Asserted on what
    happened in this run, not on wall-clock windows, so it holds on a slow machine: the kill,
    nginx marking the instance down (its error log), the expiry of the locks the dead instance
    held (Redis), the restart, and one turn's time measured in the same run."""
    dead_port = cluster.rasa_ports[0]
    nginx_log = LogWatch(cluster.prefix / "error.log")
    run = Run(users=20)
    load = threading.Thread(target=drive, args=(cluster.url, advisor_script, 20, 1, run))
    load.start()
    try:
        # the kill once every conversation is under way: turns in flight on both instances
        wait_for(lambda: len({t.sender for t in run.turns if t.index >= 2}) == 20 or not load.is_alive(),
                 300, "the load reaching its third turn")
        assert load.is_alive(), "the load ended before the kill"
        kill_sent = time.perf_counter()
        cluster.kill_instance(0)           # kill -9: no clean shutdown, its Redis tickets left behind
        killed = time.perf_counter()
        held = lock_tickets(cluster.settings.redis_url)   # the dead instance's tickets are among these
        assert cluster.replace_exited()    # the restart, as `eldercare cluster` does within 0.5 s
        load.join(timeout=900)             # a hang guard only: the waits are bounded below
        assert not load.is_alive(), "the load hung after the kill"
    finally:
        nginx_log.stop()
    logged = nginx_log.first("upstream server temporarily disabled", f"127.0.0.1:{dead_port}")
    assert logged is not None, "nginx never marked the dead instance down"
    # nginx logs that line before it answers the turn that failed there; the log is read every
    # 20 ms (later on a busy machine), so that answer may be the earlier sign
    failed = [t for t in run.turns if not t.ok]
    marked_down = min([logged] + [run.started + t.started + t.elapsed for t in failed])
    # the dead instance's locks: the first ticket, issued before the kill, of each conversation
    # whose turn then failed (a turn that was answered had given its ticket back first)
    clock = time.time() - time.perf_counter()          # tickets expire in time.time()
    dead_locks = {t.sender: held[t.sender][0]["expires"] - clock for t in failed if held.get(t.sender)
                  and held[t.sender][0]["expires"] - clock - LOCK_LIFETIME <= kill_sent}
    locks_expired = max(dead_locks.values(), default=killed)
    queued = {(t.sender, t.index + 1) for t in failed if t.sender in dead_locks}   # behind a dead lock
    # one turn: the slowest turn that neither failed nor queued behind a dead lock, in this run (so
    # it grows with a slow machine); no turn may wait longer than the lifetime, Rasa's re-check
    # of a lock it waits for, and that
    one_turn = max(t.elapsed for t in run.turns if t.ok and (t.sender, t.index) not in queued)
    bound = LOCK_LIFETIME + LOCK_POLL + one_turn
    at = lambda moment: f"{moment - run.started:.2f} s"  # noqa: E731
    timeline = (f"killed {at(killed)}, nginx marked it down {at(marked_down)}, its {len(dead_locks)} locks expired "
                f"by {at(locks_expired)}; one turn {one_turn:.2f} s, so no wait over {bound:.2f} s")
    slow = [(round(t.started, 2), round(t.elapsed, 2), t.what, t.sender) for t in run.turns
            if not t.ok or t.elapsed > one_turn]
    print(f"\nkill -9 one of two instances under 20 users: {run.summary()}\n{timeline}\n"
          f"failed or waited longer than one turn (start s, waited s, reply, conversation): {slow}")
    assert len(run.turns) == 20 * len(advisor_script(0, 0)), "a conversation did not run to its end"
    waited_too_long = [t for t in run.turns if t.elapsed > bound]
    assert not waited_too_long, f"{waited_too_long}; {timeline}"
    # errors only for turns sent before nginx marked the instance down (in flight on it, or sent
    # to it just before); every turn sent after, including those queued behind its locks, served
    late = [t for t in failed if run.started + t.started > marked_down]
    assert not late, f"errors after nginx marked the instance down: {late}; {timeline}"
    # a turn queued behind a dead instance's lock was answered only once that lock had expired:
    # no two instances ever had one conversation's turn at once
    for t in run.turns:
        if (t.sender, t.index) in queued:
            assert run.started + t.started + t.elapsed >= dead_locks[t.sender], (t, timeline)
    with cluster.db.connect() as conn:
        stored = conn.execute(text("SELECT reference, phone, sender_id FROM bookings "
                                   "WHERE sender_id LIKE 'load-%'")).all()
    references = [r for r, _, _ in stored]
    phones = {r: phone for r, phone, _ in stored}
    for reference, phone in run.references:       # acknowledged bookings are stored, once each
        assert references.count(reference) == 1 and phones[reference] == phone, reference
    senders = [s for _, _, s in stored]
    assert len(senders) == len(set(senders)), "a conversation filed its booking twice"
    # after the kill: a new conversation through nginx, while the dead instance restarts
    for message in CONVERSATION:
        sent = time.perf_counter()
        status, reply = post(cluster.url, "after-the-kill", message)
        assert status == 200 and "系统出了点问题" not in texts(reply), (message, reply)
        assert time.perf_counter() - sent <= bound, (message, timeline)
    assert REFERENCE.search(texts(reply))
    # the restart: the instance answers again and shares the state, in a conversation alternating
    # between the two instances, and in one more through nginx
    restarted = wait_for(lambda: reachable_rest(cluster.instance_url(0)), 300, "the restart")
    print(f"restarted {at(restarted)}")
    for sender, url in (("after-the-restart", lambda i: cluster.instance_url(i % 2)),
                        ("after-the-restart-nginx", lambda i: cluster.url)):
        for i, message in enumerate(CONVERSATION):
            sent = time.perf_counter()
            status, reply = post(url(i), sender, message)
            assert status == 200 and "系统出了点问题" not in texts(reply), (message, reply)
            assert time.perf_counter() - sent <= bound, (message, timeline)
        assert REFERENCE.search(texts(reply))
