"""Text from a report, neutralised for the medium it is written into: the one place that does it.

Handler and region names, notes, warnings, versions and refs can come from code perfgate does
not control: a pull request chooses its task names, and ``perfgate comment`` posts a report
artifact made by a fork's run. Every renderer and :mod:`perfgate.github` passes such text through
one of these functions at the point where it is written:

* :func:`text` — a field in a terminal or log line. Control characters (CR, LF, NUL, ESC of ANSI
  sequences, C1, Unicode line separators and bidi overrides) are shown as escapes (``\\n``,
  ``\\x1b``), so no field can start a line; ``::`` and ``##[`` get a zero-width space between
  their characters, so no field can be read by the GitHub Actions runner as a workflow command
  (``::error``, ``::add-mask::``, ``::stop-commands::``, or the old ``##[error]`` form).
  :func:`lines` does the same to each line of a block (an error message quoting test output).
* :func:`md` — inline GitHub Markdown: HTML is escaped (``<``, ``>``, ``&``, so ``&#64;`` stays
  text and no ``<!-- … -->`` marker, ``<img>`` or ``<details>`` can be formed), ``[``/``]`` and
  backslashes are escaped (no links or images), ``@`` and ``#``-before-a-digit get a zero-width
  space (no mentions, no issue references), control characters as in :func:`text`.
  :func:`cell` also escapes ``|`` for a table cell; :func:`code` makes a literal code span.
* :func:`mermaid` — a quoted label in a Mermaid chart inside a Markdown code block (no ``<``
  there either: a tool looking for its marker searches the raw body).
* :func:`gh_html` — text inside an HTML element of a GitHub comment (``<summary>``), where
  Markdown escapes do not apply but mentions still would.
* :func:`html` — text in the standalone HTML report.
* :func:`data` and :func:`prop` — a workflow command's message and property values, encoded by
  the runner's rules (``%25``, ``%0D``, ``%0A``; properties also ``%3A``, ``%2C``), after
  :func:`visible_controls` on everything but the line breaks perfgate writes itself; ``##[``
  gets a zero-width space too (the runner's old command form is looked for anywhere in a line).
"""

from __future__ import annotations

import html as _html
import re

ZWSP = "\u200b"  # zero-width space: invisible, and breaks mentions and command prefixes

# C0 and C1 controls, DEL, the Unicode line and paragraph separators, bidi embedding/override/
# isolate controls (which can make a name display as something else) and the BOM.
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)
_CONTROL_BUT_BREAKS = re.compile(
    "[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\x1b"}
_COMMAND = re.compile(r":(?=:)|#(?=#\[)")
_OLD_COMMAND = re.compile(r"#(?=#\[)")
_MENTION_OR_REF = re.compile(r"@|#(?=\d)")
_MD_SPECIAL = re.compile(r"[\\\[\]`]")


def _visible(m: re.Match[str]) -> str:
    ch = m.group(0)
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible_controls(s: str) -> str:
    """Control characters replaced by visible escapes (``\\n``, ``\\x00``, ``\\u202e``)."""
    return _CONTROL.sub(_visible, s)


def no_commands(s: str) -> str:
    """``::`` and ``##[`` broken by a zero-width space: never a workflow command."""
    return _COMMAND.sub(lambda m: m.group(0) + ZWSP, s)


def text(s: object) -> str:
    """A field in a terminal or log line: one line, no control characters, no workflow
    command."""
    return no_commands(visible_controls(str(s)))


def lines(s: object) -> str:
    """A block of lines (an error message quoting build or test output): each line as
    :func:`text`, the line breaks kept."""
    return "\n".join(text(line) for line in str(s).replace("\r\n", "\n").split("\n"))


def _no_mentions(s: str) -> str:
    return _MENTION_OR_REF.sub(lambda m: m.group(0) + ZWSP, s)


def md(s: object) -> str:
    """Inline GitHub Markdown: no HTML, links, images, mentions, issue references, control
    characters or workflow commands; renders as the original text."""
    out = _no_mentions(visible_controls(str(s)))
    out = _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), out)
    out = out.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return no_commands(out)


def cell(s: object) -> str:
    """A GitHub Markdown table cell: :func:`md`, and ``|`` escaped so it cannot split the row."""
    return md(s).replace("|", "\\|")


def code(s: object, table: bool = False) -> str:
    """A code span: literal (no HTML, no mentions), one line, no backticks inside; in a table
    cell (``table``) with ``|`` escaped."""
    clean = " ".join(visible_controls(str(s)).replace("`", "'").split())
    span = f"`{no_commands(clean)}`"
    return span.replace("|", "\\|") if table else span


def mermaid(s: object, limit: int = 48) -> str:
    """A quoted Mermaid label: no quotes, backticks (they would end the label or the code
    block), line breaks, mentions or angle brackets (``‹``, ``›``: the body must hold no
    ``<!-- … -->`` another tool could take for its marker) inside; shortened to ``limit``
    characters."""
    clean = visible_controls(" ".join(str(s).split())).replace('"', "'").replace("`", "'")
    clean = clean.replace("<", "‹").replace(">", "›")
    if len(clean) > limit:
        clean = clean[: limit - 1] + "…"
    return f'"{no_commands(_no_mentions(clean))}"'


def gh_html(s: object) -> str:
    """Text inside an HTML element of a GitHub comment (``<summary>``): escaped HTML, no
    mentions or references, one line."""
    out = _html.escape(_no_mentions(visible_controls(str(s))), quote=True).replace("`", "'")
    return no_commands(out)


def html(s: object) -> str:
    """Text in the standalone HTML report: escaped HTML, control characters visible."""
    return _html.escape(visible_controls(str(s)), quote=True)


def data(s: object) -> str:
    """A workflow command's message, encoded by the runner's rules (``%``, CR, LF); other
    control characters made visible first, and no ``##[`` (the old command form)."""
    out = _CONTROL_BUT_BREAKS.sub(_visible, str(s))
    out = _OLD_COMMAND.sub(lambda m: m.group(0) + ZWSP, out)
    return out.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def prop(s: object) -> str:
    """A workflow command's property value (``title=…``): also ``:`` and ``,``."""
    return data(s).replace(":", "%3A").replace(",", "%2C")
