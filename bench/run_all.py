"""`make bench`: every benchmark in turn. Each prints its figures beside its own baseline."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil

import bench


def main() -> None:
    for module in sorted(m.name for m in pkgutil.iter_modules(bench.__path__)):
        if module.startswith("bench_"):
            loaded = importlib.import_module(f"bench.{module}")
            asyncio.run(loaded.run())


if __name__ == "__main__":
    main()
