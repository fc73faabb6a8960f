#!/usr/bin/python3
"""PIL + torchvision's ImageNet eval transform on the same 4000×3000 JPEG as ImagePreprocessBench, images/s.

    /usr/bin/python3 bench/python/image_preprocess_pil.py [--image target/image-fixtures/images/big.jpg]
        [--seconds 10] [--workers 1,2]

Measures, like the JMH benchmark: decode (Image.open(f).convert("RGB")), preprocess_decoded (Resize(256),
CenterCrop(224), ToTensor, Normalize on the decoded image) and decode_and_preprocess (both). PIL resizes one
image on one thread, so "2 workers" means two processes each working through its own images (throughput),
not one image split over two threads as jdnn's --threads does. torch is limited to one thread per process.
"""
import argparse
import multiprocessing as mp
import os
import time

import torch
import torchvision.transforms as T
from PIL import Image

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def work(args):
    path, what, seconds = args
    torch.set_num_threads(1)
    transform = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(MEAN, STD)])
    decoded = Image.open(path).convert("RGB")

    def once():
        if what == "decode":
            return Image.open(path).convert("RGB").size
        if what == "preprocess_decoded":
            return transform(decoded).shape
        return transform(Image.open(path).convert("RGB")).shape

    for _ in range(2):  # warm-up
        once()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        once()
        n += 1
    return n, time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", default="target/image-fixtures/images/big.jpg")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--workers", default="1,2")
    args = ap.parse_args()
    if not os.path.exists(args.image):
        raise SystemExit(args.image + " is missing: run /usr/bin/python3 src/test/python/gen_image_fixtures.py --big-only")
    print("PIL %s, torchvision transform, %s" % (Image.__version__, args.image))
    for workers in [int(w) for w in args.workers.split(",")]:
        for what in ("decode", "preprocess_decoded", "decode_and_preprocess"):
            with mp.Pool(workers) as pool:
                results = pool.map(work, [(args.image, what, args.seconds)] * workers)
            rate = sum(n / t for n, t in results)
            print("%-24s workers %d  %8.2f images/s" % (what, workers, rate))


if __name__ == "__main__":
    main()
