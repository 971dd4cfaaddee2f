"""What a test counts of the store's traffic (each backend's tests/store.py counts it)."""

from dataclasses import dataclass


@dataclass
class Traffic:
    reads: int = 0
    writes: int = 0  # writes of session data, creations and deletions
    touches: int = 0  # writes of an expiry only
