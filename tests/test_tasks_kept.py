"""No task is created without a kept reference (the event loop holds tasks only weakly).

Every ``create_task``/``ensure_future``/``asyncio.Task(...)`` in siox must be awaited, returned,
stored in an attribute or a container, or held in a local that the same function later
cancels, awaits, returns, stores or adds to a container (the running frame keeps it alive
until then). A task only given a done-callback is not kept.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "siox"
MAKERS = {"create_task", "ensure_future", "Task"}
STORES = {"add", "append", "appendleft", "put_nowait", "setdefault"}


def _is_maker(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in MAKERS


def _keeps(use: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Whether the expression ``use`` (a task, or a name holding one) is kept where it sits."""
    parent = parents[use]
    if isinstance(parent, (ast.Await, ast.Return, ast.Yield)):
        return True
    if isinstance(parent, ast.Call) and use in parent.args:
        func = parent.func
        return (isinstance(func, ast.Attribute) and func.attr in STORES) or isinstance(
            parents.get(parent), ast.Await
        )
    if isinstance(parent, ast.Attribute) and parent.attr == "cancel":
        return True
    if isinstance(parent, (ast.Assign, ast.AnnAssign)):
        targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
        return any(isinstance(t, (ast.Attribute, ast.Subscript)) for t in targets)
    if isinstance(parent, (ast.IfExp, ast.BoolOp, ast.Tuple, ast.List)):
        return _keeps(parent, parents)
    return False


def unkept_tasks(source: str) -> list[int]:
    """The lines of ``source`` that create a task nothing keeps."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    bad = []
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and _is_maker(node)]
    for call in calls:
        if _keeps(call, parents):
            continue
        holder = parents[call]
        target = None
        if isinstance(holder, ast.Assign):
            target = holder.targets[0]
        elif isinstance(holder, ast.AnnAssign):
            target = holder.target
        scope = holder
        while not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
            scope = parents[scope]
        uses = [
            node
            for node in ast.walk(scope)
            if isinstance(target, ast.Name)
            and isinstance(node, ast.Name)
            and node.id == target.id
            and isinstance(node.ctx, ast.Load)
        ]
        if not any(_keeps(use, parents) for use in uses):
            bad.append(call.lineno)
    return bad


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_every_task_is_kept(path: Path) -> None:
    assert unkept_tasks(path.read_text()) == []


def test_the_src_does_create_tasks() -> None:
    assert sum(source.count("create_task(") for source in map(Path.read_text, SRC.rglob("*.py")))


UNKEPT = [
    "loop.create_task(work())",
    "asyncio.ensure_future(work())",
    "task = loop.create_task(work())\ntask.add_done_callback(report)",
    "def f():\n    task = asyncio.create_task(work())\n    task.add_done_callback(done)",
    "async def f():\n    t = asyncio.Task(work(), loop=loop)\n    print(t.done())",
]
KEPT = [
    "self.worker = loop.create_task(work())",
    "tasks.add(loop.create_task(work()))",
    "async def f():\n    await asyncio.create_task(work())",
    "def f():\n    return loop.create_task(work())",
    "def f():\n    t = asyncio.Task(c)\n    return None if t.done() else t",
    "def f():\n    task = loop.create_task(work())\n    tasks.add(task)\n    task.add_done_callback(tasks.discard)",
    "async def f():\n    w = loop.create_task(watch())\n    try:\n        await g()\n    finally:\n        w.cancel()",
]


@pytest.mark.parametrize("source", UNKEPT)
def test_the_check_reports_a_task_nothing_keeps(source: str) -> None:
    assert unkept_tasks(source) != []


@pytest.mark.parametrize("source", KEPT)
def test_the_check_accepts_a_kept_task(source: str) -> None:
    assert unkept_tasks(source) == []
