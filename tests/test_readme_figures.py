"""The README's figures (cost, resource counts, the anchors comparison, the dev diagram) are what the code
computes: regenerate them with ``benchmarks/readme_figures.py --write``."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("readme_figures", ROOT / "benchmarks" / "readme_figures.py")
readme_figures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(readme_figures)


def test_the_readme_figures_are_what_the_code_computes(stack_plans):
    _, changed = readme_figures.render((ROOT / "README.md").read_text(), stack_plans)
    assert not changed, f"README.md drifted ({', '.join(changed)}): run benchmarks/readme_figures.py --write"


def test_a_drifted_figure_is_named_and_rewritten(stack_plans):
    readme = (ROOT / "README.md").read_text()
    drifted = readme.replace(readme_figures.cost_row(stack_plans), "| **estimated monthly cost** | **$1** | **$2** | **$3** |")
    rewritten, changed = readme_figures.render(drifted, stack_plans)
    assert changed == ["cost row"] and rewritten == readme


def test_a_figure_missing_from_the_readme_is_an_error(stack_plans):
    with pytest.raises(ValueError, match="the cost row is found 0 times"):
        readme_figures.render("# empty\n", stack_plans)
