"""Study `identify_rules`: its plan (``plan``)."""
