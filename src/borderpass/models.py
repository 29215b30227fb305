"""Every domain's tables, gathered for the migrations. Nothing else imports this."""

from __future__ import annotations

from borderpass.checkin import models as checkin_models
from borderpass.crossing import models as crossing_models
from borderpass.crossing import partner_models as crossing_partner_models
from borderpass.echannel import models as echannel_models
from borderpass.evidence import models as evidence_models
from borderpass.healthcode import models as healthcode_models
from borderpass.healthcode import partner_models as healthcode_partner_models
from borderpass.healthcode import population_models as healthcode_population_models
from borderpass.identity import models as identity_models
from borderpass.kit import outbox as kit_outbox
from borderpass.kit import sessions as kit_sessions
from borderpass.kit.db import Base
from borderpass.permits import models as permits_models
from borderpass.rules import models as rules_models

__all__ = ["metadata"]

metadata = Base.metadata
_DOMAINS = (
    kit_outbox, kit_sessions,
    identity_models, evidence_models, echannel_models, rules_models, healthcode_models,
    permits_models, checkin_models, healthcode_partner_models, crossing_partner_models,
    healthcode_population_models,
    crossing_models,
)
