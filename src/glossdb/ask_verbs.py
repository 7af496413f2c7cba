"""``Index.ask``: answers from matching chunks only, citing them (see :mod:`glossdb.answer`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import answer as answer_mod
from .search_verbs import MATCH_VERDICTS

if TYPE_CHECKING:
    from .index import Index, ProgressFactory


class AskVerbs:
    """The answering verb of :class:`Index`."""

    def ask(self: "Index", question: str, k: int = 4, explain: bool = False,
            progress: "ProgressFactory | None" = None) -> answer_mod.Answer:
        """Answer ``question`` from the matching chunks only, citing them by chunk id; says
        it is not found when no hit is judged a match (and then calls no answering model)."""
        hits = self.search(question, k=k, explain=explain, progress=progress)
        matches = [h for h in hits if h.verdict in MATCH_VERDICTS]
        if not matches:
            return answer_mod.Answer(question, answer_mod.NOT_FOUND, [], False, hits)
        model = self.model("answer")
        tick = progress("answering", 1) if progress else None
        [raw] = model.generate([answer_mod.request(question, matches, chat=model.is_chat)])
        if tick:
            tick(1)
        text, citations = answer_mod.cited(raw, {h.chunk_id for h in matches})
        if not text or answer_mod.says_not_found(text):
            return answer_mod.Answer(question, answer_mod.NOT_FOUND, [], False, hits)
        if not citations:  # it saw these chunks only: say so rather than cite nothing
            citations = [h.chunk_id for h in matches]
            text += " [" + ", ".join(map(str, citations)) + "]"
        return answer_mod.Answer(question, text, citations, True, hits)
