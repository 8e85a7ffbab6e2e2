"""``[feeds.categories."Name"] podcast = {...}``: what a podcast category's RSS tells podcast
directories, checked as Apple Podcasts checks it."""

from __future__ import annotations

import re
from typing import cast

from feedpub.config.checks import Section, absolute_url
from feedpub.config.sections import SiteConfig
from feedpub.model import Podcast, PodcastType

# Apple Podcasts' categories and their subcategories, as Apple spells them (Podcasts Connect
# refuses any other): https://podcasters.apple.com/support/1691-apple-podcasts-categories
APPLE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "Arts": ("Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"),
    "Business": (
        "Careers", "Entrepreneurship", "Investing", "Management", "Marketing", "Non-Profit",
    ),
    "Comedy": ("Comedy Interviews", "Improv", "Stand-Up"),
    "Education": ("Courses", "How To", "Language Learning", "Self-Improvement"),
    "Fiction": ("Comedy Fiction", "Drama", "Science Fiction"),
    "Government": (),
    "History": (),
    "Health & Fitness": (
        "Alternative Health", "Fitness", "Medicine", "Mental Health", "Nutrition", "Sexuality",
    ),
    "Kids & Family": ("Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"),
    "Leisure": (
        "Animation & Manga", "Automotive", "Aviation", "Crafts", "Games", "Hobbies",
        "Home & Garden", "Video Games",
    ),
    "Music": ("Music Commentary", "Music History", "Music Interviews"),
    "News": (
        "Business News", "Daily News", "Entertainment News", "News Commentary", "Politics",
        "Sports News", "Tech News",
    ),
    "Religion & Spirituality": (
        "Buddhism", "Christianity", "Hinduism", "Islam", "Judaism", "Religion", "Spirituality",
    ),
    "Science": (
        "Astronomy", "Chemistry", "Earth Sciences", "Life Sciences", "Mathematics",
        "Natural Sciences", "Nature", "Physics", "Social Sciences",
    ),
    "Society & Culture": (
        "Documentary", "Personal Journals", "Philosophy", "Places & Travel", "Relationships",
    ),
    "Sports": (
        "Baseball", "Basketball", "Cricket", "Fantasy Sports", "Football", "Golf", "Hockey",
        "Rugby", "Running", "Soccer", "Swimming", "Tennis", "Volleyball", "Wilderness",
        "Wrestling",
    ),
    "Technology": (),
    "True Crime": (),
    "TV & Film": ("After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"),
}  # fmt: skip
APPLE_TEXT_LIMIT = 255  # Apple Podcasts: "tag values are limited to 255 characters"
_UUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def _is_email(value: str) -> bool:
    """``local@domain.tld``: one ``@``, a dot inside the domain, no spaces or ``<>``, at most
    255 characters."""
    local, at, domain = value.rpartition("@")
    return (
        bool(local and at)
        and len(value) <= APPLE_TEXT_LIMIT
        and "@" not in local
        and "." in domain[1:-1]
        and not any(c.isspace() or c in "<>" for c in value)
    )


def _apple_text(sec: Section, name: str, *defaults: str) -> str:
    """An iTunes text value: no leading, trailing or repeated spaces, at most 255 characters
    (Apple). Missing or blank: the first default that is not (cut to 255 characters)."""
    value = " ".join(sec.text(name).split())
    if len(value) > APPLE_TEXT_LIMIT:
        sec.error(name, f"at most {APPLE_TEXT_LIMIT} characters (Apple Podcasts)")
        value = ""
    for default in defaults:
        value = value or " ".join(default.split())[:APPLE_TEXT_LIMIT].rstrip()
    return value


def read_podcast(sec: Section, site: SiteConfig) -> Podcast | None:
    """``[feeds.categories."Name"] podcast = {...}``: what the category's RSS tells podcast
    directories. ``image``, ``category`` and ``explicit`` are required (Apple Podcasts
    refuses a feed without them); the author and owner default to ``[site]``. None when
    there is a problem (reported)."""
    image_url = sec.get("image", str, "")
    image = None
    if not sec.has("image"):
        sec.missing("image", "is required: the show's artwork (a .jpg or .png URL)")
    elif not sec.failed("image"):
        image = absolute_url(sec, "image", image_url)
        if image is not None and not image.endswith((".jpg", ".png")):
            sec.error(
                "image",
                "must be the URL of a JPEG or PNG file, ending in .jpg or .png (Apple Podcasts: "
                f"artwork 1400 to 3000 pixels square), got {image_url!r}",
            )
    category, subcategory = _apple_category(sec)
    if not sec.has("explicit"):
        sec.missing(
            "explicit",
            "is required: true if the show has explicit content, false if not (Apple Podcasts)",
        )
    explicit = sec.get("explicit", bool, False)
    author = _apple_text(sec, "author", site.author, site.title)
    owner_email = sec.text("owner_email").strip() or site.author_email or ""
    if not owner_email:
        sec.missing(
            "owner_email",
            "is required (or site.author_email): the address directories use to verify the "
            "podcast's owner (itunes:owner; it is published in the feed)",
        )
    elif not _is_email(owner_email):
        sec.error("owner_email", f"not an email address: {owner_email!r}")
    owner_name = _apple_text(sec, "owner_name", author)
    kind = sec.get("type", str, "episodic")
    if kind not in ("episodic", "serial"):
        sec.error("type", f'must be "episodic" or "serial", got {kind!r}')
        kind = "episodic"
    guid = sec.get("guid", str, "").strip()
    if guid and not _UUID.match(guid):
        sec.error(
            "guid", f"must be a UUID such as 917393e3-1b1e-5cef-ace4-edaa54e1f810, got {guid!r}"
        )
        guid = ""
    sec.done()
    if image is None or category is None or not sec.report.clean(sec.path):
        return None
    return Podcast(
        image=image,
        category=category,
        subcategory=subcategory,
        explicit=explicit,
        author=author,
        owner_name=owner_name,
        owner_email=owner_email,
        type=cast(PodcastType, kind),
        guid=guid.lower() or None,
    )


def _apple_category(sec: Section) -> tuple[str | None, str | None]:
    """``category`` and ``subcategory``, as Apple spells them; None (reported) when not."""
    by_fold = {name.casefold(): name for name in APPLE_CATEGORIES}
    raw_category = sec.text("category").strip()
    raw_sub = sec.text("subcategory").strip()
    if not raw_category:
        if not sec.has("category"):
            sec.missing("category", "is required: an Apple Podcasts category, such as Technology")
        elif not sec.failed("category"):
            sec.error(
                "category", "must not be empty: an Apple Podcasts category, such as Technology"
            )
        return None, None
    category = by_fold.get(raw_category.casefold())
    if category is None:
        sec.error(
            "category",
            f"{raw_category!r} is not an Apple Podcasts category (one of: "
            f"{', '.join(APPLE_CATEGORIES)})",
        )
        return None, None
    if not raw_sub:
        return category, None
    subs = {name.casefold(): name for name in APPLE_CATEGORIES[category]}
    subcategory = subs.get(raw_sub.casefold())
    if subcategory is None:
        known = ", ".join(APPLE_CATEGORIES[category]) or "none"
        sec.error("subcategory", f"{raw_sub!r} is not a subcategory of {category} (known: {known})")
    return category, subcategory
