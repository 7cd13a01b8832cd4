"""Fixtures of the ISO 20022 tests (the generated traffic itself is in ``tests.support.iso20022``)."""

from __future__ import annotations

import random

import pytest


@pytest.fixture
def rnd() -> random.Random:
    return random.Random(2026)
