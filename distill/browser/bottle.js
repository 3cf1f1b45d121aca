// The page around the Spirit: decode the embedded blocks, start onnxruntime-web (WebAssembly, one
// thread: a page opened from disk is not cross-origin isolated, so no shared memory), pour on click.
// Other pages and tests use it through window.distill ({ready, pour, pourMany}); a Cellar page that
// holds this bottle in an iframe asks it by postMessage ({distill: "pour", id, text}).
"use strict";

async function bytesOf(id) {
  const text = document.getElementById(id).textContent;
  if (Uint8Array.fromBase64) return Uint8Array.fromBase64(text);
  return new Uint8Array(await (await fetch(`data:application/octet-stream;base64,${text}`)).arrayBuffer());
}

async function startRuntime() {
  const code = new Blob([await bytesOf("ort-module")], { type: "text/javascript" });
  const ort = await import(URL.createObjectURL(code));
  ort.env.wasm.wasmBinary = await bytesOf("ort-wasm");
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = "error";
  return ort;
}

function rowsOf(tensor) {  // [1, tokens, outputs] or [1, outputs] -> one Float32Array per row
  const width = tensor.dims[tensor.dims.length - 1], rows = [];
  for (let at = 0; at < tensor.data.length; at += width) rows.push(tensor.data.subarray(at, at + width));
  return rows;
}

async function startSqlite() {  // sql.js, embedded only in text-to-SQL bottles
  if (!document.getElementById("sqljs-module")) return null;
  const code = new TextDecoder().decode(await bytesOf("sqljs-module"));
  const initSqlJs = new Function(`${code}\nreturn initSqlJs;`)();
  return initSqlJs({ wasmBinary: await bytesOf("sqljs-wasm") });
}

function emptyCache(ort, session, config) {  // [1, kv_heads, 0, head_dim] per past_key_values input
  const kv = config.num_key_value_heads ?? config.num_attention_heads;
  const dim = config.head_dim ?? config.hidden_size / config.num_attention_heads;
  const names = session.inputNames.filter((n) => n.startsWith("past_key_values."));
  return Object.fromEntries(names.map((n) => [n, new ort.Tensor("float32", new Float32Array(0), [1, kv, 0, dim])]));
}

async function runDecoder(spirit, promptIds, maxNew, eosId, pick) {  // runtimes/onnxruntime.py's cached loop
  const { ort, session, config } = spirit;
  const int64 = (ids, dims) => new ort.Tensor("int64", BigInt64Array.from(ids, BigInt), dims);
  let feeds = { input_ids: int64(promptIds, [1, promptIds.length]), ...emptyCache(ort, session, config) };
  let length = promptIds.length;
  const outIds = [];
  for (let step = 0; step < maxNew; step++) {
    feeds.attention_mask = int64(new Array(length).fill(1), [1, length]);
    const out = await session.run(feeds);
    const rows = rowsOf(out.logits), nextId = pick(rows[rows.length - 1], outIds);
    if (nextId === eosId) break;
    outIds.push(nextId);
    feeds = { input_ids: int64([nextId], [1, 1]) };
    for (const name of Object.keys(out)) if (name.startsWith("present.")) feeds[name.replace("present.", "past_key_values.")] = out[name];
    length += 1;
  }
  return outIds;
}

async function loadSpirit() {
  const meta = JSON.parse(document.getElementById("distill-meta").textContent);
  const [ort, SQL] = await Promise.all([startRuntime(), startSqlite()]);
  const session = await ort.InferenceSession.create(await bytesOf("distill-graph"), { executionProviders: ["wasm"] });
  const tokenizer = new DistillTokenizer.Tokenizer(meta.tokenizer);
  const recipe = JSON.parse(meta.recipe), config = JSON.parse(meta.config);
  const positions = config.max_position_embeddings ?? 512;
  const int64 = (ids) => new ort.Tensor("int64", BigInt64Array.from(ids, BigInt), [1, ids.length]);
  return {
    meta, recipe, config, tokenizer, session, ort, SQL,
    maxLength: Math.min(positions, (recipe.student || {}).max_length ?? positions),
    special: tokenizer.specialIds(),
    async forward(ids) {
      const out = await session.run({ input_ids: int64(ids), attention_mask: int64(ids.map(() => 1)) });
      return rowsOf(out.logits);
    },
    generate(promptIds, maxNew, eosId, pick) { return runDecoder(this, promptIds, maxNew, eosId, pick); },
  };
}

function pyJson(value) {  // json.dumps(value, ensure_ascii=False): what `distill pour` prints
  if (Array.isArray(value)) return `[${value.map(pyJson).join(", ")}]`;
  if (value && typeof value === "object") {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${pyJson(v)}`).join(", ")}}`;
  }
  if (typeof value === "number" && Number.isInteger(value) && !Object.is(value, -0)) return String(value);
  return JSON.stringify(value);
}

function shown(spirit, text, answer) {
  return spirit.recipe.task.type === "ner" ? `${DistillTasks.redact([...text], answer.spans)}\n\n${pyJson(answer)}` : pyJson(answer);
}

const distill = (() => {
  const ready = loadSpirit();
  const pour = async (text, context) => DistillTasks.pour(await ready, text, context);
  async function pourMany(items) {  // [{text, context}] -> [{answer, ms}], in order
    const spirit = await ready, out = [];
    for (const { text, context } of items) {
      const started = performance.now();
      const answer = await DistillTasks.pour(spirit, text, context);
      out.push({ answer, ms: performance.now() - started });
    }
    return out;
  }
  return { ready, pour, pourMany, pyJson, shown };
})();
window.distill = distill;

function describe(spirit) {
  const proof = JSON.parse(spirit.meta.proof);
  document.getElementById("name").textContent = `${spirit.meta.name} — a Distillarium Spirit`;
  document.getElementById("about").textContent = `${spirit.recipe.task.type} · proof ${proof.degrees ?? "?"} ${proof.metric ?? ""}` +
    ` on ${proof.n ?? "?"} heads · recipe ${spirit.meta.recipe_hash.slice(0, 12)} · ${Number(spirit.meta.parameters).toLocaleString("en")} parameters`;
}

distill.ready.then((spirit) => {
  describe(spirit);
  const button = document.getElementById("pour"), input = document.getElementById("input");
  button.disabled = false;
  document.body.dataset.ready = "true";
  if (window.parent !== window) window.parent.postMessage({ distill: "ready" }, "*");  // a Cellar page's tasting box
  button.addEventListener("click", async () => {
    const started = performance.now();
    const answer = await distill.pour(input.value);
    document.getElementById("answer").textContent = shown(spirit, input.value, answer);
    document.getElementById("timing").textContent = `${(performance.now() - started).toFixed(1)} ms`;
  });
}, (err) => {
  document.getElementById("about").textContent = `This Spirit could not start: ${err}`;
  document.body.dataset.ready = "failed";
});

window.addEventListener("message", async (event) => {  // the Cellar's tasting box
  const ask = event.data;
  if (ask && ask.distill === "ping") {  // a page that started listening late asks again
    distill.ready.then(() => event.source.postMessage({ distill: "ready" }, "*"));
    return;
  }
  if (!ask || ask.distill !== "pour") return;
  try {
    const spirit = await distill.ready, answer = await distill.pour(ask.text, ask.context);
    event.source.postMessage({ distill: "answer", id: ask.id, answer, shown: shown(spirit, ask.text, answer) }, "*");
  } catch (err) {
    event.source.postMessage({ distill: "answer", id: ask.id, error: String(err) }, "*");
  }
});
