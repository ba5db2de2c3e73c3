"""Several worker processes behind one port, without sticky sessions (``siox.run(app, workers=N)``).

* `siox.workers.supervisor`: forks the workers, shares the listening socket, replaces dead
  workers, drains on SIGTERM, rolls them on SIGHUP; it also runs the local pub/sub hub.
* `siox.workers.ids`: session ids that name their owning worker in their first character.
* `siox.workers.handoff`: a request for a session of another worker hands the TCP connection
  itself (its file descriptor, with the bytes already read) to that worker.
* `siox.workers.hub` / `siox.workers.pubsub`: the local publish/subscribe bus the workers'
  `siox.adapters.cluster.ClusterAdapter` runs over when no Redis adapter is configured.
* `siox.workers.forward`: with a cluster adapter, a polling request for another machine's
  session is forwarded over the bus to its owner and answered.
* `siox.workers.worker`: what runs in each worker process; `siox.workers.launch`: ``run``.
"""

from __future__ import annotations

from .stats import WorkerStats, current

__all__ = ["WorkerStats", "current"]
