"""The web layer: the FastAPI app, JSON endpoints and pages."""
