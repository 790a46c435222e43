"""Unary Paddle ops that Paddle 3.3 no longer traces into a legacy program.

F.sigmoid and paddle.log take PIR Values only; under FLAGS_enable_pir_api=0 (the legacy .pdmodel that
Paddle-Lite 2.13 reads) they raise a TypeError while tracing. The legacy op is appended directly, as
Paddle 2.x wrote it; eager and PIR modes call the ordinary function.
"""
from __future__ import annotations

import paddle


def unary(op_type: str, x):
    """`sigmoid` or `log` of x in any mode (the op type is also the paddle function's name)."""
    if paddle.in_dynamic_mode() or paddle.framework.in_pir_mode():
        fn = paddle.nn.functional.sigmoid if op_type == "sigmoid" else getattr(paddle, op_type)
        return fn(x)
    from paddle.base.layer_helper import LayerHelper

    helper = LayerHelper(op_type)
    out = helper.create_variable_for_type_inference(x.dtype)
    helper.append_op(type=op_type, inputs={"X": [x]}, outputs={"Out": [out]})
    return out
