"""WeChat state every process shares (migration 0010_wechat_state).

SeenMessages: WeChat retries a POST it got no answer to within 5 s (three times), and any
instance behind the load balancer may get the retry, so "handle once" is an insert that only
one process can win. TokenStore: the 公众号 access token; each issuance invalidates the last
(after a short overlap), so all processes must use one.

Both live in the database by default (shared in every deployment); with the production
profile's Redis (ELDERCARE_REDIS_URL) `make_stores` puts them there instead, where keys expire
by themselves.
"""
from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from .tables import wechat_seen_messages, wechat_tokens

KEEP_SECONDS = 24 * 3600   # WeChat's retries come within seconds; a day is ample for the Redis keys


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _utc(value: dt.datetime) -> dt.datetime:
    # written in UTC (SQLite keeps the wall time and drops the zone), so read back as UTC
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


def _short(key: str) -> str:
    # an event key holds an openid and may be long; beyond the column, its hash stands in
    return key if len(key) <= 128 else "sha1:" + hashlib.sha1(key.encode()).hexdigest()


class SeenMessages:
    def __init__(self, engine: Engine):
        self.engine = engine

    def first_time(self, key: str, now: dt.datetime | None = None) -> bool:
        """True for exactly one caller per key, whichever process or thread asks first."""
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(wechat_seen_messages).values(key=_short(key), seen_at=_utc(now or _utcnow())))
            return True
        except IntegrityError:
            return False

    def forget_older_than(self, cutoff: dt.datetime) -> int:
        with self.engine.begin() as conn:
            table = wechat_seen_messages
            return conn.execute(delete(table).where(table.c.seen_at < _utc(cutoff))).rowcount


class TokenStore:
    def __init__(self, engine: Engine):
        self.engine = engine

    def get(self, app_id: str) -> tuple[str, dt.datetime] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(wechat_tokens.c.token, wechat_tokens.c.expires_at)
                               .where(wechat_tokens.c.app_id == app_id)).first()
        return (row[0], _utc(row[1])) if row else None

    def put(self, app_id: str, token: str, expires_at: dt.datetime) -> None:
        values = dict(token=token, expires_at=_utc(expires_at), updated_at=_utcnow())
        with self.engine.begin() as conn:
            if conn.execute(update(wechat_tokens).where(wechat_tokens.c.app_id == app_id).values(**values)).rowcount:
                return
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(wechat_tokens).values(app_id=app_id, **values))
        except IntegrityError:   # another process inserted it meanwhile: the newer token wins
            with self.engine.begin() as conn:
                conn.execute(update(wechat_tokens).where(wechat_tokens.c.app_id == app_id).values(**values))


class RedisSeenMessages:
    def __init__(self, client, prefix: str = "eldercare:wechat:seen:", keep_seconds: int = KEEP_SECONDS):
        self.client, self.prefix, self.keep_seconds = client, prefix, keep_seconds

    def first_time(self, key: str, now: dt.datetime | None = None) -> bool:
        return bool(self.client.set(self.prefix + _short(key), 1, nx=True, ex=self.keep_seconds))

    def forget_older_than(self, cutoff: dt.datetime) -> int:
        return 0   # the keys expire on their own


class RedisTokenStore:
    def __init__(self, client, prefix: str = "eldercare:wechat:token:"):
        self.client, self.prefix = client, prefix

    def get(self, app_id: str) -> tuple[str, dt.datetime] | None:
        found = self.client.hmget(self.prefix + app_id, "token", "expires_at")
        if not found or found[0] is None or found[1] is None:
            return None
        return found[0].decode(), dt.datetime.fromtimestamp(float(found[1]), dt.timezone.utc)

    def put(self, app_id: str, token: str, expires_at: dt.datetime) -> None:
        key = self.prefix + app_id
        with self.client.pipeline() as pipe:
            pipe.hset(key, mapping={"token": token, "expires_at": expires_at.timestamp()})
            pipe.expireat(key, int(expires_at.timestamp()) + 60)
            pipe.execute()


def make_stores(engine: Engine, redis_url: str | None = None):
    """(SeenMessages, TokenStore): in Redis when the deployment has one, else the database."""
    if redis_url:
        import redis
        client = redis.Redis.from_url(redis_url, socket_timeout=2)
        return RedisSeenMessages(client), RedisTokenStore(client)
    return SeenMessages(engine), TokenStore(engine)
