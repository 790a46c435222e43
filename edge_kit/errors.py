"""Errors edgekit reports to users as one clear line (the CLI prints str(err) and exits non-zero).

EdgekitError, ModelFileError and ConversionError are defined in converters.errors (converters is a leaf
package: it raises them without importing edge_kit) and are the same classes here.
"""
from converters.errors import ConversionError, EdgekitError, ModelFileError

__all__ = ["EdgekitError", "UnknownModelError", "ModelFileError", "UnsupportedOpError", "ConversionError",
           "ParityError", "OutputDirError"]


class UnknownModelError(EdgekitError):
    pass


class UnsupportedOpError(EdgekitError):
    pass


class ParityError(EdgekitError):
    """An artifact was produced but computes different numbers than the Paddle reference."""

    exit_code = 3


class OutputDirError(EdgekitError):
    """The output directory cannot be written (permissions, full disk)."""
