"""The session store's settings: memory."""

from collections.abc import Mapping
from dataclasses import dataclass

from .environment import whole_number

DEFAULT_MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class StoreSettings:
    session_memory_max_entries: int = DEFAULT_MAX_ENTRIES  # the oldest go first beyond this

    @staticmethod
    def store_values(env: Mapping[str, str]) -> dict[str, object]:
        max_entries = whole_number(env, "SESSION_MEMORY_MAX_ENTRIES", DEFAULT_MAX_ENTRIES)
        return {"session_memory_max_entries": max_entries}

    def store_problems(self) -> list[str]:
        if self.session_memory_max_entries <= 0:
            return ["SESSION_MEMORY_MAX_ENTRIES must be a positive number"]
        return []
