"""The PaddleX Android SDK (github.com/PaddlePaddle/PaddleX deploy/lite/android, PaddleX 1.x @ the indexed
commits named per term): model/model.nb + config/model.yml read by ConfigParser, preprocessing by
Transforms (OpenCV), results by Predictor, drawing by Visualize.
  classifier  softmax graph (top-1 by '>' against 0)
  segmenter   two outputs: an int64 label map (getLongData) and a float score map [1,C,H,W] whose class-1
              plane the demo draws as alpha * 255 (probabilities, or the 8-bit alpha saturates)
  detector    YOLOv3: input 1 is the ORIGINAL image's int32 {height, width}, boxes come back in its pixels
"""
from __future__ import annotations

import numpy as np

from edge_kit.apps.contract import (Contract, ContractBreak, Edit, Shown, Term, edited_value, edits_applied, nchw,
                                    resize_bilinear, zoo_yolo_only)

REPO = "PaddlePaddle/PaddleX"
RELEASE_1_3 = "a76b3413e370dda825f0220fcfb68b3e1ad4027c"   # branch release/1.3, the SDK's segmenter/detector paths
SDK = "deploy/lite/android/sdk/src/main/java/com/baidu/paddlex"
DEMO = "deploy/lite/android/demo/app/src/main"


def java_round(x: float) -> int:
    return int(np.floor(x + 0.5))


class PaddleXClassifier(Contract):
    name = "paddlex-sdk"
    title = "PaddleX Android SDK (classifier)"
    repo, task = REPO, "classification"
    commit = "e7f768551c6d51c6342f18d188151ce374355f12"   # ConfigParser.java / Transforms.java as indexed
    app_dir = "deploy/lite/android"
    terms = (
        Term("asset paths", "MODEL_PATH_DEFAULT=model/model.nb, YAML_PATH_DEFAULT=config/model.yml (copied from assets)",
             f"{DEMO}/res/values/strings.xml:11-12"),
        Term("model.yml keys", "Model (str), TransformsMode (RGB|BGR, default RGB), _Attributes.labels (list), "
             "_Attributes.num_classes (int), _Attributes.model_type (classifier|detector|segmenter), Transforms (list)",
             f"{SDK}/config/ConfigParser.java:51-63"),
        Term("Transforms", "ResizeByShort needs short_size AND max_size ((int) cast of a missing key throws); "
             "CenterCrop crop_size; Normalize mean/std as floats, applied after x/255",
             f"{SDK}/preprocess/Transforms.java:44-66,258-268"),
        Term("colour order", "the Mat is BGR (imread / RGBA2BGR); TransformsMode RGB converts BGR2RGB",
             f"{SDK}/preprocess/Transforms.java:118-123"),
        Term("classifier output", "getFloatData(); top-1 by '>' against max_score = 0 (logits <= 0 give index 0)",
             f"{SDK}/Predictor.java:186-206"),
    )

    def app_graph(self, source):
        return {"kind": "classifier", "softmax": True}

    def asset_paths(self, model_dir, label_file):
        return {"model": "app/src/main/assets/model/model.nb", "yml": "app/src/main/assets/config/model.yml",
                "image": "app/src/main/assets/images/edgekit_sample.jpg"}

    MODEL_TYPE = "classifier"

    def transforms(self, source) -> list:
        pre = source.preprocess
        return [{"ResizeByShort": {"short_size": int(pre.resize_short or pre.resize[0]), "max_size": -1}},
                {"CenterCrop": {"crop_size": int(pre.resize[0])}}]

    def model_name(self, source) -> str:
        return source.name

    def model_yml(self, source, names: list[str]) -> str:
        import yaml

        pre = source.preprocess
        doc = {"Model": self.model_name(source), "TransformsMode": pre.channel_order,
               "_Attributes": {"model_type": self.MODEL_TYPE, "num_classes": len(names), "labels": list(names)},
               "Transforms": self.transforms(source) +
               [{"Normalize": {"mean": [float(v) for v in pre.mean], "std": [float(v) for v in pre.std]}}]}
        return yaml.safe_dump(doc, sort_keys=False)

    def geometry(self, image: np.ndarray, yml: dict) -> np.ndarray:
        """ResizeByShort + CenterCrop as Transforms.java does them (on the float Mat)."""
        x = image.astype(np.float32)
        for op in yml["Transforms"]:
            (name, args), = op.items()
            h, w = x.shape[:2]
            if name == "ResizeByShort":
                scale = args["short_size"] / min(h, w)
                if args["max_size"] > 0 and java_round(scale * max(h, w)) > args["max_size"]:
                    scale = args["max_size"] / max(h, w)
                x = resize_bilinear(x, java_round(scale * h), java_round(scale * w), keep_float=True)
            elif name == "Resize":          # target_size: int or [width, height] (Transforms.java:85-98)
                t = args["target_size"]
                tw, th = (t, t) if isinstance(t, int) else (t[0], t[1])
                x = resize_bilinear(x, th, tw, keep_float=True)
            elif name == "CenterCrop":
                c = args["crop_size"]
                ch, cw = (c, c) if isinstance(c, int) else (c[1], c[0])
                ox, oy = max(min((w - cw) // 2, w - cw), 0), max(min((h - ch) // 2, h - ch), 0)
                x = x[oy:oy + cw, ox:ox + ch]            # Rect(x, y, cropHeight, cropWidth): w/h swapped
        return x

    def geometry_for_reference(self, image, source):
        import yaml

        return self.geometry(image, yaml.safe_load(self.model_yml(source, ["x"])))

    def network_input(self, bundle, image) -> tuple[dict, np.ndarray]:
        """ConfigParser + Transforms as the SDK runs them: (model.yml, the NCHW input)."""
        import yaml

        assets = bundle / "app" / "src" / "main" / "assets"
        for rel in ("model/model.nb", "config/model.yml"):
            if not (assets / rel).exists():
                raise ContractBreak(f"the demo loads assets/{rel} (strings.xml:11-12), which the bundle lacks")
        yml = yaml.safe_load((assets / "config" / "model.yml").read_text())
        for key in ("Model", "_Attributes", "Transforms"):
            if key not in yml:
                raise ContractBreak(f"model.yml has no {key!r} (ConfigParser.java:51-63 reads it)")
        for op in yml["Transforms"]:
            if "ResizeByShort" in op and "max_size" not in op["ResizeByShort"]:
                raise ContractBreak("ResizeByShort without max_size: Transforms.java:49 casts null to int")
        x = self.geometry(image if yml.get("TransformsMode", "RGB") == "RGB" else image[..., ::-1], yml)
        for op in yml["Transforms"]:
            if "Normalize" in op:
                x = (x / 255.0 - np.float32(op["Normalize"]["mean"])) / np.float32(op["Normalize"]["std"])
        return yml, nchw(x)

    def replay(self, bundle, info, image, run):
        yml, x = self.network_input(bundle, image)
        out = run([x])[0].ravel()
        best, score = 0, 0.0
        for i, v in enumerate(out):          # Predictor.java: '>' against max_score = 0
            if v > score:
                best, score = i, float(v)
        labels = yml["_Attributes"]["labels"]
        if best >= len(labels):
            raise ContractBreak(f"labels.get({best}) with {len(labels)} labels: IndexOutOfBoundsException")
        return Shown("topk", [(labels[best], score)])


class PaddleXSegmenter(PaddleXClassifier):
    name = "paddlex-sdk-segmenter"
    title = "PaddleX Android SDK (segmenter)"
    task = "semantic_segmentation"
    commit = RELEASE_1_3
    MODEL_TYPE = "segmenter"
    CUTOUT = 1     # MainActivity draws the score plane of class 1 (human segmentation's foreground)
    terms = (
        Term("asset paths", "model/model.nb, config/model.yml (copied from assets)", f"{DEMO}/res/values/strings.xml:11-12"),
        Term("model.yml keys", "Model, TransformsMode, _Attributes.{labels,num_classes,model_type=segmenter}, Transforms",
             f"{SDK}/config/ConfigParser.java:49-63"),
        Term("Transforms", "Resize target_size (int or [w, h]) with interp (default LINEAR), Normalize after /255; "
             "the Mat is BGR, TransformsMode RGB converts", f"{SDK}/preprocess/Transforms.java:85-98,128-139,239-293"),
        Term("output 0", "getLongData(): int64 label map", f"{SDK}/Predictor.java:146-154"),
        Term("output 1", "getOutput(1).getFloatData(): score map [1,C,H,W] (a one-output model fails here)",
             f"{SDK}/Predictor.java:156-159"),
        Term("drawing", "plane CUTOUT=1 of the score map * 255 -> CV_8U alpha, resized back to the frame",
             f"{SDK}/visual/Visualize.java:121-146; {DEMO}/java/com/baidu/paddlex/lite/demo/MainActivity.java:217"),
    )

    def app_graph(self, source):
        return {"kind": "segmenter", "label_dtype": "int64", "score_output": True}

    def transforms(self, source):
        _, _, h, w = source.input_shape
        return [{"Resize": {"target_size": [int(w), int(h)], "interp": "LINEAR"}}]

    def replay(self, bundle, info, image, run):
        yml, x = self.network_input(bundle, image)
        outs = run([x])
        label = outs[0]
        if label.dtype != np.int64:
            raise ContractBreak(f"output 0 is {label.dtype}; Predictor.java:148 reads getLongData() (int64)")
        if len(outs) < 2:
            raise ContractBreak("the SDK reads getOutput(1) (the score map, Predictor.java:156); the model has one "
                                "output: Paddle-Lite aborts")
        score = outs[1]
        n = int(yml["_Attributes"]["num_classes"])
        if score.dtype != np.float32 or score.ndim != 4 or score.shape[1] != n or score.shape[2:] != x.shape[2:]:
            raise ContractBreak(f"output 1 {score.dtype} {score.shape}: Visualize.java:122-127 reads a float "
                                f"[1,{n},{x.shape[2]},{x.shape[3]}] score map")
        plane = score[0, self.CUTOUT]
        if plane.min() < 0 or plane.max() > 1 + 1e-5:
            raise ContractBreak(f"score plane {self.CUTOUT} spans [{plane.min():.3g}, {plane.max():.3g}]: "
                                "Visualize.java:128-129 multiplies by 255 into 8 bits (probabilities expected)")
        lab = label.reshape(label.shape[-2:])
        agree = float((np.argmax(score[0], axis=0) == lab).mean())
        if agree < 0.999:
            raise ContractBreak(f"the score map's argmax agrees with the label map on {agree:.4f} of pixels")
        return Shown("mask", mask=lab)


class PaddleXDetector(PaddleXClassifier):
    name = "paddlex-sdk-detector"
    title = "PaddleX Android SDK (YOLOv3 detector)"
    task = "detection"
    commit = RELEASE_1_3
    MODEL_TYPE = "detector"
    VIS = f"{SDK}/visual/Visualize.java"
    THRESHOLD_LINE = 45
    THRESHOLD = "protected float detectConfidenceThreshold = (float) 0.5;"
    FRAME_ROWS_SCALE = 2
    terms = (
        Term("asset paths", "model/model.nb, config/model.yml (copied from assets)", f"{DEMO}/res/values/strings.xml:11-12"),
        Term("model.yml keys", "Model (YOLOv3 selects the im_size input), _Attributes.{labels,num_classes,"
             "model_type=detector}, TransformsMode, Transforms", f"{SDK}/config/ConfigParser.java:49-63"),
        Term("Transforms", "Resize target_size with interp (default LINEAR), Normalize after /255",
             f"{SDK}/preprocess/Transforms.java:85-98,239-293"),
        Term("input 1", "Model == YOLOv3: getInput(1) int32 [1,2] = ORIGINAL image {height, width}",
             f"{SDK}/Predictor.java:97-101; {SDK}/preprocess/Transforms.java:129-130"),
        Term("output 0", "getFloatData(), every row of 6 (class, score, x1, y1, x2, y2) in original-image pixels; "
             "label = labels.get(class)", f"{SDK}/Predictor.java:116-135"),
        Term("drawing", "boxes with score < detectConfidenceThreshold (hard-coded 0.5) skipped",
             f"{SDK}/visual/Visualize.java:45,92-95"),
    )

    def refuse(self, source):
        return Contract.refuse(self, source) or zoo_yolo_only(source, "the PaddleX SDK", "its YOLOv3 graph")

    def app_graph(self, source):
        return {"kind": "yolo", "im_size_hw": True}

    def asset_paths(self, model_dir, label_file):
        # a lossless test frame: an untrained YOLO scores like a detector only on its calibration images
        return {**super().asset_paths(model_dir, label_file), "image": "edgekit_check/edgekit_sample.png"}

    def model_name(self, source):
        return "YOLOv3"          # Predictor.java:97 compares Model with "YOLOv3" to feed im_size

    def transforms(self, source):
        _, _, h, w = source.input_shape
        return [{"Resize": {"target_size": [int(w), int(h)], "interp": "LINEAR"}}]

    def threshold(self, source) -> str:
        from edge_kit.postprocess.yolo import COCO_YOLO

        return "0.5" if source.weights else f"{COCO_YOLO.score_threshold:g}"

    def draw_threshold(self, source, settings):
        return float(self.threshold(source))

    def edits_for(self, source, model_dir, num_classes):
        """Untrained weights score below the hard-coded 0.5: draw what the graph's NMS keeps."""
        if source.weights:
            return []
        new = self.THRESHOLD.replace("0.5", self.threshold(source))
        return [Edit(f"{self.app_dir}/sdk/src/main/java/com/baidu/paddlex/visual/Visualize.java", self.THRESHOLD_LINE,
                     self.THRESHOLD, new, "untrained weights score below the SDK's hard-coded 0.5")]

    def camera_frame(self, image):
        """Every row doubled: the LINEAR Resize back is exact, and im_size = (2h, w) shows whether the graph
        takes it as {height, width}."""
        return np.repeat(image, self.FRAME_ROWS_SCALE, axis=0)

    def replay(self, bundle, info, image, run):
        yml, x = self.network_input(bundle, image)
        if str(yml.get("Model", "")).lower() != "yolov3":
            raise ContractBreak(f"Model {yml.get('Model')!r}: Predictor.java:97 feeds im_size only for 'YOLOv3'")
        rows, cols = image.shape[:2]
        out = run([x, np.array([[rows, cols]], np.int32)])[0]
        if out.dtype != np.float32 or out.size % 6:
            raise ContractBreak(f"output {out.dtype} {out.shape}: Predictor.java:117 reads float rows of 6")
        labels = yml["_Attributes"]["labels"]
        thr = float(quoted_float(edited_value(edits_applied(bundle), "Visualize.java", self.THRESHOLD_LINE, self.THRESHOLD)))
        _, _, h, w = x.shape
        items = []
        for row in out.reshape(-1, 6):
            cls, score = int(row[0]), float(row[1])          # (int) cast, Predictor.java:126
            if not 0 <= cls < len(labels):
                raise ContractBreak(f"labels.get({cls}) with {len(labels)} labels: IndexOutOfBoundsException")
            if score < thr:
                continue
            x1, y1, x2, y2 = (float(v) for v in row[2:])
            # compare()'s convention (fractions of the picture, x2 = x + w*W - 1 at the network size)
            items.append((labels[cls], score, x1 / cols, y1 / rows, (x2 - x1) / cols + 1 / w, (y2 - y1) / rows + 1 / h))
        return Shown("boxes", items)


def quoted_float(line: str) -> str:
    """The float literal of `... = (float) 0.5;`."""
    return line.rstrip(";").rsplit(")", 1)[-1].strip()
