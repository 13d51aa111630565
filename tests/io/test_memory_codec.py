"""In-memory codec round trips (the degradations' compression) give the same pixels every time."""

from __future__ import annotations

import cv2
import numpy as np

from tests.degrade.conftest import textured_images
from vrestore.io.memory_codec import encode_decode_frames


def test_inter_frame_x264_is_reproducible_between_other_encodes():
    # x264's macroblock tree used to give other bits now and then for the same frames once other encoders
    # had run in the process (a few per cent of calls at small sizes); the sidecar replay depends on this.
    chunk = [cv2.GaussianBlur(image, (5, 5), 1.2) for image in textured_images(4, 32, 24)]
    first = encode_decode_frames(chunk, "libx264", crf=30, rate=25)
    intra = encode_decode_frames(chunk[:1], "libx264", bit_rate=20_000)
    for i in range(200):
        encode_decode_frames(chunk[i % 4:i % 4 + 1], "libx264", bit_rate=20_000 + 997 * i)
        encode_decode_frames(chunk[i % 4:i % 4 + 1], "mpeg4", bit_rate=50_000 + 991 * i)
        again = encode_decode_frames(chunk, "libx264", crf=30, rate=25)
        assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True)), f"differs at call {i + 1}"
        assert np.array_equal(intra[0], encode_decode_frames(chunk[:1], "libx264", bit_rate=20_000)[0])
