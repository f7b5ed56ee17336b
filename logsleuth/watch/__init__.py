"""``logsleuth watch``: follow live logs and warn before the failure.

``follow`` keeps the file set ``scan`` reads (by identity, through renames, late
compression and truncation), ``state`` feeds the scan's collectors batch by batch and
finalizes them into the scan's result, ``events`` turns results into events against
what was already said, ``sinks`` sends them on (JSON lines, webhook, Prometheus),
``view`` draws the live terminal view, and ``run`` is the loop. Nothing is imported
here: the CLI and callers import the module they need.
"""
