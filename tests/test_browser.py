"""The browser bottle (.wasm.html) in a real browser: tiny Recipes of each task type (intent,
pii, tool calling's encoder and decoder designs, text to SQL) bottled through real doit, poured
on every head inside headless Chromium (DevTools protocol) and by `distill pour`'s code path in
Python from the same file — the answers must be identical — and the Cellar's tasting box driven
like a person would (type, click, read)."""
import json
import shutil

import pytest
import yaml

from distill.build import Build
from distill.formats import wasm
from distill.recipe import load_recipe
from distill.spirit import load_spirit
from distill.store import Store
from tests.conftest import environment, run_cli, run_doit, tiny_recipe_data
from tests.test_task_types import tiny

ORT = wasm.ort_folder() / wasm.ORT_FILES["ort-wasm"]
pytestmark = [
    pytest.mark.skipif(shutil.which("chromium") is None and shutil.which("chromium-browser") is None,
                       reason="needs headless Chromium: apt-get install -y chromium (Debian), as .ci/run does"),
    pytest.mark.skipif(not ORT.is_file(), reason=f"needs onnxruntime-web: npm ci --prefix {wasm.browser_folder()} "
                                                 "(node and npm), as .ci/run does"),
]
NAMES = ("intent", "pii", "needle", "sql", "caller")


def _recipes() -> dict:
    needle = tiny_recipe_data()
    needle["student"] = {**needle["student"], "arch": "bert", "init": "scratch", "max_length": 64}
    data = {"intent": tiny("intent"), "pii": tiny("pii"), "needle": needle, "sql": tiny("sql"),
            "caller": tiny_recipe_data()}  # tool calling's decoder design (a scratch Llama)
    for recipe in data.values():
        recipe["bottle"] = {"formats": ["wasm"]}
        recipe["cuts"] = {**recipe.get("cuts", {}), "heads": 0.35}  # at least 50 heads of each task type
        recipe.pop("proof", None)  # no field set: the notes pour the heads only (an untrained decoder is slow to pour)
    return data


@pytest.fixture(scope="module")
def bottled(tmp_path_factory):
    """Every tiny Recipe built and bottled as .wasm.html by one doit run."""
    root = tmp_path_factory.mktemp("browser")
    (root / "recipes").mkdir()
    for name, data in _recipes().items():
        (root / "recipes" / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    with environment(DISTILL_RECIPES=str(root / "recipes"), DISTILL_STORE=str(root / "store"),
                     DISTILL_CELLAR=str(root / "cellar")):
        result = run_doit("-n", "3", *(f"bottle:{name}-wasm" for name in NAMES), cwd=root)  # builds overlap: 152 s against 184 s one by one
        assert result.returncode == 0, result.stderr[-3000:]
        yield root


@pytest.fixture(scope="module")
def browser():
    from distill.headless import Browser

    with Browser(timeout=120) as b:
        yield b


def _heads(root, name):
    build = Build(load_recipe(root / "recipes" / f"{name}.yaml"), Store(root / "store"))
    return build.load("cuts", "heads")


@pytest.mark.parametrize("name", NAMES)
def test_the_page_answers_every_head_like_pour(bottled, browser, name):
    from distill.headless import pour_page

    path = bottled / "cellar" / name / f"{name}.wasm.html"
    spirit = load_spirit(path)
    heads = _heads(bottled, name)
    assert len(heads) >= 50
    items = json.loads(json.dumps([(spirit.task.input_text(ex), spirit.task.example_context(ex)) for ex in heads],
                                  default=str))
    poured = [spirit.predict_example(ex) for ex in heads]
    in_page = [row["answer"] for row in pour_page(browser, path, items)]
    differing = [(text, p, b) for (text, _), p, b in zip(items, poured, in_page) if p != b]
    assert not differing, f"{len(differing)}/{len(heads)} heads differ, e.g. {differing[:2]}"
    assert len(heads) >= 10 and browser.errors == []


def test_the_cellar_box_pours_in_the_page(bottled, browser):
    site = bottled / "cellar" / "site"
    env = {"DISTILL_CELLAR": str(bottled / "cellar")}
    with environment(**env):
        result = run_cli("cellar", "build")
    assert result.returncode == 0, result.stderr
    text = "Call Maya Okafor at maya@example.com or 555-0100 tomorrow"
    browser.open((site / "pii.html").as_uri(), "document.body.dataset.tasting === 'ready'")
    browser.evaluate(f"document.getElementById('taste-input').value = {json.dumps(text)}")
    browser.evaluate("document.getElementById('taste-pour').click()")
    browser.wait("document.body.dataset.tasted === '1'")
    shown = browser.evaluate("document.getElementById('taste-answer').textContent")
    spirit = load_spirit(bottled / "cellar" / "pii" / "pii.wasm.html")
    expected = spirit.predict(text)
    from distill.tasks.ner import redact

    assert shown == f"{redact(text, expected['spans'])}\n\n{json.dumps(expected, ensure_ascii=False)}"
    assert browser.errors == []


def test_inspect_and_verify_read_the_browser_bottle(bottled):
    path = bottled / "cellar" / "intent" / "intent.wasm.html"
    with environment(DISTILL_STORE=str(bottled / "store")):
        shown = run_cli("inspect", str(path))
        verified = run_cli("verify", "--json", str(path))
    assert shown.returncode == 0, shown.stderr
    assert "wasm.html (browser page: onnxruntime-web" in shown.stdout and "sealed digest" in shown.stdout
    assert "digest graph_weights" in shown.stdout
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_damaged_browser_bottle_is_one_line(bottled, tmp_path):
    copy = tmp_path / "intent.wasm.html"
    data = bytearray((bottled / "cellar" / "intent" / "intent.wasm.html").read_bytes())
    data[len(data) // 2] ^= 0x01
    copy.write_bytes(bytes(data))
    result = run_cli("pour", str(copy), "hello")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "corrupted .wasm.html Spirit" in result.stderr and len(result.stderr.strip().splitlines()) == 1
