"""TFLite metadata for the TFLite Task Library (ImageClassifier, ImageSegmenter): normalization, labels.

The writers come from tflite-support 0.4.4, which pins protobuf<4 and cannot share the environment with
TensorFlow 2.21 (so it cannot be a pip extra of edgekit either). Its metadata writers are pure Python over
flatbuffers, so the wheel is installed without dependencies into a directory of its own and only this
child process puts it on sys.path, importing `tensorflow_lite_support.metadata...` directly (the
`tflite_support` package's __init__ imports the Task API, which needs the old protobuf).

Where that directory is (first match; README, Install):
  1. $EDGEKIT_TFLITE_SUPPORT_PATH, if set (then only there: a wrong setting is an error, not a fallback);
  2. <environment prefix>/share/edgekit/tflite_support (scripts/setup.sh installs it there);
  3. $XDG_DATA_HOME/edgekit/tflite_support (default ~/.local/share/edgekit/tflite_support).
Its native modules link against libusb-1.0.so.0 (Debian package libusb-1.0-0).
"""
from __future__ import annotations

import ctypes
import json
import os
import sys
from pathlib import Path

from converters.errors import EdgekitError

ENV_VAR = "EDGEKIT_TFLITE_SUPPORT_PATH"
REQUIREMENT = "tflite-support==0.4.4"
LIBUSB = "libusb-1.0.so.0"
LIBUSB_DEBIAN = "libusb-1.0-0"


def default_locations() -> list[Path]:
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return [Path(sys.prefix) / "share" / "edgekit" / "tflite_support", data_home / "edgekit" / "tflite_support"]


def candidates() -> list[Path]:
    configured = os.environ.get(ENV_VAR)
    return [Path(configured).expanduser()] if configured else default_locations()


def location() -> Path:
    """The directory holding tflite-support; a one-line error saying where it looked and how to install."""
    looked = candidates()
    for path in looked:
        if (path / "tensorflow_lite_support" / "metadata").is_dir():
            return path
    where = f"{ENV_VAR}={looked[0]}" if os.environ.get(ENV_VAR) else " or ".join(str(p) for p in looked)
    raise EdgekitError(f"tflite-support's metadata writers are not installed (looked in {where}); install them "
                       f"beside this environment (they pin protobuf<4): python -m pip install --no-deps --target "
                       f"{looked[0]} {REQUIREMENT}   (or set {ENV_VAR} to where they are)")


def libusb_missing_error() -> EdgekitError:
    return EdgekitError(f"tflite-support's native modules need the system library {LIBUSB}, which is not installed: "
                        f"on Debian/Ubuntu run `apt-get install {LIBUSB_DEBIAN}` (as root)")


def check_libusb(soname: str = LIBUSB) -> None:
    """Load the library the way tflite-support's extension modules will (same loader, same search path)."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        raise libusb_missing_error() from None


def available() -> bool:
    try:
        location()
    except EdgekitError:
        return False
    return True


def child_write_metadata(model_in: str, model_out: str, kind: str, mean: list, std: list, labels_file: str) -> dict:
    sys.path.insert(0, str(location()))
    try:
        from tensorflow_lite_support.metadata.python import metadata as _metadata
        from tensorflow_lite_support.metadata.python.metadata_writers import (image_classifier, image_segmenter,
                                                                             writer_utils)
    except ImportError as err:
        if "libusb" in str(err):
            raise libusb_missing_error() from None
        raise

    writer_cls = {"image_classifier": image_classifier, "image_segmenter": image_segmenter}[kind].MetadataWriter
    writer = writer_cls.create_for_inference(writer_utils.load_file(model_in), mean, std, [labels_file])
    writer_utils.save_file(writer.populate(), model_out)
    shown = _metadata.MetadataDisplayer.with_model_file(model_out)
    return {"metadata": json.loads(shown.get_metadata_json()), "associated_files": shown.get_packed_associated_file_list()}
