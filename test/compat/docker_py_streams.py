"""docker-py 5.0.3 (Debian's python3-docker) against the engine at DOCKER_HOST: the
stream and archive corners a Python user meets and the older scripts do not touch.
Each step is recorded on its own (one failure does not hide the next); prints one
JSON object that src/integration/sdk-streams.test.ts asserts on."""
import io
import json
import os
import tarfile

import docker

from steps import out, step

client = docker.DockerClient(base_url=os.environ["DOCKER_HOST"], timeout=30)
PREFIX = "pystreams"


@step("attach_replay")
def _():
    # attach(logs=True, stream=False): the log replay comes right after the 101 head;
    # docker-py reads the head through a buffered reader, then the raw socket.
    c = client.containers.run("busybox", ["sh", "-c", "echo one; echo two >&2"], detach=True, name=PREFIX + "-replay")
    c.wait(timeout=10)
    got = [c.attach(stdout=True, stderr=True, stream=False, logs=True).decode() for _ in range(3)]
    c.remove()
    return got


@step("attach_then_remove")
def _():
    # The attach stream ends with the container: removing it right away must work.
    r = []
    for i in range(2):
        c = client.containers.run("busybox", ["sh", "-c", "echo one; sleep 0.3; echo two"], detach=True)
        lines = [x.decode() for x in c.attach(stdout=True, stderr=True, stream=True, logs=True)]
        c.remove()  # raised 409 "container is running" before the fix
        # "one" may fall between the log replay and the live stream (dockerd has that gap too).
        r.append("".join(lines).endswith("two\n"))
    return r


@step("exec_missing_binary")
def _():
    c = client.containers.run("busybox", ["sleep", "30"], detach=True, name=PREFIX + "-exec")
    res = c.exec_run(["/no/such/binary"])
    c.remove(force=True)
    return [res.exit_code, res.output.decode(errors="replace")]


@step("archive_owner")
def _():
    # dockerd keeps the owners the tar gives (docker cp without -a, put_archive).
    c = client.containers.run("busybox", ["sleep", "30"], detach=True, name=PREFIX + "-arch")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        d = tarfile.TarInfo("owned")
        d.type = tarfile.DIRTYPE
        d.mode = 0o750
        d.uid = d.gid = 1234
        t.addfile(d)
        f = tarfile.TarInfo("owned/f.txt")
        data = b"x\n"
        f.size = len(data)
        f.mode = 0o640
        f.uid, f.gid = 1000, 1001
        t.addfile(f, io.BytesIO(data))
    ok = c.put_archive("/tmp", buf.getvalue())
    ls = c.exec_run(["stat", "-c", "%u:%g %a %n", "/tmp/owned", "/tmp/owned/f.txt"]).output.decode()
    bits, _ = c.get_archive("/tmp/owned/f.txt")
    with tarfile.open(fileobj=io.BytesIO(b"".join(bits))) as t:
        m = t.getmember("f.txt")
        back = [m.uid, m.gid, m.mode]
    c.remove(force=True)
    return {"put": ok, "ls": ls.splitlines(), "back": back}


@step("name_filter")
def _():
    a = client.containers.create("busybox", ["true"], name=PREFIX + "-web")
    b = client.containers.create("busybox", ["true"], name=PREFIX + "-web2")
    exact = [x.name for x in client.containers.list(all=True, filters={"name": "^/" + PREFIX + "-web$"})]
    bare = [x.name for x in client.containers.list(all=True, filters={"name": "^" + PREFIX + "-web$"})]
    sub = sorted(x.name for x in client.containers.list(all=True, filters={"name": PREFIX + "-web"}))
    a.remove()
    b.remove()
    return {"exact": exact, "bare": bare, "sub": sub}


@step("volume_created_at")
def _():
    v = client.volumes.create(PREFIX + "-vol")
    created = v.attrs["CreatedAt"]
    v.remove()
    return created


for c in client.containers.list(all=True, filters={"name": PREFIX}):
    c.remove(force=True)
print(json.dumps(out))
