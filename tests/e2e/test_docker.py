"""The Dockerfile: linted, and its entrypoint and health check run on the host (no Docker engine here)."""

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
BIN = Path(sys.executable).parent


def instruction(name):
    """The JSON (exec form) argument of a Dockerfile instruction, continuation lines joined."""
    text = DOCKERFILE.replace("\\\n", " ")
    m = re.search(rf"^{name}\s+(?:--\S+\s+)*(?:CMD\s+)?(\[.*\])\s*$", text, re.MULTILINE)
    assert m, f"no exec-form {name} in the Dockerfile"
    return json.loads(m.group(1))


def image_env():
    text = DOCKERFILE.replace("\\\n", " ")
    env = {}
    for line in re.findall(r"^ENV\s+(.*)$", text, re.MULTILINE):
        for item in shlex.split(line):
            key, _, value = item.partition("=")
            env[key] = value
    return env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_hadolint_finds_nothing():
    result = subprocess.run([str(BIN / "hadolint"), "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def run_entrypoint(tmp_path, extra_env):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOCKIFY_")}
    env.update(image_env())
    env.update({"CLOCKIFY_CA_EXPORT_DIR": str(tmp_path / "ca"), "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"})
    env.update(extra_env)
    command = instruction("ENTRYPOINT") + instruction("CMD") + ["--listen-port", str(port), "--set", f"confdir={tmp_path / 'confdir'}"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path)
    return process, port


def test_entrypoint_refuses_to_listen_everywhere_unprotected(tmp_path):
    process, _ = run_entrypoint(tmp_path, {})
    try:
        output, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode != 0
    assert "proxyauth" in output and "clockify_allow_remote=true" in output


def test_entrypoint_serves_and_the_health_check_passes(tmp_path):
    process, port = run_entrypoint(tmp_path, {"CLOCKIFY_ALLOW_REMOTE": "true"})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
                    f"http://127.0.0.1:{port}/__clockify-proxy/health", timeout=2
                ) as r:
                    health = json.loads(r.read())
                break
            except OSError:
                assert process.poll() is None, process.stdout.read()
                assert time.monotonic() < deadline, "proxy did not answer its health endpoint"
                time.sleep(0.2)
        assert health["status"] == "ok"
        check = [part.replace("8080", str(port)) for part in instruction("HEALTHCHECK")]
        assert check[0] == "python"
        result = subprocess.run([sys.executable, *check[1:]], capture_output=True, text=True, timeout=30, env={"PATH": os.environ["PATH"]})
        assert result.returncode == 0, result.stderr
        exported = (tmp_path / "ca" / "mitmproxy-ca-cert.pem").read_text()
        assert "BEGIN CERTIFICATE" in exported and "PRIVATE KEY" not in exported
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_health_check_fails_when_nothing_listens():
    check = [part.replace("8080", str(free_port())) for part in instruction("HEALTHCHECK")]
    result = subprocess.run([sys.executable, *check[1:]], capture_output=True, timeout=30)
    assert result.returncode != 0


@pytest.mark.parametrize("name", ["docker/requirements.txt"])
def test_image_dependencies_are_pinned(name):
    lines = [l for l in (ROOT / name).read_text().splitlines() if l and not l.startswith("#")]
    assert lines and all(re.match(r"^[A-Za-z0-9_.\-\[\]]+==\S+$", l) for l in lines)
    assert any(l.startswith("mitmproxy==") for l in lines)
