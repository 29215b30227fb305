"""Every domain's tables, gathered for the migrations. Nothing else imports this."""

from __future__ import annotations

from borderpass.checkin import models as checkin_models
from borderpass.evidence import models as evidence_models
from borderpass.identity import models as identity_models
from borderpass.kit.db import Base

__all__ = ["metadata"]

metadata = Base.metadata
_DOMAINS = (identity_models, evidence_models, checkin_models)
