"""Settings of the in-process session store (read from the environment by `config.Settings`)."""

from pydantic import BaseModel, Field


class StoreSettings(BaseModel):
    session_memory_max_entries: int = Field(default=10_000, gt=0)
