"""Reading the app's settings from environment variables: errors that name the variable."""

from collections.abc import Mapping


class SettingsError(Exception):
    """The settings cannot run the app: one line per problem, naming the setting to fix."""

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def whole_number(env: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(env.get(name, default))
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {env[name]!r}") from None
