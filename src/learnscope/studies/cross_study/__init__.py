"""Study `cross_study`: its plan (``plan``)."""
