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
        """Answer ``question`` from the matching chunks only, each sentence cited to the chunk
        whose sentence supports it (:func:`glossdb.answer.attribute`); says it is not found
        when no hit is judged a match (and then calls no answering model) or when nothing
        the model wrote is supported by the chunks."""
        hits = self.search(question, k=k, explain=explain, progress=progress)
        matches = [h for h in hits if h.verdict in MATCH_VERDICTS]
        if not matches:
            return answer_mod.Answer(question, answer_mod.NOT_FOUND, [], False, hits)
        model = self.model("answer")
        tick = progress("answering", 1) if progress else None
        [raw] = model.generate([answer_mod.request(question, matches, chat=model.is_chat)])
        if tick:
            tick(1)
        if answer_mod.says_not_found(raw):
            return answer_mod.Answer(question, answer_mod.NOT_FOUND, [], False, hits)
        text, support, dropped = answer_mod.attribute(raw, matches)
        if not support:  # nothing it said is in the chunks it was given
            return answer_mod.Answer(question, answer_mod.NOT_FOUND, [], False, hits,
                                     unsupported=dropped)
        citations = list(dict.fromkeys(s.chunk_id for s in support))
        return answer_mod.Answer(question, text, citations, True, hits, support, dropped)
