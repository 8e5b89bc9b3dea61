"""Benchmarks for realname-guard: the stage harness and single-machine references (not tests)."""
