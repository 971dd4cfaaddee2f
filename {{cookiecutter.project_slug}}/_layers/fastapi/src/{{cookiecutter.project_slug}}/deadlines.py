"""How long a request waits for Logto: the SDK's HTTP calls have no timeout of their own."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from .logto_client import LogtoUnreachableError

LOGTO_TIMEOUT_SECONDS = 10.0


@asynccontextmanager
async def logto_deadline() -> AsyncIterator[None]:
    """Give up on Logto after LOGTO_TIMEOUT_SECONDS, as if it were unreachable (502 page)."""
    try:
        async with asyncio.timeout(LOGTO_TIMEOUT_SECONDS):
            yield
    except TimeoutError as error:
        raise LogtoUnreachableError(f"no answer within {LOGTO_TIMEOUT_SECONDS} s") from error
