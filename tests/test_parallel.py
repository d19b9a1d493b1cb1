"""parallel_map: the same results as in one process, and no worker left behind."""

from __future__ import annotations

import multiprocessing
import os

import pytest

from quire.parallel import parallel_map


def _square_and_pid(state, index):
    return state[index] ** 2, os.getpid()


needs_fork = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="workers are forked"
)


@needs_fork
def test_results_in_order_from_workers_and_none_left_running():
    numbers = list(range(200))
    results = list(parallel_map(_square_and_pid, numbers, len(numbers), 2, minimum=10))
    assert [r for r, _ in results] == [n * n for n in numbers]
    assert {pid for _, pid in results} - {os.getpid()}, "the work was done in workers"
    assert multiprocessing.active_children() == []  # closed and joined, not left to exit


@needs_fork
def test_a_caller_that_stops_early_ends_the_workers():
    numbers = list(range(500))
    results = parallel_map(_square_and_pid, numbers, len(numbers), 2, minimum=10)
    assert next(results)[0] == 0
    results.close()  # the caller stopped (an error in its loop, or a fault)
    assert multiprocessing.active_children() == []


def test_one_job_stays_in_this_process():
    numbers = list(range(100))
    results = list(parallel_map(_square_and_pid, numbers, len(numbers), 1))
    assert [r for r, _ in results] == [n * n for n in numbers]
    assert {pid for _, pid in results} == {os.getpid()}
