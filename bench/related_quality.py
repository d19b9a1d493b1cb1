#!/usr/bin/env python3
"""Quality of related posts on synthetic corpora with known topics: precision@5.

    python bench/related_quality.py [--posts N] [--seed S]

Each corpus has K latent topics. A topic has its own vocabulary (made-up words, Zipf
weighted); a post draws 4-15 % of its words from its topic (a quarter of a topic's words are
shared with the next topic), up to 5 % from a second topic,
and the rest from a shared vocabulary of common tech words and English stop words. Posts
carry code blocks (shared code vocabulary) and links whose URLs name other topics' words,
both of which must be ignored. A share of posts has no tags; tagged posts get 1-3 of their
topic's tags and, with probability `noise`, one tag of another topic. Topics are grouped
into categories (a category holds several topics); dates are random. The "hard" setting
has short posts (40-200 words) with only 2-6 % topic words. The "short" setting is a news blog: 1-2 paragraphs (40-140 words), 20 %
topic words of which 30 % come from a sibling topic (topics pair up, 0-1, 2-3, ...), no
code blocks.

Files are written to a temporary folder and read back with quire's reader, then
`related_index` (and, for comparison, a tags-only ranking: tags weighted by rarity plus
category and date, the ranking quire had before) gives 5 related posts per post.
precision@5 is the share of those 5 slots filled by a post on the same topic (an empty
slot counts as a miss), averaged over all posts, tagged posts and untagged posts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from quire.index.related import RelatedSettings, related_index  # noqa: E402
from quire.read.content import ReadOptions, read_sources  # noqa: E402

COMMON = [
    "app",
    "update",
    "release",
    "version",
    "feature",
    "support",
    "user",
    "users",
    "team",
    "project",
    "build",
    "system",
    "performance",
    "design",
    "issue",
    "issues",
    "problem",
    "solution",
    "data",
    "file",
    "files",
    "service",
    "server",
    "client",
    "code",
    "tool",
    "tools",
    "test",
    "tests",
    "change",
    "changes",
    "time",
    "way",
    "work",
    "works",
    "example",
    "setup",
    "config",
    "option",
    "options",
    "default",
    "new",
    "old",
    "simple",
    "fast",
    "slow",
    "small",
    "large",
    "good",
    "better",
    "best",
    "easy",
    "hard",
    "fix",
    "fixed",
    "bug",
    "bugs",
    "note",
    "notes",
    "post",
    "week",
    "month",
    "year",
    "today",
    "yesterday",
    "idea",
    "ideas",
    "start",
    "started",
    "end",
    "run",
    "running",
    "install",
    "installed",
    "use",
    "used",
    "using",
    "open",
    "source",
    "docs",
    "guide",
    "step",
    "steps",
    "result",
    "results",
    "need",
    "needs",
    "want",
    "wanted",
    "make",
    "makes",
    "made",
    "look",
    "looks",
    "thing",
    "things",
    "point",
    "part",
    "parts",
    "case",
    "cases",
    "number",
    "list",
    "set",
    "value",
    "values",
    "line",
    "lines",
    "page",
    "pages",
]
CODE_WORDS = [
    "def",
    "return",
    "import",
    "self",
    "class",
    "value",
    "result",
    "print",
    "for",
    "while",
    "if",
    "else",
    "none",
    "true",
]
FILLER = [
    "the",
    "a",
    "of",
    "and",
    "to",
    "in",
    "is",
    "it",
    "that",
    "for",
    "on",
    "with",
    "as",
    "this",
    "be",
    "are",
    "was",
    "at",
    "by",
    "we",
    "you",
]
SHORT_VOCAB = 300  # words per topic in the "short" regime
SHORT_FAMILY = 0.3  # share of family words in a "short" post
SHORT_TITLE = 0  # topic words in a "short" title
SHORT_SHARED = 0.5  # share of a topic's words its sibling also uses
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]


def made_up_words(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    words = []
    while len(words) < count:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in taken:
            taken.add(word)
            words.append(word)
    return words


def zipf_choice(rng: random.Random, words: list[str], k: int) -> list[str]:
    return rng.choices(words, weights=[1 / (i + 1) for i in range(len(words))], k=k)


def write_corpus(
    folder: Path,
    n: int,
    topics: int,
    untagged: float,
    noise: float,
    seed: int,
    hard: bool = False,
    short: bool = False,
):
    """Writes n posts; returns {slug: topic}."""
    rng = random.Random(seed)
    taken = set(COMMON) | set(CODE_WORDS) | set(FILLER)
    own = [made_up_words(rng, 40, taken) for _ in range(topics)]
    # neighbouring topics share a quarter of their words, so topics are not cleanly apart
    vocab = [own[t][:30] + own[(t + 1) % topics][30:] for t in range(topics)]
    if short:  # larger vocabularies, so that a short post repeats few of its topic's words
        own = [made_up_words(rng, SHORT_VOCAB, taken) for _ in range(topics)]
        cut = round(SHORT_VOCAB * (1 - SHORT_SHARED))  # siblings share some of their words
        vocab = [own[t][:cut] + own[t & ~1][cut:] for t in range(topics)]
        # and a family vocabulary shared by 4 neighbouring topics ("chips", "displays", ...)
        family = [made_up_words(rng, 100, taken) for _ in range(0, topics, 4)]
    tags = [[f"{words[0]}-{i}" for i in range(6)] for words in vocab]
    n_categories = max(topics // 4, 1)
    category = [f"Category {t % n_categories}" for t in range(topics)]
    posts_dir = folder / "content" / "posts"
    posts_dir.mkdir(parents=True)
    truth = {}
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    for i in range(n):
        topic = rng.randrange(topics)
        other = rng.choice([t for t in range(topics) if t != topic] or [topic])
        if short:
            # news items: 1-2 paragraphs of 40-70 words, 20 % topic words of which 30 % come
            # from the sibling topic (topics pair up: 0-1, 2-3...), no second topic
            sizes = [rng.randint(40, 70) for _ in range(rng.randint(1, 2))]
            length = sum(sizes)
            n_topic = round(length * 0.2)
            n_sibling = round(n_topic * 0.3)
            n_family = round(length * SHORT_FAMILY)
            words = (
                rng.choices(vocab[topic], k=n_topic - n_sibling)
                + rng.choices(vocab[topic ^ 1 if topic ^ 1 < topics else topic], k=n_sibling)
                + zipf_choice(rng, family[topic // 4], n_family)
                + zipf_choice(rng, COMMON, int(length * 0.4))
                + rng.choices(FILLER, k=length - n_topic - n_family - int(length * 0.4))
            )
            rng.shuffle(words)
            cuts = [0, sizes[0], length]
            paragraphs = [
                " ".join(words[a:b]) + "." for a, b in zip(cuts, cuts[1:], strict=False) if b > a
            ]
        else:
            length = rng.randint(40, 200) if hard else rng.randint(80, 500)
            share = rng.uniform(0.02, 0.06) if hard else rng.uniform(0.04, 0.15)
            n_topic = max(int(length * share), 3)
            n_other = int(length * rng.uniform(0.0, 0.05))
            words = (
                zipf_choice(rng, vocab[topic], n_topic)
                + zipf_choice(rng, vocab[other], n_other)
                + zipf_choice(rng, COMMON, int(length * 0.5))
                + rng.choices(FILLER, k=length - n_topic - n_other - int(length * 0.5))
            )
            rng.shuffle(words)
            paragraphs = [" ".join(words[j : j + 60]) + "." for j in range(0, len(words), 60)]
        if not short and rng.random() < 0.4:
            code = "\n".join(" ".join(rng.choices(CODE_WORDS, k=6)) for _ in range(8))
            paragraphs.insert(1, f"```python\n{code}\n```")
        for _ in range(rng.randint(0, 3)):
            stray = rng.choice(vocab[rng.randrange(topics)])
            paragraphs.append(f"See [the notes](https://example.org/{stray}/{stray}-guide).")
        title = " ".join(
            zipf_choice(rng, vocab[topic], SHORT_TITLE if short else 2)
            + zipf_choice(rng, COMMON, rng.randint(3, 6))
        )
        post_tags: list[str] = []
        if rng.random() >= untagged:
            post_tags = rng.sample(tags[topic], rng.randint(1, 3))
            if rng.random() < noise:
                post_tags.append(rng.choice(tags[other]))
        date = start + dt.timedelta(hours=rng.randrange(24 * 365 * 5))
        slug = f"post-{i:05d}"
        truth[slug] = topic
        head = [
            "---",
            f'title: "{title.capitalize()}"',
            f"date: {date.isoformat()}",
            f"slug: {slug}",
        ]
        if post_tags:
            head.append(f"tags: [{', '.join(post_tags)}]")
        if rng.random() < 0.7:
            head.append(f'category: "{category[topic]}"')
        (posts_dir / f"{slug}.md").write_text(
            "\n".join(head) + "\n---\n\n" + "\n\n".join(paragraphs)
        )
    return truth


def tags_only_index(posts, count=5) -> dict[str, tuple[str, ...]]:
    """The ranking quire had before: shared tags by rarity, same category, date nudge."""
    tag_df = Counter(t for p in posts for t in set(p.tags))
    n = max(len(posts), 1)
    result = {}
    for post in posts:
        scored = []
        for other in posts:
            if other is post:
                continue
            shared = set(post.tags) & set(other.tags)
            score = sum(math.log(1 + n / tag_df[t]) for t in shared)
            if set(post.categories) & set(other.categories):
                score += 0.5
            days = abs((post.date - other.date).total_seconds()) / 86400
            score += 0.1 / (1 + days / 30)
            scored.append((-score, -other.date.timestamp(), other.slug))
        scored.sort()
        result[post.slug] = tuple(slug for _, _, slug in scored[:count])
    return result


def precision(index, posts, truth, k=5) -> tuple[float, float, float]:
    def p_at_k(post):
        hits = sum(truth[s] == truth[post.slug] for s in index[post.slug][:k])
        return hits / k

    def mean(group):
        return sum(map(p_at_k, group)) / len(group) if group else float("nan")

    tagged = [p for p in posts if p.tags]
    untagged = [p for p in posts if not p.tags]
    return mean(posts), mean(tagged), mean(untagged)


SETTINGS = [  # (topics, untagged share, noise-tag probability, regime)
    (20, 0.5, 0.2, "long"),
    (5, 0.2, 0.1, "long"),
    (50, 0.8, 0.4, "long"),
    (20, 0.5, 0.6, "long"),
    (100, 0.3, 0.3, "long"),
    (20, 0.5, 0.2, "hard"),
    (20, 0.5, 0.2, "short"),
]


def load_corpus(site: Path, n: int, topics: int, untagged: float, noise: float, seed: int, regime):
    """Writes a corpus under `site` and reads it back: (posts newest first, truth)."""
    truth = write_corpus(
        site, n, topics, untagged, noise, seed, hard=regime == "hard", short=regime == "short"
    )
    posts, problems = read_sources(site, ReadOptions())
    assert not problems, problems[:3]
    posts.sort(key=lambda p: (p.date, p.slug), reverse=True)
    return posts, truth


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--posts", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-baseline", action="store_true", help="skip the slow tags-only ranking")
    ap.add_argument(
        "--only", nargs="*", choices=["long", "hard", "short"], help="run only these regimes"
    )
    args = ap.parse_args()
    print(f"# precision@5, {args.posts} posts, seed {args.seed}")
    print(
        "| topics | untagged | noise tags | quire all | tagged | untagged "
        "| tags-only all | tagged | untagged | time (s) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for topics, untagged, noise, regime in SETTINGS:
        if args.only and regime not in args.only:
            continue
        with tempfile.TemporaryDirectory(prefix="quire-quality-") as tmp:
            posts, truth = load_corpus(
                Path(tmp), args.posts, topics, untagged, noise, args.seed, regime
            )
            start = time.perf_counter()
            ours = precision(related_index(posts, RelatedSettings()), posts, truth)
            seconds = time.perf_counter() - start
            if args.no_baseline:
                base = (float("nan"),) * 3
            else:
                base = precision(tags_only_index(posts), posts, truth)
            cells = " | ".join(f"{v:.3f}" for v in (*ours, *base))
            name = f"{topics}{'' if regime == 'long' else f' ({regime})'}"
            print(f"| {name} | {untagged:.0%} | {noise:.0%} | {cells} | {seconds:.2f} |")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
