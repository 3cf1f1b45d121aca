// Constrained greedy decoding for decoder Spirits: distill/decoding.py's choose() and
// spirit.py's Spirit.generate(), so the page picks every token exactly as `distill pour` does.
"use strict";

function tokenPieces(tokenizer) {  // decoding.TokenPieces: the text of each token id alone
  const size = Object.keys(tokenizer.vocab).length + tokenizer.added.filter((t) => !(t.content.join("") in tokenizer.vocab)).length;
  return Array.from({ length: size }, (_, id) => tokenizer.decode([id], false));
}

function choose(logits, textSoFar, pieces, valid, eosId, complete) {  // decoding.choose
  const mayStop = !complete || complete(textSoFar);
  let best = 0;
  for (let t = 1; t < logits.length; t++) if (logits[t] > logits[best]) best = t;
  if (!valid && (mayStop || best !== eosId)) return best;
  const order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b);  // stable, as argsort
  for (const token of order) {
    if (token === eosId) {
      if (mayStop) return token;
    } else if (!valid || valid(textSoFar + pieces[token])) return token;
  }
  return eosId;
}

async function generate(spirit, promptIds, valid, complete) {  // Spirit.generate: the longest whole answer
  const pieces = spirit.pieces || (spirit.pieces = tokenPieces(spirit.tokenizer));
  const eos = spirit.special.eos;
  const pick = (logits, outIds) => choose(logits, spirit.tokenizer.decode(outIds), pieces, valid, eos, complete);
  const budget = Math.max(1, spirit.maxLength - promptIds.length);
  const outIds = await spirit.generate(promptIds, budget, eos, pick);
  const text = spirit.tokenizer.decode(outIds);
  if (!complete || complete(text)) return text;
  for (let end = outIds.length - 1; end > 0; end--) {  // the window ran out before a whole answer
    const shorter = spirit.tokenizer.decode(outIds.slice(0, end));
    if (complete(shorter)) return shorter;
  }
  return text;
}

const DistillDecoding = { choose, generate, tokenPieces };
if (typeof module !== "undefined") module.exports = DistillDecoding;
