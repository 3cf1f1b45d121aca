// Tool calling with the decoder design: the prompt lists the offered tools (shortlisted when there
// are many), the call is decoded under distill/tasks/call_grammar.py's grammar, ported state for
// state, and read into the API call by normalise.js (tool_call.predict for `student.arch: llama`).
"use strict";

const CN = typeof DistillNormalise !== "undefined" ? DistillNormalise : require("./normalise.js");
const CS = typeof DistillShortlist !== "undefined" ? DistillShortlist : require("./shortlist.js");
const CD = typeof DistillDecoding !== "undefined" ? DistillDecoding : require("./decoding.js");
const CT = typeof DistillTasks !== "undefined" ? DistillTasks : require("./tasks.js");
const NONE = "none", CALL_RESERVE = 64;  // tool_call.NONE, tool_call.OUTPUT_RESERVE
const hasOwn = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

class CallInvalid extends Error {}

function enumNames(param) {
  const values = param.values || [];
  return Array.isArray(values) ? values.map(String) : Object.keys(values);
}

function pad2Local(n) { return String(n).padStart(2, "0"); }
function todayHere() { const d = new Date(); return `${d.getFullYear()}-${pad2Local(d.getMonth() + 1)}-${pad2Local(d.getDate())}`; }

class CallGrammar {
  constructor(tools, shown, text) {
    this.tools = Object.fromEntries(tools.map((t) => [t.name, t]));
    this.shown = shown.filter((n) => hasOwn(this.tools, n));
    this.text = text.toLowerCase();
    this.today = todayHere();  // CallGrammar(today=None): the day it runs, as in Python
  }

  valid(output) { try { this.scan(output); return true; } catch (e) { if (e instanceof CallInvalid) return false; throw e; } }

  complete(output) {
    let state;
    try { state = this.scan(output); } catch (e) { if (e instanceof CallInvalid) return false; throw e; }
    if (state.phase === "name") return state.name === NONE || (this.shown.includes(state.name) && !this.required(state.name).length);
    return state.phase === "done";
  }

  call(output, today) {  // the API call an output stands for; unfinished or unreadable: no call
    let state;
    try { state = this.scan(output); } catch (e) { if (e instanceof CallInvalid) return { name: null }; throw e; }
    if (state.name === NONE || !this.shown.includes(state.name)) return { name: null };
    if (state.phase !== "done" && state.phase !== "name") return { name: null };
    const params = this.tools[state.name].parameters, args = {};
    for (const [key, raw] of Object.entries(state.members)) {
      const value = CN.value(params[key], raw, today);
      if (value === null || value === undefined) return { name: null };
      args[key] = value;
    }
    if (Object.entries(params).some(([k, p]) => p.required && !hasOwn(args, k))) return { name: null };
    return { name: state.name, arguments: Object.fromEntries(Object.keys(args).sort().map((k) => [k, args[k]])) };
  }

  required(name) { return Object.entries(this.tools[name].parameters).filter(([, p]) => p.required).map(([k]) => k); }
  param(state) { return this.tools[state.name].parameters[state.key]; }

  scan(output) {
    const state = { name: "", used: [], members: {}, phase: "name", key: "", buffer: "", items: [], escaped: false };
    for (const ch of output.startsWith(" ") ? output.slice(1) : output) this[`on_${state.phase}`](state, ch);
    if (state.phase === "name" && ![...this.shown, NONE].some((n) => n.startsWith(state.name))) throw new CallInvalid();
    return state;
  }

  on_name(state, ch) {
    if (ch === " ") {
      if (state.name === NONE || !this.shown.includes(state.name)) throw new CallInvalid();
      state.phase = "object";
      return;
    }
    state.name += ch;
  }

  on_object(state, ch) { if (ch !== "{") throw new CallInvalid(); state.phase = "key_or_close"; }

  on_key_or_close(state, ch) {
    if (ch === "}") this.close(state);
    else if (ch === '"') { state.phase = "key"; state.key = ""; } else if (ch !== " ") throw new CallInvalid();
  }

  on_key(state, ch) {
    const params = this.tools[state.name].parameters;
    if (ch === '"') {
      if (!hasOwn(params, state.key) || state.used.includes(state.key)) throw new CallInvalid();
      state.used.push(state.key);
      state.phase = "colon";
      return;
    }
    state.key += ch;
    if (!Object.keys(params).some((p) => p.startsWith(state.key) && !state.used.includes(p))) throw new CallInvalid();
  }

  on_colon(state, ch) { if (ch === ":") state.phase = "value"; else if (ch !== " ") throw new CallInvalid(); }

  on_value(state, ch) {
    if (ch === " ") return;
    const kind = this.param(state).type;
    if (kind === "boolean") {
      if (!"tf".includes(ch)) throw new CallInvalid();
      state.phase = "literal"; state.buffer = ch;
    } else if (kind === "array") {
      if (ch !== "[") throw new CallInvalid();
      state.phase = "array"; state.items = [];
    } else if (ch === '"') {
      state.phase = "string"; state.buffer = ""; state.escaped = false;
    } else throw new CallInvalid();
  }

  on_literal(state, ch) {
    if (",} ".includes(ch) && (state.buffer === "true" || state.buffer === "false")) {
      state.members[state.key] = state.buffer === "true";
      state.phase = "after";
      return this.on_after(state, ch);
    }
    state.buffer += ch;
    if (!("true".startsWith(state.buffer) || "false".startsWith(state.buffer))) throw new CallInvalid();
  }

  on_string(state, ch) {
    if (state.escaped) { state.buffer += { n: "\n", t: "\t" }[ch] ?? ch; state.escaped = false; } else if (ch === "\\") {
      state.escaped = true;
      return;
    } else if (ch === '"') return this.endString(state);
    else state.buffer += ch;
    const param = this.param(state);
    if (param.type === "enum") {
      if (!enumNames(param).some((v) => v.startsWith(state.buffer))) throw new CallInvalid();
    } else if (!this.text.includes(state.buffer.toLowerCase())) throw new CallInvalid();
  }

  endString(state) {
    const param = this.param(state), words = state.buffer;
    if (param.type === "enum") {
      if (!enumNames(param).includes(words)) throw new CallInvalid();
    } else if (!CT.pyStrip([...words]).length || CN.value(param, words, this.today) === null || !this.inRange(param, words)) {
      throw new CallInvalid();
    }
    state.members[state.key] = words;
    state.phase = "after";
  }

  inRange(param, words) {
    if (param.type !== "integer" && param.type !== "number") return true;
    const value = CN.value(param, words, this.today);
    return (param.minimum ?? -Infinity) <= value && value <= (param.maximum ?? Infinity);
  }

  on_array(state, ch) {
    if (ch === " ") return;
    if (ch === "]" && state.items.length) { state.members[state.key] = [...state.items]; state.phase = "after"; return; }
    if (ch !== '"') throw new CallInvalid();
    state.phase = "array_item"; state.buffer = ""; state.escaped = false;
  }

  on_array_item(state, ch) {
    if (state.escaped) { state.buffer += ch; state.escaped = false; } else if (ch === "\\") { state.escaped = true; return; } else if (ch === '"') {
      if (!CT.pyStrip([...state.buffer]).length || !this.text.includes(state.buffer.toLowerCase())) throw new CallInvalid();
      state.items.push(state.buffer);
      state.phase = "array_after";
      return;
    } else state.buffer += ch;
    if (!this.text.includes(state.buffer.toLowerCase())) throw new CallInvalid();
  }

  on_array_after(state, ch) {
    if (ch === ",") state.phase = "array";
    else if (ch === "]") { state.members[state.key] = [...state.items]; state.phase = "after"; } else if (ch !== " ") throw new CallInvalid();
  }

  on_after(state, ch) {
    if (ch === ",") state.phase = "key_open";
    else if (ch === "}") this.close(state);
    else if (ch !== " ") throw new CallInvalid();
  }

  on_key_open(state, ch) { if (ch === '"') { state.phase = "key"; state.key = ""; } else if (ch !== " ") throw new CallInvalid(); }

  close(state) {
    if (this.required(state.name).some((k) => !hasOwn(state.members, k))) throw new CallInvalid();
    state.phase = "done";
  }

  on_done() { throw new CallInvalid(); }
}

const callPrompt = (tools, text) => `tools: ${tools.join(" ")}\nuser: ${text}\ncall:`;  // tool_call.student_prompt

function offered(task, tools, text) {  // tool_call.offered
  const names = tools && tools.length ? [...tools] : task.tools.map((t) => t.name);
  const limit = task.shortlist ?? 8;
  return names.length <= limit ? names : CS.shortlist(task, text, names, limit);
}

CT.TASKS["tool_call:llama"] = {
  budget(spirit, context) {
    const task = spirit.recipe.task, shown = offered(task, (context || {}).tools, "").slice(0, task.shortlist ?? 8);
    return spirit.maxLength - CALL_RESERVE - (1 + spirit.tokenizer.encode(callPrompt(shown, "")).ids.length);
  },
  async predict(spirit, chars, context) {
    const task = spirit.recipe.task, text = chars.join("");
    const shown = offered(task, context.tools, text);
    const grammar = new CallGrammar(task.tools, shown, text);
    const ids = [spirit.special.bos, ...spirit.tokenizer.encode(callPrompt(shown, text)).ids];
    const output = await CD.generate(spirit, ids, (o) => grammar.valid(o), (o) => grammar.complete(o));
    return grammar.call(output, context.today || todayHere());
  },
};

const DistillCallGrammar = { CallGrammar, offered };
if (typeof module !== "undefined") module.exports = DistillCallGrammar;
