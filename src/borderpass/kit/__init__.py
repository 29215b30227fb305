"""Shared plumbing: settings, database, errors, i18n, clock, signing. Imports nothing of ours."""
