"""Classification: the diagnosis-code catalogue (:mod:`.codes`) and the HTTP status registry.

Turns what came over the wire into a named cause with an explanation and fix steps.
"""
