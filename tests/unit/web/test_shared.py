"""One assistant shared by every session; one generation at a time; blocking streams in a thread."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from assistant.web import shared as serving

pytestmark = pytest.mark.unit


def test_the_assistant_is_loaded_once_even_when_asked_at_once():
    made = []

    def factory():
        time.sleep(0.05)
        made.append(object())
        return made[-1]

    shared = serving.SharedAssistant(factory)
    results = []
    threads = [threading.Thread(target=lambda: results.append(shared.get())) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1 and all(r is made[0] for r in results) and shared.loaded


def test_generations_take_turns_and_the_waiting_are_told():
    async def scenario():
        gate, log, told = serving.GenerationGate(), [], []

        async def generate(name: str, delay: float):
            await asyncio.sleep(delay)

            async def on_wait(position: int):
                told.append((name, position))

            async with gate.turn(on_wait):
                log.append(f"{name} début")
                await asyncio.sleep(0.05)
                log.append(f"{name} fin")

        await asyncio.gather(generate("A", 0), generate("B", 0.01), generate("C", 0.02))
        return log, told, gate

    log, told, gate = asyncio.run(scenario())
    assert log == ["A début", "A fin", "B début", "B fin", "C début", "C fin"]
    assert told == [("B", 1), ("C", 2), ("C", 1)]  # C is told again when its place moves
    assert not gate.busy and gate.waiting == 0


def test_a_participant_who_leaves_the_queue_moves_the_others_up_and_never_blocks_it():
    async def scenario():
        gate, log, told = serving.GenerationGate(), [], []
        holds = {name: asyncio.Event() for name in "AB"}

        async def generate(name: str):
            async def on_wait(position: int):
                told.append((name, position))

            async with gate.turn(on_wait):
                log.append(name)
                if name in holds:
                    await holds[name].wait()

        a = asyncio.create_task(generate("A"))
        await asyncio.sleep(0)
        b, c, d = (asyncio.create_task(generate(n)) for n in "BCD")
        await asyncio.sleep(0.01)
        assert gate.waiting == 3 and told == [("B", 1), ("C", 2), ("D", 3)]
        c.cancel()  # C closes the page while waiting: D moves up
        await asyncio.sleep(0.01)
        assert told[-1] == ("D", 2) and gate.waiting == 2
        holds["A"].set()
        await asyncio.sleep(0.01)
        assert log == ["A", "B"] and told[-1] == ("D", 1)
        holds["B"].set()
        await asyncio.gather(a, b, d)
        granted = asyncio.create_task(generate("E"))  # the gate is free again: no wait, no notice
        await granted
        return log, told, gate, c

    log, told, gate, c = asyncio.run(scenario())
    assert log == ["A", "B", "D", "E"] and c.cancelled()
    assert ("D", 1) in told and not any(name == "E" for name, _ in told)
    assert not gate.busy and gate.waiting == 0


def test_a_turn_granted_to_a_cancelled_waiter_passes_to_the_next():
    async def scenario():
        gate, log = serving.GenerationGate(), []
        hold = asyncio.Event()

        async def generate(name: str):
            async with gate.turn():
                log.append(name)
                if name == "A":
                    await hold.wait()
                    b.cancel()  # B closes its page just as its turn comes: it never runs

        a = asyncio.create_task(generate("A"))
        await asyncio.sleep(0)
        b = asyncio.create_task(generate("B"))
        c = asyncio.create_task(generate("C"))
        await asyncio.sleep(0.01)
        hold.set()
        await asyncio.gather(a, b, c, return_exceptions=True)
        return log, gate

    log, gate = asyncio.run(scenario())
    assert log == ["A", "C"] and not gate.busy and gate.waiting == 0


def test_stream_in_thread_keeps_the_event_loop_free():
    def slow_pieces():
        for piece in ["Oui", ", ", "cela dépend."]:
            time.sleep(0.05)
            yield piece

    async def scenario():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.005)

        task = asyncio.create_task(ticker())
        pieces = [piece async for piece in serving.stream_in_thread(slow_pieces)]
        task.cancel()
        return pieces, ticks

    pieces, ticks = asyncio.run(scenario())
    assert "".join(pieces) == "Oui, cela dépend."
    assert ticks > 10  # the loop ran while the producer slept


def test_stream_in_thread_hands_over_errors():
    def failing():
        yield "début"
        raise ValueError("panne")

    async def scenario():
        got = []
        with pytest.raises(ValueError, match="panne"):
            async for piece in serving.stream_in_thread(failing):
                got.append(piece)
        return got

    assert asyncio.run(scenario()) == ["début"]


def test_a_stopped_reader_closes_the_producer():
    closed = threading.Event()

    def endless():
        try:
            while True:
                time.sleep(0.01)
                yield "mot "
        finally:
            closed.set()

    async def scenario():
        async for _ in serving.stream_in_thread(endless):
            break

    asyncio.run(scenario())
    assert closed.wait(2)


def test_a_server_that_batches_gets_several_drafts_at_once_and_the_local_model_one():
    async def scenario():
        gate, running, peak, told = serving.GenerationGate(capacity=2), [], [], []

        async def generate(name: str):
            async def on_wait(position: int):
                told.append((name, position))

            async with gate.turn(on_wait):
                running.append(name)
                peak.append(len(running))
                await asyncio.sleep(0.05)
                running.remove(name)

        await asyncio.gather(*(generate(n) for n in "ABCD"))
        return gate, max(peak), told

    gate, peak, told = asyncio.run(scenario())
    assert peak == 2 and told[:2] == [("C", 1), ("D", 2)]  # D may start before hearing it moved up
    assert not gate.busy and gate.waiting == 0

    from assistant.config import Settings

    home = Path("/nonexistent")
    server = Settings(home=home, corpus_dir=home, index_dir=home, llm="openai-compatible", llm_parallel=8)
    assert serving.generation_capacity(server) == 8
    assert serving.generation_capacity(Settings(home=home, corpus_dir=home, index_dir=home, llm_parallel=8)) == 1


def test_parallel_drafts_setting_is_read_from_the_environment(monkeypatch):
    from assistant.config import settings

    assert settings().llm_parallel == 1
    monkeypatch.setenv("ASSISTANT_LLM_PARALLEL", "6")
    assert settings().llm_parallel == 6
    monkeypatch.setenv("ASSISTANT_LLM_PARALLEL", "zéro")
    assert settings().llm_parallel == 1 and "ASSISTANT_LLM_PARALLEL" in settings().llm_problems[0]
