"""The browser bottle (`.wasm.html`): one HTML page that runs the Spirit with onnxruntime-web's
WebAssembly backend, offline, opened straight from disk.

One file rather than a folder: a page opened from disk (file://) may not fetch its neighbours,
so weights, runtime and code travel inside it, and a Spirit stays one file to copy, as every
other bottle is. The page embeds, as text blocks found by their id:

    distill-meta    the Spirit's strings (Recipe, hash, config, tokenizer, proof, digests) as JSON
    distill-graph   the .onnx export of the model (formats/onnx.py), base64
    ort-module      onnxruntime-web's WebAssembly bundle (an ES module), base64
    ort-wasm        its WebAssembly binary, base64
    sqljs-module    text-to-SQL Spirits only: sql.js (SQLite as WebAssembly) and its binary, base64,
    sqljs-wasm      so the page checks that a query prepares against the schema, as pour does
    distill-code    tokenizer, value normalisation, task decoding and the page (distill/browser/*.js)

`distill pour` reads the same graph with onnxruntime in Python, so the page and pour answer alike;
tests/test_browser.py checks that in headless Chromium. The file is sealed like .onnx and .gguf.
"""
import base64
import json
import re
from importlib import resources
from pathlib import Path

from ..errors import DistillError
from . import check_marker, first_line

# the page holds an .onnx graph: its weights digest and weight type are the .onnx bottle's
from .onnx import export_decoder, export_encoder, graph_weights_digest, weight_type, weights_digest  # noqa: F401
from .seal import UNSEALED, check_sealed, has_seal, seal

SUFFIX = ".wasm.html"
SEAL_PREFIX = b'<meta name="distill.integrity" content="'
ORT_ENV = "DISTILL_ORT_WEB"  # a folder holding onnxruntime-web's dist/ files, instead of distill/browser/node_modules
ORT_FILES = {"ort-module": "ort.wasm.bundle.min.mjs", "ort-wasm": "ort-wasm-simd-threaded.wasm"}
CODE_FILES = ("tokenizer.js", "normalise.js", "span_shapes.js", "tasks.js", "tool_tagger.js", "decoding.js", "sql_grammar.js", "text_to_sql.js",
              "sql_tagger.js", "shortlist.js", "call_grammar.js", "bottle.js")  # in this order: later files use earlier ones
SQLITE_ENV = "DISTILL_SQLJS"  # a folder holding sql.js's dist/ files, instead of distill/browser/node_modules
SQLITE_FILES = {"sqljs-module": "sql-wasm-browser.js", "sqljs-wasm": "sql-wasm-browser.wasm"}  # text-to-SQL bottles only
BLOCK = '<script type="{kind}" id="{id}">{text}</script>'


def browser_folder() -> Path:
    return Path(str(resources.files("distill") / "browser"))


def npm_folder(package: str, variable: str) -> Path:
    """An npm package's dist/ folder: from `npm ci --prefix distill/browser`, or where $variable says."""
    import os

    if os.environ.get(variable):
        return Path(os.environ[variable])
    return browser_folder() / "node_modules" / package / "dist"


def ort_folder() -> Path:
    return npm_folder("onnxruntime-web", ORT_ENV)


def ort_version() -> str:
    package = ort_folder().parent / "package.json"
    return json.loads(package.read_text())["version"] if package.is_file() else "unknown"


def _npm_files(package: str, variable: str, files: dict) -> dict:
    folder = npm_folder(package, variable)
    missing = [name for name in files.values() if not (folder / name).is_file()]
    if missing:
        raise DistillError(f"{folder}: {package} is not installed ({', '.join(missing)} missing); run "
                           f"`npm ci --prefix {browser_folder()}` (or set {variable} to its dist/ folder)")
    return {block: (folder / name).read_bytes() for block, name in files.items()}


def runtime_files(task_type: str) -> dict:
    """The WebAssembly runtimes a page needs: onnxruntime-web always, SQLite for text to SQL."""
    files = _npm_files("onnxruntime-web", ORT_ENV, ORT_FILES)
    if task_type == "sql":
        files.update(_npm_files("sql.js", SQLITE_ENV, SQLITE_FILES))
    return files


def _meta_json(meta: dict) -> str:
    """JSON safe inside a <script> element: no '<' can close it early."""
    return json.dumps(meta, ensure_ascii=False, sort_keys=True).replace("<", "\\u003c")


def page(meta: dict, graph_bytes: bytes, runtimes: dict) -> str:
    """The whole bottle as one HTML text; the seal is still zeroed."""
    template = (browser_folder() / "bottle.html").read_text()
    code = "\n".join((browser_folder() / name).read_text() for name in CODE_FILES)
    blocks = [BLOCK.format(kind="application/json", id="distill-meta", text=_meta_json(meta)),
              BLOCK.format(kind="text/plain", id="distill-graph", text=base64.b64encode(graph_bytes).decode()),
              *(BLOCK.format(kind="text/plain", id=block, text=base64.b64encode(data).decode()) for block, data in runtimes.items()),
              BLOCK.format(kind="text/javascript", id="distill-code", text=code.replace("</script", "<\\/script"))]
    title = f"{meta['name']} — a Distillarium Spirit"
    return (template.replace("{{SEAL}}", UNSEALED).replace("{{TITLE}}", _escape(title))
            .replace("{{BLOCKS}}", "\n".join(blocks)))


def _escape(text: str) -> str:
    import html

    return html.escape(text)


def write(path, model, tokenizer, meta: dict, options: dict):
    """Export the graph as the .onnx bottle does, embed it with the runtime and the code, seal."""
    opset = options.get("onnx_opset", 18)
    decoder = model.config.model_type == "llama"
    graph = export_decoder(model, opset) if decoder else export_encoder(model, opset)
    digests = {**json.loads(meta["digests"]), "graph_weights": graph_weights_digest(graph)}
    meta = {**meta, "digests": json.dumps(digests), "onnx_opset": str(opset),
            "onnx_cache": "past_key_values" if decoder else "none", "onnxruntime_web": ort_version()}
    Path(path).write_text(page(meta, graph.SerializeToString(), runtime_files(json.loads(meta["recipe"])["task"]["type"])), encoding="utf-8")
    seal(path, SEAL_PREFIX)


# ---------------------------------------------------------------- reading


def _block(text: str, block_id: str, path) -> str:
    match = re.search(f'<script type="[^"]+" id="{block_id}">', text)
    end = text.find("</script>", match.end()) if match else -1
    if end < 0:
        raise DistillError(f"{path}: not a Distillarium browser Spirit (no complete '{block_id}' block)")
    return text[match.end():end]


def read(path: Path):
    """(strings, ModelProto) of a browser Spirit: the seal checked, then the embedded graph parsed."""
    import onnx

    if not has_seal(path, SEAL_PREFIX):
        raise DistillError(f"{path}: not a Distillarium browser Spirit, or truncated (no distill.integrity seal)")
    check_sealed(path, SEAL_PREFIX, ".wasm.html")
    text = Path(path).read_text(encoding="utf-8")
    try:
        meta = json.loads(_block(text, "distill-meta", path))
        model = onnx.load_from_string(base64.b64decode(_block(text, "distill-graph", path), validate=True))
        onnx.checker.check_model(model)
    except DistillError:
        raise
    except Exception as err:  # noqa: BLE001 - any damaged block is one line
        raise DistillError(f"{path}: not a loadable browser Spirit ({first_line(err)})") from None
    if not isinstance(meta, dict):
        raise DistillError(f"{path}: damaged browser Spirit: its distill-meta block is not an object")
    check_marker(path, meta, "distill-meta block")
    return meta, model


def describe(path, meta: dict, model_proto) -> tuple[str, str]:
    line = (f"wasm.html (browser page: onnxruntime-web {meta.get('onnxruntime_web', '?')} WebAssembly, "
            f"onnx opset {meta.get('onnx_opset', '?')}, {len(model_proto.graph.node)} nodes)")
    return line, "sealed digest of the whole file verified"


def open_runner(path, meta: dict, model_proto, runtime: str):
    """Python pours the embedded graph with onnxruntime: the same graph the page runs."""
    from ..runtimes.onnxruntime import OnnxRunner, session

    return OnnxRunner(session(path, model_proto)), "onnxruntime"
