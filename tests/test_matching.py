"""The matching rule: rounds that offer waiting children only the households new since the last
round make exactly the links that offering every household would make."""

import random

import simpy

from sim.model.census import Census
from sim.model.entities import ChildGroup, Household
from sim.model.matching import Matcher, compatible


def _reference_round(ep_seekers, waiting, pool, t):
    """The rule as written in sim.model.matching's docstring, every child against every household."""
    links = []
    for c in list(ep_seekers):
        h = next((h for h in pool if h.dual and compatible(h, c, t)), None)
        if h is not None:
            ep_seekers.remove(c)
            pool.remove(h)
            links.append((c.id, h.id))
    for c in sorted(waiting, key=lambda c: c.order_t):
        h = next((h for h in pool if compatible(h, c, t)), None)
        if h is not None:
            waiting.remove(c)
            pool.remove(h)
            links.append((c.id, h.id))
    return links


def test_rounds_link_as_the_full_rule_does():
    rng = random.Random(4)
    for trial in range(30):
        env = simpy.Environment()
        census = Census(env)
        matcher = Matcher(env, census, interval_days=7.0)
        ref_pool, ref_waiting, ref_seekers = [], [], []
        ids = iter(range(1, 10_000))
        made = []
        for day in range(1, 400):
            t = float(day)
            for _ in range(rng.choice((0, 0, 0, 1, 2))):
                h = Household(next(ids))
                h.max_group, h.older, h.complex, h.dual = (rng.choice((1, 1, 2, 3)), rng.random() < 0.3,
                                                           rng.random() < 0.3, rng.random() < 0.3)
                census.enter(h, "approved_waiting")
                matcher.add_household(h)
                ref_pool.append(h)
            for _ in range(rng.choice((0, 0, 0, 1, 2))):
                c = ChildGroup(next(ids), rng.choice((1, 1, 1, 2, 3)), rng.uniform(0, 6), rng.random() < 0.2,
                               False, t - rng.uniform(0, 300))
                c.order_t = t - rng.uniform(0, 200)
                census.enter(c, "waiting")
                if rng.random() < 0.2:
                    linked = matcher.add_ep_seeker(c)
                    ref_seekers.append(c)
                else:
                    linked = matcher.add_child(c)
                    ref_waiting.append(c)
                linked.callbacks.append(lambda e, c=c, made=made: made.append((c.id, e.value.id)))
            if day % 7 == 0:  # a round on the matcher's own day
                made.clear()
                env.run(until=t + 0.5)
                expected = _reference_round(ref_seekers, ref_waiting, ref_pool, env.now - 0.5)
                assert sorted(made) == sorted(expected), (trial, day)
                assert matcher.pool == ref_pool
            for where, ref in ((matcher.pool, ref_pool), (matcher.waiting, ref_waiting)):
                if where and rng.random() < 0.1:  # someone gives up waiting
                    gone = rng.choice(where)
                    where.remove(gone)
                    ref.remove(gone)
