"""Django's database session engine, telling an outage from a missing session.

Rows past their `expire_date` read as missing (the stock engine's own rule) and are deleted
by `python manage.py clearsessions`, and by the app itself about once an hour. Any error
reaching the database becomes SessionStoreUnavailable, which the app answers with a 503
(the stock engine would turn a failed save into "session deleted meanwhile", a 400).
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.sessions.backends.base import CreateError, UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from .errors import SessionStoreUnavailable, store_outage
from .session_engine import SlidingSession

CLEANUP_INTERVAL = 60 * 60  # seconds between two deletions of expired rows by this process

_next_cleanup = 0.0


@contextmanager
def reaching_database() -> Iterator[None]:
    try:
        yield
    except DatabaseError as error:
        # Visitors only learn that the store is out of reach; the log says why (errors.py).
        # A missing table means that `python manage.py migrate` has not run on it.
        raise SessionStoreUnavailable("SQL database") from error
    store_outage.answered()


class SessionStore(DatabaseSessionStore, SlidingSession):
    def _get_session_from_db(self) -> Any:
        with reaching_database():
            return self._loaded(super()._get_session_from_db())

    async def _aget_session_from_db(self) -> Any:
        with reaching_database():
            return self._loaded(await super()._aget_session_from_db())

    def _loaded(self, row: Any) -> Any:
        self.stored_until = None if row is None else row.expire_date
        return row

    def exists(self, session_key: str | None) -> bool:
        unexpired = self.model.objects.filter(
            session_key=session_key, expire_date__gt=timezone.now()
        )
        with reaching_database():
            return unexpired.exists()

    async def aexists(self, session_key: str | None) -> bool:
        return await sync_to_async(self.exists)(session_key)

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        if self.touch_pending:
            return self.touch()
        fields = {
            "session_data": self.encode(self._get_session(no_load=must_create)),
            "expire_date": self.get_expiry_date(),
        }
        with reaching_database():
            if must_create:
                delete_expired_sessions_now_and_then()
                try:
                    with transaction.atomic():
                        self.model.objects.create(session_key=self.session_key, **fields)
                except IntegrityError:
                    raise CreateError from None  # The new key was taken meanwhile.
            else:
                rows = self.model.objects.filter(session_key=self.session_key)
                if not rows.update(**fields):
                    raise UpdateError  # Deleted meanwhile, by a sign-out elsewhere.
        self._saved(fields["expire_date"])
        return None

    async def asave(self, must_create: bool = False) -> None:
        await sync_to_async(self.save)(must_create)

    def touch_records(self, session_keys: list[str], until: datetime) -> None:
        # UPDATE of the expiry column only.
        with reaching_database():
            self.model.objects.filter(session_key__in=session_keys).update(expire_date=until)

    def delete(self, session_key: str | None = None) -> None:
        session_key = session_key or self.session_key
        if session_key is None:
            return
        with reaching_database():
            self.model.objects.filter(session_key=session_key).delete()

    async def adelete(self, session_key: str | None = None) -> None:
        await sync_to_async(self.delete)(session_key)


def delete_expired_sessions_now_and_then() -> None:
    """Expired rows are never read; this keeps the table from growing with them."""
    global _next_cleanup
    if time.monotonic() >= _next_cleanup:
        _next_cleanup = time.monotonic() + CLEANUP_INTERVAL
        SessionStore.clear_expired()
