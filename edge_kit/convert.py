"""The public entry point of a conversion: `from edge_kit.convert import convert`.

The pipeline itself lives in edge_kit.conversion (run: convert(); stages; int8_stages; sources; graphs;
cache; fingerprint); this module only re-exports what users and the CLI call.
"""
from edge_kit.conversion.run import (ALL_PRECISIONS, FORMATS, LITE_TARGETS, PRECISIONS, USER_OPTIONS, Conversion,
                                     convert, resolve_source)

__all__ = ["convert", "resolve_source", "Conversion", "FORMATS", "LITE_TARGETS", "PRECISIONS", "ALL_PRECISIONS",
           "USER_OPTIONS"]
