"""Settings of the MongoDB session store (read from the environment by `config.Settings`)."""

from pydantic import BaseModel


class StoreSettings(BaseModel):
    mongodb_url: str = "mongodb://127.0.0.1:27017/{{ cookiecutter.project_slug }}"
