"""Journeys and booked joins: the model's processes cost only the events they wait on, and a join
booked ahead puts its entity on the list exactly when a join made on its day would have."""

import random

import simpy

from sim.model.census import Census
from sim.model.entities import ChildGroup, Household
from sim.model.journey import begin
from sim.model.matching import Arrivals, Matcher
from sim.model.pipeline import processed_events


def test_a_journey_takes_its_first_steps_at_once_and_schedules_nothing_when_it_ends():
    env = simpy.Environment()
    seen = []
    done = env.event().succeed("at once")  # processed on day 0, before the journey waits on it

    def journey():
        seen.append(("began", env.now))
        yield env.timeout(3.0)
        value = yield done
        seen.append((value, env.now))
        value = yield env.timeout(2.0, value="later")
        seen.append((value, env.now))

    begin(journey())
    assert seen == [("began", 0.0)]  # no event was needed to start it
    env.run()
    assert seen == [("began", 0.0), ("at once", 3.0), ("later", 5.0)]
    assert processed_events(env) == 3  # ``done`` and the two timeouts: nothing for its start or its end
    assert not env._queue


def test_an_error_in_a_journey_stops_the_run():
    env = simpy.Environment()

    def journey():
        yield env.timeout(1.0)
        raise RuntimeError("a journey went wrong")

    begin(journey())
    try:
        env.run()
    except RuntimeError as error:
        assert "went wrong" in str(error)
    else:
        raise AssertionError("the error was swallowed")


def test_joins_booked_ahead_are_made_in_the_order_of_their_days_before_the_lists_are_read():
    """Households of two agencies sharing one ``Arrivals`` are booked, out of order, to join on
    random days: whenever a round reads a pool it holds exactly its households whose day has come,
    in the order of their days, as if each had joined by an event on its day."""
    rng = random.Random(11)
    for _ in range(20):
        _booked_joins_trial(rng)


def _booked_joins_trial(rng: random.Random) -> None:
    env = simpy.Environment()
    shared = Arrivals(env)
    matchers = [Matcher(env, Census(env), interval_days=7.0) for _ in range(2)]
    days: dict[Household, float] = {}
    booked_to: dict[Matcher, list] = {m: [] for m in matchers}
    for m in matchers:
        m.arrivals = shared
    for hid in range(60):
        h = Household(hid)
        h.outcome = env.event()
        days[h] = rng.uniform(0.0, 100.0)
        m = matchers[rng.randrange(2)]
        booked_to[m].append(h)
        m.census.enter(h, "approved_waiting")
        m.add_household(h, at=days[h])
    rounds_read = []
    for m in matchers:
        held_round = m.match_round

        def checked(t, m=m, held_round=held_round):
            rounds_read.append(t)
            due = sorted(days[h] for h in booked_to[m] if days[h] <= t)
            assert [days[h] for h in m.pool] == due
            held_round(t)

        m.match_round = checked
    env.run(until=120.0)
    assert rounds_read
    assert sum(len(m.pool) for m in matchers) == 60
    assert processed_events(env) == 2 * (120 // 7) + 1  # the rounds and the stop: the joins cost no event


def test_a_booked_join_gives_up_on_its_day_even_if_nothing_read_the_list_meanwhile():
    env = simpy.Environment()
    matcher = Matcher(env, Census(env), interval_days=1000.0)
    c = ChildGroup(1, 1, 1.0, False, False, 0.0)
    c.order_t = 0.0
    matcher.census.enter(c, "waiting")
    outcome = matcher.add_child(c, at=2.0, until=3.0)  # joins on day 2, gives up on day 3
    env.run(until=2.5)
    assert not outcome.triggered
    env.run(until=3.5)
    assert outcome.triggered and outcome.value is None
    assert matcher.waiting == []
