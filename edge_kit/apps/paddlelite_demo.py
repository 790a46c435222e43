"""Paddle-Lite-Demo's Android apps (github.com/PaddlePaddle/Paddle-Lite-Demo @ 82f329f, 2023-03-06), as
their sources read the model, the labels and the settings. Every Term cites the file and line.

Shared facts, checked in each app:
  * The camera/bitmap frame reaches C++ as RGBA (Native.cc: "the data layout of ARGB8888 is R, G, B,
    A, it's the same as CV RGBA image"), and the C++ pipelines then call cv::cvtColor(..., BGRA2RGB)
    (classification, YOLO) or RGBA2RGB followed by BGR2RGB (segmentation): both SWAP R and B, so the
    network receives BGR. edgekit's models take RGB, so the graphs for these apps begin with a
    channel flip, and mean/std settings are given in the order the app applies them (B, G, R).
  * The apps' build.gradle fetch Paddle-Lite's prebuilt Android libraries v2.10 (paddle_lite_libs_v2_10*),
    while edgekit's .nb files are written by opt 2.13rc0 (the paddlelite wheel). A .nb records the
    opt version and the 2.10 runtime is older than the format: the user must either switch the
    gradle archive to a 2.13 library build (edit listed per app) or expect "model version mismatch"
    failures; edgekit cannot run an ARM 2.10 runtime here to show which ops still load.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_kit.postprocess.yolo import COCO_YOLO
from edge_kit.apps.contract import (Contract, ContractBreak, Edit, Shown, Term, edited_value, edits_applied, floats,
                                    nchw, quoted, read_strings, resize_bilinear, setting, zoo_yolo_only)

REPO = "PaddlePaddle/Paddle-Lite-Demo"
COMMIT = "82f329f38f2c8066c89149a88588d24b8185536b"
SAMPLE = "edgekit_sample.jpg"


def _bgr(source_pre):
    """The zoo preprocessing restated in the order the C++ apps feed channels (B, G, R)."""
    from edge_kit.zoo.registry import Preprocess

    return Preprocess(resize=source_pre.resize, resize_short=None, mean=tuple(source_pre.mean[::-1]),
                      std=tuple(source_pre.std[::-1]), channel_order="BGR", scale=source_pre.scale)


def _pixels_bgr(source_pre):
    """Raw 0-255 pixels in B, G, R order: the graph flips and normalises itself."""
    from edge_kit.zoo.registry import Preprocess

    return Preprocess(resize=source_pre.resize, resize_short=None, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0),
                      channel_order="BGR", scale=1.0)


def _csv(values) -> str:
    return ",".join(f"{v:g}" for v in values)


def runtime_note(build_gradle: str, line: int, url: str, version: str = "2.10") -> str:
    """What the version gap means; not an exact edit (edgekit knows no verified 2.13 archive URL)."""
    return (f"{build_gradle}:{line} downloads {url} (Paddle-Lite {version}); the .nb is written by opt 2.13rc0. "
            "Paddle-Lite's naive-buffer loader compares the opt version string with its own and logs a warning "
            "(LOG(FATAL) in older releases); the real risk is an op or kernel variant that opt 2.13 emits and "
            f"the {version} library lacks, which fails when the predictor is created. Replace that archive with a "
            "Paddle-Lite 2.13 Android build (the Java API jar + libpaddle_lite_jni.so / C++ lib of the same "
            f"version) to remove the gap. Not checkable here: no ARM device, no {version} ARM runtime.")


# ------------------------------------------------------------------------------------------------
class ClassificationCxx(Contract):
    name = "plite-cls-cxx"
    title = "Paddle-Lite-Demo image classification (C++ app)"
    repo, commit, task = REPO, COMMIT, "classification"
    app_dir = "image_classification/android/app/cxx/image_classification/app"
    MAIN = "src/main/java/com/baidu/paddle/lite/demo/image_classification/MainActivity.java"
    DEFAULTS = {"MODEL_PATH_DEFAULT": "models/mobilenet_v1_for_cpu", "LABEL_PATH_DEFAULT": "labels/labels.txt",
                "IMAGE_PATH_DEFAULT": "images/tabby_cat.jpg", "CPU_THREAD_NUM_DEFAULT": "1",
                "CPU_POWER_MODE_DEFAULT": "LITE_POWER_HIGH", "INPUT_TOPK_DEFAULT": "3",
                "INPUT_SHAPE_DEFAULT": "1,3,224,224", "INPUT_MEAN_DEFAULT": "0.485,0.456,0.406",
                "INPUT_STD_DEFAULT": "0.229,0.224,0.225"}
    OVERRIDE_LINE, SWITCH_LINE = 234, 162
    OVERRIDE = 'modelPath = modelPath.split("/")[0] + "/mobilenet_v1_for_cpu";'
    GRADLE_LINE, GRADLE_URL = 48, "https://paddlelite-demo.bj.bcebos.com/libs/android/paddle_lite_libs_v2_10_gpu.tar.gz"

    @property
    def terms(self):
        s = self.src
        return (
            Term("settings keys + defaults", "; ".join(f"{k}={v}" for k, v in self.DEFAULTS.items()),
                 s("src/main/res/values/strings.xml", "14-22")),
            Term("model folder is replaced in onResume (CPU) and by the GPU switch", self.OVERRIDE,
                 s(self.MAIN, f"{self.SWITCH_LINE},{self.OVERRIDE_LINE}")),
            Term("model file", "<model folder>/model.nb, copied from assets to external files dir",
                 s(self.MAIN, "257-258") + "; " + s("src/main/cpp/Pipeline.cc", 28)),
            Term("label file", "assets/<LABEL_PATH>, copied to external files dir", s(self.MAIN, "261-262")),
            Term("label format", "lines with a space; label = line.substr(first_space, len - first_space - 1): "
                 "keeps the leading space, DROPS THE LAST CHARACTER (so lines must end in \\r\\n)",
                 s("src/main/cpp/Pipeline.cc", "37-58")),
            Term("frame", "RGBA bitmap -> cv::Mat CV_8UC4", s("src/main/cpp/Native.cc", "73-93")),
            Term("input 0", "float32 [INPUT_SHAPE]; cv::resize to (W,H), cvtColor BGRA2RGB on RGBA = B,G,R order, "
                 "x/255, (x - mean[c]) / std[c]", s("src/main/cpp/Pipeline.cc", "60-74") + "; src/main/cpp/Utils.cc:25-45"),
            Term("output 0", "float scores, partial_sort top INPUT_TOPK, shown as 'class: <label>score: <v>'; "
                 "labels[index] unchecked", s("src/main/cpp/Pipeline.cc", "75-102")),
            Term("runtime", "Paddle-Lite Android libs v2.10", s("build.gradle", self.GRADLE_LINE)),
        )

    def app_graph(self, source):
        return {"kind": "classifier", "softmax": True, "bgr_input": True}

    def app_preprocess(self, source):
        return _bgr(source.preprocess)

    def model_folder(self, name: str) -> str:
        return f"models/{name}"

    def settings(self, source, model_dir, label_file):
        pre = _bgr(source.preprocess)
        _, c, h, w = source.input_shape
        return {"MODEL_PATH_DEFAULT": self.model_folder(model_dir), "LABEL_PATH_DEFAULT": f"labels/{label_file}",
                "IMAGE_PATH_DEFAULT": f"images/{SAMPLE}", "CPU_THREAD_NUM_DEFAULT": "1",
                "CPU_POWER_MODE_DEFAULT": "LITE_POWER_HIGH", "INPUT_TOPK_DEFAULT": "3",
                "INPUT_SHAPE_DEFAULT": f"1,{c},{h},{w}", "INPUT_MEAN_DEFAULT": _csv(pre.mean),
                "INPUT_STD_DEFAULT": _csv(pre.std)}

    def label_text(self, names):
        # "<id> <name>\r\n": LoadLabelList drops the first token and the last character.
        return "".join(f"id{i:04d} {n}\r\n" for i, n in enumerate(names))

    def asset_paths(self, model_dir, label_file):
        return {"model": f"app/src/main/assets/{self.model_folder(model_dir)}/model.nb",
                "labels": f"app/src/main/assets/labels/{label_file}", "image": f"app/src/main/assets/images/{SAMPLE}"}

    def edits(self, model_dir, num_classes):
        new = self.OVERRIDE.replace("mobilenet_v1_for_cpu", model_dir)
        why = "onResume/the CPU switch replace the model folder with mobilenet_v1_for_cpu"
        return [Edit(f"{self.app_dir}/{self.MAIN}", self.OVERRIDE_LINE, self.OVERRIDE, new, why),
                Edit(f"{self.app_dir}/{self.MAIN}", self.SWITCH_LINE, self.OVERRIDE, new, why)]

    # -- replay -----------------------------------------------------------------------------------
    def loaded_model_dir(self, bundle: Path, settings: dict) -> str:
        path = setting(settings, self.DEFAULTS, "MODEL_PATH_DEFAULT")
        forced = quoted(edited_value(edits_applied(bundle), self.MAIN, self.OVERRIDE_LINE, self.OVERRIDE))
        return path.split("/")[0] + forced

    @staticmethod
    def load_labels(raw: bytes) -> list[str]:
        """Pipeline.cc LoadLabelList: std::getline lines; from the first ' ' take len - i - 1 chars."""
        labels = []
        for line in raw.decode("utf-8", "replace").split("\n"):
            if line:
                i = line.find(" ")
                if i >= 0:
                    labels.append(line[i:len(line) - 1])
        return labels

    def preprocess(self, image, settings):
        shape = [int(v) for v in setting(settings, self.DEFAULTS, "INPUT_SHAPE_DEFAULT").split(",")]
        mean, std = floats(setting(settings, self.DEFAULTS, "INPUT_MEAN_DEFAULT")), \
            floats(setting(settings, self.DEFAULTS, "INPUT_STD_DEFAULT"))
        x = resize_bilinear(image, shape[2], shape[3])[..., ::-1].astype(np.float32) / 255.0   # BGRA2RGB on RGBA
        return nchw((x - np.float32(mean)) / np.float32(std))

    FLOAT_OUTPUT = "Pipeline.cc:79 reads data<float>()"   # where the app reads output 0 as float

    def run_app_model(self, bundle, image, run) -> tuple[dict, list[str], np.ndarray]:
        """What both apps do before their post-processing: read the settings, find the model folder the
        app really loads, parse the labels their way, feed the image their way; output 0 must be float."""
        settings = read_strings(bundle / "settings_strings.xml")
        assets = bundle / "app" / "src" / "main" / "assets"
        folder = self.loaded_model_dir(bundle, settings)
        if not (assets / folder / "model.nb").exists():
            raise ContractBreak(f"the app loads assets/{folder}/model.nb ({self.MAIN}:{self.OVERRIDE_LINE}), which the "
                                "bundle does not provide: the demo's own model would run")
        labels = self.load_labels((assets / setting(settings, self.DEFAULTS, "LABEL_PATH_DEFAULT")).read_bytes())
        out = run([self.preprocess(image, settings)])[0]
        if out.dtype != np.float32:
            raise ContractBreak(f"output 0 is {out.dtype}; {self.FLOAT_OUTPUT}")
        return settings, labels, out

    def replay(self, bundle, info, image, run):
        settings, labels, out = self.run_app_model(bundle, image, run)
        scores = out.ravel()
        topk = int(setting(settings, self.DEFAULTS, "INPUT_TOPK_DEFAULT"))
        order = sorted(range(scores.size), key=lambda i: (-scores[i], -i))[:topk]   # std::greater on (score, idx)
        items = []
        for i in order:
            if i >= len(labels):
                raise ContractBreak(f"labels[{i}] with {len(labels)} labels parsed (Pipeline.cc:97): out of range")
            items.append((labels[i].strip(), float(scores[i])))
        return Shown("topk", items)


class ClassificationJava(ClassificationCxx):
    name = "plite-cls-java"
    title = "Paddle-Lite-Demo image classification (Java app)"
    app_dir = "image_classification/android/app/java/image_classification/app"
    PRED = "src/main/java/com/baidu/paddle/lite/demo/image_classification/Predictor.java"
    DEFAULTS = {**ClassificationCxx.DEFAULTS, "LABEL_PATH_DEFAULT": "labels/synset_words.txt",
                "INPUT_COLOR_FORMAT_DEFAULT": "RGB"}
    OVERRIDE_LINE = 238
    FLOAT_OUTPUT = "Predictor.java:248 reads getFloatData()"
    GRADLE_LINE, GRADLE_URL = 34, "https://paddlelite-demo.bj.bcebos.com/libs/android/paddle_lite_libs_v2_10_gpu.tar.gz"

    @property
    def terms(self):
        s = self.src
        return (
            Term("settings keys + defaults", "; ".join(f"{k}={v}" for k, v in self.DEFAULTS.items()),
                 s("src/main/res/values/strings.xml", "14-22")),
            Term("model folder is replaced in onResume", self.OVERRIDE, s(self.MAIN, f"{self.OVERRIDE_LINE}")),
            Term("model file", "<model folder>/model.nb copied from assets to the cache dir", s(self.PRED, "101-113")),
            Term("label format", "split on \\n; lines with a space; label = content.substring(first_space) "
                 "(keeps the leading space, keeps a \\r)", s(self.PRED, "149-172")),
            Term("input 0", "float32 [INPUT_SHAPE]; createScaledBitmap(filter) to (W,H); rgb/255 reordered by "
                 "INPUT_COLOR_FORMAT (BGR -> {2,1,0}); (v - mean[c]) / std[c]",
                 s(self.PRED, "188-236") + "; " + s(self.MAIN.replace("MainActivity", "Predictor"), "348-356")),
            Term("output 0", "getFloatData(); top-3 by insertion with max_num initialised to 0 (only scores > 0 "
                 "enter; all-negative logits show index 0 with 0.000)", s(self.PRED, "237-269")),
            Term("runtime", "Paddle-Lite Android libs v2.10", s("build.gradle", self.GRADLE_LINE)),
        )

    def settings(self, source, model_dir, label_file):
        out = super().settings(source, model_dir, label_file)
        out.pop("INPUT_TOPK_DEFAULT")
        out["INPUT_COLOR_FORMAT_DEFAULT"] = "BGR"   # same B,G,R feed as the C++ app: one graph for both
        return out

    def label_text(self, names):
        return "".join(f"id{i:04d} {n}\n" for i, n in enumerate(names))

    def edits(self, model_dir, num_classes):
        new = self.OVERRIDE.replace("mobilenet_v1_for_cpu", model_dir)
        return [Edit(f"{self.app_dir}/{self.MAIN}", self.OVERRIDE_LINE, self.OVERRIDE, new,
                     "onResume replaces the model folder with mobilenet_v1_for_cpu")]

    @staticmethod
    def load_labels(raw: bytes) -> list[str]:
        labels = []
        for content in raw.decode("utf-8", "replace").split("\n"):
            pos = content.find(" ")
            if 0 <= pos < len(content):
                labels.append(content[pos:])
        return labels

    def preprocess(self, image, settings):
        shape = [int(v) for v in setting(settings, self.DEFAULTS, "INPUT_SHAPE_DEFAULT").split(",")]
        fmt = setting(settings, self.DEFAULTS, "INPUT_COLOR_FORMAT_DEFAULT").upper()
        if fmt not in ("RGB", "BGR"):
            raise ContractBreak(f"INPUT_COLOR_FORMAT {fmt!r}: Predictor.init refuses anything but RGB/BGR")
        idx = [0, 1, 2] if fmt == "RGB" else [2, 1, 0]
        rgb = resize_bilinear(image, shape[2], shape[3]).astype(np.float32) / 255.0
        mean, std = floats(setting(settings, self.DEFAULTS, "INPUT_MEAN_DEFAULT")), \
            floats(setting(settings, self.DEFAULTS, "INPUT_STD_DEFAULT"))
        return nchw((rgb[..., idx] - np.float32(mean)) / np.float32(std))

    def replay(self, bundle, info, image, run):
        settings, labels, out = self.run_app_model(bundle, image, run)
        max_index, max_num = [0, 0, 0], [0.0, 0.0, 0.0]
        for i, v in enumerate(out.ravel().astype(np.float64)):   # Predictor.postProcess, swap by swap
            tmp, tmp_index = v, i
            for j in range(3):
                if tmp > max_num[j]:
                    tmp, max_num[j] = max_num[j], tmp
                    tmp_index, max_index[j] = max_index[j], tmp_index
        if not labels:
            raise ContractBreak("no label parsed (Predictor.loadLabel keeps lines with a space): the app shows no "
                                "result")
        items = []
        for i, v in zip(max_index, max_num):
            if i >= len(labels):
                raise ContractBreak(f"wordLabels.get({i}) with {len(labels)} labels: IndexOutOfBoundsException")
            items.append((labels[i].strip(), float(f"{v:.3f}")))
        return Shown("topk", items)


# ------------------------------------------------------------------------------------------------
class SegmentationCxx(Contract):
    name = "plite-seg-cxx"
    title = "Paddle-Lite-Demo human segmentation (C++ app)"
    repo, commit, task = REPO, COMMIT, "semantic_segmentation"
    app_dir = "human_segmentation/android/app/cxx/Segmentation/app"
    MAIN = "src/main/java/com/baidu/paddle/lite/demo/segmentation/MainActivity.java"
    DEFAULTS = {"MODEL_PATH_DEFAULT": "models", "LABEL_PATH_DEFAULT": "labels/labels.txt",
                "IMAGE_PATH_DEFAULT": "images/human.jpg", "CPU_THREAD_NUM_DEFAULT": "1",
                "CPU_POWER_MODE_DEFAULT": "LITE_POWER_HIGH", "INPUT_SHAPE_DEFAULT": "1,3,513,513",
                "INPUT_MEAN_DEFAULT": "0.0,0.0,0.0", "INPUT_STD_DEFAULT": "1.0,1.0,1.0"}
    GRADLE_LINE, GRADLE_URL = 48, "https://paddlelite-demo.bj.bcebos.com/libs/android/paddle_lite_libs_v2_10_gpu.tar.gz"

    @property
    def terms(self):
        s = self.src
        return (
            Term("settings keys + defaults", "; ".join(f"{k}={v}" for k, v in self.DEFAULTS.items()),
                 s("src/main/res/values/strings.xml", "14-22")),
            Term("model folder", "modelPath.split('/')[0] (always 'models'), then <folder>/model.nb",
                 s(self.MAIN, "211-213") + "; " + s("src/main/cpp/Pipeline.cc", 27)),
            Term("label file", "every line is a label; labels[0] == 'background' picks one of two identical "
                 "overlay branches", s("src/main/cpp/Pipeline.cc", "36-50,77-98")),
            Term("input 0", "float32 [INPUT_SHAPE]; RGBA2RGB then BGR2RGB (= B,G,R order), cv::resize, convertTo "
                 "scale 1.0 (0-255, NO /255), (p - mean[c]) / std[c]",
                 s("src/main/cpp/Pipeline.cc", "52-67,108-110")),
            Term("output 0", "label map [1,H,W] read as data<int64_t>(); overlay: R,G += label*150 clamped to 255",
                 s("src/main/cpp/Pipeline.cc", "69-99")),
            Term("runtime", "Paddle-Lite Android libs v2.10", s("build.gradle", self.GRADLE_LINE)),
        )

    def app_graph(self, source):
        pre = source.preprocess
        return {"kind": "segmenter", "bgr_input": True, "label_dtype": "int64",
                "pixel_norm": {"mean": list(pre.mean), "std": list(pre.std), "scale": pre.scale}}

    def app_preprocess(self, source):
        return _pixels_bgr(source.preprocess)

    def settings(self, source, model_dir, label_file):
        _, c, h, w = source.input_shape
        return {"MODEL_PATH_DEFAULT": "models", "LABEL_PATH_DEFAULT": f"labels/{label_file}",
                "IMAGE_PATH_DEFAULT": f"images/{SAMPLE}", "CPU_THREAD_NUM_DEFAULT": "1",
                "CPU_POWER_MODE_DEFAULT": "LITE_POWER_HIGH", "INPUT_SHAPE_DEFAULT": f"1,{c},{h},{w}",
                "INPUT_MEAN_DEFAULT": "0.0,0.0,0.0", "INPUT_STD_DEFAULT": "1.0,1.0,1.0"}

    def asset_paths(self, model_dir, label_file):
        return {"model": "app/src/main/assets/models/model.nb", "labels": f"app/src/main/assets/labels/{label_file}",
                "image": f"app/src/main/assets/images/{SAMPLE}"}

    def edits(self, model_dir, num_classes):
        return []

    def model_path(self, bundle: Path, settings: dict) -> str:
        return setting(settings, self.DEFAULTS, "MODEL_PATH_DEFAULT").split("/")[0] + "/model.nb"

    def preprocess(self, image, settings):
        shape = [int(v) for v in setting(settings, self.DEFAULTS, "INPUT_SHAPE_DEFAULT").split(",")]
        mean, std = floats(setting(settings, self.DEFAULTS, "INPUT_MEAN_DEFAULT")), \
            floats(setting(settings, self.DEFAULTS, "INPUT_STD_DEFAULT"))
        bgr = image[..., ::-1]                                   # BGR2RGB applied to an RGB image
        x = resize_bilinear(bgr, shape[2], shape[3]).astype(np.float32)
        return nchw((x - np.float32(mean)) / np.float32(std))

    @staticmethod
    def read_label_map(out: np.ndarray, reader: str) -> np.ndarray:
        """The buffer as the app reads it: int64 elements, shape [1,H,W]."""
        if out.dtype != np.int64:
            need, have = out.size * 8, out.nbytes
            raise ContractBreak(f"output is {out.dtype} but the app reads {reader} int64: {need} bytes read from a "
                                f"{have}-byte buffer (reads past it)" if need > have else
                                f"output is {out.dtype}, the app reads {reader} int64")
        return out.reshape(out.shape[-2:])

    def replay(self, bundle, info, image, run):
        settings = read_strings(bundle / "settings_strings.xml")
        assets = bundle / "app" / "src" / "main" / "assets"
        model = self.model_path(bundle, settings)
        if not (assets / model).exists():
            raise ContractBreak(f"the app loads assets/{model} ({self.MAIN}:211), which the bundle does not provide")
        labels = (assets / setting(settings, self.DEFAULTS, "LABEL_PATH_DEFAULT")).read_text().split("\n")
        if not labels or not labels[0]:
            raise ContractBreak("empty label file: Pipeline.cc:77 reads labels[0]")
        lab = self.read_label_map(run([self.preprocess(image, settings)])[0], "data<int64_t>()")
        h, w = lab.shape
        base = resize_bilinear(image, h, w).astype(np.int64)
        overlay = base.copy()
        overlay[..., 0] = np.minimum(base[..., 0] + lab * 150, 255)
        overlay[..., 1] = np.minimum(base[..., 1] + lab * 150, 255)
        return Shown("mask", mask=lab, items=[overlay.astype(np.uint8)])


class SegmentationJava(SegmentationCxx):
    name = "plite-seg-java"
    title = "Paddle-Lite-Demo human segmentation (Java app)"
    app_dir = "human_segmentation/android/app/java/human_segmentation/app"
    PRED = "src/main/java/com/baidu/paddle/lite/demo/segmentation/Predictor.java"
    VIS = "src/main/java/com/baidu/paddle/lite/demo/segmentation/visual/Visualize.java"
    PRE = "src/main/java/com/baidu/paddle/lite/demo/segmentation/preprocess/Preprocess.java"
    DEFAULTS = {"MODEL_PATH_DEFAULT": "image_segmentation/models/deeplab_mobilenet_for_cpu",
                "LABEL_PATH_DEFAULT": "image_segmentation/labels/label_list",
                "IMAGE_PATH_DEFAULT": "image_segmentation/images/human.jpg", "CPU_THREAD_NUM_DEFAULT": "1",
                "CPU_POWER_MODE_DEFAULT": "LITE_POWER_HIGH", "INPUT_COLOR_FORMAT_DEFAULT": "RGB",
                "INPUT_SHAPE_DEFAULT": "1,3,513,513"}
    COLORS_LINE = 16
    COLORS = "final int[] colors_map = {0xFF000000, 0xFFFFFF00};"
    GRADLE_LINE, GRADLE_URL = 34, "https://paddlelite-demo.bj.bcebos.com/libs/android/paddle_lite_libs_v2_10_rc.tar.gz"

    @property
    def terms(self):
        s = self.src
        return (
            Term("settings keys + defaults (no mean/std keys)", "; ".join(f"{k}={v}" for k, v in self.DEFAULTS.items()),
                 s("src/main/res/values/strings.xml", "13-19")),
            Term("model file", "<MODEL_PATH>/model.nb copied from assets to the cache dir", s(self.PRED, "126-145")),
            Term("labels", "loadLabel is never called: the label file is not read", s(self.PRED, "90-110")),
            Term("input 0", "float32 [INPUT_SHAPE]; createScaledBitmap(filter) to (W,H); raw 0-255 values "
                 "reordered by INPUT_COLOR_FORMAT; NO normalisation", s(self.PRE, "31-71") + "; " + s(self.PRED, "282-291")),
            Term("output 0", "getLongData() (int64); colour = colors_map[label] with a 2-entry map "
                 "(label >= 2 throws ArrayIndexOutOfBoundsException); drawn at alpha 0x80", s(self.VIS, "14-50")),
            Term("runtime", "Paddle-Lite Android libs v2.10-rc", s("build.gradle", self.GRADLE_LINE)),
        )

    def settings(self, source, model_dir, label_file):
        _, c, h, w = source.input_shape
        return {"MODEL_PATH_DEFAULT": f"image_segmentation/models/{model_dir}",
                "LABEL_PATH_DEFAULT": f"image_segmentation/labels/{label_file}",
                "IMAGE_PATH_DEFAULT": f"image_segmentation/images/{SAMPLE}", "CPU_THREAD_NUM_DEFAULT": "1",
                "CPU_POWER_MODE_DEFAULT": "LITE_POWER_HIGH", "INPUT_COLOR_FORMAT_DEFAULT": "BGR",
                "INPUT_SHAPE_DEFAULT": f"1,{c},{h},{w}"}

    def asset_paths(self, model_dir, label_file):
        return {"model": f"app/src/main/assets/image_segmentation/models/{model_dir}/model.nb",
                "labels": f"app/src/main/assets/image_segmentation/labels/{label_file}",
                "image": f"app/src/main/assets/image_segmentation/images/{SAMPLE}"}

    @staticmethod
    def palette(n: int) -> list[str]:
        """Pascal-VOC style colours; entry 0 stays black (transparent-looking background), as the app's."""
        out = []
        for i in range(n):
            r = g = b = 0
            c, j = i, 0
            while c:
                r |= ((c >> 0) & 1) << (7 - j)
                g |= ((c >> 1) & 1) << (7 - j)
                b |= ((c >> 2) & 1) << (7 - j)
                j, c = j + 1, c >> 3
            out.append(f"0xFF{r:02X}{g:02X}{b:02X}")
        return out

    def edits(self, model_dir, num_classes):
        new = "final int[] colors_map = {" + ", ".join(self.palette(num_classes)) + "};"
        return [Edit(f"{self.app_dir}/{self.VIS}", self.COLORS_LINE, self.COLORS, new,
                     f"the colour map has 2 entries; this model has {num_classes} classes")]

    def model_path(self, bundle, settings):
        return setting(settings, self.DEFAULTS, "MODEL_PATH_DEFAULT") + "/model.nb"

    def preprocess(self, image, settings):
        shape = [int(v) for v in setting(settings, self.DEFAULTS, "INPUT_SHAPE_DEFAULT").split(",")]
        fmt = setting(settings, self.DEFAULTS, "INPUT_COLOR_FORMAT_DEFAULT").upper()
        idx = [0, 1, 2] if fmt == "RGB" else [2, 1, 0]
        return nchw(resize_bilinear(image, shape[2], shape[3])[..., idx].astype(np.float32))

    def replay(self, bundle, info, image, run):
        settings = read_strings(bundle / "settings_strings.xml")
        assets = bundle / "app" / "src" / "main" / "assets"
        model = self.model_path(bundle, settings)
        if not (assets / model).exists():
            raise ContractBreak(f"the app loads assets/{model}, which the bundle does not provide")
        lab = self.read_label_map(run([self.preprocess(image, settings)])[0], "getLongData()")
        colours = edited_value(edits_applied(bundle), self.VIS, self.COLORS_LINE, self.COLORS)
        n_colours = colours.count("0x")
        if lab.size and int(lab.max()) >= n_colours:
            raise ContractBreak(f"label {int(lab.max())} indexes colors_map[{n_colours}] ({self.VIS}:18): "
                                "ArrayIndexOutOfBoundsException")
        if lab.size and int(lab.min()) < 0:
            raise ContractBreak("negative label: ArrayIndexOutOfBoundsException")
        return Shown("mask", mask=lab)


# ------------------------------------------------------------------------------------------------
class YoloCxx(Contract):
    name = "plite-yolo"
    title = "Paddle-Lite-Demo YOLOv3 detection (C++ yolo_detection_demo)"
    repo, commit, task = REPO, COMMIT, "detection"
    app_dir = "object_detection/android/app/cxx/yolo_detection_demo/app"
    SETTINGS_ACT = "src/main/java/com/baidu/paddle/lite/demo/yolo_detection/SettingsActivity.java"
    DEFAULTS = {"MODEL_DIR_DEFAULT": "models/yolov3_mobilenet_v3_for_cpu",
                "LABEL_PATH_DEFAULT": "labels/coco-labels-2014_2017.txt", "CPU_THREAD_NUM_DEFAULT": "1",
                "CPU_POWER_MODE_DEFAULT": "LITE_POWER_HIGH", "INPUT_WIDTH_DEFAULT": "320",
                "INPUT_HEIGHT_DEFAULT": "320", "INPUT_MEAN_DEFAULT": "0.485,0.456,0.406",
                "INPUT_STD_DEFAULT": "0.229,0.224,0.225", "SCORE_THRESHOLD_DEFAULT": "0.2"}
    GRADLE_LINE, GRADLE_URL = 48, "https://paddlelite-demo.bj.bcebos.com/libs/android/paddle_lite_libs_v2_10_rc.tar.gz"

    @property
    def terms(self):
        s = self.src
        return (
            Term("settings keys + defaults", "; ".join(f"{k}={v}" for k, v in self.DEFAULTS.items()),
                 s("src/main/res/values/strings.xml", "13-21")),
            Term("settings read", "pre-installed model = the *_DEFAULT strings", s(self.SETTINGS_ACT, "74-82")),
            Term("model file", "<MODEL_DIR>/model.nb copied from assets to the cache dir",
                 s("src/main/java/com/baidu/paddle/lite/demo/yolo_detection/MainActivity.java", "159-160") + "; " +
                 s("src/main/cpp/Pipeline.cc", 25)),
            Term("label file", "every line is a label (class id = line index)", s("src/main/cpp/Pipeline.cc", "35-47")),
            Term("input 0", "float32 [1,3,H,W]; cv::resize, BGRA2RGB on RGBA (= B,G,R), /255, (x - mean)/std",
                 s("src/main/cpp/Pipeline.cc", "67-81")),
            Term("input 1", "int32 [1,2] = {INPUT_WIDTH, INPUT_HEIGHT} (GetInput(1): a one-input model aborts)",
                 s("src/main/cpp/Pipeline.cc", "82-87")),
            Term("output 0", "float rows of 6: class, score, x1, y1, x2, y2 in input pixels; score < SCORE_THRESHOLD "
                 "skipped; box / INPUT_WIDTH/HEIGHT", s("src/main/cpp/Pipeline.cc", "90-116")),
            Term("runtime", "Paddle-Lite Android libs v2.10-rc", s("build.gradle", self.GRADLE_LINE)),
        )

    def refuse(self, source):
        return super().refuse(source) or zoo_yolo_only(source, "the YOLO demo", "its two-input graph")

    def app_graph(self, source):
        return {"kind": "yolo", "bgr_input": True}

    def app_preprocess(self, source):
        return _bgr(source.preprocess)

    def settings(self, source, model_dir, label_file):
        pre = _bgr(source.preprocess)
        _, _, h, w = source.input_shape
        return {"MODEL_DIR_DEFAULT": f"models/{model_dir}", "LABEL_PATH_DEFAULT": f"labels/{label_file}",
                "CPU_THREAD_NUM_DEFAULT": "1", "CPU_POWER_MODE_DEFAULT": "LITE_POWER_HIGH",
                "INPUT_WIDTH_DEFAULT": str(w), "INPUT_HEIGHT_DEFAULT": str(h), "INPUT_MEAN_DEFAULT": _csv(pre.mean),
                "INPUT_STD_DEFAULT": _csv(pre.std),
                # untrained weights score below the demo's 0.2: show what the graph's NMS keeps
                "SCORE_THRESHOLD_DEFAULT": "0.2" if source.weights else f"{COCO_YOLO.score_threshold:g}"}

    def asset_paths(self, model_dir, label_file):
        return {"model": f"app/src/main/assets/models/{model_dir}/model.nb",
                "labels": f"app/src/main/assets/labels/{label_file}", "image": "edgekit_check/edgekit_sample.png"}

    def feed(self, bundle, info, image) -> tuple[dict, list[str], int, int, np.ndarray]:
        """What both detection demos do before their second input: settings, the model folder the app
        loads, labels (every line), input 0 (resize, BGRA2RGB on RGBA = B,G,R, /255, mean/std).
        Returns (settings, labels, width, height, input 0)."""
        settings = read_strings(bundle / "settings_strings.xml")
        assets = bundle / "app" / "src" / "main" / "assets"
        folder = setting(settings, self.DEFAULTS, "MODEL_DIR_DEFAULT")
        if not (assets / folder / "model.nb").exists():
            raise ContractBreak(f"the app loads assets/{folder}/model.nb, which the bundle does not provide")
        raw = (assets / setting(settings, self.DEFAULTS, "LABEL_PATH_DEFAULT")).read_bytes().decode()
        labels = raw.split("\n")                      # while (file) { getline; push_back } keeps a last ""
        w, h = int(setting(settings, self.DEFAULTS, "INPUT_WIDTH_DEFAULT")), \
            int(setting(settings, self.DEFAULTS, "INPUT_HEIGHT_DEFAULT"))
        # Utils.parseFloatsFromString trims every piece
        mean = floats(setting(settings, self.DEFAULTS, "INPUT_MEAN_DEFAULT").replace(" ", ""))
        std = floats(setting(settings, self.DEFAULTS, "INPUT_STD_DEFAULT").replace(" ", ""))
        if [h, w] != list(info["input_shape"][2:]):
            # The exported graph's upsampling sizes are constants of its input size: another size
            # breaks the FPN concatenations (or silently shifts boxes), so it is a contract break.
            raise ContractBreak(f"the app feeds {w}x{h} (INPUT_WIDTH/HEIGHT_DEFAULT); the model is fixed at "
                                f"{info['input_shape'][3]}x{info['input_shape'][2]}")
        x = resize_bilinear(image, h, w)[..., ::-1].astype(np.float32) / 255.0
        return settings, labels, w, h, nchw((x - np.float32(mean)) / np.float32(std))

    def replay(self, bundle, info, image, run):
        settings, labels, w, h, x = self.feed(bundle, info, image)
        out = run([x, np.array([[w, h]], np.int32)])[0]
        if out.dtype != np.float32 or out.size % 6:
            raise ContractBreak(f"output {out.dtype} {out.shape}: Pipeline.cc reads float rows of 6")
        thr = float(setting(settings, self.DEFAULTS, "SCORE_THRESHOLD_DEFAULT"))
        items = []
        for row in out.reshape(-1, 6):
            cls, score = int(round(float(row[0]))), float(row[1])
            if score < thr:
                continue
            name = labels[cls] if 0 <= cls < len(labels) else "Unknow"
            items.append((name, score, row[2] / w, row[3] / h, (row[4] - row[2] + 1) / w, (row[5] - row[3] + 1) / h))
        return Shown("boxes", items)
