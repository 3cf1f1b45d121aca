"""OpenAI teacher (and any OpenAI-compatible server via teacher.base_url): Chat Completions with
the request's JSON schema as response_format, so answers come back as JSON of the right shape."""
import openai

from . import Answer
from .remote import SYSTEM, RemoteTeacher, sample_seed, stainless_failure, wire_prompt


class Teacher(RemoteTeacher):
    provider, key_env, example_model = "openai", ("OPENAI_API_KEY",), "gpt-4o"

    def connect(self):
        extra = {"base_url": self.settings["base_url"]} if self.settings.get("base_url") else {}
        # max_retries=0: TeacherClient is the one retry policy
        return openai.OpenAI(api_key=self.key, timeout=self.settings["timeout_s"], max_retries=0, **extra)

    def complete(self, request: dict) -> Answer:
        s = self.settings
        extra = {"max_completion_tokens": s["max_output_tokens"]} if s.get("max_output_tokens") else {}
        # strict=False: the schemas keep free-form objects (tool arguments), which strict mode forbids
        response = self.client.chat.completions.create(
            model=s["model"], temperature=s["temperature"], seed=sample_seed(self.seed, request),
            messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": wire_prompt(request)}],
            response_format={"type": "json_schema",
                             "json_schema": {"name": request["step"], "schema": request["schema"], "strict": False}},
            **extra)
        text = (response.choices[0].message.content or "") if response.choices else ""
        usage = response.usage
        return Answer(text=text, input_tokens=usage.prompt_tokens if usage else 0,
                      output_tokens=usage.completion_tokens if usage else 0, model=response.model or s["model"])

    def classify(self, exc):
        return stainless_failure(exc, openai)
