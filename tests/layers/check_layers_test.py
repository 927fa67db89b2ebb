#!/usr/bin/env python3
"""The layer check: passes on the real tree, and fails on each kind of violation."""
import json
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[2] / "tools"
sys.path.insert(0, str(TOOLS))
import check_layers  # noqa: E402

LAYERS_JSON = None  # set from the command line: the build's layers.json
ROOT = Path(__file__).resolve().parents[2]


def toy_layers():
    return {
        "core": {"layer": "core", "dir": "src/core", "depends": []},
        "graph": {"layer": "graph", "dir": "src/graph", "depends": ["core"]},
        "runtime": {"layer": "runtime", "dir": "src/runtime", "depends": ["graph", "core"]},
    }


class ToyTree(unittest.TestCase):
    def check(self, files):
        with tempfile.TemporaryDirectory() as root:
            for relative, text in files.items():
                path = Path(root) / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
            return check_layers.check(Path(root), toy_layers())

    def test_downward_includes_pass(self):
        self.assertEqual(self.check({
            "src/runtime/a.cpp": '#include "edgeperf/graph/graph.h"\n#include "edgeperf/core/x.h"\n',
            "src/graph/b.cpp": '#include "edgeperf/core/x.h"\n#include "local.h"\n',
        }), [])

    def test_upward_include_fails_naming_file_and_layer(self):
        problems = self.check({"src/graph/b.cpp": '#include "edgeperf/runtime/session.h"\n'})
        self.assertEqual(len(problems), 1)
        self.assertIn("src/graph/b.cpp", problems[0])
        self.assertIn("runtime", problems[0])

    def test_relative_include_leaving_the_folder_fails(self):
        problems = self.check({"src/graph/b.cpp": '#include "../runtime/plan.h"\n'})
        self.assertEqual(len(problems), 1)
        self.assertIn("outside graph's folder", problems[0])

    def test_test_reaching_into_src_fails(self):
        problems = self.check({"tests/graph/t.cpp": '#include "../../src/graph/private.h"\n'})
        self.assertEqual(len(problems), 1)
        self.assertIn("private header", problems[0])

    def test_undeclared_link_fails(self):
        problems = self.check({"src/graph/CMakeLists.txt": "target_link_libraries(ep_graph PUBLIC ep_runtime)\n"})
        self.assertEqual(len(problems), 1)
        self.assertIn("links ep_runtime", problems[0])

    def test_undeclared_folder_fails(self):
        problems = self.check({"src/vision/v.cpp": "int x;\n"})
        self.assertEqual(len(problems), 1)
        self.assertIn("no declared subsystem", problems[0])

    def test_public_header_including_a_higher_layer_fails(self):
        problems = self.check({"include/edgeperf/graph/g.h": '#include "edgeperf/runtime/kernel.h"\n'})
        self.assertEqual(len(problems), 1)


class RealTree(unittest.TestCase):
    def layers(self):
        return json.loads(Path(LAYERS_JSON).read_text())

    def test_the_tree_holds_to_its_declarations(self):
        self.assertEqual(check_layers.check(ROOT, self.layers()), [])
        self.assertEqual(check_layers.readme_problems(ROOT, self.layers(), write=False), [])

    def test_a_deliberately_wrong_include_fails(self):
        wrong = {"src/graph/layer_probe.cpp": '#include "edgeperf/runtime/session.h"\n'}
        problems = check_layers.check(ROOT, self.layers(), extra_files=wrong)
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("src/graph/layer_probe.cpp", problems[0])

    def test_command_exits_non_zero_on_a_bad_layers_file(self):
        result = subprocess.run([sys.executable, str(TOOLS / "check_layers.py"), "--layers",
                                 "/nonexistent/layers.json"], capture_output=True, text=True)
        self.assertEqual(result.returncode, 1)
        self.assertIn("cannot read", result.stderr)


if __name__ == "__main__":
    LAYERS_JSON = sys.argv.pop(1)
    unittest.main()
