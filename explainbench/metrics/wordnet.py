"""WordNet 3.0 for NLTK's METEOR, prepared offline from Debian's packages.

`python -m explainbench.metrics.wordnet --prepare DIR` (run by `make setup`) installs Debian's
`wordnet-base` and `wordnet-sense-index` with apt-get when they are missing (and apt is there and we
are root), then lays their dict files out under DIR/corpora/wordnet the way NLTK's
WordNetCorpusReader expects, and writes the `lexnames` file that Debian does not ship (the table of
the lexnames(5WN) man page, written below). Where WordNet can't be had it prints one line with the
fix and exits 0: METEOR is then reported unavailable and every other metric still runs.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

DEBIAN_PACKAGES = ("wordnet-base", "wordnet-sense-index")
DEBIAN_DICT_DIR = Path("/usr/share/wordnet")

# The WordNet 3.0 database files NLTK's WordNetCorpusReader opens (plus the sense index for lemma keys).
REQUIRED_FILES = (
    "data.adj",
    "data.adv",
    "data.noun",
    "data.verb",
    "index.adj",
    "index.adv",
    "index.noun",
    "index.verb",
    "adj.exc",
    "adv.exc",
    "noun.exc",
    "verb.exc",
)
OPTIONAL_FILES = ("index.sense", "cntlist", "cntlist.rev", "sentidx.vrb", "sents.vrb", "frames.vrb")

# lexnames(5WN), WordNet 3.0: file number, lexicographer file name, syntactic category
# (1 noun, 2 verb, 3 adjective, 4 adverb).
LEXNAMES: tuple[tuple[int, str, int], ...] = (
    (0, "adj.all", 3),
    (1, "adj.pert", 3),
    (2, "adv.all", 4),
    (3, "noun.Tops", 1),
    (4, "noun.act", 1),
    (5, "noun.animal", 1),
    (6, "noun.artifact", 1),
    (7, "noun.attribute", 1),
    (8, "noun.body", 1),
    (9, "noun.cognition", 1),
    (10, "noun.communication", 1),
    (11, "noun.event", 1),
    (12, "noun.feeling", 1),
    (13, "noun.food", 1),
    (14, "noun.group", 1),
    (15, "noun.location", 1),
    (16, "noun.motive", 1),
    (17, "noun.object", 1),
    (18, "noun.person", 1),
    (19, "noun.phenomenon", 1),
    (20, "noun.plant", 1),
    (21, "noun.possession", 1),
    (22, "noun.process", 1),
    (23, "noun.quantity", 1),
    (24, "noun.relation", 1),
    (25, "noun.shape", 1),
    (26, "noun.state", 1),
    (27, "noun.substance", 1),
    (28, "noun.time", 1),
    (29, "verb.body", 2),
    (30, "verb.change", 2),
    (31, "verb.cognition", 2),
    (32, "verb.communication", 2),
    (33, "verb.competition", 2),
    (34, "verb.consumption", 2),
    (35, "verb.contact", 2),
    (36, "verb.creation", 2),
    (37, "verb.emotion", 2),
    (38, "verb.motion", 2),
    (39, "verb.perception", 2),
    (40, "verb.possession", 2),
    (41, "verb.social", 2),
    (42, "verb.stative", 2),
    (43, "verb.weather", 2),
    (44, "adj.ppl", 3),
)

FIX_HINT = "python -m explainbench.metrics.wordnet --prepare .venv/nltk_data  (or: make setup)"


def lexnames_text() -> str:
    """The `lexnames` file: one "NN<TAB>name<TAB>category" line per lexicographer file."""
    return "".join(f"{num:02d}\t{name}\t{cat}\n" for num, name, cat in LEXNAMES)


def default_nltk_dir() -> Path:
    """Where explainbench keeps NLTK data: $NLTK_DATA (first entry) or <venv>/nltk_data."""
    env = os.environ.get("NLTK_DATA", "").strip()
    if env:
        return Path(env.split(os.pathsep)[0])
    return Path(sys.prefix) / "nltk_data"


def ensure_nltk_path() -> None:
    """Make NLTK search $NLTK_DATA, <venv>/nltk_data and <checkout>/.venv/nltk_data (idempotent)."""
    import nltk

    candidates = [p for p in os.environ.get("NLTK_DATA", "").split(os.pathsep) if p.strip()]
    candidates.append(str(Path(sys.prefix) / "nltk_data"))
    candidates.append(str(Path(__file__).resolve().parents[2] / ".venv" / "nltk_data"))
    for cand in candidates:
        if cand not in nltk.data.path:
            nltk.data.path.append(cand)


def _apt_install() -> str | None:
    """Install the Debian packages; returns None on success, else why not."""
    if shutil.which("apt-get") is None:
        return "apt-get not found"
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        return "not root (apt-get install needs root)"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *DEBIAN_PACKAGES]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if result.returncode != 0:  # the package lists may be missing: update once, then retry
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, text=True)
        result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["unknown error"]
        return f"apt-get install {' '.join(DEBIAN_PACKAGES)} failed: {tail[0]}"
    return None


def _source_complete(src: Path) -> bool:
    return all((src / name).is_file() for name in REQUIRED_FILES)


def prepare(target: Path, source: Path = DEBIAN_DICT_DIR, install: bool = True) -> Path:
    """Lay out WordNet 3.0 under target/corpora/wordnet; returns that folder.

    Raises RuntimeError with a one-line reason when the dict files cannot be had.
    """
    dest = Path(target) / "corpora" / "wordnet"
    if (dest / "lexnames").is_file() and _source_complete(dest):
        return dest
    if not _source_complete(source):
        why = _apt_install() if install else "installation not attempted"
        if not _source_complete(source):
            raise RuntimeError(f"WordNet 3.0 dict files not found in {source} ({why})")
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in REQUIRED_FILES + OPTIONAL_FILES:
        if (source / name).is_file():
            shutil.copyfile(source / name, tmp / name)
    (tmp / "lexnames").write_text(lexnames_text(), encoding="utf-8")
    (tmp / "README").write_text(
        "WordNet 3.0 (Princeton University), copied from Debian's wordnet-base and wordnet-sense-index\n"
        "by explainbench.metrics.wordnet; lexnames written from lexnames(5WN).\n",
        encoding="utf-8",
    )
    shutil.rmtree(dest, ignore_errors=True)
    os.replace(tmp, dest)
    return dest


INDEX_FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}  # part of speech -> file suffix
_VERSION = re.compile(rb"Word[nN]et (\d+\+?|\d+\.\d+) Copyright")


class WordNetFiles:
    """WordNet's dict files, looked up the way WordNet's own library does (binary search in the sorted
    index files), so that loading costs milliseconds instead of NLTK's second or more.

    NLTK's WordNetCorpusReader parses all 147,000 index lines at load and, in NLTK 3.9, also rebuilds a
    synset map for its multilingual data from index.sense on every load (it compares the version "3.0"
    with the corpus name "wordnet"): two to three seconds before the first METEOR score. METEOR needs
    only morphy, the index and the lemma names of a synset: `morphy` and `offsets` give what NLTK's
    `_morphy` and `_lemma_pos_offset_map` give (tested equal on every lemma of the index).
    """

    def __init__(self, root: Any) -> None:
        """root: the folder NLTK finds (`nltk.data.find("corpora/wordnet")`, a folder or a zip)."""
        from nltk.corpus.reader.wordnet import WordNetCorpusReader

        self.root = root
        self._index = {pos: self._read(f"index.{suffix}") for pos, suffix in INDEX_FILES.items()}
        self._first = {pos: _first_entry(data) for pos, data in self._index.items()}
        self.exceptions: dict[str, dict[str, list[str]]] = {
            pos: _exceptions(self._read(f"{suffix}.exc")) for pos, suffix in INDEX_FILES.items()
        }
        self.substitutions: dict[str, list[tuple[str, str]]] = WordNetCorpusReader.MORPHOLOGICAL_SUBSTITUTIONS
        self._offsets: dict[tuple[str, str], tuple[int, ...]] = {}
        self._data: dict[str, Any] = {}

    def _read(self, name: str) -> bytes:
        with self.root.join(name).open() as fh:
            return fh.read()

    def version(self) -> str | None:
        """The version named in data.adj's licence header (NLTK's get_version)."""
        with self.root.join("data.adj").open() as fh:
            for line in fh:
                match = _VERSION.search(line)
                if match is not None:
                    return match.group(1).decode("ascii")
                if not line.startswith(b"  "):
                    return None
        return None

    def offsets(self, lemma: str, pos: str) -> tuple[int, ...]:
        """Synset offsets of `lemma` in `pos` ("n", "v", "a", "r"), in index order; () when absent."""
        key = (lemma, pos)
        out = self._offsets.get(key)
        if out is None:
            line = _find_line(self._index[pos], self._first[pos], lemma.encode("utf-8"))
            out = () if line is None else _parse_offsets(line)
            self._offsets[key] = out
        return out

    def morphy(self, form: str, pos: str) -> list[str]:
        """The base forms of `form` in `pos` that the index holds: the form itself, then its exception-list
        bases or, without an exception entry, the detachment rules applied once (NLTK's _morphy)."""
        bases = self.exceptions[pos].get(form)
        if bases is None:
            bases = [form[: -len(old)] + new for old, new in self.substitutions[pos] if form.endswith(old)]
        out: list[str] = []
        for candidate in [form, *bases]:
            if candidate not in out and self.offsets(candidate, pos):
                out.append(candidate)
        return out

    def data_line(self, file: str, offset: int) -> bytes:
        """The line at byte `offset` of data file `file` ("data.noun", ...)."""
        fh = self._data.get(file)
        if fh is None:
            fh = self._data[file] = self.root.join(file).open()
        fh.seek(offset)
        return fh.readline()

    def __getstate__(self) -> dict:
        raise TypeError("WordNetFiles is shared with forked workers, not pickled")


def _first_entry(data: bytes) -> int:
    """Byte position of the first index line (the licence lines before it start with two spaces)."""
    pos = 0
    while data.startswith(b"  ", pos):
        pos = data.index(b"\n", pos) + 1
    return pos


def _find_line(data: bytes, lo: int, key: bytes) -> bytes | None:
    """The line whose first field is `key`, by binary search over lines sorted by that field."""
    hi = len(data)
    while lo < hi:  # lo and hi are line starts
        mid = (lo + hi) // 2
        start = data.rfind(b"\n", lo, mid) + 1 or lo
        end = data.find(b"\n", start)
        end = hi if end < 0 or end > hi else end
        space = data.find(b" ", start, end)
        word = data[start : space if space >= 0 else end]
        if word == key:
            return data[start:end]
        if word < key:
            lo = end + 1
        else:
            hi = start
    return None


def _parse_offsets(line: bytes) -> tuple[int, ...]:
    """lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt synset_offset... (wndb(5WN))."""
    fields = line.split()
    n_synsets = int(fields[2])
    n_pointers = int(fields[3])
    first = 4 + n_pointers + 2
    return tuple(int(x) for x in fields[first : first + n_synsets])


def _exceptions(data: bytes) -> dict[str, list[str]]:
    """An exception list (*.exc): inflected form, then its base forms."""
    out: dict[str, list[str]] = {}
    for line in data.decode("utf-8").splitlines():
        terms = line.split()
        if terms:
            out[terms[0]] = terms[1:]
    return out


_FILES: WordNetFiles | None = None  # the process's WordNet (load_wordnet)


def load_wordnet() -> WordNetFiles:
    """WordNet's files as NLTK finds them (loaded once per process); LookupError when NLTK finds none."""
    global _FILES
    if _FILES is None:
        import nltk

        ensure_nltk_path()
        _FILES = WordNetFiles(nltk.data.find("corpora/wordnet"))
    return _FILES


def wordnet_available() -> str | None:
    """None when NLTK can load WordNet 3.0, else a one-line reason with the fix."""
    try:
        version = load_wordnet().version()
    except (LookupError, OSError) as exc:
        first = str(exc).strip().splitlines()
        reason = next((ln.strip() for ln in first if "Resource" in ln), "WordNet not found")
        return f"METEOR unavailable: {reason}; fix: {FIX_HINT}"
    if version != "3.0":
        return f"METEOR unavailable: NLTK found WordNet {version}, not 3.0; fix: {FIX_HINT}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--prepare",
        metavar="DIR",
        type=Path,
        default=None,
        help="NLTK data folder to fill (default: $NLTK_DATA or <venv>/nltk_data)",
    )
    parser.add_argument("--no-install", action="store_true", help="never call apt-get")
    args = parser.parse_args(argv)
    target = args.prepare or default_nltk_dir()
    try:
        dest = prepare(target, install=not args.no_install)
    except (RuntimeError, OSError) as exc:
        print(
            f"WordNet not prepared: {exc}; METEOR will be reported unavailable. Fix: as root run "
            f"`apt-get install {' '.join(DEBIAN_PACKAGES)}` then `{FIX_HINT}`"
        )
        return 0
    print(f"WordNet 3.0 ready for NLTK in {dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
