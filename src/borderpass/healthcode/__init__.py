"""Health Code: signed QR codes of a person's status, the trust list, revocation, verification."""
