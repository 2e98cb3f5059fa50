"""The one text splitter: LangChain's recursive splitter measured in a model's tokens (paragraphs, then lines, then
words), used for /align passages, transcript chunks and map-reduce summary windows."""

from __future__ import annotations

from typing import Callable, Sequence

from langchain_text_splitters import RecursiveCharacterTextSplitter

SENTENCE_SEPARATORS = ("\n\n", "\n", ". ", " ", "")  # prefer sentence ends before word ends (summary windows)


def split_by_tokens(text: str, size: int, overlap: int, count_tokens: Callable[[str], int],
                    separators: Sequence[str] | None = None) -> list[str]:
    """Pieces of at most `size` tokens (as `count_tokens` counts them) that share up to `overlap` tokens, capped at half a
    piece; LangChain's default separators (paragraph, line, word) unless `separators` are given."""
    splitter = RecursiveCharacterTextSplitter(chunk_size=size, chunk_overlap=min(overlap, size // 2),
                                              length_function=count_tokens,
                                              **({"separators": list(separators)} if separators is not None else {}))
    return splitter.split_text(text)
