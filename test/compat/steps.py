"""Shared by the docker-py compat scripts: each step runs on its own and records its
result (or its error) in `out`, so one failure does not hide the next; the script
prints `out` as one JSON object that the Node test asserts on. `tar_of` builds the
small archives they send."""
import io
import tarfile
import time
import traceback

out = {}


def step(name):
    def wrap(fn):
        try:
            out[name] = fn()
        except Exception as e:  # recorded, the test asserts on it
            out[name] = {"error": "%s: %s" % (type(e).__name__, e), "trace": traceback.format_exc().splitlines()[-3:]}
        return fn
    return wrap


def tar_of(files):
    """An uncompressed tar of {name: bytes}, stamped now."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = int(time.time())
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()
