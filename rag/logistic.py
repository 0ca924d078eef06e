"""A fitted logistic regression over named, standardised features: the form every learned
decision ships in (its weights in a small JSON file beside the module that uses it). Pure.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Logistic:
    """p = 1 / (1 + exp(-(intercept + sum(coef * (x - mean) / scale)))).

    >>> Logistic(("a",), (0.0,), (1.0,), (2.0,), 0.0).probability([0.0])
    0.5
    """

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def probability(self, row: Sequence[float]) -> float:
        """The fitted probability for one row of feature values."""
        z = zip(self.coef, row, self.mean, self.scale, strict=True)
        logit = self.intercept + sum(w * (x - m) / s for w, x, m, s in z)
        return 1 / (1 + math.exp(-max(-50.0, min(50.0, logit))))

    def scores(self, rows: Sequence[Sequence[float]]) -> list[float]:
        """The probability for each row."""
        return [self.probability(row) for row in rows]

    def to_dict(self) -> dict[str, object]:
        return {
            "features": list(self.features),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
        }

    @classmethod
    def from_dict(cls, data: dict, features: Sequence[str]) -> Logistic:
        """The model in `data`, refused when it was fitted for other `features`."""
        if list(data["features"]) != list(features):
            raise ValueError("the weights were fitted for other features")
        return cls(
            tuple(features),
            tuple(data["mean"]),
            tuple(data["scale"]),
            tuple(data["coef"]),
            data["intercept"],
        )


def load(path: Path, features: Sequence[str]) -> tuple[Logistic, dict] | None:
    """The model in a weights file and the whole file's content (its measurements and any
    operating point), or None when there is no file."""
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return Logistic.from_dict(data, features), data
