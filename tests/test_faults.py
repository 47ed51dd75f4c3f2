"""A checkpoint write that fails (a full disk, a read-only folder) loses nothing: the previous
checkpoint stays whole, no temporary file is left, and the error names the file and the fix,
with the history so far and the parameters of the last complete update."""

import contextlib
import errno
import os
import subprocess

import numpy as np
import pytest

import rnnlib
from rnnlib import RNN

SETTINGS = dict(seq_length=25, sample_every=5, sample_length=30, rng=7, progress=False)


def fresh(corpus):
    return RNN.init(corpus.K, m=12, sigma=0.1, rng=0)


def assert_nothing_lost(err, path, small_corpus, rnn, updates_done, last_saved):
    """The error and everything around it, after a failed write at update `updates_done`."""
    assert str(path) in str(err) and "Free some space, or give another checkpoint path" in str(err)
    assert err.history.updates == updates_done and np.isfinite(err.history.smooth_loss).all()
    reference = fresh(small_corpus)
    rnnlib.train(reference, small_corpus, updates=updates_done, **SETTINGS)
    assert np.array_equal(rnn.theta, reference.theta)  # the last complete update's parameters
    assert not list(path.parent.glob("*.tmp"))
    if last_saved is None:
        assert not path.exists()
    else:
        assert rnnlib.load_checkpoint(path).update == last_saved  # the previous file, whole


def test_a_writer_that_fails_mid_write(tmp_path, small_corpus, monkeypatch):
    real, calls = np.savez, []

    def disk_full_on_the_third_save(file, **fields):
        calls.append(1)
        if len(calls) == 3:
            file.write(b"PK\x03\x04 half a checkpoint")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(file, **fields)

    monkeypatch.setattr(rnnlib.np, "savez", disk_full_on_the_third_save)
    path, rnn = tmp_path / "run.npz", fresh(small_corpus)
    with pytest.raises(OSError, match=r"could not write the checkpoint .*run\.npz \(No space left") as caught:
        rnnlib.train(rnn, small_corpus, updates=40, checkpoint=path, checkpoint_every=5, **SETTINGS)
    assert caught.value.errno == errno.ENOSPC
    monkeypatch.setattr(rnnlib.np, "savez", real)
    assert_nothing_lost(caught.value, path, small_corpus, rnn, updates_done=15, last_saved=10)


def test_the_final_write_fails_too_cleanly(tmp_path, small_corpus, monkeypatch):
    def always_full(file, **fields):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    real = np.savez
    monkeypatch.setattr(rnnlib.np, "savez", always_full)
    path, rnn = tmp_path / "run.npz", fresh(small_corpus)
    with pytest.raises(OSError) as caught:
        rnnlib.train(rnn, small_corpus, updates=7, checkpoint=path, checkpoint_every=100, **SETTINGS)
    monkeypatch.setattr(rnnlib.np, "savez", real)
    assert_nothing_lost(caught.value, path, small_corpus, rnn, updates_done=7, last_saved=None)


@contextlib.contextmanager
def mounted_tmpfs(where, options):
    """A tmpfs at `where`, when this process may mount one (root on Linux); skips otherwise."""
    where.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_read_only_folder(tmp_path, small_corpus):
    folder = tmp_path / "read-only"
    if os.geteuid() == 0:  # root writes through permission bits: a read-only mount is needed
        context = mounted_tmpfs(folder, "ro,size=1m")
    else:
        folder.mkdir()
        folder.chmod(0o555)
        context = contextlib.nullcontext(folder)
    with context:
        path, rnn = folder / "run.npz", fresh(small_corpus)
        with pytest.raises(OSError) as caught:
            rnnlib.train(rnn, small_corpus, updates=6, checkpoint=path, checkpoint_every=5, **SETTINGS)
        assert caught.value.errno in (errno.EROFS, errno.EACCES)
        assert_nothing_lost(caught.value, path, small_corpus, rnn, updates_done=5, last_saved=None)


def test_a_real_full_disk(tmp_path, small_corpus):
    """A tmpfs with room for one checkpoint but not two: the second write (while the first file
    still stands) runs out of space part-way."""
    size = len(checkpoint_bytes(tmp_path, small_corpus))
    with mounted_tmpfs(tmp_path / "small-disk", f"size={(size * 3 // 2) // 4096 * 4096 + 8192}") as disk:
        filler = disk / "filler"
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        filler.write_bytes(b"\0" * max(0, free - size * 3 // 2))  # leaves 1.5 checkpoints of room
        path, rnn = disk / "run.npz", fresh(small_corpus)
        with pytest.raises(OSError) as caught:
            rnnlib.train(rnn, small_corpus, updates=12, checkpoint=path, checkpoint_every=5, **SETTINGS)
        assert caught.value.errno == errno.ENOSPC
        assert_nothing_lost(caught.value, path, small_corpus, rnn, updates_done=10, last_saved=5)


def checkpoint_bytes(tmp_path, corpus):
    path = tmp_path / "probe.npz"
    rnnlib.train(fresh(corpus), corpus, updates=10, checkpoint=path, checkpoint_every=5, **SETTINGS)
    return path.read_bytes()
