"""Dated policy parameters of the insured pooling regions (参保地政策), OpenFisca style.

`params.at(region, date)` answers the typed `RegionPolicy` in force at that date; `check_tree()` validates
a whole tree. Values live in YAML under `data/` (and any YIDI_PARAMETER_DIRS), never in code.
"""
