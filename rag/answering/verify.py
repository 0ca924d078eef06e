"""Verification of a constrained reply: which answers may be shown, which are left out and why.

The model proposes answer phrases with the ids of the sentences that state them. A phrase is
kept only when it is in its evidence sentences, is the kind of thing the question asks for
(a number for "how many", a name for "who"), does not just repeat the question, and its
sentences carry the question's key terms. Two kept answers from different articles that
differ are a disagreement. Pure functions: no model, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from rag.answering.asks import answer_kind_ok, asking_clause
from rag.answering.candidates import ANAPHOR, overlap
from rag.answering.disagree import rivals, same_value
from rag.answering.parts import parts
from rag.answering.units import spelled
from rag.citations import Passage, Sentence, figures, fold, names
from rag.text import normalize, terms
from rag.tuning import TUNED, Tuning

QUESTION_TERMS = terms(
    "many much long old often kind type name called happened according say said says tell told"
)
ADJACENT = 3  # characters between two sentences that follow each other
# "What aircraft did…": the words naming the kind of answer, which its sentence names instead.
_ANSWER_KIND = re.compile(
    r"^\s*(?:what|which)\s+((?:[\w'’-]+\s+){0,2}?[\w'’-]+)\s+"
    r"(?:did|does|do|is|are|was|were|has|have|had|will|would|can|could)\b",
    re.IGNORECASE,
)


@dataclass
class Proposal:
    """One answer phrase the model proposed, with the sentence ids it gave."""

    answer: str
    evidence: list[int] = field(default_factory=list)


@dataclass
class Checked:
    """A proposal after verification: `reason` is '' when it may be shown."""

    answer: str
    evidence: list[int]
    reason: str = ""

    @property
    def ok(self) -> bool:
        return not self.reason


def _tokens(text: str) -> list[str]:
    return normalize(text).split()


def phrase_in(phrase: str, text: str) -> bool:
    """Is the phrase in the text, after normalisation, as whole words (in any order)?

    >>> phrase_in("six days", "The workers were released 6 days later.")
    True
    >>> phrase_in("145 meters", "The 145-metre footbridge collapsed.")
    True
    """
    words = _tokens(phrase)
    norm = f" {normalize(text)} "
    if not words:
        return False
    if f" {' '.join(words)} " in norm:
        return True
    have = {spelled(_singular(w)) for w in norm.split()}
    return all(spelled(_singular(w)) in have for w in words)


def _singular(word: str) -> str:
    """'hours' -> 'hour', so '29 hours' is in 'a 29-hour trek' ('boss' stays)."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def echoes_question(question: str, phrase: str) -> bool:
    """Does the phrase only repeat words of the question (no new information)?"""
    got = terms(phrase)
    return bool(got) and got <= terms(question) and not figures(phrase) - figures(question)


def key_terms(question: str) -> set[str]:
    """The question's index terms without the words every question has ('how many') and
    those naming the kind of answer ('aircraft' in "What aircraft was downed?")."""
    kind = _ANSWER_KIND.match(asking_clause(question))
    return terms(question) - QUESTION_TERMS - terms(kind.group(1).split()[-1] if kind else "")


def _terms_of(sentences: Sequence[Passage]) -> set[str]:
    found: set[str] = set()
    for s in sentences:
        found |= terms(s.text) | terms(s.title)
    return found


def asked_terms(question: str, passages: Sequence[Passage]) -> set[str]:
    """The key terms an answer's sentences are checked for: those some shown sentence or title
    uses (a question's own wording, 'meant to achieve', is not held against an answer), and
    always its figures and names (a different year or person must not pass)."""
    required = terms(" ".join(sorted(figures(question) | names(question))))
    return key_terms(question) & (_terms_of(passages) | required)


def coverage(wanted: set[str], sentences: Sequence[Passage], weights: dict[str, float]) -> float:
    """Share of the wanted terms' IDF mass in the sentences and their article titles."""
    return overlap(wanted, _terms_of(sentences), weights)


def check_proposal(
    question: str,
    proposal: Proposal,
    passages: Sequence[Passage],
    weights: dict[str, float],
    threshold: float | None = None,
    tuning: Tuning = TUNED,
) -> Checked:
    """Verify one proposed answer against the numbered sentences it cites (their key-term
    coverage at least `threshold`, by default the tuned share); the answer to a two-part
    question has to answer one of its parts."""
    threshold = tuning.key_term_coverage if threshold is None else threshold
    checks = [
        _check(part, proposal, passages, weights, threshold, tuning) for part in parts(question)
    ]
    return next((c for c in checks if c.ok), checks[0])


def _check(
    question: str,
    proposal: Proposal,
    passages: Sequence[Passage],
    weights: dict[str, float],
    threshold: float,
    tuning: Tuning,
) -> Checked:
    """Verify one proposed answer to a one-part question."""
    phrase = " ".join(proposal.answer.split()).strip(" .,;:")
    by_n = {p.n: p for p in passages}
    if not phrase:
        return Checked(phrase, [], "the model gave no answer")
    cited = [by_n[n] for n in dict.fromkeys(proposal.evidence) if n in by_n]
    holding = [p for p in cited if phrase_in(phrase, p.text)]
    if not holding:  # right phrase, wrong ids: point at the sentences that do hold it
        holding = [p for p in passages if phrase_in(phrase, p.text)][:2]
    ids = [p.n for p in holding]
    if not holding:
        return Checked(phrase, [p.n for p in cited], f"“{phrase}” is not in the cited sentences")
    if echoes_question(question, phrase):
        return Checked(phrase, ids, f"“{phrase}” only repeats the question")
    if not answer_kind_ok(question, phrase):
        return Checked(phrase, ids, f"“{phrase}” is not the kind of answer the question asks for")
    wanted = asked_terms(question, passages)
    named = bool(names(phrase)) and not figures(phrase)
    own = max(overlap(wanted, terms(_continued(p, passages, named)), weights) for p in holding)
    context = _with_neighbours(holding, passages)
    if own < tuning.sentence_coverage or coverage(wanted, context, weights) < threshold:
        return Checked(phrase, ids, "its sentences are not about what the question asks")
    return Checked(phrase, ids)


def _continued(sentence: Passage, passages: Sequence[Passage], named: bool) -> str:
    """For an answer that names someone, the sentence and the next shown one when that opens
    with a pronoun ('He promised a probe.'): what that says of them is the answer's too."""
    if not named:
        return sentence.text
    after = [
        q.text
        for q in passages
        if q.article_id == sentence.article_id
        and 0 <= q.start - sentence.end <= ADJACENT
        and ANAPHOR.match(q.text)
    ]
    return " ".join([sentence.text, *after])


def _with_neighbours(holding: Sequence[Passage], passages: Sequence[Passage]) -> list[Passage]:
    """The holding sentences plus the shown sentences right before and after each."""
    out = list(holding)
    for p in holding:
        out += [
            q
            for q in passages
            if q.article_id == p.article_id
            and (0 <= p.start - q.end <= ADJACENT or 0 <= q.start - p.end <= ADJACENT)
        ]
    return out


def disagreement(kept: Sequence[Checked], passages: Sequence[Passage]) -> bool:
    """Do kept answers from different articles give different values for the thing asked?"""
    if len(kept) < 2:
        return False
    article = {p.n: p.article_id for p in passages}
    for i, a in enumerate(kept):
        for b in kept[i + 1 :]:
            arts_a = {article[n] for n in a.evidence}
            arts_b = {article[n] for n in b.evidence}
            if arts_a.isdisjoint(arts_b) and not same_value(a.answer, b.answer):
                return True
    return False


def claim_ok(claim: str, phrases: Sequence[str], cited: Sequence[Passage], question: str) -> str:
    """Why a written claim may not be shown ('' when it may): it must state the kept phrases,
    its figures must all be in its cited sentences or the question, and its names there or
    in the cited articles' titles."""
    if not claim.strip():
        return "empty"
    if not all(phrase_in(p, claim) for p in phrases):
        return "it does not state the answer"
    text = " ".join(p.text for p in cited)
    missing = figures(claim) - figures(text) - figures(question)
    text += " " + " ".join(dict.fromkeys(p.title for p in cited))
    if missing:
        return f"{', '.join(sorted(missing))} is not in its sentences"
    folded = fold(text + " " + question)
    unnamed = {n for n in names(claim) if n not in folded}
    if unnamed:
        return f"{', '.join(sorted(unnamed))} is not in its sentences"
    return ""


@dataclass
class Verdict:
    """What may be shown: the claims, those left out with why, and whether sources disagree."""

    sentences: list[Sentence]
    left_out: list[Sentence]
    disagreement: bool = False
    added: list[Passage] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)

    @property
    def abstained(self) -> bool:
        return not self.sentences


def _merge(kept: Sequence[Checked]) -> list[Checked]:
    """Answers saying the same thing become one, citing all their sentences."""
    merged: list[Checked] = []
    for c in kept:
        twin = next((m for m in merged if same_value(m.answer, c.answer)), None)
        if twin is None:
            merged.append(Checked(c.answer, list(c.evidence)))
        else:
            twin.evidence = list(dict.fromkeys([*twin.evidence, *c.evidence]))
            if len(c.answer) > len(twin.answer):
                twin.answer = c.answer
    return merged


def _marked(answer: Checked) -> str:
    return f"{answer.answer} " + "".join(f"[{n}]" for n in answer.evidence)


def decide(
    question: str,
    proposals: Sequence[Proposal],
    sentence: str,
    passages: Sequence[Passage],
    weights: dict[str, float],
    threshold: float | None = None,
    texts: Mapping[str, str] | None = None,
    spare: Sequence[Passage] = (),
    tuning: Tuning = TUNED,
) -> Verdict:
    """Check every proposal and the model's sentence; build the claims that may be shown
    (their sentences' key-term coverage at least `threshold`, by default the tuned share).

    `texts` (article id -> text) lets another article's different value for the one thing
    asked, in a shown or a `spare` sentence (one not shown to the model), join the answer as a
    disagreement; the spare sentences it cites come back in `Verdict.added`."""
    threshold = tuning.key_term_coverage if threshold is None else threshold
    checked = [check_proposal(question, p, passages, weights, threshold, tuning) for p in proposals]
    left_out = [
        Sentence(c.answer, c.evidence, supported=False, reason=c.reason)
        for c in checked
        if not c.ok and c.answer
    ]
    kept = _merge([c for c in checked if c.ok])
    if not kept:
        return Verdict([], left_out)
    if len(asked := parts(question)) > 1:
        return _two_part(asked, kept, left_out, passages, weights, threshold, tuning)
    pool = [*passages, *spare]  # what a rival value may cite
    if texts is not None and len(kept) == 1:
        wanted = asked_terms(question, passages)
        best = sorted(passages, key=lambda p: -overlap(wanted, terms(p.text), weights))
        unread = {p.n for p in spare}
        answer, cited_by = kept[0].answer, kept[0].evidence
        found = rivals(answer, cited_by, question, [*best, *spare], texts, unread, tuning)
        for phrase, n in found:
            # Its unit or spelling already ties it to the kept answer: less coverage do.
            rate = tuning.spare_rival_coverage if n in unread else tuning.rival_coverage
            share = threshold * rate
            rival = check_proposal(question, Proposal(phrase, [n]), pool, weights, share, tuning)
            kept += [rival] if rival.ok else []
    ids = list(dict.fromkeys(n for k in kept for n in k.evidence))
    if disagreement(kept, pool):
        text = "Sources disagree: " + "; ".join(_marked(k) for k in kept) + "."
        added = [p for p in spare if p.n in ids]
        return Verdict([Sentence(text, ids)], left_out, disagreement=True, added=added)
    shown = {p.n for p in passages}
    kept = [k for k in kept if set(k.evidence) <= shown]  # a spare rival that agrees: no news
    listed = _listed(kept)
    by_n = {p.n: p for p in passages}
    cited = [by_n[n] for n in listed.citations]
    why = claim_ok(sentence, [k.answer for k in kept], cited, question)
    if not why:
        return Verdict([Sentence(sentence.strip(), listed.citations)], left_out)
    if sentence.strip():
        left_out.append(Sentence(sentence.strip(), listed.citations, supported=False, reason=why))
    return Verdict([listed], left_out)


def _listed(kept: Sequence[Checked]) -> Sentence:
    """The kept answers as one sentence citing all their sentences: '52 [1]; 46 [2].'"""
    ids = list(dict.fromkeys(n for k in kept for n in k.evidence))
    text = "; ".join(_marked(k) for k in kept) + "."
    phrase = kept[0].answer if len(kept) == 1 else ""  # compose.py words it as a sentence
    return Sentence(text[0].upper() + text[1:], ids, phrase=phrase)


def _two_part(
    asked: Sequence[str],
    kept: list[Checked],
    left_out: list[Sentence],
    passages: Sequence[Passage],
    weights: dict[str, float],
    threshold: float,
    tuning: Tuning,
) -> Verdict:
    """The answers to a two-part question, one per part, and the parts none answers."""
    unanswered = [
        part
        for part in asked
        if not any(
            _check(part, Proposal(k.answer, k.evidence), passages, weights, threshold, tuning).ok
            for k in kept
        )
    ]
    listed = replace(_listed(kept), phrase="")  # a phrase answers a part, not the question
    return Verdict([listed], left_out, unanswered=unanswered)
