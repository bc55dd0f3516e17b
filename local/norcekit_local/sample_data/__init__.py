"""Bundled sample ERP export (file-drop layout) for the local stack, demo, tests and benchmarks."""
