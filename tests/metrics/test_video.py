"""Scoring whole videos: pairing, counts, sizes, bit depth, identical inputs, real clips, read-ahead."""

from __future__ import annotations

import math
import threading
from fractions import Fraction

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from vrestore.errors import InputError, UsageError
from vrestore.io.reader import open_reader
from vrestore.metrics.video import EvalOptions, evaluate_pair, mean_over_videos

LOSSLESS_RGB = {"codec": "ffv1", "pix_fmt": "bgr0"}


def noisy(images, seed, sigma):
    rng = np.random.default_rng(seed)
    peak = 65535 if images[0].dtype == np.uint16 else 255
    return [np.clip(im + rng.normal(0, sigma, im.shape).round(), 0, peak).astype(im.dtype) for im in images]


def decoded(path) -> list[np.ndarray]:
    with open_reader(path) as reader:
        return [f.image for f in reader]


def skimage_scores(restored, reference, peak):
    psnrs, ssims = [], []
    for a, b in zip(restored, reference, strict=True):
        psnrs.append(peak_signal_noise_ratio(b, a, data_range=peak))
        ssims.append(structural_similarity(b, a, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                           data_range=peak, channel_axis=2))
    return psnrs, ssims


def test_identical_videos(make_clip):
    clip = make_clip("a.mkv", count=5, size=(48, 40), **LOSSLESS_RGB)
    score = evaluate_pair(clip, clip)
    assert score.count == 5 and score.identical_frames == 5 and score.frames == [0, 1, 2, 3, 4]
    assert math.isinf(score.mean_psnr) and score.mean_ssim == pytest.approx(1.0, abs=1e-12)


def test_lossless_pair_matches_skimage(make_clip, gradients):
    clean = gradients(6, 48, 40)
    dirty = noisy(clean, 0, 6)
    ref = make_clip("ref.mkv", clean, **LOSSLESS_RGB)
    out = make_clip("out.mkv", dirty, **LOSSLESS_RGB)
    score = evaluate_pair(out, ref, EvalOptions(batch=4))
    expected_psnr, expected_ssim = skimage_scores(dirty, clean, 255)
    assert score.psnr == pytest.approx(expected_psnr, abs=1e-4)
    assert score.ssim == pytest.approx(expected_ssim, abs=1e-5)
    assert score.mean_psnr == pytest.approx(np.mean(expected_psnr), abs=1e-4)


def test_y_channel_and_crop_on_a_video_by_hand(make_clip, gradients):
    clean = gradients(3, 48, 40)
    dirty = noisy(clean, 2, 4)
    ref = make_clip("ref.mkv", clean, **LOSSLESS_RGB)
    out = make_clip("out.mkv", dirty, **LOSSLESS_RGB)
    score = evaluate_pair(out, ref, EvalOptions(y_channel=True, crop_border=2))

    def luma(rgb):
        unit = rgb.astype(np.float64) / 255
        return (16 + 65.481 * unit[..., 0] + 128.553 * unit[..., 1] + 24.966 * unit[..., 2])[2:-2, 2:-2]

    for a, b, p, s in zip(dirty, clean, score.psnr, score.ssim, strict=True):
        ya, yb = luma(a), luma(b)
        assert p == pytest.approx(10 * math.log10(255**2 / np.mean((ya - yb) ** 2)), abs=1e-4)
        assert s == pytest.approx(structural_similarity(ya, yb, gaussian_weights=True, sigma=1.5,
                                                        use_sample_covariance=False, data_range=255), abs=1e-5)


def test_frame_count_mismatch(make_clip):
    a = make_clip("a.mkv", count=5, **LOSSLESS_RGB)
    b = make_clip("b.mkv", count=7, **LOSSLESS_RGB)
    with pytest.raises(InputError, match="has 5 frames.* has 7"):
        evaluate_pair(a, b)
    score = evaluate_pair(a, b, EvalOptions(allow_length_mismatch=True))
    assert score.count == 5


def test_size_mismatch(make_clip):
    a = make_clip("a.mkv", count=2, size=(48, 40), **LOSSLESS_RGB)
    b = make_clip("b.mkv", count=2, size=(40, 40), **LOSSLESS_RGB)
    with pytest.raises(InputError, match="48x40.*40x40"):
        evaluate_pair(a, b)


def test_bit_depth_mismatch(make_clip):
    a = make_clip("a.mkv", count=2, size=(48, 40), **LOSSLESS_RGB)
    b = make_clip("b.mkv", count=2, size=(48, 40), deep=True, codec="ffv1", pix_fmt="gbrp10le")
    with pytest.raises(InputError, match="8-bit.*10-bit"):
        evaluate_pair(a, b)


def test_crop_that_leaves_less_than_the_window_is_a_usage_error(make_clip):
    a = make_clip("a.mkv", count=1, size=(48, 24), **LOSSLESS_RGB)
    with pytest.raises(UsageError, match="--crop-border 7 leave 10 pixels"):
        evaluate_pair(a, a, EvalOptions(crop_border=7))


@pytest.mark.parametrize("bad", [EvalOptions(align="time"), EvalOptions(batch=0), EvalOptions(crop_border=-1)])
def test_bad_options(make_clip, bad):
    a = make_clip("a.mkv", count=1, **LOSSLESS_RGB)
    with pytest.raises(UsageError):
        evaluate_pair(a, a, bad)


def test_align_by_pts(make_clip, gradients):
    images = gradients(6, 48, 40)
    tb = Fraction(1, 100)
    ref = make_clip("ref.mkv", images, pts=[0, 4, 8, 12, 16, 20], time_base=tb, **LOSSLESS_RGB)
    out = make_clip("out.mkv", [images[i] for i in (0, 2, 3, 5)], pts=[0, 8, 12, 20], time_base=tb, **LOSSLESS_RGB)
    score = evaluate_pair(out, ref, EvalOptions(align="pts", allow_length_mismatch=True))
    assert score.count == 4 and score.identical_frames == 4 and score.frames == [0, 2, 3, 5]
    with pytest.raises(InputError, match="timestamps differ"):
        evaluate_pair(out, ref, EvalOptions(align="pts"))
    # by index, the same files pair the wrong frames
    by_index = evaluate_pair(out, ref, EvalOptions(allow_length_mismatch=True))
    assert by_index.identical_frames == 1


def test_ten_bit_video_is_scored_on_the_1023_scale(make_clip, gradients):
    clean = gradients(3, 48, 40, deep=True)
    ref = make_clip("ref.mkv", clean, codec="ffv1", pix_fmt="gbrp10le")
    out = make_clip("out.mkv", noisy(clean, 1, 1500), codec="ffv1", pix_fmt="gbrp10le")
    score = evaluate_pair(out, ref)
    assert score.peak == 1023

    def ten_bit(images):  # round(v * 1023 / 65535), written independently with integers
        return [((im.astype(np.int64) * 2046 + 65535) // 131070).astype(np.float64) for im in images]

    expected_psnr, expected_ssim = skimage_scores(ten_bit(decoded(out)), ten_bit(decoded(ref)), 1023)
    assert score.psnr == pytest.approx(expected_psnr, abs=1e-4)
    assert score.ssim == pytest.approx(expected_ssim, abs=1e-5)


def test_mean_over_videos_leaves_out_inf():
    from vrestore.metrics.video import VideoScore

    scores = [VideoScore("a", "a", 255, [0], [math.inf], [1.0]),
              VideoScore("b", "b", 255, [0, 1], [30.0, 32.0], [0.8, 0.9])]
    assert mean_over_videos(scores) == (31.0, pytest.approx(0.925))


def test_decoding_runs_on_other_threads_than_scoring(make_clip, monkeypatch):
    """Both inputs are read ahead on background threads while the caller's thread scores."""
    import vrestore.io.reader as reader_module
    from vrestore.metrics import score as score_module

    clip = make_clip("a.mkv", count=6, **LOSSLESS_RGB)
    decode_threads: set[str] = set()
    score_threads: set[str] = set()
    real_open = reader_module.open_reader

    class Spy:
        def __init__(self, reader):
            self.reader, self.info = reader, reader.info

        def __iter__(self):
            for frame in self.reader:
                decode_threads.add(threading.current_thread().name)
                yield frame

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.reader.close()

    real_call = score_module.FrameScorer.__call__

    def spy_call(self, restored, reference):
        score_threads.add(threading.current_thread().name)
        return real_call(self, restored, reference)

    monkeypatch.setattr(reader_module, "open_reader", lambda source: Spy(real_open(source)))
    monkeypatch.setattr(score_module.FrameScorer, "__call__", spy_call)
    evaluate_pair(clip, clip, EvalOptions(batch=2, workers=1))
    assert score_threads == {threading.current_thread().name}
    assert decode_threads and not decode_threads & score_threads


# --------------------------------------------------------------------------------------- real data


def test_real_pair_matches_skimage(shared_data):
    folder = shared_data / "pairs" / "carphone"
    out, ref = folder / "carphone_distorted.mp4", folder / "carphone_pristine.mp4"
    score = evaluate_pair(out, ref, EvalOptions(batch=16))
    restored, reference = decoded(out), decoded(ref)
    assert score.count == len(reference) == 120
    picks = [0, 57, 119]
    expected_psnr, expected_ssim = skimage_scores([restored[i] for i in picks], [reference[i] for i in picks], 255)
    assert [score.psnr[i] for i in picks] == pytest.approx(expected_psnr, abs=1e-4)
    assert [score.ssim[i] for i in picks] == pytest.approx(expected_ssim, abs=1e-5)
    assert 20 < score.mean_psnr < 27  # the data set documents "about 23.1 dB apart"


def test_real_ten_bit_pair_through_y4m(shared_data, tmp_path):
    """The raw 10-bit pair wrapped as y4m (header only): decoded, rescaled to 0..1023 and scored."""
    folder = shared_data / "pairs" / "sparks-10bit"
    paths = []
    for name in ("sparks_dis_480x270.yuv42010le.yuv", "sparks_ref_480x270.yuv42010le.yuv"):
        raw = (folder / name).read_bytes()
        size = 480 * 270 * 3  # bytes per 4:2:0 10-bit frame: 1.5 samples per pixel, 2 bytes each
        header = b"YUV4MPEG2 W480 H270 F25:1 Ip A1:1 C420p10 XYSCSS=420P10\n"
        body = b"".join(b"FRAME\n" + raw[i : i + size] for i in range(0, len(raw), size))
        path = tmp_path / (name.split("_")[1] + ".y4m")
        path.write_bytes(header + body)
        paths.append(path)
    score = evaluate_pair(*paths)
    assert score.peak == 1023 and score.count == 5
    restored, reference = ([np.rint(im * (1023 / 65535)) for im in decoded(p)] for p in paths)
    expected_psnr, expected_ssim = skimage_scores(restored, reference, 1023)
    assert score.psnr == pytest.approx(expected_psnr, abs=1e-4)
    assert score.ssim == pytest.approx(expected_ssim, abs=1e-5)
    assert 40 < score.mean_psnr < 55


def test_scoring_device():
    import torch

    from vrestore.errors import DeviceError
    from vrestore.metrics.video import scoring_device, validate

    assert scoring_device(" CPU ") == "cpu"
    assert scoring_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(UsageError, match="tpu"):
        validate(EvalOptions(device="tpu"))
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="CUDA"):
            validate(EvalOptions(device="cuda"))


def test_auto_device_scores_like_cpu(make_clip):
    clip = make_clip("a.mkv", count=2, codec="ffv1", pix_fmt="bgr0")
    cpu = evaluate_pair(clip, clip, EvalOptions(device="cpu"))
    auto = evaluate_pair(clip, clip, EvalOptions(device="auto"))
    assert auto.psnr == cpu.psnr == [math.inf, math.inf] and auto.ssim == pytest.approx(cpu.ssim)
