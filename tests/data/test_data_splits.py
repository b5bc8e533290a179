"""split_indices: seeded, disjoint, stratified."""

from __future__ import annotations

from collections import Counter

import pytest
import torch

from designer.data import DataError, split_indices

# an imbalanced label set: 600 / 300 / 100
LABELS = torch.cat([torch.zeros(600), torch.ones(300), torch.full((100,), 2)]).long()[
    torch.randperm(1000, generator=torch.Generator().manual_seed(5))
]


def test_same_seed_same_split_other_seed_other_split():
    a = split_indices(LABELS, val_fraction=0.1, test_fraction=0.2, seed=7)
    b = split_indices(LABELS, val_fraction=0.1, test_fraction=0.2, seed=7)
    c = split_indices(LABELS, val_fraction=0.1, test_fraction=0.2, seed=8)
    for part in ("train", "val", "test"):
        assert torch.equal(getattr(a, part), getattr(b, part))
    assert not torch.equal(a.val.sort().values, c.val.sort().values)


def test_parts_are_disjoint_cover_everything_and_have_rounded_sizes():
    s = split_indices(LABELS, val_fraction=0.1, test_fraction=0.2, seed=0)
    assert (len(s.train), len(s.val), len(s.test)) == (700, 100, 200)
    assert torch.equal(torch.cat([s.train, s.val, s.test]).sort().values, torch.arange(1000))
    assert s.train.dtype == torch.int64


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_part_keeps_the_class_proportions(seed):
    s = split_indices(LABELS, val_fraction=0.1, test_fraction=0.2, seed=seed)
    for part, size in (("val", 100), ("test", 200), ("train", 700)):
        counts = Counter(LABELS[getattr(s, part)].tolist())
        for cls, share in ((0, 0.6), (1, 0.3), (2, 0.1)):
            assert abs(counts[cls] - share * size) <= 1, (part, cls, counts)
    # any prefix of the training order is balanced too (used by the sample limit)
    first = Counter(LABELS[s.train[:20]].tolist())
    for cls, expected in ((0, 12), (1, 6), (2, 2)):
        assert abs(first[cls] - expected) <= 1, first


def test_unstratified_split_is_still_seeded():
    a = split_indices(LABELS, val_fraction=0.5, test_fraction=0.0, seed=3, stratify=False)
    b = split_indices(LABELS, val_fraction=0.5, test_fraction=0.0, seed=3, stratify=False)
    assert torch.equal(a.val, b.val) and len(a.test) == 0


@pytest.mark.parametrize(
    ("val", "test", "message"),
    [
        (1.0, 0.0, "validation fraction"),
        (-0.1, 0.1, "validation fraction"),
        (0.5, 0.5, "add up to 1"),
    ],
)
def test_bad_fractions_are_refused(val, test, message):
    with pytest.raises(DataError, match=message):
        split_indices(LABELS, val_fraction=val, test_fraction=test)


def test_split_that_leaves_no_training_sample_is_refused():
    with pytest.raises(DataError, match="leaves none for training"):
        split_indices(torch.tensor([0, 1]), val_fraction=0.4, test_fraction=0.4)
