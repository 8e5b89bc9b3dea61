"""The whole job through spark-submit on a real standalone cluster equals the job in local mode.

A master and two one-core workers on loopback (scripts/cluster.sh, the same script as
`make cluster-demo`), the wheel built and passed with --py-files, the hash key reaching the
executors through spark.executorEnv as the README says. The reference world and key run once in
local mode (local[2]: two task slots, as the cluster's two executors) and once on the cluster; the
lists, persons and scores must hold the same rows. Marked `cluster`: `make system-test` runs it.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.pipelines.system import OVERRIDES, ROOT, Reference, assert_same_lists, run_cli

pytestmark = pytest.mark.cluster


def test_the_cluster_lists_equal_the_local_ones(reference: Reference) -> None:
    env = {**reference.env, "CLUSTER_DIR": str(reference.root / "cluster")}
    out = reference.root / "cluster-out"
    run_cli(["bash", "scripts/cluster.sh", "start"], env, reference.root / "cluster-start.log")
    try:
        run_cli(["bash", "scripts/cluster.sh", "submit", *reference.run_args(out), *OVERRIDES], env,
                reference.root / "cluster.log")
    finally:
        subprocess.run(["bash", "scripts/cluster.sh", "stop"], cwd=ROOT, env=env, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # The application really ran on the cluster: the master's log names it and its executors.
    master_log = (reference.root / "cluster" / "master.log").read_text(encoding="utf-8", errors="replace")
    assert "Registering app realname-guard" in master_log
    assert master_log.count("Launching executor") >= 2
    assert_same_lists(reference.out, out, "on the cluster")
