"""This project's session engine, made as strict as Django's database engine.

Like a database query, every synchronous store call raises SynchronousOnlyOperation when
made inside an event loop; views must load the session through the async API first.
"""

from importlib import import_module

from django.conf import settings
from django.utils.asyncio import async_unsafe

Engine = import_module(settings.SESSION_ENGINE).SessionStore


class SessionStore(Engine):
    load = async_unsafe(Engine.load)
    exists = async_unsafe(Engine.exists)
    create = async_unsafe(Engine.create)
    save = async_unsafe(Engine.save)
    delete = async_unsafe(Engine.delete)
