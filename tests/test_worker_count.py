"""How many workers a run forks: from the files in scope and the CPUs it may really use
(affinity, cgroup v1/v2 CPU quota) -- issue #20. The cgroup trees are real files in tmp dirs,
laid out as the kernel does."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from checks.runner import parallel


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_cgroup_v2_quota_of_the_process_and_its_parents(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    _write(root / "cgroup.controllers", "cpu memory\n")
    _write(root / "ci.slice" / "cpu.max", "max 100000\n")
    _write(root / "ci.slice" / "job-7" / "cpu.max", "150000 100000\n")
    membership = tmp_path / "self-cgroup"
    _write(membership, "0::/ci.slice/job-7\n")
    assert parallel.cgroup_cpu_quota(root, membership) == 1.5
    _write(root / "ci.slice" / "cpu.max", "100000 100000\n")  # the parent is tighter
    assert parallel.cgroup_cpu_quota(root, membership) == 1.0


def test_cgroup_v2_unlimited_and_hybrid_mount(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    _write(root / "unified" / "cgroup.controllers", "")  # hybrid: v2 at root/unified, no cpu controller
    _write(root / "cpu" / "cpu.cfs_quota_us", "-1\n")
    _write(root / "cpu" / "cpu.cfs_period_us", "100000\n")
    membership = tmp_path / "self-cgroup"
    _write(membership, "2:cpuacct:/\n1:cpu:/\n0::/\n")
    assert parallel.cgroup_cpu_quota(root, membership) is None


def test_cgroup_v1_quota_and_a_path_from_the_host(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    _write(root / "cpu,cpuacct" / "cpu.cfs_quota_us", "200000\n")
    _write(root / "cpu,cpuacct" / "cpu.cfs_period_us", "100000\n")
    membership = tmp_path / "self-cgroup"
    # in a container the path names the host's hierarchy, which is not mounted here
    _write(membership, "4:cpu,cpuacct:/docker/0123abcd\n")
    assert parallel.cgroup_cpu_quota(root, membership) == 2.0


def test_no_cgroup_information(tmp_path: Path) -> None:
    assert parallel.cgroup_cpu_quota(tmp_path, tmp_path / "missing") is None
    _write(tmp_path / "garbage", "not a cgroup line\n")
    assert parallel.cgroup_cpu_quota(tmp_path, tmp_path / "garbage") is None


def test_quota_lowers_the_cpus_of_the_affinity_mask(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    monkeypatch.setattr(parallel, "cgroup_cpu_quota", lambda: 1.5)
    assert parallel.available_cpus() == 1
    monkeypatch.setattr(parallel, "cgroup_cpu_quota", lambda: None)
    assert parallel.available_cpus() == 4


def test_workers_follow_the_files_and_the_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITOPS_CHECKS_WORKERS", raising=False)
    monkeypatch.setattr(parallel, "available_cpus", lambda: 2)
    assert parallel.worker_count(0) == 1
    assert parallel.worker_count(2 * parallel.FILES_PER_WORKER - 1) == 1
    assert parallel.worker_count(2 * parallel.FILES_PER_WORKER) == 2
    assert parallel.worker_count(50 * parallel.FILES_PER_WORKER) == 2  # never more than the CPUs
    monkeypatch.setattr(parallel, "available_cpus", lambda: 1)
    assert parallel.worker_count(50 * parallel.FILES_PER_WORKER) == 1
    monkeypatch.setenv("GITOPS_CHECKS_WORKERS", "3")  # said explicitly: as said, even for a small run
    assert parallel.worker_count(10) == 3
    monkeypatch.setenv("GITOPS_CHECKS_WORKERS", "1")
    assert parallel.worker_count(50 * parallel.FILES_PER_WORKER) == 1
