"""Calibration: real LoRA steps on the tiny model, cached per model/device/settings, in the background too."""
from __future__ import annotations

import time

import pytest

from core.config import ConfigError
from core.costs.calibrate import (
    CalibrationConfig,
    CalibrationError,
    cache_key,
    cached_calibration,
    calibrate,
    calibration_job,
    device_name,
    find_calibration,
    list_calibrations,
    start_calibration,
)


def tiny(tiny_model_dir, **changes) -> CalibrationConfig:
    settings = {"model": str(tiny_model_dir), "seq_len": 32, "batch_size": 2, "steps": 2, "device": "cpu"}
    return CalibrationConfig(**{**settings, **changes})


def test_calibration_measures_and_caches(store, tiny_model_dir) -> None:
    config = tiny(tiny_model_dir)
    seen = []
    result = calibrate(config, store, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert not result.cached and len(result.step_times) == 2 and result.trainable_params > 0
    assert result.tokens_per_s == pytest.approx(2 * 32 / result.step_s)
    assert result.device == device_name("cpu")
    again = calibrate(config, store)
    assert again.cached and again.tokens_per_s == result.tokens_per_s and again.step_times == result.step_times
    assert cached_calibration(store, config).tokens_per_s == result.tokens_per_s
    assert find_calibration(store, str(tiny_model_dir), 30, 2)["tokens_per_s"] == result.tokens_per_s
    assert find_calibration(store, "other-model", 30, 2) is None
    assert len(list_calibrations(store)) == 1


def test_settings_are_part_of_the_cache_key(tiny_model_dir) -> None:
    a, b = tiny(tiny_model_dir), tiny(tiny_model_dir, lora_r=4)
    assert cache_key(a, "cpu") != cache_key(b, "cpu") != cache_key(a, "cuda")


def test_bad_settings_are_refused(tiny_model_dir) -> None:
    with pytest.raises(ConfigError, match="seq_len"):
        CalibrationConfig(seq_len=0)
    with pytest.raises(CalibrationError, match="all-linear"):
        calibrate(tiny(tiny_model_dir, target_modules="no_such_module"))


def test_all_linear_targets(tiny_model_dir) -> None:
    assert calibrate(tiny(tiny_model_dir, target_modules="all-linear", steps=1)).tokens_per_s > 0


def test_background_calibration(store, tiny_model_dir) -> None:
    config = tiny(tiny_model_dir, steps=1)
    job = start_calibration(store, config)
    assert calibration_job(config) is job
    deadline = time.time() + 120
    while job.status == "running" and time.time() < deadline:
        time.sleep(0.1)
    assert job.status == "done", job.error
    assert job.done_steps == job.total_steps == 2
    assert cached_calibration(store, config).tokens_per_s == job.result.tokens_per_s


@pytest.mark.slow
def test_bundled_model_calibrates_quickly(store) -> None:
    start = time.time()
    result = calibrate(CalibrationConfig(model="smollm2", seq_len=64, batch_size=2, steps=1, device="cpu"), store)
    assert result.tokens_per_s > 0 and result.trainable_params == 921_600  # r=8 on q,k,v,o of 30 layers
    assert time.time() - start < 120  # a generous bound for a shared 2-core machine; not a benchmark
