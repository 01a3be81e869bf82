"""Filing (异地就医备案): kinds, rules, review workflow and the coverage decision used by settlement."""
