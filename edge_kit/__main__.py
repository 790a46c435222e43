"""`python -m edge_kit ...` is the `edgekit` command (useful when the venv's bin/ is not on PATH)."""
import sys

from edge_kit.cli import main

if __name__ == "__main__":
    sys.exit(main())
