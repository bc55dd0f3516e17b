"""``python -m norcekit_local.demo``."""

import sys

from .run import main

sys.exit(main())
