"""Benchmarks of orgledger against the baselines its users would otherwise write.

Not tests: they print ratios against baselines measured in the same run, and
nothing here decides whether CI passes. `python -m benchmarks.run` measures;
`python -m benchmarks.scaling` draws how snapshot and diff grow with size.
"""
