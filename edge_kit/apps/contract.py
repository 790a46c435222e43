"""What an Android app demands of the files it loads, as its own source reads them.

A Contract is a list of Terms, each citing the upstream file and line it was read from, plus what
edgekit does about it: the settings it writes, the graph adaptation it converts, the edits the user
must make where the app hard-codes something, and a replay of the app's pre-/post-processing in
numpy (edge_kit.apps.check runs it on the x86 twin and compares with edgekit's reference).
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np


@dataclass(frozen=True)
class Term:
    """One fact of the contract and the upstream line it comes from ("path:line" in `repo@commit`)."""
    what: str
    value: str
    source: str


@dataclass(frozen=True)
class Edit:
    """A change the user must make in the app's own source (a hard-coded setting)."""
    file: str
    line: int
    old: str
    new: str
    why: str

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "old": self.old, "new": self.new, "why": self.why}


class ContractBreak(Exception):
    """The app, replayed as its source is written, cannot show a correct result (crash or wrong data)."""


@dataclass
class Shown:
    """What the app displays for one image, in comparable form."""
    kind: str                                   # "topk" | "mask" | "boxes"
    items: list = field(default_factory=list)   # topk: [(label, score)], boxes: [(label, score, x, y, w, h)]
    mask: Optional[np.ndarray] = None           # label map as the app reads it
    notes: list = field(default_factory=list)


class Contract:
    name = ""
    title = ""
    repo = ""
    commit = ""
    app_dir = ""                 # the app's folder inside the repo
    task = ""
    runtime = "paddlelite"       # which artifact the app loads
    terms: tuple[Term, ...] = ()

    # -- what edgekit writes -------------------------------------------------------------------
    def refuse(self, source) -> Optional[str]:
        """Why this app cannot take that model (checked before any conversion), or None."""
        if source.task != self.task:
            return (f"{self.title} runs {self.task} models; {source.name} is a {source.task} model "
                    f"(use {', '.join(_apps_for(source.task)) or 'no bundled app'})")
        return None

    def app_graph(self, source) -> dict:
        """Build kwargs of the graph this app needs (edge_kit.apps.graph), {} for the standard graph."""
        return {}

    def geometry_for_reference(self, image: np.ndarray, source) -> np.ndarray:
        """The image at the network size as the app's own resizing makes it (the reference uses it too)."""
        h, w = source.input_shape[2:]
        return resize_bilinear(image, h, w)

    def camera_frame(self, image: np.ndarray) -> np.ndarray:
        """The check's test picture as the app's camera delivers it (default: as made)."""
        return image

    def app_preprocess(self, source):
        """The network input as the app feeds it (a zoo Preprocess): the adapted graph's parity inputs."""
        return source.preprocess

    def settings(self, source, model_dir: str, label_file: str) -> dict:
        return {}

    def label_text(self, names: list[str]) -> str:
        return "\n".join(names) + "\n"

    def edits(self, model_dir: str, num_classes: int) -> list[Edit]:
        return []

    def edits_for(self, source, model_dir: str, num_classes: int) -> list[Edit]:
        """The edits for this model (most apps need only the folder name and the class count)."""
        return self.edits(model_dir, num_classes)

    def draw_threshold(self, source, settings: dict) -> float:
        """The score from which a detection app draws a box (what the reference is cut at)."""
        return float(settings["SCORE_THRESHOLD_DEFAULT"])

    def runtime_note(self) -> str:
        """What the app's runtime version means for edgekit's artifact."""
        from edge_kit.apps.paddlelite_demo import runtime_note

        url = getattr(self, "GRADLE_URL", None)
        return runtime_note(f"{self.app_dir}/build.gradle", self.GRADLE_LINE, url,
                            getattr(self, "GRADLE_VERSION", "2.10")) if url else ""

    def asset_paths(self, model_dir: str, label_file: str) -> dict:
        """file kind -> path inside the bundle."""
        raise NotImplementedError

    # -- the app, replayed ----------------------------------------------------------------------
    def replay(self, bundle: Path, info: dict, image: np.ndarray, run) -> Shown:
        """`image` is the decoded test picture (HxWx3 uint8 RGB); `run(inputs)` runs the x86 twin."""
        raise NotImplementedError

    def reference_as_shown(self, ref: dict, image: np.ndarray) -> dict:
        """edgekit's reference as a correct app would display it for `image` (default: as computed)."""
        return ref

    def src(self, path: str, line) -> str:
        return f"{self.app_dir}/{path}:{line}"

    def describe(self) -> dict:
        return {"app": self.name, "title": self.title, "source": f"{self.repo}@{self.commit[:12]}",
                "app_dir": self.app_dir, "terms": [t.__dict__ for t in self.terms]}


def zoo_yolo_only(source, app: str, graph: str) -> Optional[str]:
    """Detection apps that decode nothing themselves get a graph edgekit builds from its own YOLOv3."""
    if source.kind != "zoo" or "YOLO" not in source.name.upper():
        return f"{app} decodes nothing itself: edgekit builds {graph} for zoo YOLOv3 models only"
    return None


def _apps_for(task: str) -> list[str]:
    from edge_kit.apps import APPS

    return [n for n, c in APPS.items() if c.task == task]


# -- helpers shared by the replays --------------------------------------------------------------
def read_strings(path: Path) -> dict:
    """<string name=K>V</string> entries of an Android strings.xml (edgekit's settings_strings.xml)."""
    if not path.exists():
        return {}
    return {e.get("name"): (e.text or "") for e in ET.parse(path).getroot().iter("string")}


def setting(settings: dict, defaults: dict, key: str) -> str:
    """The app reads R.string.KEY: the bundle's value if the user copied it in, else the app's default."""
    return settings.get(key, defaults[key])


def floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",")]


def resize_bilinear(img: np.ndarray, h: int, w: int, keep_float: bool = False) -> np.ndarray:
    """cv::resize INTER_LINEAR / Bitmap.createScaledBitmap(filter=true): half-pixel centres, no
    antialiasing, in float (OpenCV's fixed-point uint8 path may differ by one grey level)."""
    H, W = img.shape[:2]
    if (H, W) == (h, w):
        return img.astype(np.float32) if keep_float else img.copy()

    def axis(n_out, n_in):
        c = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        lo = np.floor(c).astype(int)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, (c - lo).astype(np.float32)

    y0, y1, fy = axis(h, H)
    x0, x1, fx = axis(w, W)
    f = img.astype(np.float32)
    top = f[y0][:, x0] * (1 - fx)[None, :, None] + f[y0][:, x1] * fx[None, :, None]
    bot = f[y1][:, x0] * (1 - fx)[None, :, None] + f[y1][:, x1] * fx[None, :, None]
    out = top * (1 - fy)[:, None, None] + bot * fy[:, None, None]
    if keep_float:
        return out
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def nchw(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None].astype(np.float32))


def edits_applied(bundle: Path) -> list[dict]:
    """The edits the bundle tells the user to make (the replay assumes they were made)."""
    import json

    p = bundle / "app_edits.json"
    return json.loads(p.read_text())["edits"] if p.exists() else []


def edited_value(edits: list[dict], file_suffix: str, line: int, default: str) -> str:
    for e in edits:
        if e["file"].endswith(file_suffix) and e["line"] == line:
            return e["new"]
    return default


def quoted(text: str) -> str:
    """The last string literal on a Java line (`split("/")[0] + "/name"` -> "/name")."""
    found = re.findall(r'"([^"]*)"', text)
    return found[-1] if found else text
