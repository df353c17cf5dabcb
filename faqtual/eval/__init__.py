"""Evaluation: pure metrics and the harness that runs labeled questions."""
