"""Incident analysis over the merged evidence: templates, leaks, attribution, onset.

Every function here is pure and vectorised over pandas/Arrow columns; the scan
wires them together (see ``incident.analyze_incident``). Submodules are imported
explicitly by callers so that importing the package does no work.
"""
