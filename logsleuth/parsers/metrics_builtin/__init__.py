"""Built-in metric definitions (YAML); a package so the files ship in the wheel."""
