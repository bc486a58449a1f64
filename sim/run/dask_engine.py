"""The "dask" engine: a Dask distributed cluster.  ``scheduler=`` gives its address
("tcp://host:8786"), else the environment variable ``SIM_DASK_SCHEDULER``, else a local cluster
(one single-threaded worker process per core) is started on first use and kept.  Remote workers
need this package installed (``pip install -e .``) and any parameter-sets file a scenario names."""

from __future__ import annotations

import atexit
import logging
import os
import threading
from urllib.parse import urlsplit

from sim.run.process_pool import default_workers
from sim.scenario.messages import short_repr

SCHEDULER_ENV = "SIM_DASK_SCHEDULER"
_clients: dict[str, object] = {}
_clusters: list = []
_clients_lock = threading.Lock()
LOCAL = "local"
CONNECT_TIMEOUT_S = 10
# A worker's statistical profiler samples the running task's stack every few milliseconds,
# which doubles the time of a replication; the local cluster runs without it (set
# DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False for workers started by hand).
LOCAL_WORKER_CONFIG = {"distributed.worker.profile.enabled": False}


SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss")


def scheduler_problem(address: str, option: str = "--scheduler") -> str | None:
    """Why ``address`` is not a Dask scheduler address this module can reach, or None."""
    allowed = "like tcp://host:8786 (tcp://, tls://, ws:// or wss://, then a host name and a port)"
    try:
        parts = urlsplit(address.strip())
        port = parts.port
    except ValueError:  # a port that is not a number, or out of range
        parts, port = None, None
    if (parts is None or parts.scheme not in SCHEDULER_SCHEMES or not parts.hostname or port is None
            or parts.path not in ("", "/") or parts.query or parts.fragment):
        return f"{option}: {short_repr(address)} is not a Dask scheduler address; give one {allowed}"
    return None


def dask_client(scheduler=None, workers: int | None = None):
    """A Dask client: for ``scheduler`` (an address or a ``distributed.Client``), else for
    ``$SIM_DASK_SCHEDULER``, else for a local cluster of ``workers`` processes (all cores).
    Clients and the local cluster are kept for later runs, and closed when this process exits."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise RuntimeError('the dask engine needs Dask distributed: pip install -e ".[distributed]"') from exc
    if isinstance(scheduler, Client):
        return scheduler
    address = scheduler or os.environ.get(SCHEDULER_ENV) or LOCAL
    with _clients_lock:
        client = _clients.get(address)
        if client is None or client.status in ("closing", "closed"):
            if not _clients and not _clusters:
                atexit.register(close_dask)
            if address == LOCAL:
                with dask.config.set(LOCAL_WORKER_CONFIG):
                    # the private cluster's own logging is silenced: a task's error reaches the client as an
                    # exception, and a Ctrl-C must end in one line, not the workers' shutdown warnings
                    cluster = LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1,
                                           processes=True, dashboard_address=":0", silence_logs=logging.CRITICAL)
                _clusters.append(cluster)
                client = Client(cluster)
            else:
                try:
                    client = Client(address, timeout=CONNECT_TIMEOUT_S)
                except OSError as exc:  # refused, unknown host, timed out
                    raise ConnectionError(f"cannot reach the Dask scheduler at {address} ({exc})") from None
            _clients[address] = client
        return client


def close_dask() -> None:
    """Close the Dask clients this module opened, and the local cluster if it started one."""
    with _clients_lock:
        for client in _clients.values():
            client.close()
        for cluster in _clusters:
            cluster.close()
        _clients.clear()
        _clusters.clear()


def on_dask(tasks, workers: int, scheduler, collect, function) -> None:
    """Run ``function(args)`` for each ``(key, args)`` of ``tasks`` on the Dask cluster of
    ``scheduler`` (:func:`dask_client`), passing each result to ``collect(key, result)`` as it
    finishes."""
    from distributed import as_completed as dask_completed

    client = dask_client(scheduler, workers)
    futures = client.map(function, [args for _, args in tasks], pure=False)
    keys = {future.key: key for future, (key, _) in zip(futures, tasks)}
    for future in dask_completed(futures):
        collect(keys[future.key], future.result())
