"""What every part of the e-Channel's service does to its records: find a document by its
blind index, and close an enrolment (its template and device key deleted)."""

from __future__ import annotations

from datetime import datetime

from borderpass.echannel.models import Enrolment
from borderpass.kit.signing import blind_index

__all__ = ["close", "doc_index"]


def doc_index(number: str) -> str:
    """Return the blind index of a normalised HKID number."""
    return blind_index("echannel.hkid", number)


def close(enrolment: Enrolment, status: str, by: str, now: datetime) -> None:
    """Close an enrolment: the face template and the device key are deleted."""
    enrolment.status = status
    enrolment.template_sealed = None
    enrolment.device_kid = None
    enrolment.device_key = None
    enrolment.withdrawn_at = now
    enrolment.withdrawn_by = by
