"""ledger.protocol.netting.aggregate: the columnar path equals the plain aggregation, exactly, for uint256."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ledger.protocol.netting.columns as agg
from ledger.protocol.netting import Obligation, ObligationColumns, aggregate, net_positions

NAMES = ["0x01", "0x02", "0x03", "0x04"]

obligation_lists = st.lists(
    st.builds(
        lambda pq, c, a: Obligation("r", NAMES[pq[0]], NAMES[pq[1]], c, a),
        st.sampled_from([(p, q) for p in range(4) for q in range(4) if p != q]),
        st.sampled_from(["EUR", "SGD", "USD"]),
        st.one_of(st.integers(1, 2**40), st.integers(1, 2**64 - 1), st.integers(1, 2**256 - 1)),
    ),
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(obligation_lists, st.data())
def test_columns_match_plain_aggregation(obs: list[Obligation], data: st.DataObject) -> None:
    columns = ObligationColumns.from_obligations(obs)
    assert aggregate(columns) == net_positions(obs)
    mask = data.draw(st.lists(st.booleans(), min_size=len(obs), max_size=len(obs)))
    assert aggregate(columns, mask) == net_positions(obs, [i for i, m in enumerate(mask) if m])


def test_chunking_is_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agg, "CHUNK_ROWS", 3)
    top = 2**256 - 1
    obs = [Obligation("r", "0x01", "0x02", "SGD", top - k) for k in range(10)]
    obs += [Obligation("r", "0x02", "0x03", "SGD", 2**32 - 1) for _ in range(7)]
    columns = ObligationColumns.from_obligations(obs)
    assert columns.limbs.shape[0] == 8
    assert aggregate(columns) == net_positions(obs)


def test_limbs_small_and_large() -> None:
    assert agg.amount_limbs([1, 2, 3]).shape == (1, 3)
    limbs = agg.amount_limbs([2**40 + 5, 7])
    assert limbs.shape == (2, 2)
    assert limbs[:, 0].tolist() == [5.0, 256.0]
    limbs = agg.amount_limbs([2**200, 1])
    assert sum(int(v) << (32 * k) for k, v in enumerate(limbs[:, 0].tolist())) == 2**200
    assert agg.amount_limbs(np.array([3, 4], dtype=np.int64)).shape == (1, 2)


@pytest.mark.parametrize("bad", [[-1], [2**256], [1.5], [True]])
def test_limbs_reject_bad_amounts(bad: list[object]) -> None:
    with pytest.raises(ValueError):
        agg.amount_limbs(bad)  # type: ignore[arg-type]


def test_build_validates_indices() -> None:
    with pytest.raises(ValueError, match="participant index"):
        ObligationColumns.build(["a", "b"], ["X"], payer=[0], payee=[2], currency=[0], amounts=[1])
    with pytest.raises(ValueError, match="currency index"):
        ObligationColumns.build(["a", "b"], ["X"], payer=[0], payee=[1], currency=[1], amounts=[1])
    with pytest.raises(ValueError, match="equal length"):
        ObligationColumns.build(["a", "b"], ["X"], payer=[0, 1], payee=[1], currency=[0], amounts=[1])
    empty = ObligationColumns.build([], [], payer=[], payee=[], currency=[], amounts=[])
    assert len(empty) == 0 and aggregate(empty) == ()
