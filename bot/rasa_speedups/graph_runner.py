"""Run Rasa's prediction graph in dependency order, without dask's scheduler.

Rasa 3.6 runs the NLU and the policy graph of every message with ``dask.get`` (dask's
synchronous scheduler, one thread). For a graph of a dozen nodes, dask's bookkeeping
(ordering the graph, building its state, futures and queues for each task) cost about
10 % of the Rasa process's CPU per message under load (py-spy, docs/benchmarks.md).

``run_in_order`` gives the same results for the same graph: each node is called with the
``(name, output)`` tuples of the nodes it needs, in the order of its ``needs``; a need
that is neither a node nor an input is passed as its name, as dask does (the node then
logs that it was not resolved); the inputs are ``(name, value)`` tuples. The order is
computed once per set of targets. Exceptions propagate unchanged, a ``RuntimeError``
becomes Rasa's ``GraphRunError`` as in ``DaskGraphRunner.run``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema


def execution_order(schema: GraphSchema, targets: List[Text]) -> List[Text]:
    """Names of the nodes the targets depend on (targets included), parents first.

    Names in ``needs`` that are not nodes (graph inputs such as ``__message__``) are
    left out. Raises ``GraphRunError`` on a cycle.
    """
    order: List[Text] = []
    state: Dict[Text, bool] = {}  # False: being visited, True: done

    def visit(name: Text) -> None:
        done = state.get(name)
        if done:
            return
        if done is False:
            raise GraphRunError(f"The graph has a cycle through node '{name}'.")
        state[name] = False
        for parent in schema.nodes[name].needs.values():
            if parent in schema.nodes:
                visit(parent)
        state[name] = True
        order.append(name)

    for target in targets:
        if target in schema.nodes:
            visit(target)
    return order


def run_in_order(
    self: Any, inputs: Optional[Dict[Text, Any]] = None, targets: Optional[List[Text]] = None
) -> Dict[Text, Any]:
    """``DaskGraphRunner.run`` without dask (see the module docstring).

    Unusual calls (an input named like a node, which dask would let replace the node, or
    a target that is neither a node nor an input) are left to dask.
    """
    run_targets = targets if targets else self._graph_schema.target_names
    inputs = inputs or {}
    nodes = self._graph_schema.nodes
    if any(name in nodes for name in inputs) or any(t not in nodes and t not in inputs for t in run_targets):
        return _dask_run(self, inputs, targets)
    for value in inputs.values():
        if isinstance(value, str) and value in nodes:
            raise GraphRunError(
                f"Input value '{value}' clashes with a node name. Make sure that none of the "
                f"input names passed to the `run` method are the same as node names in the graph schema."
            )
    cache: Dict[Tuple[Text, ...], List[Text]] = self.__dict__.setdefault("_madoguchi_orders", {})
    key = tuple(run_targets)
    order = cache.get(key)
    if order is None:
        order = cache[key] = execution_order(self._graph_schema, list(run_targets))
    results: Dict[Text, Any] = {name: (name, value) for name, value in inputs.items()}
    try:
        for name in order:
            node = self._instantiated_nodes[name]
            results[name] = node(*(results.get(parent, parent) for parent in nodes[name].needs.values()))
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e
    return dict(results[t] for t in run_targets)


def _dask_run(self: Any, inputs: Optional[Dict[Text, Any]], targets: Optional[List[Text]]) -> Dict[Text, Any]:
    """Rasa's own ``DaskGraphRunner.run`` (kept by ``bot.rasa_speedups.install``)."""
    from rasa.engine.runner.dask import DaskGraphRunner

    from bot import rasa_speedups

    return rasa_speedups.original(DaskGraphRunner, "run")(self, inputs, targets)
