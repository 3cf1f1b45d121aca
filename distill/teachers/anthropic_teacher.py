"""Anthropic teacher: the Messages API with one forced tool whose input schema is the request's
schema, so Claude answers with a JSON object of the right shape (tool use as structured output).

The Messages API of this SDK generation takes no temperature; teacher.temperature still keys the
Mash (a different value is a different Recipe) but is not sent.
"""
import json

import anthropic

from . import Answer
from .remote import SYSTEM, RemoteTeacher, max_output_tokens, stainless_failure, wire_prompt

TOOL = "answer"


class Teacher(RemoteTeacher):
    provider, key_env, example_model = "anthropic", ("ANTHROPIC_API_KEY",), "claude-sonnet-4-5"

    def connect(self):
        extra = {"base_url": self.settings["base_url"]} if self.settings.get("base_url") else {}
        # max_retries=0: TeacherClient is the one retry policy
        return anthropic.Anthropic(api_key=self.key, timeout=self.settings["timeout_s"], max_retries=0, **extra)

    def complete(self, request: dict) -> Answer:
        s = self.settings
        response = self.client.messages.create(
            model=s["model"], max_tokens=max_output_tokens(s), system=SYSTEM,
            messages=[{"role": "user", "content": wire_prompt(request)}],
            tools=[{"name": TOOL, "description": "Give the answer.", "input_schema": request["schema"]}],
            tool_choice={"type": "tool", "name": TOOL})
        usage = response.usage
        return Answer(text=_answer_text(response.content), input_tokens=usage.input_tokens if usage else 0,
                      output_tokens=usage.output_tokens if usage else 0, model=response.model or s["model"])

    def classify(self, exc):
        return stainless_failure(exc, anthropic)


def _answer_text(blocks) -> str:
    """The forced tool call's input as JSON; plain text blocks if the model answered in prose."""
    for block in blocks or []:
        if getattr(block, "type", "") == "tool_use" and block.name == TOOL:
            return json.dumps(block.input, ensure_ascii=False)
    return "".join(getattr(block, "text", "") or "" for block in blocks or [])
