"""`python -m tests.snapshots`: regenerate the byte snapshots of every target."""

from __future__ import annotations

import sys

from tests.snapshots import regenerate


def main() -> int:
    """Write every snapshot file and list them."""
    for path in regenerate():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
