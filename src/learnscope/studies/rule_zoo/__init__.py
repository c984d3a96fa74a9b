"""Study `rule_zoo`: its plan (``plan``)."""
