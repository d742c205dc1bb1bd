"""Assemble the widget's one file, `widget/widget.js`, from its ES modules. No dependencies.

    python3 widget/build.py      (what `make widget` runs; `make run` and `make test` run it first)

`widget/src/main.js` is the entry. Its imports are followed (the widget's own modules in
`widget/src/` and the modules it shares with the staff console: `console/element.js`,
`console/socket.js`, `console/typing.js`); each module is placed once, after the modules it
imports, with its `import` lines removed and the `export` keywords dropped, and the whole is
wrapped in one function so that nothing lands on `window`. The file is written only when its
text changes. `widget/widget.js` is a build product and is not in git.

The sources keep to the module syntax this script understands, and it refuses anything else
with the file and line: `import { a, b } from './x.js';` (relative paths, no `as`), `export`
in front of a top-level `function`, `class` or `const`, top-level names unique across all
the modules, and ASCII only (so the widget works on pages in any charset).
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Set, Tuple

ROOT = Path(__file__).resolve().parents[1]
ENTRY = ROOT / "widget" / "src" / "main.js"
OUTPUT = ROOT / "widget" / "widget.js"

IMPORT = re.compile(r"^import\s*\{([^}]*)\}\s*from\s*'(\.{1,2}/[^']+\.js)';[ \t]*\n", re.M)
ANY_IMPORT = re.compile(r"^import\b.*$", re.M)
EXPORT = re.compile(r"^export (?=(?:function|class|const) )", re.M)
ANY_EXPORT = re.compile(r"^export\b.*$", re.M)
EXPORTED_NAME = re.compile(r"^export (?:function|class|const) ([A-Za-z_$][\w$]*)", re.M)
TOP_LEVEL_NAME = re.compile(r"^(?:export )?(?:async )?(?:function\*?|class|const|let|var) ([A-Za-z_$][\w$]*)", re.M)


class BuildError(Exception):
    """The sources use something this script does not assemble; the message names the place."""


@dataclass
class Module:
    """One source file: what it imports from where, what it declares and exports, its code."""

    path: Path
    imports: List[Tuple[Path, List[str]]]
    exports: Set[str]
    names: Set[str]
    code: str


def relative(path: Path) -> str:
    """A path as the project names it (widget/src/main.js)."""
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def line_of(text: str, index: int) -> int:
    """The 1-based line number of a character index."""
    return text.count("\n", 0, index) + 1


def read_module(path: Path) -> Module:
    """Parse one module's imports and exports; BuildError for syntax the assembly cannot keep."""
    if not path.is_file():
        raise BuildError(f"{relative(path)}: no such module")
    text = path.read_text(encoding="utf-8")
    where = relative(path)
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.isascii():
            raise BuildError(f"{where}:{number}: the widget must be ASCII-only; write \\uXXXX escapes instead")
    imports = []
    for match in IMPORT.finditer(text):
        names = [name.strip() for name in match.group(1).split(",") if name.strip()]
        for name in names:
            if not re.fullmatch(r"[A-Za-z_$][\w$]*", name):
                raise BuildError(f"{where}:{line_of(text, match.start())}: `{name}`: import names plainly (no `as`)")
        imports.append(((path.parent / match.group(2)).resolve(), names))
    # Imports become blank lines and `export ` disappears, so line numbers stay those of the source.
    code = EXPORT.sub("", IMPORT.sub(lambda match: "\n" * match.group(0).count("\n"), text))
    for pattern in (ANY_IMPORT, ANY_EXPORT):
        stray = pattern.search(code)
        if stray:
            raise BuildError(f"{where}:{line_of(code, stray.start())}: `{stray.group(0).strip()}`: only "
                             "`import { a } from './x.js';` and `export function|class|const` are assembled")
    return Module(path, imports, set(EXPORTED_NAME.findall(text)), set(TOP_LEVEL_NAME.findall(text)),
                  code.strip("\n"))


def in_order(entry: Path) -> List[Module]:
    """The entry and every module it reaches, each after the modules it imports."""
    done: Dict[Path, Module] = {}
    visiting: List[Path] = []

    def visit(path: Path) -> None:
        if path in done:
            return
        if path in visiting:
            cycle = " -> ".join(relative(p) for p in visiting[visiting.index(path):] + [path])
            raise BuildError(f"import cycle: {cycle}")
        visiting.append(path)
        module = read_module(path)
        for target, _ in module.imports:
            visit(target)
        visiting.pop()
        done[path] = module

    visit(entry.resolve())
    return list(done.values())


def check(modules: List[Module]) -> None:
    """Every imported name is exported by its module, and no top-level name is declared twice."""
    by_path = {module.path: module for module in modules}
    owner: Dict[str, Path] = {}
    for module in modules:
        for target, names in module.imports:
            missing = sorted(set(names) - by_path[target].exports)
            if missing:
                raise BuildError(f"{relative(module.path)}: imports {', '.join(missing)} from "
                                 f"{relative(target)}, which does not export it")
        for name in sorted(module.names):
            if name in owner:
                raise BuildError(f"`{name}` is declared at the top of both {relative(owner[name])} and "
                                 f"{relative(module.path)}: in the one file they would clash; rename one")
            owner[name] = module.path


def assemble(entry: Path = ENTRY) -> str:
    """The text of widget.js."""
    modules = in_order(entry)
    check(modules)
    sources = "\n".join(f" *   {relative(module.path)}" for module in modules)
    header = (
        "/*\n"
        " * Clinic chat widget: the visitor side of the website assistant, one file to embed with one tag\n"
        " * (widget/README.md):\n"
        " *\n"
        " *   <script src=\"https://SERVER/webhooks/web/widget.js\" data-title=\"Ask our assistant\" defer></script>\n"
        " *\n"
        " * Assembled by widget/build.py (`make widget`) from these ES modules; edit them, not this file:\n"
        f"{sources}\n"
        " */\n"
    )
    body = "\n\n".join(f"/* ---- {relative(module.path)} ---- */\n\n{module.code}" for module in modules)
    return f"{header}(function () {{\n'use strict';\n\n{body}\n}}());\n"


def main() -> int:
    """Write widget/widget.js when its sources changed it."""
    try:
        text = assemble()
    except BuildError as error:
        print(f"widget/build.py: {error}", file=sys.stderr)
        return 1
    if OUTPUT.is_file() and OUTPUT.read_text(encoding="utf-8") == text:
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"Wrote {relative(OUTPUT)} ({len(text.encode())} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
