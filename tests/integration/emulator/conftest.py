"""Makes the emulator fixtures available here even when the project conftest does not list the plugin.

If a root conftest already loaded ``tests.fixtures.emulator`` via ``pytest_plugins``, nothing is re-registered
(re-importing the fixtures here would start a second session server).
"""

from __future__ import annotations

import sys
from pathlib import Path

if "tests.fixtures.emulator" not in sys.modules:
    _ROOT = Path(__file__).resolve().parents[3]
    if str(_ROOT) not in sys.path:  # `tests.fixtures` must be importable however pytest was started
        sys.path.insert(0, str(_ROOT))

    from tests.fixtures.emulator import (  # noqa: F401
        emulator,
        emulator_config,
        emulator_factory,
        emulator_headers,
        emulator_http,
        emulator_server,
        emulator_token,
    )
