"""What the doctor reports: one :class:`Finding` per problem, its codes, order and table layout."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from adamtune._json import jsonable

__all__ = [
    "CODES",
    "SEVERITIES",
    "Finding",
    "format_table",
    "jsonable",
    "sentence",
    "sort_findings",
]

# Worst first. "error": training cannot work as set up; "warning": it works badly or misleads;
# "info": worth knowing, nothing to fix.
SEVERITIES = ("error", "warning", "info")

# Every code the doctor can report, in the order findings of one severity are listed: causes
# before the symptoms they produce (unscaled data can make a learning rate look too high).
CODES: dict[str, str] = {
    "nonfinite-data": "NaN or infinite values in the inputs or labels",
    "label-loss-mismatch": "the labels, the loss and the model's output layer disagree",
    "unscaled-features": "input features far from unit scale, or on very different scales",
    "unscaled-targets": "regression targets far from unit scale: the output must grow to them",
    "lr-too-high": "the learning rate makes the loss rise or blow up",
    "warmup-needed": "the run fails early at a learning rate that trains when warmed up to",
    "lr-too-low": "the learning rate is too small for the loss to move",
    "batch-lr-mismatch": "a learning rate fit for batch size 32, used at another batch size",
    "collapsed-to-chance": "the model ends at a constant prediction (dead units, chance loss)",
    "vanishing-gradients": "gradients shrink by orders of magnitude towards the input",
    "exploding-gradients": "the gradient norm grows by orders of magnitude, or the loss spikes",
    "over-regularized": "the regularizer or weight decay outweighs the data",
    "under-regularized": "overfitting: validation loss rises while training loss falls",
    "class-imbalance": "some classes are far rarer than others",
    "tiny-dataset": "too few samples to train and validate reliably",
    "dead-units": "many ReLU units output zero for every validation sample",
    "lr-range": "what the learning-rate range test found",
    "probe-failed": "a probe raised an error, so its checks are missing",
    "stream-sample": "the data is a stream: the diagnosis ran on its first samples only",
    "token-ids": "x holds token ids an Embedding reads: not checked for scale, never scaled",
}


def sentence(text: str) -> str:
    """``text`` with a capital first letter and a final full stop (the rest left as written)."""
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


@dataclass(frozen=True)
class Finding:
    """One problem the doctor found.

    Attributes:
        code: what kind of problem (a key of :data:`CODES`).
        severity: ``"error"`` (training cannot work as set up), ``"warning"`` (it works badly or
            misleads) or ``"info"``.
        evidence: what was measured, in one sentence with the numbers.
        advice: what to change, with adamtune's suggested value where it has one.
        data: the raw numbers behind ``evidence`` (JSON values).
    """

    code: str
    severity: str
    evidence: str
    advice: str
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"Finding: unknown code {self.code!r}; known: {', '.join(CODES)}")
        if self.severity not in SEVERITIES:
            raise ValueError(
                f"Finding: `severity` must be one of {', '.join(SEVERITIES)}. "
                f"Received: severity={self.severity!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        """Strict-JSON values, keys in a fixed order (``data`` sorted by key)."""
        return {
            "code": self.code,
            "severity": self.severity,
            "evidence": self.evidence,
            "advice": self.advice,
            "data": jsonable(dict(sorted(self.data.items()))),
        }


def _rank(finding: Finding) -> tuple[int, int]:
    return SEVERITIES.index(finding.severity), list(CODES).index(finding.code)


def sort_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Worst severity first; within one severity, causes before symptoms (the order of CODES)."""
    return tuple(sorted(findings, key=_rank))


# --- the plain-text table ----------------------------------------------------------------------

WIDTH = 100  # the table wraps to this many columns: a terminal's usual 80-120
_SEVERITY_WIDTH = len("SEVERITY")
_CODE_WIDTH = max(len(c) for c in CODES)


def _block(severity: str, code: str, lines: Sequence[str]) -> list[str]:
    indent = " " * (_SEVERITY_WIDTH + _CODE_WIDTH + 4)
    out: list[str] = []
    for i, line in enumerate(lines):
        if i == 0:
            out.append(f"{severity:<{_SEVERITY_WIDTH}}  {code:<{_CODE_WIDTH}}  {line}")
        else:
            out.append(indent + line)
    return out


def _wrap(text: str, width: int, prefix: str = "") -> list[str]:
    lines = textwrap.wrap(
        text,
        width=width,
        initial_indent=prefix,
        subsequent_indent=" " * len(prefix),
        break_on_hyphens=False,
    )
    return lines or [prefix]


def format_table(findings: Sequence[Finding], title: str) -> str:
    """``findings`` as a plain-text table wrapped to :data:`WIDTH` columns, worst first."""
    text_width = WIDTH - (_SEVERITY_WIDTH + _CODE_WIDTH + 4)
    rows = _wrap(title, WIDTH)
    counts = [
        f"{n} {s}{'s' if n != 1 else ''}"
        for s in SEVERITIES
        if (n := sum(f.severity == s for f in findings))
    ]
    rows.append(", ".join(counts) if counts else "no findings")
    if not findings:
        return "\n".join(rows)
    rows.append("")
    rows.extend(_block("SEVERITY", "CODE", ["FINDING / FIX"]))
    rows.append("-" * WIDTH)
    for finding in sort_findings(findings):
        lines = _wrap(finding.evidence, text_width)
        if finding.advice:
            lines += _wrap(finding.advice, text_width, prefix="fix: ")
        rows.extend(_block(finding.severity, finding.code, lines))
    return "\n".join(rows)
