"""`crisis check` screens standard input line by line; `crisis train` retrains the model."""

from __future__ import annotations

import argparse
import io
import json
import math
import random
import re
import sys
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handlers.crisis_model import MODEL_PATH, features, is_short, repair
from handlers.crisis_screen import load_phrases, screen

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "tests" / "data"
ORDINARY = ("figurative", "venting", "tech", "grief", "health", "service", "prevention")
EVERYDAY = "everyday"  # the must-not-hit list: trained on, not used to set thresholds
DIRECT = "direct"  # the must-hit list's statements about oneself
# Cross-validated shares of ordinary messages (all categories together) that the thresholds
# allow: well inside the per-category limits (2 % crisis, 15 % either tier), because a limit
# checked on each category's few dozen messages alone swings with every message added.
CRISIS_FP = 0.01  # given the crisis tier by the model alone
PHRASE_FP = 0.015  # given the crisis tier by the model or by a clinician phrase
CONCERN_FP = 0.10  # given crisis or concern by the model alone
PHRASE_CONCERN_FP = 0.11  # given crisis or concern by the model or by a clinician phrase
FOLDS = 5
C = 20.0  # inverse regularisation strength of the logistic regression
MIN_COUNT = 2  # a feature must occur in this many training messages to be learned
PRUNE = 0.01  # rows whose weights are all smaller than this, after centring, keep only idf
SCALE = 100  # weights are written as whole hundredths
AUGMENTED = "augmented"
AUGMENTED_WEIGHT = 0.5  # an invented message counts half as much as a written one
RETELL_EN = (
    "my friend says ",
    "my coworker told me ",
    "my roommate just said ",
    "my sister said ",
)
RETELL_ZH = ("我朋友說", "同事跟我說", "室友剛剛說", "我們部門的同事說")
_PRONOUNS_HE = {
    "i": "he",
    "i'm": "he's",
    "im": "hes",
    "i've": "he's",
    "ive": "hes",
    "i'll": "he'll",
    "ill": "hell",
    "i'd": "he'd",
    "me": "him",
    "my": "his",
    "mine": "his",
    "myself": "himself",
    "am": "is",
}
_PRONOUNS_SHE = {
    word: told.replace("he", "she", 1)
    if told.startswith("he")
    else told.replace("him", "her").replace("his", "her")
    for word, told in _PRONOUNS_HE.items()
}


@dataclass(frozen=True)
class Example:
    """One labelled training message."""

    text: str
    label: str  # the model's class: a corpus category (garbled splits by kind)
    kind: str
    group: str  # category/language, the unit the thresholds are checked on
    calibrates: bool = True  # False: trained on, but kept out of setting the thresholds


def add_parsers(commands: Any) -> Any:
    """Add `crisis check` and `crisis train` to the CLI; return the crisis actions."""
    crisis = commands.add_parser(
        "crisis",
        help="screen messages, retrain the screen, crisis report, on-call counselor",
        description="The crisis screen (check, train) and crisis care (report, on-call).",
    )
    actions = crisis.add_subparsers(dest="crisis_command", metavar="ACTION", required=True)
    actions.add_parser(
        "check",
        help="screen standard input, one message a line",
        description="Read UTF-8 messages from standard input, one a line, each on its own, and "
        'write one JSON object a line: {"tier": "crisis"|"concern"|"none", "kind": '
        '"self"|"others-danger"|"third-party"|"none"}.',
    )
    train = actions.add_parser(
        "train",
        help="retrain the model from the training corpus (needs pip install -e '.[dev]')",
        description="Retrain handlers/crisis_model/model.json from tests/data/crisis/train, "
        "crisis_hits.txt and crisis_misses.txt; choose the thresholds by cross-validation on "
        "that data only, and print the cross-validated figures. Needs scikit-learn: "
        "pip install -e '.[dev]'.",
    )
    train.add_argument("--data", type=Path, default=DATA_DIR, help="the tests/data folder")
    train.add_argument("--out", type=Path, default=MODEL_PATH, help="where to write the model")
    return actions


def run(args: argparse.Namespace) -> int:
    """Run `crisis check` or `crisis train`."""
    if args.crisis_command == "check":
        return check(sys.stdin.buffer, sys.stdout)
    return train(args.data, args.out)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the crisis commands on their own: python -m bot.cli_crisis check."""
    parser = argparse.ArgumentParser(prog="eap-bot")
    add_parsers(parser.add_subparsers(dest="command", required=True))
    return run(parser.parse_args(argv))


def check(source: io.BufferedIOBase, out: io.TextIOBase) -> int:
    """Screen each line of a byte stream on its own and write one JSON verdict a line."""
    for raw in source:
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        verdict = screen(line)
        out.write(json.dumps({"tier": verdict.tier, "kind": verdict.kind}) + "\n")
        out.flush()
    return 0


def train(data: Path, out: Path) -> int:
    """Fit the model, pick its thresholds by cross-validation, write it, print the figures."""
    try:
        import numpy  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError as error:
        print(
            f"eap-bot: crisis train needs scikit-learn ({error.name} is missing); "
            "run: pip install -e '.[dev]'",
            file=sys.stderr,
        )
        return 2
    examples = load_examples(data)
    found = [features(example.text) for example in examples]
    phrase_hits = [phrase_hit(example.text) for example in examples]
    print(
        f"{len(examples)} training messages; cross-validating ({FOLDS} folds) ...", file=sys.stderr
    )
    risks = cross_validated_risks(examples, found)
    thresholds = choose_thresholds(examples, risks, phrase_hits)
    model = fit(examples, found)
    model["thresholds"] = thresholds
    text = json.dumps(model, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    out.write_text(text.replace('],"', '],\n"') + "\n", encoding="utf-8")
    print(f"wrote {out} ({out.stat().st_size // 1024} KiB, {len(model['weights'])} features)")
    print(f"thresholds: {thresholds}")
    print(figures_table(examples, risks, phrase_hits, thresholds))
    print(summary(examples, risks, phrase_hits, thresholds))
    return 0


def summary(
    examples: list[Example], risks: list[float], phrase_hits: list[bool], thresholds: dict
) -> str:
    """One line of cross-validated figures: crisis-tier and any-tier recall, mean and worst."""
    tiers: dict[str, list[str]] = defaultdict(list)
    for example, risk, phrase in zip(examples, risks, phrase_hits, strict=True):
        if example.group.split("/")[0] not in (*ORDINARY, "must-hit", "must-not-hit"):
            tiers[example.group].append(
                _tier(risk, phrase, thresholds, short=is_short(repair(example.text)))
            )
    crisis = [sum(t == "crisis" for t in got) / len(got) for got in tiers.values()]
    flagged = [sum(t != "none" for t in got) / len(got) for got in tiers.values()]
    return (
        f"CV recall: crisis tier mean {sum(crisis) / len(crisis):.3f} worst {min(crisis):.2f}; "
        f"crisis or concern mean {sum(flagged) / len(flagged):.3f} worst {min(flagged):.2f}"
    )


def load_examples(data: Path) -> list[Example]:
    """The labelled training corpus plus the must-hit and must-not-hit lists."""
    examples = []
    for path in sorted((data / "crisis" / "train").glob("*.jsonl")):
        language = path.stem
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                category, kind = row["category"], row["kind"]
                label = kind if category == "garbled" and kind != "self" else category
                group = f"{row['category']}/{language}"
                calibrates = not row.get("hard_case", False)
                examples.append(Example(row["text"], label, kind, group, calibrates))
    kind = "self"
    for line in (data / "crisis_hits.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            kind = "others-danger" if "danger" in line or "harming others" in line else "self"
        elif line.strip():
            label = DIRECT if kind == "self" else kind
            examples.append(Example(line.strip(), label, kind, "must-hit"))
    for line in (data / "crisis_misses.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            examples.append(Example(line.strip(), EVERYDAY, "none", "must-not-hit", False))
    return examples


def phrase_hit(text: str) -> bool:
    """Whether a clinician phrase occurs in the text (idiom exclusions applied)."""
    return load_phrases().matches(repair(text))


@dataclass(frozen=True)
class Fitted:
    """A fitted regression with the columns and idf weights of its features."""

    regression: Any
    columns: dict[str, int]
    idf: dict[str, float]
    unseen_idf: float  # the idf of a feature seen in fewer than MIN_COUNT training messages


def _matrix(found: list[set[str]], fitted: Fitted) -> Any:
    """A sparse matrix of idf-weighted features, each message scaled to unit length."""
    from scipy.sparse import csr_matrix

    rows, columns, values = [], [], []
    for i, features_of_one in enumerate(found):
        idfs = {feature: fitted.idf.get(feature, fitted.unseen_idf) for feature in features_of_one}
        norm = math.sqrt(sum(idf * idf for idf in idfs.values())) or 1.0
        for feature, idf in idfs.items():
            if (column := fitted.columns.get(feature)) is not None:
                rows.append(i)
                columns.append(column)
                values.append(idf / norm)
    return csr_matrix((values, (rows, columns)), shape=(len(found), len(fitted.columns)))


def augment(examples: list[Example]) -> list[Example]:
    """Extra training messages made from the given ones: told about someone else, and misspelt.

    "I took all my pills" told as "my friend says she took all her pills" is a third-party
    crisis; ordinary messages retold stay ordinary, so the frame alone teaches nothing.
    Misspelt copies keep their class.
    """
    extra = []
    for example in examples:
        seed = zlib.crc32(example.text.encode("utf-8"))
        if example.kind in ("self", "none") and example.label != EVERYDAY and seed % 3 == 0:
            told = retold(example.text, seed)
            if told is not None:
                third = example.kind == "self"
                label = "third-party" if third else example.label
                extra.append(Example(told, label, "third-party" if third else "none", AUGMENTED))
        if example.text.isascii() and seed % 2 == 0:
            extra.append(
                Example(misspell(example.text, seed), example.label, example.kind, AUGMENTED)
            )
    return extra


def retold(text: str, seed: int) -> str | None:
    """A first-person message retold by a friend or colleague, or None if it has no "I"."""
    if any("\u4e00" <= char <= "\u9fff" for char in text):
        if "我" not in text:
            return None
        frame = RETELL_ZH[seed // 3 % len(RETELL_ZH)]
        return frame + text.replace("我們", "他們").replace("我", "他")
    words = re.findall(r"[A-Za-z']+|[^A-Za-z']+", text)
    she = seed % 2 == 0
    swapped = [
        _PRONOUNS_SHE.get(w.lower(), w) if she else _PRONOUNS_HE.get(w.lower(), w) for w in words
    ]
    if swapped == words:
        return None
    return RETELL_EN[seed // 3 % len(RETELL_EN)] + "".join(swapped)


def misspell(text: str, seed: int) -> str:
    """The text with a letter dropped or two swapped in about one long word in three."""
    rng = random.Random(seed)
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) >= 4 and word.isalpha() and rng.random() < 0.35:
            at = rng.randrange(1, len(word) - 1)
            if rng.random() < 0.5:
                words[i] = word[:at] + word[at + 1 :]
            else:
                words[i] = word[: at - 1] + word[at] + word[at - 1] + word[at + 1 :]
    return " ".join(words)


def _fit(examples: list[Example], found: list[set[str]]) -> Fitted:
    """A fitted logistic regression and its features (augmented examples added)."""
    from sklearn.linear_model import LogisticRegression

    extra = augment(examples)
    examples = [*examples, *extra]
    found = [*found, *(features(example.text) for example in extra)]
    counts: dict[str, int] = defaultdict(int)
    for features_of_one in found:
        for feature in features_of_one:
            counts[feature] += 1
    kept = sorted(feature for feature, count in counts.items() if count >= MIN_COUNT)
    total = len(found) + 1
    fitted = Fitted(
        regression=LogisticRegression(C=C, max_iter=5000, random_state=0),
        columns={feature: i for i, feature in enumerate(kept)},
        idf={feature: math.log(total / (1 + counts[feature])) + 1 for feature in kept},
        unseen_idf=math.log(total / MIN_COUNT) + 1,
    )
    labels = [example.label for example in examples]
    fitted.regression.fit(_matrix(found, fitted), labels, sample_weight=_weights(examples))
    return fitted


def _weights(examples: list[Example]) -> list[float]:
    """Balanced class weights counted over written messages; invented ones count less."""
    written: dict[str, int] = defaultdict(int)
    for example in examples:
        if example.group != AUGMENTED:
            written[example.label] += 1
    total = sum(written.values())
    weights = []
    for example in examples:
        weight = total / (len(written) * max(1, written[example.label]))
        weights.append(weight * (AUGMENTED_WEIGHT if example.group == AUGMENTED else 1.0))
    return weights


def _risk(fitted: Fitted, found: list[set[str]]) -> Any:
    """The probability of a crisis class for each message."""
    probabilities = fitted.regression.predict_proba(_matrix(found, fitted))
    classes = fitted.regression.classes_
    ordinary = [i for i, label in enumerate(classes) if _kind_of(label) == "none"]
    return 1.0 - probabilities[:, ordinary].sum(axis=1)


def cross_validated_risks(examples: list[Example], found: list[set[str]]) -> list[float]:
    """Each message's crisis probability from a model that never saw it."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    risks = np.zeros(len(examples))
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=0)
    for train_rows, held_out in folds.split(np.zeros(len(examples)), [e.group for e in examples]):
        fitted = _fit([examples[i] for i in train_rows], [found[i] for i in train_rows])
        risks[held_out] = _risk(fitted, [found[i] for i in held_out])
    return [float(risk) for risk in risks]


def _kind_of(label: str) -> str:
    """The kind of crisis a class stands for."""
    if label in ORDINARY or label == EVERYDAY:
        return "none"
    return label if label in ("others-danger", "third-party") else "self"


def _tier(risk: float, phrase: bool, thresholds: dict[str, float], *, short: bool) -> str:
    """The tier a risk and a phrase hit give, as crisis_screen decides it."""
    if (risk >= thresholds["crisis"] and not short) or (phrase and risk >= thresholds["phrase"]):
        return "crisis"
    if (risk >= thresholds["concern"] and not short) or (
        phrase and risk >= thresholds["phrase_concern"]
    ):
        return "concern"
    return "none"


def _lowest(candidates: list[float], ok: Any) -> float:
    """The lowest candidate threshold for which ok(threshold) holds (ok is monotone)."""
    ordered = [*sorted(set(candidates)), 1.0]
    low, high = 0, len(ordered) - 1
    while low < high:
        middle = (low + high) // 2
        if ok(ordered[middle]):
            high = middle
        else:
            low = middle + 1
    return round(ordered[low], 4)


def choose_thresholds(
    examples: list[Example], risks: list[float], phrase_hits: list[bool]
) -> dict[str, float]:
    """The lowest thresholds keeping the ordinary messages within their false-hit shares.

    A short text gets no tier from the model alone (crisis_screen), so it can only be a false
    hit through a clinician phrase.
    """
    ordinary = [i for i, e in enumerate(examples) if e.label in ORDINARY and e.calibrates]
    model_may = [not is_short(repair(example.text)) for example in examples]

    def share(hit: Any) -> float:
        return sum(1 for i in ordinary if hit(i)) / len(ordinary)

    def alone(i: int, t: float) -> bool:
        return model_may[i] and risks[i] >= t

    crisis = _lowest(risks, lambda t: share(lambda i: alone(i, t)) <= CRISIS_FP)

    def phrase_ok(t: float) -> bool:
        return share(lambda i: alone(i, crisis) or (phrase_hits[i] and risks[i] >= t)) <= PHRASE_FP

    phrase = min(_lowest(risks, phrase_ok), crisis)
    concern = min(_lowest(risks, lambda t: share(lambda i: alone(i, t)) <= CONCERN_FP), crisis)

    def phrase_concern_ok(t: float) -> bool:
        def hit(i: int) -> bool:
            return alone(i, concern) or (phrase_hits[i] and risks[i] >= t)

        return share(hit) <= PHRASE_CONCERN_FP

    phrase_concern = min(_lowest(risks, phrase_concern_ok), concern)
    return {
        "crisis": crisis,
        "concern": concern,
        "phrase": phrase,
        "phrase_concern": phrase_concern,
    }


def fit(examples: list[Example], found: list[set[str]]) -> dict[str, Any]:
    """The model fitted on every example, as the JSON dictionary that crisis_model reads.

    Each feature's row is [idf, weight of each class × idf], in whole hundredths; a feature
    whose weights are all negligible keeps only its idf, which still counts in a message's length.
    """
    fitted = _fit(examples, found)
    classes = [str(label) for label in fitted.regression.classes_]
    coefficients = fitted.regression.coef_
    weights = {}
    for feature, column in fitted.columns.items():
        idf = fitted.idf[feature]
        row = (coefficients[:, column] - coefficients[:, column].mean()) * idf
        kept = [round(float(w) * SCALE) for w in row] if abs(row).max() >= PRUNE else []
        weights[feature] = [round(idf * SCALE), *kept]
    return {
        "about": "Multinomial logistic regression over idf-weighted n-grams; `crisis train`.",
        "classes": classes,
        "kinds": {label: _kind_of(label) for label in classes},
        "weights": weights,
        "scale": SCALE,
        "unseen_idf": round(fitted.unseen_idf * SCALE),
        "bias": [round(float(b) * SCALE) for b in fitted.regression.intercept_],
        "settings": {"C": C, "min_count": MIN_COUNT, "prune": PRUNE, "folds": FOLDS},
    }


def figures_table(
    examples: list[Example], risks: list[float], phrase_hits: list[bool], thresholds: dict
) -> str:
    """Cross-validated figures per category and language, as a Markdown table."""
    tiers: dict[str, list[str]] = defaultdict(list)
    for example, risk, phrase in zip(examples, risks, phrase_hits, strict=True):
        tiers[example.group].append(
            _tier(risk, phrase, thresholds, short=is_short(repair(example.text)))
        )
    for example, risk, phrase in zip(examples, risks, phrase_hits, strict=True):
        if not example.calibrates and example.kind == "none" and example.label != EVERYDAY:
            tiers["hard cases (ordinary)"].append(
                _tier(risk, phrase, thresholds, short=is_short(repair(example.text)))
            )
    lines = ["| category | n | crisis or concern | crisis |", "|---|---|---|---|"]
    for group in sorted(tiers):
        got = tiers[group]
        flagged = sum(t != "none" for t in got) / len(got)
        crisis = sum(t == "crisis" for t in got) / len(got)
        lines.append(f"| {group} | {len(got)} | {flagged:.2f} | {crisis:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
