"""PETER side by side: the original code (lileipisces/PETER) against explainbench's PETER at fp32 and bf16,
on the same PETER-format data and split, with the same torch threads, alternating A B C A B C.

    .venv/bin/python benchmarks/peter_side_by_side.py --original ~/src/PETER \
        --data ../shared/data/amazon-musical-instruments-5core/peter-format --split 1 --threads 2

This is `benchmarks/side_by_side.py --model peter` (same options: --original --data --split --epochs
--threads --rounds --precisions --json); that module's docstring says what is measured and the one line
changed in a temporary copy of the original (`torch.load(f)` -> `torch.load(f, weights_only=False)`).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from side_by_side import main  # noqa: E402

if __name__ == "__main__":
    main(model="peter")
