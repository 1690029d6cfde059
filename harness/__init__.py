"""The real servers the tests and the benchmarks drive, in one place both import (not shipped in the wheel).

* :mod:`harness.nginx` — nginx on 127.0.0.1 under a private prefix, and pools of them.
* :mod:`harness.sitegen` — a deterministic generated website with its ground truth.
* :mod:`harness.sites` — a generated site served by nginx.
* :mod:`harness.postgres` — a throwaway PostgreSQL cluster.
* :mod:`harness.redis` — a throwaway redis-server.
* :mod:`harness.workers` — ``linkdoctor worker`` processes on that Redis.
* :mod:`harness.chromium` — a headless Chromium driven over the DevTools protocol.
* :mod:`harness.ports` — free, silent and closed ports on 127.0.0.1.

Each ``require_*``/``start`` raises ``RuntimeError`` with an install hint when its tool is missing; the
tests' fixtures turn that into a failure, never a skip. Import it from the repo root (pytest's
``pythonpath``; the benchmark scripts put the root on ``sys.path``).
"""
