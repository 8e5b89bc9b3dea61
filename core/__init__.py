"""Shared plumbing: typed config, the Spark session, the data contract, I/O and privacy."""
