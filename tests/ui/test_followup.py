"""Follow-up detection and the retrieval query it builds (ui.followup: pure)."""

import json

import pytest

from corpus.defaults import DEFAULT_GOLD
from ui.followup import decide, is_followup, plan, retrieval_query

PREVIOUS = "Who is the Chinese foreign ministry spokesman who criticized the China responsibility theory?"


@pytest.mark.parametrize(
    "question",
    [
        "Who is he?",
        "What did she say about it?",
        "What did he say certain people have been exaggerating?",
        "Where does she work?",
        "What is his job title?",
        "When did they do that?",
        "Who said that?",
        "And Taiwan?",
        "What about Xi Jinping?",
        "How about the trade deal?",
        "Why?",
        "How many?",
        "Which newspaper?",
        "When exactly?",
        "What did Trump say about it?",
        "What did she call Trump’s decision to use Taiwan to pressure China?",
        "What did Trump say about her?",
    ],
)
def test_questions_that_lean_on_the_previous_turn(question):
    assert is_followup(question, PREVIOUS), decide(question, PREVIOUS)


@pytest.mark.parametrize(
    "question",
    [
        "Who is Geng Shuang?",
        "Who is Trump?",
        "Which newspaper interviewed Trump last week about trade deficits and North Korea?",
        "Besides its share of North Korea’s foreign trade, what does China have over North Korea?",
        "How did Trump speak with Xi Jinping the day before his Wall Street Journal interview?",
        "What did Melanie Hart say about her own work at the Center for American Progress?",
        "According to former officials, abandoning the long-standing policy risks sending what to US allies and adversaries?",
    ],
)
def test_self_contained_questions(question):
    assert not is_followup(question, PREVIOUS), decide(question, PREVIOUS)


def test_no_default_gold_question_is_taken_for_a_followup():
    """The gold questions are written to stand alone: none may be rewritten, whatever came before."""
    rows = [json.loads(line) for line in DEFAULT_GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    wrong = [r["question"] for r in rows if is_followup(r["question"], PREVIOUS)]
    assert wrong == []


def test_never_a_followup_without_a_previous_question():
    for previous in (None, "", "   "):
        assert not is_followup("Who is he?", previous)
        assert plan("Who is he?", previous, None) == (None, decide("Who is he?", previous))


def test_retrieval_query_is_previous_question_answer_then_question():
    assert retrieval_query("Who is he?", "Who is the spokesman?", "Geng Shuang") == "Who is the spokesman? Geng Shuang Who is he?"


def test_retrieval_query_without_a_previous_answer():
    assert retrieval_query("Who is he?", " Who is the spokesman? ", None) == "Who is the spokesman? Who is he?"


def test_plan_rewrites_only_followups():
    query, decision = plan("Who is he?", PREVIOUS, "Geng Shuang")
    assert decision.followup and query == f"{PREVIOUS} Geng Shuang Who is he?"
    query, decision = plan("Who is Geng Shuang?", PREVIOUS, "Geng Shuang")
    assert query is None and not decision.followup


def test_decision_says_why():
    assert "he" in decide("Who is he?", PREVIOUS).reason
    assert "short" in decide("Why?", PREVIOUS).reason
    assert "what about" in decide("What about Taiwan?", PREVIOUS).reason
