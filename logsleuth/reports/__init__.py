"""Renderers of scan results: console, JSON, SARIF, JUnit, GitHub, HTML."""
