"""Helpers shared by the tests (importable as ``helpers``: pyproject.toml's pytest ``pythonpath`` puts tests/ on the
import path). Fixtures shared across test folders are in tests/conftest.py."""
