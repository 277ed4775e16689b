"""docker-py (Debian's python3-docker 5.0.3) against the engine at DOCKER_HOST, wider
than test/sdk/docker_py_smoke.py: networks, volumes, images (import/tag/history/remove),
containers (rename, top, stats, pause, archives, commit, export), events with
since/until, the low-level APIClient and the error classes. Every step is recorded
on its own so one failure does not hide the next; prints one JSON object."""
import io
import json
import os
import tarfile
import time

import docker

from steps import out, step, tar_of
from docker.errors import APIError, ImageNotFound, NotFound

client = docker.DockerClient(base_url=os.environ["DOCKER_HOST"], timeout=60)
api = client.api
PREFIX = "pycompat"


t_start = int(time.time()) - 1


@step("network")
def _():
    n = client.networks.create(PREFIX + "-net", driver="bridge", labels={"k": "v"}, check_duplicate=True)
    c = client.containers.run("busybox", ["sleep", "60"], detach=True, name=PREFIX + "-n1", network=n.name)
    n.reload()
    members = [x.name for x in n.containers]
    n2 = client.networks.create(PREFIX + "-net2")
    n2.connect(c, aliases=["extra"])
    c.reload()
    nets = sorted(c.attrs["NetworkSettings"]["Networks"].keys())
    n2.disconnect(c)
    c.remove(force=True)
    listed = [x.name for x in client.networks.list(names=[PREFIX + "-net"])]
    n.remove()
    n2.remove()
    try:
        client.networks.get(PREFIX + "-net")
        gone = False
    except NotFound:
        gone = True
    return {"members": members, "nets": nets, "listed": listed, "gone": gone}


@step("volume")
def _():
    v = client.volumes.create(PREFIX + "-vol", labels={"a": "b"})
    client.containers.run("busybox", ["sh", "-c", "echo persisted > /v/f"], volumes={v.name: {"bind": "/v", "mode": "rw"}}, remove=True)
    data = client.containers.run("busybox", ["cat", "/v/f"], volumes=[v.name + ":/v:ro"], remove=True).decode()
    listed = [x.name for x in client.volumes.list(filters={"label": "a=b"})]
    v.reload()
    attrs = sorted(k for k in ("Name", "Driver", "Mountpoint", "Labels", "Scope", "CreatedAt") if k in v.attrs)
    v.remove()
    pruned = client.volumes.prune()
    return {"data": data, "listed": listed, "attrs": attrs, "prune_keys": sorted(pruned.keys())}


@step("images")
def _():
    root = tar_of({"hello.txt": b"imported\n"})
    # Import a tiny rootfs, tag it, read history, remove it.
    res = api.import_image_from_data(root, repository=PREFIX + "-img", tag="v1")
    img = client.images.get(PREFIX + "-img:v1")
    img.tag(PREFIX + "-img", "v2")
    img.reload()
    tags = sorted(img.tags)
    hist = img.history()
    listed = sorted(t for i in client.images.list(name=PREFIX + "-img") for t in i.tags)
    client.images.remove(PREFIX + "-img:v2")
    client.images.remove(PREFIX + "-img:v1")
    try:
        client.images.get(PREFIX + "-img:v1")
        gone = False
    except ImageNotFound:
        gone = True
    bb = client.images.get("busybox")
    return {"import_status": "status" in str(res), "tags": tags, "history_keys": sorted(hist[0].keys()) if hist else [], "listed": listed, "gone": gone,
            "busybox_id": bb.id.startswith("sha256:"), "short_id": bb.short_id.startswith("sha256:")}


@step("container")
def _():
    c = client.containers.run("busybox", ["sh", "-c", "echo started; sleep 60"], detach=True, name=PREFIX + "-c1", environment={"X": "1"})
    c.rename(PREFIX + "-c2")
    c.reload()
    name = c.name
    top = c.top()
    stats = c.stats(stream=False)
    c.pause()
    c.reload()
    paused = c.status
    c.unpause()
    c.reload()
    unpaused = c.status
    ok = c.put_archive("/tmp", tar_of({"in.txt": b"put\n"}))
    bits, stat = c.get_archive("/tmp/in.txt")
    data = b"".join(bits)
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        content = t.extractfile("in.txt").read().decode()
    img = c.commit(repository=PREFIX + "-commit", tag="latest", message="snap", changes=["ENV COMMITTED=yes"])
    env = img.attrs["Config"]["Env"]
    exported = b"".join(c.export())
    with tarfile.open(fileobj=io.BytesIO(exported)) as t:
        has_busybox = any(n.endswith("bin/busybox") for n in t.getnames())
    # A container from the committed image sees the file put into the original.
    fromcommit = client.containers.run(PREFIX + "-commit", ["sh", "-c", "cat /tmp/in.txt; echo $COMMITTED"], remove=True).decode()
    c.kill(signal="SIGKILL")
    waited = c.wait(timeout=10)
    c.remove()
    client.images.remove(PREFIX + "-commit")
    return {"name": name, "top_titles": top["Titles"], "stats_keys": sorted(k for k in ("cpu_stats", "precpu_stats", "memory_stats", "pids_stats") if k in stats),
            "paused": paused, "unpaused": unpaused, "put": ok, "stat_name": stat["name"], "content": content, "env": [e for e in env if e.startswith("COMMITTED")],
            "exported_busybox": has_busybox, "fromcommit": fromcommit, "waited": waited["StatusCode"]}


@step("events")
def _():
    c = client.containers.run("busybox", ["true"], detach=True, name=PREFIX + "-ev")
    c.wait(timeout=10)
    c.remove()
    until = int(time.time()) + 1
    evs = list(client.events(since=t_start, until=until, decode=True, filters={"container": PREFIX + "-ev"}))
    return sorted(set(e.get("Action") or e.get("status") for e in evs))


@step("lowlevel")
def _():
    info = api.info()
    ver = api.version()
    cid = api.create_container("busybox", ["sh", "-c", "echo low; exit 2"], host_config=api.create_host_config(mem_limit="64m"), labels={"low": "1"})["Id"]
    api.start(cid)
    code = api.wait(cid, timeout=10)["StatusCode"]
    logs = api.logs(cid).decode()
    insp = api.inspect_container(cid)
    mem = insp["HostConfig"]["Memory"]
    listed = [x["Id"] for x in api.containers(all=True, filters={"label": "low=1"})]
    api.remove_container(cid, v=True)
    df = api.df()
    return {"os": info.get("OSType"), "api": ver.get("ApiVersion"), "min": ver.get("MinAPIVersion"), "code": code, "logs": logs, "mem": mem,
            "listed": listed == [cid], "df_keys": sorted(k for k in ("Images", "Containers", "Volumes", "LayersSize") if k in df)}


@step("errors")
def _():
    r = {}
    try:
        client.containers.get("no-such-" + PREFIX)
    except NotFound as e:
        r["notfound"] = e.status_code
    try:
        client.images.get("no-such-image-" + PREFIX + ":x")
    except ImageNotFound as e:
        r["imagenotfound"] = e.status_code
    c = client.containers.run("busybox", ["sleep", "30"], detach=True, name=PREFIX + "-err")
    try:
        client.containers.run("busybox", ["true"], detach=True, name=PREFIX + "-err")
    except APIError as e:
        r["name_conflict"] = [e.status_code, "Conflict" in str(e) or "already in use" in str(e)]
    try:
        c.remove()
    except APIError as e:
        r["remove_running"] = e.status_code
    try:
        client.volumes.get("no-such-vol-" + PREFIX)
    except NotFound as e:
        r["volume"] = e.status_code
    try:
        client.networks.get("no-such-net-" + PREFIX)
    except NotFound as e:
        r["network"] = e.status_code
    c.remove(force=True)
    return r


for name in list(client.containers.list(all=True, filters={"name": PREFIX})):
    name.remove(force=True)
print(json.dumps(out))
