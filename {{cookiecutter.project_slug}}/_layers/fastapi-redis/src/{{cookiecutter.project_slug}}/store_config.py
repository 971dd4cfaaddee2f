"""Settings of the Redis session store (read from the environment by `config.Settings`)."""

from pydantic import BaseModel


class StoreSettings(BaseModel):
    redis_url: str = "redis://127.0.0.1:6379/0"
