"""Evidence: ingestion of lab results and vaccinations, and officers' records.

The evidence domain's public face: other domains, the HTTP layer, the command line, the
demo and the tests call these names, and ``wiring`` connects the ``on_*`` event handlers
through it. The behaviour lives in modules named for what it does: ``sources``
(laboratories, registries and their batches), ``records`` (what officers record, and
evidence attached to or detached from people) and ``facts`` (what the rules need to
know, check-in facts, the orders and areas in force).
"""

from __future__ import annotations

from borderpass.evidence.facts import (
    FACTS_CHUNK,
    evidence_of,
    facts_change_at_many,
    facts_for,
    facts_for_many,
    facts_version,
    facts_version_columns,
    facts_version_of,
    high_risk_areas,
    orders_at_venues,
    purge_checkin_facts,
    replace_checkin_facts,
    testing_orders_in_force,
)
from borderpass.evidence.records import (
    latest_test_collected,
    lift_flag,
    on_holder_proven,
    on_person_deleted,
    record_flag,
    record_high_risk_area,
    record_testing_order,
    record_travel,
)
from borderpass.evidence.sources import (
    SOURCE_KINDS,
    BatchRejected,
    create_source,
    find_source,
    ingest,
    rotate_source_key,
    source_kind,
)
from borderpass.evidence.venues import (
    UnknownVenue,
    find_venues,
    reset_venue_directory,
    search_venues,
    use_venue_directory,
)

__all__ = [
    "BatchRejected",
    "FACTS_CHUNK",
    "SOURCE_KINDS",
    "UnknownVenue",
    "create_source",
    "evidence_of",
    "facts_change_at_many",
    "facts_for",
    "facts_for_many",
    "facts_version",
    "facts_version_columns",
    "facts_version_of",
    "find_source",
    "find_venues",
    "high_risk_areas",
    "ingest",
    "latest_test_collected",
    "lift_flag",
    "on_holder_proven",
    "on_person_deleted",
    "orders_at_venues",
    "purge_checkin_facts",
    "record_flag",
    "record_high_risk_area",
    "record_testing_order",
    "record_travel",
    "replace_checkin_facts",
    "reset_venue_directory",
    "rotate_source_key",
    "search_venues",
    "source_kind",
    "testing_orders_in_force",
    "use_venue_directory",
]
