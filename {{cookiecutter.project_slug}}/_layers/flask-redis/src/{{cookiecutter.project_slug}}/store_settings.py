"""The session store's settings: Redis."""

from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class StoreSettings:
    redis_url: str = field(default=DEFAULT_REDIS_URL, repr=False)  # may hold a password

    @staticmethod
    def store_values(env: Mapping[str, str]) -> dict[str, object]:
        return {"redis_url": env.get("REDIS_URL", DEFAULT_REDIS_URL)}

    def store_problems(self) -> list[str]:
        return []
