"""The crossing: control points, the crossing policy, quarantine-free quotas and the
decision at the border.

The crossing domain's public face: the HTTP layer, the command line, the demo and the
tests call these names. The behaviour lives in modules named for what it does: ``policy``
(the crossing policy as data, its versions and its evaluation), ``quota`` (control
points, daily quotas, bookings) and ``decisions`` (the facts, the decision, its record).
"""

from __future__ import annotations

from borderpass.crossing.decisions import (
    CHANNELS,
    DECIDER_ROLES,
    Decision,
    DecisionNotFound,
    Verifier,
    checkin_days,
    decide,
    decision_view,
    decisions_today,
    get_decision,
    record_view,
)
from borderpass.crossing.policy import (
    ForeignPolicy,
    InvalidPolicy,
    NoCrossingPolicy,
    PolicyExists,
    PolicyNotFound,
    activate,
    active_policy,
    default_document,
    list_policies,
    load,
    policy_view,
)
from borderpass.crossing.policy import view as version_view
from borderpass.crossing.quota import (
    BOOKING_DAYS,
    QUOTA_ROLES,
    AlreadyBooked,
    BookingClosed,
    BookingNotFound,
    ControlPointNotFound,
    NoQuota,
    QuotaFull,
    add_control_point,
    book,
    booking_view,
    cancel,
    close_past_days,
    control_point,
    control_point_name,
    ensure_control_points,
    list_control_points,
    my_bookings,
    quotas,
    set_quota,
)

__all__ = [
    "BOOKING_DAYS",
    "CHANNELS",
    "DECIDER_ROLES",
    "QUOTA_ROLES",
    "AlreadyBooked",
    "BookingClosed",
    "BookingNotFound",
    "ControlPointNotFound",
    "Decision",
    "DecisionNotFound",
    "ForeignPolicy",
    "InvalidPolicy",
    "NoCrossingPolicy",
    "NoQuota",
    "PolicyExists",
    "PolicyNotFound",
    "QuotaFull",
    "Verifier",
    "activate",
    "active_policy",
    "add_control_point",
    "book",
    "booking_view",
    "cancel",
    "checkin_days",
    "close_past_days",
    "control_point",
    "control_point_name",
    "decide",
    "decision_view",
    "decisions_today",
    "default_document",
    "ensure_control_points",
    "get_decision",
    "list_control_points",
    "list_policies",
    "load",
    "my_bookings",
    "policy_view",
    "quotas",
    "record_view",
    "set_quota",
    "version_view",
]
