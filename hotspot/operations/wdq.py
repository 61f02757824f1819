"""Did it work, in numbers: the weighted displacement quotient and difference.

WDQ (Bowers & Johnson 2003) and WDD (Wheeler & Ratcliffe 2018) with its
significance test, for a treated area, a buffer and a control.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scipy import stats

from hotspot.errors import ParameterError

# ----------------------------------------------------------------------------
# the statistics
# ----------------------------------------------------------------------------


def _pair(values: Sequence[float], *, name: str) -> tuple[float, float]:
    try:
        before, after = (float(v) for v in values)
    except (TypeError, ValueError):
        raise ParameterError(
            f"{name} must be a pair (before, after) of numbers, got {values!r}"
        ) from None
    if not (math.isfinite(before) and math.isfinite(after)) or min(before, after) < 0:
        raise ParameterError(
            f"{name} must hold finite counts >= 0, got ({before}, {after})"
        )
    return before, after


@dataclass(frozen=True)
class WDQResult:
    """Weighted Displacement Quotient and its companions (Bowers & Johnson 2003).

    Attributes
    ----------
    success_measure : float
        ``A1/C1 - A0/C0``; negative when the treated area did better than the
        control.
    buffer_displacement : float
        ``B1/C1 - B0/C0``; positive suggests displacement into the buffer,
        negative diffusion of benefit.
    wdq : float
        ``buffer_displacement / success_measure``; NaN when the success measure
        is 0.
    gross_effect : float
        ``A0 * C1/C0 - A1``: occurrences (or harm) prevented in the treated area
        relative to the control trend (negative: more than expected).
    buffer_effect : float
        ``B0 * C1/C0 - B1``: the same in the buffer (negative: displacement).
    net_effect : float
        ``gross_effect + buffer_effect``.
    reading : str
        Bowers & Johnson's reading of the quotient, in plain English.
    """

    success_measure: float
    buffer_displacement: float
    wdq: float
    gross_effect: float
    buffer_effect: float
    net_effect: float
    reading: str


def wdq(
    treated: Sequence[float],
    *,
    buffer: Sequence[float],
    control: Sequence[float],
) -> WDQResult:
    """Weighted Displacement Quotient, success measure, gross and net effects.

    Parameters
    ----------
    treated : pair of float
        ``(A0, A1)``: occurrences (or harm) in the treated area before and after.
    buffer : pair of float, keyword-only
        ``(B0, B1)`` in the buffer area.
    control : pair of float, keyword-only
        ``(C0, C1)`` in the control area; both must be above zero.

    Returns
    -------
    WDQResult

    Raises
    ------
    ParameterError
        When a pair is malformed or a control count is zero.

    Notes
    -----
    With ``A``, ``B``, ``C`` the treated, buffer and control counts and 0, 1
    before and after::

        SM  = A1/C1 - A0/C0             (success measure; < 0 is success)
        BDM = B1/C1 - B0/C0             (buffer displacement measure)
        WDQ = BDM / SM
        gross effect = A0 C1/C0 - A1
        net effect   = gross effect + (B0 C1/C0 - B1)

    Reading when SM < 0: WDQ > 1 diffusion of benefit greater than the direct
    effect; 0 < WDQ <= 1 diffusion smaller than it; WDQ = 0 neither
    displacement nor diffusion; -1 <= WDQ < 0 displacement smaller than the
    direct effect (a net benefit); WDQ < -1 displacement greater than the
    direct effect. When SM >= 0 the treated area did no better than the
    control and the quotient is not interpreted.

    References
    ----------
    Bowers & Johnson (2003), J. Quant. Criminol. 19(3), 275-301.
    """
    a0, a1 = _pair(treated, name="treated")
    b0, b1 = _pair(buffer, name="buffer")
    c0, c1 = _pair(control, name="control")
    if c0 == 0 or c1 == 0:
        raise ParameterError(
            f"control must have occurrences in both periods (the WDQ divides by "
            f"them), got ({c0:g}, {c1:g}); choose a larger control area"
        )
    sm = a1 / c1 - a0 / c0
    bdm = b1 / c1 - b0 / c0
    quotient = bdm / sm if sm != 0 else math.nan
    gross = a0 * c1 / c0 - a1
    buffer_effect = b0 * c1 / c0 - b1
    return WDQResult(
        success_measure=sm,
        buffer_displacement=bdm,
        wdq=quotient,
        gross_effect=gross,
        buffer_effect=buffer_effect,
        net_effect=gross + buffer_effect,
        reading=_wdq_reading(sm, quotient),
    )


def _wdq_reading(sm: float, quotient: float) -> str:
    if sm >= 0:
        return ("the operation area did no better than the control area (success "
                "measure >= 0), so the quotient is not interpreted")
    if quotient > 1:
        return "diffusion of benefit into the buffer, greater than the direct effect"
    if quotient > 0:
        return "some diffusion of benefit into the buffer, smaller than the direct "\
            "effect"
    if quotient == 0:
        return "neither displacement nor diffusion of benefit"
    if quotient >= -1:
        return "some displacement into the buffer, smaller than the direct effect "\
            "(a net benefit)"
    return "displacement into the buffer greater than the direct effect (a net loss)"


@dataclass(frozen=True)
class WDDResult:
    """Weighted Displacement Difference (Wheeler & Ratcliffe 2018).

    Attributes
    ----------
    local, local_se : float
        ``dT - s dC``: change in the treated area beyond the (scaled) control
        change, and its standard error. Negative: fewer than expected.
    displacement, displacement_se : float
        ``dD - s_d dCd`` for the buffer, and its standard error.
    estimate, se : float
        ``local + displacement`` and its standard error.
    z, p : float
        ``estimate / se`` and the two-sided normal p-value.
    detectable : float
        ``1.96 * se``: the smallest change (in occurrences) the test could
        tell from chance at the 5% level.
    """

    local: float
    local_se: float
    displacement: float
    displacement_se: float
    estimate: float
    se: float
    z: float
    p: float
    detectable: float


def wdd(
    treated: Sequence[float],
    *,
    control: Sequence[float],
    buffer: Sequence[float] | None = None,
    buffer_control: Sequence[float] | None = None,
    control_scale: float = 1.0,
    buffer_control_scale: float = 1.0,
    variances: Mapping[str, Sequence[float]] | None = None,
) -> WDDResult:
    """Weighted Displacement Difference with its Poisson variance, z and p.

    Parameters
    ----------
    treated : pair of float
        ``(T0, T1)``: counts in the treated area before and after.
    control : pair of float, keyword-only
        ``(C0, C1)`` in the control area of the treated area.
    buffer : pair of float, optional, keyword-only
        ``(D0, D1)`` in the displacement (buffer) area; ``None`` leaves
        displacement out (the estimate is then the local one).
    buffer_control : pair of float, optional, keyword-only
        Control counts for the buffer. ``None``: the buffer shares ``control``
        (its change then enters twice and the variance accounts for that).
    control_scale, buffer_control_scale : float, keyword-only
        Factors applied to the control changes, for a control area of another
        size (for example ``T0 / C0``, which makes the control predict the
        treated area's "before" count). 1 is Wheeler & Ratcliffe's test.
    variances : dict, optional, keyword-only
        Variances of the counts, keyed ``"treated"``, ``"control"``,
        ``"buffer"``, ``"buffer_control"`` (pairs). By default each equals its
        count (Poisson). For harm-weighted sums pass the sums of squared weights
        (the variance of a compound Poisson sum).

    Returns
    -------
    WDDResult

    Notes
    -----
    ``WDD = (T1 - T0) - s (C1 - C0) + (D1 - D0) - s_d (Cd1 - Cd0)`` with
    variance ``T0 + T1 + s^2 (C0 + C1) + D0 + D1 + s_d^2 (Cd0 + Cd1)`` when the
    counts are independent Poisson; when the buffer shares the control the
    control terms combine into ``(s + s_d)^2 (C0 + C1)``. ``z = WDD / sqrt(var)``,
    ``p = 2 (1 - Phi(|z|))``. Scales are treated as fixed.

    References
    ----------
    Wheeler & Ratcliffe (2018), Crime Science 7:11.
    """
    t0, t1 = _pair(treated, name="treated")
    c0, c1 = _pair(control, name="control")
    if buffer is None:
        if buffer_control is not None:
            raise ParameterError("buffer_control needs buffer counts as well")
        buffer, buffer_control_scale = (0.0, 0.0), 0.0
    d0, d1 = _pair(buffer, name="buffer")
    shared = buffer_control is None
    cd0, cd1 = (c0, c1) if shared else _pair(buffer_control or (),
                                             name="buffer_control")
    for name, value in (("control_scale", control_scale),
                        ("buffer_control_scale", buffer_control_scale)):
        if not math.isfinite(value) or value < 0:
            raise ParameterError(f"{name} must be a finite number >= 0, got {value!r}")
    var = {"treated": (t0, t1), "control": (c0, c1), "buffer": (d0, d1),
           "buffer_control": (cd0, cd1)}
    for key, pair in (variances or {}).items():
        if key not in var:
            raise ParameterError(
                f"variances keys must be among {sorted(var)}, got {key!r}")
        var[key] = _pair(pair, name=f"variances[{key!r}]")
    if shared:
        var["buffer_control"] = var["control"]
    s, sd = float(control_scale), float(buffer_control_scale)
    local = (t1 - t0) - s * (c1 - c0)
    displacement = (d1 - d0) - sd * (cd1 - cd0)
    v_t, v_c = sum(var["treated"]), sum(var["control"])
    v_d, v_cd = sum(var["buffer"]), sum(var["buffer_control"])
    var_local = v_t + s**2 * v_c
    var_disp = v_d + sd**2 * v_cd
    var_total = v_t + v_d + ((s + sd) ** 2 * v_c if shared
                             else s**2 * v_c + sd**2 * v_cd)
    estimate = local + displacement
    se = math.sqrt(var_total)
    z = estimate / se if se > 0 else math.nan
    p = float(2 * stats.norm.sf(abs(z))) if math.isfinite(z) else math.nan
    return WDDResult(
        local=local, local_se=math.sqrt(var_local), displacement=displacement,
        displacement_se=math.sqrt(var_disp), estimate=estimate, se=se, z=z, p=p,
        detectable=1.959963984540054 * se,
    )
