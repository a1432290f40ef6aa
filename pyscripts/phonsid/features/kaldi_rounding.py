"""Kaldi's per-frame spectrum with Kaldi's single-precision rounding, vectorised over frames.

Why this exists: for frames whose spectrum spans ten or more decades (a fricative over a band-limited
recording, where some mel bands hold 1e-9 of the frame's power), the weak bands are dominated by the
float32 rounding noise of the FFT. Kaldi's own output there is as far from the exact value as any other
float32 computation, and two different float32 FFTs (Kaldi's split-radix, kaldi-native-fbank's, numpy's,
or the product used by ``compute.py``) disagree by up to ~0.05 on liftered cepstra. Matching Kaldi on such
frames therefore means reproducing its arithmetic operation by operation, which this module does:

* ``ProcessWindow`` (feat/feature-window.cc): DC removal with the frame sum accumulated as OpenBLAS's
  strided ``sdot`` does (Kaldi's ``VectorBase::Sum`` is a dot product with a stride-0 vector of ones),
  pre-emphasis from the last sample backwards, window multiplication;
* ``SplitRadixRealFft<float>`` (matrix/srfft.cc): the split-radix complex FFT of half length on the
  even/odd samples, with its twiddle tables and its bit-reversal, then the real-FFT unpacking with the
  recurrence for the twiddle factor; every butterfly is evaluated with the same float32 operations in the
  same order (numpy does not fuse multiply-adds, and Kaldi's default build has no FMA);
* ``ComputePowerSpectrum``.

Only butterflies that are independent are batched together (all frames, and all sub-transforms of the
same size), so each output value sees exactly Kaldi's sequence of roundings. It is about ten times slower
than ``compute.py``'s product and is used there only for the few frames whose dynamic range makes float32
rounding visible (see ``ill_conditioned``).
"""

from __future__ import annotations

import math

import numpy as np

from phonsid.features.mel import _LIBM, FLOAT_EPS, window_function
from phonsid.features.options import FrameExtractionOptions

_F = np.float32


def _f32(x) -> np.float32:
    return np.float32(x)


def _cosf(x: np.float32) -> np.float32:
    if _LIBM is not None:
        return np.float32(_LIBM.cosf(float(x)))
    return np.float32(math.cos(float(x)))


def _sinf(x: np.float32) -> np.float32:
    if _LIBM is not None:
        return np.float32(_LIBM.sinf(float(x)))
    return np.float32(math.sin(float(x)))


def strided_sdot_sum(frames_t: np.ndarray) -> np.ndarray:
    """Column sums of ``frames_t`` (samples x frames, float32) accumulated as OpenBLAS's generic
    (non-unit-stride) ``sdot`` loop does: four elements at a time, elements 0+2 into one accumulator and
    1+3 into another, the tail into the first, the two added at the end. (For integer-valued samples every
    order gives the same sum; with dither it decides the last bit.)"""
    n = frames_t.shape[0]
    n4 = n & ~3
    t1 = np.zeros(frames_t.shape[1], dtype=_F)
    t2 = np.zeros(frames_t.shape[1], dtype=_F)
    for i in range(0, n4, 4):
        t1 += frames_t[i] + frames_t[i + 2]
        t2 += frames_t[i + 1] + frames_t[i + 3]
    for i in range(n4, n):
        t1 += frames_t[i]
    return t1 + t2


class _ComplexFftProgram:
    """Kaldi's ``SplitRadixComplexFft<float>`` of size ``2**logn`` as a level-by-level program."""

    def __init__(self, logn: int) -> None:
        self.logn = logn
        self.n = 1 << logn
        self.sqhalf = _f32(math.sqrt(0.5))
        self.tables = {lv: self._table(lv) for lv in range(4, logn + 1)}
        # breadth-first schedule: (level, offsets of the sub-transforms at that level)
        pending: dict[int, list[int]] = {logn: [0]}
        self.levels: list[tuple[int, np.ndarray]] = []
        for lv in range(logn, -1, -1):
            offsets = pending.pop(lv, [])
            if not offsets:
                continue
            self.levels.append((lv, np.array(offsets, dtype=np.int64)))
            if lv >= 3:
                m = 1 << lv
                for o in offsets:
                    pending.setdefault(lv - 1, []).append(o)
                    pending.setdefault(lv - 2, []).extend([o + m // 2, o + 3 * (m // 4)])
        self.permutation = self._bit_reverse_permutation()

    @staticmethod
    def _table(lv: int) -> tuple[np.ndarray, ...]:
        m = 1 << lv
        m4, m8 = m // 4, m // 8
        cols: list[list[np.float32]] = [[] for _ in range(6)]
        for n in range(1, m4):
            if n == m8:
                continue
            ang = _f32(n * (2.0 * math.pi) / m)
            c, s = _cosf(ang), _sinf(ang)
            cols[0].append(c)
            cols[1].append(-(s + c))
            cols[2].append(s - c)
            ang = _f32(3 * n * (2.0 * math.pi) / m)
            c, s = _cosf(ang), _sinf(ang)
            cols[3].append(c)
            cols[4].append(-(s + c))
            cols[5].append(s - c)
        return tuple(np.array(col, dtype=_F) for col in cols)

    def _bit_reverse_permutation(self) -> np.ndarray:
        """Where each output of the in-place recursion must come from (Kaldi's ``BitReversePermute``)."""
        logn = self.logn
        x = list(range(self.n))
        if logn <= 1:
            return np.array(x)
        lg2 = logn >> 1
        if logn & 1:
            lg2 += 1
        seed = [0] * (1 << lg2)
        seed[1] = 1
        for j in range(2, lg2 + 1):
            imax = 1 << (j - 1)
            for i in range(imax):
                seed[i] <<= 1
                seed[i + imax] = seed[i] + 1
        half = logn >> 1
        n = 1 << half
        for off in range(1, n):
            fj = n * seed[off]
            i, j = off, fj
            x[i], x[j] = x[j], x[i]
            p = i
            for gno in range(1, seed[off]):
                p += n
                j = fj + seed[gno]
                x[p], x[j] = x[j], x[p]
        return np.array(x)

    def run(self, xr: np.ndarray, xi: np.ndarray) -> None:
        """In-place forward transform; ``xr``/``xi`` are float32 ``(n, frames)`` (one column per frame).

        A sub-transform of size ``m = 2**level`` always starts at a multiple of ``m``, so each level works on
        the rows viewed as ``(n/m, m, frames)`` blocks and copies only the blocks that level transforms.
        """
        nfr = xr.shape[1]
        for lv, offsets in self.levels:
            if lv == 0:
                continue
            m = 1 << lv
            blocks = offsets >> lv
            contiguous = np.array_equal(blocks, np.arange(blocks[0], blocks[0] + len(blocks)))
            r3, i3 = xr.reshape(-1, m, nfr), xi.reshape(-1, m, nfr)
            if contiguous:
                sl = slice(int(blocks[0]), int(blocks[0]) + len(blocks))
                rb, ib = r3[sl], i3[sl]
            else:
                rb, ib = r3[blocks], i3[blocks]
            self._level(lv, rb, ib)
            if not contiguous:
                r3[blocks] = rb
                i3[blocks] = ib
        perm = self.permutation
        xr[:] = xr[perm]
        xi[:] = xi[perm]

    @staticmethod
    def _butterfly(x: np.ndarray, a: slice, b: slice) -> None:
        """x[a], x[b] <- x[a] + x[b], x[a] - x[b] along axis 1."""
        t = x[:, a] + x[:, b]
        np.subtract(x[:, a], x[:, b], out=x[:, b])
        x[:, a] = t

    def _level(self, lv: int, xr: np.ndarray, xi: np.ndarray) -> None:
        """One split-radix pass on blocks ``(items, 2**lv, frames)`` (Kaldi's ``ComputeRecursive`` body)."""
        bf = self._butterfly
        if lv == 1:
            for x in (xr, xi):
                bf(x, slice(0, 1), slice(1, 2))
            return
        if lv == 2:
            for a, b in ((0, 2), (1, 3), (0, 1)):
                for x in (xr, xi):
                    bf(x, slice(a, a + 1), slice(b, b + 1))
            r1, i1, r2, i2 = xr[:, 2].copy(), xi[:, 2].copy(), xr[:, 3].copy(), xi[:, 3].copy()
            xr[:, 2] = r1 + i2
            xi[:, 3] = i1 + r2
            xi[:, 2] = i1 - r2
            xr[:, 3] = r1 - i2
            return
        m = 1 << lv
        m2, m4, m8 = m // 2, m // 4, m // 8
        sq = self.sqhalf
        # step 1
        for x in (xr, xi):
            bf(x, slice(0, m2), slice(m2, m))
        # step 2
        a, b = slice(m2, m2 + m4), slice(m2 + m4, m)
        r1, r2, c1, c2 = xr[:, a].copy(), xr[:, b].copy(), xi[:, a].copy(), xi[:, b].copy()
        xr[:, a] = r1 + c2
        xi[:, b] = c1 + r2
        xi[:, a] = c1 - r2
        xr[:, b] = r1 - c2
        # steps 3 and 4: twiddles for n = 1 .. m4-1 except m8, and the sqrt(1/2) case n = m8
        if lv >= 4:
            tab = self.tables[lv]
            for lo, hi, t0 in ((1, m8, 0), (m8 + 1, m4, m8 - 1)):
                cn, spcn, smcn, c3n, spc3n, smc3n = (t[t0:t0 + hi - lo][None, :, None] for t in tab)
                j1 = slice(m2 + lo, m2 + hi)
                j2 = slice(m2 + m4 + lo, m2 + m4 + hi)
                r1, c1 = xr[:, j1].copy(), xi[:, j1].copy()
                t2 = cn * (r1 + c1)
                xi[:, j1] = spcn * r1 + t2
                xr[:, j1] = smcn * c1 + t2
                r2, c2 = xr[:, j2].copy(), xi[:, j2].copy()
                t2 = c3n * (r2 + c2)
                xi[:, j2] = spc3n * r2 + t2
                xr[:, j2] = smc3n * c2 + t2
        k1, k2 = m2 + m8, m2 + m4 + m8
        r1, c1, r2, c2 = xr[:, k1].copy(), xi[:, k1].copy(), xr[:, k2].copy(), xi[:, k2].copy()
        xr[:, k1] = sq * (r1 + c1)
        xi[:, k1] = sq * (c1 - r1)
        xr[:, k2] = sq * (c2 - r2)
        xi[:, k2] = -sq * (r2 + c2)


class KaldiRoundingSpectrum:
    """Power spectra of raw frames computed with Kaldi's float32 operation order (see the module doc)."""

    def __init__(self, frame_opts: FrameExtractionOptions) -> None:
        n = frame_opts.padded_window_size()
        if n & (n - 1):
            raise ValueError("Kaldi-rounding spectra need a power-of-two FFT size (--round-to-power-of-two)")
        self.opts = frame_opts
        self.n = n
        self.length = frame_opts.window_size()
        self.window = window_function(frame_opts).astype(_F)
        self.fft = _ComplexFftProgram(int(math.log2(n // 2)))
        # the twiddle recurrence of the real-FFT unpacking, as Kaldi runs it (float32, sequential)
        half = n // 2
        root_re, root_im = _cosf(_f32(-2.0 * math.pi / n)), _sinf(_f32(-2.0 * math.pi / n))
        kre, kim = _f32(1.0), _f32(0.0)
        ks, res, ims = [], [], []
        for k in range(1, half // 2 + 1):
            kre, kim = (kre * root_re) - (kim * root_im), kre * root_im + kim * root_re
            ks.append(k)
            res.append(kre)
            ims.append(kim)
        self._k = np.array(ks)
        self._kre = np.array(res, dtype=_F)
        self._kim = np.array(ims, dtype=_F)

    def process(self, raw: np.ndarray, window_energy: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """``raw``: (frames, window_size) float32 samples (dither already added).

        Returns the power spectrum ``(frames, n/2 + 1)`` float32 and, if asked, the log-energy of the
        processed (windowed) frame.
        """
        o = self.opts
        x = np.array(raw.T, dtype=_F, order="C")  # (samples, frames): every step below reads whole rows
        if o.remove_dc_offset:
            x += -strided_sdot_sum(x) / _f32(self.length)
        c = _f32(o.preemph_coeff)
        if c != 0:
            x[1:] -= c * x[:-1]
            x[0] -= c * x[0]
        x *= self.window[:, None]
        energy = None
        if window_energy:
            energy = np.log(np.maximum(np.einsum("ij,ij->j", x, x, dtype=np.float64), FLOAT_EPS))
        return self._power_t(x), energy

    def power_spectrum(self, frames: np.ndarray) -> np.ndarray:
        """Kaldi's ``SplitRadixRealFft`` + ``ComputePowerSpectrum`` of the rows of ``frames`` (already
        processed, zero-padded to the FFT size); ``(frames, n/2 + 1)`` float32."""
        return self._power_t(np.ascontiguousarray(np.asarray(frames, dtype=_F).T))

    def _power_t(self, x: np.ndarray) -> np.ndarray:
        half = self.n // 2
        length, nfr = x.shape
        xr = np.zeros((half, nfr), dtype=_F)
        xi = np.zeros((half, nfr), dtype=_F)
        xr[: (length + 1) // 2] = x[0::2]
        xi[: length // 2] = x[1::2]
        self.fft.run(xr, xi)
        # unpack the half-length complex transform into the real transform (B_k = xr[k] + i xi[k])
        k = self._k
        kd = half - k
        br, bi, cr, ci = xr[k], xi[k], xr[kd], xi[kd]
        ck_re = _f32(0.5) * (br + cr)
        ck_im = _f32(0.5) * (bi - ci)
        dk_re = _f32(0.5) * (bi + ci)
        dk_im = _f32(-0.5) * (br - cr)
        kre, kim = self._kre[:, None], self._kim[:, None]
        power = np.empty((half + 1, nfr), dtype=_F)
        re = ck_re + ((kre * dk_re) - (kim * dk_im))
        im = ck_im + ((kre * dk_im) + (kim * dk_re))
        power[k] = re * re + im * im
        sel = kd != k
        nkre, kims = -kre[sel], kim[sel]
        re = ck_re[sel] + ((nkre * dk_re[sel]) - (kims * -dk_im[sel]))
        im = -ck_im[sel] + ((nkre * -dk_im[sel]) + (kims * dk_re[sel]))
        power[kd[sel]] = re * re + im * im
        zeroth = xr[0] + xi[0]
        nyquist = xr[0] - xi[0]
        power[0] = zeroth * zeroth
        power[half] = nyquist * nyquist
        return np.ascontiguousarray(power.T)
