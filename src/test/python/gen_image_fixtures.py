#!/usr/bin/python3
"""PIL/torchvision oracle for dev.jdnn.image: decoding, Resize (every interpolation, up and down,
antialias on/off), CenterCrop, Pad, ToTensor, Normalize, EXIF orientation and the float path.

Run from the repository root with Debian's python3-pil / python3-torchvision:
    /usr/bin/python3 src/test/python/gen_image_fixtures.py          # the committed fixtures
    /usr/bin/python3 src/test/python/gen_image_fixtures.py --big    # + a 4000×3000 JPEG and its cases in
                                                                   #   target/image-fixtures (git-ignored)
Writes into src/test/resources/fixtures/image/ (or target/image-fixtures with --big):
  images/<name>.<ext>     the source images (synthetic, seeded: smooth gradients, stripes, noise, edges)
  <name>.u8.npy           one flat uint8 array per image holding every expected 8-bit result
  <name>.f32.npy          one flat float32 array per image holding every expected float result
  cases.txt               one line per expected result, tab-separated:
      image  kind  interpolation  antialias  size  crop  shape  offset
    kind     decode (PIL's Image.open(f).convert("RGB")), resize (torchvision Resize(size, interpolation,
             antialias) then CenterCrop(crop) on the PIL image, or on the uint8 tensor when antialias is
             False, as torchvision does), tensor (the same then ToTensor and Normalize(ImageNet), float),
             pad (torchvision Pad with padding 'size' = l,t,r,b and mode 'interpolation', fill 7),
             exif (ImageOps.exif_transpose(...).convert("RGB")), floatpil (a float C×H×W image resized
             per channel as a PIL mode "F" image), floattorch (torch interpolate(antialias=False) on a
             float tensor); the float sources are image/255 (float32) in C×H×W, or its first channel when
             the result has one.
    size     N (shorter side) or HxW;  crop HxW or -;  shape HxWxC for u8, CxHxW for f32 results
    offset   where the result starts in <name>.u8.npy or <name>.f32.npy (in elements)
torch's interpolate results (antialias off) depend on the CPU kernel torch dispatches to: the committed ones
come from its AVX2 kernels, the default on x86-64 CPUs with AVX2 (ATEN_CPU_CAPABILITY=default changes the
last bit of many floats, and so some rounded uint8 values).
"""
import argparse
import io
import os
import struct
import zlib

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.transforms as T
import torchvision.transforms.functional as TF
from PIL import Image, ImageOps

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
OUT = os.path.join(ROOT, "src", "test", "resources", "fixtures", "image")
BIG_OUT = os.path.join(ROOT, "target", "image-fixtures")

MODES = {"nearest": T.InterpolationMode.NEAREST, "bilinear": T.InterpolationMode.BILINEAR,
         "bicubic": T.InterpolationMode.BICUBIC, "lanczos": T.InterpolationMode.LANCZOS,
         "box": T.InterpolationMode.BOX, "hamming": T.InterpolationMode.HAMMING}
PIL_FILTERS = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC,
               "lanczos": Image.LANCZOS, "box": Image.BOX, "hamming": Image.HAMMING}
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def photo(h, w, seed):
    """A photo-like RGB array: gradients, a few frequencies, sharp-edged shapes and noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.zeros((h, w, 3))
    for c in range(3):
        fx, fy = rng.uniform(0.02, 0.6, 2)
        img[..., c] = 128 + 60 * np.sin(fx * x + c) * np.cos(fy * y - c) + 50 * (x / max(w, 1) - y / max(h, 1))
    for _ in range(3):  # hard edges: rectangles of flat colour
        y0, x0 = rng.integers(0, max(h, 1)), rng.integers(0, max(w, 1))
        img[y0:y0 + max(1, h // 3), x0:x0 + max(1, w // 4)] = rng.uniform(0, 255, 3)
    img += rng.normal(0, 12, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_png16(path, array):
    """16-bit PNG (PIL cannot write 16-bit RGB): H×W×C uint16, C = 1 (gray), 2 (gray+alpha), 3, 4."""
    h, w, c = array.shape
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    raw = b"".join(b"\x00" + array[r].astype(">u2").tobytes() for r in range(h))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, colour_type, 0, 0, 0)))
        f.write(png_chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(png_chunk(b"IEND", b""))


def make_images(img_dir):
    """name → file of every source image."""
    os.makedirs(img_dir, exist_ok=True)
    files = {}

    def save(name, image, ext, **kw):
        path = os.path.join(img_dir, name + "." + ext)
        image.save(path, **kw)
        files[name] = path

    rgb = photo(47, 61, 1)
    save("rgb", Image.fromarray(rgb), "png")
    save("gray", Image.fromarray(photo(40, 50, 2)[..., 0]), "png")
    save("palette", Image.fromarray(photo(33, 45, 3)).quantize(colors=64), "png")
    p = Image.fromarray(photo(30, 28, 4)).quantize(colors=16)
    save("palette_trns", p, "png", transparency=3)
    rgba = np.dstack([photo(30, 40, 5), np.random.default_rng(5).integers(0, 256, (30, 40), dtype=np.uint8)])
    save("rgba", Image.fromarray(rgba, "RGBA"), "png")
    la = np.dstack([photo(26, 31, 6)[..., 1], np.random.default_rng(6).integers(0, 256, (26, 31), dtype=np.uint8)])
    save("gray_alpha", Image.fromarray(la, "LA"), "png")
    rng = np.random.default_rng(7)
    path = os.path.join(img_dir, "rgb16.png")
    write_png16(path, photo(23, 35, 7).astype(np.uint16) * 257 + rng.integers(0, 257, (23, 35, 3)).astype(np.uint16))
    files["rgb16"] = path
    path = os.path.join(img_dir, "gray16.png")  # PIL opens it as mode "I"; convert("RGB") saturates at 255
    write_png16(path, (np.arange(21 * 19).reshape(21, 19, 1) * 3 % 700).astype(np.uint16))
    files["gray16"] = path
    path = os.path.join(img_dir, "rgba16.png")
    write_png16(path, rng.integers(0, 65536, (17, 22, 4)).astype(np.uint16))
    files["rgba16"] = path
    save("one", Image.fromarray(photo(1, 1, 8)), "png")
    save("tall", Image.fromarray(photo(2000, 3, 9)), "png")
    save("wide", Image.fromarray(photo(2, 257, 10)), "png")
    save("baseline", Image.fromarray(photo(48, 64, 11)), "jpg", quality=90)
    save("baseline444", Image.fromarray(photo(37, 53, 12)), "jpg", quality=95, subsampling=0)
    save("progressive", Image.fromarray(photo(45, 67, 13)), "jpg", quality=85, progressive=True)
    save("gray_jpeg", Image.fromarray(photo(35, 41, 14)[..., 2]), "jpg", quality=90)
    save("cmyk", Image.fromarray(photo(40, 36, 15)).convert("CMYK"), "jpg", quality=92)
    save("photo", Image.fromarray(photo(240, 320, 16)), "jpg", quality=90)
    save("bmp24", Image.fromarray(photo(27, 39, 17)), "bmp")
    save("bmp8", Image.fromarray(photo(25, 30, 18)).quantize(colors=32), "bmp")
    frames = [Image.fromarray(photo(29, 34, 19)).quantize(colors=32), Image.fromarray(photo(29, 34, 20)).quantize(colors=32)]
    path = os.path.join(img_dir, "animated.gif")
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    files["animated"] = path
    base = Image.fromarray(photo(20, 30, 21))
    for o in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = o
        save("exif%d" % o, base, "jpg", quality=95, exif=exif.tobytes())
    return files


def resize_cases(w, h):
    """(size, crop) pairs: down and up, by the shorter side or by an exact H×W."""
    short = min(w, h)
    cases = []
    if short >= 4:
        down = max(2, short * 2 // 5)
        cases.append((down, None))
    cases.append((max(short + 3, short * 17 // 10), None))
    cases.append(((max(1, h // 3), w * 3 // 2 + 1), None))  # shrink one axis, grow the other
    out = []
    for size, _ in cases:
        if isinstance(size, int):
            s, l = size, int(size * max(w, h) / min(w, h))
            oh, ow = (l, s) if w <= h else (s, l)
        else:
            oh, ow = size
        out.append((size, (min(oh, 48), min(ow, 45))))
    return out


class Blobs:
    def __init__(self):
        self.u8, self.f32, self.u8_len, self.f32_len, self.lines = {}, {}, {}, {}, []

    def add(self, name, kind, interp, aa, size, crop, array):
        if array.dtype == np.uint8:
            store, lens = self.u8, self.u8_len
        else:
            array = array.astype(np.float32)
            store, lens = self.f32, self.f32_len
        offset = lens.get(name, 0)
        store.setdefault(name, []).append(array.reshape(-1))
        lens[name] = offset + array.size
        size_s = size if isinstance(size, str) else (str(size) if isinstance(size, int) else "%dx%d" % tuple(size))
        crop_s = "-" if crop is None else "%dx%d" % tuple(crop)
        self.lines.append("\t".join([name, kind, interp, aa, size_s, crop_s, "x".join(map(str, array.shape)), str(offset)]))

    def write(self, out):
        for name, parts in self.u8.items():
            np.save(os.path.join(out, name + ".u8.npy"), np.concatenate(parts))
        for name, parts in self.f32.items():
            np.save(os.path.join(out, name + ".f32.npy"), np.concatenate(parts))
        with open(os.path.join(out, "cases.txt"), "w") as f:
            f.write("\n".join(self.lines) + "\n")


def tv_size(size):
    return size if isinstance(size, int) else list(size)


def add_image_cases(blobs, name, path, full):
    img = Image.open(path).convert("RGB")
    w, h = img.size
    if w * h <= 1_000_000:
        blobs.add(name, "decode", "-", "-", "-", None, np.asarray(img))
    cases = resize_cases(w, h) if full is None else full
    tensor_u8 = TF.pil_to_tensor(img)
    for size, crop in cases:
        for interp in MODES:
            out = TF.center_crop(TF.resize(img, tv_size(size), MODES[interp]), list(crop))
            blobs.add(name, "resize", interp, "1", size, crop, np.asarray(out))
        for interp in ("bilinear", "bicubic"):
            out = TF.center_crop(TF.resize(tensor_u8, tv_size(size), MODES[interp], antialias=False), list(crop))
            blobs.add(name, "resize", interp, "0", size, crop, out.permute(1, 2, 0).contiguous().numpy())
        small = (min(crop[0], 16), min(crop[1], 16))
        for interp in ("bilinear", "bicubic"):
            t = T.Compose([T.Resize(tv_size(size), MODES[interp]), T.CenterCrop(list(small)), T.ToTensor(), T.Normalize(MEAN, STD)])
            blobs.add(name, "tensor", interp, "1", size, small, t(img).numpy())


FLOAT_SIZES = {"rgb": [(20, 26), (40, 70), (15, 100)], "photo": [(30, 40), (17, 50), (251, 7)], "one": [(5, 7)]}


def add_float_cases(blobs, name, path):
    img = Image.open(path).convert("RGB")
    chw = (np.asarray(img).astype(np.float32) / 255).transpose(2, 0, 1).copy()
    for oh, ow in FLOAT_SIZES[name]:
        for interp in ("nearest", "bilinear", "bicubic", "lanczos", "box", "hamming"):
            planes = [np.asarray(Image.fromarray(chw[c], "F").resize((ow, oh), PIL_FILTERS[interp])) for c in range(3)]
            blobs.add(name, "floatpil", interp, "1", (oh, ow), None, np.stack(planes))
        for interp in ("bilinear", "bicubic"):
            out = F.interpolate(torch.from_numpy(chw)[None], size=(oh, ow), mode=interp, align_corners=False, antialias=False)[0]
            blobs.add(name, "floattorch", interp, "0", (oh, ow), None, out.numpy())
    # The first channel alone: a contiguous 1×1×H×W tensor is channels-last contiguous too, and torch's
    # bilinear then takes its channels-last kernel (as it does for 1×1 images, the "one" image above).
    oh, ow = FLOAT_SIZES[name][0]
    for interp in ("bilinear", "bicubic"):
        out = F.interpolate(torch.from_numpy(chw[:1].copy())[None], size=(oh, ow), mode=interp, align_corners=False, antialias=False)[0]
        blobs.add(name, "floattorch", interp, "0", (oh, ow), None, out.numpy())


def add_pad_cases(blobs, name, path):
    img = Image.open(path).convert("RGB")
    for mode in ("constant", "edge", "reflect", "symmetric"):
        out = TF.pad(img, [3, 1, 2, 4], fill=7, padding_mode=mode)
        blobs.add(name, "pad", mode, "-", "3,1,2,4", None, np.asarray(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--big", action="store_true", help="also write the 4000x3000 JPEG fixture into target/image-fixtures")
    ap.add_argument("--big-only", action="store_true", help="only the 4000x3000 fixture")
    args = ap.parse_args()
    if not args.big_only:
        blobs = Blobs()
        files = make_images(os.path.join(OUT, "images"))
        for name, path in files.items():
            if name.startswith("exif"):
                img = Image.open(path)
                blobs.add(name, "exif", "-", "-", "-", None, np.asarray(ImageOps.exif_transpose(img).convert("RGB")))
                blobs.add(name, "decode", "-", "-", "-", None, np.asarray(img.convert("RGB")))
                continue
            add_image_cases(blobs, name, path, None)
        for name in FLOAT_SIZES:
            add_float_cases(blobs, name, files[name])
        add_pad_cases(blobs, "rgb", files["rgb"])
        blobs.write(OUT)
        print("wrote %d cases for %d images into %s" % (len(blobs.lines), len(files), OUT))
    if args.big or args.big_only:
        os.makedirs(os.path.join(BIG_OUT, "images"), exist_ok=True)
        path = os.path.join(BIG_OUT, "images", "big.jpg")
        Image.fromarray(photo(3000, 4000, 99)).save(path, quality=90)
        blobs = Blobs()
        add_image_cases(blobs, "big", path, [(256, (224, 224)), ((300, 500), (224, 224)), (2500, (24, 24))])
        blobs.write(BIG_OUT)
        print("wrote %d cases for the 4000x3000 JPEG into %s" % (len(blobs.lines), BIG_OUT))


if __name__ == "__main__":
    main()
