"""Reading article files: discovery, decoding, front matter and headers, bodies.

The submodules are imported where they are used: a rebuild with nothing to parse never loads
the YAML, Markdown or HTML libraries.
"""
