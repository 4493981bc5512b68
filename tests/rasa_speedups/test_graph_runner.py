"""The in-order graph runner gives what Rasa's dask runner gives."""

from __future__ import annotations

import asyncio
import copy

import pytest
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner

from bot import rasa_speedups
from bot.rasa_speedups import graph_runner
from tests.rasa_speedups.conftest import assert_is_rasas


class Node:
    """Stands for a GraphNode: records its call, returns ``(name, output)`` like one."""

    def __init__(self, name, calls, fail=None):
        self.name, self.calls, self.fail = name, calls, fail

    def __call__(self, *inputs):
        self.calls.append((self.name, inputs))
        if self.fail:
            raise self.fail
        return self.name, f"{self.name}({', '.join(str(i[1]) if isinstance(i, tuple) else f'<{i}>' for i in inputs)})"


def schema_node(**needs):
    return SchemaNode(needs=needs, uses=object, constructor_name="load", fn="process", config={})


# A diamond with an input, a node no target needs, and a need that nothing provides.
SCHEMA = GraphSchema({
    "tokenize": schema_node(messages="__message__"),
    "words": schema_node(messages="tokenize"),
    "chars": schema_node(messages="tokenize"),
    "classify": schema_node(a="words", b="chars", tracker="__tracker__"),
    "unused": schema_node(messages="tokenize"),
    "dangling": schema_node(x="not_a_node"),
})


def runner(fail_at=None, error=None):
    calls = []
    r = object.__new__(DaskGraphRunner)
    r._graph_schema = SCHEMA
    r._execution_context = None
    r._instantiated_nodes = {n: Node(n, calls, error if n == fail_at else None) for n in SCHEMA.nodes}
    return r, calls


def both(inputs, targets, **kw):
    dask_runner, dask_calls = runner(**kw)
    ours, our_calls = runner(**kw)
    rasa_run = rasa_speedups.original(DaskGraphRunner, "run")  # Rasa's own, installed or not
    assert_is_rasas(rasa_run)
    expected = rasa_run(dask_runner, copy.deepcopy(inputs), targets)
    got = graph_runner.run_in_order(ours, copy.deepcopy(inputs), targets)
    return expected, got, dask_calls, our_calls


def test_same_outputs_and_calls_as_dask():
    expected, got, dask_calls, our_calls = both({"__message__": ["住民票"], "__tracker__": "t"}, ["classify"])
    assert got == expected == {"classify": "classify(words(tokenize(['住民票'])), chars(tokenize(['住民票'])), t)"}
    assert sorted(our_calls, key=str) == sorted(dask_calls, key=str)
    assert [name for name, _ in our_calls].count("tokenize") == 1  # each node runs once
    assert "unused" not in [name for name, _ in our_calls]


def test_several_targets_and_an_input_as_target():
    expected, got, *_ = both({"__message__": ["x"]}, ["words", "chars", "__message__"])
    assert got == expected


def test_unresolved_need_is_passed_by_name_as_dask_does():
    expected, got, dask_calls, our_calls = both({}, ["dangling"])
    assert got == expected == {"dangling": "dangling(<not_a_node>)"}


def test_missing_input_is_passed_by_name():
    expected, got, *_ = both({}, ["words"])
    assert got == expected == {"words": "words(tokenize(<__message__>))"}


def test_errors_are_the_same():
    for run in (rasa_speedups.original(DaskGraphRunner, "run"), graph_runner.run_in_order):
        r, _ = runner(fail_at="chars", error=RuntimeError("boom"))
        with pytest.raises(GraphRunError):
            run(r, {"__message__": ["x"]}, ["classify"])
    r, _ = runner(fail_at="words", error=ValueError("bad"))
    with pytest.raises(ValueError, match="bad"):
        graph_runner.run_in_order(r, {"__message__": ["x"]}, ["classify"])
    r, _ = runner()
    with pytest.raises(GraphRunError, match="clashes with a node name"):
        graph_runner.run_in_order(r, {"__message__": "tokenize"}, ["classify"])


def test_input_named_like_a_node_is_left_to_dask():
    expected, got, *_ = both({"tokenize": ["given"]}, ["words"])
    assert got == expected


def test_cycle_is_reported():
    cyclic = GraphSchema({"a": schema_node(x="b"), "b": schema_node(x="a")})
    with pytest.raises(GraphRunError, match="cycle"):
        graph_runner.execution_order(cyclic, ["a"])


def test_execution_order_puts_parents_first():
    order = graph_runner.execution_order(SCHEMA, ["classify"])
    assert set(order) == {"tokenize", "words", "chars", "classify"}
    assert order.index("tokenize") < order.index("words") < order.index("classify")
    assert order.index("chars") < order.index("classify")


def test_trained_model_parses_and_predicts_the_same(trained_model, rasa_original):
    """The real NLU and policy graphs of a trained model: Rasa's own code (every speed-up
    uninstalled: dask, the featurizers, parse_message), then with the speed-ups installed."""
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    texts = ["住民票はどこで取れますか", "粗大ごみの出し方", "こんにちは", "今日の天気は？"]
    loop = asyncio.new_event_loop()
    try:
        agent = Agent.load(str(trained_model))
        processor = agent.processor
        runner_ = processor.graph_runner
        meta = processor.model_metadata
        outputs = {}
        for speedups in (False, True):
            if speedups:
                rasa_speedups.install()
                assert DaskGraphRunner.run is graph_runner.run_in_order
            else:
                assert_is_rasas(DaskGraphRunner.run)
            outputs[speedups] = []
            for text in texts:
                tracker = DialogueStateTracker("s", processor.domain.slots)
                nlu = runner_.run({"__message__": [UserMessage(text)], "__tracker__": tracker}, [meta.nlu_target])
                parsed = nlu[meta.nlu_target][0].as_dict(only_output_properties=True)
                parse_data = loop.run_until_complete(processor.parse_message(UserMessage(text)))
                tracker.update(UserUttered(text, parse_data["intent"], parse_data["entities"], parse_data))
                policy = runner_.run({"__tracker__": tracker}, [meta.core_target])[meta.core_target]
                outputs[speedups].append((parsed, parse_data, policy.probabilities, policy.policy_name))
        assert outputs[True] == outputs[False]
        assert all(parsed["intent"]["name"] for parsed, *_ in outputs[True])
    finally:
        loop.close()
