"""A labelled text-direction dataset, rendered offline: class folders `0/` (upright text line) and `1/`
(the same line rotated 180 degrees), as PaddleOCR's direction classifier (ch_ppocr_mobile_v2_cls,
labels ["0", "180"]) numbers them.

    .venv/bin/python scripts/text_direction_set.py OUT [--count 200] [--seed 0]

Each sample is a tight crop of one rendered text line (dark text on a light background, as the
classifier's training crops are), laid out the way PaddleOCR's `resize_norm_img` feeds it: scaled to
height 48 keeping its aspect (squeezed to width 192 if wider), then padded on the right to 48x192. The
pad is mid-grey (128): PaddleOCR pads with 0 after (x/255 - 0.5)/0.5, i.e. 127.5, so a plain resize of
these 192x48 files (edgekit's preprocessing) reproduces PaddleOCR's input to within 0.004 in the pad.

Class 1 is class 0's crop rotated by 180 degrees before padding (noise included), so both classes hold
the same strings and pixels: only the direction differs. Text uses Pillow's bundled font
(`ImageFont.load_default(size=...)`, Pillow >= 10.1 with FreeType), so no system font is needed.
Everything derives from --seed: the same seed writes byte-identical PNGs. `meta.json` lists each file's
text, label and crop width (it has no "images" key: edgekit eval would take such a json for COCO).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HEIGHT, WIDTH = 48, 192          # the classifier's input (PaddleOCR cls_image_shape 3,48,192)
PAD = 128                        # PaddleOCR's zero pad after normalization is pixel 127.5
WORDS = ("the quick brown fox jumps over lazy dog invoice total amount date name address phone "
         "street city order number price tax receipt paid cash card change item qty model serial "
         "edge device mobile text line paddle lite open source camera photo page chapter section "
         "hello world north south east west monday friday january october road station").split()


def _text(rng: np.random.Generator) -> str:
    kind = rng.integers(4)
    if kind == 0:    # a number such as a price, a date or a code
        return rng.choice([f"{rng.integers(1, 9999)}.{rng.integers(0, 99):02d}",
                           f"{rng.integers(1, 28):02d}/{rng.integers(1, 12):02d}/20{rng.integers(10, 30)}",
                           f"No.{rng.integers(100, 99999)}"])
    words = [str(rng.choice(WORDS)) for _ in range(rng.integers(1, 5))]
    if kind == 1:
        words = [w.capitalize() for w in words]
    elif kind == 2:
        words = [w.upper() for w in words]
    return " ".join(words)


def render_line(rng: np.random.Generator, hard: bool = False) -> tuple[np.ndarray, str]:
    """One tight text-line crop (uint8 HxWx3 RGB, height 48) and its text. `hard`: small text upscaled
    from few pixels, low contrast, blur, strong noise and JPEG artefacts (a phone photo of a far sign)."""
    import io

    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    text = _text(rng)
    size = int(rng.integers(11, 20) if hard else rng.integers(18, 44))
    font = ImageFont.load_default(size=size)
    left, top, right, bottom = font.getbbox(text)
    mx, my = int(rng.integers(1, 7)), int(rng.integers(1, 6))   # margins of a detector's crop
    bg = int(rng.integers(140, 230) if hard else rng.integers(185, 256))
    fg = bg - int(rng.integers(45, 110)) if hard else int(rng.integers(0, 90))
    tint = rng.integers(-12, 13, 3)                               # paper and ink are rarely pure grey
    im = Image.new("RGB", (right - left + 2 * mx, bottom - top + 2 * my),
                   tuple(int(np.clip(bg + t, 0, 255)) for t in tint))
    ImageDraw.Draw(im).text((mx - left, my - top), text, font=font,
                            fill=tuple(int(np.clip(fg + t, 0, 255)) for t in tint))
    if hard:
        im = im.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.2, 0.7))))
    w = min(WIDTH, int(np.ceil(HEIGHT * im.width / im.height)))  # resize_norm_img's width rule
    arr = np.asarray(im.resize((w, HEIGHT), Image.BILINEAR), np.float32)
    arr += rng.normal(0, rng.uniform(4, 12) if hard else rng.uniform(0, 6), arr.shape)   # sensor noise
    arr = np.clip(arr, 0, 255).round().astype(np.uint8)
    if hard:
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, "JPEG", quality=int(rng.integers(25, 60)))
        arr = np.asarray(Image.open(buf).convert("RGB"))
    return arr, text


def padded(crop: np.ndarray) -> np.ndarray:
    out = np.full((HEIGHT, WIDTH, 3), PAD, np.uint8)
    out[:, :crop.shape[1]] = crop
    return out


def write_set(out: Path, count: int, seed: int, hard: bool = False) -> dict:
    """COUNT lines, each written upright to 0/ and rotated 180 to 1/ (2*COUNT files)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for label in ("0", "1"):
        (out / label).mkdir(parents=True, exist_ok=True)
    meta = []
    for i in range(count):
        crop, text = render_line(rng, hard)
        for label, img in (("0", crop), ("1", crop[::-1, ::-1])):
            name = f"{label}/line{i:04d}.png"
            Image.fromarray(padded(img)).save(out / name)
            meta.append({"file": name, "label": int(label), "text": text, "crop_width": int(crop.shape[1])})
    info = {"generator": "scripts/text_direction_set.py", "seed": seed, "lines": count, "image_count": 2 * count,
            "classes": {"0": "upright", "1": "rotated 180 degrees"}, "input": [1, 3, HEIGHT, WIDTH],
            "pad_value": PAD, "difficulty": "hard" if hard else "clean",
            "font": f"Pillow ImageFont.load_default(size={'11..19' if hard else '18..43'})", "files": meta}
    (out / "meta.json").write_text(json.dumps(info, indent=1) + "\n")
    return info


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--count", type=int, default=200, help="text lines (each gives one image per class)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--hard", action="store_true",
                    help="small, low-contrast, blurred, noisy, JPEG-compressed lines (clean ones can be too easy)")
    a = ap.parse_args(argv)
    if a.count < 1:
        ap.error("--count must be at least 1")
    if a.out.exists() and any(a.out.iterdir()):
        ap.error(f"{a.out} is not empty; give a new folder")
    info = write_set(a.out, a.count, a.seed, a.hard)
    print(f"{a.out}: {info['image_count']} images ({a.count} lines upright in 0/, rotated 180 in 1/), seed {a.seed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
