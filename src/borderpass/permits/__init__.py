"""Permits: endorsement applications, appointments, review and decisions."""
