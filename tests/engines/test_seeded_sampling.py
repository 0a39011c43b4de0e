"""Per-row seeded sampling: the right distribution, the warpers' support, independence from the batch."""

from __future__ import annotations

import pytest
import torch

from tts.engines.seeded_sampling import SeededSampler, mix


def _draw(logits, seeds, greedy=None, *, steps=1, **kw):
    kw = {"temperature": 1.0, "top_p": 1.0, "top_k": None, **kw}
    sampler = SeededSampler(seeds, greedy or [False] * len(seeds), **kw)
    picks = []
    for t in range(steps):
        out = sampler(torch.zeros(len(seeds), t, dtype=torch.long), logits.clone())
        assert torch.isfinite(out).sum(dim=1).tolist() == [1] * len(seeds)  # exactly one allowed token per row
        picks.append(out.argmax(dim=1))
    return torch.stack(picks, dim=1)  # (rows, steps)


def test_frequencies_follow_the_softmax():
    probs = torch.tensor([0.5, 0.3, 0.15, 0.05])
    logits = probs.log().unsqueeze(0)
    picks = _draw(logits, [123], steps=2500)[0]
    freq = torch.bincount(picks, minlength=4).float() / picks.numel()
    assert torch.allclose(freq, probs, atol=0.035)


def test_temperature_sharpens():
    logits = torch.tensor([[2.0, 1.0, 0.0]])
    cold = _draw(logits, [5], steps=2000, temperature=0.3)[0]
    warm = _draw(logits, [5], steps=2000, temperature=1.0)[0]
    assert (cold == 0).float().mean() > (warm == 0).float().mean() + 0.2


@pytest.mark.parametrize(("top_k", "top_p", "allowed"), [
    (2, 1.0, {0, 1}),
    (None, 0.5, {0}),        # the top token alone already holds 0.5 of the mass
    (None, 0.6, {0, 1}),
    (3, 0.85, {0, 1, 2}),
])
def test_top_k_and_top_p_restrict_the_support(top_k, top_p, allowed):
    logits = torch.tensor([[0.5, 0.3, 0.15, 0.05]]).log()
    picks = _draw(logits, [9], steps=500, top_k=top_k, top_p=top_p)[0]
    assert set(picks.tolist()) == allowed


def test_greedy_rows_take_the_argmax_and_rows_do_not_affect_each_other():
    logits = torch.randn(1, 50).repeat(3, 1)
    together = _draw(logits, [1, 2, 3], [True, False, False], steps=20)
    alone = _draw(logits[:1], [3], steps=20)
    assert (together[0] == logits[0].argmax()).all()
    assert torch.equal(together[2], alone[0])  # row 3's draws do not depend on its neighbours
    assert not torch.equal(together[1], together[2])


def test_generator_seeds_are_a_pure_function_of_seed_and_step():
    values = {mix(s, t) for s in range(50) for t in range(50)}
    assert len(values) == 2500 and all(0 <= v < 2**63 for v in values)


def test_draws_survive_last_bit_changes_of_the_logits():
    """Batch shape changes logits in the last bits; near-uniform rows must still draw the same tokens."""
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 1000, generator=gen) * 0.01  # almost uniform: many near-ties
    noisy = logits + torch.randn(4, 1000, generator=gen) * 1e-6
    a = _draw(logits, [1, 2, 3, 4], steps=50, top_p=0.95)
    b = _draw(noisy, [1, 2, 3, 4], steps=50, top_p=0.95)
    assert (a == b).float().mean() > 0.99


def test_one_seed_per_row():
    sampler = SeededSampler([1, 2], [False, False], temperature=1.0, top_p=1.0, top_k=None)
    with pytest.raises(ValueError, match="3 rows"):
        sampler(torch.zeros(3, 0, dtype=torch.long), torch.zeros(3, 5))
