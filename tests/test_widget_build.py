"""widget/build.py: the served widget.js is the assembly of its current sources, and the script
refuses, with the file and what to do, sources that the one file could not keep working.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Dict

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("widget_build", ROOT / "widget" / "build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


build = load_build()


def test_the_served_widget_is_assembled_from_its_current_sources() -> None:
    assert build.OUTPUT.is_file(), "widget/widget.js is missing: run `make widget`"
    assert build.OUTPUT.read_text(encoding="utf-8") == build.assemble(), \
        "widget/widget.js is older than its sources: run `make widget`"


def test_the_widget_holds_the_shared_console_modules_once_and_no_module_syntax() -> None:
    text = build.assemble()
    for shared in ("console/element.js", "console/socket.js", "console/typing.js"):
        assert text.count(f"/* ---- {shared} ---- */") == 1
    assert text.count("class ReconnectingSocket") == 1 and text.count("function h(") == 1
    assert not any(line.startswith(("import ", "export ")) for line in text.splitlines())
    assert text.isascii()


def write_modules(folder: Path, files: Dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder / "main.js"


@pytest.mark.parametrize("files, says", [
    ({"main.js": "import { a } from './a.js';\nconst b = 1;\n", "a.js": "export const b = 2;\n"},
     "imports a from"),
    ({"main.js": "import { a } from './a.js';\nconst x = a;\n", "a.js": "export const a = 1;\nconst x = 2;\n"},
     "`x` is declared at the top of both"),
    ({"main.js": "import a from './a.js';\n", "a.js": "export const a = 1;\n"},
     "only `import { a } from './x.js';`"),
    ({"main.js": "import { a as b } from './a.js';\n", "a.js": "export const a = 1;\n"}, "no `as`"),
    ({"main.js": "import { a } from './a.js';\nexport default a;\n", "a.js": "export const a = 1;\n"},
     "main.js:2: `export default a;`"),
    ({"main.js": "import { a } from './a.js';\n", "a.js": "import { m } from './main.js';\nexport const a = 1;\n"},
     "import cycle"),
    ({"main.js": "const quote = '\u2019';\n"}, "main.js:1: the widget must be ASCII-only"),
])
def test_sources_the_one_file_could_not_keep_are_refused(tmp_path: Path, files: Dict[str, str], says: str) -> None:
    with pytest.raises(build.BuildError) as refused:
        build.assemble(write_modules(tmp_path, files))
    assert says in str(refused.value)


def test_modules_are_placed_after_what_they_import_and_once(tmp_path: Path) -> None:
    entry = write_modules(tmp_path, {
        "main.js": "import { a } from './a.js';\nimport { b } from './b.js';\nrun(a, b);\n",
        "a.js": "import { c } from './c.js';\nexport const a = c + 1;\n",
        "b.js": "import { c } from './c.js';\nexport function b() { return c; }\n",
        "c.js": "export const c = 1;\n",
    })
    text = build.assemble(entry)
    order = [text.index(f"const {name} =") if name != "b" else text.index("function b()") for name in "cab"]
    assert order == sorted(order) and text.count("const c = 1;") == 1
    assert text.index("run(a, b);") > max(order)
