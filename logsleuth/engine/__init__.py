"""Scan engines: the app-log chunk parser, map/reduce units and their executors."""
