"""safe_extract / safe_extract_all: crafted zip and tar members that must be refused."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from course_lib.data import ArchiveError, list_members, safe_extract, safe_extract_all

GOOD = b"harmless\n"


def make_zip(path: Path, members: list[tuple[str, bytes]], symlinks=()) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, blob in members:
            z.writestr(name, blob)
        for name, target in symlinks:
            info = zipfile.ZipInfo(name)
            info.create_system = 3  # Unix, so external_attr carries st_mode
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, target)
    return path


def make_tar(path: Path, members: list[tuple[str, bytes]], links=()) -> Path:
    with tarfile.open(path, "w:gz") as t:
        for name, blob in members:
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            t.addfile(info, io.BytesIO(blob))
        for name, kind, target in links:
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE
            info.linkname = target
            t.addfile(info)
    return path


def nothing_written(root: Path, dest: Path) -> bool:
    outside = [p for p in root.rglob("*") if p.name in ("evil", "path", "link", "x")]
    return not outside and (not dest.exists() or not any(dest.rglob("*")))


@pytest.mark.parametrize("fmt", ["zip", "tar"])
@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("../evil", "escapes the target folder"),
        ("ok/../../evil", "escapes the target folder"),
        ("/abs/path", "absolute path"),
        ("link", "symlink"),
    ],
)
def test_unsafe_members_are_refused(tmp_path, fmt, bad, reason):
    archive = tmp_path / f"a.{fmt}"
    good = [("data/good.txt", GOOD)]
    if bad == "link":
        if fmt == "zip":
            make_zip(archive, good, symlinks=[("link", "/etc/passwd")])
        else:
            make_tar(archive, good, links=[("link", "symlink", "/etc/passwd")])
    elif fmt == "zip":
        make_zip(archive, [*good, (bad, b"owned\n")])
    else:
        make_tar(archive, [*good, (bad, b"owned\n")])
    dest = tmp_path / "out" / "inner"

    with pytest.raises(ArchiveError) as err:
        safe_extract_all(archive, dest)
    assert bad in str(err.value) and reason in str(err.value) and "Refused" in str(err.value)
    assert nothing_written(tmp_path, dest), "a refused archive must leave no files"

    with pytest.raises(ArchiveError, match=reason):
        safe_extract(archive, bad, dest)
    # The safe member of the same archive still extracts, inside dest.
    out = safe_extract(archive, "data/good.txt", dest)
    assert out == (dest / "data" / "good.txt").resolve() and out.read_bytes() == GOOD


def test_tar_hardlink_and_device_refused(tmp_path):
    archive = make_tar(tmp_path / "h.tar.gz", [], links=[("x", "hardlink", "/etc/passwd")])
    with pytest.raises(ArchiveError, match="hardlink"):
        safe_extract_all(archive, tmp_path / "out")
    dev = tmp_path / "d.tar"
    with tarfile.open(dev, "w") as t:
        info = tarfile.TarInfo("x")
        info.type = tarfile.CHRTYPE
        t.addfile(info)
    with pytest.raises(ArchiveError, match="special file"):
        safe_extract_all(dev, tmp_path / "out")


def test_symlink_already_in_dest_is_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "sub").symlink_to(outside, target_is_directory=True)
    archive = make_zip(tmp_path / "a.zip", [("sub/x", b"owned\n")])
    with pytest.raises(ArchiveError, match="outside"):
        safe_extract(archive, "sub/x", dest)
    assert not (outside / "x").exists()


def test_good_archives_extract_fully(tmp_path):
    members = [("top.txt", GOOD), ("d/e/f.txt", b"deep\n")]
    for archive in (make_zip(tmp_path / "g.zip", members), make_tar(tmp_path / "g.tgz", members)):
        dest = tmp_path / archive.suffix.strip(".")
        paths = safe_extract_all(archive, dest)
        assert [p.relative_to(dest.resolve()).as_posix() for p in paths] == ["top.txt", "d/e/f.txt"]
        assert (dest / "d/e/f.txt").read_bytes() == b"deep\n"
        assert list_members(archive) == ["top.txt", "d/e/f.txt"]


def test_missing_member_and_non_archive(tmp_path):
    archive = make_zip(tmp_path / "a.zip", [("x/a.txt", GOOD)])
    with pytest.raises(ArchiveError, match=r"no member 'x/b\.txt' \(it has: x/a\.txt\)"):
        safe_extract(archive, "x/b.txt", tmp_path / "out")
    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"just text, not an archive\n" * 20)
    with pytest.raises(ArchiveError, match="neither a zip nor"):
        safe_extract(plain, "x", tmp_path / "out")
