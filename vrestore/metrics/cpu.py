"""SSIM and squared error of image pairs on the CPU: numpy and OpenCV, strip by strip, one thread per engine.

The formulation and its precision are described in ``vrestore.metrics.ssim``. No torch here, so that
``vrestore eval`` on the CPU does not pay torch's start-up.
"""

from __future__ import annotations

import cv2
import numpy as np

from vrestore.metrics.conventions import K1, K2, WINDOW, check_size, gaussian_kernel

_R = WINDOW // 2
STRIP_ROWS = 64  # output rows per strip: about 13 MB of float32 work buffers for 1280-px-wide RGB


class CpuSsim:
    """SSIM and the sum of squared errors of planar (C,H,W) image pairs of one size, on the CPU.

    Works strip by strip in numpy and OpenCV on one thread (torch's CPU ops each wait for the whole
    OpenMP team, which costs milliseconds per op while decoding threads occupy the cores); callers run
    several engines in parallel threads. Buffers are allocated once and reused. Inputs are numpy arrays
    of any real dtype (strided views are fine); integers are differenced and centred exactly in float32,
    float64 inputs (e.g. luma) in float64, before the float32 filtering.
    """

    def __init__(self, channels: int, height: int, width: int, strip_rows: int = STRIP_ROWS) -> None:
        check_size(height, width)
        self.shape = (channels, height, width)
        self._rows = max(1, min(strip_rows, height - 2 * _R))
        rows_in = self._rows + 2 * _R
        f32 = np.float32
        self._kernel = gaussian_kernel().astype(np.float32)
        self._planes = np.empty((4 * channels, rows_in, width), f32)  # x - centre, e, (x-c)^2 + (y-c)^2, e^2
        self._blurred = np.empty((4 * channels, rows_in, width), f32)
        self._cy = np.empty((channels, rows_in, width), f32)
        self._work = np.empty((4, channels, self._rows, width - 2 * _R), f32)

    def __call__(self, x: np.ndarray, y: np.ndarray, peak: float) -> tuple[float, float]:
        """(sum of squared differences, SSIM averaged over channels) of two (C,H,W) images."""
        x, y = np.asarray(x), np.asarray(y)
        if x.shape != self.shape or y.shape != self.shape:
            raise ValueError(f"CpuSsim is set up for {self.shape}, got {x.shape} and {y.shape}")
        c, h, w = self.shape
        centre = self._centre(x, y)
        sse = 0.0
        sums = np.zeros(c)
        out_rows = h - 2 * _R
        for start in range(0, out_rows, self._rows):
            stop = min(start + self._rows, out_rows)
            strip_sse, strip_sums = self._strip(x, y, centre, start, stop, stop == out_rows, peak)
            sse += strip_sse
            sums += strip_sums
        return sse, float(np.mean(sums / (out_rows * (w - 2 * _R))))

    @staticmethod
    def _centre(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """A per-channel integer near the data's mean (any constant is exact; this one keeps values small)."""
        sample = x[:, ::7, ::7].mean(axis=(1, 2), dtype=np.float64) + y[:, ::7, ::7].mean(axis=(1, 2), dtype=np.float64)
        return np.round(sample / 2).reshape(-1, 1, 1)

    def _strip(
        self, x: np.ndarray, y: np.ndarray, centre: np.ndarray, start: int, stop: int, last: bool, peak: float
    ) -> tuple[float, np.ndarray]:
        c = self.shape[0]
        rows_in = stop - start + 2 * _R
        xs, ys = x[:, start : start + rows_in], y[:, start : start + rows_in]
        # float64 inputs are centred and differenced in float64; others (integers) exactly in float32.
        centre = centre.astype(np.float64 if xs.dtype == np.float64 else np.float32)
        planes = self._planes[:, :rows_in]
        cx, e, squares, e2 = planes[:c], planes[c : 2 * c], planes[2 * c : 3 * c], planes[3 * c :]
        cy = self._cy[:, :rows_in]
        np.subtract(xs, centre, out=cx)
        np.subtract(ys, centre, out=cy)
        if xs.dtype == np.float64:
            np.subtract(xs, ys, out=e)
        else:
            np.subtract(cx, cy, out=e)
        np.multiply(cx, cx, out=squares)
        np.multiply(cy, cy, out=e2)
        np.add(squares, e2, out=squares)
        np.multiply(e, e, out=e2)
        # Each input row's squared error is counted once: by the strip whose output starts there.
        own = rows_in if last else stop - start
        sse = float(e2[:, :own].sum(dtype=np.float64))

        blurred = self._blurred[:, :rows_in]
        for i in range(4 * c):
            cv2.sepFilter2D(planes[i], cv2.CV_32F, self._kernel, self._kernel, dst=blurred[i])
        valid = blurred[:, _R : rows_in - _R, _R : blurred.shape[2] - _R]
        mu_cx, mu_e, second, second_e = valid[:c], valid[c : 2 * c], valid[2 * c : 3 * c], valid[3 * c :]
        t1, t2, t3, t4 = (t[:, : stop - start] for t in self._work)
        c32 = centre.astype(np.float32)
        c1, c2 = np.float32((K1 * peak) ** 2), np.float32((K2 * peak) ** 2)
        # With centred means m_x = mu_x - c, m_y = mu_y - c and q = m_x^2 + m_y^2:
        #   var_x + var_y = second - q,   mu_x^2 + mu_y^2 = q + 2c (m_x + m_y) + 2c^2.
        np.subtract(mu_cx, mu_e, out=t1)  # m_y
        np.multiply(mu_cx, mu_cx, out=t2)
        np.multiply(t1, t1, out=t3)
        np.add(t2, t3, out=t2)  # q
        np.add(t1, mu_cx, out=t1)
        np.multiply(t1, 2 * c32, out=t1)
        np.add(t1, t2, out=t1)
        np.add(t1, 2 * c32 * c32 + c1, out=t1)  # mu_x^2 + mu_y^2 + C1
        np.subtract(second, t2, out=t3)
        np.add(t3, c2, out=t3)  # var_x + var_y + C2
        np.multiply(mu_e, mu_e, out=t4)
        np.subtract(second_e, t4, out=t2)  # var_e
        np.divide(t2, t3, out=t2)
        np.divide(t4, t1, out=t4)  # mu_e^2 / (mu_x^2 + mu_y^2 + C1)
        np.subtract(1, t4, out=t4)
        np.subtract(1, t2, out=t2)
        np.multiply(t4, t2, out=t4)  # the SSIM map
        return sse, t4.sum(axis=(1, 2), dtype=np.float64)
