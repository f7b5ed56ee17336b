"""Built-in layout files (package data); see logsleuth.layouts.library."""
