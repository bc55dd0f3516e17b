"""Load the real Lambda handlers (``functions/<name>/app.py``) in-process, and a fake Lambda context.

``functions/`` is not a package (each folder is one Lambda's code root), so handlers are loaded
from their file path; each gets a unique module name so two ``app.py`` files never collide.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from norcekit.wiring import Components

#: The repository root (…/local/norcekit_local/handlers.py → …).
REPO_ROOT = Path(__file__).resolve().parents[2]

Handler = Callable[[dict[str, Any], Any], Any]

_lock = threading.Lock()
_loaded: dict[str, ModuleType] = {}


def functions_dir(root: Path | None = None) -> Path:
    return (root or REPO_ROOT) / "functions"


def load_module(name: str, *, fresh: bool = False, root: Path | None = None) -> ModuleType:
    """``functions/<name>/app.py`` as a module (cached; ``fresh=True`` re-imports it, so module-level
    caches such as clients built from settings start empty)."""
    path = functions_dir(root) / name / "app.py"
    if not path.is_file():
        raise FileNotFoundError(f"no Lambda handler at {path}")
    with _lock:
        if not fresh and name in _loaded:
            return _loaded[name]
        module_name = f"norcekit_functions_{name}_{uuid.uuid4().hex[:8]}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        _loaded[name] = module
        return module


def load_handler(name: str, *, fresh: bool = False, root: Path | None = None) -> Handler:
    """The ``handler`` function of ``functions/<name>/app.py`` (its objects built from the environment)."""
    handler: Handler = load_module(name, fresh=fresh, root=root).handler
    return handler


def load_handler_with(name: str, build: Callable[..., Components], *, root: Path | None = None) -> Handler:
    """A fresh ``functions/<name>/app.py`` whose objects come from ``build(metrics=<the module's>)``,
    like a new Lambda container configured by settings passed in, not by ``os.environ``."""
    module = load_module(name, fresh=True, root=root)
    module.components.provide(build(metrics=module.metrics))
    handler: Handler = module.handler
    return handler


@dataclass
class FakeLambdaContext:
    """Enough of ``LambdaContext`` for Powertools (logger, metrics, batch) and our deadlines."""

    function_name: str = "local"
    timeout_s: float = 30.0
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:eu-north-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self._started)) * 1000))
