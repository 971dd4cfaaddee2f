"""Settings of the SQL database session store (read from the environment by `config.Settings`)."""

from pydantic import BaseModel


class StoreSettings(BaseModel):
    # A relative SQLite path counts from the directory the app runs in.
    database_url: str = "sqlite:///instance/sessions.sqlite3"
