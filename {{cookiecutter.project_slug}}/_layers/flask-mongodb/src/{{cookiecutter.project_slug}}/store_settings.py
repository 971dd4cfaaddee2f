"""The session store's settings: MongoDB."""

from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_MONGODB_URL = "mongodb://127.0.0.1:27017/{{ cookiecutter.project_slug }}"


@dataclass(frozen=True)
class StoreSettings:
    mongodb_url: str = field(default=DEFAULT_MONGODB_URL, repr=False)  # may hold a password

    @staticmethod
    def store_values(env: Mapping[str, str]) -> dict[str, object]:
        return {"mongodb_url": env.get("MONGODB_URL", DEFAULT_MONGODB_URL)}

    def store_problems(self) -> list[str]:
        return []
