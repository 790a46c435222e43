"""The ARM check on dense tasks: a YOLO-head detector and a segmenter (tiny TFLite files, made here with
TensorFlow from fixed weights) run on aarch64 kernels under qemu and are judged by the task's own metric
(boxes after YOLO decoding and NMS, label maps) against a numpy reference computed from the same weights.
Also the image budget that keeps dense models affordable (edge_kit.arm_budget). Needs
scripts/setup_arm_env.sh, like tests/test_arm_check.py; without it these tests skip (fail in CI)."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from converters import arm_emulation
from edge_kit import arm_budget, arm_check
from edge_kit.images import natural_images
from edge_kit.manifest import Artifact, Manifest, sha256_file
from test_arm_check import arm_env  # noqa: F401  (the fixture: the installed environment, or skip)

NET = textwrap.dedent('''
    import sys
    import numpy as np
    import tensorflow as tf

    w = dict(np.load(sys.argv[1]))

    def conv(x, k, stride=1):
        return tf.nn.conv2d(x, tf.constant(k), stride, "SAME")

    @tf.function(input_signature=[tf.TensorSpec([1, 32, 32, 3], tf.float32)])
    def seg(x):
        return conv(tf.nn.relu(conv(x, w["seg1"]) + w["seg1b"]), w["seg2"]) + w["seg2b"]

    @tf.function(input_signature=[tf.TensorSpec([1, 64, 64, 3], tf.float32)])
    def det(x):
        f = tf.nn.relu(conv(x, w["det1"]) + w["det1b"])
        return [conv(tf.nn.avg_pool2d(f, s, s, "VALID"), w[f"head{s}"]) + w[f"head{s}b"] for s in (32, 16, 8)]

    for name, fn in (("seg", seg), ("det", det)):
        tfl = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], fn).convert()
        open(f"{sys.argv[2]}/{name}.tflite", "wb").write(tfl)
''')


def _weights() -> dict:
    rng = np.random.default_rng(7)
    w = {"seg1": rng.normal(0, 0.4, (3, 3, 3, 8)), "seg1b": rng.normal(0, 0.1, 8),
         "seg2": rng.normal(0, 0.6, (1, 1, 8, 5)), "seg2b": rng.normal(0, 0.1, 5),
         "det1": rng.normal(0, 0.4, (3, 3, 3, 8)), "det1b": rng.normal(0, 0.1, 8)}
    for s in (32, 16, 8):  # YOLOv3 heads: 3 anchors x (4 box + objectness + 80 classes), coarsest first
        w[f"head{s}"] = rng.normal(0, 0.8, (1, 1, 8, 255))
        w[f"head{s}b"] = rng.normal(0, 0.3, 255)
    return {k: v.astype(np.float32) for k, v in w.items()}


def _conv(x, k, b):
    """NHWC 'SAME' stride-1 convolution in float64: the reference, independent of any runtime."""
    kh, kw = k.shape[:2]
    xp = np.pad(x, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    h, w = x.shape[1:3]
    out = sum(np.einsum("nhwc,co->nhwo", xp[:, i:i + h, j:j + w], k[i, j].astype(np.float64))
              for i in range(kh) for j in range(kw))
    return out + b


def _pool(x, s):
    n, h, w, c = x.shape
    return x.reshape(n, h // s, s, w // s, s, c).mean(axis=(2, 4))


def _reference(task: str, w: dict, x_nchw: np.ndarray) -> list[list[np.ndarray]]:
    """What Paddle would return per image: NCHW outputs (YOLO heads coarsest first, segmentation logits)."""
    refs = []
    for b in range(x_nchw.shape[0]):
        x = x_nchw[b:b + 1].transpose(0, 2, 3, 1).astype(np.float64)
        if task == "semantic_segmentation":
            outs = [_conv(np.maximum(_conv(x, w["seg1"], w["seg1b"]), 0), w["seg2"], w["seg2b"])]
        else:
            f = np.maximum(_conv(x, w["det1"], w["det1b"]), 0)
            outs = [_conv(_pool(f, s), w[f"head{s}"], w[f"head{s}b"]) for s in (32, 16, 8)]
        refs.append([o.transpose(0, 3, 1, 2).astype(np.float32) for o in outs])
    return refs


@pytest.fixture(scope="module")
def dense_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("arm_dense")
    w = _weights()
    np.savez(d / "w.npz", **w)
    (d / "net.py").write_text(NET)
    proc = subprocess.run([sys.executable, str(d / "net.py"), str(d / "w.npz"), str(d)], capture_output=True,
                          text=True)  # TensorFlow in a child: with Paddle in the same process it can abort
    assert proc.returncode == 0, proc.stderr[-2000:]
    return d, w


def _artifact(path, task: str) -> Artifact:
    a = Artifact(path, Manifest(model=f"tiny-{task}", task=task, format="tflite", target="cpu", precision="fp32",
                                graph="raw", file=path.name, sha256=sha256_file(path), status="ok",
                                parity={"status": "passed"}))
    a.save()
    return a


def _inputs(n: int, hw: int) -> np.ndarray:
    return ((natural_images(n, hw, hw, seed=42) / 255.0 - 0.5) / 0.25).astype(np.float32).transpose(0, 3, 1, 2)


def _negate_weights(src, dst):
    """A copy whose last 255- or 5-channel convolution has its weights negated (found by their exact
    bytes): the file loads and runs, and computes something else."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(src))
    data = bytearray(src.read_bytes())
    for d in interp.get_tensor_details():
        if len(d["shape"]) == 4 and d["shape"][0] in (5, 255) and d["dtype"] == np.float32:
            try:
                w = interp.get_tensor(d["index"])
            except ValueError:  # not a constant
                continue
            at = data.find(w.tobytes())
            if at >= 0:
                data[at:at + w.nbytes] = (-w).tobytes()
                dst.write_bytes(bytes(data))
                return
    raise AssertionError("no head weights found to break")


def test_macs_are_counted_from_the_file(dense_files):
    d, _ = dense_files
    # seg: 3x3 conv 3->8 and 1x1 conv 8->5, both at 32x32 output
    assert arm_budget.tflite_macs(d / "seg.tflite") == 32 * 32 * 8 * 27 + 32 * 32 * 5 * 8
    # det: 3x3 conv 3->8 at 64x64, then 1x1 heads 8->255 at 2x2, 4x4, 8x8
    assert arm_budget.tflite_macs(d / "det.tflite") == 64 * 64 * 8 * 27 + (4 + 16 + 64) * 255 * 8
    assert arm_budget.op_macs("TRANSPOSE_CONV", [[4], [16, 3, 3, 8], [1, 10, 10, 8]], [[1, 20, 20, 16]]) == \
        10 * 10 * 8 * 16 * 9


def test_image_plan_fits_the_budget_and_runs_at_least_one(dense_files):
    d, _ = dense_files
    files = [d / "seg.tflite"]
    per_image = arm_budget.plan_images(files, 8, budget=1e9)["estimated_cpu_s_per_image"]
    assert per_image > 0
    assert arm_budget.plan_images(files, 8, budget=1e9)["images"] == 8
    three = arm_budget.plan_images(files, 8, budget=3.5 * per_image)
    assert three["images"] == 3 and "3 of the 8" in three["why"]
    one = arm_budget.plan_images(files, 8, budget=per_image / 10)
    assert one["images"] == 1 and "minimum" in one["why"]


@pytest.mark.parametrize("task,hw,metric", [("semantic_segmentation", 32, "pixel_agreement"),
                                            ("detection", 64, "detections")])
def test_dense_task_metrics_on_aarch64_kernels(dense_files, arm_env, task, hw, metric, tmp_path, monkeypatch):  # noqa: F811
    """The right file passes by the task's metric on the ARM kernels; the same file with a head broken only
    for the aarch64 run fails by it. Three parity images, of which the budget lets two be run."""
    d, w = dense_files
    name = "seg" if task == "semantic_segmentation" else "det"
    good = _artifact(d / f"{name}.tflite", task)
    bad_path = tmp_path / f"{name}.broken.tflite"
    bad_path.write_bytes(good.path.read_bytes())
    bad = _artifact(bad_path, task)
    x = _inputs(3, hw)
    ref = _reference(task, w, x)
    staged = arm_emulation.stage_model
    monkeypatch.setattr(arm_emulation, "stage_model",
                        lambda src, dst: (_negate_weights if "broken" in src.name else staged)(src, dst))
    per_image = arm_budget.plan_images([good.path], 3, budget=1e9)["estimated_cpu_s_per_image"]
    arm_check.check_tflite([good, bad], x, ref, task, (hw, hw), reference="numpy on the file's weights",
                           budget_s=2.5 * per_image)

    ok = Artifact.load(good.path).manifest
    arm = ok["parity_arm64"]
    assert arm["status"] == "passed" and ok["status"] == "ok", arm["reason"]
    assert arm["image_plan"]["images"] == 2 and arm["metrics"]["images"] == 2
    assert arm["images"] == "2 of the host parity's 3 images"
    assert arm["machine"] == "aarch64" and arm["timed"] is False
    if task == "detection":
        m = arm["metrics"]
        assert m["boxes_reference"] > 20 and all(x["ok"] for x in m["detections"]) and len(m["detections"]) == 2
    else:
        assert arm["metrics"]["pixel_agreement"] > 0.999 and arm["metrics"]["classes_in_reference"] >= 3
    # the ARM kernels against x86 LiteRT on the same file and images, per output
    assert len(arm["vs_host_x86"]) == (3 if task == "detection" else 1)
    assert all(h["cosine"] > 0.99999 for h in arm["vs_host_x86"])
    line = arm_check.summary(arm)
    assert "on 2/3 image(s)" in line and ("boxes" in line if task == "detection" else "pixels" in line)

    broken = Artifact.load(bad_path).manifest
    assert broken["parity_arm64"]["status"] == "failed" and broken["status"] == "failed"
    assert (metric.split("_")[0] if task != "detection" else "detections_matched") in broken["parity_arm64"]["reason"]
    assert min(h["cosine"] for h in broken["parity_arm64"]["vs_host_x86"]) < 0.99


def test_a_bad_budget_setting_is_a_clear_error(monkeypatch):
    from edge_kit.errors import EdgekitError

    monkeypatch.setenv(arm_budget.BUDGET_ENV, "lots")
    with pytest.raises(EdgekitError, match="EDGEKIT_ARM_BUDGET_S='lots'"):
        arm_budget.budget_cpu_s()
    monkeypatch.setenv(arm_budget.BUDGET_ENV, "120")
    assert arm_budget.budget_cpu_s() == 120.0
