"""Bottles for every runtime: GGUF round trip and llama.cpp layout, the ONNX KV cache, damaged
files as one line, `distill inspect`, and the bottle table in the cellar's Tasting Notes."""
import json
import os

import numpy as np
import pytest
import yaml

from distill.commands.verify import PROOF_TOLERANCE_POINTS
from distill.errors import DistillError, RecipeError
from distill.spirit import load_spirit
from distill.store import Store
from tests.conftest import run_cli


def _heads_and_trained(root):
    store = Store(root / "store")
    (notes_key,) = store.keys("notes")
    (cuts_key,) = store.keys("cuts")
    read = lambda p: [json.loads(line) for line in p.read_text().splitlines()]  # noqa: E731
    return read(store.path("cuts", cuts_key) / "heads.jsonl"), read(store.path("notes", notes_key) / "predictions.jsonl")


def test_gguf_reads_back_with_gguf_py(gguf_built):
    from gguf import GGUFReader

    from distill.formats.gguf import stored_tensors_digest

    path = gguf_built / "cellar" / "tiny" / "tiny.gguf"
    reader = GGUFReader(str(path))
    field = lambda key: reader.fields[key].contents()  # noqa: E731
    config = json.loads(field("distill.config"))
    assert field("general.architecture") == "llama" and field("tokenizer.ggml.model") == "gpt2"
    assert field("tokenizer.ggml.pre") == "starcoder"
    assert field("llama.block_count") == config["num_hidden_layers"]
    assert field("llama.attention.head_count_kv") == config["num_key_value_heads"]
    assert field("llama.rope.dimension_count") == config["hidden_size"] // config["num_attention_heads"]
    assert len(field("tokenizer.ggml.tokens")) == config["vocab_size"] and field("tokenizer.ggml.merges")
    assert [field(f"tokenizer.ggml.{k}_token_id") for k in ("bos", "eos", "padding")] == [1, 2, 0]
    recipe = json.loads(field("distill.recipe"))
    assert recipe["name"] == "tiny" and recipe["bottle"]["gguf_types"] == ["f32", "q8_0"]
    assert len(field("distill.recipe_hash")) == 32 and "value" in json.loads(field("distill.proof"))
    digests = json.loads(field("distill.digests"))
    assert {"weights", "tokenizer"} <= set(digests) and digests["gguf_tensors"] == stored_tensors_digest(reader)
    names = {t.name for t in reader.tensors}
    assert {"token_embd.weight", "blk.0.attn_q.weight", "blk.0.ffn_down.weight", "output_norm.weight"} <= names
    assert "output.weight" not in names  # tied: llama.cpp reuses token_embd


def test_lossless_gguf_pours_exactly_like_the_pt(gguf_built):
    heads, trained = _heads_and_trained(gguf_built)
    f32 = load_spirit(gguf_built / "cellar" / "tiny" / "tiny.gguf", runtime="torch")
    assert f32.runtime == "torch" and [f32.predict_example(ex) for ex in heads] == trained
    q8 = load_spirit(gguf_built / "cellar" / "tiny" / "tiny.q8_0.gguf", runtime="torch")
    preds = [q8.predict_example(ex) for ex in heads]
    same = sum(p == t for p, t in zip(preds, trained))
    assert same >= 0.9 * len(heads), f"q8_0 agrees with the .pt on only {same}/{len(heads)} heads"
    golds = [ex["target"] for ex in heads]
    points = 100 * abs(q8.task.proof(golds, preds)["value"] - q8.task.proof(golds, trained)["value"])
    assert points <= PROOF_TOLERANCE_POINTS["q8_0"], f"q8_0 moved the proof {points:.2f} points"


def test_rotary_permutation_turns_hf_halves_into_llama_cpp_pairs():
    """Scores q·k under HF's rotate_half equal those under llama.cpp's adjacent-pair rotation
    once the Q/K rows are permuted as the converter does; unpermuting restores the rows."""
    from distill.formats.gguf import permute_rows, unpermute_rows

    rng = np.random.default_rng(0)
    heads, kv_heads, head_dim, hidden = 4, 2, 8, 16
    wq, wk = rng.normal(size=(heads * head_dim, hidden)), rng.normal(size=(kv_heads * head_dim, hidden))
    x_m, x_n = rng.normal(size=hidden), rng.normal(size=hidden)
    freqs = 10000.0 ** (-np.arange(0, head_dim, 2) / head_dim)

    def hf(vec, pos):  # rotate_half: dim i pairs with dim i + d/2
        cos, sin = np.cos(pos * np.concatenate([freqs, freqs])), np.sin(pos * np.concatenate([freqs, freqs]))
        half = head_dim // 2
        return vec * cos + np.concatenate([-vec[half:], vec[:half]]) * sin

    def pairs(vec, pos):  # llama.cpp's normal rope: dim 2i pairs with 2i + 1
        out, cos, sin = vec.copy(), np.cos(pos * freqs), np.sin(pos * freqs)
        out[0::2], out[1::2] = vec[0::2] * cos - vec[1::2] * sin, vec[0::2] * sin + vec[1::2] * cos
        return out

    pq, pk = permute_rows(wq, heads), permute_rows(wk, kv_heads)
    for h in range(heads):
        rows_q, rows_k = slice(h * head_dim, (h + 1) * head_dim), slice((h // 2) * head_dim, (h // 2 + 1) * head_dim)
        hf_score = hf(wq[rows_q] @ x_m, 5) @ hf(wk[rows_k] @ x_n, 2)
        cpp_score = pairs(pq[rows_q] @ x_m, 5) @ pairs(pk[rows_k] @ x_n, 2)
        assert np.isclose(hf_score, cpp_score)
    assert np.array_equal(unpermute_rows(pq, heads), wq) and np.array_equal(unpermute_rows(pk, kv_heads), wk)


def test_bottle_table_in_the_cellar_notes_not_in_the_store(gguf_built):
    cellar = gguf_built / "cellar" / "tiny"
    rows = json.loads((cellar / "bottles.json").read_text())["bottles"]
    assert [r["file"] for r in rows] == ["tiny.pt", "tiny.gguf", "tiny.q8_0.gguf"]
    for row in rows:
        assert row["bytes"] > 0 and row["heads"] > 10 and row["pour_ms_median"] > 0 and "delta_points" in row
    assert rows[0]["same_as_trained"] == rows[0]["heads"] and rows[0]["delta_points"] == 0
    assert rows[1]["type"] == "f32" and rows[1]["same_as_trained"] == rows[1]["heads"]
    md = (cellar / "notes.md").read_text()
    assert "## Bottles" in md and "`tiny.q8_0.gguf` (q8_0)" in md and md.startswith("# Tasting Notes")
    store = Store(gguf_built / "store")
    (notes_key,) = store.keys("notes")
    assert "## Bottles" not in (store.path("notes", notes_key) / "notes.md").read_text()
    index = json.loads((gguf_built / "cellar" / "index.json").read_text())
    assert {"pt", "gguf", "gguf-q8_0"} <= set(index["spirits"]["tiny"]["bottles"])


def test_onnx_decoder_carries_its_kv_cache(built_tiny):
    import onnx

    from distill.runtimes.onnxruntime import OnnxRunner

    path = built_tiny / "cellar" / "tiny" / "tiny.onnx"
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    inputs = [i.name for i in model.graph.input]
    assert inputs[:3] == ["input_ids", "attention_mask", "past_key_values.0.key"]
    assert "present.0.value" in [o.name for o in model.graph.output]
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["distill.onnx_opset"] == "18" and meta["distill.onnx_cache"] == "past_key_values"
    spirit = load_spirit(path)
    heads, _ = _heads_and_trained(built_tiny)
    cached = [spirit.predict_example(ex) for ex in heads[:4]]
    spirit.runner.generate = lambda *a: OnnxRunner._generate_uncached(spirit.runner, *a)  # no cache: full re-runs
    assert [spirit.predict_example(ex) for ex in heads[:4]] == cached


def _damaged(src, tmp_path):
    data = src.read_bytes()
    flipped = bytearray(data)
    flipped[len(data) * 2 // 3] ^= 0x10
    for name, content in (("truncated", data[: len(data) // 2]), ("flipped", bytes(flipped)),
                          ("empty", b""), ("garbage", os.urandom(4096))):
        path = tmp_path / f"{name}{src.suffix}"
        path.write_bytes(content)
        yield path


@pytest.mark.parametrize("name", ["tiny.pt", "tiny.gguf"])
def test_damaged_bottles_are_one_clear_line(gguf_built, built_tiny, tmp_path, name):
    for src in (gguf_built / "cellar" / "tiny" / name, built_tiny / "cellar" / "tiny" / "tiny.onnx"):
        for path in _damaged(src, tmp_path):
            with pytest.raises(DistillError) as caught:
                load_spirit(path)
            assert str(path) in str(caught.value) and "\n" not in str(caught.value)
    flipped = tmp_path / f"flipped{os.path.splitext(name)[1]}"
    for command in ("pour", "inspect"):
        result = run_cli(command, str(flipped), *(["hello"] if command == "pour" else []))
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "corrupted" in result.stderr


EMBEDDED_RECIPE_DAMAGE = [  # (where in the embedded Recipe, what is put there): each was a traceback in pour
    (("task", "tools", 1, "parameters", "minutes"), {"a": 1}),
    (("task", "tools", 0, "name"), {}),
    (("task", "tools", 2), -1),
    (("task", "tools", 2, "parameters"), "x"),
    (("task", "tools", 1, "name"), "get_weather"),  # a duplicate tool name: the task's own check
]


@pytest.mark.parametrize("where,value", EMBEDDED_RECIPE_DAMAGE)
def test_a_spirit_whose_embedded_recipe_is_damaged_is_one_line(built_tiny, tmp_path, where, value):
    import torch

    blob = torch.load(built_tiny / "cellar" / "tiny" / "tiny.pt", weights_only=True)
    recipe = json.loads(blob["recipe"])
    node = recipe
    for part in where[:-1]:
        node = node[part]
    node[where[-1]] = value
    damaged = tmp_path / "tiny.pt"
    torch.save({**blob, "recipe": json.dumps(recipe)}, damaged)
    with pytest.raises(DistillError) as caught:
        load_spirit(damaged)
    message = str(caught.value)
    assert message.startswith(f"{damaged}: damaged Spirit metadata 'recipe' at task.tools[") and "rebuild it" in message
    result = run_cli("pour", str(damaged), "set a timer for ten minutes")
    assert result.returncode == 2 and result.stderr.strip() == f"distill: error: {message}"


@pytest.mark.parametrize("key,value", [("proof", "[]"), ("digests", "7"), ("environment", "[1]"),
                                       ("environment", '{"libraries": 3}'), ("lineage", "[3]"), ("recipe", "[]")])
def test_inspect_and_pour_name_a_damaged_record_in_one_line(built_tiny, tmp_path, key, value):
    import torch

    blob = torch.load(built_tiny / "cellar" / "tiny" / "tiny.pt", weights_only=True)
    damaged = tmp_path / "tiny.pt"
    torch.save({**blob, key: value}, damaged)
    result = run_cli("inspect", str(damaged))
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert f"{damaged}: damaged Spirit metadata '{key}'" in result.stderr
    if key in ("environment", "recipe"):  # what pour reads
        result = run_cli("pour", str(damaged), "hello")
        assert result.returncode == 2 and result.stderr.count("\n") == 1 and f"metadata '{key}'" in result.stderr


def test_inspect_shows_what_each_bottle_holds(gguf_built, built_tiny):
    files = [gguf_built / "cellar" / "tiny" / "tiny.pt", built_tiny / "cellar" / "tiny" / "tiny.onnx",
             gguf_built / "cellar" / "tiny" / "tiny.q8_0.gguf"]
    result = run_cli("inspect", *map(str, files))
    assert result.returncode == 0, result.stderr
    for expected in ("pt (PyTorch", "onnx (opset 18", "with KV cache", "gguf (q8_0; architecture llama",
                     "gpt2 BPE vocabulary, pre-tokenizer starcoder", "400 tokens (byte-level BPE, digits split)",
                     "llama decoder: 1 layers", "400 tokens", "tiny (tool_call)", "digest weights", "digest gguf_tensors"):
        assert expected in result.stdout, expected
    labels = json.loads(run_cli("inspect", "--json", *map(str, files)).stdout)
    assert len({label["parameters"] for label in labels}) == 1 and len({label["digests"]["weights"] for label in labels}) == 1
    assert labels[0]["recipe_hash"] == labels[2]["recipe_hash"]


ENCODER_TASKS = {  # head -> the smallest Recipe task that names its outputs (and passes a Spirit's load check)
    "sequence": {"type": "classify", "labels": [{"name": n, "description": f"asks to {n}", "phrasings": [f"{n} please"]}
                                                for n in ("greet", "pay", "leave")]},
    "token": {"type": "ner", "entity_types": [{"name": n, "description": f"a {n.lower()}", "phrasings": [f"it was {{{n}}}"]}
                                              for n in ("PERSON", "CITY")]},
}
ENCODER_TEXTS = ["a short text to classify, with numbers 123", "numbers 9 and 42 in a text", "to", "with with short"]


def _bpe_student(head: str, num_labels: int):
    """A small BERT over a byte-level BPE trained on one sentence (a student from scratch)."""
    from distill.student import build_model, model_config, train_tokenizer

    tokenizer = train_tokenizer(["a short text to classify, with numbers 123"] * 20, 300)
    student = {"arch": "bert", "hidden_size": 64, "layers": 2, "heads": 2, "intermediate_size": 128, "max_length": 32}
    return build_model(model_config(student, tokenizer, head, num_labels), seed=1), tokenizer


def _wordpiece_student(head: str, num_labels: int):
    """A tiny BERT over the real all-MiniLM-L6-v2 tokenizer (uncased WordPiece, 30,522 tokens,
    two token types), as a student grown from minilm-l6 has, without its 22.7M weights."""
    from transformers import BertConfig

    from distill.bases import resolve
    from distill.student import ENCODER_HEADS, build_model

    tokenizer = resolve("minilm-l6", None).tokenizer()
    config = BertConfig(vocab_size=tokenizer.get_vocab_size(), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64, type_vocab_size=2, pad_token_id=0,
                        num_labels=num_labels, architectures=[ENCODER_HEADS[head]])
    return build_model(config, seed=1), tokenizer


ENCODER_STUDENTS = {"bpe": _bpe_student, "wordpiece": _wordpiece_student}


def _encoder_bottle(tmp_path, head: str, gguf_type: str = "f32", vocab: str = "bpe"):
    """A small untrained BERT student with the given head and tokenizer, bottled as .gguf: (model, path)."""
    import torch

    from distill.formats import gguf
    from distill.tasks import task_type

    task = ENCODER_TASKS[head]
    model, tokenizer = ENCODER_STUDENTS[vocab](head, task_type(task["type"]).num_labels(task))
    model.eval()
    with torch.no_grad():  # norms start as ones and zeros: make them distinguishable from one another
        for name, param in model.named_parameters():
            if "LayerNorm" in name:
                param.add_(torch.randn(param.shape, generator=torch.Generator().manual_seed(len(name))) * 0.1)
    meta = {"format": "distillarium-spirit", "name": "enc", "task_type": task["type"],
            "recipe": json.dumps({"name": f"enc-{head}", "task": task}), "recipe_hash": "0" * 32, "config": model.config.to_json_string(),
            "tokenizer": tokenizer.to_str(), "proof": "{}", "digests": "{}"}
    path = tmp_path / f"enc-{head}-{vocab}.{gguf_type}.gguf"
    gguf.write(path, model, tokenizer, meta, {"type": gguf_type})
    return model, path


LLAMA_CPP_BERT_SPOTS = {  # what convert_hf_to_gguf.py names each Hugging Face BERT weight
    "token_types.weight": "bert.embeddings.token_type_embeddings.weight",
    "token_embd_norm.weight": "bert.embeddings.LayerNorm.weight",
    "blk.1.attn_k.weight": "bert.encoder.layer.1.attention.self.key.weight",
    "blk.1.attn_output.weight": "bert.encoder.layer.1.attention.output.dense.weight",
    "blk.1.attn_output_norm.weight": "bert.encoder.layer.1.attention.output.LayerNorm.weight",
    "blk.1.ffn_up.weight": "bert.encoder.layer.1.intermediate.dense.weight",
    "blk.1.ffn_down.weight": "bert.encoder.layer.1.output.dense.weight",
    "blk.1.layer_output_norm.bias": "bert.encoder.layer.1.output.LayerNorm.bias",
    "cls.weight": "bert.pooler.dense.weight",
    "cls.output.weight": "classifier.weight",
}


@pytest.mark.parametrize("head", ["sequence", "token"])
def test_encoder_gguf_is_a_llama_cpp_bert_and_round_trips_its_weights(tmp_path, head):
    """llama.cpp's BERT layout (names as in gguf-py's MODEL_TENSORS, bert.* keys, the head as
    cls / cls.output) and back to the Hugging Face state dict exactly."""
    import gguf
    import torch

    from distill.formats.gguf import dequantised, read, state_dict_from_gguf

    model, path = _encoder_bottle(tmp_path, head)
    _, reader = read(path)
    field = lambda key: reader.fields[key].contents()  # noqa: E731
    config = model.config
    assert field("general.architecture") == "bert" and field("bert.attention.causal") is False
    assert [field(f"bert.{k}") for k in ("context_length", "embedding_length", "feed_forward_length", "block_count",
                                         "attention.head_count")] == [32, 64, 128, 2, 2]
    assert np.isclose(field("bert.attention.layer_norm_epsilon"), config.layer_norm_eps)
    assert field("bert.pooling_type") == (gguf.PoolingType.RANK if head == "sequence" else gguf.PoolingType.NONE)
    assert field("bert.classifier.output_labels") == (["greet", "pay", "leave"] if head == "sequence" else
                                                       ["O", "B-PERSON", "I-PERSON", "B-CITY", "I-CITY"])
    names = {t.name for t in reader.tensors}
    bert_names = {gguf.TENSOR_NAMES[t].format(bid=i) + suffix for t in gguf.MODEL_TENSORS[gguf.MODEL_ARCH.BERT]
                  for i in range(2) for suffix in (".weight", ".bias")}
    assert names <= bert_names, names - bert_names  # llama.cpp refuses a tensor it does not know
    assert {"token_embd.weight", "position_embd.weight", "token_types.weight", "token_embd_norm.bias",
            "blk.1.attn_q.weight", "blk.1.attn_output_norm.weight", "blk.1.ffn_up.bias",
            "blk.1.layer_output_norm.weight", "cls.output.weight", "cls.output.bias"} <= names
    assert ("cls.weight" in names) == (head == "sequence")  # a token head has no pooler
    stored, expected = dict(dequantised(reader)), model.state_dict()
    for gguf_name, hf_name in LLAMA_CPP_BERT_SPOTS.items():
        if gguf_name in stored:
            assert np.array_equal(stored[gguf_name], expected[hf_name].numpy()), gguf_name
    state = state_dict_from_gguf(reader, config)
    assert set(state) == set(expected) and all(torch.equal(state[k], v) for k, v in expected.items())


WORDPIECE_TEXTS = ["What's my balance on the joint account?", "I lost my Visa card yesterday!!",
                   "Email jane.doe@example.com or call +1 (555) 013-4477", "unbelievably tokenization-heavy words",
                   "Café naïve Zürich", "东京 Москва 42"]


def _wordpiece_as_llama_cpp(index: dict, unk: int, word: str) -> list[int]:
    """llama.cpp's WordPiece on one pre-split word: the phantom space in front, then the longest
    token of its vocabulary (token -> id) at each position; a word that does not match through is unk."""
    text, out, i = "\u2581" + word, [], 0
    while i < len(text):
        j = next((j for j in range(len(text), i, -1) if text[i:j] in index), None)
        if j is None:
            return [unk]
        out.append(index[text[i:j]])
        i = j
    return out


@pytest.mark.parametrize("head", ["sequence", "token"])
def test_wordpiece_encoder_gguf_carries_llama_cpp_bert_vocabulary(tmp_path, head):
    """A student grown from minilm-l6 keeps its WordPiece tokenizer: the .gguf holds it as
    llama.cpp's "bert" vocabulary (phantom-space tokens, control specials, [CLS]/[SEP] as
    bos/sep, uncased normalizer), two token types, and its weights back exactly."""
    import gguf
    import torch

    from distill.formats.gguf import dequantised, describe, state_dict_from_gguf
    from distill.spirit import load_spirit
    from distill.student import describe_tokenizer, encode_text

    model, path = _encoder_bottle(tmp_path, head, vocab="wordpiece")
    ours = load_spirit(path, runtime="torch")
    reader = ours.payload  # gguf-py's reader: parsing 30,522 token strings takes seconds, so once
    field = lambda key: reader.fields[key].contents()  # noqa: E731
    vocab = ours.tokenizer.get_vocab()
    tokens, types = field("tokenizer.ggml.tokens"), field("tokenizer.ggml.token_type")
    assert field("tokenizer.ggml.model") == "bert" and field("tokenizer.ggml.pre") == "default"
    assert len(tokens) == len(types) == field("bert.vocab_size") == 30522
    control = [i for i, t in enumerate(types) if t == gguf.TokenType.CONTROL]
    assert control == [0, 100, 101, 102, 103] and [tokens[i] for i in control] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert set(types) == {gguf.TokenType.CONTROL, gguf.TokenType.NORMAL}
    assert tokens[vocab["bank"]] == "\u2581bank" and tokens[vocab["##ing"]] == "ing" and tokens[vocab["!"]] == "\u2581!"
    assert {k: field(f"tokenizer.ggml.{k}_token_id") for k in ("bos", "eos", "seperator", "padding", "unknown", "mask")} == \
        {"bos": 101, "eos": 102, "seperator": 102, "padding": 0, "unknown": 100, "mask": 103}
    assert [field(f"tokenizer.ggml.add_{k}_token") for k in ("bos", "eos", "sep")] == [True, True, False]
    assert field("tokenizer.ggml.normalizer.lowercase") is True and field("tokenizer.ggml.normalizer.strip_accents") is True
    assert field("tokenizer.ggml.token_type_count") == 2
    assert describe_tokenizer(ours.tokenizer) == "WordPiece, uncased"  # what `distill inspect` says of it
    format_line = describe(path, ours.meta, reader)[0]
    assert "architecture bert" in format_line and "llama.cpp-ready, WordPiece vocabulary (llama.cpp bert)" in format_line
    # the phantom-space vocabulary, matched as llama.cpp matches it, gives our ids word for word
    index = {t: n for n, t in enumerate(tokens)}
    for text in WORDPIECE_TEXTS:
        words = [w for w, _ in ours.tokenizer.pre_tokenizer.pre_tokenize_str(ours.tokenizer.normalizer.normalize_str(text))]
        theirs = [i for w in words for i in _wordpiece_as_llama_cpp(index, 100, w)]
        assert theirs == ours.tokenizer.encode(text, add_special_tokens=False).ids, text
    stored = dict(dequantised(reader))
    assert stored["token_types.weight"].shape == (2, 32) and stored["position_embd.weight"].shape == (64, 32)
    expected = model.state_dict()
    state = state_dict_from_gguf(reader, model.config)
    assert set(state) == set(expected) and all(torch.equal(state[k], v) for k, v in expected.items())
    ids = encode_text(ours.tokenizer, WORDPIECE_TEXTS[2], 64)
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits[0].numpy()
    assert np.array_equal(ours.forward(ids), logits)


def test_gguf_refuses_a_tokenizer_llama_cpp_cannot_read_in_one_line(tmp_path):
    import gguf
    from tokenizers import Tokenizer, models

    from distill.formats.gguf_vocab import add_vocabulary

    writer = gguf.GGUFWriter(str(tmp_path / "x.gguf"), "bert")
    unigram = Tokenizer(models.Unigram([("<unk>", 0.0), ("a", -1.0)], 0))
    with pytest.raises(DistillError, match=r"^bottle\.formats: a \.gguf holds a BPE or WordPiece tokenizer, not this Spirit's Unigram"):
        add_vocabulary(writer, unigram)
    bare = Tokenizer(models.WordPiece({"[UNK]": 0, "a": 1}, unk_token="[UNK]"))
    with pytest.raises(DistillError, match=r"needs \[CLS\], \[PAD\], \[SEP\] in the tokenizer"):
        add_vocabulary(writer, bare)


def test_quantised_encoder_keeps_llama_cpp_f32_embeddings(tmp_path):
    from gguf import GGUFReader

    _, path = _encoder_bottle(tmp_path, "sequence", "q4_0")
    types = {t.name: t.tensor_type.name for t in GGUFReader(str(path)).tensors}
    assert types["position_embd.weight"] == types["token_types.weight"] == "F32"
    assert types["blk.0.ffn_up.weight"] == "Q4_0" and types["token_embd.weight"] == "Q8_0"


def test_bottle_keys_per_format_and_type(tmp_path):
    from distill.build import recipe_keys
    from distill.recipe import load_recipe
    from tests.conftest import tiny_recipe_data

    def keys(bottle):
        (tmp_path / "k.yaml").write_text(yaml.safe_dump({**tiny_recipe_data(), "bottle": bottle}))
        return recipe_keys(load_recipe(tmp_path / "k.yaml")).bottles

    both = keys({"gguf_types": ["q8_0", "q4_0"]})
    assert set(both) == {"pt", "onnx", "gguf", "gguf-q4_0"} and len(set(both.values())) == 4
    assert set(keys({"formats": ["gguf"], "gguf_types": ["f16"]})) == {"gguf"}
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump({**tiny_recipe_data(), "bottle": {"gguf_types": ["q5_k"]}}))
    with pytest.raises(RecipeError, match=r"bottle\.gguf_types"):
        load_recipe(tmp_path / "bad.yaml")


@pytest.mark.llama_cpp
@pytest.mark.parametrize("gguf_type", ["f32", "f16", "q8_0", "q4_0"])
def test_llama_cpp_decodes_like_the_pt(gguf_built, gguf_type, tmp_path):
    """Opt-in (pip install llama-cpp-python; pytest -m llama_cpp): llama.cpp loads the file as it is
    and its greedy choices equal the .pt's on every head (lossless f32; reported for the others)."""
    pytest.importorskip("llama_cpp")
    from distill.build import Build
    from distill.formats import gguf, spirit_metadata

    build = Build.from_path(gguf_built / "recipes" / "tiny.yaml", gguf_built / "store")
    path = gguf_built / "cellar" / "tiny" / "tiny.gguf"
    if gguf_type != "f32":  # write the other types beside it from the same trained weights
        model, tokenizer, history = build.load("still")
        path = tmp_path / f"tiny.{gguf_type}.gguf"
        meta = spirit_metadata(build.recipe, model, tokenizer, build.load("notes"), history.get("environment"))
        gguf.write(path, model, tokenizer, meta, {"type": gguf_type})
    heads, trained = _heads_and_trained(gguf_built)
    spirit = load_spirit(path, runtime="llama.cpp")
    assert spirit.runtime == "llama.cpp"
    same = sum(spirit.predict_example(ex) == t for ex, t in zip(heads, trained))
    mismatched = _tokenizer_mismatches(spirit, heads)
    print(f"llama.cpp {gguf_type}: {same}/{len(heads)} heads as the .pt; tokenizer differs on {mismatched} texts")
    assert mismatched == 0
    if gguf_type == "f32":
        assert same == len(heads)


TRICKY_TEXTS = ["convert 2,500.75 USD to EUR", "call  me   at 555 0134", "line one\nline two\n\nthree", "tabs\there",
                "trailing space ", " leading", "don't I'LL we've", "café naïve Zürich 東京 Москва", "emoji 🎉 ok",
                "½ ² ٣ ७", "a</s>b <s> <pad>", "\u00a0nbsp"]


def _tokenizer_mismatches(spirit, heads) -> int:
    """llama.cpp's own tokenizer (gpt2 BPE, starcoder pre-tokenizer) against ours on every head
    prompt and some awkward text. special=True: ours, too, reads "</s>" in text as the token."""
    from distill.tasks.tool_call import student_prompt

    texts = [student_prompt(ex["shown"], ex["input"]["text"]) for ex in heads] + TRICKY_TEXTS
    return sum(spirit.tokenizer.encode(text, add_special_tokens=False).ids
               != spirit.runner.llm.tokenize(text.encode(), add_bos=False, special=True) for text in texts)


@pytest.mark.llama_cpp
@pytest.mark.parametrize("vocab", ["bpe", "wordpiece"])
@pytest.mark.parametrize("head", ["sequence", "token"])
def test_llama_cpp_runs_encoders_like_torch(tmp_path, head, vocab):
    """Opt-in: llama.cpp loads an encoder bottle as a BERT (the auto runtime picks it) and gives
    torch's logits (up to its tanh GELU) and the same predictions; with a WordPiece student's
    vocabulary, its own tokenizer gives our ids too."""
    pytest.importorskip("llama_cpp")
    from distill.spirit import load_spirit

    _, path = _encoder_bottle(tmp_path, head, vocab=vocab)
    cpp, torch_spirit = load_spirit(path, runtime="auto"), load_spirit(path, runtime="torch")
    assert cpp.runtime == "llama.cpp" and type(cpp.runner).__name__ == "LlamaCppEncoderRunner"
    for text in ENCODER_TEXTS + (WORDPIECE_TEXTS if vocab == "wordpiece" else []):
        ids = cpp.tokenizer.encode(text).ids
        ours, theirs = torch_spirit.forward(ids), cpp.forward(ids)
        assert ours.shape == theirs.shape and np.allclose(ours, theirs, atol=1e-3)
        assert cpp.predict(text) == torch_spirit.predict(text)
    if vocab == "wordpiece":
        texts = ENCODER_TEXTS + WORDPIECE_TEXTS + TRICKY_TEXTS + list(LLAMA_CPP_WORDPIECE_DIFFERS)
        assert _wordpiece_mismatches(cpp, texts) == list(LLAMA_CPP_WORDPIECE_DIFFERS)


LLAMA_CPP_WORDPIECE_DIFFERS = {  # measured with llama-cpp-python 0.3.36; `distill pour` feeds llama.cpp our ids
    "x" * 101: "a word over 100 characters: ours is [UNK] (max_input_chars_per_word), llama.cpp splits it",
    "हिन्दी भाषा": "llama.cpp strips every mark (\\p{M}), ours (BertNormalizer) only Mn: the Mc vowel signs go",
    "한국어": "llama.cpp's NFD keeps one code point per character: a Hangul syllable becomes its first jamo",
}


def _wordpiece_mismatches(spirit, texts) -> list[str]:
    """Texts where llama.cpp's own tokenizer (the file's "bert" vocabulary, [CLS] and [SEP] added)
    gives other ids than our encoder input. special=True: ours, too, reads "[SEP]" in text as the token."""
    from distill.student import encode_text

    return [text for text in texts if encode_text(spirit.tokenizer, text, 10_000)
            != spirit.runner.llm.tokenize(text.encode(), add_bos=True, special=True)]
