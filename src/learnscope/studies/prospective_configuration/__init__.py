"""Study `prospective_configuration`: its plan (``plan``)."""
