"""Rules: the CertLogic evaluator, rule sets as data, and the status they give."""
