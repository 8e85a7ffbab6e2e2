"""Deterministic Markdown corpus generator for feedpub benchmarks.

Usage::

    python benchmarks/gen_corpus.py OUT_DIR --count 10000 [--seed 1] [--categories 24] [--words 500]

(Re)creates ``OUT_DIR/articles/`` holding COUNT articles named ``NNNNN-slug.md``, spread over
subfolders of 1000 files (``articles/000/00001-some-title.md``).  The same arguments always
produce byte-identical files.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

FILES_PER_FOLDER = 1000
END = datetime(2026, 1, 1, tzinfo=UTC)  # every date is strictly before this instant
SPAN_MINUTES = 3 * 365 * 24 * 60
NON_ASCII_CATEGORIES = ("Café Culture", "Ümlauts", "日本")
AUTHORS = ("Ada Lovelace", "Alan Turing", "Grace Hopper", "José Núñez", "Margaret Hamilton")
TAGS = tuple(f"tag{i}" for i in range(1, 41))
_LOREM = """
    lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut
    labore et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris
    nisi aliquip ex ea commodo consequat duis aute irure in reprehenderit voluptate velit esse
    cillum eu fugiat nulla pariatur excepteur sint occaecat cupidatat non proident sunt culpa qui
    officia deserunt mollit anim id est laborum curabitur pretium tincidunt lacus nulla gravida
    orci a odio nullam varius turpis et commodo pharetra eros bibendum elit nec luctus magna
    felis sollicitudin mauris integer lectus tortor ornare tristique vitae suscipit morbi
    dapibus pellentesque habitant senectus netus malesuada fames ac egestas vestibulum ante
    primis faucibus ultrices posuere cubilia curae donec blandit feugiat ligula viverra
    fermentum quam praesent semper porta purus sagittis aliquam erat volutpat maecenas
    vulputate accumsan nunc placerat rhoncus mattis vivamus hendrerit arcu tellus congue
"""
WORDS = tuple(dict.fromkeys(_LOREM.split()))  # de-duplicated, order kept


@dataclass(frozen=True)
class Article:
    number: int
    title: str
    slug: str
    date: datetime
    categories: list[str]
    tags: list[str]
    author: str
    summary: str

    @property
    def stem(self) -> str:
        return f"{self.number:05d}-{self.slug}"

    @property
    def path(self) -> str:
        """Path relative to ``articles/``."""
        return f"{(self.number - 1) // FILES_PER_FOLDER:03d}/{self.stem}.md"


def category_names(count: int) -> list[str]:
    """``Category 1`` ... plus up to three non-ASCII names (keeping at least one ASCII one)."""
    special = list(NON_ASCII_CATEGORIES[: max(0, count - 1)])
    return [f"Category {i}" for i in range(1, count - len(special) + 1)] + special


def _sentence(rng: random.Random, n: int) -> str:
    text = " ".join(rng.choices(WORDS, k=n))
    return text[0].upper() + text[1:] + "."


def _paragraph(rng: random.Random, n: int, others: list[Article]) -> str:
    words = rng.choices(WORDS, k=n)
    if rng.random() < 0.3:
        i = rng.randrange(n)
        words[i] = f"*{words[i]}*"
    sentences: list[str] = []
    while words:
        size = rng.randint(6, 15)
        chunk, words = words[:size], words[size:]
        text = " ".join(chunk)
        sentences.append(text[0].upper() + text[1:] + ".")
    if others and rng.random() < 0.15:
        other = rng.choice(others)
        sentences.append(f"See also [{other.title}](../{other.stem}/).")
    return " ".join(sentences)


def _body(rng: random.Random, target: int, others: list[Article]) -> str:
    blocks: list[str] = []
    written = 0
    since_heading = 0
    while written < target:
        if since_heading >= 3 and rng.random() < 0.5:
            n = rng.randint(2, 5)
            blocks.append("## " + _sentence(rng, n)[:-1])
            since_heading = 0
        elif rng.random() < 0.1:
            items = [_sentence(rng, rng.randint(3, 8)) for _ in range(rng.randint(3, 5))]
            blocks.append("\n".join(f"- {item}" for item in items))
            n = sum(len(item.split()) for item in items)
        else:
            n = min(rng.randint(30, 80), max(target - written, 6))
            blocks.append(_paragraph(rng, n, others))
            since_heading += 1
        written += n
    return "\n\n".join(blocks) + "\n"


def _flow_list(items: list[str]) -> str:
    return "[" + ", ".join(items) + "]"


def _quote(text: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar.
    return json.dumps(text, ensure_ascii=False)


def render(article: Article, body: str) -> str:
    return (
        "---\n"
        f"title: {_quote(article.title)}\n"
        f"date: {article.date.isoformat(timespec='seconds')}\n"
        f"categories: {_flow_list(article.categories)}\n"
        f"tags: {_flow_list(article.tags)}\n"
        f"author: {article.author}\n"
        f"summary: {_quote(article.summary)}\n"
        "---\n\n"
        f"{body}"
    )


def make_articles(rng: random.Random, count: int, categories: int) -> list[Article]:
    if count > SPAN_MINUTES:
        raise ValueError(f"count must be at most {SPAN_MINUTES} to keep dates distinct")
    names = category_names(categories)
    offsets = rng.sample(range(SPAN_MINUTES), count)
    articles: list[Article] = []
    for number, offset in enumerate(offsets, start=1):
        title_words = rng.choices(WORDS, k=rng.randint(3, 7))
        title = " ".join(title_words).capitalize()
        articles.append(
            Article(
                number=number,
                title=f"{title} {number:05d}",
                slug="-".join(title_words),
                date=END - timedelta(minutes=offset + 1),
                categories=rng.sample(names, 1 if rng.random() < 0.6 else min(2, len(names))),
                tags=rng.sample(TAGS, rng.randint(1, 3)),
                author=rng.choice(AUTHORS),
                summary=_sentence(rng, rng.randint(8, 16)),
            )
        )
    return articles


def generate(
    out_dir: Path, count: int, seed: int = 1, categories: int = 24, words: int = 500
) -> int:
    """(Re)create ``out_dir/articles`` and return the number of files written."""
    rng = random.Random(seed)
    articles = make_articles(rng, count, categories)
    root = out_dir / "articles"
    if root.exists():
        shutil.rmtree(root)
    for folder in range((count + FILES_PER_FOLDER - 1) // FILES_PER_FOLDER):
        (root / f"{folder:03d}").mkdir(parents=True)
    for article in articles:
        text = render(article, _body(rng, words, articles))
        with open(root / article.path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    return len(articles)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--categories", type=int, default=24)
    parser.add_argument("--words", type=int, default=500)
    args = parser.parse_args(argv)
    if args.count < 0 or args.categories < 1 or args.words < 1:
        parser.error("--count must be >= 0, --categories and --words must be >= 1")
    start = time.perf_counter()
    written = generate(args.out_dir, args.count, args.seed, args.categories, args.words)
    elapsed = time.perf_counter() - start
    print(f"wrote {written} articles to {args.out_dir / 'articles'} in {elapsed:.2f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
