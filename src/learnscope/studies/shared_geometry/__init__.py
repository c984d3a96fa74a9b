"""Study `shared_geometry`: its plan (``plan``)."""
