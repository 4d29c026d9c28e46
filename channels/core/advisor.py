"""The advisor as every channel reaches it: its REST channel (numbered choices resolved there)."""
from __future__ import annotations

import logging

import httpx

logger = logging.getLogger(__name__)


class AdvisorClient:
    def __init__(self, url: str, timeout: float = 60):
        self.url = url.rstrip("/")
        self.http = httpx.AsyncClient(timeout=timeout)

    async def relay(self, key: str, text: str) -> list[dict] | None:
        """The advisor's replies to one message, or None when it cannot be reached."""
        try:
            reply = await self.http.post(f"{self.url}/webhooks/rest/webhook", json={"sender": key, "message": text})
            if reply.status_code != 503:   # 503 carries the advisor's own apology (a service is down)
                reply.raise_for_status()
            return reply.json()
        except (httpx.HTTPError, ValueError):
            logger.warning("advisor unreachable for one chat")
            return None

    async def close(self) -> None:
        await self.http.aclose()
