"""The PromStack harness now lives in the package (``warroom.devstack``), where
``warroom demo --live`` uses it too; this module keeps the tests' import path."""

from __future__ import annotations

from warroom.devstack import (
    BINARIES,
    NOWHERE,
    SHOP_DIR,
    Availability,
    PromStack,
    StackError,
    binaries_available,
    find_binary,
    free_port,
    shop_dir,
)

__all__ = [
    "BINARIES",
    "NOWHERE",
    "SHOP_DIR",
    "Availability",
    "PromStack",
    "StackError",
    "binaries_available",
    "find_binary",
    "free_port",
    "shop_dir",
]
