"""Reading article files: discovery, decoding, front matter and headers, bodies.

The submodules are imported where they are used: a rebuild with nothing to parse never loads
the YAML, Markdown or HTML libraries.

The modules are layered, each importing only those above it in this list (no cycles; no
import inside a function to get round one; ``tests/test_articles_layers.py`` checks it):

* shared values: ``context`` (what parsing needs from the config), ``values`` (the body
  formats, :class:`~feedpub.articles.values.ParsedArticle`), ``text`` (decoding, clean
  text), ``dates``, ``document`` (what a whole-document reader hands over), ``media``
  (which files beside the articles are media);
* files: ``discover`` (which files are articles);
* links: ``attributes`` (the URL attributes of sanitised markup), ``refs`` (references and
  their resolution), ``codespans`` and ``templates`` (the generators' template syntax);
* bodies: ``html_tree`` and ``html`` (raw HTML made balanced), ``markdown``, ``plain``,
  ``sanitise`` (nh3's rules), ``absolute`` (URLs made absolute), ``body`` (the two steps
  together);
* files read: ``headers``, ``flat_yaml`` (flat YAML front matter without PyYAML),
  ``frontmatter_io``, ``rst``, ``htmlfile``;
* fields: ``fields`` (the readers of one value), ``names``, ``episode``, ``metadata`` (every
  field normalised in one place), ``titles``;
* ``assemble`` (a parsed article's body, references and URLs), then ``parse``
  (:func:`~feedpub.articles.parse.parse_article`, the one entry point).
"""
