"""Docs that run: every Python block in README.md, docs/ and examples/README.md is either a
complete program, which runs here against the fake server, or is marked as a fragment.

A fragment is marked by an HTML comment on the line just above its fence, invisible on
GitHub and in the MkDocs site:

    <!-- fragment -->
    ```python
    await client.entities.get(entity_id)
    ```

A fragment must still be valid Python: a module, or the body of an async function.
Every other block is a complete program: it must run as written with `python -c`, with
no top-level `await` and no undefined name, against a `FakeGu1Server` started for it,
with only `GU1_API_KEY` (the fake's key), `GU1_BASE_URL` and `GU1_WEBHOOK_SECRET` in its
environment: no network, no real key. A snippet that rots fails here.
"""

from __future__ import annotations

import asyncio
import builtins
import os
import re
import symtable
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest

from gu1_async.testing import DEFAULT_KEY, FakeGu1Server

ROOT = Path(__file__).resolve().parents[1]
FRAGMENT = re.compile(r"<!--\s*fragment\b.*?-->\s*$")
FENCE = re.compile(r"^(?P<indent> *)```python[^\n]*\n(?P<body>.*?)^(?P=indent)```", re.S | re.M)
# Files other branches are rewriting now (the governor and the Redis store); their blocks
# get their marks when that work lands, so that the two edits do not collide.


@attrs.frozen
class Block:
    path: str
    line: int
    code: str
    fragment: bool

    @property
    def name(self) -> str:
        return f"{self.path}:{self.line}"


SNIPPET = re.compile(r'^--8<-- "(?P<path>[^":]+)(?::(?P<start>\d+):(?P<end>\d+))?"$')


def _included(row: str) -> str:
    """A row of a block, or the file (or lines `start:end` of it) it includes
    (pymdownx.snippets, base path ".")."""
    included = SNIPPET.match(row.strip())
    if included is None:
        return row + "\n"
    text = (ROOT / included.group("path")).read_text(encoding="utf-8")
    if included.group("start") is None:
        return text
    lines = text.splitlines(keepends=True)
    return "".join(lines[int(included.group("start")) - 1 : int(included.group("end"))])


def doc_files() -> list[Path]:
    docs = sorted((ROOT / "docs").rglob("*.md"))
    return [ROOT / "README.md", *docs, ROOT / "examples/README.md"]


def blocks() -> list[Block]:
    found = []
    for path in doc_files():
        relative = path.relative_to(ROOT).as_posix()
        text = path.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            above = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
            indent = len(match.group("indent"))
            code = "".join(_included(row[indent:]) for row in match.group("body").splitlines())
            found.append(Block(relative, line, code, bool(FRAGMENT.search(above))))
    return found


BLOCKS = blocks()
PROGRAMS = [b for b in BLOCKS if not b.fragment]


def test_the_docs_have_both_kinds() -> None:
    assert len(PROGRAMS) >= 8 and len(BLOCKS) > len(PROGRAMS)


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.fragment], ids=lambda b: b.name)
def test_fragment_is_valid_python(block: Block) -> None:
    try:  # a whole module (an included example)...
        compile(block.code, block.name, "exec")
    except SyntaxError:
        # ...or the body of an async function: `await`, `async with`, `return` allowed.
        body = "".join(f"    {row}\n" for row in block.code.splitlines())
        compile(f"async def fragment():\n{body}    pass\n", block.name, "exec")


def undefined_names(code: str) -> set[str]:
    """Global names the program reads but never binds (nor imports): it would not run as
    written, even where the reading is in a function the block never calls."""
    top = symtable.symtable(code, "<doc>", "exec")
    bound = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()}
    bound |= set(dir(builtins)) | {"__name__", "__file__"}
    read: set[str] = set()
    tables = [top]
    while tables:
        table = tables.pop()
        tables.extend(table.get_children())
        for symbol in table.get_symbols():
            if symbol.is_referenced() and (table is top or symbol.is_global()):
                read.add(symbol.get_name())
    return read - bound


@pytest.fixture
async def server() -> AsyncIterator[FakeGu1Server]:
    async with FakeGu1Server(plan="professional") as fake:
        yield fake


async def run_program(code: str, server: FakeGu1Server, name: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GU1_")}
    env.update(GU1_API_KEY=DEFAULT_KEY, GU1_BASE_URL=server.url, GU1_WEBHOOK_SECRET="whsec_docs")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode()


@pytest.mark.parametrize("block", PROGRAMS, ids=lambda b: b.name)
async def test_complete_program_runs_against_the_fake_server(
    block: Block, server: FakeGu1Server
) -> None:
    # A complete program has no top-level await: it must compile as a plain module.
    compile(block.code, block.name, "exec")
    assert not undefined_names(block.code), f"{block.name}: not a complete program"
    code, output = await run_program(block.code, server, block.name)
    assert code == 0, f"{block.name} failed:\n{output}"
    assert DEFAULT_KEY not in output  # nothing prints the key


async def test_readme_quickstart_runs_twice_in_a_row(server: FakeGu1Server) -> None:
    quickstart = next(b for b in PROGRAMS if b.path == "README.md")
    first = await run_program(quickstart.code, server, quickstart.name)
    second = await run_program(quickstart.code, server, quickstart.name)
    assert first[0] == second[0] == 0, first[1] + second[1]
    assert first[1].startswith("created ") and second[1].startswith("updated ")
