"""Gemini teacher (Gemini API, v1beta): generateContent with response_mime_type=application/json
and the request's JSON schema as response_json_schema."""
from google import genai
from google.genai import errors, types

from . import Answer
from .policy import Failure, one_line, status_failure
from .remote import SYSTEM, RemoteTeacher, common_failure, sample_seed, wire_prompt


class Teacher(RemoteTeacher):
    provider, key_env, example_model = "gemini", ("GEMINI_API_KEY", "GOOGLE_API_KEY"), "gemini-2.5-flash"

    def connect(self):
        # attempts=1: TeacherClient is the one retry policy
        options = types.HttpOptions(api_version="v1beta", timeout=int(self.settings["timeout_s"] * 1000),
                                    retry_options=types.HttpRetryOptions(attempts=1),
                                    base_url=self.settings.get("base_url"))
        return genai.Client(api_key=self.key, vertexai=False, http_options=options)

    def complete(self, request: dict) -> Answer:
        s = self.settings
        config = types.GenerateContentConfig(
            system_instruction=SYSTEM, temperature=s["temperature"], seed=sample_seed(self.seed, request),
            response_mime_type="application/json", response_json_schema=request["schema"],
            max_output_tokens=s.get("max_output_tokens"))
        response = self.client.models.generate_content(model=s["model"], contents=wire_prompt(request), config=config)
        usage = response.usage_metadata
        thoughts = (usage.thoughts_token_count or 0) if usage else 0  # thinking is billed as output
        return Answer(text=_answer_text(response), input_tokens=(usage.prompt_token_count or 0) if usage else 0,
                      output_tokens=((usage.candidates_token_count or 0) + thoughts) if usage else 0,
                      model=response.model_version or s["model"])

    def classify(self, exc):
        if isinstance(exc, errors.APIError):
            return status_failure(int(exc.code or 0), exc.message or exc, getattr(exc.response, "headers", None))
        # this SDK lets httpx transport errors through unwrapped (httpx or its fork httpx2)
        names = {cls.__name__ for cls in type(exc).__mro__ if cls.__module__.split(".")[0] in ("httpx", "httpx2")}
        if "TimeoutException" in names:
            return Failure(True, "timed out (teacher.timeout_s)")
        if "TransportError" in names:
            return Failure(True, f"connection failed: {one_line(exc)}")
        return common_failure(exc)


def _answer_text(response) -> str:
    """The first candidate's text parts, without thought summaries."""
    if not response.candidates or not response.candidates[0].content:
        return ""
    parts = response.candidates[0].content.parts or []
    return "".join(part.text or "" for part in parts if not part.thought)
