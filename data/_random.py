"""Random draws for the simulation, all vectorised."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

# Placements are few and expensive, so plain random draws make a municipality's yearly spend swing
# by ±10 % between seeds. Arrivals and the placement draws therefore use low-discrepancy sequences:
# they still look random row by row, but their totals follow the calibration closely.
GOLDEN = (np.sqrt(5.0) - 1) / 2
SQRT2 = np.sqrt(2.0) - 1


def rng_for(seed: int, key: tuple[int, ...], component: int) -> np.random.Generator:
    """An independent stream per component, so changing one part of the world leaves the others alone."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(*key, component)))


def uniform_int(rng: np.random.Generator, lo: int | I64, hi: int | I64, n: int) -> I64:
    """Inclusive integer uniform; lo and hi may be arrays."""
    lo_, hi_ = np.asarray(lo), np.asarray(hi)
    return (lo_ + np.floor(rng.random(n) * (hi_ - lo_ + 1))).astype(np.int64)


def choice(rng: np.random.Generator, p: npt.ArrayLike, n: int, u: F64 | None = None) -> I64:
    """Indices drawn with probabilities p (from the uniforms u, if given)."""
    p = np.asarray(p, dtype=np.float64)
    u = rng.random(n) if u is None else u
    return np.searchsorted(np.cumsum(p / p.sum()), u, side="right").clip(0, len(p) - 1)


def choice_rows(rng: np.random.Generator, p: F64, u: F64 | None = None) -> I64:
    """One draw per row of a probability matrix (from the uniforms u, if given)."""
    cum = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(p)) if u is None else u
    return (cum < u[:, None]).sum(axis=1).clip(0, p.shape[1] - 1)


def weyl(rng: np.random.Generator, n: int, alpha: float) -> F64:
    """A randomly shifted Weyl sequence: evenly spread uniforms."""
    return np.mod(rng.random() + np.arange(n) * alpha, 1.0)


def normal_quantile(u: F64) -> F64:
    """Inverse standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9)."""
    a = (
        -3.969683028665376e01,
        2.209460984245205e02,
        -2.759285104469687e02,
        1.383577518672690e02,
        -3.066479806614716e01,
        2.506628277459239e00,
    )
    b = (
        -5.447609879822406e01,
        1.615858368580409e02,
        -1.556989798598866e02,
        6.680131188771972e01,
        -1.328068155288572e01,
    )
    c = (
        -7.784894002430293e-03,
        -3.223964580411365e-01,
        -2.400758277161838e00,
        -2.549732539343734e00,
        4.374664141464968e00,
        2.938163982698783e00,
    )
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
    u = np.clip(u, 1e-12, 1 - 1e-12)
    q = np.minimum(u, 1 - u)
    out = np.empty_like(u)
    tail = q < 0.02425
    r = np.sqrt(-2 * np.log(q[tail]))
    out[tail] = (((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) / (
        (((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1
    )
    mid = ~tail
    x = q[mid] - 0.5
    r2 = x * x
    out[mid] = (
        (((((a[0] * r2 + a[1]) * r2 + a[2]) * r2 + a[3]) * r2 + a[4]) * r2 + a[5])
        * x
        / (((((b[0] * r2 + b[1]) * r2 + b[2]) * r2 + b[3]) * r2 + b[4]) * r2 + 1)
    )
    return np.where(u < 0.5, out, -out)


def systematic_counts(rng: np.random.Generator, lam: F64) -> I64:
    """Event counts per row and column whose running totals stay within one of the expected ones."""
    cum = np.cumsum(lam, axis=1) + rng.random((lam.shape[0], 1))
    whole = np.floor(cum).astype(np.int64)
    return np.diff(whole, axis=1, prepend=np.floor(cum[:, :1] - lam[:, :1]).astype(np.int64))
