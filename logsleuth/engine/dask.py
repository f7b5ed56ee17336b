"""The same map/reduce units on a Dask cluster.

``run_unit`` maps over the units on the cluster's workers; the partials come back
and are merged as they arrive (``local.Fold``), as they are locally: the client
holds the merged state, not every unit's partial. Every worker must be able to
open the inputs by their paths (a shared filesystem, or a local cluster). Without a
scheduler address a ``LocalCluster`` of worker processes is started for the scan.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from logsleuth.engine.local import PARALLEL_MIN_BYTES, Fold
from logsleuth.engine.units import Partial, UnitOptions, WorkUnit, run_unit
from logsleuth.errors import PatternError


def execute_dask(units: Sequence[WorkUnit], options: UnitOptions,
                 progress: Callable[[WorkUnit], None] | None = None) -> list[Partial]:
    """Map the units over the cluster at ``options.scan.dask_address`` (or a local one of
    ``options.scan.worker_count`` processes)."""
    workers, address = options.scan.worker_count, options.scan.dask_address
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise PatternError.at("--engine", "dask-missing",
                              "the dask engine needs 'pip install logsleuth[dask]'") from None
    cluster = None
    if address is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        address = cluster.scheduler_address
    fold = Fold()  # partials merged as they arrive, as the local engine does
    fold.trim = sum(getattr(u.source, "size", 0) or 0 for u in units) >= PARALLEL_MIN_BYTES
    try:
        with Client(address) as client:
            futures = client.map(run_unit, list(units), options=options, pure=False)
            index = {f.key: i for i, f in enumerate(futures)}
            done = as_completed(futures)
            del futures  # each result leaves the cluster once it is merged here
            for future in done:
                i = index[future.key]
                fold.add(i, future.result())
                future.release()
                if progress:
                    progress(units[i])
    finally:
        if cluster is not None:
            cluster.close()
    return fold.merged()
