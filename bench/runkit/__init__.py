"""The parts of bench/run.py: the servers it compares, the cases, the report."""
