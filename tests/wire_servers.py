"""A teacher on 127.0.0.1 that speaks the OpenAI, Anthropic and Gemini wire protocols for the
calls their SDKs make, writes plausible tool-calling answers, and injects faults on demand."""
import hashlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CITIES = ["Lisbon", "Tokyo", "Nairobi", "Chicago", "Berlin", "Lima", "Oslo", "Mumbai", "Sydney", "Toronto", "Cairo"]


def _answer(prompt: str, counter: int) -> dict:
    """What a careful teacher would answer: utterances for an inputs prompt, a call for a targets one."""
    count = re.search(r"Write (\d+) different", prompt)
    if count:
        n = int(count.group(1))
        tool_line = re.search(r"Tool: (\{.*\})\n", prompt)
        if tool_line is None:  # the "none" shard: requests no tool serves
            return {"utterances": [{"text": f"tell me a joke #{counter}-{i}"} for i in range(n)]}
        tool = json.loads(tool_line.group(1))["name"]
        if tool == "get_weather":
            return {"utterances": [{"text": f"weather in {CITIES[(counter * n + i) % len(CITIES)]} please #{counter}-{i}"}
                                   for i in range(n)]}
        return {"utterances": [{"text": f"timer for {1 + (counter * n + i) % 97} minutes ref {counter}-{i}"} for i in range(n)]}
    request = re.search(r"Request: (.*)\n\nAnswer", prompt, re.S).group(1)
    city = re.search(r"weather in (\w+)", request)
    if city:
        return {"name": "get_weather", "arguments": {"city": city.group(1)}}
    minutes = re.search(r"timer for (\d+)", request)
    if minutes is None:
        return {"name": None}
    return {"name": "set_timer", "arguments": {"minutes": int(minutes.group(1))}}


class WireServer:
    """Start with `with WireServer() as server:`; `server.faults` is consumed one per request."""

    def __init__(self, latency_s=0.0, hang_s=2.0):
        self.faults, self.latency_s, self.hang_s = [], latency_s, hang_s
        self.requests, self.answered, self.lock, self.counter = [], [], threading.Lock(), 0
        self.in_flight = self.max_in_flight = 0  # requests being served at once, and the most seen
        self.credentials = []  # every request's key, as each SDK sends it (Authorization, x-api-key, x-goog-api-key)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True

    @property
    def url(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                with server.lock:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    self._post()
                finally:
                    with server.lock:
                        server.in_flight -= 1

            def _post(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                digest = hashlib.sha256(body).hexdigest()
                key = " ".join(self.headers.get(h, "") for h in ("Authorization", "x-api-key", "x-goog-api-key"))
                with server.lock:
                    server.requests.append(digest)
                    server.credentials.append(key)
                    fault = server.faults.pop(0) if server.faults else None
                    server.counter += 1
                    counter = server.counter
                if server.latency_s:
                    time.sleep(server.latency_s)
                if fault == "hang":
                    time.sleep(server.hang_s)
                    return
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if fault in ("429", "500", "503"):
                    return self._send(int(fault), {"error": {"message": "injected", "type": "injected"}},
                                      {"Retry-After": "0.05"} if fault == "429" else {})
                request = json.loads(body)
                prompt = self._prompt(request)
                answer = _answer(prompt, counter)
                if fault == "schema":
                    answer = {"name": "no_such_tool", "arguments": {}} if "name" in answer else {"utterances": "nope"}
                text = "{not json" if fault == "badjson" else json.dumps(answer)
                payload = self._wrap(request, answer, text)
                if fault == "truncated":
                    data = json.dumps(payload).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self._send(200, payload)
                with server.lock:
                    server.answered.append(digest)

            def _prompt(self, request):
                if "contents" in request:  # Gemini
                    return "".join(p.get("text", "") for c in request["contents"] for p in c.get("parts", []))
                content = request["messages"][-1]["content"]
                return content if isinstance(content, str) else "".join(b.get("text", "") for b in content)

            def _wrap(self, request, answer, text):
                usage_in, usage_out = len(self._prompt(request)) // 4, len(text) // 4
                if self.path.endswith("/chat/completions"):
                    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": request["model"] + "-2024",
                            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                            "usage": {"prompt_tokens": usage_in, "completion_tokens": usage_out, "total_tokens": usage_in + usage_out}}
                if self.path.endswith("/messages"):
                    block = ({"type": "text", "text": text} if text.startswith("{not")
                             else {"type": "tool_use", "id": "toolu_1", "name": "answer", "input": answer})
                    return {"id": "msg_1", "type": "message", "role": "assistant", "model": request["model"],
                            "content": [block], "stop_reason": "tool_use", "stop_sequence": None,
                            "usage": {"input_tokens": usage_in, "output_tokens": usage_out}}
                model = self.path.split("/models/")[1].split(":")[0]
                return {"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP",
                                        "index": 0}], "modelVersion": model + "-001",
                        "usageMetadata": {"promptTokenCount": usage_in, "candidatesTokenCount": usage_out,
                                          "totalTokenCount": usage_in + usage_out}}

            def _send(self, status, payload, headers=None):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler
