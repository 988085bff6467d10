"""What the on-call use cases need besides the context: links, and what an ack implies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from warroom.services.ports.oncall import AckLinks

COMMANDER_CHOICES = ("offer", "make", "off")


@dataclass(frozen=True)
class OncallConfig:
    """``links`` signs one-tap ack links (None: notifications carry no link; set
    ``secret_key`` and ``notify.base_url``). ``commander``: when the incident has no
    commander, the first person to acknowledge is offered the role (``offer``), given it
    (``make``), or neither (``off``). ``batch`` bounds the pages one tick advances."""

    links: AckLinks | None = None
    base_url: str | None = None
    commander: str = "offer"
    batch: int = 500
    actor: str = "oncall"

    def ack_url(self, page_id: int, person: str) -> str | None:
        if self.links is None or not self.base_url:
            return None
        return f"{self.base_url.rstrip('/')}/ack/{self.links.sign(page_id, person)}"
