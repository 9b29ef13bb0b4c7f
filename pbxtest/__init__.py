"""Test tooling for the PBX, kept out of the product: `pip install .` does not install this package.

The tests and the benchmark import it from the repository root (pytest's ``pythonpath``, ``python -m``).
"""
