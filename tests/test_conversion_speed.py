"""The speed-ups of the conversion stages must not change what they make."""
from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest

from converters import tflite
from converters.isolate import run_isolated
from edge_kit.conversion.stages import onnx2tf_calibration


def _tiny_onnx(path):
    """Conv + HardSwish + SE (HardSigmoid) + GEMM: the MobileNetV3 op mix onnx2tf has to handle."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    w = {"w1": rng.normal(0, 0.3, (8, 3, 3, 3)), "w2": rng.normal(0, 0.3, (8, 8, 1, 1)),
         "fc": rng.normal(0, 0.3, (8, 10)), "fb": rng.normal(0, 0.1, (10,))}
    nodes = [helper.make_node("Conv", ["image", "w1"], ["c1"], strides=[2, 2], pads=[1, 1, 1, 1]),
             helper.make_node("HardSwish", ["c1"], ["h1"]),
             helper.make_node("GlobalAveragePool", ["h1"], ["p1"]),
             helper.make_node("Conv", ["p1", "w2"], ["c2"]),
             helper.make_node("HardSigmoid", ["c2"], ["s"], alpha=0.2, beta=0.5),
             helper.make_node("Mul", ["h1", "s"], ["m"]),
             helper.make_node("GlobalAveragePool", ["m"], ["p2"]),
             helper.make_node("Flatten", ["p2"], ["f"]),
             helper.make_node("Gemm", ["f", "fc", "fb"], ["logits"])]
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 32, 32])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])],
                              [numpy_helper.from_array(v.astype(np.float32), k) for k, v in w.items()])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


@pytest.mark.slow
def test_skipping_onnx2tfs_saved_model_keeps_tflite_bytes(tmp_path):
    """onnx2tf's SavedModel (most of its time) is skipped; the TFLite files must be the very same bytes."""
    model = _tiny_onnx(tmp_path / "tiny.onnx")
    digests = {}
    for write in (True, False):
        work = tmp_path / f"work{int(write)}"
        work.mkdir()
        kwargs = {"onnx_file": str(model), "workdir": str(work), "out_fp32": str(work / "a.fp32.tflite"),
                  "out_fp16": str(work / "a.fp16.tflite"), "write_saved_model": write}
        onnx2tf_calibration(work)
        run_isolated(tflite.child_onnx_to_tflite, kwargs, model="tiny", stage="tflite", tool="onnx2tf",
                     cwd=work)
        digests[write] = [hashlib.sha256((work / f"a.{p}.tflite").read_bytes()).hexdigest() for p in ("fp32", "fp16")]
        assert not (work / "saved_model").exists()
    assert digests[True] == digests[False]


def test_export_strips_callstacks_so_programs_do_not_depend_on_the_checkout(tmp_path):
    from converters.paddle_source import strip_callstacks
    from converters.program_proto import framework_pb2

    pb = framework_pb2()
    desc = pb.ProgramDesc()
    block = desc.blocks.add(idx=0, parent_idx=-1)
    op = block.ops.add(type="relu")
    stack = op.attrs.add(name="op_callstack", type=pb.AttrType.STRINGS)
    stack.strings.extend(['File "/some/checkout/converters/paddle_source.py", line 85'])
    op.attrs.add(name="use_cudnn", type=pb.AttrType.BOOLEAN, b=False)
    prog = tmp_path / "p.pdmodel"
    prog.write_bytes(desc.SerializeToString())
    assert strip_callstacks(prog) == 1
    again = pb.ProgramDesc()
    again.ParseFromString(prog.read_bytes())
    assert [a.name for a in again.blocks[0].ops[0].attrs] == ["use_cudnn"]
    assert b"/some/checkout" not in prog.read_bytes()


def test_fork_server_forks_a_fresh_process_per_request_where_asked(tmp_path):
    from converters.isolate import ForkServer

    server = ForkServer(["json"])
    try:
        assert server.run(os.getcwd, {}, model="m", stage="s", tool="t", cwd=tmp_path) == str(tmp_path)
        first = server.run(os.getpid, {}, model="m", stage="s", tool="t")
        second = server.run(os.getpid, {}, model="m", stage="s", tool="t")
        # each request in its own process, none of them the server (whose state they must not change)
        assert len({first, second, server.proc.pid}) == 3
        assert server.run(os.getppid, {}, model="m", stage="s", tool="t") == server.proc.pid
        assert server.run(os.getcwd, {}, model="m", stage="s", tool="t") != str(tmp_path)
        os.environ["EDGEKIT_FORK_TEST"] = "set after the server started"  # seen as run_isolated would see it
        try:
            assert server.run(os.getenv, {"key": "EDGEKIT_FORK_TEST"}, model="m", stage="s", tool="t") == \
                "set after the server started"
        finally:
            del os.environ["EDGEKIT_FORK_TEST"]
    finally:
        server.close()
    assert server.proc.poll() is not None and not server.tmp.exists()


def test_fork_server_crash_is_a_readable_error_and_the_server_goes_on():
    from converters.isolate import ForkServer
    from edge_kit.errors import ConversionError

    server = ForkServer([])
    try:
        with pytest.raises(ConversionError, match=r"^m: tflite failed in onnx2tf: crashed: aborted"):
            server.run(os.abort, {}, model="m", stage="tflite", tool="onnx2tf")
        with pytest.raises(ConversionError, match=r"exited with status 3"):
            server.run(os._exit, {"status": 3}, model="m", stage="tflite", tool="onnx2tf")
        assert server.alive() and server.run(os.getppid, {}, model="m", stage="s", tool="t") == server.proc.pid
    finally:
        server.close()


def test_fork_server_timeout_ends_the_request_not_the_server():
    from converters.isolate import ForkServer
    from edge_kit.errors import ConversionError

    server = ForkServer([])
    try:
        with pytest.raises(ConversionError, match=r"did not finish within 2 s"):
            server.run(os.system, {"command": "sleep 8"}, model="m", stage="s", tool="t", timeout=2)
        assert server.run(os.getppid, {}, model="m", stage="s", tool="t") == server.proc.pid
    finally:
        server.close()


def test_a_dead_fork_server_fails_its_request_and_is_replaced():
    """The server killed mid-request (out of memory, kill -9): one clear error, and the pool starts another."""
    import signal
    import threading

    from converters.isolate import fork_server, release
    from edge_kit.errors import ConversionError

    server = fork_server(["json"])
    threading.Timer(1.0, os.kill, (server.proc.pid, signal.SIGKILL)).start()
    with pytest.raises(ConversionError, match=r"^m: s failed in t: crashed: killed"):
        server.run(os.system, {"command": "sleep 8"}, model="m", stage="s", tool="t")
    release(server)  # dead: closed, not pooled
    again = fork_server(["json"])
    try:
        assert again is not server and again.run(os.getppid, {}, model="m", stage="s", tool="t") == again.proc.pid
    finally:
        release(again)
    assert fork_server(["json"]) is again  # given back: the next conversion reuses it
    release(again)


@pytest.mark.slow
def test_fork_server_tflite_files_are_those_of_a_fresh_child(tmp_path):
    """Forked after TensorFlow's import, two conversions in a row: byte for byte what run_isolated makes."""
    from converters.isolate import ForkServer

    model = _tiny_onnx(tmp_path / "tiny.onnx")
    made = {}
    server = ForkServer(["onnx2tf"])
    try:
        for how in ("fresh", "server1", "server2"):
            work = tmp_path / how
            work.mkdir()
            onnx2tf_calibration(work)
            kwargs = {"onnx_file": str(model), "workdir": str(work), "out_fp32": str(work / "a.tflite"),
                      "out_fp16": str(work / "b.tflite"), "strict": False}
            run = run_isolated if how == "fresh" else server.run
            run(tflite.child_onnx_to_tflite, kwargs, model="tiny", stage="tflite", tool="onnx2tf", cwd=work)
            made[how] = [(work / f).read_bytes() for f in ("a.tflite", "b.tflite")]
    finally:
        server.close()
    assert made["server1"] == made["fresh"] and made["server2"] == made["fresh"]


@pytest.mark.slow
def test_onnx2tf_without_strict_mode_computes_the_same(tmp_path):
    """The fast path skips onnx2tf's strict-mode accuracy search: same ops, bit-identical outputs."""
    from edge_kit.runtimes import open_runtime

    model = _tiny_onnx(tmp_path / "tiny.onnx")
    outs, ops = {}, {}
    for strict in (True, False):
        work = tmp_path / f"strict{int(strict)}"
        work.mkdir()
        onnx2tf_calibration(work)
        made = run_isolated(tflite.child_onnx_to_tflite,
                            {"onnx_file": str(model), "workdir": str(work), "out_fp32": str(work / "a.tflite"),
                             "out_fp16": str(work / "b.tflite"), "strict": strict},
                            model="tiny", stage="tflite", tool="onnx2tf", cwd=work)
        assert made["strict_mode"] is strict
        x = np.random.default_rng(1).random((1, 3, 32, 32), np.float32)
        outs[strict] = open_runtime("tflite", work / "a.tflite").infer([x])
        ops[strict] = tflite.tflite_io_and_ops(work / "a.tflite")[2]
    assert ops[True] == ops[False]
    assert all(np.array_equal(a, b) for a, b in zip(outs[True].values(), outs[False].values()))


@pytest.mark.slow
def test_tflite_failing_parity_without_strict_mode_is_converted_again_with_it(tmp_path, monkeypatch, tiny_paddle_model):
    """When the fast onnx2tf path's fp32 file fails parity, both files are made again in strict mode and
    the manifests say why. (The failure is injected: no zoo model needs the search today.)"""
    from edge_kit.convert import convert
    from edge_kit.conversion.stages import Pipeline

    monkeypatch.setenv("EDGEKIT_CACHE", str(tmp_path / "cache"))
    real = Pipeline._tflite_manifest

    def failing_when_fast(self, path, precision, made, t0):
        m = real(self, path, precision, made, t0)
        if not made["strict_mode"] and precision == "fp32":
            m["status"], m["parity"] = "failed", {"status": "failed", "reason": "injected transposition error"}
        return m

    monkeypatch.setattr(Pipeline, "_tflite_manifest", failing_when_fast)
    logs = []
    arts = convert(paddle_model=str(tiny_paddle_model), to=("onnx", "tflite"), precisions=("fp32", "fp16"),
                   log=logs.append)
    tfl = [a for a in arts if a.format == "tflite"]
    assert len(tfl) == 2 and all(a.ok for a in tfl)
    assert all(a.manifest["onnx2tf_strict_mode"] is True for a in tfl)
    assert all("injected transposition error" in a.manifest["onnx2tf_strict_mode_why"] for a in tfl)
    assert any("converting again with onnx2tf's strict mode" in line for line in logs)


@pytest.mark.slow
def test_one_child_for_both_reference_graphs_makes_the_same_references(tmp_path, monkeypatch):
    """share_cores (edgekit convert A B --jobs 2): a dense model's deploy and raw graphs come from one
    Paddle child and one build. Programs and weights are byte for byte those of two separate children, and
    the reference outputs are the same numbers; the run records one stage, not two cache hits."""
    from edge_kit.conversion.sources import zoo_source
    from edge_kit.conversion.stages import Pipeline
    from edge_kit.manifest import sha256_file

    made = {}
    for together in (False, True):
        monkeypatch.setenv("EDGEKIT_CACHE", str(tmp_path / f"cache-{together}"))
        pipe = Pipeline(zoo_source("FastSCNN"), lambda line: None)
        if together:
            pipe.references(("deploy", "raw"))
        for graph in ("deploy", "raw"):
            pipe.reference(graph)
        made[together] = {g: ({f: sha256_file(pipe.refs[g] / f) for f in ("reference.pdmodel", "reference.pdiparams")},
                              np.load(pipe.refs[g] / "reference_outputs.npz"))
                          for g in ("deploy", "raw")}
        built = [s["stage"] for s in pipe.stages if not s["cached"]]
        assert built == (["reference (deploy + raw graphs)"] if together else
                         ["reference (deploy graph)", "reference (raw graph)"])
        assert not [s for s in pipe.stages if s["cached"]]
    for graph in ("deploy", "raw"):
        (files_a, out_a), (files_b, out_b) = made[False][graph], made[True][graph]
        assert files_a == files_b
        assert out_a.files == out_b.files and all(np.array_equal(out_a[k], out_b[k]) for k in out_a.files)
    assert made[True]["deploy"][0] != made[True]["raw"][0]  # two different programs, not one twice


def test_kernel_key_scan_finds_exactly_what_the_regex_finds():
    """The fast .nb kernel-key scan against KERNEL_KEY.findall (the definition) on float-like random bytes
    with keys planted in every tricky position: at both ends, after and before key characters (which
    make them no key), upper-case or digit starts, several runs of slashes and digits, a long text run."""
    from converters.paddle_lite import KERNEL_KEY, kernel_key_precisions

    rng = np.random.default_rng(3)
    planted = [b"conv2d/def/4/5/1", b"Conv2d/def/4/1/1", b"x_conv/def/4/1/1/", b"fc/def/4/12/1", b"relu/def/4/1/1a",
               b"a/b/1/2/3", b"9a/b/1/2/3", b"pool2d/def/4/2/1/7/8", b"/conv2d/def/4/5/1", b"feed/def/4/4/1 ",
               b"a" * 3000 + b"/def/4/1/1", b"conv2d/def/4/5/", b"conv2d/x/4/5/1/conv2d/x/4/1/1",
               b"multiclass_nms3/def/2/1/1" * 3]
    chunks = [b"elementwise_add/def/4/1/1"]
    for i in range(400):
        chunks.append(rng.integers(0, 256, int(rng.integers(0, 2000)), dtype=np.uint8).tobytes())
        chunks.append(planted[i % len(planted)])
    chunks.append(b"sigmoid/def/4/1/1")
    data = b"".join(chunks)
    expected = KERNEL_KEY.findall(data)
    assert len(expected) > 100 and set(expected) >= {b"1", b"2", b"5", b"12"}
    assert kernel_key_precisions(data) == expected
    for cut in (1, 7, 5001, len(data) // 2):  # keys cut at the ends of the buffer
        assert kernel_key_precisions(data[cut:-cut]) == KERNEL_KEY.findall(data[cut:-cut])


@pytest.mark.slow
def test_paddle_children_forked_from_a_server_make_the_same_bytes(tmp_path):
    """The zoo export with its reference run, and paddle2onnx, forked from servers that imported Paddle
    (edge_kit.conversion.stages.run_forked), twice in a row: the files a fresh child writes, byte for byte."""
    from converters import onnx_export
    from converters.isolate import ForkServer
    from converters.paddle_source import LEGACY_ENV
    from edge_kit.conversion import zoo_export
    from edge_kit.images import sample_inputs
    from edge_kit.zoo import get_model

    servers = {"legacy": ForkServer(["paddle"], LEGACY_ENV), "pir": ForkServer(["paddle"])}
    made = {}
    try:
        for how in ("fresh", "server1", "server2"):
            d = tmp_path / how
            d.mkdir()
            np.savez(d / "in.npz", image=sample_inputs(get_model("MobileNetV3_small_ssld"), n=2, seed=42))
            ref = {"program": str(d / "r.pdmodel"), "params": str(d / "r.pdiparams"), "inputs_npz": str(d / "in.npz"),
                   "out_npz": str(d / "out.npz")}
            steps = [(zoo_export.child_export_zoo, {"model": "MobileNetV3_small_ssld", "out_dir": str(d), "weights": None,
                                                    "seed": 0, "build_kwargs": {}, "reference": ref}, "legacy"),
                     (onnx_export.child_paddle_to_onnx, {"program": ref["program"], "params": ref["params"],
                                                         "out_file": str(d / "m.onnx")}, "pir")]
            for target, kwargs, env in steps:
                how_args = {"model": "m", "stage": "s", "tool": "t"}
                if how == "fresh":
                    run_isolated(target, kwargs, env=LEGACY_ENV if env == "legacy" else None, **how_args)
                else:
                    servers[env].run(target, kwargs, **how_args)
            made[how] = [hashlib.sha256((d / f).read_bytes()).hexdigest() for f in ("r.pdmodel", "r.pdiparams",
                                                                                     "out.npz", "m.onnx")]
    finally:
        for server in servers.values():
            server.close()
    assert made["server1"] == made["fresh"] and made["server2"] == made["fresh"]
