"""Distillarium: a teacher LLM writes a Mash, a small student is trained on it, and the result is
bottled as a self-contained Spirit (.pt / .onnx) with its tokenizer, Recipe and Tasting Notes."""

__version__ = "0.1.0"
