"""Token streaming from a real local model, one generation at a time per model.

A transformers model is not safe to run twice at once, and two generations of the same
model on a small machine only slow each other, so each backend gets a lock; the two sides
of a battle still run in parallel when they are different models.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass
from typing import Callable, Iterator

MAX_NEW_TOKENS = 256

_locks: "weakref.WeakKeyDictionary[object, threading.Lock]" = weakref.WeakKeyDictionary()
_locks_guard = threading.Lock()


def model_lock(backend) -> threading.Lock:
    with _locks_guard:
        lock = _locks.get(backend)
        if lock is None:
            lock = _locks[backend] = threading.Lock()
        return lock


@dataclass(frozen=True)
class Streamed:
    """A finished answer: its text, how many tokens it took, time to the first piece and in all."""

    text: str
    tokens: int
    first_token_s: float | None
    seconds: float


def stream_text(backend, prompt: str, *, max_new_tokens: int = MAX_NEW_TOKENS, chat: bool | None = None
                ) -> Iterator[str]:
    """Pieces of the answer as the model produces them (greedy, capped at ``max_new_tokens``).

    Local transformers models stream word by word; any other backend answers in one piece.
    ``chat`` chooses the chat template (default: the backend's own setting), so one loaded
    checkpoint can serve both a chat and a plain entry.
    """
    max_new_tokens = max(1, min(int(max_new_tokens), MAX_NEW_TOKENS))
    with model_lock(backend):
        if not hasattr(backend, "model") or not hasattr(backend, "tokenizer"):
            yield from backend.generate([prompt], max_new_tokens=max_new_tokens, stop=[])
            return
        yield from _transformers_stream(backend, prompt, max_new_tokens, backend.chat if chat is None else chat)


def encode_prompt(backend, prompt: str, chat: bool) -> list[int]:
    tokenizer = backend.tokenizer
    if chat and tokenizer.chat_template:
        rendered = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                                 tokenize=False)
        return tokenizer(rendered, add_special_tokens=False).input_ids
    return tokenizer(prompt).input_ids


def _transformers_stream(backend, prompt: str, max_new_tokens: int, chat: bool) -> Iterator[str]:
    import torch
    from transformers import TextIteratorStreamer

    ids = encode_prompt(backend, prompt, chat)[-(backend.max_length - max_new_tokens):]
    input_ids = torch.tensor([ids], device=backend.device)
    streamer = TextIteratorStreamer(backend.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=300)
    failure: list[BaseException] = []

    def work() -> None:
        try:
            with torch.inference_mode():
                backend.model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                                       max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=backend.pad_id,
                                       streamer=streamer)
        except BaseException as exc:  # re-raised in the reading thread
            failure.append(exc)
            streamer.end()

    worker = threading.Thread(target=work, name="dokja-generate", daemon=True)
    worker.start()
    try:
        for piece in streamer:
            if piece:
                yield piece
    finally:
        worker.join()
    if failure:
        raise failure[0]


def generate_answer(backend, prompt: str, *, max_new_tokens: int = MAX_NEW_TOKENS, chat: bool | None = None,
                    on_piece: Callable[[str], None] = lambda piece: None) -> Streamed:
    """Run one answer to the end, handing each piece to ``on_piece`` as it arrives."""
    start = time.perf_counter()
    first = None
    pieces = []
    for piece in stream_text(backend, prompt, max_new_tokens=max_new_tokens, chat=chat):
        if first is None:
            first = time.perf_counter() - start
        pieces.append(piece)
        on_piece(piece)
    text = "".join(pieces)
    tokens = len(backend.tokenizer(text, add_special_tokens=False).input_ids) if hasattr(backend, "tokenizer") \
        else len(text.split())
    return Streamed(text, tokens, first, time.perf_counter() - start)
