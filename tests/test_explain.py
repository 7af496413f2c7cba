"""Citing explanations (glossdb.explain): quotes occur, reasons agree with the verdict."""

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
