"""Synthetic clinic extracts: the generator and the messy variant with listed bad rows."""
