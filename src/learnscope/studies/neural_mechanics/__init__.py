"""Study `neural_mechanics`: its plan (``plan``)."""
