"""The stages of a conversion (edge_kit.convert runs them): the Paddle reference, Paddle-Lite .nb files,
ONNX, TFLite. Each stage builds in a scratch directory that becomes its cache entry only when complete,
runs the artifact on the reference's images where this machine can, and writes its manifest.
"""
from __future__ import annotations

import shutil
import threading
import time
from contextlib import ExitStack, contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Callable

import numpy as np

from converters import onnx_export, paddle_lite, tflite
from converters.isolate import ForkServer, fork_server, release, run_forked, run_isolated
from converters.paddle_compat import make_lite_compatible
from converters.paddle_source import LEGACY_ENV, load_outputs, program_io, save_outputs
from edge_kit import __version__, formats
from edge_kit.conversion import lite_parity, reference, zoo_export
from edge_kit.conversion.cache import building, entry_dir, entry_key, reusable
from edge_kit.conversion.graphs import graph_for_format, graphs_for, postprocess_description
from edge_kit.infer import CannotRunHere, host_runtime, run_artifact
from edge_kit.errors import ConversionError
from edge_kit.manifest import SCHEMA, Artifact, Manifest, manifest_path, sha256_file
from edge_kit.parity import compare
from edge_kit.parity_text import render
from edge_kit.conversion.sources import Source

PRECISIONS = formats.FLOAT_PRECISIONS   # int8 is pipeline_int8's
TFLITE_PRELOAD = ["onnx2tf"]  # what the TFLite stage's fork server imports once (TensorFlow with it)
PADDLE_PRELOAD = ["paddle"]   # the reference export or run, and paddle2onnx (about 2 s of CPU per child)


Log = Callable[[str], None]


def onnx2tf_calibration(workdir: Path) -> Path:
    """The calibration file onnx2tf reads from its working directory (else it downloads one, for any 4-D
    3-channel input, int8 or not): 20 of edgekit's natural images at 128x128 (converters.tflite)."""
    from edge_kit.images import natural_images

    return tflite.write_calibration_file(workdir, natural_images(20, 128, 128, seed=7))


def _function(ref: str) -> Callable:
    """A "module:function" the formats table names (edge_kit.formats.FromOnnx), imported now."""
    import importlib

    module, name = ref.split(":")
    return getattr(importlib.import_module(module), name)


def _versions(*names: str) -> dict:
    return {n: version(n) for n in names}


PIR_NO_LITE = ("Paddle-Lite 2.13's Opt reads only legacy ProgramDesc (.pdmodel) programs, and Paddle 3.3 has no "
               "PIR -> ProgramDesc translation (paddle.pir.translate_to_pir is one-way; a loaded PIR program cannot be "
               "re-traced or re-saved under OldIrGuard). Re-export the model with FLAGS_enable_pir_api=0 "
               "(paddle.jit.save then writes inference.pdmodel) and convert that")


TFLITE_NO_DEFORM = ("the model has deformable conv (ONNX DeformConv): onnx2tf 1.28.8 has no DeformConv converter and "
                    "LiteRT no deformable-conv kernel, and the GridSample rewrite verified for ONNX converts but fails "
                    "TFLite parity (cosine 0.977, bench_results/deformconv_probe.json); no TFLite file is made")


def refuse_tflite_for_deform_conv(model: str, onnx_artifact: Artifact) -> None:
    """A TFLite file of a deformable-conv model would be wrong (measured): refuse before onnx2tf runs."""
    if onnx_artifact.manifest.get("deform_conv_rewritten"):
        raise ConversionError(model, "tflite", "onnx2tf", TFLITE_NO_DEFORM)


def _program_name(src: Source) -> str:
    """The reference program keeps the source's format: legacy .pdmodel or Paddle 3's PIR .json."""
    return "reference.json" if src.program is not None and src.program.suffix == ".json" else "reference.pdmodel"


class Pipeline:
    """The stages of one source's conversion, each cached by content: the Paddle reference (per graph),
    Paddle-Lite .nb per target and precision, ONNX, and TFLite fp32 + fp16; each verified by parity."""

    def __init__(self, source: Source, log: Log):
        self.src, self.log = source, log
        self.graphs = graphs_for(source.task, source.kind)
        self.refs: dict[str, Path] = {}
        # What each stage cost this run, in the order stages finished: [{stage, seconds, cached}].
        self.stages: list[dict] = []
        self._lock = threading.Lock()  # stages of one pipeline run in parallel threads (edge_kit.convert)
        self._warm: dict[str, ForkServer] = {}
        self._inputs, self._inputs_lock = None, threading.Lock()
        self._made_together: set[str] = set()  # reference graphs references() built this run

    # -- children started ahead of their stage ------------------------------------------------
    def reference_is_cached(self, graph: str = "deploy") -> bool:
        final = entry_dir("reference", self._reference_key(graph))
        main = "reference.onnx" if self.src.kind == "onnx" else _program_name(self.src)
        return manifest_path(final / main).exists()

    def prewarm_tflite(self) -> None:
        """Take the TFLite stage's fork server now (converters.isolate.ForkServer): a new one imports
        TensorFlow while the reference is exported; one a previous conversion gave back has it already."""
        if "tflite" not in self._warm:
            self._warm["tflite"] = fork_server(TFLITE_PRELOAD)

    def close(self) -> None:
        """Give back servers taken ahead but never used (their stage came from the cache)."""
        for server in self._warm.values():
            release(server)
        self._warm.clear()

    @contextmanager
    def _timed(self, stage: str, what: str):
        """Log the start and the end of a stage that builds something, with its wall time."""
        self.log(f"[{self.src.name}] {stage}: {what}")
        t0, ok = time.perf_counter(), False
        try:
            yield
            ok = True
        finally:
            seconds = time.perf_counter() - t0
            self.log(f"[{self.src.name}] {stage}: {'done' if ok else 'stopped'} after {seconds:.1f} s")
            with self._lock:
                self.stages.append({"stage": stage, "seconds": round(seconds, 2), "cached": False, "ok": ok})

    def _cached(self, stage: str) -> None:
        with self._lock:
            self.stages.append({"stage": stage, "seconds": 0.0, "cached": True, "ok": True})

    # -- the reference --------------------------------------------------------------------------
    def _reference_key(self, graph: str) -> str:
        return entry_key(stage="reference", source=self.src.key, graph=graph, build=self.graphs[graph],
                         tools=_versions("paddlepaddle"), edgekit=__version__)

    def reference(self, graph: str = "deploy") -> Artifact:
        key = self._reference_key(graph)
        final = entry_dir("reference", key)
        stage = f"reference ({graph} graph)"
        main = "reference.onnx" if self.src.kind == "onnx" else _program_name(self.src)
        if not reusable("reference", key, (main, "reference_outputs.npz", "parity_inputs.npz"), self.log):
            with self._timed(stage, "exporting and running the source model"), building("reference", key) as work:
                self._build_reference(work, graph)
        elif graph not in self._made_together:  # built this run by references(): not a cache hit
            self._cached(stage)
        self.refs[graph] = final
        return Artifact.load(final / ("reference.onnx" if self.src.kind == "onnx" else _program_name(self.src)))

    def ref_dir(self, fmt: str) -> Path:
        graph = graph_for_format(fmt, self.graphs)
        if graph not in self.refs:
            self.reference(graph)
        return self.refs[graph]

    def _build_reference(self, work: Path, graph: str) -> None:
        t0 = time.time()
        inputs = self._parity_inputs()
        np.savez(work / "parity_inputs.npz", image=inputs, **self.extra_inputs(inputs))
        if self.src.kind == "onnx":
            ref = work / "reference.onnx"
            shutil.copy2(self.src.onnx, ref)
            save_outputs(str(work / "reference_outputs.npz"), run_artifact("onnx", "cpu", ref, [inputs]))
            ins, outs = onnx_export.onnx_io(ref)
            manifest = self._manifest("onnx", "cpu", "fp32", ref, ins, outs, _versions("onnxruntime"), time.time() - t0)
            manifest.update(status="ok", parity={"status": "reference", "reason": "the user's ONNX is the reference"})
            Artifact(ref, manifest).save()
            return
        prog, params = work / _program_name(self.src), work / "reference.pdiparams"
        info = {}
        if self.src.kind == "zoo":
            # Export and reference run in one child: Paddle is imported once (about 3 s of a cold conversion).
            info = run_forked(zoo_export.child_export_zoo,
                              {"model": self.src.name, "out_dir": str(work), "weights": self.src.weights,
                               "seed": self.src.seed, "build_kwargs": self.graphs[graph],
                               "reference": self._reference_run(work)},
                              PADDLE_PRELOAD, LEGACY_ENV, model=self.src.name, stage="export", tool="paddle.jit.save")
        else:
            shutil.copy2(self.src.program, prog)
            shutil.copy2(self.src.params, params)
            run_forked(reference.child_reference_outputs, self._reference_run(work), PADDLE_PRELOAD,
                       None if prog.suffix == ".json" else LEGACY_ENV, model=self.src.name, stage="reference run",
                       tool="Paddle Inference")
        self._reference_manifest(work, graph, info, t0)

    def _reference_run(self, work: Path) -> dict:
        """child_reference_outputs' arguments for a reference built in `work`."""
        return {"program": str(work / _program_name(self.src)), "params": str(work / "reference.pdiparams"),
                "inputs_npz": str(work / "parity_inputs.npz"), "out_npz": str(work / "reference_outputs.npz")}

    def references(self, graphs: tuple[str, ...]) -> None:
        """Several graphs of a zoo model from one child (zoo_export.child_export_zoo_graphs): one Paddle
        import and one build instead of one per graph, for when other conversions share the cores (CPU
        matters more than wall). Graphs already cached, or not plain `postprocess` switches, are left to
        reference(), as is everything if this cannot apply."""
        todo = [g for g in graphs if not self.reference_is_cached(g)]
        if self.src.kind != "zoo" or len(todo) < 2 or any(set(self.graphs[g]) != {"postprocess"} for g in todo):
            return
        stage = f"reference ({' + '.join(todo)} graphs)"
        with self._timed(stage, "exporting and running the source model"), ExitStack() as stack:
            t0 = time.time()
            works = {g: stack.enter_context(building("reference", self._reference_key(g))) for g in todo}
            inputs = self._parity_inputs()
            for work in works.values():
                np.savez(work / "parity_inputs.npz", image=inputs, **self.extra_inputs(inputs))
            info = run_forked(zoo_export.child_export_zoo_graphs,
                              {"model": self.src.name, "weights": self.src.weights, "seed": self.src.seed,
                               "graphs": [{"postprocess": self.graphs[g]["postprocess"], "out_dir": str(w),
                                           "reference": self._reference_run(w)} for g, w in works.items()]},
                              PADDLE_PRELOAD, LEGACY_ENV, model=self.src.name, stage="export", tool="paddle.jit.save")
            for g, work in works.items():
                self._reference_manifest(work, g, info, t0)
        self._made_together.update(todo)

    def _reference_manifest(self, work: Path, graph: str, info: dict, t0: float) -> None:
        prog = work / _program_name(self.src)
        ins, outs, _ = program_io(prog)
        manifest = self._manifest("paddle", "cpu", "fp32", prog, ins, outs, {"paddlepaddle": version("paddlepaddle")},
                                  time.time() - t0)
        manifest["parity"] = {"status": "reference", "reason": "this program is the reference"}
        manifest["graph"] = graph
        manifest["postprocess"] = postprocess_description(self.src.task, graph)
        manifest["status"] = "ok"
        manifest["weights"] = info.get("weights", self.src.describe.get("weights"))
        Artifact(prog, manifest).save()

    def _parity_inputs(self) -> np.ndarray:
        """The source's parity images, made once: a dense model's two references (exported side by side)
        use the same ones, and making them is seconds of CPU at 512-608 px (profiled)."""
        with self._inputs_lock:
            if self._inputs is None:
                self._inputs = self.src.parity_inputs()
            return self._inputs

    def ref_outputs(self, fmt: str):
        return load_outputs(str(self.ref_dir(fmt) / "reference_outputs.npz"))

    def ref_inputs(self, fmt: str) -> np.ndarray:
        return np.load(self.ref_dir(fmt) / "parity_inputs.npz")["image"]

    def extra_inputs(self, images: np.ndarray) -> dict:
        """Inputs beyond the image, by name (an app-adapted graph may take more: edge_kit.bundle)."""
        return {}

    def ref_input_list(self, fmt: str) -> list[np.ndarray]:
        return reference.parity_input_list(self.ref_dir(fmt) / "parity_inputs.npz")

    # -- manifests and parity -------------------------------------------------------------------
    def _manifest(self, fmt, target, precision, path: Path, inputs, outputs, tools, seconds) -> Manifest:
        graph = graph_for_format(fmt, self.graphs)
        return Manifest(schema=SCHEMA, model=self.src.name, task=self.src.task, format=fmt, target=target,
                        precision=precision, graph=graph,
                        postprocess=postprocess_description(self.src.task, graph), file=path.name,
                        bytes=path.stat().st_size, sha256=sha256_file(path), inputs=inputs, outputs=outputs,
                        preprocess=self.src.preprocess.as_dict(), source=self.src.describe,
                        tools={"edgekit": __version__, **tools}, seconds=round(seconds, 2),
                        runs_here=formats.runs_here(fmt, target)[0], **self._shape_record(fmt, inputs),
                        nulls=Manifest.ARTIFACT_KEYS)

    def _shape_record(self, fmt: str, inputs) -> dict:
        """A user's model: what this artifact accepts, and where shape, preprocessing, task, labels came from."""
        if self.src.declared_shape is None:
            return {}
        from edge_kit.shapes import accepts

        file_shape = inputs[0]["shape"] if inputs else list(self.src.input_shape)
        if fmt == "tflite":  # NHWC in the file; say it in NCHW like the others
            file_shape = [file_shape[0], file_shape[3], file_shape[1], file_shape[2]] if len(file_shape) == 4 else file_shape
        record = accepts(file_shape if fmt != "tflite" else self.src.declared_shape, list(self.src.input_shape), fmt)
        record["input"] = self.src.input_name
        record["verified_at"] = list(self.src.input_shape)
        return {"accepts": record, "origins": self.src.origins, "labels_count": len(self.src.labels)}

    def _verify(self, manifest: dict, path: Path) -> None:
        t0 = time.perf_counter()
        try:
            self._run_parity(manifest, path)
        finally:
            manifest["verify_seconds"] = round(time.perf_counter() - t0, 2)

    def _run_parity(self, manifest: dict, path: Path) -> None:
        try:
            fmt, target = manifest["format"], manifest["target"]
            if host_runtime(fmt, target) in lite_parity.RUNTIMES:  # Paddle-Lite can abort: in a child
                got = lite_parity.run_nb(path, self.ref_dir(fmt) / "parity_inputs.npz", model=self.src.name,
                                         stage=f"{fmt} {target} {manifest['precision']} parity")
            else:
                got = run_artifact(fmt, target, path, self.ref_input_list(fmt))
        except CannotRunHere as exc:
            manifest["parity"] = {"status": "not_run", "reason": str(exc)}
            manifest["status"] = "ok"
            return
        except ConversionError as exc:  # the runtime's child crashed or raised: its own last words
            manifest["parity"] = {"status": "failed", "reason": f"runtime error: {exc.tool} {exc.detail}"}
            manifest["status"] = "failed"
            return
        except Exception as exc:  # the runtime rejected the file: the artifact is unusable
            manifest["parity"] = {"status": "failed", "reason": f"runtime error: {type(exc).__name__}: {exc}"}
            manifest["status"] = "failed"
            return
        result = compare(self.src.parity_task, manifest["precision"], self.ref_outputs(fmt), got, graph=manifest["graph"],
                         input_hw=tuple(self.src.input_shape[2:]))
        result["reference"] = "Paddle Inference on the source program" if self.src.kind != "onnx" else \
            "onnxruntime on the source ONNX"
        result["images"] = f"{len(got)} natural-looking images (edge_kit.images, seed 42)"
        manifest["parity"] = result
        manifest["status"] = "ok" if result["status"] == "passed" else "failed"

    # -- stages ---------------------------------------------------------------------------------
    def lite(self, target: str, precision: str) -> Artifact:
        name = f"{self.src.name}.{target}.{precision}.nb"
        ref = self.ref_dir("paddlelite")
        if (ref / "reference.json").exists():
            raise ConversionError(self.src.name, f"paddlelite {target} {precision}", "paddlelite Opt", PIR_NO_LITE)
        key = entry_key(stage="paddlelite", ref=ref.name, target=target, precision=precision,
                        tools=_versions("paddlelite"))
        final = entry_dir("paddlelite", key) / name
        stage = f"paddlelite {target} {precision}"
        if not reusable("paddlelite", key, (name,), self.log):
            with self._timed(stage, "Opt"), building("paddlelite", key) as work:
                t0 = time.time()
                program, changes = make_lite_compatible((ref / "reference.pdmodel").read_bytes())
                (work / "program.pdmodel").write_bytes(program)
                shutil.copy2(ref / "reference.pdiparams", work / "program.pdiparams")
                run_isolated(paddle_lite.child_opt,
                             {"program": str(work / "program.pdmodel"), "params": str(work / "program.pdiparams"),
                              "out_stem": str(work / name[:-3]), "target": target, "fp16": precision == "fp16"},
                             model=self.src.name, stage=f"paddlelite {target} {precision}", tool="paddlelite Opt")
                for f in ("program.pdmodel", "program.pdiparams"):
                    (work / f).unlink()
                ins, outs, _ = program_io(ref / "reference.pdmodel")
                m = self._manifest("paddlelite", target, precision, work / name, ins, outs,
                                   _versions("paddlelite"), time.time() - t0)
                m["compat_passes"] = changes
                m["valid_places"] = paddle_lite.VALID_PLACES[target]
                m["kernel_precisions"] = paddle_lite.nb_kernel_precisions(work / name)
                self._verify(m, work / name)
                if precision == "fp16" and not m["kernel_precisions"].get("fp16"):
                    m["status"] = "failed"  # an "fp16" file that computes in fp32 is not what was asked for
                    m["reason"] = f"Opt chose no fp16 kernel (kernels: {m['kernel_precisions']})"
                Artifact(work / name, m).save()
        else:
            self._cached(stage)
        return Artifact.load(final)

    def onnx(self) -> Artifact:
        name = f"{self.src.name}.onnx"
        ref = self.ref_dir("onnx")
        # A program with deformable_conv exports at opset 19 and gets its DeformConv rewritten (onnx_export);
        # every other program's key and file are what they were before that existed.
        opset = onnx_export.OPSET if self.src.kind == "onnx" else \
            onnx_export.export_opset(ref / _program_name(self.src))
        deform = opset == onnx_export.DEFORM_OPSET
        key = entry_key(stage="onnx", ref=ref.name, opset=opset, tools=_versions("paddle2onnx"),
                        **({"deform_conv": onnx_export.DEFORM_REWRITE} if deform else {}))
        final = entry_dir("onnx", key) / name
        if not reusable("onnx", key, (name,), self.log):
            what = f"paddle2onnx (opset {opset}{'; deformable_conv: ' + onnx_export.DEFORM_REWRITE if deform else ''})"
            with self._timed("onnx", what), building("onnx", key) as work:
                t0 = time.time()
                if self.src.kind == "onnx":
                    shutil.copy2(ref / "reference.onnx", work / name)
                else:
                    made = run_forked(onnx_export.child_paddle_to_onnx,
                                      {"program": str(ref / _program_name(self.src)),
                                       "params": str(ref / "reference.pdiparams"), "out_file": str(work / name),
                                       **({"opset": opset, "rewrite_deform_conv": True} if deform else {})},
                                      PADDLE_PRELOAD, model=self.src.name, stage="onnx export", tool="paddle2onnx")
                ins, outs = onnx_export.onnx_io(work / name)
                m = self._manifest("onnx", "cpu", "fp32", work / name, ins, outs,
                                   _versions("paddle2onnx", "onnx"), time.time() - t0)
                m["opset"] = opset
                if self.src.kind != "onnx":
                    m["export_fixes"] = made.get("fixes", {})
                if deform:
                    m["deform_conv_rewritten"] = made.get("fixes", {}).get("deform_conv_rewritten", 0)
                    m["deform_conv_rewrite"] = (f"{onnx_export.DEFORM_REWRITE} (converters/onnx_deform_conv.py): "
                                                "onnxruntime 1.23.2 has no DeformConv kernel")
                self._verify(m, work / name)
                Artifact(work / name, m).save()
        else:
            self._cached("onnx")
        return Artifact.load(final)

    def tflite(self, onnx_artifact: Artifact) -> list[Artifact]:
        refuse_tflite_for_deform_conv(self.src.name, onnx_artifact)
        names = {p: f"{self.src.name}.{p}.tflite" for p in PRECISIONS}
        shapes = self._tflite_shapes(onnx_artifact)
        key = entry_key(stage="tflite", onnx=onnx_artifact.manifest["sha256"], tools=_versions("onnx2tf", "tensorflow"),
                        **({"input_shapes": shapes} if shapes else {}))
        folder = entry_dir("tflite", key)
        if not reusable("tflite", key, tuple(names.values()), self.log):
            with self._timed("tflite", "onnx2tf (fp32 + fp16)"), building("tflite", key) as work:
                t0 = time.time()
                with self._lock:
                    server = self._warm.pop("tflite", None) or fork_server(TFLITE_PRELOAD)
                onnx2tf_calibration(work)
                kwargs = {"onnx_file": str(onnx_artifact.path), "workdir": str(work),
                          "out_fp32": str(work / names["fp32"]), "out_fp16": str(work / names["fp16"]),
                          **({"input_shapes": shapes} if shapes else {})}
                # Fast first (onnx2tf's strict-mode accuracy search off: converters.tflite). A transposition
                # error shows in fp32 parity: then both files are made again with the search on. (An
                # fp16-only failure is the model's fp16 fragility, which the search does not change.)
                try:
                    for strict in (False, True):
                        made = server.run(tflite.child_onnx_to_tflite, {**kwargs, "strict": strict},
                                          model=self.src.name, stage="tflite", tool="onnx2tf", cwd=work)
                        manifests = {p: self._tflite_manifest(work / n, p, made, t0) for p, n in names.items()}
                        if strict or manifests["fp32"]["status"] == "ok":
                            break
                        why = f"fp32 parity without it: {render(manifests['fp32'], 'line')}"
                        self.log(f"[{self.src.name}] tflite: {why}; converting again with onnx2tf's strict mode")
                finally:
                    release(server)
                if strict:
                    for m in manifests.values():
                        m["onnx2tf_strict_mode_why"] = why
                (work / tflite.CALIBRATION_NAME).unlink(missing_ok=True)
                for p, n in names.items():
                    if p == "fp16":
                        self._fp16_baseline(manifests[p], onnx_artifact.path)
                    Artifact(work / n, manifests[p]).save()
        else:
            self._cached("tflite")
        return [Artifact.load(folder / names[p]) for p in PRECISIONS]

    def _tflite_manifest(self, path: Path, precision: str, made: dict, t0: float) -> Manifest:
        ins, outs, ops = tflite.tflite_io_and_ops(path)
        m = self._manifest("tflite", "cpu", precision, path, ins, outs,
                           _versions("onnx2tf", "tensorflow", "ai-edge-litert"), time.time() - t0)
        m["ops"] = ops
        m["onnx_passes"] = made.get("passes", {})
        m["weights_precision"] = precision
        m["onnx2tf_strict_mode"] = made.get("strict_mode", True)
        self._verify(m, path)
        return m

    def from_onnx(self, fmt: str, onnx_artifact: Artifact) -> Artifact:
        """A format the table makes from the verified ONNX artifact (edge_kit.formats.FromOnnx): its child
        converts, its reader describes the file, parity runs it through the runtime layer. fp32, like the ONNX."""
        row = formats.fmt(fmt)
        recipe, target = row.from_onnx, row.host_target or row.targets[0]
        name = f"{self.src.name}{row.suffixes[0]}"
        key = entry_key(stage=fmt, onnx=onnx_artifact.manifest["sha256"], tools=_versions(*recipe.tools))
        final = entry_dir(fmt, key) / name
        if not reusable(fmt, key, (name,), self.log):
            with self._timed(fmt, recipe.tool), building(fmt, key) as work:
                t0 = time.time()
                made = run_isolated(_function(recipe.child),
                                    {"onnx_file": str(onnx_artifact.path), "out_file": str(work / name)},
                                    model=self.src.name, stage=fmt, tool=recipe.tool)
                ins, outs, ops = _function(recipe.reader)(work / name)
                m = self._manifest(fmt, target, "fp32", work / name, ins, outs, _versions(*recipe.tools),
                                   time.time() - t0)
                m["ops"] = ops
                m["made_from"] = {"format": "onnx", "file": onnx_artifact.path.name,
                                  "sha256": onnx_artifact.manifest["sha256"]}
                m.update(made)
                self._verify(m, work / name)
                Artifact(work / name, m).save()
        else:
            self._cached(fmt)
        return Artifact.load(final)

    def _tflite_shapes(self, onnx_artifact: Artifact):
        """TFLite has no dynamic dims: an ONNX input with any becomes the verified shape (the manifest says so)."""
        ins = onnx_artifact.manifest.get("inputs") or []
        if not any(d <= 0 for i in ins for d in i["shape"]):
            return None
        return {ins[0]["name"]: list(self.src.input_shape)}

    def _fp16_baseline(self, manifest: dict, onnx_file: Path) -> None:
        """How much does fp16 itself cost this model? Score the ONNX model run in fp32 with its weights
        rounded to fp16 by the same task metric. Not a bit-exact twin (onnx2tf folds batch norm into the
        weights before rounding), but it tells a conversion error from a model that is fragile in fp16.
        The task gate against the fp32 reference still decides the status."""
        from edge_kit.infer import run_onnx_fp16_weights

        emulated = run_onnx_fp16_weights(onnx_file, [self.ref_inputs("tflite")])
        base = compare(self.src.parity_task, "fp16", self.ref_outputs("tflite"), emulated, graph="raw",
                       input_hw=tuple(self.src.input_shape[2:]))["metrics"]
        metric = next((k for k in ("ap50_vs_reference", "miou_vs_reference", "top1_agreement") if k in base), None)
        if metric is None:
            return
        ours = manifest["parity"].get("metrics", {}).get(metric)
        manifest["parity"]["fp16_weight_baseline"] = {
            "metric": metric, "artifact": ours, "onnx_with_fp16_rounded_weights": base[metric],
            "meaning": "the same task metric for the ONNX model run in fp32 with weights rounded to fp16"}
        if manifest["status"] == "failed" and ours is not None and ours >= base[metric] - 0.05:
            manifest["parity"]["reason"] += (
                f"; the ONNX model with fp16-rounded weights scores {base[metric]:.3f} too: this model loses "
                f"that much to fp16 weights (untrained weights amplify rounding), not to the conversion")
