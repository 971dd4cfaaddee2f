"""What a store was asked meanwhile: each backend's `store.store_traffic(app)` fills this."""

from dataclasses import dataclass, field


@dataclass
class Traffic:
    reads: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)
