"""The session store's settings: a SQL database."""

from collections.abc import Mapping
from dataclasses import dataclass, field

# A file in the project's instance/ folder, relative to the directory the app starts in.
DEFAULT_DATABASE_URL = "sqlite:///instance/sessions.sqlite3"


@dataclass(frozen=True)
class StoreSettings:
    database_url: str = field(default=DEFAULT_DATABASE_URL, repr=False)  # may hold a password

    @staticmethod
    def store_values(env: Mapping[str, str]) -> dict[str, object]:
        return {"database_url": env.get("DATABASE_URL", DEFAULT_DATABASE_URL)}

    def store_problems(self) -> list[str]:
        return []
