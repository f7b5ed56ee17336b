import numpy as np
import pyarrow as pa

from logsleuth.timeline.templates import TemplateMiner, mine_templates


def test_ids_and_templates_follow_message_shapes():
    msgs = [f"Client disconnected [id: 0x{i:08x}, L:/10.0.0.5:8080 ! R:/172.16.1.{i % 200}:4{i}]"
            for i in range(50)] + [f"GET /rooms/{i} status=200 took {i} ms" for i in range(30)]
    msgs += [None, 'Cache "rooms" is cold']
    idx = mine_templates(pa.array(msgs))
    ids = idx.template_ids
    assert ids.dtype == np.int32 and len(ids) == len(msgs)
    assert len(set(ids[:50])) == 1 and len(set(ids[50:80])) == 1 and ids[0] != ids[50]
    assert ids[80] == -1
    assert idx.templates[ids[0]] == "Client disconnected [id: <*>, L:/<*> ! R:/<*>]"
    assert idx.templates[ids[50]] == "GET /rooms/<*> status=<*> took <*> ms"
    assert idx.templates[ids[81]] == "Cache <STR> is cold"
    assert idx.counts[ids[0]] == 50


def test_words_that_vary_merge_into_wildcards_drain_style():
    idx = mine_templates(["login ok for alice from web", "login ok for bob from web",
                          "login ok for carol from app"])
    assert set(idx.template_ids) == {0}
    assert idx.templates[0] == "login ok for <*> from <*>"


def test_match_is_read_only_and_streaming_ids_are_stable():
    miner = TemplateMiner()
    first = miner.add(pa.array(["job 1 done", "job 2 done"]))
    n = len(miner)
    assert miner.match(pa.array(["totally new line here"]))[0] == -1
    assert len(miner) == n
    second = miner.add(pa.array(["job 77 done", "other thing"]))
    assert second[0] == first[0] and second[1] != first[0]
    assert miner.match(["job 5 done"])[0] == first[0]


def test_merge_maps_ids_of_a_map_side_miner():
    a, b = TemplateMiner(), TemplateMiner()
    ia = a.add(["conn 1 open", "conn 2 closed"])
    ib = b.add(["conn 9 closed", "gc pause 12 ms"])
    mapping = a.merge(b)
    assert mapping[ib[0]] == ia[1]  # same template "conn <*> closed"
    assert a.templates[mapping[ib[1]]] == "gc pause <*> ms"


def test_large_array_crosses_block_boundaries_consistently():
    msgs = pa.array([f"tick {i} value=0x{i:x} at 10.1.{i % 256}.7" for i in range(60_000)])
    idx = mine_templates(msgs)  # > 1 MB: several 256 KB blocks
    assert (idx.template_ids == 0).all()
    assert idx.templates == ["tick <*> value=<*> at <*>"]


def test_miners_share_one_scratch_per_thread_and_keep_none_themselves():
    """A scan keeps one merged miner per input (40 in the publicmix bench): buffers of
    megabytes per miner were ~100 MiB of the parent's memory at the analysis."""
    import pickle
    import threading

    from logsleuth.timeline import _tokenmask

    msgs = pa.array([f"user {i} logged in from 10.0.0.{i % 9}" for i in range(2000)])
    miners = [TemplateMiner() for _ in range(3)]
    ids = [m.add(msgs) for m in miners]
    assert all(np.array_equal(ids[0], x) for x in ids[1:])
    assert not hasattr(miners[0], "__dict__")  # slotted: nothing per miner but its state
    assert "_scratch" not in TemplateMiner.__slots__
    assert _tokenmask.thread_scratch() is _tokenmask.thread_scratch()
    other: list[object] = []
    t = threading.Thread(target=lambda: other.append(_tokenmask.thread_scratch()))
    t.start()
    t.join()
    assert other[0] is not _tokenmask.thread_scratch()  # a thread's own: no sharing
    # a huge message grows the buffers for its call; the next call starts small again
    TemplateMiner().add(pa.array(["x " * (_tokenmask.DEFAULT_BLOCK)]))
    assert _tokenmask.thread_scratch().block == _tokenmask.DEFAULT_BLOCK
    # a pickled miner (older ones carried a scratch slot) loads and matches the same
    back = pickle.loads(pickle.dumps(miners[0]))
    assert np.array_equal(back.match(msgs), ids[0])
    state = miners[0].__getstate__()
    legacy = TemplateMiner.__new__(TemplateMiner)
    legacy.__setstate__({**state, "_scratch": None})
    assert np.array_equal(legacy.match(msgs), ids[0])
