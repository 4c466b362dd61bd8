"""A trial composes the core's configurations: every training and model field is a trial field, a
new field keeps every old id, and the stacked groups follow :data:`~mufno_core.settings.MEMBER_FIELDS`."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from mufno_core.mup import spectral_layers
from mufno_core.settings import MEMBER_FIELDS, ModelConfig
from mufno_core.sweep.config import FIRST_FIELDS, TrialConfig
from mufno_core.sweep.executors import group_trials
from mufno_core.sweep.experiments import grid
from mufno_core.sweep.store import records_to_frame
from mufno_core.sweep.trial import run_group_stacked, run_trial
from mufno_core.train import TrainConfig
from tests.sweep.test_store import tiny

NEW_TRAINING = {"eps": 1e-6, "weight_decay": 1e-4, "weight_decay_mode": "independent",
                "eval_every": 2, "divergence_factor": 10.0}


@pytest.mark.parametrize("part", [TrainConfig, ModelConfig])
def test_every_core_field_is_a_trial_field_with_its_default(part):
    trial_fields = {f.name: f for f in dataclasses.fields(TrialConfig)}
    for f in dataclasses.fields(part):
        assert f.name in trial_fields, f.name
        if f.name not in ("parametrization", "lr", "seed"):
            assert trial_fields[f.name].default == f.default, f.name


def test_the_training_fields_reach_the_trainer():
    config = tiny(**NEW_TRAINING, beta1=0.8)
    train = config.train_config()
    assert {name: getattr(train, name) for name in NEW_TRAINING} == NEW_TRAINING
    assert (train.lr, train.seed, train.beta1, train.steps) == (config.lr, config.seed, 0.8, 3)


def test_a_new_field_at_its_default_is_not_in_the_canonical_json():
    text = json.loads(tiny().canonical_json())
    assert set(text) == set(FIRST_FIELDS)  # tiny() sets no later field
    assert tiny().trial_id() == "41bc824a5075a05c"  # the golden id of test_store
    for name, value in NEW_TRAINING.items():
        assert tiny(**{name: value}).trial_id() != tiny().trial_id(), name
        assert json.loads(tiny(**{name: value}).canonical_json())[name] == value


def test_a_sweep_can_set_weight_decay():
    configs = grid("darcy_lr", "smoke", weight_decay=1e-4, weight_decay_mode="adamw")
    plain = grid("darcy_lr", "smoke")
    assert len(configs) == len(plain) > 0
    assert {(c.weight_decay, c.weight_decay_mode) for c in configs} == {(1e-4, "adamw")}
    assert {c.train_config().weight_decay for c in configs} == {1e-4}
    assert not {c.trial_id() for c in configs} & {c.trial_id() for c in plain}
    with pytest.raises(ValueError, match="weight_decay_mode"):
        grid("darcy_lr", "smoke", weight_decay_mode="decoupled")
    with pytest.raises(ValueError, match="weight_decay"):
        grid("darcy_lr", "smoke", weight_decay=-1.0)


@pytest.mark.parametrize("name", MEMBER_FIELDS)
def test_trials_that_differ_in_a_member_field_share_a_group(name):
    value = {"lr": 2e-2, "other_lr": 1e-3, "seed": 5, "beta1": 0.8, "beta2": 0.95, "eps": 1e-6,
             "weight_decay": 1e-3, "weight_decay_mode": "adamw"}[name]
    assert tiny(**{name: value}).group_key() == tiny().group_key()
    assert len(group_trials([tiny(), tiny(**{name: value})])) == 1


@pytest.mark.parametrize("name,value", [("width", 4), ("steps", 5), ("batch_size", 4),
                                        ("clip_value", None), ("eval_every", 1)])
def test_trials_that_differ_elsewhere_do_not(name, value):
    assert tiny(**{name: value}).group_key() != tiny().group_key()


def test_member_trials_train_alone_and_stacked_alike():
    """Trials with each weight-decay coupling and their own spectral and other LRs, one by one and
    as one stacked group: the same losses."""
    configs = [tiny(weight_decay=0.1, weight_decay_mode="l2", seed=0),
               tiny(weight_decay=0.1, weight_decay_mode="adamw", seed=1, lr=3e-2, other_lr=2e-3),
               tiny(weight_decay=0.1, weight_decay_mode="independent", seed=2, lr=5e-3,
                    other_lr=1e-2)]
    alone = [run_trial(c) for c in configs]
    stacked = run_group_stacked(configs)
    for a, b in zip(alone, stacked):
        assert a["status"] == b["status"] == "ok"
        assert b["history"]["train_loss"] == pytest.approx(a["history"]["train_loss"], rel=1e-4)
        assert b["final_test_loss"] == pytest.approx(a["final_test_loss"], rel=1e-4)


def test_an_older_record_reads_with_the_defaults_of_later_fields():
    old = {"trial_id": tiny().trial_id(), "config": {k: v for k, v in tiny().to_dict().items()
                                                     if k in FIRST_FIELDS}}
    new = {"trial_id": "x", "config": tiny(seed=1).to_dict()}
    frame = records_to_frame([old, new])
    assert frame["eps"].tolist() == [1e-8, 1e-8]
    assert frame["weight_decay_mode"].tolist() == ["l2", "l2"]


@pytest.mark.parametrize("dim", [1, 2, 3])
@pytest.mark.parametrize("other_lr", [None, 2e-3])
def test_the_learning_rate_travels_one_way(dim, other_lr):
    """The trial's model carries c(K) only; its LRs reach Adam as numbers through train_config."""
    config = tiny(dim=dim, lr=8e-3, other_lr=other_lr)
    model = config.build_model("cpu")
    c_k = math.sqrt(math.log(2) / math.log(4))  # μP relative to K₀ = 2; d cancels
    assert [layer.lr_factor for layer in spectral_layers(model)] == pytest.approx([c_k] * 2)
    rates = {g["name"]: g["lr"] for g in config.train_config().adam(model).param_groups}
    assert rates == pytest.approx({"spectral": 8e-3 * c_k, "other": other_lr or 8e-3})


def test_values_checked_once_per_process_are_still_checked_by_type():
    """A trial built again with the same values skips the checks and the hash (a grid read again),
    but 2.0 is not 2, True not 1 and −0.0 not 0.0: such a trial is checked, and hashed, as itself."""
    import hashlib

    from mufno_core.sweep import config as config_module

    first = tiny(modes=2, lr=1e-3)
    again = tiny(modes=2, lr=1e-3)
    assert again.trial_id() == first.trial_id()
    with pytest.raises(ValueError, match="modes"):
        tiny(modes=2.0, lr=1e-3)
    with pytest.raises(ValueError, match="modes"):
        tiny(modes=True, lr=1e-3)
    as_int = tiny(modes=2, lr=1)  # an int learning rate is a number, and another trial
    assert as_int.trial_id() != first.trial_id()
    assert tiny(pde_weight=-0.0).trial_id() != tiny(pde_weight=0.0).trial_id()  # "-0.0" in its JSON
    config_module._CHECKED.clear()
    for config in (first, again, as_int):
        fresh = dataclasses.replace(config)
        assert fresh.trial_id() == hashlib.sha256(fresh.canonical_json().encode()).hexdigest()[:16]
        assert fresh.trial_id() == config.trial_id()
