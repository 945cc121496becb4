"""Follow-up questions: notice when a question leans on the previous turn, and widen its retrieval query.

"Who is he?", "What did she say about it?", "And Taiwan?" cannot be answered from their own words: the
passage they need is found by the previous question and its answer. For such a question retrieval searches
with ``previous question + previous answer + this question``; the reader still reads the question as asked.

Pure functions, no state: the chat keeps the turns.

Example:
    >>> is_followup("Who is he?", previous="Who criticised the China responsibility theory?")
    True
    >>> is_followup("Who is Geng Shuang?", previous="Who criticised the China responsibility theory?")
    False
    >>> retrieval_query("Who is he?", "Who is the spokesman?", "Geng Shuang")
    'Who is the spokesman? Geng Shuang Who is he?'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words that point back at something named earlier. "that" and "there" are left out: mostly they are a
# conjunction ("said that ...") or existential ("is there ..."), handled separately at the end of a question.
PERSONAL = frozenset("he him his himself she her hers herself".split())
REFERRING = PERSONAL | frozenset("they them their theirs themselves it its itself this these those".split())
# A question opening with one of these continues the previous one ("And Taiwan?", "What about Xi?").
CONTINUATIONS = (
    "and", "but", "so", "also", "then", "what about", "how about", "what else", "anything else", "same for",
    "why not", "and what", "and who", "and when", "and where", "and how", "and why",
)
# "... say about that?", "When was that?", "Who said so?" — a demonstrative standing alone at the end.
_TRAILING_REFERENCE = re.compile(r"\b(that|there|so|then)\s*[?.!]*\s*$", re.IGNORECASE)
_WORD = re.compile(r"[\w’'\-]+", re.UNICODE)
_QUESTION_WORDS = frozenset("who whom whose what which when where why how is are was were do does did can could "
                            "would should will according besides in on at for from of the a an".split())

SHORT_WORDS = 2  # "Why?", "How many?", "Taiwan?": always a follow-up when there is a previous turn
BRIEF_WORDS = 4  # up to this many words and no name of its own: a follow-up
SELF_CONTAINED_WORDS = 10  # a pronoun in a question this long that names two things is its own (cataphora)
ANAPHORA_WORDS = 8  # "he"/"his" after a name, in a question this long, points at that name


@dataclass(frozen=True)
class FollowupDecision:
    followup: bool
    reason: str  # why, in a few words (shown in the UI and useful in tests)


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def names(question: str) -> list[str]:
    """Capitalised words after the first word (a rough named-entity signal: "Geng", "Shuang", "Taiwan")."""
    tokens = words(question)
    out = []
    for i, token in enumerate(tokens):
        bare = token.strip("’'-")
        if not bare or not bare[0].isupper():
            continue
        if i == 0 and bare.lower() in _QUESTION_WORDS:
            continue
        if bare == "I":
            continue
        out.append(bare)
    return out


def decide(question: str, previous: str | None) -> FollowupDecision:
    """Whether ``question`` leans on the previous turn; never without a previous question."""
    if not previous or not previous.strip():
        return FollowupDecision(False, "no previous question")
    text = question.strip()
    tokens = words(text)
    lowered = [t.lower().strip("’'") for t in tokens]
    if not tokens:
        return FollowupDecision(False, "empty question")
    named = names(text)
    if len(tokens) <= SHORT_WORDS:
        return FollowupDecision(True, "very short question")
    head = " ".join(lowered[:3])
    for marker in CONTINUATIONS:
        if head == marker or head.startswith(marker + " "):
            return FollowupDecision(True, f"continues the previous question ({marker!r})")
    referring = [t for t in lowered if t in REFERRING]
    if _TRAILING_REFERENCE.search(text) and not named:
        referring.append(_TRAILING_REFERENCE.search(text).group(1).lower())
    if referring:
        first_personal = next((i for i, t in enumerate(lowered) if t in PERSONAL), None)
        if first_personal is not None:
            # "How did Trump speak ... before his interview?" names its own person first; "What did she
            # call Trump's decision?" does not.
            if names(" ".join(tokens[:first_personal])) and len(tokens) >= ANAPHORA_WORDS:
                return FollowupDecision(False, "pronoun after a name in the question itself")
            return FollowupDecision(True, f"refers back ({lowered[first_personal]!r})")
        distinct_names = {n.lower() for n in named}
        if len(tokens) >= SELF_CONTAINED_WORDS and len(distinct_names) >= 2:
            return FollowupDecision(False, "pronoun, but the question names its own subject")
        return FollowupDecision(True, f"refers back ({referring[0]!r})")
    if len(tokens) <= BRIEF_WORDS and not named:
        return FollowupDecision(True, "brief question without a name of its own")
    return FollowupDecision(False, "self-contained question")


def is_followup(question: str, previous: str | None) -> bool:
    return decide(question, previous).followup


def retrieval_query(question: str, previous_question: str, previous_answer: str | None) -> str:
    """The text retrieval searches with for a follow-up: previous question, previous answer, this question."""
    parts = [previous_question.strip(), (previous_answer or "").strip(), question.strip()]
    return " ".join(p for p in parts if p)


def plan(question: str, previous_question: str | None, previous_answer: str | None) -> tuple[str | None, FollowupDecision]:
    """The ``retrieval_query`` to pass to ``Answerer.ask`` (None: the question itself) and the decision."""
    decision = decide(question, previous_question)
    if not decision.followup or previous_question is None:
        return None, decision
    return retrieval_query(question, previous_question, previous_answer), decision
