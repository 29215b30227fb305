"""A development mailbox that takes its time, for the topology test: a job is then long
enough to be killed in the middle of. Each hand-over is noted in ``sends.txt`` beside the
mailbox, so that a message handed over twice would show."""

from __future__ import annotations

import os
import time

from borderpass.kit.outbox import Delivery, MailboxSender

__all__ = ["SlowMailbox"]


class SlowMailbox(MailboxSender):
    """The mailbox, each message taking ``SLOW_MAILBOX_SECONDS`` (0.2 by default)."""

    def send(self, delivery: Delivery) -> None:
        time.sleep(float(os.environ.get("SLOW_MAILBOX_SECONDS", "0.2")))
        super().send(delivery)
        fd = os.open(self.folder.parent / "sends.txt", os.O_WRONLY | os.O_APPEND | os.O_CREAT,
                     0o600)
        with os.fdopen(fd, "a", encoding="ascii") as noted:
            noted.write(f"{delivery.id}\n")
