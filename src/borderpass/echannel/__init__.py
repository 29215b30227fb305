"""Contactless e-Channel: enrolment, the smart ID card, gate 1 (app QR or card), gate 2 (face)."""
