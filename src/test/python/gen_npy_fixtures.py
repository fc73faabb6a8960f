#!/usr/bin/python3
"""Writes .npy files with NumPy itself, so jdnn's reader is tested against the real writer.

Run from the repository root:  /usr/bin/python3 src/test/python/gen_npy_fixtures.py
Output: src/test/resources/fixtures/npy/ (committed; the tests need no Python).
"""
import os
import numpy as np

out = os.path.join(os.path.dirname(__file__), "..", "resources", "fixtures", "npy")
os.makedirs(out, exist_ok=True)

# Values are i * 0.5 - 3 so the Java test can recompute them independently.
def ramp(shape):
    n = int(np.prod(shape))
    return (np.arange(n, dtype=np.float64) * 0.5 - 3).astype(np.float32).reshape(shape)

np.save(os.path.join(out, "f32_2x3x4.npy"), ramp((2, 3, 4)))
np.save(os.path.join(out, "f32_vector5.npy"), ramp((5,)))
np.save(os.path.join(out, "f32_scalar.npy"), np.float32(-3.0).reshape(()))
np.save(os.path.join(out, "f32_empty_0x3.npy"), np.zeros((0, 3), dtype=np.float32))
np.save(os.path.join(out, "f64_2x2.npy"), ramp((2, 2)).astype(np.float64))
np.save(os.path.join(out, "i64_3.npy"), np.arange(3, dtype=np.int64))
np.save(os.path.join(out, "f32_fortran_2x3.npy"), np.asfortranarray(ramp((2, 3))))
np.save(os.path.join(out, "f32_bigendian_2.npy"), ramp((2,)).astype(">f4"))
print("wrote", sorted(os.listdir(out)))
