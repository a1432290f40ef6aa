"""phonsid.nnet.prefetch.Prefetcher: background minibatch preparation for both trainers."""

from __future__ import annotations

import pytest

from phonsid.nnet.prefetch import Prefetcher


def test_prefetcher_keeps_order_and_raises_errors():
    with Prefetcher(range(20), lambda i: i * i, depth=3) as p:
        assert list(p) == [i * i for i in range(20)]

    def boom(i):
        if i == 4:
            raise RuntimeError("bad batch 4")
        return i

    with Prefetcher(range(10), boom, depth=2) as p:
        got = []
        with pytest.raises(RuntimeError, match="bad batch 4"):
            for v in p:
                got.append(v)
    assert got == [0, 1, 2, 3]


def test_prefetcher_keeps_order_and_passes_errors():
    with Prefetcher(range(50), lambda i: i * i, depth=3) as p:
        assert list(p) == [i * i for i in range(50)]

    def boom(i):
        if i == 5:
            raise ValueError("bad item 5")
        return i

    got = []
    with pytest.raises(ValueError, match="bad item 5"):
        with Prefetcher(range(10), boom) as p:
            for x in p:
                got.append(x)
    assert got == [0, 1, 2, 3, 4]
    p = Prefetcher(range(10 ** 6), lambda i: i, depth=2)
    assert next(iter(p)) == 0
    p.close()  # stops the producer early
