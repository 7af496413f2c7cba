"""In-process llama.cpp through llama-cpp-python's low-level API.

Many requests share one ``llama_decode``: each request is its own sequence id in a unified KV
cache, a shared prompt prefix is evaluated once as tokens that belong to every sequence, and
logits are requested only for the positions a score needs (never the whole vocabulary head
for every token). The KV state of each scored context is saved (within ``kv_cache_mb``) and
restored when the same context is scored again, so a hot gloss judged for a new query costs
only the query's tokens. Generation decodes all active sequences together, one token each
per step.
"""

from __future__ import annotations

import ctypes
import os
import threading
from typing import Sequence

import numpy as np

from ..errors import BackendError
from ..models import EMBEDDED, resolve_model
from .base import GenerateRequest, Grounding, Model, ScoreRequest
from . import decoding
from .capture import HiddenCapture
from .llama_probe import load_model
from .lora import apply_lora, merged_model
from .kvstates import KVStates
from .shortlist import OutputHead, Support, make_extra, make_support, shortlist_logprobs

_INIT_LOCK = threading.Lock()
_INITIALISED = False
_LOG_CALLBACK = None


def _quiet_llama(lc) -> None:
    """Initialise the backend once and route llama.cpp's logging to nowhere."""
    global _INITIALISED, _LOG_CALLBACK
    with _INIT_LOCK:
        if _INITIALISED:
            return
        _LOG_CALLBACK = lc.llama_log_callback(lambda level, text, data: None)
        lc.llama_log_set(_LOG_CALLBACK, ctypes.c_void_p(0))
        lc.llama_backend_init()
        _INITIALISED = True


LOGITS_BUDGET_BYTES = 256 << 20  # logit rows one decode may hold (see max_outputs)


class LlamaCppModel(Model):
    backend_name = "llamacpp"
    can_score_logprobs = True
    supports_prefix_cache = True
    supports_grounding = True
    max_batch = 64
    settings = {"n_ctx": "n_ctx", "n_threads": "threads", "kv_cache_mb": "kv_cache_mb",
                "shortlist": "judge_shortlist"}
    judge_settings = {"lora_path": "judge_adapter"}  # for the judge's model only

    def __init__(
        self,
        model: str | None = None,
        n_ctx: int = 8192,
        n_ubatch: int = 512,
        n_threads: int | None = None,
        repeat_penalty: float = 1.15,
        kv_cache_mb: int = 0,
        shortlist: int = 4096,
        lora_path: str = "",
    ):
        import llama_cpp as lc

        self._lc = lc
        self.model_id, self.path = resolve_model(model)
        _quiet_llama(lc)
        self._lock = threading.Lock()
        merged = merged_model(lora_path, self.path) if lora_path else None
        self._model = load_model(lc, merged[0] if merged else self.path)
        self._vocab = lc.llama_model_get_vocab(self._model)
        self.n_vocab = lc.llama_vocab_n_tokens(self._vocab)
        threads = n_threads or os.cpu_count() or 1
        cparams = lc.llama_context_default_params()
        cparams.n_ctx = n_ctx
        cparams.n_batch = n_ctx
        cparams.n_ubatch = min(n_ubatch, n_ctx)
        cparams.n_seq_max = self.max_batch + 1
        cparams.kv_unified = True
        cparams.n_threads = threads
        cparams.n_threads_batch = threads
        self.shortlist = max(0, shortlist)
        self._capture = HiddenCapture(lc) if self.shortlist else None
        if self._capture is not None and self._capture.callback is not None:
            cparams.cb_eval = self._capture.callback
        self._head: OutputHead | None | bool = None  # None: not tried yet; False: unusable
        # shortlists of the last reference: a search's judge call and its baseline share them
        self._last_support: tuple[tuple | None, list[Support]] = (None, [])
        self._ctx = lc.llama_init_from_model(self._model, cparams)
        if not self._ctx:
            raise BackendError(f"llama.cpp could not create a context of {n_ctx} tokens")
        self._mem = lc.llama_get_memory(self._ctx)
        self._adapter = None
        if merged:  # a trained judge version, folded into its model (glossdb.train.merge)
            _, self.adapter, self.calibration = merged
        elif lora_path:  # a trained judge version (glossdb.train)
            self._adapter, self.adapter, self.calibration = apply_lora(
                lc, self._model, self._ctx, lora_path, self.model_id)
        self.context_size = n_ctx
        self.repeat_penalty = repeat_penalty
        self._batch = lc.llama_batch_init(n_ctx, 0, self.max_batch + 1)
        self.tokens_evaluated = 0
        self.kv_states = KVStates(kv_cache_mb << 20)
        self._entity_tokens: np.ndarray | None = None
        self._neutral_tokens: np.ndarray | None = None
        embedded = EMBEDDED.get(self.model_id)
        self.is_chat = embedded.chat if embedded else self._chat_template() is not None

    # tokens ------------------------------------------------------------------------------
    def tokenize(self, text: str, add_special: bool = False) -> list[int]:
        data = text.encode("utf-8")
        size = len(data) + 16
        buf = (self._lc.llama_token * size)()
        n = self._lc.llama_tokenize(self._vocab, data, len(data), buf, size, add_special, True)
        if n < 0:
            size = -n
            buf = (self._lc.llama_token * size)()
            n = self._lc.llama_tokenize(self._vocab, data, len(data), buf, size, add_special, True)
        return list(buf[:n])

    def token_bytes(self, token: int) -> bytes:
        buf = ctypes.create_string_buffer(64)
        n = self._lc.llama_token_to_piece(self._vocab, token, buf, 64, 0, False)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = self._lc.llama_token_to_piece(self._vocab, token, buf, -n, 0, False)
        return buf.raw[:n]

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def _chat_template(self) -> str | None:
        raw = self._lc.llama_model_chat_template(self._model, None)
        return raw.decode("utf-8") if raw else None

    def chat_prompt(self, system: str, user: str) -> str:
        """Render a system+user turn with the model's own chat template."""
        import jinja2

        template = self._chat_template()
        if template is None:
            return f"{system}\n\n{user}\n"
        env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
        return env.from_string(template).render(
            messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
            add_generation_prompt=True,
            bos_token="",
            eos_token="",
        )

    # batch plumbing ----------------------------------------------------------------------
    def _add(self, n: int, token: int, pos: int, seq: int | Sequence[int], logits: bool) -> None:
        """Put one token in the batch; several sequence ids share the token's KV cell."""
        b = self._batch
        b.token[n] = token
        b.pos[n] = pos
        seqs = (seq,) if isinstance(seq, int) else seq
        b.n_seq_id[n] = len(seqs)
        for k, s in enumerate(seqs):
            b.seq_id[n][k] = s
        b.logits[n] = logits

    def _decode(self, n_tokens: int) -> None:
        self._batch.n_tokens = n_tokens
        with decoding.deferred_interrupt() as interrupted:
            rc = self._lc.llama_decode(self._ctx, self._batch)
        if interrupted:
            raise KeyboardInterrupt  # Ctrl-C during the decode, raised once it has returned
        if rc != 0:
            raise BackendError(f"llama_decode failed with code {rc} (context full? lower the batch)")
        self.tokens_evaluated += n_tokens

    def _logits(self, n_outputs: int) -> np.ndarray:
        ptr = self._lc.llama_get_logits(self._ctx)
        return np.ctypeslib.as_array(ptr, shape=(n_outputs, self.n_vocab))

    def _clear(self) -> None:
        self._lc.llama_memory_clear(self._mem, True)

    # scoring -----------------------------------------------------------------------------
    def _encode_score(self, r: ScoreRequest) -> tuple[list[int], list[int], list[int], list[bool]]:
        """Canonical tokens: BOS+prefix, rest of context, continuation (never re-merged), and
        which continuation tokens the request picks."""
        if r.shared_prefix and not r.context.startswith(r.shared_prefix):
            raise BackendError("shared_prefix must be a prefix of context")
        prefix = self.tokenize(r.shared_prefix, add_special=True) if r.shared_prefix else []
        rest = r.context[len(r.shared_prefix):]
        body = self.tokenize(rest, add_special=not prefix)
        cont = self.tokenize(r.continuation)
        if r.select is None:
            return prefix, body, cont, [True] * len(cont)
        picked = r.picked([self.token_bytes(t).decode("utf-8", "replace") for t in cont])
        return prefix, body, cont, picked

    def _logprobs_batch(self, requests: Sequence[ScoreRequest]) -> list[list[float]]:
        encoded = [self._encode_score(r) for r in requests]
        out: list[list[float]] = [[] for _ in requests]
        with self._lock:
            approximate = self._shortlist_ready() and not any(r.exact for r in requests)
            supports = self._references(requests, encoded) if approximate else {}
            for group in self._groups(encoded, range(len(encoded))):
                self._score_group(encoded, group, out, supports=supports)
        return out

    def _references(self, requests, encoded) -> dict[tuple, list[Support]]:
        """Shortlists per distinct continuation, from a reference that is none of the
        candidates: the continuation right after the shared prefix, through the full softmax.
        Every candidate is then scored the same way, none of them exactly."""
        supports: dict[tuple, list[Support]] = {}
        for r, item in zip(requests, encoded):
            key = self._cont_key(item)
            if key in supports:
                continue
            ref = ScoreRequest(r.shared_prefix or " ", r.continuation, select=r.select)
            cache_key = (ref.context, key, self.shortlist)
            if self._last_support[0] == cache_key:
                supports[key] = self._last_support[1]
                continue
            supports[key] = self._score_group([self._encode_score(ref)], [0], [[]], collect=True)
            self._last_support = (cache_key, supports[key])
        return supports

    @staticmethod
    def _cont_key(item) -> tuple:
        return tuple(item[2]), tuple(item[3])

    def max_outputs(self) -> int:
        """Scored positions one decode may request: llama.cpp keeps a row of the whole
        vocabulary for each (1 MB for Gemma's 262k), so this bounds a search's memory."""
        return max(1, LOGITS_BUDGET_BYTES // (4 * self.n_vocab))

    def _groups(self, encoded, indices: Sequence[int]) -> list[list[int]]:
        """Pack requests with the same prefix into decodes that fit the context and the
        logits budget (checked here, before anything is allocated)."""
        by_prefix: dict[tuple[int, ...], list[int]] = {}
        for i in indices:
            by_prefix.setdefault(tuple(encoded[i][0]), []).append(i)
        groups, rows = [], self.max_outputs()
        for prefix, members in by_prefix.items():
            budget = self.context_size - len(prefix)
            current: list[int] = []
            used = outs = 0
            for i in members:
                need, out = len(encoded[i][1]) + len(encoded[i][2]), sum(encoded[i][3])
                decoding.check_pair(need + len(prefix), self.context_size, out, rows)
                if current and (used + need > budget or outs + out > rows
                                or len(current) >= self.max_batch):
                    groups.append(current)
                    current, used, outs = [], 0, 0
                current.append(i)
                used += need
                outs += out
            if current:
                groups.append(current)
        return groups

    def _score_group(self, encoded, group: list[int], out: list[list[float]],
                     supports: dict | None = None, collect: bool = False) -> list[Support]:
        """Decode one group and fill ``out``. With ``supports`` for every member's
        continuation, read final hidden states and score over the shortlists; otherwise read
        full logits (and, with ``collect``, return the shortlists of the one member)."""
        self._clear()
        prefix = encoded[group[0]][0]
        keys = [tuple(prefix + encoded[i][1][:-1]) for i in group]
        restored = [self._restore(seq, key) for seq, key in enumerate(keys, start=1)]
        n, targets = self._fill(encoded, group, prefix, restored)
        shortlisted = bool(supports) and all(self._cont_key(encoded[i]) in supports for i in group)
        made: list[Support] = []
        if shortlisted:
            logp = self._shortlist_scores(encoded, group, n, supports)
        else:
            self._decode(n)
            rows = self._logits(len(targets))
            logp = decoding.log_softmax_pick(rows, np.asarray(targets))
            if collect:
                made = [make_support(self._head, rows[j], t, self.shortlist)
                        for j, t in enumerate(targets)]
        at = 0
        for seq, i in enumerate(group, start=1):
            k = sum(encoded[i][3])
            out[i] = logp[at : at + k].tolist()
            at += k
            if not restored[seq - 1]:
                self._save(seq, keys[seq - 1])
        self._clear()
        return made

    def _fill(self, encoded, group, prefix, restored) -> tuple[int, list[int]]:
        """Put a group's tokens in the batch: the shared prefix once for the fresh sequences,
        then each sequence's own tokens, flagging the positions whose next token is scored."""
        fresh = [seq for seq, done in enumerate(restored, start=1) if not done]
        n = 0
        for pos, tok in enumerate(prefix if fresh else []):
            self._add(n, tok, pos, fresh, False)
            n += 1
        targets: list[int] = []
        for seq, i in enumerate(group, start=1):
            _, body, cont, picked = encoded[i]
            if not body:
                raise BackendError("a score request needs a non-empty context")
            tokens = body + cont
            first_scored = len(body) - 1
            for j in range(first_scored if restored[seq - 1] else 0, len(tokens)):
                wanted = first_scored <= j < len(tokens) - 1 and picked[j - first_scored]
                self._add(n, tokens[j], len(prefix) + j, seq, wanted)
                n += 1
            targets.extend(t for t, keep in zip(cont, picked) if keep)
        return n, targets

    def _shortlist_scores(self, encoded, group, n: int, supports) -> np.ndarray:
        """Decode without the output head and score each position over its shortlist."""
        hidden = self._capture.run(lambda: self._decode(n), self._head.n_embd)
        logp = np.empty(len(hidden))
        slots: dict[tuple[tuple, int], list[int]] = {}
        owner: dict[int, int] = {}
        at = 0
        for i in group:
            key = self._cont_key(encoded[i])
            for p in range(sum(encoded[i][3])):
                slots.setdefault((key, p), []).append(at + p)
                owner[at + p] = i
            at += sum(encoded[i][3])
        if at != len(hidden):
            raise BackendError(f"captured {len(hidden)} hidden states for {at} scored tokens")
        extras = {i: make_extra(self._head, set(encoded[i][0] + encoded[i][1] + encoded[i][2]))
                  for i in group}
        for (key, p), rows in slots.items():
            owners = [owner[r] for r in rows]
            logp[rows] = shortlist_logprobs(hidden[rows], supports[key][p],
                                            [extras[i] for i in owners])
        return logp

    def scoring_variant(self) -> str:
        """Which scoring path runs. Decided once, under the model lock; afterwards read
        without it, so a cached search never waits behind a model call under way."""
        if self._head is None and self.shortlist > 0:
            with self._lock:
                self._shortlist_ready()
        return f"shortlist-{self.shortlist}" if self.shortlist > 0 and self._head else ""

    def _shortlist_ready(self) -> bool:
        """Whether scoring takes the shortlist path (``shortlist`` > 0, set at construction
        or later). Loads the output head once and checks it reproduces llama.cpp's own
        log-probabilities on a probe sentence; any mismatch (another head layout, logit
        scaling, offloaded layers) keeps the exact path."""
        if self.shortlist <= 0:
            return False
        if self._head is None:
            self._head = False
            if self._capture is not None and self._capture.callback is not None:
                try:
                    head = OutputHead(self.path)
                    if head.n_vocab == self.n_vocab and self._probe_head(head):
                        self._head = head
                except Exception:  # noqa: BLE001 - any failure just keeps the exact path
                    self._head = False
        return bool(self._head)

    def _probe_head(self, head: OutputHead) -> bool:
        text = "The capital of France is Paris, and the capital of Italy is Rome."
        tokens = self.tokenize(text, add_special=True)
        targets = np.asarray(tokens[-3:] + [0])

        def fill() -> int:
            self._clear()
            for pos, tok in enumerate(tokens):
                self._add(pos, tok, pos, 0, pos >= len(tokens) - 4)
            return len(tokens)

        n = fill()
        self._decode(n)
        rows = self._logits(4).copy()
        exact = decoding.log_softmax_pick(rows, targets)
        n = fill()
        hidden = self._capture.run(lambda: self._decode(n), head.n_embd)
        self._clear()
        if len(hidden) != 4:
            return False
        mine = [shortlist_logprobs(hidden[j : j + 1], make_support(head, row, t, self.shortlist))[0]
                for j, (row, t) in enumerate(zip(rows, targets))]
        return bool(np.max(np.abs(np.asarray(mine) - exact)) < 0.25)

    def _restore(self, seq: int, key: tuple[int, ...]) -> bool:
        """Load a saved KV state of ``key`` (context minus its last token) into ``seq``."""
        data = self.kv_states.get(key)
        if data is None:
            return False
        buf = (ctypes.c_ubyte * len(data)).from_buffer_copy(data)
        if self._lc.llama_state_seq_set_data(self._ctx, buf, len(data), seq) == 0:
            self.kv_states.discard(key)
            return False
        return True

    def _save(self, seq: int, key: tuple[int, ...]) -> None:
        """Keep ``seq``'s KV cells for ``key`` (its first len(key) positions) for later."""
        if not self.kv_states.budget_bytes or key in self.kv_states:
            return
        self._lc.llama_memory_seq_rm(self._mem, seq, len(key), -1)
        size = self._lc.llama_state_seq_get_size(self._ctx, seq)
        if not size or size > self.kv_states.budget_bytes:
            return
        buf = (ctypes.c_ubyte * size)()
        written = self._lc.llama_state_seq_get_data(self._ctx, buf, size, seq)
        if written:
            self.kv_states.put(key, ctypes.string_at(buf, written))

    # generation --------------------------------------------------------------------------
    def _generate_batch(self, requests: Sequence[GenerateRequest]) -> list[str]:
        prompts = [
            self.tokenize(self.chat_prompt(r.system, r.prompt) if r.system is not None else r.prompt,
                          add_special=True)
            for r in requests
        ]
        with self._lock:
            return self._generate_tokens(requests, prompts)

    def _generate_tokens(self, requests, prompts) -> list[str]:
        budget = self.context_size - sum(len(p) + r.max_tokens for p, r in zip(prompts, requests))
        if budget < 0:
            half = len(requests) // 2
            if half == 0:
                raise BackendError("prompt plus max_tokens exceeds the model context")
            return self._generate_tokens(requests[:half], prompts[:half]) + \
                self._generate_tokens(requests[half:], prompts[half:])
        self._clear()
        self._decode(self._fill_prompts(prompts))
        made: list[list[int]] = [[] for _ in requests]
        bias = [self._grounding_bias(r.grounding) for r in requests]
        texts = [b""] * len(requests)
        active = list(range(len(requests)))
        while active:
            logits = self._logits(len(active)).copy()
            still = []
            for row, seq in enumerate(active):
                tok = decoding.pick(logits[row], made[seq], self.repeat_penalty, bias[seq])
                if self._lc.llama_vocab_is_eog(self._vocab, tok):
                    continue
                made[seq].append(tok)
                texts[seq] += self.token_bytes(tok)
                if not decoding.finished(texts[seq], made[seq], requests[seq]):
                    still.append(seq)
            for row, seq in enumerate(still):
                self._add(row, made[seq][-1], len(prompts[seq]) + len(made[seq]) - 1, seq, True)
            active = still
            if active:
                self._decode(len(active))
        self._clear()
        return [decoding.trim(t.decode("utf-8", "ignore"), r.stop)
                for t, r in zip(texts, requests)]

    def _fill_prompts(self, prompts: list[list[int]]) -> int:
        """Put a batch of prompts in the batch; the tokens they all start with (the
        instruction of a template) are evaluated once, shared by every sequence's KV.
        Returns the number of tokens added."""
        shared = decoding.shared_prefix(prompts)
        every = list(range(len(prompts)))
        for pos in range(shared):
            self._add(pos, prompts[0][pos], pos, every, False)
        n = shared
        for seq, p in enumerate(prompts):
            for pos in range(shared, len(p)):
                self._add(n, p[pos], pos, seq, pos == len(p) - 1)
                n += 1
        return n

    def _grounding_bias(self, g: Grounding | None) -> np.ndarray | None:
        if g is None or not (g.bonus or g.penalty):
            return None
        if self._entity_tokens is None:
            self._entity_tokens, self._neutral_tokens = decoding.classify_tokens(
                self.n_vocab, self.token_bytes,
                lambda tok: self._lc.llama_vocab_is_eog(self._vocab, tok))
        return decoding.grounding_bias(g, self._entity_tokens, self._neutral_tokens,
                                       self.tokenize)

    def close(self) -> None:
        if getattr(self, "_ctx", None):
            self._lc.llama_batch_free(self._batch)
            self._lc.llama_free(self._ctx)
            self._lc.llama_model_free(self._model)
            self._ctx = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown may have torn down ctypes
            pass
