"""The same map/reduce units on a Dask cluster.

``run_unit`` maps over the units on the cluster's workers; the partials come back
and reduce exactly as they do locally. Every worker must be able to open the
inputs by their paths (a shared filesystem, or a local cluster). Without a
scheduler address a ``LocalCluster`` of worker processes is started for the scan.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
    try:
        with Client(address) as client:
            futures = client.map(run_unit, list(units), options=options, pure=False)
            index = {f.key: i for i, f in enumerate(futures)}
            results: list[Partial | None] = [None] * len(units)
            for future in as_completed(futures):
                i = index[future.key]
                results[i] = future.result()
                if progress:
                    progress(units[i])
    finally:
        if cluster is not None:
            cluster.close()
    return [r for r in results if r is not None]
