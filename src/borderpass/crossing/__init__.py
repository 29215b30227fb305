"""Crossing: control points, policy, quota, decisions at the border, partners, conversion."""
