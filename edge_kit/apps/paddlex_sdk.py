"""The PaddleX Android SDK (github.com/PaddlePaddle/PaddleX deploy/lite/android, PaddleX 1.x @ the indexed
commits named per term): model/model.nb + config/model.yml read by ConfigParser, preprocessing by
Transforms (OpenCV), results by Predictor. Classifiers only: its segmenter reads two outputs (an int64
label map and a float score map) and its YOLOv3 path feeds the ORIGINAL image size as im_size, which
edgekit's graphs do not provide yet; those pairs are refused before converting.
"""
from __future__ import annotations

import numpy as np

from edge_kit.apps.contract import Contract, ContractBreak, Shown, Term, nchw, resize_bilinear

REPO = "PaddlePaddle/PaddleX"
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
        Term("segmenter outputs", "getOutput(0).getLongData() label map AND getOutput(1).getFloatData() scores",
             f"{SDK}/Predictor.java:160-180"),
        Term("YOLOv3 input 1", "int32 [1,2] = original image (height, width)", f"{SDK}/Predictor.java:107-112"),
    )

    def refuse(self, source):
        if source.task == "semantic_segmentation":
            return ("the PaddleX SDK's segmenter reads a second output (float scores, Predictor.java:175) that "
                    "edgekit's segmentation graphs do not produce")
        if source.task == "detection":
            return ("the PaddleX SDK feeds YOLOv3 the original image size as im_size (Predictor.java:107-112); "
                    "edgekit's bundled YOLO graph is made for the Paddle-Lite-Demo app's network-size im_size")
        return super().refuse(source)

    def app_graph(self, source):
        return {"kind": "classifier", "softmax": True}

    def asset_paths(self, model_dir, label_file):
        return {"model": "app/src/main/assets/model/model.nb", "yml": "app/src/main/assets/config/model.yml",
                "image": "app/src/main/assets/images/edgekit_sample.jpg"}

    def model_yml(self, source, names: list[str]) -> str:
        import yaml

        pre = source.preprocess
        doc = {"Model": source.name, "TransformsMode": pre.channel_order,
               "_Attributes": {"model_type": "classifier", "num_classes": len(names), "labels": list(names)},
               "Transforms": [{"ResizeByShort": {"short_size": int(pre.resize_short or pre.resize[0]), "max_size": -1}},
                              {"CenterCrop": {"crop_size": int(pre.resize[0])}},
                              {"Normalize": {"mean": [float(v) for v in pre.mean], "std": [float(v) for v in pre.std]}}]}
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
            elif name == "CenterCrop":
                c = args["crop_size"]
                ch, cw = (c, c) if isinstance(c, int) else (c[1], c[0])
                ox, oy = max(min((w - cw) // 2, w - cw), 0), max(min((h - ch) // 2, h - ch), 0)
                x = x[oy:oy + cw, ox:ox + ch]            # Rect(x, y, cropHeight, cropWidth): w/h swapped
        return x

    def geometry_for_reference(self, image, source):
        import yaml

        return self.geometry(image, yaml.safe_load(self.model_yml(source, ["x"])))

    def replay(self, bundle, info, image, run):
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
        out = run([nchw(x)])[0].ravel()
        best, score = 0, 0.0
        for i, v in enumerate(out):          # Predictor.java: '>' against max_score = 0
            if v > score:
                best, score = i, float(v)
        labels = yml["_Attributes"]["labels"]
        if best >= len(labels):
            raise ContractBreak(f"labels.get({best}) with {len(labels)} labels: IndexOutOfBoundsException")
        return Shown("topk", [(labels[best], score)])
