"""How much storage a zoo model's weights take, to hold against the seed's storage_mb column."""
from __future__ import annotations

import numpy as np


def param_storage_mb(spec) -> float:
    """fp32 bytes of every parameter and persistable buffer (BN running mean/var) / 1e6.

    Built without initialisation: only shapes matter. state_dict() holds exactly what an exported
    .pdiparams holds (trainable weights, BN statistics), shared tensors counted once by name.
    """
    layer = spec.build()
    total = sum(int(np.prod(t.shape)) for t in layer.state_dict().values())
    return total * 4 / 1e6
