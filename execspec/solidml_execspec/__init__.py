"""SolidML executable specification: spec.md written out in Python, from the text alone."""
