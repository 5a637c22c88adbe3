"""Allow ``python -m perfgate``."""

from perfgate.cli import main

main()
