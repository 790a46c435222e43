"""Paddle's ProgramDesc protobuf module, loaded without importing paddle itself.

`import paddle` takes seconds and prints warnings; reading or rewriting a .pdmodel needs only the
generated protobuf module, which depends on nothing but google.protobuf.
"""
from __future__ import annotations

import importlib.util
import sys
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def framework_pb2():
    if "paddle.base.proto.framework_pb2" in sys.modules:
        return sys.modules["paddle.base.proto.framework_pb2"]
    spec = importlib.util.find_spec("paddle")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("paddlepaddle is not installed")
    path = Path(list(spec.submodule_search_locations)[0]) / "base" / "proto" / "framework_pb2.py"
    mod_spec = importlib.util.spec_from_file_location("edgekit_paddle_framework_pb2", path)
    module = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(module)
    return module
