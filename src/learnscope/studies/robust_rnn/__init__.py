"""Study `robust_rnn`: its plan (``plan``)."""
