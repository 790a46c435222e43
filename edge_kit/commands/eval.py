"""`edgekit eval ARTIFACT|MODEL --data DIR`: accuracy on the user's labelled data (edge_kit.evaluate)."""
from __future__ import annotations

import argparse


def _fmt(metrics: dict) -> str:
    keys = [("top1", "top-1"), ("top5", "top-5"), ("map", "mAP@[.5:.95]"), ("ap50", "AP50"), ("miou", "mIoU"),
            ("pixel_accuracy", "pixel acc")]
    return "  ".join(f"{label} {metrics[k]:.4f}" for k, label in keys if k in metrics)


def run(args) -> int:
    from edge_kit.evaluate import evaluate

    rec = evaluate(args.target, args.data, precision=args.precision, calib=args.calib, fmt=args.format,
                   results_dir=None if args.no_store else args.results_dir, limit=args.limit)
    ds = rec["dataset"]
    print(f"{rec['model']} {rec['format']}/{rec['target']}/{rec['precision']} on {ds['path']} "
          f"({ds['format']}, {ds['images']} images): {_fmt(rec['metrics'])}")
    if "chance_top1" in rec["metrics"]:
        print(f"  chance top-1 would be {rec['metrics']['chance_top1']:.4f}")
    if str(rec.get("weights") or "").startswith("untrained"):
        print("  note: untrained weights (edgekit's seeded init): this scores the artifact, not a trained model")
    if rec.get("stored_in"):
        print(f"  recorded in {rec['stored_in']}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("eval", help="accuracy of an artifact or zoo model on your labelled data",
                       description="Accuracy of an artifact (with its manifest) or a zoo model on your labelled data; "
                                   "appended to bench_results/accuracy.jsonl and shown by `edgekit report`.",
                       epilog="examples:\n  edgekit eval out/MobileNetV3_small_ssld/MobileNetV3_small_ssld.fp32.tflite "
                              "--data my_images/\n  edgekit eval MobileNetV3_small_ssld --data val_list.txt --precision int8 "
                              "--calib calib/\n", formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("target", metavar="ARTIFACT|MODEL", help="an artifact file with its manifest, or a zoo model name")
    p.add_argument("--data", required=True, metavar="DIR",
                   help="class folders or a PaddleClas *_list.txt (classification), a COCO json with its images "
                        "(detection), images/ + masks/ PNG pairs (segmentation)")
    p.add_argument("--precision", default="fp32", help="for a MODEL: fp32, fp16 or int8 (default: %(default)s)")
    p.add_argument("--calib", metavar="PATH", help="for a MODEL at int8: the calibration set")
    p.add_argument("--format", default="tflite", choices=("tflite", "onnx"), help="for a MODEL: which artifact")
    p.add_argument("--limit", type=int, help="evaluate only the first N items")
    p.add_argument("--results-dir", default="bench_results", help="where accuracy.jsonl is appended")
    p.add_argument("--no-store", action="store_true", help="print only; do not record the result")
    p.set_defaults(func=run)
