#!/usr/bin/python3
"""PyTorch oracle for dev.jdnn.image's Classifier and Segmenter.

Run from the repository root after gen_image_fixtures.py (it reads that script's images):
    /usr/bin/python3 src/test/python/gen_image_model_fixtures.py
Writes src/test/resources/fixtures/image/models/:
  classifier.onnx       torchvision's MobileNetV2 (width 0.25, 10 classes, seeded random weights, BN statistics
                        randomised so activations stay in range), dynamic batch, opset 13; outputs logits
  labels.txt            10 labels, one a line
  classifier.txt        per image: file, PyTorch's top-5 indices and softmax probabilities, with torchvision's
                        eval transform (Resize(256), CenterCrop(224), ToTensor, Normalize(ImageNet)) on
                        Image.open(f).convert("RGB")
  segmenter.onnx        a tiny fully convolutional net (two stride-2 convs, 1×1 classifier over 6 classes, bilinear
                        upsampling back to the input size, as torchvision's FCN heads), dynamic H and W, output 'out'
  <image>.seg.npy       PyTorch's per-pixel argmax (uint8) resized to the image's size with PIL NEAREST, after
                        Resize(64), ToTensor, Normalize(ImageNet)
  <image>.seg_ambiguous.npy  1 where the pixel's two best scores are within 1e-4 (either class is right there)
  segmenter.txt         per image: file, model-resolution h×w, the smallest top-1/top-2 score margin
"""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
import torchvision.transforms as T
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
IMAGES = os.path.join(ROOT, "src", "test", "resources", "fixtures", "image", "images")
OUT = os.path.join(ROOT, "src", "test", "resources", "fixtures", "image", "models")
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
CLASSIFY = ["photo.jpg", "rgb.png", "palette.png", "progressive.jpg", "cmyk.jpg"]
SEGMENT = ["photo.jpg", "rgb.png", "bmp24.bmp"]


def calibrate_bn(model, x):
    """BN running statistics from a forward pass in train mode over x, so eval-mode activations stay
    normalised and the outputs depend on the image (with the default statistics a random net's output is
    nearly constant)."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None
            m.reset_running_stats()
    model.train()
    with torch.no_grad():
        model(x)
    model.eval()


def calibration_batch(transform, files, gen):
    imgs = [transform(Image.open(os.path.join(IMAGES, f)).convert("RGB")) for f in files]
    noise = [torch.randn(imgs[0].shape, generator=gen) for _ in range(4)]
    return torch.stack(imgs + noise)


def classifier():
    torch.manual_seed(15)
    gen = torch.Generator().manual_seed(15)
    model = torchvision.models.mobilenet_v2(width_mult=0.25, num_classes=10).eval()
    t = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(MEAN, STD)])
    calibrate_bn(model, calibration_batch(t, ["gray.png", "baseline.jpg", "bmp24.bmp", "animated.gif"], gen))
    with torch.no_grad():
        model.classifier[1].weight.mul_(8)  # spread the logits so the top-5 order is far from ties
    path = os.path.join(OUT, "classifier.onnx")
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), path, opset_version=13, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    with open(os.path.join(OUT, "labels.txt"), "w") as f:
        f.write("\n".join(["tench", "goldfish", "great white shark", "tiger shark", "hammerhead", "electric ray",
                           "stingray", "cock", "hen", "ostrich"]) + "\n")
    lines = []
    with torch.no_grad():
        x = torch.stack([t(Image.open(os.path.join(IMAGES, f)).convert("RGB")) for f in CLASSIFY])
        probs = torch.softmax(model(x), dim=1)
    for f, p in zip(CLASSIFY, probs):
        top = torch.topk(p, 6)
        gaps = (top.values[:-1] - top.values[1:]).min().item()
        assert gaps > 1e-3, "%s: top-6 probabilities too close (%g) for a stable top-5 order" % (f, gaps)
        lines.append("\t".join([f, ",".join(str(i) for i in top.indices[:5].tolist()),
                                ",".join("%.9g" % v for v in top.values[:5].tolist())]))
    with open(os.path.join(OUT, "classifier.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


class TinySeg(nn.Module):
    def __init__(self, classes=6):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.BatchNorm2d(8), nn.ReLU(),
                                  nn.Conv2d(8, 16, 3, 2, 1), nn.ReLU(), nn.Conv2d(16, classes, 1))

    def forward(self, x):
        return F.interpolate(self.body(x), size=x.shape[-2:], mode="bilinear", align_corners=False)


def segmenter():
    torch.manual_seed(16)
    gen = torch.Generator().manual_seed(16)
    model = TinySeg().eval()
    t = T.Compose([T.Resize(64), T.CenterCrop(64), T.ToTensor(), T.Normalize(MEAN, STD)])
    calibrate_bn(model, calibration_batch(t, ["gray.png", "baseline.jpg", "animated.gif"], gen))
    with torch.no_grad():
        model.body[-1].weight.mul_(10)
    path = os.path.join(OUT, "segmenter.onnx")
    torch.onnx.export(model, torch.zeros(1, 3, 64, 80), path, opset_version=13, input_names=["input"],
                      output_names=["out"], dynamic_axes={"input": {2: "height", 3: "width"}, "out": {2: "height", 3: "width"}})
    t = T.Compose([T.Resize(64), T.ToTensor(), T.Normalize(MEAN, STD)])
    lines = []
    with torch.no_grad():
        for f in SEGMENT:
            img = Image.open(os.path.join(IMAGES, f)).convert("RGB")
            scores = model(t(img)[None])[0]
            top2 = torch.topk(scores, 2, dim=0).values
            margins = (top2[0] - top2[1]).numpy()
            margin = float(margins.min())
            # Pixels whose two best scores are within 1e-4 sit on a class boundary, where float rounding
            # may pick either class: the test allows those (marked 1 in <image>.seg_ambiguous.npy) to differ.
            ambiguous = np.asarray(Image.fromarray((margins < 1e-4).astype(np.uint8)).resize(img.size, Image.NEAREST))
            assert ambiguous.mean() < 0.01, "%s: too many ambiguous pixels" % f
            np.save(os.path.join(OUT, os.path.splitext(f)[0] + ".seg_ambiguous.npy"), ambiguous)
            labels = scores.argmax(0).numpy().astype(np.uint8)
            mask = np.asarray(Image.fromarray(labels).resize(img.size, Image.NEAREST))
            np.save(os.path.join(OUT, os.path.splitext(f)[0] + ".seg.npy"), mask)
            lines.append("\t".join([f, "%dx%d" % labels.shape, "%.3g" % margin]))
    with open(os.path.join(OUT, "segmenter.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    classifier()
    segmenter()
    print("wrote", sorted(os.listdir(OUT)))
