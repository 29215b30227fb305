"""Venue check-in: venues, posters, exposure lists, the phone-side client, uploads."""
