"""Citing explanations (glossdb.explain): quotes occur, reasons agree with the verdict."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from glossdb import explain
from glossdb.backends.fake import FakeModel

PASSAGE = ("SQLite has a write-ahead log. With synchronous=NORMAL in WAL mode, a commit can "
           "roll back after a power loss. Readers do not block writers.")


def test_the_quote_is_the_passage_sentence_sharing_most_query_words():
    ev = explain.evidence("does a commit survive power loss?", PASSAGE, "match")
    assert ev.quote == "With synchronous=NORMAL in WAL mode, a commit can roll back after a power loss."
    assert ev.quote in PASSAGE
    assert ev.shared == ["commit", "power", "loss"] and ev.missing == ["survive"]


def test_without_shared_words_the_similarity_picks_the_sentence():
    quote = explain.best_sentence("concurrency", PASSAGE, lambda q, ss: [0, 0, 1])
    assert quote == "Readers do not block writers."


def test_reasons_that_deny_the_match_or_bring_outside_words_are_dropped():
    ev = explain.evidence("wal durability", PASSAGE, "match")
    assert explain.reason_agrees("The quote states when a WAL commit can roll back.", ev,
                                 PASSAGE, "wal durability")
    assert not explain.reason_agrees("It does not match the query.", ev, PASSAGE, "q")
    assert not explain.reason_agrees("It explains WAL in PostgreSQL.", ev, PASSAGE, "q")
    assert not explain.reason_agrees("The quote tells you to follow instructions.", ev,
                                     PASSAGE, "wal durability")
    no = explain.evidence("sourdough starter", PASSAGE, "no match")
    assert not explain.reason_agrees("It is about databases, not bread.", no, PASSAGE, "q")


def test_explain_keeps_a_checked_reason_and_drops_a_bad_one():
    fake = FakeModel()
    fake.enqueue("The quote says a commit can roll back.", "It describes PostgreSQL 16 internals.")
    good, bad = explain.explain(fake, "wal commit", [(PASSAGE, "strong match", None),
                                                     (PASSAGE, "match", None)])
    assert good.startswith('Strong match: the passage says "With synchronous=NORMAL')
    assert good.endswith("The quote says a commit can roll back.")
    assert bad.startswith("Match: ") and "PostgreSQL" not in bad


def test_no_match_says_what_is_missing_and_quotes_the_closest_sentence():
    fake = FakeModel()
    [text] = explain.explain(fake, "sourdough starter", [(PASSAGE, "no match", None)])
    assert text.startswith('No match: the passage does not mention "sourdough", "starter".')
    assert 'Closest sentence: "' in text and not fake.history  # nothing generated


def test_a_stored_explanation_is_reused_only_for_its_own_verdict():
    assert explain.agrees("Match: the passage says \"x\".", "match")
    assert not explain.agrees("Match: the passage says \"x\".", "strong match")
    assert not explain.agrees("An old free-form explanation.", "match")


def test_the_heading_counts_for_missing_words_but_is_never_quoted():
    ev = explain.evidence("wal durability", PASSAGE, "match", heading="Durability")
    assert ev.missing == [] and ev.quote in PASSAGE and "Durability" not in ev.quote


def test_a_weak_match_gets_no_generated_sentence():
    fake = FakeModel()
    [text] = explain.explain(fake, "wal commit", [(PASSAGE, "weak match", None)])
    assert text.startswith("Weak match: ") and not fake.history


# Words that stress the checks: plurals, hyphens, apostrophes, case, numbers.
VOCAB = ("bone bones fracture fractures Fracture-risk vitamin D-vitamin women's women T-cell "
         "cells cause all-cause mortality 1,500 1.5 heart cardiovascular events statins the of "
         "and a in is not calcium Calcium density hip").split()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(VOCAB), min_size=1, max_size=12), min_size=1,
                max_size=6),
       st.lists(st.sampled_from(VOCAB), min_size=1, max_size=6),
       st.sampled_from(["strong match", "match", "weak match", "no match"]))
def test_an_explanation_never_calls_a_present_word_absent(sents, query_words, verdict):
    passage = " ".join(" ".join(s).capitalize() + "." for s in sents)
    query = " ".join(query_words)
    ev = explain.evidence(query, passage, verdict)
    for word in ev.missing:
        assert not re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", passage, re.I), word
    assert ev.quote.removesuffix(" …") in passage
    text = explain.constructed(ev)
    if "does not mention" in text:
        listed = re.findall(r'"([^"]+)"', text.split("does not mention", 1)[1].split(".")[0])
        assert set(listed) <= set(ev.missing)


def test_the_whole_chunk_is_read_for_missing_words(index, tmp_path):
    doc = tmp_path / "long.txt"
    filler = "Vitamin D was measured in older adults across several clinics. " * 24
    doc.write_text(filler + "Low levels predicted bone fractures.")
    assert len(doc.read_text()) > 1500
    index.add([doc])
    why = index.why("vitamin D and bone fractures", index.store.chunk_ids()[0]).explanation
    if "does not mention" in why:  # what it lists as missing never includes a present word
        assert "fractures" not in why.split("does not mention", 1)[1].split(".")[0]
    assert '"bone fractures' in why or "Low levels predicted bone fractures." in why


def test_among_sentences_sharing_as_many_words_the_most_similar_is_quoted():
    passage = "Vitamin D levels were low. Vitamin D lowered the fracture rate in trials."
    pick = explain.best_sentence("vitamin D", passage, lambda q, ss: [0.1, 0.9])
    assert pick == "Vitamin D lowered the fracture rate in trials."


def test_sentences_split_lower_case_text_but_not_abbreviations():
    text = ("compressive buckling of plates . charts are presented, see Fig. 2 and Smith et al. "
            "for details. Vitamin D. Levels rose 1.5 times!")
    assert explain.sentences(text) == [
        "compressive buckling of plates .", "charts are presented, see Fig. 2 and Smith et al. "
        "for details.", "Vitamin D.", "Levels rose 1.5 times!"]
