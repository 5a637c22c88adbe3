"""Helpers shared by several test directories (``golden.py``) import from ``tests/``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
