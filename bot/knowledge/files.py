"""Writing ``knowledge/`` files: one YAML layout and one atomic writer for every writer.

``bot kb import`` (:mod:`bot.knowledge.importer`) and the review's edits
(:mod:`bot.review.knowledge_edit`) both write through here, so the files they leave are
the same plain, hand-editable YAML that staff write themselves:

* the layout of our knowledge files (2-space mappings, ``- `` list items indented by 2,
  long Japanese lines never folded, quotes kept as the author wrote them);
* no anchors or aliases: when one value (the same ``reviewed`` date, say) appears in
  several places, it is written out each time instead of ``&id001`` … ``*id001``,
  which staff editing the file would not know what to do with;
* files are replaced atomically (a temporary file in the same directory, flushed to
  disk, then renamed over the old one), so the action server, the review pages or a
  crash never see half a file.
"""

from __future__ import annotations

import io
import os
import secrets
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML


def knowledge_yaml() -> YAML:
    """A round-trip YAML reader/writer with the layout of our knowledge files and no aliases."""
    y = YAML(typ="rt")
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 4096  # never fold long Japanese lines
    y.allow_unicode = True
    y.preserve_quotes = True
    # Write a value again wherever it appears, never as an anchor (&id001) and aliases (*id001).
    y.representer.ignore_aliases = lambda _data: True
    return y


def dump_yaml(data: Any) -> str:
    """``data`` as the text of a knowledge file (see :func:`knowledge_yaml`)."""
    buf = io.StringIO()
    knowledge_yaml().dump(data, buf)
    return buf.getvalue()


def write_atomically(path: Path, content: str | bytes) -> None:
    """Replace ``path`` with ``content`` (UTF-8 when text) so that no reader sees half a file.

    The content goes to a temporary file in the same directory (so the rename stays on one
    file system), which is flushed to disk before it is renamed over ``path``; the
    directory is then flushed too, so the rename survives a power cut. An existing file
    keeps its permission bits; a new one gets the usual ones (0666 less the umask).
    """
    path = Path(path)
    data = content.encode("utf-8") if isinstance(content, str) else content
    # Hidden and not ending in .yml/.yaml: no loader takes it for a knowledge file.
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        except FileNotFoundError:
            pass  # a new file
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # some file systems do not open directories; the rename is done anyway
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
