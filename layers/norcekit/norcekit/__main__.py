"""``python -m norcekit``: the operator CLI."""

import sys

from norcekit.cli import main

if __name__ == "__main__":
    sys.exit(main())
