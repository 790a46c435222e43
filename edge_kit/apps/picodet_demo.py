"""Paddle-Lite-Demo's current object-detection app, `picodet_detection_demo` (C++; Paddle-Lite-Demo @ 82f329f),
as its source feeds and reads the model. Its contract is PaddleDetection's export, not the YOLO demo's:

  * input 1 is a float32 `scale_factor` [1,2] = {input_h / frame_rows, input_w / frame_cols} (the YOLO
    demo's is an int32 im_size {width, height});
  * output 0 is [N,6] rows (class, score, x1, y1, x2, y2) in the CAMERA FRAME's pixels (the YOLO demo's
    are in input pixels), and only the first `bbox_num[0]` rows are read; output 1 is `bbox_num`, int32;
  * the boxes are drawn on the frame itself, so a model that ignores scale_factor draws them in the
    wrong place on any frame that is not the network's size.

edgekit's YOLOv3 meets it with an adapted graph (edge_kit.apps.graph kind=picodet): yolo_box decodes to
the frame size (input size / scale_factor), as PaddleDetection's YOLOBox does, and multiclass_nms3's
NmsRoisNum is the second output. A PicoDet network itself is not in edgekit's zoo; the demo only needs
the contract, which a YOLOv3 graph can meet.
"""
from __future__ import annotations

import numpy as np

from edge_kit.apps.contract import Contract, ContractBreak, Shown, Term, setting, zoo_yolo_only
from edge_kit.apps.paddlelite_demo import YoloCxx


class PicoDetCxx(YoloCxx):
    name = "plite-picodet"
    title = "Paddle-Lite-Demo PicoDet detection (C++ picodet_detection_demo)"
    app_dir = "object_detection/android/app/cxx/picodet_detection_demo/app"
    SETTINGS_ACT = "src/main/java/com/baidu/paddle/lite/demo/object_detection/SettingsActivity.java"
    MAIN = "src/main/java/com/baidu/paddle/lite/demo/object_detection/MainActivity.java"
    DEFAULTS = {"MODEL_DIR_DEFAULT": "models/picodet_s_320_coco_for_cpu",
                "LABEL_PATH_DEFAULT": "labels/coco_label_list.txt", "CPU_THREAD_NUM_DEFAULT": "1",
                "CPU_POWER_MODE_DEFAULT": "LITE_POWER_HIGH", "INPUT_WIDTH_DEFAULT": "320",
                "INPUT_HEIGHT_DEFAULT": "320", "INPUT_MEAN_DEFAULT": "0.485, 0.456, 0.406",
                "INPUT_STD_DEFAULT": "0.229, 0.224, 0.225", "SCORE_THRESHOLD_DEFAULT": "0.5"}
    GRADLE_LINE, GRADLE_URL = 48, "https://paddlelite-demo.bj.bcebos.com/libs/android/paddle_lite_libs_v2.11_rc.tar.gz"
    GRADLE_VERSION = "2.11-rc"
    FRAME_ROWS_SCALE = 2   # the check's frame: the test picture with every row doubled (see camera_frame)

    @property
    def terms(self):
        s = self.src
        return (
            Term("settings keys + defaults", "; ".join(f"{k}={v}" for k, v in self.DEFAULTS.items()),
                 s("src/main/res/values/strings.xml", "13-21")),
            Term("settings read", "pre-installed model = the *_DEFAULT strings; mean/std split on ',' and trimmed",
                 s(self.SETTINGS_ACT, "72-80") + "; " + s("src/main/java/com/baidu/paddle/lite/demo/common/Utils.java",
                                                          "86-93")),
            Term("model file", "<MODEL_DIR>/model.nb copied from assets to the cache dir (no hard-coded folder)",
                 s(self.MAIN, "157-158") + "; " + s("src/main/cpp/Pipeline.cc", 24)),
            Term("label file", "every line is a label, class id = line index (a trailing empty line too); "
                 "out-of-range id shows 'Unknow'", s("src/main/cpp/Pipeline.cc", "34-46") + "; " +
                 s("src/main/cpp/Pipeline.cc", "114-116")),
            Term("frame", "camera ARGB8888 bitmap = RGBA cv::Mat, any size", s("src/main/cpp/Native.cc", "72-94")),
            Term("input 1", "GetInput(1) float32 [1,2] scale_factor = {INPUT_HEIGHT / rows, INPUT_WIDTH / cols}",
                 s("src/main/cpp/Pipeline.cc", "68-74")),
            Term("input 0", "float32 [1,3,H,W]; cv::resize to (W,H) (aspect not kept), BGRA2RGB on RGBA (= B,G,R), "
                 "/255, (x - mean[c]) / std[c]", s("src/main/cpp/Pipeline.cc", "76-88") + "; " +
                 s("src/main/cpp/Utils.cc", "25-59")),
            Term("output 0", "data<float>() rows of 6: class (rounded), score, x1, y1, x2, y2 in frame pixels, "
                 "truncated to int; w = x2 - x1; score < SCORE_THRESHOLD skipped", s("src/main/cpp/Pipeline.cc", "92-126")),
            Term("output 1", "GetOutput(1) data<int>() bbox_num: only rows i < bbox_num[0] are read",
                 s("src/main/cpp/Pipeline.cc", "93-99")),
            Term("drawing", "boxes drawn on the frame itself, clipped to it", s("src/main/cpp/Pipeline.cc", "160-167")),
            Term("runtime", "Paddle-Lite Android libs v2.11-rc", s("build.gradle", self.GRADLE_LINE)),
        )

    def refuse(self, source):
        return Contract.refuse(self, source) or zoo_yolo_only(
            source, "the PicoDet demo", "its graph (scale_factor input, frame-pixel boxes, bbox_num output; the zoo "
            "has no PicoDet network)")

    def app_graph(self, source):
        return {"kind": "picodet", "bgr_input": True}

    def settings(self, source, model_dir, label_file):
        out = super().settings(source, model_dir, label_file)
        if source.weights:
            out["SCORE_THRESHOLD_DEFAULT"] = self.DEFAULTS["SCORE_THRESHOLD_DEFAULT"]   # the demo's own 0.5
        return out

    def camera_frame(self, image: np.ndarray) -> np.ndarray:
        """The check's camera frame: every row doubled. The app's resize back to the network size is then
        exact (half-pixel bilinear samples two equal rows), and scale_factor is (0.5, 1.0), so a graph that
        ignores it, or swaps height and width, draws its boxes in the wrong place."""
        return np.repeat(image, self.FRAME_ROWS_SCALE, axis=0)

    def extra_parity_input(self, n: int) -> dict:
        """The second input for the conversion's parity runs: the check frame's scale_factor."""
        return {"scale_factor": np.tile(np.array([[1.0 / self.FRAME_ROWS_SCALE, 1.0]], np.float32), (n, 1))}

    def reference_as_shown(self, ref, image):
        """A correct PicoDet demo draws the reference boxes in frame pixels truncated to int (Pipeline.cc:104-107);
        kept in compare()'s network-pixel convention (x2 = x + w*W - 1, see replay). Without this a correct
        8-pixel-wide box loses up to a pixel per edge and fails the IoU bar."""
        if ref.get("kind") != "boxes":
            return ref
        w, h = ref["input_wh"]
        rows, cols = image.shape[:2]
        sx, sy = cols / w, rows / h
        out = []
        for name, score, x1, y1, x2, y2 in ref["rows"]:
            fx1, fy1, fx2, fy2 = int(x1 * sx), int(y1 * sy), int(x2 * sx), int(y2 * sy)
            out.append([name, score, fx1 / sx, fy1 / sy, fx2 / sx, fy2 / sy])
        return {**ref, "rows": out}

    def replay(self, bundle, info, image, run):
        settings, labels, w, h, x = self.feed(bundle, info, image)
        rows, cols = image.shape[:2]
        scale = np.array([[h / rows, w / cols]], np.float32)                          # Pipeline.cc:68-74
        outs = run([x, scale])
        if len(outs) < 2:
            raise ContractBreak(f"the app reads GetOutput(1) (bbox_num); the model has {len(outs)} output(s): "
                                "Paddle-Lite aborts (Check failed)")
        boxes, num = outs[0], outs[1]
        if boxes.dtype != np.float32 or boxes.size % 6:
            raise ContractBreak(f"output 0 {boxes.dtype} {boxes.shape}: Pipeline.cc:94 reads float rows of 6")
        if num.dtype not in (np.int32, np.int64) or num.size < 1:
            raise ContractBreak(f"output 1 {num.dtype} {num.shape}: Pipeline.cc:95 reads data<int>() bbox_num")
        n = int(num.ravel()[0])     # data<int>(): the low word of an int64 on little-endian ARM, same value
        if n * 6 > boxes.size or n < 0:
            raise ContractBreak(f"bbox_num[0] = {n} rows but output 0 holds {boxes.size // 6}: the app reads past it")
        thr = float(setting(settings, self.DEFAULTS, "SCORE_THRESHOLD_DEFAULT"))
        items = []
        for row in boxes.reshape(-1, 6)[:n]:
            cls, score = int(round(float(row[0]))), float(row[1])
            x1, y1, x2, y2 = (int(v) for v in row[2:])                                # static_cast<int>
            if score < thr:
                continue
            name = labels[cls] if 0 <= cls < len(labels) else "Unknow"
            # compare() reads (x, y, w, h) as fractions of the picture in the YOLO demo's inclusive-pixel
            # convention at the network size: x2 = x + w*W - 1 there, hence the 1/W.
            items.append((name, score, x1 / cols, y1 / rows, (x2 - x1) / cols + 1 / w, (y2 - y1) / rows + 1 / h))
        return Shown("boxes", items, notes=[f"frame {cols}x{rows}, scale_factor {scale.ravel().tolist()}"])
