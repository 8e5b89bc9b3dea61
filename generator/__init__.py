"""Synthetic worlds: every input table of the contract plus ground truth, deterministic by seed."""
