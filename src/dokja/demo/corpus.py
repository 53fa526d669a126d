"""The bundled Korean demo training corpus (KoBEST train splits; CC BY-SA 4.0, see corpus/NOTICE.md).

One document per line, plain UTF-8. Built by ``scripts/build_demo_corpus.py``; it holds no KoBEST dev
or test text, so models trained on it can be evaluated on KoBEST test items.
"""

from __future__ import annotations

from pathlib import Path

CORPUS_FILENAME = "kobest_train_ko.txt"


def corpus_dir() -> Path:
    """Folder with the corpus file and its NOTICE.md (licence and attribution)."""
    return Path(__file__).resolve().parent / "corpus"


def corpus_path() -> Path:
    """Path of the bundled corpus file."""
    return corpus_dir() / CORPUS_FILENAME


def read_corpus(limit_chars: int | None = None) -> list[str]:
    """The corpus documents, in file order (already shuffled when built).

    ``limit_chars`` keeps whole documents from the start of the file until their total length (in
    characters, not counting newlines) reaches the limit; the document that crosses it is included.
    """
    path = corpus_path()
    if not path.is_file():
        raise FileNotFoundError(
            f"demo corpus missing: {path} (build it with scripts/build_demo_corpus.py)"
        )
    if limit_chars is not None and limit_chars < 0:
        raise ValueError("limit_chars must be >= 0")
    docs: list[str] = []
    total = 0
    with path.open(encoding="utf-8") as f:
        for line in f:
            if limit_chars is not None and total >= limit_chars:
                break
            doc = line.rstrip("\n")
            if not doc.strip():
                continue
            docs.append(doc)
            total += len(doc)
    return docs
