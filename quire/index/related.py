"""Related posts: for every published post, the slugs of the posts a reader should see next.

Kept behind one function, `related_index`, so the ranking can change without touching the
rest of the pipeline.

How a pair of posts is scored (all parts in 0..1, blended with `RelatedSettings.weights`):

* text: cosine similarity of TF-IDF vectors of title + summary + body. Term frequency is
  sublinear (1 + ln tf), the weight of a word falls to zero as it approaches being in
  every post (BM25's idf), English stop words, code blocks, inline code, URLs, HTML and
  shortcodes are left out, and a word in the title counts `title_boost` more.
* tags: cosine similarity of the posts' tags, each tag weighted by its rarity (idf) and by
  how well the post's own text agrees with the tag (so one off-topic tag cannot drag a
  post away from its subject).
* category: 1 when the posts share a category.
* date: 2 ** (-days apart / date_half_life_days), a small nudge towards posts of the
  same period.

Only posts that share at least one informative word or tag are candidates, which keeps
the work close to linear in the number of posts. Scores are computed in blocks of rows
with scipy sparse products, and the top-k of each row is taken with numpy, so memory
stays linear in the number of posts. Only each row's best pairs by text and tags get the
category and date nudges computed.

Query expansion (see `_expanded`), for posts without tags on blogs of 200 posts or more:
a short post's own words are thin evidence, so its score for another post blends in its
nearest neighbours' scores for that post, twice (neighbours of neighbours). It works on
the first pass's top CANDIDATES per post, so it costs one small sparse product, not a
second pass over all pairs.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
import scipy.sparse as sp

from quire.config import DEFAULT_WEIGHTS, RelatedSettings  # noqa: F401  (RelatedSettings: re-exported)
from quire.index.taxonomy import slugify
from quire.index.words import ENGLISH_STOP_WORDS, plain_text, post_words  # noqa: F401  (re-exported)

# ---------------------------------------------------------------------------------- text

MAX_SHARE = 0.5  # a word or tag in more than this share of the posts links none of them
MAX_SHARED = 1000  # nor one in more than this many posts: keeps the work linear


def _linking(df: np.ndarray, n: int) -> np.ndarray:
    """Which words (or tags), by document frequency, are used to link posts.

    One in a single post links nothing. One in more than half the posts carries almost no
    weight anyway (its idf is near zero) but would make every pair a candidate; the
    absolute cap keeps the number of candidates per post bounded as the blog grows.
    """
    return (df >= 2) & (df <= max(min(MAX_SHARE * n, MAX_SHARED), 2))


def _count_matrix(docs: list[Counter], vocab: dict[bytes, int]) -> sp.csr_matrix:
    """Documents x words counts; new words are added to `vocab` (word -> column)."""
    words = list(chain.from_iterable(docs))
    for word in dict.fromkeys(words):
        vocab.setdefault(word, len(vocab))
    columns = np.fromiter(map(vocab.__getitem__, words), dtype=np.int32, count=len(words))
    counts = np.fromiter(
        chain.from_iterable(c.values() for c in docs), dtype=np.float32, count=len(words)
    )
    indptr = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum([len(c) for c in docs], out=indptr[1:])
    return sp.csr_matrix((counts, columns, indptr), shape=(len(docs), max(len(vocab), 1)))


def _normalize_rows(m: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags((1.0 / norms).astype(np.float32)) @ m)


def _keep_columns(m: sp.csr_matrix, keep: np.ndarray) -> sp.csr_matrix:
    """Zero the columns not in `keep` (bool per column) without changing the shape."""
    m = m.tocoo()
    mask = keep[m.col]
    return sp.csr_matrix((m.data[mask], (m.row[mask], m.col[mask])), shape=m.shape)


def text_vectors(
    posts: Sequence, title_boost: float = 2.0, words: Sequence[tuple[Counter, Counter]] = ()
) -> sp.csr_matrix:
    """L2-normalised TF-IDF rows (float32) over title + summary + body, one per post.

    `words` may give each post's `post_words`, cached by the caller. Words that cannot
    link posts (see `_linking`) are dropped after normalising.
    """
    vocab: dict[bytes, int] = {}
    pairs = words or [post_words(p) for p in posts]
    titles = [t for t, _ in pairs]
    bodies = [b for _, b in pairs]
    body = _count_matrix(bodies, vocab)
    title = _count_matrix(titles, vocab)
    n_terms = max(len(vocab), 1)
    body.resize((len(posts), n_terms))
    title.resize((len(posts), n_terms))
    body.data = 1.0 + np.log(body.data)
    title.data[:] = title_boost
    tf = (body + title).tocsr()
    n = len(posts)
    df = np.bincount(tf.indices, minlength=n_terms)
    idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
    tf.data *= idf[tf.indices]
    return _keep_columns(_normalize_rows(tf), _linking(df, n))


# ---------------------------------------------------------------------------------- tags

_slug = functools.lru_cache(maxsize=65536)(slugify)


def tag_vectors(posts: Sequence, text: sp.csr_matrix) -> sp.csr_matrix:
    """L2-normalised rows of tag weights: rarity (idf) times agreement with the post's text.

    A tag's agreement with a post is the cosine between the post's text and the mean text
    of all posts carrying the tag, relative to the best agreement among the post's tags.
    An off-topic tag on a post agrees poorly and so counts little.
    """
    names: dict[str, int] = {}
    rows, cols = [], []
    for i, post in enumerate(posts):
        for tag in {_slug(t) for t in post.tags} - {""}:
            rows.append(i)
            cols.append(names.setdefault(tag, len(names)))
    n = len(posts)
    member = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, max(len(names), 1))
    )
    df = np.asarray(member.sum(axis=0)).ravel()
    idf = np.log(n / np.maximum(df, 1)).astype(np.float32)
    weights = member.multiply(idf[None, :]).tocsr()
    if text.nnz and member.nnz:
        centroids = _normalize_rows(sp.csr_matrix(member.T @ text))  # tags x words
        coo = weights.tocoo()
        # cosine of each (post, tag) pair: row-wise dot of text[post] and centroid[tag]
        agree = np.asarray(text[coo.row].multiply(centroids[coo.col]).sum(axis=1)).ravel()
        has_text = np.diff(text.indptr)[coo.row] > 0
        best = np.zeros(n, dtype=np.float32)
        np.maximum.at(best, coo.row, agree)
        trust = np.where(
            has_text & (best[coo.row] > 0), agree / np.maximum(best[coo.row], 1e-12), 1.0
        )
        weights = sp.csr_matrix(
            (coo.data * trust.astype(np.float32), (coo.row, coo.col)), shape=weights.shape
        )
    return _keep_columns(_normalize_rows(weights), _linking(df, n))


EXPAND = 20  # query expansion: a post's score for j blends in its EXPAND nearest neighbours'
EXPAND_WEIGHT = 0.8  # the neighbours' share of the blended score, for a post without tags
EXPAND_WEIGHT_TAGGED = (
    0.0  # the same for a post with tags: its tags are good evidence, it keeps its list
)
EXPAND_ROUNDS = 2  # blends in a row: the second lets the neighbours' neighbours count
POSTS_PER_NEIGHBOUR = 100  # fewer neighbours on smaller blogs: 20 from 2000 posts, none below 200
CANDIDATES = 50  # first-pass scores kept per post: what expansion blends (memory n x 50)


# ------------------------------------------------------------------------------- ranking


def related_scores(
    posts: Sequence,
    settings: RelatedSettings,
    block: int = 512,
    words: Sequence[tuple[Counter, Counter]] = (),
    fill: bool = False,
) -> dict[str, tuple[tuple[str, float | None], ...]]:
    """Like `related_index` but with each slug's score (pinned posts score `inf`).

    With `fill`, a list shorter than `count` is filled up (see `_fill`); filled slots
    score None."""
    order = sorted(range(len(posts)), key=lambda i: (-posts[i].date.timestamp(), posts[i].slug))
    ps = [posts[i] for i in order]
    if not ps:
        return {}
    pairs = [words[i] for i in order] if words else ()
    rk = _Ranking.of(ps, settings, pairs)
    index = {p.slug: i for i, p in enumerate(ps)}
    pins = [dict.fromkeys(s for s in (p.related or ()) if s in index and s != p.slug) for p in ps]
    keep = rk.want + max((len(x) for x in pins), default=0)
    keys = rk.top_keys(keep, block)
    return _lists(rk, keys, pins, fill)


@dataclass
class _Ranking:
    """Everything ranking reads, computed once: the text+tags matrix and each post's date
    and category. Each candidate pair gets one int64 key: quantised score, then column
    (lower = newer, then slug), so that "largest key first" is the full ranking order."""

    ps: list
    settings: RelatedSettings
    w: dict
    both: sp.csr_matrix
    tags: sp.csr_matrix
    days: np.ndarray
    cat: np.ndarray
    col_bits: int
    scale: float

    @classmethod
    def of(cls, ps: list, settings: RelatedSettings, pairs) -> _Ranking:
        n = len(ps)
        w = {**DEFAULT_WEIGHTS, **settings.weights}
        text = text_vectors(ps, settings.title_boost, pairs)
        tags = tag_vectors(ps, text)
        # square roots, so that the product of two rows is w_text * cos_text + w_tags * cos_tags
        both = sp.hstack(
            [text * np.float32(math.sqrt(w["text"])), tags * np.float32(math.sqrt(w["tags"]))],
            format="csr",
            dtype=np.float32,
        )
        days = np.array([p.date.timestamp() / 86400.0 for p in ps])
        cats: dict[str, int] = {}
        cat = np.array(
            [
                cats.setdefault(p.categories[0].lower(), len(cats)) if p.categories else -1
                for p in ps
            ]
        )
        col_bits = max(n.bit_length(), 1)
        top_score = sum(max(float(v), 0.0) for v in w.values()) or 1.0
        scale = float(1 << (62 - col_bits)) / top_score
        return cls(ps, settings, w, both, tags, days, cat, col_bits, scale)

    @property
    def col_mask(self) -> int:
        return (1 << self.col_bits) - 1

    @property
    def want(self) -> int:
        return max(self.settings.count, 0)

    @property
    def nudges(self) -> float:
        return max(self.w["category"], 0.0) + max(self.w["date"], 0.0)

    def bonus(self, r: np.ndarray, c: np.ndarray) -> np.ndarray | float:
        """Category and date nudges of pairs (r, c)."""
        w, cat, days = self.w, self.cat, self.days
        extra: np.ndarray | float = 0.0
        if w["category"]:
            extra = w["category"] * ((cat[r] == cat[c]) & (cat[r] >= 0))
        if w["date"]:
            extra = extra + w["date"] * np.exp2(
                -np.abs(days[r] - days[c]) / self.settings.date_half_life_days
            )
        return extra

    def key(self, score: np.ndarray, c: np.ndarray) -> np.ndarray:
        return (np.round(score * self.scale).astype(np.int64) << self.col_bits) | (
            self.col_mask - c
        )

    def allowed(self, r, c, score, floor: float, newer: bool) -> np.ndarray:
        ok = (r != c) & (score >= floor)
        if not newer:
            ok &= self.days[c] <= self.days[r]
        return ok

    def keys_of(self, local, row_of, c, base, keep: int, newer: bool, shortlist=0) -> np.ndarray:
        """Top `keep` keys per row of the pairs (local row, column) with text+tags `base`;
        `row_of` maps local rows to posts.

        With `shortlist`, only each row's `shortlist` best pairs by text+tags get the
        category and date nudges computed (most pairs share one common word and rank far
        down; the nudges only reorder near-ties)."""
        rows = len(row_of)
        r = row_of[local]
        if shortlist and len(base) > rows * shortlist:
            ok = self.allowed(r, c, base, self.settings.min_score - self.nudges, newer)
            top = _top_per_row(local[ok], self.key(base[ok], c[ok]), rows, shortlist)
            local, slot = np.nonzero(top >= 0)
            rough = top[local, slot]
            r, c = row_of[local], self.col_mask - (rough & self.col_mask)
            base = (rough >> self.col_bits) / self.scale
        score = base.astype(np.float64) + self.bonus(r, c)
        valid = self.allowed(r, c, score, self.settings.min_score, newer)
        return _top_per_row(local[valid], self.key(score[valid], c[valid]), rows, keep)

    def first_pass(self, keep: int, newer: bool, block: int) -> np.ndarray:
        both_t = self.both.T.tocsr()
        n = len(self.ps)
        tops: list[np.ndarray] = []
        for start in range(0, n, block):
            stop = min(start + block, n)
            prod = sp.csr_matrix(self.both[start:stop] @ both_t)
            local = np.repeat(np.arange(stop - start), np.diff(prod.indptr))
            c = prod.indices.astype(np.int64)
            rows = np.arange(start, stop)
            tops.append(self.keys_of(local, rows, c, prod.data, keep, newer, 2 * keep))
        return np.concatenate(tops)

    def top_keys(self, keep: int, block: int) -> np.ndarray:
        """The best `keep` keys per post: the first pass, then query expansion on big
        enough blogs (a small blog has small topics: neighbours must stay in their own)."""
        n = len(self.ps)
        if not keep:
            return np.full((n, 1), -1, dtype=np.int64)
        near = min(EXPAND, n // POSTS_PER_NEIGHBOUR)
        expand = near >= 2
        wide = max(keep, CANDIDATES if expand else 0)
        newer = self.settings.include_newer
        keys = self.first_pass(wide, newer or expand, block)
        if not expand:
            return keys[:, :keep]
        selfs = np.asarray(self.both.multiply(self.both).sum(axis=1)).ravel()
        tagged = np.diff(self.tags.indptr) > 0
        weight = np.where(tagged, EXPAND_WEIGHT_TAGGED, EXPAND_WEIGHT)
        for step in range(EXPAND_ROUNDS):
            last = step == EXPAND_ROUNDS - 1
            keys = _expanded(
                keys,
                near,
                selfs,
                weight,
                self.col_bits,
                self.scale,
                self.bonus,
                self.keys_of,
                keep if last else wide,
                newer or not last,
            )
        if not newer:  # rows that did not expand kept newer posts too
            c = self.col_mask - (keys & self.col_mask)
            keys = np.where((keys >= 0) & (self.days[c] <= self.days[:, None]), keys, -1)
            keys = -np.sort(-keys, axis=1)
        return keys[:, :keep]


def _lists(rk: _Ranking, keys: np.ndarray, pins: list, fill: bool) -> dict:
    """Each post's list: pinned posts first, then the ranked ones, then (with `fill`)
    filled slots up to `count`."""
    ps, want, mask = rk.ps, rk.want, rk.col_mask
    result: dict[str, tuple[tuple[str, float | None], ...]] = {}
    groups: _Groups | None = None  # built when a list must be filled up
    for i, post in enumerate(ps):
        pinned = pins[i]
        ranked: list[tuple[str, float | None]] = [(slug, math.inf) for slug in pinned]
        limit = max(want, len(pinned))
        for k in keys[i][keys[i] >= 0].tolist():
            if len(ranked) >= limit:
                break
            slug = ps[mask - (k & mask)].slug
            if slug not in pinned:
                ranked.append((slug, round((k >> rk.col_bits) / rk.scale, 6)))
        if fill and len(ranked) < want:
            taken = {slug for slug, _ in ranked} | {post.slug}
            groups = groups or _Groups(ps, rk.cat)
            need = want - len(ranked)
            include_newer = rk.settings.include_newer
            for j in _fill(i, ps, rk.days, rk.cat, need, taken, include_newer, groups):
                ranked.append((ps[j].slug, None))
        result[post.slug] = tuple(ranked)
    return result


def _expanded(
    keys, near_count, selfs, weight, col_bits, scale, bonus, keys_of, keep, newer, block=1024
) -> np.ndarray:
    """Query expansion on the first pass's top candidates (`keys`, one row per post): a
    post's score for j becomes (1 - weight) x its own text+tags score plus weight x the
    mean score of its `near_count` nearest neighbours for j, the category and date nudges
    added as before. This is what moving each post's vector towards its neighbours' mean
    does to the scores (scores are linear in the vector), computed from the kept candidates
    only: one sparse product with n x near_count x CANDIDATES work, no second pass over all
    pairs. A post's new candidates are its own and its neighbours' (and the neighbours
    themselves: `selfs` is each post's score with itself). Posts whose weight is 0 (tagged
    ones) keep their first-pass keys."""
    n = len(keys)
    col_mask = (1 << col_bits) - 1
    rows, slots = np.nonzero(keys >= 0)  # each row's keys are sorted, -1 padded at the end
    found_keys = keys[rows, slots]
    cols = col_mask - (found_keys & col_mask)
    base = (found_keys >> col_bits) / scale - bonus(rows, cols)
    scores = sp.csr_matrix((base.astype(np.float32), (rows, cols)), shape=(n, n))
    scores = sp.csr_matrix(scores + sp.diags(selfs.astype(np.float32)))
    near = slots < near_count
    found = np.bincount(rows[near], minlength=n)
    # one matrix both keeps a share of the post's own scores (diagonal) and averages its
    # neighbours'; rows of posts that do not expand (weight 0) are left as they were
    moves = (weight > 0) & (found > 0)
    pick = near & moves[rows]
    mix = sp.csr_matrix(
        (
            np.concatenate(
                [weight[rows[pick]] / found[rows[pick]], 1 - np.where(moves, weight, 0.0)]
            ).astype(np.float32),
            (
                np.concatenate([rows[pick], np.arange(n)]),
                np.concatenate([cols[pick], np.arange(n)]),
            ),
        ),
        shape=(n, n),
    )
    todo = np.flatnonzero(moves)
    tops = np.full((n, max(keep, 1)), -1, dtype=np.int64)
    tops[~moves] = keys[~moves, : tops.shape[1]]
    for start in range(0, len(todo), block):
        chunk = todo[start : start + block]
        blend = sp.csr_matrix(mix[chunk] @ scores)
        local = np.repeat(np.arange(len(chunk)), np.diff(blend.indptr))
        c = blend.indices.astype(np.int64)
        tops[chunk] = keys_of(local, chunk, c, blend.data, keep, newer, 2 * keep)
    return tops


def _fill(i, ps, days, cat, need, taken, newer, groups: _Groups) -> list[int]:
    """Up to `need` posts for post i beyond its ranked ones: first the same category by
    date closeness, then posts sharing a tag (rarest tag first, by date closeness), then
    the newest posts. Each step looks at a few posts, not all of them."""
    chosen: list[int] = []

    def take(candidates) -> bool:
        for j in candidates:
            if ps[j].slug in taken or (not newer and days[j] > days[i]):
                continue
            taken.add(ps[j].slug)
            chosen.append(j)
            if len(chosen) >= need:
                return True
        return False

    if cat[i] >= 0 and take(_by_closeness(groups.cats[cat[i]], days, i)):
        return chosen
    tags = sorted({_slug(t) for t in ps[i].tags} - {""}, key=lambda t: (len(groups.tags[t]), t))
    for tag in tags:
        if take(_by_closeness(groups.tags[tag], days, i)):
            return chosen
    take(range(len(ps)))
    return chosen


class _Groups:
    """Members (indices, newest first) of each category and tag, built once per ranking."""

    def __init__(self, ps, cat):
        by_cat: dict[int, list[int]] = {}
        by_tag: dict[str, list[int]] = {}
        for j, post in enumerate(ps):
            by_cat.setdefault(int(cat[j]), []).append(j)
            for tag in {_slug(t) for t in post.tags} - {""}:
                by_tag.setdefault(tag, []).append(j)
        self.cats = {k: np.array(v) for k, v in by_cat.items()}
        self.tags = {k: np.array(v) for k, v in by_tag.items()}


def _by_closeness(members: np.ndarray, days: np.ndarray, i: int):
    """`members` (indices, newest first) by date closeness to post i: nearer first, then
    newer, then lower index. Lazy: walks outwards from post i's place."""
    neg = -days[members]  # ascending
    hi = int(np.searchsorted(neg, -days[i], side="left"))
    lo = hi - 1
    while lo >= 0 or hi < len(members):
        if hi >= len(members) or (
            lo >= 0 and days[members[lo]] - days[i] <= days[i] - days[members[hi]]
        ):
            yield int(members[lo])
            lo -= 1
        else:
            yield int(members[hi])
            hi += 1


def _top_per_row(rows: np.ndarray, keys: np.ndarray, n_rows: int, keep: int) -> np.ndarray:
    """The `keep` largest keys of each row, largest first, padded with -1: (n_rows, keep).

    `rows` is sorted. Rows are handled in groups of similar length so that the padded
    arrays given to numpy's partition stay small.
    """
    out = np.full((n_rows, max(keep, 1)), -1, dtype=np.int64)
    if not len(keys) or keep <= 0:
        return out
    counts = np.bincount(rows, minlength=n_rows)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    by_length = np.argsort(counts, kind="stable")
    for g in range(0, n_rows, 32):
        group = by_length[g : g + 32]
        width = int(counts[group].max())
        if width == 0:
            continue
        pos = np.arange(width)
        inside = pos[None, :] < counts[group][:, None]
        take = np.minimum(starts[group][:, None] + pos[None, :], len(keys) - 1)
        vals = np.where(inside, keys[take], -1)
        if width > keep:
            vals = np.partition(vals, width - keep, axis=1)[:, width - keep :]
        out[group, : vals.shape[1]] = -np.sort(-vals, axis=1)
    return out


def related_index(
    posts: Sequence,
    settings: RelatedSettings,
    words: Sequence[tuple[Counter, Counter]] = (),
    *,
    with_filled: bool = False,
) -> dict[str, tuple]:
    """Ranked related slugs per post slug. `posts` holds only published posts, newest first.

    Pinned slugs (front matter `related: [...]`) come first; a post is never its own relative;
    ties break by date (newer first) then slug, so the order is deterministic. A list with
    fewer than `count` posts above `min_score` is filled up (same category by date
    closeness, then shared tags, then newest), so it is only short when the site has too
    few other posts (or, with `include_newer = false`, too few older ones).

    With `with_filled`, each entry is `(slug, filled)`, `filled` True for a slot filled up
    rather than ranked, so a theme can style it.
    """
    scores = related_scores(posts, settings, words=words, fill=True)
    if with_filled:
        return {
            slug: tuple((s, score is None) for s, score in ranked)
            for slug, ranked in scores.items()
        }
    return {slug: tuple(s for s, _ in ranked) for slug, ranked in scores.items()}
